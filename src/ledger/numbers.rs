//! Every number of every row, held once per campaign: a row's first number by its
//! `dial_key`, its secondary numbers in `row_numbers` (migration 0009). A number is dialed
//! for one row only, so a second number another row holds is dropped at ingest and a first
//! number another row holds makes the row a `duplicate`.

use rusqlite::{OptionalExtension, Transaction, params};

/// The line of an earlier row that holds `e164`, as its first number or a secondary one.
pub(super) fn number_holder(
    tx: &Transaction<'_>,
    campaign_id: i64,
    e164: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    match first_holder(tx, campaign_id, e164)? {
        Some(line) => Ok(Some(line)),
        None => secondary_holder(tx, campaign_id, e164),
    }
}

/// The line of the row whose first number is `e164`.
pub(super) fn first_holder(
    tx: &Transaction<'_>,
    campaign_id: i64,
    e164: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    line_of(
        tx,
        "SELECT line FROM rows WHERE campaign_id = ?1 AND dial_key = ?2",
        campaign_id,
        e164,
    )
}

/// The line of the row that holds `e164` as a secondary number.
pub(super) fn secondary_holder(
    tx: &Transaction<'_>,
    campaign_id: i64,
    e164: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    line_of(
        tx,
        "SELECT line FROM row_numbers WHERE campaign_id = ?1 AND e164 = ?2",
        campaign_id,
        e164,
    )
}

/// The one line `sql` finds for the campaign and number, if any.
fn line_of(
    tx: &Transaction<'_>,
    sql: &str,
    campaign_id: i64,
    e164: Option<&str>,
) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(sql)?
        .query_row(params![campaign_id, e164], |r| r.get(0))
        .optional()
}

/// Whether any row of the campaign holds a secondary number.
pub(super) fn any_secondary(tx: &Transaction<'_>, campaign_id: i64) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM row_numbers WHERE campaign_id = ?1)")?
        .query_row([campaign_id], |r| r.get(0))
}

/// Claims the secondary numbers no earlier row holds, in order; the others are dropped
/// (a number is dialed for one row only). The claimed ones as a JSON array, if any.
pub(super) fn claim_alt_numbers(
    tx: &Transaction<'_>,
    campaign_id: i64,
    line: i64,
    numbers: Vec<String>,
) -> rusqlite::Result<Option<String>> {
    let mut kept = Vec::new();
    for n in numbers {
        if number_holder(tx, campaign_id, Some(&n))?.is_none() {
            tx.prepare_cached(
                "INSERT INTO row_numbers (campaign_id, e164, line) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![campaign_id, n, line])?;
            kept.push(n);
        }
    }
    Ok((!kept.is_empty()).then(|| serde_json::to_string(&kept).expect("strings serialise")))
}

#[cfg(test)]
mod tests {
    use crate::ledger::{RowState, testing};

    #[tokio::test]
    async fn a_number_belongs_to_the_first_row_that_holds_it() {
        let mut first = testing::dial(2, "+966500000001");
        first.alt_numbers = vec!["+966500000002".into()];
        let second = testing::dial(3, "+966500000002");
        let mut third = testing::dial(4, "+966500000003");
        third.alt_numbers = vec!["+966500000001".into(), "+966500000004".into()];
        let rows = vec![first, second, third];
        let (_dir, ledger, c) = testing::campaign_with("c", rows).await;
        let dup = ledger.row(c.id, 3).unwrap().unwrap();
        assert_eq!(dup.state, RowState::Skipped);
        assert_eq!(
            dup.duplicate_of,
            Some(2),
            "its number is line 2's second one"
        );
        let kept: Option<String> = ledger
            .read_blocking(|conn| {
                conn.query_row(
                    "SELECT alt_numbers FROM rows WHERE campaign_id = ?1 AND line = 4",
                    [c.id],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(
            kept.as_deref(),
            Some(r#"["+966500000004"]"#),
            "line 2's number is dropped"
        );
    }
}
