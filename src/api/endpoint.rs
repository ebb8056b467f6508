//! The API base URL: which URLs the dialer accepts (`--api-url`) and the two endpoints it
//! derives from one, keeping any path prefix the user gave.

use reqwest::Url;

use super::error::ApiError;

/// Path of the call trigger, relative to the base URL.
pub const CALL_PATH: &str = "api-service/v1/ai/phone-calls/action/call";
/// Path of the client-credentials exchange, relative to the base URL.
pub const AUTH_PATH: &str = "auth/v1/api-key/auth";

/// Accepts `https://` to any host, and `http://` only to this machine (127.0.0.0/8, ::1,
/// localhost), because a bearer token must never cross a network in clear text. The returned
/// URL's path always ends with exactly one `/`, so endpoint paths can be joined onto it.
pub fn validate_api_url(url: &str) -> Result<Url, ApiError> {
    let raw = url.trim();
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let mut parsed = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if parsed.host().is_none() {
        return Err(invalid("it has no host"));
    }
    // Credentials in the URL would be echoed by every log line that names the URL.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ApiError::InvalidUrl {
            url: "(not shown: it contains credentials)".to_owned(),
            reason: "it must not carry a user name or password; use LEVERS_API_TOKEN instead"
                .to_owned(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "it must not have a query (?...) or fragment (#...)",
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(ApiError::InsecureUrl {
                url: raw.to_owned(),
            });
        }
        other => {
            return Err(invalid(&format!(
                "the scheme `{other}` is not http or https"
            )));
        }
    }
    let path = format!("{}/", parsed.path().trim_end_matches('/'));
    parsed.set_path(&path);
    Ok(parsed)
}

/// Joins an endpoint path onto a base URL returned by [`validate_api_url`].
pub(crate) fn endpoint(base: &Url, path: &str) -> Result<Url, ApiError> {
    base.join(path).map_err(|e| ApiError::InvalidUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })
}

/// Loopback as the URL parser normalised it: `url` has already turned `127.1` into
/// `127.0.0.1` and lower-cased domain names; IPv6 hosts come wrapped in brackets.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.trim_end_matches('.') == "localhost",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> String {
        validate_api_url(url).unwrap().to_string()
    }

    #[test]
    fn https_is_accepted_and_normalised() {
        assert_eq!(
            ok("https://api.dev.uselevers.com"),
            "https://api.dev.uselevers.com/"
        );
        assert_eq!(
            ok(" https://api.example.com/// "),
            "https://api.example.com/"
        );
        assert_eq!(
            ok("https://gw.example.com/levers/"),
            "https://gw.example.com/levers/"
        );
    }

    #[test]
    fn a_path_prefix_is_kept_in_both_endpoints() {
        let base = validate_api_url("https://gw.example.com/levers//").unwrap();
        assert_eq!(
            endpoint(&base, CALL_PATH).unwrap().as_str(),
            "https://gw.example.com/levers/api-service/v1/ai/phone-calls/action/call"
        );
        assert_eq!(
            endpoint(&base, AUTH_PATH).unwrap().as_str(),
            "https://gw.example.com/levers/auth/v1/api-key/auth"
        );
    }

    #[test]
    fn http_is_accepted_for_loopback_only() {
        assert_eq!(ok("http://127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(ok("http://127.1.2.3/"), "http://127.1.2.3/");
        assert_eq!(ok("http://[::1]:9000/x/"), "http://[::1]:9000/x/");
        assert_eq!(ok("http://localhost:3000"), "http://localhost:3000/");
        assert_eq!(ok("HTTP://LocalHost"), "http://localhost/");
    }

    #[test]
    fn http_to_a_remote_host_is_refused() {
        for url in [
            "http://api.dev.uselevers.com",
            "http://10.0.0.1",
            "http://[2001:db8::1]",
            "http://localhost.evil.com",
        ] {
            let err = validate_api_url(url).unwrap_err();
            assert!(matches!(err, ApiError::InsecureUrl { .. }), "{url}: {err}");
            assert!(err.to_string().contains("https://"));
        }
    }

    #[test]
    fn garbage_is_refused() {
        for url in [
            "",
            "api.dev.uselevers.com",
            "ftp://example.com",
            "https://",
            "https://example.com/?a=b",
            "https://example.com/#frag",
            "not a url",
        ] {
            let err = validate_api_url(url).unwrap_err();
            assert!(matches!(err, ApiError::InvalidUrl { .. }), "{url:?}: {err}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let err = validate_api_url("https://user:hunter2@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
