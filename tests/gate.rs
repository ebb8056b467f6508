//! Calling hours checked at the moment of sending (issue 12): a window that closes while a
//! slow run is still going lets no request out after the close, and the rows left wait
//! `pending` with their attempts unspent.

mod common;

use std::time::Duration;

use common::{Env, number};
use dialer::ledger::RowState;

#[tokio::test(flavor = "multi_thread")]
async fn a_window_that_closes_mid_run_lets_no_request_out_after_it() {
    let env = Env::default().await;
    let rows = 300;
    let mut csv = String::from("first_name,phone,timezone\n");
    for i in 0..rows {
        csv.push_str(&format!("P{i},{},UTC\n", number(i)));
    }
    let path = env.write("closing.csv", csv);
    // A window that opened an hour ago and closes four seconds from now (UTC, to the
    // second): at 2/s the run is far from done when it closes.
    let now = jiff::Timestamp::now();
    let close = now + jiff::SignedDuration::from_secs(4);
    let hms = |t: jiff::Timestamp| {
        t.to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .strftime("%H:%M:%S")
            .to_string()
    };
    let window = format!(
        "{}-{}",
        hms(now - jiff::SignedDuration::from_secs(3600)),
        hms(close)
    );
    let child = env.spawn(&[
        "--no-progress",
        "run",
        path.to_str().unwrap(),
        "--rate",
        "2/s",
        "--window",
        &window,
    ]);
    // Well past the close: the run is waiting for tomorrow's window by now.
    let wait = (close - jiff::Timestamp::now()).unsigned_abs() + Duration::from_secs(3);
    tokio::time::sleep(wait).await;
    // SAFETY: signalling a child we own.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the run stops on SIGINT")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("nobody can be called until"), "{stderr}");

    let close_us = close.as_microsecond() - close.as_microsecond() % 1_000_000;
    let arrivals = env.sandbox.arrivals();
    assert!(!arrivals.is_empty(), "the window was open at the start");
    // The sandbox's own clock: nothing arrived after the close (loopback delivery of a
    // request sent just before it takes well under 250 ms).
    let late: Vec<_> = arrivals
        .iter()
        .filter(|&&t| t > close_us + 250_000)
        .collect();
    assert!(
        late.is_empty(),
        "{} requests arrived after the close",
        late.len()
    );
    let counts = env.counts("closing");
    let dialed = counts.state(RowState::Succeeded);
    assert_eq!(dialed, arrivals.len() as u64);
    assert_eq!(counts.state(RowState::Pending), rows as u64 - dialed);
    // The rows left spent nothing: no attempt, no attempt record.
    let conn = rusqlite::Connection::open(env.ledger_path()).unwrap();
    let spent: i64 = conn
        .query_row(
            "SELECT count(*) FROM rows WHERE state = 'pending' AND attempts > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(spent, 0);
    let records: i64 = conn
        .query_row("SELECT count(*) FROM attempts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records as u64, dialed);
    let last_sent: i64 = conn
        .query_row("SELECT max(started_at) FROM attempts", [], |r| r.get(0))
        .unwrap();
    assert!(
        last_sent * 1000 < close_us,
        "a request left after the close"
    );
}
