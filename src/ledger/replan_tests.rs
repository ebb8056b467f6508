//! The re-plan of stored rows: verdicts, deduplication, and the states it never touches.

use super::*;
use crate::ledger::testing::campaign_with;

fn dial(line: u64, e164: &str, request: &str) -> NewRow {
    NewRow {
        line,
        e164: Some(e164.into()),
        request: Some(request.into()),
        timezone: Some("Asia/Riyadh".into()),
        zone_source: Some("country"),
        skip: None,
        raw: None,
        contact: None,
        alt_numbers: Vec::new(),
    }
}

fn skip(line: u64, reason: SkipReason) -> NewRow {
    NewRow {
        line,
        e164: None,
        request: None,
        timezone: None,
        zone_source: None,
        skip: Some((reason, "why".into())),
        raw: Some(b"cells".to_vec()),
        contact: None,
        alt_numbers: Vec::new(),
    }
}

const OPEN: [RowState; 3] = [RowState::Pending, RowState::RetryWait, RowState::Skipped];

fn state_of(ledger: &Ledger, campaign_id: i64, line: i64) -> (RowState, Option<String>) {
    ledger
        .read_blocking(|c| {
            c.query_row(
                "SELECT state, reason FROM rows WHERE campaign_id = ?1 AND line = ?2",
                params![campaign_id, line],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn skipped_rows_become_dialable_and_pending_rows_skipped() {
    let rows = vec![skip(2, SkipReason::InvalidNumber), dial(3, "+1", "{}")];
    let (_d, ledger, c) = campaign_with("r", rows).await;
    let again = vec![dial(2, "+2", "{}"), skip(3, SkipReason::Suppressed)];
    let l = ledger.clone();
    let done =
        tokio::task::spawn_blocking(move || l.replan_rows_blocking(c.id, again, OPEN.to_vec()))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(done.now_dialable[&SkipReason::InvalidNumber], 1);
    assert_eq!(done.now_skipped[&SkipReason::Suppressed], 1);
    assert_eq!(state_of(&ledger, c.id, 2).0, RowState::Pending);
    assert_eq!(state_of(&ledger, c.id, 3).0, RowState::Skipped);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_stays_with_the_row_that_holds_it_unless_that_row_is_later_and_pending() {
    let rows = vec![
        skip(2, SkipReason::InvalidNumber),
        dial(3, "+3", "{}"),
        skip(4, SkipReason::InvalidNumber),
    ];
    let (_d, ledger, c) = campaign_with("d", rows).await;
    // Line 2 now reads as line 3's number: it is earlier, so it takes it; line 4 reads
    // as the same number and is the duplicate.
    let again = vec![
        dial(2, "+3", "{}"),
        dial(3, "+3", "{}"),
        dial(4, "+3", "{}"),
    ];
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || l.replan_rows_blocking(c.id, again, OPEN.to_vec()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state_of(&ledger, c.id, 2).0, RowState::Pending);
    for line in [3, 4] {
        assert_eq!(
            state_of(&ledger, c.id, line),
            (RowState::Skipped, Some("duplicate".into()))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_outside_the_named_states_are_never_touched() {
    let rows = vec![dial(2, "+2", "{\"a\":1}")];
    let (_d, ledger, c) = campaign_with("t", rows).await;
    ledger
        .writer
        .call(move |tx| {
            tx.execute("UPDATE rows SET state = 'succeeded'", [])
                .map(drop)
        })
        .await
        .unwrap();
    let l = ledger.clone();
    let done = tokio::task::spawn_blocking(move || {
        l.replan_rows_blocking(c.id, vec![skip(2, SkipReason::Suppressed)], OPEN.to_vec())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(done, Replanned::default());
    assert_eq!(state_of(&ledger, c.id, 2).0, RowState::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replanned_row_never_takes_another_rows_second_number() {
    // Line 3 holds +5 as its second number; line 2, re-planned, now reads as +5.
    let mut holder = dial(3, "+4", "{}");
    holder.alt_numbers = vec!["+5".into()];
    let rows = vec![skip(2, SkipReason::InvalidNumber), holder];
    let (_d, ledger, c) = campaign_with("s", rows).await;
    let again = vec![dial(2, "+5", "{}")];
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || l.replan_rows_blocking(c.id, again, OPEN.to_vec()))
        .await
        .unwrap()
        .unwrap();
    let (state, reason) = state_of(&ledger, c.id, 2);
    assert_eq!(state, RowState::Skipped);
    assert_eq!(reason.as_deref(), Some("duplicate"));
}
