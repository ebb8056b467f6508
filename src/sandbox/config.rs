//! The sandbox's knobs: credentials, token lifetime, latency and fault ratios. One struct
//! serves both as `dialer sandbox` flags (clap flattens it) and as the test-suite's builder
//! (`SandboxConfig { hang: 1.0, ..Default::default() }`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::webhook::{CallSeconds, DEFAULT_WEBHOOK_SECRET, check_webhook_url};

const DEFAULT_TOKEN: &str = "sandbox-token";
const DEFAULT_CLIENT_ID: &str = "sandbox-client";
const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A flag value the sandbox cannot use.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("latency `{0}` is not a duration or range; write e.g. `50ms` or `20ms..80ms`")]
    BadLatency(String),
    #[error("latency range `{0}` has its minimum above its maximum; write it as MIN..MAX")]
    InvertedLatency(String),
    #[error("ratio `{0}` is not a number between 0 and 1; write e.g. `0.05` for 5 %")]
    BadRatio(String),
    #[error("call length `{0}` is not MIN:MAX whole seconds; write e.g. `5:60`")]
    BadCallSeconds(String),
    #[error("time scale `{0}` is not a number of at least 0; write e.g. `0.001`")]
    BadTimeScale(String),
    #[error(
        "webhook URL `{0}` is not an http(s) URL on this machine; write e.g. `http://127.0.0.1:8787/webhooks/levers`"
    )]
    BadWebhookUrl(String),
}

/// How long the sandbox waits before answering a call request: a fixed delay when
/// `min == max`, otherwise uniform in `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyRange {
    pub min: Duration,
    pub max: Duration,
}

impl FromStr for LatencyRange {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ConfigError::BadLatency(text.to_owned());
        let parse = |part: &str| humantime::parse_duration(part.trim()).map_err(|_| bad());
        let (min, max) = match text.split_once("..") {
            Some((low, high)) => (parse(low)?, parse(high)?),
            None => {
                let fixed = parse(text)?;
                (fixed, fixed)
            }
        };
        if min > max {
            return Err(ConfigError::InvertedLatency(text.to_owned()));
        }
        Ok(LatencyRange { min, max })
    }
}

impl fmt::Display for LatencyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let min = humantime::format_duration(self.min);
        if self.min == self.max {
            write!(f, "{min}")
        } else {
            write!(f, "{min}..{}", humantime::format_duration(self.max))
        }
    }
}

fn parse_time_scale(text: &str) -> Result<f64, ConfigError> {
    match text.trim().parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale >= 0.0 => Ok(scale),
        _ => Err(ConfigError::BadTimeScale(text.to_owned())),
    }
}

fn parse_webhook_url(text: &str) -> Result<String, ConfigError> {
    check_webhook_url(text).map(|_| text.to_owned())
}

fn parse_latency(text: &str) -> Result<LatencyRange, ConfigError> {
    text.parse()
}

/// A probability in `[0, 1]`, as the fault flags take it.
pub fn parse_ratio(text: &str) -> Result<f64, ConfigError> {
    match text.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(ConfigError::BadRatio(text.to_owned())),
    }
}

/// Every knob of the sandbox. `Debug` is written by hand so that the static token and the
/// client secret never reach a log line.
#[derive(clap::Args, Clone)]
pub struct SandboxConfig {
    /// Static bearer token the API accepts (besides the tokens it issues).
    #[arg(long, default_value = DEFAULT_TOKEN)]
    pub token: String,
    /// Client id accepted by `POST /auth/v1/api-key/auth`.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Client secret accepted by `POST /auth/v1/api-key/auth`.
    #[arg(long, default_value = DEFAULT_CLIENT_SECRET)]
    pub client_secret: String,
    /// Lifetime of issued tokens; after it, calls made with them get 401.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,
    /// Delay before answering each call request: `50ms`, or a range `20ms..80ms`.
    #[arg(long, value_parser = parse_latency)]
    pub latency: Option<LatencyRange>,
    /// Call requests accepted per sliding second; above it, 429 with `Retry-After`.
    #[arg(long)]
    pub rate_cap: Option<u32>,
    /// Ratio of call requests answered 503 before any call is placed.
    #[arg(long = "fail-503", default_value_t = 0.0, value_parser = parse_ratio)]
    pub fail_503: f64,
    /// The first N valid requests for each number get 503 (no call placed).
    #[arg(long = "fail-503-first", default_value_t = 0)]
    pub fail_503_first: u32,
    /// Ratio of calls that are placed and then answered 500.
    #[arg(long = "fail-500-after", default_value_t = 0.0, value_parser = parse_ratio)]
    pub fail_500_after: f64,
    /// Ratio of calls that are placed and then never answered (until the client gives up).
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    pub hang: f64,
    /// A contact that exists before any call (repeatable); matters for createIfNotExists:false.
    #[arg(long = "known-number")]
    pub known_number: Vec<String>,
    /// Seed of the random draws behind latency and faults, so a run can be replayed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Post a signed `phone_call.ended` event here after each placed call (loopback only).
    #[arg(long, value_parser = parse_webhook_url)]
    pub webhook_url: Option<String>,
    /// The secret those events are signed with (whsec_...); give `dialer webhook` the same.
    /// Checked when the sandbox starts, not here: a parse error would echo it.
    #[arg(long, default_value = DEFAULT_WEBHOOK_SECRET)]
    pub webhook_secret: String,
    /// Simulated call length, whole seconds MIN:MAX; the event is sent when the call ends.
    #[arg(long, default_value = "5:60")]
    pub call_seconds: CallSeconds,
    /// Multiplies simulated durations (0.001 makes a 30 s call take 30 ms).
    #[arg(long, default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Share of placed calls that do not get through (deliveryStatus fail) [default: 0.08].
    #[arg(long, value_parser = parse_ratio)]
    pub undelivered: Option<f64>,
    /// A prompt template that exists (repeatable). When any is given, a request naming
    /// another template is refused 404, as the API refuses a template id it does not know.
    #[arg(long = "known-template", value_name = "UUID")]
    pub known_template: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            token: DEFAULT_TOKEN.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_ttl: DEFAULT_TOKEN_TTL,
            latency: None,
            rate_cap: None,
            fail_503: 0.0,
            fail_503_first: 0,
            fail_500_after: 0.0,
            hang: 0.0,
            known_number: Vec::new(),
            seed: 0,
            webhook_url: None,
            webhook_secret: DEFAULT_WEBHOOK_SECRET.to_owned(),
            call_seconds: CallSeconds::default(),
            time_scale: 1.0,
            undelivered: None,
            known_template: Vec::new(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("token", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_ttl", &self.token_ttl)
            .field("latency", &self.latency)
            .field("rate_cap", &self.rate_cap)
            .field("fail_503", &self.fail_503)
            .field("fail_503_first", &self.fail_503_first)
            .field("fail_500_after", &self.fail_500_after)
            .field("hang", &self.hang)
            .field("known_number", &self.known_number)
            .field("seed", &self.seed)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &"<redacted>")
            .field("call_seconds", &self.call_seconds)
            .field("time_scale", &self.time_scale)
            .field("undelivered", &self.undelivered)
            .field("known_template", &self.known_template)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: SandboxConfig,
    }

    fn parse(args: &[&str]) -> Result<SandboxConfig, clap::Error> {
        let argv = std::iter::once("sandbox").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.config)
    }

    #[test]
    fn flag_defaults_match_default_impl() {
        let from_flags = parse(&[]).expect("no flags is valid");
        let default = SandboxConfig::default();
        assert_eq!(format!("{from_flags:?}"), format!("{default:?}"));
        assert_eq!(from_flags.token, default.token);
        assert_eq!(from_flags.client_secret, default.client_secret);
    }

    #[test]
    fn flags_set_every_knob() {
        let config = parse(&[
            "--token-ttl=5m",
            "--latency=20ms..80ms",
            "--rate-cap=7",
            "--fail-503=0.25",
            "--fail-503-first=2",
            "--fail-500-after=0.1",
            "--hang=1",
            "--known-number=+15550001111",
            "--known-number=+15550002222",
            "--seed=9",
        ])
        .expect("valid flags");
        assert_eq!(config.token_ttl, Duration::from_secs(300));
        assert_eq!(
            config.latency,
            Some(LatencyRange {
                min: Duration::from_millis(20),
                max: Duration::from_millis(80)
            })
        );
        assert_eq!(config.rate_cap, Some(7));
        assert_eq!(config.fail_503, 0.25);
        assert_eq!(config.fail_503_first, 2);
        assert_eq!(config.fail_500_after, 0.1);
        assert_eq!(config.hang, 1.0);
        assert_eq!(config.known_number, ["+15550001111", "+15550002222"]);
        assert_eq!(config.seed, 9);
    }

    #[test]
    fn webhook_flags_are_read_and_checked() {
        let config = parse(&[
            "--webhook-url=http://127.0.0.1:8787/webhooks/levers",
            "--webhook-secret=whsec_c2VjcmV0LXR3bw==",
            "--call-seconds=1:3",
            "--time-scale=0.001",
            "--undelivered=0.25",
        ])
        .expect("valid flags");
        let url = config.webhook_url.as_deref();
        assert_eq!(url, Some("http://127.0.0.1:8787/webhooks/levers"));
        assert_eq!(config.call_seconds, CallSeconds { min: 1, max: 3 });
        assert_eq!((config.time_scale, config.undelivered), (0.001, Some(0.25)));
        assert!(!format!("{config:?}").contains("c2VjcmV0LXR3bw"));
        for bad in [
            "--webhook-url=http://example.com/hook",
            "--webhook-url=ftp://127.0.0.1/x",
            "--call-seconds=9:1",
            "--call-seconds=5",
            "--time-scale=-1",
            "--undelivered=2",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn ratios_outside_zero_one_are_refused() {
        assert!(parse(&["--hang=1.5"]).is_err());
        assert!(parse(&["--fail-503=-0.1"]).is_err());
        assert_eq!(parse_ratio("NaN"), Err(ConfigError::BadRatio("NaN".into())));
    }

    #[test]
    fn latency_parses_fixed_and_ranges() {
        let fixed: LatencyRange = "50ms".parse().expect("fixed latency");
        assert_eq!(fixed.min, Duration::from_millis(50));
        assert_eq!(fixed.max, fixed.min);
        assert_eq!(fixed.to_string(), "50ms");
        let range: LatencyRange = "20ms..1s".parse().expect("range");
        assert_eq!(range.to_string(), "20ms..1s");
        assert!(matches!(
            "80ms..20ms".parse::<LatencyRange>(),
            Err(ConfigError::InvertedLatency(_))
        ));
        assert!(matches!(
            "soon".parse::<LatencyRange>(),
            Err(ConfigError::BadLatency(_))
        ));
    }

    #[test]
    fn debug_hides_secrets() {
        let config = SandboxConfig {
            token: "tok-very-secret".into(),
            client_secret: "sec-very-secret".into(),
            ..Default::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("sandbox-client"));
    }
}
