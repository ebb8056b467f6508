//! The figures of issue 7, each from real runs of the binary: throughput and group commit,
//! memory at 100k and 1M rows, start-up, resume, report, dry run and rate accuracy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::child::{self, Finished};
use crate::{Ctx, figure, inputs};

/// Long enough for a million calls on a loaded 2-core machine; a hang still ends.
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(900);
const SHORT_LIMIT: Duration = Duration::from_secs(120);

pub(crate) fn contacts(ctx: &Ctx, rows: u64) -> Result<PathBuf, String> {
    inputs::contacts(&ctx.data, rows, ctx.seed)
        .map_err(|e| format!("cannot write {rows} rows: {e}"))
}

pub(crate) fn dial(
    ctx: &Ctx,
    ledger: &Path,
    url: &str,
    csv: &Path,
    name: &str,
) -> std::process::Command {
    let mut cmd = child::dialer(&ctx.bin, ledger, url);
    cmd.arg("run").arg(csv);
    cmd.args([
        "--campaign",
        name,
        "--rate",
        "unlimited",
        "--concurrency",
        "64",
    ]);
    cmd.args(["--default-region", "SA"]);
    cmd
}

/// `dialer status NAME --json`, parsed.
fn status(ctx: &Ctx, ledger: &Path, name: &str) -> Result<Value, String> {
    let mut cmd = child::dialer(&ctx.bin, ledger, "http://127.0.0.1:9");
    cmd.args(["status", name, "--json"]);
    let done = child::run(cmd, None, SHORT_LIMIT)?.expect_code(&[0], "status")?;
    serde_json::from_str(&done.stdout).map_err(|e| format!("status --json is not JSON: {e}"))
}

/// The achieved calls/s `status --json` reports for a campaign.
pub(crate) fn status_rate(ctx: &Ctx, ledger: &Path, name: &str) -> Result<f64, String> {
    Ok(num(&status(ctx, ledger, name)?, "/achieved_rate_per_s"))
}

fn state(status: &Value, name: &str) -> u64 {
    status["counts"]["states"][name].as_u64().unwrap_or(0)
}

fn num(status: &Value, pointer: &str) -> f64 {
    status
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

fn ms(d: Option<Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// 200k rows, unlimited rate, 64 in flight: calls per second, and group commit at work.
pub fn throughput(ctx: &Ctx) -> Result<(), String> {
    let rows = ctx.rows(200_000);
    let csv = contacts(ctx, rows)?;
    let sandbox = ctx.sandbox()?;
    let ledger = ctx.work.fresh_ledger("throughput.db")?;
    let cmd = dial(ctx, &ledger, &sandbox.url(), &csv, "throughput");
    let done = child::run(cmd, None, RUN_LIMIT)?.expect_code(&[0], "throughput run")?;
    let placed = sandbox.stats().total_calls;
    ctx.stop(sandbox);
    let st = status(ctx, &ledger, "throughput")?;
    let (succeeded, rate) = (state(&st, "succeeded"), num(&st, "/achieved_rate_per_s"));
    let wall = done.wall.as_secs_f64();
    figure(
        "throughput",
        format!("{rate:.0} calls/s"),
        Some((">= 5000 calls/s", rate >= 5000.0)),
        &format!(
            "{rows} rows, {succeeded} succeeded, sandbox placed {placed}; first->last request \
             {:.1} s; process {} ({:.0} rows/s incl. start and end); \
             latency p50 {} ms p99 {} ms; peak RSS {:.1} MiB",
            num(&st, "/elapsed_s"),
            done.times(),
            rows as f64 / wall,
            num(&st, "/latency/p50_ms"),
            num(&st, "/latency/p99_ms"),
            done.max_rss_mib(),
        ),
    );
    group_commit(&done, succeeded);
    Ok(())
}

fn group_commit(done: &Finished, dialed: u64) {
    let Some((commits, ops)) = child::writer_stats(&done.stderr) else {
        figure(
            "commits",
            "not exposed".into(),
            None,
            "no \"ledger writer:\" line on stderr",
        );
        return;
    };
    let wall = done.wall.as_secs_f64();
    let per = |n: u64| n as f64 / commits.max(1) as f64;
    figure(
        "commits",
        format!("{:.0} commits/s", commits as f64 / wall),
        None,
        &format!("{commits} commits over the {wall:.1} s process"),
    );
    figure(
        "rows-per-commit",
        format!("{:.1} rows/commit", per(dialed)),
        None,
        &format!(
            "{:.1} operations/commit ({ops} operations: in_flight mark + result per dialed row, \
             ingest batches, lease)",
            per(ops)
        ),
    );
}

/// 100k and 1M rows end to end: peak RSS at both, start-up on the 1M file, then resume of
/// that campaign with 10 rows left, and `report --format csv` at both sizes.
pub fn million(ctx: &Ctx) -> Result<(), String> {
    let (small_rows, big_rows) = (ctx.rows(100_000), ctx.rows(1_000_000));
    let (small_csv, big_csv) = (contacts(ctx, small_rows)?, contacts(ctx, big_rows)?);
    let small_db = ctx.work.fresh_ledger("small.db")?;
    let big_db = ctx.work.fresh_ledger("million.db")?;

    let sandbox = ctx.sandbox()?;
    let cmd = dial(ctx, &small_db, &sandbox.url(), &small_csv, "small");
    let small = child::run(cmd, None, RUN_LIMIT)?.expect_code(&[0], "100k run")?;
    ctx.stop(sandbox);

    let sandbox = ctx.sandbox()?;
    let mut cmd = dial(ctx, &big_db, &sandbox.url(), &big_csv, "million");
    cmd.args(["--limit", &(big_rows - 10).to_string()]);
    let big = child::run(cmd, Some(&sandbox), RUN_LIMIT)?.expect_code(&[0], "1M run")?;
    ctx.stop(sandbox);
    let st = status(ctx, &big_db, "million")?;

    let start_ms = ms(big.first_request);
    figure(
        "startup",
        format!("{start_ms:.0} ms"),
        Some(("<= 250 ms", start_ms <= 250.0)),
        &format!("spawn -> first request at the sandbox, {big_rows}-row CSV"),
    );
    let (small_mib, big_mib) = (small.max_rss_mib(), big.max_rss_mib());
    let flat = big_mib <= small_mib * 1.2;
    figure(
        "rss-100k",
        format!("{small_mib:.1} MiB"),
        None,
        &format!(
            "peak RSS of `dialer run`, {small_rows} rows dialed, {}",
            small.times()
        ),
    );
    figure(
        "rss-1M",
        format!("{big_mib:.1} MiB"),
        Some((
            "<= 64 MiB and <= 1.2x the 100k peak",
            big_mib <= 64.0 && flat,
        )),
        &format!(
            "{} rows dialed at {:.0} calls/s, {}; {:.2}x the 100k peak",
            state(&st, "succeeded"),
            num(&st, "/achieved_rate_per_s"),
            big.times(),
            big_mib / small_mib,
        ),
    );

    resume(ctx, &big_db)?;
    report(ctx, &small_db, "small", &big_db, "million")
}

fn resume(ctx: &Ctx, ledger: &Path) -> Result<(), String> {
    let sandbox = ctx.sandbox()?;
    let mut cmd = child::dialer(&ctx.bin, ledger, &sandbox.url());
    cmd.args(["resume", "million"]);
    let done = child::run(cmd, Some(&sandbox), RUN_LIMIT)?.expect_code(&[0], "resume")?;
    let placed = sandbox.stats().total_calls;
    ctx.stop(sandbox);
    let first = ms(done.first_request);
    figure(
        "resume",
        format!("{first:.0} ms"),
        Some(("<= 500 ms", first <= 500.0)),
        &format!(
            "spawn -> first request, 10 rows left of 1M; {placed} calls placed; {}; \
             peak RSS {:.1} MiB",
            done.times(),
            done.max_rss_mib()
        ),
    );
    Ok(())
}

fn report(ctx: &Ctx, small_db: &Path, small: &str, big_db: &Path, big: &str) -> Result<(), String> {
    let export = |db: &Path, name: &str| -> Result<(Finished, u64), String> {
        let out = ctx.work.path().join(format!("{name}-report.csv"));
        let mut cmd = child::dialer(&ctx.bin, db, "http://127.0.0.1:9");
        cmd.args(["report", name, "--format", "csv", "--force", "--out"])
            .arg(&out);
        let done = child::run(cmd, None, SHORT_LIMIT)?.expect_code(&[0], "report")?;
        let size = std::fs::metadata(&out).map_or(0, |m| m.len());
        Ok((done, size))
    };
    let (small_done, _) = export(small_db, small)?;
    let (big_done, size) = export(big_db, big)?;
    let secs = big_done.wall.as_secs_f64();
    let (small_mib, big_mib) = (small_done.max_rss_mib(), big_done.max_rss_mib());
    figure(
        "report",
        format!("{secs:.2} s"),
        Some(("<= 5 s", secs <= 5.0)),
        &format!(
            "`report --format csv --out` of the 1M campaign, {:.0} MiB written; {}",
            size as f64 / 1048576.0,
            big_done.times()
        ),
    );
    figure(
        "report-rss",
        format!("{big_mib:.1} MiB at 1M vs {small_mib:.1} MiB at 100k"),
        Some(("flat (1M <= 1.2x 100k)", big_mib <= small_mib * 1.2)),
        &format!("100k report: {}", small_done.times()),
    );
    Ok(())
}

/// `--dry-run` over the 1M file: parse, map, normalise, dedupe.
pub fn dry_run(ctx: &Ctx) -> Result<(), String> {
    let rows = ctx.rows(1_000_000);
    let csv = contacts(ctx, rows)?;
    let ledger = ctx.work.fresh_ledger("dry.db")?;
    let mut cmd = dial(ctx, &ledger, "http://127.0.0.1:9", &csv, "dry");
    cmd.arg("--dry-run");
    let done = child::run(cmd, None, SHORT_LIMIT)?.expect_code(&[0], "dry run")?;
    let secs = done.wall.as_secs_f64();
    figure(
        "dry-run",
        format!("{secs:.2} s"),
        Some(("<= 5 s", secs <= 5.0)),
        &format!(
            "{rows} rows; {}; peak RSS {:.1} MiB",
            done.times(),
            done.max_rss_mib()
        ),
    );
    Ok(())
}

/// `--rate 200/s` over 4,000 calls: the achieved rate and the busiest sliding second.
pub fn rate(ctx: &Ctx) -> Result<(), String> {
    let rows = ctx.rows(4_000);
    let csv = contacts(ctx, rows)?;
    let sandbox = ctx.sandbox()?;
    let ledger = ctx.work.fresh_ledger("rate.db")?;
    let mut cmd = child::dialer(&ctx.bin, &ledger, &sandbox.url());
    cmd.arg("run").arg(&csv);
    cmd.args([
        "--campaign",
        "rate",
        "--rate",
        "200/s",
        "--concurrency",
        "64",
    ]);
    cmd.args(["--default-region", "SA"]);
    child::run(cmd, None, SHORT_LIMIT)?.expect_code(&[0], "rate run")?;
    let stats = sandbox.stats();
    ctx.stop(sandbox);
    let st = status(ctx, &ledger, "rate")?;
    let achieved = num(&st, "/achieved_rate_per_s");
    let off = (achieved - 200.0).abs() / 200.0 * 100.0;
    figure(
        "rate",
        format!("{achieved:.2} calls/s ({off:.2}% off)"),
        Some(("within 1% of 200/s", off <= 1.0)),
        &format!(
            "{} calls over {:.2} s",
            stats.total_calls,
            num(&st, "/elapsed_s")
        ),
    );
    let max = stats.max_requests_in_one_second;
    figure(
        "rate-max-1s",
        format!("{max} requests"),
        Some(("<= 201 (200 + burst 1)", max <= 201)),
        "busiest sliding second at the sandbox",
    );
    Ok(())
}
