//! The single writer: one thread owns the connection that writes, and every write in the
//! program is a closure sent to it. It runs whatever is queued in one transaction (group
//! commit) and answers each waiter only after that transaction is durably committed (see
//! [`super::durable`]), so a caller that got `Ok` knows its change survives a crash.

use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot;

use super::LedgerError;
use super::durable::Syncer;

/// Most operations folded into one transaction; bounds the latency a long queue adds.
const MAX_BATCH: usize = 4096;

type Job = Box<dyn FnOnce(&Transaction<'_>) -> Completion + Send>;
/// Runs once the commit is durable (or failed), with its result, to answer the waiter.
pub(super) type Completion = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// Commits done and operations written, for benchmarks and the "group commit at work" figure.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriterStats {
    pub commits: u64,
    pub ops: u64,
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
}

enum Msg {
    Job(Job),
    Stats(oneshot::Sender<WriterStats>),
}

impl Writer {
    pub(super) fn spawn(conn: Connection, wal: std::path::PathBuf) -> Writer {
        let (tx, rx) = mpsc::channel::<Msg>();
        let syncer = Syncer::spawn(wal);
        thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || run(conn, rx, syncer))
            .expect("spawn the ledger writer thread");
        Writer { tx }
    }

    /// Run `f` inside the next group transaction; resolves after the commit.
    pub async fn call<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.send(f, done_tx)?;
        done_rx.await.map_err(|_| LedgerError::WriterGone)?
    }

    /// The same for synchronous callers (the CSV ingest thread). Never call from async code.
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.send(f, done_tx)?;
        done_rx
            .blocking_recv()
            .map_err(|_| LedgerError::WriterGone)?
    }

    pub async fn stats(&self) -> WriterStats {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Stats(tx)).is_err() {
            return WriterStats::default();
        }
        rx.await.unwrap_or_default()
    }

    fn send<T, F>(
        &self,
        f: F,
        done: oneshot::Sender<Result<T, LedgerError>>,
    ) -> Result<(), LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let job: Job = Box::new(move |tx: &Transaction<'_>| {
            // A savepoint per operation: one failing statement must not roll back the
            // other callers' work that shares this transaction.
            let result = run_in_savepoint(tx, f);
            Box::new(move |commit: Result<(), &rusqlite::Error>| {
                let answer = match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(LedgerError::Sql(e)),
                    (Ok(_), Err(e)) => Err(LedgerError::Commit(clone_error(e))),
                };
                let _ = done.send(answer);
            })
        });
        self.tx
            .send(Msg::Job(job))
            .map_err(|_| LedgerError::WriterGone)
    }
}

fn run_in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    // Cached statements: two a row, every row, so parsing them each time showed in profiles.
    let step = |sql: &str| tx.prepare_cached(sql)?.execute([]).map(|_| ());
    step("SAVEPOINT op")?;
    match f(tx) {
        Ok(v) => {
            step("RELEASE op")?;
            Ok(v)
        }
        Err(e) => {
            let _ = step("ROLLBACK TO op").and_then(|_| step("RELEASE op"));
            Err(e)
        }
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Msg>, syncer: Syncer) {
    let mut stats = WriterStats::default();
    let mut batch: Vec<Job> = Vec::with_capacity(64);
    while let Ok(first) = rx.recv() {
        let push = |msg: Msg, batch: &mut Vec<Job>| match msg {
            Msg::Job(job) => batch.push(job),
            Msg::Stats(reply) => {
                let _ = reply.send(stats);
            }
        };
        push(first, &mut batch);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => push(msg, &mut batch),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let ops = batch.len() as u64;
        let (completions, commit) = commit_batch(&mut conn, batch.drain(..));
        match commit {
            Ok(()) => {
                stats.commits += 1;
                stats.ops += ops;
                syncer.committed(completions);
            }
            Err(e) => {
                for complete in completions {
                    complete(Err(&e));
                }
            }
        }
    }
}

fn commit_batch(
    conn: &mut Connection,
    jobs: impl Iterator<Item = Job>,
) -> (Vec<Completion>, Result<(), rusqlite::Error>) {
    // IMMEDIATE takes the write lock up front, so a second process (the webhook receiver)
    // makes us wait on busy_timeout instead of failing a lock upgrade half-way.
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the jobs drops their reply channels: each waiter gets `WriterGone`
            // and nothing it asked for was written, which is the truth.
            tracing::error!("the ledger could not start a transaction: {e}");
            return (Vec::new(), Err(e));
        }
    };
    let completions: Vec<Completion> = jobs.map(|job| job(&tx)).collect();
    let commit = tx.commit();
    (completions, commit)
}

/// `rusqlite::Error` is not `Clone`; a commit failure is shared by every waiter of the
/// batch, so each gets the same code and message.
fn clone_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            rusqlite::Error::SqliteFailure(*code, msg.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_operation_rolls_back_alone_and_the_batch_still_commits() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
            .unwrap();
        let tx = conn.transaction().unwrap();
        let insert =
            |v: i64| move |tx: &Transaction<'_>| tx.execute("INSERT INTO t VALUES (?1)", [v]);
        run_in_savepoint(&tx, insert(1)).unwrap();
        // Half done, then refused: its first insert must not survive.
        let failed = run_in_savepoint(&tx, |tx| {
            tx.execute("INSERT INTO t VALUES (2)", [])?;
            tx.execute("INSERT INTO t VALUES (1)", [])
        });
        assert!(failed.is_err());
        run_in_savepoint(&tx, insert(3)).unwrap();
        tx.commit().unwrap();
        let kept: Vec<i64> = conn
            .prepare("SELECT v FROM t ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept, [1, 3]);
    }
}
