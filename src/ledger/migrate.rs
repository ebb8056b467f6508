//! Applies the SQL files of `migrations/` in order and records each one, so an old ledger
//! opens in a new version. The files are embedded at build time by `build.rs`.

use std::path::Path;

use rusqlite::Connection;

use super::{LedgerError, now_ms};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<(), LedgerError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )?;
    let current: u32 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > known {
        return Err(LedgerError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    // A migration may rebuild the rows table (0011 does: 1.4-2.6 s for 200,000 rows);
    // without a word first, the first command after an upgrade looks hung.
    if current > 0 && current < known {
        tracing::info!(
            "upgrading the ledger {} from schema {current} to {known}: done once, and a large \
             ledger takes a few seconds",
            path.display()
        );
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let done: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, name, now_ms()],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
