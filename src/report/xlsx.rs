//! The `xlsx` report: the CSV report's columns as typed cells (numbers, Excel date-times,
//! text), a frozen, filterable header, and a summary sheet with the figures of `status`.
//!
//! The rows sheet is written in rust_xlsxwriter's constant-memory mode: each row goes to a
//! temporary file as soon as it is written, so a million-row report holds one row at a time.
//! Every text cell is written as a string cell, never parsed as a formula, so a contact named
//! `=HYPERLINK(...)` is shown as typed and nothing needs neutralising.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::csv::{COLUMNS, Columns};
use super::record::{Record, StatusFilter};
use super::summary::{Figure, Summary};
use super::{ReportError, each_record};
use crate::ledger::{Campaign, Ledger};
use std::ops::ControlFlow;

/// Excel's last row index: one header plus this many records fit on a sheet.
const MAX_ROW: u32 = 1_048_575;
/// Days from Excel's epoch (1899-12-30) to the Unix epoch.
const UNIX_EPOCH_SERIAL: f64 = 25_569.0;

/// The typed columns; every other column is text.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Time,
    Text,
}

fn kind(column: &str) -> Kind {
    match column {
        "row" | "attempts" | "http_status" | "latency_ms" | "duration_s" | "calls" => Kind::Number,
        "first_attempt_at" | "last_attempt_at" => Kind::Time,
        _ => Kind::Text,
    }
}

/// Writes the report of `campaign` (rows that pass `status`) as a workbook at `path`.
pub fn write(
    ledger: &Ledger,
    campaign: &Campaign,
    status: &StatusFilter,
    columns: Columns,
    path: &Path,
) -> Result<(), ReportError> {
    let summary = Summary::load(ledger, campaign)?;
    let mut book = Workbook::new();
    let header = columns.header();
    let last_row = {
        let sheet = book.add_worksheet_with_constant_memory().map_err(xlsx)?;
        rows_sheet(sheet, ledger, campaign.id, status, &columns, &header)?
    };
    let sheet = book.worksheet_from_index(0).map_err(xlsx)?;
    let last_col = (header.len() - 1) as u16;
    sheet.autofilter(0, 0, last_row, last_col).map_err(xlsx)?;
    summary_sheet(book.add_worksheet(), &summary).map_err(xlsx)?;
    book.save(path).map_err(xlsx)
}

fn xlsx(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// Writes the header and every record; returns the last row written.
fn rows_sheet(
    sheet: &mut Worksheet,
    ledger: &Ledger,
    campaign_id: i64,
    status: &StatusFilter,
    columns: &Columns,
    header: &[String],
) -> Result<u32, ReportError> {
    let bold = Format::new().set_bold();
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000");
    sheet.set_name("Rows").map_err(xlsx)?;
    // Set before any row: the view and widths are part of the sheet, not of a cell.
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
    for (c, name) in header.iter().enumerate() {
        let width = match kind(name) {
            Kind::Time => 24.0,
            _ if name == "phone" => 16.0,
            _ => (name.len() as f64 + 3.0).clamp(8.0, 18.0),
        };
        sheet.set_column_width(c as u16, width).map_err(xlsx)?;
        sheet
            .write_string_with_format(0, c as u16, name, &bold)
            .map_err(xlsx)?;
    }
    let kinds: Vec<Kind> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i < COLUMNS.len() {
                kind(h)
            } else {
                Kind::Text
            }
        })
        .collect();
    let mut row = 0u32;
    let mut failed = None;
    each_record(ledger, campaign_id, status, |r| {
        if row == MAX_ROW {
            failed = Some(ReportError::TooManyRows(MAX_ROW));
            return Ok(ControlFlow::Break(()));
        }
        row += 1;
        if let Err(e) = write_record(sheet, row, &r, columns, &kinds, &time) {
            failed = Some(xlsx(e));
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(row),
    }
}

fn write_record(
    sheet: &mut Worksheet,
    row: u32,
    r: &Record,
    columns: &Columns,
    kinds: &[Kind],
    time: &Format,
) -> Result<(), XlsxError> {
    for (c, (cell, kind)) in columns.cells(r).iter().zip(kinds).enumerate() {
        let c = c as u16;
        if cell.is_empty() {
            continue;
        }
        match kind {
            Kind::Number => match cell.parse::<f64>() {
                Ok(n) => sheet.write_number(row, c, n)?,
                Err(_) => sheet.write_string(row, c, cell.as_ref())?,
            },
            Kind::Time => match excel_serial(cell) {
                Some(serial) => sheet.write_number_with_format(row, c, serial, time)?,
                None => sheet.write_string(row, c, cell.as_ref())?,
            },
            Kind::Text => sheet.write_string(row, c, cell.as_ref())?,
        };
    }
    Ok(())
}

/// An RFC 3339 time as Excel's serial day number (UTC, to the millisecond).
fn excel_serial(rfc3339: &str) -> Option<f64> {
    let t: jiff::Timestamp = rfc3339.parse().ok()?;
    Some(t.as_millisecond() as f64 / 86_400_000.0 + UNIX_EPOCH_SERIAL)
}

/// The `status` figures, one per row: label, then the count as a number or the figure as text.
fn summary_sheet(sheet: &mut Worksheet, summary: &Summary) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name("Summary")?;
    sheet.set_column_width(0, 36)?;
    sheet.set_column_width(1, 18)?;
    sheet.write_string_with_format(0, 0, format!("campaign {}", summary.campaign), &bold)?;
    sheet.write_string_with_format(0, 1, "rows", &bold)?;
    for (i, (label, figure)) in summary.figures().into_iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, label)?;
        match figure {
            Figure::Count(n) => sheet.write_number(row, 1, n as f64)?,
            Figure::Text(t) => sheet.write_string(row, 1, t)?,
            Figure::None => sheet,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_become_excel_serials() {
        assert_eq!(
            super::excel_serial("1970-01-01T00:00:00.000Z"),
            Some(25_569.0)
        );
        let noon = super::excel_serial("2026-11-25T12:00:00.000Z").unwrap();
        assert!((noon - 46_351.5).abs() < 1e-9, "{noon}");
        assert_eq!(super::excel_serial("not a time"), None);
    }
}
