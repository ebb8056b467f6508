//! The value parsers of the command line: each turns one flag's text into its library type,
//! or into the one sentence clap shows the user (exit 2).

use std::time::Duration;

use super::HolidayDates;
use crate::dispatch::Rate;
use crate::ledger::RowState;
use crate::zone::DayWindow;

/// `--template`: checked before anything is read or sent, because every request would
/// carry it and the API would refuse them all one by one.
pub fn parse_template(s: &str) -> Result<String, String> {
    let s = s.trim();
    match uuid::Uuid::try_parse(s) {
        Ok(_) => Ok(s.to_owned()),
        Err(_) => Err(format!(
            "{s:?} is not a template id: an aiSettingsTemplateId is a UUID such as \
             0b6c2f0e-8d1a-4c3e-9f5a-2d7e6b1c4a90"
        )),
    }
}

pub fn parse_rate(s: &str) -> Result<Rate, String> {
    s.parse()
}

/// The longest duration any flag takes: beyond it, clock arithmetic could overflow, and
/// no campaign waits that long.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

pub fn parse_row_state(s: &str) -> Result<RowState, String> {
    s.parse()
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration ({e}); use e.g. 30s, 1500ms, 2m"))?;
    if d > MAX_DURATION {
        return Err(format!(
            "{s:?} is longer than a year; use e.g. 30s, 2h, 7days"
        ));
    }
    Ok(d)
}

pub fn parse_window(s: &str) -> Result<DayWindow, String> {
    s.parse()
}

pub fn parse_skip_date(s: &str) -> Result<jiff::civil::Date, String> {
    crate::zone::parse_date(s)
}

pub fn parse_holidays_file(s: &str) -> Result<HolidayDates, String> {
    let text = std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?;
    crate::zone::parse_holidays(&text)
        .map(HolidayDates)
        .map_err(|e| format!("{s}: {e}"))
}

pub fn parse_tz(s: &str) -> Result<String, String> {
    crate::zone::zone(s.trim()).map(|_| s.trim().to_string())
}

pub fn parse_start_at(s: &str) -> Result<jiff::Timestamp, String> {
    s.trim().parse().map_err(|e| {
        format!("{s:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-25T09:00:00+03:00")
    })
}

pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "|" | "pipe" => Ok(b'|'),
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        other => Err(format!(
            "unsupported delimiter {other:?}; use one of , ; | or \\t"
        )),
    }
}
