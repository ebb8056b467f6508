//! `run --dry-run`: everything up to the request (read, map, validate, normalise,
//! deduplicate, suppress, calling window) with nothing sent and nothing written. Rows are
//! planned on every core (`dry_plan`); the deduplication the ledger does in a real run is
//! done here in memory, in line order.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use serde::Serialize;

use super::dry_dedupe::{Repeat, Seen};
use super::dry_plan::{Judge, Verdict, judge_in_order};
use super::{CampaignError, Settings};
use crate::plan::SkipReason;
use crate::source::Source;

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
    /// Rows that would be dialed, by what decided their zone (`column`, `number`...).
    pub zone_sources: BTreeMap<String, u64>,
    /// Rows a real run would refuse: `--window` without `--tz`, and no zone of their own.
    pub unnamed_zone_rows: u64,
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
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<DryRun, CampaignError> {
    let source = Source::open(csv, &settings.source_options())?;
    let planner = settings.planner(campaign, source.headers())?;
    let cfg = settings.dispatch_config(None)?;
    let zones = cfg.zone_rules(now);
    let mut report = DryRun {
        delimiter: match source.delimiter() {
            b'\t' => "\\t".into(),
            d => (d as char).to_string(),
        },
        encoding: source.encoding_name().to_string(),
        mapping: planner
            .mapping()
            .described()
            .map(|(c, f)| (c.to_string(), f))
            .collect(),
        ..DryRun::default()
    };
    let mut seen = Seen::default();
    let examples_done = AtomicBool::new(false);
    let judge = Judge {
        planner: &planner,
        schedule: cfg.window.as_ref(),
        zones: &zones,
        now,
        examples_done: &examples_done,
    };
    let read_error = judge_in_order(source, &judge, stop, |line, verdict| {
        report.rows += 1;
        let (key, outside_window, zone_source, example) = match verdict {
            Verdict::Skip { reason, detail } => return report.skip(line, reason, detail),
            Verdict::Call {
                key,
                outside_window,
                zone_source,
                example,
            } => (key, outside_window, zone_source, example),
        };
        // A repeat of an earlier row must not supply an example; later repeats are found
        // and taken back out of these counts once the file is read.
        let example = example.filter(|_| !seen.seen_before(&key));
        if let Some(first) = seen.add(key, line, outside_window, zone_source) {
            let detail = format!("same number as line {first}");
            return report.skip(line, SkipReason::Duplicate, detail);
        }
        report.would_dial += 1;
        report.outside_window_now += u64::from(outside_window);
        *report
            .zone_sources
            .entry(zone_source.as_str().to_string())
            .or_default() += 1;
        if let Some(body) = example.filter(|_| report.first_requests.len() < EXAMPLES) {
            report.first_requests.push(body);
            if report.first_requests.len() == EXAMPLES {
                examples_done.store(true, Ordering::Relaxed);
            }
        }
    });
    if let Some(e) = read_error {
        return Err(e.into());
    }
    if stop() {
        return Err(CampaignError::Interrupted);
    }
    report.take_back(seen.repeats());
    if cfg.window.is_some() && !cfg.tz_named {
        report.unnamed_zone_rows = report.zone_sources.get("default").copied().unwrap_or(0);
    }
    Ok(report)
}

impl DryRun {
    /// Moves the repeats found at the end from "would dial" to skipped `duplicate`, and
    /// lists them among the first skipped rows in line order.
    fn take_back(&mut self, repeats: Vec<Repeat>) {
        if repeats.is_empty() {
            return;
        }
        let reason = SkipReason::Duplicate.to_string();
        let listed_before = self.skipped_rows.len() as u64;
        let mut rows = Vec::with_capacity(LISTED);
        let mut earlier = std::mem::take(&mut self.skipped_rows)
            .into_iter()
            .peekable();
        for r in &repeats {
            self.would_dial -= 1;
            self.outside_window_now -= u64::from(r.outside_window);
            if let Some(n) = self.zone_sources.get_mut(r.zone_source.as_str()) {
                *n -= 1;
            }
            while rows.len() < LISTED {
                match earlier.next_if(|e| e.0 < r.line) {
                    Some(e) => rows.push(e),
                    None => break,
                }
            }
            if rows.len() < LISTED {
                rows.push((
                    r.line,
                    reason.clone(),
                    format!("same number as line {}", r.first),
                ));
            }
        }
        rows.extend(earlier.take(LISTED - rows.len()));
        self.zone_sources.retain(|_, n| *n > 0);
        *self.skipped.entry(reason).or_default() += repeats.len() as u64;
        let total = listed_before + self.skipped_not_listed + repeats.len() as u64;
        self.skipped_not_listed = total - rows.len() as u64;
        self.skipped_rows = rows;
    }

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
            let (column, field) = (crate::text::cell(column), crate::text::cell(field));
            out.push_str(&format!("  {column} -> {field}\n"));
        }
        out.push_str(&format!("would dial: {}\n", self.would_dial));
        if self.outside_window_now > 0 {
            out.push_str(&format!(
                "  of which outside their calling window right now: {}\n",
                self.outside_window_now
            ));
        }
        if !self.zone_sources.is_empty() {
            let by: Vec<String> = self
                .zone_sources
                .iter()
                .map(|(source, n)| format!("{source} {n}"))
                .collect();
            out.push_str(&format!("  zone from: {}\n", by.join(", ")));
        }
        if self.unnamed_zone_rows > 0 {
            out.push_str(&format!(
                "  {} of them have no zone of their own: a real run refuses --window for them \
                 without --tz ZONE\n",
                self.unnamed_zone_rows
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
                let detail = crate::text::escape_controls(detail);
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
