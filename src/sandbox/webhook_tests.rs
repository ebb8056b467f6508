//! The sandbox's webhook sender: seeded endings, the payload's shape, and live deliveries
//! to an in-process receiver that checks signatures and can refuse.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use rand::SeedableRng;

use super::*;
use crate::sandbox::tests::{call_body, post_call};
use crate::sandbox::{Sandbox, start};
use crate::webhook::{SvixHeaders, verify};

#[test]
fn endings_are_seeded_varied_and_mostly_delivered() {
    let draw = |seed, undelivered| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..400)
            .map(|_| draw_ending(&mut rng, CallSeconds { min: 5, max: 60 }, undelivered))
            .collect::<Vec<_>>()
    };
    let endings = draw(7, None);
    assert_eq!(endings, draw(7, None));
    let failed = endings.iter().filter(|e| !e.delivered).count();
    assert!((5..80).contains(&failed), "{failed} of 400 undelivered");
    for output in [
        "PAYMENT_PROMISED",
        "CALLBACK_REQUESTED",
        "NOT_INTERESTED",
        "WRONG_NUMBER",
        "VOICEMAIL",
        "NO_ANSWER",
    ] {
        assert!(endings.iter().any(|e| e.call_output == output), "{output}");
    }
    for sentiment in ["POSITIVE", "NEUTRAL", "NEGATIVE"] {
        assert!(
            endings.iter().any(|e| e.sentiment == sentiment),
            "{sentiment}"
        );
    }
    for e in &endings {
        if e.delivered {
            assert!(
                (5..=60).contains(&e.duration) && e.wait == e.duration,
                "{e:?}"
            );
        } else {
            assert_eq!((e.duration, e.wait), (0, 5));
        }
    }
    assert!(draw(7, Some(1.0)).iter().all(|e| !e.delivered));
    assert!(draw(7, Some(0.0)).iter().all(|e| e.delivered));
}

#[test]
fn the_payload_has_exactly_the_documented_keys() {
    let call = Placed {
        id: Uuid::nil(),
        number: "+966500000002".into(),
        metadata: json!({"dialer_campaign": "june", "dialer_row": "2"}),
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let ending = draw_ending(&mut rng, CallSeconds { min: 30, max: 30 }, Some(0.0));
    let body = payload(&call, &ending);
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut documented = [
        "providerCallId",
        "numberFrom",
        "numberTo",
        "providerStatus",
        "deliveryStatus",
        "duration",
        "summary",
        "endedReason",
        "callOutput",
        "callOutputReasoning",
        "sentimentOutput",
        "sentimentOutputReasoning",
        "transcription",
        "recordingUrl",
        "metadata",
    ];
    documented.sort_unstable();
    assert_eq!(keys, documented);
    assert_eq!(body["metadata"]["requestMetadata"], call.metadata);
    assert_eq!(
        (body["duration"].clone(), body["deliveryStatus"].clone()),
        (json!(30), json!("pass"))
    );
    assert_eq!(body["numberTo"], "+966500000002");
    let parsed = crate::webhook::parse_event(&serde_json::to_vec(&body).expect("json"));
    assert_eq!(parsed.target, Some(("june".to_owned(), 2)));
}

#[test]
fn call_seconds_and_urls_are_checked() {
    assert_eq!("0:0".parse(), Ok(CallSeconds { min: 0, max: 0 }));
    assert_eq!(CallSeconds::default().to_string(), "5:60");
    for bad in ["60:5", "5", "a:b", "-1:3"] {
        assert!(bad.parse::<CallSeconds>().is_err(), "{bad}");
    }
    for good in [
        "http://127.0.0.1:1/x",
        "https://localhost/x",
        "http://[::1]:8/",
    ] {
        assert!(check_webhook_url(good).is_ok(), "{good}");
    }
    for bad in [
        "http://10.0.0.1/x",
        "http://example.com/",
        "file:///tmp/x",
        "nope",
    ] {
        assert!(check_webhook_url(bad).is_err(), "{bad}");
    }
}

const SECRET: &str = "whsec_c2FuZGJveC1zZW5kZXItdGVzdA==";

/// A receiver that checks each delivery's signature, keeps it, and refuses the first
/// `refuse` of them with 500.
#[derive(Default)]
struct Capture {
    refuse: usize,
    seen: AtomicUsize,
    /// The svix-id of every signed delivery, refused or not.
    tried: Mutex<Vec<String>>,
    kept: Mutex<Vec<(String, Value)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn receiver(capture: Arc<Capture>) -> String {
    let secret = WebhookSecret::parse(SECRET).expect("secret");
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (capture, secret) = (Arc::clone(&capture), secret.clone());
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
                let svix = SvixHeaders {
                    id: h("svix-id"),
                    timestamp: h("svix-timestamp"),
                    signature: h("svix-signature"),
                };
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                if verify(&secret, &svix, &body, now).is_err() {
                    return StatusCode::UNAUTHORIZED;
                }
                let id = svix.id.unwrap_or_default().to_owned();
                lock(&capture.tried).push(id.clone());
                if capture.seen.fetch_add(1, Ordering::SeqCst) < capture.refuse {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let event = serde_json::from_slice(&body).unwrap_or(Value::Null);
                lock(&capture.kept).push((id, event));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

async fn sandbox_posting_to(url: String, undelivered: Option<f64>) -> Sandbox {
    let config = SandboxConfig {
        webhook_url: Some(url),
        webhook_secret: SECRET.into(),
        time_scale: 0.001,
        undelivered,
        ..SandboxConfig::default()
    };
    start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start")
}

/// Polls the sandbox's stats until `done` holds (bounded; no fixed sleeps).
async fn until(
    sandbox: &Sandbox,
    done: impl Fn(&crate::sandbox::Stats) -> bool,
) -> crate::sandbox::Stats {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let stats = sandbox.stats();
        if done(&stats) || tokio::time::Instant::now() > deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn each_placed_call_sends_one_signed_event_with_its_metadata_retrying_refusals() {
    let capture = Arc::new(Capture {
        refuse: 2,
        ..Capture::default()
    });
    let sandbox = sandbox_posting_to(receiver(Arc::clone(&capture)).await, Some(0.0)).await;
    for _ in 0..3 {
        let (status, _, _) =
            post_call(&sandbox, Some("sandbox-token"), &call_body("+15550001111")).await;
        assert_eq!(status, 201);
    }
    let stats = until(&sandbox, |s| s.webhooks_sent == 3).await;
    assert_eq!((stats.webhooks_sent, stats.webhooks_failed), (3, 0));
    let kept = lock(&capture.kept).clone();
    assert_eq!(kept.len(), 3);
    assert_eq!(
        capture.seen.load(Ordering::SeqCst),
        5,
        "two refusals were retried"
    );
    let mut ids: Vec<String> = kept.iter().map(|(id, _)| id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "one svix-id per call");
    let mut tried = lock(&capture.tried).clone();
    tried.sort_unstable();
    tried.dedup();
    assert_eq!(tried, ids, "a retry reuses its event's svix-id");
    for (_, event) in &kept {
        assert_eq!(event["metadata"]["requestMetadata"], json!({"row": 2}));
        assert_eq!(event["deliveryStatus"], "pass");
        assert_eq!(event["numberTo"], "+15550001111");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_bad_secret_stops_the_sandbox_without_echoing_it() {
    let config = SandboxConfig {
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        webhook_secret: "whsec_%%leaked%%".into(),
        ..SandboxConfig::default()
    };
    let refused = start(config, "127.0.0.1:0".parse().expect("addr")).await;
    let error = refused.err().expect("refused").to_string();
    assert!(
        error.contains("--webhook-secret") && !error.contains("leaked"),
        "{error}"
    );
}

#[tokio::test]
async fn an_event_refused_every_time_is_given_up_and_counted() {
    let capture = Arc::new(Capture {
        refuse: usize::MAX,
        ..Capture::default()
    });
    let sandbox = sandbox_posting_to(receiver(Arc::clone(&capture)).await, Some(1.0)).await;
    let (status, _, _) =
        post_call(&sandbox, Some("sandbox-token"), &call_body("+15550001111")).await;
    assert_eq!(status, 201);
    let stats = until(&sandbox, |s| s.webhooks_failed == 1).await;
    assert_eq!((stats.webhooks_sent, stats.webhooks_failed), (0, 1));
    assert_eq!(capture.seen.load(Ordering::SeqCst), MAX_TRIES as usize);
    sandbox.shutdown().await;
}
