//! The settings of a campaign that runs over a day: its expiry, the daily cap per number,
//! redials of undelivered calls and how long an outcome is waited for. Stored with the
//! campaign's other [`super::Settings`] (flattened into the same JSON object), so `resume`
//! keeps the same deadline and cap; a ledger from before these existed reads the defaults.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ledger::RedialRule;

/// SPEC.md's defaults.
pub const DEFAULT_MAX_CALLS_PER_DAY: u32 = 3;
pub const DEFAULT_OUTCOME_TIMEOUT_MS: u64 = 30 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaySettings {
    /// `--expire-at` (or `--expire-after` from the campaign's first start): rows not dialed
    /// by then become `expired`. Absolute, so a resume does not move the deadline.
    #[serde(default, with = "super::settings::opt_text")]
    pub expire_at: Option<Timestamp>,
    /// `--max-calls-per-day`.
    #[serde(default = "default_per_day")]
    pub max_calls_per_day: u32,
    /// `--redial undelivered`, with its delay and cap.
    #[serde(default)]
    pub redial: Option<RedialSettings>,
    /// `--outcome-timeout`.
    #[serde(default = "default_outcome_timeout")]
    pub outcome_timeout_ms: u64,
}

/// `--redial undelivered --redial-after D --max-calls N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedialSettings {
    pub after_ms: u64,
    pub max_calls: u32,
}

fn default_per_day() -> u32 {
    DEFAULT_MAX_CALLS_PER_DAY
}

fn default_outcome_timeout() -> u64 {
    DEFAULT_OUTCOME_TIMEOUT_MS
}

impl Default for DaySettings {
    fn default() -> DaySettings {
        DaySettings {
            expire_at: None,
            max_calls_per_day: DEFAULT_MAX_CALLS_PER_DAY,
            redial: None,
            outcome_timeout_ms: DEFAULT_OUTCOME_TIMEOUT_MS,
        }
    }
}

/// The deadline `--expire-at AT` or `--expire-after D` names, read at `now`. Whole
/// milliseconds, the ledger's unit, so the deadline and the recorded sends compare exactly.
pub fn deadline(
    at: Option<Timestamp>,
    after: Option<std::time::Duration>,
    now: Timestamp,
) -> Option<Timestamp> {
    let after = after.and_then(|d| {
        now.checked_add(jiff::SignedDuration::try_from(d).ok()?)
            .ok()
    });
    let at = at.or(after)?;
    Timestamp::from_millisecond(at.as_millisecond()).ok()
}

impl DaySettings {
    /// What the dispatcher's feed redials under, if it redials.
    pub fn redial_rule(&self) -> Option<RedialRule> {
        self.redial.map(|r| RedialRule {
            after_ms: r.after_ms as i64,
            max_calls: r.max_calls.max(1),
            outcome_timeout_ms: self.outcome_timeout_ms as i64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_from_before_reads_the_defaults_and_new_values_round_trip() {
        let old: DaySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(old, DaySettings::default());
        let day = DaySettings {
            expire_at: Some("2026-12-02T18:00:00Z".parse().unwrap()),
            max_calls_per_day: 1,
            redial: Some(RedialSettings {
                after_ms: 7_200_000,
                max_calls: 3,
            }),
            outcome_timeout_ms: 60_000,
        };
        let json = serde_json::to_string(&day).unwrap();
        assert!(
            json.contains(r#""expire_at":"2026-12-02T18:00:00Z""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<DaySettings>(&json).unwrap(), day);
        let rule = day.redial_rule().unwrap();
        assert_eq!(
            (rule.after_ms, rule.max_calls, rule.outcome_timeout_ms),
            (7_200_000, 3, 60_000)
        );
    }

    #[test]
    fn a_deadline_is_whole_milliseconds_and_an_absolute_one_wins() {
        let now: Timestamp = "2026-12-02T07:00:00.123456789Z".parse().unwrap();
        let two = std::time::Duration::from_secs(2);
        let after = deadline(None, Some(two), now).unwrap();
        assert_eq!(after, "2026-12-02T07:00:02.123Z".parse().unwrap());
        let at: Timestamp = "2026-12-02T18:00:00Z".parse().unwrap();
        assert_eq!(deadline(Some(at), None, now), Some(at));
        assert_eq!(deadline(None, None, now), None);
    }
}
