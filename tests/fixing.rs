//! Mistakes that can be undone (issue 13): a campaign run again with other settings, a
//! grown file, skipped rows planned again, do-not-call lists kept and re-read. Every test
//! checks the sandbox's per-number counts: nobody dialed is ever dialed again.

mod common;

use common::{Env, arg, contacts, each_number_called_once, number, run_unlimited as run};
use dialer::ledger::RowState;

#[tokio::test(flavor = "multi_thread")]
async fn a_forgotten_default_region_is_fixed_by_running_again_with_it() {
    let env = Env::default().await;
    // Local Saudi numbers, readable only with --default-region SA; the last is bad anyway.
    let mut csv = String::from("name,phone\n");
    for i in 0..6 {
        csv.push_str(&format!("P{i},050{i:07}\n"));
    }
    csv.push_str("Q,12\n");
    let file = env.write("e1.csv", csv);
    run(&env, &file, &[]).await.expect_code(0);
    assert_eq!(env.sandbox.stats().total_calls, 0);
    assert_eq!(env.counts("e1").state(RowState::Skipped), 7);

    let fixed = run(&env, &file, &["--default-region", "SA"]).await;
    fixed.expect_code(0);
    assert!(
        fixed.stderr.contains("default_region: none -> SA"),
        "{}",
        fixed.stderr
    );
    assert!(
        fixed
            .stderr
            .contains("6 row(s) not yet dialed change verdict"),
        "{}",
        fixed.stderr
    );
    assert!(
        fixed
            .stderr
            .contains("6 skipped row(s) are now dialable (were invalid_number 6)")
            && fixed.stderr.contains("1 still skipped (invalid_number 1)"),
        "{}",
        fixed.stderr
    );
    each_number_called_once(&env, 6);
    assert_eq!(env.counts("e1").state(RowState::Succeeded), 6);

    // Once more, with the same settings: nothing is planned again, nobody is called again.
    let again = run(&env, &file, &["--default-region", "SA"]).await;
    again.expect_code(0);
    assert!(!again.stderr.contains("changed"), "{}", again.stderr);
    each_number_called_once(&env, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_suppress_list_keeps_pending_rows_from_ever_being_dialed() {
    let env = Env::default().await;
    let file = env.write("s.csv", contacts(6));
    run(&env, &file, &["--limit", "2"]).await.expect_code(0);
    // One number already called, two not yet.
    let dnc = env.write(
        "dnc.txt",
        format!("{}\n{}\n{}\n", number(0), number(3), number(4)),
    );
    let second = run(&env, &file, &["--suppress", arg(&dnc)]).await;
    second.expect_code(0);
    assert!(
        second.stderr.contains("suppress: none -> "),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains("2 row(s) are now skipped (suppressed 2)"),
        "{}",
        second.stderr
    );
    each_number_called_once(&env, 4);
    let stats = env.sandbox.stats();
    assert!(!stats.calls_per_number.contains_key(&number(3)));
    assert!(!stats.calls_per_number.contains_key(&number(4)));
    let rows = env.rows("s");
    assert_eq!(
        rows[0].state,
        RowState::Succeeded,
        "a dialed row is never re-planned"
    );
    assert_eq!(rows[3].reason.as_deref(), Some("suppressed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_grew_at_its_end_continues_with_its_new_rows_only() {
    let env = Env::default().await;
    let file = env.write("g.csv", contacts(5));
    run(&env, &file, &[]).await.expect_code(0);
    each_number_called_once(&env, 5);
    let mut grown = contacts(5);
    for i in 5..8 {
        grown.push_str(&format!("P{i},{}\n", number(i)));
    }
    std::fs::write(&file, grown).unwrap();
    let second = run(&env, &file, &[]).await;
    second.expect_code(0);
    assert!(
        second.stderr.contains("grew by 3 row(s) after line 6"),
        "{}",
        second.stderr
    );
    each_number_called_once(&env, 8);
    assert_eq!(env.counts("g").state(RowState::Succeeded), 8);

    // A row changed in the middle is another file: refused, nobody called.
    std::fs::write(&file, contacts(8).replace("P1,", "X1,")).unwrap();
    let refused = run(&env, &file, &[]).await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("different file"),
        "{}",
        refused.stderr
    );
    each_number_called_once(&env, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_status_skipped_replans_after_the_do_not_call_list_is_fixed() {
    let env = Env::default().await;
    let file = env.write("k.csv", contacts(5));
    let dnc = env.write("dnc.txt", format!("{}\n{}\n", number(1), number(2)));
    run(&env, &file, &["--suppress", arg(&dnc)])
        .await
        .expect_code(0);
    each_number_called_once(&env, 3);

    // number(2) was on the list by mistake.
    std::fs::write(&dnc, format!("{}\n", number(1))).unwrap();
    let retried = env
        .dialer(&["retry", "k", "--status", "skipped", "--rate", "unlimited"])
        .await;
    retried.expect_code(0);
    assert!(
        retried
            .stderr
            .contains("1 skipped row(s) are now dialable (were suppressed 1)")
            && retried.stderr.contains("1 still skipped (suppressed 1)"),
        "{}",
        retried.stderr
    );
    each_number_called_once(&env, 4);
    assert!(
        !env.sandbox
            .stats()
            .calls_per_number
            .contains_key(&number(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_skips_numbers_without_a_region_says_how_to_fix_it() {
    let env = Env::default().await;
    let file = env.write("h.csv", "phone\n0500000001\n");
    let first = run(&env, &file, &[]).await;
    first.expect_code(0);
    assert!(
        first.stderr.contains("--default-region CC"),
        "{}",
        first.stderr
    );
    let fixed = run(&env, &file, &["--default-region", "SA"]).await;
    assert!(
        !fixed.stderr.contains("--default-region CC"),
        "{}",
        fixed.stderr
    );
    each_number_called_once(&env, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replanned_row_that_turns_out_to_repeat_a_dialed_number_is_a_duplicate() {
    let env = Env::default().await;
    // Line 3 is line 2's number written the local way: unreadable until the region is set.
    let file = env.write("d.csv", "phone\n+966500000001\n0500000001\n0500000002\n");
    run(&env, &file, &[]).await.expect_code(0);
    each_number_called_once(&env, 1);
    run(&env, &file, &["--default-region", "SA"])
        .await
        .expect_code(0);
    each_number_called_once(&env, 2);
    let rows = env.rows("d");
    assert_eq!(
        rows[1].reason.as_deref(),
        Some("duplicate"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[1].duplicate_of, Some(2));
    assert_eq!(rows[2].state, RowState::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_do_not_call_list_edited_since_the_last_run_reaches_the_pending_rows() {
    let env = Env::default().await;
    let file = env.write("e.csv", contacts(6));
    let dnc = env.write("dnc.txt", format!("{}\n", number(5)));
    run(&env, &file, &["--suppress", arg(&dnc), "--limit", "2"])
        .await
        .expect_code(0);
    // The same path, two more numbers overnight: one already called, one not yet.
    std::fs::write(
        &dnc,
        format!("{}\n{}\n{}\n", number(5), number(0), number(3)),
    )
    .unwrap();
    let second = run(&env, &file, &["--suppress", arg(&dnc)]).await;
    second.expect_code(0);
    assert!(
        second
            .stderr
            .contains("edited since the rows were last planned"),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains("1 row(s) are now skipped (suppressed 1)"),
        "{}",
        second.stderr
    );
    each_number_called_once(&env, 4);
    let called = env.sandbox.stats().calls_per_number;
    assert!(!called.contains_key(&number(3)) && !called.contains_key(&number(5)));
}

#[tokio::test(flavor = "multi_thread")]
async fn leaving_a_do_not_call_list_out_of_a_later_run_never_dials_its_numbers() {
    let env = Env::default().await;
    let file = env.write("o.csv", contacts(5));
    let dnc = env.write("dnc.txt", format!("{}\n{}\n", number(1), number(4)));
    run(&env, &file, &["--suppress", arg(&dnc), "--limit", "1"])
        .await
        .expect_code(0);
    // The command typed again from history, without its --suppress.
    let second = run(&env, &file, &[]).await;
    second.expect_code(0);
    assert!(
        second.stderr.contains("keeps its do-not-call list(s)"),
        "{}",
        second.stderr
    );
    each_number_called_once(&env, 3);
    let called = env.sandbox.stats().calls_per_number;
    assert!(!called.contains_key(&number(1)) && !called.contains_key(&number(4)));
    assert_eq!(env.counts("o").state(RowState::Skipped), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_settings_changed_at_once_each_count_the_rows_they_reach_alone() {
    let env = Env::default().await;
    let csv = "phone\n+966500000001\n+966500000002\n0500000003\n0500000004\n0500000005\n";
    let file = env.write("two.csv", csv);
    run(&env, &file, &["--limit", "1"]).await.expect_code(0);
    let dnc = env.write("dnc.txt", "+966500000002\n+966500000004\n");
    let second = run(
        &env,
        &file,
        &["--default-region", "SA", "--suppress", arg(&dnc)],
    )
    .await;
    second.expect_code(0);
    let err = &second.stderr;
    // The region alone makes the three local numbers readable; the list alone reaches the
    // one pending number it can read without the region.
    assert!(
        err.contains("default_region: none -> SA (3 row(s) not yet dialed change verdict)"),
        "{err}"
    );
    assert!(
        err.contains("(1 row(s) not yet dialed change verdict)"),
        "{err}"
    );
    assert!(
        err.contains("2 skipped row(s) are now dialable (were invalid_number 2)")
            && err.contains("1 row(s) are now skipped (suppressed 1)")
            && err.contains("1 still skipped (suppressed 1)"),
        "{err}"
    );
    each_number_called_once(&env, 3);
}
