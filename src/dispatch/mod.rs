//! The worker pool: takes dialable rows from the ledger, and for each one waits for a
//! concurrency slot and the 429 pause, reserves its send slot from the one pacer, commits
//! the `in_flight` mark, sleeps until the slot, checks the gate (calling window, pause,
//! stop) and sends one request, then records where it left the row. Rate (the pacer) and
//! concurrency (a semaphore) are separate knobs; one [`Halt`] stops everything.

mod feed;
mod gate;
mod pace;
mod policy;
mod pool;
mod rate;
mod redial;
mod refusals;

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

pub use policy::RetryPolicy;
pub use pool::dispatch;
pub use rate::Rate;
pub use refusals::PROBE as REFUSAL_PROBE;

use crate::api::Outcome;

/// Consecutive retryable-or-uncertain failures that trip the breaker (SPEC.md).
pub const BREAKER_THRESHOLD: u32 = 20;

/// Whatever places calls: the Levers client in production, fakes in unit tests.
pub trait Caller: Send + Sync + 'static {
    fn place_call(&self, body: Bytes) -> impl Future<Output = (Outcome, Duration)> + Send;
}

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    pub concurrency: usize,
    pub rate: Rate,
    pub burst: NonZeroU32,
    pub policy: RetryPolicy,
    /// Most rows dialed by this invocation.
    pub limit: Option<u64>,
    pub breaker_threshold: u32,
    /// The calling schedule, read in each row's zone(s).
    pub window: Option<crate::zone::Schedule>,
    /// No call starts before this instant.
    pub start_at: Option<jiff::Timestamp>,
    /// The zone of rows that have none recorded.
    pub default_zone: jiff::tz::TimeZone,
    /// Whether `default_zone` is one the user named (`--tz`), not the system's.
    pub tz_named: bool,
    /// `--expire-at`: no request leaves at or after it.
    pub expire_at: Option<jiff::Timestamp>,
    /// `--max-calls-per-day`: calls per number in any 24 hours, across campaigns.
    pub max_calls_per_day: Option<u32>,
    /// `--redial undelivered`: redial undelivered calls within this run.
    pub redial: Option<crate::ledger::RedialRule>,
}

impl DispatchConfig {
    /// How rows' zones are chosen under these calling hours and `--tz` (see `zone::Rules`).
    pub fn zone_rules(&self, now: jiff::Timestamp) -> crate::zone::Rules {
        let fallback = self.default_zone.iana_name().unwrap_or("UTC");
        let tz = self.tz_named.then_some(fallback);
        crate::zone::Rules::new(self.window.as_ref(), tz, fallback, now)
    }
}

/// Why dispatching stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Nothing is left to dial.
    Done,
    /// `--limit` rows were dialed.
    Limit,
    /// The API refused our credentials.
    Auth(String),
    /// Too many consecutive failures.
    Breaker,
    /// The first requests of the run were all refused permanently with this message.
    Refused(String),
    /// Ctrl-C / SIGTERM.
    Interrupted,
    /// The ledger could not be written: nothing more may be sent.
    Ledger(String),
    /// Another process took this campaign's lease: it is dialing now, so we stop.
    LeaseLost,
    /// `dialer pause` (or the dashboard), asked by `user@host`.
    Paused(String),
    /// `dialer cancel` (or the dashboard), asked by `user@host`.
    Cancelled(String),
    /// `--expire-at` came: nothing more is sent.
    Expired,
}

impl Stop {
    /// Whether the rest of the file is left unread (resumable). A cancel or an expiry reads
    /// on, so every row is in the ledger to be marked `cancelled` or `expired`.
    pub fn stops_reading(&self) -> bool {
        matches!(self, Stop::Interrupted | Stop::LeaseLost | Stop::Paused(_))
    }
}

/// Asks a running dispatch to stop from outside it (Ctrl-C, a lost lease); the first
/// reason given wins. Cheap to clone: every clone is the same signal.
#[derive(Clone, Default)]
pub struct Halt {
    token: CancellationToken,
    reason: Arc<Mutex<Option<Stop>>>,
}

impl Halt {
    pub fn stop(&self, why: Stop) {
        let mut reason = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        if reason.is_none() {
            *reason = Some(why);
        }
        self.token.cancel();
    }

    pub fn reason(&self) -> Option<Stop> {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Stops with [`Stop::Interrupted`] when `interrupt` fires (Ctrl-C, SIGTERM).
    pub fn on_interrupt(&self, interrupt: CancellationToken) -> tokio::task::JoinHandle<()> {
        let halt = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.cancelled() => halt.stop(Stop::Interrupted),
                _ = halt.token.cancelled() => {}
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DispatchReport {
    /// Requests sent by this invocation, retries included.
    pub requests: u64,
    pub stop: Stop,
}

/// How far the CSV has been read into the ledger, published by the ingest thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestProgress {
    pub rows: u64,
    pub done: bool,
}

#[cfg(test)]
mod tests;

impl Caller for crate::api::LeversClient {
    async fn place_call(&self, body: Bytes) -> (Outcome, Duration) {
        let attempt = crate::api::LeversClient::place_call(self, body).await;
        (attempt.outcome, attempt.latency)
    }
}
