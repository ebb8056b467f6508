//! What reqwest reports below the HTTP status: which transport failures placed no call
//! (retryable) and which may have (uncertain), plus bounded body reading.

use super::outcome::Outcome;

/// Most bytes of a response body read at all; enough for any error `detail` and the 4 KiB kept.
const READ_LIMIT: usize = 64 * 1024;

/// Sorts a failed send. Only a failure to connect (refused, DNS, TLS handshake, connect
/// timeout) proves the request never left; everything else, a timeout or a connection lost
/// after sending, may have placed a real call, and a repeated POST would place a second one.
pub(crate) fn transport_outcome(err: &reqwest::Error) -> Outcome {
    let error = describe(err);
    if err.is_connect() || err.is_builder() {
        Outcome::Retryable {
            status: None,
            error,
        }
    } else if err.is_timeout() {
        Outcome::Uncertain {
            status: None,
            error: format!("no answer within --timeout ({error})"),
        }
    } else {
        Outcome::Uncertain {
            status: None,
            error,
        }
    }
}

/// The error and its causes in one line, e.g. "error sending request ...: tcp connect error:
/// Connection refused (os error 111)"; the top-level text alone rarely says what failed.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Secrets shorter than this are not searched for: replacing a one-letter test token would
/// shred every message, and real tokens (JWTs) and client secrets are far longer.
const MIN_REDACTED_LEN: usize = 8;

/// `text` with every occurrence of `secret` replaced by `[redacted]`, for texts that came back
/// from the network and might echo what was sent.
pub(crate) fn redact_text(text: String, secret: &str) -> String {
    if secret.len() < MIN_REDACTED_LEN || !text.contains(secret) {
        return text;
    }
    text.replace(secret, "[redacted]")
}

/// Reads at most [`READ_LIMIT`] bytes of the body. A body that breaks off midway still
/// counts: the status already decided the outcome, the body only adds detail.
pub(crate) async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = READ_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= READ_LIMIT {
            break;
        }
    }
    body
}
