//! Redials within a run (`--redial undelivered`): a row whose call was placed but not
//! delivered goes back to `retry_wait`, on its next secondary number at once or, with none
//! left, on the same number `--redial-after` after that call, until it has had
//! `--max-calls` calls; and the question a redialing run asks to know whether it may
//! end: which placed calls are still waiting for their outcome, and until when.

use rusqlite::{Transaction, params};

use super::requeue::PLACED;
use super::{Ledger, LedgerError, now_ms};

/// How a run redials (all times in ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedialRule {
    /// Delay from an undelivered call to its redial.
    pub after_ms: i64,
    /// Calls a row may get in all, the first one included.
    pub max_calls: u32,
    /// How long a placed call's outcome is waited for; after it the row is not redialed.
    pub outcome_timeout_ms: i64,
}

/// What one look at the campaign found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedialTick {
    /// Undelivered rows just put in `retry_wait` for their redial.
    pub scheduled: u64,
    /// Undelivered rows that reached `--max-calls` and get no more calls.
    pub at_cap: u64,
    /// Placed calls still waiting for their outcome, within `--outcome-timeout`.
    pub awaiting: u64,
    /// When the last of those stops being waited for (unix ms).
    pub awaiting_until: Option<i64>,
}

impl Ledger {
    /// Schedules the redial of every undelivered row under the cap, closes those at the cap,
    /// and says which outcomes are still awaited. Cheap on a large campaign: both reads
    /// walk partial indexes of migration 0009 that hold only the rows in question.
    pub async fn schedule_redials(
        &self,
        campaign_id: i64,
        rule: RedialRule,
    ) -> Result<RedialTick, LedgerError> {
        self.writer
            .call(move |tx| {
                let now = now_ms();
                let mut tick = schedule(tx, campaign_id, rule, now)?;
                // Every placed call's outcome is waited for, the last one's too: a row is
                // final only once its outcome is in (or its wait is over).
                let (awaiting, oldest): (i64, Option<i64>) = tx
                    .prepare_cached(
                        "SELECT count(*), min(last_attempt_at) FROM rows
                         WHERE campaign_id = ?1 AND state = 'succeeded'
                           AND outcome_at IS NULL AND last_attempt_at > ?2",
                    )?
                    .query_row(params![campaign_id, now - rule.outcome_timeout_ms], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                tick.awaiting = awaiting as u64;
                tick.awaiting_until = oldest.map(|t| t + rule.outcome_timeout_ms);
                Ok(tick)
            })
            .await
    }
}

fn schedule(
    tx: &Transaction<'_>,
    campaign_id: i64,
    rule: RedialRule,
    now: i64,
) -> rusqlite::Result<RedialTick> {
    let undelivered: Vec<(i64, i64, u32, Option<String>)> = tx
        .prepare_cached(&format!(
            "SELECT r.id, coalesce(r.last_attempt_at, 0),
                    (SELECT count(*) FROM attempts a WHERE a.campaign_id = r.campaign_id
                       AND a.line = r.line AND a.class IN {PLACED}),
                    r.alt_numbers
             FROM rows r
             WHERE r.campaign_id = ?1 AND r.state = 'succeeded' AND r.delivery_status = 'fail'
               AND r.redial_closed IS NULL"
        ))?
        .query_map([campaign_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut tick = RedialTick::default();
    for (id, last, calls, alts) in undelivered {
        if calls >= rule.max_calls {
            tx.prepare_cached("UPDATE rows SET redial_closed = 1 WHERE id = ?1")?
                .execute([id])?;
            tick.at_cap += 1;
            continue;
        }
        let mut alts: Vec<String> = alts
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        let note = format!(
            "call {} of {}: the last call was not delivered",
            calls + 1,
            rule.max_calls
        );
        if alts.is_empty() {
            requeue(tx, id, last + rule.after_ms, now, &note)?;
        } else {
            // Another of the contact's numbers: nobody was rung on it yet, so no delay.
            let next = alts.remove(0);
            let rest = (!alts.is_empty()).then(|| serde_json::to_string(&alts).unwrap_or_default());
            tx.prepare_cached(
                "UPDATE rows SET e164 = ?2, alt_numbers = ?3,
                     request = json_set(request, '$.numberToCall', ?2)
                 WHERE id = ?1",
            )?
            .execute(params![id, next, rest])?;
            requeue(tx, id, now, now, &format!("{note}; next number {next}"))?;
        }
        tick.scheduled += 1;
    }
    Ok(tick)
}

/// Puts an undelivered row in `retry_wait`, due at `due`, noting why in its history.
fn requeue(tx: &Transaction<'_>, id: i64, due: i64, now: i64, note: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO attempts (campaign_id, line, attempt, started_at, ended_at, class, error)
         SELECT campaign_id, line, attempts, ?2, ?2, 'requeued', ?3 FROM rows WHERE id = ?1",
    )?
    .execute(params![id, now, note])?;
    // The old outcome stays in `webhook_events` and the history; the row's outcome columns
    // are cleared for the next call's webhook. A fresh attempt budget: this is a new call,
    // not a retry of a failed request.
    tx.prepare_cached(
        "UPDATE rows SET state = 'retry_wait', attempts = 0, next_attempt_at = ?2, error = ?3,
             delivery_status = NULL, provider_status = NULL, duration_s = NULL,
             call_output = NULL, sentiment = NULL, ended_reason = NULL, summary = NULL,
             transcript = NULL, provider_call_id = NULL, outcome_at = NULL
         WHERE id = ?1 AND state = 'succeeded'",
    )?
    .execute(params![id, due, note])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{AttemptRecord, RowState, Transition, testing};

    const RULE: RedialRule = RedialRule {
        after_ms: 60_000,
        max_calls: 2,
        outcome_timeout_ms: 600_000,
    };

    /// Places the row's call (its request accepted) and returns when it left.
    async fn place(ledger: &Ledger, campaign_id: i64) -> i64 {
        let mut due = ledger.pending_after(campaign_id, 0, 1).await.unwrap();
        due.extend(ledger.due_retries(campaign_id, i64::MAX, 1).await.unwrap());
        let row = due.remove(0);
        let mark = ledger
            .mark_in_flight(campaign_id, &row)
            .await
            .unwrap()
            .unwrap();
        let rec = AttemptRecord {
            class: "success",
            http_status: Some(201),
            latency_ms: 1,
            sent_at: Some(mark.marked_at),
            transition: Transition::Succeeded {
                body: "{}".into(),
                call_id: None,
            },
        };
        assert!(ledger.finish_attempt(row.id, mark, rec).await.unwrap());
        mark.marked_at
    }

    async fn undelivered(ledger: &Ledger) {
        ledger
            .writer
            .call(|tx| {
                tx.execute(
                    "UPDATE rows SET delivery_status = 'fail', outcome_at = 1",
                    [],
                )
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_undelivered_call_is_redialed_after_the_delay_until_max_calls() {
        let rows = vec![testing::dial(2, "+966500000001")];
        let (_dir, ledger, c) = testing::campaign_with("c", rows).await;
        let sent = place(&ledger, c.id).await;
        let tick = ledger.schedule_redials(c.id, RULE).await.unwrap();
        assert_eq!((tick.awaiting, tick.scheduled), (1, 0));
        assert_eq!(tick.awaiting_until, Some(sent + RULE.outcome_timeout_ms));

        undelivered(&ledger).await;
        let tick = ledger.schedule_redials(c.id, RULE).await.unwrap();
        assert_eq!((tick.awaiting, tick.scheduled, tick.at_cap), (0, 1, 0));
        let row = ledger.row(c.id, 2).unwrap().unwrap();
        assert_eq!(row.state, RowState::RetryWait);
        assert!(
            row.outcome.is_none(),
            "the next call's webhook finds clean columns"
        );
        let next: Option<i64> = ledger.next_retry_at(c.id).await.unwrap();
        assert_eq!(next, Some(sent + RULE.after_ms));

        place(&ledger, c.id).await;
        undelivered(&ledger).await;
        let tick = ledger.schedule_redials(c.id, RULE).await.unwrap();
        assert_eq!(
            (tick.scheduled, tick.at_cap),
            (0, 1),
            "two calls is the cap"
        );
        let again = ledger.schedule_redials(c.id, RULE).await.unwrap();
        assert_eq!(
            again,
            RedialTick::default(),
            "a row at the cap is looked at once"
        );
        assert_eq!(
            ledger.row(c.id, 2).unwrap().unwrap().state,
            RowState::Succeeded
        );
    }
}
