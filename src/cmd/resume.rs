//! `dialer resume [CAMPAIGN]` and `dialer retry CAMPAIGN --status ...`: dispatch from the
//! ledger alone.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CmdError, open_existing};
use crate::campaign::{self, RetryWhat};
use crate::cli::{ResumeArgs, RetryArgs};
use crate::ledger::{Undelivered, now_ms};

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
    let states = args.states();
    let redial = args.outcome.map(|_| Undelivered {
        last_attempt_before: now_ms() - args.min_age.as_millis() as i64,
        max_calls: args.max_calls,
    });
    let outcome = campaign::retry(
        ledger.clone(),
        &args.campaign,
        RetryWhat {
            states: states.clone(),
            redial,
        },
        &args.overrides,
        env,
        interrupt,
        progress_bar,
    )
    .await?;
    if !states.is_empty() {
        eprintln!(
            "dialer: put {} row(s) back in the queue ({})",
            outcome.requeued,
            states.join(", ")
        );
    }
    if let Some(r) = outcome.redial {
        eprintln!(
            "dialer: re-dialing {} undelivered call(s); {} left alone at --max-calls {}",
            r.requeued, r.at_cap, args.max_calls
        );
    }
    super::run::finish(&ledger, &outcome)
}
