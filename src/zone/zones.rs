//! `Zones`: the zone or zones a row's calling hours are read in, with the text form the
//! ledger's `rows.timezone` column holds (`America/New_York`, or a comma-separated list
//! when the number could be in several).

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;

use super::prefix::PrefixZones;

/// One or more IANA names, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Zones(Vec<String>);

impl Zones {
    pub fn one(name: impl Into<String>) -> Zones {
        Zones(vec![name.into()])
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The zones from the compiled-in database; a name it does not know is an error.
    pub fn time_zones(&self) -> Result<Vec<TimeZone>, String> {
        self.0.iter().map(|n| super::zone(n)).collect()
    }
}

impl From<PrefixZones> for Zones {
    fn from(p: PrefixZones) -> Zones {
        Zones(p.names().map(str::to_string).collect())
    }
}

impl fmt::Display for Zones {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl FromStr for Zones {
    type Err = String;

    fn from_str(s: &str) -> Result<Zones, String> {
        let mut names: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        if names.is_empty() {
            return Err("no time zone given; use an IANA name such as Europe/London".into());
        }
        names.sort();
        names.dedup();
        let zones = Zones(names);
        zones.time_zones()?;
        Ok(zones)
    }
}
