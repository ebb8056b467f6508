//! `Hours`: the campaign's schedule plus a cache of each row's parsed zones, asked "may this
//! row be called now, and if not when" by the feeder and at the moment of sending. Rows
//! hold their zones as text (`rows.timezone`); parsing it and searching the next opening
//! are done once per distinct text and remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Schedule, Zones};

/// An entry is trusted for "never opens" this long, then searched again (the look-ahead
/// moves with the clock).
const NEVER_RECHECK_SECS: i64 = 3600;

#[derive(Clone)]
struct Slot {
    zones: Arc<[TimeZone]>,
    /// `(asked at, answer)` of the last search: the answer holds for any later `now`
    /// before it.
    next: Option<(Timestamp, Option<Timestamp>)>,
}

/// Cheap to share: `&self` methods, one short lock per call.
pub struct Hours {
    schedule: Schedule,
    /// Used for rows with no zone of their own (old ledgers) or one this build cannot read.
    default_zone: TimeZone,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Hours {
    pub fn new(schedule: Schedule, default_zone: TimeZone) -> Hours {
        Hours {
            schedule,
            default_zone,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn default_zone(&self) -> &TimeZone {
        &self.default_zone
    }

    /// The parsed zones of a row's `timezone` text.
    pub fn zones(&self, text: Option<&str>) -> Arc<[TimeZone]> {
        self.slot(text).zones
    }

    /// Is the row with zones `text` callable at `now`?
    pub fn is_open(&self, text: Option<&str>, now: Timestamp) -> bool {
        self.schedule.is_open(&self.slot(text).zones, now)
    }

    /// `Some(now)` if the row may be called now, else when it next may; `None` if its zones
    /// never share an open hour within the schedule's look-ahead.
    pub fn next_open(&self, text: Option<&str>, now: Timestamp) -> Option<Timestamp> {
        let slot = self.slot(text);
        if self.schedule.is_open(&slot.zones, now) {
            return Some(now);
        }
        if let Some((asked, answer)) = slot.next
            && asked <= now
        {
            let holds = match answer {
                Some(at) => now < at,
                None => now.as_second() - asked.as_second() < NEVER_RECHECK_SECS,
            };
            if holds {
                return answer;
            }
        }
        let answer = self.schedule.next_open(&slot.zones, now);
        if let Some(s) = self.lock().get_mut(text.unwrap_or("")) {
            s.next = Some((now, answer));
        }
        answer
    }

    fn slot(&self, text: Option<&str>) -> Slot {
        let key = text.unwrap_or("");
        let mut slots = self.lock();
        if let Some(slot) = slots.get(key) {
            return slot.clone();
        }
        let zones: Arc<[TimeZone]> = match key.parse::<Zones>().and_then(|z| z.time_zones()) {
            Ok(zones) => zones.into(),
            Err(_) => Arc::new([self.default_zone.clone()]),
        };
        let slot = Slot { zones, next: None };
        slots.insert(key.to_string(), slot.clone());
        slot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still sound.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}
