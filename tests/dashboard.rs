//! The dashboard and the HTML report in a real headless Chromium (Debian's `chromium`),
//! plus the dashboard's address and token rules over plain HTTP. A machine without a
//! browser skips the browser tests, saying so, and still runs the rest.

mod common;

use std::time::Duration;

use common::Env;
use common::browser::{browser, eval, open, screenshot, wait_for};
use dialer::ledger::ControlAction;
use dialer::webhook::{self, WebhookSecret};
use headless_chrome::Tab;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

const SECRET: &str = "whsec_ZTJlLXJlY2VpdmVyLXNlY3JldC1mb3ItdGVzdHM=";
const TOKEN: &str = "test-dashboard-token-0123456789";

const MIXED: &str = "first_name,last_name,phone,email,account,tag:plan\n\
    Sara,Ali,+966501000001,sara@example.com,A-1,gold\n\
    Omar,,+966501000002,,A-2,silver\n\
    Bad,Number,12345,,A-3,gold\n\
    Dup,Row,+966501000001,,A-4,\n\
    Noura,Saleh,+966501000005,noura@example.com,A-5,gold\n";

/// Runs MIXED to the end as campaign `mixed` in `env`'s ledger.
async fn mixed(env: &Env) {
    let path = env.write("mixed.csv", MIXED);
    env.dialer(&["run", path.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
}

/// Records an outcome for `line` straight into the ledger, as the receiver would.
fn set_outcome(env: &Env, line: u64, delivery: &str, duration: i64, output: &str) {
    let db = rusqlite::Connection::open(env.ledger_path()).unwrap();
    db.execute(
        "UPDATE rows SET delivery_status = ?2, duration_s = ?3, call_output = ?4,
             sentiment = 'POSITIVE', summary = 'Agreed to pay on Sunday',
             transcript = 'AI: hello\nCustomer: hi', outcome_at = 1767225600000
         WHERE line = ?1",
        rusqlite::params![line as i64, delivery, duration, output],
    )
    .unwrap();
}

/// A `dialer` child process and the URLs it printed on stdout.
struct Served {
    child: tokio::process::Child,
    urls: Vec<String>,
}

/// Starts `dialer ARGS` over `env`'s ledger and reads `urls` lines from its stdout.
async fn serve(env: &Env, args: &[&str], vars: &[(&str, &str)], urls: usize) -> Served {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
    cmd.args(args)
        .env("DIALER_LEDGER", env.ledger_path())
        .env_remove("DIALER_DASHBOARD_TOKEN")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start dialer");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut found = Vec::new();
    while found.len() < urls {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the server starts")
            .unwrap()
            .expect("a URL line");
        found.push(line.rsplit(' ').next().unwrap().to_owned());
    }
    Served { child, urls: found }
}

/// The funnel as the page shows it: step -> count.
fn page_funnel(tab: &Tab) -> Value {
    eval(
        tab,
        "JSON.stringify(Object.fromEntries([...document.querySelectorAll('tr[data-step]')]\
         .map(tr => [tr.dataset.step, +tr.querySelector('td.n').dataset.n])))",
    )
    .as_str()
    .map(|s| serde_json::from_str(s).unwrap())
    .unwrap()
}

fn assert_funnel_is_status(page: &Value, status: &Value) {
    let f = &status["funnel"];
    for step in ["rows", "dialed", "placed", "reached"] {
        assert_eq!(page[step], f[step], "{step}: page {page} vs status {f}");
    }
    let outputs = status["outcomes"]["call_output"].as_object().unwrap();
    for (label, n) in outputs {
        assert_eq!(&page[format!("outcome:{label}")], n, "{label}");
    }
    let shown = page
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("outcome:"))
        .count();
    assert_eq!(shown, outputs.len());
}

/// Nothing wider than the 1280 px window, and outcome labels on one line.
fn assert_fits(tab: &Tab) {
    assert_eq!(
        eval(
            tab,
            "document.documentElement.scrollWidth <= window.innerWidth"
        ),
        Value::Bool(true),
        "the page scrolls sideways at 1280 px"
    );
    let split = eval(
        tab,
        "[...document.querySelectorAll('table.funnel th, td.nw, .pill')]\
         .filter(e => e.getClientRects().length > 1 || e.offsetHeight > 2.2 * parseFloat(getComputedStyle(e).fontSize)).length",
    );
    assert_eq!(split, Value::from(0), "a label wraps");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_funnel_on_the_report_and_the_dashboard_equals_status_json() {
    let Some(browser) = browser("the_funnel_on_the_report_and_the_dashboard_equals_status_json")
    else {
        return;
    };
    let env = Env::default().await;
    mixed(&env).await;
    set_outcome(&env, 2, "pass", 95, "CALLBACK_REQUESTED");
    set_outcome(&env, 3, "pass", 40, "PAYMENT_PROMISED");
    set_outcome(&env, 6, "fail", 0, "NO_ANSWER");
    let status = env.dialer(&["status", "mixed", "--json"]).await;
    status.expect_code(0);
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    let out = env.path("mixed.html");
    let out = out.to_str().unwrap();
    env.dialer(&["report", "mixed", "--out", out, "--by", "tag:plan"])
        .await
        .expect_code(0);

    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("file://{out}"));
    assert_funnel_is_status(&page_funnel(&tab), &status);
    assert_fits(&tab);
    screenshot(&tab, "report");

    let served = serve(&env, &["dashboard", "--listen", "127.0.0.1:0"], &[], 1).await;
    open(
        &tab,
        &format!("{}campaigns/mixed?by=tag:plan", served.urls[0]),
    );
    assert_funnel_is_status(&page_funnel(&tab), &status);
    assert_fits(&tab);
    screenshot(&tab, "dashboard");
    drop(served.child);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_a_row_by_name_and_a_click_shows_its_summary() {
    let Some(browser) = browser("search_finds_a_row_by_name_and_a_click_shows_its_summary") else {
        return;
    };
    let env = Env::default().await;
    mixed(&env).await;
    set_outcome(&env, 6, "pass", 30, "PAYMENT_PROMISED");
    let out = env.path("mixed.html");
    let out = out.to_str().unwrap();
    env.dialer(&["report", "mixed", "--out", out])
        .await
        .expect_code(0);
    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("file://{out}"));
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#tbody tr.row').length"),
        Value::from(5)
    );
    tab.find_element("#q").unwrap().type_into("noura").unwrap();
    wait_for(
        &tab,
        "document.querySelectorAll('#tbody tr.row').length === 1",
    );
    let row = eval(&tab, "document.querySelector('#tbody tr.row').textContent");
    assert!(row.as_str().unwrap().contains("Noura Saleh"), "{row}");
    tab.find_element("#tbody tr.row").unwrap().click().unwrap();
    wait_for(&tab, "!!document.querySelector('#tbody tr.detail')");
    let detail = eval(
        &tab,
        "document.querySelector('#tbody tr.detail').textContent",
    );
    let detail = detail.as_str().unwrap();
    assert!(
        detail.contains("Agreed to pay on Sunday") && detail.contains("Customer: hi"),
        "{detail}"
    );
    eval(&tab, "document.getElementById('q').scrollIntoView()");
    screenshot(&tab, "report-rows");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_outcome_appears_on_the_open_dashboard_without_a_reload() {
    let Some(browser) = browser("a_new_outcome_appears_on_the_open_dashboard_without_a_reload")
    else {
        return;
    };
    let env = Env::default().await;
    mixed(&env).await;
    let args = [
        "webhook",
        "--listen",
        "127.0.0.1:0",
        "--dashboard",
        "127.0.0.1:0",
    ];
    let served = serve(&env, &args, &[("LEVERS_WEBHOOK_SECRET", SECRET)], 2).await;
    let (hook, board) = (&served.urls[0], &served.urls[1]);
    let tab = browser.new_tab().unwrap();
    open(&tab, &format!("{board}campaigns/mixed"));
    eval(&tab, "window.sameDocument = 'yes'");
    assert_eq!(page_funnel(&tab)["reached"], Value::from(0));

    let body = serde_json::json!({
        "deliveryStatus": "pass", "duration": 61, "callOutput": "PAYMENT_PROMISED",
        "sentimentOutput": "POSITIVE", "summary": "Will pay Thursday",
        "metadata": {"requestMetadata": {"dialer_campaign": "mixed", "dialer_row": "6"}}
    });
    let body = serde_json::to_vec(&body).unwrap();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let posted = reqwest::Client::new()
        .post(hook)
        .header("svix-id", "msg_live")
        .header("svix-timestamp", ts.to_string())
        .header(
            "svix-signature",
            webhook::sign(&secret, "msg_live", ts, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);

    // The funnel, then the rows table, pick the outcome up on their own.
    wait_for(
        &tab,
        "+document.querySelector('tr[data-step=reached] td.n').dataset.n === 1",
    );
    wait_for(
        &tab,
        "document.querySelector('#tbody').textContent.includes('PAYMENT_PROMISED')",
    );
    assert_eq!(
        eval(&tab, "window.sameDocument"),
        Value::from("yes"),
        "no reload"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_loopback_address_without_a_token_is_refused() {
    let env = Env::default().await;
    mixed(&env).await;
    for args in [
        vec!["dashboard", "--listen", "0.0.0.0:0"],
        vec![
            "webhook",
            "--listen",
            "127.0.0.1:0",
            "--dashboard",
            "0.0.0.0:0",
        ],
    ] {
        let run = env
            .dialer_with(&args, &[("LEVERS_WEBHOOK_SECRET", SECRET)])
            .await;
        run.expect_code(2);
        assert!(
            run.stderr.contains("DIALER_DASHBOARD_TOKEN") && run.stderr.contains("0.0.0.0"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_every_request_needs_it_and_controls_reach_the_ledger() {
    let env = Env::default().await;
    mixed(&env).await;
    let vars = [("DIALER_DASHBOARD_TOKEN", TOKEN)];
    let served = serve(&env, &["dashboard", "--listen", "127.0.0.1:0"], &vars, 1).await;
    let base = served.urls[0].trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {TOKEN}");
    for path in [
        "/",
        "/campaigns/mixed",
        "/campaigns/mixed.json",
        "/campaigns/mixed/rows.json",
    ] {
        let url = format!("{base}{path}");
        let none = client.get(&url).send().await.unwrap();
        assert_eq!(none.status(), 401, "{path} without a token");
        let body = none.text().await.unwrap();
        assert!(
            !body.contains("+966501000001") && !body.contains(TOKEN),
            "{path}: {body}"
        );
        let wrong = client
            .get(&url)
            .header("Authorization", "Bearer nope")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{path} with a wrong token");
        let right = client
            .get(&url)
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), 200, "{path} with the token");
    }
    // A cross-site form can send neither the header nor JSON: refused.
    let form = client
        .post(format!("{base}/campaigns/mixed/control"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("action=cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 401);
    let pause = client
        .post(format!("{base}/campaigns/mixed/control"))
        .header("Authorization", &bearer)
        .json(&serde_json::json!({"action": "pause"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pause.status(), 202);
    let (ledger, c) = env.campaign("mixed");
    let open = ledger.open_controls(c.id).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].action, ControlAction::Pause);
    assert!(
        open[0].requested_by.starts_with("dashboard@127.0.0.1"),
        "{:?}",
        open[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_campaign_json_is_exactly_status_json_and_controls_need_a_token() {
    let env = Env::default().await;
    mixed(&env).await;
    let served = serve(&env, &["dashboard", "--listen", "127.0.0.1:0"], &[], 1).await;
    let base = served.urls[0].trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    let json = client
        .get(format!("{base}/campaigns/mixed.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    let json = json.text().await.unwrap();
    let status = env.dialer(&["status", "mixed", "--json"]).await;
    status.expect_code(0);
    // Equal but for the moment each was made: nothing here changes between the two reads.
    assert_eq!(json, status.stdout);
    let page = client
        .get(format!("{base}/campaigns/mixed"))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(
        !page.contains("<button type=\"button\" data-action"),
        "no controls without a token"
    );
    let pause = client
        .post(format!("{base}/campaigns/mixed/control"))
        .json(&serde_json::json!({"action": "pause"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pause.status(), 403);
    let missing = client
        .get(format!("{base}/campaigns/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
