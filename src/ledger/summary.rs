//! Counting queries behind the summary and `status`: rows per state and per skip reason,
//! latency percentiles, the span of attempts.

use crate::ledger::RowState;
use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::{Ledger, LedgerError};

/// Row counts of one campaign.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub total: u64,
    /// state -> rows, for every state that has at least one row.
    pub states: BTreeMap<RowState, u64>,
    /// skip reason -> rows.
    pub skipped: BTreeMap<String, u64>,
    /// failure reason -> rows.
    pub failed: BTreeMap<String, u64>,
}

impl Counts {
    pub fn state(&self, s: RowState) -> u64 {
        self.states.get(&s).copied().unwrap_or(0)
    }

    /// Rows that still need dialing: `pending`, `retry_wait` or `in_flight`.
    pub fn open(&self) -> u64 {
        self.states
            .iter()
            .filter(|(s, _)| s.is_open())
            .map(|(_, n)| n)
            .sum()
    }

    /// Rows that make a finished run exit 1: `failed` or `uncertain`.
    pub fn troubled(&self) -> u64 {
        self.state(RowState::Failed) + self.state(RowState::Uncertain)
    }
}

/// Latency percentiles (ms) over the rows' latest attempts, and the attempt time span.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    pub samples: u64,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    pub first_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// Requests sent (every attempt, retries included).
    pub requests: u64,
}

/// Nearest-rank percentile of an ascending slice (the reference the counted form is
/// tested against).
#[cfg(test)]
fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl Ledger {
    pub fn counts(&self, campaign_id: i64) -> Result<Counts, LedgerError> {
        self.read_blocking(|c| {
            let mut counts = Counts::default();
            // By state alone the rows_state index answers without touching the table; the
            // reasons are read only for the (few) skipped and failed rows.
            let mut st = c.prepare_cached(
                "SELECT state, count(*) FROM rows WHERE campaign_id = ?1 GROUP BY state",
            )?;
            let mut rows = st.query([campaign_id])?;
            while let Some(r) = rows.next()? {
                let n = r.get::<_, i64>(1)? as u64;
                counts.total += n;
                counts.states.insert(r.get(0)?, n);
            }
            let mut st = c.prepare_cached(
                "SELECT state, reason, count(*) FROM rows
                 WHERE campaign_id = ?1 AND state IN ('skipped', 'failed')
                 GROUP BY state, reason",
            )?;
            let mut rows = st.query([campaign_id])?;
            while let Some(r) = rows.next()? {
                let state: RowState = r.get(0)?;
                let reason: Option<String> = r.get(1)?;
                let by_reason = if state == RowState::Skipped {
                    &mut counts.skipped
                } else {
                    &mut counts.failed
                };
                *by_reason
                    .entry(reason.unwrap_or_else(|| "unknown".into()))
                    .or_default() += r.get::<_, i64>(2)? as u64;
            }
            Ok(counts)
        })
    }

    /// Whether any row still needs dialing, without counting them all.
    pub fn has_open_rows(&self, campaign_id: i64) -> Result<bool, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM rows WHERE campaign_id = ?1
                               AND state IN ('pending', 'retry_wait', 'in_flight'))",
                [campaign_id],
                |r| r.get(0),
            )
        })
    }

    pub fn latency(&self, campaign_id: i64) -> Result<LatencyStats, LedgerError> {
        // One entry per distinct millisecond, not per row: memory stays flat on a
        // million-row campaign.
        let counts = self.latency_counts(campaign_id)?;
        self.read_blocking(|c| {
            let (first, last, requests): (Option<i64>, Option<i64>, i64) = c.query_row(
                "SELECT min(started_at), max(started_at), count(*) FROM attempts
                 WHERE campaign_id = ?1",
                params![campaign_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            Ok(LatencyStats {
                samples: counts.iter().map(|(_, n)| n).sum(),
                p50_ms: percentile_of_counts(&counts, 50.0),
                p95_ms: percentile_of_counts(&counts, 95.0),
                p99_ms: percentile_of_counts(&counts, 99.0),
                first_attempt_at: first,
                last_attempt_at: last,
                requests: requests as u64,
            })
        })
    }
}

/// Nearest-rank percentile over (value, count) pairs sorted by value.
pub fn percentile_of_counts(counts: &[(i64, u64)], p: f64) -> Option<i64> {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = (((p / 100.0) * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    counts.iter().find_map(|&(v, n)| {
        seen += n;
        (seen >= rank).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::{percentile, percentile_of_counts};

    #[test]
    fn percentiles_from_counts_match_the_sorted_list() {
        let v: Vec<i64> = [5, 1, 1, 3, 9, 9, 9, 2, 7, 1].into_iter().collect();
        let mut sorted = v.clone();
        sorted.sort();
        let mut counts: Vec<(i64, u64)> = Vec::new();
        for x in &sorted {
            match counts.last_mut() {
                Some((val, n)) if val == x => *n += 1,
                _ => counts.push((*x, 1)),
            }
        }
        for p in [1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 100.0] {
            assert_eq!(
                percentile_of_counts(&counts, p),
                percentile(&sorted, p),
                "p{p}"
            );
        }
        assert_eq!(percentile_of_counts(&[], 50.0), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }
}
