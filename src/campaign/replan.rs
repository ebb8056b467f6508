//! Re-reads a campaign's file under new settings and re-plans, in line order and in
//! batches, the stored rows not yet dialed. The file is proved unchanged first (its
//! SHA-256), so a stored line and a re-read line are the same record.

use std::path::Path;

use super::alone::{self, Alone};
use super::changes::Change;
use super::file;
use super::ingest::to_row;
use super::{CampaignError, Settings};
use crate::ledger::{Campaign, Ledger, NewRow, Replanned, RowState};
use crate::source::Source;

/// Rows per transaction: large enough to be quick, small enough not to hold the writer.
const BATCH: usize = 2048;

/// The states a re-plan may change: rows never dialed, and rows waiting for a retry of a
/// request that placed no call.
pub const NOT_DIALED: [RowState; 3] = [RowState::Pending, RowState::RetryWait, RowState::Skipped];

/// What a re-plan is asked for: the settings it plans with and, when several settings
/// changed at once, the settings they replace (to count each change's rows alone).
pub struct Ask<'a> {
    pub settings: &'a Settings,
    pub alone: Option<(&'a Settings, &'a [Change])>,
}

/// What a re-plan did, in all and (when asked) per changed setting.
pub struct Done {
    pub all: Replanned,
    /// Changed setting -> rows it alone changes.
    pub alone: Vec<(String, u64)>,
}

/// Re-plans the rows of `campaign` in [`NOT_DIALED`] states from the file at `path`.
pub fn replan(
    ledger: &Ledger,
    campaign: &Campaign,
    path: &Path,
    ask: Ask<'_>,
    stop: &dyn Fn() -> bool,
) -> Result<Done, CampaignError> {
    let mut proof = campaign.clone();
    proof.csv_path = path.display().to_string();
    file::check_unchanged(&proof, stop)?;
    let settings = ask.settings;
    let mut source = Source::open(path, &settings.source_options())?;
    let planner = settings.planner(&campaign.name, source.headers())?;
    let zones = settings
        .dispatch_config(None)?
        .zone_rules(jiff::Timestamp::now());
    let mut alone = match ask.alone {
        Some((old, changes)) => {
            alone::planners(&campaign.name, old, settings, changes, source.headers())?
        }
        None => Vec::new(),
    };
    let (metadata, tags) = planner.request_keys();
    ledger.record_request_keys_blocking(campaign.id, metadata, tags)?;
    let mut all = Replanned::default();
    let mut batch = Batch::default();
    batch.alone.resize_with(alone.len(), Vec::new);
    for record in source.by_ref() {
        if stop() {
            // Every batch committed is whole; running again re-plans the rest.
            return Err(CampaignError::Interrupted);
        }
        for (a, rows) in alone.iter().zip(batch.alone.iter_mut()) {
            rows.push(a.plan(record.clone()));
        }
        batch.rows.push(to_row(&planner, record, &zones));
        if batch.rows.len() >= BATCH {
            all.add(batch.flush(ledger, campaign.id, &mut alone)?);
        }
    }
    all.add(batch.flush(ledger, campaign.id, &mut alone)?);
    if let Some(e) = source.take_error() {
        return Err(e.into());
    }
    let alone = alone.into_iter().map(|a| (a.key, a.rows)).collect();
    Ok(Done { all, alone })
}

/// Records planned and not yet applied, under the new settings and under each change alone.
#[derive(Default)]
struct Batch {
    rows: Vec<NewRow>,
    alone: Vec<Vec<NewRow>>,
}

impl Batch {
    /// Counts what each change alone would do (against the rows as stored), then applies
    /// the batch in one transaction.
    fn flush(
        &mut self,
        ledger: &Ledger,
        campaign_id: i64,
        alone: &mut [Alone],
    ) -> Result<Replanned, CampaignError> {
        let (Some(first), Some(last)) = (self.rows.first(), self.rows.last()) else {
            return Ok(Replanned::default());
        };
        if !alone.is_empty() {
            let stored = ledger.stored_verdicts(campaign_id, first.line, last.line)?;
            for (a, rows) in alone.iter_mut().zip(self.alone.iter_mut()) {
                a.count(rows, &stored);
                rows.clear();
            }
        }
        let rows = std::mem::take(&mut self.rows);
        Ok(ledger.replan_rows_blocking(campaign_id, rows, NOT_DIALED.to_vec())?)
    }
}

/// How many records of the file at `path` lie after `line` (the rows a grown file adds).
pub fn count_after(
    path: &Path,
    settings: &Settings,
    line: u64,
    stop: &dyn Fn() -> bool,
) -> Result<u64, CampaignError> {
    let mut source = Source::open(path, &settings.source_options())?;
    let mut n = 0;
    for record in source.by_ref() {
        if stop() {
            return Err(CampaignError::Interrupted);
        }
        n += u64::from(record.line() > line);
    }
    if let Some(e) = source.take_error() {
        return Err(e.into());
    }
    Ok(n)
}
