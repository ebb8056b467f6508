//! The random draws behind the fault knobs and latency, from the sandbox's seeded RNG.

use std::time::Duration;

use rand::{Rng, RngExt};

use super::config::LatencyRange;

/// True with probability `p`; exact at 0 and 1 so those ratios never consume a draw (and a
/// ratio outside `[0, 1]` from a hand-built config cannot panic).
pub fn chance(rng: &mut impl Rng, p: f64) -> bool {
    if p >= 1.0 {
        true
    } else if p > 0.0 {
        rng.random_bool(p)
    } else {
        false
    }
}

/// A delay drawn uniformly from `range`.
pub fn sample_latency(rng: &mut impl Rng, range: LatencyRange) -> Duration {
    if range.min >= range.max {
        return range.min;
    }
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.random_range(nanos(range.min)..=nanos(range.max)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    #[test]
    fn chance_is_exact_at_the_ends_and_seeded_in_between() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert!(chance(&mut rng, 1.0) && chance(&mut rng, 7.0));
        assert!(!chance(&mut rng, 0.0) && !chance(&mut rng, f64::NAN));
        let draws = |seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            (0..1000).filter(|_| chance(&mut rng, 0.3)).count()
        };
        assert_eq!(draws(5), draws(5));
        assert!((200..400).contains(&draws(5)));
    }

    #[test]
    fn latency_stays_in_its_range() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let range = LatencyRange {
            min: Duration::from_millis(20),
            max: Duration::from_millis(80),
        };
        for _ in 0..100 {
            let delay = sample_latency(&mut rng, range);
            assert!(delay >= range.min && delay <= range.max, "{delay:?}");
        }
        let fixed = LatencyRange {
            min: range.min,
            max: range.min,
        };
        assert_eq!(sample_latency(&mut rng, fixed), range.min);
    }
}
