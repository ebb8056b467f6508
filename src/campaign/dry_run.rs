//! `run --dry-run`: everything up to the request (read, map, validate, normalise,
//! deduplicate, suppress, calling window) with nothing sent and nothing written. The
//! deduplication the ledger does in a real run is done here in memory.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use super::{CampaignError, Settings};
use crate::plan::{Planned, SkipReason};
use crate::source::{CsvSource, SourceRecord};
use crate::zone::{self, Window};

/// Skipped rows listed one by one; the rest are counted.
const LISTED: usize = 50;
/// Request bodies shown as examples.
const EXAMPLES: usize = 3;

#[derive(Debug, Default, Serialize)]
pub struct DryRun {
    pub rows: u64,
    pub would_dial: u64,
    /// Rows that would be dialed, but not right now: their calling window is closed.
    pub outside_window_now: u64,
    pub skipped: BTreeMap<String, u64>,
    /// (line, reason, detail) of the first skipped rows.
    pub skipped_rows: Vec<(u64, String, String)>,
    pub skipped_not_listed: u64,
    pub first_requests: Vec<serde_json::Value>,
    pub delimiter: String,
    pub encoding: String,
    pub mapping: Vec<(String, String)>,
}

pub fn dry_run(
    csv: &Path,
    campaign: &str,
    settings: &Settings,
    now: Timestamp,
) -> Result<DryRun, CampaignError> {
    let mut source = CsvSource::open(csv, &settings.source_options())?;
    let planner = settings.planner(campaign, source.headers())?;
    let window: Option<Window> = settings
        .window
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(CampaignError::Usage)?;
    let default_zone = settings.default_zone();
    let mut report = DryRun {
        delimiter: match source.delimiter() {
            b'\t' => "\\t".into(),
            d => (d as char).to_string(),
        },
        encoding: source.encoding_name().to_string(),
        mapping: planner
            .mapping()
            .columns()
            .map(|(c, f)| (c.to_string(), f.to_string()))
            .collect(),
        ..DryRun::default()
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut zones = HashMap::new();
    for record in source.by_ref() {
        report.rows += 1;
        let (line, planned) = match record {
            SourceRecord::Malformed { line, reason, .. } => (
                line,
                Planned::Skip {
                    reason: SkipReason::MalformedRow,
                    detail: reason,
                    e164: None,
                },
            ),
            SourceRecord::Row { line, fields } => (line, planner.plan(line, &fields)),
        };
        match planned {
            Planned::Skip { reason, detail, .. } => report.skip(line, reason, detail),
            Planned::Call(call) => {
                if let Some(first) = seen.get(&call.e164) {
                    report.skip(
                        line,
                        SkipReason::Duplicate,
                        format!("same number as line {first}"),
                    );
                    continue;
                }
                seen.insert(call.e164.clone(), line);
                report.would_dial += 1;
                if let Some(w) = &window {
                    let (name, _) = zone::resolve(
                        call.timezone.as_deref(),
                        call.country.as_deref(),
                        &default_zone,
                    );
                    let tz = zones
                        .entry(name.clone())
                        .or_insert_with(|| zone::zone(&name).unwrap_or(jiff::tz::TimeZone::UTC));
                    if !w.is_open(now, tz) {
                        report.outside_window_now += 1;
                    }
                }
                if report.first_requests.len() < EXAMPLES {
                    report
                        .first_requests
                        .push(serde_json::to_value(&call.request).unwrap_or_default());
                }
            }
        }
    }
    if let Some(e) = source.take_error() {
        return Err(e.into());
    }
    Ok(report)
}

impl DryRun {
    fn skip(&mut self, line: u64, reason: SkipReason, detail: String) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
        if self.skipped_rows.len() < LISTED {
            self.skipped_rows.push((line, reason.to_string(), detail));
        } else {
            self.skipped_not_listed += 1;
        }
    }

    /// The dry run as text for a terminal.
    pub fn render(&self) -> String {
        let mut out = format!(
            "dry run: nothing was sent and nothing was written\n\
             read {} rows ({}, delimiter '{}')\n",
            self.rows, self.encoding, self.delimiter
        );
        out.push_str("columns:\n");
        for (column, field) in &self.mapping {
            out.push_str(&format!("  {column} -> {field}\n"));
        }
        out.push_str(&format!("would dial: {}\n", self.would_dial));
        if self.outside_window_now > 0 {
            out.push_str(&format!(
                "  of which outside their calling window right now: {}\n",
                self.outside_window_now
            ));
        }
        let total_skipped: u64 = self.skipped.values().sum();
        out.push_str(&format!("skipped: {total_skipped}\n"));
        for (reason, n) in &self.skipped {
            out.push_str(&format!("  {reason}: {n}\n"));
        }
        if !self.skipped_rows.is_empty() {
            out.push_str("skipped rows:\n");
            for (line, reason, detail) in &self.skipped_rows {
                out.push_str(&format!("  line {line}: {reason}: {detail}\n"));
            }
            if self.skipped_not_listed > 0 {
                out.push_str(&format!("  ... and {} more\n", self.skipped_not_listed));
            }
        }
        for (i, body) in self.first_requests.iter().enumerate() {
            out.push_str(&format!(
                "request {}:\n{}\n",
                i + 1,
                serde_json::to_string_pretty(body).unwrap_or_default()
            ));
        }
        out
    }
}
