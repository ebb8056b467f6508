//! Where an attempt leaves its row: SPEC.md's failure classes turned into ledger
//! transitions, with exponential backoff and full jitter. Pure, so it is tested alone.

use std::time::Duration;

use crate::api::Outcome;
use crate::ledger::Transition;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub retry_uncertain: bool,
    /// First backoff ceiling; doubles per attempt up to `cap`.
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            retry_uncertain: false,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniform draw (`jitter` in [0, 1)) below `min(cap, base * 2^(attempt-1))`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        exp.min(self.cap).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// The transition for `outcome` on the row's `attempt`-th attempt.
    pub fn decide(&self, outcome: &Outcome, attempt: u32, jitter: f64, now_ms: i64) -> Transition {
        let retry_at = || now_ms + self.backoff(attempt, jitter).as_millis() as i64;
        let attempts_left = attempt < self.max_attempts;
        match outcome {
            Outcome::Success { body, call_id, .. } => Transition::Succeeded {
                body: body.clone(),
                call_id: call_id.clone(),
            },
            Outcome::Permanent { message, .. } => Transition::Failed {
                reason: "rejected",
                message: message.clone(),
            },
            Outcome::Auth { message, .. } => Transition::Requeue {
                message: message.clone(),
            },
            Outcome::Throttled { .. } => Transition::Requeue {
                message: "throttled by the API (429); the row goes back to the queue".into(),
            },
            Outcome::Retryable { error, .. } if attempts_left => Transition::RetryWait {
                next_attempt_at: retry_at(),
                message: error.clone(),
            },
            Outcome::Retryable { error, .. } => Transition::Failed {
                reason: "retries_exhausted",
                message: format!("{error} (after {attempt} attempts)"),
            },
            Outcome::Uncertain { error, .. } if self.retry_uncertain && attempts_left => {
                Transition::RetryWait {
                    next_attempt_at: retry_at(),
                    message: error.clone(),
                }
            }
            Outcome::Uncertain { error, .. } => Transition::Uncertain {
                message: error.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retryable() -> Outcome {
        Outcome::Retryable {
            status: Some(503),
            error: "503".into(),
        }
    }

    fn uncertain() -> Outcome {
        Outcome::Uncertain {
            status: Some(500),
            error: "500".into(),
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.999_999).as_millis(), 499);
        assert_eq!(p.backoff(3, 0.5), Duration::from_secs(1));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(60));
        assert_eq!(p.backoff(2, 0.0), Duration::ZERO);
    }

    #[test]
    fn retryable_retries_until_max_attempts_then_fails() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(&retryable(), 2, 0.5, 1000),
            Transition::RetryWait {
                next_attempt_at: 1500,
                ..
            }
        ));
        assert!(matches!(
            p.decide(&retryable(), 3, 0.5, 0),
            Transition::Failed {
                reason: "retries_exhausted",
                ..
            }
        ));
    }

    #[test]
    fn uncertain_is_never_retried_unless_asked() {
        let p = RetryPolicy::default();
        assert!(matches!(
            p.decide(&uncertain(), 1, 0.5, 0),
            Transition::Uncertain { .. }
        ));
        let asked = RetryPolicy {
            retry_uncertain: true,
            ..p
        };
        assert!(matches!(
            asked.decide(&uncertain(), 1, 0.5, 0),
            Transition::RetryWait { .. }
        ));
        assert!(matches!(
            asked.decide(&uncertain(), 3, 0.5, 0),
            Transition::Uncertain { .. }
        ));
    }

    #[test]
    fn refusals_that_placed_no_call_requeue_and_permanent_fails() {
        let p = RetryPolicy::default();
        let throttled = Outcome::Throttled { retry_after: None };
        assert!(matches!(
            p.decide(&throttled, 1, 0.5, 0),
            Transition::Requeue { .. }
        ));
        let auth = Outcome::Auth {
            status: 401,
            message: "no".into(),
        };
        assert!(matches!(
            p.decide(&auth, 1, 0.5, 0),
            Transition::Requeue { .. }
        ));
        let perm = Outcome::Permanent {
            status: 422,
            message: "bad".into(),
            body: "{}".into(),
        };
        assert!(matches!(
            p.decide(&perm, 1, 0.5, 0),
            Transition::Failed {
                reason: "rejected",
                ..
            }
        ));
    }
}
