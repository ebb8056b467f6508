//! Spreadsheets end to end: workbooks the tests write with rust_xlsxwriter (and the small
//! committed `.xls`/`.ods`), run through the binary against the sandbox, so cell types, sheet
//! choice, row numbers and skip reasons are checked where the user meets them.

mod common;

use std::path::{Path, PathBuf};

use common::{Env, arg as s, repo_file, run_ok};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet};

/// One cell of a test sheet.
enum Cell {
    Text(&'static str),
    Number(f64),
    Date(u16, u8, u8),
    /// A formula and the value Excel cached for it.
    Formula(&'static str, &'static str),
}

use Cell::{Date, Number, Text};

fn fill(sheet: &mut Worksheet, rows: &[Vec<Cell>]) {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Text(s) => sheet.write_string(r, c, *s).map(|_| ()),
                Number(n) => sheet.write_number(r, c, *n).map(|_| ()),
                Date(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    sheet
                        .write_datetime_with_format(r, c, &dt, &date)
                        .map(|_| ())
                }
                Cell::Formula(f, cached) => sheet
                    .write_formula(r, c, Formula::new(*f).set_result(*cached))
                    .map(|_| ()),
            }
            .unwrap();
        }
    }
}

/// Writes a workbook of `(sheet name, rows)` to `path`.
fn workbook(path: &Path, sheets: &[(&str, Vec<Vec<Cell>>)]) -> PathBuf {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        fill(sheet, rows);
    }
    book.save(path).unwrap();
    path.to_path_buf()
}

fn contacts_sheet() -> Vec<Vec<Cell>> {
    vec![
        vec![
            Text("first_name"),
            Text("phone"),
            Text("joined"),
            Text("code"),
        ],
        vec![
            Text("Sara"),
            Number(966501234567.0),
            Date(2026, 11, 25),
            Number(7.0),
        ],
        vec![
            Text("Omar"),
            Cell::Formula("=\"+9665\"&\"01234568\"", "+966501234568"),
            Date(2025, 1, 2),
            Number(2.5),
        ],
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn numeric_phone_cells_dates_and_formulas_reach_the_call_as_text() {
    let env = Env::default().await;
    let book = workbook(
        &env.path("contacts.xlsx"),
        &[("Contacts", contacts_sheet())],
    );
    run_ok(&env, &book, &["--default-region", "SA"]).await;
    let calls = env.sandbox.calls();
    let sara = calls
        .iter()
        .find(|c| c["numberToCall"] == "+966501234567")
        .expect("the numeric cell dialed as its digits");
    assert_eq!(sara["firstName"], "Sara");
    assert_eq!(sara["metadata"]["joined"], "2026-11-25");
    assert_eq!(sara["metadata"]["code"], "7");
    assert_eq!(
        sara["metadata"]["dialer_row"], "2",
        "rows are spreadsheet rows"
    );
    let omar = calls
        .iter()
        .find(|c| c["numberToCall"] == "+966501234568")
        .expect("the formula's cached value dialed");
    assert_eq!(omar["metadata"]["code"], "2.5");
    assert_eq!(omar["metadata"]["dialer_row"], "3");
}

fn three_sheets(env: &Env) -> PathBuf {
    let other = vec![
        vec![Text("phone"), Text("first_name")],
        vec![Text("+966501234569"), Text("Lina")],
    ];
    workbook(
        &env.path("book.xlsx"),
        &[
            ("Empty", vec![]),
            ("Contacts", contacts_sheet()),
            ("Other", other),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_sheet_with_data_is_read_unless_sheet_names_another() {
    let env = Env::default().await;
    let book = three_sheets(&env);
    run_ok(&env, &book, &["--campaign", "default"]).await;
    assert_eq!(
        env.rows("default").len(),
        2,
        "the empty first sheet is passed over"
    );

    for (campaign, sheet) in [("by_name", "Other"), ("by_position", "3")] {
        run_ok(&env, &book, &["--campaign", campaign, "--sheet", sheet]).await;
        let rows = env.rows(campaign);
        assert_eq!(rows.len(), 1, "--sheet {sheet}");
        assert_eq!(rows[0].e164.as_deref(), Some("+966501234569"));
    }

    let run = env
        .dialer(&["run", s(&book), "--campaign", "nope", "--sheet", "Leads"])
        .await;
    run.expect_code(2);
    assert!(
        run.stderr
            .contains(r#"no sheet "Leads"; its sheets are "Empty", "Contacts", "Other""#),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stray_far_cell_is_one_malformed_row_not_a_huge_range() {
    let env = Env::default().await;
    let path = env.path("stray.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    fill(sheet, &contacts_sheet());
    sheet.write_string(1_048_575, 16_383, "oops").unwrap();
    book.save(&path).unwrap();

    run_ok(&env, &path, &["--default-region", "SA"]).await;
    let rows = env.rows("stray");
    assert_eq!(rows.len(), 3);
    let stray = &rows[2];
    assert_eq!(
        (stray.line, stray.reason.as_deref()),
        (1_048_576, Some("malformed_row"))
    );
    assert!(
        stray.detail.as_deref().unwrap().contains("cell XFD1048576"),
        "{stray:?}"
    );
    assert!(stray.raw.as_deref().unwrap().ends_with(b",oops"));
    assert_eq!(env.sandbox.stats().total_calls, 2);
}

/// The same contacts as a CSV and as a workbook, with every kind of skip.
const MIXED_CSV: &str = "first_name,phone,email\n\
    Sara,966501234567,sara@example.com\n\
    Omar,+966 50 123 4567,omar@example.com\n\
    Lina,12,lina@example.com\n\
    Noor,,noor@example.com\n\
    Huda,+966501234570,not-an-email\n\
    Ali,+966501234571,ali@example.com\n";

fn mixed_sheet() -> Vec<Vec<Cell>> {
    let row = |name, phone: Cell, email| vec![Text(name), phone, Text(email)];
    vec![
        vec![Text("first_name"), Text("phone"), Text("email")],
        row("Sara", Number(966501234567.0), "sara@example.com"),
        row("Omar", Text("+966 50 123 4567"), "omar@example.com"),
        row("Lina", Number(12.0), "lina@example.com"),
        row("Noor", Text(""), "noor@example.com"),
        row("Huda", Text("+966501234570"), "not-an-email"),
        row("Ali", Text("+966501234571"), "ali@example.com"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_and_the_same_data_as_xlsx_place_and_skip_alike() {
    let env = Env::default().await;
    let csv = env.write("mixed.csv", MIXED_CSV);
    let dnc = env.write("dnc.txt", "+966501234571\n");
    let book = workbook(&env.path("mixed.xlsx"), &[("Sheet1", mixed_sheet())]);
    for (campaign, file) in [("from_csv", &csv), ("from_xlsx", &book)] {
        run_ok(
            &env,
            file,
            &[
                "--campaign",
                campaign,
                "--default-region",
                "SA",
                "--suppress",
                s(&dnc),
            ],
        )
        .await;
    }
    let shape = |campaign| {
        env.rows(campaign)
            .into_iter()
            .map(|r| (r.line, r.state, r.reason, r.e164, r.duplicate_of))
            .collect::<Vec<_>>()
    };
    let from_csv = shape("from_csv");
    assert_eq!(from_csv, shape("from_xlsx"));
    let reasons: Vec<_> = from_csv.iter().map(|r| r.2.as_deref()).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some("duplicate"),
            Some("invalid_number"),
            Some("missing_number"),
            Some("invalid_email"),
            Some("suppressed")
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_do_not_call_list_may_be_a_workbook() {
    let env = Env::default().await;
    let csv = env.write("c.csv", common::contacts(3));
    let dnc = workbook(
        &env.path("dnc.xlsx"),
        &[(
            "DNC",
            vec![vec![Text("Mobile")], vec![Number(966500000001.0)]],
        )],
    );
    run_ok(
        &env,
        &csv,
        &["--default-region", "SA", "--suppress", s(&dnc)],
    )
    .await;
    let rows = env.rows("c");
    assert_eq!(rows[1].reason.as_deref(), Some("suppressed"), "{rows:?}");
    assert_eq!(env.sandbox.stats().total_calls, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn xls_and_ods_workbooks_are_read_by_content() {
    let env = Env::default().await;
    for kind in ["xls", "ods"] {
        // Copied under a misleading name: the content, not the extension, decides.
        let fixture = repo_file(&format!("tests/fixtures/sheets/contacts.{kind}"));
        let copy = env.path(&format!("{kind}_book.csv"));
        std::fs::copy(fixture, &copy).unwrap();
        run_ok(&env, &copy, &["--default-region", "SA"]).await;
        let rows = env.rows(&format!("{kind}_book"));
        let got: Vec<_> = rows.iter().map(|r| (r.line, r.e164.clone())).collect();
        assert_eq!(
            got,
            [
                (2, Some("+966501234567".into())),
                (3, Some("+966501234568".into()))
            ],
            "{kind}"
        );
        let sara = env
            .sandbox
            .calls()
            .into_iter()
            .rfind(|c| c["numberToCall"] == "+966501234567")
            .unwrap();
        assert_eq!(sara["metadata"]["joined"], "2026-11-25", "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn arabic_indic_and_full_width_numbers_are_dialed_as_e164() {
    let env = Env::default().await;
    let csv = env.write(
        "scripts.csv",
        "first_name,phone\nSara,+٩٦٦٥٠١٢٣٤٥٦٧\nReza,+۹۷۱۵۰۱۲۳۴۵۶۷\nAiko,＋９６６５０１２３４５６８\nDup,+966501234567\n",
    );
    run_ok(&env, &csv, &[]).await;
    let mut dialed: Vec<_> = env
        .sandbox
        .calls()
        .iter()
        .map(|c| c["numberToCall"].as_str().unwrap().to_string())
        .collect();
    dialed.sort();
    assert_eq!(dialed, ["+966501234567", "+966501234568", "+971501234567"]);
    let rows = env.rows("scripts");
    assert_eq!(
        (rows[3].reason.as_deref(), rows[3].duplicate_of),
        (Some("duplicate"), Some(2)),
        "the ASCII spelling is the same number"
    );
}

fn numbered_sheet(n: usize) -> Vec<Vec<Cell>> {
    let mut rows = vec![vec![Text("first_name"), Text("phone")]];
    for i in 0..n {
        rows.push(vec![Text("P"), Number(966_500_000_000.0 + i as f64)]);
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workbook_campaign_continues_and_a_changed_workbook_is_refused() {
    let env = Env::default().await;
    let book = workbook(&env.path("list.xlsx"), &[("Sheet1", numbered_sheet(10))]);
    let run = |limit: &'static str| {
        let book = book.clone();
        let env = &env;
        async move {
            run_ok(env, &book, &["--default-region", "SA", "--limit", limit]).await;
        }
    };
    run("4").await;
    assert_eq!(env.sandbox.stats().total_calls, 4);
    run("100").await;
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, 10, "continued, nobody dialed twice");
    assert!(stats.calls_per_number.values().all(|&n| n == 1));

    workbook(&env.path("list.xlsx"), &[("Sheet1", numbered_sheet(11))]);
    let changed = env
        .dialer(&["run", s(&book), "--default-region", "SA"])
        .await;
    changed.expect_code(2);
    assert!(changed.stderr.contains("--campaign"), "{}", changed.stderr);
}
