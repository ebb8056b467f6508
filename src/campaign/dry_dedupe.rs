//! The dry run's deduplication. Every dialable row's number goes into a flat vector, and
//! the repeats are found once the file is read: a sorted copy names the numbers that occur
//! more than once, and one pass in line order tells each first row from its repeats. A
//! million rows cost 18 bytes each, where a hash map of number to line took 32 at its
//! doubling (and the dry run of 1M rows went over 100 MiB).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::dry_plan::NumberKey;
use crate::zone::ZoneSource;

/// A dialable row that turned out to repeat an earlier row's number.
#[derive(Debug, PartialEq)]
pub struct Repeat {
    pub line: u64,
    pub first: u64,
    pub outside_window: bool,
    pub zone_source: ZoneSource,
}

#[derive(Default)]
pub struct Seen {
    digits: Vec<u64>,
    lines: Vec<u64>,
    marks: Vec<(ZoneSource, bool)>,
    /// Keys the planner never produces, kept exact if it did: checked as they come.
    text: HashMap<String, u64>,
}

impl Seen {
    /// Records a dialable row. A text key is checked at once: `Some(first line)` if it
    /// repeats. Digits are checked by [`Seen::repeats`] at the end.
    pub fn add(
        &mut self,
        key: NumberKey,
        line: u64,
        outside_window: bool,
        zone_source: ZoneSource,
    ) -> Option<u64> {
        match key {
            NumberKey::Digits(n) => {
                self.digits.push(n);
                self.lines.push(line);
                self.marks.push((zone_source, outside_window));
                None
            }
            NumberKey::Text(t) => match self.text.entry(t) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(line);
                    None
                }
            },
        }
    }

    /// Whether `key` was added before. A linear scan: only for the first few rows, while
    /// the dry run still picks example requests.
    pub fn seen_before(&self, key: &NumberKey) -> bool {
        match key {
            NumberKey::Digits(n) => self.digits.contains(n),
            NumberKey::Text(t) => self.text.contains_key(t),
        }
    }

    /// Every row whose digits repeat an earlier row's, in line order.
    pub fn repeats(self) -> Vec<Repeat> {
        let mut sorted = self.digits.clone();
        sorted.sort_unstable();
        let mut twice: HashMap<u64, Option<u64>> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| (w[0], None))
            .collect();
        drop(sorted);
        let mut out = Vec::new();
        for (i, n) in self.digits.iter().enumerate() {
            let Some(first) = twice.get_mut(n) else {
                continue;
            };
            match first {
                None => *first = Some(self.lines[i]),
                Some(first) => {
                    let (zone_source, outside_window) = self.marks[i];
                    out.push(Repeat {
                        line: self.lines[i],
                        first: *first,
                        outside_window,
                        zone_source,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_name_the_first_line_in_line_order() {
        let mut seen = Seen::default();
        let rows = [(7, 2), (5, 3), (7, 4), (9, 5), (5, 6), (7, 8)];
        for (n, line) in rows {
            let outside = line == 8;
            assert_eq!(
                seen.add(NumberKey::Digits(n), line, outside, ZoneSource::Country),
                None
            );
        }
        assert!(seen.seen_before(&NumberKey::Digits(9)));
        assert!(!seen.seen_before(&NumberKey::Digits(1)));
        let lines: Vec<(u64, u64, bool)> = seen
            .repeats()
            .iter()
            .map(|r| (r.line, r.first, r.outside_window))
            .collect();
        assert_eq!(lines, [(4, 2, false), (6, 3, false), (8, 2, true)]);
    }

    #[test]
    fn text_keys_are_checked_as_they_come() {
        let mut seen = Seen::default();
        let key = || NumberKey::Text("odd".into());
        assert_eq!(seen.add(key(), 2, false, ZoneSource::Default), None);
        assert_eq!(seen.add(key(), 5, false, ZoneSource::Default), Some(2));
        assert!(seen.repeats().is_empty());
    }
}
