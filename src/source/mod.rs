//! Streaming CSV reading: encodings, delimiter sniffing, physical line numbers.
//!
//! [`CsvSource`] turns a file (or any reader) into [`SourceRecord`]s one at a time, so memory
//! does not grow with the number of rows and dialing can start before the file is read to its
//! end. A bad row (wrong number of fields, undecodable bytes) is a [`SourceRecord::Malformed`]
//! carrying its raw text, never an error: only what stops the whole file is a [`SourceError`].
//!
//! The layers, outermost first: [`decode`] (BOM / label -> UTF-8 bytes), [`sniff`] (which
//! delimiter), [`records`] (csv-core, line numbers, bounded buffers), and this file, which
//! checks each record's shape and encoding and makes strings of it.
//!
//! An I/O error part-way through (a failing disk, a broken pipe; not a decoding problem) ends
//! the iteration early; the caller must then call [`CsvSource::take_error`] to tell "the file
//! ended" from "the file could not be read to its end".

mod decode;
mod error;
mod records;
mod sniff;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_inline;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use encoding_rs::Encoding;

pub use error::SourceError;
use records::{MAX_RECORD_BYTES, RecordReader};

/// How to read the file; the default sniffs the delimiter and detects the encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// Force this delimiter instead of sniffing it from the header line.
    pub delimiter: Option<u8>,
    /// A WHATWG encoding label (`windows-1252`, `shift_jis`, ...) for files without a BOM.
    /// A byte-order mark in the file wins over it.
    pub encoding: Option<String>,
}

/// One record of the file, named by the physical line it starts on (the header is line 1).
#[derive(Debug, Clone, PartialEq)]
pub enum SourceRecord {
    /// A well-formed row: one field per header, values exactly as in the file.
    Row { line: u64, fields: Vec<String> },
    /// A record that cannot be a row. `raw` is its text re-joined with the delimiter (quoted
    /// where needed; undecodable bytes shown as U+FFFD), `reason` one sentence saying why.
    Malformed {
        line: u64,
        raw: String,
        reason: String,
    },
}

impl SourceRecord {
    /// The physical line the record starts on.
    pub fn line(&self) -> u64 {
        match self {
            SourceRecord::Row { line, .. } | SourceRecord::Malformed { line, .. } => *line,
        }
    }
}

/// A streaming reader of CSV records; see the module documentation.
pub struct CsvSource {
    records: RecordReader,
    headers: Vec<String>,
    delimiter: u8,
    encoding: &'static Encoding,
    /// The I/O error that ended iteration early, until taken.
    error: Option<SourceError>,
}

impl CsvSource {
    /// Opens `path` and reads its header line.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<CsvSource, SourceError> {
        CsvSource::from_reader(open_file(path)?, opts)
    }

    /// Reads the header line from `r`; the rest is read as the records are iterated.
    pub fn from_reader(
        r: Box<dyn Read + Send>,
        opts: &SourceOptions,
    ) -> Result<CsvSource, SourceError> {
        let (mut records, delimiter, encoding) = open_records(r, opts)?;
        records.next_record()?.ok_or(SourceError::Empty)?;
        // Each field on its own: two halves of a character split by a delimiter are not valid.
        let headers = records
            .fields()
            .map(|h| std::str::from_utf8(h).map(|h| h.trim().to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SourceError::HeaderEncoding {
                encoding: encoding.name(),
            })?;
        Ok(CsvSource {
            records,
            headers,
            delimiter,
            encoding,
            error: None,
        })
    }

    /// The column names, trimmed of surrounding whitespace.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The delimiter in use (forced or sniffed).
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The encoding the file is read as: "UTF-8", "UTF-16LE", "windows-1252", ...
    pub fn encoding_name(&self) -> &'static str {
        self.encoding.name()
    }

    /// The I/O error that ended the iteration early, if any. Call it once iteration stops:
    /// `Some` means the rows after the error's line were never read.
    pub fn take_error(&mut self) -> Option<SourceError> {
        self.error.take()
    }

    /// Turns the record just read into a row, or says why it cannot be one.
    fn current(&self, line: u64) -> SourceRecord {
        let malformed = |reason: String| SourceRecord::Malformed {
            line,
            raw: self.raw_text(),
            reason,
        };
        if self.records.overflowed() {
            return malformed(format!(
                "the record is longer than {} MiB, so a quote was probably never closed \
                 and the lines after it were read as part of this record",
                MAX_RECORD_BYTES >> 20
            ));
        }
        let found = self.records.field_count();
        if found != self.headers.len() {
            return malformed(format!(
                "expected {} fields, found {found}",
                self.headers.len()
            ));
        }
        let mut fields = Vec::with_capacity(found);
        for (i, field) in self.records.fields().enumerate() {
            // Per field, not per record: a character split in two by a delimiter is invalid.
            match std::str::from_utf8(field) {
                Ok(text) => fields.push(text.to_string()),
                Err(_) => {
                    let name = self.headers.get(i).map(String::as_str).unwrap_or("");
                    return malformed(format!(
                        "field {} ({name:?}) holds bytes that are not valid {}",
                        i + 1,
                        self.encoding.name()
                    ));
                }
            }
        }
        SourceRecord::Row { line, fields }
    }

    /// The record re-joined with the delimiter, decoded lossily.
    fn raw_text(&self) -> String {
        let mut raw = String::new();
        for (i, field) in self.records.fields().enumerate() {
            if i > 0 {
                raw.push(char::from(self.delimiter));
            }
            push_quoted(&mut raw, &String::from_utf8_lossy(field), self.delimiter);
        }
        raw
    }
}

impl Iterator for CsvSource {
    type Item = SourceRecord;

    fn next(&mut self) -> Option<SourceRecord> {
        match self.records.next_record() {
            Ok(Some(line)) => Some(self.current(line)),
            Ok(None) => None,
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// Counts the data records (not lines, not the header) of the file at `path`, as a
/// [`CsvSource`] with the same options would yield them; an empty file counts 0.
///
/// Meant to run beside the dialing for a progress-bar total: it parses bytes only, allocating
/// nothing per record or field, and streams like the reader itself.
/// Gives up (with the count so far) when `stop` says so.
pub fn count_records(
    path: &Path,
    opts: &SourceOptions,
    stop: &dyn Fn() -> bool,
) -> Result<u64, SourceError> {
    let (mut records, _, _) = open_records(open_file(path)?, opts)?;
    let mut count = 0u64;
    while records.next_record()?.is_some() {
        count += 1;
        if count.is_multiple_of(4096) && stop() {
            break;
        }
    }
    Ok(count.saturating_sub(1))
}

fn open_file(path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
    let file = File::open(path).map_err(|source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Box::new(file))
}

/// Decoding, delimiter and record loop: everything up to the first record.
fn open_records(
    r: Box<dyn Read + Send>,
    opts: &SourceOptions,
) -> Result<(RecordReader, u8, &'static Encoding), SourceError> {
    if let Some(d) = opts.delimiter
        && (!d.is_ascii() || matches!(d, b'"' | b'\r' | b'\n'))
    {
        return Err(SourceError::InvalidDelimiter {
            delimiter: char::from(d),
        });
    }
    let decoded = decode::decode(r, opts.encoding.as_deref())?;
    let (delimiter, stream) = match opts.delimiter {
        Some(d) => (d, decoded.stream),
        None => sniff::sniff_delimiter(decoded.stream)
            .map_err(|source| SourceError::Io { line: 1, source })?,
    };
    let input = BufReader::with_capacity(64 * 1024, stream);
    let records = RecordReader::new(Box::new(input), delimiter);
    Ok((records, delimiter, decoded.encoding))
}

/// Appends `field`, quoted as CSV needs it to read back as the same single field.
fn push_quoted(out: &mut String, field: &str, delimiter: u8) {
    let needs_quotes = field
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if needs_quotes {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}
