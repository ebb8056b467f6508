//! SPEC.md's order for a row's zone: its `timezone` column, else the zones its number's
//! prefix gives, else its country's one clock, else `--tz` (or the system's zone). Where a
//! prefix gives several zones that share no calling hour, `--tz` if given, else the row
//! cannot be placed (`unknown_zone`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

use super::prefix::PrefixZones;
use super::{Schedule, Zones, country_zone};

/// Why a row got its zone (shown in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// The row's `timezone` column.
    Column,
    /// The zones libphonenumber gives the number's prefix.
    Number,
    /// The number's country has one time zone.
    Country,
    /// `--tz`, or the system zone.
    Default,
}

impl ZoneSource {
    pub const ALL: [ZoneSource; 4] = [
        ZoneSource::Column,
        ZoneSource::Number,
        ZoneSource::Country,
        ZoneSource::Default,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ZoneSource::Column => "column",
            ZoneSource::Number => "number",
            ZoneSource::Country => "country",
            ZoneSource::Default => "default",
        }
    }

    pub fn parse(s: &str) -> Option<ZoneSource> {
        ZoneSource::ALL.into_iter().find(|z| z.as_str() == s)
    }
}

impl fmt::Display for ZoneSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known of a row before its zone is chosen.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowPlace<'a> {
    /// The `timezone` cell, already checked to be an IANA name.
    pub column: Option<&'a str>,
    /// The zones of the number's prefix.
    pub number: Option<PrefixZones>,
    /// The number's ISO region (`SA`).
    pub country: Option<&'a str>,
}

/// A number whose possible zones share no calling hour, and no `--tz` to fall back on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the number could be in any of {} time zones ({}) and they share no hour of the calling \
     window; add a timezone column or pass --tz ZONE",
    .zones.len(),
    .zones.names().join(", ")
)]
pub struct UnknownZone {
    pub zones: Zones,
}

/// The resolution rules of one campaign. Shared by reference across planning threads.
#[derive(Debug)]
pub struct Rules {
    /// The calling hours without their skipped dates, when there are any.
    hours: Option<Schedule>,
    /// `--tz`, when the user named one.
    tz: Option<String>,
    /// The zone of rows nothing else places: `--tz`, else the system's.
    fallback: String,
    /// The start of the run: "share a calling hour" is judged over the days after it.
    now: Timestamp,
    /// Whether a prefix's zones share a calling hour, per prefix: judging it scans weeks.
    shared: Mutex<HashMap<PrefixZones, bool>>,
}

impl Rules {
    /// `tz` is `--tz` when given; `fallback` the zone of rows nothing places (`--tz`, else
    /// the system's).
    pub fn new(
        schedule: Option<&Schedule>,
        tz: Option<&str>,
        fallback: &str,
        now: Timestamp,
    ) -> Rules {
        Rules {
            hours: schedule.map(Schedule::without_skipped_dates),
            tz: tz.map(str::to_string),
            fallback: fallback.to_string(),
            now,
            shared: Mutex::new(HashMap::new()),
        }
    }

    /// The row's zones and why, or why it has none.
    pub fn resolve(&self, row: RowPlace<'_>) -> Result<(Zones, ZoneSource), UnknownZone> {
        if let Some(z) = row.column.map(str::trim).filter(|z| !z.is_empty()) {
            return Ok((Zones::one(z), ZoneSource::Column));
        }
        if let Some(p) = row.number.filter(|p| !p.is_empty()) {
            if p.len() == 1 || self.share_an_hour(p) {
                return Ok((p.into(), ZoneSource::Number));
            }
            return match &self.tz {
                Some(tz) => Ok((Zones::one(tz.as_str()), ZoneSource::Default)),
                None => Err(UnknownZone { zones: p.into() }),
            };
        }
        if let Some(z) = row.country.and_then(country_zone) {
            return Ok((Zones::one(z), ZoneSource::Country));
        }
        Ok((Zones::one(self.fallback.as_str()), ZoneSource::Default))
    }

    /// True without calling hours: then any zone is as good as another.
    fn share_an_hour(&self, p: PrefixZones) -> bool {
        let Some(hours) = &self.hours else {
            return true;
        };
        let lock = || self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = lock().get(&p) {
            return known;
        }
        let zones = Zones::from(p).time_zones().unwrap_or_default();
        let shared = hours.next_open(&zones, self.now).is_some();
        lock().insert(p, shared);
        shared
    }
}
