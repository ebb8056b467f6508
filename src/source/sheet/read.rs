//! The workbook side of a sheet source: opens the workbook on its own thread, picks the
//! sheet and sends its non-empty rows, in order, through a bounded channel.
//!
//! `.xlsx` goes through calamine's cell reader, which parses the sheet's XML as it goes: a
//! row is sent as soon as its last cell is read, so memory is one row plus the channel, and a
//! stray cell at XFD1048576 costs one cell, not the 17 billion of its range. calamine reads
//! `.xls` and `.ods` only as whole ranges; those formats are small by construction (`.xls`
//! stops at 65536 rows), so they are loaded and then sent the same way.

use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::mpsc::SyncSender;

use calamine::{Data, Ods, Reader, Xls, Xlsx};

use super::cell;
use crate::source::SourceError;
use crate::source::kind::FileKind;

/// What the workbook thread sends, in this order: `Sheet`, then `Row`s, then `End`; or `Fail`
/// at any time. A channel that closes without either means the thread died: never "done".
pub enum Msg {
    /// The sheet being read.
    Sheet(String),
    /// A row with at least one non-empty cell: its 0-based index and `(column, text)` of each
    /// non-empty cell, columns ascending.
    Row(u32, Vec<(u32, String)>),
    /// The workbook or sheet could not be read (further); nothing follows.
    Fail(SourceError),
    /// Every row was sent.
    End,
}

/// Reads `path` as `kind` and sends its rows to `tx` until done or the receiver is gone.
pub fn produce(path: &Path, kind: FileKind, sheet: Option<&str>, tx: &SyncSender<Msg>) {
    let failed = |reason: String| SourceError::Workbook {
        path: path.to_path_buf(),
        kind: kind.name(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => BufReader::new(f),
        Err(source) => {
            let _ = tx.send(Msg::Fail(SourceError::Open {
                path: path.to_path_buf(),
                source,
            }));
            return;
        }
    };
    let outcome = match kind {
        FileKind::Xlsx => Xlsx::new(file)
            .map_err(|e| failed(e.to_string()))
            .and_then(|mut book| stream_xlsx(&mut book, sheet, tx)),
        FileKind::Xls => Xls::new(file)
            .map_err(|e| failed(e.to_string()))
            .and_then(|mut book| send_range(&mut book, sheet, tx)),
        FileKind::Ods => Ods::new(file)
            .map_err(|e| failed(e.to_string()))
            .and_then(|mut book| send_range(&mut book, sheet, tx)),
        FileKind::Text => Err(failed("it is not a workbook".into())),
    };
    let _ = tx.send(match outcome {
        Ok(()) => Msg::End,
        Err(e) => Msg::Fail(e),
    });
}

/// The sheet `--sheet` names: a name first, else a 1-based position.
fn named_sheet(names: &[String], wanted: &str) -> Result<String, SourceError> {
    if let Some(name) = names.iter().find(|n| n.as_str() == wanted) {
        return Ok(name.clone());
    }
    let by_position = wanted
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| names.get(i));
    by_position
        .cloned()
        .ok_or_else(|| SourceError::NoSuchSheet {
            wanted: wanted.to_string(),
            sheets: names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Picks the sheet to read: `--sheet`, else the first whose cells are not all empty.
fn choose(
    names: &[String],
    wanted: Option<&str>,
    mut has_data: impl FnMut(&str) -> Result<bool, SourceError>,
) -> Result<String, SourceError> {
    if let Some(wanted) = wanted {
        return named_sheet(names, wanted);
    }
    for name in names {
        if has_data(name)? {
            return Ok(name.clone());
        }
    }
    Err(SourceError::EmptyWorkbook)
}

fn stream_xlsx<RS: Read + Seek>(
    book: &mut Xlsx<RS>,
    wanted: Option<&str>,
    tx: &SyncSender<Msg>,
) -> Result<(), SourceError> {
    let names = book.sheet_names();
    let sheet_error = |row: u32, e: calamine::XlsxError| SourceError::SheetRead {
        row: u64::from(row) + 1,
        reason: e.to_string(),
    };
    let name = choose(&names, wanted, |name| {
        let mut cells = book
            .worksheet_cells_reader(name)
            .map_err(|e| sheet_error(0, e))?;
        while let Some(c) = cells.next_cell().map_err(|e| sheet_error(0, e))? {
            if !matches!(c.get_value(), calamine::DataRef::Empty) {
                return Ok(true);
            }
        }
        Ok(false)
    })?;
    if tx.send(Msg::Sheet(name.clone())).is_err() {
        return Ok(());
    }
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|e| sheet_error(0, e))?;
    let mut row: Option<(u32, Vec<(u32, String)>)> = None;
    loop {
        let at = row.as_ref().map_or(0, |(r, _)| *r);
        let Some(c) = cells.next_cell().map_err(|e| sheet_error(at, e))? else {
            break;
        };
        let (r, col) = c.get_position();
        let text = cell::text(&Data::from(c.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        match &mut row {
            Some((current, cells)) if *current == r => cells.push((col, text)),
            _ => {
                if let Some((done, cells)) = row.replace((r, vec![(col, text)]))
                    && tx.send(Msg::Row(done, cells)).is_err()
                {
                    return Ok(());
                }
            }
        }
    }
    if let Some((done, cells)) = row {
        let _ = tx.send(Msg::Row(done, cells));
    }
    Ok(())
}

/// `.xls` and `.ods`: the whole range, then its rows one by one.
fn send_range<R>(
    book: &mut R,
    wanted: Option<&str>,
    tx: &SyncSender<Msg>,
) -> Result<(), SourceError>
where
    R: Reader<BufReader<std::fs::File>>,
    R::Error: std::fmt::Display,
{
    let names = book.sheet_names();
    let sheet_error = |e: R::Error| SourceError::SheetRead {
        row: 1,
        reason: e.to_string(),
    };
    let name = choose(&names, wanted, |name| {
        let range = book.worksheet_range(name).map_err(sheet_error)?;
        Ok(range
            .used_cells()
            .any(|(_, _, c)| !cell::text(c).is_empty()))
    })?;
    let range = book.worksheet_range(&name).map_err(sheet_error)?;
    if tx.send(Msg::Sheet(name)).is_err() {
        return Ok(());
    }
    let (top, left) = range.start().unwrap_or((0, 0));
    for (i, cells) in range.rows().enumerate() {
        let cells: Vec<(u32, String)> = cells
            .iter()
            .enumerate()
            .map(|(j, c)| (left + j as u32, cell::text(c)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        if !cells.is_empty() && tx.send(Msg::Row(top + i as u32, cells)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}
