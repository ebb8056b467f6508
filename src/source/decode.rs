//! Byte-level decoding: picks the file's encoding (BOM, then `--encoding`, then UTF-8) and turns
//! the raw stream into UTF-8 bytes for the CSV parser, without ever buffering the whole file.
//!
//! Why not `encoding_rs_io`: it replaces undecodable bytes with U+FFFD, and then a record
//! holding a real U+FFFD cannot be told from one holding garbage. Instead, each malformed
//! sequence becomes the byte [`UNDECODABLE`] (0xFF), which never occurs in UTF-8. The CSV
//! parser passes it through as field data (it is not a delimiter, quote or line break), and
//! the per-record UTF-8 check then flags exactly the record that held it, for UTF-8 input
//! (checked as-is) and transcoded input alike.

use std::io::{self, Cursor, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_8};

use super::error::SourceError;

/// Stands in for a malformed byte sequence in the transcoded stream (invalid in any UTF-8).
pub(crate) const UNDECODABLE: u8 = 0xFF;

/// Size of the transcoder's input and output buffers.
const CHUNK: usize = 16 * 1024;

/// A stream of UTF-8 bytes (with [`UNDECODABLE`] marks) and the encoding it was read as.
pub(crate) struct Decoded {
    pub(crate) stream: Box<dyn Read + Send>,
    pub(crate) encoding: &'static Encoding,
}

/// Resolves a WHATWG label (`windows-1252`, `latin1`, `utf-16le`, ...), case-insensitively.
///
/// The "replacement" labels (`iso-2022-kr`, ...) are refused: they decode any file to a
/// single U+FFFD, which is never what a user asking for them wants.
pub(crate) fn encoding_for_label(label: &str) -> Result<&'static Encoding, SourceError> {
    Encoding::for_label_no_replacement(label.trim().as_bytes()).ok_or_else(|| {
        SourceError::UnknownEncoding {
            label: label.to_string(),
        }
    })
}

/// Picks the encoding and wraps `raw` so that it yields UTF-8.
///
/// A byte-order mark wins over the label, as in every browser: a file that says what it is
/// is believed. The BOM itself is dropped here so it never reaches the first header.
pub(crate) fn decode(
    mut raw: Box<dyn Read + Send>,
    label: Option<&str>,
) -> Result<Decoded, SourceError> {
    let forced = label.map(encoding_for_label).transpose()?;
    let mut head = [0u8; SNIFF_BYTES];
    let n =
        read_up_to(&mut raw, &mut head).map_err(|source| SourceError::Io { line: 1, source })?;
    let (encoding, bom_len) = match Encoding::for_bom(&head[..n]) {
        Some((encoding, bom_len)) => (encoding, bom_len),
        None => (
            forced
                .or_else(|| utf16_by_nuls(&head[..n]))
                .unwrap_or(UTF_8),
            0,
        ),
    };
    let rest = Cursor::new(head[bom_len..n].to_vec()).chain(raw);
    let stream: Box<dyn Read + Send> = if encoding == UTF_8 {
        Box::new(rest)
    } else {
        Box::new(Transcoder::new(rest, encoding))
    };
    Ok(Decoded { stream, encoding })
}

/// How much of the file's head is looked at for a BOM or UTF-16's NUL pattern.
const SNIFF_BYTES: usize = 512;

/// UTF-16 without a BOM, told by its NULs: text that is mostly ASCII (a CSV header always is)
/// has a NUL in every other byte, odd ones for little-endian, even ones for big-endian. UTF-8
/// and the single-byte encodings have no NULs in text at all.
fn utf16_by_nuls(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let nuls_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (nuls_at(0), nuls_at(1));
    // Most of one side NUL and almost none of the other: a few non-ASCII characters (é, ü)
    // have no NUL, and none has two.
    let mostly = |n: usize| n * 4 >= pairs * 3;
    let hardly = |n: usize| n * 16 <= pairs;
    if mostly(odd) && hardly(even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(even) && hardly(odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // What was read is kept; the next read of the stream meets the error again and
            // reports it at the line it stops, as any later failure is.
            Err(_) if filled > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A `Read` that decodes `inner` from `encoding` to UTF-8, chunk by chunk.
struct Transcoder<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    /// `inner` has returned 0: the next decode call is the last one.
    eof: bool,
    /// The decoder has been told the input ended and has flushed everything.
    done: bool,
    /// One byte longer than what the decoder may fill, so a malformed mark always fits.
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
}

impl<R: Read> Transcoder<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            // The BOM, if any, was already consumed by `decode`.
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; CHUNK].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            eof: false,
            done: false,
            output: vec![0; CHUNK + 1].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
        }
    }

    /// Decodes the next piece into `output`; leaves it empty only at the very end.
    fn refill(&mut self) -> io::Result<()> {
        while self.out_start == self.out_end && !self.done {
            if self.in_start == self.in_end && !self.eof {
                match self.inner.read(&mut self.input) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        self.in_start = 0;
                        self.in_end = n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            let src = &self.input[self.in_start..self.in_end];
            let dst = &mut self.output[..CHUNK];
            let (result, read, written) = self
                .decoder
                .decode_to_utf8_without_replacement(src, dst, self.eof);
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            match result {
                DecoderResult::InputEmpty => self.done = self.eof,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => {
                    self.output[self.out_end] = UNDECODABLE;
                    self.out_end += 1;
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.refill()?;
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], label: Option<&str>) -> (Vec<u8>, &'static str) {
        let decoded = decode(Box::new(Cursor::new(bytes.to_vec())), label).unwrap();
        let mut out = Vec::new();
        let mut stream = decoded.stream;
        stream.read_to_end(&mut out).unwrap();
        (out, decoded.encoding.name())
    }

    fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in s.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            out.extend_from_slice(&pair);
        }
        out
    }

    #[test]
    fn utf8_passes_through_and_loses_its_bom() {
        assert_eq!(decode_all(b"a,b\n", None), (b"a,b\n".to_vec(), "UTF-8"));
        assert_eq!(
            decode_all(b"\xEF\xBB\xBFa,b\n", None),
            (b"a,b\n".to_vec(), "UTF-8")
        );
        // Invalid UTF-8 is left for the per-record check.
        assert_eq!(decode_all(b"a\xC3\n", None).0, b"a\xC3\n".to_vec());
    }

    #[test]
    fn short_inputs_are_not_mistaken_for_boms() {
        assert_eq!(decode_all(b"", None), (Vec::new(), "UTF-8"));
        assert_eq!(decode_all(b"a", None), (b"a".to_vec(), "UTF-8"));
        assert_eq!(decode_all(b"\xEF\xBB", None).0, b"\xEF\xBB".to_vec());
    }

    #[test]
    fn utf16_boms_are_detected_in_both_byte_orders() {
        let text = "név\tZoë\r\n";
        assert_eq!(
            decode_all(&utf16(text, false), None),
            (text.as_bytes().to_vec(), "UTF-16LE")
        );
        assert_eq!(
            decode_all(&utf16(text, true), None),
            (text.as_bytes().to_vec(), "UTF-16BE")
        );
    }

    #[test]
    fn a_label_decodes_legacy_bytes() {
        let (out, name) = decode_all(b"M\xFCller,Jos\xE9\n", Some("ISO-8859-1"));
        assert_eq!(String::from_utf8(out).unwrap(), "Müller,José\n");
        assert_eq!(name, "windows-1252");
        let (out, name) = decode_all(b"\x83e\x83X\x83g\n", Some("shift_jis"));
        assert_eq!(String::from_utf8(out).unwrap(), "テスト\n");
        assert_eq!(name, "Shift_JIS");
    }

    #[test]
    fn a_bom_wins_over_the_label() {
        let (out, name) = decode_all(b"\xEF\xBB\xBFM\xC3\xBCller\n", Some("windows-1252"));
        assert_eq!(String::from_utf8(out).unwrap(), "Müller\n");
        assert_eq!(name, "UTF-8");
    }

    #[test]
    fn malformed_sequences_become_the_marker_and_neighbours_survive() {
        // 0x82 0x0A is not Shift_JIS: the lead byte is malformed, the line break is kept.
        let (out, _) = decode_all(b"a\x82\nb\n", Some("shift_jis"));
        assert_eq!(out, vec![b'a', UNDECODABLE, b'\n', b'b', b'\n']);
        // An odd trailing byte in UTF-16 is malformed at the end.
        let mut odd = utf16("x", false);
        odd.push(0x41);
        assert_eq!(decode_all(&odd, None).0, vec![b'x', UNDECODABLE]);
    }

    #[test]
    fn unknown_and_replacement_labels_are_refused() {
        for label in ["klingon", "", "iso-2022-kr"] {
            let err = decode(Box::new(Cursor::new(Vec::new())), Some(label))
                .err()
                .unwrap();
            assert!(
                matches!(err, SourceError::UnknownEncoding { .. }),
                "{label}"
            );
        }
    }

    #[test]
    fn long_inputs_cross_chunk_boundaries_intact() {
        let text: String = (0..20_000).map(|i| format!("Zoë{i};")).collect();
        let (out, _) = decode_all(&utf16(&text, true), None);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
}
