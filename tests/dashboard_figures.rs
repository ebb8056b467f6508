//! Figures for the closing note, not checks: how long a 100k-row report takes to render in
//! headless Chromium and how big it is, and what an open dashboard costs a 200 calls/s run
//! on the same ledger. Ignored by default (they take a minute and assert nothing about
//! speed); run them with `cargo test --release --test dashboard_figures -- --ignored
//! --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use common::browser::{browser, eval, open, wait_for};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

/// Grows campaign `name` (one dialed row on line 2, with an outcome) to `n` rows by copying
/// that row with fresh lines, numbers, names and outcomes, inside SQLite.
fn grow(env: &Env, n: u64) {
    let db = rusqlite::Connection::open(env.ledger_path()).unwrap();
    let cols: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('rows') WHERE name <> 'id'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let pick = |c: &str| -> String {
        match c {
            "line" => "line + i".into(),
            "e164" | "dial_key" => "'+966501' || printf('%06d', i)".into(),
            "request" => "replace(request, 'Sara', 'Sara' || i)".into(),
            "call_output" => "CASE i % 5 WHEN 0 THEN 'NO_ANSWER' WHEN 1 THEN 'VOICEMAIL' \
                 WHEN 2 THEN 'CALLBACK_REQUESTED' ELSE 'PAYMENT_PROMISED' END"
                .into(),
            "delivery_status" => "CASE i % 5 WHEN 0 THEN 'fail' ELSE 'pass' END".into(),
            "last_attempt_at" | "first_attempt_at" => format!("{c} + i * 1000"),
            other => other.into(),
        }
    };
    let list = cols.join(", ");
    let select: Vec<String> = cols.iter().map(|c| pick(c)).collect();
    db.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})
         INSERT INTO rows ({list}) SELECT {} FROM rows, n WHERE line = 2",
        n - 1,
        select.join(", ")
    ))
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement for the closing note; run with --ignored --nocapture"]
async fn figures_a_100k_row_report_in_chromium() {
    let Some(browser) = browser("figures_a_100k_row_report_in_chromium") else {
        return;
    };
    let env = Env::default().await;
    let csv = env.write(
        "big.csv",
        "first_name,last_name,phone,account,tag:plan\nSara,Ali,+966501000000,A-1,gold\n",
    );
    env.dialer(&["run", csv.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
    let transcript = "AI: Good morning, this is a reminder about your invoice.\n\
        Customer: Yes, I know, I will pay it on Sunday.\n"
        .repeat(4);
    let db = rusqlite::Connection::open(env.ledger_path()).unwrap();
    db.execute(
        "UPDATE rows SET delivery_status = 'pass', duration_s = 74, call_output = 'PAYMENT_PROMISED',
             sentiment = 'POSITIVE', summary = 'The customer promised to pay on Sunday.',
             transcript = ?1, outcome_at = last_attempt_at + 80000 WHERE line = 2",
        [&transcript],
    )
    .unwrap();
    drop(db);
    grow(&env, 100_000);
    let out = env.path("big.html");
    let started = Instant::now();
    env.dialer(&[
        "report",
        "big",
        "--out",
        out.to_str().unwrap(),
        "--by",
        "tag:plan",
    ])
    .await
    .expect_code(0);
    let written = started.elapsed();
    let size = std::fs::metadata(&out).unwrap().len();
    let tab = browser.new_tab().unwrap();
    let t0 = Instant::now();
    open(&tab, &format!("file://{}", out.display()));
    let wall = t0.elapsed();
    let rendered = eval(&tab, "window.dialerRendered");
    let nav = eval(
        &tab,
        "JSON.stringify(performance.getEntriesByType('navigation')[0])",
    );
    let nav: Value = serde_json::from_str(nav.as_str().unwrap()).unwrap();
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#tbody tr.row').length"),
        Value::from(100)
    );
    let t1 = Instant::now();
    tab.find_element("#q")
        .unwrap()
        .type_into("sara99999")
        .unwrap();
    wait_for(
        &tab,
        "document.querySelectorAll('#tbody tr.row').length === 1",
    );
    let search = t1.elapsed();
    let apply = eval(&tab, "window.dialerApplyMs").as_f64().unwrap();
    println!(
        "FIGURES 100k rows: file {:.1} MB, `dialer report` {:.2} s; Chromium: first table page \
         drawn {:.0} ms after navigation start (DOMContentLoaded {:.0} ms, load {:.0} ms; \
         {:.2} s wall incl. the test's polling); a search over every row: {apply:.0} ms in the \
         page ({:.2} s wall, typing and polling included)",
        size as f64 / 1e6,
        written.as_secs_f64(),
        rendered.as_f64().unwrap(),
        nav["domContentLoadedEventEnd"].as_f64().unwrap_or(0.0),
        nav["loadEventEnd"].as_f64().unwrap_or(0.0),
        wall.as_secs_f64(),
        search.as_secs_f64(),
    );
    refresh_cost(&env, "big").await;
}

/// Times the two requests a dashboard refresh makes for campaign `name`.
async fn refresh_cost(env: &Env, name: &str) {
    let (_board, url) = dashboard(env).await;
    let client = reqwest::Client::new();
    for path in ["live?by=tag:plan", "rows.json"] {
        let t = Instant::now();
        let body = client
            .get(format!("{url}campaigns/{name}/{path}"))
            .send()
            .await
            .unwrap();
        let len = body.bytes().await.unwrap().len();
        println!(
            "FIGURES dashboard GET /campaigns/{name}/{path}: {:.0} ms, {:.1} MB",
            t.elapsed().as_secs_f64() * 1e3,
            len as f64 / 1e6
        );
    }
}

/// `dialer dashboard` on a free loopback port over `env`'s ledger, and its URL.
async fn dashboard(env: &Env) -> (tokio::process::Child, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
    cmd.args(["dashboard", "--listen", "127.0.0.1:0"])
        .env("DIALER_LEDGER", env.ledger_path())
        .env_remove("DIALER_DASHBOARD_TOKEN")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (child, url)
}

/// The achieved rate of campaign `name`, from `status --json`.
async fn rate(env: &Env, name: &str) -> f64 {
    let run = env.dialer(&["status", name, "--json"]).await;
    run.expect_code(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["achieved_rate_per_s"].as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement for the closing note; run with --ignored --nocapture"]
async fn figures_a_200_per_s_run_with_and_without_the_dashboard_open() {
    let Some(browser) = browser("figures_a_200_per_s_run_with_and_without_the_dashboard_open")
    else {
        return;
    };
    let env = Env::default().await;
    const ROWS: u32 = 3_000;
    let mut csv = String::from("first_name,phone,account\n");
    for i in 0..ROWS {
        csv.push_str(&format!("P{i},+966501{i:06},A-{}\n", i % 7));
    }
    let alone = env.write("alone.csv", &csv);
    env.dialer(&["run", alone.to_str().unwrap(), "--rate", "200/s"])
        .await
        .expect_code(0);

    let watched = env.write("watched.csv", &csv);
    let child = env.spawn(&["run", watched.to_str().unwrap(), "--rate", "200/s"]);
    let (_board, url) = dashboard(&env).await;
    let client = reqwest::Client::new();
    let page = format!("{url}campaigns/watched");
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(&page).send().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "the campaign never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("{page}?by=account"));
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, w) = (rate(&env, "alone").await, rate(&env, "watched").await);
    let live = eval(&tab, "document.getElementById('live-state').textContent");
    println!(
        "FIGURES {ROWS} rows at --rate 200/s: achieved {a:.1}/s alone, {w:.1}/s with the \
         dashboard open and refreshing every 2 s ({live})"
    );
}
