//! `dialer report` end to end: the real binary over a ledger filled by a real run against the
//! in-process sandbox; webhook outcomes are written into the ledger directly.

mod common;

use common::{Env, number};
use dialer::ledger::RowState;
use scraper::{Html, Selector};

/// Runs `csv` (written as `name.csv`) to the end; the campaign is called `name`.
async fn campaign(env: &Env, name: &str, csv: &str) {
    let path = env.write(&format!("{name}.csv"), csv);
    env.dialer(&["run", path.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Records a `phone_call.ended` outcome for `line`, as the webhook receiver would.
fn set_outcome(env: &Env, line: u64, delivery: &str, duration: i64, output: &str, sentiment: &str) {
    let db = rusqlite::Connection::open(env.ledger_path()).unwrap();
    let n = db
        .execute(
            "UPDATE rows SET delivery_status = ?2, duration_s = ?3, call_output = ?4,
                 sentiment = ?5, summary = 'spoke to ' || ?4, transcript = 'AI: hello',
                 outcome_at = 1767225600000
             WHERE line = ?1",
            rusqlite::params![line as i64, delivery, duration, output, sentiment],
        )
        .unwrap();
    assert_eq!(n, 1);
}

const MIXED: &str = "first_name,last_name,phone,email,account,tag:amount\n\
    Sara,Ali,+966501000001,sara@example.com,A-1,12.5\n\
    Omar,,+966501000002,,A-2,\n\
    Bad,Number,12345,,A-3,1\n\
    Dup,Row,+966501000001,,A-4,\n\
    Noura,Saleh,+966501000005,noura@example.com,A-5,99\n";

#[tokio::test(flavor = "multi_thread")]
async fn csv_report_has_the_columns_in_order_and_one_record_per_row() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    let run = env.dialer(&["report", "mixed", "--format", "csv"]).await;
    run.expect_code(0);
    let (header, rows) = parse_csv(&run.stdout);
    let fixed = "row,phone,first_name,last_name,email,status,reason,attempts,http_status,call_id,\
        first_attempt_at,last_attempt_at,latency_ms,delivery_status,call_output,sentiment,\
        duration_s,ended_reason,zone,zone_source,candidate_zones,error,detail,raw,number_dialed,calls,account,tag:amount";
    assert_eq!(header.join(","), fixed);
    let ledger = env.rows("mixed");
    assert_eq!(rows.len(), ledger.len());
    for (cells, row) in rows.iter().zip(&ledger) {
        assert_eq!(cells[0], row.line.to_string());
        assert_eq!(cells[5], row.state.as_str());
    }
    let sara = &rows[0];
    assert_eq!(
        &sara[..6],
        [
            "2",
            "+966501000001",
            "Sara",
            "Ali",
            "sara@example.com",
            "succeeded"
        ]
    );
    assert_eq!(sara[8], "201");
    // RFC 3339 UTC with milliseconds.
    assert!(
        sara[10].ends_with('Z') && sara[10].len() == 24,
        "{}",
        sara[10]
    );
    assert_eq!(sara[23], "", "a dialed row has no raw record");
    // No webhook here: no number reached anyone yet; one call placed.
    assert_eq!((sara[24].as_str(), sara[25].as_str()), ("", "1"));
    assert_eq!(&sara[26..], ["A-1", "12.5"]);
    let bad = &rows[2];
    assert_eq!(
        (bad[5].as_str(), bad[6].as_str()),
        ("skipped", "invalid_number")
    );
    // Never dialed, yet the report still says whom the row was about.
    assert_eq!((bad[2].as_str(), bad[3].as_str()), ("Bad", "Number"));
    assert_eq!(
        bad[23], "Bad,Number,12345,,A-3,1",
        "a skipped row keeps its record"
    );
    assert_eq!(&bad[24..], ["", "0", "A-3", "1"]);
    let dup = &rows[3];
    assert_eq!((dup[5].as_str(), dup[6].as_str()), ("skipped", "duplicate"));
    assert!(
        dup[22].contains("line 2"),
        "the report names the first row: {dup:?}"
    );
    // The dialer's own correlation keys are not user metadata.
    assert!(!run.stdout.contains("dialer_campaign") && !run.stdout.contains("dialer_row"));
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    let env = Env::default().await;
    let csv = "first_name,phone,note\n\
        \"=cmd|' /C calc'!A0\",+966501000001,@SUM(1)\n\
        Plain,+966501000002,+1+1\n\
        Minus,+966501000003,-12.5\n\
        Phone,+966501000004,+966501234567\n";
    campaign(&env, "formulas", csv).await;
    let run = env.dialer(&["report", "formulas"]).await;
    run.expect_code(0);
    let (header, rows) = parse_csv(&run.stdout);
    let note = header.iter().position(|h| h == "note").unwrap();
    assert_eq!(rows[0][2], "'=cmd|' /C calc'!A0");
    assert_eq!(rows[0][note], "'@SUM(1)");
    assert_eq!(rows[1][note], "'+1+1");
    assert_eq!(rows[2][note], "-12.5");
    assert_eq!(rows[3][note], "+966501234567");
    assert_eq!(rows[0][1], "+966501000001", "E.164 numbers stay numbers");
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_and_json_round_trip_the_ledger() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    set_outcome(&env, 2, "pass", 50, "PAID", "POSITIVE");
    set_outcome(&env, 6, "fail", 10, "NO_ANSWER", "NEUTRAL");
    let ledger = env.rows("mixed");
    let lines = env.dialer(&["report", "mixed", "--format", "jsonl"]).await;
    lines.expect_code(0);
    let records = jsonl(&lines.stdout);
    assert_eq!(records.len(), ledger.len());
    for (rec, row) in records.iter().zip(&ledger) {
        assert_eq!(rec["row"], row.line);
        assert_eq!(rec["status"], row.state.as_str());
        assert_eq!(rec["phone"].as_str(), row.e164.as_deref());
    }
    let sara = &records[0];
    assert_eq!(sara["metadata"], serde_json::json!({"account": "A-1"}));
    assert_eq!(sara["prompt_tags"], serde_json::json!({"amount": "12.5"}));
    assert_eq!(sara["delivery_status"], "pass");
    assert_eq!(sara["call_output"], "PAID");
    assert_eq!(sara["summary"], "spoke to PAID");
    assert_eq!(sara["transcript"], "AI: hello");
    let skipped = records
        .iter()
        .find(|r| r["reason"] == "invalid_number")
        .unwrap();
    assert_eq!(skipped["raw"], "Bad,Number,12345,,A-3,1");

    let whole = env.dialer(&["report", "mixed", "--format", "json"]).await;
    whole.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&whole.stdout).unwrap();
    assert_eq!(doc["campaign"]["name"], "mixed");
    assert_eq!(doc["rows"].as_array().unwrap(), &records);
    let summary = &doc["summary"];
    assert_eq!(summary["counts"]["total"], ledger.len());
    let outcomes = &summary["outcomes"];
    assert_eq!(outcomes["received"], 2);
    assert_eq!(
        outcomes["delivery"],
        serde_json::json!({"pass": 1, "fail": 1})
    );
    assert_eq!(
        outcomes["sentiment"],
        serde_json::json!({"POSITIVE": 1, "NEUTRAL": 1})
    );
    assert_eq!(outcomes["mean_duration_s"], 30.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_filter_keeps_only_those_states() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    let run = env
        .dialer(&[
            "report", "mixed", "--format", "jsonl", "--status", "skipped",
        ])
        .await;
    run.expect_code(0);
    let records = jsonl(&run.stdout);
    let skipped = env.counts("mixed").state(RowState::Skipped);
    assert!(skipped >= 2);
    assert_eq!(records.len() as u64, skipped);
    assert!(records.iter().all(|r| r["status"] == "skipped"));
    let both = env
        .dialer(&[
            "report",
            "mixed",
            "--format",
            "jsonl",
            "--status",
            "skipped,succeeded",
        ])
        .await;
    assert_eq!(jsonl(&both.stdout).len(), env.rows("mixed").len());
    let bad = env.dialer(&["report", "mixed", "--status", "done"]).await;
    bad.expect_code(2);
    assert!(bad.stderr.contains("unknown row state"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn out_never_overwrites_without_force() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    let existing = env.write("kept.csv", "precious\n");
    let out = existing.to_str().unwrap();
    let refused = env.dialer(&["report", "mixed", "--out", out]).await;
    refused.expect_code(2);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "precious\n");
    env.dialer(&["report", "mixed", "--out", out, "--force"])
        .await
        .expect_code(0);
    assert!(
        std::fs::read_to_string(&existing)
            .unwrap()
            .starts_with("row,phone,")
    );
    // A new file, its format taken from the extension; nothing goes to stdout.
    let fresh = env.path("rows.jsonl");
    let run = env
        .dialer(&["report", "mixed", "--out", fresh.to_str().unwrap()])
        .await;
    run.expect_code(0);
    assert!(run.stdout.is_empty());
    let text = std::fs::read_to_string(&fresh).unwrap();
    assert_eq!(jsonl(&text).len(), env.rows("mixed").len());
    // No temporary file is left beside the report.
    let leftovers = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".dialer-report")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn html_is_self_contained_escaped_and_well_formed() {
    let env = Env::default().await;
    let csv = "first_name,phone,note\n\
        <script>alert(1)</script>,+966501000001,\"<img src=x onerror=alert(2)>\"\n\
        Omar,+966501000002,fine\n\
        Bad,12345,x\n";
    campaign(&env, "page", csv).await;
    set_outcome(&env, 2, "pass", 42, "PROMISE<b>", "POSITIVE");
    let run = env.dialer(&["report", "page", "--format", "html"]).await;
    run.expect_code(0);
    let page = &run.stdout;
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no network references"
    );
    // Text from the CSV or a webhook never becomes markup: the only scripts are our own.
    assert!(!page.contains("<script>alert") && !page.contains("<img") && !page.contains("<b>"));
    let doc = Html::parse_document(page);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    // (The parser does report errors: a broken page would not pass.)
    assert!(!Html::parse_document("<p></div>").errors.is_empty());
    let sel = |s: &str| Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("link, img, iframe, object")).count(), 0);
    assert_eq!(
        doc.select(&sel("[src], [href]")).count(),
        0,
        "nothing fetched"
    );
    assert_eq!(
        doc.select(&sel("script")).count(),
        2,
        "the rows data and the table script"
    );
    let rows = rows_data(&doc);
    assert_eq!(rows.len(), env.rows("page").len());
    assert!(
        rows.iter().any(|r| r[2] == "<script>alert(1)</script>"),
        "the name is data, not markup"
    );
    let headings: Vec<String> = doc.select(&sel("h2")).map(|h| h.text().collect()).collect();
    let want = [
        "Results",
        "Outcomes over the day",
        "By column",
        "Engineering figures",
        "Row states",
        "Calls started over time",
        "Latency",
        "Webhook outcomes",
        "Reasons",
        "Rows",
    ];
    let found: Vec<&str> = headings
        .iter()
        .map(String::as_str)
        .filter(|h| want.contains(h))
        .collect();
    assert_eq!(found, want, "results first, then engineering, then rows");
    assert_eq!(
        doc.select(&sel("svg")).count(),
        4,
        "outcomes by hour, state bar, time chart, latency chart"
    );
    let outcome_labels: String = doc
        .select(&sel("table.hbars th, table.funnel th"))
        .flat_map(|t| t.text())
        .collect();
    assert!(outcome_labels.contains("PROMISE<b>") && outcome_labels.contains("invalid_number"));
}

/// The rows of a page, from its inline JSON block.
fn rows_data(doc: &Html) -> Vec<serde_json::Value> {
    let sel = Selector::parse("script#rows-data").unwrap();
    let text: String = doc.select(&sel).next().expect("rows data").text().collect();
    serde_json::from_str(&text).expect("rows data is JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn html_carries_every_row() {
    let env = Env::default().await;
    // Rows without a number are skipped at once: a big campaign without dialing.
    let mut csv = String::from("first_name,phone\n");
    for i in 0..5_003 {
        csv.push_str(&format!("P{i},\n"));
    }
    campaign(&env, "big", &csv).await;
    let run = env.dialer(&["report", "big", "--format", "html"]).await;
    run.expect_code(0);
    let rows = rows_data(&Html::parse_document(&run.stdout));
    assert_eq!(rows.len(), 5_003);
    assert_eq!(rows[5_002][2], "P5002");
}

#[tokio::test(flavor = "multi_thread")]
async fn html_funnel_and_breakdown_follow_the_ledger() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    set_outcome(&env, 2, "pass", 90, "CALLBACK_REQUESTED", "POSITIVE");
    set_outcome(&env, 3, "fail", 0, "NO_ANSWER", "NEUTRAL");
    let run = env
        .dialer(&["report", "mixed", "--format", "html", "--by", "account"])
        .await;
    run.expect_code(0);
    let doc = Html::parse_document(&run.stdout);
    let n = |step: &str| -> u64 {
        let sel = Selector::parse(&format!("tr[data-step='{step}'] td.n")).unwrap();
        let td = doc
            .select(&sel)
            .next()
            .unwrap_or_else(|| panic!("step {step}"));
        td.value().attr("data-n").unwrap().parse().unwrap()
    };
    // Five rows: one invalid number and one duplicate are skipped; three calls placed.
    assert_eq!(
        (n("rows"), n("dialed"), n("placed"), n("reached")),
        (5, 3, 3, 1)
    );
    assert_eq!(n("outcome:CALLBACK_REQUESTED"), 1);
    assert_eq!(n("outcome:NO_ANSWER"), 1);
    let talk = Selector::parse("[data-card=talk] .n").unwrap();
    let talk: String = doc.select(&talk).next().unwrap().text().collect();
    assert_eq!(talk, "1.5", "90 s of talk over the reached call");
    let cells: Vec<String> = doc
        .select(&Selector::parse("table.breakdown tbody th").unwrap())
        .map(|t| t.text().collect())
        .collect();
    for account in ["A-1", "A-2", "A-3", "A-4", "A-5"] {
        assert!(cells.iter().any(|c| c == account), "{account} in {cells:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn summary_percentiles_come_from_the_known_latencies() {
    let env = Env::default().await;
    let mut csv = String::from("first_name,phone\n");
    for i in 0..20 {
        csv.push_str(&format!("P{i},{}\n", number(i)));
    }
    campaign(&env, "timed", &csv).await;
    // Lines 2..=21 get 20, 30, ..., 210 ms.
    let db = rusqlite::Connection::open(env.ledger_path()).unwrap();
    db.execute("UPDATE rows SET latency_ms = line * 10", [])
        .unwrap();
    let run = env.dialer(&["report", "timed", "--format", "json"]).await;
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let latency = &doc["summary"]["latency"];
    // Nearest rank over 20 samples: p50 is the 10th, p95 the 19th, p99 the 20th.
    assert_eq!(latency["samples"], 20);
    assert_eq!(latency["p50_ms"], 110);
    assert_eq!(latency["p95_ms"], 200);
    assert_eq!(latency["p99_ms"], 210);
    let html = env.dialer(&["report", "timed", "--format", "html"]).await;
    assert!(
        html.stdout.contains("p95 200 ms · p99 210 ms"),
        "the cards show them"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn transcript_is_a_csv_column_only_when_asked() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    set_outcome(&env, 2, "pass", 50, "PAID", "POSITIVE");
    let plain = env.dialer(&["report", "mixed"]).await;
    assert!(
        !parse_csv(&plain.stdout)
            .0
            .contains(&"transcript".to_string())
    );
    let with = env.dialer(&["report", "mixed", "--with-transcript"]).await;
    with.expect_code(0);
    let (header, rows) = parse_csv(&with.stdout);
    let i = header.iter().position(|h| h == "transcript").unwrap();
    assert_eq!(rows[0][i], "AI: hello");
    assert_eq!(rows[0][15], "POSITIVE");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_campaign_is_a_usage_error() {
    let env = Env::default().await;
    campaign(&env, "mixed", MIXED).await;
    let run = env.dialer(&["report", "nope"]).await;
    run.expect_code(2);
    assert!(run.stderr.contains("no campaign named"), "{}", run.stderr);
}
