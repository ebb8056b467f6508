//! The settings a campaign was started with, stored as JSON in the ledger so that a later
//! `resume` dials the same way without the command line. Never holds a secret.

use std::num::NonZeroU32;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::dispatch::{BREAKER_THRESHOLD, DispatchConfig, Rate, RetryPolicy};
use crate::plan::{Mapping, PlanOptions, Planner, SuppressList, parse_map_arg, parse_region};
use crate::source::SourceOptions;

use super::CampaignError;
use super::day::DaySettings;
use crate::zone::{self, DayWindow, Schedule};

/// Every value is typed; values with a grammar (rate, window, times) are stored in their
/// `Display` form and read back with their `FromStr`, so what a ledger holds is what the
/// user typed and an unreadable value is an error naming it, never a silent default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub api_url: String,
    pub template: Option<String>,
    pub no_create: bool,
    pub update_existing: bool,
    pub meta: Vec<(String, String)>,
    /// `--map` as given (COLUMN, FIELD text).
    pub map: Vec<(String, String)>,
    pub default_region: Option<String>,
    pub suppress: Vec<PathBuf>,
    pub encoding: Option<String>,
    pub delimiter: Option<u8>,
    #[serde(with = "text")]
    pub rate: Rate,
    pub burst: NonZeroU32,
    pub concurrency: u32,
    pub max_attempts: u32,
    pub retry_uncertain: bool,
    pub timeout_ms: u64,
    /// `--tz`: the zone of rows with neither a zone column nor a single-zone country.
    #[serde(default)]
    pub tz: Option<String>,
    /// The calling schedule (`--window`, `--skip-date`, `--holidays`), stored as
    /// `mon-fri 09:00-20:00; skip 2026-12-25`; a plain `09:00-18:00` from older ledgers
    /// reads the same way.
    #[serde(default, with = "opt_text")]
    pub window: Option<Schedule>,
    /// `--start-at`.
    #[serde(default, with = "opt_text")]
    pub start_at: Option<Timestamp>,
    /// `--sheet`: the workbook sheet read, by name or position.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Expiry, daily cap, redials (see `day.rs`).
    #[serde(flatten)]
    pub day: DaySettings,
}

impl Settings {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings always serialise")
    }

    /// Reads settings stored by [`Settings::to_json`] (or an older dialer); an unreadable
    /// value is an error that names the setting and the campaign.
    pub fn from_json(json: &str, campaign: &str) -> Result<Settings, CampaignError> {
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let what = if path == "." {
                "the settings".to_string()
            } else {
                format!("the setting `{path}`")
            };
            CampaignError::Usage(format!(
                "{what} stored for campaign {campaign:?} cannot be read ({}); start a new \
                 campaign with `dialer run --campaign NEW_NAME`",
                e.inner()
            ))
        })
    }
}

/// Serde for a value stored as its `Display` text and read back with `FromStr`.
mod text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr<Err: Display>,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// [`text`] for an optional value.
pub(super) mod opt_text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr<Err: Display>,
        D: Deserializer<'de>,
    {
        Option::<String>::deserialize(d)?
            .map(|t| t.parse().map_err(D::Error::custom))
            .transpose()
    }
}

impl Settings {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms)
    }

    pub fn source_options(&self) -> SourceOptions {
        SourceOptions {
            delimiter: self.delimiter,
            encoding: self.encoding.clone(),
            sheet: self.sheet.clone(),
        }
    }

    /// The planner for this campaign's CSV; loads the do-not-call lists.
    pub fn planner(&self, campaign: &str, headers: &[String]) -> Result<Planner, CampaignError> {
        let region = self
            .default_region
            .as_deref()
            .map(parse_region)
            .transpose()?;
        let overrides = self
            .map
            .iter()
            .map(|(c, f)| parse_map_arg(&format!("{c}={f}")).map_err(CampaignError::Usage))
            .collect::<Result<Vec<_>, _>>()?;
        let mapping = Mapping::from_headers(headers, &overrides)?;
        let mut suppress = SuppressList::empty();
        for path in &self.suppress {
            suppress.load(path, region)?;
        }
        let opts = PlanOptions {
            campaign: campaign.to_string(),
            default_region: region,
            template: self.template.clone(),
            no_create: self.no_create,
            update_existing: self.update_existing,
            meta: self.meta.clone(),
        };
        Ok(Planner::new(mapping, opts, suppress)?)
    }

    /// Replaces the calling windows (`resume --window`), keeping the skipped dates.
    pub fn set_windows(&mut self, windows: Vec<DayWindow>) {
        let skipped = self.window.as_ref().map(Schedule::skipped);
        if let Some(s) = Schedule::new(windows, skipped.unwrap_or_default()) {
            self.window = Some(s);
        }
    }

    /// The zone of rows that have no zone of their own: `--tz`, else the system's.
    pub fn default_zone(&self) -> String {
        self.tz.clone().unwrap_or_else(zone::system_zone)
    }

    pub fn dispatch_config(&self, limit: Option<u64>) -> Result<DispatchConfig, CampaignError> {
        let default_zone = zone::zone(&self.default_zone())
            .map_err(|e| CampaignError::Usage(format!("the setting `tz`: {e}")))?;
        Ok(DispatchConfig {
            concurrency: self.concurrency.max(1) as usize,
            rate: self.rate,
            burst: self.burst,
            policy: RetryPolicy {
                max_attempts: self.max_attempts.max(1),
                retry_uncertain: self.retry_uncertain,
                ..RetryPolicy::default()
            },
            limit,
            breaker_threshold: BREAKER_THRESHOLD,
            window: self.window.clone(),
            start_at: self.start_at,
            default_zone,
            tz_named: self.tz.is_some(),
            expire_at: self.day.expire_at,
            max_calls_per_day: Some(self.day.max_calls_per_day.max(1)),
            redial: self.day.redial_rule(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Settings {
        Settings {
            api_url: "http://127.0.0.1:1".into(),
            template: None,
            no_create: false,
            update_existing: false,
            meta: Vec::new(),
            map: Vec::new(),
            default_region: Some("SA".into()),
            suppress: Vec::new(),
            encoding: None,
            delimiter: None,
            rate: "300/m".parse().unwrap(),
            burst: NonZeroU32::new(2).unwrap(),
            concurrency: 8,
            max_attempts: 3,
            retry_uncertain: false,
            timeout_ms: 30_000,
            tz: None,
            window: Some("09:00-20:00".parse().unwrap()),
            start_at: Some("2026-12-02T09:00:00Z".parse().unwrap()),
            sheet: None,
            day: DaySettings::default(),
        }
    }

    #[test]
    fn typed_settings_round_trip_through_their_text() {
        let s = sample();
        let json = s.to_json();
        assert!(
            json.contains(r#""rate":"5/s""#) || json.contains(r#""rate":"300/m""#),
            "{json}"
        );
        assert_eq!(Settings::from_json(&json, "c").unwrap(), s);
    }

    #[test]
    fn an_unreadable_setting_is_named_never_defaulted() {
        let json = sample().to_json().replace("300/m", "fast");
        let e = Settings::from_json(&json, "c").unwrap_err().to_string();
        assert!(e.contains("`rate`") && e.contains("\"c\""), "{e}");
        let json = sample().to_json().replace(r#""burst":2"#, r#""burst":0"#);
        let e = Settings::from_json(&json, "c").unwrap_err().to_string();
        assert!(e.contains("`burst`"), "{e}");
    }
}
