//! `LeversClient`: one POST per attempt, with the bearer token, a single token refresh on a
//! 401/403 when client credentials allow it, and every answer or failure turned into an
//! `Outcome`. It never returns an error and never follows a redirect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;

use super::classify::classify_response;
use super::credentials::{Credentials, Secret};
use super::direct::{Direct, proxy_configured};
use super::endpoint::{AUTH_PATH, CALL_PATH, endpoint, validate_api_url};
use super::error::ApiError;
use super::outcome::Outcome;
use super::token::Tokens;
use super::transport::{
    Answer, TransportFailure, read_capped, redact_text, retry_after, transport_failure,
};

/// Longest wait for a TCP/TLS connection. Kept below the request timeout so that a host that
/// cannot be reached is reported as a connect failure (no call placed), not as a timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const USER_AGENT: &str = concat!("dialer/", env!("CARGO_PKG_VERSION"));

/// One attempt at placing a call, as the dispatcher records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub outcome: Outcome,
    /// Wall time of the whole attempt, a token refresh and the resend included.
    pub latency: Duration,
}

/// How the calls travel: hyper straight, or reqwest (which implements proxies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Direct,
    Reqwest,
}

/// The Levers API client. Cloning is cheap and shares the connection pool and the token.
#[derive(Debug, Clone)]
pub struct LeversClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// The calls' own client; `None` when a proxy is configured (see [`super::direct`]).
    direct: Option<Direct>,
    call_url: Url,
    tokens: Tokens,
}

impl LeversClient {
    /// Validates `api_url` (see [`validate_api_url`]) and builds the HTTP client; `timeout`
    /// bounds each request from connect to the last byte of the answer. Calls go through
    /// hyper straight unless the environment names a proxy (see [`super::direct`]).
    pub fn new(
        api_url: &str,
        creds: Credentials,
        timeout: Duration,
    ) -> Result<LeversClient, ApiError> {
        let route = if proxy_configured(|name| std::env::var_os(name)) {
            Route::Reqwest
        } else {
            Route::Direct
        };
        LeversClient::with_route(api_url, creds, timeout, route)
    }

    /// [`LeversClient::new`] with the calls' route chosen by the caller (tests take both).
    pub(crate) fn with_route(
        api_url: &str,
        creds: Credentials,
        timeout: Duration,
        route: Route,
    ) -> Result<LeversClient, ApiError> {
        let base = validate_api_url(api_url)?;
        if timeout.is_zero() {
            return Err(ApiError::Client {
                message: "the request timeout is zero; pass a --timeout such as 30s".to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // A POST that is redirected must not be replayed at another address.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .build()
            .map_err(|e| ApiError::Client {
                message: e.to_string(),
            })?;
        let call_url = endpoint(&base, CALL_PATH)?;
        let direct = match route {
            Route::Reqwest => None,
            Route::Direct => {
                let connect = timeout.min(MAX_CONNECT_TIMEOUT);
                let direct = Direct::new(call_url.as_str(), USER_AGENT, timeout, connect)
                    .map_err(|message| ApiError::Client { message })?;
                Some(direct)
            }
        };
        Ok(LeversClient {
            inner: Arc::new(Inner {
                http,
                direct,
                call_url,
                tokens: Tokens::new(creds, endpoint(&base, AUTH_PATH)?),
            }),
        })
    }

    /// Exchanges client credentials for a token now, so a bad secret stops the run before any
    /// row is touched. Nothing to do for a static token, which can only be checked by using it.
    pub async fn authenticate(&self) -> Result<(), ApiError> {
        self.inner.tokens.exchange_now(&self.inner.http).await
    }

    /// One attempt: POST the serialised `CallRequest` and classify the answer. A 401/403 with
    /// client credentials triggers one shared token refresh and one resend (safe: the refused
    /// request placed no call); a second refusal is `Outcome::Auth`.
    pub async fn place_call(&self, body: Bytes) -> Attempt {
        let started = Instant::now();
        let outcome = self.attempt(body).await;
        Attempt {
            outcome,
            latency: started.elapsed(),
        }
    }

    async fn attempt(&self, body: Bytes) -> Outcome {
        let Inner { http, tokens, .. } = &*self.inner;
        let (token, generation) = match tokens.get(http).await {
            Ok(got) => got,
            Err(err) => return refresh_failure(err),
        };
        let first = self.send(body.clone(), &token).await;
        if !(matches!(first, Outcome::Auth { .. }) && tokens.can_refresh()) {
            return first;
        }
        match tokens.refresh(http, generation).await {
            Ok((fresh, _)) => self.send(body, &fresh).await,
            Err(err) => refresh_failure(err),
        }
    }

    async fn send(&self, body: Bytes, token: &Secret) -> Outcome {
        let answer = match &self.inner.direct {
            Some(direct) => direct.post(body, token.expose()).await,
            None => self.send_by_reqwest(body, token).await,
        };
        let outcome = match answer {
            Ok(a) => classify_response(a.status, a.retry_after.as_deref(), &a.body),
            Err(failure) => failure.outcome(),
        };
        redact(outcome, &self.inner.tokens.secrets())
    }

    /// The call through reqwest, which honours the proxy the environment names.
    async fn send_by_reqwest(
        &self,
        body: Bytes,
        token: &Secret,
    ) -> Result<Answer, TransportFailure> {
        let response = self
            .inner
            .http
            .post(self.inner.call_url.clone())
            .bearer_auth(token.expose())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| transport_failure(&err))?;
        Ok(Answer {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
            body: read_capped(response).await,
        })
    }
}

/// A refresh that failed placed no call: refused credentials stop the run, anything else
/// (network, a broken token endpoint) is worth another try later.
fn refresh_failure(err: ApiError) -> Outcome {
    match err {
        ApiError::Auth { status, message } => Outcome::Auth { status, message },
        other => Outcome::Retryable {
            status: None,
            error: other.to_string(),
        },
    }
}

/// An API that echoes the request (some error pages do) must not get the token into the
/// ledger or the logs by way of an outcome's text.
fn redact(outcome: Outcome, secrets: &[Option<Secret>]) -> Outcome {
    let clean = |text: String| {
        secrets
            .iter()
            .flatten()
            .fold(text, |t, s| redact_text(t, s.expose()))
    };
    match outcome {
        Outcome::Success {
            status,
            body,
            call_id,
        } => Outcome::Success {
            status,
            body: clean(body),
            call_id,
        },
        Outcome::Permanent {
            status,
            message,
            body,
        } => Outcome::Permanent {
            status,
            message: clean(message),
            body: clean(body),
        },
        Outcome::Auth { status, message } => Outcome::Auth {
            status,
            message: clean(message),
        },
        Outcome::Retryable { status, error } => Outcome::Retryable {
            status,
            error: clean(error),
        },
        Outcome::Uncertain { status, error } => Outcome::Uncertain {
            status,
            error: clean(error),
        },
        throttled @ Outcome::Throttled { .. } => throttled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_scrubs_every_text_field() {
        let secrets = ["tok-12345", "t", ""].map(|s| Some(Secret::new(s)));
        let out = redact(
            Outcome::Permanent {
                status: 400,
                message: "bad token tok-12345".into(),
                body: "{\"auth\":\"Bearer tok-12345\"}".into(),
            },
            &secrets,
        );
        assert_eq!(
            out,
            Outcome::Permanent {
                status: 400,
                message: "bad token [redacted]".into(),
                body: "{\"auth\":\"Bearer [redacted]\"}".into(),
            }
        );
    }

    #[test]
    fn refresh_failures_keep_auth_and_retry_the_rest() {
        let auth = refresh_failure(ApiError::Auth {
            status: 401,
            message: "bad secret".into(),
        });
        assert_eq!(auth.class(), "auth");
        let net = refresh_failure(ApiError::Transport {
            message: "refused".into(),
        });
        assert_eq!(net.class(), "retryable");
    }

    #[test]
    fn new_refuses_bad_urls_and_a_zero_timeout() {
        let creds = || Credentials::Token(Secret::new("t"));
        let insecure = LeversClient::new("http://example.com", creds(), Duration::from_secs(1));
        assert!(matches!(insecure, Err(ApiError::InsecureUrl { .. })));
        let zero = LeversClient::new("http://127.0.0.1:1", creds(), Duration::ZERO);
        assert!(matches!(zero, Err(ApiError::Client { .. })));
    }
}
