//! Spreadsheets as a contact source: `.xlsx`/`.xlsm`, `.xls` and `.ods` read with calamine
//! and handed on as the same [`SourceRecord`]s the CSV source yields, so mapping, skip
//! reasons, dedupe, suppression, reports and resume never know which kind the file was.
//!
//! The first non-empty row is the header; a record's line is its spreadsheet row (1-based,
//! as Excel shows it). Empty rows are skipped as blank lines are in a CSV. A row with a value
//! to the right of the last header column is malformed, as a CSV row with too many fields is.

pub(crate) mod cell;
mod read;

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use super::kind::FileKind;
use super::{SourceError, SourceRecord, push_quoted};
use read::Msg;

/// Rows in flight between the workbook thread and the reader: enough to keep both busy,
/// few enough that memory does not depend on the sheet.
const CHANNEL_ROWS: usize = 256;

/// A streaming reader of one sheet's records; see the module documentation.
pub struct SheetSource {
    rx: Receiver<Msg>,
    /// The 0-based row last handed out, for the error if reading stops after it.
    last_row: u32,
    headers: Vec<String>,
    /// "xlsx, sheet \"Contacts\"": what the file was read as.
    description: String,
    error: Option<SourceError>,
}

impl SheetSource {
    /// Opens the workbook at `path`, picks the sheet and reads its header row.
    pub fn open(path: &Path, kind: FileKind, sheet: Option<&str>) -> Result<Self, SourceError> {
        let rx = spawn(path, kind, sheet);
        let name = match rx.recv() {
            Ok(Msg::Sheet(name)) => name,
            Ok(Msg::Fail(e)) => return Err(e),
            Ok(Msg::Row(..) | Msg::End) => return Err(SourceError::EmptyWorkbook),
            Err(_) => return Err(died(0)),
        };
        let headers = match rx.recv() {
            Ok(Msg::Row(_, cells)) => {
                let width = cells.last().map_or(0, |(c, _)| *c as usize + 1);
                let mut headers = vec![String::new(); width];
                for (c, text) in cells {
                    headers[c as usize] = text.trim().to_string();
                }
                headers
            }
            Ok(Msg::Fail(e)) => return Err(e),
            Ok(Msg::Sheet(_) | Msg::End) => return Err(SourceError::EmptyWorkbook),
            Err(_) => return Err(died(0)),
        };
        Ok(SheetSource {
            rx,
            last_row: 0,
            headers,
            description: format!("{}, sheet {name:?}", kind.name()),
            error: None,
        })
    }

    /// The column names, trimmed of surrounding whitespace.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The kind of workbook and the sheet read.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The error that ended the iteration early, if any; see `CsvSource::take_error`.
    pub fn take_error(&mut self) -> Option<SourceError> {
        self.error.take()
    }

    fn record(&self, row: u32, cells: Vec<(u32, String)>) -> SourceRecord {
        let line = u64::from(row) + 1;
        let width = self.headers.len();
        if let Some((col, text)) = cells.iter().find(|(c, _)| *c as usize >= width) {
            return SourceRecord::Malformed {
                line,
                raw: join(&cells).into_bytes(),
                reason: format!(
                    "cell {}{line} holds {text:?}, to the right of the header's {width} \
                     columns; give that column a header or clear the cell",
                    cell::column_name(*col)
                ),
            };
        }
        let mut fields = vec![String::new(); width];
        for (c, text) in cells {
            fields[c as usize] = text;
        }
        SourceRecord::Row { line, fields }
    }
}

impl Iterator for SheetSource {
    type Item = SourceRecord;

    fn next(&mut self) -> Option<SourceRecord> {
        match self.rx.recv() {
            Ok(Msg::Row(row, cells)) => {
                self.last_row = row;
                Some(self.record(row, cells))
            }
            Ok(Msg::Fail(e)) => {
                self.error = Some(e);
                None
            }
            Ok(Msg::Sheet(_) | Msg::End) => None,
            Err(_) => {
                self.error = Some(died(self.last_row + 1));
                None
            }
        }
    }
}

/// Counts the data records of the sheet `SheetSource::open` would read.
pub fn count_records(path: &Path, kind: FileKind, sheet: Option<&str>) -> Result<u64, SourceError> {
    let rx = spawn(path, kind, sheet);
    let mut rows = 0u64;
    for msg in rx {
        match msg {
            Msg::Row(..) => rows += 1,
            Msg::Fail(e) => return Err(e),
            Msg::Sheet(_) => {}
            Msg::End => return Ok(rows.saturating_sub(1)),
        }
    }
    Err(died(0))
}

/// The workbook thread ended without saying so (calamine panicked on a damaged file).
fn died(row: u32) -> SourceError {
    SourceError::SheetRead {
        row: u64::from(row) + 1,
        reason: "the workbook reader stopped unexpectedly (the file may be damaged)".into(),
    }
}

fn spawn(path: &Path, kind: FileKind, sheet: Option<&str>) -> Receiver<Msg> {
    let (tx, rx) = sync_channel(CHANNEL_ROWS);
    let path = path.to_path_buf();
    let sheet = sheet.map(str::to_string);
    std::thread::spawn(move || read::produce(&path, kind, sheet.as_deref(), &tx));
    rx
}

/// The row's cells as a CSV line, empty cells included, so the report shows the row whole.
fn join(cells: &[(u32, String)]) -> String {
    let mut raw = String::new();
    // How many fields have been written so far.
    let mut written = 0u32;
    for (col, text) in cells {
        while written < *col {
            if written > 0 {
                raw.push(',');
            }
            written += 1;
        }
        if written > 0 {
            raw.push(',');
        }
        push_quoted(&mut raw, text, b',');
        written += 1;
    }
    raw
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sparse_row_joins_with_its_empty_cells() {
        let cells = [(0, "a".to_string()), (2, "c,d".to_string())];
        assert_eq!(super::join(&cells), "a,,\"c,d\"");
        assert_eq!(super::join(&[(1, "b".to_string())]), ",b");
    }
}
