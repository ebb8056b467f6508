//! A local stand-in for the Levers API, for `dialer demo`, the test suite and benchmarks.
//!
//! It serves the two documented endpoints (`POST /auth/v1/api-key/auth` and
//! `POST /api-service/v1/ai/phone-calls/action/call`) with the documented answers, plus
//! fault knobs (latency, 429 above a rate cap, 503 before placing, 500 after placing, hung
//! requests) and `GET /sandbox/stats` / `GET /sandbox/calls` so tests can prove that every
//! row was called exactly once and at what rate.
//!
//! - `config`: the knobs, as clap flags and as a plain struct.
//! - `handlers`: the axum router; `state`: shared state and every decision.
//! - `validate`: FastAPI/pydantic-shaped 422s; `tokens`: static and issued bearer tokens.
//! - `faults`: seeded fault and latency draws; `window`: sliding one-second counts;
//!   `stats`: what `GET /sandbox/stats` reports.
//! - `webhook`: the signed `phone_call.ended` event after each placed call.

mod config;
mod faults;
mod handlers;
mod state;
mod stats;
mod tokens;
mod validate;
mod webhook;
mod window;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{ConfigError, LatencyRange, SandboxConfig, parse_ratio};
pub use handlers::{AUTH_PATH, CALL_PATH};
pub use state::KEPT_CALLS;
pub use stats::Stats;
pub use webhook::{CallSeconds, DEFAULT_WEBHOOK_SECRET};
pub use window::max_in_window;

use state::Shared;

/// A running sandbox. Dropping it stops the server (as [`Sandbox::shutdown`] does, without
/// waiting for it).
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The server task; `None` once awaited by `shutdown` or `wait`.
    server: Option<JoinHandle<()>>,
    /// The webhook sender's task, when `webhook_url` is set; awaited after the server.
    webhooks: Option<JoinHandle<()>>,
}

/// Binds `listen` (use `127.0.0.1:0` in tests) and serves until shut down.
pub async fn start(config: SandboxConfig, listen: SocketAddr) -> std::io::Result<Sandbox> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let mut shared = Shared::new(config, shutdown.clone());
    let (outbox, webhooks) = webhook::Outbox::start(&shared.config, shutdown.clone())?.unzip();
    shared.outbox = outbox;
    let shared = Arc::new(shared);
    let app = handlers::router(Arc::clone(&shared));
    let server = tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(error) = serving.await {
            tracing::warn!(%error, "the sandbox server stopped with an error");
        }
    });
    tracing::debug!(%addr, "sandbox listening");
    Ok(Sandbox {
        addr,
        shared,
        server: Some(server),
        webhooks,
    })
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give the dialer, e.g. `http://127.0.0.1:8788`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same data as `GET /sandbox/stats`.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The accepted request bodies, in the order the calls were placed (the first
    /// [`KEPT_CALLS`] only).
    pub fn calls(&self) -> Vec<serde_json::Value> {
        self.shared.calls()
    }

    /// When each call request arrived (unix microseconds, in arrival order; the first
    /// 100,000), read by the sandbox's own clock.
    pub fn arrivals(&self) -> Vec<i64> {
        self.shared.arrivals()
    }

    /// Stops accepting connections, answers hung requests (504) and waits until every
    /// connection is closed.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        self.join().await;
    }

    /// Serves until the process ends (for `dialer sandbox`).
    pub async fn wait(mut self) {
        self.join().await;
    }

    async fn join(&mut self) {
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
        {
            tracing::warn!(%error, "the sandbox server task failed");
        }
        if let Some(webhooks) = self.webhooks.take()
            && let Err(error) = webhooks.await
        {
            tracing::warn!(%error, "the sandbox webhook sender failed");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
