//! One file per subcommand, each thin: parse what it needs, call the library, print. The
//! exit code of every failure is decided here, in [`CmdError::exit_code`], and nowhere else.

pub mod completions;
pub mod control;
pub mod dashboard;
pub mod demo;
pub mod manpage;
pub mod report;
pub mod resume;
pub mod run;
pub mod sandbox;
pub mod status;
pub mod webhook;

use std::path::Path;

use tokio_util::sync::CancellationToken;

/// `println!` for what a command prints on stdout, without its panic when the reader has
/// gone (`dialer status | head -3`): see [`write_out`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cmd::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use say;

/// Writes to stdout. A reader that went away ends the program quietly with 0, as `| head`
/// expects of any Unix tool: everything a command does is in the ledger before it prints.
/// Any other failure to write is said on stderr, once, with exit 1.
pub(crate) fn write_out(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::OK);
        }
        eprintln!("dialer: cannot write to standard output: {e}");
        std::process::exit(exit::ROWS_FAILED);
    }
}

use crate::api::ApiError;
use crate::campaign::CampaignError;
use crate::ledger::{Ledger, LedgerError};

/// SPEC.md's exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ROWS_FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const LOCKED: i32 = 3;
    pub const AUTH: i32 = 4;
    pub const BREAKER: i32 = 5;
    pub const LEDGER: i32 = 6;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0}")]
    Io(String),
}

impl CmdError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CmdError::Usage(_) => exit::USAGE,
            CmdError::Campaign(CampaignError::Api(e)) | CmdError::Api(e) => api_exit_code(e),
            CmdError::Campaign(CampaignError::Ledger(e)) | CmdError::Ledger(e) => {
                ledger_exit_code(e)
            }
            CmdError::Campaign(CampaignError::Locked { .. }) => exit::LOCKED,
            CmdError::Campaign(CampaignError::Interrupted) => exit::INTERRUPTED,
            CmdError::Campaign(_) => exit::USAGE,
            CmdError::Io(_) => exit::ROWS_FAILED,
        }
    }
}

/// SPEC.md: an unknown campaign is a usage error; any other ledger failure is exit 6.
pub fn ledger_exit_code(e: &LedgerError) -> i32 {
    if e.is_usage() {
        exit::USAGE
    } else {
        exit::LEDGER
    }
}

fn api_exit_code(e: &ApiError) -> i32 {
    match e {
        ApiError::Auth { .. } | ApiError::BadTokenResponse { .. } => exit::AUTH,
        ApiError::Transport { .. } | ApiError::Client { .. } => exit::ROWS_FAILED,
        ApiError::InvalidUrl { .. }
        | ApiError::InsecureUrl { .. }
        | ApiError::NoCredentials
        | ApiError::PartialClientCredentials { .. }
        | ApiError::TokenFile { .. } => exit::USAGE,
    }
}

/// Opens a ledger that must already exist (status, report, resume): opening would
/// otherwise create an empty file and report nothing, which helps nobody.
pub fn open_existing(path: &Path) -> Result<Ledger, CmdError> {
    if !path.exists() {
        return Err(CmdError::Usage(format!(
            "no ledger at {}; start a campaign with `dialer run CONTACTS.csv`, or point at the \
             ledger with --ledger PATH",
            path.display()
        )));
    }
    Ok(Ledger::open(path)?)
}

/// Ctrl-C / SIGTERM: the first one cancels the token (stop starting calls, finish the
/// ones in flight); a second one exits at once, leaving in-flight rows to become
/// `uncertain` at the next start.
pub fn interrupt_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        for n in 0.. {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if n == 0 {
                tracing::warn!(
                    "stopping: no new calls; waiting for the calls in flight (press Ctrl-C again to quit at once)"
                );
                t.cancel();
            } else {
                eprintln!(
                    "dialer: quit at once; rows still in flight become uncertain at the next start"
                );
                std::process::exit(exit::INTERRUPTED);
            }
        }
    });
    token
}
