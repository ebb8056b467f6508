//! Why a row is never dialed. The names are SPEC.md's and are stored in the ledger as-is.

use std::fmt;

/// Row-level reasons for `skipped`, in SPEC.md's order of precedence: the first that applies
/// wins (row problems, then `suppressed`, then `duplicate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    MalformedRow,
    MissingNumber,
    InvalidNumber,
    InvalidContactUuid,
    InvalidEmail,
    InvalidTimezone,
    /// The number's possible zones share no calling hour and no `--tz` was given.
    UnknownZone,
    Suppressed,
    Duplicate,
}

impl SkipReason {
    pub const ALL: [SkipReason; 9] = [
        SkipReason::MalformedRow,
        SkipReason::MissingNumber,
        SkipReason::InvalidNumber,
        SkipReason::InvalidContactUuid,
        SkipReason::InvalidEmail,
        SkipReason::InvalidTimezone,
        SkipReason::UnknownZone,
        SkipReason::Suppressed,
        SkipReason::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::MalformedRow => "malformed_row",
            SkipReason::MissingNumber => "missing_number",
            SkipReason::InvalidNumber => "invalid_number",
            SkipReason::InvalidContactUuid => "invalid_contact_uuid",
            SkipReason::InvalidEmail => "invalid_email",
            SkipReason::InvalidTimezone => "invalid_timezone",
            SkipReason::UnknownZone => "unknown_zone",
            SkipReason::Suppressed => "suppressed",
            SkipReason::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
