//! `RowState`: SPEC.md's row states as one type, for Rust, SQL (stored by name, checked by
//! a CHECK constraint since migration 0006) and reports alike.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowState {
    #[default]
    Pending,
    InFlight,
    Succeeded,
    Failed,
    RetryWait,
    Uncertain,
    Skipped,
    /// Not dialed before `--expire-at`; never sent.
    Expired,
    /// Not dialed before `dialer cancel`; never sent.
    Cancelled,
}

impl RowState {
    pub const ALL: [RowState; 9] = [
        RowState::Pending,
        RowState::InFlight,
        RowState::Succeeded,
        RowState::Failed,
        RowState::RetryWait,
        RowState::Uncertain,
        RowState::Skipped,
        RowState::Expired,
        RowState::Cancelled,
    ];

    /// States `dialer retry --status` may put back in the queue.
    pub const RETRYABLE: [RowState; 4] = [
        RowState::Failed,
        RowState::Uncertain,
        RowState::Expired,
        RowState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Pending => "pending",
            RowState::InFlight => "in_flight",
            RowState::Succeeded => "succeeded",
            RowState::Failed => "failed",
            RowState::RetryWait => "retry_wait",
            RowState::Uncertain => "uncertain",
            RowState::Skipped => "skipped",
            RowState::Expired => "expired",
            RowState::Cancelled => "cancelled",
        }
    }

    /// Still to be dialed (or being dialed): what keeps a campaign unfinished.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RowState::Pending | RowState::InFlight | RowState::RetryWait
        )
    }

    /// A state a run can end in without exit 1 (SPEC.md's exit 0).
    pub fn is_clean_end(self) -> bool {
        matches!(self, RowState::Succeeded | RowState::Skipped)
    }
}

impl fmt::Display for RowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RowState {
    type Err = String;

    fn from_str(s: &str) -> Result<RowState, String> {
        let s = s.trim();
        RowState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = RowState::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown row state {s:?}; use one of {}", names.join(", "))
            })
    }
}

impl Serialize for RowState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl ToSql for RowState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for RowState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<RowState> {
        let text = value.as_str()?;
        text.parse()
            .map_err(|e: String| FromSqlError::Other(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_schema_check() {
        let schema = include_str!("../../migrations/0006_row_state_check.sql");
        for s in RowState::ALL {
            assert_eq!(s.as_str().parse::<RowState>(), Ok(s));
            assert!(
                schema.contains(&format!("'{}'", s.as_str())),
                "{s} in the CHECK"
            );
        }
        assert!("done".parse::<RowState>().is_err());
    }

    #[test]
    fn sql_round_trip() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        for s in RowState::ALL {
            let back: RowState = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, s);
        }
        let bad: rusqlite::Result<RowState> = c.query_row("SELECT 'done'", [], |r| r.get(0));
        assert!(bad.is_err());
    }
}
