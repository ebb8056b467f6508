//! Sliding-window counts: "the most events in any window `[t, t + 1 s)`" (for stats, so
//! tests can prove the dialer's rate) and the rate cap's "accepted in the last second".
//!
//! Times are nanoseconds since the sandbox started, so the pure functions can be tested on
//! plain numbers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One second in the nanosecond clock the sandbox uses.
pub const SECOND: u64 = 1_000_000_000;

/// Below this many buffered points a [`WindowMax`] does not bother to compact.
const COMPACT_MIN: usize = 4096;

/// The most points of `sorted` (ascending) that fall inside one window `[t, t + width)`.
pub fn max_in_window(sorted: &[u64], width: u64) -> u64 {
    max_for_starts(sorted, width, sorted.len())
}

/// Like [`max_in_window`], but only windows that start at one of the first `starts` points;
/// the later points still count inside those windows. A best window can always be shifted
/// right until it starts on a point, so trying every point as a start is exact.
fn max_for_starts(sorted: &[u64], width: u64, starts: usize) -> u64 {
    let mut best = 0;
    let mut end = 0;
    for (start, &t) in sorted.iter().enumerate().take(starts) {
        end = end.max(start);
        // Subtracting (sorted, so never negative) instead of adding cannot overflow.
        while end < sorted.len() && sorted[end] - t < width {
            end += 1;
        }
        best = best.max((end - start) as u64);
    }
    best
}

/// [`max_in_window`] over a stream of points that arrive nearly in order, in bounded memory.
///
/// Points may arrive up to `slack - width` late (a call's arrival time is recorded only when
/// it is placed, after the latency sleep). Once the buffer grows, windows that start before
/// `newest - slack` can no longer gain points, so their maximum is settled and their points
/// are dropped.
#[derive(Debug)]
pub struct WindowMax {
    width: u64,
    slack: u64,
    settled: u64,
    recent: Vec<u64>,
    compact_at: usize,
}

impl WindowMax {
    pub fn new(width: u64, slack: u64) -> Self {
        WindowMax {
            width,
            slack: slack.max(width),
            settled: 0,
            recent: Vec::new(),
            compact_at: COMPACT_MIN,
        }
    }

    pub fn record(&mut self, t: u64) {
        self.recent.push(t);
        if self.recent.len() >= self.compact_at {
            self.compact();
        }
    }

    fn compact(&mut self) {
        self.recent.sort_unstable();
        let newest = self.recent.last().copied().unwrap_or(0);
        let horizon = newest.saturating_sub(self.slack);
        let cut = self.recent.partition_point(|&t| t < horizon);
        let best = max_for_starts(&self.recent, self.width, cut);
        self.settled = self.settled.max(best);
        self.recent.drain(..cut);
        // Doubling keeps the sort cost amortised when a whole slack's worth is still live.
        self.compact_at = (self.recent.len() * 2).max(COMPACT_MIN);
    }

    pub fn max(&self) -> u64 {
        let live = if self.recent.is_sorted() {
            max_in_window(&self.recent, self.width)
        } else {
            let mut sorted = self.recent.clone();
            sorted.sort_unstable();
            max_in_window(&sorted, self.width)
        };
        self.settled.max(live)
    }
}

/// The rate cap: how many requests were let through in the last second.
#[derive(Debug)]
pub struct RateWindow {
    cap: u32,
    admitted: VecDeque<Instant>,
}

impl RateWindow {
    pub fn new(cap: u32) -> Self {
        RateWindow {
            cap,
            admitted: VecDeque::with_capacity(cap.min(65_536) as usize),
        }
    }

    /// Lets the request at `now` through, or says after how many whole seconds (at least 1)
    /// a slot frees up. Callers pass non-decreasing `now`s.
    pub fn admit(&mut self, now: Instant) -> Result<(), u64> {
        while let Some(&oldest) = self.admitted.front() {
            if now.saturating_duration_since(oldest) >= Duration::from_secs(1) {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
        if self.admitted.len() < self.cap as usize {
            self.admitted.push_back(now);
            return Ok(());
        }
        let free_at = self
            .admitted
            .front()
            .map(|&oldest| oldest + Duration::from_secs(1));
        let wait = free_at.map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(now)
        });
        Err(wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(points: &[f64]) -> Vec<u64> {
        points
            .iter()
            .map(|s| (s * SECOND as f64).round() as u64)
            .collect()
    }

    #[test]
    fn max_in_window_counts_half_open_windows() {
        assert_eq!(
            max_in_window(&secs(&[0.0, 0.5, 0.999, 1.0, 1.2]), SECOND),
            4
        );
        assert_eq!(max_in_window(&secs(&[0.0, 1.0, 2.0]), SECOND), 1);
        assert_eq!(max_in_window(&secs(&[0.0, 0.0, 0.0]), SECOND), 3);
        assert_eq!(max_in_window(&[], SECOND), 0);
        assert_eq!(max_in_window(&[u64::MAX - 1, u64::MAX], SECOND), 2);
    }

    #[test]
    fn streaming_max_matches_the_pure_function_despite_disorder_and_compaction() {
        // 20,000 points at ~1 ms spacing with a burst, each up to 30 ms late.
        let mut exact = Vec::new();
        let mut stream = WindowMax::new(SECOND, SECOND + 50_000_000);
        const MS: u64 = 1_000_000;
        for i in 0..20_000u64 {
            let t = match i {
                0..5_000 => i * MS,
                5_000..6_000 => 5_000 * MS + (i - 5_000) * MS / 10,
                _ => 5_100 * MS + (i - 6_000) * MS,
            };
            exact.push(t);
        }
        let mut order: Vec<u64> = exact.clone();
        for chunk in order.chunks_mut(30) {
            chunk.reverse();
        }
        for &t in &order {
            stream.record(t);
        }
        exact.sort_unstable();
        let expected = max_in_window(&exact, SECOND);
        assert_eq!(expected, 1_900, "the burst must show");
        assert_eq!(stream.max(), expected);
        assert!(
            stream.recent.len() < 10_000,
            "compaction must drop settled points"
        );
    }

    #[test]
    fn rate_window_admits_cap_per_second_then_names_the_wait() {
        let start = Instant::now();
        let mut rate = RateWindow::new(2);
        assert_eq!(rate.admit(start), Ok(()));
        assert_eq!(rate.admit(start + Duration::from_millis(100)), Ok(()));
        assert_eq!(rate.admit(start + Duration::from_millis(200)), Err(1));
        assert_eq!(rate.admit(start + Duration::from_millis(1000)), Ok(()));
        assert_eq!(rate.admit(start + Duration::from_millis(1050)), Err(1));
        let mut closed = RateWindow::new(0);
        assert_eq!(closed.admit(start), Err(1));
    }
}
