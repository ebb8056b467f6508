//! `dialer run <CSV>`: start a campaign from a CSV, or continue the same one. The flags
//! become [`Settings`] here; the library never sees them.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::say;
use super::{CmdError, exit, ledger_exit_code};
use crate::api::Credentials;
use crate::campaign::{
    self, CampaignError, DaySettings, IngestError, RedialSettings, RunOutcome, Settings, Start, day,
};
use crate::cli::{DayArgs, DialArgs, RedialWhat, RunArgs};
use crate::dispatch::Stop;
use crate::ledger::Ledger;
use crate::ledger::RowState;
use crate::report::Summary;

pub async fn run(
    ledger_path: &Path,
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<i32, CmdError> {
    let name = campaign_name(args)?;
    let settings = settings(args);
    if args.dry_run {
        let csv = args.csv.clone();
        let now = jiff::Timestamp::now();
        let stop = interrupt.clone();
        let report = tokio::task::spawn_blocking(move || {
            campaign::dry_run(&csv, &name, &settings, now, &|| stop.is_cancelled())
        })
        .await
        .map_err(|_| CampaignError::Interrupted)??;
        super::write_out(format_args!("{}", report.render()));
        return Ok(exit::OK);
    }
    let start = Start {
        csv: args.csv.clone(),
        name,
        settings,
        limit: args.dial.limit,
        progress_bar,
    };
    let creds = Credentials::resolve(args.dial.token_file.as_deref(), env);
    let outcome = campaign::run(ledger_path, start, creds, interrupt).await?;
    let ledger = Ledger::open(ledger_path)?;
    finish(&ledger, &outcome)
}

/// The settings `dialer run` stores with a campaign, from its flags.
pub fn settings(args: &RunArgs) -> Settings {
    let d: &DialArgs = &args.dial;
    Settings {
        api_url: d.api_url.clone(),
        template: args.template.clone(),
        no_create: args.no_create,
        update_existing: args.update_existing,
        meta: args.meta.clone(),
        map: args
            .map
            .iter()
            .map(|(c, f)| (c.clone(), f.to_string()))
            .collect(),
        default_region: args.default_region.clone(),
        suppress: args.suppress.clone(),
        encoding: args.encoding.clone(),
        delimiter: args.delimiter,
        sheet: args.sheet.clone(),
        rate: d.rate,
        burst: d.burst,
        concurrency: d.concurrency,
        max_attempts: d.max_attempts,
        retry_uncertain: d.retry_uncertain,
        timeout_ms: d.timeout.as_millis() as u64,
        tz: args.tz.clone(),
        window: args.schedule(),
        start_at: args.start_at,
        day: day_settings(&args.day, jiff::Timestamp::now()),
    }
}

/// `--expire-after` becomes an absolute deadline here, so a resume keeps it.
fn day_settings(d: &DayArgs, now: jiff::Timestamp) -> DaySettings {
    DaySettings {
        expire_at: day::deadline(d.expire_at, d.expire_after, now),
        max_calls_per_day: d.max_calls_per_day,
        redial: d.redial.map(|RedialWhat::Undelivered| RedialSettings {
            after_ms: d.redial_after.as_millis() as u64,
            max_calls: d.max_calls,
        }),
        outcome_timeout_ms: d.outcome_timeout.as_millis() as u64,
    }
}

/// `--campaign`, or the CSV's file stem.
pub fn campaign_name(args: &RunArgs) -> Result<String, CmdError> {
    let name = match &args.campaign {
        Some(n) => n.trim().to_string(),
        None => file_stem(&args.csv),
    };
    if name.is_empty() {
        return Err(CampaignError::EmptyName.into());
    }
    Ok(name)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Prints the summary and the reason the run ended; returns SPEC.md's exit code.
pub fn finish(ledger: &Ledger, outcome: &RunOutcome) -> Result<i32, CmdError> {
    let summary = Summary::load(ledger, &outcome.campaign)?;
    say!("{}", summary.table());
    let name = crate::text::quote(&outcome.campaign.name);
    let ingest_code = outcome.ingest_error.as_ref().map(|e| {
        eprintln!(
            "dialer: reading the file stopped early: {e}; run the same command again to continue"
        );
        match e {
            IngestError::Ledger(l) => ledger_exit_code(l),
            IngestError::Source(_) => exit::ROWS_FAILED,
        }
    });
    let counts = &summary.counts;
    let code = match &outcome.report.stop {
        Stop::Auth(message) => {
            eprintln!(
                "dialer: the API refused our credentials ({message}); no call was placed for the \
                 rows left pending. Check LEVERS_API_TOKEN or LEVERS_CLIENT_ID/LEVERS_CLIENT_SECRET, \
                 then run `dialer resume {name}`"
            );
            exit::AUTH
        }
        Stop::Breaker => {
            eprintln!(
                "dialer: stopped after {} consecutive failed calls (the API looks unhealthy); \
                 nothing was lost. When it is back, run `dialer resume {name}`",
                crate::dispatch::BREAKER_THRESHOLD
            );
            exit::BREAKER
        }
        Stop::Refused(message) => {
            eprintln!(
                "dialer: stopped: the first {} requests were all refused with the same answer: \
                 {}. The {} row(s) not yet sent are still pending. Fix the cause (a wrong \
                 template is the usual one), then run `dialer retry {name} --template UUID` \
                 (it also re-sends the refused rows), or `dialer run {} --campaign {name} \
                 --template UUID`",
                crate::dispatch::REFUSAL_PROBE,
                crate::text::cell(message),
                counts.open(),
                crate::text::quote(&outcome.campaign.csv_path),
            );
            exit::BREAKER
        }
        Stop::Interrupted => {
            eprintln!("dialer: interrupted; run `dialer resume {name}` to continue");
            exit::INTERRUPTED
        }
        Stop::Ledger(e) => {
            eprintln!("dialer: stopped because {e}");
            exit::LEDGER
        }
        Stop::LeaseLost => {
            eprintln!(
                "dialer: stopped: another process took over campaign {name} and is dialing it \
                 now; `dialer status {name}` shows its progress"
            );
            exit::LOCKED
        }
        Stop::Paused(by) => {
            eprintln!(
                "dialer: paused by {by}; the calls in flight were recorded. `dialer resume {name}` \
                 continues"
            );
            exit::INTERRUPTED
        }
        Stop::Cancelled(by) => {
            eprintln!(
                "dialer: cancelled by {by}; {} row(s) not yet dialed are now cancelled",
                counts.state(RowState::Cancelled)
            );
            exit::ROWS_FAILED
        }
        Stop::Expired if counts.state(RowState::Expired) > 0 => {
            eprintln!(
                "dialer: the campaign expired; {} row(s) not dialed in time are now expired \
                 (`dialer retry {name} --status expired` dials them)",
                counts.state(RowState::Expired)
            );
            exit::ROWS_FAILED
        }
        Stop::Done | Stop::Limit | Stop::Expired => {
            if counts.open() > 0 {
                eprintln!(
                    "dialer: {} row(s) still to dial; run `dialer resume {name}` to continue",
                    counts.open()
                );
            }
            if counts.troubled() > 0 {
                exit::ROWS_FAILED
            } else {
                exit::OK
            }
        }
    };
    region_hint(outcome, counts);
    // A file that broke off mid-way is never a clean finish.
    Ok(match ingest_code {
        Some(c) if code == exit::OK || code == exit::ROWS_FAILED => c.max(code),
        _ => code,
    })
}

/// Rows skipped as `invalid_number` in a campaign without `--default-region` are most often
/// numbers written without +country: say how to plan them again.
fn region_hint(outcome: &RunOutcome, counts: &crate::ledger::Counts) {
    let c = &outcome.campaign;
    let invalid = counts.skipped.get("invalid_number").copied().unwrap_or(0);
    let no_region =
        Settings::from_json(&c.settings, &c.name).is_ok_and(|s| s.default_region.is_none());
    if invalid > 0 && no_region {
        eprintln!(
            "dialer: {invalid} row(s) skipped as invalid_number, and the campaign has no \
             --default-region; if those numbers are written without +country, run `dialer run \
             {} --campaign {} --default-region CC` (e.g. SA): the skipped rows are planned \
             again and the valid ones dialed",
            crate::text::quote(&c.csv_path),
            crate::text::quote(&c.name)
        );
    }
}
