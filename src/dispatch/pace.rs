//! The one pacer: the GCRA of `--rate`/`--burst` on a fixed schedule. The dispatcher
//! *reserves* a row's slot before it marks the row `in_flight`, and the request leaves at
//! that slot, so a late wake-up delays only that request and never shifts the schedule: at
//! 200/s the achieved rate stays at 200/s instead of losing every timer's lateness. Every
//! request, first attempts and retries alike, takes a slot here; nothing else paces.
//!
//! Because late wake-ups are not charged to the schedule, a request that woke late can
//! end up close to the ones after it. Two guards over the actual send times stop that:
//! with `--burst 1` no two requests leave closer than the period (less a catch-up of a
//! quarter of it, at most 2 ms: tokio's timer wakes up to a millisecond late, and at 200/s
//! a smaller catch-up could not make that up, so the rate would fall), and a sliding window
//! never puts more requests in one second than the schedule itself would.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Rate;

const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Pacer {
    period: Duration,
    /// How far ahead of the schedule a request may go: `burst - 1` periods.
    tolerance: Duration,
    /// The most sends in any window `[t, t + 1 s)` the schedule itself produces:
    /// `ceil(rate per second) + burst - 1`.
    per_second: usize,
    /// The least time between two actual sends (zero when a burst is allowed).
    min_gap: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The theoretical arrival time of the next request; `None` before the first one.
    next: Option<Instant>,
    /// When the latest sends (at most `per_second`) actually left.
    sent: VecDeque<Instant>,
}

impl Pacer {
    /// The pacer for `rate`, or `None` when the rate is unlimited.
    pub fn new(rate: Rate, burst: NonZeroU32) -> Option<Pacer> {
        let period = rate.period()?;
        let per_second = rate.per_second()?.ceil() as usize + burst.get() as usize - 1;
        let catch_up = (period / 4).min(Duration::from_millis(2));
        Some(Pacer {
            period,
            tolerance: period.saturating_mul(burst.get() - 1),
            per_second: per_second.max(1),
            min_gap: if burst.get() == 1 {
                period - catch_up
            } else {
                Duration::ZERO
            },
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the next free slot at or after `now` and returns when it opens.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut state = self.state();
        let tat = state.next.unwrap_or(now);
        let at = now.max(tat.checked_sub(self.tolerance).unwrap_or(now));
        state.next = Some(tat.max(at) + self.period);
        at
    }

    /// Records a send at `now` if the last second has room for it; otherwise returns when
    /// it will.
    pub fn admit(&self, now: Instant) -> Option<Instant> {
        let mut state = self.state();
        while state
            .sent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= SECOND)
        {
            state.sent.pop_front();
        }
        if let Some(&last) = state.sent.back()
            && now < last + self.min_gap
        {
            return Some(last + self.min_gap);
        }
        if state.sent.len() < self.per_second {
            state.sent.push_back(now);
            return None;
        }
        state.sent.front().map(|&t| t + SECOND)
    }

    /// Waits, once the reserved slot has come, for room in the last second, and records
    /// the send.
    pub async fn admit_when_room(&self) {
        while let Some(at) = self.admit(Instant::now()) {
            tokio::time::sleep_until(at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer(rate: &str, burst: u32) -> Pacer {
        let rate = rate.parse().unwrap();
        Pacer::new(rate, NonZeroU32::new(burst).unwrap()).unwrap()
    }

    #[test]
    fn reservations_follow_a_fixed_schedule() {
        let p = pacer("200/s", 1);
        let t0 = Instant::now();
        // Ten callers at once get ten slots 5 ms apart.
        let slots: Vec<_> = (0..10).map(|_| p.reserve(t0)).collect();
        for (k, at) in slots.iter().enumerate() {
            assert_eq!(*at - t0, Duration::from_millis(5 * k as u64));
        }
    }

    #[test]
    fn a_late_caller_does_not_shift_later_slots_when_saturated() {
        let p = pacer("200/s", 1);
        let t0 = Instant::now();
        let first = p.reserve(t0);
        // The next caller reserves early and wakes late: its slot was fixed at reservation.
        let second = p.reserve(t0 + Duration::from_millis(1));
        let third = p.reserve(t0 + Duration::from_millis(2));
        assert_eq!(second - first, Duration::from_millis(5));
        assert_eq!(third - second, Duration::from_millis(5));
    }

    #[test]
    fn idle_time_earns_no_credit_beyond_the_burst() {
        let p = pacer("10/s", 1);
        let t0 = Instant::now();
        p.reserve(t0);
        let later = t0 + Duration::from_secs(5);
        assert_eq!(p.reserve(later), later);
        assert_eq!(p.reserve(later), later + Duration::from_millis(100));
    }

    #[test]
    fn burst_lets_that_many_go_at_once_then_paces() {
        let p = pacer("10/s", 3);
        let t0 = Instant::now();
        let slots: Vec<_> = (0..5).map(|_| p.reserve(t0) - t0).collect();
        let ms = Duration::from_millis;
        assert_eq!(slots, [ms(0), ms(0), ms(0), ms(100), ms(200)]);
    }

    #[test]
    fn a_late_send_never_puts_more_in_one_second_than_the_schedule() {
        let p = pacer("200/s", 1);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // The first request woke 4 ms late. Each next one may follow at 3.75 ms at the
        // least, so the schedule is caught up 1.25 ms a send; then on time.
        assert_eq!(p.admit(t0 + ms(4)), None);
        let mut prev = t0 + ms(4);
        for k in 1..200 {
            let slot = t0 + ms(5 * k);
            let earliest = prev + Duration::from_micros(3750);
            if slot < earliest {
                assert_eq!(p.admit(slot), Some(earliest), "send {k}");
            }
            let at = slot.max(earliest);
            assert_eq!(p.admit(at), None, "send {k}");
            prev = at;
        }
        assert_eq!(prev, t0 + ms(995), "caught up");
        // The 201st is on time (1,000 ms) but within a second of the late first one.
        assert_eq!(p.admit(t0 + ms(1000)), Some(t0 + ms(1004)));
        assert_eq!(p.admit(t0 + ms(1004)), None);
    }

    #[test]
    fn without_a_burst_no_two_sends_are_closer_than_the_period_less_the_catch_up() {
        let p = pacer("10/s", 1);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // The first send woke 30 ms late; the second's slot (100 ms) is only 70 ms later.
        assert_eq!(p.admit(t0 + ms(30)), None);
        assert_eq!(p.admit(t0 + ms(100)), Some(t0 + ms(128)));
        assert_eq!(p.admit(t0 + ms(128)), None);
        // At 200/s the catch-up is a quarter of the 5 ms period.
        let p = pacer("200/s", 1);
        assert_eq!(p.admit(t0), None);
        assert_eq!(p.admit(t0 + ms(1)), Some(t0 + Duration::from_micros(3750)));
    }

    #[test]
    fn the_window_fits_fractional_rates_and_bursts() {
        let ms = Duration::from_millis;
        // 2.5/s: slots 0, 400, 800 share a second, so three must fit.
        let p = pacer("2.5/s", 1);
        let t0 = Instant::now();
        for k in 0..3 {
            assert_eq!(p.admit(t0 + ms(400 * k)), None);
        }
        // At 999 ms the gap rule already holds it, to 400 ms less the 2 ms catch-up.
        assert_eq!(p.admit(t0 + ms(999)), Some(t0 + ms(1198)));
        // 10/s with a burst of 3: three at once, then nine more in that second.
        let p = pacer("10/s", 3);
        for _ in 0..3 {
            assert_eq!(p.admit(t0), None);
        }
        for k in 1..=9 {
            assert_eq!(p.admit(t0 + ms(100 * k)), None, "send {k}");
        }
        assert_eq!(p.admit(t0 + ms(999)), Some(t0 + ms(1000)));
    }
}
