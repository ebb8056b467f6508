//! Do-not-call lists (`--suppress FILE`): E.164 numbers that are never dialed, read from
//! files of one number a line, from CSVs with a phone column, or from workbooks.

use std::collections::HashSet;
use std::path::Path;

use phonenumber::country::Id;

use crate::source::kind::{self, FileKind};
use crate::source::sheet::SheetSource;
use crate::source::{SourceError, SourceRecord};

use super::mapping::{auto_field, looks_like_number};
use super::number::{normalize_number, parses};
use super::{Field, PlanError, quote_list};

/// Every suppressed number, in E.164.
#[derive(Debug, Clone, Default)]
pub struct SuppressList {
    numbers: HashSet<String>,
}

/// What one file contributed, for the start-of-run summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressStats {
    /// Entries that normalised to a valid number (repeats included).
    pub numbers: usize,
    /// Non-empty entries that are not valid numbers: counted, not fatal.
    pub rejected: usize,
    /// The CSV column the numbers came from; `None` for a file of one number a line.
    pub column: Option<String>,
}

impl SuppressList {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds one file's numbers. If its first non-empty line is a phone number (digits and
    /// phone punctuation only, or anything libphonenumber parses that has no delimiter), the
    /// file is one number a line, and lines starting with `#` are comments. Otherwise it is a
    /// CSV (delimiter sniffed from the header line) whose phone column is found by the
    /// contacts' auto-mapping. UTF-8 with or without BOM, and UTF-16 with BOM, are read.
    pub fn load(&mut self, path: &Path, region: Option<Id>) -> Result<SuppressStats, PlanError> {
        let sheet_error = |source| match source {
            SourceError::Open { source, .. } => PlanError::SuppressIo {
                path: path.to_owned(),
                source,
            },
            source => PlanError::SuppressSheet {
                path: path.to_owned(),
                source,
            },
        };
        match kind::detect(path).map_err(sheet_error)? {
            FileKind::Text => {}
            k => return self.load_sheet(path, k, region).map_err(sheet_error)?,
        }
        let bytes = std::fs::read(path).map_err(|source| PlanError::SuppressIo {
            path: path.to_owned(),
            source,
        })?;
        let (text, _, _) = encoding_rs::UTF_8.decode(&bytes);
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        match first {
            None => Ok(SuppressStats {
                numbers: 0,
                rejected: 0,
                column: None,
            }),
            Some(line) if is_number_line(line, region) => Ok(self.load_lines(&text, region)),
            Some(line) => self.load_csv(path, &text, sniff_delimiter(line), region),
        }
    }

    pub fn contains(&self, e164: &str) -> bool {
        self.numbers.contains(e164)
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    fn load_lines(&mut self, text: &str, region: Option<Id>) -> SuppressStats {
        let mut stats = SuppressStats {
            numbers: 0,
            rejected: 0,
            column: None,
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add(line, region, &mut stats);
        }
        stats
    }

    fn load_csv(
        &mut self,
        path: &Path,
        text: &str,
        delimiter: u8,
        region: Option<Id>,
    ) -> Result<SuppressStats, PlanError> {
        let csv_error = |source| PlanError::SuppressCsv {
            path: path.to_owned(),
            source,
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(csv_error)?.clone();
        let Some(column) = headers
            .iter()
            .position(|h| auto_field(h) == Field::NumberToCall)
        else {
            return Err(PlanError::SuppressNoPhoneColumn {
                path: path.to_owned(),
                headers: quote_list(headers.iter().map(str::trim)),
            });
        };
        let mut stats = SuppressStats {
            numbers: 0,
            rejected: 0,
            column: Some(headers[column].trim().to_owned()),
        };
        for record in reader.records() {
            match record {
                Ok(record) => {
                    let cell = record.get(column).unwrap_or("").trim();
                    if !cell.is_empty() {
                        self.add(cell, region, &mut stats);
                    }
                }
                // A broken record in a list we only read from is one entry lost, not a
                // reason to refuse the whole list.
                Err(_) => stats.rejected += 1,
            }
        }
        Ok(stats)
    }

    /// A workbook's first sheet with data: its phone column, or column A when the first
    /// cell is itself a number (a sheet of numbers with no header).
    fn load_sheet(
        &mut self,
        path: &Path,
        kind: FileKind,
        region: Option<Id>,
    ) -> Result<Result<SuppressStats, PlanError>, SourceError> {
        let mut sheet = SheetSource::open(path, kind, None)?;
        let headers = sheet.headers().to_vec();
        let mut stats = SuppressStats {
            numbers: 0,
            rejected: 0,
            column: None,
        };
        let column = match headers
            .iter()
            .position(|h| auto_field(h) == Field::NumberToCall)
        {
            Some(c) => {
                stats.column = Some(headers[c].clone());
                c
            }
            None if headers.first().is_some_and(|h| is_number_line(h, region)) => {
                self.add(&headers[0], region, &mut stats);
                0
            }
            None => {
                return Ok(Err(PlanError::SuppressNoPhoneColumn {
                    path: path.to_owned(),
                    headers: quote_list(headers.iter().map(String::as_str)),
                }));
            }
        };
        for record in sheet.by_ref() {
            match record {
                SourceRecord::Row { fields, .. } => {
                    let cell = fields[column].trim();
                    if !cell.is_empty() {
                        self.add(cell, region, &mut stats);
                    }
                }
                SourceRecord::Malformed { .. } => stats.rejected += 1,
            }
        }
        match sheet.take_error() {
            Some(e) => Err(e),
            None => Ok(Ok(stats)),
        }
    }

    fn add(&mut self, raw: &str, region: Option<Id>, stats: &mut SuppressStats) {
        match normalize_number(raw, region) {
            Ok(e164) => {
                stats.numbers += 1;
                self.numbers.insert(e164);
            }
            Err(_) => stats.rejected += 1,
        }
    }
}

/// SPEC: "if the file's first non-empty line parses as a phone number". A header line such
/// as `phone,name` must not count, so text with a delimiter only counts when it is plainly
/// a number (`+1 (201) 555-0123`).
fn is_number_line(line: &str, region: Option<Id>) -> bool {
    if looks_like_number(line) && !line.contains([';', '\t', '|']) {
        return true;
    }
    !line.contains([',', ';', '\t', '|']) && parses(line, region)
}

/// The header line's delimiter, by the same sniffer as the contacts file (quotes respected).
fn sniff_delimiter(header: &str) -> u8 {
    let mut sniffer = crate::source::Sniffer::default();
    sniffer.feed(header.as_bytes());
    sniffer.feed(b"\n");
    sniffer.delimiter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country;
    use std::io::Write;

    fn file(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(content).expect("write temp file");
        f
    }

    #[test]
    fn one_number_a_line_in_mixed_formats() {
        let f = file(
            b"\n0501234567\n+966 55 123 4501\n# a comment\n00966561234502\n\nnot a number\n12\n",
        );
        let mut list = SuppressList::empty();
        let stats = list.load(f.path(), Some(country::SA)).expect("load");
        assert_eq!(
            stats,
            SuppressStats {
                numbers: 3,
                rejected: 2,
                column: None
            }
        );
        assert_eq!(list.len(), 3);
        for n in ["+966501234567", "+966551234501", "+966561234502"] {
            assert!(list.contains(n), "{n}");
        }
        assert!(!list.contains("0501234567"));
    }

    #[test]
    fn csv_with_a_phone_number_column_and_bom() {
        let f = file("\u{feff}Name;Phone Number;Note\nAna;+44 20 7946 0018;x\nBo;050-123-4567;\"a;b\"\nCy;;\nDi;bogus;\n".as_bytes());
        let mut list = SuppressList::empty();
        let stats = list.load(f.path(), Some(country::SA)).expect("load");
        assert_eq!(stats.column.as_deref(), Some("Phone Number"));
        assert_eq!((stats.numbers, stats.rejected), (2, 1));
        assert!(list.contains("+442079460018"));
        assert!(list.contains("+966501234567"));
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "+966 50 123 4567\r\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let mut list = SuppressList::empty();
        let stats = list.load(file(&bytes).path(), None).expect("load");
        assert_eq!(stats.numbers, 1);
        assert!(list.contains("+966501234567"));
    }

    #[test]
    fn a_first_line_with_a_plain_number_and_commas_is_still_a_list() {
        let f = file(b"+1 (201) 555-0123\n");
        let mut list = SuppressList::empty();
        let stats = list.load(f.path(), None).expect("load");
        assert_eq!((stats.numbers, stats.column), (1, None));
        assert!(list.contains("+12015550123"));
    }

    #[test]
    fn loading_twice_accumulates_and_an_empty_file_adds_nothing() {
        let mut list = SuppressList::empty();
        list.load(file(b"+966501234567\n").path(), None)
            .expect("first");
        let stats = list.load(file(b"\n\n").path(), None).expect("empty");
        assert_eq!(stats.numbers, 0);
        list.load(file(b"phone\n+447400123456\n").path(), None)
            .expect("csv");
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_csv_without_a_phone_column_or_a_missing_file_is_an_error() {
        let err = SuppressList::empty()
            .load(file(b"name,city\nAna,Riyadh\n").path(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"name\", \"city\""), "{err}");
        let err = SuppressList::empty()
            .load(Path::new("/nonexistent/dnc.txt"), None)
            .unwrap_err();
        assert!(matches!(err, PlanError::SuppressIo { .. }));
    }

    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter("a,b,c"), b',');
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("a\tb"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c,d"), b'|');
        assert_eq!(sniff_delimiter("phone"), b',');
    }
}
