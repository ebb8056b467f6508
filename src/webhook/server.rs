//! The HTTP side of the receiver: `POST {path}` takes a delivery through verification,
//! parsing and the ledger (in that order), `GET /healthz` says it is up. Each refusal has
//! its status from SPEC.md ("Webhook refusals"); the secret never reaches a log line.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::event::parse_event;
use super::signature::{SvixHeaders, WebhookSecret, verify};
use crate::ledger::{Ledger, NewWebhookEvent, StoredEvent, now_ms};

/// Where Levers posts unless `--path` says otherwise.
pub const DEFAULT_PATH: &str = "/webhooks/levers";
/// Largest body accepted; anything bigger is answered 413 before it is read to its end.
pub const MAX_BODY: usize = 1024 * 1024;

/// Checks a `--path`: it starts with `/`, uses plain URL characters, and is not `/healthz`.
pub fn check_path(path: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~/".contains(c);
    if !path.starts_with('/') || !path.chars().all(plain) || path.contains("//") {
        return Err(format!(
            "--path {path:?} is not a plain URL path; write it like /webhooks/levers"
        ));
    }
    if path == "/healthz" {
        return Err("--path /healthz is taken by the health check; pick another path".into());
    }
    Ok(())
}

/// What the receiver needs besides its ledger.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub secret: WebhookSecret,
    /// The URL path deliveries arrive on; starts with `/`.
    pub path: String,
}

struct App {
    ledger: Ledger,
    secret: WebhookSecret,
}

/// A running receiver. Dropping it stops the server without waiting.
pub struct Receiver {
    addr: SocketAddr,
    path: String,
    /// Cancelled once to stop accepting and let open requests finish.
    shutdown: CancellationToken,
    /// The server task; `None` once awaited.
    server: Option<JoinHandle<()>>,
}

/// Binds `listen` and serves until shut down.
pub async fn start(
    ledger: Ledger,
    config: ReceiverConfig,
    listen: SocketAddr,
) -> std::io::Result<Receiver> {
    check_path(&config.path)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let app = Arc::new(App {
        ledger,
        secret: config.secret,
    });
    let router = Router::new()
        .route(&config.path, post(receive))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app);
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let serving = axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(error) = serving.await {
            tracing::warn!(%error, "the webhook receiver stopped with an error");
        }
    });
    Ok(Receiver {
        addr,
        path: config.path,
        shutdown,
        server: Some(server),
    })
}

impl Receiver {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The full URL to register as the endpoint, e.g. `http://127.0.0.1:8787/webhooks/levers`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// Stops accepting connections and waits for the requests being handled (each ends
    /// after its ledger commit), so nothing acknowledged is left unwritten.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
        {
            tracing::warn!(%error, "the webhook receiver task failed");
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn receive(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let svix = SvixHeaders {
        id: header("svix-id"),
        timestamp: header("svix-timestamp"),
        signature: header("svix-signature"),
    };
    if let Err(refused) = verify(&app.secret, &svix, &body, now_ms().div_euclid(1000)) {
        let status = StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::BAD_REQUEST);
        tracing::warn!(
            status = status.as_u16(),
            "refused a webhook delivery: {refused}"
        );
        return (status, Json(json!({ "detail": refused.to_string() }))).into_response();
    }
    // `verify` refuses a delivery without an id, so this is the id it checked.
    let svix_id = svix.id.unwrap_or_default().trim().to_owned();
    let parsed = parse_event(&body);
    let received_at = now_ms();
    let outcome = parsed.outcome.map(|mut o| {
        o.received_at = Some(received_at);
        o
    });
    let event = NewWebhookEvent {
        svix_id: svix_id.clone(),
        received_at,
        event_type: parsed.event_type,
        payload: String::from_utf8_lossy(&body).into_owned(),
        target: parsed.target,
        outcome,
    };
    match app.ledger.store_webhook_event(event).await {
        Ok(stored) => {
            log_stored(&svix_id, stored);
            let (status, matched) = match stored {
                StoredEvent::Duplicate => ("duplicate", None),
                StoredEvent::Unmatched => ("stored", Some(false)),
                StoredEvent::Matched { .. } => ("stored", Some(true)),
            };
            Json(json!({ "status": status, "matched": matched })).into_response()
        }
        Err(error) => {
            // Not acknowledged, so Svix delivers it again later: nothing is lost.
            tracing::error!(svix_id, "could not store a webhook delivery: {error}");
            let detail = "the event could not be stored; deliver it again later";
            let body = Json(json!({ "detail": detail }));
            (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
        }
    }
}

fn log_stored(svix_id: &str, stored: StoredEvent) {
    match stored {
        StoredEvent::Duplicate => tracing::debug!(svix_id, "webhook redelivered; already stored"),
        StoredEvent::Unmatched => tracing::info!(svix_id, "webhook stored; it matches no row"),
        StoredEvent::Matched {
            campaign_id,
            line,
            confirmed,
        } => tracing::debug!(svix_id, campaign_id, line, confirmed, "webhook stored"),
    }
}
