//! What a running campaign shows: on a terminal an `indicatif` bar on stderr (this run's
//! rows done of those it will dial, its own rate and ETA, counts, and why nothing is being
//! dialed when that is so); elsewhere, or with `--no-progress`, a log line every 10 s with
//! the same figures as fields. Workers and the ingest thread only bump atomics in a
//! [`Tally`]; the display reads them on its own schedule. Log lines go through
//! [`LogWriter`], which prints them above the bar instead of through it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::ledger::{Counts, RowState};

/// The bar being drawn, if any, so log lines can be printed above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Set by `main` for `--log-format json`: progress lines then carry their figures as
/// fields for machines instead of a sentence for people.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

pub fn set_json_logs(on: bool) {
    JSON_LOGS.store(on, Relaxed);
}

/// The widest line the bar draws: it must never wrap on an 80-column terminal.
const WIDTH: usize = 79;

/// Live counts of one dispatch, shared by everything that changes them.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rows in the campaign, once known (a fast count runs beside dialing).
    pub total: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub uncertain: AtomicU64,
    pub skipped: AtomicU64,
    /// Requests sent by this process.
    pub requests: AtomicU64,
    /// Rows already done when this run started: not this run's speed.
    done_before: u64,
    /// `--limit`: this run dials at most this many rows.
    limit: Option<u64>,
    /// Why nothing is being dialed right now (calling window, 429 pause), if so.
    waiting: Mutex<Option<String>>,
}

impl Tally {
    /// Starts from what the ledger already holds (a resumed campaign).
    pub fn from_counts(c: &Counts, limit: Option<u64>) -> Tally {
        let t = Tally {
            limit,
            ..Tally::default()
        };
        t.total.store(c.total, Relaxed);
        t.succeeded.store(c.state(RowState::Succeeded), Relaxed);
        t.failed.store(c.state(RowState::Failed), Relaxed);
        t.uncertain.store(c.state(RowState::Uncertain), Relaxed);
        t.skipped.store(c.state(RowState::Skipped), Relaxed);
        Tally {
            done_before: t.done(),
            ..t
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn set_total(&self, n: u64) {
        self.total.store(n, Relaxed);
    }

    pub fn set_waiting(&self, why: Option<String>) {
        *self.waiting.lock().unwrap_or_else(|p| p.into_inner()) = why;
    }

    fn waiting(&self) -> Option<String> {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn done(&self) -> u64 {
        self.succeeded.load(Relaxed)
            + self.failed.load(Relaxed)
            + self.uncertain.load(Relaxed)
            + self.skipped.load(Relaxed)
    }

    /// This run's rows done, and of how many (`None` until the total is known).
    fn this_run(&self) -> (u64, Option<u64>) {
        let done = self.done().saturating_sub(self.done_before);
        let total = self.total.load(Relaxed);
        let left = (total > 0).then(|| total.saturating_sub(self.done_before));
        let goal = match (left, self.limit) {
            (Some(l), Some(cap)) => Some(l.min(cap)),
            (None, Some(cap)) => Some(cap),
            (left, None) => left,
        };
        (done, goal)
    }
}

/// Figures of one moment of a run, computed the same way for the bar and the log line.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    done: u64,
    goal: Option<u64>,
    rate: f64,
    eta: Option<Duration>,
}

fn figures(tally: &Tally, elapsed: Duration) -> Figures {
    let (done, goal) = tally.this_run();
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let eta = goal
        .filter(|_| rate > 0.0)
        .map(|g| Duration::from_secs_f64(g.saturating_sub(done) as f64 / rate));
    Figures {
        done,
        goal,
        rate,
        eta,
    }
}

/// The bar's text: fits [`WIDTH`] columns whatever the counts.
fn line(f: &Figures, tally: &Tally) -> String {
    let goal = f.goal.map_or("?".into(), |g| g.to_string());
    let mut text = format!("{}/{goal} · {:.1}/s", f.done, f.rate);
    match tally.waiting() {
        Some(why) => text.push_str(&format!(" · {why}")),
        None => {
            if let Some(eta) = f.eta {
                text.push_str(&format!(" · ETA {}", short(eta)));
            }
            text.push_str(&format!(
                " · ok {} failed {} skip {}",
                tally.succeeded.load(Relaxed),
                tally.failed.load(Relaxed) + tally.uncertain.load(Relaxed),
                tally.skipped.load(Relaxed)
            ));
        }
    }
    fit(&text, WIDTH - 22)
}

/// `1h02m`, `4m05s`, `12s`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Whether colour may be used on stderr: a terminal, and no `NO_COLOR` (no-color.org).
pub fn colour_on_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Runs the display until `stop` fires; then clears the bar.
pub async fn show(tally: Arc<Tally>, bar_allowed: bool, stop: CancellationToken) {
    if bar_allowed && std::io::stderr().is_terminal() {
        bar(tally, stop).await
    } else {
        log_lines(tally, stop).await
    }
}

async fn bar(tally: Arc<Tally>, stop: CancellationToken) {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let template = if colour_on_stderr() {
        "{bar:20.cyan/blue} {msg}"
    } else {
        "{bar:20} {msg}"
    };
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = Some(pb.clone());
    let started = Instant::now();
    loop {
        let f = figures(&tally, started.elapsed());
        pb.set_length(f.goal.unwrap_or(0).max(f.done));
        pb.set_position(f.done);
        pb.set_message(line(&f, &tally));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.cancelled() => break,
        }
    }
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = None;
    pb.finish_and_clear();
}

/// A line every 10 s, and a last one when the run ends (so even a short run logs one).
/// The figures are fields, so `--log-format json` gives them to machines as numbers.
async fn log_lines(tally: Arc<Tally>, stop: CancellationToken) {
    let started = Instant::now();
    let mut last = false;
    while !last {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.cancelled() => last = true,
        }
        let f = figures(&tally, started.elapsed());
        let waiting = tally.waiting().unwrap_or_default();
        if !JSON_LOGS.load(Relaxed) {
            let goal = f.goal.map_or("?".into(), |g| g.to_string());
            let eta = f
                .eta
                .map(|e| format!(", ETA {}", short(e)))
                .unwrap_or_default();
            let waiting = if waiting.is_empty() {
                String::new()
            } else {
                format!(" · {waiting}")
            };
            tracing::info!(
                "progress: {}/{goal} rows done, {:.1} rows/s{eta} · ok {} · failed {} · \
                 uncertain {} · skipped {}{waiting}",
                f.done,
                f.rate,
                tally.succeeded.load(Relaxed),
                tally.failed.load(Relaxed),
                tally.uncertain.load(Relaxed),
                tally.skipped.load(Relaxed),
            );
            continue;
        }
        tracing::info!(
            done = f.done,
            of = f.goal,
            rate_per_s = (f.rate * 10.0).round() / 10.0,
            eta_s = f.eta.map(|d| d.as_secs()),
            succeeded = tally.succeeded.load(Relaxed),
            failed = tally.failed.load(Relaxed),
            uncertain = tally.uncertain.load(Relaxed),
            skipped = tally.skipped.load(Relaxed),
            waiting = %waiting,
            "progress"
        );
    }
}

/// stderr for `tracing`, printing each log line above the progress bar when one is drawn.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(pb) => pb.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(total: u64, done_before: u64, limit: Option<u64>) -> Tally {
        let t = Tally {
            limit,
            done_before,
            ..Tally::default()
        };
        t.total.store(total, Relaxed);
        t.succeeded.store(done_before, Relaxed);
        t
    }

    #[test]
    fn rate_and_eta_are_this_runs_own() {
        // 900 rows were done by an earlier run; this one did 50 in 10 s.
        let t = tally(1000, 900, None);
        t.succeeded.fetch_add(50, Relaxed);
        let f = figures(&t, Duration::from_secs(10));
        assert_eq!((f.done, f.goal), (50, Some(100)));
        assert_eq!(f.rate, 5.0);
        assert_eq!(f.eta, Some(Duration::from_secs(10)));
    }

    #[test]
    fn the_total_honours_the_limit() {
        let t = tally(1000, 0, Some(10));
        assert_eq!(t.this_run(), (0, Some(10)));
        let unknown = tally(0, 0, Some(10));
        assert_eq!(unknown.this_run(), (0, Some(10)));
    }

    #[test]
    fn the_line_fits_eighty_columns_and_a_wait_shows_no_eta() {
        let t = tally(10_000_000, 0, None);
        t.succeeded.store(9_999_999, Relaxed);
        t.failed.store(1_234_567, Relaxed);
        let f = figures(&t, Duration::from_secs(1));
        let l = line(&f, &t);
        assert!(21 + l.chars().count() <= 80, "{l}");
        t.set_waiting(Some(
            "waiting for the calling window until 09:00 +03 (06:00 UTC)".into(),
        ));
        let l = line(&f, &t);
        assert!(!l.contains("ETA"), "{l}");
        assert!(21 + l.chars().count() <= 80, "{l}");
    }
}
