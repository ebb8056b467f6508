//! Delimiter sniffing: which of `,` `;` `\t` `|` separates the header line's fields.
//!
//! Only the header line is looked at (counting outside quotes), because it is the one line
//! whose cells are names, not data that may itself be full of commas. The bytes read to sniff
//! are handed back in front of the stream, so nothing is read twice and nothing is lost.

use std::io::{self, Cursor, Read};

/// The delimiters we recognise, in the order that breaks ties.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How far to look for the end of the header line before sniffing on what we have.
const MAX_SNIFF_BYTES: usize = 1 << 20;

/// Counts candidate delimiters on the first non-blank line, outside quotes.
#[derive(Debug, Default)]
pub(crate) struct Sniffer {
    counts: [u64; CANDIDATES.len()],
    in_quotes: bool,
    /// The header line has begun (leading blank lines are skipped).
    started: bool,
    /// The header line has ended.
    done: bool,
}

impl Sniffer {
    /// Feeds the next bytes of the file; returns true once the header line has ended.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if self.done {
                break;
            }
            match b {
                // `""` inside quotes toggles twice, which is exactly right.
                b'"' => {
                    self.in_quotes = !self.in_quotes;
                    self.started = true;
                }
                b'\r' | b'\n' if !self.in_quotes => self.done = self.started,
                _ => {
                    self.started = true;
                    if !self.in_quotes
                        && let Some(i) = CANDIDATES.iter().position(|&c| c == b)
                    {
                        self.counts[i] += 1;
                    }
                }
            }
        }
        self.done
    }

    /// The most frequent candidate; ties go to the earlier one; `,` when there is none.
    pub(crate) fn delimiter(&self) -> u8 {
        let mut best = 0;
        for i in 1..CANDIDATES.len() {
            if self.counts[i] > self.counts[best] {
                best = i;
            }
        }
        CANDIDATES[best]
    }
}

/// Sniffs the delimiter from the start of `stream`; returns it and an equivalent stream.
pub(crate) fn sniff_delimiter(
    mut stream: Box<dyn Read + Send>,
) -> io::Result<(u8, Box<dyn Read + Send>)> {
    let mut sniffer = Sniffer::default();
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 8 * 1024];
    while prefix.len() < MAX_SNIFF_BYTES {
        let n = match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        prefix.extend_from_slice(&chunk[..n]);
        if sniffer.feed(&chunk[..n]) {
            break;
        }
    }
    Ok((
        sniffer.delimiter(),
        Box::new(Cursor::new(prefix).chain(stream)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> u8 {
        let mut s = Sniffer::default();
        s.feed(text.as_bytes());
        s.delimiter()
    }

    #[test]
    fn the_most_frequent_candidate_wins() {
        assert_eq!(sniff("a,b,c\n1;2;3;4;5;6\n"), b',');
        assert_eq!(sniff("a;b;c\n"), b';');
        assert_eq!(sniff("a\tb\tc\r\n"), b'\t');
        assert_eq!(sniff("a|b|c"), b'|');
        assert_eq!(sniff("name, city|phone|email\n"), b'|');
    }

    #[test]
    fn no_candidate_or_no_input_means_comma() {
        assert_eq!(sniff("phone\n1;2\n"), b',');
        assert_eq!(sniff(""), b',');
    }

    #[test]
    fn ties_go_to_the_earlier_candidate() {
        assert_eq!(sniff("a;b|c\n"), b';');
        assert_eq!(sniff("a|b,c\n"), b',');
    }

    #[test]
    fn delimiters_inside_quotes_do_not_count() {
        assert_eq!(sniff("\"last, first\";phone\n"), b';');
        assert_eq!(sniff("\"a,b,c\"\"x,y\"\"\"|d|\"e\nf,g,h,i\"\n"), b'|');
    }

    #[test]
    fn leading_blank_lines_are_skipped() {
        let mut s = Sniffer::default();
        assert!(!s.feed(b"\r\n\n"));
        assert!(s.feed(b"a;b\nc,d,e,f\n"));
        assert_eq!(s.delimiter(), b';');
    }

    #[test]
    fn the_header_may_arrive_in_pieces() {
        let mut s = Sniffer::default();
        assert!(!s.feed(b"a\t\"b"));
        assert!(!s.feed(b",c\"\tz"));
        assert!(s.feed(b"\n1,2,3,4"));
        assert_eq!(s.delimiter(), b'\t');
    }

    #[test]
    fn sniffing_gives_back_every_byte() {
        let text = "x|y\n1|2\n".repeat(5000);
        let (delimiter, mut stream) =
            sniff_delimiter(Box::new(Cursor::new(text.clone().into_bytes()))).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        assert_eq!((delimiter, out), (b'|', text));
    }
}
