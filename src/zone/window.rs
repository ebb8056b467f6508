//! One calling window `HH:MM-HH:MM` in local time, and the instant it opens on a given day
//! in a given zone (DST gaps included). Days, dates and several zones are `schedule`'s.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// The first instant whose local reading in `tz` is `at` or later. When `at` falls in a DST
/// gap that is the moment clocks jump past it, found by bisection between the gap's two
/// readings; in an overlap, the earlier of the two instants.
pub(super) fn first_instant_at(at: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    let amb = tz.to_ambiguous_timestamp(at);
    if !matches!(amb.offset(), AmbiguousOffset::Gap { .. }) {
        return amb.compatible().ok();
    }
    let (mut before, mut after) = (
        amb.earlier().ok()?.as_second(),
        amb.later().ok()?.as_second(),
    );
    if before > after {
        std::mem::swap(&mut before, &mut after);
    }
    let reached = |s: i64| {
        Timestamp::from_second(s).is_ok_and(|t| t.to_zoned_datetime(tz.clone()).datetime() >= at)
    };
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if reached(mid) {
            after = mid;
        } else {
            before = mid;
        }
    }
    Timestamp::from_second(after).ok()
}

/// Calling hours `HH:MM-HH:MM` in local time; an end at or before the start crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

impl Window {
    pub(super) fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// The instant the window opens on `day` (see [`first_instant_at`]).
    pub(super) fn opening(&self, day: Date, tz: &TimeZone) -> Option<Timestamp> {
        first_instant_at(day.to_datetime(self.start), tz)
    }

    /// Is a call allowed at `now` in zone `tz`? The end minute itself is outside.
    pub fn is_open(&self, now: Timestamp, tz: &TimeZone) -> bool {
        let t = now.to_zoned_datetime(tz.clone()).time();
        if self.crosses_midnight() {
            t >= self.start || t < self.end
        } else {
            t >= self.start && t < self.end
        }
    }

    /// The first instant at or after `now` when the window is open in `tz`. On a day when
    /// the start time does not exist (DST gap) the window opens when clocks jump past it.
    pub fn next_open(&self, now: Timestamp, tz: &TimeZone) -> Timestamp {
        if self.is_open(now, tz) {
            return now;
        }
        let today = now.to_zoned_datetime(tz.clone()).date();
        for days in 0..3 {
            let Ok(day) = today.checked_add(days.days()) else {
                break;
            };
            if let Some(at) = self.opening(day, tz)
                && at > now
            {
                return at;
            }
        }
        // Unreachable for real zones; retry in an hour rather than spin.
        now.checked_add(1.hour()).unwrap_or(now)
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Window, String> {
        let bad = || format!("calling window {s:?} must look like 09:00-18:30");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        // HH:MM, or HH:MM:SS where a window must end to the second.
        let parse = |t: &str| -> Result<Time, String> {
            let mut parts = t.trim().split(':');
            let mut next = || -> Result<Option<i8>, String> {
                parts
                    .next()
                    .map(|p| p.parse().map_err(|_| bad()))
                    .transpose()
            };
            let (h, m, sec) = (next()?.ok_or_else(bad)?, next()?.ok_or_else(bad)?, next()?);
            if next()?.is_some() {
                return Err(bad());
            }
            Time::new(h, m, sec.unwrap_or(0), 0).map_err(|_| bad())
        };
        let w = Window {
            start: parse(a)?,
            end: parse(b)?,
        };
        if w.start == w.end {
            return Err(format!(
                "calling window {s:?} is empty; its start and end must differ"
            ));
        }
        Ok(w)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Seconds only when given, so what the user typed reads back as typed.
        let show = |t: Time| {
            if t.second() == 0 {
                t.strftime("%H:%M").to_string()
            } else {
                t.strftime("%H:%M:%S").to_string()
            }
        };
        write!(f, "{}-{}", show(self.start), show(self.end))
    }
}
