//! What a running campaign shows: on a terminal an `indicatif` bar on stderr (done/total,
//! rate, ETA, counts, and why nothing is being dialed when that is so); elsewhere, or with
//! `--no-progress`, a log line every 10 s with the same figures. Workers and the ingest
//! thread only bump atomics in a [`Tally`]; the display reads them on its own schedule.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::ledger::Counts;

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
    /// Why nothing is being dialed right now (calling window, 429 pause), if so.
    waiting: Mutex<Option<String>>,
}

impl Tally {
    /// Starts from what the ledger already holds (a resumed campaign).
    pub fn from_counts(c: &Counts) -> Tally {
        let t = Tally::default();
        t.total.store(c.total, Relaxed);
        t.succeeded.store(c.state("succeeded"), Relaxed);
        t.failed.store(c.state("failed"), Relaxed);
        t.uncertain.store(c.state("uncertain"), Relaxed);
        t.skipped.store(c.state("skipped"), Relaxed);
        t
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
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

    fn counts_line(&self) -> String {
        format!(
            "ok {} · failed {} · uncertain {} · skipped {}",
            self.succeeded.load(Relaxed),
            self.failed.load(Relaxed),
            self.uncertain.load(Relaxed),
            self.skipped.load(Relaxed)
        )
    }
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
    pb.set_style(
        ProgressStyle::with_template(
            "{bar:20.cyan/blue} {pos}/{len} rows · {per_sec} · ETA {eta} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.reset_elapsed();
    loop {
        let total = tally.total.load(Relaxed);
        if total > 0 {
            pb.set_length(total);
        }
        pb.set_position(tally.done());
        let mut msg = tally.counts_line();
        if let Some(why) = tally.waiting() {
            msg = format!("{msg} · {why}");
        }
        pb.set_message(msg);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.cancelled() => break,
        }
    }
    pb.finish_and_clear();
}

/// A line every 10 s, and a last one when the run ends (so even a short run logs one).
async fn log_lines(tally: Arc<Tally>, stop: CancellationToken) {
    let started = Instant::now();
    let first_requests = tally.requests.load(Relaxed);
    let mut last = false;
    while !last {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.cancelled() => last = true,
        }
        let total = tally.total.load(Relaxed);
        let done = tally.done();
        let rate = (tally.requests.load(Relaxed) - first_requests) as f64
            / started.elapsed().as_secs_f64().max(0.001);
        let pct = if total > 0 {
            100.0 * done as f64 / total as f64
        } else {
            0.0
        };
        let waiting = tally
            .waiting()
            .map(|w| format!(" · {w}"))
            .unwrap_or_default();
        tracing::info!(
            "progress: {done}/{} rows done ({pct:.1}%), {rate:.1} calls/s · {}{waiting}",
            if total > 0 {
                total.to_string()
            } else {
                "?".into()
            },
            tally.counts_line()
        );
    }
}
