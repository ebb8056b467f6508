//! `dialer run <CSV>`: start a campaign from a CSV, or continue the same one.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CmdError, exit};
use crate::campaign::{self, RunOutcome};
use crate::cli::RunArgs;
use crate::dispatch::Stop;
use crate::ledger::Ledger;
use crate::report::Summary;

pub async fn run(
    ledger_path: &Path,
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<i32, CmdError> {
    if args.dry_run {
        let name = campaign::campaign_name(args)?;
        let settings = campaign::Settings::from_run(args);
        let report = campaign::dry_run(&args.csv, &name, &settings, jiff::Timestamp::now())?;
        print!("{}", report.render());
        return Ok(exit::OK);
    }
    let outcome = campaign::run(ledger_path, args, env, interrupt, progress_bar).await?;
    let ledger = Ledger::open(ledger_path)?;
    finish(&ledger, &outcome)
}

/// Prints the summary and the reason the run ended; returns SPEC.md's exit code.
pub fn finish(ledger: &Ledger, outcome: &RunOutcome) -> Result<i32, CmdError> {
    let summary = Summary::load(ledger, &outcome.campaign)?;
    println!("{}", summary.table());
    let name = &outcome.campaign.name;
    if let Some(e) = &outcome.ingest_error {
        eprintln!(
            "dialer: reading the CSV stopped early: {e}; run the same command again to continue"
        );
    }
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
        Stop::Interrupted => {
            eprintln!("dialer: interrupted; run `dialer resume {name}` to continue");
            exit::INTERRUPTED
        }
        Stop::Ledger(e) => {
            eprintln!("dialer: stopped because the ledger could not be written: {e}");
            exit::ROWS_FAILED
        }
        Stop::Done | Stop::Limit => {
            if counts.open() > 0 {
                eprintln!(
                    "dialer: {} row(s) still to dial; run `dialer resume {name}` to continue",
                    counts.open()
                );
            }
            if counts.state("failed") + counts.state("uncertain") > 0 {
                exit::ROWS_FAILED
            } else {
                exit::OK
            }
        }
    };
    Ok(code)
}
