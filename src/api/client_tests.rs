//! `LeversClient` against a small in-process axum stand-in on 127.0.0.1:0: headers, token
//! exchange and single-flight refresh, and how transport failures are classified.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use super::client::Route;
use super::{ApiError, Credentials, LeversClient, Outcome, Secret};

const CLIENT_SECRET: &str = "cs-TOPSECRET";
const TIMEOUT: Duration = Duration::from_secs(5);

/// The fake API. Exchange number n hands out `tok-n`; the call endpoint accepts only
/// `valid_token` and answers 401 to anything else.
struct Fake {
    valid_token: String,
    exchanges: AtomicUsize,
    calls: AtomicUsize,
    /// Headers and body of every call request, in arrival order.
    seen: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Holds refused requests until this many have arrived, so they are truly concurrent.
    refused_together: Option<tokio::sync::Barrier>,
}

impl Fake {
    fn new(valid_token: &str) -> Fake {
        Fake {
            valid_token: valid_token.to_owned(),
            exchanges: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            refused_together: None,
        }
    }
}

async fn exchange(State(fake): State<Arc<Fake>>, Json(body): Json<Value>) -> Response {
    let n = fake.exchanges.fetch_add(1, Ordering::SeqCst) + 1;
    if body["clientId"] != "client-1" || body["clientSecret"] != CLIENT_SECRET {
        // Echo the request the way careless error pages do, to prove it gets scrubbed.
        let detail = format!("bad credentials {body}");
        return (StatusCode::UNAUTHORIZED, Json(json!({ "detail": detail }))).into_response();
    }
    Json(json!({ "access_token": format!("tok-{n}") })).into_response()
}

async fn call(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    fake.calls.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    fake.seen.lock().unwrap().push((headers, body));
    if auth == format!("Bearer {}", fake.valid_token) {
        return (StatusCode::CREATED, Json(json!({ "id": "call-1" }))).into_response();
    }
    if let Some(barrier) = &fake.refused_together {
        barrier.wait().await;
    }
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "detail": "token expired" })),
    )
        .into_response()
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn start(fake: Fake) -> (Arc<Fake>, String) {
    let fake = Arc::new(fake);
    let router = Router::new()
        .route("/auth/v1/api-key/auth", post(exchange))
        .route("/api-service/v1/ai/phone-calls/action/call", post(call))
        .with_state(fake.clone());
    let addr = serve(router).await;
    (fake, format!("http://{addr}/"))
}

fn client_creds(secret: &str) -> Credentials {
    Credentials::Client {
        id: "client-1".into(),
        secret: Secret::new(secret),
    }
}

/// Both ways a call can travel: each transport-level test runs on each.
const ROUTES: [Route; 2] = [Route::Direct, Route::Reqwest];

fn token_client(url: &str, timeout: Duration, route: Route) -> LeversClient {
    let creds = Credentials::Token(Secret::new("t"));
    LeversClient::with_route(url, creds, timeout, route).unwrap()
}

fn body() -> Bytes {
    Bytes::from_static(br#"{"numberToCall":"+14155550100"}"#)
}

#[tokio::test]
async fn static_token_success_sends_the_right_request() {
    for route in ROUTES {
        sends_the_right_request(route).await;
    }
}

async fn sends_the_right_request(route: Route) {
    let (fake, url) = start(Fake::new("static-tok")).await;
    let creds = Credentials::Token(Secret::new("static-tok"));
    let client = LeversClient::with_route(&url, creds, TIMEOUT, route).unwrap();
    client.authenticate().await.unwrap();

    let attempt = client.place_call(body()).await;
    match &attempt.outcome {
        Outcome::Success {
            status,
            body,
            call_id,
        } => {
            assert_eq!(*status, 201);
            assert_eq!(body, r#"{"id":"call-1"}"#);
            assert_eq!(call_id.as_deref(), Some("call-1"));
        }
        other => panic!("{other:?}"),
    }
    let seen = fake.seen.lock().unwrap();
    let (headers, sent) = &seen[0];
    assert_eq!(headers[header::AUTHORIZATION], "Bearer static-tok");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let agent = headers[header::USER_AGENT].to_str().unwrap();
    assert_eq!(agent, concat!("dialer/", env!("CARGO_PKG_VERSION")));
    assert_eq!(sent, &body());
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_401_with_client_credentials_exchanges_once_and_resends() {
    // Exchange 1 (at authenticate) gives tok-1, which the API then refuses; tok-2 is good.
    let (fake, url) = start(Fake::new("tok-2")).await;
    let client = LeversClient::new(&url, client_creds(CLIENT_SECRET), TIMEOUT).unwrap();
    client.authenticate().await.unwrap();
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 1);

    let attempt = client.place_call(body()).await;
    assert_eq!(attempt.outcome.class(), "success", "{:?}", attempt.outcome);
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 2);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);

    // The fresh token is kept: the next call goes straight through.
    let again = client.place_call(body()).await;
    assert_eq!(again.outcome.class(), "success");
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 2);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn concurrent_401s_share_a_single_exchange() {
    const WORKERS: usize = 8;
    let mut fake = Fake::new("tok-2");
    fake.refused_together = Some(tokio::sync::Barrier::new(WORKERS));
    let (fake, url) = start(fake).await;
    let client = LeversClient::new(&url, client_creds(CLIENT_SECRET), TIMEOUT).unwrap();
    client.authenticate().await.unwrap();

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.place_call(body()).await })
        })
        .collect();
    for worker in workers {
        let attempt = worker.await.unwrap();
        assert_eq!(attempt.outcome.class(), "success", "{:?}", attempt.outcome);
    }
    // One exchange at authenticate, exactly one for all the 401s together.
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 2);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2 * WORKERS);
}

#[tokio::test]
async fn a_second_401_is_an_auth_outcome() {
    let (fake, url) = start(Fake::new("never-issued")).await;
    let client = LeversClient::new(&url, client_creds(CLIENT_SECRET), TIMEOUT).unwrap();
    // No authenticate(): the first call fetches a token on its own.
    let attempt = client.place_call(body()).await;
    assert_eq!(
        attempt.outcome,
        Outcome::Auth {
            status: 401,
            message: "token expired".into()
        }
    );
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 2);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_static_token_is_not_refreshed() {
    let (fake, url) = start(Fake::new("other")).await;
    let creds = Credentials::Token(Secret::new("static-tok"));
    let client = LeversClient::new(&url, creds, TIMEOUT).unwrap();
    let attempt = client.place_call(body()).await;
    assert_eq!(attempt.outcome.class(), "auth");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_bad_client_secret_fails_authenticate_without_showing_it() {
    let (_fake, url) = start(Fake::new("tok-1")).await;
    let client = LeversClient::new(&url, client_creds("cs-WRONGSECRET"), TIMEOUT).unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert!(matches!(err, ApiError::Auth { status: 401, .. }), "{err:?}");
    assert!(err.is_auth());
    let text = format!("{err} {err:?}");
    assert!(!text.contains("WRONGSECRET"), "{text}");
    assert!(text.contains("bad credentials"), "{text}");
}

#[tokio::test]
async fn debug_output_never_contains_the_token_or_secret() {
    let (_fake, url) = start(Fake::new("tok-1")).await;
    let client = LeversClient::new(&url, client_creds(CLIENT_SECRET), TIMEOUT).unwrap();
    client.authenticate().await.unwrap();
    let text = format!("{client:?}");
    assert!(!text.contains("tok-1"), "{text}");
    assert!(!text.contains(CLIENT_SECRET), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    for route in ROUTES {
        not_followed(route).await;
    }
}

async fn not_followed(route: Route) {
    let hits = Arc::new(AtomicUsize::new(0));
    let target_hits = hits.clone();
    let router = Router::new()
        .route(
            "/api-service/v1/ai/phone-calls/action/call",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, "/elsewhere")],
                )
            }),
        )
        .route(
            "/elsewhere",
            post(move || async move {
                target_hits.fetch_add(1, Ordering::SeqCst);
                StatusCode::CREATED
            }),
        );
    let addr = serve(router).await;
    let client = token_client(&format!("http://{addr}"), TIMEOUT, route);
    let attempt = client.place_call(body()).await;
    assert_eq!(
        attempt.outcome.class(),
        "permanent",
        "{route:?}: {:?}",
        attempt.outcome
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn throttling_reads_retry_after() {
    let router = Router::new().route(
        "/api-service/v1/ai/phone-calls/action/call",
        post(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "5")]) }),
    );
    let addr = serve(router).await;
    for route in ROUTES {
        let client = token_client(&format!("http://{addr}"), TIMEOUT, route);
        let attempt = client.place_call(body()).await;
        let want = Outcome::Throttled {
            retry_after: Some(Duration::from_secs(5)),
        };
        assert_eq!(attempt.outcome, want, "{route:?}");
    }
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    for route in ROUTES {
        let client = token_client(&format!("http://{addr}"), TIMEOUT, route);
        match client.place_call(body()).await.outcome {
            Outcome::Retryable {
                status: None,
                error,
            } => assert!(!error.is_empty()),
            other => panic!("{route:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_uncertain() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and hold every connection open without ever writing a byte.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    for route in ROUTES {
        let client = token_client(&format!("http://{addr}"), Duration::from_millis(200), route);
        match client.place_call(body()).await.outcome {
            Outcome::Uncertain {
                status: None,
                error,
            } => assert!(error.contains("--timeout"), "{route:?}: {error}"),
            other => panic!("{route:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_connection_closed_after_the_request_is_uncertain() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Read the request, then hang up without a byte of answer: the call may be placed.
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            drop(socket);
        }
    });
    for route in ROUTES {
        let client = token_client(&format!("http://{addr}"), TIMEOUT, route);
        let outcome = client.place_call(body()).await.outcome;
        assert_eq!(outcome.class(), "uncertain", "{route:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_broken_token_endpoint_is_retryable_and_places_no_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let router = Router::new()
        .route(
            "/auth/v1/api-key/auth",
            post(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }),
        )
        .route(
            "/api-service/v1/ai/phone-calls/action/call",
            post(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                StatusCode::CREATED
            }),
        );
    let addr = serve(router).await;
    let url = format!("http://{addr}");
    let client = LeversClient::new(&url, client_creds(CLIENT_SECRET), TIMEOUT).unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Transport { .. }) && !err.is_auth(),
        "{err:?}"
    );
    match client.place_call(body()).await.outcome {
        Outcome::Retryable {
            status: None,
            error,
        } => {
            assert!(error.contains("upstream down"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn https_is_spoken_to_an_https_url_and_a_failed_handshake_placed_no_call() {
    // A plain-HTTP server behind an https:// URL: the TLS handshake fails, before any
    // request could have left.
    let router = Router::new().route(
        "/api-service/v1/ai/phone-calls/action/call",
        post(|| async { StatusCode::CREATED }),
    );
    let addr = serve(router).await;
    for route in ROUTES {
        let client = token_client(&format!("https://{addr}"), TIMEOUT, route);
        let outcome = client.place_call(body()).await.outcome;
        assert_eq!(outcome.class(), "retryable", "{route:?}: {outcome:?}");
    }
}
