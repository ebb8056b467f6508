//! `--redial undelivered` within one run, against the sandbox with webhooks on and its time
//! scale at 1/1000 (a minute of call is 60 ms): every undelivered row is dialed again after
//! the delay, no row goes over `--max-calls`, the sandbox's calls per number equal the
//! ledger's calls per row, and the run ends only when every outcome is in.

mod common;

use std::collections::BTreeMap;

use common::{Env, receiver};
use dialer::ledger::{Ledger, RowState};

const ROWS: usize = 100;
const MAX_CALLS: u64 = 3;

/// Calls placed (or possibly placed) per row, from the ledger's attempt history.
fn calls_per_number(ledger: &Ledger) -> BTreeMap<String, u64> {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut st = conn
        .prepare(
            "SELECT r.e164, (SELECT count(*) FROM attempts a
                             WHERE a.campaign_id = r.campaign_id AND a.line = r.line
                               AND a.class IN ('success', 'uncertain', 'interrupted'))
             FROM rows r WHERE r.e164 IS NOT NULL",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Outcomes the ledger kept per row, in arrival order (`pass` / `fail`).
fn deliveries(ledger: &Ledger) -> BTreeMap<u64, Vec<String>> {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut st = conn
        .prepare(
            "SELECT line, json_extract(payload, '$.deliveryStatus')
             FROM webhook_events WHERE matched = 1 ORDER BY id",
        )
        .unwrap();
    let mut out: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .unwrap();
    for row in rows {
        let (line, status): (u64, String) = row.unwrap();
        out.entry(line).or_default().push(status);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_rows_are_redialed_within_the_run_up_to_max_calls() {
    let shared = tempfile::tempdir().unwrap();
    let path = shared.path().join("ledger.db");
    let rx = receiver::start(&path).await;
    let env = Env::new(receiver::sandbox(&rx, 0.2, 11)).await;
    let csv = env.write("redial.csv", common::contacts(ROWS));
    let args = [
        "--no-progress",
        "run",
        common::arg(&csv),
        "--rate",
        "unlimited",
        "--redial",
        "undelivered",
        "--redial-after",
        "300ms",
        "--max-calls",
        "3",
        "--outcome-timeout",
        "30s",
    ];
    let run = env
        .dialer_with(
            &args,
            &[
                ("LEVERS_API_TOKEN", "sandbox-token"),
                ("DIALER_LEDGER", path.to_str().unwrap()),
            ],
        )
        .await;
    run.expect_code(0);
    assert!(run.stderr.contains("waiting for"), "{}", run.stderr);
    let ledger = Ledger::open(&path).unwrap();
    let campaign = ledger.campaign("redial").unwrap();
    let counts = ledger.counts(campaign.id).unwrap();
    assert_eq!(counts.state(RowState::Succeeded), ROWS as u64, "{counts:?}");

    let stats = env.sandbox.stats();
    let ledger_calls = calls_per_number(&ledger);
    assert_eq!(
        stats.calls_per_number, ledger_calls,
        "sandbox and ledger agree"
    );
    assert!(
        ledger_calls.values().all(|&n| n <= MAX_CALLS),
        "{ledger_calls:?}"
    );
    let redialed = ledger_calls.values().filter(|&&n| n > 1).count();
    assert!(redialed >= 5, "only {redialed} rows were redialed");

    // Each row was called again exactly while its last call was undelivered and under the cap.
    let outcomes = deliveries(&ledger);
    assert_eq!(
        outcomes.len(),
        ROWS,
        "the run ended before every outcome was in"
    );
    for (line, seen) in &outcomes {
        let fails_before_last = seen[..seen.len() - 1].iter().all(|s| s == "fail");
        assert!(
            fails_before_last,
            "line {line} was redialed after a delivered call: {seen:?}"
        );
        let last_failed = seen.last().map(String::as_str) == Some("fail");
        assert!(
            !last_failed || seen.len() as u64 == MAX_CALLS,
            "line {line}: undelivered after {} call(s) but not redialed: {:?} {:?}",
            seen.len(),
            ledger.attempts(campaign.id, *line).unwrap(),
            ledger.row(campaign.id, *line).unwrap(),
        );
    }
}
