//! The record loop: csv-core over a buffered UTF-8 stream, naming each record by the physical
//! line it starts on, with memory bounded by the longest record (capped), never by the file.
//!
//! We drive csv-core ourselves rather than use `csv::Reader` because its positions count only
//! `\n` and point at where the previous record ended, not at the record's first byte after
//! blank lines. Here blank lines are skipped by us, so the record's start is exactly known.

use std::io::{self, BufRead};

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::error::SourceError;

/// A record longer than this is an unclosed quote swallowing the file, not a contact.
pub(crate) const MAX_RECORD_BYTES: usize = 1 << 20;
/// Likewise for the number of fields.
pub(crate) const MAX_FIELDS: usize = 1 << 16;

/// Physical line counting: `\r\n`, `\n` and a lone `\r` each end one line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineCounter {
    line: u64,
    /// The last byte seen was `\r`, so a `\n` now completes the same line break.
    prev_cr: bool,
}

impl LineCounter {
    pub(crate) fn new() -> Self {
        LineCounter {
            line: 1,
            prev_cr: false,
        }
    }

    /// The 1-based line the next byte is on.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' => {
                    self.line += u64::from(!self.prev_cr);
                    self.prev_cr = false;
                }
                b'\r' => {
                    self.line += 1;
                    self.prev_cr = true;
                }
                _ => self.prev_cr = false,
            }
        }
    }
}

/// Which cap a record outgrew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// More than [`MAX_RECORD_BYTES`] bytes.
    Bytes,
    /// More than [`MAX_FIELDS`] fields.
    Fields,
}

/// Reads one record at a time into reused buffers.
pub(crate) struct RecordReader {
    input: Box<dyn BufRead + Send>,
    core: Reader,
    lines: LineCounter,
    /// The current record's unescaped field bytes, back to back.
    out: Vec<u8>,
    /// Where each field of the current record ends in `out`.
    ends: Vec<usize>,
    olen: usize,
    nend: usize,
    /// The current record outgrew a cap; the rest of it goes to the scratch buffers.
    overflow: Option<Overflow>,
    /// The current record's bytes exactly as read (quotes and all, no line break; its first
    /// [`MAX_RECORD_BYTES`] if longer), so a malformed record is kept as it was.
    raw: Vec<u8>,
    scratch: Vec<u8>,
    scratch_ends: Vec<usize>,
    /// End of input, or an I/O error: no more records.
    finished: bool,
}

impl RecordReader {
    pub(crate) fn new(input: Box<dyn BufRead + Send>, delimiter: u8) -> Self {
        RecordReader {
            input,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            lines: LineCounter::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            olen: 0,
            nend: 0,
            overflow: None,
            raw: Vec::with_capacity(4096),
            scratch: Vec::new(),
            scratch_ends: Vec::new(),
            finished: false,
        }
    }

    /// Reads the next record; returns the line it starts on, or `None` at the end.
    ///
    /// After an error (which names the line being read), it keeps returning `None`.
    pub(crate) fn next_record(&mut self) -> Result<Option<u64>, SourceError> {
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result.map_err(|source| SourceError::Io {
            line: self.lines.line(),
            source,
        })
    }

    fn read_record(&mut self) -> io::Result<Option<u64>> {
        if self.finished {
            return Ok(None);
        }
        self.olen = 0;
        self.nend = 0;
        self.overflow = None;
        self.raw.clear();
        // Skip blank lines ourselves, so the first byte handed to csv-core is the record's.
        let start = loop {
            let buf = fill(self.input.as_mut())?;
            let skip = buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip == 0 {
                break self.lines.line();
            }
            self.lines.advance(&buf[..skip]);
            self.input.consume(skip);
        };
        loop {
            let buf = fill(self.input.as_mut())?;
            let (res, nin, nout, nend) = if self.overflow.is_some() {
                self.core
                    .read_record(buf, &mut self.scratch, &mut self.scratch_ends)
            } else {
                self.core
                    .read_record(buf, &mut self.out[self.olen..], &mut self.ends[self.nend..])
            };
            self.lines.advance(&buf[..nin]);
            let room = MAX_RECORD_BYTES.saturating_sub(self.raw.len());
            self.raw.extend_from_slice(&buf[..nin.min(room)]);
            self.input.consume(nin);
            if self.overflow.is_none() {
                self.olen += nout;
                self.nend += nend;
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.grow_output(),
                ReadRecordResult::OutputEndsFull => self.grow_ends(),
                ReadRecordResult::Record => {
                    while self.raw.last().is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                        self.raw.pop();
                    }
                    return Ok(Some(start));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn grow_output(&mut self) {
        if self.overflow.is_some() {
            return; // The scratch buffer is simply reused.
        }
        let len = (self.out.len() * 2).min(MAX_RECORD_BYTES);
        if len > self.out.len() {
            self.out.resize(len, 0);
        } else {
            self.start_overflow(Overflow::Bytes);
        }
    }

    fn grow_ends(&mut self) {
        if self.overflow.is_some() {
            return;
        }
        let len = (self.ends.len() * 2).min(MAX_FIELDS);
        if len > self.ends.len() {
            self.ends.resize(len, 0);
        } else {
            self.start_overflow(Overflow::Fields);
        }
    }

    fn start_overflow(&mut self, why: Overflow) {
        self.overflow = Some(why);
        if self.scratch.is_empty() {
            self.scratch = vec![0; 64 * 1024];
            self.scratch_ends = vec![0; 1024];
        }
    }

    /// The cap the record outgrew, if any: then only its start was kept.
    pub(crate) fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    /// The current record's bytes as they were read; see the field.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The number of fields in the current record (of its kept start, if it overflowed).
    pub(crate) fn field_count(&self) -> usize {
        self.nend + usize::from(self.overflow.is_some())
    }

    /// The fields of the current record, as bytes (only the kept start, if it overflowed).
    pub(crate) fn fields(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let tail = self.overflow.is_some().then_some(self.olen);
        let mut start = 0;
        self.ends[..self.nend]
            .iter()
            .copied()
            .chain(tail)
            .map(move |end| {
                let field = &self.out[start..end];
                start = end;
                field
            })
    }
}

/// `fill_buf`, retrying when a signal interrupts it.
fn fill(input: &mut (dyn BufRead + Send)) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // Already buffered (or at the end), so this does no I/O that could be interrupted.
    input.fill_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn reader(text: &[u8], capacity: usize) -> RecordReader {
        let input = BufReader::with_capacity(capacity, Cursor::new(text.to_vec()));
        RecordReader::new(Box::new(input), b',')
    }

    /// Every record as (start line, fields), read through a buffer of `capacity` bytes.
    fn records(text: &[u8], capacity: usize) -> Vec<(u64, Vec<String>)> {
        let mut r = reader(text, capacity);
        let mut out = Vec::new();
        while let Some(line) = r.next_record().unwrap() {
            let fields = r.fields().map(|f| String::from_utf8_lossy(f).into_owned());
            out.push((line, fields.collect()));
        }
        out
    }

    fn owned(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn line_breaks_of_every_kind_count_once() {
        let mut c = LineCounter::new();
        c.advance(b"a\r\nb\nc\rd\r");
        assert_eq!(c.line(), 5);
        c.advance(b"\n\n");
        assert_eq!(c.line(), 6);
    }

    #[test]
    fn records_are_named_by_the_line_they_start_on() {
        let text = b"h1,h2\r\n\r\na,\"x\r\ny\r\nz\"\r\nb,c\n\n\nd,\"\"\"q\"\"\"\ne,f";
        for capacity in [1, 2, 3, 7, 64 * 1024] {
            assert_eq!(
                records(text, capacity),
                vec![
                    (1, owned(&["h1", "h2"])),
                    (3, owned(&["a", "x\r\ny\r\nz"])),
                    (6, owned(&["b", "c"])),
                    (9, owned(&["d", "\"q\""])),
                    (10, owned(&["e", "f"])),
                ],
                "buffer capacity {capacity}"
            );
        }
    }

    #[test]
    fn lone_carriage_returns_end_lines_too() {
        assert_eq!(
            records(b"a,b\rc,d\r\re,f", 4),
            vec![
                (1, owned(&["a", "b"])),
                (2, owned(&["c", "d"])),
                (4, owned(&["e", "f"]))
            ]
        );
    }

    #[test]
    fn blank_input_has_no_records() {
        assert!(records(b"", 8).is_empty());
        assert!(records(b"\r\n\n\r", 8).is_empty());
    }

    #[test]
    fn wide_and_long_records_grow_the_buffers() {
        let long = "x".repeat(100_000);
        let wide = vec!["y"; 1000].join(",");
        let text = format!("{long}\n{wide}\n");
        let got = records(text.as_bytes(), 8 * 1024);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, vec![long]);
        assert_eq!(got[1].1.len(), 1000);
    }

    #[test]
    fn an_unclosed_quote_is_capped_and_reading_goes_on_to_the_end() {
        let mut text = b"a,b\n1,\"never closed\n".to_vec();
        text.extend(b"2,3\n".repeat(MAX_RECORD_BYTES / 2));
        let mut r = reader(&text, 64 * 1024);
        assert_eq!(r.next_record().unwrap(), Some(1));
        assert_eq!(r.overflow(), None);
        assert_eq!(r.raw(), b"a,b");
        assert_eq!(r.next_record().unwrap(), Some(2));
        assert_eq!(r.overflow(), Some(Overflow::Bytes));
        assert!(
            r.raw().len() <= MAX_RECORD_BYTES,
            "the raw copy is capped too"
        );
        assert!(r.raw().starts_with(b"1,\"never closed\n2,3"));
        assert_eq!(r.olen, MAX_RECORD_BYTES);
        assert!(r.fields().next().is_some_and(|f| f == b"1"));
        assert_eq!(r.next_record().unwrap(), None);
        assert_eq!(r.out.len(), MAX_RECORD_BYTES, "memory stays capped");
    }

    #[test]
    fn many_short_fields_overflow_the_field_cap_not_the_byte_cap() {
        let mut text = b"a\n".to_vec();
        text.extend(b",".repeat(MAX_FIELDS + 10));
        text.push(b'\n');
        let mut r = reader(&text, 64 * 1024);
        r.next_record().unwrap();
        r.next_record().unwrap();
        assert_eq!(r.overflow(), Some(Overflow::Fields));
    }

    #[test]
    fn the_raw_record_is_its_bytes_as_read() {
        let text = b"a,b\r\n\r\n\"x, \"\"y\"\"\",\xff\xfe\r\nlast,1";
        let mut r = reader(text, 4);
        r.next_record().unwrap();
        r.next_record().unwrap();
        assert_eq!(r.raw(), b"\"x, \"\"y\"\"\",\xff\xfe");
        r.next_record().unwrap();
        assert_eq!(r.raw(), b"last,1");
    }

    struct FailingReader(usize);

    impl io::Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            self.0 -= 1;
            let line = b"a,b\n";
            buf[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }

    #[test]
    fn an_io_error_names_its_line_and_ends_the_records() {
        let input = BufReader::with_capacity(16, FailingReader(2));
        let mut r = RecordReader::new(Box::new(input), b',');
        assert_eq!(r.next_record().unwrap(), Some(1));
        assert_eq!(r.next_record().unwrap(), Some(2));
        let err = r.next_record().unwrap_err();
        assert!(matches!(err, SourceError::Io { line: 3, .. }), "{err:?}");
        assert_eq!(r.next_record().unwrap(), None);
    }
}
