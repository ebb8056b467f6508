//! A CSV record -> a call request or a skip reason: header mapping, phone numbers,
//! validation, do-not-call lists. Pure and synchronous (the only I/O is loading a
//! do-not-call file); deduplication across rows lives in the ledger.
//!
//! - [`field`]: the `--map` / `--meta` vocabulary.
//! - [`mapping`]: header auto-mapping and `--map` overrides.
//! - [`number`]: phone numbers to E.164 (libphonenumber rules), `--default-region`.
//! - [`suppress`]: do-not-call files.
//! - `valid`: libphonenumber's validity rules with regexes compiled once (speed).
//! - [`planner`]: one record -> [`Planned`], with SPEC.md's skip-reason precedence.

mod alt;
pub mod email;
mod field;
pub mod mapping;
pub mod number;
pub mod planner;
pub mod skip;
pub mod suppress;
mod valid;

#[cfg(test)]
mod sample_tests;

use std::path::PathBuf;

pub use email::email_problem;
pub use field::{Field, parse_map_arg, parse_meta_arg};
pub use mapping::Mapping;
pub use number::{
    Normalized, NumberError, normalize_number, normalize_with_country, parse_region, warm_up,
};
pub use planner::{Contact, PlanOptions, Planned, PlannedCall, Planner};
pub use skip::SkipReason;
pub use suppress::{SuppressList, SuppressStats};

/// Everything that stops a campaign from being planned at all (exit 2). Row problems are
/// never errors: they are [`Planned::Skip`].
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no column maps to numberToCall (headers found: {headers}); {hint}")]
    NoPhoneColumn { headers: String, hint: String },

    #[error(
        "--map names the column \"{column}\", which the CSV does not have (headers found: {headers})"
    )]
    UnknownMapColumn { column: String, headers: String },

    #[error(
        "--map sends both \"{first}\" and \"{second}\" to {field}, which takes one column; keep one of them"
    )]
    ConflictingMap {
        first: String,
        second: String,
        field: String,
    },

    #[error(
        "{origin} would set the metadata key \"{key}\", which the dialer reserves for matching \
         webhooks to rows; rename or drop it: {fix}"
    )]
    ReservedColumn {
        origin: String,
        key: String,
        fix: String,
    },

    #[error(
        "--meta {key}=... uses the metadata key \"{key}\", which the dialer reserves for matching \
         webhooks to rows; choose another key"
    )]
    ReservedMeta { key: String },

    #[error(
        "\"{0}\" is not a region the phone-number rules know; pass a two-letter ISO 3166 code such as SA, US or GB"
    )]
    InvalidRegion(String),

    #[error("cannot read the do-not-call file {}: {source}", path.display())]
    SuppressIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read the do-not-call file {} as CSV: {source}", path.display())]
    SuppressCsv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    #[error(
        "the do-not-call file {} is neither one number a line nor a CSV with a phone column \
         (headers found: {headers}); name its phone column `phone` or list one number a line",
        path.display()
    )]
    SuppressNoPhoneColumn { path: PathBuf, headers: String },

    /// A do-not-call workbook that cannot be read to its end: a partial list would let
    /// numbers through that the user meant to block, so the run does not start.
    #[error("cannot read the do-not-call workbook {}: {source}", path.display())]
    SuppressSheet {
        path: PathBuf,
        #[source]
        source: crate::source::SourceError,
    },
}

/// `"a", "b"` for messages; `(none)` for an empty list.
pub(crate) fn quote_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(str::to_string).collect();
    if items.is_empty() {
        return "(none)".into();
    }
    crate::text::header_list(&items)
}
