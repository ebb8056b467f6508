//! Pause and cancel requests for a campaign (table `controls`, migration 0007): written by
//! whoever asks (the dashboard today, `dialer pause` / `dialer cancel` later), read and
//! marked handled by the dispatcher that runs the campaign. Asking and acting are separate
//! processes, so the table is the only channel between them: a request survives a restart
//! of either side and is acted on at most once.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Ledger, LedgerError, now_ms};

/// What a request asks the dispatcher to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlAction {
    /// Stop starting new calls and keep the campaign resumable.
    Pause,
    /// Stop starting new calls for good.
    Cancel,
}

impl ControlAction {
    /// The word stored in the ledger (the table's CHECK allows exactly these).
    pub fn as_str(self) -> &'static str {
        match self {
            ControlAction::Pause => "pause",
            ControlAction::Cancel => "cancel",
        }
    }

    /// `"pause"` or `"cancel"`, as a URL or a command line names it.
    pub fn parse(s: &str) -> Option<ControlAction> {
        match s {
            "pause" => Some(ControlAction::Pause),
            "cancel" => Some(ControlAction::Cancel),
            _ => None,
        }
    }
}

/// One stored request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlRequest {
    pub id: i64,
    pub campaign_id: i64,
    pub action: ControlAction,
    /// `user@host` of whoever asked, for the record; never used to decide anything.
    pub requested_by: String,
    /// Unix ms.
    pub requested_at: i64,
    /// Unix ms when a dispatcher acted on it; `None` while it waits.
    pub handled_at: Option<i64>,
    /// Unix ms when it stopped holding the campaign (`dialer resume` lifts a pause, `retry
    /// --status cancelled` a cancel); `None` while it stands.
    pub lifted_at: Option<i64>,
}

fn control_request(r: &rusqlite::Row<'_>) -> rusqlite::Result<ControlRequest> {
    let action: String = r.get(2)?;
    Ok(ControlRequest {
        id: r.get(0)?,
        campaign_id: r.get(1)?,
        // The CHECK constraint admits only the two words; anything else is a corrupt file.
        action: ControlAction::parse(&action).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown control action {action:?}").into(),
            )
        })?,
        requested_by: r.get(3)?,
        requested_at: r.get(4)?,
        handled_at: r.get(5)?,
        lifted_at: r.get(6)?,
    })
}

const COLUMNS: &str = "id, campaign_id, action, requested_by, requested_at, handled_at, lifted_at";

impl Ledger {
    /// Records that `requested_by` (`user@host`) asks for `action` on the campaign, and
    /// returns the stored request. It only asks: nothing changes until the dispatcher running
    /// the campaign sees the request ([`Ledger::open_controls`]) and marks it handled
    /// ([`Ledger::mark_control_handled`]). Asking twice stores two requests; the dispatcher
    /// handles them in order and a repeat costs nothing.
    pub async fn request_control(
        &self,
        campaign_id: i64,
        action: ControlAction,
        requested_by: String,
    ) -> Result<ControlRequest, LedgerError> {
        let at = now_ms();
        self.writer
            .call(move |tx| {
                tx.execute(
                    "INSERT INTO controls (campaign_id, action, requested_by, requested_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![campaign_id, action.as_str(), requested_by, at],
                )?;
                Ok(ControlRequest {
                    id: tx.last_insert_rowid(),
                    campaign_id,
                    action,
                    requested_by,
                    requested_at: at,
                    handled_at: None,
                    lifted_at: None,
                })
            })
            .await
    }

    /// The campaign's requests that no dispatcher has handled yet, oldest first. Meant for
    /// the dispatcher's poll: it is an indexed read on the read connection, cheap enough to
    /// run every second beside a full-rate run.
    pub fn open_controls(&self, campaign_id: i64) -> Result<Vec<ControlRequest>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM controls
                 WHERE campaign_id = ?1 AND handled_at IS NULL ORDER BY id"
            ))?;
            st.query_map([campaign_id], control_request)?.collect()
        })
    }

    /// The campaign's latest request, handled or not (what the dashboard shows).
    pub fn latest_control(&self, campaign_id: i64) -> Result<Option<ControlRequest>, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM controls WHERE campaign_id = ?1
                     ORDER BY id DESC LIMIT 1"
                ),
                [campaign_id],
                control_request,
            )
            .optional()
        })
    }

    /// Marks a request handled now. Returns false when it was already handled (another
    /// dispatcher got there first, or a repeat), so the caller acts on a request only when
    /// this returns true: that is what makes "at most once" hold across processes.
    pub async fn mark_control_handled(&self, id: i64) -> Result<bool, LedgerError> {
        let at = now_ms();
        self.writer
            .call(move |tx| {
                let n = tx.execute(
                    "UPDATE controls SET handled_at = ?2 WHERE id = ?1 AND handled_at IS NULL",
                    params![id, at],
                )?;
                Ok(n == 1)
            })
            .await
    }
}

impl Ledger {
    /// The request that holds the campaign now: the latest pause or cancel not lifted. A
    /// pause stands until `dialer resume`, so a `run` can refuse while it does.
    pub fn standing_control(
        &self,
        campaign_id: i64,
    ) -> Result<Option<ControlRequest>, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM controls WHERE campaign_id = ?1 AND lifted_at IS NULL
                     ORDER BY id DESC LIMIT 1"
                ),
                [campaign_id],
                control_request,
            )
            .optional()
        })
    }

    /// Lifts every standing request for `action` (marking it handled too, so no dispatcher
    /// acts on it later). Returns how many were lifted.
    pub async fn lift_controls(
        &self,
        campaign_id: i64,
        action: ControlAction,
    ) -> Result<u64, LedgerError> {
        let at = now_ms();
        self.writer
            .call(move |tx| {
                let n = tx.execute(
                    "UPDATE controls SET lifted_at = ?3, handled_at = coalesce(handled_at, ?3)
                     WHERE campaign_id = ?1 AND action = ?2 AND lifted_at IS NULL",
                    params![campaign_id, action.as_str(), at],
                )?;
                Ok(n as u64)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::testing;

    #[tokio::test]
    async fn a_request_waits_until_handled_once() {
        let (_dir, ledger, campaign) = testing::campaign_with("c", Vec::new()).await;
        assert_eq!(ledger.latest_control(campaign.id).unwrap(), None);
        let by = "ana@laptop".to_string();
        let pause = ledger
            .request_control(campaign.id, ControlAction::Pause, by.clone())
            .await
            .unwrap();
        let cancel = ledger
            .request_control(campaign.id, ControlAction::Cancel, by)
            .await
            .unwrap();
        let open = ledger.open_controls(campaign.id).unwrap();
        assert_eq!(open, vec![pause.clone(), cancel.clone()]);
        assert!(ledger.mark_control_handled(pause.id).await.unwrap());
        assert!(
            !ledger.mark_control_handled(pause.id).await.unwrap(),
            "only once"
        );
        let open = ledger.open_controls(campaign.id).unwrap();
        assert_eq!(open, vec![cancel.clone()]);
        let latest = ledger.latest_control(campaign.id).unwrap().unwrap();
        assert_eq!(latest.action, ControlAction::Cancel);
        assert_eq!(latest.requested_by, "ana@laptop");
    }

    #[tokio::test]
    async fn a_pause_stands_until_lifted_and_then_is_never_acted_on() {
        let (_dir, ledger, campaign) = testing::campaign_with("c", Vec::new()).await;
        let by = "ana@laptop".to_string();
        ledger
            .request_control(campaign.id, ControlAction::Pause, by)
            .await
            .unwrap();
        let standing = ledger.standing_control(campaign.id).unwrap().unwrap();
        assert_eq!(
            (standing.action, standing.requested_by.as_str()),
            (ControlAction::Pause, "ana@laptop")
        );
        let lifted = ledger
            .lift_controls(campaign.id, ControlAction::Pause)
            .await
            .unwrap();
        assert_eq!(lifted, 1);
        assert_eq!(ledger.standing_control(campaign.id).unwrap(), None);
        assert!(ledger.open_controls(campaign.id).unwrap().is_empty());
    }

    #[test]
    fn actions_are_the_two_words_the_table_allows() {
        for a in [ControlAction::Pause, ControlAction::Cancel] {
            assert_eq!(ControlAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(ControlAction::parse("resume"), None);
    }
}
