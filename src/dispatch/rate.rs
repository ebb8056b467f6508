//! `--rate`: calls started per unit of time, parsed from `5/s`, `300/m`, `1000/h`, a bare
//! number (per second) or `unlimited`, and turned into the emission interval of the one
//! pacer. Rates a schedule cannot hold (slower than one call a day, faster than a call a
//! microsecond) are refused when parsed, so no later arithmetic can overflow.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The longest interval between two calls a rate may ask for.
const SLOWEST: Duration = Duration::from_secs(24 * 3600);
/// The shortest: below it the schedule is no longer a limit, just arithmetic.
const FASTEST: Duration = Duration::from_micros(1);

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
    /// The emission interval: one request every `per / count`; `None` when unlimited.
    pub fn period(&self) -> Option<Duration> {
        match *self {
            Rate::Unlimited => None,
            // The parser bounds the ratio, so this never overflows or rounds to zero.
            Rate::Per { count, per } => Some(per.div_f64(count)),
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
        let period = per.as_secs_f64() / count;
        if period > SLOWEST.as_secs_f64() {
            return Err(format!(
                "rate {s:?} is slower than one call a day; use e.g. 1/h, or --start-at to wait"
            ));
        }
        if period < FASTEST.as_secs_f64() {
            return Err(format!(
                "rate {s:?} is faster than a million calls a second; use `unlimited` to lift the limit"
            ));
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
        for bad in [
            "", "0", "-1/s", "5/d", "abc", "nan/s", "1e-300", "0.5/h/2", "1e300/s",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn period_matches_rate() {
        let period = |r: &str| r.parse::<Rate>().unwrap().period().unwrap();
        assert_eq!(period("300/m"), Duration::from_millis(200));
        assert_eq!(period("1/h"), Duration::from_secs(3600));
        assert_eq!(period("1000000/s"), Duration::from_micros(1));
        assert!(Rate::Unlimited.period().is_none());
    }

    #[test]
    fn the_display_form_reads_back() {
        for r in ["5/s", "300/m", "1000/h", "2.5/s", "unlimited"] {
            let rate: Rate = r.parse().unwrap();
            assert_eq!(rate.to_string().parse::<Rate>().unwrap(), rate, "{r}");
        }
    }
}
