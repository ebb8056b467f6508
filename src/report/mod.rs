//! What users read: the campaign summary (end of `run`, `status`) as a table or JSON, and
//! the `dialer report` exports (csv, jsonl, json, html, xlsx). The items every format
//! shares (the error type and the record stream) live here, so the formats depend on this
//! module and never on each other.

pub mod csv;
pub mod export;
pub mod html;
pub mod record;
mod summary;
mod xlsx;

use std::io;
use std::ops::ControlFlow;
use std::path::PathBuf;

pub use export::{Format, ReportOptions, write_report, write_report_file};
pub use record::{Record, StatusFilter};
pub use summary::{CampaignLine, Figure, Funnel, Summary, rfc3339};

use crate::ledger::{Ledger, LedgerError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot write the report: {0}")]
    Write(#[source] io::Error),
    #[error("cannot write the xlsx report: {0}")]
    Xlsx(String),
    #[error(
        "the report has more than the {0} rows an Excel sheet holds; narrow it with --status \
         or use --format csv"
    )]
    TooManyRows(u32),
    #[error("an xlsx report is a file, not a stream: pass --out FILE.xlsx")]
    NeedsFile,
    #[error("{} already exists; pass --force to overwrite it, or choose another --out", .0.display())]
    Exists(PathBuf),
    #[error(
        "cannot create the report file {}: {source}; check that its folder exists and is writable",
        path.display()
    )]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ReportError {
    /// True when the reader went away (`dialer report ... | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ReportError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Streams the campaign's records that pass `filter` to `f`, in line order, until `f`
/// breaks or fails; a failure to write is returned as [`ReportError::Write`].
pub fn each_record(
    ledger: &Ledger,
    campaign_id: i64,
    filter: &StatusFilter,
    mut f: impl FnMut(Record) -> io::Result<ControlFlow<()>>,
) -> Result<(), ReportError> {
    let stopped = ledger.for_each_row(campaign_id, |row| {
        if !filter.keeps(row.state) {
            return ControlFlow::Continue(());
        }
        match f(Record::from_row(row)) {
            Ok(ControlFlow::Continue(())) => ControlFlow::Continue(()),
            Ok(ControlFlow::Break(())) => ControlFlow::Break(None),
            Err(e) => ControlFlow::Break(Some(e)),
        }
    })?;
    match stopped.flatten() {
        Some(e) => Err(ReportError::Write(e)),
        None => Ok(()),
    }
}
