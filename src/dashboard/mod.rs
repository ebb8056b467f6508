//! `dialer dashboard` and `dialer webhook --dashboard`: a live, read-only view of the ledger
//! in the browser. It owns the server's life (bind, refuse unsafe addresses, shut down), the
//! bearer-token check, and the few pages of its own (campaign list, token loader); a
//! campaign's page is the HTML report's renderer with [`crate::report::html::Live`] set.
//!
//! It opens its own ledger handle, so its reads run on a connection of their own in WAL
//! mode, off the async runtime: a running dispatcher or receiver is never kept waiting.

mod pages;
mod routes;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ledger::{Ledger, LedgerError};

/// Where the token comes from.
pub const TOKEN_ENV: &str = "DIALER_DASHBOARD_TOKEN";

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(
        "refusing to serve the dashboard on {0} without a token: other machines could read \
         the ledger. Set {TOKEN_ENV} to a long random value, or listen on 127.0.0.1"
    )]
    NeedsToken(SocketAddr),
    #[error("{TOKEN_ENV} is set but empty; give it a long random value or unset it")]
    EmptyToken,
    #[error("cannot serve the dashboard on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A bearer token. Its `Debug` never shows the value, so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// Compares in time independent of where the texts differ.
    fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Checks the address against the token before anything is opened: loopback needs none,
/// any other address needs one.
pub fn check(listen: SocketAddr, token: Option<String>) -> Result<Option<Token>, DashboardError> {
    match token {
        Some(t) if t.trim().is_empty() => Err(DashboardError::EmptyToken),
        Some(t) => Ok(Some(Token(t.trim().to_string()))),
        None if listen.ip().is_loopback() => Ok(None),
        None => Err(DashboardError::NeedsToken(listen)),
    }
}

pub(crate) struct App {
    pub(crate) ledger: Ledger,
    pub(crate) token: Option<Token>,
}

/// A running dashboard. Dropping it stops the server without waiting.
pub struct Dashboard {
    addr: SocketAddr,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

/// Opens the ledger at `ledger_path`, binds `listen` and serves until shut down. `token`
/// comes from [`check`].
pub async fn start(
    ledger_path: &Path,
    listen: SocketAddr,
    token: Option<Token>,
) -> Result<Dashboard, DashboardError> {
    let ledger = Ledger::open(ledger_path)?;
    let bind = |source| DashboardError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let app = Arc::new(App { ledger, token });
    let router: Router = routes::router()
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, service).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(error) = serving.await {
            tracing::warn!(%error, "the dashboard stopped with an error");
        }
    });
    Ok(Dashboard {
        addr,
        shutdown,
        server: Some(server),
    })
}

impl Dashboard {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting connections and waits for the requests in hand.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take()
            && let Err(error) = server.await
        {
            tracing::warn!(%error, "the dashboard task failed");
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Every request: the token check (when there is a token) and headers that keep the pages
/// out of caches and frames. A request without the right `Authorization: Bearer` gets 401
/// with the small loader page, which reads the token from the URL fragment once, keeps it in
/// sessionStorage and asks again with the header; it carries no ledger data.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| token.matches(g.trim())) {
            let mut res = (StatusCode::UNAUTHORIZED, pages::loader()).into_response();
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return protect(res);
        }
    }
    protect(next.run(req).await)
}

fn protect(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src data:; frame-ancestors 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        let lo: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8790".parse().unwrap();
        assert!(check(lo, None).unwrap().is_none());
        assert!(check("[::1]:0".parse().unwrap(), None).unwrap().is_none());
        let err = check(any, None).unwrap_err();
        assert!(err.to_string().contains(TOKEN_ENV), "{err}");
        assert!(matches!(
            check(any, Some("  ".into())),
            Err(DashboardError::EmptyToken)
        ));
        let t = check(any, Some("s3cret\n".into())).unwrap().unwrap();
        assert!(t.matches("s3cret") && !t.matches("s3cre") && !t.matches("s3creT"));
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
