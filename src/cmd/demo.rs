//! `dialer demo`: the sandbox on a free loopback port and a run of the sample contacts
//! through it, in one process, with nothing to set up. The sample files are compiled in,
//! so the demo works from any directory.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::CmdError;
use crate::cli::{DemoArgs, DialArgs, RunArgs};
use crate::sandbox::{self, LatencyRange, SandboxConfig};

const CONTACTS: &str = include_str!("../../samples/contacts.csv");
const DNC: &str = include_str!("../../samples/dnc.txt");

pub async fn run(
    ledger: Option<PathBuf>,
    args: &DemoArgs,
    interrupt: CancellationToken,
) -> Result<i32, CmdError> {
    let io = |e: std::io::Error| CmdError::Io(format!("demo: {e}"));
    let config = SandboxConfig {
        latency: Some(LatencyRange {
            min: Duration::from_millis(20),
            max: Duration::from_millis(120),
        }),
        fail_503: 0.05,
        ..SandboxConfig::default()
    };
    let sb = sandbox::start(config.clone(), "127.0.0.1:0".parse().expect("loopback"))
        .await
        .map_err(io)?;
    let tmp = tempfile::tempdir().map_err(io)?;
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
    let ledger_path = ledger.unwrap_or_else(|| tmp.path().join("demo.db"));
    eprintln!(
        "demo: sandbox at {}; dialing {} at {} into {}",
        sb.url(),
        csv.display(),
        args.rate,
        ledger_path.display()
    );
    let run_args = RunArgs {
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
        dial: DialArgs {
            rate: args.rate,
            burst: NonZeroU32::new(1).expect("one"),
            concurrency: 8,
            max_attempts: 3,
            retry_uncertain: false,
            timeout: Duration::from_secs(10),
            limit: None,
            api_url: sb.url(),
            token_file: None,
        },
    };
    let token = config.token.clone();
    let env = move |k: &str| (k == "LEVERS_API_TOKEN").then(|| token.clone());
    let code = super::run::run(&ledger_path, &run_args, env, interrupt).await?;
    if let Some(path) = &args.report {
        write_html_report(&ledger_path, path)?;
    }
    let stats = sb.stats();
    let repeated = stats.calls_per_number.values().filter(|&&n| n > 1).count();
    println!(
        "sandbox: {} calls placed to {} numbers; numbers called more than once: {repeated}",
        stats.total_calls,
        stats.calls_per_number.len()
    );
    sb.shutdown().await;
    Ok(code)
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
    };
    crate::report::write_report_file(&ledger, &campaign, &opts, path, true)?;
    eprintln!("demo: report written to {}", path.display());
    Ok(())
}
