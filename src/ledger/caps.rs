//! The daily cap per number (`--max-calls-per-day`): no number is called more than N times
//! in any 24 hours, across every campaign in the ledger. Checked inside the transaction
//! that marks a row `in_flight`, so two processes dialing campaigns that share numbers
//! cannot both pass it (SQLite's write lock orders them). A row held back by the cap is
//! not failed: it waits in `retry_wait` until the oldest counted call leaves the 24 hours.

use rusqlite::{Transaction, params};

use super::requeue::{PLACED, placed};
use super::rows::{dialable, mark_dialable};
use super::{DialRow, InFlight, Ledger, LedgerError, now_ms};

/// 24 hours, in the ledger's milliseconds.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

// The cap counts attempts that may have placed a call (`PLACED`), and an attempt still open
// (`class IS NULL`): a call in flight. Refusals (4xx, 429, 503) placed nothing.

/// What marking a row for its call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Marked `in_flight`: the request may leave.
    Marked(InFlight),
    /// The row is no longer dialable (someone else moved it): it must not be sent.
    Gone,
    /// Its number had its N calls in the last 24 hours: the row now waits in `retry_wait`
    /// until then (unix ms), with no attempt spent.
    Capped { until: i64 },
}

impl Ledger {
    /// [`Ledger::mark_in_flight`] under the daily cap `per_day` (none: no cap).
    pub async fn mark_within_cap(
        &self,
        campaign_id: i64,
        row: &DialRow,
        per_day: Option<u32>,
    ) -> Result<Mark, LedgerError> {
        let (row_id, line) = (row.id, row.line as i64);
        // Bare (no savepoint): every call pays for this, and its guards answer `Gone`
        // rather than fail, so an error here means the ledger itself is failing.
        self.writer
            .call_bare(move |tx| {
                let Some(row) = dialable(tx, row_id)? else {
                    return Ok(Mark::Gone);
                };
                if let (Some(n), Some(e164)) = (per_day, &row.e164)
                    && let Some(until) = capped_until(tx, e164, n, now_ms())?
                {
                    hold(tx, row_id, n, until)?;
                    return Ok(Mark::Capped { until });
                }
                mark_dialable(tx, campaign_id, row_id, line, row).map(Mark::Marked)
            })
            .await
    }

    /// Calls counted against the cap for `e164` since `since` (unix ms), every campaign.
    pub fn calls_to_number_since(&self, e164: &str, since: i64) -> Result<u64, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                &format!(
                    "SELECT count(*) FROM attempts
                     WHERE e164 = ?1 AND started_at > ?2 AND (class IS NULL OR class IN {PLACED})"
                ),
                params![e164, since],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }
}

/// When `e164` may be called again, if it had `per_day` calls in the last 24 hours: the
/// N-th most recent call's time plus a day. The number's attempts are read on
/// `attempts_e164` and counted and sorted here: a number has a handful, and in SQL the
/// class list and the `ORDER BY … LIMIT` each cost an ephemeral table on every call.
fn capped_until(
    tx: &Transaction<'_>,
    e164: &str,
    per_day: u32,
    now: i64,
) -> rusqlite::Result<Option<i64>> {
    let mut st = tx.prepare_cached(
        "SELECT started_at, class FROM attempts WHERE e164 = ?1 AND started_at > ?2",
    )?;
    let mut found = st.query(params![e164, now - DAY_MS])?;
    let mut calls = Vec::new();
    while let Some(r) = found.next()? {
        let class: Option<String> = r.get(1)?;
        if class.as_deref().is_none_or(placed) {
            calls.push(r.get::<_, i64>(0)?);
        }
    }
    let nth = per_day.saturating_sub(1) as usize;
    if calls.len() <= nth {
        return Ok(None);
    }
    calls.sort_unstable_by(|a, b| b.cmp(a));
    Ok(Some((calls[nth] + DAY_MS).max(now + 1)))
}

/// Parks a dialable row until its number is under the cap again; nothing was sent.
fn hold(tx: &Transaction<'_>, row_id: i64, per_day: u32, until: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE rows SET state = 'retry_wait', next_attempt_at = ?2, error = ?3
         WHERE id = ?1 AND state IN ('pending', 'retry_wait')",
    )?
    .execute(params![
        row_id,
        until,
        format!(
            "held by --max-calls-per-day {per_day}: this number had its calls in the last 24 hours"
        )
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{AttemptRecord, NewCampaign, RowState, Transition, testing};

    async fn call(ledger: &Ledger, campaign_id: i64, row: &DialRow) -> Mark {
        let mark = ledger.mark_within_cap(campaign_id, row, Some(2)).await;
        if let Ok(Mark::Marked(f)) = mark {
            let rec = AttemptRecord {
                class: "success",
                http_status: Some(201),
                latency_ms: 1,
                sent_at: None,
                transition: Transition::Succeeded {
                    body: "{}".into(),
                    call_id: None,
                },
            };
            assert!(ledger.finish_attempt(row.id, f, rec).await.unwrap());
        }
        mark.unwrap()
    }

    async fn first(ledger: &Ledger, campaign_id: i64) -> DialRow {
        let rows = ledger.pending_after(campaign_id, 0, 10).await.unwrap();
        rows.into_iter().next().expect("a pending row")
    }

    #[tokio::test]
    async fn the_cap_counts_every_campaign_and_parks_the_row_without_spending_an_attempt() {
        let number = "+966500000001";
        let (_dir, ledger, a) = testing::campaign_with("a", vec![testing::dial(2, number)]).await;
        let mut ids = vec![a.id];
        for name in ["b", "c"] {
            let c = ledger
                .create_campaign(NewCampaign {
                    name: name.into(),
                    csv_path: format!("{name}.csv"),
                    csv_sha256: "00".into(),
                    settings: "{}".into(),
                    csv_bytes: 0,
                    suppress_sha256: None,
                })
                .await
                .unwrap();
            testing::insert(&ledger, c.id, vec![testing::dial(2, number)]).await;
            ids.push(c.id);
        }
        for id in &ids[..2] {
            let row = first(&ledger, *id).await;
            assert!(matches!(call(&ledger, *id, &row).await, Mark::Marked(_)));
        }
        let since = now_ms() - DAY_MS;
        assert_eq!(ledger.calls_to_number_since(number, since).unwrap(), 2);
        let row = first(&ledger, ids[2]).await;
        let Mark::Capped { until } = call(&ledger, ids[2], &row).await else {
            panic!("a third call in a day passed the cap of 2");
        };
        assert!(until > now_ms() + DAY_MS - 60_000, "{until}");
        let counts = ledger.counts(ids[2]).unwrap();
        assert_eq!(counts.state(RowState::RetryWait), 1, "held, not failed");
        let history = ledger.attempts(ids[2], 2).unwrap();
        assert!(history.is_empty(), "no attempt was spent: {history:?}");
        assert_eq!(ledger.calls_to_number_since(number, since).unwrap(), 2);
    }
}
