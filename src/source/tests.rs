//! Whole-reader tests on the fixture files under tests/fixtures/source/ (and a few inline
//! byte strings of the same kind); `tests_inline.rs` holds the edge cases and the proptest.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use super::*;

pub(super) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/source")
        .join(name)
}

pub(super) fn opts(delimiter: Option<u8>, encoding: Option<&str>) -> SourceOptions {
    SourceOptions {
        delimiter,
        encoding: encoding.map(str::to_string),
    }
}

/// Opens a fixture, checks count_records agrees with the records yielded, returns both.
fn read_fixture(name: &str, o: &SourceOptions) -> (CsvSource, Vec<SourceRecord>) {
    let path = fixture(name);
    let mut source = CsvSource::open(&path, o).unwrap();
    let records: Vec<SourceRecord> = source.by_ref().collect();
    assert!(source.take_error().is_none());
    let counted = count_records(&path, o, &|| false).unwrap();
    assert_eq!(counted, records.len() as u64, "count_records on {name}");
    (source, records)
}

pub(super) fn from_bytes(bytes: &[u8], o: &SourceOptions) -> Result<CsvSource, SourceError> {
    CsvSource::from_reader(Box::new(Cursor::new(bytes.to_vec())), o)
}

pub(super) fn row(line: u64, fields: &[&str]) -> SourceRecord {
    SourceRecord::Row {
        line,
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

pub(super) fn malformed(line: u64, raw: &str, reason: &str) -> SourceRecord {
    SourceRecord::Malformed {
        line,
        raw: raw.to_string(),
        reason: reason.to_string(),
    }
}

#[test]
fn utf8_with_bom_and_crlf() {
    let (source, records) = read_fixture("utf8_bom_crlf.csv", &SourceOptions::default());
    assert_eq!(source.headers(), ["phone", "first_name", "last_name"]);
    assert_eq!(
        (source.delimiter(), source.encoding_name()),
        (b',', "UTF-8")
    );
    assert_eq!(
        records,
        vec![
            row(2, &["+4915112345678", "Zoë", "Ångström"]),
            row(3, &["+33612345678", "José", "Müller"]),
        ]
    );
}

#[test]
fn semicolons_are_sniffed_and_quotes_unescaped() {
    let (source, records) = read_fixture("semicolon.csv", &SourceOptions::default());
    assert_eq!(source.delimiter(), b';');
    assert_eq!(
        records,
        vec![
            row(2, &["+441632960001", "Smith; John", "first"]),
            row(3, &["+441632960002", "Jane Doe", "said \"hi\", left"]),
        ]
    );
}

#[test]
fn utf16le_tab_separated_as_excel_writes_it() {
    let (source, records) = read_fixture("utf16le_tab.txt", &SourceOptions::default());
    assert_eq!(source.headers(), ["phone", "first_name", "city"]);
    assert_eq!(
        (source.delimiter(), source.encoding_name()),
        (b'\t', "UTF-16LE")
    );
    assert_eq!(
        records,
        vec![
            row(2, &["+4915112345678", "Zoë", "Köln"]),
            row(3, &["+81312345678", "太郎", "東京"]),
        ]
    );
}

#[test]
fn utf16be_with_bom() {
    let (source, records) = read_fixture("utf16be.csv", &SourceOptions::default());
    assert_eq!(source.encoding_name(), "UTF-16BE");
    assert_eq!(
        records,
        vec![
            row(2, &["+33612345678", "François"]),
            row(3, &["+34612345678", "Iñaki"]),
        ]
    );
}

#[test]
fn windows_1252_by_label() {
    let o = opts(None, Some("windows-1252"));
    let (source, records) = read_fixture("windows1252.csv", &o);
    assert_eq!(source.encoding_name(), "windows-1252");
    assert_eq!(
        records,
        vec![
            row(2, &["+4915112345678", "Müller", "12 €"]),
            row(3, &["+34612345678", "José", "7 €"]),
        ]
    );
}

#[test]
fn windows_1252_read_as_utf8_gives_malformed_rows_not_a_crash() {
    let (_, records) = read_fixture("windows1252.csv", &SourceOptions::default());
    assert_eq!(
        records[0],
        malformed(
            2,
            "+4915112345678;M\u{FFFD}ller;12 \u{FFFD}",
            "field 2 (\"name\") holds bytes that are not valid UTF-8"
        )
    );
    assert_eq!(records[1].line(), 3);
}

#[test]
fn invalid_utf8_spoils_only_its_own_row() {
    let (_, records) = read_fixture("invalid_utf8.csv", &SourceOptions::default());
    assert_eq!(
        records,
        vec![
            row(2, &["+4915112345678", "Anna"]),
            malformed(
                3,
                "+4915112345679,Bj\u{FFFD}rn",
                "field 2 (\"name\") holds bytes that are not valid UTF-8"
            ),
            // A real U+FFFD in valid UTF-8 is data, not an error.
            row(4, &["+4915112345670", "\u{FFFD} literal"]),
            row(5, &["+4915112345671", "Carla"]),
        ]
    );
}

#[test]
fn undecodable_bytes_in_a_labelled_encoding_spoil_only_their_row() {
    let o = opts(None, Some("shift_jis"));
    let source = from_bytes(b"phone,name\n1,\x83e\x83X\x83g\n2,\x82\n3,ok\n", &o).unwrap();
    let records: Vec<_> = source.collect();
    assert_eq!(
        records,
        vec![
            row(2, &["1", "テスト"]),
            malformed(
                3,
                "2,\u{FFFD}",
                "field 2 (\"name\") holds bytes that are not valid Shift_JIS"
            ),
            row(4, &["3", "ok"]),
        ]
    );
}

#[test]
fn a_character_split_by_a_delimiter_is_not_valid() {
    // \xC3 and \xA9 make "é" only when joined: each field alone is invalid.
    let source = from_bytes(b"a,b\n\xC3,\xA9\n", &SourceOptions::default()).unwrap();
    let records: Vec<_> = source.collect();
    assert!(
        matches!(&records[..], [SourceRecord::Malformed { line: 2, reason, .. }] if reason.starts_with("field 1 "))
    );
}

#[test]
fn multi_line_quoted_fields_keep_line_numbers_right() {
    let (_, records) = read_fixture("multiline.csv", &SourceOptions::default());
    assert_eq!(
        records,
        vec![
            row(
                2,
                &[
                    "+4915112345678",
                    "first line\nsecond line\nthird line",
                    "Anna"
                ]
            ),
            row(5, &["+4915112345679", "crlf one\r\ncrlf two", "Ben"]),
            row(8, &["+4915112345670", "plain", "Carla"]),
        ]
    );
}

#[test]
fn ragged_rows_are_malformed_and_reading_goes_on() {
    let (_, records) = read_fixture("ragged.csv", &SourceOptions::default());
    assert_eq!(
        records,
        vec![
            row(2, &["+4915112345678", "Anna", "Berlin"]),
            malformed(
                3,
                "+4915112345679,Ben,Hamburg,extra,\"x,y\"",
                "expected 3 fields, found 5"
            ),
            malformed(4, "+4915112345670,Carla", "expected 3 fields, found 2"),
            row(5, &["+4915112345671", "Dora", "Bonn"]),
        ]
    );
}

#[test]
fn pipes_and_tabs_are_sniffed() {
    let (source, records) = read_fixture("pipe.csv", &SourceOptions::default());
    assert_eq!(source.delimiter(), b'|');
    assert_eq!(
        records,
        vec![row(2, &["+4915112345678", "Anna, B.", "Berlin"])]
    );
    let (source, records) = read_fixture("tab.tsv", &SourceOptions::default());
    assert_eq!(source.delimiter(), b'\t');
    assert_eq!(
        records,
        vec![row(2, &["+4915112345678", "Anna, B.; C.", "Berlin"])]
    );
}

#[test]
fn a_delimiter_inside_a_quoted_header_does_not_fool_the_sniffer() {
    let (source, records) = read_fixture("quoted_header.csv", &SourceOptions::default());
    assert_eq!(source.delimiter(), b';');
    assert_eq!(
        source.headers(),
        ["name, first, middle, last", "phone", "email"]
    );
    assert_eq!(records.len(), 1);
}

#[test]
fn a_forced_delimiter_wins_over_sniffing() {
    let o = opts(Some(b','), None);
    let (source, records) = read_fixture("quoted_header.csv", &o);
    assert_eq!(source.delimiter(), b',');
    assert_eq!(source.headers(), ["name, first, middle, last;phone;email"]);
    assert_eq!(
        records,
        vec![row(
            2,
            &["Doe, John, Q, Public;+4915112345678;john@example.com"]
        )]
    );
}
