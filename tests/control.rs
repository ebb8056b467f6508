//! `dialer pause` and `dialer cancel` from a second process, and `status` saying who
//! asked: the run stops starting calls within 2 s and exits 130 (pause) or 1 (cancel); a
//! pause stands until `dialer resume`, which finishes the campaign; a cancel leaves the
//! rows not yet dialed `cancelled`.

mod common;

use std::time::Duration;

use common::{Env, arg, contacts};
use dialer::ledger::RowState;

const ROWS: usize = 120;

/// Starts `run` at 20 calls a second (six seconds of work) and waits for its first calls.
async fn running(env: &Env, csv: &std::path::Path) -> tokio::process::Child {
    let mut child = env.spawn(&["--no-progress", "run", arg(csv), "--rate", "20/s"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        // A run that ended before its fifth call says why, rather than a timeout saying nothing.
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "the run exited ({:?}) before its fifth call: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let started = env.ledger_path().exists()
            && env.ledger().find_campaign("day").unwrap().is_some()
            && env.counts("day").state(RowState::Succeeded) >= 5;
        if started {
            return child;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never dialed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the run to exit and returns its code and stderr.
async fn exit_of(child: tokio::process::Child) -> (i32, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run did not stop after the request")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// The latest attempt start of the campaign, and the time of its latest control request.
fn last_attempt_and_request(env: &Env) -> (i64, i64) {
    let conn = rusqlite::Connection::open(env.ledger_path()).unwrap();
    conn.query_row(
        "SELECT (SELECT max(started_at) FROM attempts WHERE class IS NULL OR class <> 'requeued'),
                (SELECT max(requested_at) FROM controls)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn status_json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_from_another_process_stops_the_run_and_resume_finishes_it() {
    let env = Env::default().await;
    let csv = env.write("day.csv", contacts(ROWS));
    let child = running(&env, &csv).await;
    env.dialer(&["pause", "day"]).await.expect_code(0);
    let (code, stderr) = exit_of(child).await;
    assert_eq!(code, 130, "{stderr}");
    assert!(
        stderr.contains("paused by") && stderr.contains("dialer resume"),
        "{stderr}"
    );
    let (last_start, asked_at) = last_attempt_and_request(&env);
    assert!(
        last_start <= asked_at + 2_000,
        "a call started {} ms after the pause",
        last_start - asked_at
    );
    let counts = env.counts("day");
    assert!(
        counts.state(RowState::Pending) > 0,
        "the pause came too late to test"
    );
    assert_eq!(
        counts.state(RowState::InFlight),
        0,
        "in-flight calls were recorded"
    );

    let status = env.dialer(&["status", "day", "--json"]).await;
    let json = status_json(&status);
    assert_eq!(json["control"]["state"], "paused", "{json}");
    assert!(
        json["control"]["by"].as_str().unwrap().contains('@'),
        "{json}"
    );
    let table = env.dialer(&["status", "day"]).await;
    assert!(table.stdout.contains("paused"), "{}", table.stdout);

    // The pause stands: `run` refuses and names what lifts it.
    let again = env.dialer(&["run", arg(&csv), "--rate", "unlimited"]).await;
    again.expect_code(2);
    assert!(
        again.stderr.contains("dialer resume day"),
        "{}",
        again.stderr
    );

    env.dialer(&["--no-progress", "resume", "day", "--rate", "unlimited"])
        .await
        .expect_code(0);
    let counts = env.counts("day");
    assert_eq!(counts.state(RowState::Succeeded), ROWS as u64);
    let stats = env.sandbox.stats();
    assert_eq!(stats.calls_per_number.len(), ROWS);
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "{stats:?}"
    );
    let json = status_json(&env.dialer(&["status", "day", "--json"]).await);
    assert!(json["control"].is_null(), "resume lifted the pause: {json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_with_nobody_dialing_is_remembered_until_resume() {
    let env = Env::default().await;
    let csv = env.write("day.csv", contacts(10));
    let first = ["--no-progress", "run", arg(&csv), "--rate", "unlimited"];
    env.dialer(&[&first[..], &["--limit", "3"]].concat())
        .await
        .expect_code(0);
    let paused = env.dialer(&["pause", "day"]).await;
    paused.expect_code(0);
    assert!(
        paused.stderr.contains("nobody is dialing"),
        "{}",
        paused.stderr
    );
    env.dialer(&first).await.expect_code(2);
    env.dialer(&["retry", "day", "--status", "failed"])
        .await
        .expect_code(2);
    assert_eq!(env.counts("day").state(RowState::Pending), 7);
    env.dialer(&["--no-progress", "resume", "day"])
        .await
        .expect_code(0);
    assert_eq!(env.counts("day").state(RowState::Succeeded), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_from_another_process_leaves_the_rest_cancelled() {
    let env = Env::default().await;
    let csv = env.write("day.csv", contacts(ROWS));
    let child = running(&env, &csv).await;
    env.dialer(&["cancel", "day"]).await.expect_code(0);
    let (code, stderr) = exit_of(child).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cancelled by"), "{stderr}");
    let (last_start, asked_at) = last_attempt_and_request(&env);
    assert!(
        last_start <= asked_at + 2_000,
        "a call started after the cancel"
    );
    let counts = env.counts("day");
    let (succeeded, cancelled) = (
        counts.state(RowState::Succeeded),
        counts.state(RowState::Cancelled),
    );
    assert!(cancelled > 0, "the cancel came too late to test");
    assert_eq!(succeeded + cancelled, ROWS as u64, "{counts:?}");
    assert_eq!(env.sandbox.stats().total_calls, succeeded);
    let json = status_json(&env.dialer(&["status", "day", "--json"]).await);
    assert_eq!(json["control"]["state"], "cancelled", "{json}");
    // The list of campaigns says so too, as a column and in its JSON.
    let list = env.dialer(&["status"]).await;
    assert!(list.stdout.contains("held"), "{}", list.stdout);
    assert!(list.stdout.contains("cancelled"), "{}", list.stdout);
    let lines = status_json(&env.dialer(&["status", "--json"]).await);
    assert_eq!(lines[0]["control"]["state"], "cancelled", "{lines}");

    // A cancelled campaign does not resume; its cancelled rows can be dialed on purpose.
    let resumed = env.dialer(&["resume", "day"]).await;
    resumed.expect_code(2);
    assert!(
        resumed.stderr.contains("--status cancelled"),
        "{}",
        resumed.stderr
    );
    let retry = ["--no-progress", "retry", "day", "--status", "cancelled"];
    env.dialer(&[&retry[..], &["--rate", "unlimited"]].concat())
        .await
        .expect_code(0);
    assert_eq!(env.counts("day").state(RowState::Succeeded), ROWS as u64);
    let stats = env.sandbox.stats();
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_with_nobody_dialing_applies_at_once() {
    let env = Env::default().await;
    let csv = env.write("day.csv", contacts(10));
    env.dialer(&[
        "--no-progress",
        "run",
        arg(&csv),
        "--limit",
        "4",
        "--rate",
        "unlimited",
    ])
    .await
    .expect_code(0);
    let cancel = env.dialer(&["cancel", "day"]).await;
    cancel.expect_code(0);
    assert!(cancel.stderr.contains("6 row(s)"), "{}", cancel.stderr);
    let counts = env.counts("day");
    assert_eq!(counts.state(RowState::Cancelled), 6);
    assert_eq!(counts.state(RowState::Succeeded), 4);
    let rows = env.rows("day");
    let cancelled = rows
        .iter()
        .find(|r| r.state == RowState::Cancelled)
        .unwrap();
    assert!(
        cancelled
            .detail
            .as_deref()
            .unwrap_or("")
            .starts_with("cancelled by "),
        "{cancelled:?}"
    );
    env.dialer(&["pause", "nope"]).await.expect_code(2);
}
