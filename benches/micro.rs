//! Criterion micro-benchmarks of the hot pure paths (issue 7, item 4):
//!
//! - `plan/*`: one CSV record -> call request (`Planner::plan`, number normalisation
//!   included), number normalisation alone, and a record -> the ledger's JSON body.
//! - `api/request_json`: `serde_json::to_string` of a planned `CallRequest`.
//! - `summary/latency_*`: latency percentiles. `percentile` lives in the private
//!   `ledger::summary` module, so it is measured through the public `Ledger::latency`
//!   (the SQL read of every latency, sorted, plus the nearest-rank picks), at 10k and 100k
//!   rows.
//!
//! `cargo bench --bench micro` (add a filter such as `-- plan/` to run some).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dialer::ledger::{Ledger, NewCampaign, NewRow};
use dialer::plan::parse_region;
use dialer::plan::{Mapping, PlanOptions, Planned, Planner, SuppressList, normalize_number};

const HEADERS: [&str; 6] = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "tag:amount",
    "account",
];

/// One record per number format the e2e harness writes (national SA and `+CC` forms).
const PHONES: [&str; 9] = [
    "050 123 4567",
    "+966 55 123 4567",
    "+1 (415) 6 12-3456",
    "+44 740 1 234567",
    "+971 50 123 4567",
    "+20 10 1234 5678",
    "+49 170 1234567",
    "+91 98 123 45678",
    "+33 61 2 34 56 78",
];

fn records() -> Vec<Vec<String>> {
    PHONES
        .iter()
        .enumerate()
        .map(|(i, phone)| {
            let email = format!("aisha{i}@example.com");
            [
                *phone,
                "Aisha",
                "Al-Harbi",
                email.as_str(),
                "1234.50",
                "ACC-00001234",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        })
        .collect()
}

fn planner() -> Planner {
    let headers: Vec<String> = HEADERS.iter().map(|s| s.to_string()).collect();
    let mapping = Mapping::from_headers(&headers, &[]).expect("the bench headers map");
    let opts = PlanOptions {
        campaign: "bench".into(),
        default_region: Some(parse_region("SA").expect("SA is a region")),
        template: None,
        no_create: false,
        update_existing: false,
        meta: Vec::new(),
    };
    Planner::new(mapping, opts, SuppressList::empty()).expect("no reserved --meta")
}

fn plan(c: &mut Criterion) {
    let planner = planner();
    let records = records();
    // Every record must plan to a call, or the figure would time the skip path instead.
    for (i, record) in records.iter().enumerate() {
        assert!(
            matches!(planner.plan(i as u64 + 2, record), Planned::Call(_)),
            "{record:?}"
        );
    }
    let mut i = 0usize;
    c.bench_function("plan/record_to_request", |b| {
        b.iter(|| {
            i = (i + 1) % records.len();
            black_box(planner.plan(i as u64 + 2, black_box(&records[i])))
        })
    });
    let region = parse_region("SA").ok();
    c.bench_function("plan/normalize_number", |b| {
        b.iter(|| {
            i = (i + 1) % PHONES.len();
            black_box(normalize_number(black_box(PHONES[i]), region))
        })
    });
    c.bench_function("plan/record_to_json_body", |b| {
        b.iter(|| {
            i = (i + 1) % records.len();
            match planner.plan(i as u64 + 2, &records[i]) {
                Planned::Call(call) => black_box(serde_json::to_string(&call.request).ok()),
                Planned::Skip { .. } => None,
            }
        })
    });
}

fn request_json(c: &mut Criterion) {
    let planner = planner();
    let requests: Vec<_> = records()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match planner.plan(i as u64 + 2, r) {
            Planned::Call(call) => Some(call.request),
            Planned::Skip { .. } => None,
        })
        .collect();
    let mut i = 0usize;
    c.bench_function("api/request_json", |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(serde_json::to_string(black_box(&requests[i])).ok())
        })
    });
}

/// A ledger holding `rows` rows with seeded latencies, built through the public API.
fn ledger_with_latencies(dir: &std::path::Path, rows: u64) -> (Ledger, i64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let ledger = Ledger::open(&dir.join(format!("latency-{rows}.db"))).expect("a ledger");
    let campaign = rt
        .block_on(ledger.create_campaign(NewCampaign {
            name: format!("latency-{rows}"),
            csv_path: "bench.csv".into(),
            csv_sha256: "0".repeat(64),
            csv_bytes: 0,
            suppress_sha256: None,
            settings: "{}".into(),
        }))
        .expect("a campaign");
    let new_rows = (0..rows)
        .map(|i| NewRow {
            line: i + 2,
            e164: Some(format!("+9665{:08}", i)),
            request: Some("{}".into()),
            timezone: None,
            zone_source: None,
            skip: None,
            raw: None,
            contact: None,
            alt_numbers: Vec::new(),
        })
        .collect();
    ledger
        .insert_rows_blocking(campaign.id, new_rows)
        .expect("rows");
    // Latencies skewed like real ones: mostly a few ms, a tail up to a second.
    let id = campaign.id;
    ledger
        .writer()
        .call_blocking(move |tx| {
            tx.execute(
                "UPDATE rows SET latency_ms = CASE WHEN line % 100 = 0 THEN (line * 7919) % 1000
                 ELSE (line * 7919) % 40 END WHERE campaign_id = ?1",
                [id],
            )
        })
        .expect("latencies");
    (ledger, campaign.id)
}

fn summary(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    for rows in [10_000u64, 100_000] {
        let (ledger, id) = ledger_with_latencies(dir.path(), rows);
        let name = format!("summary/latency_{}k_rows", rows / 1000);
        c.bench_function(&name, |b| b.iter(|| black_box(ledger.latency(id).ok())));
    }
}

criterion_group!(benches, plan, request_json, summary);
criterion_main!(benches);
