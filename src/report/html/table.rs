//! The rows of the HTML page: the table's shell (search box, pager, header) and the rows as
//! one inline JSON array, streamed from the ledger a row at a time. The inline script
//! (`table.js`) draws one page of rows at a time, so the page opens quickly at 100k rows.

use std::io::{self, Write};
use std::ops::ControlFlow;

use serde_json::{Value, json};

use crate::ledger::Ledger;
use crate::report::record::{Record, StatusFilter};
use crate::report::{ReportError, each_record};

/// The table before its data; `table.js` fills the body. The header's `data-i` is the
/// index of the column's value in a row's JSON array (see [`row_json`]).
pub const SHELL: &str = "<div class=\"tools\">\
    <input id=\"q\" type=\"search\" placeholder=\"Search rows: name, phone, outcome, reason…\" \
    aria-label=\"search rows\">\
    <span id=\"count\" class=\"note\"></span>\
    <span class=\"pager\"><button type=\"button\" id=\"prev\">‹ previous</button>\
    <span id=\"pageinfo\"></span><button type=\"button\" id=\"next\">next ›</button></span>\
    </div>\n<div class=\"wrap\">\n<table class=\"rows\">\n<thead><tr>\
    <th data-i=\"0\" data-num=\"1\">row</th><th data-i=\"1\">phone</th><th data-i=\"2\">name</th>\
    <th data-i=\"4\">status</th><th data-i=\"5\">reason</th><th data-i=\"11\">call output</th>\
    <th data-i=\"10\">delivery</th><th data-i=\"12\">sentiment</th>\
    <th data-i=\"13\" data-num=\"1\">talk s</th><th data-i=\"6\" data-num=\"1\">tries</th>\
    <th data-i=\"7\" data-num=\"1\">HTTP</th><th data-i=\"9\">first attempt (UTC)</th>\
    <th data-i=\"14\">note</th></tr></thead>\n<tbody id=\"tbody\"></tbody>\n</table>\n</div>\n\
    <noscript><p class=\"note\">The rows table needs JavaScript; every row is also in \
    <code>dialer report CAMPAIGN --format csv</code>.</p></noscript>\n";

/// "2026-01-01T00:00:01.5Z" as "2026-01-01 00:00:01": a table cell needs no milliseconds.
fn short_time(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

/// A record as the JSON array `table.js` reads: the same order as the indices in
/// [`SHELL`], then what the detail panel shows (email, call id, zone, data, summary,
/// transcript).
pub fn row_json(r: &Record) -> Value {
    let name = [r.first_name.as_deref(), r.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let note: Vec<&str> = [r.error.as_deref(), r.detail.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    // The user's own columns: metadata and tags, or for a row never planned its raw cells.
    let data: Vec<String> = r
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(r.prompt_tags.iter().map(|(k, v)| format!("tag:{k}={v}")))
        .collect();
    let data = if data.is_empty() {
        r.raw.clone().unwrap_or_default()
    } else {
        data.join("; ")
    };
    json!([
        r.row,
        r.phone,
        name,
        r.email,
        r.status,
        r.reason,
        r.attempts,
        r.http_status,
        r.latency_ms,
        r.first_attempt_at.as_deref().map(short_time),
        r.delivery_status,
        r.call_output,
        r.sentiment,
        r.duration_s,
        note.join(" — "),
        data,
        r.summary,
        r.transcript,
        r.call_id,
        zone_text(r),
    ])
}

/// The zone a row was dialed in and what decided it: `America/New_York (number)`, with
/// the candidates when the number could be in several.
fn zone_text(r: &Record) -> Option<String> {
    let zone = r.zone.as_deref()?;
    let mut text = zone.to_string();
    if let Some(source) = &r.zone_source {
        text.push_str(&format!(" ({source})"));
    }
    if let Some(c) = r.candidate_zones.as_deref().filter(|c| *c != zone) {
        text.push_str(&format!("; could be {c}"));
    }
    Some(text)
}

/// JSON text safe inside `<script>`: a `<` only ever occurs inside a JSON string, where
/// `\u003c` means the same, so `</script>` in a transcript cannot end the block.
fn script_safe(json: &str, out: &mut impl Write) -> io::Result<()> {
    let mut rest = json;
    while let Some(i) = rest.find('<') {
        out.write_all(&rest.as_bytes()[..i])?;
        out.write_all(b"\\u003c")?;
        rest = &rest[i + 1..];
    }
    out.write_all(rest.as_bytes())
}

/// Streams the rows that pass `filter` as one JSON array of [`row_json`] arrays.
pub fn write_rows_json(
    ledger: &Ledger,
    campaign_id: i64,
    filter: &StatusFilter,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    out.write_all(b"[").map_err(ReportError::Write)?;
    let mut first = true;
    each_record(ledger, campaign_id, filter, |r| {
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        script_safe(&row_json(&r).to_string(), out)?;
        Ok(ControlFlow::Continue(()))
    })?;
    out.write_all(b"]").map_err(ReportError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::RowState;

    #[test]
    fn a_row_is_complete_and_cannot_close_the_script() {
        let mut r = Record {
            row: 3,
            phone: Some("+966501234567".into()),
            first_name: Some("</script><script>alert(1)</script>".into()),
            status: RowState::Failed,
            reason: Some("rejected".into()),
            error: Some("422: \"email\" is bad".into()),
            first_attempt_at: Some("2026-01-01T00:00:01.5Z".into()),
            ..Record::default()
        };
        r.metadata.insert("acct".into(), "A&B".into());
        let mut out = Vec::new();
        script_safe(&row_json(&r).to_string(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('<'), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back[2], "</script><script>alert(1)</script>");
        assert_eq!(back[0], 3);
        assert_eq!(back[9], "2026-01-01 00:00:01");
        assert_eq!(back[15], "acct=A&B");
        assert_eq!(back[14], "422: \"email\" is bad");
        // Every index the header names exists in the row.
        for i in SHELL.split("data-i=\"").skip(1) {
            let i: usize = i.split('"').next().unwrap().parse().unwrap();
            assert!(i < back.as_array().unwrap().len());
        }
    }

    #[test]
    fn a_skipped_row_shows_its_raw_cells() {
        let r = Record {
            status: RowState::Skipped,
            raw: Some("Sara,not-a-number".into()),
            ..Record::default()
        };
        assert_eq!(row_json(&r)[15], "Sara,not-a-number");
    }
}
