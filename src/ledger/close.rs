//! Ending a campaign's rows that were never dialed: `expired` at `--expire-at`, `cancelled`
//! by `dialer cancel`. Only `pending` and `retry_wait` rows move (SPEC.md's diagram): a row
//! in flight or already dialed keeps what it has.

use rusqlite::params;

use super::{Ledger, LedgerError, RowState, now_ms};

/// Why rows that were never dialed are closed: the two ends SPEC.md gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// `--expire-at` passed.
    Expired,
    /// `dialer cancel`.
    Cancelled,
}

impl Closed {
    pub fn state(self) -> RowState {
        match self {
            Closed::Expired => RowState::Expired,
            Closed::Cancelled => RowState::Cancelled,
        }
    }
}

impl Ledger {
    /// Moves every `pending` / `retry_wait` row of the campaign to `why`'s state with `detail` as its reason, noting it in each row's history. Returns how
    /// many rows moved.
    pub async fn close_open_rows(
        &self,
        campaign_id: i64,
        why: Closed,
        detail: String,
    ) -> Result<u64, LedgerError> {
        let to = why.state();
        self.writer
            .call(move |tx| {
                let now = now_ms();
                tx.execute(
                    "INSERT INTO attempts (campaign_id, line, attempt, started_at, ended_at,
                                           class, error)
                     SELECT campaign_id, line, attempts, ?2, ?2, ?3, ?4 FROM rows
                     WHERE campaign_id = ?1 AND state IN ('pending', 'retry_wait')",
                    params![campaign_id, now, to, detail],
                )?;
                let n = tx.execute(
                    "UPDATE rows SET state = ?2, detail = ?3, next_attempt_at = NULL
                     WHERE campaign_id = ?1 AND state IN ('pending', 'retry_wait')",
                    params![campaign_id, to, detail],
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
    async fn only_rows_never_dialed_are_closed() {
        let rows = vec![
            testing::dial(2, "+966500000001"),
            testing::dial(3, "+966500000002"),
        ];
        let (_dir, ledger, c) = testing::campaign_with("c", rows).await;
        let row = ledger.pending_after(c.id, 0, 1).await.unwrap().remove(0);
        ledger.mark_in_flight(c.id, &row).await.unwrap().unwrap();
        let n = ledger
            .close_open_rows(c.id, Closed::Expired, "past --expire-at".into())
            .await
            .unwrap();
        assert_eq!(n, 1);
        let counts = ledger.counts(c.id).unwrap();
        assert_eq!(counts.state(RowState::Expired), 1);
        assert_eq!(
            counts.state(RowState::InFlight),
            1,
            "a call in flight keeps its state"
        );
        let history = ledger.attempts(c.id, 3).unwrap();
        assert_eq!(history[0].class.as_deref(), Some("expired"));
    }
}
