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

/// Calls per number dialed, from the attempts' own record of the number each one dialed.
fn calls_per_number_dialed(ledger: &Ledger) -> BTreeMap<String, u64> {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut st = conn
        .prepare(
            "SELECT e164, count(*) FROM attempts
             WHERE class IN ('success', 'uncertain', 'interrupted') GROUP BY e164",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Outcomes the ledger kept per row, in arrival order (`pass` / `fail`).
fn deliveries(ledger: &Ledger) -> BTreeMap<u64, Vec<String>> {
    calls_by_line(ledger)
        .into_iter()
        .map(|(line, calls)| (line, calls.into_iter().map(|(_, s)| s).collect()))
        .collect()
}

/// Each row's calls from their webhooks, in arrival order: (number called, deliveryStatus).
fn calls_by_line(ledger: &Ledger) -> BTreeMap<u64, Vec<(String, String)>> {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut st = conn
        .prepare(
            "SELECT line, json_extract(payload, '$.numberTo'),
                    json_extract(payload, '$.deliveryStatus')
             FROM webhook_events WHERE matched = 1 ORDER BY id",
        )
        .unwrap();
    let mut out: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
    let rows = st
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    for row in rows {
        let (line, number, status): (u64, String, String) = row.unwrap();
        out.entry(line).or_default().push((number, status));
    }
    out
}

/// `dialer ARGS` against `env`'s sandbox, writing into the ledger at `path`.
async fn dialer(env: &Env, path: &std::path::Path, args: &[&str]) -> common::Run {
    let vars = [
        ("LEVERS_API_TOKEN", "sandbox-token"),
        ("DIALER_LEDGER", path.to_str().unwrap()),
    ];
    env.dialer_with(args, &vars).await
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
    let run = dialer(&env, &path, &args).await;
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

#[tokio::test(flavor = "multi_thread")]
async fn the_secondary_number_is_dialed_after_the_first_fails_and_never_when_it_got_through() {
    const N: usize = 60;
    let shared = tempfile::tempdir().unwrap();
    let path = shared.path().join("ledger.db");
    let rx = receiver::start(&path).await;
    let env = Env::new(receiver::sandbox(&rx, 0.3, 5)).await;
    let mut csv = String::from("first_name,phone,phone2\n");
    for i in 0..N {
        let second = match i {
            // Another row's first number: a number is dialed for one row only.
            59 => common::number(0),
            // Not a valid number: passed over.
            30 => "12".into(),
            _ => common::number(1000 + i),
        };
        csv.push_str(&format!("P{i},{},{second}\n", common::number(i)));
    }
    // A first number that an earlier row holds as its second one: a duplicate.
    csv.push_str(&format!("Dup,{},\n", common::number(1005)));
    let csv = env.write("alt.csv", csv);
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
        "2",
        "--outcome-timeout",
        "30s",
    ];
    dialer(&env, &path, &args).await.expect_code(0);
    let ledger = Ledger::open(&path).unwrap();
    let campaign = ledger.campaign("alt").unwrap();
    let dup = ledger.row(campaign.id, (N + 2) as u64).unwrap().unwrap();
    assert_eq!(dup.reason.as_deref(), Some("duplicate"), "{dup:?}");

    let stats = env.sandbox.stats();
    assert_eq!(stats.calls_per_number, calls_per_number_dialed(&ledger));
    assert_eq!(stats.calls_per_number.get(&common::number(0)), Some(&1));
    let by_line = calls_by_line(&ledger);
    let mut second_tried = 0;
    for i in 0..N {
        let line = (i + 2) as u64;
        let calls = &by_line[&line];
        let (first, status) = &calls[0];
        assert_eq!(
            first,
            &common::number(i),
            "line {line} starts on its first number"
        );
        let has_second = i != 30 && i != 59;
        match (status.as_str(), has_second) {
            ("fail", true) => {
                assert_eq!(calls.len(), 2, "line {line}: {calls:?}");
                assert_eq!(calls[1].0, common::number(1000 + i), "line {line}");
                second_tried += 1;
            }
            // No second number: the same one again, after --redial-after.
            ("fail", false) => {
                assert_eq!(calls.len(), 2, "line {line}: {calls:?}");
                assert_eq!(calls[1].0, common::number(i), "line {line}");
            }
            _ => assert_eq!(calls.len(), 1, "line {line}: {calls:?}"),
        }
    }
    assert!(
        second_tried >= 5,
        "only {second_tried} second numbers were tried"
    );

    // The report names the number that reached each contact, and counts the calls.
    let report = dialer(&env, &path, &["report", "alt", "--format", "jsonl"]).await;
    report.expect_code(0);
    for line in report.stdout.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let row = rec["row"].as_u64().unwrap();
        let Some(calls) = by_line.get(&row) else {
            continue;
        };
        assert_eq!(rec["calls"], calls.len(), "{rec}");
        let reached = calls
            .iter()
            .find(|(_, s)| s == "pass")
            .map(|(n, _)| n.as_str());
        assert_eq!(rec["number_dialed"].as_str(), reached, "{rec}");
    }
}
