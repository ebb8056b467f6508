//! The core's promises as a script sees them (issue 11): one pacer whose spacing the
//! sandbox measures by its own clock, a lease no clock can steal, exit codes scripts can
//! trust, `--limit` in rows, Ctrl-C that stops reading, and cell text that never drives
//! the terminal.

mod common;

use std::time::{Duration, Instant};

use common::{Env, contacts};
use dialer::ledger::RowState;
use dialer::sandbox::{LatencyRange, SandboxConfig};

/// The achieved rate of sorted times in microseconds: (n - 1) / span.
fn rate_of(times_us: &[i64]) -> f64 {
    let span = (times_us[times_us.len() - 1] - times_us[0]) as f64 / 1e6;
    (times_us.len() - 1) as f64 / span
}

fn min_gap_ms(times_us: &[i64]) -> f64 {
    times_us
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1000.0)
        .fold(f64::INFINITY, f64::min)
}

/// The ledger's attempt start times (unix ms) of a campaign, sorted, as microseconds.
fn attempt_times_us(env: &Env, name: &str) -> Vec<i64> {
    let (ledger, c) = env.campaign(name);
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut st = conn
        .prepare("SELECT started_at FROM attempts WHERE campaign_id = ?1 ORDER BY started_at")
        .unwrap();
    st.query_map([c.id], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|t| t.unwrap() * 1000)
        .collect()
}

/// Runs `rows` contacts at `rate` with burst 1 and checks the spacing the sandbox saw and
/// that the ledger's send times and the summary's achieved rate agree with it.
async fn paced_run(rows: usize, rate: f64) {
    let env = Env::default().await;
    let name = format!("paced{rows}");
    let csv = env.write(&format!("{name}.csv"), contacts(rows));
    let rate_arg = format!("{rate}/s");
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        &rate_arg,
        "--burst",
        "1",
        "--concurrency",
        "4",
    ])
    .await
    .expect_code(0);
    let arrivals = env.sandbox.arrivals();
    assert_eq!(arrivals.len(), rows);
    let period_ms = 1000.0 / rate;
    // The pacer holds sends a period apart, less a catch-up of at most 1 ms (its unit
    // tests pin that exactly). The ledger's clock reading and loopback delivery to the
    // sandbox each add a few ms of jitter on a loaded machine, so both are checked
    // against half a period: two requests inside one period (the old defect put two
    // 1-2 ms apart) cannot pass.
    let sent = attempt_times_us(&env, &name);
    assert!(
        min_gap_ms(&sent) >= period_ms / 2.0,
        "ledger send times {sent:?}"
    );
    // The sandbox's handler can run late under load and stamp two requests with nearly one
    // moment; 10 ms still tells a paced run from the old defect's 1-2 ms.
    let sandbox_gap = (period_ms / 2.0).min(10.0);
    assert!(
        min_gap_ms(&arrivals) >= sandbox_gap,
        "sandbox arrivals, min gap {} ms",
        min_gap_ms(&arrivals)
    );
    let busiest = env.sandbox.stats().max_requests_in_one_second;
    assert!(busiest <= rate.ceil() as u64 + 2, "{busiest} in one second");
    // The ledger records when each request left: its rate is the sandbox's, within 1 %,
    // or on a short span within what delivery allowed. Each request's lag (its arrival at
    // the sandbox less the ledger's send time, on the same wall clock) is measured here,
    // and only their spread can part the two rates; the ledger keeps whole milliseconds
    // (2 ms more). A loaded machine delivers some requests late, and a fixed allowance
    // failed the test on that alone. A send stamped early (the old defect) is still
    // caught: by the ledger's own gaps above, and by a request arriving before it left.
    // The first request also opens the connection: the comparison starts at the second.
    let lags_ms: Vec<f64> = arrivals
        .iter()
        .zip(&sent)
        .skip(1)
        .map(|(a, s)| (a - s) as f64 / 1000.0)
        .collect();
    assert!(
        lags_ms.iter().all(|&lag| lag > -1.0),
        "a request reached the sandbox before the ledger says it left: {lags_ms:?}"
    );
    let spread_ms = lags_ms.iter().fold(f64::MIN, |a, &b| a.max(b))
        - lags_ms.iter().fold(f64::MAX, |a, &b| a.min(b));
    let sandbox_rate = rate_of(&arrivals[1..]);
    let ledger_rate = rate_of(&sent[1..]);
    let span_ms = (arrivals[rows - 1] - arrivals[1]) as f64 / 1000.0;
    let tolerance = (0.01f64).max((spread_ms + 2.0) / span_ms);
    assert!(
        (ledger_rate / sandbox_rate - 1.0).abs() <= tolerance,
        "ledger {ledger_rate} vs sandbox {sandbox_rate}, lags {lags_ms:?} ms"
    );
    // The summary's achieved rate is the ledger's, over every request.
    let status = env.dialer(&["status", &name, "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let summary_rate = json["achieved_rate_per_s"].as_f64().unwrap();
    let ledger_all = rate_of(&sent);
    assert!(
        (summary_rate / ledger_all - 1.0).abs() <= 0.001,
        "summary {summary_rate} vs ledger {ledger_all}"
    );
    // Over the same requests as the summary, every one: on a loaded machine the first rows
    // can be read late, the gaps are uneven, and a rate that skips the first request is
    // not the summary's. The first request's lag (it opens the connection) joins the spread.
    let all_lags_ms: Vec<f64> = arrivals
        .iter()
        .zip(&sent)
        .map(|(a, s)| (a - s) as f64 / 1000.0)
        .collect();
    let all_spread_ms = all_lags_ms.iter().fold(f64::MIN, |a, &b| a.max(b))
        - all_lags_ms.iter().fold(f64::MAX, |a, &b| a.min(b));
    let sandbox_all = rate_of(&arrivals);
    let all_span_ms = (arrivals[rows - 1] - arrivals[0]) as f64 / 1000.0;
    // (The summary is the ledger's rate within 0.1 %, checked above.)
    let all_tolerance = (0.01f64).max((all_spread_ms + 2.0) / all_span_ms) + 0.001;
    assert!(
        (summary_rate / sandbox_all - 1.0).abs() <= all_tolerance,
        "summary {summary_rate} vs sandbox {sandbox_all}, lags {all_lags_ms:?} ms"
    );
    // Never faster than asked; slower only while the first rows are still being read. On
    // a short span one late-stamped arrival moves the sandbox's rate by a few per cent:
    // what delivery's measured spread allows, as above (the ledger's gaps hold the pace).
    assert!(
        sandbox_rate <= rate * (1.0 + tolerance.max(0.02)),
        "sandbox saw {sandbox_rate}/s for --rate {rate}/s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_per_second_are_a_period_apart_and_the_ledger_agrees_with_the_sandbox() {
    paced_run(5, 10.0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_rows_keep_the_spacing_and_the_achieved_rate() {
    paced_run(200, 20.0).await;
}

/// Starts a slow run that holds the lease for a while and waits until it does.
async fn hold_lease(env: &Env, rows: usize) -> tokio::process::Child {
    let csv = env.write("held.csv", contacts(rows));
    let child = env.spawn(&[
        "--no-progress",
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "5/s",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if env.ledger_path().exists() {
            let conn = rusqlite::Connection::open(env.ledger_path()).unwrap();
            let held: rusqlite::Result<i64> =
                conn.query_row("SELECT count(*) FROM leases", [], |r| r.get(0));
            if held.is_ok_and(|n| n > 0) {
                return child;
            }
        }
        assert!(Instant::now() < deadline, "the run never took its lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_two_hours_ahead_cannot_take_over_a_live_dispatcher() {
    let env = Env::default().await;
    let mut first = hold_lease(&env, 30).await;
    let second = env
        .dialer_with(
            &["resume", "held", "--rate", "unlimited"],
            &[
                ("LEVERS_API_TOKEN", "sandbox-token"),
                ("DIALER_TEST_LEASE_CLOCK_SKEW_MS", "7200000"),
            ],
        )
        .await;
    second.expect_code(3);
    assert!(second.stderr.contains("pid"), "{}", second.stderr);
    let _ = first.start_kill();
    let _ = first.wait().await;
    let stats = env.sandbox.stats();
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dispatcher_whose_lease_is_taken_stops_at_once_with_3() {
    let env = Env::default().await;
    let child = hold_lease(&env, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let taken_at = dialer::ledger::now_ms();
    let conn = rusqlite::Connection::open(env.ledger_path()).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.execute(
        "UPDATE leases SET token = 'someone-else', holder_pid = 1",
        [],
    )
    .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the dispatcher stopped")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("another process took over"), "{stderr}");
    // At 5/s, a stop within a second leaves at most a few sends after the takeover; the
    // bound allows a heartbeat that lands late on a loaded machine.
    let after = attempt_times_us(&env, "held")
        .into_iter()
        .filter(|t| *t / 1000 > taken_at)
        .count();
    assert!(
        after <= 10,
        "{after} requests left after the lease was taken"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_campaign_is_a_usage_error_for_every_command() {
    let env = Env::default().await;
    let csv = env.write("known.csv", contacts(2));
    env.dialer(&["run", csv.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
    for args in [
        vec!["status", "nope"],
        vec!["resume", "nope"],
        vec!["retry", "nope"],
        vec!["report", "nope"],
    ] {
        let run = env.dialer(&args).await;
        run.expect_code(2);
        assert!(
            run.stderr.contains("no campaign named \"nope\""),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_exits_6_and_resume_loses_and_doubles_nothing() {
    let env = Env::default().await;
    let rows = 400;
    let csv = env.write("full.csv", contacts(rows));
    env.dialer(&["run", csv.to_str().unwrap(), "--limit", "0"])
        .await
        .expect_code(0);
    // The ledger may not grow past its size now: the WAL fills at once.
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
    cmd.args(["--no-progress", "resume", "full", "--rate", "unlimited"])
        .env("DIALER_LEDGER", env.ledger_path())
        .env("LEVERS_API_URL", env.sandbox.url())
        .env("LEVERS_API_TOKEN", "sandbox-token");
    let limit = 48 * 1024;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("ledger"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Room again: resume finishes; nobody was called twice and no row was lost.
    let done = env.dialer(&["resume", "full", "--rate", "unlimited"]).await;
    assert!(matches!(done.code, 0 | 1), "{}", done.stderr);
    let counts = env.counts("full");
    assert_eq!(counts.total, rows as u64);
    assert_eq!(counts.open(), 0);
    let stats = env.sandbox.stats();
    assert!(stats.calls_per_number.values().all(|&n| n == 1), "doubled");
    let placed = counts.state(RowState::Succeeded) + counts.state(RowState::Uncertain);
    assert_eq!(placed, rows as u64);
    assert_eq!(stats.total_calls, stats.calls_per_number.len() as u64);
    assert!(stats.total_calls >= counts.state(RowState::Succeeded));
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_counts_rows_through_429s_and_never_hides_an_auth_failure() {
    let env = Env::new(SandboxConfig {
        rate_cap: Some(4),
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("lim.csv", contacts(40));
    let run = env
        .dialer(&[
            "run",
            csv.to_str().unwrap(),
            "--rate",
            "unlimited",
            "--limit",
            "10",
            "--concurrency",
            "4",
        ])
        .await;
    run.expect_code(0);
    let stats = env.sandbox.stats();
    assert!(
        stats.responses.get("429").copied().unwrap_or(0) > 0,
        "the sandbox throttled: {stats:?}"
    );
    assert_eq!(stats.calls_per_number.len(), 10, "{stats:?}");
    let counts = env.counts("lim");
    assert_eq!(counts.state(RowState::Succeeded), 10);
    assert_eq!(counts.state(RowState::Pending), 30);

    let env = Env::default().await;
    let csv = env.write("tok.csv", contacts(5));
    let run = env
        .dialer_with(
            &["run", csv.to_str().unwrap(), "--limit", "1"],
            &[("LEVERS_API_TOKEN", "wrong-token")],
        )
        .await;
    run.expect_code(4);
}

/// A contact file big enough that reading it takes far longer than the test waits.
fn big_file(env: &Env, rows: usize) -> std::path::PathBuf {
    let mut s = String::with_capacity(rows * 24);
    s.push_str("first_name,phone\n");
    for i in 0..rows {
        s.push_str(&format!("P{i},+9665{:08}\n", i % 100_000_000));
    }
    env.write("big.csv", s)
}

async fn wait_for_rows(env: &Env, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if env.ledger_path().exists()
            && let Ok(Some(c)) = env.ledger().find_campaign(name)
            && env.ledger().counts(c.id).is_ok_and(|n| n.total > 0)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("campaign {name} never got rows");
}

async fn interrupt_after(child: &tokio::process::Child, wait: Duration) -> Instant {
    tokio::time::sleep(wait).await;
    let pid = child.id().unwrap() as i32;
    // SAFETY: signalling a child we own.
    unsafe { libc::kill(pid, libc::SIGINT) };
    Instant::now()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_while_reading_stops_reading_and_exits_130() {
    let env = Env::default().await;
    let big = big_file(&env, 600_000);
    let path = big.to_str().unwrap();
    for args in [
        vec!["--no-progress", "run", path, "--rate", "2/s"],
        vec!["--no-progress", "run", "/dev/zero", "--campaign", "zero"],
        vec!["run", path, "--dry-run", "--campaign", "dry"],
    ] {
        let child = env.spawn(&args);
        if args[2] == path && args.len() == 5 {
            // Signal while the ingest thread is reading, once dialing has started.
            wait_for_rows(&env, "big").await;
        }
        let signalled = interrupt_after(&child, Duration::from_millis(700)).await;
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{args:?} did not stop on SIGINT"))
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{args:?}: {stderr}");
        eprintln!("{args:?}: exited {:?} after SIGINT", signalled.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escape_byte_in_a_cell_never_reaches_the_terminal_raw() {
    let env = Env::default().await;
    let csv = env.write(
        "esc.csv",
        "first_name,phone,\x1b]0;owned\x07note\n\
         \x1b[31mRed,+966501234567,a\n\
         Bad,\x1b[2Jnot-a-number,b\n\
         Mail,+966501234568,c\n",
    );
    let path = csv.to_str().unwrap();
    let dry = env.dialer(&["run", path, "--dry-run"]).await;
    dry.expect_code(0);
    let run = env.dialer(&["run", path, "--rate", "unlimited"]).await;
    let row = env.dialer(&["status", "esc", "--row", "3"]).await;
    row.expect_code(0);
    for (what, out) in [("dry run", &dry), ("run", &run), ("status --row", &row)] {
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains('\x1b'), "{what} printed a raw ESC: {text:?}");
            assert!(!text.contains('\x07'), "{what} printed a raw BEL: {text:?}");
        }
    }
    assert!(row.stdout.contains("\\x1b[2J"), "{}", row.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn rates_and_durations_that_could_overflow_are_usage_errors() {
    let env = Env::default().await;
    let csv = env.write("r.csv", contacts(1));
    let path = csv.to_str().unwrap();
    for args in [
        vec!["run", path, "--rate", "1e-300"],
        vec!["run", path, "--rate", "1e300/s"],
        vec!["run", path, "--timeout", "10000000000years"],
    ] {
        let run = env.dialer(&args).await;
        run.expect_code(2);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert!(!env.ledger_path().exists(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_sandbox_still_never_sees_two_requests_inside_a_period() {
    // Latency makes sends overlap in flight; the pacing is of departures, not answers.
    let env = Env::new(SandboxConfig {
        latency: Some(LatencyRange {
            min: Duration::from_millis(150),
            max: Duration::from_millis(300),
        }),
        ..SandboxConfig::default()
    })
    .await;
    let csv = env.write("slow.csv", contacts(12));
    env.dialer(&["run", csv.to_str().unwrap(), "--rate", "10/s"])
        .await
        .expect_code(0);
    let arrivals = env.sandbox.arrivals();
    assert_eq!(arrivals.len(), 12);
    assert!(min_gap_ms(&arrivals) >= 50.0, "{arrivals:?}");
}
