//! Whole-reader edge cases on inline bytes (empty input, bad options, endless and failing
//! readers) and a property test feeding arbitrary bytes.

use std::io::{self, Cursor, Read};

use proptest::prelude::*;

use super::tests::{fixture, from_bytes, opts, row};
use super::*;

#[test]
fn headers_are_trimmed_and_values_are_not() {
    let source = from_bytes(b" phone ,\tname \n 1 , x \n", &SourceOptions::default()).unwrap();
    assert_eq!(source.headers(), ["phone", "name"]);
    assert_eq!(source.collect::<Vec<_>>(), vec![row(2, &[" 1 ", " x "])]);
}

#[test]
fn an_empty_file_is_an_error_and_a_header_only_file_has_no_rows() {
    for empty in [&b""[..], b"\n\r\n", b"\xEF\xBB\xBF"] {
        let err = from_bytes(empty, &SourceOptions::default()).err().unwrap();
        assert_eq!(
            err.to_string(),
            "the file is empty: a CSV needs a header line"
        );
    }
    let mut source = from_bytes(b"phone,name\r\n\r\n", &SourceOptions::default()).unwrap();
    assert_eq!(source.headers(), ["phone", "name"]);
    assert_eq!(source.next(), None);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    std::fs::write(&path, b"").unwrap();
    assert_eq!(
        count_records(&path, &SourceOptions::default(), &|| false).unwrap(),
        0
    );
}

#[test]
fn bad_options_and_missing_files_are_errors_that_say_so() {
    let err = from_bytes(b"a\n", &opts(None, Some("klingon")))
        .err()
        .unwrap();
    assert!(err.to_string().contains("\"klingon\""), "{err}");
    let err = from_bytes(b"a\n", &opts(Some(b'"'), None)).err().unwrap();
    assert!(matches!(
        err,
        SourceError::InvalidDelimiter { delimiter: '"' }
    ));
    let missing = fixture("no_such_file.csv");
    let err = CsvSource::open(&missing, &SourceOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("no_such_file.csv"), "{err}");
    assert!(matches!(
        count_records(&missing, &SourceOptions::default(), &|| false),
        Err(SourceError::Open { .. })
    ));
}

#[test]
fn an_undecodable_header_asks_for_the_encoding() {
    let err = from_bytes(b"phone,stra\xDFe\n1,2\n", &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(
        err,
        SourceError::HeaderEncoding { encoding: "UTF-8" }
    ));
    assert!(err.to_string().contains("--encoding"));
}

#[test]
fn raw_text_is_requoted_so_it_reads_back_the_same() {
    let mut raw = String::new();
    for field in ["plain", "a;b", "say \"hi\"", "two\nlines", ""] {
        push_quoted(&mut raw, field, b';');
        raw.push('|');
    }
    assert_eq!(raw, "plain|\"a;b\"|\"say \"\"hi\"\"\"|\"two\nlines\"||");
}

/// Endless rows: proves nothing reads to the end before the first rows come out.
struct Endless {
    next: u64,
    pending: Vec<u8>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            self.pending = if self.next == 0 {
                b"phone,name\n".to_vec()
            } else {
                format!("+49151{:08},n{}\n", self.next, self.next).into_bytes()
            };
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn rows_stream_out_of_an_endless_input() {
    let input = Endless {
        next: 0,
        pending: Vec::new(),
    };
    let source = CsvSource::from_reader(Box::new(input), &SourceOptions::default()).unwrap();
    let last = source.take(5000).last().unwrap();
    assert_eq!(last, row(5001, &["+4915100005000", "n5000"]));
}

#[test]
fn an_io_error_mid_file_ends_iteration_and_can_be_taken() {
    let good = Cursor::new(b"phone\n1\n2\n".to_vec());
    let failing = good.chain(FailAfter);
    let mut source = CsvSource::from_reader(Box::new(failing), &SourceOptions::default()).unwrap();
    let lines: Vec<u64> = source.by_ref().map(|r| r.line()).collect();
    assert_eq!(lines, vec![2, 3]);
    let err = source.take_error().unwrap();
    assert!(matches!(err, SourceError::Io { line: 4, .. }), "{err:?}");
    assert!(source.take_error().is_none());
}

struct FailAfter;

impl Read for FailAfter {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("connection reset"))
    }
}

#[test]
fn the_source_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<CsvSource>();
}

/// Bytes biased towards what makes CSV interesting: delimiters, quotes, line breaks, BOMs.
fn csvish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        2 => Just(b','),
        1 => Just(b';'),
        2 => Just(b'"'),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        2 => Just(b'a'),
        1 => Just(0xFFu8),
        1 => Just(0xFEu8),
    ];
    prop::collection::vec(byte, 0..300)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_lines_increase(
        bytes in csvish_bytes(),
        delimiter in prop_oneof![Just(None), Just(Some(b',')), Just(Some(b'\t'))],
        encoding in prop_oneof![Just(None), Just(Some("shift_jis")), Just(Some("utf-16be"))],
    ) {
        let o = opts(delimiter, encoding);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        std::fs::write(&path, &bytes).unwrap();
        let counted = count_records(&path, &o, &|| false).unwrap();
        let Ok(mut source) = CsvSource::open(&path, &o) else {
            return Ok(());
        };
        let width = source.headers().len();
        let mut previous = 1;
        let mut yielded = 0u64;
        for record in source.by_ref() {
            prop_assert!(record.line() > previous, "{:?} after line {}", record, previous);
            previous = record.line();
            if let SourceRecord::Row { fields, .. } = &record {
                prop_assert_eq!(fields.len(), width);
            }
            yielded += 1;
        }
        prop_assert!(source.take_error().is_none());
        prop_assert_eq!(counted, yielded);
    }
}
