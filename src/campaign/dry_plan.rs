//! The dry run's planning pipeline: one thread reads the file, one thread per core plans
//! batches of records (number parsing is most of the cost), and the caller gets each row's
//! verdict back in line order. Channels are bounded, so memory stays flat.
//!
//! Every allocation is freed on the thread that made it: records go back to the reader to
//! be dropped, and a planned request is boiled down to a small [`Verdict`] on the planning
//! thread. glibc's allocator serialises frees of another thread's memory on its arena
//! locks, and with them the pipeline was slower than one thread.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::plan::{Planned, Planner, SkipReason};
use crate::source::{CsvSource, SourceError, SourceRecord};
use crate::zone::{self, Window};

/// Records per batch handed to a planning thread.
const BATCH: usize = 2048;

/// A dialable row's number as a dedupe key. E.164 is at most 15 digits, so the number is
/// a lossless u64: a quarter of the memory of the strings on a million-row file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumberKey {
    Digits(u64),
    /// Never produced by the planner, but kept exact if it were.
    Text(String),
}

impl NumberKey {
    pub fn of(e164: &str) -> NumberKey {
        let digits = e164.strip_prefix('+').unwrap_or("");
        // No country code starts with 0, and a leading zero would not survive as a number.
        let ok = (1..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        match digits.parse() {
            Ok(n) if ok => NumberKey::Digits(n),
            _ => NumberKey::Text(e164.to_owned()),
        }
    }
}

/// What the dry run needs to know of one row.
#[derive(Debug)]
pub enum Verdict {
    Skip {
        reason: SkipReason,
        detail: String,
    },
    Call {
        key: NumberKey,
        /// The row's calling window is closed at the dry run's `now`.
        outside_window: bool,
        /// The request body, while the caller still wants examples.
        example: Option<serde_json::Value>,
    },
}

/// How rows are judged: the planner, plus the calling window at one moment.
pub struct Judge<'a> {
    pub planner: &'a Planner,
    pub window: Option<&'a Window>,
    pub default_zone: &'a str,
    pub now: Timestamp,
    /// Set by the caller once it has all the example requests it shows.
    pub examples_done: &'a AtomicBool,
}

impl Judge<'_> {
    fn verdict(&self, record: &SourceRecord, zones: &mut HashMap<String, TimeZone>) -> Verdict {
        let planned = match record {
            SourceRecord::Malformed { reason, .. } => {
                return Verdict::Skip {
                    reason: SkipReason::MalformedRow,
                    detail: reason.clone(),
                };
            }
            SourceRecord::Row { line, fields } => self.planner.plan(*line, fields),
        };
        let call = match planned {
            Planned::Skip { reason, detail, .. } => return Verdict::Skip { reason, detail },
            Planned::Call(call) => call,
        };
        let outside_window = self.window.is_some_and(|w| {
            let (name, _) = zone::resolve(
                call.timezone.as_deref(),
                call.country.as_deref(),
                self.default_zone,
            );
            let tz = zones
                .entry(name)
                .or_insert_with_key(|name| zone::zone(name).unwrap_or(TimeZone::UTC));
            !w.is_open(self.now, tz)
        });
        let example = (!self.examples_done.load(Ordering::Relaxed))
            .then(|| serde_json::to_value(&call.request).unwrap_or_default());
        Verdict::Call {
            key: NumberKey::of(&call.e164),
            outside_window,
            example,
        }
    }
}

type Batch = (u64, Vec<SourceRecord>);

/// Judges every record of `source` and hands `(line, verdict)` to `f` in line order.
/// Returns the error that ended the file early, if any.
pub fn judge_in_order(
    mut source: CsvSource,
    judge: &Judge<'_>,
    stop: &(dyn Fn() -> bool + Sync),
    mut f: impl FnMut(u64, Verdict),
) -> Option<SourceError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(workers);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<(u64, Verdict)>)>(workers);
    let (spent_tx, spent_rx) = mpsc::channel::<Vec<SourceRecord>>();
    let batch_rx = Mutex::new(batch_rx);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut seq = 0;
            let mut batch = Vec::with_capacity(BATCH);
            for record in source.by_ref() {
                if stop() {
                    break;
                }
                batch.push(record);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if batch_tx.send((seq, full)).is_err() {
                        break;
                    }
                    seq += 1;
                    // Freed here, where they were allocated (see the module comment).
                    spent_rx.try_iter().for_each(drop);
                }
            }
            if !batch.is_empty() {
                let _ = batch_tx.send((seq, batch));
            }
            source.take_error()
        });
        for _ in 0..workers {
            let (rx, tx, spent) = (&batch_rx, done_tx.clone(), spent_tx.clone());
            scope.spawn(move || {
                let mut zones = HashMap::new();
                loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((seq, records)) = next else { break };
                    let verdicts = records
                        .iter()
                        .map(|r| (r.line(), judge.verdict(r, &mut zones)))
                        .collect();
                    // The reader may be gone at the very end; then they are dropped here.
                    let _ = spent.send(records);
                    if tx.send((seq, verdicts)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((done_tx, spent_tx));
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (seq, verdicts) in done_rx {
            waiting.insert(seq, verdicts);
            while let Some(verdicts) = waiting.remove(&next) {
                verdicts.into_iter().for_each(|(line, v)| f(line, v));
                next += 1;
            }
        }
        reader.join().unwrap_or(None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_are_exact() {
        assert_eq!(
            NumberKey::of("+966501234567"),
            NumberKey::Digits(966501234567)
        );
        assert_eq!(NumberKey::of("+1"), NumberKey::Digits(1));
        assert_ne!(NumberKey::of("+10"), NumberKey::of("+010"));
        for odd in ["966501234567", "+", "+1234567890123456", "+12a", "+010"] {
            assert_eq!(NumberKey::of(odd), NumberKey::Text(odd.into()), "{odd}");
        }
    }
}
