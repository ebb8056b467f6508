//! `resume` and `retry`: dispatch a campaign from the ledger alone, with the settings it
//! was started with (a few may be overridden). The CSV is reopened only when its ingest
//! never finished and the file is still there unchanged.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CampaignError, Job, RunOutcome, Settings, dial, sha256_file};
use crate::api::{Credentials, LeversClient};
use crate::cli::OverrideArgs;
use crate::ledger::{Campaign, Ledger, RETRYABLE_STATES, Undelivered};
use crate::source::Source;

/// Continues `name`, or the one unfinished campaign when no name is given.
pub async fn resume(
    ledger: Ledger,
    name: Option<&str>,
    overrides: &OverrideArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<RunOutcome, CampaignError> {
    let campaign = match name {
        Some(n) => ledger.campaign(n)?,
        None => only_unfinished(&ledger)?,
    };
    let mut job = prepare(ledger, campaign, overrides, env)?;
    job.progress_bar = progress_bar;
    dial(job, interrupt).await
}

/// What `retry` puts back in the queue.
#[derive(Debug, Clone, Default)]
pub struct RetryWhat {
    /// Rows in these states (failed, uncertain).
    pub states: Vec<String>,
    /// Rows whose call was not delivered, within a cap of calls per contact.
    pub redial: Option<Undelivered>,
}

/// Puts the campaign's rows in `states` back in the queue and dispatches it.
pub async fn retry(
    ledger: Ledger,
    name: &str,
    what: RetryWhat,
    overrides: &OverrideArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<RunOutcome, CampaignError> {
    if let Some(bad) = what
        .states
        .iter()
        .find(|s| !RETRYABLE_STATES.contains(&s.as_str()))
    {
        return Err(CampaignError::Usage(format!(
            "cannot retry rows in state {bad:?}; --status takes {}",
            RETRYABLE_STATES.join(", ")
        )));
    }
    let campaign = ledger.campaign(name)?;
    let mut job = prepare(ledger, campaign, overrides, env)?;
    job.requeue = what.states;
    job.redial = what.redial;
    job.progress_bar = progress_bar;
    dial(job, interrupt).await
}

fn prepare(
    ledger: Ledger,
    campaign: Campaign,
    overrides: &OverrideArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Job, CampaignError> {
    let mut settings: Settings = serde_json::from_str(&campaign.settings)
        .map_err(|e| CampaignError::Usage(format!(
            "the settings of campaign {:?} in the ledger are unreadable ({e}); start it again with `dialer run`",
            campaign.name
        )))?;
    overrides.apply(&mut settings);
    let creds = Credentials::resolve(overrides.token_file.as_deref(), env)?;
    let client = LeversClient::new(&settings.api_url, creds, settings.timeout())?;
    let source = if campaign.ingested {
        None
    } else {
        reopen_csv(&campaign, &settings)
    };
    let count_from = source
        .as_ref()
        .map(|_| (campaign.csv_path.clone().into(), settings.source_options()));
    Ok(Job {
        cfg: settings.dispatch_config(overrides.limit)?,
        ledger,
        campaign,
        client,
        source,
        requeue: Vec::new(),
        redial: None,
        count_from,
        progress_bar: true,
    })
}

/// The rest of an interrupted ingest, if the same file is still where it was.
fn reopen_csv(campaign: &Campaign, settings: &Settings) -> Option<(Source, crate::plan::Planner)> {
    let path = Path::new(&campaign.csv_path);
    let same = sha256_file(path).is_ok_and(|sha| sha == campaign.csv_sha256);
    if !same {
        tracing::warn!(
            "campaign {:?} was not fully read from {} and that file is gone or changed; \
             dialing the rows already in the ledger",
            campaign.name,
            path.display()
        );
        return None;
    }
    let source = Source::open(path, &settings.source_options()).ok()?;
    let planner = settings.planner(&campaign.name, source.headers()).ok()?;
    Some((source, planner))
}

fn only_unfinished(ledger: &Ledger) -> Result<Campaign, CampaignError> {
    let mut open = Vec::new();
    for c in ledger.list_campaigns()? {
        if !c.ingested || ledger.has_open_rows(c.id)? {
            open.push(c);
        }
    }
    match open.len() {
        1 => Ok(open.remove(0)),
        0 => Err(CampaignError::Usage(
            "nothing to resume: every campaign in the ledger is finished (`dialer status` lists them)"
                .into(),
        )),
        _ => Err(CampaignError::Usage(format!(
            "more than one campaign is unfinished ({}); name one: `dialer resume NAME`",
            open.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}
