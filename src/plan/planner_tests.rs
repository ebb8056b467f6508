//! Planner tests: request building, skip reasons and their precedence.

use super::*;
use crate::plan::normalize_number;
use phonenumber::country;
use proptest::prelude::*;

const HEADERS: [&str; 9] = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "contact_id",
    "template",
    "tz",
    "tag:amount",
    "account",
];
const UUID: &str = "0b6c3d1e-5d8f-4f61-9a57-2f1f0c6a9e10";

fn mapping(headers: &[&str], overrides: &[(String, Field)]) -> Mapping {
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    Mapping::from_headers(&headers, overrides).expect("mapping")
}

fn opts() -> PlanOptions {
    PlanOptions {
        campaign: "spring".into(),
        default_region: Some(country::SA),
        ..PlanOptions::default()
    }
}

fn planner_with(opts: PlanOptions, suppress: SuppressList) -> Planner {
    Planner::new(mapping(&HEADERS, &[]), opts, suppress).expect("planner")
}

fn row(cells: [&str; 9]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn good() -> [&'static str; 9] {
    [
        "050 123 4567",
        " Zoë ",
        "Müller",
        "zoe@example.com",
        UUID,
        "",
        "Asia/Riyadh",
        "120.50",
        "A-1",
    ]
}

fn call(p: Planned) -> PlannedCall {
    match p {
        Planned::Call(c) => c,
        Planned::Skip { reason, detail, .. } => panic!("skipped: {reason}: {detail}"),
    }
}

fn reason(p: &Planned) -> Option<SkipReason> {
    match p {
        Planned::Call(_) => None,
        Planned::Skip { reason, .. } => Some(*reason),
    }
}

#[test]
fn a_full_row_becomes_the_documented_body() {
    let c = call(planner_with(opts(), SuppressList::empty()).plan(7, &row(good())));
    assert_eq!(c.e164, "+966501234567");
    assert_eq!(c.timezone.as_deref(), Some("Asia/Riyadh"));
    let json = serde_json::to_value(&c.request).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "numberToCall": "+966501234567",
            "firstName": "Zoë",
            "lastName": "Müller",
            "email": "zoe@example.com",
            "contactUuid": UUID,
            "promptTags": {"amount": "120.50"},
            "metadata": {"account": "A-1", "dialer_campaign": "spring", "dialer_row": "7"},
        })
    );
}

#[test]
fn empty_optional_cells_and_non_api_columns_are_left_out_of_the_body() {
    let p = Planner::new(
        mapping(
            &[
                "phone",
                "first_name",
                "email",
                "tz",
                "secret",
                "tag:x",
                "note",
            ],
            &[("secret".to_owned(), Field::Ignore)],
        ),
        opts(),
        SuppressList::empty(),
    )
    .expect("planner");
    let cells: Vec<String> = ["+966501234567", "  ", "", "", "hunter2", " ", "   "]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = call(p.plan(2, &cells));
    assert_eq!(c.timezone, None);
    let text = serde_json::to_string(&c.request).expect("json");
    assert_eq!(
        text,
        r#"{"numberToCall":"+966501234567","metadata":{"dialer_campaign":"spring","dialer_row":"2"}}"#
    );
    // A timezone cell is never sent, even when set.
    let cells: Vec<String> = ["+966501234567", "", "", "Europe/Paris", "x", "", ""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let c = call(p.plan(3, &cells));
    assert_eq!(c.timezone.as_deref(), Some("Europe/Paris"));
    let text = serde_json::to_string(&c.request).expect("json");
    assert!(
        !text.contains("Paris") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn meta_then_columns_then_correlation_keys() {
    let mut o = opts();
    o.meta = vec![
        ("account".into(), "from-meta".into()),
        ("project".into(), "p1".into()),
    ];
    let p = planner_with(o, SuppressList::empty());
    let m = call(p.plan(12, &row(good()))).request.metadata;
    assert_eq!(m["account"], "A-1");
    assert_eq!(m["project"], "p1");
    assert_eq!(m["dialer_campaign"], "spring");
    assert_eq!(m["dialer_row"], "12");
    // An empty column does not erase the --meta value of the same key.
    let mut cells = good();
    cells[8] = "";
    let m = call(p.plan(13, &row(cells))).request.metadata;
    assert_eq!(m["account"], "from-meta");
}

#[test]
fn reserved_meta_keys_are_refused_by_the_planner() {
    for key in ["dialer_campaign", "dialer_row"] {
        let mut o = opts();
        o.meta = vec![(key.into(), "x".into())];
        let err = Planner::new(mapping(&HEADERS, &[]), o, SuppressList::empty()).unwrap_err();
        assert!(matches!(err, PlanError::ReservedMeta { .. }), "{err}");
    }
}

#[test]
fn template_column_beats_the_template_option_and_flags_are_sent_only_when_set() {
    let mut o = opts();
    o.template = Some("tmpl-default".into());
    o.no_create = true;
    o.update_existing = true;
    let p = planner_with(o, SuppressList::empty());
    let mut cells = good();
    cells[5] = "tmpl-row";
    let r = call(p.plan(2, &row(cells))).request;
    assert_eq!(r.ai_settings_template_id.as_deref(), Some("tmpl-row"));
    assert_eq!(r.create_if_not_exists, Some(false));
    assert_eq!(r.update_existing, Some(true));
    let r = call(p.plan(3, &row(good()))).request;
    assert_eq!(r.ai_settings_template_id.as_deref(), Some("tmpl-default"));

    let r = call(planner_with(opts(), SuppressList::empty()).plan(2, &row(good()))).request;
    assert_eq!(r.ai_settings_template_id, None);
    assert_eq!(r.create_if_not_exists, None);
    assert_eq!(r.update_existing, None);
}

#[test]
fn contact_uuid_and_timezone_are_canonicalised() {
    let mut cells = good();
    cells[4] = "{0B6C3D1E-5D8F-4F61-9A57-2F1F0C6A9E10}";
    cells[6] = "america/new_york";
    let c = call(planner_with(opts(), SuppressList::empty()).plan(2, &row(cells)));
    assert_eq!(c.request.contact_uuid.as_deref(), Some(UUID));
    assert_eq!(c.timezone.as_deref(), Some("America/New_York"));
}

#[test]
fn each_skip_reason_alone() {
    let mut dnc = SuppressList::empty();
    let f = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(f.path(), "+966 50 123 4567\n").expect("write");
    dnc.load(f.path(), None).expect("load");
    let p = planner_with(opts(), dnc);
    let cases: [(usize, &str, SkipReason); 6] = [
        (0, "   ", SkipReason::MissingNumber),
        (0, "12345", SkipReason::InvalidNumber),
        (4, "not-a-uuid", SkipReason::InvalidContactUuid),
        (3, "zoe@example", SkipReason::InvalidEmail),
        (6, "Mars/Olympus", SkipReason::InvalidTimezone),
        (0, "00966501234567", SkipReason::Suppressed),
    ];
    for (column, value, want) in cases {
        let mut cells = good();
        cells[0] = "0551234567";
        cells[column] = value;
        let planned = p.plan(5, &row(cells));
        let Planned::Skip {
            reason,
            detail,
            e164,
        } = planned
        else {
            panic!("{value:?} was planned as a call");
        };
        assert_eq!(reason, want, "{value:?}: {detail}");
        assert!(detail.ends_with('.') && !detail.is_empty(), "{detail}");
        let readable = !matches!(want, SkipReason::MissingNumber | SkipReason::InvalidNumber);
        assert_eq!(e164.is_some(), readable, "{value:?}");
    }
}

#[test]
fn the_first_row_problem_wins_and_suppression_comes_last() {
    let mut dnc = SuppressList::empty();
    let f = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(f.path(), "0501234567\n").expect("write");
    dnc.load(f.path(), Some(country::SA)).expect("load");
    let p = planner_with(opts(), dnc);
    let bad = |phone: &str, uuid: &str, email: &str, tz: &str| {
        let mut cells = good();
        (cells[0], cells[4], cells[3], cells[6]) = (phone, uuid, email, tz);
        reason(&p.plan(2, &row(cells)))
    };
    let suppressed = "0501234567";
    use SkipReason::*;
    assert_eq!(bad("", "x", "x", "x"), Some(MissingNumber));
    assert_eq!(bad("123", "x", "x", "x"), Some(InvalidNumber));
    assert_eq!(bad("123", UUID, "bad email", ""), Some(InvalidNumber));
    assert_eq!(bad(suppressed, "x", "x", "x"), Some(InvalidContactUuid));
    assert_eq!(bad(suppressed, UUID, "x", "x"), Some(InvalidEmail));
    assert_eq!(bad(suppressed, UUID, "", "x"), Some(InvalidTimezone));
    assert_eq!(bad(suppressed, UUID, "", ""), Some(Suppressed));
    assert_eq!(bad("0551234567", "", "", ""), None);
}

#[test]
fn an_invalid_number_detail_says_why() {
    let p = planner_with(
        PlanOptions {
            default_region: None,
            ..opts()
        },
        SuppressList::empty(),
    );
    let Planned::Skip { detail, .. } = p.plan(2, &row(good())) else {
        panic!("a national number with no region must be skipped");
    };
    assert!(
        detail.contains("050 123 4567") && detail.contains("--default-region"),
        "{detail}"
    );
    let mut cells = good();
    let long = "9".repeat(500);
    cells[0] = &long;
    let Planned::Skip { detail, .. } = p.plan(2, &row(cells)) else {
        panic!("500 digits must be skipped");
    };
    assert!(detail.len() < 200, "{detail}");
}

#[test]
fn a_short_record_does_not_panic() {
    let p = planner_with(opts(), SuppressList::empty());
    assert_eq!(reason(&p.plan(2, &[])), Some(SkipReason::MissingNumber));
    let c = call(p.plan(2, &["0501234567".to_owned()]));
    assert_eq!(c.request.first_name, None);
}

#[test]
fn planner_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Planner>();
}

proptest! {
    #[test]
    fn any_phone_cell_is_a_call_or_a_skip(cell in any::<String>(), region in proptest::option::of(Just(country::SA))) {
        let p = planner_with(PlanOptions { default_region: region, ..opts() }, SuppressList::empty());
        let mut cells = row(good());
        cells[0] = cell;
        match p.plan(2, &cells) {
            Planned::Call(c) => prop_assert!(c.e164.starts_with('+')),
            Planned::Skip { reason, .. } => prop_assert!(matches!(
                reason,
                SkipReason::MissingNumber | SkipReason::InvalidNumber
            )),
        }
    }

    #[test]
    fn phone_like_cells_never_panic(cell in "[0-9+()\\- .#*x]{0,30}") {
        let p = planner_with(opts(), SuppressList::empty());
        let mut cells = row(good());
        cells[0] = cell;
        // A planned number is E.164 and reads back as itself.
        if let Planned::Call(c) = p.plan(2, &cells) {
            prop_assert_eq!(normalize_number(&c.e164, None), Ok(c.e164.clone()));
            prop_assert_eq!(&c.request.number_to_call, &c.e164);
        }
    }
}

#[test]
fn a_whole_name_column_is_split_at_the_first_space_into_first_and_last_name() {
    let planner = Planner::new(
        mapping(&["phone", "name"], &[]),
        opts(),
        SuppressList::empty(),
    )
    .unwrap();
    let plan = |name: &str| {
        let fields = vec!["0501234567".to_string(), name.to_string()];
        call(planner.plan(2, &fields)).request
    };
    let r = plan("  Sara  Al Harbi ");
    assert_eq!(r.first_name.as_deref(), Some("Sara"));
    assert_eq!(r.last_name.as_deref(), Some("Al Harbi"));
    assert_eq!(
        r.metadata.get("name").map(String::as_str),
        Some("Sara  Al Harbi")
    );
    let r = plan("Madonna");
    assert_eq!(
        (r.first_name.as_deref(), r.last_name.as_deref()),
        (Some("Madonna"), None)
    );
    let r = plan("");
    assert_eq!((r.first_name, r.last_name), (None, None));
}

#[test]
fn an_invalid_main_number_gives_way_to_the_first_valid_secondary_one() {
    let headers = ["phone", "first_name", "phone2", "work_phone"];
    let p = Planner::new(mapping(&headers, &[]), opts(), SuppressList::empty()).unwrap();
    let cells = |c: [&str; 4]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let promoted = call(p.plan(2, &cells(["12", "Sara", "0501234568", "0501234569"])));
    assert_eq!(promoted.e164, "+966501234568");
    assert_eq!(promoted.request.number_to_call, "+966501234568");
    assert_eq!(promoted.alt_numbers, ["+966501234569"]);
    let kept = call(p.plan(3, &cells(["0501234567", "Sara", "0501234568", ""])));
    assert_eq!(kept.e164, "+966501234567");
    assert_eq!(kept.alt_numbers, ["+966501234568"]);
    let none = p.plan(4, &cells(["12", "Sara", "x", ""]));
    assert_eq!(reason(&none), Some(SkipReason::InvalidNumber));
    let empty = p.plan(5, &cells(["", "Sara", "0501234568", ""]));
    assert_eq!(reason(&empty), Some(SkipReason::MissingNumber));
}
