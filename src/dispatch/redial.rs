//! The feed's side of `--redial undelivered`: at most twice a second it asks the ledger to
//! schedule the redials whose outcome came back undelivered (they become `retry_wait` rows,
//! so they reach the pool by the one path every call takes: feed, pacer, gate, `in_flight`
//! mark) and learns until when placed calls are still waiting for an outcome. While any
//! are, the feed does not end the run, and it says what it waits for, and until when.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::time::Instant;

use crate::ledger::{Ledger, LedgerError, RedialRule, RedialTick};
use crate::progress::Tally;

/// How often the ledger is asked; outcomes arrive by webhook, at any time.
const EVERY: Duration = Duration::from_millis(500);

pub(super) struct Redials {
    rule: RedialRule,
    last: Option<Instant>,
    tick: RedialTick,
    /// What was last said about the wait, so it is said once per change.
    announced: Option<String>,
}

impl Redials {
    pub fn new(rule: RedialRule) -> Redials {
        Redials {
            rule,
            last: None,
            tick: RedialTick::default(),
            announced: None,
        }
    }

    /// Schedules due redials, unless the ledger was asked less than [`EVERY`] ago.
    pub async fn tick(&mut self, ledger: &Ledger, campaign_id: i64) -> Result<(), LedgerError> {
        if self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return Ok(());
        }
        self.tick_now(ledger, campaign_id).await.map(|_| ())
    }

    /// Asks the ledger now: before the feed ends a run, the answer must postdate the last
    /// call's end. `true` if something can still come due (a redial, an awaited outcome).
    pub async fn tick_now(
        &mut self,
        ledger: &Ledger,
        campaign_id: i64,
    ) -> Result<bool, LedgerError> {
        self.last = Some(Instant::now());
        let tick = ledger.schedule_redials(campaign_id, self.rule).await?;
        if tick.scheduled > 0 || tick.at_cap > 0 {
            tracing::debug!(
                "{} undelivered call(s) scheduled for a redial, {} at --max-calls {}",
                tick.scheduled,
                tick.at_cap,
                self.rule.max_calls
            );
        }
        self.tick = tick;
        Ok(tick.scheduled > 0 || self.awaiting_until().is_some())
    }

    /// Until when the run must stay alive for outcomes still to come.
    pub fn awaiting_until(&self) -> Option<i64> {
        self.tick.awaiting_until.filter(|_| self.tick.awaiting > 0)
    }

    /// Says, once per change, what a run with nothing to dial now is waiting for.
    pub fn announce(&mut self, next_redial: Option<i64>, tally: &Arc<Tally>) {
        let Some(line) = wait_line(&self.tick, next_redial, &local_zone()) else {
            return;
        };
        if self.announced.as_deref() == Some(line.as_str()) {
            return;
        }
        tracing::info!("{line}");
        tally.set_waiting(Some(line.clone()));
        self.announced = Some(line);
    }
}

fn local_zone() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// "waiting for 3 call outcome(s) until 14:05 +03; next redial at 15:00 +03". Pure, so it
/// has a test; `None` when there is nothing to wait for.
fn wait_line(tick: &RedialTick, next_redial: Option<i64>, zone: &TimeZone) -> Option<String> {
    let at = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned_datetime(zone.clone())
                    .strftime("%H:%M:%S %Z")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let outcomes = tick.awaiting_until.filter(|_| tick.awaiting > 0).map(|u| {
        format!(
            "waiting for {} call outcome(s) until {} (--outcome-timeout)",
            tick.awaiting,
            at(u)
        )
    });
    let redial = next_redial.map(|t| format!("next redial or retry at {}", at(t)));
    match (outcomes, redial) {
        (None, None) => None,
        (Some(o), None) => Some(o),
        (None, Some(r)) => Some(r),
        (Some(o), Some(r)) => Some(format!("{o}; {r}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_says_what_it_waits_for_and_until_when() {
        let utc = TimeZone::UTC;
        let t = |s: &str| s.parse::<Timestamp>().unwrap().as_millisecond();
        let tick = RedialTick {
            awaiting: 3,
            awaiting_until: Some(t("2026-12-02T14:05:00Z")),
            ..RedialTick::default()
        };
        let line = wait_line(&tick, Some(t("2026-12-02T15:00:00Z")), &utc).unwrap();
        assert_eq!(
            line,
            "waiting for 3 call outcome(s) until 14:05:00 UTC (--outcome-timeout); \
             next redial or retry at 15:00:00 UTC"
        );
        assert_eq!(wait_line(&RedialTick::default(), None, &utc), None);
    }
}
