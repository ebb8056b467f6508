//! `resume` and `retry`: dispatch a campaign from the ledger alone, with the settings it
//! was started with (a few may be overridden). The CSV is reopened only when its ingest
//! never finished and the file is still there unchanged.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{CampaignError, Entry, Job, RunOutcome, Settings, dial, off_runtime, sha256_file};
use crate::api::{ApiError, Credentials, LeversClient};
use crate::ledger::{Campaign, Ledger, RowState, Undelivered};
use crate::source::Source;

/// How `resume`/`retry` dial: the stored settings, changed by `patch` (the flags the user
/// passed again), within `limit` rows.
pub struct Again {
    pub patch: Box<dyn FnOnce(&mut Settings) + Send>,
    pub creds: Result<Credentials, ApiError>,
    pub limit: Option<u64>,
    pub progress_bar: bool,
}

/// Continues `name`, or the one unfinished campaign when no name is given.
pub async fn resume(
    ledger: Ledger,
    name: Option<&str>,
    again: Again,
    interrupt: CancellationToken,
) -> Result<RunOutcome, CampaignError> {
    let name = name.map(str::to_string);
    let job = off_runtime(move || {
        let campaign = match name {
            Some(n) => ledger.campaign(&n)?,
            None => only_unfinished(&ledger)?,
        };
        prepare(ledger, campaign, again, false)
    })
    .await?;
    dial(job, interrupt).await
}

/// What `retry` puts back in the queue.
#[derive(Debug, Clone, Default)]
pub struct RetryWhat {
    /// Rows in these states (failed, uncertain, expired, cancelled).
    pub states: Vec<RowState>,
    /// Rows whose call was not delivered, within a cap of calls per contact.
    pub redial: Option<Undelivered>,
}

/// Puts the campaign's rows in `states` back in the queue and dispatches it. `skipped`
/// rows are not put back as they are: they are planned again from the campaign's file,
/// and those the current settings would dial are dialed.
pub async fn retry(
    ledger: Ledger,
    name: &str,
    mut what: RetryWhat,
    again: Again,
    interrupt: CancellationToken,
) -> Result<RunOutcome, CampaignError> {
    let replan_skipped = what.states.contains(&RowState::Skipped);
    what.states.retain(|s| *s != RowState::Skipped);
    if let Some(bad) = what
        .states
        .iter()
        .find(|s| !RowState::RETRYABLE.contains(s))
    {
        let names: Vec<_> = RowState::RETRYABLE.iter().map(|s| s.as_str()).collect();
        return Err(CampaignError::Usage(format!(
            "cannot retry rows in state {bad}; --status takes {} or skipped",
            names.join(", ")
        )));
    }
    let name = name.to_string();
    let mut job = off_runtime(move || {
        let campaign = ledger.campaign(&name)?;
        prepare(ledger, campaign, again, replan_skipped)
    })
    .await?;
    let past = job.cfg.expire_at.filter(|at| *at <= jiff::Timestamp::now());
    if let Some(at) = past.filter(|_| what.states.contains(&RowState::Expired)) {
        return Err(CampaignError::Usage(format!(
            "campaign {:?} expired at {at}; its expired rows would expire again at once: pass \
             a later deadline with --expire-after DURATION or --expire-at TIME",
            job.campaign.name
        )));
    }
    job.entry = Entry::Retry {
        lifts_cancel: what.states.contains(&RowState::Cancelled),
    };
    job.requeue = what.states;
    job.redial = what.redial;
    dial(job, interrupt).await
}

fn prepare(
    ledger: Ledger,
    campaign: Campaign,
    again: Again,
    replan_skipped: bool,
) -> Result<Job, CampaignError> {
    let mut settings = Settings::from_json(&campaign.settings, &campaign.name)?;
    (again.patch)(&mut settings);
    let fix = super::fix::for_again(&campaign, &settings, replan_skipped)?;
    let client = LeversClient::new(&settings.api_url, again.creds?, settings.timeout())?;
    let source = if campaign.ingested {
        None
    } else {
        reopen_csv(&campaign, &settings)
    };
    let count_from = source
        .as_ref()
        .map(|_| (campaign.csv_path.clone().into(), settings.source_options()));
    Ok(Job {
        cfg: settings.dispatch_config(again.limit)?,
        ledger,
        campaign,
        client,
        source,
        requeue: Vec::new(),
        redial: None,
        count_from,
        progress_bar: again.progress_bar,
        fix,
        entry: Entry::Resume,
    })
}

/// The rest of an interrupted ingest, if the same file is still where it was.
fn reopen_csv(campaign: &Campaign, settings: &Settings) -> Option<(Source, crate::plan::Planner)> {
    let path = Path::new(&campaign.csv_path);
    let same = sha256_file(path, &|| false).is_ok_and(|sha| sha == campaign.csv_sha256);
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
