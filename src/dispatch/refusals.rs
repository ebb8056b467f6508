//! The early stop for a run whose requests the API refuses alike (SPEC.md, "Circuit
//! breaker"): the first [`PROBE`] requests of a run are let out, and no further one leaves
//! until one of them has been answered otherwise than "refused permanently with the same
//! message as the others". If all of them are, the run stops with that message, and the
//! rows not yet sent are still `pending`: a bad `--template` costs ten requests, not the list.

use std::sync::Mutex;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::feed::lock;
use crate::api::Outcome;

/// Requests whose answers decide whether the run goes on.
pub const PROBE: u32 = 10;

/// Where the probe stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Still collecting answers: `out` requests let out, `alike` of them refused
    /// permanently with `message`.
    Probing {
        out: u32,
        alike: u32,
        message: Option<String>,
    },
    /// Some answer differed: nothing more to watch.
    Open,
    /// Every probed request was refused with this message.
    Tripped(String),
}

/// Shared by the dispatch loop (which asks [`Refusals::admit`] before each request) and
/// the workers (which report answers).
#[derive(Debug)]
pub struct Refusals {
    verdict: Mutex<Verdict>,
    /// Woken whenever the verdict changes or a probe slot is given back.
    changed: Notify,
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals {
            verdict: Mutex::new(Verdict::Probing {
                out: 0,
                alike: 0,
                message: None,
            }),
            changed: Notify::new(),
        }
    }
}

impl Refusals {
    /// Waits until one more request may leave. `false`: it must not (the probe tripped, or
    /// `halt` fired while waiting).
    pub async fn admit(&self, halt: &CancellationToken) -> bool {
        loop {
            let wake = self.changed.notified();
            tokio::pin!(wake);
            // Registered before the check, so a change between the two is not missed.
            wake.as_mut().enable();
            match &mut *lock(&self.verdict) {
                Verdict::Open => return true,
                Verdict::Tripped(_) => return false,
                Verdict::Probing { out, .. } if *out < PROBE => {
                    *out += 1;
                    return true;
                }
                Verdict::Probing { .. } => {}
            }
            tokio::select! {
                _ = &mut wake => {}
                _ = halt.cancelled() => return false,
            }
        }
    }

    /// A let-out request that did not reach the API after all (held at the gate, a 429,
    /// a row someone else moved): its probe slot goes to the next request.
    pub fn give_back(&self) {
        if let Verdict::Probing { out, .. } = &mut *lock(&self.verdict) {
            *out = out.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }

    /// Counts one answer. Returns the message when this answer trips the stop. A 429 or an
    /// auth refusal says nothing about the requests themselves: the slot is given back.
    pub fn answered(&self, outcome: &Outcome) -> Option<String> {
        if matches!(outcome, Outcome::Throttled { .. } | Outcome::Auth { .. }) {
            self.give_back();
            return None;
        }
        let mut verdict = lock(&self.verdict);
        let Verdict::Probing { alike, message, .. } = &mut *verdict else {
            return None;
        };
        let same = match (outcome, message.as_deref()) {
            (Outcome::Permanent { message: m, .. }, None) => {
                *message = Some(m.clone());
                true
            }
            (Outcome::Permanent { message: m, .. }, Some(first)) => m == first,
            _ => false,
        };
        let next = if !same {
            Verdict::Open
        } else if *alike + 1 >= PROBE {
            Verdict::Tripped(message.clone().unwrap_or_default())
        } else {
            *alike += 1;
            return None;
        };
        *verdict = next.clone();
        drop(verdict);
        self.changed.notify_waiters();
        match next {
            Verdict::Tripped(m) => Some(m),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn refused(message: &str) -> Outcome {
        Outcome::Permanent {
            status: 422,
            message: message.into(),
            body: String::new(),
        }
    }

    async fn admit_now(r: &Refusals) -> Option<bool> {
        let halt = CancellationToken::new();
        tokio::time::timeout(Duration::from_millis(50), r.admit(&halt))
            .await
            .ok()
    }

    #[tokio::test]
    async fn ten_alike_refusals_trip_and_nothing_more_leaves() {
        let r = Refusals::default();
        for _ in 0..PROBE {
            assert_eq!(admit_now(&r).await, Some(true));
        }
        assert_eq!(admit_now(&r).await, None, "the 11th waits for the answers");
        for i in 0..PROBE {
            let tripped = r.answered(&refused("bad template"));
            assert_eq!(tripped.is_some(), i + 1 == PROBE);
        }
        assert_eq!(admit_now(&r).await, Some(false));
    }

    #[tokio::test]
    async fn one_different_answer_opens_the_run_for_good() {
        let r = Refusals::default();
        for _ in 0..PROBE {
            admit_now(&r).await;
        }
        for _ in 0..PROBE - 1 {
            assert_eq!(r.answered(&refused("bad template")), None);
        }
        assert_eq!(r.answered(&refused("a different message")), None);
        assert_eq!(admit_now(&r).await, Some(true));
        for _ in 0..3 * PROBE {
            assert_eq!(r.answered(&refused("bad template")), None);
        }
        assert_eq!(admit_now(&r).await, Some(true));
    }

    #[tokio::test]
    async fn a_success_or_a_retryable_failure_is_a_different_answer() {
        for outcome in [
            Outcome::Success {
                status: 201,
                body: String::new(),
                call_id: None,
            },
            Outcome::Retryable {
                status: Some(503),
                error: "busy".into(),
            },
        ] {
            let r = Refusals::default();
            r.answered(&refused("x"));
            r.answered(&outcome);
            for _ in 0..2 * PROBE {
                assert_eq!(admit_now(&r).await, Some(true));
            }
        }
    }

    #[tokio::test]
    async fn a_slot_given_back_lets_the_next_request_out() {
        let r = Refusals::default();
        for _ in 0..PROBE {
            admit_now(&r).await;
        }
        r.give_back();
        assert_eq!(admit_now(&r).await, Some(true));
        assert_eq!(admit_now(&r).await, None);
    }
}
