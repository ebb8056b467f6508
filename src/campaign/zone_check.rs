//! "No silent fallback": before a run with `--window` but no `--tz` dials anything, the CSV
//! is scanned for rows that nothing would place in a zone (no `timezone` cell, no zone for
//! their number's prefix, no single-zone country), which would otherwise be called on the
//! machine's zone. Planning every row would cost as much as a dry run, so the scan reads
//! only two cells and plans just the rows that might lack a zone: nearly every number's
//! calling code has zones in libphonenumber's map; only +800-style codes do not.

use jiff::Timestamp;
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

use crate::plan::{Planned, Planner};
use crate::source::{CsvSource, SourceRecord};
use crate::zone::{Rules, ZoneSource, code_has_zones};

use super::{CampaignError, Settings};

/// Rows that would be dialed on a zone the user never named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{rows} row(s) have no time zone the dialer can tell (no timezone column, and neither \
     their number nor their country gives one), so --window would be read on this machine's \
     zone ({zone}), which was never named; the first is line {line}: {number}. Pass --tz ZONE \
     (an IANA name such as America/New_York) for them, or add a timezone column"
)]
pub struct UnnamedZone {
    pub rows: u64,
    pub line: u64,
    pub number: String,
    pub zone: String,
}

/// Refuses (exit 2) when `--window` is given without `--tz` and some row would fall back to
/// the system zone. Without a window, or with `--tz`, there is nothing to check.
pub fn refuse_unnamed_zones(
    csv: &std::path::Path,
    settings: &Settings,
    planner: &Planner,
) -> Result<(), CampaignError> {
    let cfg = settings.dispatch_config(None)?;
    if cfg.window.is_none() || cfg.tz_named {
        return Ok(());
    }
    let rules = cfg.zone_rules(Timestamp::now());
    let source = CsvSource::open(csv, &settings.source_options())?;
    match scan(source, planner, &rules) {
        Some(unnamed) => Err(CampaignError::Usage(unnamed.to_string())),
        None => Ok(()),
    }
}

/// The rows of `source` that `rules` would place on the fallback zone, if any.
pub fn scan(mut source: CsvSource, planner: &Planner, rules: &Rules) -> Option<UnnamedZone> {
    let mut found: Option<UnnamedZone> = None;
    for record in source.by_ref() {
        let SourceRecord::Row { line, fields } = record else {
            continue;
        };
        let (tz, number) = planner.zone_cells(&fields);
        if tz.is_some() || !may_lack_zone(number, planner.default_region()) {
            continue;
        }
        let Planned::Call(call) = planner.plan(line, &fields) else {
            continue;
        };
        let Ok((zones, ZoneSource::Default)) = rules.resolve(call.place()) else {
            continue;
        };
        match &mut found {
            Some(f) => f.rows += 1,
            None => {
                found = Some(UnnamedZone {
                    rows: 1,
                    line,
                    number: call.e164,
                    zone: zones.to_string(),
                })
            }
        }
    }
    found
}

/// False only when the number cell surely names a calling code with zones; anything
/// unusual (other scripts, an international prefix without `+`) is planned to be sure.
fn may_lack_zone(cell: &str, region: Option<Id>) -> bool {
    if !cell.is_ascii() {
        return true;
    }
    let code = match cell.split_once('+') {
        Some((before, after)) if !before.bytes().any(|b| b.is_ascii_digit()) => {
            let digits: String = after.chars().filter(char::is_ascii_digit).collect();
            match calling_code(&digits) {
                Some(code) => code,
                // No such code: the row is an invalid number, never dialed.
                None => return false,
            }
        }
        Some(_) => return true,
        None => {
            let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
            if digits.starts_with('0') {
                return true;
            }
            match region.and_then(|r| DATABASE.by_id(r.as_ref())) {
                Some(meta) => meta.country_code(),
                // No region to read it with: an invalid number.
                None => return false,
            }
        }
    };
    !code_has_zones(code)
}

/// Calling codes are prefix-free: the first of the number's 1 to 3 leading digits that is one.
fn calling_code(digits: &str) -> Option<u16> {
    (1..=3.min(digits.len()))
        .filter_map(|n| digits[..n].parse::<u16>().ok())
        .find(|code| DATABASE.region(code).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_without_zones_need_planning() {
        assert!(!may_lack_zone("+1 212 555 0123", None));
        assert!(!may_lack_zone("+7 912 345 67 89", None));
        assert!(!may_lack_zone("(212) 555-0123", "US".parse().ok()));
        assert!(may_lack_zone("+800 1234 5678", None));
        assert!(may_lack_zone("+882 1234 5678", None));
        assert!(
            may_lack_zone("00966501234567", "SA".parse().ok()),
            "IDD: plan it"
        );
        assert!(
            may_lack_zone("+٩٦٦٥٠١٢٣٤٥٦٧", None),
            "other scripts: plan it"
        );
        assert!(
            !may_lack_zone("2125550123", None),
            "no region: invalid anyway"
        );
    }

    #[test]
    fn every_region_has_zones() {
        // The scan trusts that a number read through a region always gets prefix zones.
        for code in 1..1000u16 {
            let Some(regions) = DATABASE.region(&code) else {
                continue;
            };
            if regions.iter().any(|r| *r != "001") {
                assert!(code_has_zones(code), "+{code} ({regions:?})");
            }
        }
    }
}
