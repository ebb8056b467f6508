//! The sandbox's shared state and every decision that needs it: arrivals, the rate cap,
//! fault draws, placing a call, and the stats snapshot.
//!
//! Locks are `std` mutexes held for a few map operations and never across an `.await`, so
//! the handlers stay cheap at thousands of requests per second.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::config::SandboxConfig;
use super::faults::{chance, sample_latency};
use super::stats::{Answer, AnswerCounts, Stats};
use super::tokens::TokenStore;
use super::validate::CallFields;
use super::webhook::Outbox;
use super::window::{RateWindow, SECOND, WindowMax};

/// Accepted request bodies kept for `GET /sandbox/calls`; later ones are only counted.
pub const KEPT_CALLS: usize = 10_000;

/// When a call request arrived (ns since start) and how long to wait before handling it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: u64,
    pub delay: Option<Duration>,
}

/// A call the sandbox placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    pub id: Uuid,
    pub number: String,
}

/// What happens to a valid, admitted call request.
#[derive(Debug)]
pub enum Decision {
    /// 503 before placing anything.
    Unavailable,
    /// 404: `createIfNotExists:false` and the contact does not exist.
    NotFound,
    Placed {
        call: PlacedCall,
        after: AfterPlace,
    },
}

/// How a placed call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPlace {
    Created,
    Fail500,
    Hang,
}

#[derive(Debug, Default)]
struct NumberState {
    /// Valid requests that reached the 503 check, for `fail_503_first`.
    checked: u32,
    placed: u64,
    known: bool,
}

#[derive(Debug)]
struct Inner {
    /// Seeded, so a given config and request order replays the same latencies and faults.
    rng: Xoshiro256PlusPlus,
    request_window: WindowMax,
    call_window: WindowMax,
    numbers: HashMap<String, NumberState>,
    total_calls: u64,
    kept: Vec<Value>,
    /// Wall-clock arrival of each call request (unix microseconds), the first
    /// [`KEPT_ARRIVALS`]: tests compare them with the ledger's send times.
    arrivals: Vec<i64>,
}

/// Arrivals kept for [`Shared::arrivals`]; bounded so a long run's memory stays flat.
pub const KEPT_ARRIVALS: usize = 100_000;

#[derive(Debug)]
pub struct Shared {
    pub config: SandboxConfig,
    started: Instant,
    /// Cancelled once at shutdown: stops the server and releases hung requests.
    pub shutdown: CancellationToken,
    inner: Mutex<Inner>,
    pub tokens: TokenStore,
    /// Present when `rate_cap` is set; its own lock so the cap check does not queue behind stats.
    rate: Option<Mutex<RateWindow>>,
    requests: AtomicU64,
    responses: AnswerCounts,
    /// Set by `start` when `webhook_url` is: every placed call's event goes through it.
    pub(super) outbox: Option<Outbox>,
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the sandbox down with it; the data stays usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(config: SandboxConfig, shutdown: CancellationToken) -> Self {
        let max_latency = config.latency.map_or(Duration::ZERO, |range| range.max);
        let late = u64::try_from(max_latency.as_nanos()).unwrap_or(u64::MAX / 2);
        let numbers = config
            .known_number
            .iter()
            .map(|number| {
                (
                    number.clone(),
                    NumberState {
                        known: true,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let inner = Inner {
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            request_window: WindowMax::new(SECOND, SECOND),
            // A call's arrival is recorded when it is placed, after latency and scheduling.
            call_window: WindowMax::new(SECOND, late.saturating_add(10 * SECOND)),
            numbers,
            total_calls: 0,
            kept: Vec::new(),
            arrivals: Vec::new(),
        };
        Shared {
            rate: config.rate_cap.map(|cap| Mutex::new(RateWindow::new(cap))),
            started: Instant::now(),
            shutdown,
            inner: Mutex::new(inner),
            tokens: TokenStore::new(&config),
            requests: AtomicU64::new(0),
            responses: AnswerCounts::default(),
            outbox: None,
            config,
        }
    }

    /// Records a call request's arrival (the clock is read under the lock, so request
    /// arrivals are recorded in order) and draws its latency.
    pub fn arrive(&self) -> Arrival {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut inner = lock(&self.inner);
        let at = self.nanos_since_start(Instant::now());
        inner.request_window.record(at);
        if inner.arrivals.len() < KEPT_ARRIVALS {
            inner.arrivals.push(jiff::Timestamp::now().as_microsecond());
        }
        let delay = self
            .config
            .latency
            .map(|range| sample_latency(&mut inner.rng, range));
        Arrival { at, delay }
    }

    /// The rate cap; `Err` carries the `Retry-After` seconds.
    pub fn admit(&self) -> Result<(), u64> {
        match &self.rate {
            Some(rate) => lock(rate).admit(Instant::now()),
            None => Ok(()),
        }
    }

    /// Steps 5 to 8 of a valid, admitted request: 503 faults, the contact check, placing
    /// the call, and how it will be answered.
    pub fn decide(&self, arrived_at: u64, fields: CallFields, body: Value) -> Decision {
        let config = &self.config;
        let mut guard = lock(&self.inner);
        let inner = &mut *guard;
        // Look up before inserting, so a repeated number costs no allocation.
        let (checked, known) = match inner.numbers.get_mut(&fields.number) {
            Some(state) => {
                state.checked = state.checked.saturating_add(1);
                (state.checked, state.known)
            }
            None => {
                let state = NumberState {
                    checked: 1,
                    ..Default::default()
                };
                inner.numbers.insert(fields.number.clone(), state);
                (1, false)
            }
        };
        if checked <= config.fail_503_first || chance(&mut inner.rng, config.fail_503) {
            return Decision::Unavailable;
        }
        if !fields.create_if_not_exists && !known {
            return Decision::NotFound;
        }
        let metadata = self.outbox.as_ref().map(|_| body.get("metadata").cloned());
        let call = inner.place(arrived_at, fields.number, body);
        if let (Some(outbox), Some(metadata)) = (&self.outbox, metadata) {
            outbox.placed(&call, metadata);
        }
        let after = if chance(&mut inner.rng, config.fail_500_after) {
            AfterPlace::Fail500
        } else if chance(&mut inner.rng, config.hang) {
            AfterPlace::Hang
        } else {
            AfterPlace::Created
        };
        Decision::Placed { call, after }
    }

    pub fn count(&self, answer: Answer) {
        self.responses.count(answer);
    }

    pub fn stats(&self) -> Stats {
        let inner = lock(&self.inner);
        let calls_per_number = inner
            .numbers
            .iter()
            .filter(|(_, state)| state.placed > 0)
            .map(|(number, state)| (number.clone(), state.placed))
            .collect();
        Stats {
            total_calls: inner.total_calls,
            calls_per_number,
            max_calls_in_one_second: inner.call_window.max(),
            max_requests_in_one_second: inner.request_window.max(),
            requests: self.requests.load(Ordering::Relaxed),
            responses: self.responses.snapshot(),
            webhooks_sent: self.outbox.as_ref().map_or(0, Outbox::sent),
            webhooks_failed: self.outbox.as_ref().map_or(0, Outbox::failed),
        }
    }

    pub fn calls(&self) -> Vec<Value> {
        lock(&self.inner).kept.clone()
    }

    pub fn arrivals(&self) -> Vec<i64> {
        lock(&self.inner).arrivals.clone()
    }

    fn nanos_since_start(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }
}

impl Inner {
    /// The one point where a call is placed: counted per number and in total, its arrival
    /// recorded for the rate stats, its body kept, its contact created. Whatever must follow
    /// every placed call (e.g. a `phone_call.ended` webhook) starts from the returned value.
    fn place(&mut self, arrived_at: u64, number: String, body: Value) -> PlacedCall {
        self.total_calls += 1;
        self.call_window.record(arrived_at);
        if self.kept.len() < KEPT_CALLS {
            self.kept.push(body);
        }
        match self.numbers.get_mut(&number) {
            Some(state) => {
                state.placed += 1;
                state.known = true;
            }
            None => {
                let state = NumberState {
                    checked: 0,
                    placed: 1,
                    known: true,
                };
                self.numbers.insert(number.clone(), state);
            }
        }
        // Built from random bytes: the `uuid` crate's `v4` feature is not enabled.
        let id = uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid();
        PlacedCall { id, number }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shared(config: SandboxConfig) -> Shared {
        Shared::new(config, CancellationToken::new())
    }

    fn fields(number: &str, create: bool) -> CallFields {
        CallFields {
            number: number.to_owned(),
            create_if_not_exists: create,
        }
    }

    #[test]
    fn placing_counts_keeps_and_creates_the_contact() {
        let state = shared(SandboxConfig::default());
        let at = state.arrive().at;
        assert!(matches!(
            state.decide(at, fields("+15550001", false), json!({})),
            Decision::NotFound
        ));
        let Decision::Placed { call, after } =
            state.decide(at, fields("+15550001", true), json!({"n": 1}))
        else {
            panic!("expected a placed call");
        };
        assert_eq!(
            (call.number.as_str(), after),
            ("+15550001", AfterPlace::Created)
        );
        assert_eq!(call.id.get_version_num(), 4);
        // The contact now exists, so createIfNotExists:false finds it.
        assert!(matches!(
            state.decide(at, fields("+15550001", false), json!({})),
            Decision::Placed { .. }
        ));
        let stats = state.stats();
        assert_eq!(stats.total_calls, 2);
        assert_eq!(stats.calls_per_number["+15550001"], 2);
        assert_eq!(stats.max_calls_in_one_second, 2);
        assert_eq!(stats.requests, 1);
        assert_eq!(state.calls(), [json!({"n": 1}), json!({})]);
    }

    #[test]
    fn the_same_seed_replays_the_same_faults() {
        let config = SandboxConfig {
            fail_503: 0.3,
            fail_500_after: 0.3,
            hang: 0.3,
            seed: 42,
            ..Default::default()
        };
        let outcomes = |config: &SandboxConfig| {
            let state = shared(config.clone());
            (0..200)
                .map(
                    |_| match state.decide(0, fields("+15550001", true), json!({})) {
                        Decision::Unavailable => "503",
                        Decision::NotFound => "404",
                        Decision::Placed {
                            after: AfterPlace::Created,
                            ..
                        } => "201",
                        Decision::Placed {
                            after: AfterPlace::Fail500,
                            ..
                        } => "500",
                        Decision::Placed {
                            after: AfterPlace::Hang,
                            ..
                        } => "hang",
                    },
                )
                .collect::<Vec<_>>()
        };
        let first = outcomes(&config);
        assert_eq!(first, outcomes(&config));
        for kind in ["503", "201", "500", "hang"] {
            assert!(first.contains(&kind), "{kind} never drawn");
        }
        let reseeded = outcomes(&SandboxConfig { seed: 43, ..config });
        assert_ne!(first, reseeded);
    }
}
