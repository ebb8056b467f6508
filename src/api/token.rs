//! The bearer token in use, and its exchange from client credentials. A refresh is
//! single-flight: every worker that saw a 401 with the same stale token waits on one exchange
//! and then shares its result, so a burst of 401s never becomes a burst of exchanges.

use std::sync::RwLock;

use reqwest::Url;
use serde_json::Value;

use super::credentials::{Credentials, Secret};
use super::error::ApiError;
use super::message::error_message;
use super::transport::{chain, read_capped, redact_text};

/// The token workers send, with a generation number that changes on every exchange attempt,
/// so a worker can say which token it found stale.
#[derive(Debug, Default)]
struct Current {
    token: Option<Secret>,
    generation: u64,
}

#[derive(Debug)]
pub(crate) struct Tokens {
    creds: Credentials,
    auth_url: Url,
    /// Read by every request; written only while `refresh` is held.
    current: RwLock<Current>,
    /// Held for the whole exchange, so that concurrent refreshes queue behind one. It also
    /// remembers the generation whose exchange failed, so the workers queued behind a failed
    /// exchange share its error instead of each trying again.
    refresh: tokio::sync::Mutex<Option<(u64, ApiError)>>,
}

impl Tokens {
    pub(crate) fn new(creds: Credentials, auth_url: Url) -> Tokens {
        let token = match &creds {
            Credentials::Token(secret) => Some(secret.clone()),
            Credentials::Client { .. } => None,
        };
        Tokens {
            creds,
            auth_url,
            current: RwLock::new(Current {
                token,
                generation: 0,
            }),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.creds, Credentials::Client { .. })
    }

    /// Every secret text that must be scrubbed from what the network sends back.
    pub(crate) fn secrets(&self) -> [Option<Secret>; 2] {
        [Some(self.creds.secret().clone()), self.snapshot().0]
    }

    fn snapshot(&self) -> (Option<Secret>, u64) {
        // A poisoned lock only means a panic elsewhere mid-write of two plain fields; the
        // value is still a whole token, so keep using it.
        let cur = self.current.read().unwrap_or_else(|p| p.into_inner());
        (cur.token.clone(), cur.generation)
    }

    /// The token to send now, exchanging client credentials first if none was obtained yet.
    pub(crate) async fn get(&self, http: &reqwest::Client) -> Result<(Secret, u64), ApiError> {
        match self.snapshot() {
            (Some(token), generation) => Ok((token, generation)),
            (None, generation) => self.refresh(http, generation).await,
        }
    }

    /// Exchanges client credentials now, whatever token is held; nothing to do for a static
    /// token, which can only be checked by using it.
    pub(crate) async fn exchange_now(&self, http: &reqwest::Client) -> Result<(), ApiError> {
        if !self.can_refresh() {
            return Ok(());
        }
        let (_, generation) = self.snapshot();
        self.refresh(http, generation).await.map(drop)
    }

    /// A token newer than generation `stale`: the one another worker already fetched, or a
    /// fresh exchange. Static tokens cannot be refreshed and come back unchanged.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        stale: u64,
    ) -> Result<(Secret, u64), ApiError> {
        let Credentials::Client { id, secret } = &self.creds else {
            let (token, generation) = self.snapshot();
            return token
                .map(|t| (t, generation))
                .ok_or(ApiError::NoCredentials);
        };
        let mut failed = self.refresh.lock().await;
        if let Some((generation, err)) = failed.as_ref()
            && *generation == stale
        {
            return Err(err.clone());
        }
        if let (Some(token), generation) = self.snapshot()
            && generation != stale
        {
            return Ok((token, generation));
        }
        let result = exchange(http, &self.auth_url, id, secret).await;
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        cur.generation += 1;
        match result {
            Ok(token) => {
                cur.token = Some(token.clone());
                *failed = None;
                Ok((token, cur.generation))
            }
            Err(err) => {
                *failed = Some((stale, err.clone()));
                Err(err)
            }
        }
    }
}

/// `POST {base}/auth/v1/api-key/auth` with `{"clientId","clientSecret"}` -> `{"access_token"}`.
async fn exchange(
    http: &reqwest::Client,
    url: &Url,
    id: &str,
    secret: &Secret,
) -> Result<Secret, ApiError> {
    let scrub = |text: String| redact_text(text, secret.expose());
    let payload = serde_json::json!({ "clientId": id, "clientSecret": secret.expose() });
    let response = http
        .post(url.clone())
        .json(&payload)
        .send()
        .await
        .map_err(|e| ApiError::Transport {
            message: scrub(chain(&e)),
        })?;
    let status = response.status().as_u16();
    let body = read_capped(response).await;
    match status {
        200..=299 => {
            let token = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("access_token")?
                        .as_str()
                        .map(str::trim)
                        .map(str::to_owned)
                })
                .filter(|t| !t.is_empty());
            token
                .map(Secret::new)
                .ok_or_else(|| ApiError::BadTokenResponse {
                    status,
                    message: "the body has no access_token string".to_owned(),
                })
        }
        400..=499 => Err(ApiError::Auth {
            status,
            message: scrub(error_message(status, &body)),
        }),
        300..=399 => Err(ApiError::BadTokenResponse {
            status,
            message: "the API answered with a redirect".to_owned(),
        }),
        _ => Err(ApiError::Transport {
            message: scrub(format!("HTTP {status}: {}", error_message(status, &body))),
        }),
    }
}
