//! SPEC.md's failure classes, one test each, against sandbox faults.

mod common;

use common::{Env, contacts, number};
use dialer::ledger::RowState;
use dialer::sandbox::SandboxConfig;

fn fast() -> Vec<&'static str> {
    // Generous: a loaded CI machine must not turn a slow answer into an uncertain row.
    vec!["--rate", "unlimited", "--timeout", "20s"]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_fails_the_row_with_the_apis_message() {
    let env = Env::default().await;
    // A template column, because `--template` itself is refused before anything is sent.
    let rows = format!(
        "phone,template\n{0},not-a-uuid\n{1},not-a-uuid\n",
        number(0),
        number(1)
    );
    let csv = env.write("bad.csv", rows);
    let mut args = vec!["run", csv.to_str().unwrap()];
    args.extend(fast());
    let run = env.dialer(&args).await;
    run.expect_code(1);
    let rows = env.rows("bad");
    assert!(
        rows.iter()
            .all(|r| r.state == RowState::Failed && r.http_status == Some(422))
    );
    let error = rows[0].error.as_deref().unwrap();
    assert!(error.contains("aiSettingsTemplateId"), "{error}");
    assert!(error.to_lowercase().contains("uuid"), "{error}");
    assert_eq!(env.sandbox.stats().total_calls, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_create_gets_404_for_unknown_contacts_only() {
    let env = Env::new(SandboxConfig {
        known_number: vec![number(0)],
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("known.csv", contacts(2));
    let mut args = vec!["run", csv.to_str().unwrap(), "--no-create"];
    args.extend(fast());
    env.dialer(&args).await.expect_code(1);
    let rows = env.rows("known");
    assert_eq!(rows[0].state, RowState::Succeeded);
    assert_eq!(
        (rows[1].state.as_str(), rows[1].http_status),
        ("failed", Some(404))
    );
    assert_eq!(env.sandbox.calls()[0]["createIfNotExists"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_stops_with_exit_4_and_rows_stay_pending() {
    let env = Env::default().await;
    let csv = env.write("auth.csv", contacts(5));
    let mut args = vec!["run", csv.to_str().unwrap()];
    args.extend(fast());
    let run = env
        .dialer_with(&args, &[("LEVERS_API_TOKEN", "wrong-token-value")])
        .await;
    run.expect_code(4);
    assert!(!run.stderr.contains("wrong-token-value"), "{}", run.stderr);
    assert!(!run.stdout.contains("wrong-token-value"));
    let counts = env.counts("auth");
    assert_eq!(counts.state(RowState::Pending), 5, "{counts:?}");
    assert_eq!(env.sandbox.stats().total_calls, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_are_exchanged_for_a_token() {
    let env = Env::default().await;
    let csv = env.write("creds.csv", contacts(3));
    let mut args = vec!["run", csv.to_str().unwrap()];
    args.extend(fast());
    let run = env
        .dialer_with(
            &args,
            &[
                ("LEVERS_CLIENT_ID", "sandbox-client"),
                ("LEVERS_CLIENT_SECRET", "sandbox-secret"),
            ],
        )
        .await;
    run.expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 3);
    assert!(!run.stderr.contains("sandbox-secret"));

    let bad = env.write("creds2.csv", contacts(1));
    let run = env
        .dialer_with(
            &["run", bad.to_str().unwrap()],
            &[
                ("LEVERS_CLIENT_ID", "sandbox-client"),
                ("LEVERS_CLIENT_SECRET", "not-the-secret"),
            ],
        )
        .await;
    run.expect_code(4);
    assert!(!run.stderr.contains("not-the-secret"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_spends_no_attempt_and_every_row_is_placed() {
    let env = Env::new(SandboxConfig {
        rate_cap: Some(5),
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("busy.csv", contacts(12));
    let mut args = vec![
        "run",
        csv.to_str().unwrap(),
        "--concurrency",
        "4",
        "--max-attempts",
        "1",
    ];
    args.extend(fast());
    let out = env.dialer(&args).await;
    out.expect_code(0);
    let stats = env.sandbox.stats();
    assert!(
        stats.responses.get("429").is_some_and(|&n| n > 0),
        "{stats:?}"
    );
    let states: Vec<_> = env
        .rows("busy")
        .iter()
        .map(|r| format!("{:?}/{}", r.state, r.attempts))
        .collect();
    assert_eq!(stats.total_calls, 12, "{states:?} {stats:?} {}", out.stderr);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
    // --max-attempts 1 and still no failure: a 429 did not spend the attempt.
    assert!(
        env.rows("busy")
            .iter()
            .all(|r| r.state == RowState::Succeeded && r.attempts == 1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_is_retried_then_succeeds_or_fails_after_max_attempts() {
    let env = Env::new(SandboxConfig {
        fail_503_first: 2,
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("flaky.csv", contacts(3));
    let mut args = vec!["run", csv.to_str().unwrap(), "--max-attempts", "3"];
    args.extend(fast());
    env.dialer(&args).await.expect_code(0);
    assert!(
        env.rows("flaky")
            .iter()
            .all(|r| r.state == RowState::Succeeded && r.attempts == 3)
    );

    let env = Env::new(SandboxConfig {
        fail_503_first: 5,
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("down.csv", contacts(2));
    let mut args = vec!["run", csv.to_str().unwrap(), "--max-attempts", "2"];
    args.extend(fast());
    env.dialer(&args).await.expect_code(1);
    for r in env.rows("down") {
        assert_eq!(
            (r.state.as_str(), r.attempts, r.http_status),
            ("failed", 2, Some(503))
        );
    }
    assert_eq!(env.sandbox.stats().total_calls, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_after_placing_is_uncertain_placed_once_and_not_retried() {
    let env = Env::new(SandboxConfig {
        fail_500_after: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("lost.csv", contacts(3));
    let mut args = vec!["run", csv.to_str().unwrap()];
    args.extend(fast());
    env.dialer(&args).await.expect_code(1);
    assert!(
        env.rows("lost")
            .iter()
            .all(|r| r.state == RowState::Uncertain && r.attempts == 1)
    );
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 3);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_request_times_out_as_uncertain_and_is_not_retried() {
    let env = Env::new(SandboxConfig {
        hang: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("hung.csv", contacts(2));
    let run = env
        .dialer(&[
            "run",
            csv.to_str().unwrap(),
            "--rate",
            "unlimited",
            "--timeout",
            "300ms",
        ])
        .await;
    run.expect_code(1);
    assert!(
        env.rows("hung")
            .iter()
            .all(|r| r.state == RowState::Uncertain && r.attempts == 1)
    );
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 2);
    assert!(stats.calls_per_number.values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_exchanged_again_and_no_row_is_lost() {
    let env = Env::new(SandboxConfig {
        token_ttl: std::time::Duration::from_millis(250),
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("ttl.csv", contacts(8));
    let run = env
        .dialer_with(
            &[
                "run",
                csv.to_str().unwrap(),
                "--rate",
                "8/s",
                "--concurrency",
                "2",
            ],
            &[
                ("LEVERS_CLIENT_ID", "sandbox-client"),
                ("LEVERS_CLIENT_SECRET", "sandbox-secret"),
            ],
        )
        .await;
    run.expect_code(0);
    let stats = env.sandbox.stats();
    assert!(
        stats.responses.get("401").is_some_and(|&n| n > 0),
        "{stats:?}"
    );
    assert_eq!(stats.total_calls, 8);
    assert!(
        env.rows("ttl")
            .iter()
            .all(|r| r.state == RowState::Succeeded && r.attempts == 1)
    );
}
