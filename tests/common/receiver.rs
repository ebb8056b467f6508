//! A webhook receiver in the test process writing into the test's ledger, and the sandbox
//! settings that post signed events to it: the runs under test (other processes) and the
//! receiver share one ledger file, as `dialer run` and `dialer webhook` do.

use dialer::ledger::Ledger;
use dialer::sandbox::SandboxConfig;
use dialer::webhook::{self, ReceiverConfig, WebhookSecret};

pub const SECRET: &str = "whsec_ZTJlLXJlY2VpdmVyLXNlY3JldC1mb3ItdGVzdHM=";

/// Starts a receiver on 127.0.0.1:0 writing into the ledger at `path`.
pub async fn start(path: &std::path::Path) -> webhook::Receiver {
    let ledger = Ledger::open(path).unwrap();
    let config = ReceiverConfig {
        secret: WebhookSecret::parse(SECRET).unwrap(),
        path: webhook::DEFAULT_PATH.into(),
    };
    webhook::start(ledger, config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Sandbox settings posting every placed call's outcome to `receiver`, with calls of
/// 5..60 s lasting 5..60 ms (time scale 1/1000), `undelivered` of them not delivered.
pub fn sandbox(receiver: &webhook::Receiver, undelivered: f64, seed: u64) -> SandboxConfig {
    SandboxConfig {
        webhook_url: Some(receiver.url()),
        webhook_secret: SECRET.into(),
        time_scale: 0.001,
        undelivered: Some(undelivered),
        seed,
        ..SandboxConfig::default()
    }
}
