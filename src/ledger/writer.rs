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

/// An operation, run inside the batch's transaction, or `None` when an earlier operation
/// left the batch doomed (then it must answer with the batch's error, nothing written).
type Job = Box<dyn FnOnce(Option<&Transaction<'_>>) -> Ran + Send>;
/// Runs once the commit is durable (or failed), with its result, to answer the waiter.
pub(super) type Completion = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// What running a job left: the answer to send once the batch's fate is known, and the
/// error that dooms the whole batch, if it failed in a way its savepoint cannot contain.
struct Ran {
    complete: Completion,
    doom: Option<rusqlite::Error>,
}

/// How an operation shares the batch's transaction.
#[derive(Clone, Copy)]
enum Isolation {
    /// Inside a savepoint: a failing statement rolls back this operation alone.
    Savepoint,
    /// Bare: no savepoint's page copies on the hottest path (two per call). For operations
    /// whose SQL fails only when the ledger itself is failing (their guards answer
    /// `Ok(None)`/`Ok(false)`, never an error): one that fails rolls back the whole batch
    /// and every waiter in it hears the error, as when a commit fails.
    Bare,
}

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
        self.call_as(Isolation::Savepoint, f).await
    }

    /// [`Writer::call`] without a savepoint (see [`Isolation::Bare`]): only for operations
    /// that never return `Err` but when the ledger fails (the `in_flight` mark, the finish).
    pub async fn call_bare<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        self.call_as(Isolation::Bare, f).await
    }

    /// [`Writer::call_bare`] without a waiting task: `reply` gets the answer on the thread
    /// that learns it is durable (the sync thread), so the caller is never woken for it.
    /// For answers nobody waits on, only acts on; `reply` must be quick. If the writer is
    /// gone, `Err` here and `reply` is dropped unrun; if it dies later, `reply` may be too.
    pub fn submit_bare<T, F, R>(&self, f: F, reply: R) -> Result<(), LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
        R: FnOnce(Result<T, LedgerError>) + Send + 'static,
    {
        self.send(Isolation::Bare, f, reply)
    }

    async fn call_as<T, F>(&self, isolation: Isolation, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.send(isolation, f, reply_to(done_tx))?;
        done_rx.await.map_err(|_| LedgerError::WriterGone)?
    }

    /// The same for synchronous callers (the CSV ingest thread). Never call from async code.
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.send(Isolation::Savepoint, f, reply_to(done_tx))?;
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
        isolation: Isolation,
        f: F,
        done: impl FnOnce(Result<T, LedgerError>) + Send + 'static,
    ) -> Result<(), LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let job = job(isolation, f, done);
        self.tx
            .send(Msg::Job(job))
            .map_err(|_| LedgerError::WriterGone)
    }
}

/// The reply that hands the answer to a waiting task (or to nobody, if it gave up).
fn reply_to<T: Send + 'static>(
    done: oneshot::Sender<Result<T, LedgerError>>,
) -> impl FnOnce(Result<T, LedgerError>) + Send + 'static {
    move |answer| {
        let _ = done.send(answer);
    }
}

/// Wraps an operation and its reply into a job for the writer thread.
fn job<T, F>(
    isolation: Isolation,
    f: F,
    done: impl FnOnce(Result<T, LedgerError>) + Send + 'static,
) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    Box::new(move |tx: Option<&Transaction<'_>>| {
        let (result, doom) = match tx {
            Some(tx) => run_one(tx, isolation, f),
            None => (None, None),
        };
        let complete: Completion = Box::new(move |commit: Result<(), &rusqlite::Error>| {
            let answer = match (result, commit) {
                (Some(Err(e)), _) => Err(LedgerError::Sql(e)),
                (Some(Ok(v)), Ok(())) => Ok(v),
                (_, Err(e)) => Err(LedgerError::Commit(clone_error(e))),
                // Not run, yet the batch committed: cannot happen (an unrun job means a
                // doomed batch), and if it did, nothing of this operation was written.
                (None, Ok(())) => Err(LedgerError::WriterGone),
            };
            done(answer);
        });
        Ran { complete, doom }
    })
}

/// Runs one operation; the second value is set when the batch can no longer commit.
fn run_one<T>(
    tx: &Transaction<'_>,
    isolation: Isolation,
    f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> (Option<rusqlite::Result<T>>, Option<rusqlite::Error>) {
    let result = match isolation {
        Isolation::Savepoint => run_in_savepoint(tx, f),
        Isolation::Bare => f(tx),
    };
    let doom = match &result {
        Err(e) if matches!(isolation, Isolation::Bare) => Some(clone_error(e)),
        // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction
        // back by itself: what follows would run outside any transaction, so stop here.
        Err(e) if tx.is_autocommit() => Some(clone_error(e)),
        _ => None,
    };
    (Some(result), doom)
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
    let mut doom: Option<rusqlite::Error> = None;
    let completions: Vec<Completion> = jobs
        .map(|job| {
            let ran = job(doom.is_none().then_some(&tx));
            if doom.is_none() {
                doom = ran.doom;
            }
            ran.complete
        })
        .collect();
    let commit = match doom {
        None => tx.commit(),
        Some(e) => {
            tracing::error!("a ledger write failed, so its whole batch was rolled back: {e}");
            // SQLite may have rolled back already (then this reports "no transaction").
            let _ = tx.rollback();
            Err(e)
        }
    };
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
#[path = "writer_tests.rs"]
mod tests;
