//! Reading a verified `phone_call.ended` payload, as a pure function: which row it belongs
//! to (`metadata.requestMetadata.dialer_campaign` + `dialer_row`) and the outcome fields the
//! ledger keeps. Anything unexpected (not JSON, missing keys, wrong types) yields less, never
//! an error: a signed body came from Levers and is stored whatever its shape.

use serde_json::{Map, Value};

use crate::ledger::CallOutcome;

/// The one event type Levers documents. Its payload carries no type field, so a JSON object
/// without one is taken to be this event.
pub const PHONE_CALL_ENDED: &str = "phone_call.ended";

/// What the receiver learns from a body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedEvent {
    /// `None` when the body is not a JSON object.
    pub event_type: Option<String>,
    /// The campaign name and CSV line the dialer put in the call's metadata.
    pub target: Option<(String, u64)>,
    /// Present for `phone_call.ended` events (`received_at` is left for the caller).
    pub outcome: Option<CallOutcome>,
}

/// Reads what it can from `body`.
pub fn parse_event(body: &[u8]) -> ParsedEvent {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return ParsedEvent::default();
    };
    let explicit = ["type", "eventType", "event"]
        .iter()
        .find_map(|key| top.get(*key).and_then(Value::as_str))
        .map(str::to_owned);
    // Tolerate a Svix-style envelope `{type, data: {...}}` around the documented payload.
    let event = match top.get("data") {
        Some(Value::Object(data)) if !top.contains_key("metadata") => data,
        _ => &top,
    };
    let event_type = explicit.unwrap_or_else(|| PHONE_CALL_ENDED.to_owned());
    let outcome = (event_type == PHONE_CALL_ENDED).then(|| outcome(event));
    ParsedEvent {
        target: target(event),
        event_type: Some(event_type),
        outcome,
    }
}

fn target(event: &Map<String, Value>) -> Option<(String, u64)> {
    let meta = event.get("metadata")?.get("requestMetadata")?;
    let campaign = meta.get("dialer_campaign")?.as_str()?;
    let line = match meta.get("dialer_row")? {
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    (!campaign.is_empty() && line > 0).then(|| (campaign.to_owned(), line))
}

fn outcome(event: &Map<String, Value>) -> CallOutcome {
    let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
    CallOutcome {
        delivery_status: text("deliveryStatus"),
        provider_status: text("providerStatus"),
        duration_s: event.get("duration").and_then(seconds),
        call_output: text("callOutput"),
        sentiment: text("sentimentOutput"),
        ended_reason: text("endedReason"),
        summary: text("summary"),
        transcript: text("transcription"),
        provider_call_id: text("providerCallId"),
        received_at: None,
    }
}

/// `duration` is documented as integer seconds; a fractional or quoted number is rounded,
/// anything negative or non-numeric is dropped.
fn seconds(value: &Value) -> Option<i64> {
    let secs = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0 && secs < i64::MAX as f64).then(|| secs.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn documented() -> Value {
        json!({
            "providerCallId": "069652c8-d01e-733e-8000-7c64a16dde5f",
            "numberFrom": "+15074106928",
            "numberTo": "+971585420805",
            "providerStatus": "pass",
            "deliveryStatus": "pass",
            "duration": 53,
            "summary": null,
            "endedReason": null,
            "callOutput": "CALL_RESULT",
            "callOutputReasoning": "why",
            "sentimentOutput": "NEUTRAL",
            "sentimentOutputReasoning": "how",
            "transcription": "full transcript",
            "recordingUrl": "bucket:path/recording.mp3",
            "metadata": {"requestMetadata": {"dialer_campaign": "june", "dialer_row": "17"}}
        })
    }

    fn parse(v: &Value) -> ParsedEvent {
        parse_event(&serde_json::to_vec(v).expect("serialise"))
    }

    #[test]
    fn reads_the_documented_payload() {
        let parsed = parse(&documented());
        assert_eq!(parsed.event_type.as_deref(), Some(PHONE_CALL_ENDED));
        assert_eq!(parsed.target, Some(("june".to_owned(), 17)));
        let outcome = parsed.outcome.expect("an outcome");
        assert_eq!(outcome.delivery_status.as_deref(), Some("pass"));
        assert_eq!(outcome.provider_status.as_deref(), Some("pass"));
        assert_eq!(outcome.duration_s, Some(53));
        assert_eq!(outcome.call_output.as_deref(), Some("CALL_RESULT"));
        assert_eq!(outcome.sentiment.as_deref(), Some("NEUTRAL"));
        assert_eq!(outcome.transcript.as_deref(), Some("full transcript"));
        assert_eq!(outcome.summary, None);
        assert_eq!(outcome.ended_reason, None);
        assert_eq!(
            outcome.provider_call_id.as_deref(),
            Some("069652c8-d01e-733e-8000-7c64a16dde5f")
        );
    }

    #[test]
    fn non_json_or_non_objects_give_nothing() {
        for body in [&b"not json"[..], b"", b"[1,2]", b"\"text\"", b"\xff\xfe"] {
            assert_eq!(parse_event(body), ParsedEvent::default());
        }
    }

    #[test]
    fn a_row_needs_both_keys_and_a_positive_line() {
        let with_meta = |meta: Value| {
            let mut v = documented();
            v["metadata"]["requestMetadata"] = meta;
            parse(&v).target
        };
        assert_eq!(
            with_meta(json!({"dialer_campaign": "c", "dialer_row": 4})),
            Some(("c".into(), 4))
        );
        assert_eq!(with_meta(json!({"dialer_campaign": "c"})), None);
        assert_eq!(with_meta(json!({"dialer_row": "4"})), None);
        assert_eq!(
            with_meta(json!({"dialer_campaign": "c", "dialer_row": "x"})),
            None
        );
        assert_eq!(
            with_meta(json!({"dialer_campaign": "c", "dialer_row": "0"})),
            None
        );
        assert_eq!(
            with_meta(json!({"dialer_campaign": "", "dialer_row": "4"})),
            None
        );
        assert_eq!(
            with_meta(json!({"dialer_campaign": 5, "dialer_row": "4"})),
            None
        );
        assert_eq!(with_meta(json!("flat")), None);
        let mut v = documented();
        v.as_object_mut().expect("object").remove("metadata");
        assert_eq!(parse(&v).target, None);
    }

    #[test]
    fn odd_field_types_are_dropped_not_fatal() {
        let mut v = documented();
        v["duration"] = json!("12.6");
        v["callOutput"] = json!(7);
        let outcome = parse(&v).outcome.expect("an outcome");
        assert_eq!(outcome.duration_s, Some(13));
        assert_eq!(outcome.call_output, None);
        for bad in [json!(-1), json!("soon"), json!(null), json!(1e300)] {
            v["duration"] = bad;
            assert_eq!(parse(&v).outcome.expect("outcome").duration_s, None);
        }
    }

    #[test]
    fn other_event_types_match_but_carry_no_outcome() {
        let mut v = documented();
        v["type"] = json!("phone_call.started");
        let parsed = parse(&v);
        assert_eq!(parsed.event_type.as_deref(), Some("phone_call.started"));
        assert_eq!(parsed.target, Some(("june".to_owned(), 17)));
        assert_eq!(parsed.outcome, None);
    }

    #[test]
    fn an_envelope_around_the_payload_is_read_through() {
        let v = json!({"type": PHONE_CALL_ENDED, "data": documented()});
        let parsed = parse(&v);
        assert_eq!(parsed.target, Some(("june".to_owned(), 17)));
        assert_eq!(parsed.outcome.expect("outcome").duration_s, Some(53));
    }
}
