//! Rows and their attempts: ingest with deduplication, the dispatch queries, and the state
//! transitions of SPEC.md ("Row states"). Every transition is one guarded UPDATE, so a row
//! can only be marked `in_flight` from `pending` or `retry_wait`, never twice.

use bytes::Bytes;
use rusqlite::{OptionalExtension, Transaction, params};

use super::numbers::{any_secondary, claim_alt_numbers, first_holder, secondary_holder};
use super::{Ledger, LedgerError, RowState, now_ms};
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
    /// The raw record of a malformed row, as bytes (stored as a BLOB: a record that is not
    /// valid UTF-8 is kept exactly, not with U+FFFD in place of its bytes).
    pub raw: Option<Vec<u8>>,
    /// A skipped row's contact (`plan::Contact` as JSON), for reports.
    pub contact: Option<String>,
    /// Secondary numbers (E.164) to try after an undelivered call, in order.
    pub alt_numbers: Vec<String>,
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
    /// The JSON body, shared: each attempt sends it without a copy.
    pub request: Bytes,
    /// The IANA zone the row is dialed in (its calling window is read there).
    pub timezone: Option<String>,
}

/// A committed `in_flight` mark: the attempt number, the attempt's history record, and
/// what the row held before, so a mark whose request never left can be undone exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    pub attempt: u32,
    pub attempt_id: i64,
    pub marked_at: i64,
    pub prior: Prior,
}

/// The columns an `in_flight` mark overwrites, as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    pub state: RowState,
    pub next_attempt_at: Option<i64>,
    pub first_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
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
    /// When the request actually left (unix ms); `None`: the time of the mark.
    pub sent_at: Option<i64>,
    pub transition: Transition,
}

/// What a stored row is: dialable, or skipped and why.
struct Verdict {
    state: RowState,
    reason: Option<SkipReason>,
    detail: Option<String>,
    /// Whether the row holds its number for dialing (first numbers are unique per campaign).
    dial_key: bool,
    duplicate_of: Option<i64>,
}

impl Verdict {
    fn pending() -> Verdict {
        Verdict {
            state: RowState::Pending,
            reason: None,
            detail: None,
            dial_key: true,
            duplicate_of: None,
        }
    }

    fn skipped(reason: SkipReason, detail: String) -> Verdict {
        Verdict {
            state: RowState::Skipped,
            reason: Some(reason),
            detail: Some(detail),
            dial_key: false,
            duplicate_of: None,
        }
    }

    fn duplicate_of(first: i64) -> Verdict {
        Verdict {
            duplicate_of: Some(first),
            ..Verdict::skipped(
                SkipReason::Duplicate,
                format!("same number as line {first}"),
            )
        }
    }
}

/// Stores `row` as `verdict` says; `false` when a dialable row's number is already an
/// earlier row's first number (then nothing was stored).
fn write_row(
    tx: &Transaction<'_>,
    campaign_id: i64,
    row: &NewRow,
    verdict: Verdict,
) -> rusqlite::Result<bool> {
    let dial_key = row.e164.as_deref().filter(|_| verdict.dial_key);
    let stored = tx
        .prepare_cached(
            "INSERT INTO rows (campaign_id, line, state, reason, detail, e164, dial_key,
                           duplicate_of, request, raw, timezone, zone_source, contact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (campaign_id, dial_key) WHERE dial_key IS NOT NULL DO NOTHING",
        )?
        .execute(params![
            campaign_id,
            row.line as i64,
            verdict.state,
            verdict.reason.map(|r| r.as_str()),
            verdict.detail,
            row.e164,
            dial_key,
            verdict.duplicate_of,
            row.request,
            row.raw,
            row.timezone,
            row.zone_source,
            row.contact,
        ])?;
    Ok(stored == 1)
}

/// Stores one planned row; `true` if it is to be dialed. A dialable row whose number an
/// earlier row holds, as its first number or a second one, is stored as a duplicate.
fn insert_one(tx: &Transaction<'_>, held: &mut Held, mut row: NewRow) -> rusqlite::Result<bool> {
    let campaign_id = held.campaign_id;
    if let Some((reason, detail)) = row.skip.take() {
        write_row(tx, campaign_id, &row, Verdict::skipped(reason, detail))?;
        return Ok(false);
    }
    if held.secondary
        && let Some(first) = secondary_holder(tx, campaign_id, row.e164.as_deref())?
    {
        write_row(tx, campaign_id, &row, Verdict::duplicate_of(first))?;
        return Ok(false);
    }
    // The insert finds an earlier first number itself, in the unique index's search it
    // makes anyway: profiled, looking first cost a search more on every row.
    if !write_row(tx, campaign_id, &row, Verdict::pending())? {
        let first = first_holder(tx, campaign_id, row.e164.as_deref())?.ok_or(
            // The insert met a holder that is not there: only a broken index does that.
            rusqlite::Error::QueryReturnedNoRows,
        )?;
        write_row(tx, campaign_id, &row, Verdict::duplicate_of(first))?;
        return Ok(false);
    }
    let id = tx.last_insert_rowid();
    let line = row.line as i64;
    if let Some(kept) = claim_alt_numbers(tx, campaign_id, line, row.alt_numbers)? {
        tx.prepare_cached("UPDATE rows SET alt_numbers = ?2 WHERE id = ?1")?
            .execute(params![id, kept])?;
        held.secondary = true;
    }
    Ok(true)
}

/// What an ingest batch knows of the numbers already held in its campaign.
struct Held {
    campaign_id: i64,
    /// Some row holds a second number: until one does, `row_numbers` is not searched.
    secondary: bool,
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
            let mut held = Held {
                campaign_id,
                secondary: any_secondary(tx, campaign_id)?,
            };
            for row in rows {
                if insert_one(tx, &mut held, row)? {
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
            .call_bare(move |tx| mark(tx, campaign_id, row_id, line))
            .await
    }

    /// Undoes an `in_flight` mark whose request never left (its calling window closed at
    /// the gate, a 429 pause, a stop): the row gets back exactly what it had, the attempt
    /// is given back and its history record removed. As durable as the mark was.
    pub async fn unmark_in_flight(&self, row_id: i64, mark: InFlight) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                let p = mark.prior;
                let n = tx
                    .prepare_cached(
                        "UPDATE rows SET state = ?2, attempts = max(attempts - 1, 0),
                             next_attempt_at = ?3, first_attempt_at = ?4, last_attempt_at = ?5
                         WHERE id = ?1 AND state = 'in_flight'",
                    )?
                    .execute(params![
                        row_id,
                        p.state,
                        p.next_attempt_at,
                        p.first_attempt_at,
                        p.last_attempt_at
                    ])?;
                if n == 1 {
                    tx.prepare_cached("DELETE FROM attempts WHERE id = ?1")?
                        .execute([mark.attempt_id])?;
                }
                Ok(())
            })
            .await
    }

    /// Records a finished attempt and moves its row to the state the policy chose. `false`
    /// when the row was no longer `in_flight` (another process moved it): nothing changed.
    pub async fn finish_attempt(
        &self,
        row_id: i64,
        inflight: InFlight,
        record: AttemptRecord,
    ) -> Result<bool, LedgerError> {
        self.writer
            // Bare: `finish` answers `false` for a row moved on, and errs only when the
            // ledger itself fails, which stops the run anyway.
            .call_bare(move |tx| finish(tx, row_id, inflight, record))
            .await
    }

    /// [`Ledger::finish_attempt`] with its answer handed to `reply` once durable, on the
    /// ledger's sync thread, so no task waits for it (see [`super::Writer::submit_bare`]).
    pub fn finish_attempt_then(
        &self,
        row_id: i64,
        inflight: InFlight,
        record: AttemptRecord,
        reply: impl FnOnce(Result<bool, LedgerError>) + Send + 'static,
    ) -> Result<(), LedgerError> {
        self.writer
            .submit_bare(move |tx| finish(tx, row_id, inflight, record), reply)
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
}

/// The `in_flight` mark inside a writer transaction (see [`Ledger::mark_in_flight`]). The
/// attempt records the number it dials, for the daily cap across campaigns.
pub(super) fn mark(
    tx: &Transaction<'_>,
    campaign_id: i64,
    row_id: i64,
    line: i64,
) -> rusqlite::Result<Option<InFlight>> {
    dialable(tx, row_id)?
        .map(|d| mark_dialable(tx, campaign_id, row_id, line, d))
        .transpose()
}

/// A row that may be marked, as the mark read it.
pub(super) struct Dialable {
    prior: Prior,
    done: u32,
    /// The number its attempt records and the daily cap counts.
    pub(super) e164: Option<String>,
}

/// The row if it is dialable (`pending` or `retry_wait`). One read gives the guard, what an
/// unmark restores, the attempt number and the number: `UPDATE … RETURNING` would cost an
/// ephemeral table.
pub(super) fn dialable(tx: &Transaction<'_>, row_id: i64) -> rusqlite::Result<Option<Dialable>> {
    tx.prepare_cached(
        "SELECT state, next_attempt_at, first_attempt_at, last_attempt_at, attempts, e164
         FROM rows WHERE id = ?1 AND state IN ('pending', 'retry_wait')",
    )?
    .query_row([row_id], |r| {
        Ok(Dialable {
            prior: Prior {
                state: r.get(0)?,
                next_attempt_at: r.get(1)?,
                first_attempt_at: r.get(2)?,
                last_attempt_at: r.get(3)?,
            },
            done: r.get(4)?,
            e164: r.get(5)?,
        })
    })
    .optional()
}

/// Marks a row [`dialable`] just read `in_flight` and opens its attempt.
pub(super) fn mark_dialable(
    tx: &Transaction<'_>,
    campaign_id: i64,
    row_id: i64,
    line: i64,
    row: Dialable,
) -> rusqlite::Result<InFlight> {
    let now = now_ms();
    let attempt = row.done + 1;
    tx.prepare_cached(
        "UPDATE rows SET state = 'in_flight', attempts = ?3,
             first_attempt_at = coalesce(first_attempt_at, ?2),
             last_attempt_at = ?2, next_attempt_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![row_id, now, attempt])?;
    tx.prepare_cached(
        "INSERT INTO attempts (campaign_id, line, attempt, started_at, e164)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![campaign_id, line, attempt, now, row.e164])?;
    Ok(InFlight {
        attempt,
        attempt_id: tx.last_insert_rowid(),
        marked_at: now,
        prior: row.prior,
    })
}

fn dial_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DialRow> {
    Ok(DialRow {
        id: r.get(0)?,
        line: r.get::<_, i64>(1)? as u64,
        request: Bytes::from(r.get::<_, String>(2)?),
        timezone: r.get(3)?,
    })
}

fn finish(
    tx: &Transaction<'_>,
    row_id: i64,
    inflight: InFlight,
    rec: AttemptRecord,
) -> rusqlite::Result<bool> {
    let now = now_ms();
    let sent_at = rec.sent_at.unwrap_or(inflight.marked_at);
    // The first attempt's time is the send's, unless an earlier attempt already set it.
    let first_attempt_at = inflight.prior.first_attempt_at.unwrap_or(sent_at);
    let error = match &rec.transition {
        Transition::Succeeded { .. } => None,
        Transition::Failed { message, .. }
        | Transition::RetryWait { message, .. }
        | Transition::Uncertain { message }
        | Transition::Requeue { message } => Some(message.clone()),
    };
    // What each transition sets beyond the common columns; SQL keeps the rest as it is.
    let (state, reason, response, call_id, next_attempt_at) = match rec.transition {
        Transition::Succeeded { body, call_id } => {
            (RowState::Succeeded, None, Some(body), call_id, None)
        }
        Transition::Failed { reason, .. } => (RowState::Failed, Some(reason), None, None, None),
        Transition::RetryWait {
            next_attempt_at, ..
        } => (RowState::RetryWait, None, None, None, Some(next_attempt_at)),
        Transition::Uncertain { .. } => (RowState::Uncertain, None, None, None, None),
        Transition::Requeue { .. } => (RowState::Pending, None, None, None, None),
    };
    let moved = tx
        .prepare_cached(
            "UPDATE rows SET http_status = ?2, latency_ms = ?3, error = ?4,
             -- A webhook may have proved the call placed while its answer was on its way.
             state = CASE WHEN ?5 = 'uncertain' AND outcome_at IS NOT NULL THEN 'succeeded'
                          ELSE ?5 END,
             reason = CASE ?5 WHEN 'succeeded' THEN NULL WHEN 'failed' THEN ?6 ELSE reason END,
             response = CASE WHEN ?5 = 'succeeded' THEN ?7 ELSE response END,
             call_id = CASE WHEN ?5 = 'succeeded' THEN ?8 ELSE call_id END,
             next_attempt_at = CASE WHEN ?5 = 'retry_wait' THEN ?9 ELSE next_attempt_at END,
             -- 429 and auth refusals placed no call: the attempt is given back.
             attempts = CASE WHEN ?5 = 'pending' THEN max(attempts - 1, 0) ELSE attempts END,
             first_attempt_at = ?10, last_attempt_at = ?11
         WHERE id = ?1 AND state = 'in_flight'",
        )?
        .execute(params![
            row_id,
            rec.http_status,
            rec.latency_ms,
            error,
            state,
            reason,
            response,
            call_id,
            next_attempt_at,
            first_attempt_at,
            sent_at,
        ])?;
    if moved == 0 {
        return Ok(false);
    }
    tx.prepare_cached(
        "UPDATE attempts SET started_at = ?2, ended_at = ?3, http_status = ?4, class = ?5,
             error = ?6, latency_ms = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        inflight.attempt_id,
        sent_at,
        now,
        rec.http_status,
        rec.class,
        error,
        rec.latency_ms
    ])?;
    Ok(true)
}
