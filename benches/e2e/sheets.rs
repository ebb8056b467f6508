//! The figures of issue 14: a 100k-row `.xlsx` run and dry run, and a 1M-row `xlsx` report,
//! each with its peak RSS against the 64 MiB target.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_xlsxwriter::Workbook;

use crate::child;
use crate::figures::{RUN_LIMIT, contacts, dial};
use crate::{Ctx, figure};

const SHEET_LIMIT: Duration = Duration::from_secs(300);
const RSS_TARGET_MIB: f64 = 64.0;

/// The seeded contacts CSV of `rows` rows saved as a workbook: digits-only cells as numbers
/// (as Excel keeps a typed phone number), everything else as text.
fn workbook(ctx: &Ctx, rows: u64) -> Result<PathBuf, String> {
    let csv = contacts(ctx, rows)?;
    let path = ctx.data.join(format!("contacts-{rows}-{}.xlsx", ctx.seed));
    if path.exists() {
        return Ok(path);
    }
    let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let mut reader = csv::Reader::from_path(&csv).map_err(|e| fail(&e))?;
    let mut book = Workbook::new();
    let sheet = book
        .add_worksheet_with_constant_memory()
        .map_err(|e| fail(&e))?;
    let header = reader.headers().map_err(|e| fail(&e))?.clone();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, h).map_err(|e| fail(&e))?;
    }
    for (r, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(&e))?;
        for (c, cell) in record.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            let numeric =
                !cell.is_empty() && cell.len() <= 15 && cell.bytes().all(|b| b.is_ascii_digit());
            match cell.parse::<f64>() {
                Ok(n) if numeric => sheet.write_number(r, c, n),
                _ => sheet.write_string(r, c, cell),
            }
            .map_err(|e| fail(&e))?;
        }
    }
    book.save(&path).map_err(|e| fail(&e))?;
    Ok(path)
}

fn rss_figure(name: &str, done: &child::Finished, what: &str) {
    let mib = done.max_rss_mib();
    figure(
        name,
        format!("{mib:.1} MiB"),
        Some(("<= 64 MiB", mib <= RSS_TARGET_MIB)),
        &format!("{what}; {}", done.times()),
    );
}

pub fn sheets(ctx: &Ctx) -> Result<(), String> {
    let rows = ctx.rows(100_000);
    let book = workbook(ctx, rows)?;

    let ledger = ctx.work.fresh_ledger("sheet.db")?;
    let sandbox = ctx.sandbox()?;
    let cmd = dial(ctx, &ledger, &sandbox.url(), &book, "sheet");
    let run = child::run(cmd, None, SHEET_LIMIT)?.expect_code(&[0], "xlsx run")?;
    ctx.stop(sandbox);
    rss_figure(
        "xlsx-run-rss",
        &run,
        &format!("`run` of a {rows}-row .xlsx, --rate unlimited"),
    );

    let dry_db = ctx.work.fresh_ledger("sheet-dry.db")?;
    let mut cmd = dial(ctx, &dry_db, "http://127.0.0.1:9", &book, "sheet-dry");
    cmd.arg("--dry-run");
    let dry = child::run(cmd, None, SHEET_LIMIT)?.expect_code(&[0], "xlsx dry run")?;
    rss_figure(
        "xlsx-dry-run-rss",
        &dry,
        &format!("`run --dry-run` of the {rows}-row .xlsx"),
    );

    report(ctx)
}

/// A 1M-row campaign (dialed from the CSV: the report, not the input, is measured here).
fn report(ctx: &Ctx) -> Result<(), String> {
    let rows = ctx.rows(1_000_000);
    let csv = contacts(ctx, rows)?;
    let ledger = ctx.work.fresh_ledger("xlsx-report.db")?;
    let sandbox = ctx.sandbox()?;
    let cmd = dial(ctx, &ledger, &sandbox.url(), &csv, "big");
    child::run(cmd, None, RUN_LIMIT)?.expect_code(&[0], "1M run")?;
    ctx.stop(sandbox);
    let out = ctx.work.path().join("big-report.xlsx");
    let done = export(ctx, &ledger, &out)?;
    let size = std::fs::metadata(&out).map_or(0, |m| m.len());
    rss_figure(
        "xlsx-report-rss",
        &done,
        &format!(
            "`report --format xlsx --out` of {rows} rows, {:.0} MiB written",
            size as f64 / 1048576.0
        ),
    );
    Ok(())
}

fn export(ctx: &Ctx, ledger: &Path, out: &Path) -> Result<child::Finished, String> {
    let mut cmd = child::dialer(&ctx.bin, ledger, "http://127.0.0.1:9");
    cmd.args(["report", "big", "--format", "xlsx", "--force", "--out"])
        .arg(out);
    child::run(cmd, None, SHEET_LIMIT)?.expect_code(&[0], "xlsx report")
}
