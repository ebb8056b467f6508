//! The ingest thread: streams CSV records through the planner into the ledger in batches,
//! publishing how far it got so dispatch can start on the first batch. Batches start small
//! (the first call leaves early) and grow (large files commit in few transactions).

use std::sync::Arc;
use std::thread;

use tokio::sync::watch;

use crate::dispatch::{Halt, IngestProgress};
use crate::ledger::{Ledger, LedgerError, NewRow};
use crate::plan::{Planned, Planner, SkipReason};
use crate::progress::Tally;
use crate::source::{Source, SourceRecord};
use crate::zone;

/// One row first: the first call leaves as soon as one row is planned and stored.
const FIRST_BATCH: usize = 1;
/// Paced, the writer is nearly idle between calls, and a large batch fills the ledger in
/// few commits.
const MAX_BATCH: usize = 4096;
/// Unpaced, each batch is one job that the writer runs while the calls' marks and answers
/// queue behind it: 4096 rows held them about 18 ms a batch, the request slots stood idle,
/// and calls went at half speed until the file was read. 512 rows a batch spread that
/// over the run, 4-6 % faster on 200k rows (128 was slower: the ingest fell behind the
/// calls), for a file read about 15 % slower.
const MAX_BATCH_UNPACED: usize = 512;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestSummary {
    /// Records read from the CSV in this invocation (lines already in the ledger excluded).
    pub records: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
}

/// What the ingest thread reads and how it plans it.
pub struct Input {
    pub source: Source,
    pub planner: Planner,
    /// How each row's zone is chosen.
    pub zones: zone::Rules,
    /// Skipped rows are counted here for the progress display.
    pub tally: Arc<Tally>,
    /// Reading stops when the dispatch stops (Ctrl-C included), whatever the file's size.
    pub halt: Halt,
    /// The calls are not paced (`--rate unlimited`): smaller batches (see
    /// [`MAX_BATCH_UNPACED`]).
    pub unpaced: bool,
}

pub type IngestHandle = thread::JoinHandle<Result<IngestSummary, IngestError>>;

/// Starts reading `source` on its own thread. Records on lines up to `skip_through` are
/// already in the ledger (an earlier, interrupted ingest) and are passed over.
pub fn spawn(
    ledger: Ledger,
    campaign_id: i64,
    input: Input,
    skip_through: u64,
    progress: watch::Sender<IngestProgress>,
) -> IngestHandle {
    thread::Builder::new()
        .name("ingest".into())
        .spawn(move || {
            let result = ingest(&ledger, campaign_id, input, skip_through, &progress);
            // Dropping `progress` tells the feed no more rows will come, even on failure.
            drop(progress);
            result
        })
        .expect("spawn the ingest thread")
}

fn ingest(
    ledger: &Ledger,
    campaign_id: i64,
    input: Input,
    skip_through: u64,
    progress: &watch::Sender<IngestProgress>,
) -> Result<IngestSummary, IngestError> {
    let Input {
        mut source,
        planner,
        zones,
        tally,
        halt,
        unpaced,
    } = input;
    let max_batch = if unpaced {
        MAX_BATCH_UNPACED
    } else {
        MAX_BATCH
    };
    let mut summary = IngestSummary::default();
    let mut batch = Vec::with_capacity(FIRST_BATCH);
    let mut batch_size = FIRST_BATCH;
    let mut total = skip_through_count(ledger, campaign_id, skip_through)?;
    let (metadata, tags) = planner.request_keys();
    ledger.record_request_keys_blocking(campaign_id, metadata, tags)?;
    for record in source.by_ref() {
        if halt.is_stopped() && halt.reason().is_none_or(|r| r.stops_reading()) {
            // What was read is stored; the campaign stays un-ingested, so the next run
            // reads on from the last stored line.
            flush(ledger, campaign_id, &mut batch, progress, total, &tally)?;
            return Ok(summary);
        }
        if record.line() <= skip_through {
            continue;
        }
        summary.records += 1;
        batch.push(to_row(&planner, record, &zones));
        if batch.len() >= batch_size {
            total += flush(ledger, campaign_id, &mut batch, progress, total, &tally)?;
            batch_size = (batch_size * 4).min(max_batch);
        }
    }
    total += flush(ledger, campaign_id, &mut batch, progress, total, &tally)?;
    if let Some(e) = source.take_error() {
        // The file broke mid-way: keep what was read and leave the campaign un-ingested,
        // so running the same command again reads on from the last stored line.
        return Err(IngestError::Source(e));
    }
    ledger.mark_ingested_blocking(campaign_id, total)?;
    progress.send_replace(IngestProgress {
        rows: total,
        done: true,
    });
    Ok(summary)
}

fn skip_through_count(ledger: &Ledger, campaign_id: i64, skip: u64) -> Result<u64, LedgerError> {
    if skip == 0 {
        return Ok(0);
    }
    Ok(ledger.counts(campaign_id)?.total)
}

fn flush(
    ledger: &Ledger,
    campaign_id: i64,
    batch: &mut Vec<NewRow>,
    progress: &watch::Sender<IngestProgress>,
    before: u64,
    tally: &Tally,
) -> Result<u64, LedgerError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let n = batch.len() as u64;
    let inserted = ledger.insert_rows_blocking(campaign_id, std::mem::take(batch))?;
    Tally::add(&tally.skipped, inserted.skipped);
    progress.send_replace(IngestProgress {
        rows: before + n,
        done: false,
    });
    Ok(n)
}

/// One source record as a ledger row: planned, or kept raw when malformed.
pub fn to_row(planner: &Planner, record: SourceRecord, zones: &zone::Rules) -> NewRow {
    match record {
        SourceRecord::Malformed { line, raw, reason } => NewRow {
            line,
            e164: None,
            request: None,
            timezone: None,
            zone_source: None,
            skip: Some((SkipReason::MalformedRow, reason)),
            raw: Some(raw),
            // Its cells may not line up with the header, so they name no one for sure.
            contact: None,
            alt_numbers: Vec::new(),
        },
        SourceRecord::Row { line, fields } => match planner.plan(line, &fields) {
            Planned::Call(call) => {
                let (zone, why) = match zones.resolve(call.place()) {
                    Ok(found) => found,
                    Err(unknown) => {
                        return unknown_zone(planner, line, &fields, call.e164, unknown);
                    }
                };
                NewRow {
                    line,
                    request: Some(
                        serde_json::to_string(&call.request).expect("a request always serialises"),
                    ),
                    e164: Some(call.e164),
                    timezone: Some(zone.to_string()),
                    zone_source: Some(why.as_str()),
                    skip: None,
                    raw: None,
                    contact: None,
                    alt_numbers: call.alt_numbers,
                }
            }
            // A skipped row keeps its cells, so nothing the user gave is lost.
            Planned::Skip {
                reason,
                detail,
                e164,
            } => NewRow {
                line,
                e164,
                request: None,
                timezone: None,
                zone_source: None,
                contact: serde_json::to_string(&planner.contact(line, &fields)).ok(),
                skip: Some((reason, detail)),
                raw: Some(join_record(&fields).into_bytes()),
                alt_numbers: Vec::new(),
            },
        },
    }
}

/// A dialable row that no zone can be chosen for: skipped, keeping its candidate zones so
/// the report shows why.
fn unknown_zone(
    planner: &Planner,
    line: u64,
    fields: &[String],
    e164: String,
    unknown: zone::UnknownZone,
) -> NewRow {
    NewRow {
        line,
        request: None,
        timezone: Some(unknown.zones.to_string()),
        zone_source: Some(zone::ZoneSource::Number.as_str()),
        contact: serde_json::to_string(&planner.contact(line, fields)).ok(),
        skip: Some((SkipReason::UnknownZone, format!("{e164}: {unknown}."))),
        raw: Some(join_record(fields).into_bytes()),
        e164: Some(e164),
        alt_numbers: Vec::new(),
    }
}

/// The cells as one CSV record (comma-separated, quoted where needed).
fn join_record(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::plan::{Mapping, PlanOptions, SuppressList};
    use crate::source::SourceOptions;

    fn planner(headers: &[String]) -> Option<Planner> {
        let mapping = Mapping::from_headers(headers, &[]).ok()?;
        let opts = PlanOptions {
            campaign: "p".into(),
            default_region: None,
            template: None,
            no_create: false,
            update_existing: false,
            meta: Vec::new(),
        };
        Planner::new(mapping, opts, SuppressList::empty()).ok()
    }

    proptest! {
        // Any bytes after a phone header: no panic, and every record the source yields
        // becomes exactly one ledger row that is either dialable (a request) or skipped
        // with a reason. Nothing the user gave is dropped.
        #[test]
        fn every_record_becomes_a_request_or_a_skip(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut bytes = b"phone,name,email\n".to_vec();
            bytes.extend_from_slice(&body);
            let Ok(mut source) = crate::source::CsvSource::from_reader(Box::new(std::io::Cursor::new(bytes)), &SourceOptions::default()) else {
                return Ok(());
            };
            let planner = planner(source.headers()).expect("a phone column");
            let mut lines = Vec::new();
            for record in source.by_ref() {
                let line = record.line();
                let row = to_row(&planner, record, &zone::Rules::new(None, None, "UTC", jiff::Timestamp::UNIX_EPOCH));
                prop_assert_eq!(row.line, line);
                match (&row.request, &row.skip) {
                    (Some(body), None) => prop_assert!(serde_json::from_str::<serde_json::Value>(body).is_ok()),
                    (None, Some((_, detail))) => prop_assert!(!detail.is_empty()),
                    other => prop_assert!(false, "neither or both: {:?}", other),
                }
                if row.skip.is_some() {
                    prop_assert!(row.raw.is_some(), "a skipped row keeps its cells");
                }
                lines.push(line);
            }
            prop_assert!(lines.windows(2).all(|w| w[0] < w[1]));
        }

        #[test]
        fn arbitrary_phone_cells_never_panic(cell in ".{0,40}") {
            let planner = planner(&["phone".to_string()]).unwrap();
            let record = SourceRecord::Row { line: 2, fields: vec![cell] };
            let row = to_row(&planner, record, &zone::Rules::new(None, None, "UTC", jiff::Timestamp::UNIX_EPOCH));
            prop_assert!(row.request.is_some() != row.skip.is_some());
        }
    }
}
