//! The receiver over real HTTP on 127.0.0.1:0 with a real ledger: what is stored, what is
//! refused with which status, and that refused deliveries leave nothing behind.

use serde_json::{Value, json};

use super::*;
use crate::ledger::testing::{campaign_with, dial};
use crate::ledger::{AttemptRecord, Campaign, Ledger, Transition, now_ms};

const SECRET: &str = "whsec_c2VjcmV0LWZvci10aGUtcmVjZWl2ZXItdGVzdHM=";

struct Fixture {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    campaign: Campaign,
    receiver: Receiver,
    client: reqwest::Client,
}

async fn fixture() -> Fixture {
    let rows = (2..=4)
        .map(|line| dial(line, &format!("+96650000000{line}")))
        .collect();
    let (dir, ledger, campaign) = campaign_with("june", rows).await;
    let config = ReceiverConfig {
        secret: WebhookSecret::parse(SECRET).expect("secret"),
        path: DEFAULT_PATH.into(),
    };
    let listen = "127.0.0.1:0".parse().expect("addr");
    let receiver = start(ledger.clone(), config, listen).await.expect("start");
    Fixture {
        _dir: dir,
        ledger,
        campaign,
        receiver,
        client: reqwest::Client::new(),
    }
}

fn payload(line: u64, delivery: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "providerCallId": "069652c8-d01e-733e-8000-7c64a16dde5f",
        "numberFrom": "+15074106928",
        "numberTo": "+966500000002",
        "providerStatus": delivery,
        "deliveryStatus": delivery,
        "duration": 53,
        "summary": "promised to pay",
        "endedReason": "customer-ended-call",
        "callOutput": "PAYMENT_PROMISED",
        "callOutputReasoning": "said so",
        "sentimentOutput": "POSITIVE",
        "sentimentOutputReasoning": "friendly",
        "transcription": "hello",
        "recordingUrl": "bucket:x.mp3",
        "metadata": {"requestMetadata": {"dialer_campaign": "june", "dialer_row": line.to_string()}}
    }))
    .expect("serialise")
}

fn now() -> i64 {
    now_ms() / 1000
}

impl Fixture {
    async fn post(&self, body: Vec<u8>, headers: &[(&str, String)]) -> (u16, Value) {
        let mut request = self.client.post(self.receiver.url()).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Posts `body` signed with `secret` at `ts` under `id`.
    async fn post_signed_with(
        &self,
        secret: &str,
        id: &str,
        ts: i64,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let secret = WebhookSecret::parse(secret).expect("secret");
        let signature = sign(&secret, id, ts, &body);
        let headers = [
            ("svix-id", id.to_owned()),
            ("svix-timestamp", ts.to_string()),
            ("svix-signature", signature),
        ];
        self.post(body, &headers).await
    }

    async fn post_signed(&self, id: &str, body: Vec<u8>) -> (u16, Value) {
        self.post_signed_with(SECRET, id, now(), body).await
    }

    fn stored(&self) -> u64 {
        self.ledger
            .webhook_event_counts(None)
            .expect("counts")
            .total
    }

    fn row(&self, line: u64) -> crate::ledger::RowRecord {
        self.ledger
            .row(self.campaign.id, line)
            .expect("read")
            .expect("row")
    }
}

#[tokio::test]
async fn a_valid_event_is_stored_and_matched_once_per_svix_id() {
    let f = fixture().await;
    let (status, answer) = f.post_signed("msg_1", payload(3, "pass")).await;
    assert_eq!(
        (status, &answer["matched"]),
        (200, &json!(true)),
        "{answer}"
    );
    let outcome = f.row(3).outcome.expect("outcome written");
    assert_eq!(outcome.call_output.as_deref(), Some("PAYMENT_PROMISED"));
    assert_eq!(outcome.sentiment.as_deref(), Some("POSITIVE"));
    assert_eq!(outcome.duration_s, Some(53));
    assert_eq!(outcome.summary.as_deref(), Some("promised to pay"));

    // A redelivery (new timestamp and signature, same id) is acknowledged, stores nothing.
    let (status, answer) = f.post_signed("msg_1", payload(3, "fail")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("duplicate")));
    assert_eq!(f.stored(), 1);
    let outcome = f.row(3).outcome.expect("outcome");
    assert_eq!(outcome.delivery_status.as_deref(), Some("pass"));
}

#[tokio::test]
async fn forged_stale_incomplete_and_oversized_deliveries_are_refused_and_not_stored() {
    let f = fixture().await;
    let body = payload(2, "pass");
    let ts = now();
    let good = sign(
        &WebhookSecret::parse(SECRET).expect("secret"),
        "m",
        ts,
        &body,
    );
    let headers = |id: &str, ts: i64, sig: &str| {
        vec![
            ("svix-id", id.to_owned()),
            ("svix-timestamp", ts.to_string()),
            ("svix-signature", sig.to_owned()),
        ]
    };
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let (status, _) = f.post(tampered, &headers("m", ts, &good)).await;
    assert_eq!(status, 401, "tampered body");
    let other = "whsec_c29tZWJvZHktZWxzZXMtc2VjcmV0";
    let (status, _) = f.post_signed_with(other, "m", ts, body.clone()).await;
    assert_eq!(status, 401, "wrong secret");
    let (status, answer) = f
        .post_signed_with(SECRET, "m", ts - 301, body.clone())
        .await;
    assert_eq!(status, 400, "stale: {answer}");
    for missing in 0..3 {
        let mut h = headers("m", ts, &good);
        h.remove(missing);
        let (status, _) = f.post(body.clone(), &h).await;
        assert_eq!(status, 400, "missing {missing}");
    }
    let (status, _) = f.post(body, &[]).await;
    assert_eq!(status, 400, "no headers at all");
    let huge = vec![b' '; 2 * 1024 * 1024];
    let sig = sign(
        &WebhookSecret::parse(SECRET).expect("secret"),
        "m",
        ts,
        &huge,
    );
    let (status, _) = f.post(huge, &headers("m", ts, &sig)).await;
    assert_eq!(status, 413, "2 MiB body");
    assert_eq!(f.stored(), 0);
    assert!(f.row(2).outcome.is_none());
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_kept_as_unmatched() {
    let f = fixture().await;
    let (status, answer) = f.post_signed("msg_x", b"{not json".to_vec()).await;
    assert_eq!((status, &answer["matched"]), (200, &json!(false)));
    let kept = f
        .ledger
        .webhook_event("msg_x")
        .expect("read")
        .expect("kept");
    assert_eq!((kept.payload.as_str(), kept.matched), ("{not json", false));
    assert_eq!(kept.event_type, None);
    let (status, _) = f.post_signed("msg_bin", vec![0xff, 0xfe, 0x00]).await;
    assert_eq!(status, 200);
    assert_eq!(f.stored(), 2);
}

#[tokio::test]
async fn an_event_for_an_unknown_row_is_kept() {
    let f = fixture().await;
    let (status, answer) = f.post_signed("msg_u", payload(99, "pass")).await;
    assert_eq!((status, &answer["matched"]), (200, &json!(false)));
    let kept = f
        .ledger
        .webhook_event("msg_u")
        .expect("read")
        .expect("kept");
    assert_eq!((kept.campaign_id, kept.matched), (None, false));
    assert!(kept.payload.contains("\"dialer_row\":\"99\""));
}

#[tokio::test]
async fn an_uncertain_row_is_turned_succeeded_by_its_webhook() {
    let f = fixture().await;
    let rows = f
        .ledger
        .pending_after(f.campaign.id, 0, 1)
        .await
        .expect("rows");
    let row = rows.first().expect("line 2").clone();
    let inflight = f.ledger.mark_in_flight(f.campaign.id, &row).await;
    let inflight = inflight.expect("mark").expect("was pending");
    let record = AttemptRecord {
        sent_at: None,
        class: "uncertain",
        http_status: Some(500),
        latency_ms: 12,
        transition: Transition::Uncertain {
            message: "HTTP 500 after the request was sent".into(),
        },
    };
    f.ledger
        .finish_attempt(row.id, inflight, record)
        .await
        .expect("finish");
    assert_eq!(f.row(2).state, crate::ledger::RowState::Uncertain);
    let (status, _) = f.post_signed("msg_c", payload(2, "pass")).await;
    assert_eq!(status, 200);
    let confirmed = f.row(2);
    assert_eq!(confirmed.state, crate::ledger::RowState::Succeeded);
    assert!(confirmed.outcome.is_some());
}

#[tokio::test]
async fn health_and_unknown_paths() {
    let f = fixture().await;
    let base = format!("http://{}", f.receiver.addr());
    let health = f.client.get(format!("{base}/healthz")).send().await;
    assert_eq!(health.expect("send").status().as_u16(), 200);
    let other = f.client.post(format!("{base}/elsewhere")).send().await;
    assert_eq!(other.expect("send").status().as_u16(), 404);
    f.receiver.shutdown().await;
}

#[test]
fn paths_must_be_plain() {
    assert_eq!(check_path("/webhooks/levers"), Ok(()));
    assert_eq!(check_path("/"), Ok(()));
    for bad in ["webhooks", "/a b", "/{id}", "/*rest", "//x", "/healthz", ""] {
        assert!(check_path(bad).is_err(), "{bad:?}");
    }
}
