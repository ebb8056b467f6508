//! A campaign from start to end: checks the inputs, creates (or continues) the campaign in
//! the ledger, runs the ingest thread and the dispatcher side by side, and returns what
//! happened. `cmd::run` is a thin shell around [`run`].

mod ingest;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, Credentials, LeversClient};
use crate::cli::RunArgs;
use crate::dispatch::{self, BREAKER_THRESHOLD, DispatchConfig, DispatchReport, IngestProgress, RetryPolicy};
use crate::ledger::{Campaign, Ledger, LedgerError, NewCampaign};
use crate::plan::{Mapping, PlanError, PlanOptions, Planner, SuppressList, parse_region};
use crate::source::{CsvSource, SourceError, SourceOptions};

pub use settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "campaign {name:?} was started from a different file (SHA-256 differs from {path}); \
         to start a new campaign from this file pass --campaign NEW_NAME, \
         to continue the old one run `dialer resume {name}`"
    )]
    FileChanged { name: String, path: String },
    #[error("campaign name must not be empty; pass --campaign NAME")]
    EmptyName,
}

/// What a finished `run` hands back to the command.
#[derive(Debug)]
pub struct RunOutcome {
    pub campaign: Campaign,
    pub report: DispatchReport,
    /// An ingest failure after dialing started (the rows read so far were dialed).
    pub ingest_error: Option<LedgerError>,
}

/// Runs (or continues) the campaign described by `args`.
pub async fn run(
    ledger_path: &Path,
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
) -> Result<RunOutcome, CampaignError> {
    let name = match &args.campaign {
        Some(n) => n.trim().to_string(),
        None => file_stem(&args.csv),
    };
    if name.is_empty() {
        return Err(CampaignError::EmptyName);
    }
    let creds = Credentials::resolve(args.dial.token_file.as_deref(), env)?;
    let client = LeversClient::new(&args.dial.api_url, creds, args.dial.timeout)?;

    let source_opts = SourceOptions {
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
    };
    let source = CsvSource::open(&args.csv, &source_opts)?;
    let planner = planner_for(args, &name, source.headers())?;
    let sha = sha256_file(&args.csv)?;

    let ledger = Ledger::open(ledger_path)?;
    let campaign = match ledger.find_campaign(&name)? {
        Some(c) if c.csv_sha256 != sha => {
            return Err(CampaignError::FileChanged {
                name,
                path: args.csv.display().to_string(),
            });
        }
        Some(c) => c,
        None => {
            ledger
                .create_campaign(NewCampaign {
                    name: name.clone(),
                    csv_path: absolute(&args.csv),
                    csv_sha256: sha,
                    settings: Settings::from_run(args).to_json(),
                })
                .await?
        }
    };
    client.authenticate().await?;

    let recovered = ledger.recover_in_flight(campaign.id).await?;
    if recovered > 0 {
        tracing::warn!(
            "{recovered} row(s) were in flight when the last run stopped; they are now uncertain \
             (retry them with `dialer retry {} --status uncertain` if you accept a second call)",
            campaign.name
        );
    }
    ledger.mark_started(campaign.id).await?;

    let (progress_tx, progress_rx) = watch::channel(IngestProgress::default());
    let ingest = if campaign.ingested {
        progress_tx.send_replace(IngestProgress {
            rows: campaign.total_rows.unwrap_or(0) as u64,
            done: true,
        });
        None
    } else {
        let skip = ledger.max_line(campaign.id)?;
        Some(ingest::spawn(
            ledger.clone(),
            campaign.id,
            source,
            planner,
            skip,
            progress_tx,
        ))
    };

    let cfg = dispatch_config(args);
    let report = dispatch::dispatch(
        ledger.clone(),
        campaign.id,
        Arc::new(client),
        cfg,
        progress_rx,
        interrupt,
    )
    .await;

    let ingest_error = match ingest {
        Some(handle) => {
            let joined = tokio::task::spawn_blocking(move || handle.join()).await;
            match joined {
                Ok(Ok(Ok(_))) => None,
                Ok(Ok(Err(e))) => Some(e),
                _ => Some(LedgerError::WriterGone),
            }
        }
        None => None,
    };
    ledger.mark_finished(campaign.id).await?;
    let campaign = ledger.campaign(&campaign.name)?;
    Ok(RunOutcome {
        campaign,
        report,
        ingest_error,
    })
}

fn planner_for(args: &RunArgs, name: &str, headers: &[String]) -> Result<Planner, CampaignError> {
    let region = args
        .default_region
        .as_deref()
        .map(parse_region)
        .transpose()?;
    let mapping = Mapping::from_headers(headers, &args.map)?;
    let mut suppress = SuppressList::empty();
    for path in &args.suppress {
        suppress.load(path, region)?;
    }
    let opts = PlanOptions {
        campaign: name.to_string(),
        default_region: region,
        template: args.template.clone(),
        no_create: args.no_create,
        update_existing: args.update_existing,
        meta: args.meta.clone(),
    };
    Ok(Planner::new(mapping, opts, suppress)?)
}

pub fn dispatch_config(args: &RunArgs) -> DispatchConfig {
    let d = &args.dial;
    DispatchConfig {
        concurrency: d.concurrency as usize,
        rate: d.rate,
        burst: d.burst,
        policy: RetryPolicy {
            max_attempts: d.max_attempts,
            retry_uncertain: d.retry_uncertain,
            ..RetryPolicy::default()
        },
        limit: d.limit,
        breaker_threshold: BREAKER_THRESHOLD,
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default()
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, CampaignError> {
    let read_err = |source| CampaignError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(read_err)?;
    Ok(hex::encode(hasher.finalize()))
}
