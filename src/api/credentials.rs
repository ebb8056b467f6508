//! Where the client's credentials come from (`--token-file`, `LEVERS_API_TOKEN`,
//! `LEVERS_CLIENT_ID` + `LEVERS_CLIENT_SECRET`) and the `Secret` wrapper that keeps them out of
//! every log line, error and `Debug` dump.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::error::ApiError;

pub const ENV_TOKEN: &str = "LEVERS_API_TOKEN";
pub const ENV_CLIENT_ID: &str = "LEVERS_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "LEVERS_CLIENT_SECRET";

/// A secret string. `Debug` and `Display` print `[redacted]`; only `expose()` gives the value,
/// so every place that sends it over the wire is easy to find. Shared, not copied: every
/// request takes the token, and every answer is scrubbed of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Arc::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the dialer authenticates against the Levers API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A bearer token used as is; it cannot be refreshed.
    Token(Secret),
    /// A client id and secret, exchanged for a bearer token (and again on a 401).
    Client { id: String, secret: Secret },
}

impl Credentials {
    /// Picks the credentials in SPEC.md's order: `--token-file`, then `LEVERS_API_TOKEN`, then
    /// `LEVERS_CLIENT_ID` + `LEVERS_CLIENT_SECRET`. `env` looks a variable up, so tests never
    /// touch the process environment. Values that are empty or only whitespace count as unset.
    pub fn resolve(
        token_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, ApiError> {
        if let Some(path) = token_file {
            return read_token_file(path).map(Credentials::Token);
        }
        let var = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(token) = var(ENV_TOKEN) {
            return Ok(Credentials::Token(Secret::new(token)));
        }
        match (var(ENV_CLIENT_ID), var(ENV_CLIENT_SECRET)) {
            (Some(id), Some(secret)) => Ok(Credentials::Client {
                id,
                secret: Secret::new(secret),
            }),
            (Some(_), None) => Err(ApiError::PartialClientCredentials {
                present: ENV_CLIENT_ID,
                missing: ENV_CLIENT_SECRET,
            }),
            (None, Some(_)) => Err(ApiError::PartialClientCredentials {
                present: ENV_CLIENT_SECRET,
                missing: ENV_CLIENT_ID,
            }),
            (None, None) => Err(ApiError::NoCredentials),
        }
    }

    /// The secret part, so error texts coming back from the network can be scrubbed of it.
    pub(crate) fn secret(&self) -> &Secret {
        match self {
            Credentials::Token(secret) | Credentials::Client { secret, .. } => secret,
        }
    }
}

fn read_token_file(path: &Path) -> Result<Secret, ApiError> {
    let fail = |reason: String| ApiError::TokenFile {
        path: path.to_owned(),
        reason,
    };
    // The io::Error text names the OS reason only, never the content, so it is safe to show.
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8 text".to_owned()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(fail("it is empty".to_owned()));
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("tok-SENSITIVE");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(s.expose(), "tok-SENSITIVE");
        let creds = Credentials::Client {
            id: "client-1".into(),
            secret: Secret::new("cs-SENSITIVE"),
        };
        let dbg = format!("{creds:?} {:?}", Credentials::Token(s));
        assert!(!dbg.contains("SENSITIVE"), "{dbg}");
        assert!(dbg.contains("client-1"));
    }

    #[test]
    fn token_file_wins_over_everything_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  file-token\n").unwrap();
        let env = env_of(&[
            (ENV_TOKEN, "env-token"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "sec"),
        ]);
        let creds = Credentials::resolve(Some(&path), env).unwrap();
        assert_eq!(creds, Credentials::Token(Secret::new("file-token")));
    }

    #[test]
    fn token_file_errors_name_the_path_not_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n\t").unwrap();
        let err = Credentials::resolve(Some(&empty), env_of(&[(ENV_TOKEN, "x")])).unwrap_err();
        assert!(matches!(err, ApiError::TokenFile { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains(&empty.display().to_string()) && msg.contains("empty"),
            "{msg}"
        );

        let missing = dir.path().join("nope");
        let msg = Credentials::resolve(Some(&missing), env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&missing.display().to_string()), "{msg}");

        let binary = dir.path().join("bin");
        std::fs::write(&binary, [0xff, 0xfe, b'S', b'E', b'C']).unwrap();
        let msg = Credentials::resolve(Some(&binary), env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("UTF-8") && !msg.contains("SEC"), "{msg}");
    }

    #[test]
    fn env_token_wins_over_client_credentials() {
        let env = env_of(&[
            (ENV_TOKEN, " env-token "),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "sec"),
        ]);
        let creds = Credentials::resolve(None, env).unwrap();
        assert_eq!(creds, Credentials::Token(Secret::new("env-token")));
    }

    #[test]
    fn client_credentials_need_both_variables() {
        let both = env_of(&[(ENV_CLIENT_ID, "id"), (ENV_CLIENT_SECRET, "sec")]);
        assert_eq!(
            Credentials::resolve(None, both).unwrap(),
            Credentials::Client {
                id: "id".into(),
                secret: Secret::new("sec")
            }
        );
        let only_id = Credentials::resolve(None, env_of(&[(ENV_CLIENT_ID, "id")])).unwrap_err();
        assert!(
            only_id.to_string().contains("LEVERS_CLIENT_SECRET is not"),
            "{only_id}"
        );
        let only_secret =
            Credentials::resolve(None, env_of(&[(ENV_CLIENT_SECRET, "sec")])).unwrap_err();
        assert!(only_secret.to_string().contains("LEVERS_CLIENT_ID is not"));
        assert!(!only_secret.to_string().contains("sec;"));
    }

    #[test]
    fn nothing_set_says_what_to_set() {
        let err = Credentials::resolve(None, env_of(&[(ENV_TOKEN, "   ")])).unwrap_err();
        assert!(matches!(err, ApiError::NoCredentials));
        assert!(err.is_auth());
        let msg = err.to_string();
        for needed in [ENV_TOKEN, ENV_CLIENT_ID, ENV_CLIENT_SECRET, "--token-file"] {
            assert!(msg.contains(needed), "{msg} lacks {needed}");
        }
    }
}
