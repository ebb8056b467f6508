//! The send-time pacer: the GCRA of `--rate`/`--burst` applied at the moment a request
//! leaves. Unlike governor's check-then-sleep, a caller *reserves* its slot before it
//! sleeps, so a late wake-up delays only that request and never shifts the schedule: at
//! 200/s the achieved rate stays at 200/s instead of losing every timer's lateness.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Rate;

#[derive(Debug)]
pub struct Pacer {
    period: Duration,
    /// How far ahead of the schedule a request may go: `burst - 1` periods.
    tolerance: Duration,
    /// The theoretical arrival time of the next request; `None` before the first one.
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// The pacer for `rate`, or `None` when the rate is unlimited.
    pub fn new(rate: Rate, burst: NonZeroU32) -> Option<Pacer> {
        let quota = rate.quota(burst)?;
        let period = quota.replenish_interval();
        Some(Pacer {
            period,
            tolerance: period.saturating_mul(burst.get() - 1),
            next: Mutex::new(None),
        })
    }

    /// Takes the next free slot at or after `now` and returns when it opens.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let tat = next.unwrap_or(now);
        let at = now.max(tat.checked_sub(self.tolerance).unwrap_or(now));
        *next = Some(tat.max(at) + self.period);
        at
    }

    /// Waits for this request's slot.
    pub async fn wait(&self) {
        tokio::time::sleep_until(self.reserve(Instant::now())).await;
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
}
