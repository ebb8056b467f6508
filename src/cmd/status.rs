//! `dialer status [CAMPAIGN] [--json]`: one campaign's summary, or a line per campaign.

use std::path::Path;

use super::{CmdError, exit, open_existing};
use crate::cli::StatusArgs;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::say;
use crate::ledger::Ledger;
use crate::report::record::split_zones;
use crate::report::{CampaignLine, Summary, rfc3339};

pub fn run(ledger_path: &Path, args: &StatusArgs) -> Result<i32, CmdError> {
    let ledger = open_existing(ledger_path)?;
    if let (Some(name), Some(line)) = (&args.campaign, args.row) {
        return row(&ledger, name, line, args.json);
    }
    match &args.campaign {
        Some(name) => {
            let campaign = ledger.campaign(name)?;
            let summary = Summary::load_with(&ledger, &campaign, args.awaiting_after)?;
            if args.json {
                say!("{}", to_json(&summary));
            } else {
                say!("{}", summary.table());
            }
        }
        None => {
            let mut lines = Vec::new();
            for c in ledger.list_campaigns()? {
                let s = Summary::load_with(&ledger, &c, args.awaiting_after)?;
                lines.push(CampaignLine::of(s));
            }
            if args.json {
                say!("{}", to_json(&lines));
            } else if lines.is_empty() {
                say!("no campaigns in {}", ledger_path.display());
            } else {
                say!("{}", CampaignLine::table(&lines));
            }
        }
    }
    Ok(exit::OK)
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("summaries always serialise")
}

/// One row with its attempt history (`status CAMPAIGN --row LINE`).
fn row(ledger: &Ledger, name: &str, line: u64, json: bool) -> Result<i32, CmdError> {
    let campaign = ledger.campaign(name)?;
    let Some(row) = ledger.row(campaign.id, line)? else {
        return Err(CmdError::Usage(format!(
            "campaign {name:?} has no row on line {line} (rows are named by the CSV line where \
             their record starts; the header is line 1)"
        )));
    };
    let attempts = ledger.attempts(campaign.id, line)?;
    let (zone, candidate_zones) = split_zones(row.timezone.clone());
    if json {
        let v = serde_json::json!({
            "line": row.line, "state": row.state, "reason": row.reason, "detail": row.detail,
            "phone": row.e164, "attempts": row.attempts, "http_status": row.http_status,
            "error": row.error, "call_id": row.call_id, "zone": zone,
            "zone_source": row.zone_source, "candidate_zones": candidate_zones,
            "history": attempts,
        });
        say!("{}", to_json(&v));
        return Ok(exit::OK);
    }
    say!(
        "line {}: {} {}{}",
        row.line,
        row.e164.as_deref().unwrap_or("(no number)"),
        row.state,
        row.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    if let Some(d) = row.detail.as_deref().or(row.error.as_deref()) {
        say!("  {}", crate::text::escape_controls(d));
    }
    let source = row.zone_source.as_deref().unwrap_or("unknown");
    match (zone, candidate_zones) {
        (Some(zone), _) => say!("  calling hours read in {zone} (zone from: {source})"),
        (None, Some(all)) => {
            say!("  calling hours must be open in all of: {all} (zones from: {source})")
        }
        (None, None) => {}
    }
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "attempt", "started", "ended", "status", "class", "latency", "error",
    ]);
    for a in attempts {
        t.add_row(vec![
            a.attempt.to_string(),
            rfc3339(a.started_at),
            a.ended_at.map(rfc3339).unwrap_or_default(),
            a.http_status.map(|s| s.to_string()).unwrap_or_default(),
            a.class.unwrap_or_default(),
            a.latency_ms.map(|l| format!("{l} ms")).unwrap_or_default(),
            crate::text::escape_controls(&a.error.unwrap_or_default()).into_owned(),
        ]);
    }
    say!("{t}");
    Ok(exit::OK)
}
