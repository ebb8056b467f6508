//! Re-planning rows not yet dialed (SPEC.md, "Changing a campaign"): a row planned again
//! under new settings takes its new verdict and request, but only while it is in one of the
//! states the caller names (never a row that was dialed). Deduplication holds throughout:
//! a number is meant to be dialed for one row only, the earliest one.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Ledger, LedgerError, NewRow, RowState};
use crate::plan::SkipReason;

/// What one batch of re-planned rows came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replanned {
    /// Rows that were skipped and may now be dialed, by the reason they had.
    pub now_dialable: BTreeMap<SkipReason, u64>,
    /// Rows meant to be dialed that are now skipped, by their new reason.
    pub now_skipped: BTreeMap<SkipReason, u64>,
    /// Rows still skipped, by their (possibly new) reason.
    pub still_skipped: BTreeMap<SkipReason, u64>,
    /// Rows still to be dialed whose request body changed.
    pub requests_changed: u64,
    /// Rows still skipped, for another reason than before.
    pub reasons_changed: u64,
}

impl Replanned {
    pub fn add(&mut self, other: Replanned) {
        let merge = |into: &mut BTreeMap<SkipReason, u64>, from: BTreeMap<SkipReason, u64>| {
            for (reason, n) in from {
                *into.entry(reason).or_default() += n;
            }
        };
        merge(&mut self.now_dialable, other.now_dialable);
        merge(&mut self.now_skipped, other.now_skipped);
        merge(&mut self.still_skipped, other.still_skipped);
        self.requests_changed += other.requests_changed;
        self.reasons_changed += other.reasons_changed;
    }

    /// Rows whose verdict (dial or skip, and why) changed.
    pub fn verdicts_changed(&self) -> u64 {
        self.now_dialable.values().sum::<u64>()
            + self.now_skipped.values().sum::<u64>()
            + self.reasons_changed
    }
}

/// A stored row's verdict, to compare a re-planned record with before it is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVerdict {
    pub state: RowState,
    pub reason: Option<SkipReason>,
    pub e164: Option<String>,
    pub request: Option<String>,
}

/// A stored row as far as re-planning reads it.
struct Stored {
    id: i64,
    state: RowState,
    reason: Option<SkipReason>,
    request: Option<String>,
}

/// Where a re-planned row goes.
enum Verdict {
    Dial {
        e164: String,
    },
    Skip {
        reason: SkipReason,
        detail: String,
        duplicate_of: Option<i64>,
    },
}

impl Ledger {
    /// Re-plans the stored rows of `rows`' lines that are in one of `states` (lines not yet
    /// stored, or in another state, are left alone). Blocking; one transaction per call.
    pub fn replan_rows_blocking(
        &self,
        campaign_id: i64,
        rows: Vec<NewRow>,
        states: Vec<RowState>,
    ) -> Result<Replanned, LedgerError> {
        self.writer.call_blocking(move |tx| {
            let mut done = Replanned::default();
            for row in rows {
                replan_one(tx, campaign_id, row, &states, &mut done)?;
            }
            Ok(done)
        })
    }
}

impl Ledger {
    /// The stored verdicts of the rows on lines `from..=to`, by line (blocking).
    pub fn stored_verdicts(
        &self,
        campaign_id: i64,
        from: u64,
        to: u64,
    ) -> Result<HashMap<u64, StoredVerdict>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare_cached(
                "SELECT line, state, reason, e164, request FROM rows
                 WHERE campaign_id = ?1 AND line BETWEEN ?2 AND ?3",
            )?;
            st.query_map(params![campaign_id, from as i64, to as i64], |r| {
                let reason: Option<String> = r.get(2)?;
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    StoredVerdict {
                        state: r.get(1)?,
                        reason: reason.as_deref().and_then(SkipReason::parse),
                        e164: r.get(3)?,
                        request: r.get(4)?,
                    },
                ))
            })?
            .collect()
        })
    }
}

fn replan_one(
    tx: &Transaction<'_>,
    campaign_id: i64,
    row: NewRow,
    states: &[RowState],
    done: &mut Replanned,
) -> rusqlite::Result<()> {
    let line = row.line as i64;
    let Some(stored) = stored(tx, campaign_id, line)? else {
        return Ok(());
    };
    // A malformed record stays what it was: no setting changes how its bytes were cut.
    if !states.contains(&stored.state) || stored.reason == Some(SkipReason::MalformedRow) {
        return Ok(());
    }
    let verdict = match (&row.skip, &row.e164) {
        (Some((reason, detail)), _) => Verdict::Skip {
            reason: *reason,
            detail: detail.clone(),
            duplicate_of: None,
        },
        (None, Some(e164)) => claim_number(tx, campaign_id, &stored, line, e164)?,
        (None, None) => return Ok(()),
    };
    let was_skipped = stored.state == RowState::Skipped;
    match verdict {
        Verdict::Dial { e164 } => {
            if was_skipped {
                let had = stored.reason.unwrap_or(SkipReason::Duplicate);
                *done.now_dialable.entry(had).or_default() += 1;
            } else if stored.request != row.request {
                done.requests_changed += 1;
            }
            tx.prepare_cached(
                "UPDATE rows SET state = CASE state WHEN 'skipped' THEN 'pending' ELSE state END,
                     reason = NULL, detail = NULL, e164 = ?2, dial_key = ?2, duplicate_of = NULL,
                     request = ?3, timezone = ?4, zone_source = ?5, contact = NULL, raw = NULL
                 WHERE id = ?1",
            )?
            .execute(params![
                stored.id,
                e164,
                row.request,
                row.timezone,
                row.zone_source
            ])?;
        }
        Verdict::Skip {
            reason,
            detail,
            duplicate_of,
        } => {
            if was_skipped && stored.reason != Some(reason) {
                done.reasons_changed += 1;
            }
            let into = if was_skipped {
                &mut done.still_skipped
            } else {
                &mut done.now_skipped
            };
            *into.entry(reason).or_default() += 1;
            tx.prepare_cached(
                "UPDATE rows SET state = 'skipped', reason = ?2, detail = ?3, e164 = ?4,
                     dial_key = NULL, duplicate_of = ?5, request = NULL, timezone = ?6,
                     zone_source = ?7, contact = ?8, raw = ?9, next_attempt_at = NULL
                 WHERE id = ?1",
            )?
            .execute(params![
                stored.id,
                reason.as_str(),
                detail,
                row.e164,
                duplicate_of,
                row.timezone,
                row.zone_source,
                row.contact,
                row.raw,
            ])?;
        }
    }
    Ok(())
}

fn stored(tx: &Transaction<'_>, campaign_id: i64, line: i64) -> rusqlite::Result<Option<Stored>> {
    tx.prepare_cached(
        "SELECT id, state, reason, request FROM rows WHERE campaign_id = ?1 AND line = ?2",
    )?
    .query_row(params![campaign_id, line], |r| {
        Ok(Stored {
            id: r.get(0)?,
            state: r.get(1)?,
            reason: r
                .get::<_, Option<String>>(2)?
                .as_deref()
                .and_then(SkipReason::parse),
            request: r.get(3)?,
        })
    })
    .optional()
}

/// A dialable row takes its number unless an earlier row holds it, or a later row that
/// was dialed (or is being dialed) does. A later row merely `pending` gives the number up
/// and becomes the duplicate: it is re-planned after this one anyway, in line order.
fn claim_number(
    tx: &Transaction<'_>,
    campaign_id: i64,
    me: &Stored,
    line: i64,
    e164: &str,
) -> rusqlite::Result<Verdict> {
    // Another row's secondary number stays that row's, whatever the lines: it may have
    // been dialed already, and a number is dialed for one row only.
    let second: Option<i64> = tx
        .prepare_cached(
            "SELECT line FROM row_numbers WHERE campaign_id = ?1 AND e164 = ?2 AND line != ?3
             LIMIT 1",
        )?
        .query_row(params![campaign_id, e164, line], |r| r.get(0))
        .optional()?;
    if let Some(holder_line) = second {
        return Ok(Verdict::Skip {
            reason: SkipReason::Duplicate,
            detail: format!("same number as line {holder_line}'s second number"),
            duplicate_of: Some(holder_line),
        });
    }
    let holder: Option<(i64, i64, RowState)> = tx
        .prepare_cached(
            "SELECT id, line, state FROM rows
             WHERE campaign_id = ?1 AND dial_key = ?2 AND id != ?3",
        )?
        .query_row(params![campaign_id, e164, me.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((holder_id, holder_line, holder_state)) = holder else {
        return Ok(Verdict::Dial { e164: e164.into() });
    };
    if holder_line < line || holder_state != RowState::Pending {
        return Ok(Verdict::Skip {
            reason: SkipReason::Duplicate,
            detail: format!("same number as line {holder_line}"),
            duplicate_of: Some(holder_line),
        });
    }
    tx.prepare_cached(
        "UPDATE rows SET state = 'skipped', reason = 'duplicate', detail = ?2, dial_key = NULL,
             duplicate_of = ?3
         WHERE id = ?1",
    )?
    .execute(params![
        holder_id,
        format!("same number as line {line}"),
        line
    ])?;
    Ok(Verdict::Dial { e164: e164.into() })
}

#[cfg(test)]
#[path = "replan_tests.rs"]
mod tests;
