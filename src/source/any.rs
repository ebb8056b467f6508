//! [`Source`]: the contact file whatever its kind, chosen from its content ([`kind`]), so
//! the ingest, the dry run and resume open one type and get the same records from a CSV and
//! from a workbook.

use std::path::Path;

use super::kind::{self, FileKind};
use super::sheet::{self, SheetSource};
use super::{CsvSource, SourceError, SourceOptions, SourceRecord};

/// A contact file being read: delimited text or one sheet of a workbook.
pub enum Source {
    /// Boxed: the CSV reader's buffers would make every `Source` as large as it.
    Csv(Box<CsvSource>),
    Sheet(SheetSource),
}

impl Source {
    /// Opens `path` as what its first bytes say it is and reads its header.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Source, SourceError> {
        match kind::detect(path)? {
            FileKind::Text => CsvSource::open(path, opts).map(|s| Source::Csv(Box::new(s))),
            k => SheetSource::open(path, k, opts.sheet.as_deref()).map(Source::Sheet),
        }
    }

    /// The column names, trimmed of surrounding whitespace.
    pub fn headers(&self) -> &[String] {
        match self {
            Source::Csv(s) => s.headers(),
            Source::Sheet(s) => s.headers(),
        }
    }

    /// The delimiter of a CSV; a comma for a sheet, whose raw rows are written with one.
    pub fn delimiter(&self) -> u8 {
        match self {
            Source::Csv(s) => s.delimiter(),
            Source::Sheet(_) => b',',
        }
    }

    /// How the file is read: a CSV's encoding, or a workbook's kind and sheet.
    pub fn encoding_name(&self) -> &str {
        match self {
            Source::Csv(s) => s.encoding_name(),
            Source::Sheet(s) => s.description(),
        }
    }

    /// The error that ended the iteration early, if any; see [`CsvSource::take_error`].
    pub fn take_error(&mut self) -> Option<SourceError> {
        match self {
            Source::Csv(s) => s.take_error(),
            Source::Sheet(s) => s.take_error(),
        }
    }
}

impl Iterator for Source {
    type Item = SourceRecord;

    fn next(&mut self) -> Option<SourceRecord> {
        match self {
            Source::Csv(s) => s.next(),
            Source::Sheet(s) => s.next(),
        }
    }
}

/// Counts the data records of the file at `path`, as a [`Source`] with the same options
/// would yield them; see [`super::count_csv_records`].
pub fn count_records(
    path: &Path,
    opts: &SourceOptions,
    stop: &dyn Fn() -> bool,
) -> Result<u64, SourceError> {
    match kind::detect(path)? {
        FileKind::Text => super::count_csv_records(path, opts, stop),
        k => sheet::count_records(path, k, opts.sheet.as_deref()),
    }
}
