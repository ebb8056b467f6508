//! Svix webhook signatures, as pure functions: the endpoint secret, signing (the sandbox's
//! sender uses it) and verification (the receiver's first step). No I/O and no clock: the
//! caller passes "now", so every rule is unit-tested here.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far `svix-timestamp` may be from now, either way (replay protection).
pub const TOLERANCE_SECS: i64 = 5 * 60;

const PREFIX: &str = "whsec_";

/// An endpoint's signing secret: HMAC-SHA256 keyed with the bytes decoded from
/// `whsec_<base64>`, keyed once and cloned per message. It never prints: `Debug` is redacted
/// and no error carries it.
#[derive(Clone)]
pub struct WebhookSecret {
    keyed: HmacSha256,
}

/// A secret the receiver cannot use. The texts never contain the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the webhook secret is empty; copy the endpoint's signing secret (whsec_...) from the Levers dashboard (Settings > Webhooks)"
    )]
    Empty,
    #[error(
        "the webhook secret is not base64 after its whsec_ prefix; copy the endpoint's signing secret again from the Levers dashboard"
    )]
    NotBase64,
}

impl WebhookSecret {
    /// Reads `whsec_<base64>` (surrounding whitespace, e.g. a file's newline, is ignored).
    /// A secret without the prefix is read as bare base64, as Svix's own libraries do.
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let text = text.trim();
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        // HMAC takes keys of any length; the error exists for MACs with fixed key sizes.
        let keyed = HmacSha256::new_from_slice(&key).map_err(|_| SecretError::Empty)?;
        Ok(WebhookSecret { keyed })
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The three `svix-*` headers of a delivery, as received (absent or empty is `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SvixHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a delivery was refused. [`VerifyError::status`] is the HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the {0} header is missing; Levers (Svix) always sends it")]
    MissingHeader(&'static str),
    #[error("the svix-timestamp header is not a unix time in seconds")]
    BadTimestamp,
    #[error(
        "the svix-timestamp is {0} s away from now, beyond the 5-minute tolerance (a replay, or this machine's clock is off)"
    )]
    Stale(i64),
    #[error(
        "no v1 signature in svix-signature matches the body; check that the receiver has this endpoint's secret"
    )]
    BadSignature,
}

impl VerifyError {
    /// 401 for a signature that does not match, 400 for missing or stale headers.
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::BadSignature => 401,
            VerifyError::MissingHeader(_) | VerifyError::BadTimestamp | VerifyError::Stale(_) => {
                400
            }
        }
    }
}

/// Checks a delivery: all three headers present, the timestamp within
/// [`TOLERANCE_SECS`] of `now_unix`, and at least one `v1,` entry of `svix-signature` equal
/// (compared in constant time) to HMAC-SHA256 over `{id}.{timestamp}.{body}`.
pub fn verify(
    secret: &WebhookSecret,
    headers: &SvixHeaders<'_>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    let id = present(headers.id, "svix-id")?;
    let timestamp = present(headers.timestamp, "svix-timestamp")?;
    let signature = present(headers.signature, "svix-signature")?;
    let sent: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    let skew = now_unix.saturating_sub(sent);
    if skew.saturating_abs() > TOLERANCE_SECS {
        return Err(VerifyError::Stale(skew));
    }
    let mac = secret.mac(id, timestamp, body);
    let matches = signature
        .split_ascii_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|tag| mac.clone().verify_slice(&tag).is_ok());
    if matches {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

fn present<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(VerifyError::MissingHeader(name)),
    }
}

/// The `svix-signature` value for a delivery: `v1,<base64 HMAC>`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret
        .mac(id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Svix's published example; EXPECTED was computed independently with python3's hmac and
    // base64 modules on this machine (base64(hmac.new(b64decode(key), f"{id}.{ts}.{body}",
    // sha256).digest())), then pasted here.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).expect("a valid secret")
    }

    fn headers<'a>(signature: &'a str, ts: &'a str) -> SvixHeaders<'a> {
        SvixHeaders {
            id: Some(ID),
            timestamp: Some(ts),
            signature: Some(signature),
        }
    }

    #[test]
    fn signs_the_known_vector() {
        assert_eq!(sign(&secret(), ID, TS, BODY), EXPECTED);
    }

    #[test]
    fn verifies_the_known_vector_among_other_entries() {
        let ts = TS.to_string();
        assert_eq!(verify(&secret(), &headers(EXPECTED, &ts), BODY, TS), Ok(()));
        let listed = format!("v1,bm90IGl0 v2,whatever {EXPECTED}");
        assert_eq!(
            verify(&secret(), &headers(&listed, &ts), BODY, TS + 299),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_tampered_body_or_a_wrong_secret() {
        let ts = TS.to_string();
        let tampered = br#"{"test": 2432232315}"#;
        let refused = verify(&secret(), &headers(EXPECTED, &ts), tampered, TS);
        assert_eq!(refused, Err(VerifyError::BadSignature));
        assert_eq!(refused.unwrap_err().status(), 401);
        let other = WebhookSecret::parse("whsec_c2VjcmV0LXR3bw==").expect("valid");
        let refused = verify(&other, &headers(EXPECTED, &ts), BODY, TS);
        assert_eq!(refused, Err(VerifyError::BadSignature));
        // The right signature under another version tag, or as garbage, does not count.
        let v2 = EXPECTED.replacen("v1,", "v2,", 1);
        let refused = verify(&secret(), &headers(&v2, &ts), BODY, TS);
        assert_eq!(refused, Err(VerifyError::BadSignature));
        let refused = verify(&secret(), &headers("v1,%%%", &ts), BODY, TS);
        assert_eq!(refused, Err(VerifyError::BadSignature));
    }

    #[test]
    fn refuses_stale_future_and_malformed_timestamps_with_400() {
        let ts = TS.to_string();
        let stale = verify(&secret(), &headers(EXPECTED, &ts), BODY, TS + 301);
        assert_eq!(stale, Err(VerifyError::Stale(301)));
        assert_eq!(stale.unwrap_err().status(), 400);
        let future = verify(&secret(), &headers(EXPECTED, &ts), BODY, TS - 301);
        assert_eq!(future, Err(VerifyError::Stale(-301)));
        let bad = verify(&secret(), &headers(EXPECTED, "yesterday"), BODY, TS);
        assert_eq!(bad, Err(VerifyError::BadTimestamp));
        let huge = verify(
            &secret(),
            &headers(EXPECTED, &i64::MIN.to_string()),
            BODY,
            TS,
        );
        assert!(matches!(huge, Err(VerifyError::Stale(_))));
    }

    #[test]
    fn refuses_missing_or_empty_headers_with_400() {
        let ts = TS.to_string();
        let full = headers(EXPECTED, &ts);
        let cases = [
            (SvixHeaders { id: None, ..full }, "svix-id"),
            (
                SvixHeaders {
                    id: Some(" "),
                    ..full
                },
                "svix-id",
            ),
            (
                SvixHeaders {
                    timestamp: None,
                    ..full
                },
                "svix-timestamp",
            ),
            (
                SvixHeaders {
                    signature: None,
                    ..full
                },
                "svix-signature",
            ),
        ];
        for (h, name) in cases {
            let refused = verify(&secret(), &h, BODY, TS);
            assert_eq!(refused, Err(VerifyError::MissingHeader(name)));
            assert_eq!(refused.unwrap_err().status(), 400);
        }
    }

    #[test]
    fn secrets_parse_with_or_without_prefix_and_never_print() {
        let bare = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").expect("bare");
        assert_eq!(sign(&bare, ID, TS, BODY), EXPECTED);
        assert_eq!(
            WebhookSecret::parse("whsec_").unwrap_err(),
            SecretError::Empty
        );
        assert_eq!(WebhookSecret::parse("  ").unwrap_err(), SecretError::Empty);
        let bad = WebhookSecret::parse("whsec_not*base64").unwrap_err();
        assert_eq!(bad, SecretError::NotBase64);
        assert!(!bad.to_string().contains("not*base64"));
        assert!(!format!("{:?}", secret()).contains("MfKQ"));
    }
}
