//! `dialer demo`: the sandbox and the webhook receiver on free loopback ports and a run of
//! the sample contacts through them, in one process, with nothing to set up. The sample
//! files are compiled in, so the demo works from any directory.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::CmdError;
use super::say;
use crate::campaign;
use crate::cli::DemoArgs;
use crate::ledger::{Ledger, now_ms};
use crate::sandbox::{self, CallSeconds, DEFAULT_WEBHOOK_SECRET, LatencyRange, SandboxConfig};
use crate::webhook::{self, ReceiverConfig, WebhookSecret};

const CONTACTS: &str = include_str!("../../samples/contacts.csv");
const DNC: &str = include_str!("../../samples/dnc.txt");
/// How long the demo waits for the last call outcomes before printing the summary.
const OUTCOME_WAIT: Duration = Duration::from_secs(15);

pub async fn run(
    ledger: Option<PathBuf>,
    args: &DemoArgs,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<i32, CmdError> {
    let io = |e: std::io::Error| CmdError::Io(format!("demo: {e}"));
    let tmp = tempfile::tempdir().map_err(io)?;
    let kept = ledger.is_some();
    let ledger_path = ledger.unwrap_or_else(|| tmp.path().join("demo.db"));
    let store = Ledger::open(&ledger_path)?;

    let secret = WebhookSecret::parse(DEFAULT_WEBHOOK_SECRET)
        .map_err(|e| CmdError::Io(format!("demo: {e}")))?;
    let receiver = webhook::start(
        store.clone(),
        ReceiverConfig {
            secret,
            path: webhook::DEFAULT_PATH.to_string(),
        },
        loopback(),
    )
    .await
    .map_err(io)?;
    let config = SandboxConfig {
        latency: Some(LatencyRange {
            min: Duration::from_millis(20),
            max: Duration::from_millis(120),
        }),
        fail_503: 0.05,
        webhook_url: Some(receiver.url()),
        // Calls of 20 s to 3 min, played forty times faster so outcomes arrive in seconds.
        call_seconds: CallSeconds { min: 20, max: 180 },
        time_scale: 0.025,
        ..SandboxConfig::default()
    };
    let sb = sandbox::start(config.clone(), loopback())
        .await
        .map_err(io)?;

    let csv = match &args.csv {
        Some(p) => p.clone(),
        None => {
            let p = tmp.path().join("contacts.csv");
            std::fs::write(&p, CONTACTS).map_err(io)?;
            p
        }
    };
    let dnc = tmp.path().join("dnc.txt");
    std::fs::write(&dnc, DNC).map_err(io)?;
    eprintln!(
        "demo: sandbox at {}, webhook receiver at {}; dialing {} at {} into {}",
        sb.url(),
        receiver.url(),
        csv.display(),
        args.rate,
        ledger_path.display()
    );
    let start = campaign::Start {
        csv,
        name: "demo".into(),
        settings: demo_settings(dnc, args, sb.url()),
        limit: None,
        progress_bar,
    };
    let creds = Ok(crate::api::Credentials::Token(
        crate::api::credentials::Secret::new(config.token.clone()),
    ));
    let outcome = campaign::run(&ledger_path, start, creds, interrupt).await?;

    wait_for_outcomes(&store, outcome.campaign.id).await;
    let code = super::run::finish(&store, &outcome)?;
    if let Some(path) = &args.report {
        write_html_report(&ledger_path, path)?;
    }
    let stats = sb.stats();
    let repeated = stats.calls_per_number.values().filter(|&&n| n > 1).count();
    say!(
        "sandbox: {} calls placed to {} numbers; numbers called more than once: {repeated}; \
         call outcomes sent by webhook: {}",
        stats.total_calls,
        stats.calls_per_number.len(),
        stats.webhooks_sent
    );
    sb.shutdown().await;
    receiver.shutdown().await;
    if !kept {
        // The demo's whole point is what it leaves behind: keep the temporary directory so
        // the commands printed below work (the system's temp cleaning removes it later).
        let _ = tmp.keep();
    }
    say!("{}", look_at_it(&ledger_path, kept));
    Ok(code)
}

/// What to type next to see what the demo did, with this run's ledger path in it.
fn look_at_it(ledger: &std::path::Path, kept: bool) -> String {
    let l = crate::plan::mapping::shell_quote(&ledger.display().to_string());
    let mut text = format!(
        "look at what it did:\n  \
         dialer --ledger {l} status demo\n  \
         dialer --ledger {l} status demo --row 2\n  \
         dialer --ledger {l} report demo --out demo.html"
    );
    if !kept {
        text.push_str(
            "\nthat ledger is in a temporary directory; to keep one where you choose, run \
             `dialer --ledger demo.db demo`",
        );
    }
    text
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Polls until every placed call has its outcome, or OUTCOME_WAIT passes.
async fn wait_for_outcomes(ledger: &Ledger, campaign_id: i64) {
    let deadline = now_ms() + OUTCOME_WAIT.as_millis() as i64;
    while now_ms() < deadline {
        match ledger.rows_awaiting_outcome(campaign_id, 0).await {
            Ok(rows) if rows.is_empty() => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => return,
        }
    }
}

fn demo_settings(dnc: PathBuf, args: &DemoArgs, api_url: String) -> campaign::Settings {
    campaign::Settings {
        api_url,
        template: None,
        no_create: false,
        update_existing: false,
        meta: vec![("source".into(), "dialer-demo".into())],
        map: Vec::new(),
        default_region: Some("SA".into()),
        suppress: vec![dnc],
        encoding: None,
        delimiter: None,
        rate: args.rate,
        burst: NonZeroU32::MIN,
        concurrency: 8,
        max_attempts: 3,
        retry_uncertain: false,
        timeout_ms: 10_000,
        sheet: None,
        tz: None,
        window: None,
        start_at: None,
        day: campaign::DaySettings::default(),
    }
}

/// The demo campaign's HTML report (`dialer demo --report samples/report.html` makes the
/// committed sample).
fn write_html_report(
    ledger_path: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), CmdError> {
    let ledger = crate::ledger::Ledger::open(ledger_path)?;
    let campaign = ledger.campaign("demo")?;
    let opts = crate::report::ReportOptions {
        format: crate::report::Format::Html,
        status: crate::report::StatusFilter::default(),
        with_transcript: false,
        by: None,
    };
    crate::report::write_report_file(&ledger, &campaign, &opts, path, true)?;
    eprintln!("demo: report written to {}", path.display());
    Ok(())
}
