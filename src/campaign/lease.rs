//! The campaign's lease while this process dials it: taken before anything is dialed,
//! refreshed every second by a task this module owns, released on the way out. A refresh
//! that finds the lease gone stops the dispatch at once ([`Stop::LeaseLost`], exit 3):
//! another process is dialing the campaign now, and two must never dial it together.

use tokio_util::sync::CancellationToken;

use super::CampaignError;
use crate::dispatch::{Halt, Stop};
use crate::ledger::{Campaign, HEARTBEAT_EVERY_MS, Ledger};

pub(super) struct Lease {
    ledger: Ledger,
    campaign_id: i64,
    token: String,
    /// Ends the heartbeat task; it is joined in [`Lease::release`].
    stop: CancellationToken,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Lease {
    pub async fn acquire(
        ledger: &Ledger,
        campaign: &Campaign,
        halt: Halt,
    ) -> Result<Lease, CampaignError> {
        let token = format!("{}-{}", std::process::id(), rand::random::<u64>());
        if let Err(holder) = ledger.acquire_lease(campaign.id, token.clone()).await? {
            return Err(CampaignError::Locked {
                name: campaign.name.clone(),
                holder: holder.to_string(),
            });
        }
        let stop = CancellationToken::new();
        let heartbeat = tokio::spawn(beat(
            ledger.clone(),
            campaign.id,
            token.clone(),
            halt,
            stop.clone(),
        ));
        Ok(Lease {
            ledger: ledger.clone(),
            campaign_id: campaign.id,
            token,
            stop,
            heartbeat,
        })
    }

    pub async fn release(self) {
        self.stop.cancel();
        let _ = self.heartbeat.await;
        let _ = self
            .ledger
            .release_lease(self.campaign_id, self.token)
            .await;
    }
}

async fn beat(
    ledger: Ledger,
    campaign_id: i64,
    token: String,
    halt: Halt,
    stop: CancellationToken,
) {
    let every = std::time::Duration::from_millis(HEARTBEAT_EVERY_MS as u64);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => return,
        }
        match ledger.heartbeat(campaign_id, token.clone()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(
                    "another process took over this campaign's lease; stopping at once so that \
                     only one process dials it"
                );
                halt.stop(Stop::LeaseLost);
                return;
            }
            Err(e) => tracing::warn!("could not refresh the campaign lease: {e}"),
        }
    }
}
