//! The pool against a scripted fake caller and a real ledger.

use crate::ledger::RowState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::ledger::Ledger;
use crate::ledger::testing::{campaign_with, dial};

/// Answers from a script per number (cycled through attempts), counting every request.
#[derive(Default)]
struct Fake {
    script: HashMap<String, Vec<Outcome>>,
    seen: Mutex<HashMap<String, u32>>,
}

impl Caller for Fake {
    async fn place_call(&self, body: Bytes) -> (Outcome, Duration) {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let n = v["numberToCall"].as_str().unwrap().to_string();
        let k = {
            let mut seen = self.seen.lock().unwrap();
            let k = seen.entry(n.clone()).or_default();
            *k += 1;
            *k
        };
        let ok = Outcome::Success {
            status: 201,
            body: "{}".into(),
            call_id: None,
        };
        let out = match self.script.get(&n) {
            Some(s) => s.get(k as usize - 1).cloned().unwrap_or(ok),
            None => ok,
        };
        (out, Duration::from_millis(1))
    }
}

fn cfg() -> DispatchConfig {
    DispatchConfig {
        concurrency: 4,
        rate: Rate::Unlimited,
        burst: NonZeroU32::new(1).unwrap(),
        policy: RetryPolicy {
            base: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        limit: None,
        breaker_threshold: BREAKER_THRESHOLD,
        window: None,
        start_at: None,
        default_zone: jiff::tz::TimeZone::UTC,
        tz_named: false,
        expire_at: None,
        max_calls_per_day: None,
        redial: None,
    }
}

async fn setup(n: u64) -> (tempfile::TempDir, Ledger, i64) {
    let rows = (0..n)
        .map(|i| dial(i + 2, &format!("+1555{i:07}")))
        .collect();
    let (dir, ledger, c) = campaign_with("t", rows).await;
    (dir, ledger, c.id)
}

async fn go(ledger: &Ledger, id: i64, fake: Arc<Fake>, cfg: DispatchConfig) -> DispatchReport {
    let (_tx, rx) = tokio::sync::watch::channel(IngestProgress {
        rows: 0,
        done: true,
    });
    let tally = Arc::new(crate::progress::Tally::default());
    dispatch(ledger.clone(), id, fake, cfg, rx, Halt::default(), tally).await
}

#[tokio::test]
async fn every_row_is_called_exactly_once() {
    let (_d, ledger, id) = setup(300).await;
    let fake = Arc::new(Fake::default());
    let report = go(&ledger, id, fake.clone(), cfg()).await;
    assert_eq!(report.stop, Stop::Done);
    assert_eq!(report.requests, 300);
    assert!(fake.seen.lock().unwrap().values().all(|&k| k == 1));
    assert_eq!(ledger.counts(id).unwrap().state(RowState::Succeeded), 300);
}

#[tokio::test]
async fn throttled_and_retryable_rows_come_back_and_finish() {
    let (_d, ledger, id) = setup(5).await;
    let mut fake = Fake::default();
    let throttled = Outcome::Throttled {
        retry_after: Some(Duration::from_millis(20)),
    };
    let busy = Outcome::Retryable {
        status: Some(503),
        error: "503".into(),
    };
    fake.script
        .insert("+15550000000".into(), vec![throttled.clone(), throttled]);
    fake.script
        .insert("+15550000001".into(), vec![busy.clone(), busy.clone()]);
    fake.script.insert(
        "+15550000002".into(),
        vec![busy.clone(), busy.clone(), busy],
    );
    let fake = Arc::new(fake);
    let report = go(&ledger, id, fake.clone(), cfg()).await;
    assert_eq!(report.stop, Stop::Done);
    let counts = ledger.counts(id).unwrap();
    assert_eq!(counts.state(RowState::Succeeded), 4);
    assert_eq!(counts.failed.get("retries_exhausted"), Some(&1));
    // A 429 spends no attempt: the row succeeded on its first counted attempt.
    assert_eq!(ledger.row(id, 2).unwrap().unwrap().attempts, 1);
    assert_eq!(ledger.row(id, 3).unwrap().unwrap().attempts, 3);
}

#[tokio::test]
async fn auth_refusal_stops_and_leaves_rows_pending() {
    let (_d, ledger, id) = setup(50).await;
    let mut fake = Fake::default();
    let auth = Outcome::Auth {
        status: 401,
        message: "expired".into(),
    };
    for i in 0..50 {
        fake.script
            .insert(format!("+1555{i:07}"), vec![auth.clone()]);
    }
    let report = go(&ledger, id, Arc::new(fake), cfg()).await;
    assert!(matches!(report.stop, Stop::Auth(_)));
    let counts = ledger.counts(id).unwrap();
    assert_eq!(counts.state(RowState::Pending), 50);
}

#[tokio::test]
async fn the_breaker_trips_after_consecutive_failures_and_limit_caps_calls() {
    let (_d, ledger, id) = setup(60).await;
    let mut fake = Fake::default();
    let lost = Outcome::Uncertain {
        status: Some(500),
        error: "500".into(),
    };
    for i in 0..60 {
        fake.script
            .insert(format!("+1555{i:07}"), vec![lost.clone()]);
    }
    let report = go(&ledger, id, Arc::new(fake), cfg()).await;
    assert_eq!(report.stop, Stop::Breaker);
    let uncertain = ledger.counts(id).unwrap().state(RowState::Uncertain);
    assert!((20..=20 + 4).contains(&uncertain), "{uncertain}");

    let (_d2, ledger2, id2) = setup(30).await;
    let report = go(
        &ledger2,
        id2,
        Arc::new(Fake::default()),
        DispatchConfig {
            limit: Some(7),
            ..cfg()
        },
    )
    .await;
    assert_eq!((report.stop, report.requests), (Stop::Limit, 7));
    assert_eq!(ledger2.counts(id2).unwrap().state(RowState::Pending), 23);
}
