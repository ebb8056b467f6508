//! `--rate`: calls started per unit of time, parsed from `5/s`, `300/m`, `1000/h`, a bare
//! number (per second) or `unlimited`, and turned into a governor GCRA quota.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Unlimited,
    /// `count` calls every `per`.
    Per {
        count: f64,
        per: Duration,
    },
}

impl Rate {
    /// The GCRA quota: one permit every `per / count`, at most `burst` at once.
    pub fn quota(&self, burst: NonZeroU32) -> Option<Quota> {
        match *self {
            Rate::Unlimited => None,
            Rate::Per { count, per } => {
                let period = per.div_f64(count).max(Duration::from_nanos(1));
                Quota::with_period(period).map(|q| q.allow_burst(burst))
            }
        }
    }

    /// Calls per second, for summaries.
    pub fn per_second(&self) -> Option<f64> {
        match *self {
            Rate::Unlimited => None,
            Rate::Per { count, per } => Some(count / per.as_secs_f64()),
        }
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("unlimited") {
            return Ok(Rate::Unlimited);
        }
        let (num, unit) = s.split_once('/').unwrap_or((s, "s"));
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hr" | "hour" => Duration::from_secs(3600),
            other => {
                return Err(format!(
                    "unknown unit {other:?} in rate {s:?}; use /s, /m or /h (e.g. 5/s, 300/m)"
                ));
            }
        };
        let count: f64 = num.trim().parse().map_err(|_| {
            format!("rate {s:?} is not a number of calls; use e.g. 5/s, 300/m, 1000/h or unlimited")
        })?;
        if !(count.is_finite() && count > 0.0) {
            return Err(format!("rate {s:?} must be more than zero calls"));
        }
        Ok(Rate::Per { count, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Unlimited => f.write_str("unlimited"),
            Rate::Per { count, per } => {
                let unit = match per.as_secs() {
                    60 => "m",
                    3600 => "h",
                    _ => "s",
                };
                write!(f, "{count}/{unit}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let per_s = |r: &str| r.parse::<Rate>().unwrap().per_second().unwrap();
        assert_eq!(per_s("5/s"), 5.0);
        assert_eq!(per_s("300/m"), 5.0);
        assert_eq!(per_s("1800/h"), 0.5);
        assert_eq!(per_s("7"), 7.0);
        assert_eq!(per_s(" 2.5 "), 2.5);
        assert_eq!("unlimited".parse::<Rate>(), Ok(Rate::Unlimited));
        for bad in ["", "0", "-1/s", "5/d", "abc", "nan/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn quota_period_matches_rate() {
        let one = NonZeroU32::new(1).unwrap();
        let q = "300/m".parse::<Rate>().unwrap().quota(one).unwrap();
        assert_eq!(q.replenish_interval(), Duration::from_millis(200));
        assert_eq!(q.burst_size().get(), 1);
        assert!(Rate::Unlimited.quota(one).is_none());
    }
}
