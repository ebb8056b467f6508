//! One report record: a ledger row flattened into what a reader of the report wants (the
//! contact's names from the request that was sent, times as RFC 3339 UTC, the webhook's
//! outcome beside the dialer's own result). Every output format is built from it.

use crate::ledger::RowState;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::summary::rfc3339;
use crate::api::types::{META_CAMPAIGN, META_ROW};
use crate::ledger::RowRecord;

/// A row as the reports show it. Field names are the CSV column names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Record {
    pub row: u64,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub status: RowState,
    pub reason: Option<String>,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub call_id: Option<String>,
    pub first_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub latency_ms: Option<i64>,
    pub delivery_status: Option<String>,
    pub call_output: Option<String>,
    pub sentiment: Option<String>,
    pub duration_s: Option<i64>,
    pub ended_reason: Option<String>,
    /// The zone the row's calling hours are read in; `None` when its number could be in
    /// several (then `candidate_zones` names them all).
    pub zone: Option<String>,
    /// What decided it: `column`, `number`, `country` or `default`.
    pub zone_source: Option<String>,
    /// Every zone the number could be in, `, `-separated, when there are several.
    pub candidate_zones: Option<String>,
    pub error: Option<String>,
    /// One sentence about the reason, e.g. which earlier row a duplicate repeats.
    pub detail: Option<String>,
    pub duplicate_of: Option<u64>,
    /// The row's metadata without the two keys the dialer adds itself.
    pub metadata: BTreeMap<String, String>,
    pub prompt_tags: BTreeMap<String, String>,
    /// The call summary from the webhook.
    pub summary: Option<String>,
    pub transcript: Option<String>,
    /// A skipped row's cells as one CSV record (the header is not kept), as text: bytes
    /// that are not UTF-8 are shown as U+FFFD.
    pub raw: Option<String>,
    /// The same record's bytes exactly as kept, for the CSV report's `raw` column.
    #[serde(skip)]
    pub raw_bytes: Option<Vec<u8>>,
    /// Which of the row's numbers reached the contact (its delivered call's number).
    pub number_dialed: Option<String>,
    /// Calls placed for the row: first calls, redials and secondary numbers.
    pub calls: u32,
}

/// The parts of a stored request body a report shows. Lenient on purpose: a body that does
/// not parse (an older dialer, a hand-edited ledger) costs the names, never the report.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SentRequest {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    metadata: BTreeMap<String, serde_json::Value>,
    prompt_tags: BTreeMap<String, serde_json::Value>,
}

/// A JSON value as a cell: strings as they are, anything else as its JSON text.
fn text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// What the dialer itself writes: every metadata and tag value a string. Read first,
/// because it skips building a `serde_json::Value` per cell (the report's hot path).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SentStrings {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    metadata: BTreeMap<String, String>,
    prompt_tags: BTreeMap<String, String>,
}

/// The request's parts, strictly typed when possible, leniently otherwise.
fn read_sent(body: &str) -> SentStrings {
    if let Ok(typed) = serde_json::from_str::<SentStrings>(body) {
        return typed;
    }
    let sent: SentRequest = serde_json::from_str(body).unwrap_or_default();
    SentStrings {
        first_name: sent.first_name,
        last_name: sent.last_name,
        email: sent.email,
        metadata: strings(sent.metadata),
        prompt_tags: strings(sent.prompt_tags),
    }
}

fn strings(map: BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    map.into_iter().map(|(k, v)| (k, text(v))).collect()
}

/// `(zone, candidate_zones)` of a row's stored zones: the ledger keeps them as one
/// comma-separated text (`zone::Zones`), a single name when the row has one.
pub fn split_zones(stored: Option<String>) -> (Option<String>, Option<String>) {
    match stored {
        Some(text) if text.contains(',') => (None, Some(text.replace(',', ", "))),
        one => (one, None),
    }
}

impl Record {
    pub fn from_row(row: RowRecord) -> Record {
        // A skipped row has no request, but its contact has the same shape.
        let body = row.request.as_deref().or(row.contact.as_deref());
        let sent = body.map(read_sent).unwrap_or_default();
        let mut metadata = sent.metadata;
        metadata.remove(META_CAMPAIGN);
        metadata.remove(META_ROW);
        let outcome = row.outcome.unwrap_or_default();
        let (zone, candidate_zones) = split_zones(row.timezone);
        let reached = outcome.delivery_status.as_deref() == Some("pass");
        Record {
            number_dialed: row.e164.clone().filter(|_| reached),
            calls: row.calls,
            row: row.line,
            phone: row.e164,
            first_name: sent.first_name,
            last_name: sent.last_name,
            email: sent.email,
            status: row.state,
            reason: row.reason,
            attempts: row.attempts,
            http_status: row.http_status,
            call_id: row.call_id,
            first_attempt_at: row.first_attempt_at.map(rfc3339),
            last_attempt_at: row.last_attempt_at.map(rfc3339),
            latency_ms: row.latency_ms,
            delivery_status: outcome.delivery_status,
            call_output: outcome.call_output,
            sentiment: outcome.sentiment,
            duration_s: outcome.duration_s,
            ended_reason: outcome.ended_reason,
            zone,
            zone_source: row.zone_source,
            candidate_zones,
            error: row.error,
            detail: row.detail,
            duplicate_of: row.duplicate_of,
            metadata,
            prompt_tags: sent.prompt_tags,
            summary: outcome.summary,
            transcript: outcome.transcript,
            raw: row
                .raw
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            raw_bytes: row.raw,
        }
    }
}

/// Which rows a report includes: every row, or those in the given states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusFilter(Vec<RowState>);

impl StatusFilter {
    /// The states as given to `--status` (case-insensitive, spaces ignored); an empty list
    /// keeps every row. An unknown state is an error naming the valid ones.
    pub fn parse(states: &[String]) -> Result<StatusFilter, String> {
        let mut keep = Vec::new();
        for s in states {
            let s = s.trim().to_ascii_lowercase();
            if s.is_empty() {
                continue;
            }
            let s: RowState = s.parse().map_err(|e| format!("--status: {e}"))?;
            if !keep.contains(&s) {
                keep.push(s);
            }
        }
        Ok(StatusFilter(keep))
    }

    pub fn keeps(&self, state: RowState) -> bool {
        self.0.is_empty() || self.0.contains(&state)
    }

    /// The states kept, or empty for every row.
    pub fn states(&self) -> &[RowState] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::CallOutcome;

    fn row() -> RowRecord {
        RowRecord {
            line: 7,
            state: RowState::Succeeded,
            reason: None,
            detail: None,
            e164: Some("+966501234567".into()),
            duplicate_of: None,
            request: Some(
                r#"{"numberToCall":"+966501234567","firstName":"Sara","lastName":"Ali",
                   "email":"s@example.com","promptTags":{"amount":"12.5"},
                   "metadata":{"account":"A-1","dialer_campaign":"c","dialer_row":"7"}}"#
                    .into(),
            ),
            attempts: 2,
            http_status: Some(201),
            error: None,
            call_id: Some("call-1".into()),
            first_attempt_at: Some(1_767_225_600_000),
            last_attempt_at: Some(1_767_225_601_500),
            latency_ms: Some(120),
            raw: None,
            timezone: Some("Asia/Riyadh".into()),
            zone_source: Some("country".into()),
            response: Some("{}".into()),
            contact: None,
            outcome: None,
            calls: 1,
        }
    }

    #[test]
    fn a_skipped_row_is_named_from_its_contact() {
        let skipped = RowRecord {
            state: RowState::Skipped,
            reason: Some("invalid_number".into()),
            request: None,
            contact: Some(r#"{"firstName":"Omar","metadata":{"account":"A-9"}}"#.into()),
            ..row()
        };
        let r = Record::from_row(skipped);
        assert_eq!(r.first_name.as_deref(), Some("Omar"));
        assert_eq!(r.metadata["account"], "A-9");
    }

    #[test]
    fn names_and_metadata_come_from_the_request_without_the_dialer_keys() {
        let r = Record::from_row(row());
        assert_eq!(r.row, 7);
        assert_eq!(r.first_name.as_deref(), Some("Sara"));
        assert_eq!(r.last_name.as_deref(), Some("Ali"));
        assert_eq!(r.email.as_deref(), Some("s@example.com"));
        assert_eq!(
            r.metadata.into_iter().collect::<Vec<_>>(),
            vec![("account".to_string(), "A-1".to_string())]
        );
        assert_eq!(r.prompt_tags["amount"], "12.5");
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let r = Record::from_row(row());
        assert_eq!(
            r.first_attempt_at.as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        assert_eq!(
            r.last_attempt_at.as_deref(),
            Some("2026-01-01T00:00:01.500Z")
        );
    }

    #[test]
    fn outcome_fields_are_copied() {
        let mut raw = row();
        raw.outcome = Some(CallOutcome {
            delivery_status: Some("pass".into()),
            duration_s: Some(53),
            call_output: Some("PAID".into()),
            sentiment: Some("POSITIVE".into()),
            summary: Some("agreed to pay".into()),
            transcript: Some("hello".into()),
            received_at: Some(1),
            ..CallOutcome::default()
        });
        let r = Record::from_row(raw);
        assert_eq!(r.delivery_status.as_deref(), Some("pass"));
        assert_eq!(r.duration_s, Some(53));
        assert_eq!(r.call_output.as_deref(), Some("PAID"));
        assert_eq!(r.sentiment.as_deref(), Some("POSITIVE"));
        assert_eq!(r.summary.as_deref(), Some("agreed to pay"));
        assert_eq!(r.transcript.as_deref(), Some("hello"));
        assert_eq!(
            r.number_dialed.as_deref(),
            Some("+966501234567"),
            "it reached"
        );
        assert_eq!(r.calls, 1);
        let unreached = Record::from_row(row());
        assert_eq!(
            unreached.number_dialed, None,
            "no delivered call, no number that reached"
        );
    }

    #[test]
    fn a_skipped_row_without_a_request_keeps_its_raw_cells() {
        let mut raw = row();
        raw.state = RowState::Skipped;
        raw.reason = Some("invalid_number".into());
        raw.request = None;
        raw.raw = Some(b"Sara,12345".to_vec());
        let r = Record::from_row(raw);
        assert_eq!(r.first_name, None);
        assert!(r.metadata.is_empty());
        assert_eq!(r.raw.as_deref(), Some("Sara,12345"));
        assert_eq!(r.reason.as_deref(), Some("invalid_number"));
    }

    #[test]
    fn an_unreadable_request_costs_the_names_not_the_record() {
        let mut raw = row();
        raw.request = Some("{not json".into());
        let r = Record::from_row(raw);
        assert_eq!(r.first_name, None);
        assert_eq!(r.status, RowState::Succeeded);
    }

    #[test]
    fn status_filter_parses_and_keeps() {
        let all = StatusFilter::parse(&[]).unwrap();
        assert!(all.keeps(RowState::Skipped));
        let f = StatusFilter::parse(&["Failed".into(), " uncertain".into()]).unwrap();
        assert!(f.keeps(RowState::Failed) && f.keeps(RowState::Uncertain));
        assert!(!f.keeps(RowState::Succeeded));
        let err = StatusFilter::parse(&["done".into()]).unwrap_err();
        assert!(
            err.contains("\"done\"") && err.contains("succeeded"),
            "{err}"
        );
    }
}
