//! The dispatch loop and its workers. A row goes: claimed by the feed -> a concurrency
//! slot -> the 429 pause -> a rate permit -> `in_flight` committed -> one request ->
//! its transition committed. The permit comes before the `in_flight` mark so a crash while
//! waiting for the limiter leaves rows `pending`, not `uncertain`; the pacer right before
//! the send keeps the rate true at the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, RateLimiter};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::feed::{Feed, Hours, Queue, lock};
use super::pace::Pacer;
use super::{Caller, DispatchConfig, DispatchReport, IngestProgress, Stop};
use crate::api::Outcome;
use crate::ledger::{AttemptRecord, DialRow, Ledger, Transition, now_ms};
use crate::progress::Tally;

/// Pause after a 429 without `Retry-After`: doubles per consecutive 429, up to a minute.
const THROTTLE_BASE: Duration = Duration::from_secs(1);
const THROTTLE_CAP: Duration = Duration::from_secs(60);

struct Ctx<C> {
    /// Paces requests at the moment they leave: the GCRA of `--rate`/`--burst` that the API
    /// sees. The feeder's limiter paces the `in_flight` marks; the commit between the two
    /// takes a variable time (fsync), which would bunch requests up without this gate.
    pacer: Option<Pacer>,
    ledger: Ledger,
    campaign_id: i64,
    caller: Arc<C>,
    cfg: DispatchConfig,
    queue: Queue,
    /// Set when the pool must stop starting calls (auth, breaker, ledger); `stop_reason` says why.
    halt: CancellationToken,
    stop_reason: std::sync::Mutex<Option<Stop>>,
    /// Until when nobody starts a call, after a 429.
    pause_until: std::sync::Mutex<Option<Instant>>,
    consecutive_429: AtomicU32,
    /// Consecutive retryable-or-uncertain outcomes, for the circuit breaker.
    consecutive_failures: AtomicU32,
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
}

/// Dials every dialable row of a campaign until it is exhausted, `--limit` is reached, or
/// something stops it. Returns after every started request has been recorded.
pub async fn dispatch<C: Caller>(
    ledger: Ledger,
    campaign_id: i64,
    caller: Arc<C>,
    cfg: DispatchConfig,
    ingest: watch::Receiver<IngestProgress>,
    interrupt: CancellationToken,
    tally: Arc<Tally>,
) -> DispatchReport {
    let limiter: Option<DefaultDirectRateLimiter> =
        feeder_quota(cfg.rate, cfg.burst).map(RateLimiter::direct);
    let slots = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let ctx = Arc::new(Ctx {
        pacer: Pacer::new(cfg.rate, cfg.burst),
        ledger: ledger.clone(),
        campaign_id,
        caller,
        cfg: cfg.clone(),
        queue: Queue::default(),
        halt: interrupt.child_token(),
        stop_reason: std::sync::Mutex::new(None),
        pause_until: std::sync::Mutex::new(None),
        consecutive_429: AtomicU32::new(0),
        consecutive_failures: AtomicU32::new(0),
        tally: tally.clone(),
    });
    let hours = cfg.window.map(|w| Hours::new(w, cfg.default_zone.clone()));
    let mut feed = Feed::new(ledger, campaign_id, ingest, hours, tally);
    let mut workers = JoinSet::new();
    let mut started: u64 = 0;
    let stop = &ctx.halt;
    // Interrupted while holding: `halt` is cancelled, so the feed hands out nothing.
    hold_until_start(&ctx, cfg.start_at).await;
    loop {
        if cfg.limit.is_some_and(|l| started >= l) {
            ctx.halt_with(Stop::Limit);
            break;
        }
        let row = match feed.next(&ctx.queue, stop).await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                ctx.halt_with(Stop::Ledger(e.to_string()));
                break;
            }
        };
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => { ctx.queue.release(row.id); break; }
        };
        if !wait_for_go(&ctx, limiter.as_ref()).await {
            ctx.queue.release(row.id);
            break;
        }
        started += 1;
        let ctx = ctx.clone();
        workers.spawn(async move {
            let id = row.id;
            work(&ctx, row).await;
            ctx.queue.release(id);
            drop(permit);
        });
        while workers.try_join_next().is_some() {}
    }
    while workers.join_next().await.is_some() {}
    let stop = if interrupt.is_cancelled() {
        Stop::Interrupted
    } else {
        lock(&ctx.stop_reason).clone().unwrap_or(Stop::Done)
    };
    DispatchReport {
        requests: started,
        stop,
    }
}

/// How far ahead of the pacer the feeder may mark rows `in_flight`.
const FEEDER_LEAD: Duration = Duration::from_millis(50);

/// The feeder's quota: the rate, with enough extra tolerance to run [`FEEDER_LEAD`] (and
/// at least one period) ahead of the pacer. A slot the pacer finds nobody for is lost for
/// good, so a late timer or a slow commit in front of it would otherwise cost the rate.
/// The pacer, not the feeder, holds the API to `--burst`; the lead only means a few more
/// rows wait `in_flight` at the gate (and would be `uncertain` after a crash, never
/// called twice).
fn feeder_quota(rate: super::Rate, burst: std::num::NonZeroU32) -> Option<governor::Quota> {
    let period = rate.quota(burst)?.replenish_interval();
    let lead = (FEEDER_LEAD.as_nanos() / period.as_nanos().max(1)).clamp(1, 64) as u32;
    rate.quota(burst.saturating_add(lead))
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

/// Waits out any 429 pause, then for a rate permit. `false` if the pool is stopping.
async fn wait_for_go<C>(ctx: &Ctx<C>, limiter: Option<&DefaultDirectRateLimiter>) -> bool {
    loop {
        let until = *lock(&ctx.pause_until);
        match until {
            Some(t) if t > Instant::now() => {
                let secs = t.saturating_duration_since(Instant::now()).as_secs_f64();
                ctx.tally
                    .set_waiting(Some(format!("paused by the API (429) for {secs:.0} s")));
                tokio::select! {
                    _ = tokio::time::sleep_until(t) => {}
                    _ = ctx.halt.cancelled() => return false,
                }
                ctx.tally.set_waiting(None);
            }
            _ => break,
        }
    }
    if let Some(limiter) = limiter {
        tokio::select! {
            _ = limiter.until_ready() => {}
            _ = ctx.halt.cancelled() => return false,
        }
    }
    !ctx.halt.is_cancelled()
}

async fn work<C: Caller>(ctx: &Ctx<C>, row: DialRow) {
    let inflight = match ctx.ledger.mark_in_flight(ctx.campaign_id, &row).await {
        Ok(Some(f)) => f,
        // Someone else moved the row on: it must not be sent.
        Ok(None) => return,
        Err(e) => return ctx.halt_with(Stop::Ledger(e.to_string())),
    };
    if let Some(pacer) = &ctx.pacer {
        // Not cancellable: the row is in_flight, so it is either sent or left to become
        // uncertain; the wait is at most the feeder's lead (FEEDER_LEAD) and a period.
        pacer.wait().await;
    }
    Tally::add(&ctx.tally.requests, 1);
    let (outcome, latency) = ctx
        .caller
        .place_call(Bytes::from(row.request.clone()))
        .await;
    let jitter: f64 = rand::random();
    let transition = ctx
        .cfg
        .policy
        .decide(&outcome, inflight.attempt, jitter, now_ms());
    react(ctx, &outcome);
    let record = AttemptRecord {
        class: outcome.class(),
        http_status: outcome.http_status(),
        latency_ms: latency.as_millis() as i64,
        transition: transition.clone(),
    };
    if let Err(e) = ctx.ledger.finish_attempt(row.id, inflight, record).await {
        // The row stays in_flight and becomes uncertain at the next start: the truth.
        return ctx.halt_with(Stop::Ledger(e.to_string()));
    }
    let t = &ctx.tally;
    match transition {
        Transition::Succeeded { .. } => Tally::add(&t.succeeded, 1),
        Transition::Failed { .. } => Tally::add(&t.failed, 1),
        Transition::Uncertain { .. } => Tally::add(&t.uncertain, 1),
        Transition::RetryWait { .. } | Transition::Requeue { .. } => {}
    }
    if matches!(outcome, Outcome::Throttled { .. }) {
        lock(&ctx.queue.requeue).push_back(row);
    }
}

/// The pool-wide consequences of one outcome: 429 pause, auth stop, circuit breaker.
fn react<C>(ctx: &Ctx<C>, outcome: &Outcome) {
    match outcome {
        Outcome::Throttled { retry_after } => {
            let n = ctx.consecutive_429.fetch_add(1, Ordering::SeqCst);
            let backoff = THROTTLE_BASE
                .saturating_mul(1 << n.min(6))
                .min(THROTTLE_CAP);
            let until = Instant::now() + retry_after.unwrap_or(backoff);
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
mod feeder_tests {
    use super::*;

    #[test]
    fn the_feeder_leads_the_pacer_by_about_fifty_milliseconds() {
        let burst = |rate: &str| {
            let q = feeder_quota(rate.parse().unwrap(), std::num::NonZeroU32::MIN).unwrap();
            q.burst_size().get()
        };
        assert_eq!(burst("200/s"), 11, "10 periods of 5 ms, plus the burst");
        assert_eq!(burst("1/s"), 2, "never less than one period");
        assert_eq!(burst("100000/s"), 65, "bounded");
        assert!(feeder_quota(super::super::Rate::Unlimited, std::num::NonZeroU32::MIN).is_none());
    }
}
