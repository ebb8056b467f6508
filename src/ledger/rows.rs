//! Rows and their attempts: ingest with deduplication, the dispatch queries, and the state
//! transitions of SPEC.md ("Row states"). Every transition is one guarded UPDATE, so a row
//! can only be marked `in_flight` from `pending` or `retry_wait`, never twice.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Ledger, LedgerError, now_ms};
use crate::plan::SkipReason;

/// A planned row on its way into the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    pub line: u64,
    pub e164: Option<String>,
    /// The JSON body; present for rows meant to be dialed.
    pub request: Option<String>,
    pub timezone: Option<String>,
    /// Why the row got `timezone`: column, country or default.
    pub zone_source: Option<&'static str>,
    /// Set for rows that are never dialed.
    pub skip: Option<(SkipReason, String)>,
    /// The raw record of a malformed row.
    pub raw: Option<String>,
}

/// What an insert batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InsertSummary {
    pub to_dial: u64,
    pub skipped: u64,
}

/// A row the dispatcher may dial.
#[derive(Debug, Clone, PartialEq)]
pub struct DialRow {
    pub id: i64,
    pub line: u64,
    pub request: String,
    /// The IANA zone the row is dialed in (its calling window is read there).
    pub timezone: Option<String>,
}

/// A committed `in_flight` mark: the attempt number and the attempt's history record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    pub attempt: u32,
    pub attempt_id: i64,
}

/// Where an attempt leaves its row.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Succeeded {
        body: String,
        call_id: Option<String>,
    },
    Failed {
        reason: &'static str,
        message: String,
    },
    RetryWait {
        next_attempt_at: i64,
        message: String,
    },
    Uncertain {
        message: String,
    },
    /// The API refused before placing anything (429, auth): back to `pending`, and the
    /// attempt is given back.
    Requeue {
        message: String,
    },
}

/// What one finished attempt is recorded with.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub class: &'static str,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub transition: Transition,
}

/// One row as the ledger keeps it (reports, `status --row`).
#[derive(Debug, Clone, PartialEq)]
pub struct RowRecord {
    pub line: u64,
    pub state: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub e164: Option<String>,
    pub duplicate_of: Option<u64>,
    pub request: Option<String>,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub call_id: Option<String>,
    pub first_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub latency_ms: Option<i64>,
    pub raw: Option<String>,
    pub timezone: Option<String>,
    pub zone_source: Option<String>,
    pub response: Option<String>,
    pub outcome: Option<CallOutcome>,
}

/// How a placed call ended, from its `phone_call.ended` webhook.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CallOutcome {
    pub delivery_status: Option<String>,
    pub provider_status: Option<String>,
    pub duration_s: Option<i64>,
    pub call_output: Option<String>,
    pub sentiment: Option<String>,
    pub ended_reason: Option<String>,
    pub summary: Option<String>,
    pub transcript: Option<String>,
    pub provider_call_id: Option<String>,
    pub received_at: Option<i64>,
}

fn insert_one(tx: &Transaction<'_>, campaign_id: i64, row: NewRow) -> rusqlite::Result<bool> {
    let line = row.line as i64;
    let (state, reason, detail, dial_key, duplicate_of) = match row.skip {
        Some((reason, detail)) => ("skipped", Some(reason), Some(detail), None, None),
        None => {
            let earlier: Option<i64> = tx
                .prepare_cached("SELECT line FROM rows WHERE campaign_id = ?1 AND dial_key = ?2")?
                .query_row(params![campaign_id, row.e164], |r| r.get(0))
                .optional()?;
            match earlier {
                Some(first) => (
                    "skipped",
                    Some(SkipReason::Duplicate),
                    Some(format!("same number as line {first}")),
                    None,
                    Some(first),
                ),
                None => ("pending", None, None, row.e164.clone(), None),
            }
        }
    };
    tx.prepare_cached(
        "INSERT INTO rows (campaign_id, line, state, reason, detail, e164, dial_key,
                           duplicate_of, request, raw, timezone, zone_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        campaign_id,
        line,
        state,
        reason.map(|r| r.as_str()),
        detail,
        row.e164,
        dial_key,
        duplicate_of,
        row.request,
        row.raw,
        row.timezone,
        row.zone_source,
    ])?;
    Ok(state == "pending")
}

const ROW_COLUMNS: &str = "line, state, reason, detail, e164, duplicate_of, request, attempts, \
     http_status, error, call_id, first_attempt_at, last_attempt_at, latency_ms, raw, timezone, \
     zone_source, response, delivery_status, provider_status, duration_s, call_output, sentiment, \
     ended_reason, summary, transcript, provider_call_id, outcome_at";

fn row_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowRecord> {
    Ok(RowRecord {
        line: r.get::<_, i64>(0)? as u64,
        state: r.get(1)?,
        reason: r.get(2)?,
        detail: r.get(3)?,
        e164: r.get(4)?,
        duplicate_of: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
        request: r.get(6)?,
        attempts: r.get(7)?,
        http_status: r.get(8)?,
        error: r.get(9)?,
        call_id: r.get(10)?,
        first_attempt_at: r.get(11)?,
        last_attempt_at: r.get(12)?,
        latency_ms: r.get(13)?,
        raw: r.get(14)?,
        timezone: r.get(15)?,
        zone_source: r.get(16)?,
        response: r.get(17)?,
        outcome: r
            .get::<_, Option<i64>>(27)?
            .map(|received_at| -> rusqlite::Result<_> {
                Ok(CallOutcome {
                    delivery_status: r.get(18)?,
                    provider_status: r.get(19)?,
                    duration_s: r.get(20)?,
                    call_output: r.get(21)?,
                    sentiment: r.get(22)?,
                    ended_reason: r.get(23)?,
                    summary: r.get(24)?,
                    transcript: r.get(25)?,
                    provider_call_id: r.get(26)?,
                    received_at: Some(received_at),
                })
            })
            .transpose()?,
    })
}

impl Ledger {
    /// Inserts a batch of planned rows in CSV order; a dialable row whose number an earlier
    /// row already holds becomes `skipped` / `duplicate`. Blocking: the ingest thread's call.
    pub fn insert_rows_blocking(
        &self,
        campaign_id: i64,
        rows: Vec<NewRow>,
    ) -> Result<InsertSummary, LedgerError> {
        self.writer.call_blocking(move |tx| {
            let mut summary = InsertSummary::default();
            for row in rows {
                if insert_one(tx, campaign_id, row)? {
                    summary.to_dial += 1;
                } else {
                    summary.skipped += 1;
                }
            }
            Ok(summary)
        })
    }

    /// The highest line already ingested (0 when none), so a re-run skips what is stored.
    pub fn max_line(&self, campaign_id: i64) -> Result<u64, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                "SELECT coalesce(max(line), 0) FROM rows WHERE campaign_id = ?1",
                [campaign_id],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|v| v as u64)
    }

    /// Up to `limit` `pending` rows after `after_line`, in line order.
    pub async fn pending_after(
        &self,
        campaign_id: i64,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<DialRow>, LedgerError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT id, line, request, timezone FROM rows
                 WHERE campaign_id = ?1 AND state = 'pending' AND line > ?2
                 ORDER BY line LIMIT ?3",
            )?;
            st.query_map(params![campaign_id, after_line as i64, limit], dial_row)?
                .collect()
        })
        .await
    }

    /// `retry_wait` rows whose time has come, earliest first.
    pub async fn due_retries(
        &self,
        campaign_id: i64,
        now: i64,
        limit: u32,
    ) -> Result<Vec<DialRow>, LedgerError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT id, line, request, timezone FROM rows
                 WHERE campaign_id = ?1 AND state = 'retry_wait' AND next_attempt_at <= ?2
                 ORDER BY next_attempt_at LIMIT ?3",
            )?;
            st.query_map(params![campaign_id, now, limit], dial_row)?
                .collect()
        })
        .await
    }

    /// When the earliest `retry_wait` row becomes due, if any.
    pub async fn next_retry_at(&self, campaign_id: i64) -> Result<Option<i64>, LedgerError> {
        self.read(move |c| {
            c.query_row(
                "SELECT min(next_attempt_at) FROM rows
                 WHERE campaign_id = ?1 AND state = 'retry_wait'",
                [campaign_id],
                |r| r.get(0),
            )
        })
        .await
    }

    /// Marks a row `in_flight` (attempt k) and opens its attempt record, durably. `None`
    /// when the row is no longer `pending`/`retry_wait`: then it must not be sent.
    pub async fn mark_in_flight(
        &self,
        campaign_id: i64,
        row: &DialRow,
    ) -> Result<Option<InFlight>, LedgerError> {
        let (row_id, line) = (row.id, row.line as i64);
        self.writer
            .call(move |tx| {
                let now = now_ms();
                let attempt: Option<u32> = tx
                    .prepare_cached(
                        "UPDATE rows SET state = 'in_flight', attempts = attempts + 1,
                             first_attempt_at = coalesce(first_attempt_at, ?2),
                             last_attempt_at = ?2, next_attempt_at = NULL
                         WHERE id = ?1 AND state IN ('pending', 'retry_wait')
                         RETURNING attempts",
                    )?
                    .query_row(params![row_id, now], |r| r.get(0))
                    .optional()?;
                let Some(attempt) = attempt else {
                    return Ok(None);
                };
                tx.prepare_cached(
                    "INSERT INTO attempts (campaign_id, line, attempt, started_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![campaign_id, line, attempt, now])?;
                Ok(Some(InFlight {
                    attempt,
                    attempt_id: tx.last_insert_rowid(),
                }))
            })
            .await
    }

    /// Records a finished attempt and moves its row to the state the policy chose.
    pub async fn finish_attempt(
        &self,
        row_id: i64,
        inflight: InFlight,
        record: AttemptRecord,
    ) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| finish(tx, row_id, inflight, record))
            .await
    }

    /// Rows left `in_flight` by a process that died may or may not have been called: they
    /// become `uncertain`, never `pending`. Run before dispatching a campaign.
    pub async fn recover_in_flight(&self, campaign_id: i64) -> Result<u64, LedgerError> {
        self.writer
            .call(move |tx| {
                let now = now_ms();
                tx.execute(
                    "UPDATE attempts SET ended_at = ?2, class = 'interrupted',
                         error = 'the dialer stopped before the answer was recorded'
                     WHERE campaign_id = ?1 AND ended_at IS NULL",
                    params![campaign_id, now],
                )?;
                let n = tx.execute(
                    "UPDATE rows SET state = 'uncertain',
                         error = 'the dialer stopped while this call was in flight; it may have been placed'
                     WHERE campaign_id = ?1 AND state = 'in_flight'",
                    [campaign_id],
                )?;
                Ok(n as u64)
            })
            .await
    }

    /// One row by its line, if it exists.
    pub fn row(&self, campaign_id: i64, line: u64) -> Result<Option<RowRecord>, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                &format!("SELECT {ROW_COLUMNS} FROM rows WHERE campaign_id = ?1 AND line = ?2"),
                params![campaign_id, line as i64],
                row_record,
            )
            .optional()
        })
    }

    /// Every row of a campaign in line order, streamed to `f` (memory stays flat).
    pub fn for_each_row(
        &self,
        campaign_id: i64,
        mut f: impl FnMut(RowRecord) -> rusqlite::Result<()>,
    ) -> Result<(), LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ROW_COLUMNS} FROM rows WHERE campaign_id = ?1 ORDER BY line"
            ))?;
            let mut rows = st.query([campaign_id])?;
            while let Some(r) = rows.next()? {
                f(row_record(r)?)?;
            }
            Ok(())
        })
    }
}

fn dial_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DialRow> {
    Ok(DialRow {
        id: r.get(0)?,
        line: r.get::<_, i64>(1)? as u64,
        request: r.get(2)?,
        timezone: r.get(3)?,
    })
}

fn finish(
    tx: &Transaction<'_>,
    row_id: i64,
    inflight: InFlight,
    rec: AttemptRecord,
) -> rusqlite::Result<()> {
    let now = now_ms();
    let error = match &rec.transition {
        Transition::Succeeded { .. } => None,
        Transition::Failed { message, .. }
        | Transition::RetryWait { message, .. }
        | Transition::Uncertain { message }
        | Transition::Requeue { message } => Some(message.clone()),
    };
    tx.prepare_cached(
        "UPDATE attempts SET ended_at = ?2, http_status = ?3, class = ?4, error = ?5,
             latency_ms = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        inflight.attempt_id,
        now,
        rec.http_status,
        rec.class,
        error,
        rec.latency_ms
    ])?;
    let common = params![row_id, rec.http_status, rec.latency_ms, error];
    match rec.transition {
        Transition::Succeeded { body, call_id } => tx
            .prepare_cached(
                "UPDATE rows SET state = 'succeeded', http_status = ?2, latency_ms = ?3,
                     error = ?4, reason = NULL, response = ?5, call_id = ?6
                 WHERE id = ?1",
            )?
            .execute(params![
                row_id,
                rec.http_status,
                rec.latency_ms,
                error,
                body,
                call_id
            ])?,
        Transition::Failed { reason, .. } => tx
            .prepare_cached(
                "UPDATE rows SET state = 'failed', http_status = ?2, latency_ms = ?3,
                     error = ?4, reason = ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                row_id,
                rec.http_status,
                rec.latency_ms,
                error,
                reason
            ])?,
        Transition::RetryWait {
            next_attempt_at, ..
        } => tx
            .prepare_cached(
                "UPDATE rows SET state = 'retry_wait', http_status = ?2, latency_ms = ?3,
                     error = ?4, next_attempt_at = ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                row_id,
                rec.http_status,
                rec.latency_ms,
                error,
                next_attempt_at
            ])?,
        // A webhook may have proved the call placed while the answer was still on its way.
        Transition::Uncertain { .. } => tx
            .prepare_cached(
                "UPDATE rows SET http_status = ?2, latency_ms = ?3, error = ?4,
                     state = CASE WHEN outcome_at IS NOT NULL THEN 'succeeded' ELSE 'uncertain' END
                 WHERE id = ?1",
            )?
            .execute(common)?,
        Transition::Requeue { .. } => tx
            .prepare_cached(
                "UPDATE rows SET state = 'pending', http_status = ?2, latency_ms = ?3,
                     error = ?4, attempts = max(attempts - 1, 0)
                 WHERE id = ?1",
            )?
            .execute(common)?,
    };
    Ok(())
}

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

/// Row states `dialer retry --status` may put back in the queue.
pub const RETRYABLE_STATES: [&str; 2] = ["failed", "uncertain"];

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
    pub async fn requeue(&self, campaign_id: i64, states: Vec<String>) -> Result<u64, LedgerError> {
        let states: Vec<String> = states
            .into_iter()
            .filter(|s| RETRYABLE_STATES.contains(&s.as_str()))
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

/// Attempt classes that may have placed a real call (they count against `--max-calls`).
const PLACED: &str = "('success', 'uncertain', 'interrupted')";

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
