//! The sandbox's webhook sender: after each placed call and a simulated call length, a
//! `phone_call.ended` event shaped like LEVERS_API.md's payload (with the call's metadata
//! echoed as `requestMetadata`), signed the Svix way and posted to `--webhook-url`, retried
//! with backoff on anything but 2xx.
//!
//! The call endpoint only pushes the placed call onto an unbounded queue (never blocking);
//! one task draws each call's ending from a seeded RNG, in placement order, and spawns a
//! delivery per call. Deliveries sleep on timers and post through a semaphore, so the number
//! of requests open at once to the receiver is bounded.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::config::{ConfigError, SandboxConfig};
use super::faults::chance;
use super::state::PlacedCall;
use crate::webhook::{WebhookSecret, sign};

/// The signing secret the sandbox uses unless `--webhook-secret` says otherwise; give the
/// same one to `dialer webhook` (LEVERS_WEBHOOK_SECRET).
pub const DEFAULT_WEBHOOK_SECRET: &str = "whsec_ZGlhbGVyLXNhbmRib3gtd2ViaG9vay1zZWNyZXQhISE=";
/// The caller id of every sandbox call.
const NUMBER_FROM: &str = "+15550100000";
/// Share of calls that do not get through when `--undelivered` is not given.
const NATURAL_UNDELIVERED: f64 = 0.08;
/// Tries per event (the first plus retries), each after twice the previous backoff.
const MAX_TRIES: u32 = 5;
/// Most deliveries posting at once.
const POSTING: usize = 32;
/// Mixed into `--seed` so that enabling webhooks leaves the fault draws unchanged.
const SEED_SALT: u64 = 0x5745_4248_4f4f_4b53;

/// The simulated length of a call, in whole seconds, uniform in `MIN:MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSeconds {
    pub min: u32,
    pub max: u32,
}

impl Default for CallSeconds {
    fn default() -> Self {
        CallSeconds { min: 5, max: 60 }
    }
}

impl FromStr for CallSeconds {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ConfigError::BadCallSeconds(text.to_owned());
        let (min, max) = text.split_once(':').ok_or_else(bad)?;
        let min: u32 = min.trim().parse().map_err(|_| bad())?;
        let max: u32 = max.trim().parse().map_err(|_| bad())?;
        if min > max {
            return Err(bad());
        }
        Ok(CallSeconds { min, max })
    }
}

impl fmt::Display for CallSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.min, self.max)
    }
}

/// Checks `--webhook-url`: http(s) to a loopback host, since the sandbox never talks to
/// anything beyond this machine.
pub fn check_webhook_url(text: &str) -> Result<reqwest::Url, ConfigError> {
    let bad = || ConfigError::BadWebhookUrl(text.to_owned());
    let url = reqwest::Url::parse(text).map_err(|_| bad())?;
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if matches!(url.scheme(), "http" | "https") && loopback {
        Ok(url)
    } else {
        Err(bad())
    }
}

/// How a simulated call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub delivered: bool,
    /// Seconds the call lasted (0 when it did not get through).
    pub duration: u32,
    /// Seconds until the event is sent: the call's length, or the ringing before a failure.
    pub wait: u32,
    pub call_output: &'static str,
    pub sentiment: &'static str,
    pub ended_reason: &'static str,
    pub summary: &'static str,
}

/// (callOutput, weight, summary, the sentiments it comes with, endedReason)
const OUTPUTS: [(&str, u32, &str, [&str; 2], &str); 5] = [
    (
        "PAYMENT_PROMISED",
        35,
        "The contact promised to pay by the due date.",
        ["POSITIVE", "NEUTRAL"],
        "customer-ended-call",
    ),
    (
        "CALLBACK_REQUESTED",
        20,
        "The contact asked to be called back later.",
        ["NEUTRAL", "POSITIVE"],
        "customer-ended-call",
    ),
    (
        "NOT_INTERESTED",
        20,
        "The contact declined and asked for no more calls.",
        ["NEGATIVE", "NEUTRAL"],
        "customer-ended-call",
    ),
    (
        "WRONG_NUMBER",
        10,
        "The person who answered is not the contact.",
        ["NEUTRAL", "NEGATIVE"],
        "assistant-ended-call",
    ),
    (
        "VOICEMAIL",
        15,
        "The call reached voicemail; a message was left.",
        ["NEUTRAL", "NEUTRAL"],
        "voicemail",
    ),
];

/// Draws how a call ends: mostly delivered with a varied result; undelivered with
/// probability `undelivered` (a few percent when `None`).
pub fn draw_ending(rng: &mut impl Rng, seconds: CallSeconds, undelivered: Option<f64>) -> Ending {
    if chance(rng, undelivered.unwrap_or(NATURAL_UNDELIVERED)) {
        let busy = rng.random_bool(0.3);
        return Ending {
            delivered: false,
            duration: 0,
            wait: seconds.min,
            call_output: "NO_ANSWER",
            sentiment: "NEUTRAL",
            ended_reason: if busy {
                "customer-busy"
            } else {
                "customer-did-not-answer"
            },
            summary: "The call did not get through.",
        };
    }
    let total: u32 = OUTPUTS.iter().map(|o| o.1).sum();
    let mut pick = rng.random_range(0..total);
    let (call_output, _, summary, sentiments, ended_reason) = OUTPUTS
        .iter()
        .find(|o| {
            let hit = pick < o.1;
            pick = pick.saturating_sub(o.1);
            hit
        })
        .copied()
        .unwrap_or(OUTPUTS[0]);
    let duration = rng.random_range(seconds.min..=seconds.max);
    Ending {
        delivered: true,
        duration,
        wait: duration,
        call_output,
        sentiment: sentiments[usize::from(rng.random_bool(0.3))],
        ended_reason,
        summary,
    }
}

/// A placed call waiting for its event.
#[derive(Debug)]
struct Placed {
    id: Uuid,
    number: String,
    metadata: Value,
}

/// The `phone_call.ended` body, key for key as LEVERS_API.md documents it.
fn payload(call: &Placed, ending: &Ending) -> Value {
    let status = if ending.delivered { "pass" } else { "fail" };
    let transcription = if ending.delivered {
        format!(
            "AI: Hello, this is a courtesy call.\nContact: ...\n({})",
            ending.summary
        )
    } else {
        String::new()
    };
    json!({
        "providerCallId": call.id.to_string(),
        "numberFrom": NUMBER_FROM,
        "numberTo": call.number,
        "providerStatus": status,
        "deliveryStatus": status,
        "duration": ending.duration,
        "summary": ending.delivered.then_some(ending.summary),
        "endedReason": ending.ended_reason,
        "callOutput": ending.call_output,
        "callOutputReasoning": format!("sandbox: {}", ending.summary),
        "sentimentOutput": ending.sentiment,
        "sentimentOutputReasoning": format!("sandbox: the contact sounded {}", ending.sentiment.to_lowercase()),
        "transcription": transcription,
        "recordingUrl": format!("sandbox:recordings/{}.mp3", call.id),
        "metadata": {"requestMetadata": call.metadata},
    })
}

/// Events delivered (answered 2xx) and given up on, for `GET /sandbox/stats`.
#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
}

/// The call endpoint's side of the sender: hand it each placed call.
#[derive(Debug)]
pub struct Outbox {
    queue: mpsc::UnboundedSender<Placed>,
    counts: Arc<Counts>,
}

impl Outbox {
    /// Starts the sender when `config.webhook_url` is set: the outbox and the task to await
    /// at shutdown.
    pub fn start(
        config: &SandboxConfig,
        shutdown: CancellationToken,
    ) -> std::io::Result<Option<(Outbox, JoinHandle<()>)>> {
        let Some(url) = &config.webhook_url else {
            return Ok(None);
        };
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        let url = check_webhook_url(url).map_err(|e| invalid(e.to_string()))?;
        let secret = WebhookSecret::parse(&config.webhook_secret)
            .map_err(|e| invalid(format!("--webhook-secret is unusable: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| invalid(format!("cannot build the webhook client: {e}")))?;
        let counts = Arc::new(Counts::default());
        let sender = Arc::new(Sender {
            client,
            url,
            secret,
            time_scale: config.time_scale,
            posting: Semaphore::new(POSTING),
            counts: Arc::clone(&counts),
        });
        let (queue, placed) = mpsc::unbounded_channel();
        let rng = Xoshiro256PlusPlus::seed_from_u64(config.seed ^ SEED_SALT);
        let draw = (config.call_seconds, config.undelivered);
        let task = tokio::spawn(run(placed, sender, rng, draw, shutdown));
        Ok(Some((Outbox { queue, counts }, task)))
    }

    /// Queues the event of a call just placed; `metadata` is the request's (or `None`).
    pub fn placed(&self, call: &PlacedCall, metadata: Option<Value>) {
        let placed = Placed {
            id: call.id,
            number: call.number.clone(),
            metadata: metadata.unwrap_or_else(|| json!({})),
        };
        // Fails only once the sender stopped at shutdown; nothing is waiting for it then.
        let _ = self.queue.send(placed);
    }

    pub fn sent(&self) -> u64 {
        self.counts.sent.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.counts.failed.load(Ordering::Relaxed)
    }
}

/// What every delivery shares.
struct Sender {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: WebhookSecret,
    time_scale: f64,
    /// Bounds the posts open at once; a delivery takes a permit after its call ended.
    posting: Semaphore,
    counts: Arc<Counts>,
}

async fn run(
    mut placed: mpsc::UnboundedReceiver<Placed>,
    sender: Arc<Sender>,
    mut rng: Xoshiro256PlusPlus,
    (seconds, undelivered): (CallSeconds, Option<f64>),
    shutdown: CancellationToken,
) {
    let mut deliveries = JoinSet::new();
    loop {
        let call = tokio::select! {
            _ = shutdown.cancelled() => {
                // Calls still "in progress" at shutdown never end: drop their events.
                deliveries.shutdown().await;
                return;
            }
            call = placed.recv() => call,
        };
        let Some(call) = call else { break };
        let ending = draw_ending(&mut rng, seconds, undelivered);
        deliveries.spawn(Arc::clone(&sender).deliver(call, ending));
        while deliveries.try_join_next().is_some() {}
    }
    while deliveries.join_next().await.is_some() {}
}

impl Sender {
    fn scaled(&self, seconds: f64) -> Duration {
        Duration::try_from_secs_f64(seconds * self.time_scale).unwrap_or(Duration::ZERO)
    }

    async fn deliver(self: Arc<Self>, call: Placed, ending: Ending) {
        tokio::time::sleep(self.scaled(f64::from(ending.wait))).await;
        let body = serde_json::to_vec(&payload(&call, &ending)).unwrap_or_default();
        // One id for every try, as Svix does: the receiver deduplicates on it.
        let id = format!("msg_{}", Uuid::from_bytes(rand::rng().random()).simple());
        let Ok(_permit) = self.posting.acquire().await else {
            return;
        };
        for attempt in 0..MAX_TRIES {
            if attempt > 0 {
                tokio::time::sleep(self.scaled(f64::from(1u32 << (attempt - 1)))).await;
            }
            match self.post(&id, &body).await {
                Ok(()) => {
                    self.counts.sent.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(svix_id = id, call = %call.id, "sandbox webhook delivered");
                    return;
                }
                Err(why) => {
                    tracing::debug!(svix_id = id, attempt, "sandbox webhook not accepted: {why}")
                }
            }
        }
        self.counts.failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            svix_id = id,
            "sandbox webhook given up after {MAX_TRIES} tries"
        );
    }

    /// One signed POST; a new timestamp and signature per try, as Svix re-signs retries.
    async fn post(&self, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let response = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("svix-id", id)
            .header("svix-timestamp", timestamp.to_string())
            .header("svix-signature", sign(&self.secret, id, timestamp, body))
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", response.status()))
        }
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
