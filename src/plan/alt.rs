//! A row's secondary numbers (`phone2`, `work_phone`... or `--map COLUMN=altNumber`): read
//! like the main number, in column order. A cell that is empty, not a valid number, on a
//! do-not-call list, or a repeat of a number the row already has is passed over: the next
//! number is the next one that can be dialed. Numbers other rows hold are dropped later, by
//! the ledger, which sees every row.

use phonenumber::country::Id;

use super::number::normalize_with_country;
use super::suppress::SuppressList;

/// The dialable secondary numbers among `cells`, as E.164, in order.
pub(super) fn alt_numbers<'a>(
    cells: impl Iterator<Item = &'a str>,
    region: Option<Id>,
    primary: &str,
    suppress: &SuppressList,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cell in cells {
        let Ok(n) = normalize_with_country(cell, region) else {
            continue;
        };
        if n.e164 != primary && !suppress.contains(&n.e164) && !out.contains(&n.e164) {
            out.push(n.e164);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_suppressed_and_repeated_numbers_are_passed_over() {
        let cells = [
            "",
            "12",
            "+966 50 123 4568",
            "0501234569",
            "+966501234568",
            "+966501234567",
        ];
        let region = Some(Id::SA);
        let got = alt_numbers(
            cells.into_iter(),
            region,
            "+966501234567",
            &SuppressList::empty(),
        );
        assert_eq!(got, ["+966501234568", "+966501234569"]);
    }
}
