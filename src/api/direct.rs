//! The call path's HTTP: hyper's pooled client, used straight. reqwest wraps the same
//! client in layers the call path never uses (redirect following, retries, the URL parsed
//! again for every request and every answer); profiled, they were a sixth of the dialer's
//! instructions per call. reqwest keeps the token exchange, and the calls too whenever the
//! environment names a proxy, which it implements and this does not.

use std::ffi::OsString;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::transport::{Answer, TransportFailure, chain, keep_capped, retry_after};

/// The variables reqwest reads for a proxy; with any of them set, reqwest carries the calls.
const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Whether the environment (`var`, e.g. `std::env::var_os`) names a proxy, which only the
/// reqwest path honours.
pub(crate) fn proxy_configured(var: impl Fn(&str) -> Option<OsString>) -> bool {
    PROXY_VARS
        .iter()
        .any(|v| var(v).is_some_and(|x| !x.is_empty()))
}

#[derive(Debug)]
pub(crate) struct Direct {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: hyper::Uri,
    user_agent: HeaderValue,
    timeout: Duration,
}

impl Direct {
    /// A client for POSTs to `url`, with the same TLS as reqwest's (rustls, the platform's
    /// verifier, HTTP/2 where the server offers it) and the same timeouts.
    pub(crate) fn new(
        url: &str,
        user_agent: &'static str,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Direct, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        Ok(Direct {
            client: Client::builder(TokioExecutor::new()).build(https),
            uri,
            user_agent: HeaderValue::from_static(user_agent),
            timeout,
        })
    }

    /// One POST of `body` with the bearer `token`, bounded by the timeout from connect to
    /// the last byte read. Never follows a redirect.
    pub(crate) async fn post(&self, body: Bytes, token: &str) -> Result<Answer, TransportFailure> {
        let mut auth = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| TransportFailure::Unsent("the token is not a valid header".into()))?;
        auth.set_sensitive(true);
        let request = Request::post(self.uri.clone())
            .header(USER_AGENT, self.user_agent.clone())
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Full::new(body))
            .map_err(|e| TransportFailure::Unsent(e.to_string()))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    TransportFailure::Unsent(chain(&e))
                } else {
                    TransportFailure::Lost(chain(&e))
                }
            })?;
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            let body = read_capped(response.into_body()).await;
            Ok(Answer {
                status,
                retry_after,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(TransportFailure::TimedOut("operation timed out".into())))
    }
}

/// The body, capped (see [`keep_capped`]); one that breaks off midway still counts, as the
/// status already decided the outcome.
async fn read_capped(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if keep_capped(&mut out, &chunk) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_proxy_variable_that_is_set_and_not_empty_sends_the_calls_through_reqwest() {
        let env = |set: &'static str, value: &'static str| {
            move |name: &str| (name == set).then(|| OsString::from(value))
        };
        assert!(proxy_configured(env("https_proxy", "http://proxy:3128")));
        assert!(proxy_configured(env("ALL_PROXY", "socks5://proxy")));
        assert!(!proxy_configured(env("HTTPS_PROXY", "")));
        assert!(!proxy_configured(env("NO_PROXY", "*")));
    }
}
