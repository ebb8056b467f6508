//! Real-world files end to end: the fixtures of the source tests run through the binary,
//! so encodings, delimiters, line numbers and ragged rows are wired all the way through.

mod common;

use common::{Env, repo_file};

fn fixture(name: &str) -> String {
    repo_file(&format!("tests/fixtures/source/{name}"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn utf16_and_windows_1252_files_are_read_and_dialed() {
    let env = Env::default().await;
    env.dialer(&[
        "run",
        &fixture("utf16le_tab.txt"),
        "--rate",
        "unlimited",
        "--campaign",
        "u16",
    ])
    .await
    .expect_code(0);
    let calls = env.sandbox.calls();
    let zoe = calls
        .iter()
        .find(|c| c["numberToCall"] == "+4915112345678")
        .unwrap();
    assert_eq!(zoe["firstName"], "Zoë");
    assert_eq!(zoe["metadata"]["city"], "Köln");

    env.dialer(&[
        "run",
        &fixture("windows1252.csv"),
        "--rate",
        "unlimited",
        "--encoding",
        "windows-1252",
        "--campaign",
        "cp",
    ])
    .await
    .expect_code(0);
    let calls = env.sandbox.calls();
    let jose = calls
        .iter()
        .find(|c| c["numberToCall"] == "+34612345678")
        .unwrap();
    assert_eq!(jose["metadata"]["name"], "José");
    assert_eq!(jose["metadata"]["amount"], "7 €");
}

#[tokio::test(flavor = "multi_thread")]
async fn ragged_rows_are_kept_raw_and_the_run_goes_on() {
    let env = Env::default().await;
    env.dialer(&["run", &fixture("ragged.csv"), "--rate", "unlimited"])
        .await
        .expect_code(0);
    let rows = env.rows("ragged");
    assert_eq!(rows.len(), 4);
    let extra = &rows[1];
    assert_eq!(
        (extra.line, extra.reason.as_deref()),
        (3, Some("malformed_row"))
    );
    let raw = String::from_utf8(extra.raw.clone().unwrap()).unwrap();
    assert!(raw.contains("extra"), "{extra:?}");
    assert_eq!(rows[2].reason.as_deref(), Some("malformed_row"));
    assert_eq!(env.sandbox.stats().total_calls, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn line_numbers_follow_multi_line_fields() {
    let env = Env::default().await;
    env.dialer(&["run", &fixture("multiline.csv"), "--rate", "unlimited"])
        .await
        .expect_code(0);
    let lines: Vec<u64> = env.rows("multiline").iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 5, 8]);
    let calls = env.sandbox.calls();
    let carla = calls
        .iter()
        .find(|c| c["numberToCall"] == "+4915112345670")
        .unwrap();
    assert_eq!(carla["metadata"]["dialer_row"], "8");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_map_naming_a_missing_column_is_refused_before_dialing() {
    let env = Env::default().await;
    let csv = env.write("m.csv", "phone,name\n+966501234567,A\n");
    let run = env
        .dialer(&["run", csv.to_str().unwrap(), "--map", "Mobile=numberToCall"])
        .await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("Mobile") && run.stderr.contains("phone"),
        "{}",
        run.stderr
    );
    assert_eq!(env.sandbox.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn suppression_matches_numbers_written_differently() {
    let env = Env::default().await;
    let csv = env.write(
        "s.csv",
        "phone\n+966501234567\n0501234568\n+966 50 123 4569\n",
    );
    let dnc = env.write(
        "dnc.csv",
        "Phone Number,reason\n00966501234567,asked\n050 123 4569,asked\n",
    );
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--default-region",
        "SA",
        "--suppress",
        dnc.to_str().unwrap(),
    ])
    .await
    .expect_code(0);
    let counts = env.counts("s");
    assert_eq!(counts.skipped.get("suppressed"), Some(&2));
    assert_eq!(env.sandbox.stats().total_calls, 1);
}
