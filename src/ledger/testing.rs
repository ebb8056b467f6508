//! Test fixtures shared by every module's tests: a ledger in a temp dir holding one
//! campaign, and dialable rows to put in it.

use super::{Campaign, Ledger, NewCampaign, NewRow};

/// A dialable row whose request body names its number, as the planner would write it.
pub(crate) fn dial(line: u64, e164: &str) -> NewRow {
    NewRow {
        line,
        e164: Some(e164.into()),
        request: Some(format!(r#"{{"numberToCall":"{e164}"}}"#)),
        timezone: None,
        zone_source: None,
        skip: None,
        raw: None,
        contact: None,
        alt_numbers: Vec::new(),
    }
}

/// A fresh ledger with one campaign named `name` holding `rows` (the dir lives as long as
/// the returned guard).
pub(crate) async fn campaign_with(
    name: &str,
    rows: Vec<NewRow>,
) -> (tempfile::TempDir, Ledger, Campaign) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = Ledger::open(&dir.path().join("l.db")).expect("open the ledger");
    let campaign = ledger
        .create_campaign(NewCampaign {
            name: name.into(),
            csv_path: format!("{name}.csv"),
            csv_sha256: "00".into(),
            csv_bytes: 0,
            suppress_sha256: None,
            settings: "{}".into(),
        })
        .await
        .expect("create the campaign");
    insert(&ledger, campaign.id, rows).await;
    (dir, ledger, campaign)
}

/// Inserts rows from async test code (the insert itself is blocking).
pub(crate) async fn insert(ledger: &Ledger, campaign_id: i64, rows: Vec<NewRow>) {
    if rows.is_empty() {
        return;
    }
    let l = ledger.clone();
    tokio::task::spawn_blocking(move || l.insert_rows_blocking(campaign_id, rows))
        .await
        .expect("join the insert")
        .expect("insert rows");
}
