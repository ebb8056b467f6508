//! `dialer dashboard [--listen ADDR]`: serves the live view of the ledger until Ctrl-C or
//! SIGTERM. Shared with `dialer webhook --dashboard`: [`start`] checks the address and the
//! token, opens the ledger and prints where to look.

use std::net::SocketAddr;
use std::path::Path;

use super::say;
use super::{CmdError, exit, open_existing};
use crate::cli::DashboardArgs;
use crate::dashboard::{self, Dashboard, DashboardError, TOKEN_ENV};

impl From<DashboardError> for CmdError {
    fn from(e: DashboardError) -> CmdError {
        match e {
            DashboardError::Ledger(e) => CmdError::Ledger(e),
            other => CmdError::Usage(other.to_string()),
        }
    }
}

/// Starts the dashboard on `listen` over the ledger at `ledger_path` and prints its URL on
/// stdout (scripts and tests read the port picked for :0). The token is never printed.
pub async fn start(
    ledger_path: &Path,
    listen: SocketAddr,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Dashboard, CmdError> {
    let token = dashboard::check(listen, env(TOKEN_ENV))?;
    let with_token = token.is_some();
    let board = dashboard::start(ledger_path, listen, token).await?;
    say!("dashboard on {}", board.url());
    if with_token {
        eprintln!(
            "open {}#token=... with the value of {TOKEN_ENV}; every request must carry it",
            board.url()
        );
    }
    Ok(board)
}

pub async fn run(
    ledger_path: &Path,
    args: &DashboardArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<i32, CmdError> {
    // Refuse an unsafe address before touching the ledger.
    dashboard::check(args.listen, env(TOKEN_ENV))?;
    drop(open_existing(ledger_path)?);
    let board = start(ledger_path, args.listen, env).await?;
    super::webhook::stop_signal().await?;
    tracing::info!("stopping the dashboard");
    board.shutdown().await;
    Ok(exit::OK)
}
