//! The calling schedule: `--window [DAYS ]HH:MM-HH:MM` (repeatable), `--skip-date` and
//! `--holidays`, as one value with a text form that is stored in the campaign's settings and
//! read back. It answers, for a contact who may be in several zones, whether a call is
//! allowed now in all of them at once, and when that next becomes true.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::window::{Window, first_instant_at};

/// How far `next_open` looks before it says "never": a week and a day, plus a day for each
/// skipped date, since each can close one more day.
const LOOKAHEAD_DAYS: usize = 8;
const MAX_LOOKAHEAD_DAYS: usize = 400;

const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A set of weekdays, bit 0 for Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(u8);

impl Days {
    pub const ALL: Days = Days(0x7f);

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    /// `mon` or `monday`, any case, as 0..=6.
    fn index(name: &str) -> Option<u8> {
        let name = name.trim().to_ascii_lowercase();
        let i = NAMES
            .iter()
            .zip(FULL_NAMES)
            .position(|(short, full)| name == *short || name == full)?;
        Some(i as u8)
    }
}

impl FromStr for Days {
    type Err = String;

    fn from_str(s: &str) -> Result<Days, String> {
        let bad = || {
            format!(
                "days {s:?} must be a day (mon..sun), a range (mon-fri) or a list (mon,wed,fri)"
            )
        };
        let mut bits = 0u8;
        for part in s.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (
                Days::index(a).ok_or_else(bad)?,
                Days::index(b).ok_or_else(bad)?,
            );
            // A range may wrap the week: `fri-mon` is Friday to Monday.
            let mut d = a;
            loop {
                bits |= 1 << d;
                if d == b {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        Ok(Days(bits))
    }
}

impl fmt::Display for Days {
    /// Runs of three or more days as ranges (`mon-fri,sun`), the rest one by one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut d = 0;
        while d < 7 {
            if self.0 & (1 << d) == 0 {
                d += 1;
                continue;
            }
            let mut end = d;
            while end + 1 < 7 && self.0 & (1 << (end + 1)) != 0 {
                end += 1;
            }
            match end - d {
                0 => parts.push(NAMES[d].to_string()),
                1 => parts.push(format!("{},{}", NAMES[d], NAMES[end])),
                _ => parts.push(format!("{}-{}", NAMES[d], NAMES[end])),
            }
            d = end + 1;
        }
        f.write_str(&parts.join(","))
    }
}

/// One `--window`: hours on some days. A window crossing midnight belongs to the day it
/// starts on (`fri 22:00-02:00` is Friday night into Saturday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub days: Days,
    pub window: Window,
}

impl DayWindow {
    pub(super) fn is_open_at(&self, date: Date, time: Time) -> bool {
        let (start, end) = (self.window.start, self.window.end);
        if self.window.crosses_midnight() {
            let yesterday = date.weekday().previous();
            (self.days.contains(date.weekday()) && time >= start)
                || (self.days.contains(yesterday) && time < end)
        } else {
            self.days.contains(date.weekday()) && time >= start && time < end
        }
    }
}

impl FromStr for DayWindow {
    type Err = String;

    fn from_str(s: &str) -> Result<DayWindow, String> {
        let mut words = s.split_whitespace();
        let (first, second) = (words.next(), words.next());
        if words.next().is_some() {
            return Err(format!(
                "calling window {s:?} must look like 09:00-18:00 or \"mon-fri 09:00-18:00\""
            ));
        }
        match (first, second) {
            (Some(days), Some(hours)) => Ok(DayWindow {
                days: days.parse()?,
                window: hours.parse()?,
            }),
            (Some(hours), None) => Ok(DayWindow {
                days: Days::ALL,
                window: hours.parse()?,
            }),
            _ => Err(format!(
                "calling window {s:?} is empty; give it as 09:00-18:00"
            )),
        }
    }
}

impl fmt::Display for DayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days == Days::ALL {
            write!(f, "{}", self.window)
        } else {
            write!(f, "{} {}", self.days, self.window)
        }
    }
}

/// Calling windows plus the local dates on which nobody is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    windows: Vec<DayWindow>,
    skip: BTreeSet<Date>,
}

impl Schedule {
    /// `None` without windows: a schedule that never opens is a mistake, not a setting.
    pub fn new(windows: Vec<DayWindow>, skip: impl IntoIterator<Item = Date>) -> Option<Schedule> {
        (!windows.is_empty()).then(|| Schedule {
            windows,
            skip: skip.into_iter().collect(),
        })
    }

    pub fn windows(&self) -> &[DayWindow] {
        &self.windows
    }

    /// The local dates on which nobody is called, in order.
    pub fn skipped(&self) -> Vec<Date> {
        self.skip.iter().copied().collect()
    }

    /// The same hours with no skipped dates: what "these zones share a calling hour" is
    /// judged by, so that a holiday does not make every contact's zone unknown.
    pub fn without_skipped_dates(&self) -> Schedule {
        Schedule {
            windows: self.windows.clone(),
            skip: BTreeSet::new(),
        }
    }

    /// Is a call allowed at `now` in `tz`?
    pub fn is_open_in(&self, tz: &TimeZone, now: Timestamp) -> bool {
        let local = now.to_zoned_datetime(tz.clone());
        let (date, time) = (local.date(), local.time());
        !self.skip.contains(&date) && self.windows.iter().any(|w| w.is_open_at(date, time))
    }

    /// Is a call allowed at `now` in every one of `zones`?
    pub fn is_open(&self, zones: &[TimeZone], now: Timestamp) -> bool {
        zones.iter().all(|tz| self.is_open_in(tz, now))
    }

    /// The first instant at or after `now` when a call is allowed in every one of `zones`,
    /// or `None` when that does not happen within the look-ahead (zones that share no
    /// calling hour, or every day skipped).
    pub fn next_open(&self, zones: &[TimeZone], now: Timestamp) -> Option<Timestamp> {
        if self.is_open(zones, now) {
            return Some(now);
        }
        // Where the zones' open times meet, the meeting starts when the last of them opens:
        // at a window's start or at a local midnight (a skipped date ending, a window that
        // crossed midnight from an allowed day). Those instants, in order, are all to try.
        let days = (LOOKAHEAD_DAYS + self.skip.len()).min(MAX_LOOKAHEAD_DAYS);
        let mut candidates = Vec::new();
        for tz in zones {
            let today = now.to_zoned_datetime(tz.clone()).date();
            for n in 0..=days {
                let Ok(day) = today.checked_add((n as i64).days()) else {
                    break;
                };
                let starts = self.windows.iter().map(|w| w.window.start);
                for time in std::iter::once(Time::midnight()).chain(starts) {
                    if let Some(at) = first_instant_at(day.to_datetime(time), tz)
                        && at > now
                    {
                        candidates.push(at);
                    }
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find(|&at| self.is_open(zones, at))
    }
}

impl fmt::Display for Schedule {
    /// `mon-fri 09:00-20:00; sat 10:00-14:00; skip 2026-12-25,2027-01-01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let windows: Vec<String> = self.windows.iter().map(ToString::to_string).collect();
        f.write_str(&windows.join("; "))?;
        if !self.skip.is_empty() {
            let dates: Vec<String> = self.skip.iter().map(ToString::to_string).collect();
            write!(f, "; skip {}", dates.join(","))?;
        }
        Ok(())
    }
}

impl FromStr for Schedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Schedule, String> {
        let mut windows = Vec::new();
        let mut skip = BTreeSet::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match part.strip_prefix("skip ") {
                Some(dates) => {
                    for d in dates.split(',') {
                        skip.insert(parse_date(d)?);
                    }
                }
                None => windows.push(part.parse()?),
            }
        }
        Schedule::new(windows, skip)
            .ok_or_else(|| format!("calling hours {s:?} name no window; give one as 09:00-18:00"))
    }
}

/// A local date, `2026-12-25`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| format!("{:?} is not a date; write it as 2026-12-25", s.trim()))
}

/// The dates of a `--holidays` file's text: one a line, `#` starts a comment, blank lines
/// are fine. The error names the line.
pub fn parse_holidays(text: &str) -> Result<Vec<Date>, String> {
    let mut dates = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        dates.push(parse_date(line).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(dates)
}
