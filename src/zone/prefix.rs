//! Which zones a number's digits give, by longest-prefix match on libphonenumber's map
//! (`prefixes.rs`, generated). Only fixed lines (and mobiles where libphonenumber says
//! mobile numbers are geographic) are read digit by digit; other numbers get every zone of
//! their country code, as `PhoneNumberToTimeZonesMapper` does.

use super::prefixes::{PREFIXES, SETS, ZONES};

/// Country codes whose mobile numbers are geographic in libphonenumber
/// (`GEO_MOBILE_COUNTRIES`): Mexico, Argentina, Brazil, Indonesia, China.
const GEO_MOBILE_CODES: [u16; 5] = [52, 54, 55, 62, 86];

/// The longest prefix in the table.
const LONGEST: usize = 9;

/// The set of zones a prefix names: an index into the table, so it is `Copy` and costs
/// nothing per row until its names are needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixZones(u16);

impl PrefixZones {
    /// Canonical IANA names, sorted.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        SETS[usize::from(self.0)]
            .iter()
            .map(|&i| ZONES[usize::from(i)])
    }

    pub fn len(self) -> usize {
        SETS[usize::from(self.0)].len()
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// What libphonenumber would tell of a valid number's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    FixedLine,
    Mobile,
    /// Toll-free, premium, VoIP...: placed by country code only.
    Other,
}

/// The zones of the valid number `e164` (`+12125550123`) with country calling code `code`.
pub fn for_number(e164: &str, code: u16, kind: NumberKind) -> Option<PrefixZones> {
    let geographic = match kind {
        NumberKind::FixedLine => true,
        NumberKind::Mobile => GEO_MOBILE_CODES.contains(&code),
        NumberKind::Other => false,
    };
    if geographic {
        longest_match(e164.strip_prefix('+').unwrap_or(e164))
    } else {
        longest_match(&code.to_string())
    }
}

fn longest_match(digits: &str) -> Option<PrefixZones> {
    (1..=digits.len().min(LONGEST)).rev().find_map(|len| {
        let key: u32 = digits.get(..len)?.parse().ok()?;
        let i = PREFIXES.binary_search_by_key(&key, |(p, _)| *p).ok()?;
        Some(PrefixZones(PREFIXES[i].1))
    })
}

/// Does the table place every number of calling code `code` somewhere? False only for the
/// non-geographic codes (+800, +881, ...), whose rows need a column or `--tz`.
pub fn code_has_zones(code: u16) -> bool {
    longest_match(&code.to_string()).is_some()
}
