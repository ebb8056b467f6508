//! `dialer resume [CAMPAIGN]` and `dialer retry CAMPAIGN --status ...`: dispatch from the
//! ledger alone.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CmdError, open_existing};
use crate::campaign;
use crate::cli::{ResumeArgs, RetryArgs};

pub async fn resume(
    ledger_path: &Path,
    args: &ResumeArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<i32, CmdError> {
    let ledger = open_existing(ledger_path)?;
    let outcome = campaign::resume(
        ledger.clone(),
        args.campaign.as_deref(),
        &args.overrides,
        env,
        interrupt,
        progress_bar,
    )
    .await?;
    super::run::finish(&ledger, &outcome)
}

pub async fn retry(
    ledger_path: &Path,
    args: &RetryArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<i32, CmdError> {
    let ledger = open_existing(ledger_path)?;
    let outcome = campaign::retry(
        ledger.clone(),
        &args.campaign,
        &args.status,
        &args.overrides,
        env,
        interrupt,
        progress_bar,
    )
    .await?;
    eprintln!(
        "dialer: put {} row(s) back in the queue ({})",
        outcome.requeued,
        args.status.join(", ")
    );
    super::run::finish(&ledger, &outcome)
}
