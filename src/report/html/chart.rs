//! The HTML report's charts as inline SVG (no script, no fetch), and the pure binning that
//! feeds them: requests over time in a bounded number of bars, latencies in a histogram.

use std::fmt::Write;

use super::esc;

/// Bar widths (seconds) a time chart may use: the smallest that keeps the bar count in
/// bounds wins, so a two-second demo and a week-long campaign both read well.
const INTERVALS_S: [i64; 18] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

/// The bar width (ms) for requests between `first_ms` and `last_ms`, at most about
/// `max_bars` bars.
pub fn interval_for(first_ms: i64, last_ms: i64, max_bars: usize) -> i64 {
    let span_s = (last_ms - first_ms).max(0) / 1000 + 1;
    let max_bars = max_bars.max(1) as i64;
    let secs = INTERVALS_S
        .iter()
        .copied()
        .find(|w| (span_s + w - 1) / w <= max_bars)
        .unwrap_or_else(|| 86_400 * ((span_s + 86_400 * max_bars - 1) / (86_400 * max_bars)));
    secs * 1000
}

/// "second", "10 seconds", "minute", "5 minutes", "hour", "2 days".
pub fn interval_name(ms: i64) -> String {
    let s = ms / 1000;
    let (n, unit) = match s {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        unit.to_string()
    } else {
        format!("{n} {unit}s")
    }
}

/// The counts per interval (as the ledger groups them: slots aligned to multiples of
/// `interval_ms`) from the first slot to the last, with empty slots as zeros: a pause for the
/// calling window shows as a gap.
pub fn fill_slots(points: &[(i64, u64)], interval_ms: i64) -> Vec<(i64, u64)> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let interval_ms = interval_ms.max(1);
    let start = first.0 - first.0.rem_euclid(interval_ms);
    let n = ((last.0 - start) / interval_ms + 1).max(1) as usize;
    let mut out: Vec<(i64, u64)> = (0..n)
        .map(|i| (start + i as i64 * interval_ms, 0))
        .collect();
    for &(t, c) in points {
        if let Some(b) = out.get_mut(((t - start) / interval_ms) as usize) {
            b.1 += c;
        }
    }
    out
}

/// A "nice" bin width (1, 2 or 5 times a power of ten, ms) giving at most `max_bins` bins
/// up to `max`.
fn nice_width(max: i64, max_bins: i64) -> i64 {
    let mut scale = 1;
    loop {
        for m in [1, 2, 5] {
            let w = m * scale;
            if max / w < max_bins {
                return w;
            }
        }
        scale *= 10;
    }
}

/// Latency samples (ms, rows) as a histogram of equal-width bins starting at 0.
/// Returns the bin width and the rows in each bin.
pub fn latency_bins(counts: &[(i64, u64)], max_bins: usize) -> (i64, Vec<u64>) {
    let Some(&(max, _)) = counts.iter().max_by_key(|(v, _)| *v) else {
        return (1, Vec::new());
    };
    let width = nice_width(max.max(0), max_bins.max(1) as i64);
    let mut bins = vec![0; (max.max(0) / width + 1) as usize];
    for &(v, c) in counts {
        let i = (v.max(0) / width) as usize;
        if let Some(b) = bins.get_mut(i) {
            *b += c;
        }
    }
    (width, bins)
}

/// The top of a count axis: the smallest of 1, 2, 4, 6, 8, 10, 20, 40, 50, 60, 80, 100, ...
/// not below `max`, so the middle grid line lands on a whole number.
fn axis_max(max: u64) -> u64 {
    let mut scale = 1;
    loop {
        let steps: &[u64] = if scale == 1 {
            &[1, 2, 4, 6, 8]
        } else {
            &[1, 2, 4, 5, 6, 8]
        };
        for m in steps {
            if m * scale >= max {
                return m * scale;
            }
        }
        scale *= 10;
    }
}

/// One bar of a column chart.
pub struct Bar {
    pub value: u64,
    /// Shown on hover.
    pub title: String,
}

/// A text label under the x axis, at a bar's index.
pub struct Tick {
    pub at: usize,
    pub label: String,
}

/// A vertical marker (e.g. p95), at a position in bar units.
pub struct Marker {
    pub at: f64,
    pub label: String,
}

const W: f64 = 900.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 26.0;
const TOP: f64 = 14.0;

/// A column chart with a y axis (0, half, max), x tick labels and optional markers.
pub fn columns(bars: &[Bar], ticks: &[Tick], markers: &[Marker], label: &str) -> String {
    let mut s = String::new();
    let max = axis_max(bars.iter().map(|b| b.value).max().unwrap_or(0));
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let step = plot_w / bars.len().max(1) as f64;
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(label)
    );
    let grid: &[u64] = if max == 1 {
        &[0, 1]
    } else {
        &[0, max / 2, max]
    };
    for &v in grid {
        let y = TOP + plot_h * (1.0 - v as f64 / max as f64);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            W - 8.0,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let h = plot_h * b.value as f64 / max as f64;
        let x = LEFT + i as f64 * step;
        let gap = if step > 4.0 { 1.0 } else { 0.0 };
        let _ = write!(
            s,
            r#"<rect class="bar" x="{x:.2}" y="{:.2}" width="{:.2}" height="{h:.2}"><title>{}</title></rect>"#,
            TOP + plot_h - h,
            (step - gap).max(0.5),
            esc(&b.title)
        );
    }
    for t in ticks {
        let x = LEFT + (t.at as f64 + 0.5) * step;
        let _ = write!(
            s,
            r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            H - 8.0,
            esc(&t.label)
        );
    }
    for (i, m) in markers.iter().enumerate() {
        let x = LEFT + m.at * step;
        // Markers close together (p95 and p99 often are) get their labels on separate lines.
        let label_y = TOP + 10.0 + 12.0 * i as f64;
        let _ = write!(
            s,
            r#"<line class="marker" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}"/><text class="marker-label" x="{:.1}" y="{:.1}">{}</text>"#,
            TOP + plot_h,
            x + 3.0,
            label_y,
            esc(&m.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// One segment of the stacked state bar.
pub struct Segment<'a> {
    pub label: &'a str,
    pub value: u64,
    /// A CSS class giving the colour.
    pub class: &'a str,
}

/// A single bar split by share, e.g. rows per state.
pub fn stacked(segments: &[Segment<'_>]) -> String {
    let total: u64 = segments.iter().map(|s| s.value).sum();
    let mut s = String::from(
        r#"<svg class="stacked" viewBox="0 0 1000 36" preserveAspectRatio="none" role="img" aria-label="rows per state">"#,
    );
    let mut x = 0.0;
    for seg in segments.iter().filter(|s| s.value > 0) {
        let w = 1000.0 * seg.value as f64 / total.max(1) as f64;
        let _ = write!(
            s,
            r#"<rect class="{}" x="{x:.2}" y="0" width="{w:.2}" height="36"><title>{}: {}</title></rect>"#,
            esc(seg.class),
            esc(seg.label),
            seg.value
        );
        x += w;
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00Z, a whole day

    #[test]
    fn the_interval_fits_the_span() {
        assert_eq!(interval_for(T0, T0 + 1_600, 120), 1_000);
        assert_eq!(interval_for(T0, T0 + 9 * 60_000, 120), 5_000);
        assert_eq!(interval_for(T0, T0 + 10 * 60_000, 120), 10_000);
        assert_eq!(interval_for(T0, T0 + 90 * 60_000, 120), 60_000);
        assert_eq!(interval_for(T0, T0 + 5 * 3_600_000 - 1_000, 60), 300_000);
        // 200 days in at most 100 bars: whole days, three at a time.
        assert_eq!(interval_for(T0, T0 + 200 * 86_400_000, 100), 3 * 86_400_000);
        assert_eq!(interval_name(1_000), "second");
        assert_eq!(interval_name(15_000), "15 seconds");
        assert_eq!(interval_name(60_000), "minute");
        assert_eq!(interval_name(300_000), "5 minutes");
        assert_eq!(interval_name(3_600_000), "hour");
        assert_eq!(interval_name(2 * 86_400_000), "2 days");
    }

    #[test]
    fn empty_slots_between_requests_become_zeros() {
        let m = 60_000;
        let pts = [(T0, 5), (T0 + 3 * m, 2)];
        assert_eq!(
            fill_slots(&pts, m),
            vec![(T0, 5), (T0 + m, 0), (T0 + 2 * m, 0), (T0 + 3 * m, 2)]
        );
        assert_eq!(fill_slots(&[(T0, 1)], m), vec![(T0, 1)]);
        assert!(fill_slots(&[], m).is_empty());
    }

    #[test]
    fn latency_bins_are_nice_and_complete() {
        let counts = [(0, 1), (45, 2), (99, 1), (100, 3), (730, 1)];
        let (w, bins) = latency_bins(&counts, 30);
        assert_eq!(w, 50);
        assert_eq!(bins.len(), 15);
        assert_eq!(bins[0], 3);
        assert_eq!(bins[1], 1);
        assert_eq!(bins[2], 3);
        assert_eq!(bins[14], 1);
        assert_eq!(bins.iter().sum::<u64>(), 8);
        assert_eq!(
            latency_bins(&[(7, 4)], 30),
            (1, vec![0, 0, 0, 0, 0, 0, 0, 4])
        );
        assert_eq!(latency_bins(&[], 30), (1, Vec::new()));
    }

    #[test]
    fn axis_tops_have_whole_halves() {
        let tops: Vec<u64> = [0, 1, 2, 3, 5, 9, 10, 11, 41, 55, 99, 101]
            .into_iter()
            .map(axis_max)
            .collect();
        assert_eq!(tops, [1, 1, 2, 4, 6, 10, 10, 20, 50, 60, 100, 200]);
    }

    #[test]
    fn charts_escape_their_labels() {
        let bars = [Bar {
            value: 3,
            title: "<b>".into(),
        }];
        let svg = columns(
            &bars,
            &[Tick {
                at: 0,
                label: "a&b".into(),
            }],
            &[],
            "x\"y",
        );
        assert!(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b") && svg.contains("x&quot;y"));
        assert!(!svg.contains("<b>"));
        let seg = stacked(&[Segment {
            label: "<i>",
            value: 1,
            class: "st-x",
        }]);
        assert!(seg.contains("&lt;i&gt;: 1") && seg.contains(r#"width="1000.00""#));
    }
}
