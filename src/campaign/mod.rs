//! A campaign from start to end: checks the inputs, creates (or continues) the campaign in
//! the ledger, runs the ingest thread and the dispatcher side by side, and returns what
//! happened. `cmd::run` is a thin shell around [`run`].

mod dry_plan;
mod dry_run;
mod ingest;
mod resume;
mod settings;
mod zone_check;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, Credentials, LeversClient};
use crate::cli::RunArgs;
use crate::dispatch::{self, DispatchConfig, DispatchReport, IngestProgress};
use crate::ledger::{
    Campaign, HEARTBEAT_EVERY_MS, Ledger, LedgerError, NewCampaign, Redial, Undelivered,
};
use crate::plan::{PlanError, Planner};
use crate::progress::{self, Tally};
use crate::source::{CsvSource, SourceError, SourceOptions, count_records};

pub use dry_run::{DryRun, dry_run};
pub use ingest::IngestError;
pub use resume::{RetryWhat, resume, retry};
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
    #[error("{0}")]
    Usage(String),
    #[error("campaign name must not be empty; pass --campaign NAME")]
    EmptyName,
    #[error(
        "campaign {name:?} is being dialed by another process: {holder}; wait for it to finish or stop it first"
    )]
    Locked { name: String, holder: String },
}

/// What a finished dispatch hands back to the command.
#[derive(Debug)]
pub struct RunOutcome {
    pub campaign: Campaign,
    pub report: DispatchReport,
    /// An ingest failure after dialing started (the rows read so far were dialed).
    pub ingest_error: Option<IngestError>,
    /// Rows `retry` put back in the queue by state.
    pub requeued: u64,
    /// What `retry --outcome undelivered` did.
    pub redial: Option<Redial>,
}

/// One campaign ready to dispatch, however it was prepared (`run`, `resume`, `retry`).
pub struct Job {
    pub ledger: Ledger,
    pub campaign: Campaign,
    pub client: LeversClient,
    pub cfg: DispatchConfig,
    /// The CSV still to ingest, when the ledger does not hold every record yet.
    pub source: Option<(CsvSource, Planner)>,
    /// Row states to put back in the queue once the lease is held (`retry`).
    pub requeue: Vec<String>,
    /// Undelivered calls to put back in the queue (`retry --outcome undelivered`).
    pub redial: Option<Undelivered>,
    /// The CSV to count records in, beside dialing, for the progress total.
    pub count_from: Option<(PathBuf, SourceOptions)>,
    /// A progress bar on a terminal (`--no-progress` turns it into log lines).
    pub progress_bar: bool,
}

/// Prepares the campaign described by `args` (creating it, or continuing it when the
/// same file was run before) and dispatches it.
pub async fn run(
    ledger_path: &Path,
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
    interrupt: CancellationToken,
    progress_bar: bool,
) -> Result<RunOutcome, CampaignError> {
    let name = campaign_name(args)?;
    let settings = Settings::from_run(args);
    // The hash reads the whole file: do it on its own thread while the CSV header is read
    // and the planner (with its phone-number metadata) is built, not before them.
    let hashing = {
        let path = args.csv.clone();
        std::thread::spawn(move || sha256_file(&path))
    };
    // The phone-number metadata takes about 100 ms to load; it loads on its own thread
    // while this one reads the header and the TLS roots, which do not need it.
    std::thread::spawn(crate::plan::warm_up);
    // Input problems first: they are what the user is most likely to be fixing, so the
    // client's errors wait until the planner has been built.
    let source = CsvSource::open(&args.csv, &settings.source_options())?;
    let client = Credentials::resolve(args.dial.token_file.as_deref(), env)
        .and_then(|creds| LeversClient::new(&settings.api_url, creds, settings.timeout()));
    let planner = settings.planner(&name, source.headers())?;
    zone_check::refuse_unnamed_zones(&args.csv, &settings, &planner)?;
    let client = client?;
    let sha = hashing.join().unwrap_or_else(|_| sha256_file(&args.csv))?;

    let ledger = Ledger::open(ledger_path)?;
    let campaign = ledger
        .create_campaign(NewCampaign {
            name: name.clone(),
            csv_path: absolute(&args.csv),
            csv_sha256: sha.clone(),
            settings: settings.to_json(),
        })
        .await?;
    if campaign.csv_sha256 != sha {
        return Err(CampaignError::FileChanged {
            name,
            path: args.csv.display().to_string(),
        });
    }
    let job = Job {
        ledger,
        source: (!campaign.ingested).then_some((source, planner)),
        campaign,
        client,
        cfg: settings.dispatch_config(args.dial.limit)?,
        requeue: Vec::new(),
        redial: None,
        count_from: Some((args.csv.clone(), settings.source_options())),
        progress_bar,
    };
    dial(job, interrupt).await
}

/// Dispatches a prepared campaign: takes its lease, turns rows a dead process left
/// `in_flight` into `uncertain`, ingests whatever CSV is left beside dialing, and records
/// the end. The lease is released on every path out.
pub async fn dial(job: Job, interrupt: CancellationToken) -> Result<RunOutcome, CampaignError> {
    let (ledger, id) = (job.ledger.clone(), job.campaign.id);
    let token = format!("{}-{}", std::process::id(), rand::random::<u64>());
    if let Err(holder) = ledger.acquire_lease(id, token.clone()).await? {
        return Err(CampaignError::Locked {
            name: job.campaign.name,
            holder: holder.to_string(),
        });
    }
    let heartbeat = spawn_heartbeat(ledger.clone(), id, token.clone());
    let result = dial_leased(job, interrupt).await;
    heartbeat.abort();
    let _ = ledger.release_lease(id, token).await;
    result
}

async fn dial_leased(job: Job, interrupt: CancellationToken) -> Result<RunOutcome, CampaignError> {
    let Job {
        ledger,
        campaign,
        client,
        cfg,
        source,
        requeue,
        redial,
        count_from,
        progress_bar,
    } = job;
    let (ledger, campaign) = (&ledger, &campaign);
    client.authenticate().await?;
    let recovered = ledger.recover_in_flight(campaign.id).await?;
    if recovered > 0 {
        tracing::warn!(
            "{recovered} row(s) were in flight when the last run stopped; they are now uncertain \
             (retry them with `dialer retry {} --status uncertain` if you accept a second call)",
            campaign.name
        );
    }
    let requeued = if requeue.is_empty() {
        0
    } else {
        ledger.requeue(campaign.id, requeue).await?
    };
    let redial = match redial {
        Some(rule) => Some(ledger.requeue_undelivered(campaign.id, rule).await?),
        None => None,
    };
    ledger.mark_started(campaign.id).await?;

    let tally = Arc::new(Tally::from_counts(&ledger.counts(campaign.id)?));
    if let Some((path, opts)) = count_from.filter(|_| !campaign.ingested) {
        // The total is for the display only: count beside dialing, never before it.
        tally.total.store(0, std::sync::atomic::Ordering::Relaxed);
        let t = tally.clone();
        std::thread::spawn(move || {
            // Wait for the first request: until then the second core is worth more to
            // the ingest thread than to a progress total.
            for _ in 0..500 {
                if t.requests.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            if let Ok(n) = count_records(&path, &opts) {
                t.total.store(n, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    let show_stop = CancellationToken::new();
    let shown = tokio::spawn(progress::show(
        tally.clone(),
        progress_bar,
        show_stop.clone(),
    ));
    let (progress_tx, progress_rx) = watch::channel(IngestProgress {
        rows: campaign.total_rows.unwrap_or(0) as u64,
        done: campaign.ingested,
    });
    let ingest = match source {
        Some((source, planner)) if !campaign.ingested => {
            let skip = ledger.max_line(campaign.id)?;
            let zones = cfg.zone_rules(jiff::Timestamp::now());
            Some(ingest::spawn(
                ledger.clone(),
                campaign.id,
                ingest::Input {
                    source,
                    planner,
                    zones,
                    tally: tally.clone(),
                },
                skip,
                progress_tx,
            ))
        }
        // Without the CSV nothing more can arrive: dial what the ledger holds.
        _ => {
            drop(progress_tx);
            None
        }
    };

    let report = dispatch::dispatch(
        ledger.clone(),
        campaign.id,
        Arc::new(client),
        cfg,
        progress_rx,
        interrupt,
        tally,
    )
    .await;
    show_stop.cancel();
    let _ = shown.await;
    let ws = ledger.writer().stats().await;
    tracing::debug!(
        "ledger writer: {} commits, {} operations, {:.1} operations per commit",
        ws.commits,
        ws.ops,
        ws.ops as f64 / ws.commits.max(1) as f64
    );

    let ingest_error = match ingest {
        Some(handle) => match tokio::task::spawn_blocking(move || handle.join()).await {
            Ok(Ok(Ok(_))) => None,
            Ok(Ok(Err(e))) => Some(e),
            _ => Some(IngestError::Ledger(LedgerError::WriterGone)),
        },
        None => None,
    };
    ledger.mark_finished(campaign.id).await?;
    Ok(RunOutcome {
        campaign: ledger.campaign(&campaign.name)?,
        report,
        ingest_error,
        requeued,
        redial,
    })
}

fn spawn_heartbeat(ledger: Ledger, campaign_id: i64, token: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_millis(HEARTBEAT_EVERY_MS as u64);
        loop {
            tokio::time::sleep(every).await;
            match ledger.heartbeat(campaign_id, token.clone()).await {
                Ok(true) => {}
                Ok(false) => tracing::error!("another process took over this campaign's lease"),
                Err(e) => tracing::warn!("could not refresh the campaign lease: {e}"),
            }
        }
    })
}

/// `--campaign`, or the CSV's file stem.
pub fn campaign_name(args: &RunArgs) -> Result<String, CampaignError> {
    let name = match &args.campaign {
        Some(n) => n.trim().to_string(),
        None => file_stem(&args.csv),
    };
    if name.is_empty() {
        return Err(CampaignError::EmptyName);
    }
    Ok(name)
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
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
