//! The order rows are dialed in: rows given back by a 429 first, then `retry_wait` rows
//! whose time has come, then `pending` rows in line order, read page by page (memory stays
//! flat). Rows whose calling window is closed are passed over and looked at again on the
//! next pass. The feed knows when the campaign is exhausted: ingest finished, nobody in
//! flight, and a whole pass from the top found nothing to dial and nothing to wait for.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::IngestProgress;
use super::redial::Redials;
use crate::ledger::{DialRow, Ledger, LedgerError, now_ms};
use crate::progress::Tally;

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

    /// Nothing claimed and nothing put back. Claims first: a worker puts a row back before
    /// it lets go of it, so once its claim is seen gone, the row is seen in the requeue.
    fn idle(&self) -> bool {
        let none_claimed = lock(&self.claimed).is_empty();
        none_claimed && lock(&self.requeue).is_empty()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The calling schedule and the cache of each row's zones, shared with the pool.
pub(super) use crate::zone::Hours;

pub(super) struct Feed {
    ledger: Ledger,
    campaign_id: i64,
    cursor: u64,
    page: VecDeque<DialRow>,
    ingest: watch::Receiver<IngestProgress>,
    hours: Option<Arc<Hours>>,
    /// Whether the current pass over pending rows started at the top and handed out a row.
    pass_from_top: bool,
    pass_yielded: bool,
    /// The earliest opening among rows passed over for their window in this pass.
    deferred_until: Option<Timestamp>,
    /// The zones (`rows.timezone`) of the row that opens first, to say whose window it is.
    deferred_zones: Option<String>,
    /// The opening last announced, so the wait is said once, not every second.
    announced: Option<Timestamp>,
    tally: Arc<Tally>,
    /// `--redial undelivered`: schedules redials, and keeps the run alive for outcomes.
    redials: Option<Redials>,
}

impl Feed {
    pub fn new(
        ledger: Ledger,
        campaign_id: i64,
        ingest: watch::Receiver<IngestProgress>,
        hours: Option<Arc<Hours>>,
        tally: Arc<Tally>,
    ) -> Feed {
        Feed {
            ledger,
            campaign_id,
            cursor: 0,
            page: VecDeque::new(),
            ingest,
            hours,
            pass_from_top: true,
            pass_yielded: false,
            deferred_until: None,
            deferred_zones: None,
            announced: None,
            tally,
            redials: None,
        }
    }

    /// The same feed, redialing undelivered calls under `rule`.
    pub fn redialing(self, rule: Option<crate::ledger::RedialRule>) -> Feed {
        Feed {
            redials: rule.map(Redials::new),
            ..self
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
            let put_back = requeued.is_some();
            if let Some(row) = requeued.or_else(|| self.page.pop_front()) {
                // A page is read when its rows' windows are open; a window may have closed
                // since. The gate would hold such a row anyway, but it would spend a slot.
                if self.defer_if_closed(&row, Timestamp::now()) {
                    continue;
                }
                if queue.claim(&row) {
                    self.pass_yielded = true;
                    if self.announced.take().is_some() {
                        self.tally.set_waiting(None);
                    }
                    return Ok(Some(row));
                }
                if put_back {
                    // Its worker put it back and has not let go of it yet; dropped here,
                    // it would be left for a later pass that may never come.
                    lock(&queue.requeue).push_front(row);
                    tokio::select! {
                        _ = queue.wake.notified() => {}
                        _ = stop.cancelled() => return Ok(None),
                    }
                }
                continue;
            }
            if let Some(r) = self.redials.as_mut() {
                r.tick(&self.ledger, self.campaign_id).await?;
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
            // Judged now, not from the requeue looked at above: a row put back while the
            // ledger was read would otherwise be left behind.
            let quiet = ingest_done && queue.idle();
            if ingest_done && (!self.pass_from_top || self.pass_yielded) {
                // Start a new pass from the top: rows put back below the cursor, or whose
                // window has opened since, are found there.
                self.new_pass();
                continue;
            }
            let next_retry = self.ledger.next_retry_at(self.campaign_id).await?;
            let deferred = self.deferred_until.map(|t| t.as_millisecond());
            let awaited = self.redials.as_ref().and_then(Redials::awaiting_until);
            let wake_at = [next_retry, deferred, awaited].into_iter().flatten().min();
            if quiet && wake_at.is_none() {
                // Outcomes may have arrived since the last look: ask once more before ending.
                let more = match self.redials.as_mut() {
                    Some(r) => r.tick_now(&self.ledger, self.campaign_id).await?,
                    None => false,
                };
                if !more {
                    return Ok(None);
                }
                continue;
            }
            if quiet && let Some(r) = self.redials.as_mut() {
                r.announce(next_retry, &self.tally);
            }
            if quiet && let Some(t) = self.deferred_until {
                self.announce_wait(t, next_retry);
            }
            let wait = wake_at
                .map(|t| Duration::from_millis((t - now_ms()).clamp(0, 1000) as u64))
                .unwrap_or(Duration::from_secs(1));
            tokio::select! {
                _ = queue.wake.notified() => {}
                _ = self.ingest.changed(), if !ingest_done => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return Ok(None),
            }
            if ingest_done {
                self.new_pass();
            }
        }
    }

    fn new_pass(&mut self) {
        self.cursor = 0;
        self.pass_from_top = true;
        self.pass_yielded = false;
        self.deferred_until = None;
        self.deferred_zones = None;
    }

    /// Says once per opening that nobody can be called, until when (here and in UTC) and
    /// which window opens first, for whom.
    fn announce_wait(&mut self, opens: Timestamp, next_retry: Option<i64>) {
        if next_retry.is_some_and(|r| r <= opens.as_millisecond()) || self.announced == Some(opens)
        {
            return;
        }
        self.announced = Some(opens);
        let Some(hours) = self.hours.as_ref() else {
            return;
        };
        let zones = self.deferred_zones.as_deref();
        let here = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let wait = hours
            .first_opening([zones], Timestamp::now())
            .map(|w| w.message(&here))
            .unwrap_or_else(|| format!("nobody can be called until {opens}"));
        tracing::info!("outside the calling hours for every contact left: {wait}");
        let local = opens.to_zoned_datetime(here);
        self.tally.set_waiting(Some(format!(
            "calling hours: waiting until {}",
            local.strftime("%H:%M %Z")
        )));
    }

    /// Whether `row`'s window is closed at `now`; if so it is noted as deferred (it stays
    /// `pending` and is found again on the next pass).
    fn defer_if_closed(&mut self, row: &DialRow, now: Timestamp) -> bool {
        let Some(hours) = self.hours.as_ref() else {
            return false;
        };
        match hours.next_open(row.timezone.as_deref(), now) {
            Some(opens) if opens <= now => false,
            Some(opens) => {
                if self.deferred_until.is_none_or(|d| opens < d) {
                    self.deferred_until = Some(opens);
                    self.deferred_zones = row.timezone.clone();
                }
                true
            }
            // Zones that never share an open hour: left `pending`, not waited for.
            None => true,
        }
    }

    /// Adds the rows not claimed and inside their window to the page; `true` if any was.
    fn refill(&mut self, rows: Vec<DialRow>, queue: &Queue) -> bool {
        let now = Timestamp::now();
        let before = self.page.len();
        let claimed = lock(&queue.claimed);
        for row in rows {
            if claimed.contains(&row.id) {
                continue;
            }
            if self.defer_if_closed(&row, now) {
                continue;
            }
            self.page.push_back(row);
        }
        self.page.len() > before
    }
}
