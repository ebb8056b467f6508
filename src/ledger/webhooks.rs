//! Webhook events and call outcomes: storing a verified delivery exactly once (deduplicated
//! on `svix-id`), matching it to its row, writing the row's outcome columns, and turning an
//! `uncertain` row `succeeded` (a `phone_call.ended` proves the call was placed). Also the
//! reads that reports and `retry --outcome` build on.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{CallOutcome, Ledger, LedgerError, now_ms};

/// A delivery that passed the signature check, on its way into `webhook_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookEvent {
    pub svix_id: String,
    pub received_at: i64,
    pub event_type: Option<String>,
    /// The raw body (lossily decoded when it is not UTF-8).
    pub payload: String,
    /// The campaign name and CSV line from the call's `requestMetadata`.
    pub target: Option<(String, u64)>,
    /// The outcome to write on the matched row (`phone_call.ended` only).
    pub outcome: Option<CallOutcome>,
}

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredEvent {
    /// This `svix-id` was stored before: nothing new written.
    Duplicate,
    /// Stored with no row (unknown campaign or line, or no correlation keys).
    Unmatched,
    Matched {
        campaign_id: i64,
        line: u64,
        /// The row was `uncertain` and is now `succeeded`.
        confirmed: bool,
    },
}

/// One stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub svix_id: String,
    pub received_at: i64,
    pub campaign_id: Option<i64>,
    pub line: Option<u64>,
    pub matched: bool,
    pub event_type: Option<String>,
    pub payload: String,
}

/// Stored deliveries, in total and matched to a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub total: u64,
    pub matched: u64,
}

impl Ledger {
    /// Stores a verified delivery in one transaction, returning only after the commit: the
    /// receiver answers 2xx on `Ok`, so a failed write makes Levers deliver again.
    pub async fn store_webhook_event(
        &self,
        event: NewWebhookEvent,
    ) -> Result<StoredEvent, LedgerError> {
        self.writer.call(move |tx| store(tx, event)).await
    }

    /// A stored delivery by its `svix-id`.
    pub fn webhook_event(&self, svix_id: &str) -> Result<Option<WebhookEvent>, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                "SELECT svix_id, received_at, campaign_id, line, matched, event_type, payload
                 FROM webhook_events WHERE svix_id = ?1",
                [svix_id],
                |r| {
                    Ok(WebhookEvent {
                        svix_id: r.get(0)?,
                        received_at: r.get(1)?,
                        campaign_id: r.get(2)?,
                        line: r.get::<_, Option<i64>>(3)?.map(|l| l as u64),
                        matched: r.get(4)?,
                        event_type: r.get(5)?,
                        payload: r.get(6)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Deliveries stored for one campaign, or in the whole ledger (`None`, which includes
    /// the unmatched ones).
    pub fn webhook_event_counts(
        &self,
        campaign_id: Option<i64>,
    ) -> Result<EventCounts, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                "SELECT count(*), coalesce(sum(matched), 0) FROM webhook_events
                 WHERE ?1 IS NULL OR campaign_id = ?1",
                [campaign_id],
                |r| {
                    Ok(EventCounts {
                        total: r.get::<_, i64>(0)? as u64,
                        matched: r.get::<_, i64>(1)? as u64,
                    })
                },
            )
        })
    }

    /// Lines of `succeeded` rows whose call did not get through (`deliveryStatus` fail).
    pub async fn rows_undelivered(&self, campaign_id: i64) -> Result<Vec<u64>, LedgerError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT line FROM rows WHERE campaign_id = ?1 AND state = 'succeeded'
                     AND delivery_status = 'fail' ORDER BY line",
            )?;
            st.query_map([campaign_id], |r| r.get::<_, i64>(0).map(|l| l as u64))?
                .collect()
        })
        .await
    }

    /// How many `succeeded` rows have no outcome and a last attempt older than `older_than_ms`.
    pub fn count_awaiting_outcome(
        &self,
        campaign_id: i64,
        older_than_ms: i64,
    ) -> Result<u64, LedgerError> {
        let before = now_ms().saturating_sub(older_than_ms);
        self.read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM rows WHERE campaign_id = ?1 AND state = 'succeeded'
                     AND outcome_at IS NULL AND last_attempt_at < ?2",
                params![campaign_id, before],
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )
        })
    }

    /// Lines of `succeeded` rows with no outcome yet whose last attempt is older than
    /// `older_than_ms`: a webhook that may have been lost (`awaiting_outcome`).
    pub async fn rows_awaiting_outcome(
        &self,
        campaign_id: i64,
        older_than_ms: i64,
    ) -> Result<Vec<u64>, LedgerError> {
        let before = now_ms().saturating_sub(older_than_ms);
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT line FROM rows WHERE campaign_id = ?1 AND state = 'succeeded'
                     AND outcome_at IS NULL AND last_attempt_at < ?2 ORDER BY line",
            )?;
            st.query_map(params![campaign_id, before], |r| {
                r.get::<_, i64>(0).map(|l| l as u64)
            })?
            .collect()
        })
        .await
    }
}

/// The row a delivery names, if the ledger has it: (campaign id, row id, state).
fn find_row(
    tx: &Transaction<'_>,
    campaign: &str,
    line: u64,
) -> rusqlite::Result<Option<(i64, i64, String)>> {
    tx.prepare_cached(
        "SELECT r.campaign_id, r.id, r.state FROM rows r JOIN campaigns c ON c.id = r.campaign_id
         WHERE c.name = ?1 AND r.line = ?2",
    )?
    .query_row(params![campaign, line as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .optional()
}

fn store(tx: &Transaction<'_>, event: NewWebhookEvent) -> rusqlite::Result<StoredEvent> {
    let row = match &event.target {
        Some((campaign, line)) => find_row(tx, campaign, *line)?.map(|r| (r, *line)),
        None => None,
    };
    let (campaign_id, line) = match &row {
        Some(((campaign_id, _, _), line)) => (Some(*campaign_id), Some(*line as i64)),
        None => (None, None),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO webhook_events
                 (svix_id, received_at, campaign_id, line, matched, event_type, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            event.svix_id,
            event.received_at,
            campaign_id,
            line,
            row.is_some(),
            event.event_type,
            event.payload,
        ])?;
    if inserted == 0 {
        return Ok(StoredEvent::Duplicate);
    }
    let Some(((campaign_id, row_id, state), line)) = row else {
        return Ok(StoredEvent::Unmatched);
    };
    let mut confirmed = false;
    if let Some(outcome) = event.outcome {
        write_outcome(tx, row_id, &outcome, event.received_at)?;
        // Only `uncertain` is promoted: an `in_flight` row belongs to the dispatcher, and a
        // pending or retry_wait row keeps its place in the queue.
        if state == "uncertain" {
            confirmed = tx
                .prepare_cached(
                    "UPDATE rows SET state = 'succeeded', error = NULL,
                         detail = 'the call was placed: its phone_call.ended webhook arrived'
                     WHERE id = ?1 AND state = 'uncertain'",
                )?
                .execute([row_id])?
                > 0;
        }
    }
    Ok(StoredEvent::Matched {
        campaign_id,
        line,
        confirmed,
    })
}

fn write_outcome(
    tx: &Transaction<'_>,
    row_id: i64,
    o: &CallOutcome,
    received_at: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE rows SET delivery_status = ?2, provider_status = ?3, duration_s = ?4,
             call_output = ?5, sentiment = ?6, ended_reason = ?7, summary = ?8,
             transcript = ?9, provider_call_id = ?10, outcome_at = ?11
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        o.delivery_status,
        o.provider_status,
        o.duration_s,
        o.call_output,
        o.sentiment,
        o.ended_reason,
        o.summary,
        o.transcript,
        o.provider_call_id,
        received_at,
    ])?;
    Ok(())
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
mod tests;
