//! Pause, cancel and expiry while a campaign is dialed, and what they leave behind. The
//! ledger is the only channel: `dialer pause`/`cancel` (or the dashboard) write a request,
//! the watcher this module owns reads it (twice a second) and stops the dispatch through the
//! one [`Halt`]; the same watcher stops it at `--expire-at`. After the dispatch, the rows
//! not dialed become `cancelled` or `expired`. A pause stands until `dialer resume`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::CampaignError;
use super::lease::Lease;
use crate::dispatch::{Halt, Stop};
use crate::ledger::{
    Campaign, Closed, ControlAction, ControlRequest, Ledger, LedgerError, hostname, now_ms,
};

/// How often the watcher reads the ledger: SPEC.md asks for at least once a second.
const POLL: Duration = Duration::from_millis(500);

/// Who is asking, for the record: `user@host`.
pub fn who() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("{}@{}", user.trim(), hostname())
}

/// How a command enters a campaign that may stand paused or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Entry {
    /// `run`: refuses a paused or cancelled campaign, naming what lifts it.
    #[default]
    Run,
    /// `resume`: lifts a pause.
    Resume,
    /// `retry`: lifts a cancel when it dials the cancelled rows again.
    Retry { lifts_cancel: bool },
}

/// Checks (and lifts, when `entry` may) what holds the campaign; run under its lease.
pub(super) async fn enter(
    ledger: &Ledger,
    campaign: &Campaign,
    entry: Entry,
) -> Result<(), CampaignError> {
    if entry == Entry::Resume {
        ledger
            .lift_controls(campaign.id, ControlAction::Pause)
            .await?;
    }
    if let Entry::Retry { lifts_cancel: true } = entry {
        ledger
            .lift_controls(campaign.id, ControlAction::Cancel)
            .await?;
    }
    let standing = standing(ledger, campaign.id).await?;
    match standing.map(|c| (c.action, c.requested_by)) {
        Some((ControlAction::Pause, by)) => Err(CampaignError::Paused {
            name: campaign.name.clone(),
            by,
        }),
        Some((ControlAction::Cancel, by)) => Err(CampaignError::Cancelled {
            name: campaign.name.clone(),
            by,
        }),
        None => Ok(()),
    }
}

async fn standing(ledger: &Ledger, id: i64) -> Result<Option<ControlRequest>, LedgerError> {
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || l.standing_control(id))
        .await
        .map_err(|_| LedgerError::WriterGone)?
}

/// The watcher task: owned, stopped and joined by [`Watch::finish`].
pub(super) struct Watch {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    pub fn start(
        ledger: &Ledger,
        campaign_id: i64,
        expire_at: Option<jiff::Timestamp>,
        halt: &Halt,
    ) -> Watch {
        let stop = CancellationToken::new();
        let task = tokio::spawn(watch(
            ledger.clone(),
            campaign_id,
            expire_at.map(|t| t.as_millisecond()),
            halt.clone(),
            stop.clone(),
        ));
        Watch { stop, task }
    }

    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn watch(
    ledger: Ledger,
    campaign_id: i64,
    expire_at: Option<i64>,
    halt: Halt,
    stop: CancellationToken,
) {
    loop {
        if let Some(why) = requested_stop(&ledger, campaign_id).await {
            return halt.stop(why);
        }
        if expire_at.is_some_and(|t| now_ms() >= t) {
            tracing::warn!("--expire-at has come: no more calls start; the rows left expire");
            return halt.stop(Stop::Expired);
        }
        let to_expiry = expire_at.map(|t| Duration::from_millis((t - now_ms()).max(0) as u64));
        let wait = to_expiry.map_or(POLL, |d| d.min(POLL));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => return,
            _ = halt.token().cancelled() => return,
        }
    }
}

/// The stop an open request asks for, marking it handled; a cancel wins over a pause. A
/// failed read is logged and read again at the next poll: it must not stop the dialing.
async fn requested_stop(ledger: &Ledger, campaign_id: i64) -> Option<Stop> {
    let l = ledger.clone();
    let open = match tokio::task::spawn_blocking(move || l.open_controls(campaign_id)).await {
        Ok(Ok(open)) => open,
        Ok(Err(e)) => {
            tracing::warn!("could not read pause/cancel requests: {e}");
            return None;
        }
        Err(_) => return None,
    };
    let mut why = None;
    for req in open {
        if !matches!(ledger.mark_control_handled(req.id).await, Ok(true)) {
            continue;
        }
        let by = req.requested_by;
        why = match (req.action, why) {
            (ControlAction::Cancel, _) => Some(Stop::Cancelled(by)),
            (ControlAction::Pause, None) => Some(Stop::Paused(by)),
            (ControlAction::Pause, kept) => kept,
        };
    }
    if let Some(s) = &why {
        tracing::warn!(
            "{}: no new calls start; waiting for the calls in flight",
            describe(s)
        );
    }
    why
}

fn describe(stop: &Stop) -> String {
    match stop {
        Stop::Paused(by) => format!("paused by {by}"),
        Stop::Cancelled(by) => format!("cancelled by {by}"),
        _ => String::new(),
    }
}

/// After the dispatch: a cancel or an expiry closes the rows never dialed. Returns how many.
pub(super) async fn settle(
    ledger: &Ledger,
    campaign_id: i64,
    stop: &Stop,
    expire_at: Option<jiff::Timestamp>,
) -> Result<u64, LedgerError> {
    let (why, detail) = match (stop, expire_at) {
        (Stop::Cancelled(by), _) => (Closed::Cancelled, format!("cancelled by {by}")),
        (Stop::Expired, Some(at)) => (
            Closed::Expired,
            format!("not dialed before --expire-at {at}"),
        ),
        _ => return Ok(0),
    };
    ledger.close_open_rows(campaign_id, why, detail).await
}

/// What `dialer pause` / `dialer cancel` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// A process is dialing the campaign: it acts within a second.
    Running { holder: String },
    /// Nobody is dialing: a pause is remembered, a cancel applied now (rows cancelled).
    Applied { cancelled: u64 },
}

/// Records `action` for `campaign` as asked by `by`; with no process dialing it, a cancel
/// is applied at once under the campaign's lease (so no dispatcher can start meanwhile).
pub async fn request(
    ledger: &Ledger,
    campaign: &Campaign,
    action: ControlAction,
    by: String,
) -> Result<Asked, CampaignError> {
    let req = ledger
        .request_control(campaign.id, action, by.clone())
        .await?;
    let lease = match Lease::acquire(ledger, campaign, Halt::default()).await {
        Ok(lease) => lease,
        Err(CampaignError::Locked { holder, .. }) => return Ok(Asked::Running { holder }),
        Err(e) => return Err(e),
    };
    let applied = apply_now(ledger, campaign.id, req.id, action, by).await;
    lease.release().await;
    applied.map_err(CampaignError::from)
}

async fn apply_now(
    ledger: &Ledger,
    campaign_id: i64,
    request_id: i64,
    action: ControlAction,
    by: String,
) -> Result<Asked, LedgerError> {
    if action == ControlAction::Pause {
        // Left open: a `run` refuses while it stands, `resume` lifts it.
        return Ok(Asked::Applied { cancelled: 0 });
    }
    ledger.mark_control_handled(request_id).await?;
    let n = settle(ledger, campaign_id, &Stop::Cancelled(by), None).await?;
    Ok(Asked::Applied { cancelled: n })
}
