//! The webhook receiver: Levers (through Svix) posts a signed `phone_call.ended` event for
//! every call; this module checks it and commits it to the ledger before answering 2xx, so
//! an event is never acknowledged and then lost.
//!
//! - `signature`: the Svix secret, signing and verification (pure, unit-tested).
//! - `event`: reading a payload into its row and outcome (pure, unit-tested).
//! - `server`: the axum router, body limit, status codes, shutdown.

mod event;
mod server;
mod signature;

pub use event::{PHONE_CALL_ENDED, ParsedEvent, parse_event};
pub use server::{DEFAULT_PATH, MAX_BODY, Receiver, ReceiverConfig, check_path, start};
pub use signature::{
    SecretError, SvixHeaders, TOLERANCE_SECS, VerifyError, WebhookSecret, sign, verify,
};

#[cfg(test)]
mod tests;
