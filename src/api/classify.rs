//! Sorting an HTTP answer into SPEC.md's failure classes: a pure function of the status, the
//! `Retry-After` header and the body, so the whole table is unit-tested without a server.

use std::time::Duration;

use serde_json::Value;

use super::message::{body_text, error_message};
use super::outcome::Outcome;

/// The longest pause a `Retry-After` may impose; a larger value is most likely a mistake and
/// would stall the whole pool.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

/// Keys that may hold the id of the placed call; the 201 body is not documented, so these are
/// guesses tried in order, at the top level and then inside a `data` object.
const CALL_ID_KEYS: [&str; 4] = ["id", "callId", "call_id", "uuid"];

/// Classifies one HTTP answer. Redirects are never followed (a POST must not be replayed
/// elsewhere), so a 3xx lands here and is reported as a wrong `--api-url`.
pub fn classify_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Outcome {
    classify_at(status, retry_after, body, jiff::Timestamp::now())
}

/// [`classify_response`] with the current time passed in, so HTTP-date `Retry-After` values
/// are testable.
pub(crate) fn classify_at(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: jiff::Timestamp,
) -> Outcome {
    match status {
        200..=299 => Outcome::Success {
            status,
            body: body_text(body),
            call_id: extract_call_id(body),
        },
        300..=399 => Outcome::Permanent {
            status,
            message: format!(
                "the API answered with a redirect (HTTP {status}), which is not followed for a call; \
                 check --api-url"
            ),
            body: body_text(body),
        },
        401 | 403 => Outcome::Auth {
            status,
            message: error_message(status, body),
        },
        429 => Outcome::Throttled {
            retry_after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        400..=499 => Outcome::Permanent {
            status,
            message: error_message(status, body),
            body: body_text(body),
        },
        503 => Outcome::Retryable {
            status: Some(status),
            error: error_message(status, body),
        },
        // 500, 502, 504 and the rest: the request reached something that may have placed the
        // call before failing. Statuses outside 2xx-5xx are just as unexplained.
        _ => Outcome::Uncertain {
            status: Some(status),
            error: error_message(status, body),
        },
    }
}

/// `Retry-After` as delay-seconds or as an HTTP-date, capped at [`MAX_RETRY_AFTER`]; a date in
/// the past means "now". `None` when the value is neither.
pub(crate) fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // Digits beyond u64 are still "a very long time", not garbage.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(value)
            .ok()?;
        let secs = at.as_second().saturating_sub(now.as_second());
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The call's id, if the (undocumented) success body carries one under a known key.
fn extract_call_id(body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    id_in(&json).or_else(|| json.get("data").and_then(id_in))
}

fn id_in(value: &Value) -> Option<String> {
    let map = value.as_object()?;
    CALL_ID_KEYS.iter().find_map(|key| match map.get(*key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::message::BODY_LIMIT;

    fn now() -> jiff::Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn classify(status: u16, body: &str) -> Outcome {
        classify_at(status, None, body.as_bytes(), now())
    }

    #[test]
    fn every_status_lands_in_its_class() {
        let table: &[(u16, &str)] = &[
            (200, "success"),
            (201, "success"),
            (204, "success"),
            (301, "permanent"),
            (307, "permanent"),
            (400, "permanent"),
            (404, "permanent"),
            (409, "permanent"),
            (422, "permanent"),
            (410, "permanent"),
            (418, "permanent"),
            (401, "auth"),
            (403, "auth"),
            (429, "throttled"),
            (503, "retryable"),
            (500, "uncertain"),
            (502, "uncertain"),
            (504, "uncertain"),
            (599, "uncertain"),
            (101, "uncertain"),
        ];
        for &(status, class) in table {
            let outcome = classify(status, "");
            assert_eq!(outcome.class(), class, "HTTP {status}: {outcome:?}");
            assert_eq!(outcome.http_status(), Some(status), "HTTP {status}");
        }
    }

    #[test]
    fn error_classes_carry_the_api_message() {
        let body = r#"{"detail":[{"loc":["body","numberToCall"],"msg":"invalid"}]}"#;
        match classify(422, body) {
            Outcome::Permanent {
                message,
                body: kept,
                ..
            } => {
                assert_eq!(message, "numberToCall: invalid");
                assert_eq!(kept, body);
            }
            other => panic!("{other:?}"),
        }
        let auth = classify(401, r#"{"detail":"Token expired"}"#);
        assert_eq!(
            auth,
            Outcome::Auth {
                status: 401,
                message: "Token expired".into()
            }
        );
        let busy = classify(503, "");
        assert_eq!(
            busy,
            Outcome::Retryable {
                status: Some(503),
                error: "Service Unavailable".into()
            }
        );
        match classify(504, "upstream timed out") {
            Outcome::Uncertain { error, .. } => assert_eq!(error, "upstream timed out"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_blamed_on_the_api_url() {
        match classify(302, "") {
            Outcome::Permanent { message, .. } => {
                assert!(
                    message.contains("redirect") && message.contains("--api-url"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let at = |v: &str| match classify_at(429, Some(v), b"", now()) {
            Outcome::Throttled { retry_after } => retry_after,
            other => panic!("{other:?}"),
        };
        assert_eq!(at("7"), Some(Duration::from_secs(7)));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        assert_eq!(at("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(at("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            at("Sun, 01 Mar 2026 12:00:42 GMT"),
            Some(Duration::from_secs(42))
        );
        assert_eq!(at("Sun, 01 Mar 2026 13:00:00 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(at("Sun, 01 Mar 2026 11:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(at("-5"), None);
        assert_eq!(at("soon"), None);
        assert_eq!(at(""), None);
        assert_eq!(
            classify_at(429, None, b"", now()),
            Outcome::Throttled { retry_after: None }
        );
    }

    #[test]
    fn call_id_is_taken_from_known_keys_only() {
        let id = |body: &str| match classify(201, body) {
            Outcome::Success { call_id, .. } => call_id,
            other => panic!("{other:?}"),
        };
        assert_eq!(id(r#"{"id":"c-1"}"#).as_deref(), Some("c-1"));
        assert_eq!(
            id(r#"{"callId":"c-2","status":"queued"}"#).as_deref(),
            Some("c-2")
        );
        assert_eq!(id(r#"{"call_id":"c-3"}"#).as_deref(), Some("c-3"));
        assert_eq!(id(r#"{"uuid":"c-4"}"#).as_deref(), Some("c-4"));
        assert_eq!(id(r#"{"uuid":"u","id":"first"}"#).as_deref(), Some("first"));
        assert_eq!(id(r#"{"data":{"callId":"c-5"}}"#).as_deref(), Some("c-5"));
        assert_eq!(
            id(r#"{"id":"top","data":{"id":"inner"}}"#).as_deref(),
            Some("top")
        );
        assert_eq!(id(r#"{"id":17}"#), None);
        assert_eq!(id(r#"{"id":""}"#), None);
        assert_eq!(id(r#"{"callIdentifier":"x"}"#), None);
        assert_eq!(id(r#"["id"]"#), None);
        assert_eq!(id("accepted"), None);
        assert_eq!(id(""), None);
    }

    #[test]
    fn success_body_is_truncated_to_4_kib_on_a_char_boundary() {
        // 4095 ASCII bytes then a 3-byte char: keeping it would pass 4096, so it goes.
        let body = format!("{}€tail", "x".repeat(BODY_LIMIT - 1));
        match classify(201, &body) {
            Outcome::Success {
                body: kept,
                call_id,
                ..
            } => {
                assert_eq!(kept.len(), BODY_LIMIT - 1);
                assert!(kept.chars().all(|c| c == 'x'));
                assert_eq!(call_id, None);
            }
            other => panic!("{other:?}"),
        }
        let small = r#"{"id":"abc"}"#;
        assert!(matches!(classify(200, small), Outcome::Success { body, .. } if body == small));
    }
}
