//! `dialer demo`: the sandbox and the webhook receiver on free loopback ports and a run of
//! the sample contacts through them, in one process, with nothing to set up. The sample
//! files are compiled in, so the demo works from any directory.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::CmdError;
use crate::campaign;
use crate::cli::{DemoArgs, DialArgs, RunArgs};
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
    let run_args = demo_args(csv, dnc, args, sb.url());
    let token = config.token.clone();
    let env = move |k: &str| (k == "LEVERS_API_TOKEN").then(|| token.clone());
    let outcome = campaign::run(&ledger_path, &run_args, env, interrupt, progress_bar).await?;

    wait_for_outcomes(&store, outcome.campaign.id).await;
    let code = super::run::finish(&store, &outcome)?;
    if let Some(path) = &args.report {
        write_html_report(&ledger_path, path)?;
    }
    let stats = sb.stats();
    let repeated = stats.calls_per_number.values().filter(|&&n| n > 1).count();
    println!(
        "sandbox: {} calls placed to {} numbers; numbers called more than once: {repeated}; \
         call outcomes sent by webhook: {}",
        stats.total_calls,
        stats.calls_per_number.len(),
        stats.webhooks_sent
    );
    sb.shutdown().await;
    receiver.shutdown().await;
    Ok(code)
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

fn demo_args(csv: PathBuf, dnc: PathBuf, args: &DemoArgs, api_url: String) -> RunArgs {
    RunArgs {
        csv,
        campaign: Some("demo".into()),
        template: None,
        no_create: false,
        update_existing: false,
        meta: vec![("source".into(), "dialer-demo".into())],
        map: Vec::new(),
        default_region: Some("SA".into()),
        suppress: vec![dnc],
        encoding: None,
        delimiter: None,
        window: None,
        tz: None,
        start_at: None,
        dry_run: false,
        dial: DialArgs {
            rate: args.rate,
            burst: NonZeroU32::MIN,
            concurrency: 8,
            max_attempts: 3,
            retry_uncertain: false,
            timeout: Duration::from_secs(10),
            limit: None,
            api_url,
            token_file: None,
        },
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
