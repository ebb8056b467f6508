//! What leaves the dialer for a spreadsheet: the `xlsx` report read back with calamine, and
//! malformed rows coming back byte for byte through the ledger into the CSV report.

mod common;

use common::{Env, arg as s, run_ok};

#[tokio::test(flavor = "multi_thread")]
async fn an_xlsx_report_reads_back_with_typed_cells_and_the_status_figures() {
    use calamine::{Data, Reader, Xlsx, open_workbook};

    let env = Env::default().await;
    let csv = env.write(
        "rep.csv",
        "first_name,phone,plan\n=HYPERLINK(\"x\"),+966501234567,gold\nBad,12,silver\n",
    );
    run_ok(&env, &csv, &[]).await;
    let stdout_only = env.dialer(&["report", "rep", "--format", "xlsx"]).await;
    stdout_only.expect_code(2);
    assert!(
        stdout_only.stderr.contains("pass --out"),
        "{}",
        stdout_only.stderr
    );

    let out = env.path("rep.xlsx");
    env.dialer(&["report", "rep", "--out", s(&out)])
        .await
        .expect_code(0);
    let mut book: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(book.sheet_names(), ["Rows", "Summary"]);
    let rows = book.worksheet_range("Rows").unwrap();
    let header: Vec<String> = rows
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.height(), 3, "a header and two rows");
    let sara = &rows.rows().nth(1).unwrap();
    assert_eq!(sara[col("row")], Data::Float(2.0));
    assert_eq!(
        sara[col("phone")],
        Data::String("+966501234567".into()),
        "text keeps the +"
    );
    assert_eq!(
        sara[col("first_name")],
        Data::String("=HYPERLINK(\"x\")".into())
    );
    assert_eq!(sara[col("attempts")], Data::Float(1.0));
    assert!(
        matches!(sara[col("first_attempt_at")], Data::DateTime(_)),
        "{:?}",
        sara[col("first_attempt_at")]
    );
    assert_eq!(sara[col("plan")], Data::String("gold".into()));
    let bad = &rows.rows().nth(2).unwrap();
    assert_eq!(bad[col("reason")], Data::String("invalid_number".into()));
    let formulas = book.worksheet_formula("Rows").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );

    let summary = book.worksheet_range("Summary").unwrap();
    let figure = |label: &str| summary.rows().find(|r| r[0] == label).map(|r| r[1].clone());
    assert_eq!(figure("succeeded"), Some(Data::Float(1.0)));
    assert_eq!(figure("skipped"), Some(Data::Float(1.0)));
    assert_eq!(figure("  invalid_number"), Some(Data::Float(1.0)));
    assert_eq!(figure("total"), Some(Data::Float(2.0)));
    let status = env.dialer(&["status", "rep"]).await;
    assert!(
        status.stdout.contains("invalid_number"),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_rows_round_trip_byte_for_byte_into_the_csv_report() {
    let env = Env::default().await;
    let bad_bytes: &[u8] = b"Bj\xf6rn,+966501234568";
    let too_many: &[u8] = b"\"Sara, \"\"S\"\"\",+966501234569,\xff\xfe";
    let risky: &[u8] = b"=1+1,+966501234570,\xff";
    let file = [
        b"first_name,phone\nAnna,+966501234567\n".as_slice(),
        bad_bytes,
        b"\r\n",
        too_many,
        b"\n",
        risky,
        b"\n",
    ]
    .concat();
    let csv = env.write("bytes.csv", file);
    run_ok(&env, &csv, &[]).await;
    let rows = env.rows("bytes");
    assert_eq!(
        rows[1].raw.as_deref(),
        Some(bad_bytes),
        "the ledger keeps the bytes"
    );
    assert!(
        rows[1]
            .detail
            .as_deref()
            .unwrap()
            .contains("--encoding windows-1252"),
        "{:?}",
        rows[1].detail
    );
    assert_eq!(rows[2].raw.as_deref(), Some(too_many));
    assert_eq!(rows[3].raw.as_deref(), Some(risky));

    let out = env.path("bytes_report.csv");
    env.dialer(&["report", "bytes", "--out", s(&out)])
        .await
        .expect_code(0);
    let mut report = csv::ReaderBuilder::new().from_path(&out).unwrap();
    let header = report.byte_headers().unwrap().clone();
    let raw_at = header.iter().position(|h| h == b"raw").unwrap();
    let raws: Vec<Vec<u8>> = report
        .byte_records()
        .map(|r| r.unwrap()[raw_at].to_vec())
        .collect();
    // A record a spreadsheet would run as a formula gets the one leading ' every CSV cell
    // gets (SPEC, Reports); the bytes after it are the record's.
    let neutralised = [b"'".as_slice(), risky].concat();
    assert_eq!(
        raws,
        [
            b"".to_vec(),
            bad_bytes.to_vec(),
            too_many.to_vec(),
            neutralised
        ]
    );
}
