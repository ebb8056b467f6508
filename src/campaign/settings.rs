//! The settings a campaign was started with, stored as JSON in the ledger so that a later
//! `resume` dials the same way without the command line. Never holds a secret.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use std::num::NonZeroU32;

use crate::cli::{DialArgs, RunArgs};
use crate::dispatch::{BREAKER_THRESHOLD, DispatchConfig, Rate, RetryPolicy};
use crate::plan::{
    Field, Mapping, PlanOptions, Planner, SuppressList, parse_map_arg, parse_region,
};
use crate::source::SourceOptions;

use super::CampaignError;
use crate::zone::{self, DayWindow, Schedule};

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
    pub rate: String,
    pub burst: u32,
    pub concurrency: u32,
    pub max_attempts: u32,
    pub retry_uncertain: bool,
    pub timeout_ms: u64,
    /// `--tz`: the zone of rows with neither a zone column nor a single-zone country.
    #[serde(default)]
    pub tz: Option<String>,
    /// The calling schedule (`--window`, `--skip-date`, `--holidays`) in its text form,
    /// `mon-fri 09:00-20:00; skip 2026-12-25`; a plain `09:00-18:00` from older ledgers reads
    /// the same way.
    #[serde(default)]
    pub window: Option<String>,
    /// `--start-at`, RFC 3339.
    #[serde(default)]
    pub start_at: Option<String>,
}

impl Settings {
    pub fn from_run(args: &RunArgs) -> Settings {
        let d: &DialArgs = &args.dial;
        Settings {
            api_url: d.api_url.clone(),
            template: args.template.clone(),
            no_create: args.no_create,
            update_existing: args.update_existing,
            meta: args.meta.clone(),
            map: args
                .map
                .iter()
                .map(|(c, f)| (c.clone(), field_name(f)))
                .collect(),
            default_region: args.default_region.clone(),
            suppress: args.suppress.clone(),
            encoding: args.encoding.clone(),
            delimiter: args.delimiter,
            rate: d.rate.to_string(),
            burst: d.burst.get(),
            concurrency: d.concurrency,
            max_attempts: d.max_attempts,
            retry_uncertain: d.retry_uncertain,
            timeout_ms: d.timeout.as_millis() as u64,
            tz: args.tz.clone(),
            window: args.schedule().map(|s| s.to_string()),
            start_at: args.start_at.map(|t| t.to_string()),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings always serialise")
    }
}

fn field_name(f: &Field) -> String {
    match f {
        Field::NumberToCall => "numberToCall".into(),
        Field::FirstName => "firstName".into(),
        Field::LastName => "lastName".into(),
        Field::Email => "email".into(),
        Field::ContactUuid => "contactUuid".into(),
        Field::AiSettingsTemplateId => "aiSettingsTemplateId".into(),
        Field::Timezone => "timezone".into(),
        Field::Metadata(k) => format!("metadata.{k}"),
        Field::PromptTag(k) => format!("promptTags.{k}"),
        Field::Ignore => "ignore".into(),
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

    /// The stored calling schedule, read back.
    pub fn schedule(&self) -> Result<Option<Schedule>, CampaignError> {
        self.window
            .as_deref()
            .map(str::parse::<Schedule>)
            .transpose()
            .map_err(CampaignError::Usage)
    }

    /// The stored schedule's text with its windows replaced and its skipped dates kept.
    fn with_windows(&self, windows: Vec<DayWindow>) -> String {
        let skipped = self.schedule().ok().flatten().map(|s| s.skipped());
        Schedule::new(windows, skipped.unwrap_or_default())
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// The zone of rows that have no zone of their own: `--tz`, else the system's.
    pub fn default_zone(&self) -> String {
        self.tz.clone().unwrap_or_else(zone::system_zone)
    }

    pub fn dispatch_config(&self, limit: Option<u64>) -> Result<DispatchConfig, CampaignError> {
        let window = self.schedule()?;
        let start_at = self
            .start_at
            .as_deref()
            .map(|t| t.parse::<jiff::Timestamp>())
            .transpose()
            .map_err(|e| CampaignError::Usage(format!("--start-at: {e}")))?;
        let default_zone = zone::zone(&self.default_zone()).map_err(CampaignError::Usage)?;
        Ok(DispatchConfig {
            concurrency: self.concurrency.max(1) as usize,
            rate: self.rate.parse().unwrap_or(Rate::Per {
                count: 1.0,
                per: std::time::Duration::from_secs(1),
            }),
            burst: NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN),
            policy: RetryPolicy {
                max_attempts: self.max_attempts.max(1),
                retry_uncertain: self.retry_uncertain,
                ..RetryPolicy::default()
            },
            limit,
            breaker_threshold: BREAKER_THRESHOLD,
            window,
            start_at,
            default_zone,
            tz_named: self.tz.is_some(),
        })
    }
}

impl crate::cli::OverrideArgs {
    /// Applies what the user passed on the command line over the stored settings.
    pub fn apply(&self, s: &mut Settings) {
        if let Some(r) = self.rate {
            s.rate = r.to_string();
        }
        if let Some(b) = self.burst {
            s.burst = b.get();
        }
        if let Some(c) = self.concurrency {
            s.concurrency = c;
        }
        if let Some(m) = self.max_attempts {
            s.max_attempts = m;
        }
        if self.retry_uncertain {
            s.retry_uncertain = true;
        }
        if let Some(t) = self.timeout {
            s.timeout_ms = t.as_millis() as u64;
        }
        if let Some(u) = &self.api_url {
            s.api_url = u.clone();
        }
        if !self.window.is_empty() {
            s.window = Some(s.with_windows(self.window.clone()));
        }
    }
}
