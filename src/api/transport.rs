//! What reqwest reports below the HTTP status: which transport failures placed no call
//! (retryable) and which may have (uncertain), plus bounded body reading.

use super::outcome::Outcome;

/// Most bytes of a response body read at all; enough for any error `detail` and the 4 KiB kept.
pub(crate) const READ_LIMIT: usize = 64 * 1024;

/// A request that got no HTTP answer. Only a failure to connect (refused, DNS, TLS
/// handshake, connect timeout) proves the request never left; everything else, a timeout
/// or a connection lost after sending, may have placed a real call, and a repeated POST
/// would place a second one.
#[derive(Debug)]
pub(crate) enum TransportFailure {
    Unsent(String),
    Lost(String),
    TimedOut,
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
            TransportFailure::TimedOut => Outcome::Uncertain {
                status: None,
                error: "no answer within --timeout (operation timed out)".to_owned(),
            },
        }
    }
}

/// Sorts a failed reqwest send (see [`TransportFailure`]).
pub(crate) fn transport_outcome(err: &reqwest::Error) -> Outcome {
    let error = chain(err);
    if err.is_connect() || err.is_builder() {
        TransportFailure::Unsent(error).outcome()
    } else if err.is_timeout() {
        Outcome::Uncertain {
            status: None,
            error: format!("no answer within --timeout ({error})"),
        }
    } else {
        TransportFailure::Lost(error).outcome()
    }
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
        let room = READ_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= READ_LIMIT {
            break;
        }
    }
    body
}
