//! The settings a campaign was started with, stored as JSON in the ledger so that a later
//! `resume` dials the same way without the command line. Never holds a secret.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cli::{DialArgs, RunArgs};
use crate::plan::Field;

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
