//! The parts of the HTML report above the rows table: summary cards, the state bar, the
//! time and latency charts, the call outcomes and the reasons. Each returns its HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::chart::{self, Bar, Marker, Segment, Tick};
use super::{duration, esc, thousands};
use crate::ledger::{Counts, LatencyStats, OutcomeStats, RowState};
use crate::report::summary::{STATES, Summary, rfc3339};

/// The CSS class colouring a state; the states never sent share one.
pub fn state_class(state: RowState) -> &'static str {
    match state {
        RowState::Succeeded => "st-succeeded",
        RowState::Failed => "st-failed",
        RowState::Uncertain => "st-uncertain",
        RowState::Skipped => "st-skipped",
        RowState::Pending => "st-pending",
        RowState::RetryWait => "st-retry_wait",
        RowState::InFlight => "st-in_flight",
        RowState::Expired | RowState::Cancelled => "st-other",
    }
}

fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    format!("{:.1} %", 100.0 * n as f64 / total as f64)
}

fn card(s: &mut String, value: &str, label: &str, extra: &str) {
    let _ = writeln!(
        s,
        "<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">{}</div>{}</div>",
        esc(value),
        esc(label),
        if extra.is_empty() {
            String::new()
        } else {
            format!("<div class=\"x\">{}</div>", esc(extra))
        }
    );
}

/// The engineering cards: what the dialer did, not what the calls achieved.
pub fn cards(sum: &Summary) -> String {
    let c = &sum.counts;
    let mut s = String::from("<section class=\"cards\">\n");
    card(
        &mut s,
        &thousands(sum.latency.requests),
        "requests sent",
        "retries included",
    );
    if c.open() > 0 {
        card(
            &mut s,
            &thousands(c.open()),
            "still to dial",
            "pending, retry_wait or in_flight",
        );
    }
    if let Some(r) = sum.achieved_rate_per_s {
        card(&mut s, &format!("{r:.2}/s"), "achieved rate", "");
    }
    if let Some(e) = sum.elapsed_s {
        card(&mut s, &duration(e), "elapsed", "first to last request");
    }
    let l = &sum.latency;
    if let (Some(p50), Some(p95), Some(p99)) = (l.p50_ms, l.p95_ms, l.p99_ms) {
        card(
            &mut s,
            &format!("{p50} ms"),
            "latency p50",
            &format!("p95 {p95} ms · p99 {p99} ms"),
        );
    }
    s.push_str("</section>\n");
    s
}

/// Every state in reading order.
fn state_counts(c: &Counts) -> Vec<(RowState, u64)> {
    let mut v: Vec<(RowState, u64)> = STATES.iter().map(|s| (*s, c.state(*s))).collect();
    v.retain(|(_, n)| *n > 0);
    v
}

pub fn states(c: &Counts) -> String {
    let mut s = String::from("<section>\n<h2>Row states</h2>\n");
    let v = state_counts(c);
    if v.is_empty() {
        s.push_str("<p class=\"note\">The campaign has no rows yet.</p>\n</section>\n");
        return s;
    }
    let segments: Vec<Segment<'_>> = v
        .iter()
        .map(|(state, value)| Segment {
            label: state.as_str(),
            value: *value,
            class: state_class(*state),
        })
        .collect();
    s.push_str(&chart::stacked(&segments));
    s.push_str("\n<ul class=\"legend\">");
    for (state, n) in &v {
        let _ = write!(
            s,
            "<li><span class=\"sw {}\"></span>{} {} ({})</li>",
            state_class(*state),
            esc(state.as_str()),
            thousands(*n),
            pct(*n, c.total)
        );
    }
    s.push_str("</ul>\n</section>\n");
    s
}

/// A time as "HH:MM", or "MM-DD HH:MM" when the chart spans days (UTC).
fn clock(ms: i64, with_date: bool) -> String {
    let t = rfc3339(ms);
    let (from, to) = if with_date { (5, 16) } else { (11, 16) };
    t.get(from..to).unwrap_or(&t).replace('T', " ")
}

/// `count` indices spread evenly over `0..n` (first and last included).
fn spread(n: usize, count: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let count = count.clamp(1, n);
    if count == 1 {
        return vec![0];
    }
    let mut v: Vec<usize> = (0..count).map(|i| i * (n - 1) / (count - 1)).collect();
    v.dedup();
    v
}

/// Requests over time, already in slots of `interval_ms` with the gaps filled.
pub fn over_time(slots: &[(i64, u64)], interval_ms: i64) -> String {
    let mut s = String::from("<section>\n<h2>Calls started over time</h2>\n");
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        s.push_str("<p class=\"note\">No request has been sent yet.</p>\n</section>\n");
        return s;
    };
    let unit = chart::interval_name(interval_ms);
    let span_days = last.0 - first.0 >= 86_400_000;
    let seconds = interval_ms < 60_000;
    let label = |t: i64| {
        if seconds {
            rfc3339(t).get(11..19).unwrap_or_default().to_string()
        } else {
            clock(t, span_days)
        }
    };
    let bars: Vec<Bar> = slots
        .iter()
        .map(|(t, n)| Bar {
            value: *n,
            title: format!("{}: {n} requests", rfc3339(*t)),
        })
        .collect();
    let ticks: Vec<Tick> = spread(slots.len(), 7)
        .into_iter()
        .map(|i| Tick {
            at: i,
            label: label(slots[i].0),
        })
        .collect();
    let _ = write!(
        s,
        "<p class=\"note\">Requests started per {unit} (UTC), retries included.</p>\n{}\n</section>\n",
        chart::columns(&bars, &ticks, &[], "requests started over time")
    );
    s
}

pub fn latency(counts: &[(i64, u64)], stats: &LatencyStats) -> String {
    let mut s = String::from("<section>\n<h2>Latency</h2>\n");
    let (width, bins) = chart::latency_bins(counts, 40);
    if bins.is_empty() {
        s.push_str("<p class=\"note\">No answer has been timed yet.</p>\n</section>\n");
        return s;
    }
    let bars: Vec<Bar> = bins
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let lo = i as i64 * width;
            Bar {
                value: *n,
                title: format!("{lo}–{} ms: {n} rows", lo + width - 1),
            }
        })
        .collect();
    let ticks: Vec<Tick> = spread(bins.len(), 8)
        .into_iter()
        .map(|i| Tick {
            at: i,
            label: format!("{} ms", i as i64 * width),
        })
        .collect();
    let markers: Vec<Marker> = [
        ("p50", stats.p50_ms),
        ("p95", stats.p95_ms),
        ("p99", stats.p99_ms),
    ]
    .into_iter()
    .filter_map(|(name, v)| {
        v.map(|v| Marker {
            at: v as f64 / width as f64,
            label: format!("{name} {v}"),
        })
    })
    .collect();
    let _ = write!(
        s,
        "<p class=\"note\">Each row's latest request, {} rows in bins of {width} ms.</p>\n{}\n</section>\n",
        thousands(stats.samples),
        chart::columns(&bars, &ticks, &markers, "latency histogram")
    );
    s
}

/// Horizontal bars for label -> count, largest first.
fn hbars(title: &str, counts: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let max = v.first().map_or(1, |(_, n)| **n).max(1);
    let mut s = format!("<div>\n<h3>{}</h3>\n<table class=\"hbars\">", esc(title));
    for (label, n) in v {
        let _ = write!(
            s,
            "<tr><th>{}</th><td><div class=\"track\"><div class=\"fill\" style=\"width:{:.1}%\"></div></div></td><td class=\"num\">{}</td></tr>",
            esc(label),
            100.0 * *n as f64 / max as f64,
            thousands(*n)
        );
    }
    s.push_str("</table>\n</div>\n");
    s
}

pub fn outcomes(o: &OutcomeStats) -> String {
    let mut s = format!(
        "<section>\n<h2>Webhook outcomes</h2>\n<p class=\"note\">From {} <code>phone_call.ended</code> webhooks.</p>\n<div class=\"grid2\">\n",
        thousands(o.received)
    );
    for (title, counts) in [
        ("delivery", &o.delivery),
        ("call output", &o.call_output),
        ("sentiment", &o.sentiment),
        ("ended reason", &o.ended_reason),
    ] {
        if !counts.is_empty() {
            s.push_str(&hbars(title, counts));
        }
    }
    s.push_str("</div>\n</section>\n");
    s
}

pub fn reasons(c: &Counts) -> String {
    let mut s = String::from("<section>\n<h2>Reasons</h2>\n");
    if c.skipped.is_empty() && c.failed.is_empty() {
        s.push_str("<p class=\"note\">No row was skipped or failed.</p>\n</section>\n");
        return s;
    }
    s.push_str("<div class=\"grid2\">\n");
    if !c.skipped.is_empty() {
        s.push_str(&hbars("skipped rows", &c.skipped));
    }
    if !c.failed.is_empty() {
        s.push_str(&hbars("failed rows", &c.failed));
    }
    s.push_str("</div>\n</section>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_picks_first_and_last() {
        assert_eq!(spread(10, 4), vec![0, 3, 6, 9]);
        assert_eq!(spread(2, 7), vec![0, 1]);
        assert_eq!(spread(1, 7), vec![0]);
        assert!(spread(0, 3).is_empty());
    }

    #[test]
    fn clock_is_utc_hours_or_date_and_hours() {
        let t = 1_767_268_800_000; // 2026-01-01T12:00:00Z
        assert_eq!(clock(t, false), "12:00");
        assert_eq!(clock(t, true), "01-01 12:00");
    }

    #[test]
    fn hbars_sort_by_count_and_escape() {
        let mut m = BTreeMap::new();
        m.insert("<b>few</b>".to_string(), 1);
        m.insert("many".to_string(), 4);
        let h = hbars("x", &m);
        let many = h.find("many").unwrap();
        let few = h.find("&lt;b&gt;few").unwrap();
        assert!(many < few, "{h}");
        assert!(h.contains("width:25.0%") && h.contains("width:100.0%"));
        assert!(!h.contains("<b>"));
    }

    #[test]
    fn state_list_keeps_reading_order() {
        let mut c = Counts::default();
        c.states.insert(RowState::Skipped, 2);
        c.states.insert(RowState::Succeeded, 5);
        c.states.insert(RowState::Cancelled, 1);
        assert_eq!(
            state_counts(&c),
            vec![
                (RowState::Succeeded, 5),
                (RowState::Skipped, 2),
                (RowState::Cancelled, 1)
            ]
        );
        assert_eq!(state_class(RowState::Cancelled), "st-other");
    }
}
