//! When a commit counts as done. SQLite's `synchronous=FULL` fsyncs the WAL inside every
//! commit, on the writer's thread, so the writer sat idle through each fsync and nothing
//! else could be written meanwhile. Here the writer's connection commits with `NORMAL`
//! (frames written, WAL synced at checkpoints, so the file is never corrupt) and this
//! thread fsyncs the WAL, then answers the batches that commit covered. A waiter is still
//! answered only once its change is on disk: FULL's guarantee, while the writer already
//! runs the next batch. One fsync covers every batch committed before it started.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;

use super::writer::Completion;

/// Where committed batches wait for their fsync.
pub(super) struct Syncer {
    tx: mpsc::Sender<Vec<Completion>>,
}

impl Syncer {
    /// The sync thread for the ledger whose write-ahead log is `wal`.
    pub(super) fn spawn(wal: PathBuf) -> Syncer {
        Self::with_flush(wal, |path| File::open(path)?.sync_all())
    }

    /// `flush` fsyncs the WAL; tests pass one that records or fails.
    fn with_flush(
        wal: PathBuf,
        flush: impl FnMut(&PathBuf) -> io::Result<()> + Send + 'static,
    ) -> Syncer {
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("ledger-sync".into())
            .spawn(move || run(wal, rx, flush))
            .expect("spawn the ledger sync thread");
        Syncer { tx }
    }

    /// Answers `done` once the commit that wrote it is on disk.
    pub(super) fn committed(&self, done: Vec<Completion>) {
        // Only a panicked sync thread drops its end; then the completions are dropped
        // unanswered and each waiter sees the writer gone: nothing is called durable that
        // may not be.
        let _ = self.tx.send(done);
    }
}

fn answer(done: Vec<Completion>, result: Result<(), &rusqlite::Error>) {
    for complete in done {
        complete(result);
    }
}

fn run(
    wal: PathBuf,
    rx: mpsc::Receiver<Vec<Completion>>,
    mut flush: impl FnMut(&PathBuf) -> io::Result<()>,
) {
    // After one failed fsync nothing later may be called durable: Linux may have dropped
    // the dirty pages it could not write, and later frames chain onto them.
    let mut failed: Option<rusqlite::Error> = None;
    while let Ok(first) = rx.recv() {
        let mut done = first;
        while let Ok(more) = rx.try_recv() {
            done.extend(more);
        }
        if failed.is_none()
            && let Err(e) = flush(&wal)
        {
            tracing::error!("the ledger's write-ahead log could not be synced to disk: {e}");
            failed = Some(sync_error(&e));
        }
        answer(done, failed.as_ref().map_or(Ok(()), Err));
    }
}

fn sync_error(e: &io::Error) -> rusqlite::Error {
    let code = match e.raw_os_error() {
        Some(libc::ENOSPC) => rusqlite::ffi::SQLITE_FULL,
        _ => rusqlite::ffi::SQLITE_IOERR_FSYNC,
    };
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some(format!("syncing the write-ahead log failed: {e}")),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    type Answers = Arc<Mutex<Vec<Result<(), String>>>>;

    fn waiter(answers: &Answers) -> Completion {
        let answers = answers.clone();
        Box::new(move |r: Result<(), &rusqlite::Error>| {
            answers.lock().unwrap().push(r.map_err(|e| e.to_string()));
        })
    }

    #[test]
    fn a_waiter_hears_back_only_after_the_wal_was_synced() {
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let synced = Arc::new(Mutex::new(0));
        let s = synced.clone();
        let syncer = Syncer::with_flush("x-wal".into(), move |_| {
            gate_rx.recv().unwrap();
            *s.lock().unwrap() += 1;
            Ok(())
        });
        let answers = Answers::default();
        syncer.committed(vec![waiter(&answers), waiter(&answers)]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            answers.lock().unwrap().is_empty(),
            "answered before the fsync"
        );
        gate_tx.send(()).unwrap();
        while answers.lock().unwrap().len() < 2 {
            std::thread::yield_now();
        }
        assert_eq!(*synced.lock().unwrap(), 1);
        assert!(answers.lock().unwrap().iter().all(Result::is_ok));
    }

    #[test]
    fn after_a_failed_sync_no_later_commit_is_called_durable() {
        let calls = Arc::new(Mutex::new(0));
        let c = calls.clone();
        let syncer = Syncer::with_flush("x-wal".into(), move |_| {
            *c.lock().unwrap() += 1;
            Err(io::Error::from_raw_os_error(libc::ENOSPC))
        });
        let answers = Answers::default();
        syncer.committed(vec![waiter(&answers)]);
        syncer.committed(vec![waiter(&answers)]);
        while answers.lock().unwrap().len() < 2 {
            std::thread::yield_now();
        }
        let got = answers.lock().unwrap().clone();
        assert!(
            got.iter()
                .all(|r| r.as_ref().is_err_and(|e| e.contains("syncing")))
        );
        assert_eq!(
            *calls.lock().unwrap(),
            1,
            "a failed log is never synced again"
        );
    }
}
