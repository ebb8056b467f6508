//! `dialer resume [CAMPAIGN]` and `dialer retry CAMPAIGN --status ...`: dispatch from the
//! ledger alone.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CmdError, open_existing};
use crate::api::Credentials;
use crate::campaign::{self, Again, RetryWhat, Settings};
use crate::cli::{OverrideArgs, ResumeArgs, RetryArgs};
use crate::ledger::{RowState, Undelivered, now_ms};

/// How `resume`/`retry` dial: the stored settings with the flags given again applied.
fn again(
    overrides: &OverrideArgs,
    env: impl Fn(&str) -> Option<String>,
    progress_bar: bool,
) -> Again {
    let o = overrides.clone();
    Again {
        creds: Credentials::resolve(overrides.token_file.as_deref(), env),
        limit: overrides.limit,
        progress_bar,
        patch: Box::new(move |s: &mut Settings| apply(&o, s)),
    }
}

/// Applies what the user passed on the command line over the stored settings.
fn apply(o: &OverrideArgs, s: &mut Settings) {
    if let Some(r) = o.rate {
        s.rate = r;
    }
    if let Some(b) = o.burst {
        s.burst = b;
    }
    if let Some(c) = o.concurrency {
        s.concurrency = c;
    }
    if let Some(m) = o.max_attempts {
        s.max_attempts = m;
    }
    if o.retry_uncertain {
        s.retry_uncertain = true;
    }
    if let Some(t) = o.timeout {
        s.timeout_ms = t.as_millis() as u64;
    }
    if let Some(u) = &o.api_url {
        s.api_url = u.clone();
    }
    if !o.window.is_empty() {
        s.set_windows(o.window.clone());
    }
    let r = &o.request;
    if let Some(t) = &r.template {
        s.template = Some(t.clone());
    }
    // Appended: for a key given twice the later value wins, as on `run`.
    s.meta.extend(r.meta.iter().cloned());
    s.no_create |= r.no_create;
    s.update_existing |= r.update_existing;
    if let Some(at) = campaign::day::deadline(o.expire_at, o.expire_after, jiff::Timestamp::now()) {
        s.day.expire_at = Some(at);
    }
}

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
        again(&args.overrides, env, progress_bar),
        interrupt,
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
        again(&args.overrides, env, progress_bar),
        interrupt,
    )
    .await?;
    let requeued: Vec<_> = states.iter().filter(|s| **s != RowState::Skipped).collect();
    if !requeued.is_empty() {
        let names: Vec<_> = requeued.iter().map(|s| s.as_str()).collect();
        eprintln!(
            "dialer: put {} row(s) back in the queue ({})",
            outcome.requeued,
            names.join(", ")
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
