//! Re-reads a campaign's file under new settings and re-plans, in line order and in
//! batches, the stored rows not yet dialed. The file is proved unchanged first (its
//! SHA-256), so a stored line and a re-read line are the same record.

use std::path::Path;

use super::file;
use super::ingest::to_row;
use super::{CampaignError, Settings};
use crate::ledger::{Campaign, Ledger, Replanned, RowState};
use crate::source::Source;

/// Rows per transaction: large enough to be quick, small enough not to hold the writer.
const BATCH: usize = 2048;

/// The states a re-plan may change: rows never dialed, and rows waiting for a retry of a
/// request that placed no call.
pub const NOT_DIALED: [RowState; 3] = [RowState::Pending, RowState::RetryWait, RowState::Skipped];

/// Re-plans the rows of `campaign` in [`NOT_DIALED`] states from the file at `path`.
pub fn replan(
    ledger: &Ledger,
    campaign: &Campaign,
    path: &Path,
    settings: &Settings,
    stop: &dyn Fn() -> bool,
) -> Result<Replanned, CampaignError> {
    let mut proof = campaign.clone();
    proof.csv_path = path.display().to_string();
    file::check_unchanged(&proof, stop)?;
    let mut source = Source::open(path, &settings.source_options())?;
    let planner = settings.planner(&campaign.name, source.headers())?;
    let zones = settings
        .dispatch_config(None)?
        .zone_rules(jiff::Timestamp::now());
    let (metadata, tags) = planner.request_keys();
    ledger.record_request_keys_blocking(campaign.id, metadata, tags)?;
    let mut done = Replanned::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<_>| -> Result<(), CampaignError> {
        let rows = std::mem::take(batch);
        done.add(ledger.replan_rows_blocking(campaign.id, rows, NOT_DIALED.to_vec())?);
        Ok(())
    };
    for record in source.by_ref() {
        if stop() {
            // Every batch committed is whole; running again re-plans the rest.
            return Err(CampaignError::Interrupted);
        }
        batch.push(to_row(&planner, record, &zones));
        if batch.len() >= BATCH {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    if let Some(e) = source.take_error() {
        return Err(e.into());
    }
    Ok(done)
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
