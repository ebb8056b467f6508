//! Calling hours and the dry run, end to end. Windows and days are chosen relative to the
//! current time in the zone they are read in, so the tests hold whatever the clock says.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Env;
use dialer::ledger::RowState;

/// Runs `dialer run CSV --rate unlimited FLAGS` until it says it waits for a calling
/// window, then stops it with SIGINT.
/// Returns its exit code and stderr. The wait is said once nothing else can be dialed, so
/// the test needs no sleep.
async fn run_until_waiting(env: &Env, csv: &Path, flags: &[&str]) -> (Option<i32>, String) {
    use tokio::io::AsyncBufReadExt;
    let mut args = vec!["run", csv.to_str().unwrap(), "--rate", "unlimited"];
    args.extend_from_slice(flags);
    let mut child = env.spawn(&args);
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = String::new();
    let mut signalled = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                let waiting = line.contains("waiting until");
                stderr.push_str(&line);
                stderr.push('\n');
                if waiting && !signalled {
                    // SAFETY: SIGINT to our own child.
                    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
                    signalled = true;
                }
            }
            Ok(_) => break,
            Err(_) => panic!("the dialer never said it was waiting:\n{stderr}"),
        }
    }
    (child.wait().await.unwrap().code(), stderr)
}

/// A two-hour window around the current hour in `zone`, e.g. `13:00-15:00`.
fn window_around_now_in(zone: &str) -> String {
    let hour = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get(zone).unwrap())
        .hour();
    format!("{:02}:00-{:02}:00", (hour + 23) % 24, (hour + 1) % 24)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_open_in_new_york_and_closed_in_los_angeles() {
    let env = Env::default().await;
    // Los Angeles is three hours behind New York all year: 2 hours around now in New York
    // are closed there. A Russian mobile's zones share no such hour: unknown_zone.
    let csv = env.write(
        "coasts.csv",
        "phone\n+12125550123\n+14155550123\n+79123456789\n",
    );
    let window = window_around_now_in("America/New_York");
    let (code, stderr) = run_until_waiting(&env, &csv, &["--window", &window]).await;
    assert_eq!(code, Some(130), "{stderr}");
    let stats = env.sandbox.stats();
    assert_eq!(stats.calls_per_number.get("+12125550123"), Some(&1));
    assert_eq!(stats.total_calls, 1, "415 is not dialed: {stderr}");
    let rows = env.rows("coasts");
    assert_eq!(rows[1].state, RowState::Pending);
    assert_eq!(rows[1].attempts, 0);
    assert_eq!(rows[2].reason.as_deref(), Some("unknown_zone"));
    let detail = rows[2].detail.as_deref().unwrap();
    assert!(
        detail.contains("16 time zones") && detail.contains("add a timezone column or pass --tz"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_window_on_another_day_and_a_skipped_today_dial_nobody() {
    let env = Env::default().await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    // Two days on: not today, and not tomorrow either should the test cross midnight.
    let other_day = today.checked_add(jiff::ToSpan::days(2)).unwrap();
    let day = format!("{:?}", other_day.weekday())[..3].to_ascii_lowercase();
    let csv = env.write(
        "days.csv",
        "phone,timezone\n+966501234567,UTC\n+966501234568,UTC\n",
    );
    let window = format!("{day} 00:00-23:59");
    let (code, stderr) = run_until_waiting(&env, &csv, &["--window", &window]).await;
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(env.sandbox.stats().total_calls, 0, "{window}: {stderr}");

    let tomorrow = today.checked_add(jiff::ToSpan::days(1)).unwrap();
    let holidays = env.write("holidays.txt", format!("# closed\n{tomorrow}\n"));
    let (code, stderr) = run_until_waiting(
        &env,
        &csv,
        &[
            "--campaign",
            "skipped-today",
            "--window",
            "00:00-23:59",
            "--skip-date",
            &today.to_string(),
            "--holidays",
            holidays.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(env.sandbox.stats().total_calls, 0, "{stderr}");
    assert_eq!(env.counts("skipped-today").state(RowState::Pending), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_windows_are_dialed_while_closed_ones_wait_and_say_so() {
    let env = Env::default().await;
    let csv = env.write(
        "hours.csv",
        "phone,timezone\n+966501234567,UTC\n+966501234568,Etc/GMT-12\n",
    );
    let window = window_around_now_in("UTC");
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
    assert_eq!(env.rows("hours")[1].state, RowState::Pending);
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
            &window_around_now_in("UTC"),
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
