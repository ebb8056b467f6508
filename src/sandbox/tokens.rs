//! Bearer tokens: the static one from the config, and JWT-looking ones issued by
//! `POST /auth/v1/api-key/auth` that expire after `token_ttl`. Tokens are never logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use serde_json::json;

use super::config::SandboxConfig;
use super::state::lock;

/// `{"alg":"HS256","typ":"JWT"}`, so issued tokens look like the real API's JWTs.
const JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// What the `Authorization` header of a call request amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    /// No bearer token at all: `{"detail":"Not authenticated"}`.
    Missing,
    /// A token the sandbox does not know, or one that expired.
    Invalid,
}

pub struct TokenStore {
    static_token: String,
    client_id: String,
    ttl: Duration,
    /// Issued token -> when it expires (`None`: never, the TTL overflowed the clock).
    issued: Mutex<HashMap<String, Option<Instant>>>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issued = lock(&self.issued).len();
        f.debug_struct("TokenStore")
            .field("issued", &issued)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    pub fn new(config: &SandboxConfig) -> Self {
        TokenStore {
            static_token: config.token.clone(),
            client_id: config.client_id.clone(),
            ttl: config.token_ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, token: Option<&str>) -> TokenCheck {
        let Some(token) = token else {
            return TokenCheck::Missing;
        };
        if token == self.static_token {
            return TokenCheck::Valid;
        }
        let mut issued = lock(&self.issued);
        match issued.get(token) {
            Some(None) => TokenCheck::Valid,
            Some(Some(expires)) if *expires > Instant::now() => TokenCheck::Valid,
            Some(Some(_)) => {
                issued.remove(token);
                TokenCheck::Invalid
            }
            None => TokenCheck::Invalid,
        }
    }

    /// A new random JWT-looking token, valid for the configured TTL.
    pub fn issue(&self) -> String {
        let mut rng = rand::rng();
        let jti: [u8; 16] = rng.random();
        let signature: [u8; 32] = rng.random();
        let exp = SystemTime::now()
            .checked_add(self.ttl)
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(u64::MAX, |since| since.as_secs());
        let payload = json!({ "sub": self.client_id, "jti": hex::encode(jti), "exp": exp });
        let token = format!(
            "{JWT_HEADER}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let now = Instant::now();
        let mut issued = lock(&self.issued);
        // Expired tokens are dropped here so the map only holds live ones.
        issued.retain(|_, expires| expires.is_none_or(|at| at > now));
        issued.insert(token.clone(), now.checked_add(self.ttl));
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_jwt_shaped_and_expire() {
        let config = SandboxConfig {
            token_ttl: Duration::from_millis(30),
            ..Default::default()
        };
        let store = TokenStore::new(&config);
        let token = store.issue();
        assert_eq!(token.split('.').count(), 3);
        assert!(token.starts_with("eyJ"));
        let payload = token.split('.').nth(1).unwrap_or_default();
        let claims: serde_json::Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .unwrap_or_default();
        assert_eq!(claims["sub"], "sandbox-client");
        assert_ne!(token, store.issue());
        assert_eq!(store.check(Some(&token)), TokenCheck::Valid);
        assert_eq!(store.check(Some("sandbox-token")), TokenCheck::Valid);
        assert_eq!(store.check(Some("forged")), TokenCheck::Invalid);
        assert_eq!(store.check(None), TokenCheck::Missing);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(store.check(Some(&token)), TokenCheck::Invalid);
    }

    #[test]
    fn debug_shows_no_token() {
        let store = TokenStore::new(&SandboxConfig::default());
        let token = store.issue();
        let shown = format!("{store:?}");
        assert!(
            !shown.contains(&token) && !shown.contains("sandbox-token"),
            "{shown}"
        );
    }
}
