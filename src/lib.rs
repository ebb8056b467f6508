//! `dialer`: outbound AI phone-call campaigns from a CSV file against the Levers API.
//!
//! Data moves one way through these modules:
//!
//! ```text
//! source (read CSV) -> plan (map, validate, normalise) -> ledger (durable rows)
//!        -> dispatch (rate, concurrency, retries) -> api (one POST, classified)
//!        -> ledger -> report / status
//! ```
//!
//! - [`source`]: streaming CSV reading: encodings, delimiter sniffing, physical line numbers.
//! - [`plan`]: a CSV record -> a call request or a skip reason (header mapping, phone numbers).
//! - [`api`]: the Levers client, auth and token refresh, request types, failure classes.
//! - [`ledger`]: every line of SQL: migrations, the group-commit writer, queries.
//! - [`dispatch`]: the worker pool: limiter, semaphore, retry policy, breaker, shutdown.
//! - [`webhook`]: the signed `phone_call.ended` receiver; outcomes into the ledger.
//! - [`dashboard`]: the live, read-only view of the ledger in the browser.
//! - [`sandbox`]: a local stand-in for the Levers API with fault knobs, for demos and tests.
//! - [`cmd`]: one file per subcommand, thin; [`cli`] holds the flags.

pub mod api;
pub mod campaign;
pub mod cli;
pub mod cmd;
pub mod dashboard;
pub mod dispatch;
pub mod ledger;
pub mod plan;
pub mod progress;
pub mod report;
pub mod sandbox;
pub mod source;
pub mod text;
pub mod webhook;
pub mod zone;
