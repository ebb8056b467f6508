//! A campaign over a day, against the sandbox: `--expire-after` turns the rows left into
//! `expired` and nothing is sent after the deadline; `--max-calls-per-day` holds across
//! two campaigns that share numbers, and a row it holds back waits instead of failing.

mod common;

use common::{Env, arg, contacts, number};
use dialer::ledger::RowState;

/// The latest start of an attempt that placed (or may have placed) a call.
fn last_call_at(env: &Env) -> i64 {
    let conn = rusqlite::Connection::open(env.ledger_path()).unwrap();
    conn.query_row(
        "SELECT max(started_at) FROM attempts
         WHERE class IS NULL OR class IN ('success', 'uncertain', 'interrupted')",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn expire_at(env: &Env, name: &str) -> jiff::Timestamp {
    let (_, c) = env.campaign(name);
    let settings: serde_json::Value = serde_json::from_str(&c.settings).unwrap();
    let at = settings["expire_at"]
        .as_str()
        .expect("the deadline is stored");
    at.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_turns_the_rows_left_into_expired() {
    const ROWS: u64 = 200;
    let env = Env::default().await;
    let csv = env.write("late.csv", contacts(ROWS as usize));
    let run = env
        .dialer(&[
            "--no-progress",
            "run",
            arg(&csv),
            "--rate",
            "20/s",
            "--expire-after",
            "2s",
        ])
        .await;
    run.expect_code(1);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
    let counts = env.counts("late");
    let (succeeded, expired) = (
        counts.state(RowState::Succeeded),
        counts.state(RowState::Expired),
    );
    assert!(succeeded > 0 && expired > 0, "{counts:?}");
    assert_eq!(succeeded + expired, ROWS, "{counts:?}");
    assert_eq!(env.sandbox.stats().total_calls, succeeded);
    // Compared as instants: the deadline may fall inside the millisecond of the last send.
    let last = jiff::Timestamp::from_millisecond(last_call_at(&env)).unwrap();
    assert!(
        last < expire_at(&env, "late"),
        "{last} is not before the deadline"
    );
    let rows = env.rows("late");
    let late = rows.iter().find(|r| r.state == RowState::Expired).unwrap();
    assert!(
        late.detail.as_deref().unwrap_or("").contains("--expire-at"),
        "{late:?}"
    );
    // A resume after the deadline dials nothing; `retry --status expired` does, on purpose,
    // given a later deadline.
    env.dialer(&["--no-progress", "resume", "late"]).await;
    assert_eq!(env.sandbox.stats().total_calls, succeeded);
    assert_eq!(env.counts("late").state(RowState::Expired), expired);
    let retry = ["--no-progress", "retry", "late", "--status", "expired"];
    let refused = env.dialer(&retry).await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--expire-after"),
        "{}",
        refused.stderr
    );
    let later = ["--expire-after", "1h", "--rate", "unlimited"];
    env.dialer(&[&retry[..], &later[..]].concat())
        .await
        .expect_code(0);
    assert_eq!(env.counts("late").state(RowState::Succeeded), ROWS);
    let stats = env.sandbox.stats();
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_cap_holds_across_two_campaigns_that_share_numbers() {
    let env = Env::default().await;
    // Campaign `a` calls numbers 0..10; `b` shares 5..10 and adds 10..15.
    let a = env.write("a.csv", contacts(10));
    let mut b = String::from("first_name,phone\n");
    for i in 5..15 {
        b.push_str(&format!("Q{i},{}\n", number(i)));
    }
    let b = env.write("b.csv", b);
    let cap = ["--max-calls-per-day", "1", "--rate", "unlimited"];
    let run_a = [&["--no-progress", "run", arg(&a)][..], &cap[..]].concat();
    env.dialer(&run_a).await.expect_code(0);
    // The shared numbers had their call today: `b` holds them back until the deadline.
    let run_b = [
        &["--no-progress", "run", arg(&b), "--expire-after", "3s"][..],
        &cap[..],
    ]
    .concat();
    let out = env.dialer(&run_b).await;
    out.expect_code(1);
    let counts = env.counts("b");
    assert_eq!(counts.state(RowState::Succeeded), 5, "{counts:?}");
    assert_eq!(
        counts.state(RowState::Expired),
        5,
        "held, then expired: {counts:?}"
    );
    assert_eq!(
        counts.state(RowState::Failed),
        0,
        "the cap never fails a row"
    );
    let stats = env.sandbox.stats();
    assert_eq!(stats.calls_per_number.len(), 15);
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "{stats:?}"
    );
    for r in env
        .rows("b")
        .iter()
        .filter(|r| r.state == RowState::Expired)
    {
        let shared = (5..10).any(|i| r.e164.as_deref() == Some(number(i).as_str()));
        assert!(
            shared,
            "line {} was held though its number was free",
            r.line
        );
    }
    let (ledger, c) = env.campaign("b");
    let held = ledger.attempts(c.id, 2).unwrap();
    assert!(
        held.iter().all(|a| a.class.as_deref() != Some("success")),
        "{held:?}"
    );
    let row = ledger.row(c.id, 2).unwrap().unwrap();
    let why = row.error.unwrap_or_default();
    assert!(why.contains("--max-calls-per-day 1"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_the_cap_holds_back_gives_its_place_under_limit_to_the_next_one() {
    let env = Env::default().await;
    let cap = ["--max-calls-per-day", "1", "--rate", "unlimited"];
    let a = env.write("a.csv", contacts(1));
    let run_a = [&["--no-progress", "run", arg(&a)][..], &cap[..]].concat();
    env.dialer(&run_a).await.expect_code(0);
    // `b` starts with the number `a` called today: held by the cap, it must not use up
    // `--limit 1`, and the run must not wait for it until tomorrow either.
    let b = env.write("b.csv", format!("phone\n{}\n{}\n", number(0), number(1)));
    let run_b = [
        &["--no-progress", "run", arg(&b), "--limit", "1"][..],
        &cap[..],
    ]
    .concat();
    let out = env.dialer(&run_b).await;
    out.expect_code(0);
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 2, "{stats:?} {}", out.stderr);
    assert_eq!(
        stats.calls_per_number.get(&number(1)),
        Some(&1),
        "{stats:?}"
    );
    let counts = env.counts("b");
    assert_eq!(counts.state(RowState::Succeeded), 1, "{counts:?}");
    assert_eq!(counts.state(RowState::RetryWait), 1, "{counts:?}");
}
