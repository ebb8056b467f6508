//! The order rows are dialed in: rows given back by a 429 first, then `retry_wait` rows
//! whose time has come, then `pending` rows in line order read page by page (memory stays
//! flat). It knows when the campaign is exhausted: ingest finished, nobody in flight and
//! neither a pending nor a waiting row left in the ledger.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::IngestProgress;
use crate::ledger::{DialRow, Ledger, LedgerError, now_ms};

const PAGE: u32 = 512;

/// State shared between the feeder and the workers.
#[derive(Default)]
pub(super) struct Queue {
    /// Rows a 429 gave back; dialed before anything else.
    pub requeue: Mutex<VecDeque<DialRow>>,
    /// Rows taken by the feeder and not yet finished by a worker, so a ledger query that
    /// still sees them `pending`/`retry_wait` does not hand them out twice.
    pub claimed: Mutex<HashSet<i64>>,
    /// Signalled whenever a worker finishes, so a waiting feeder looks again.
    pub wake: Notify,
}

impl Queue {
    pub fn release(&self, row_id: i64) {
        lock(&self.claimed).remove(&row_id);
        self.wake.notify_one();
    }

    fn claim(&self, row: &DialRow) -> bool {
        lock(&self.claimed).insert(row.id)
    }

    fn in_flight(&self) -> usize {
        lock(&self.claimed).len()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) struct Feed {
    ledger: Ledger,
    campaign_id: i64,
    cursor: u64,
    page: VecDeque<DialRow>,
    ingest: watch::Receiver<IngestProgress>,
}

impl Feed {
    pub fn new(ledger: Ledger, campaign_id: i64, ingest: watch::Receiver<IngestProgress>) -> Feed {
        Feed {
            ledger,
            campaign_id,
            cursor: 0,
            page: VecDeque::new(),
            ingest,
        }
    }

    /// The next row to dial, claimed; `None` when the campaign is exhausted or `stop` fires.
    pub async fn next(
        &mut self,
        queue: &Queue,
        stop: &CancellationToken,
    ) -> Result<Option<DialRow>, LedgerError> {
        loop {
            if stop.is_cancelled() {
                return Ok(None);
            }
            let requeued = lock(&queue.requeue).pop_front();
            if let Some(row) = requeued.or_else(|| self.page.pop_front()) {
                if queue.claim(&row) {
                    return Ok(Some(row));
                }
                continue;
            }
            let due = self
                .ledger
                .due_retries(self.campaign_id, now_ms(), PAGE)
                .await?;
            if self.refill(due, queue) {
                continue;
            }
            let pending = self
                .ledger
                .pending_after(self.campaign_id, self.cursor, PAGE)
                .await?;
            if let Some(last) = pending.last() {
                self.cursor = last.line;
                self.refill(pending, queue);
                continue;
            }
            // A closed channel means the ingest thread is gone: nothing more will arrive.
            let ingest_done =
                self.ingest.borrow_and_update().done || self.ingest.has_changed().is_err();
            let next_retry = self.ledger.next_retry_at(self.campaign_id).await?;
            if ingest_done && queue.in_flight() == 0 {
                // A last sweep from the top catches rows put back below the cursor.
                let sweep = self.ledger.pending_after(self.campaign_id, 0, PAGE).await?;
                if self.refill(sweep, queue) {
                    continue;
                }
                if next_retry.is_none() {
                    return Ok(None);
                }
            }
            let wait = next_retry
                .map(|t| Duration::from_millis((t - now_ms()).clamp(0, 1000) as u64))
                .unwrap_or(Duration::from_secs(1));
            tokio::select! {
                _ = queue.wake.notified() => {}
                _ = self.ingest.changed(), if !ingest_done => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return Ok(None),
            }
        }
    }

    fn refill(&mut self, rows: Vec<DialRow>, queue: &Queue) -> bool {
        let claimed = lock(&queue.claimed);
        let before = self.page.len();
        self.page
            .extend(rows.into_iter().filter(|r| !claimed.contains(&r.id)));
        self.page.len() > before
    }
}
