//! A template changed or refused (issue 13): the rows left use the new one, ten requests
//! refused alike stop the run with the rest pending, and `resume`/`retry` take the request
//! flags. Every test checks the sandbox's per-number counts: nobody is dialed twice.

mod common;

use common::{Env, contacts, each_number_called_once, number, run_unlimited as run};
use dialer::ledger::RowState;
use dialer::sandbox::SandboxConfig;

const GOOD: &str = "0b6c3d1e-5d8f-4f61-9a57-2f1f0c6a9e10";
const OTHER: &str = "22222222-2222-4222-8222-222222222222";
const BAD: &str = "11111111-1111-4111-8111-111111111111";

fn templates_sent(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .iter()
        .map(|c| {
            c["aiSettingsTemplateId"]
                .as_str()
                .unwrap_or("none")
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_template_reaches_the_rows_left_and_the_sent_rows_keep_theirs() {
    let env = Env::default().await;
    let file = env.write("t.csv", contacts(10));
    run(&env, &file, &["--template", GOOD, "--limit", "3"])
        .await
        .expect_code(0);
    let second = run(&env, &file, &["--template", OTHER]).await;
    second.expect_code(0);
    assert!(
        second
            .stderr
            .contains(&format!("template: {GOOD} -> {OTHER}"))
            && second
                .stderr
                .contains("7 request(s) not yet sent now use it"),
        "{}",
        second.stderr
    );
    let sent = templates_sent(&env);
    assert_eq!(sent.iter().filter(|t| *t == GOOD).count(), 3, "{sent:?}");
    assert_eq!(sent.iter().filter(|t| *t == OTHER).count(), 7, "{sent:?}");
    each_number_called_once(&env, 10);
    for row in env.rows("t") {
        let request = row.request.unwrap();
        let want = if row.line <= 4 { GOOD } else { OTHER };
        assert!(request.contains(want), "line {}: {request}", row.line);
    }
}

fn refusing_sandbox() -> SandboxConfig {
    SandboxConfig {
        known_template: vec![GOOD.into()],
        ..SandboxConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_refused_ten_times_stops_the_run_and_retry_with_a_good_one_dials_the_rest() {
    let env = Env::new(refusing_sandbox()).await;
    let file = env.write("b.csv", contacts(40));
    let stopped = run(&env, &file, &["--template", BAD]).await;
    stopped.expect_code(5);
    assert!(
        stopped.stderr.contains("AI settings template not found")
            && stopped.stderr.contains("--template UUID")
            && stopped.stderr.contains("retry"),
        "{}",
        stopped.stderr
    );
    let stats = env.sandbox.stats();
    assert!(stats.requests <= 10, "{stats:?}");
    assert_eq!(stats.total_calls, 0);
    let counts = env.counts("b");
    assert_eq!(counts.state(RowState::Failed), stats.requests);
    assert_eq!(counts.state(RowState::Pending), 40 - stats.requests);

    let fixed = env
        .dialer(&["retry", "b", "--template", GOOD, "--rate", "unlimited"])
        .await;
    fixed.expect_code(0);
    assert!(
        fixed.stderr.contains(&format!("template: {BAD} -> {GOOD}")),
        "{}",
        fixed.stderr
    );
    each_number_called_once(&env, 40);
    assert!(templates_sent(&env).iter().all(|t| t == GOOD));
    assert_eq!(env.counts("b").state(RowState::Succeeded), 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_after_a_first_answer_that_differs_do_not_stop_the_run() {
    let env = Env::new(refusing_sandbox()).await;
    // The first row names the good template in its own column: its call is placed, so the
    // run is not refused alike, and every other row is tried (and refused) in turn.
    let mut csv = format!("phone,template\n{},{GOOD}\n", number(0));
    for i in 1..15 {
        csv.push_str(&format!("{},\n", number(i)));
    }
    let file = env.write("m.csv", csv);
    let done = run(&env, &file, &["--template", BAD]).await;
    done.expect_code(1);
    assert_eq!(env.sandbox.stats().requests, 15);
    let counts = env.counts("m");
    assert_eq!(counts.state(RowState::Failed), 14);
    assert_eq!(counts.state(RowState::Pending), 0);
    each_number_called_once(&env, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_flags_on_resume_need_the_campaign_file() {
    let env = Env::default().await;
    let file = env.write("r.csv", contacts(4));
    let first = run(&env, &file, &["--limit", "1"]).await;
    first.expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 1, "{}", first.stderr);
    std::fs::remove_file(&file).unwrap();
    let refused = env.dialer(&["resume", "r", "--template", GOOD]).await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("gone or changed"),
        "{}",
        refused.stderr
    );
    each_number_called_once(&env, 1);
    assert_eq!(env.counts("r").state(RowState::Pending), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_with_a_template_sends_it_for_the_rows_it_dials_and_keeps_it() {
    let env = Env::default().await;
    let file = env.write("rt.csv", contacts(6));
    run(&env, &file, &["--template", GOOD, "--limit", "2"])
        .await
        .expect_code(0);
    let resumed = env
        .dialer(&[
            "resume",
            "rt",
            "--template",
            OTHER,
            "--rate",
            "unlimited",
            "--limit",
            "2",
        ])
        .await;
    resumed.expect_code(0);
    assert!(
        resumed
            .stderr
            .contains("4 request(s) not yet sent now use it"),
        "{}",
        resumed.stderr
    );
    // The new template is the campaign's now: a plain resume goes on with it.
    env.dialer(&["resume", "rt", "--rate", "unlimited"])
        .await
        .expect_code(0);
    let sent = templates_sent(&env);
    assert_eq!(sent[..2], [GOOD, GOOD]);
    assert!(sent[2..].iter().all(|t| t == OTHER), "{sent:?}");
    each_number_called_once(&env, 6);
}
