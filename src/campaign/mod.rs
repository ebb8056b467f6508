//! A campaign from start to end: checks the inputs, creates (or continues) the campaign in
//! the ledger, takes its lease, applies what a continued campaign changes (`fix`: settings,
//! re-planned rows, a grown file), runs the ingest thread and the dispatcher side by side,
//! and returns what happened. It takes library types ([`Start`], [`Settings`]); the commands in
//! `cmd/` turn flags into them. Every thread and task it starts is owned and joined before
//! it returns, and one [`Halt`] stops them all.

mod alone;
mod beside;
mod changes;
mod control;
pub mod day;
mod dry_dedupe;
mod dry_plan;
mod dry_run;
mod file;
mod fix;
mod ingest;
mod lease;
mod replan;
mod resume;
mod settings;
mod zone_check;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, Credentials, LeversClient};
use crate::dispatch::{self, DispatchConfig, DispatchReport, Halt, IngestProgress};
use crate::ledger::{Campaign, Ledger, LedgerError, NewCampaign, Redial, RowState, Undelivered};
use crate::plan::{PlanError, Planner};
use crate::progress::Tally;
use crate::source::{Source, SourceError, SourceOptions};

pub use control::{Asked, Entry, request as request_control, who};
pub use day::{DaySettings, RedialSettings};
pub use dry_run::{DryRun, dry_run};
pub use ingest::IngestError;
pub use resume::{Again, RetryWhat, resume, retry};
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
        "campaign {name:?} was started from a different file (SHA-256 differs from {path}, \
         and it is not the old file with rows appended at its end); \
         to start a new campaign from this file pass --campaign NEW_NAME, \
         to continue the old one run `dialer resume {name}`"
    )]
    FileChanged { name: String, path: String },
    /// Re-planning reads the campaign's file again, and it is not the one it was (both
    /// names come quoted and escaped for a terminal).
    #[error(
        "campaign {name} was started from {path}, which is gone or changed; re-planning its \
         rows needs that file: put it back, or start a new campaign with \
         `dialer run FILE --campaign NEW_NAME`"
    )]
    FileGone { name: String, path: String },
    #[error("{0}")]
    Usage(String),
    #[error("campaign name must not be empty; pass --campaign NAME")]
    EmptyName,
    #[error(
        "campaign {name:?} is being dialed by another process: {holder}; wait for it to finish or stop it first"
    )]
    Locked { name: String, holder: String },
    #[error("interrupted before dialing started; nothing was sent")]
    Interrupted,
    #[error(
        "campaign {name:?} is paused (asked by {by}); `dialer resume {name}` lifts the pause and continues"
    )]
    Paused { name: String, by: String },
    #[error(
        "campaign {name:?} was cancelled (asked by {by}); `dialer retry {name} --status cancelled` \
         dials its cancelled rows again"
    )]
    Cancelled { name: String, by: String },
}

/// What `dialer run` asks for: a file, the campaign's name and its settings.
#[derive(Debug, Clone)]
pub struct Start {
    pub csv: PathBuf,
    pub name: String,
    pub settings: Settings,
    /// Dial at most this many rows in this invocation.
    pub limit: Option<u64>,
    /// A progress bar on a terminal (`--no-progress` turns it into log lines).
    pub progress_bar: bool,
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
    pub source: Option<(Source, Planner)>,
    /// Row states to put back in the queue once the lease is held (`retry`).
    pub requeue: Vec<RowState>,
    /// Undelivered calls to put back in the queue (`retry --outcome undelivered`).
    pub redial: Option<Undelivered>,
    /// The CSV to count records in, beside dialing, for the progress total.
    pub count_from: Option<(PathBuf, SourceOptions)>,
    pub progress_bar: bool,
    /// Changed settings, a grown file or skipped rows to re-plan, applied under the lease.
    pub fix: Option<fix::Fix>,
    /// Whether a standing pause or cancel refuses this command or is lifted by it.
    pub entry: Entry,
}

/// Prepares the campaign described by `start` (creating it, or continuing it when the same
/// file was run before) and dispatches it. Input problems are reported before credential
/// problems: they are what the user is most likely to be fixing.
pub async fn run(
    ledger_path: &Path,
    mut start: Start,
    creds: Result<Credentials, ApiError>,
    interrupt: CancellationToken,
) -> Result<RunOutcome, CampaignError> {
    if start.name.trim().is_empty() {
        return Err(CampaignError::EmptyName);
    }
    let mut inputs = {
        let (start, stop) = (start.clone(), interrupt.clone());
        let opening = tokio::task::spawn_blocking(move || open_inputs(&start, &stop));
        // A header read blocks in the OS until a line ends; on a file that never gives one
        // (`/dev/zero`) only the process exit ends it, so Ctrl-C does not wait for it.
        tokio::select! {
            opened = opening => opened.map_err(|_| CampaignError::Interrupted)??,
            _ = interrupt.cancelled() => return Err(CampaignError::Interrupted),
        }
    };
    let client = LeversClient::new(&start.settings.api_url, creds?, start.settings.timeout())?;
    let ledger = Ledger::open(ledger_path)?;
    let mut campaign = ledger
        .create_campaign(NewCampaign {
            name: start.name.clone(),
            csv_path: absolute(&start.csv),
            csv_sha256: inputs.file.sha256.clone(),
            csv_bytes: inputs.file.bytes,
            suppress_sha256: inputs.lists.clone(),
            settings: start.settings.to_json(),
        })
        .await?;
    let fix = fix::continuing(&ledger, &mut campaign, &mut start, &mut inputs).await?;
    let job = Job {
        ledger,
        source: (!campaign.ingested).then_some((inputs.source, inputs.planner)),
        campaign,
        client,
        cfg: start.settings.dispatch_config(start.limit)?,
        requeue: Vec::new(),
        redial: None,
        count_from: Some((start.csv.clone(), start.settings.source_options())),
        progress_bar: start.progress_bar,
        fix,
        entry: Entry::Run,
    };
    dial(job, interrupt).await
}

/// The opened CSV, its planner and its SHA-256 and length.
struct Inputs {
    source: Source,
    planner: Planner,
    file: file::Fingerprint,
    /// The do-not-call lists' contents (see [`file::lists_fingerprint`]).
    lists: Option<String>,
}

/// Hashes the file on one thread and loads the phone-number metadata (about 100 ms) on
/// another while this one reads the header and builds the planner. Both threads are
/// joined; the hash stops at once on Ctrl-C, whatever the file's size.
fn open_inputs(start: &Start, interrupt: &CancellationToken) -> Result<Inputs, CampaignError> {
    let give_up = AtomicBool::new(false);
    let stop = || interrupt.is_cancelled() || give_up.load(Ordering::Relaxed);
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| file::fingerprint(&start.csv, None, &stop));
        let warm = scope.spawn(crate::plan::warm_up);
        let opened = Source::open(&start.csv, &start.settings.source_options())
            .map_err(CampaignError::from)
            .and_then(|source| {
                let planner = start.settings.planner(&start.name, source.headers())?;
                zone_check::refuse_unnamed_zones(&start.csv, &start.settings, &planner)?;
                Ok((source, planner))
            });
        let _ = warm.join();
        if opened.is_err() {
            // The input error is the one to report; the hash is not needed any more.
            give_up.store(true, Ordering::Relaxed);
        }
        let fingerprint = hashing.join().map_err(|_| CampaignError::Interrupted)?;
        let (source, planner) = opened?;
        Ok(Inputs {
            source,
            planner,
            file: fingerprint?,
            lists: file::lists_fingerprint(&start.settings.suppress)?,
        })
    })
}

/// Dispatches a prepared campaign under its lease: turns rows a dead process left
/// `in_flight` into `uncertain`, ingests whatever CSV is left beside dialing, and records
/// the end. The lease is released on every path out.
pub async fn dial(job: Job, interrupt: CancellationToken) -> Result<RunOutcome, CampaignError> {
    let halt = Halt::default();
    let lease = lease::Lease::acquire(&job.ledger, &job.campaign, halt.clone()).await?;
    let on_interrupt = halt.on_interrupt(interrupt);
    let result = match control::enter(&job.ledger, &job.campaign, job.entry).await {
        Ok(()) => dial_leased(job, halt.clone()).await,
        Err(e) => Err(e),
    };
    halt.token().cancel();
    let _ = on_interrupt.await;
    lease.release().await;
    result
}

async fn dial_leased(job: Job, halt: Halt) -> Result<RunOutcome, CampaignError> {
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
        fix,
        entry: _,
    } = job;
    client.authenticate().await?;
    let (requeued, redial) = prepare_rows(&ledger, &campaign, requeue, redial).await?;
    // After the requeue, so that rows `retry` put back get the new request too.
    if let Some(fix) = fix {
        fix.apply(&ledger, &campaign, &halt).await?;
    }
    let counts = blocking(&ledger, move |l| l.counts(campaign.id)).await?;
    let tally = Arc::new(Tally::from_counts(&counts, cfg.limit));
    let (progress_tx, progress_rx) = watch::channel(IngestProgress {
        rows: campaign.total_rows.unwrap_or(0) as u64,
        done: campaign.ingested,
    });
    let ingest = source
        .filter(|_| !campaign.ingested)
        .map(|s| beside::Ingest {
            source: s,
            progress: progress_tx,
            zones: cfg.zone_rules(jiff::Timestamp::now()),
            unpaced: cfg.rate.period().is_none(),
        });
    let beside = beside::Beside::start(beside::Start {
        ledger: &ledger,
        campaign: &campaign,
        ingest,
        count_from: count_from.filter(|_| !campaign.ingested),
        tally: &tally,
        halt: &halt,
        progress_bar,
        progress_rx: progress_rx.clone(),
    })
    .await?;
    let expire_at = cfg.expire_at;
    let watch = control::Watch::start(&ledger, campaign.id, expire_at, &halt);
    let report = dispatch::dispatch(
        ledger.clone(),
        campaign.id,
        Arc::new(client),
        cfg,
        progress_rx,
        halt.clone(),
        tally,
    )
    .await;
    // A run that ends on its own (done, --limit, auth, breaker) reads the rest of the file
    // into the ledger, so every row is there to resume; Ctrl-C and a lost lease stop the
    // reading too, through `halt`.
    let ingest_error = beside.finish().await;
    watch.finish().await;
    // Group commit at work, for the benchmarks (`benches/e2e` reads this line).
    let ws = ledger.writer().stats().await;
    tracing::debug!(
        "ledger writer: {} commits, {} operations, {:.1} operations per commit",
        ws.commits,
        ws.ops,
        ws.ops as f64 / ws.commits.max(1) as f64
    );
    control::settle(&ledger, campaign.id, &report.stop, expire_at).await?;
    ledger.mark_finished(campaign.id).await?;
    let name = campaign.name.clone();
    Ok(RunOutcome {
        campaign: blocking(&ledger, move |l| l.campaign(&name)).await?,
        report,
        ingest_error,
        requeued,
        redial,
    })
}

/// Blocking work of the campaign layer (ledger reads, re-reading and hashing the file),
/// off the async workers. A task that did not finish was cancelled with the run.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CampaignError> + Send + 'static,
) -> Result<T, CampaignError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CampaignError::Interrupted)?
}

/// A ledger read, off the async workers.
async fn blocking<T: Send + 'static>(
    ledger: &Ledger,
    f: impl FnOnce(&Ledger) -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, LedgerError> {
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || f(&l))
        .await
        .map_err(|_| LedgerError::WriterGone)?
}

/// Before dialing: rows a dead process left `in_flight` become `uncertain`, and what
/// `retry` asked for goes back in the queue.
async fn prepare_rows(
    ledger: &Ledger,
    campaign: &Campaign,
    requeue: Vec<RowState>,
    redial: Option<Undelivered>,
) -> Result<(u64, Option<Redial>), CampaignError> {
    let recovered = ledger.recover_in_flight(campaign.id).await?;
    if recovered > 0 {
        tracing::warn!(
            "{recovered} row(s) were in flight when the last run stopped; they are now uncertain \
             (retry them with `dialer retry {} --status uncertain` if you accept a second call)",
            crate::text::quote(&campaign.name)
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
    Ok((requeued, redial))
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// SHA-256 of a file, streamed; gives up when `stop` says so (Ctrl-C on a huge file).
pub fn sha256_file(path: &Path, stop: &dyn Fn() -> bool) -> Result<String, CampaignError> {
    file::fingerprint(path, None, stop).map(|f| f.sha256)
}
