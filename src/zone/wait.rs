//! Saying why nobody is being called: until when (in the user's zone and in UTC) and which
//! window opens first, for whom. Text only; the dispatcher decides when to say it.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{DayWindow, Hours, Schedule};

/// The first opening among the rows still waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub until: Timestamp,
    /// The window that opens then, as the user wrote it (`mon-fri 09:00-20:00`).
    pub window: Option<DayWindow>,
    /// The zone(s) of the row it opens for, as IANA names.
    pub zones: Vec<String>,
}

impl Wait {
    /// The wait for one row's zones, opening at `until`.
    pub fn new(schedule: &Schedule, zones: &[TimeZone], until: Timestamp) -> Wait {
        // The window that is open at `until` in the zone that opened last is the one that
        // ended the wait; any zone will do to name it, as all are open then.
        let window = zones.first().and_then(|tz| {
            let local = until.to_zoned_datetime(tz.clone());
            schedule
                .windows()
                .iter()
                .find(|w| w.is_open_at(local.date(), local.time()))
                .copied()
        });
        Wait {
            until,
            window,
            zones: zones
                .iter()
                .map(|tz| tz.iana_name().unwrap_or("UTC").to_string())
                .collect(),
        }
    }

    /// `nobody can be called until 09:00 EST (14:00 UTC, Thu 2026-12-03), when
    /// "mon-fri 09:00-20:00" opens in America/New_York`.
    pub fn message(&self, local: &TimeZone) -> String {
        let here = self.until.to_zoned_datetime(local.clone());
        let utc = self.until.to_zoned_datetime(TimeZone::UTC);
        let mut text = format!(
            "nobody can be called until {} ({} UTC, {})",
            here.strftime("%H:%M %Z"),
            utc.strftime("%H:%M"),
            here.strftime("%a %Y-%m-%d"),
        );
        if let Some(w) = &self.window {
            text.push_str(&format!(", when \"{w}\" opens"));
        }
        match self.zones.as_slice() {
            [] => {}
            [one] => text.push_str(&format!(" in {one}")),
            several => text.push_str(&format!(
                " in all of {} ({} zones)",
                several.join(", "),
                several.len()
            )),
        }
        text
    }
}

impl Hours {
    /// The earliest opening among rows whose zones are `texts` (`rows.timezone`), or `None`
    /// when one of them is open now or none ever opens.
    pub fn first_opening<'a>(
        &self,
        texts: impl IntoIterator<Item = Option<&'a str>>,
        now: Timestamp,
    ) -> Option<Wait> {
        let mut first: Option<(Timestamp, Option<&'a str>)> = None;
        for text in texts {
            match self.next_open(text, now) {
                Some(at) if at <= now => return None,
                Some(at) if first.is_none_or(|(f, _)| at < f) => first = Some((at, text)),
                _ => {}
            }
        }
        let (until, text) = first?;
        Some(Wait::new(self.schedule(), &self.zones(text), until))
    }
}
