//! What `GET /sandbox/stats` reports, and the per-status answer counters behind it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// What `GET /sandbox/stats` returns.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// Calls placed, including those answered 500 and those left hanging.
    pub total_calls: u64,
    /// `numberToCall` -> calls placed to it.
    pub calls_per_number: BTreeMap<String, u64>,
    /// Most placed calls whose request arrived within one sliding second `[t, t + 1 s)`.
    pub max_calls_in_one_second: u64,
    /// The same over every call-endpoint request, whatever its answer.
    pub max_requests_in_one_second: u64,
    /// Call-endpoint requests received.
    pub requests: u64,
    /// Call-endpoint answers by status (`"201"`, `"429"`, ...); `"hang"` for unanswered ones.
    pub responses: BTreeMap<String, u64>,
    /// `phone_call.ended` events delivered (answered 2xx) to `--webhook-url`.
    #[serde(default)]
    pub webhooks_sent: u64,
    /// Events given up on after every retry.
    #[serde(default)]
    pub webhooks_failed: u64,
}

/// The answers of the call endpoint, as counted in [`Stats::responses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Created,
    Unauthorized,
    NotFound,
    Unprocessable,
    TooManyRequests,
    InternalError,
    Unavailable,
    Hang,
}

const LABELS: [&str; 8] = ["201", "401", "404", "422", "429", "500", "503", "hang"];

impl Answer {
    pub fn label(self) -> &'static str {
        LABELS[self as usize]
    }
}

/// One lock-free counter per [`Answer`], so counting never contends with the call path.
#[derive(Debug, Default)]
pub struct AnswerCounts([AtomicU64; LABELS.len()]);

impl AnswerCounts {
    pub fn count(&self, answer: Answer) {
        self.0[answer as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Label -> count, leaving out answers never given.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        LABELS
            .iter()
            .zip(&self.0)
            .map(|(label, count)| (label, count.load(Ordering::Relaxed)))
            .filter(|(_, count)| *count > 0)
            .map(|(label, count)| ((*label).to_owned(), count))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_reported_under_their_status_labels() {
        let counts = AnswerCounts::default();
        counts.count(Answer::Created);
        counts.count(Answer::Created);
        counts.count(Answer::Hang);
        counts.count(Answer::TooManyRequests);
        let expected: BTreeMap<String, u64> = [
            ("201".to_owned(), 2),
            ("429".to_owned(), 1),
            ("hang".to_owned(), 1),
        ]
        .into();
        assert_eq!(counts.snapshot(), expected);
        assert_eq!(Answer::Unprocessable.label(), "422");
    }
}
