//! Plans the shipped samples (`samples/contacts.csv`, `samples/dnc.txt`) the way `dialer demo`
//! does (`--default-region SA`), so a sample edit that breaks the demo's story fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use phonenumber::country;

use super::*;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// `(line, planned)` for every sample row; the sample has no multi-line records, so the
/// physical line is the record index + 2.
fn plan_sample(suppress: SuppressList) -> Vec<(u64, Planned)> {
    let mut reader = csv::Reader::from_path(sample("contacts.csv")).expect("samples/contacts.csv");
    let headers: Vec<String> = reader
        .headers()
        .expect("header line")
        .iter()
        .map(str::to_owned)
        .collect();
    let mapping = Mapping::from_headers(&headers, &[]).expect("the sample auto-maps");
    let opts = PlanOptions {
        campaign: "demo".into(),
        default_region: Some(country::SA),
        ..PlanOptions::default()
    };
    let planner = Planner::new(mapping, opts, suppress).expect("planner");
    reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let fields: Vec<String> = record
                .expect("well-formed sample row")
                .iter()
                .map(str::to_owned)
                .collect();
            let line = i as u64 + 2;
            (line, planner.plan(line, &fields))
        })
        .collect()
}

/// Calls, and skipped line numbers per reason.
fn tally(planned: &[(u64, Planned)]) -> (Vec<&PlannedCall>, BTreeMap<SkipReason, Vec<u64>>) {
    let mut calls = Vec::new();
    let mut skips: BTreeMap<SkipReason, Vec<u64>> = BTreeMap::new();
    for (line, p) in planned {
        match p {
            Planned::Call(c) => calls.push(c),
            Planned::Skip { reason, .. } => skips.entry(*reason).or_default().push(*line),
        }
    }
    (calls, skips)
}

#[test]
fn the_sample_header_maps_as_the_readme_says() {
    let mut reader = csv::Reader::from_path(sample("contacts.csv")).expect("samples/contacts.csv");
    let headers: Vec<String> = reader
        .headers()
        .expect("header line")
        .iter()
        .map(str::to_owned)
        .collect();
    let mapping = Mapping::from_headers(&headers, &[]).expect("mapping");
    let fields: Vec<String> = mapping.columns().map(|(_, f)| f.to_string()).collect();
    assert_eq!(
        fields,
        [
            "firstName",
            "lastName",
            "numberToCall",
            "email",
            "promptTags.amount",
            "promptTags.due_date",
            "metadata.account_id"
        ]
    );
}

#[test]
fn the_sample_plans_to_the_expected_calls_and_skips() {
    let planned = plan_sample(SuppressList::empty());
    assert_eq!(planned.len(), 50);
    let (calls, skips) = tally(&planned);
    assert_eq!(calls.len(), 43);
    assert_eq!(
        skips,
        BTreeMap::from([
            (SkipReason::MissingNumber, vec![49, 50]),
            (SkipReason::InvalidNumber, vec![45, 46, 47, 48]),
            (SkipReason::InvalidEmail, vec![32]),
        ])
    );
    // Three rows repeat an earlier number in another format; the ledger marks them.
    let distinct: BTreeSet<&str> = calls.iter().map(|c| c.e164.as_str()).collect();
    assert_eq!(distinct.len(), 40);
    // Every country the sample is meant to show.
    for code in [
        "+966", "+971", "+44", "+1", "+49", "+33", "+91", "+20", "+234",
    ] {
        assert!(
            calls.iter().any(|c| c.e164.starts_with(code)
                && normalize_number(&c.e164, None).as_deref() == Ok(c.e164.as_str())),
            "no valid {code} number in the sample"
        );
    }
    // Non-ASCII names travel untouched.
    let names: BTreeSet<&str> = calls
        .iter()
        .filter_map(|c| c.request.first_name.as_deref())
        .chain(calls.iter().filter_map(|c| c.request.last_name.as_deref()))
        .collect();
    for name in ["Zoë", "José", "Müller", "Ødegaard", "عبدالله", "Nguyễn"] {
        assert!(names.contains(name), "{name}");
    }
}

#[test]
fn the_sample_do_not_call_list_suppresses_four_rows() {
    let mut dnc = SuppressList::empty();
    let stats = dnc
        .load(&sample("dnc.txt"), Some(country::SA))
        .expect("samples/dnc.txt");
    assert_eq!((stats.numbers, stats.rejected, stats.column), (4, 0, None));
    let planned = plan_sample(dnc);
    let (calls, skips) = tally(&planned);
    assert_eq!(calls.len(), 39);
    assert_eq!(skips[&SkipReason::Suppressed], vec![7, 20, 27, 36]);
    // Row problems still win over suppression.
    assert_eq!(skips[&SkipReason::InvalidNumber].len(), 4);
}
