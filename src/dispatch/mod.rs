//! The worker pool: takes dialable rows from the ledger, and for each one waits for a
//! concurrency slot, the 429 pause and a rate permit, commits the `in_flight` mark, sends
//! one request and records where it left the row. Rate (governor) and concurrency (a
//! semaphore) are separate knobs; one cancellation token stops everything.

mod feed;
mod pace;
mod policy;
mod pool;
mod rate;

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use bytes::Bytes;

pub use policy::RetryPolicy;
pub use pool::dispatch;
pub use rate::Rate;

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
    /// Most calls started by this invocation.
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
    /// `--limit` calls were started.
    Limit,
    /// The API refused our credentials.
    Auth(String),
    /// Too many consecutive failures.
    Breaker,
    /// Ctrl-C / SIGTERM.
    Interrupted,
    /// The ledger could not be written: nothing more may be sent.
    Ledger(String),
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
