//! Storing webhook deliveries against a real SQLite file: deduplication, matching, and
//! which row states an outcome may change.

use super::*;
use crate::ledger::RowState;
use crate::ledger::testing::{self, campaign_with};
use crate::ledger::{AttemptRecord, Campaign, Transition};

async fn fresh(lines: &[u64]) -> (tempfile::TempDir, Ledger, Campaign) {
    let rows = lines
        .iter()
        .map(|&line| testing::dial(line, &format!("+9665000000{line:02}")))
        .collect();
    campaign_with("june", rows).await
}

/// Moves the first pending row to `in_flight`, then (optionally) to where `t` leads.
async fn dial(ledger: &Ledger, c: &Campaign, line: u64, t: Option<Transition>) {
    let rows = ledger
        .pending_after(c.id, line - 1, 1)
        .await
        .expect("pending");
    let row = rows.into_iter().find(|r| r.line == line).expect("the row");
    let inflight = ledger.mark_in_flight(c.id, &row).await.expect("mark");
    let inflight = inflight.expect("was pending");
    if let Some(transition) = t {
        let record = AttemptRecord {
            sent_at: None,
            class: "test",
            http_status: Some(500),
            latency_ms: 5,
            transition,
        };
        ledger
            .finish_attempt(row.id, inflight, record)
            .await
            .expect("finish");
    }
}

fn event(svix_id: &str, line: u64, delivery: &str) -> NewWebhookEvent {
    NewWebhookEvent {
        svix_id: svix_id.into(),
        received_at: 1_000 + line as i64,
        event_type: Some("phone_call.ended".into()),
        payload: format!(r#"{{"line":{line}}}"#),
        target: Some(("june".into(), line)),
        outcome: Some(CallOutcome {
            delivery_status: Some(delivery.into()),
            duration_s: Some(42),
            call_output: Some("PAYMENT_PROMISED".into()),
            ..CallOutcome::default()
        }),
    }
}

#[tokio::test]
async fn a_matched_event_writes_the_outcome_once_per_svix_id() {
    let (_d, ledger, c) = fresh(&[2]).await;
    let stored = ledger.store_webhook_event(event("msg_1", 2, "pass")).await;
    let expected = StoredEvent::Matched {
        campaign_id: c.id,
        line: 2,
        confirmed: false,
    };
    assert_eq!(stored.expect("store"), expected);
    let mut again = event("msg_1", 2, "fail");
    again.payload = "redelivered".into();
    let stored = ledger.store_webhook_event(again).await.expect("store");
    assert_eq!(stored, StoredEvent::Duplicate);
    let row = ledger.row(c.id, 2).expect("read").expect("row");
    let outcome = row.outcome.expect("an outcome");
    assert_eq!(outcome.delivery_status.as_deref(), Some("pass"));
    assert_eq!(outcome.duration_s, Some(42));
    assert_eq!(outcome.received_at, Some(1_002));
    // A pending row keeps its place in the queue.
    assert_eq!(row.state, RowState::Pending);
    let kept = ledger.webhook_event("msg_1").expect("read").expect("kept");
    assert_eq!(kept.payload, r#"{"line":2}"#);
    assert_eq!(
        (kept.campaign_id, kept.line, kept.matched),
        (Some(c.id), Some(2), true)
    );
    let counts = ledger.webhook_event_counts(None).expect("counts");
    assert_eq!(
        counts,
        EventCounts {
            total: 1,
            matched: 1
        }
    );
}

#[tokio::test]
async fn unmatched_events_are_kept_without_a_row() {
    let (_d, ledger, c) = fresh(&[2]).await;
    let mut unknown_line = event("msg_a", 9, "pass");
    unknown_line.target = Some(("june".into(), 9));
    let mut unknown_campaign = event("msg_b", 2, "pass");
    unknown_campaign.target = Some(("july".into(), 2));
    let mut no_keys = event("msg_c", 2, "pass");
    no_keys.target = None;
    for e in [unknown_line, unknown_campaign, no_keys] {
        let stored = ledger.store_webhook_event(e).await.expect("store");
        assert_eq!(stored, StoredEvent::Unmatched);
    }
    let kept = ledger.webhook_event("msg_b").expect("read").expect("kept");
    assert_eq!(
        (kept.campaign_id, kept.line, kept.matched),
        (None, None, false)
    );
    let all = ledger.webhook_event_counts(None).expect("counts");
    assert_eq!(
        all,
        EventCounts {
            total: 3,
            matched: 0
        }
    );
    let mine = ledger.webhook_event_counts(Some(c.id)).expect("counts");
    assert_eq!(mine, EventCounts::default());
    assert!(
        ledger
            .row(c.id, 2)
            .expect("read")
            .expect("row")
            .outcome
            .is_none()
    );
}

#[tokio::test]
async fn an_uncertain_row_becomes_succeeded_and_in_flight_is_left_alone() {
    let (_d, ledger, c) = fresh(&[2, 3, 4]).await;
    let uncertain = Transition::Uncertain {
        message: "500 after sending".into(),
    };
    dial(&ledger, &c, 2, Some(uncertain)).await;
    dial(&ledger, &c, 3, None).await;
    let failed = Transition::Failed {
        reason: "http_422",
        message: "bad".into(),
    };
    dial(&ledger, &c, 4, Some(failed)).await;

    let stored = ledger.store_webhook_event(event("m2", 2, "fail")).await;
    let expected = StoredEvent::Matched {
        campaign_id: c.id,
        line: 2,
        confirmed: true,
    };
    assert_eq!(stored.expect("store"), expected);
    let row = ledger.row(c.id, 2).expect("read").expect("row");
    assert_eq!(row.state, RowState::Succeeded);
    assert_eq!(row.error, None);
    assert_eq!(row.attempts, 1);

    for (id, line, state) in [("m3", 3, RowState::InFlight), ("m4", 4, RowState::Failed)] {
        let stored = ledger.store_webhook_event(event(id, line, "pass")).await;
        assert!(matches!(
            stored,
            Ok(StoredEvent::Matched {
                confirmed: false,
                ..
            })
        ));
        let row = ledger.row(c.id, line).expect("read").expect("row");
        assert_eq!(row.state, state);
        assert!(
            row.outcome.is_some(),
            "the outcome is recorded on line {line}"
        );
    }
    assert_eq!(ledger.rows_undelivered(c.id).await.expect("query"), [2]);
}

#[tokio::test]
async fn an_event_without_an_outcome_matches_but_changes_no_row() {
    let (_d, ledger, c) = fresh(&[2]).await;
    let uncertain = Transition::Uncertain {
        message: "timeout".into(),
    };
    dial(&ledger, &c, 2, Some(uncertain)).await;
    let mut started = event("m1", 2, "pass");
    started.event_type = Some("phone_call.started".into());
    started.outcome = None;
    let stored = ledger.store_webhook_event(started).await.expect("store");
    assert!(matches!(
        stored,
        StoredEvent::Matched {
            confirmed: false,
            ..
        }
    ));
    let row = ledger.row(c.id, 2).expect("read").expect("row");
    assert_eq!((row.state.as_str(), row.outcome), ("uncertain", None));
}

#[tokio::test]
async fn succeeded_rows_without_an_outcome_are_awaiting_it() {
    let (_d, ledger, c) = fresh(&[2, 3]).await;
    for line in [2, 3] {
        let ok = Transition::Succeeded {
            body: "{}".into(),
            call_id: None,
        };
        dial(&ledger, &c, line, Some(ok)).await;
    }
    ledger
        .store_webhook_event(event("m3", 3, "pass"))
        .await
        .expect("store");
    // Older than -1 minute: every attempt qualifies, so only the outcome decides.
    let waiting = ledger.rows_awaiting_outcome(c.id, -60_000).await;
    assert_eq!(waiting.expect("query"), [2]);
    let waiting = ledger.rows_awaiting_outcome(c.id, 3_600_000).await;
    assert_eq!(waiting.expect("query"), Vec::<u64>::new());
}
