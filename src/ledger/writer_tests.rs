//! The writer's batches: what one failing operation rolls back, and who hears of it.

use super::*;

#[test]
fn a_failing_operation_rolls_back_alone_and_the_batch_still_commits() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
        .unwrap();
    let tx = conn.transaction().unwrap();
    let insert = |v: i64| move |tx: &Transaction<'_>| tx.execute("INSERT INTO t VALUES (?1)", [v]);
    run_in_savepoint(&tx, insert(1)).unwrap();
    // Half done, then refused: its first insert must not survive.
    let failed = run_in_savepoint(&tx, |tx| {
        tx.execute("INSERT INTO t VALUES (2)", [])?;
        tx.execute("INSERT INTO t VALUES (1)", [])
    });
    assert!(failed.is_err());
    run_in_savepoint(&tx, insert(3)).unwrap();
    tx.commit().unwrap();
    assert_eq!(kept(&conn), [1, 3]);
}

fn table() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE); INSERT INTO t VALUES (1)")
        .unwrap();
    conn
}

type Answer = oneshot::Receiver<Result<usize, LedgerError>>;

fn insert(isolation: Isolation, v: i64) -> (Job, Answer) {
    let (done, answer) = oneshot::channel();
    let f = move |tx: &Transaction<'_>| tx.execute("INSERT INTO t VALUES (?1)", [v]);
    (job(isolation, f, reply_to(done)), answer)
}

/// Runs the jobs as the writer thread does, answering every waiter.
fn batch(conn: &mut Connection, jobs: Vec<Job>) {
    let (completions, commit) = commit_batch(conn, jobs.into_iter());
    for complete in completions {
        complete(commit.as_ref().map(|_| ()));
    }
}

fn kept(conn: &Connection) -> Vec<i64> {
    let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_failing_bare_operation_rolls_back_its_batch_and_every_waiter_hears_it() {
    let mut conn = table();
    let (before, mut first) = insert(Isolation::Savepoint, 2);
    let (bare, mut failing) = insert(Isolation::Bare, 1);
    let (after, mut unrun) = insert(Isolation::Bare, 3);
    batch(&mut conn, vec![before, bare, after]);
    assert!(
        matches!(first.try_recv(), Ok(Err(LedgerError::Commit(_)))),
        "an operation that ran before the failure was rolled back with its batch"
    );
    assert!(matches!(failing.try_recv(), Ok(Err(LedgerError::Sql(_)))));
    assert!(matches!(unrun.try_recv(), Ok(Err(LedgerError::Commit(_)))));
    assert_eq!(kept(&conn), [1], "nothing of the doomed batch was written");
    // The connection is usable again: the next batch commits.
    let (next, mut ok) = insert(Isolation::Bare, 4);
    batch(&mut conn, vec![next]);
    assert!(matches!(ok.try_recv(), Ok(Ok(1))));
    assert_eq!(kept(&conn), [1, 4]);
}

#[test]
fn an_error_that_ended_the_transaction_stops_the_batch_even_inside_a_savepoint() {
    let mut conn = table();
    // As SQLite does by itself on a full disk: the whole transaction is gone, so the
    // operations after it must not run in autocommit mode, one commit each.
    let (done, mut gone) = oneshot::channel::<Result<(), LedgerError>>();
    let rollback = job(
        Isolation::Savepoint,
        |tx: &Transaction<'_>| {
            tx.execute_batch("ROLLBACK")?;
            tx.execute("INSERT INTO t VALUES (1)", []).map(|_| ())
        },
        reply_to(done),
    );
    let (before, _) = insert(Isolation::Savepoint, 2);
    let (after, mut unrun) = insert(Isolation::Savepoint, 3);
    batch(&mut conn, vec![before, rollback, after]);
    assert!(matches!(gone.try_recv(), Ok(Err(LedgerError::Sql(_)))));
    assert!(matches!(unrun.try_recv(), Ok(Err(LedgerError::Commit(_)))));
    assert_eq!(kept(&conn), [1]);
}

#[test]
fn a_submitted_write_is_answered_on_the_sync_thread_once_committed_and_a_failing_one_hears_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE); INSERT INTO t VALUES (1)")
        .unwrap();
    let writer = Writer::spawn(conn, dir.path().join("w.db-wal"));
    let (tx, rx) = std::sync::mpsc::channel();
    let submit = |v: i64| {
        let (tx, path) = (tx.clone(), path.clone());
        writer
            .submit_bare(
                move |t: &Transaction<'_>| t.execute("INSERT INTO t VALUES (?1)", [v]),
                move |answer| {
                    // What another connection sees while the reply runs: the write, if it
                    // was answered as done.
                    let seen = kept(&Connection::open(path).unwrap());
                    let thread = std::thread::current().name().map(str::to_owned);
                    tx.send((answer.map_err(|e| e.to_string()), seen, thread))
                        .unwrap();
                },
            )
            .unwrap();
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap()
    };
    let (answer, seen, thread) = submit(2);
    assert_eq!(answer, Ok(1));
    assert_eq!(seen, [1, 2], "answered only once committed");
    assert_eq!(
        thread.as_deref(),
        Some("ledger-sync"),
        "no task was woken for it"
    );
    let (answer, seen, _) = submit(1);
    assert!(answer.is_err(), "the reply hears the failure");
    assert_eq!(seen, [1, 2]);
}
