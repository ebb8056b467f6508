//! Calling hours and the dry run, end to end. Windows are chosen relative to the current
//! UTC hour, so the tests hold whatever the clock says.

mod common;

use std::time::Duration;

use common::Env;

/// A two-hour window around now in UTC: open for a row in UTC, closed at UTC+12.
fn window_open_in_utc() -> String {
    let hour = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .hour();
    format!("{:02}:00-{:02}:00", (hour + 23) % 24, (hour + 1) % 24)
}

#[tokio::test(flavor = "multi_thread")]
async fn zones_come_from_the_column_then_the_country_then_tz() {
    let env = Env::default().await;
    let csv = env.write(
        "zones.csv",
        "phone,timezone\n+966501234567,Asia/Tokyo\n+966501234568,\n+447700900123,\n+12015550123,\n",
    );
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--tz",
        "America/Chicago",
    ])
    .await;
    let rows = env.rows("zones");
    let zone = |i: usize| {
        let (l, c) = env.campaign("zones");
        let r = l.row(c.id, rows[i].line).unwrap().unwrap();
        (
            r.timezone.unwrap_or_default(),
            r.zone_source.unwrap_or_default(),
        )
    };
    assert_eq!(zone(0), ("Asia/Tokyo".into(), "column".into()));
    assert_eq!(zone(1), ("Asia/Riyadh".into(), "country".into()));
    assert_eq!(
        rows[2].reason.as_deref(),
        Some("invalid_number"),
        "07700 900xxx is fiction"
    );
    assert_eq!(zone(3), ("America/Chicago".into(), "default".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn open_windows_are_dialed_while_closed_ones_wait_and_say_so() {
    let env = Env::default().await;
    let csv = env.write(
        "hours.csv",
        "phone,timezone\n+966501234567,UTC\n+966501234568,Etc/GMT-12\n",
    );
    let window = window_open_in_utc();
    let child = env.spawn(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--window",
        &window,
    ]);
    for _ in 0..500 {
        if env.sandbox.stats().total_calls >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Give the feed a moment to find nothing else it may dial, then stop it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // SAFETY: SIGINT to our own child.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("waiting until"), "{stderr}");
    let stats = env.sandbox.stats();
    assert_eq!(stats.calls_per_number.get("+966501234567"), Some(&1));
    assert_eq!(stats.total_calls, 1, "the closed window was respected");
    assert_eq!(env.rows("hours")[1].state, "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_of_many_batches_keeps_line_order_and_first_occurrences() {
    let env = Env::default().await;
    // 6,000 rows, planned in batches on several threads; the last 100 repeat the first 100,
    // so the dedupe must see every earlier batch first.
    let mut csv = common::contacts(5_900);
    for i in 0..100 {
        csv.push_str(&format!("again{i},{}\n", common::number(i)));
    }
    let file = env.write("many.csv", &csv);
    let run = env
        .dialer(&["run", file.to_str().unwrap(), "--dry-run"])
        .await;
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("read 6000 rows"), "{out}");
    assert!(out.contains("would dial: 5900"), "{out}");
    assert!(out.contains("duplicate: 100"), "{out}");
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(": duplicate: "))
        .collect();
    assert_eq!(listed.len(), 50, "{out}");
    for (k, line) in listed.iter().enumerate() {
        // Row i sits on line i + 2; its repeat on line 5,900 + i + 2.
        let want = format!(
            "line {}: duplicate: same number as line {}",
            5_902 + k,
            2 + k
        );
        assert_eq!(line.trim(), want);
    }
    assert!(out.contains("... and 50 more"), "{out}");
    assert!(!env.ledger_path().exists(), "a dry run writes no ledger");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_rows_outside_the_window_and_writes_nothing() {
    let env = Env::default().await;
    let sample = common::repo_file("samples/contacts.csv");
    let dnc = common::repo_file("samples/dnc.txt");
    let run = env
        .dialer(&[
            "run",
            sample.to_str().unwrap(),
            "--default-region",
            "SA",
            "--suppress",
            dnc.to_str().unwrap(),
            "--dry-run",
            "--map",
            "account_id=ignore",
        ])
        .await;
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("would dial: 36"), "{out}");
    assert!(out.contains("suppressed: 4"), "{out}");
    assert!(out.contains("line 49: missing_number"), "{out}");
    assert!(out.contains("request 3:"), "{out}");
    assert!(!out.contains("request 4:"), "{out}");
    assert!(!env.ledger_path().exists(), "a dry run writes no ledger");
    assert_eq!(env.sandbox.stats().requests, 0);

    // Rows at UTC+12 against a window open around now in UTC: closed for both.
    let tz12 = env.write(
        "far.csv",
        "phone,timezone\n+966501234567,Etc/GMT-12\n+966501234568,Etc/GMT-12\n",
    );
    let run = env
        .dialer(&[
            "run",
            tz12.to_str().unwrap(),
            "--dry-run",
            "--window",
            &window_open_in_utc(),
        ])
        .await;
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("outside their calling window right now: 2"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_zone_and_window_flags_are_usage_errors() {
    let env = Env::default().await;
    let csv = env.write("c.csv", "phone\n+966501234567\n");
    let run = env
        .dialer(&["run", csv.to_str().unwrap(), "--tz", "Mars/Olympus"])
        .await;
    run.expect_code(2);
    assert!(run.stderr.contains("Mars/Olympus"), "{}", run.stderr);
    let run = env
        .dialer(&["run", csv.to_str().unwrap(), "--window", "9-5"])
        .await;
    run.expect_code(2);
    let bad_row = env.write("tz.csv", "phone,tz\n+966501234567,Nowhere/Land\n");
    env.dialer(&["run", bad_row.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
    assert_eq!(
        env.rows("tz")[0].reason.as_deref(),
        Some("invalid_timezone")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn start_at_holds_every_call_until_then() {
    let env = Env::default().await;
    let csv = env.write("later.csv", common::contacts(3));
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1200);
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--start-at",
        &start.to_string(),
    ])
    .await
    .expect_code(0);
    for row in env.rows("later") {
        let first = row.first_attempt_at.unwrap();
        assert!(
            first >= start.as_millisecond(),
            "line {} dialed before --start-at",
            row.line
        );
    }
}
