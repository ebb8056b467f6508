//! `dialer report <CAMPAIGN> [--format csv|jsonl|json|html|xlsx] [--out PATH] [--status S,...]`:
//! the campaign's rows from the ledger, to stdout or a file.

use std::io::Write;
use std::path::Path;

use super::{CmdError, exit, open_existing};
use crate::cli::ReportArgs;
use crate::ledger::LedgerError;
use crate::report::{
    Format, ReportError, ReportOptions, StatusFilter, write_report, write_report_file,
};

impl From<ReportError> for CmdError {
    fn from(e: ReportError) -> CmdError {
        match e {
            ReportError::Ledger(e) => CmdError::Ledger(e),
            // A --out that exists or cannot be created is a bad flag: exit 2.
            ReportError::Exists(_) | ReportError::Create { .. } | ReportError::NeedsFile => {
                CmdError::Usage(e.to_string())
            }
            ReportError::Write(_) | ReportError::Xlsx(_) | ReportError::TooManyRows(_) => {
                CmdError::Io(e.to_string())
            }
        }
    }
}

pub fn run(ledger_path: &Path, args: &ReportArgs) -> Result<i32, CmdError> {
    let status = StatusFilter::parse(&args.status).map_err(CmdError::Usage)?;
    // An explicit --format wins; otherwise the --out file's extension; otherwise CSV.
    let format = args
        .format
        .or_else(|| args.out.as_deref().and_then(Format::from_path))
        .unwrap_or(Format::Csv);
    let ledger = open_existing(ledger_path)?;
    // A name that is not in the ledger is a typo on the command line: a usage error.
    let campaign = match ledger.campaign(&args.campaign) {
        Err(e @ LedgerError::NoSuchCampaign(_)) => return Err(CmdError::Usage(e.to_string())),
        other => other?,
    };
    let opts = ReportOptions {
        format,
        status,
        with_transcript: args.with_transcript,
        by: args.by.clone(),
    };
    match &args.out {
        Some(path) => {
            write_report_file(&ledger, &campaign, &opts, path, args.force)?;
            tracing::info!(path = %path.display(), "report written");
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match write_report(&ledger, &campaign, &opts, &mut out) {
                // The reader went away (`| head`): what it wanted, it got.
                Err(e) if e.is_broken_pipe() => return Ok(exit::OK),
                other => other?,
            }
            if let Err(e) = out.flush()
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(ReportError::Write(e).into());
            }
        }
    }
    Ok(exit::OK)
}
