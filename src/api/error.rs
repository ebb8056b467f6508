//! The typed errors of the `api` module: everything that stops the client before (or instead
//! of) a classified attempt. Failures of a single call are never errors; they are `Outcome`s.

use std::path::PathBuf;

/// What went wrong while setting the client up or obtaining a token. No variant ever carries
/// a token or a client secret.
#[derive(thiserror::Error, Debug, Clone)]
pub enum ApiError {
    #[error(
        "the API URL `{url}` is not valid: {reason}; pass a full URL such as https://api.dev.uselevers.com with --api-url"
    )]
    InvalidUrl { url: String, reason: String },

    #[error(
        "the API URL `{url}` uses plain http to a host that is not this machine; use https:// (http:// is only allowed for 127.0.0.1, [::1] or localhost)"
    )]
    InsecureUrl { url: String },

    #[error(
        "no Levers credentials found; set LEVERS_API_TOKEN, or both LEVERS_CLIENT_ID and LEVERS_CLIENT_SECRET, or pass --token-file PATH"
    )]
    NoCredentials,

    #[error(
        "{present} is set but {missing} is not; set both, or use LEVERS_API_TOKEN or --token-file instead"
    )]
    PartialClientCredentials {
        present: &'static str,
        missing: &'static str,
    },

    #[error("cannot use the token file {}: {reason}; put the bearer token in that file or use LEVERS_API_TOKEN", path.display())]
    TokenFile { path: PathBuf, reason: String },

    #[error(
        "the Levers API refused the credentials (HTTP {status}: {message}); check LEVERS_API_TOKEN or LEVERS_CLIENT_ID/LEVERS_CLIENT_SECRET"
    )]
    Auth { status: u16, message: String },

    #[error(
        "the token exchange answered HTTP {status} without a usable access_token ({message}); check --api-url points at the Levers API"
    )]
    BadTokenResponse { status: u16, message: String },

    #[error(
        "could not reach the Levers API to exchange credentials for a token: {message}; check the network and --api-url, then try again"
    )]
    Transport { message: String },

    #[error("could not set up the HTTP client: {message}")]
    Client { message: String },
}

impl ApiError {
    /// True when the credentials themselves were refused: the caller should stop with the
    /// authentication exit code rather than treat it as a passing network problem.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ApiError::Auth { .. }
                | ApiError::NoCredentials
                | ApiError::PartialClientCredentials { .. }
                | ApiError::TokenFile { .. }
        )
    }
}
