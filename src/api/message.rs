//! Human-readable text out of an API answer: the error message built from a FastAPI-style
//! `detail`, and the size caps that keep stored bodies and messages bounded.

use serde_json::Value;

/// Most bytes of a response body kept in an `Outcome`.
pub const BODY_LIMIT: usize = 4 * 1024;
/// Most characters of a non-JSON (or unrecognised JSON) body used as a message.
pub const TEXT_MESSAGE_CHARS: usize = 300;

/// The message for an error answer (SPEC.md, "Error messages from the API"): a `detail` string
/// as is; a `detail` list as its `msg`s joined with `"; "`, each after its `loc` path without
/// the leading `"body"`; anything else the body's text cut to 300 characters; an empty body the
/// status's reason phrase.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return reason_phrase(status);
    }
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        match map.get("detail") {
            Some(Value::String(detail)) if !detail.trim().is_empty() => {
                return truncate_bytes(detail, BODY_LIMIT);
            }
            Some(Value::Array(items)) => {
                let parts: Vec<String> = items.iter().filter_map(detail_item).collect();
                if !parts.is_empty() {
                    return truncate_bytes(&parts.join("; "), BODY_LIMIT);
                }
            }
            _ => {}
        }
    }
    truncate_chars(text, TEXT_MESSAGE_CHARS)
}

/// One FastAPI validation error: `{"loc": ["body", "numberToCall"], "msg": "..."}` becomes
/// `numberToCall: ...`. Items without a `msg` string say nothing useful and are left out.
fn detail_item(item: &Value) -> Option<String> {
    let msg = item.get("msg")?.as_str()?.trim();
    if msg.is_empty() {
        return None;
    }
    let mut loc: Vec<String> = match item.get("loc") {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if loc.first().map(String::as_str) == Some("body") {
        loc.remove(0);
    }
    Some(if loc.is_empty() {
        msg.to_owned()
    } else {
        format!("{}: {msg}", loc.join("."))
    })
}

fn reason_phrase(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// At most `max` bytes of `text`, cut back to the last whole UTF-8 character.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A response body as text (invalid UTF-8 replaced), capped at [`BODY_LIMIT`] bytes.
pub fn body_text(body: &[u8]) -> String {
    // Decoding only the head keeps a huge body from being copied whole; the lossy decoder may
    // turn a cut character into U+FFFD, which `truncate_bytes` then trims to the limit.
    let head = &body[..body.len().min(BODY_LIMIT + 4)];
    truncate_bytes(&String::from_utf8_lossy(head), BODY_LIMIT)
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_string_is_the_message() {
        let body = br#"{"detail": "Contact not found"}"#;
        assert_eq!(error_message(404, body), "Contact not found");
    }

    #[test]
    fn detail_list_joins_msgs_with_their_loc() {
        let body = br#"{"detail": [
            {"loc": ["body", "numberToCall"], "msg": "value is not a valid phone number", "type": "value_error"},
            {"loc": ["body", "promptTags", "amount"], "msg": "str type expected", "input": 12},
            {"loc": ["query", "x", 0], "msg": "bad"},
            {"loc": [], "msg": "whole body wrong"},
            {"type": "no msg here"}
        ]}"#;
        assert_eq!(
            error_message(422, body),
            "numberToCall: value is not a valid phone number; promptTags.amount: str type expected; \
             query.x.0: bad; whole body wrong"
        );
    }

    #[test]
    fn non_json_body_is_cut_to_300_chars() {
        let body = "é".repeat(500);
        let msg = error_message(400, body.as_bytes());
        assert_eq!(msg.chars().count(), 300);
        assert!(msg.chars().all(|c| c == 'é'));
        assert_eq!(
            error_message(502, b"  <html>Bad gateway</html>\n"),
            "<html>Bad gateway</html>"
        );
    }

    #[test]
    fn json_without_a_usable_detail_is_used_as_text() {
        assert_eq!(
            error_message(409, br#"{"error":"dup"}"#),
            r#"{"error":"dup"}"#
        );
        assert_eq!(error_message(422, br#"{"detail":[]}"#), r#"{"detail":[]}"#);
        assert_eq!(error_message(400, br#"["detail"]"#), r#"["detail"]"#);
    }

    #[test]
    fn empty_body_gives_the_reason_phrase() {
        assert_eq!(error_message(404, b""), "Not Found");
        assert_eq!(error_message(503, b" \n"), "Service Unavailable");
        assert_eq!(error_message(599, b""), "HTTP 599");
    }

    #[test]
    fn truncation_respects_utf8_boundaries() {
        assert_eq!(truncate_bytes("aé", 2), "a");
        assert_eq!(truncate_bytes("aé", 3), "aé");
        let long = format!("{}€€", "a".repeat(BODY_LIMIT - 2));
        let cut = body_text(long.as_bytes());
        assert_eq!(cut.len(), BODY_LIMIT - 2);
        assert_eq!(body_text(&[b'o', b'k', 0xff]), "ok\u{fffd}");
    }
}
