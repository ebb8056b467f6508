//! The dispatch loop and its workers. A row goes: claimed by the feed -> counted against
//! `--limit` -> a concurrency slot -> the 429 pause -> its send slot reserved from the one
//! pacer -> `in_flight` committed shortly before that slot -> the slot -> the gate (stop,
//! pause, start time, calling window) -> one request -> its transition committed. A row
//! held at the gate is put back exactly as it was: nothing was sent.
//!
//! The mark is committed [`LEAD`] before the slot so that the commit's fsync is not paid
//! out of the schedule; the ledger records when the request really left, so its attempt
//! times (and the achieved rate) are the ones the API saw.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::feed::{Feed, Hours, Queue, lock};
use super::gate::{Gate, Held};
use super::pace::Pacer;
use super::refusals::Refusals;
use super::{Caller, DispatchConfig, DispatchReport, Halt, IngestProgress, Stop};
use crate::api::Outcome;
use crate::ledger::{
    AttemptRecord, DialRow, InFlight, Ledger, LedgerError, Mark, Transition, now_ms,
};
use crate::progress::Tally;

/// Pause after a 429 without `Retry-After`: doubles per consecutive 429, up to a minute.
const THROTTLE_BASE: Duration = Duration::from_secs(1);
const THROTTLE_CAP: Duration = Duration::from_secs(60);
/// How long before its send slot a row is marked `in_flight`: room for the commit. A
/// crash in this window leaves the row `uncertain` (never called twice).
const LEAD: Duration = Duration::from_millis(25);
/// Unpaced (`--rate unlimited`), rows in hand per request slot: the one sending, and
/// others marked and waiting for it or having their answer recorded. So a crash can leave
/// at most this many times `--concurrency` rows `uncertain`; a paced run, `--concurrency`.
/// Four measured about a quarter faster than one on 200k rows.
const LANES_PER_REQUEST: usize = 4;
/// The same from [`WIDE`] requests in flight up. There a row spends most of its turn queued
/// at the ledger writer (its mark, then its answer), and more rows in hand make larger
/// commits: sixteen measured 15-20 % faster than four on 200k rows at 64 requests. Since
/// no task waits for its answer to be recorded, thirty-two measure 5-8 % faster than
/// sixteen (42.3-44.3k calls/s against 39.5-40.8k) and sixty-four no faster again, for more
/// memory. Below, the writer's queue is short and four cover it, so a crash costs no more
/// rows than it must (SPEC.md keeps `unlimited` for the sandbox and benchmarks).
const LANES_PER_REQUEST_WIDE: usize = 32;
const WIDE: usize = 16;

struct Ctx<C> {
    /// The one pacer: every request, first or retry, takes a slot here.
    pacer: Option<Pacer>,
    /// The last check before a request leaves.
    gate: Gate,
    ledger: Ledger,
    campaign_id: i64,
    caller: Arc<C>,
    cfg: DispatchConfig,
    queue: Queue,
    /// Cancelled when the pool must stop starting calls, from outside (a child of the
    /// caller's [`Halt`]) or inside (auth, breaker, ledger); `stop_reason` says why.
    halt: CancellationToken,
    stop_reason: Mutex<Option<Stop>>,
    /// Until when nobody starts a call, after a 429.
    pause_until: Mutex<Option<Instant>>,
    consecutive_429: AtomicU32,
    /// Consecutive retryable-or-uncertain outcomes, for the circuit breaker.
    consecutive_failures: AtomicU32,
    /// The first requests' answers, for the stop when every request is refused alike.
    refusals: Refusals,
    /// Rows dialed (or being dialed) by this invocation: what `--limit` counts. Filled only
    /// under a limit; a bit per row id, so even a limit of a million costs little.
    dialed: Mutex<Dialed>,
    /// `--concurrency`: held only while a request is out, never across a commit.
    requests: Semaphore,
    /// Requests sent by this invocation.
    sent: AtomicU64,
    /// Live counts for the progress display.
    tally: Arc<Tally>,
}

impl<C> Ctx<C> {
    fn halt_with(&self, stop: Stop) {
        let mut reason = lock(&self.stop_reason);
        if reason.is_none() {
            *reason = Some(stop);
        }
        self.halt.cancel();
    }

    /// Counts `row_id` against `--limit`: `Some(true)` if this take counted it, `Some(false)`
    /// if it was already counted (a retry, a row a 429 gave back), `None` if the limit is
    /// reached and the row must not be dialed.
    fn count_for_limit(&self, row_id: i64) -> Option<bool> {
        let Some(limit) = self.cfg.limit else {
            return Some(false);
        };
        lock(&self.dialed).take(row_id, limit)
    }

    fn limit_reached(&self) -> bool {
        self.cfg
            .limit
            .is_some_and(|limit| lock(&self.dialed).count >= limit)
    }

    fn uncount(&self, row_id: i64, counted: bool) {
        if counted {
            lock(&self.dialed).give_back(row_id);
        }
    }
}

/// The rows `--limit` counted, and how many (a bit set's `len` walks every word).
#[derive(Default)]
struct Dialed {
    rows: bit_set::BitSet,
    count: u64,
}

impl Dialed {
    /// See [`Ctx::count_for_limit`].
    fn take(&mut self, row_id: i64, limit: u64) -> Option<bool> {
        let bit = Self::bit(row_id);
        if self.rows.contains(bit) {
            return Some(false);
        }
        if self.count >= limit {
            return None;
        }
        self.rows.insert(bit);
        self.count += 1;
        Some(true)
    }

    fn give_back(&mut self, row_id: i64) {
        if self.rows.remove(Self::bit(row_id)) {
            self.count -= 1;
        }
    }

    /// Row ids are SQLite rowids, from 1 up; a bit set sized by them stays small.
    fn bit(row_id: i64) -> usize {
        usize::try_from(row_id).unwrap_or(0)
    }
}

/// A row in hand: its place among the lanes and its claim in the queue, both given back
/// when this is dropped. That is when its task ends, or, for a row that was sent, once its
/// answer is recorded, which happens on the ledger's sync thread after the task ended.
struct Lane<C> {
    ctx: Arc<Ctx<C>>,
    id: i64,
    _place: OwnedSemaphorePermit,
}

impl<C> Drop for Lane<C> {
    fn drop(&mut self) {
        self.ctx.queue.release(self.id);
    }
}

/// Waits until every row taken has been let go: its task ended and its answer, if it was
/// sent, is recorded.
async fn settle(workers: &mut JoinSet<()>, lanes: &Semaphore, all: u32) {
    while workers.join_next().await.is_some() {}
    drop(lanes.acquire_many(all).await);
}

/// Dials every dialable row of a campaign until it is exhausted, `--limit` rows were
/// dialed, or something stops it. Returns after every started request has been recorded.
pub async fn dispatch<C: Caller>(
    ledger: Ledger,
    campaign_id: i64,
    caller: Arc<C>,
    cfg: DispatchConfig,
    ingest: watch::Receiver<IngestProgress>,
    outside: Halt,
    tally: Arc<Tally>,
) -> DispatchReport {
    let n = cfg.concurrency.max(1);
    // `--concurrency` bounds requests in flight. Unpaced, the extra lanes let the next
    // rows' `in_flight` marks commit while those requests are out, so no request slot sits
    // idle through an fsync. Paced, the schedule never runs ahead of a free request slot.
    let per_request = match cfg.rate.period() {
        Some(_) => 1,
        None if n >= WIDE => LANES_PER_REQUEST_WIDE,
        None => LANES_PER_REQUEST,
    };
    let all_lanes = u32::try_from(n.saturating_mul(per_request)).unwrap_or(u32::MAX >> 3);
    let lanes = Arc::new(Semaphore::new(all_lanes as usize));
    // One cache of parsed zones and openings, for the feed and the gate alike.
    let hours = cfg
        .window
        .clone()
        .map(|w| Arc::new(Hours::new(w, cfg.default_zone.clone())));
    let ctx = Arc::new(Ctx {
        pacer: Pacer::new(cfg.rate, cfg.burst),
        gate: Gate::new(hours.clone(), cfg.start_at).expiring(cfg.expire_at),
        ledger: ledger.clone(),
        campaign_id,
        caller,
        cfg: cfg.clone(),
        queue: Queue::default(),
        halt: outside.token().child_token(),
        stop_reason: Mutex::new(None),
        pause_until: Mutex::new(None),
        consecutive_429: AtomicU32::new(0),
        consecutive_failures: AtomicU32::new(0),
        refusals: Refusals::default(),
        dialed: Mutex::default(),
        requests: Semaphore::new(n),
        sent: AtomicU64::new(0),
        tally: tally.clone(),
    });
    let mut feed = Feed::new(ledger, campaign_id, ingest, hours, tally).redialing(cfg.redial);
    let mut workers = JoinSet::new();
    let mut limit_hit = false;
    // Interrupted while holding: `halt` is cancelled, so the feed hands out nothing.
    hold_until_start(&ctx, cfg.start_at).await;
    loop {
        // At `--limit`, wait for the calls in flight before asking the feed for more: a row
        // a 429 gave back is counted already and is dialed first; a row not sent after all
        // (capped, held, moved on) gave its place back. Asking first could wait on rows due
        // later (a capped one, tomorrow) that the limit would refuse anyway.
        if ctx.limit_reached() {
            settle(&mut workers, &lanes, all_lanes).await;
            if lock(&ctx.queue.requeue).is_empty() && ctx.limit_reached() {
                limit_hit = true;
                break;
            }
        }
        let row = match feed.next(&ctx.queue, &ctx.halt).await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                ctx.halt_with(Stop::Ledger(e.to_string()));
                break;
            }
        };
        let Some(counted) = ctx.count_for_limit(row.id) else {
            // Only this loop counts rows and it checked above, so this is a row it cannot
            // place under the limit after all: put it back, and the next turn settles it.
            ctx.queue.release(row.id);
            continue;
        };
        if !ctx.refusals.admit(&ctx.halt).await {
            ctx.uncount(row.id, counted);
            ctx.queue.release(row.id);
            break;
        }
        let permit = tokio::select! {
            p = lanes.clone().acquire_owned() => Some(p.expect("the semaphore is never closed")),
            _ = ctx.halt.cancelled() => None,
        };
        let (Some(permit), Some(slot)) = (permit, next_slot(&ctx).await) else {
            ctx.refusals.give_back();
            ctx.uncount(row.id, counted);
            ctx.queue.release(row.id);
            break;
        };
        let lane = Lane {
            ctx: ctx.clone(),
            id: row.id,
            _place: permit,
        };
        workers.spawn(work(lane, row, slot, counted));
        while workers.try_join_next().is_some() {}
    }
    settle(&mut workers, &lanes, all_lanes).await;
    let internal = lock(&ctx.stop_reason).clone();
    let stop =
        outside
            .reason()
            .or(internal)
            .unwrap_or(if limit_hit { Stop::Limit } else { Stop::Done });
    DispatchReport {
        requests: ctx.sent.load(Ordering::Relaxed),
        stop,
    }
}

/// `--start-at`: no call starts before then.
async fn hold_until_start<C>(ctx: &Ctx<C>, start_at: Option<jiff::Timestamp>) {
    let Some(at) = start_at else {
        return;
    };
    let wait = at.as_millisecond() - now_ms();
    if wait > 0 {
        tracing::info!("holding the campaign until {at} (--start-at)");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = ctx.halt.cancelled() => {}
        }
    }
}

/// Waits out any 429 pause, reserves the next send slot and sleeps until [`LEAD`] before
/// it. `None` if the pool is stopping.
async fn next_slot<C>(ctx: &Ctx<C>) -> Option<Instant> {
    loop {
        let until = *lock(&ctx.pause_until);
        match until {
            Some(t) if t > Instant::now() => {
                let secs = t.saturating_duration_since(Instant::now()).as_secs_f64();
                ctx.tally
                    .set_waiting(Some(format!("paused by the API (429) for {secs:.0} s")));
                tokio::select! {
                    _ = tokio::time::sleep_until(t) => {}
                    _ = ctx.halt.cancelled() => return None,
                }
                ctx.tally.set_waiting(None);
            }
            _ => break,
        }
    }
    let now = Instant::now();
    let slot = ctx.pacer.as_ref().map_or(now, |p| p.reserve(now));
    if let Some(early) = slot.checked_sub(LEAD).filter(|t| *t > now) {
        tokio::select! {
            _ = tokio::time::sleep_until(early) => {}
            _ = ctx.halt.cancelled() => return None,
        }
    }
    (!ctx.halt.is_cancelled()).then_some(slot)
}

/// One row: mark, wait for the slot, pass the gate, send, record.
async fn work<C: Caller>(lane: Lane<C>, row: DialRow, slot: Instant, counted: bool) {
    // `lane` goes on to the answer's reply; the task keeps its own handle on the context.
    let ctx = Arc::clone(&lane.ctx);
    let ctx = &*ctx;
    let cap = ctx.cfg.max_calls_per_day;
    let inflight = match ctx.ledger.mark_within_cap(ctx.campaign_id, &row, cap).await {
        Ok(Mark::Marked(f)) => f,
        // Someone else moved the row on: it must not be sent.
        Ok(Mark::Gone) => {
            ctx.refusals.give_back();
            return ctx.uncount(row.id, counted);
        }
        // Its number had its calls today: it waits in `retry_wait`, and the feed finds it then.
        Ok(Mark::Capped { until }) => {
            tracing::debug!("line {}: held by the daily cap until {until} ms", row.line);
            ctx.refusals.give_back();
            return ctx.uncount(row.id, counted);
        }
        Err(e) => return ctx.halt_with(Stop::Ledger(e.to_string())),
    };
    // Unpaced, the slot has always passed by now: no timer to register for it.
    let on_time = if slot <= Instant::now() {
        !ctx.halt.is_cancelled()
    } else {
        tokio::select! {
            _ = tokio::time::sleep_until(slot) => true,
            _ = ctx.halt.cancelled() => false,
        }
    };
    let request = tokio::select! {
        p = ctx.requests.acquire() => Some(p.expect("the semaphore is never closed")),
        _ = ctx.halt.cancelled() => None,
    };
    if on_time && let Some(pacer) = &ctx.pacer {
        pacer.admit_when_room().await;
    }
    // The send's moment is the pacer's, so the ledger's spacing is the one it enforced.
    let sent_at = now_ms();
    let paused = *lock(&ctx.pause_until);
    // One reading of the clock: the gate judges the very instant the ledger records.
    let now = jiff::Timestamp::from_millisecond(sent_at).unwrap_or_else(|_| jiff::Timestamp::now());
    let verdict = ctx.gate.check(&row, ctx.halt.is_cancelled(), paused, now);
    if let Err(held) = verdict {
        drop(request);
        return hold_back(ctx, row, inflight, counted, held).await;
    }
    send(ctx, lane, row, inflight, sent_at, request).await;
}

/// Undoes the mark of a row held at the gate: nothing was sent, so it gets back its state
/// and its attempt.
async fn hold_back<C>(ctx: &Ctx<C>, row: DialRow, inflight: InFlight, counted: bool, held: Held) {
    if let Err(e) = ctx.ledger.unmark_in_flight(row.id, inflight).await {
        // The row stays in_flight and becomes uncertain at the next start: never twice.
        return ctx.halt_with(Stop::Ledger(e.to_string()));
    }
    ctx.uncount(row.id, counted);
    ctx.refusals.give_back();
    match held {
        Held::Paused => lock(&ctx.queue.requeue).push_front(row),
        Held::Closed(opens) => tracing::debug!(
            "line {}: its calling window closed before the request left; it waits until {opens}",
            row.line
        ),
        Held::Stopping | Held::NotYet(_) | Held::Expired => {}
    }
}

/// Sends the row's request under its request slot (`None` only when stopping, and then
/// the gate held the row back) and hands the answer to the ledger once the slot is free
/// again. Nothing waits for it: [`recorded`] runs once it is durable, and the row stays in
/// hand (its [`Lane`]) until then.
async fn send<C: Caller>(
    ctx: &Ctx<C>,
    lane: Lane<C>,
    row: DialRow,
    inflight: InFlight,
    sent_at: i64,
    request: Option<SemaphorePermit<'_>>,
) {
    ctx.sent.fetch_add(1, Ordering::Relaxed);
    Tally::add(&ctx.tally.requests, 1);
    // Boxed, the HTTP exchange's large state exists only while a request is out, not in
    // each of the many rows in hand: 3-4 MiB less peak RSS at 2048 rows in hand.
    let (outcome, latency) = Box::pin(ctx.caller.place_call(row.request.clone())).await;
    let jitter: f64 = rand::random();
    let transition = ctx
        .cfg
        .policy
        .decide(&outcome, inflight.attempt, jitter, now_ms());
    // Before the slot is free: a 429's pause must hold the rows waiting for it.
    react(ctx, &outcome);
    drop(request);
    let record = AttemptRecord {
        class: outcome.class(),
        http_status: outcome.http_status(),
        latency_ms: latency.as_millis() as i64,
        sent_at: Some(sent_at),
        transition: transition.clone(),
    };
    let requeue = matches!(outcome, Outcome::Throttled { .. });
    let row_id = row.id;
    let handed = ctx
        .ledger
        .finish_attempt_then(row_id, inflight, record, move |answer| {
            recorded(&lane, answer, &transition, row, requeue);
        });
    if let Err(e) = handed {
        // The row stays in_flight and becomes uncertain at the next start: the truth.
        ctx.halt_with(Stop::Ledger(e.to_string()));
    }
}

/// A sent row's answer is durable (or could not be made so), on the ledger's sync thread:
/// the live counts, and a 429's row back in the queue. Short, since every commit's answers
/// wait for it; the caller then drops the row's [`Lane`].
fn recorded<C>(
    lane: &Lane<C>,
    answer: Result<bool, LedgerError>,
    transition: &Transition,
    row: DialRow,
    requeue: bool,
) {
    let ctx = &lane.ctx;
    match answer {
        Ok(true) => {}
        Ok(false) => {
            tracing::error!(
                "line {}: another process moved this row while its call was in flight; stopping",
                row.line
            );
            return ctx.halt_with(Stop::LeaseLost);
        }
        // The row stays in_flight and becomes uncertain at the next start: the truth.
        Err(e) => return ctx.halt_with(Stop::Ledger(e.to_string())),
    }
    let t = &ctx.tally;
    match transition {
        Transition::Succeeded { .. } => Tally::add(&t.succeeded, 1),
        Transition::Failed { .. } => Tally::add(&t.failed, 1),
        Transition::Uncertain { .. } => Tally::add(&t.uncertain, 1),
        Transition::RetryWait { .. } | Transition::Requeue { .. } => {}
    }
    if requeue {
        lock(&ctx.queue.requeue).push_back(row);
    }
}

/// The pool-wide consequences of one outcome: 429 pause, auth stop, circuit breakers.
fn react<C>(ctx: &Ctx<C>, outcome: &Outcome) {
    if let Some(message) = ctx.refusals.answered(outcome) {
        ctx.halt_with(Stop::Refused(message));
    }
    match outcome {
        Outcome::Throttled { retry_after } => {
            let n = ctx.consecutive_429.fetch_add(1, Ordering::SeqCst);
            let backoff = THROTTLE_BASE
                .saturating_mul(1 << n.min(6))
                .min(THROTTLE_CAP);
            let until = Instant::now() + retry_after.unwrap_or(backoff).min(THROTTLE_CAP * 60);
            let mut pause = lock(&ctx.pause_until);
            if pause.is_none_or(|p| p < until) {
                *pause = Some(until);
            }
            tracing::warn!(
                "the API is throttling (429): pausing every call for {:.1}s",
                until
                    .saturating_duration_since(Instant::now())
                    .as_secs_f64()
            );
        }
        Outcome::Auth { status, message } => {
            ctx.halt_with(Stop::Auth(format!("{status}: {message}")));
        }
        Outcome::Retryable { .. } | Outcome::Uncertain { .. } => {
            ctx.consecutive_429.store(0, Ordering::SeqCst);
            let n = ctx.consecutive_failures.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= ctx.cfg.breaker_threshold {
                ctx.halt_with(Stop::Breaker);
            }
        }
        Outcome::Success { .. } | Outcome::Permanent { .. } => {
            ctx.consecutive_429.store(0, Ordering::SeqCst);
            ctx.consecutive_failures.store(0, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Dialed;

    #[test]
    fn the_limit_counts_each_row_once_and_a_row_given_back_frees_its_place() {
        let mut d = Dialed::default();
        assert_eq!(d.take(7, 2), Some(true));
        assert_eq!(d.take(7, 2), Some(false), "a retry is not a new row");
        assert_eq!(d.take(1_000_000, 2), Some(true));
        assert_eq!(d.take(3, 2), None, "the limit is reached");
        d.give_back(7);
        assert_eq!(d.take(3, 2), Some(true));
    }
}
