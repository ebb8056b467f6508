//! The CSV report: the fixed columns of SPEC.md, then one column per metadata key and per
//! prompt tag, every cell neutralised so a spreadsheet never runs it as a formula.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use super::record::Record;

/// The fixed columns, in order.
pub const COLUMNS: [&str; 26] = [
    "row",
    "phone",
    "first_name",
    "last_name",
    "email",
    "status",
    "reason",
    "attempts",
    "http_status",
    "call_id",
    "first_attempt_at",
    "last_attempt_at",
    "latency_ms",
    "delivery_status",
    "call_output",
    "sentiment",
    "duration_s",
    "ended_reason",
    "zone",
    "zone_source",
    "candidate_zones",
    "error",
    "detail",
    "raw",
    "number_dialed",
    "calls",
];

/// Where `raw` is among [`COLUMNS`]: the CSV report writes that cell from the record's bytes.
pub const RAW_COLUMN: usize = 23;

/// True for a cell that is a plain decimal number: an optional sign, digits, an optional
/// fraction. A spreadsheet reads it as the number it is, so it is left alone (phone numbers
/// like `+966501234567` and amounts like `-12.5` must survive a round trip).
fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let has_digit = !int.is_empty() || frac.is_some_and(|f| !f.is_empty());
    has_digit && digits(int) && frac.is_none_or(digits)
}

/// A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return) gets a leading `'`, which makes it text; plain numbers pass as they are.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// [`neutralise`] for a cell that may not be UTF-8: the same leading `'`, the bytes untouched.
fn neutralise_bytes(cell: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(cell) {
        Ok(text) => match neutralise(text) {
            Cow::Borrowed(_) => Cow::Borrowed(cell),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        Err(_) if cell.first().is_some_and(|b| b"=+-@\t\r".contains(b)) => {
            Cow::Owned([b"'".as_slice(), cell].concat())
        }
        Err(_) => Cow::Borrowed(cell),
    }
}

/// The columns of one CSV report: the fixed ones plus the metadata keys and tags found in
/// the rows' requests (read by `Ledger::request_keys`) (sorted, so the same ledger always gives the same header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub transcript: bool,
    pub metadata: BTreeSet<String>,
    pub tags: BTreeSet<String>,
}

impl Columns {
    /// The header line. A metadata key that repeats a fixed column's name becomes `meta.KEY`
    /// so no two columns share a name; tags are `tag:KEY`, as in the contacts file.
    pub fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        if self.transcript {
            h.push("transcript".into());
        }
        for k in &self.metadata {
            if COLUMNS.contains(&k.as_str()) || (self.transcript && k == "transcript") {
                h.push(format!("meta.{k}"));
            } else {
                h.push(k.clone());
            }
        }
        h.extend(self.tags.iter().map(|k| format!("tag:{k}")));
        h
    }

    /// One record's cells, in header order, borrowed from the record where they can be
    /// (a million-row report must not copy every cell twice).
    pub fn cells<'r>(&self, r: &'r Record) -> Vec<Cow<'r, str>> {
        fn text(v: &Option<String>) -> Cow<'_, str> {
            Cow::Borrowed(v.as_deref().unwrap_or(""))
        }
        fn num<T: ToString>(v: &Option<T>) -> Cow<'static, str> {
            v.as_ref()
                .map_or(Cow::Borrowed(""), |n| Cow::Owned(n.to_string()))
        }
        let mut c = Vec::with_capacity(COLUMNS.len() + 1 + self.metadata.len() + self.tags.len());
        c.extend([
            Cow::Owned(r.row.to_string()),
            text(&r.phone),
            text(&r.first_name),
            text(&r.last_name),
            text(&r.email),
            Cow::Borrowed(r.status.as_str()),
            text(&r.reason),
            Cow::Owned(r.attempts.to_string()),
            num(&r.http_status),
            text(&r.call_id),
            text(&r.first_attempt_at),
            text(&r.last_attempt_at),
            num(&r.latency_ms),
            text(&r.delivery_status),
            text(&r.call_output),
            text(&r.sentiment),
            num(&r.duration_s),
            text(&r.ended_reason),
            text(&r.zone),
            text(&r.zone_source),
            text(&r.candidate_zones),
            text(&r.error),
            text(&r.detail),
            text(&r.raw),
            text(&r.number_dialed),
            Cow::Owned(r.calls.to_string()),
        ]);
        if self.transcript {
            c.push(text(&r.transcript));
        }
        let get = |m: &'r std::collections::BTreeMap<String, String>, k: &String| {
            Cow::Borrowed(m.get(k).map_or("", String::as_str))
        };
        c.extend(self.metadata.iter().map(|k| get(&r.metadata, k)));
        c.extend(self.tags.iter().map(|k| get(&r.prompt_tags, k)));
        c
    }
}

/// Writes neutralised CSV records to `out`.
pub struct CsvOut<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> CsvOut<W> {
        CsvOut {
            w: csv::WriterBuilder::new().flexible(false).from_writer(out),
        }
    }

    pub fn write<S: AsRef<str>>(&mut self, cells: &[S]) -> csv::Result<()> {
        self.write_with_raw(cells, None)
    }

    /// [`CsvOut::write`], with the [`RAW_COLUMN`] cell taken from `raw` when given: a
    /// malformed row's bytes go out exactly as the file held them, valid UTF-8 or not.
    pub fn write_with_raw<S: AsRef<str>>(
        &mut self,
        cells: &[S],
        raw: Option<&[u8]>,
    ) -> csv::Result<()> {
        for (i, cell) in cells.iter().enumerate() {
            match raw.filter(|_| i == RAW_COLUMN) {
                Some(bytes) => self.w.write_field(neutralise_bytes(bytes).as_ref())?,
                None => self.w.write_field(neutralise(cell.as_ref()).as_bytes())?,
            }
        }
        // An empty record ends the one the fields above began.
        self.w.write_record(None::<&[u8]>)
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.w.flush()?;
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for f in [
            "=cmd|' /C calc'!A0",
            "@SUM(1)",
            "+1+1",
            "-1-1",
            "=1",
            "\t=1",
            "\rx",
            "-",
            "+",
        ] {
            assert_eq!(neutralise(f), format!("'{f}"), "{f:?}");
        }
    }

    #[test]
    fn plain_numbers_and_ordinary_text_are_untouched() {
        for s in [
            "+966501234567",
            "-12.5",
            "12",
            "+.5",
            "-7.",
            "Sara",
            "",
            "a=b",
            "2026-07-15",
        ] {
            assert_eq!(neutralise(s), s, "{s:?}");
        }
    }

    #[test]
    fn header_is_fixed_columns_then_metadata_then_tags() {
        let mut r = Record::default();
        r.metadata.insert("zeta".into(), "z".into());
        r.metadata.insert("status".into(), "mine".into());
        r.prompt_tags.insert("amount".into(), "1".into());
        let mut r2 = Record::default();
        r2.metadata.insert("account".into(), "A".into());
        // The keys the ledger reports for these two rows (Ledger::request_keys).
        let cols = Columns {
            transcript: false,
            metadata: ["zeta", "status", "account"].map(String::from).into(),
            tags: ["amount".to_string()].into(),
        };
        let h = cols.header();
        assert_eq!(&h[..COLUMNS.len()], COLUMNS.map(String::from).as_slice());
        assert_eq!(
            &h[COLUMNS.len()..],
            ["account", "meta.status", "zeta", "tag:amount"].map(String::from)
        );
        let cells = cols.cells(&r2);
        assert_eq!(cells.len(), h.len());
        assert_eq!(&cells[COLUMNS.len()..], ["A", "", "", ""].map(String::from));
        assert_eq!(cols.cells(&r)[h.len() - 1], "1");
    }

    #[test]
    fn transcript_column_only_when_asked() {
        let r = Record {
            transcript: Some("hi".into()),
            ..Record::default()
        };
        let mut cols = Columns::default();
        assert!(!cols.header().contains(&"transcript".to_string()));
        cols.transcript = true;
        let h = cols.header();
        let i = h.iter().position(|c| c == "transcript").unwrap();
        assert_eq!(cols.cells(&r)[i], "hi");
    }

    #[test]
    fn writer_quotes_and_neutralises() {
        let mut out = CsvOut::new(Vec::new());
        out.write(&["=1+1", "a,b", "+966501234567"]).unwrap();
        let bytes = out.finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "'=1+1,\"a,b\",+966501234567\n"
        );
    }
}
