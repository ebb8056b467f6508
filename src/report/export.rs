//! `dialer report`: streams a campaign's rows from the ledger into one of the five formats.
//! Rows are read one at a time and written at once, so memory stays flat however large
//! the campaign (the CSV header's metadata columns come from keys recorded at ingest).

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use std::ops::ControlFlow;

use super::csv::{Columns, CsvOut};
use super::html;
use super::record::StatusFilter;
use super::summary::{Summary, rfc3339};
use super::xlsx;
use super::{ReportError, each_record};
use crate::api::types::{META_CAMPAIGN, META_ROW};
use crate::ledger::{Campaign, Ledger};

/// The output formats of `dialer report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
    Json,
    Html,
    /// A workbook; needs `--out`, since a zip cannot be streamed to a pipe.
    Xlsx,
}

impl Format {
    /// The format a file name asks for by its extension (`.csv`, `.jsonl`, `.json`,
    /// `.html`/`.htm`, `.xlsx`), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// What to report and how.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub format: Format,
    pub status: StatusFilter,
    /// Add the call transcript as a CSV column (jsonl/json always carry it).
    pub with_transcript: bool,
    /// The metadata or `tag:` column the HTML report breaks results down by.
    pub by: Option<String>,
}

/// The campaign as the `json` report names it.
#[derive(Debug, Serialize)]
struct CampaignInfo<'a> {
    name: &'a str,
    csv_path: &'a str,
    csv_sha256: &'a str,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    total_rows: Option<i64>,
    settings: serde_json::Value,
}

impl<'a> CampaignInfo<'a> {
    fn new(c: &'a Campaign) -> CampaignInfo<'a> {
        CampaignInfo {
            name: &c.name,
            csv_path: &c.csv_path,
            csv_sha256: &c.csv_sha256,
            created_at: rfc3339(c.created_at),
            started_at: c.started_at.map(rfc3339),
            finished_at: c.finished_at.map(rfc3339),
            total_rows: c.total_rows,
            settings: serde_json::from_str(&c.settings).unwrap_or(serde_json::Value::Null),
        }
    }
}

fn json_line(out: &mut impl Write, v: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    Ok(())
}

/// Writes the report of `campaign` in `opts.format` to `out`.
pub fn write_report(
    ledger: &Ledger,
    campaign: &Campaign,
    opts: &ReportOptions,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    let id = campaign.id;
    let filter = &opts.status;
    match opts.format {
        Format::Csv => {
            let cols = columns(ledger, id, opts.with_transcript)?;
            let mut w = CsvOut::new(&mut *out);
            let csv_err = |e: csv::Error| ReportError::Write(e.into());
            w.write(&cols.header()).map_err(csv_err)?;
            each_record(ledger, id, filter, |r| {
                w.write_with_raw(&cols.cells(&r), r.raw_bytes.as_deref())
                    .map_err(io::Error::from)?;
                Ok(ControlFlow::Continue(()))
            })?;
            w.finish().map_err(ReportError::Write)?;
        }
        Format::Jsonl => {
            each_record(ledger, id, filter, |r| {
                json_line(out, &r)?;
                out.write_all(b"\n")?;
                Ok(ControlFlow::Continue(()))
            })?;
        }
        Format::Json => {
            let summary = Summary::load(ledger, campaign)?;
            let mut head = || -> io::Result<()> {
                out.write_all(b"{\"campaign\":")?;
                json_line(out, &CampaignInfo::new(campaign))?;
                out.write_all(b",\n\"summary\":")?;
                json_line(out, &summary)?;
                out.write_all(b",\n\"rows\":[")
            };
            head().map_err(ReportError::Write)?;
            let mut first = true;
            each_record(ledger, id, filter, |r| {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                json_line(out, &r)?;
                Ok(ControlFlow::Continue(()))
            })?;
            out.write_all(b"\n]}\n").map_err(ReportError::Write)?;
        }
        Format::Html => html::write(ledger, campaign, &html::HtmlOptions::report(opts), out)?,
        Format::Xlsx => return Err(ReportError::NeedsFile),
    }
    out.flush().map_err(ReportError::Write)
}

/// The columns of the CSV and xlsx reports: the fixed ones, then the metadata keys and
/// tags the rows were sent with (the dialer's own two keys left out).
fn columns(ledger: &Ledger, id: i64, transcript: bool) -> Result<Columns, ReportError> {
    let keys = ledger.request_keys(id)?;
    let mut cols = Columns {
        transcript,
        metadata: keys.metadata,
        tags: keys.tags,
    };
    cols.metadata.remove(META_CAMPAIGN);
    cols.metadata.remove(META_ROW);
    Ok(cols)
}

/// Writes the report to `path` through a temporary file beside it, renamed into place at the
/// end: a failed or interrupted report never leaves a half-written file, and an existing
/// file is replaced only with `force`.
pub fn write_report_file(
    ledger: &Ledger,
    campaign: &Campaign,
    opts: &ReportOptions,
    path: &Path,
    force: bool,
) -> Result<(), ReportError> {
    if !force && path.exists() {
        return Err(ReportError::Exists(path.to_path_buf()));
    }
    let create = |source| ReportError::Create {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A temporary file is private (0600) by default; the report is an ordinary file.
    let tmp = tempfile::Builder::new()
        .prefix(".dialer-report-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(create)?;
    let tmp = if opts.format == Format::Xlsx {
        let cols = columns(ledger, campaign.id, opts.with_transcript)?;
        xlsx::write(ledger, campaign, &opts.status, cols, tmp.path())?;
        tmp
    } else {
        let mut out = io::BufWriter::new(tmp);
        write_report(ledger, campaign, opts, &mut out)?;
        out.into_inner()
            .map_err(|e| ReportError::Write(e.into_error()))?
    };
    let persisted = if force {
        tmp.persist(path).map(drop)
    } else {
        // Another process may have created the file meanwhile: still never overwrite it.
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| match e.error.kind() {
        io::ErrorKind::AlreadyExists => ReportError::Exists(path.to_path_buf()),
        _ => create(e.error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.HTML")), Some(Format::Html));
        assert_eq!(Format::from_path(Path::new("r.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::from_path(Path::new("r.json")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("r.csv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("r.XLSX")), Some(Format::Xlsx));
        assert_eq!(Format::from_path(Path::new("report")), None);
        assert_eq!(Format::from_path(Path::new("r.txt")), None);
    }
}
