//! Webhooks end to end: the sandbox posts signed `phone_call.ended` events to an in-process
//! receiver while `dialer run` (another process) writes to the same ledger; every placed
//! call's outcome must land, none lost. Also `dialer webhook` as a command.

mod common;

use dialer::ledger::RowState;
use std::path::PathBuf;
use std::time::Duration;

use common::{Env, contacts};
use dialer::ledger::{Campaign, Ledger, RowRecord};
use dialer::sandbox::SandboxConfig;
use dialer::webhook::{self, ReceiverConfig, WebhookSecret};
use tokio::io::AsyncBufReadExt;

const SECRET: &str = "whsec_ZTJlLXJlY2VpdmVyLXNlY3JldC1mb3ItdGVzdHM=";

/// A ledger in its own temp dir with a receiver writing into it, in this process.
struct Receiving {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ledger: Ledger,
    receiver: webhook::Receiver,
}

async fn receiving() -> Receiving {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let ledger = Ledger::open(&path).unwrap();
    let config = ReceiverConfig {
        secret: WebhookSecret::parse(SECRET).unwrap(),
        path: webhook::DEFAULT_PATH.into(),
    };
    let receiver = webhook::start(ledger.clone(), config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Receiving {
        _dir: dir,
        path,
        ledger,
        receiver,
    }
}

impl Receiving {
    fn sandbox_config(&self) -> SandboxConfig {
        SandboxConfig {
            webhook_url: Some(self.receiver.url()),
            webhook_secret: SECRET.into(),
            ..SandboxConfig::default()
        }
    }

    /// Runs `dialer ARGS` against `env`'s sandbox, writing into this ledger.
    async fn dialer(&self, env: &Env, args: &[&str]) -> common::Run {
        let ledger = self.path.to_str().unwrap();
        let vars = [
            ("LEVERS_API_TOKEN", "sandbox-token"),
            ("DIALER_LEDGER", ledger),
        ];
        env.dialer_with(args, &vars).await
    }

    fn rows(&self, campaign: &Campaign) -> Vec<RowRecord> {
        let mut rows = Vec::new();
        self.ledger
            .for_each_row(campaign.id, |r| {
                rows.push(r);
                std::ops::ControlFlow::<()>::Continue(())
            })
            .unwrap();
        rows
    }

    /// Polls the ledger until `done` holds for the campaign's rows, or a deadline passes.
    async fn rows_until(
        &self,
        campaign: &Campaign,
        done: impl Fn(&[RowRecord]) -> bool,
    ) -> Vec<RowRecord> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let rows = self.rows(campaign);
            if done(&rows) || tokio::time::Instant::now() > deadline {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_placed_calls_outcome_lands_while_a_run_writes_to_the_same_ledger() {
    const ROWS: usize = 300;
    let rx = receiving().await;
    let env = Env::new(SandboxConfig {
        // Calls of 5..60 s at 1/1000 speed: events start 5 ms after their call, while the
        // run (300 rows at 300/s, about a second) is still writing.
        time_scale: 0.001,
        undelivered: Some(0.2),
        ..rx.sandbox_config()
    })
    .await;
    let csv = env.write("june.csv", contacts(ROWS));
    let args = ["--no-progress", "run", csv.to_str().unwrap()];
    let run = rx
        .dialer(&env, &[&args[..], &["--rate", "300/s"]].concat())
        .await;
    run.expect_code(0);
    let campaign = rx.ledger.campaign("june").unwrap();
    let during = rx.ledger.webhook_event_counts(Some(campaign.id)).unwrap();
    assert!(
        during.total > 0,
        "no event arrived while the run was writing"
    );

    let rows = rx
        .rows_until(&campaign, |rows| rows.iter().all(|r| r.outcome.is_some()))
        .await;
    assert_eq!(rows.len(), ROWS);
    let missing: Vec<u64> = rows
        .iter()
        .filter(|r| r.outcome.is_none())
        .map(|r| r.line)
        .collect();
    assert_eq!(missing, Vec::<u64>::new(), "rows without an outcome");
    assert!(rows.iter().all(|r| r.state == RowState::Succeeded));

    // The receiver commits before it answers, so the sandbox counts a delivery a moment
    // after the ledger shows it: poll the counter rather than read it once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut stats = env.sandbox.stats();
    while stats.webhooks_sent + stats.webhooks_failed < ROWS as u64
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
        stats = env.sandbox.stats();
    }
    assert_eq!(stats.total_calls, ROWS as u64);
    assert_eq!(
        (stats.webhooks_sent, stats.webhooks_failed),
        (ROWS as u64, 0)
    );
    let events = rx.ledger.webhook_event_counts(Some(campaign.id)).unwrap();
    assert_eq!((events.total, events.matched), (ROWS as u64, ROWS as u64));
    // Each outcome is the one the sandbox sent for that row's number.
    let undelivered = rx.ledger.rows_undelivered(campaign.id).await.unwrap();
    let failed: Vec<u64> = rows
        .iter()
        .filter(|r| r.outcome.as_ref().unwrap().delivery_status.as_deref() == Some("fail"))
        .map(|r| r.line)
        .collect();
    assert_eq!(undelivered, failed);
    assert!(
        (20..120).contains(&failed.len()),
        "{} of {ROWS} undelivered at --undelivered 0.2",
        failed.len()
    );
    for row in rows.iter().filter(|r| r.line % 50 == 0) {
        let outcome = row.outcome.as_ref().unwrap();
        assert!(outcome.call_output.is_some() && outcome.provider_call_id.is_some());
    }
    rx.receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uncertain_rows_become_succeeded_when_their_webhook_arrives() {
    let rx = receiving().await;
    let env = Env::new(SandboxConfig {
        // Every call is placed and then answered 500 (uncertain); its event comes 1 s later,
        // long after the run recorded the row as uncertain.
        fail_500_after: 1.0,
        call_seconds: "1:1".parse().unwrap(),
        undelivered: Some(0.0),
        ..rx.sandbox_config()
    })
    .await;
    let csv = env.write("late.csv", contacts(5));
    let run = rx
        .dialer(
            &env,
            &[
                "--no-progress",
                "run",
                csv.to_str().unwrap(),
                "--rate",
                "unlimited",
            ],
        )
        .await;
    run.expect_code(1);
    let campaign = rx.ledger.campaign("late").unwrap();
    let uncertain_at_exit = rx
        .ledger
        .counts(campaign.id)
        .unwrap()
        .state(RowState::Uncertain);
    let rows = rx
        .rows_until(&campaign, |rows| {
            rows.iter().all(|r| r.state == RowState::Succeeded)
        })
        .await;
    let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(states, ["succeeded"; 5]);
    assert!(rows.iter().all(|r| r.outcome.is_some() && r.attempts == 1));
    assert!(uncertain_at_exit > 0, "the run left rows uncertain");
    assert_eq!(
        env.sandbox.stats().total_calls,
        5,
        "nobody was called twice"
    );
}

#[tokio::test]
async fn the_webhook_command_refuses_to_start_without_a_secret() {
    let env = Env::default().await;
    let run = env.dialer(&["webhook", "--listen", "127.0.0.1:0"]).await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("LEVERS_WEBHOOK_SECRET"),
        "{}",
        run.stderr
    );
    let bad = env
        .dialer_with(
            &["webhook", "--listen", "127.0.0.1:0"],
            &[("LEVERS_WEBHOOK_SECRET", "whsec_%%%leaked%%%")],
        )
        .await;
    bad.expect_code(2);
    assert!(!bad.stderr.contains("leaked"), "{}", bad.stderr);
}

#[tokio::test]
async fn the_webhook_command_stores_signed_events_until_interrupted() {
    let env = Env::default().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(["webhook", "--listen", "127.0.0.1:0", "--path", "/hooks/in"])
        .env("DIALER_LEDGER", env.ledger_path())
        .env("LEVERS_WEBHOOK_SECRET", SECRET)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the receiver starts")
        .unwrap()
        .unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.ends_with("/hooks/in"), "{first}");

    let client = reqwest::Client::new();
    let health = url.replace("/hooks/in", "/healthz");
    assert_eq!(client.get(health).send().await.unwrap().status(), 200);
    let body = br#"{"callOutput":"VOICEMAIL","metadata":{"requestMetadata":{}}}"#.to_vec();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let response = client
        .post(&url)
        .header("svix-id", "msg_cli")
        .header("svix-timestamp", ts.to_string())
        .header(
            "svix-signature",
            webhook::sign(&secret, "msg_cli", ts, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let stored = env.ledger().webhook_event("msg_cli").unwrap().unwrap();
    assert!(!stored.matched);

    // SIGINT: graceful shutdown, exit 0.
    let pid = child.id().unwrap() as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the receiver stops")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains(SECRET.trim_start_matches("whsec_")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_calls_are_redialed_and_never_beyond_max_calls() {
    let rx = receiving().await;
    let env = Env::new(SandboxConfig {
        undelivered: Some(0.5),
        time_scale: 0.001,
        seed: 7,
        ..rx.sandbox_config()
    })
    .await;
    let csv = env.write("redial.csv", contacts(40));
    rx.dialer(&env, &["run", csv.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
    let campaign = rx.ledger.campaign("redial").unwrap();
    let all_outcomes = |rows: &[RowRecord]| rows.iter().all(|r| r.outcome.is_some());
    let rows = rx.rows_until(&campaign, all_outcomes).await;
    let undelivered: Vec<u64> = rows
        .iter()
        .filter(|r| r.outcome.as_ref().unwrap().delivery_status.as_deref() == Some("fail"))
        .map(|r| r.line)
        .collect();
    assert!(
        !undelivered.is_empty() && undelivered.len() < 40,
        "{}",
        undelivered.len()
    );
    let status = rx
        .dialer(
            &env,
            &["status", "redial", "--json", "--awaiting-after", "0s"],
        )
        .await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["awaiting_outcome"], 0, "every call has its outcome");

    // Round after round, only undelivered rows are dialed again, up to 2 calls each.
    for _ in 0..3 {
        let before = env.sandbox.stats();
        let redial = rx
            .dialer(
                &env,
                &[
                    "retry",
                    "redial",
                    "--outcome",
                    "undelivered",
                    "--max-calls",
                    "2",
                    "--rate",
                    "unlimited",
                ],
            )
            .await;
        redial.expect_code(0);
        let after = env.sandbox.stats();
        for (number, n) in &after.calls_per_number {
            let was = before.calls_per_number.get(number).copied().unwrap_or(0);
            if *n > was {
                let line = rows
                    .iter()
                    .find(|r| r.e164.as_deref() == Some(number))
                    .unwrap()
                    .line;
                assert!(
                    undelivered.contains(&line),
                    "line {line} was delivered yet re-dialed"
                );
            }
        }
        rx.rows_until(&campaign, all_outcomes).await;
    }
    let stats = env.sandbox.stats();
    assert!(
        stats.calls_per_number.values().all(|&n| n <= 2),
        "{stats:?}"
    );
    let twice = stats.calls_per_number.values().filter(|&&n| n == 2).count();
    assert_eq!(
        twice,
        undelivered.len(),
        "each undelivered row got exactly one more call"
    );
}
