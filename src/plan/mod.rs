//! A CSV record -> a call request or a skip reason: header mapping, phone numbers,
//! validation. Pure and synchronous; deduplication across rows lives in the ledger.

pub mod skip;

pub use skip::SkipReason;
