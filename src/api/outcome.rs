//! What one attempt at placing a call came to, already sorted into SPEC.md's failure classes.

use std::time::Duration;

/// The class of one attempt's answer (SPEC.md, "Failure classes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the call was accepted. `body` is truncated to 4 KiB; `call_id` is extracted
    /// only when the (undocumented) body carries one.
    Success {
        status: u16,
        body: String,
        call_id: Option<String>,
    },
    /// 400, 404, 409, 422: the API refused this row for good.
    Permanent {
        status: u16,
        message: String,
        body: String,
    },
    /// 401/403 after any token refresh: the run must stop; no call was placed.
    Auth { status: u16, message: String },
    /// 429: no call was placed; the whole pool pauses.
    Throttled { retry_after: Option<Duration> },
    /// Connect error, DNS, TLS handshake, 503: the request did not place a call.
    Retryable { status: Option<u16>, error: String },
    /// 500, 502, 504, timeout or connection lost after sending: a call may have been placed.
    Uncertain { status: Option<u16>, error: String },
}

impl Outcome {
    /// Short lowercase name of the class, as stored in the attempt history.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Success { .. } => "success",
            Outcome::Permanent { .. } => "permanent",
            Outcome::Auth { .. } => "auth",
            Outcome::Throttled { .. } => "throttled",
            Outcome::Retryable { .. } => "retryable",
            Outcome::Uncertain { .. } => "uncertain",
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            Outcome::Success { status, .. }
            | Outcome::Permanent { status, .. }
            | Outcome::Auth { status, .. } => Some(*status),
            Outcome::Throttled { .. } => Some(429),
            Outcome::Retryable { status, .. } | Outcome::Uncertain { status, .. } => *status,
        }
    }
}
