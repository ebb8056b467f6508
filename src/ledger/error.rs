//! What can go wrong with the ledger, in words a user can act on. Every failure but an
//! unknown campaign name means the ledger cannot be used (exit 6): the disk is full, the
//! file is read-only or corrupt, or a newer dialer wrote it.

use std::path::PathBuf;

use rusqlite::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot open the ledger {path}: {}", Trouble::of(source).advice())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the ledger {path} was written by a newer dialer (schema {found}, this one knows {known}); upgrade dialer"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("the ledger could not be read or written: {}", Trouble::of(.0).advice())]
    Sql(#[from] rusqlite::Error),
    #[error("the ledger could not commit: {}", Trouble::of(.0).advice())]
    Commit(rusqlite::Error),
    #[error(
        "the ledger writer stopped (the disk may be full or the file locked); free space or \
         stop the other process, then run the same command again"
    )]
    WriterGone,
    #[error("no campaign named {0:?} in the ledger; `dialer status` lists them")]
    NoSuchCampaign(String),
}

impl LedgerError {
    /// An unknown campaign is the user's mistake (exit 2); everything else means the ledger
    /// itself cannot be used (exit 6).
    pub fn is_usage(&self) -> bool {
        matches!(self, LedgerError::NoSuchCampaign(_))
    }
}

/// The few kinds of SQLite failure a user can do something about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    DiskFull,
    ReadOnly,
    Corrupt,
    CannotOpen,
    Locked,
    Io,
    Other,
}

impl Trouble {
    pub fn of(e: &rusqlite::Error) -> Trouble {
        let Some(code) = e.sqlite_error_code() else {
            return Trouble::Other;
        };
        match code {
            ErrorCode::DiskFull => Trouble::DiskFull,
            ErrorCode::ReadOnly => Trouble::ReadOnly,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Trouble::Corrupt,
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied => Trouble::CannotOpen,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Trouble::Locked,
            ErrorCode::SystemIoFailure => Trouble::Io,
            _ => Trouble::Other,
        }
    }

    fn advice(self) -> &'static str {
        match self {
            Trouble::DiskFull => {
                "the disk is full; free some space and run the same command again (nothing \
                 recorded so far is lost)"
            }
            Trouble::ReadOnly => {
                "the file or its folder is read-only; make it writable or point --ledger elsewhere"
            }
            Trouble::Corrupt => {
                "the file is not a dialer ledger or is damaged; restore a copy or point --ledger \
                 at the right file"
            }
            Trouble::CannotOpen => {
                "the file cannot be opened (missing folder or no permission); check the path \
                 given to --ledger"
            }
            Trouble::Locked => {
                "another process has held the ledger locked for too long; stop it and try again"
            }
            Trouble::Io => {
                "the disk reported an I/O error (it may be full or failing); check it and run \
                 the same command again"
            }
            Trouble::Other => {
                "an unexpected SQLite error; run again with -v and report it if it persists"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn each_trouble_says_what_to_do() {
        use rusqlite::ffi;
        let cases = [
            (ffi::SQLITE_FULL, Trouble::DiskFull, "disk is full"),
            (ffi::SQLITE_READONLY, Trouble::ReadOnly, "read-only"),
            (ffi::SQLITE_CORRUPT, Trouble::Corrupt, "damaged"),
            (ffi::SQLITE_NOTADB, Trouble::Corrupt, "not a dialer ledger"),
            (
                ffi::SQLITE_CANTOPEN,
                Trouble::CannotOpen,
                "cannot be opened",
            ),
            (ffi::SQLITE_IOERR, Trouble::Io, "I/O error"),
        ];
        for (code, trouble, words) in cases {
            let e = sqlite(code);
            assert_eq!(Trouble::of(&e), trouble);
            let msg = LedgerError::Sql(e).to_string();
            assert!(msg.contains(words), "{msg}");
            assert!(!msg.contains('\n'), "one sentence: {msg}");
        }
        assert!(LedgerError::NoSuchCampaign("x".into()).is_usage());
        assert!(!LedgerError::WriterGone.is_usage());
    }
}
