//! Crash-proof campaigns: resume, run-again, retry, the lease, Ctrl-C, the breaker, --limit.

mod common;

use dialer::ledger::RowState;
use std::time::Duration;

use common::{Env, contacts, number};
use dialer::sandbox::{LatencyRange, SandboxConfig};

fn slow() -> SandboxConfig {
    SandboxConfig {
        latency: Some(LatencyRange {
            min: Duration::from_millis(100),
            max: Duration::from_millis(150),
        }),
        ..SandboxConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_finishes_without_the_csv_and_run_again_continues() {
    let env = Env::default().await;
    let csv = env.write("list.csv", contacts(10));
    let path = csv.to_str().unwrap();
    env.dialer(&["run", path, "--rate", "unlimited", "--limit", "4"])
        .await
        .expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 4);
    assert_eq!(env.counts("list").state(RowState::Pending), 6);

    // Same file again: continues, dialing nobody twice.
    env.dialer(&["run", path, "--rate", "unlimited", "--limit", "3"])
        .await
        .expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 7);

    std::fs::remove_file(&csv).unwrap();
    let run = env.dialer(&["resume", "--rate", "unlimited"]).await;
    run.expect_code(0);
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 10);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
    assert_eq!(env.counts("list").state(RowState::Succeeded), 10);

    let nothing = env.dialer(&["resume"]).await;
    nothing.expect_code(2);
    assert!(
        nothing.stderr.contains("nothing to resume"),
        "{}",
        nothing.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_name_with_a_different_file_is_refused() {
    let env = Env::default().await;
    let a = env.write("a.csv", contacts(2));
    env.dialer(&[
        "run",
        a.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--campaign",
        "nov",
    ])
    .await
    .expect_code(0);
    // Not `a.csv` with rows appended (that would continue the campaign): a row differs.
    let b = env.write("b.csv", contacts(3).replace("P0,", "Q0,"));
    let run = env
        .dialer(&["run", b.to_str().unwrap(), "--campaign", "nov"])
        .await;
    run.expect_code(2);
    assert!(run.stderr.contains("--campaign"), "{}", run.stderr);
    assert!(run.stderr.contains("resume"), "{}", run.stderr);
    assert_eq!(env.sandbox.stats().total_calls, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_redials_failed_rows_only_and_uncertain_only_when_named() {
    // Row 1 fails for good (503 twice with --max-attempts 2), row 2 is uncertain (500).
    let env = Env::new(SandboxConfig {
        fail_503_first: 2,
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("mix.csv", contacts(3));
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--max-attempts",
        "2",
    ])
    .await
    .expect_code(1);
    assert_eq!(env.counts("mix").state(RowState::Failed), 3);
    // Make one row uncertain by hand: as if its answer was lost.
    {
        let (ledger, c) = env.campaign("mix");
        let conn = rusqlite::Connection::open(ledger.path()).unwrap();
        conn.execute(
            "UPDATE rows SET state = 'uncertain' WHERE campaign_id = ?1 AND line = 4",
            [c.id],
        )
        .unwrap();
    }
    env.dialer(&["retry", "mix", "--rate", "unlimited"])
        .await
        .expect_code(1);
    let rows = env.rows("mix");
    assert_eq!(rows[0].state, RowState::Succeeded);
    assert_eq!(rows[1].state, RowState::Succeeded);
    assert_eq!(
        rows[2].state,
        RowState::Uncertain,
        "uncertain is left alone unless named"
    );
    let stats = env.sandbox.stats();
    assert!(!stats.calls_per_number.contains_key(&number(2)));

    env.dialer(&[
        "retry",
        "mix",
        "--status",
        "uncertain",
        "--rate",
        "unlimited",
    ])
    .await
    .expect_code(0);
    assert_eq!(env.rows("mix")[2].state, RowState::Succeeded);
    let history = env.dialer(&["status", "mix", "--row", "4", "--json"]).await;
    history.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let classes: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["retryable", "retryable", "requeued", "success"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_of_one_campaign_one_is_locked_out() {
    let env = Env::new(slow()).await;
    let csv = env.write("twice.csv", contacts(30));
    let path = csv.to_str().unwrap();
    let args = ["run", path, "--rate", "unlimited", "--concurrency", "2"];
    let (a, b) = tokio::join!(env.dialer(&args), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        env.dialer(&args).await
    });
    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [0, 3], "a: {}\nb: {}", a.stderr, b.stderr);
    let locked = if a.code == 3 { &a } else { &b };
    assert!(locked.stderr.contains("pid"), "{}", locked.stderr);
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 30);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_lease_is_taken_over() {
    let env = Env::default().await;
    let csv = env.write("stale.csv", contacts(3));
    let path = csv.to_str().unwrap();
    env.dialer(&["run", path, "--limit", "0"])
        .await
        .expect_code(0);
    {
        let (ledger, c) = env.campaign("stale");
        let conn = rusqlite::Connection::open(ledger.path()).unwrap();
        // A holder on another host whose heartbeat stopped a minute ago.
        conn.execute(
            "INSERT INTO leases (campaign_id, holder_pid, holder_host, token, acquired_at,
                 heartbeat_at) VALUES (?1, 4242, 'elsewhere', 'old', 0, ?2)",
            rusqlite::params![c.id, dialer::ledger::now_ms() - 60_000],
        )
        .unwrap();
    }
    env.dialer(&["resume", "stale", "--rate", "unlimited"])
        .await
        .expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_stops_cleanly_with_130_and_resume_finishes() {
    let env = Env::new(slow()).await;
    let csv = env.write("int.csv", contacts(40));
    let child = env.spawn(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--concurrency",
        "2",
    ]);
    // Wait until some calls were placed, then Ctrl-C.
    for _ in 0..200 {
        if env.sandbox.stats().total_calls >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = env.counts("int");
    assert_eq!(
        counts.state(RowState::InFlight),
        0,
        "in-flight calls were recorded"
    );
    assert_eq!(counts.state(RowState::Uncertain), 0);
    assert!(counts.state(RowState::Pending) > 0);
    env.dialer(&["resume", "int", "--rate", "unlimited"])
        .await
        .expect_code(0);
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 40);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_breaker_stops_with_5_and_resume_completes_when_healthy() {
    let sick = Env::new(SandboxConfig {
        fail_503: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let csv = sick.write("sick.csv", contacts(30));
    let run = sick
        .dialer(&["run", csv.to_str().unwrap(), "--rate", "unlimited"])
        .await;
    run.expect_code(5);
    assert!(run.stderr.contains("resume"), "{}", run.stderr);
    let counts = sick.counts("sick");
    assert_eq!(
        counts.state(RowState::Failed) + counts.state(RowState::Uncertain),
        0,
        "{counts:?}"
    );
    assert_eq!(sick.sandbox.stats().total_calls, 0);
    // Nothing was lost: every row is pending or waiting to retry, and a healthy API
    // takes them all.
    let healthy = dialer::sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    sick.dialer(&[
        "resume",
        "sick",
        "--rate",
        "unlimited",
        "--api-url",
        &healthy.url(),
    ])
    .await
    .expect_code(0);
    assert_eq!(sick.counts("sick").state(RowState::Succeeded), 30);
    let stats = healthy.stats();
    assert_eq!(stats.total_calls, 30);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
}
