//! The dialer beside `oha` (an HTTP load generator) against the same in-process sandbox
//! and the same endpoint, in one run: the ratio of the dialer's calls/s to oha's
//! requests/s says how much of the machine's HTTP capacity the dialer's bookkeeping (the
//! durable ledger, the pacer, the exactly-once marks) costs. Skipped, saying so, when `oha`
//! is not on PATH (`cargo install oha`).

use std::process::Command;

use serde_json::Value;

use crate::figures::{RUN_LIMIT, contacts, dial, status_rate};
use crate::{Ctx, child, figure};

const CALL_PATH: &str = "/api-service/v1/ai/phone-calls/action/call";

pub fn versus_oha(ctx: &Ctx) -> Result<(), String> {
    if Command::new("oha").arg("--version").output().is_err() {
        println!("oha: skipped, `oha` is not on PATH (cargo install oha)");
        return Ok(());
    }
    let rows = ctx.rows(200_000);
    let csv = contacts(ctx, rows)?;
    let sandbox = ctx.sandbox()?;
    let ledger = ctx.work.fresh_ledger("versus.db")?;
    let cmd = dial(ctx, &ledger, &sandbox.url(), &csv, "versus");
    child::run(cmd, None, RUN_LIMIT)?.expect_code(&[0], "dialer run beside oha")?;
    let dialer_rate = status_rate(ctx, &ledger, "versus")?;
    // Same sandbox, same endpoint, the same number of requests and connections in flight.
    let out = Command::new("oha")
        .args(["-n", &rows.to_string(), "-c", "64", "--no-tui"])
        .args(["--output-format", "json", "-m", "POST"])
        .args(["-H", "Authorization: Bearer sandbox-token"])
        .args(["-T", "application/json"])
        .args(["-d", r#"{"numberToCall":"+966501234567"}"#])
        .arg(format!("{}{CALL_PATH}", sandbox.url()))
        .output()
        .map_err(|e| format!("cannot run oha: {e}"))?;
    ctx.stop(sandbox);
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "oha printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let oha_rate = json["summary"]["requestsPerSec"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let ratio = dialer_rate / oha_rate;
    figure(
        "versus-oha",
        format!("{ratio:.2}"),
        Some((">= 0.35", ratio >= 0.35)),
        &format!(
            "dialer {dialer_rate:.0} calls/s vs oha {oha_rate:.0} requests/s, {rows} each, 64 \
             in flight, same sandbox and endpoint"
        ),
    );
    Ok(())
}
