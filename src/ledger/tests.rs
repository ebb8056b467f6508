//! Ledger behaviour against a real SQLite file in a temp dir.

use super::testing::{campaign_with, dial, insert};
use super::*;
use crate::ledger::RowState;
use crate::plan::SkipReason;

async fn fresh() -> (tempfile::TempDir, Ledger, Campaign) {
    campaign_with("c", Vec::new()).await
}

#[tokio::test]
async fn migrations_are_recorded_and_reopen_is_a_no_op() {
    let (dir, ledger, _) = fresh().await;
    drop(ledger);
    let again = Ledger::open(&dir.path().join("l.db")).unwrap();
    let applied: Vec<(u32, String)> = again
        .read_blocking(|c| {
            let mut st =
                c.prepare("SELECT version, name FROM schema_migrations ORDER BY version")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        })
        .unwrap();
    assert_eq!(applied[0], (1, "0001_init.sql".to_string()));
    assert_eq!(applied.len(), migrate::MIGRATIONS.len());
    let sync: i64 = again
        .read_blocking(|c| c.query_row("PRAGMA synchronous", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
}

fn with_keys(line: u64, e164: &str, meta: &str, tag: &str) -> NewRow {
    let mut row = dial(line, e164);
    row.request = Some(format!(
        r#"{{"numberToCall":"{e164}","metadata":{{"{meta}":"x"}},"promptTags":{{"{tag}":"1"}}}}"#
    ));
    row
}

fn keys(ledger: &Ledger, id: i64) -> (Vec<String>, Vec<String>) {
    let k = ledger.request_keys(id).unwrap();
    (
        k.metadata.into_iter().collect(),
        k.tags.into_iter().collect(),
    )
}

#[tokio::test]
async fn request_keys_are_recorded_once_and_read_back_sorted() {
    let (_dir, ledger, c) = fresh().await;
    assert_eq!(keys(&ledger, c.id), (vec![], vec![]));
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || {
        let meta = vec!["zeta".to_string(), "account".to_string()];
        l.record_request_keys_blocking(c.id, meta.clone(), vec!["amount".into()])?;
        // A second run of the same campaign records the same keys again: no duplicates.
        l.record_request_keys_blocking(c.id, meta, vec!["amount".into()])
    })
    .await
    .unwrap()
    .unwrap();
    let want = (vec!["account".into(), "zeta".into()], vec!["amount".into()]);
    assert_eq!(keys(&ledger, c.id), want);
}

/// Makes the file at `path` what a dialer of migration 3 left: later migrations undone.
fn downgrade_to_migration_3(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP TABLE request_keys; ALTER TABLE rows DROP COLUMN contact;
         ALTER TABLE leases DROP COLUMN holder_start;
         DROP INDEX attempts_e164; ALTER TABLE attempts DROP COLUMN e164;
         DROP INDEX rows_undelivered; DROP INDEX rows_awaiting;
         ALTER TABLE rows DROP COLUMN redial_closed; DROP TABLE controls;
         ALTER TABLE rows DROP COLUMN alt_numbers; DROP TABLE row_numbers;
         ALTER TABLE campaigns DROP COLUMN csv_bytes;
         ALTER TABLE campaigns DROP COLUMN suppress_sha256;
         DELETE FROM schema_migrations WHERE version >= 4;",
    )
    .unwrap();
    drop(conn);
}

/// What a test's tracing subscriber wrote.
#[derive(Clone, Default)]
struct Logged(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn open_logging(path: &std::path::Path) -> String {
    let logged = Logged::default();
    let sink = logged.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let ledger = tracing::subscriber::with_default(subscriber, || Ledger::open(path));
    drop(ledger.unwrap());
    String::from_utf8(logged.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test]
async fn an_upgrade_says_so_before_it_starts_and_a_current_ledger_says_nothing() {
    let (dir, ledger, _) = campaign_with("old", vec![dial(2, "+966501234567")]).await;
    drop(ledger);
    let path = dir.path().join("l.db");
    downgrade_to_migration_3(&path);
    let known = migrate::MIGRATIONS.last().unwrap().0;
    let said = open_logging(&path);
    assert!(
        said.contains(&format!("upgrading the ledger {}", path.display()))
            && said.contains(&format!("from schema 3 to {known}")),
        "{said}"
    );
    assert_eq!(open_logging(&path), "", "nothing to upgrade, nothing said");
}

#[tokio::test]
async fn a_ledger_from_before_request_keys_gets_them_from_its_requests() {
    let rows = vec![
        with_keys(2, "+966501234567", "account", "amount"),
        with_keys(3, "+966501234568", "branch", "amount"),
    ];
    let (dir, ledger, c) = campaign_with("old", rows).await;
    drop(ledger);
    let path = dir.path().join("l.db");
    downgrade_to_migration_3(&path);
    let upgraded = Ledger::open(&path).unwrap();
    let (meta, tags) = keys(&upgraded, c.id);
    assert_eq!(meta, ["account", "branch"]);
    assert_eq!(tags, ["amount"]);
    // Migration 0006 kept every row while it rebuilt the table with its CHECK.
    assert_eq!(upgraded.counts(c.id).unwrap().total, 2);
    let bad = rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE rows SET state = 'done'", []);
    assert!(
        bad.is_err(),
        "the CHECK refuses a state that does not exist"
    );
}

#[tokio::test]
async fn duplicates_of_a_dialed_number_are_skipped_naming_the_first_row() {
    let (_d, ledger, c) = fresh().await;
    let l = ledger.clone();
    let summary = tokio::task::spawn_blocking(move || {
        let mut suppressed = dial(3, "+966501234567");
        suppressed.skip = Some((SkipReason::Suppressed, "on the do-not-call list".into()));
        l.insert_rows_blocking(
            c.id,
            vec![
                suppressed,
                dial(4, "+966501234567"),
                dial(5, "+966501234567"),
            ],
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(summary.to_dial, 1);
    let r5 = ledger.row(c.id, 5).unwrap().unwrap();
    assert_eq!(r5.state, RowState::Skipped);
    assert_eq!(r5.reason.as_deref(), Some("duplicate"));
    assert_eq!(r5.duplicate_of, Some(4));
    assert_eq!(
        ledger.row(c.id, 4).unwrap().unwrap().state,
        RowState::Pending
    );
    let counts = ledger.counts(c.id).unwrap();
    assert_eq!(counts.skipped.get("duplicate"), Some(&1));
    assert_eq!(counts.skipped.get("suppressed"), Some(&1));
}

#[tokio::test]
async fn a_row_is_marked_in_flight_once_and_recovered_as_uncertain() {
    let (_d, ledger, c) = fresh().await;
    insert(&ledger, c.id, vec![dial(2, "+4420")]).await;
    let rows = ledger.pending_after(c.id, 0, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    let first = ledger.mark_in_flight(c.id, &rows[0]).await.unwrap();
    assert_eq!(first.map(|f| f.attempt), Some(1));
    assert_eq!(ledger.mark_in_flight(c.id, &rows[0]).await.unwrap(), None);
    assert_eq!(ledger.recover_in_flight(c.id).await.unwrap(), 1);
    let row = ledger.row(c.id, 2).unwrap().unwrap();
    assert_eq!(row.state, RowState::Uncertain);
    assert_eq!(ledger.recover_in_flight(c.id).await.unwrap(), 0);
}

#[tokio::test]
async fn a_requeued_attempt_is_given_back() {
    let (_d, ledger, c) = fresh().await;
    insert(&ledger, c.id, vec![dial(2, "+4420")]).await;
    let row = ledger.pending_after(c.id, 0, 10).await.unwrap().remove(0);
    let inflight = ledger.mark_in_flight(c.id, &row).await.unwrap().unwrap();
    let rec = AttemptRecord {
        sent_at: None,
        class: "throttled",
        http_status: Some(429),
        latency_ms: 3,
        transition: Transition::Requeue {
            message: "throttled".into(),
        },
    };
    ledger.finish_attempt(row.id, inflight, rec).await.unwrap();
    let stored = ledger.row(c.id, 2).unwrap().unwrap();
    assert_eq!((stored.state.as_str(), stored.attempts), ("pending", 0));
    let again = ledger.mark_in_flight(c.id, &row).await.unwrap().unwrap();
    assert_eq!(again.attempt, 1);
}

#[tokio::test]
async fn concurrent_writers_share_commits() {
    let (_d, ledger, c) = fresh().await;
    let rows: Vec<NewRow> = (2..202).map(|i| dial(i, &format!("+1{i:09}"))).collect();
    insert(&ledger, c.id, rows).await;
    let pending = ledger.pending_after(c.id, 0, 1000).await.unwrap();
    let before = ledger.writer().stats().await;
    let mut tasks = tokio::task::JoinSet::new();
    for row in pending {
        let l = ledger.clone();
        tasks.spawn(async move { l.mark_in_flight(c.id, &row).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap().is_some());
    }
    let after = ledger.writer().stats().await;
    assert_eq!(after.ops - before.ops, 200);
    assert!(after.commits - before.commits <= 200);
    assert_eq!(ledger.counts(c.id).unwrap().state(RowState::InFlight), 200);
}

#[tokio::test]
async fn a_lease_is_exclusive_until_released() {
    let (_d, ledger, c) = fresh().await;
    assert_eq!(
        ledger.acquire_lease(c.id, "a".into()).await.unwrap(),
        Ok(())
    );
    let held = ledger.acquire_lease(c.id, "b".into()).await.unwrap();
    assert_eq!(held.unwrap_err().pid, std::process::id());
    assert!(ledger.heartbeat(c.id, "a".into()).await.unwrap());
    assert!(!ledger.heartbeat(c.id, "b".into()).await.unwrap());
    ledger.release_lease(c.id, "a".into()).await.unwrap();
    assert_eq!(
        ledger.acquire_lease(c.id, "b".into()).await.unwrap(),
        Ok(())
    );
}

#[tokio::test]
async fn a_dead_holders_lease_is_taken_over() {
    let (_d, ledger, c) = fresh().await;
    ledger
        .writer()
        .call(move |tx| {
            tx.execute(
                "INSERT INTO leases (campaign_id, holder_pid, holder_host, token, acquired_at, heartbeat_at) VALUES (?1, ?2, ?3, 'dead', ?4, ?4)",
                rusqlite::params![c.id, u32::MAX, lease::hostname(), now_ms()],
            )
        })
        .await
        .unwrap();
    assert_eq!(
        ledger.acquire_lease(c.id, "new".into()).await.unwrap(),
        Ok(())
    );
}

/// The hot writes of a row (ingest, mark, answer) must not open an ephemeral table: an IN
/// list of more than two constants in the row-state CHECK did, every time (migration 0011).
#[tokio::test]
async fn writing_a_row_opens_no_ephemeral_table() {
    let (_d, ledger, c) = fresh().await;
    for sql in [
        "UPDATE rows SET state = 'in_flight' WHERE id = 1",
        "INSERT INTO rows (campaign_id, line, state) VALUES (1, 99, 'pending')",
    ] {
        let ops: Vec<String> = ledger
            .read_blocking(|c| {
                let mut st = c.prepare(&format!("EXPLAIN {sql}"))?;
                st.query_map([], |r| r.get::<_, String>(1))?.collect()
            })
            .unwrap();
        assert!(
            !ops.iter().any(|op| op == "OpenEphemeral"),
            "{sql}: {ops:?}"
        );
    }
    // The chain of comparisons is the same closed set.
    let insert = |state: &'static str| {
        ledger.read_blocking(move |conn| {
            conn.execute(
                "INSERT INTO rows (campaign_id, line, state) VALUES (?1, 98, ?2)",
                rusqlite::params![c.id, state],
            )
        })
    };
    let refused = format!("{:?}", insert("done").unwrap_err());
    assert!(refused.contains("CHECK constraint failed"), "{refused}");
    assert_eq!(insert("cancelled").unwrap(), 1);
}
