//! What the reports read besides the rows: requests started over time, the latency
//! distribution, what the webhooks said about the calls, and the request keys recorded at
//! ingest. Each query returns at most one entry per distinct value (time slot, millisecond,
//! label, key), never one per row.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{Ledger, LedgerError};

/// What the `phone_call.ended` webhooks said about a campaign's calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutcomeStats {
    /// Rows with an outcome recorded.
    pub received: u64,
    /// `deliveryStatus` (pass / fail) -> rows.
    pub delivery: BTreeMap<String, u64>,
    /// `callOutput` -> rows.
    pub call_output: BTreeMap<String, u64>,
    /// Sentiment -> rows.
    pub sentiment: BTreeMap<String, u64>,
    /// Why the call ended -> rows.
    pub ended_reason: BTreeMap<String, u64>,
    /// Mean call length in seconds over the outcomes that carry one.
    pub mean_duration_s: Option<f64>,
}

impl OutcomeStats {
    /// Rows whose call got through (`deliveryStatus` pass).
    pub fn delivered(&self) -> u64 {
        self.delivery.get("pass").copied().unwrap_or(0)
    }

    /// Rows whose call did not get through (`deliveryStatus` fail).
    pub fn not_delivered(&self) -> u64 {
        self.delivery.get("fail").copied().unwrap_or(0)
    }
}

/// Label -> count for one outcome column; NULL becomes "unknown".
fn label_counts(
    c: &Connection,
    campaign_id: i64,
    column: &str,
) -> rusqlite::Result<BTreeMap<String, u64>> {
    // `column` is one of our own constant names, never user input.
    let mut st = c.prepare_cached(&format!(
        "SELECT coalesce({column}, 'unknown'), count(*) FROM rows
         WHERE campaign_id = ?1 AND outcome_at IS NOT NULL GROUP BY 1"
    ))?;
    st.query_map([campaign_id], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
    })?
    .collect()
}

impl Ledger {
    /// Requests started per `interval_ms` (every attempt, retries included), as (the
    /// interval's start in unix ms, requests), oldest first; intervals with none are absent.
    /// `requeued` history entries are bookkeeping from `dialer retry`, not requests.
    pub fn requests_per_interval(
        &self,
        campaign_id: i64,
        interval_ms: i64,
    ) -> Result<Vec<(i64, u64)>, LedgerError> {
        let interval_ms = interval_ms.max(1);
        self.read_blocking(|c| {
            let mut st = c.prepare_cached(
                "SELECT (started_at / ?2) * ?2 AS slot, count(*) FROM attempts
                 WHERE campaign_id = ?1 AND coalesce(class, '') <> 'requeued'
                 GROUP BY slot ORDER BY slot",
            )?;
            st.query_map([campaign_id, interval_ms], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        })
    }

    /// The rows' latest latencies as (latency ms, rows), ascending: the same samples the
    /// summary's percentiles use.
    pub fn latency_counts(&self, campaign_id: i64) -> Result<Vec<(i64, u64)>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare_cached(
                "SELECT latency_ms, count(*) FROM rows
                 WHERE campaign_id = ?1 AND latency_ms IS NOT NULL
                 GROUP BY latency_ms ORDER BY latency_ms",
            )?;
            st.query_map([campaign_id], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        })
    }

    /// The webhook outcomes of a campaign, counted.
    pub fn outcome_stats(&self, campaign_id: i64) -> Result<OutcomeStats, LedgerError> {
        self.read_blocking(|c| {
            let (received, mean_duration_s): (i64, Option<f64>) = c.query_row(
                "SELECT count(*), avg(duration_s) FROM rows
                 WHERE campaign_id = ?1 AND outcome_at IS NOT NULL",
                [campaign_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(OutcomeStats {
                received: received as u64,
                delivery: label_counts(c, campaign_id, "delivery_status")?,
                call_output: label_counts(c, campaign_id, "call_output")?,
                sentiment: label_counts(c, campaign_id, "sentiment")?,
                ended_reason: label_counts(c, campaign_id, "ended_reason")?,
                mean_duration_s,
            })
        })
    }
}

/// The metadata keys and prompt-tag keys found in the requests of a campaign's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestKeys {
    pub metadata: std::collections::BTreeSet<String>,
    pub tags: std::collections::BTreeSet<String>,
}

impl Ledger {
    /// Records the metadata and prompt-tag keys a campaign's requests carry (idempotent).
    /// Called before the rows are stored, so a report's header never misses a key.
    pub fn record_request_keys_blocking(
        &self,
        campaign_id: i64,
        metadata: Vec<String>,
        tags: Vec<String>,
    ) -> Result<(), LedgerError> {
        self.writer.call_blocking(move |tx| {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO request_keys (campaign_id, kind, key) VALUES (?1, ?2, ?3)",
            )?;
            for (kind, keys) in [("metadata", metadata), ("tag", tags)] {
                for key in keys {
                    st.execute(rusqlite::params![campaign_id, kind, key])?;
                }
            }
            Ok(())
        })
    }

    /// The `metadata` and `promptTags` keys of a campaign's requests, for a CSV header: the
    /// same columns whatever rows a report keeps, so scripts can rely on them.
    pub fn request_keys(&self, campaign_id: i64) -> Result<RequestKeys, LedgerError> {
        self.read_blocking(move |c| {
            let mut st = c.prepare_cached(
                "SELECT kind, key FROM request_keys WHERE campaign_id = ?1 ORDER BY kind, key",
            )?;
            let mut rows = st.query([campaign_id])?;
            let mut keys = RequestKeys::default();
            while let Some(r) = rows.next()? {
                let (kind, key): (String, String) = (r.get(0)?, r.get(1)?);
                if kind == "metadata" {
                    keys.metadata.insert(key);
                } else {
                    keys.tags.insert(key);
                }
            }
            Ok(keys)
        })
    }
}

/// The counts behind the results funnel that the summary's state counts do not hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FunnelCounts {
    /// Rows with at least one request sent.
    pub dialed: u64,
    /// Seconds of talk over the calls that got through (webhook `duration`).
    pub talk_s: u64,
}

/// One value of a breakdown column and how its rows fared.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BreakdownLine {
    /// The cell's value; `None` when the row has no such cell.
    pub value: Option<String>,
    pub rows: u64,
    pub dialed: u64,
    pub placed: u64,
    pub reached: u64,
}

/// Most values a breakdown lists; the rest are summed into one line by the caller's reader
/// (a column of phone-like ids would otherwise list every row).
pub const BREAKDOWN_VALUES: usize = 40;

/// The JSON path of a report column in a stored request or contact: `tag:KEY` is a prompt
/// tag, anything else a metadata key (the same names the CSV report's header uses).
fn column_path(column: &str) -> String {
    let (object, key) = match column.strip_prefix("tag:") {
        Some(tag) => ("promptTags", tag),
        None => ("metadata", column),
    };
    // A quoted JSON path segment: a key with dots or spaces still names one key.
    let quoted = serde_json::to_string(key).unwrap_or_default();
    format!("$.{object}.{quoted}")
}

impl Ledger {
    /// Rows dialed and talk time of a campaign.
    pub fn funnel_counts(&self, campaign_id: i64) -> Result<FunnelCounts, LedgerError> {
        self.read_blocking(|c| {
            c.query_row(
                "SELECT coalesce(sum(attempts > 0), 0),
                        coalesce(sum(CASE WHEN delivery_status = 'pass' THEN duration_s END), 0)
                 FROM rows WHERE campaign_id = ?1",
                [campaign_id],
                |r| {
                    Ok(FunnelCounts {
                        dialed: r.get::<_, i64>(0)? as u64,
                        talk_s: r.get::<_, i64>(1)?.max(0) as u64,
                    })
                },
            )
        })
    }

    /// Call outcomes by the UTC hour of the row's last request: (hour 0-23, callOutput or
    /// "unknown", rows). Only rows with a webhook outcome count.
    pub fn outcomes_by_hour(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(u8, String, u64)>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare_cached(
                "SELECT (coalesce(last_attempt_at, outcome_at) / 3600000) % 24 AS hour,
                        coalesce(call_output, 'unknown'), count(*)
                 FROM rows WHERE campaign_id = ?1 AND outcome_at IS NOT NULL
                 GROUP BY 1, 2 ORDER BY 1, 2",
            )?;
            st.query_map([campaign_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?.clamp(0, 23) as u8,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect()
        })
    }

    /// The campaign's rows grouped by one metadata (`KEY`) or prompt-tag (`tag:KEY`) column,
    /// largest groups first, at most [`BREAKDOWN_VALUES`] of them.
    pub fn breakdown(
        &self,
        campaign_id: i64,
        column: &str,
    ) -> Result<Vec<BreakdownLine>, LedgerError> {
        let path = column_path(column);
        self.read_blocking(move |c| {
            let mut st = c.prepare_cached(
                "SELECT CASE WHEN json_valid(coalesce(request, contact))
                             THEN json_extract(coalesce(request, contact), ?2) END AS v,
                        count(*), sum(attempts > 0), sum(state = ?4),
                        sum(coalesce(delivery_status = 'pass', 0))
                 FROM rows WHERE campaign_id = ?1
                 GROUP BY v ORDER BY count(*) DESC, v LIMIT ?3",
            )?;
            let n = |r: &rusqlite::Row<'_>, i| r.get::<_, i64>(i).map(|v| v as u64);
            st.query_map(
                rusqlite::params![
                    campaign_id,
                    path,
                    BREAKDOWN_VALUES as i64,
                    super::RowState::Succeeded.as_str()
                ],
                |r| {
                    let value: Option<rusqlite::types::Value> = r.get(0)?;
                    Ok(BreakdownLine {
                        value: value.and_then(|v| match v {
                            rusqlite::types::Value::Text(s) => Some(s),
                            rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                            rusqlite::types::Value::Real(f) => Some(f.to_string()),
                            _ => None,
                        }),
                        rows: n(r, 1)?,
                        dialed: n(r, 2)?,
                        placed: n(r, 3)?,
                        reached: n(r, 4)?,
                    })
                },
            )?
            .collect()
        })
    }
}

#[cfg(test)]
mod results_tests {
    use super::*;

    #[test]
    fn columns_name_metadata_or_tags_as_quoted_paths() {
        assert_eq!(column_path("account"), r#"$.metadata."account""#);
        assert_eq!(column_path("tag:plan"), r#"$.promptTags."plan""#);
        assert_eq!(column_path("a.b \"c\""), r#"$.metadata."a.b \"c\"""#);
    }
}
