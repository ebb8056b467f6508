//! Putting rows back in the queue (`retry`: by state, or undelivered calls within a cap of
//! calls per contact) and reading a row's attempt history.

use rusqlite::params;

use super::{Ledger, LedgerError, RowState, now_ms};

/// One entry of a row's attempt history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttemptHistory {
    pub attempt: u32,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub http_status: Option<u16>,
    pub class: Option<String>,
    pub error: Option<String>,
    pub latency_ms: Option<i64>,
}

impl Ledger {
    /// A row's attempts, oldest first.
    pub fn attempts(
        &self,
        campaign_id: i64,
        line: u64,
    ) -> Result<Vec<AttemptHistory>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare(
                "SELECT attempt, started_at, ended_at, http_status, class, error, latency_ms
                 FROM attempts WHERE campaign_id = ?1 AND line = ?2 ORDER BY id",
            )?;
            st.query_map(params![campaign_id, line as i64], |r| {
                Ok(AttemptHistory {
                    attempt: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    http_status: r.get(3)?,
                    class: r.get(4)?,
                    error: r.get(5)?,
                    latency_ms: r.get(6)?,
                })
            })?
            .collect()
        })
    }

    /// Puts every row in one of `states` back to `pending` with a fresh attempt budget,
    /// noting it in each row's history. Returns how many rows were requeued.
    pub async fn requeue(
        &self,
        campaign_id: i64,
        states: Vec<RowState>,
    ) -> Result<u64, LedgerError> {
        let states: Vec<RowState> = states
            .into_iter()
            .filter(|s| RowState::RETRYABLE.contains(s))
            .collect();
        self.writer
            .call(move |tx| {
                let mut total = 0;
                for state in &states {
                    tx.execute(
                        "INSERT INTO attempts (campaign_id, line, attempt, started_at, ended_at,
                                               class, error)
                         SELECT campaign_id, line, attempts, ?3, ?3, 'requeued',
                                'put back in the queue by dialer retry (was ' || state || ')'
                         FROM rows WHERE campaign_id = ?1 AND state = ?2",
                        params![campaign_id, state, now_ms()],
                    )?;
                    total += tx.execute(
                        "UPDATE rows SET state = 'pending', attempts = 0, next_attempt_at = NULL
                         WHERE campaign_id = ?1 AND state = ?2",
                        params![campaign_id, state],
                    )? as u64;
                }
                Ok(total)
            })
            .await
    }
}

/// Which rows whose call was not delivered go back in the queue (`retry --outcome undelivered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undelivered {
    /// Only calls whose last attempt is at least this old (unix ms cut-off).
    pub last_attempt_before: i64,
    /// Calls a contact may get in total, across every retry.
    pub max_calls: u32,
}

/// What `requeue_undelivered` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redial {
    pub requeued: u64,
    /// Undelivered rows left alone because they already had `max_calls` calls.
    pub at_cap: u64,
}

/// Attempt classes that may have placed a real call, as an SQL list: they count against
/// `--max-calls`, the daily cap and redials alike (one list, so the three never disagree).
pub(super) const PLACED: &str = "('success', 'uncertain', 'interrupted')";
/// The classes of [`PLACED`], for the checks made outside SQL.
const PLACED_CLASSES: [&str; 3] = ["success", "uncertain", "interrupted"];

/// Whether an attempt of `class` may have placed a call ([`PLACED`]).
pub(super) fn placed(class: &str) -> bool {
    PLACED_CLASSES.contains(&class)
}

impl Ledger {
    /// Puts rows whose call ended with `deliveryStatus: fail` back to `pending`, unless the
    /// contact already had `max_calls` calls. The old outcome stays in `webhook_events` and
    /// the row's history; the row's outcome columns are cleared for the next call's webhook.
    pub async fn requeue_undelivered(
        &self,
        campaign_id: i64,
        rule: Undelivered,
    ) -> Result<Redial, LedgerError> {
        self.writer
            .call(move |tx| {
                let candidates: Vec<(i64, u32)> = {
                    let mut st = tx.prepare(&format!(
                        "SELECT r.line, (SELECT count(*) FROM attempts a
                                         WHERE a.campaign_id = r.campaign_id AND a.line = r.line
                                           AND a.class IN {PLACED})
                         FROM rows r
                         WHERE r.campaign_id = ?1 AND r.state = 'succeeded'
                           AND r.delivery_status = 'fail' AND r.last_attempt_at <= ?2"
                    ))?;
                    st.query_map(params![campaign_id, rule.last_attempt_before], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?
                };
                let mut out = Redial::default();
                let now = now_ms();
                for (line, calls) in candidates {
                    if calls >= rule.max_calls {
                        out.at_cap += 1;
                        continue;
                    }
                    tx.execute(
                        "INSERT INTO attempts (campaign_id, line, attempt, started_at, ended_at,
                                               class, error)
                         SELECT campaign_id, line, attempts, ?3, ?3, 'requeued',
                                'redial: the last call was not delivered'
                         FROM rows WHERE campaign_id = ?1 AND line = ?2",
                        params![campaign_id, line, now],
                    )?;
                    tx.execute(
                        "UPDATE rows SET state = 'pending', attempts = 0, next_attempt_at = NULL,
                             delivery_status = NULL, provider_status = NULL, duration_s = NULL,
                             call_output = NULL, sentiment = NULL, ended_reason = NULL,
                             summary = NULL, transcript = NULL, provider_call_id = NULL,
                             outcome_at = NULL
                         WHERE campaign_id = ?1 AND line = ?2",
                        params![campaign_id, line],
                    )?;
                    out.requeued += 1;
                }
                Ok(out)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::{PLACED, PLACED_CLASSES};

    #[test]
    fn the_sql_list_and_the_rust_list_name_the_same_classes() {
        let sql: Vec<String> = PLACED_CLASSES.iter().map(|c| format!("'{c}'")).collect();
        assert_eq!(PLACED, format!("({})", sql.join(", ")));
    }
}
