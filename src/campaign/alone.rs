//! What each changed setting would do on its own, when several change at once: every
//! record is also planned under the old settings with just that one change, and compared
//! with its stored row, so each change's line counts the rows it alone reaches.

use std::collections::HashMap;

use super::changes::{self, Change, Kind};
use super::ingest::to_row;
use super::{CampaignError, Settings};
use crate::ledger::{NewRow, RowState, StoredVerdict};
use crate::plan::{Planner, SkipReason};
use crate::source::SourceRecord;
use crate::zone::Rules;

/// One changed setting, applied alone, and the rows it changes.
pub struct Alone {
    pub key: String,
    kind: Kind,
    planner: Planner,
    zones: Rules,
    pub rows: u64,
}

/// A planner per changed request or planning setting, or none when fewer than two of
/// them changed (then the re-plan's own counts are each change's).
pub fn planners(
    campaign: &str,
    old: &Settings,
    new: &Settings,
    changes: &[Change],
    headers: &[String],
) -> Result<Vec<Alone>, CampaignError> {
    let replanning: Vec<&Change> = changes.iter().filter(|c| c.kind != Kind::Dialing).collect();
    if replanning.len() < 2 {
        return Ok(Vec::new());
    }
    replanning
        .into_iter()
        .map(|c| {
            let solo = changes::adopt_where(old, new, |k| k == c.key, campaign)?;
            Ok(Alone {
                key: c.key.clone(),
                kind: c.kind,
                planner: solo.planner(campaign, headers)?,
                zones: solo
                    .dispatch_config(None)?
                    .zone_rules(jiff::Timestamp::now()),
                rows: 0,
            })
        })
        .collect()
}

impl Alone {
    pub fn plan(&self, record: SourceRecord) -> NewRow {
        to_row(&self.planner, record, &self.zones)
    }

    /// Counts the rows of `planned` whose stored row this change alone would change.
    pub fn count(&mut self, planned: &[NewRow], stored: &HashMap<u64, StoredVerdict>) {
        let kind = self.kind;
        self.rows += planned
            .iter()
            .filter(|row| {
                stored
                    .get(&row.line)
                    .is_some_and(|s| changes_row(kind, row, s))
            })
            .count() as u64;
    }
}

/// Whether `row` differs from the stored row in what `kind` shapes: the request body, or
/// the verdict (dialed or skipped, and why).
fn changes_row(kind: Kind, row: &NewRow, stored: &StoredVerdict) -> bool {
    let open = [RowState::Pending, RowState::RetryWait, RowState::Skipped];
    if !open.contains(&stored.state) || stored.reason == Some(SkipReason::MalformedRow) {
        return false;
    }
    let dialable = stored.state != RowState::Skipped;
    match (&row.skip, kind) {
        (Some((reason, _)), _) => dialable || stored.reason != Some(*reason),
        // A duplicate of the same number stays one: the ledger keeps the earlier row.
        (None, _) if !dialable => {
            !(stored.reason == Some(SkipReason::Duplicate) && stored.e164 == row.e164)
        }
        (None, Kind::Request) => stored.request != row.request,
        (None, _) => false,
    }
}
