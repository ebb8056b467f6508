//! Below the HTTP status, for both routes a call can take (hyper straight, reqwest): which
//! transport failures placed no call (retryable) and which may have (uncertain), what an
//! answer keeps, and bounded body reading.

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::outcome::Outcome;

/// Most bytes of a response body read at all; enough for any error `detail` and the 4 KiB kept.
const READ_LIMIT: usize = 64 * 1024;

/// A request that got no HTTP answer. Only a failure to connect (refused, DNS, TLS
/// handshake, connect timeout) proves the request never left; everything else, a timeout
/// or a connection lost after sending, may have placed a real call, and a repeated POST
/// would place a second one.
#[derive(Debug)]
pub(crate) enum TransportFailure {
    Unsent(String),
    Lost(String),
    /// No answer within `--timeout`; the text says what timed out.
    TimedOut(String),
}

impl TransportFailure {
    pub(crate) fn outcome(self) -> Outcome {
        match self {
            TransportFailure::Unsent(error) => Outcome::Retryable {
                status: None,
                error,
            },
            TransportFailure::Lost(error) => Outcome::Uncertain {
                status: None,
                error,
            },
            TransportFailure::TimedOut(detail) => Outcome::Uncertain {
                status: None,
                error: format!("no answer within --timeout ({detail})"),
            },
        }
    }
}

/// Sorts a failed reqwest send (see [`TransportFailure`]).
pub(crate) fn transport_failure(err: &reqwest::Error) -> TransportFailure {
    let error = chain(err);
    if err.is_connect() || err.is_builder() {
        TransportFailure::Unsent(error)
    } else if err.is_timeout() {
        TransportFailure::TimedOut(error)
    } else {
        TransportFailure::Lost(error)
    }
}

/// What an answered request gave: the status, `Retry-After`, and at most [`READ_LIMIT`]
/// bytes of the body.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// The `Retry-After` header's text, if it has one that is text.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<String> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Appends what [`READ_LIMIT`] leaves room for of `chunk`; `true` once the body is full.
pub(crate) fn keep_capped(body: &mut Vec<u8>, chunk: &[u8]) -> bool {
    let room = READ_LIMIT - body.len();
    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    body.len() >= READ_LIMIT
}

/// The error and its causes in one line, e.g. "error sending request ...: tcp connect error:
/// Connection refused (os error 111)"; the top-level text alone rarely says what failed.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
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
        if keep_capped(&mut body, &chunk) {
            break;
        }
    }
    body
}
