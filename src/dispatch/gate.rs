//! The gate: the last check before a request leaves, made after the row's send slot has
//! come. A row is let through only if nothing stops the pool, no 429 pause holds it, the
//! campaign's start time has come and the row's calling window is open at that instant.
//! Pure over its inputs except for the zone cache, so each rule has a test.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::time::Instant;

use super::feed::Hours;
use crate::ledger::DialRow;

/// Why a row did not pass the gate; its `in_flight` mark is undone, since nothing was sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Held {
    /// The pool is stopping (Ctrl-C, breaker, auth, a lost lease, the ledger).
    Stopping,
    /// A 429 pause is on: the row goes to the front of the queue.
    Paused,
    /// `--start-at` is still ahead.
    NotYet(Timestamp),
    /// The row's calling window is closed now; it opens then.
    Closed(Timestamp),
    /// `--expire-at` has come: the row is never sent.
    Expired,
}

pub(super) struct Gate {
    /// The calling hours and the cache of parsed zones, shared with the feed.
    hours: Option<Arc<Hours>>,
    start_at: Option<Timestamp>,
    expire_at: Option<Timestamp>,
}

impl Gate {
    pub fn new(hours: Option<Arc<Hours>>, start_at: Option<Timestamp>) -> Gate {
        Gate {
            hours,
            start_at,
            expire_at: None,
        }
    }

    /// The same gate, closed for good at `expire_at`.
    pub fn expiring(self, expire_at: Option<Timestamp>) -> Gate {
        Gate { expire_at, ..self }
    }

    /// `Ok` if `row` may be sent at `now`; otherwise why not.
    pub fn check(
        &self,
        row: &DialRow,
        stopping: bool,
        paused_until: Option<Instant>,
        now: Timestamp,
    ) -> Result<(), Held> {
        if stopping {
            return Err(Held::Stopping);
        }
        if paused_until.is_some_and(|t| t > Instant::now()) {
            return Err(Held::Paused);
        }
        if self.expire_at.is_some_and(|at| now >= at) {
            return Err(Held::Expired);
        }
        if let Some(at) = self.start_at.filter(|at| *at > now) {
            return Err(Held::NotYet(at));
        }
        if let Some(hours) = &self.hours {
            match hours.next_open(row.timezone.as_deref(), now) {
                Some(opens) if opens > now => return Err(Held::Closed(opens)),
                Some(_) => {}
                // Zones that never share an open hour (the feed does not hand such rows
                // out): held, and looked at again in an hour.
                None => return Err(Held::Closed(now + jiff::SignedDuration::from_hours(1))),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::tz::TimeZone;

    use super::*;

    fn row(zone: &str) -> DialRow {
        DialRow {
            id: 1,
            line: 2,
            request: "{}".into(),
            timezone: Some(zone.into()),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_is_read_at_the_moment_of_sending_in_the_rows_zone() {
        let hours = Hours::new("09:00-17:00".parse().unwrap(), TimeZone::UTC);
        let gate = Gate::new(Some(Arc::new(hours)), None);
        // 16:59:59 in New York is inside; one second later the window has closed.
        let inside = at("2026-12-02T21:59:59Z");
        let after = at("2026-12-02T22:00:00Z");
        assert_eq!(
            gate.check(&row("America/New_York"), false, None, inside),
            Ok(())
        );
        let held = gate.check(&row("America/New_York"), false, None, after);
        assert_eq!(held, Err(Held::Closed(at("2026-12-03T14:00:00Z"))));
        // The same instant is inside the window in Los Angeles.
        assert_eq!(
            gate.check(&row("America/Los_Angeles"), false, None, after),
            Ok(())
        );
    }

    #[test]
    fn stop_pause_and_start_time_hold_a_row() {
        let gate = Gate::new(None, Some(at("2026-12-02T12:00:00Z")));
        let now = at("2026-12-02T11:00:00Z");
        let r = row("UTC");
        assert_eq!(gate.check(&r, true, None, now), Err(Held::Stopping));
        let pause = Some(Instant::now() + Duration::from_secs(5));
        assert_eq!(gate.check(&r, false, pause, now), Err(Held::Paused));
        let past = Some(Instant::now() - Duration::from_millis(1));
        assert_eq!(
            gate.check(&r, false, past, now),
            Err(Held::NotYet(at("2026-12-02T12:00:00Z")))
        );
        assert_eq!(
            gate.check(&r, false, past, at("2026-12-02T12:00:00Z")),
            Ok(())
        );
    }

    #[test]
    fn nothing_leaves_at_or_after_the_expiry() {
        let gate = Gate::new(None, None).expiring(Some(at("2026-12-02T18:00:00Z")));
        let r = row("UTC");
        assert_eq!(
            gate.check(&r, false, None, at("2026-12-02T17:59:59Z")),
            Ok(())
        );
        let at_deadline = at("2026-12-02T18:00:00Z");
        assert_eq!(gate.check(&r, false, None, at_deadline), Err(Held::Expired));
    }
}
