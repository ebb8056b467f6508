//! `run --dry-run`: everything up to the request (read, map, validate, normalise,
//! deduplicate, suppress, calling window) with nothing sent and nothing written. Rows are
//! planned on every core (`dry_plan`); the deduplication the ledger does in a real run is
//! done here in memory, in line order.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use serde::Serialize;

use super::dry_plan::{Judge, NumberKey, Verdict, judge_in_order};
use super::{CampaignError, Settings};
use crate::plan::SkipReason;
use crate::source::CsvSource;
use crate::zone::Window;

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
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<DryRun, CampaignError> {
    let source = CsvSource::open(csv, &settings.source_options())?;
    let planner = settings.planner(campaign, source.headers())?;
    let window: Option<Window> = settings.window;
    let default_zone = settings.default_zone();
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
        window: window.as_ref(),
        default_zone: &default_zone,
        now,
        examples_done: &examples_done,
    };
    let read_error = judge_in_order(source, &judge, stop, |line, verdict| {
        report.rows += 1;
        let (key, outside_window, example) = match verdict {
            Verdict::Skip { reason, detail } => return report.skip(line, reason, detail),
            Verdict::Call {
                key,
                outside_window,
                example,
            } => (key, outside_window, example),
        };
        if let Some(first) = seen.first_line(key, line) {
            let detail = format!("same number as line {first}");
            return report.skip(line, SkipReason::Duplicate, detail);
        }
        report.would_dial += 1;
        report.outside_window_now += u64::from(outside_window);
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
    Ok(report)
}

/// The first line of each number so far. Digits get a map of their own, so a million
/// entries take 16 bytes each instead of an enum's 32.
#[derive(Default)]
struct Seen {
    digits: HashMap<u64, u64>,
    text: HashMap<String, u64>,
}

impl Seen {
    /// The earlier line holding `key`, or `None` (and `line` is recorded) if it is new.
    fn first_line(&mut self, key: NumberKey, line: u64) -> Option<u64> {
        fn first<K: std::hash::Hash + Eq>(
            map: &mut HashMap<K, u64>,
            k: K,
            line: u64,
        ) -> Option<u64> {
            match map.entry(k) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(line);
                    None
                }
            }
        }
        match key {
            NumberKey::Digits(n) => first(&mut self.digits, n, line),
            NumberKey::Text(t) => first(&mut self.text, t, line),
        }
    }
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
