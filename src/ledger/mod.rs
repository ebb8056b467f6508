//! The ledger: one SQLite file holding every campaign, row, attempt and lease. All SQL of
//! the program lives in this folder. Writes go through the single group-commit [`Writer`];
//! reads use their own connection (WAL lets them run beside the writer).

mod campaigns;
mod caps;
mod close;
mod controls;
mod durable;
mod error;
mod lease;
mod migrate;
mod numbers;
mod records;
mod redials;
mod replan;
mod report;
mod requeue;
mod rows;
mod state;
mod summary;
mod webhooks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

pub use campaigns::{Campaign, NewCampaign};
pub use caps::{DAY_MS, Mark};
pub use close::Closed;
pub use controls::{ControlAction, ControlRequest};
pub use error::{LedgerError, Trouble};
pub use lease::{HEARTBEAT_EVERY_MS, LeaseHolder, hostname};
pub use records::{CallOutcome, RowRecord};
pub use redials::{RedialRule, RedialTick};
pub use replan::{Replanned, StoredVerdict};
pub use report::{BREAKDOWN_VALUES, BreakdownLine, FunnelCounts, OutcomeStats, RequestKeys};
pub use requeue::{AttemptHistory, Redial, Undelivered};
pub use rows::{AttemptRecord, DialRow, InFlight, NewRow, Prior, Transition};
pub use state::RowState;
pub use summary::{Counts, LatencyStats};
pub use webhooks::{EventCounts, NewWebhookEvent, StoredEvent, WebhookEvent};
pub use writer::{Writer, WriterStats};

/// How long a connection waits for another process's write lock before giving up. The
/// webhook receiver and a run share one file; neither may fail because the other is busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open ledger: a writer thread plus a read connection.
#[derive(Clone)]
pub struct Ledger {
    path: PathBuf,
    writer: Writer,
    reader: Arc<Mutex<Connection>>,
}

impl Ledger {
    /// Opens (creating if needed) and migrates the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let open_err = |source| LedgerError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = connect(path).map_err(open_err)?;
        migrate::apply(&mut conn, path)?;
        let reader = connect(path).map_err(open_err)?;
        // FULL's fsync, done off the writer's thread: see `durable`.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // Checkpoints run on the writer's thread and fsync the database file; at SQLite's
        // 1000 pages they were one in every few dozen commits. Fewer, larger ones copy a page
        // rewritten by many commits once: 2-5 % faster unpaced, for a WAL of up to ~32 MiB.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(open_err)?;
        // The writer's page cache: SQLite's 2 MiB default missed on the random pages of
        // the number indexes (`rows_dial_key`, `attempts_e164`) two reads a call; 8 MiB
        // (at most that much more memory, whatever the campaign's size) halves the reads,
        // and 16 MiB did no better.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)
            .map_err(open_err)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(Ledger {
            path: path.to_path_buf(),
            writer: Writer::spawn(conn, wal.into()),
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Runs a read on the read connection, off the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn).map_err(LedgerError::Sql)
        })
        .await
        .map_err(|_| LedgerError::WriterGone)?
    }

    /// The same read, for synchronous callers.
    pub(crate) fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(LedgerError::Sql)
    }
}

/// Pages in the write-ahead log before the writer copies them into the database.
const WAL_CHECKPOINT_PAGES: i64 = 8000;
/// The writer's page cache, as SQLite takes it: negative is KiB.
const WRITER_CACHE_KIB: i64 = -8192;

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers (status, reports, the feeder) run beside the writer; FULL makes
    // every commit durable before it is acknowledged: the exactly-once rule rests on it.
    // (The ledger's own writer commits with NORMAL and fsyncs the WAL itself before it
    // acknowledges anything, which is the same guarantee: see `durable`.)
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The writer's hot path alone (ingest, mark, cap, finish, savepoints) holds more than
    // rusqlite's default 16 statements; evicting them meant parsing SQL again per row.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Unix time in milliseconds, the ledger's unit of time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
