//! What runs beside the dispatch while a campaign is dialed: the ingest thread reading
//! the rest of the file, the record count behind the progress total, and the progress
//! display. [`Beside::start`] starts them and [`Beside::finish`] stops and joins every one,
//! so nothing outlives the run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::ingest::{self, IngestError, IngestHandle};
use super::{CampaignError, blocking};
use crate::dispatch::{Halt, IngestProgress};
use crate::ledger::{Campaign, Ledger, LedgerError};
use crate::plan::Planner;
use crate::progress::{self, Tally};
use crate::source::{Source, SourceOptions, count_records};
use crate::zone::Rules;

/// The file still to read into the ledger.
pub(super) struct Ingest {
    pub source: (Source, Planner),
    pub progress: watch::Sender<IngestProgress>,
    pub zones: Rules,
    /// `--rate unlimited`: the ingest shares the ledger writer with calls as fast as it
    /// takes them (see [`ingest::Input::unpaced`]).
    pub unpaced: bool,
}

pub(super) struct Start<'a> {
    pub ledger: &'a Ledger,
    pub campaign: &'a Campaign,
    pub ingest: Option<Ingest>,
    /// The file to count records in for the progress total.
    pub count_from: Option<(PathBuf, SourceOptions)>,
    pub tally: &'a Arc<Tally>,
    pub halt: &'a Halt,
    pub progress_bar: bool,
    pub progress_rx: watch::Receiver<IngestProgress>,
}

pub(super) struct Beside {
    ingest: Option<IngestHandle>,
    counter: Option<Counter>,
    /// Ends the progress display, which is then joined.
    show_stop: CancellationToken,
    shown: tokio::task::JoinHandle<()>,
}

impl Beside {
    pub async fn start(s: Start<'_>) -> Result<Beside, CampaignError> {
        let ingest = match s.ingest {
            Some(i) => {
                let id = s.campaign.id;
                let skip = blocking(s.ledger, move |l| l.max_line(id)).await?;
                let (source, planner) = i.source;
                let input = ingest::Input {
                    source,
                    planner,
                    zones: i.zones,
                    unpaced: i.unpaced,
                    tally: s.tally.clone(),
                    halt: s.halt.clone(),
                };
                Some(ingest::spawn(s.ledger.clone(), id, input, skip, i.progress))
            }
            // Without the file nothing more can arrive: dial what the ledger holds.
            None => None,
        };
        let counter = s
            .count_from
            .map(|(path, opts)| Counter::start(path, opts, s.tally.clone(), s.progress_rx));
        let show_stop = CancellationToken::new();
        let shown = tokio::spawn(progress::show(
            s.tally.clone(),
            s.progress_bar,
            show_stop.clone(),
        ));
        Ok(Beside {
            ingest,
            counter,
            show_stop,
            shown,
        })
    }

    /// Stops and joins everything; the ingest's failure, if it had one.
    pub async fn finish(self) -> Option<IngestError> {
        self.show_stop.cancel();
        let _ = self.shown.await;
        if let Some(counter) = self.counter {
            counter.finish().await;
        }
        let handle = self.ingest?;
        match tokio::task::spawn_blocking(move || handle.join()).await {
            Ok(Ok(Ok(_))) => None,
            Ok(Ok(Err(e))) => Some(e),
            _ => Some(IngestError::Ledger(LedgerError::WriterGone)),
        }
    }
}

/// Counts the file's records for the progress total, beside dialing. It waits for the
/// first batch to be stored: until then the second core is worth more to the ingest thread.
struct Counter {
    task: tokio::task::JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

impl Counter {
    fn start(
        path: PathBuf,
        opts: SourceOptions,
        tally: Arc<Tally>,
        mut ingest: watch::Receiver<IngestProgress>,
    ) -> Counter {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        tally.total.store(0, Ordering::Relaxed);
        let task = tokio::spawn(async move {
            // A closed channel (ingest gone) also ends the wait.
            let _ = ingest.wait_for(|p| p.rows > 0 || p.done).await;
            let counted = tokio::task::spawn_blocking(move || {
                count_records(&path, &opts, &|| flag.load(Ordering::Relaxed))
            })
            .await;
            if let Ok(Ok(n)) = counted {
                tally.set_total(n);
            }
        });
        Counter { task, stop }
    }

    async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
    }
}
