//! Calling hours: which time zone a row is dialed in (and why), and whether a calling
//! window is open at a given instant in that zone. Pure: "now" is always a parameter, so
//! the rules are tested across zones, midnight and DST changes without touching the clock.

mod countries;

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

/// Why a row got its zone (shown in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// The row's `timezone` column.
    Column,
    /// The number's country has one time zone.
    Country,
    /// `--tz`, or the system zone.
    Default,
}

impl ZoneSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneSource::Column => "column",
            ZoneSource::Country => "country",
            ZoneSource::Default => "default",
        }
    }
}

/// The zone of the number's country, when that country keeps one clock.
pub fn country_zone(country: &str) -> Option<&'static str> {
    let cc = country.to_ascii_uppercase();
    countries::SINGLE_ZONE
        .binary_search_by(|(c, _)| (*c).cmp(cc.as_str()))
        .ok()
        .map(|i| countries::SINGLE_ZONE[i].1)
}

/// SPEC.md's order: the row's column, else its country's only zone, else the default.
pub fn resolve(column: Option<&str>, country: Option<&str>, default: &str) -> (String, ZoneSource) {
    if let Some(z) = column.map(str::trim).filter(|z| !z.is_empty()) {
        return (z.to_string(), ZoneSource::Column);
    }
    if let Some(z) = country.and_then(country_zone) {
        return (z.to_string(), ZoneSource::Country);
    }
    (default.to_string(), ZoneSource::Default)
}

/// The system's IANA zone, or UTC when it cannot be told.
pub fn system_zone() -> String {
    TimeZone::try_system()
        .ok()
        .and_then(|tz| tz.iana_name().map(str::to_string))
        .unwrap_or_else(|| "UTC".into())
}

/// Looks a zone up in the compiled-in database.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("unknown time zone {name:?}; use an IANA name such as Europe/London or Asia/Riyadh")
    })
}

/// Calling hours `HH:MM-HH:MM` in local time; an end at or before the start crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

impl Window {
    fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// The instant the window opens on `day`. When the start falls in a DST gap, that is
    /// the moment clocks jump past it, found by bisection between the gap's two readings.
    fn opening(&self, day: Date, tz: &TimeZone) -> Option<Timestamp> {
        let amb = tz.to_ambiguous_timestamp(day.to_datetime(self.start));
        if !matches!(amb.offset(), AmbiguousOffset::Gap { .. }) {
            return amb.compatible().ok();
        }
        let (mut closed, mut open) = (
            amb.earlier().ok()?.as_second(),
            amb.later().ok()?.as_second(),
        );
        while open - closed > 1 {
            let mid = closed + (open - closed) / 2;
            if self.is_open(Timestamp::from_second(mid).ok()?, tz) {
                open = mid;
            } else {
                closed = mid;
            }
        }
        Timestamp::from_second(open).ok()
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
        let parse = |t: &str| -> Result<Time, String> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            let h: i8 = h.parse().map_err(|_| bad())?;
            let m: i8 = m.parse().map_err(|_| bad())?;
            Time::new(h, m, 0, 0).map_err(|_| bad())
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
        write!(
            f,
            "{}-{}",
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests;
