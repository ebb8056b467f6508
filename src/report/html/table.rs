//! The rows table of the HTML report, streamed from the ledger one row at a time.

use std::fmt::Write as _;
use std::io::Write;

use super::esc;
use super::sections::state_class;
use crate::ledger::Ledger;
use crate::report::export::{Flow, ReportError, each_record};
use crate::report::record::{Record, StatusFilter};

pub const HEADER: &str = "<div class=\"wrap\">\n<table class=\"rows\">\n<thead><tr>\
    <th>row</th><th>phone</th><th>name</th><th>email</th><th>status</th><th>reason</th>\
    <th>attempts</th><th>HTTP</th><th>latency ms</th><th>first attempt (UTC)</th>\
    <th>delivery</th><th>call output</th><th>sentiment</th><th>duration s</th>\
    <th>error / detail</th><th>data</th></tr></thead>\n<tbody>\n";

pub const FOOTER: &str = "</tbody>\n</table>\n</div>\n";

/// "2026-01-01T00:00:01.5Z" as "2026-01-01 00:00:01": a table cell needs no milliseconds.
fn short_time(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

fn cell(s: &mut String, v: Option<&str>) {
    let _ = write!(s, "<td>{}</td>", esc(v.unwrap_or("")));
}

/// A cell with a CSS class (`nw`: never wrapped, `data`: the wide free-text column).
fn cell_in(s: &mut String, class: &str, v: Option<&str>) {
    let _ = write!(s, "<td class=\"{class}\">{}</td>", esc(v.unwrap_or("")));
}

fn num(s: &mut String, v: Option<String>) {
    let _ = write!(s, "<td class=\"num\">{}</td>", v.unwrap_or_default());
}

/// One `<tr>` for a record.
pub fn row_html(r: &Record) -> String {
    let mut s = String::with_capacity(512);
    s.push_str("<tr>");
    num(&mut s, Some(r.row.to_string()));
    cell_in(&mut s, "nw", r.phone.as_deref());
    let name = [r.first_name.as_deref(), r.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    cell(&mut s, Some(&name));
    cell(&mut s, r.email.as_deref());
    let _ = write!(
        s,
        "<td><span class=\"pill {}\">{}</span></td>",
        state_class(&r.status),
        esc(&r.status)
    );
    cell(&mut s, r.reason.as_deref());
    num(&mut s, Some(r.attempts.to_string()));
    num(&mut s, r.http_status.map(|v| v.to_string()));
    num(&mut s, r.latency_ms.map(|v| v.to_string()));
    cell(
        &mut s,
        r.first_attempt_at.as_deref().map(short_time).as_deref(),
    );
    cell(&mut s, r.delivery_status.as_deref());
    cell(&mut s, r.call_output.as_deref());
    cell(&mut s, r.sentiment.as_deref());
    num(&mut s, r.duration_s.map(|v| v.to_string()));
    let said: Vec<&str> = [r.error.as_deref(), r.detail.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    cell(&mut s, Some(&said.join(" — ")));
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
    cell_in(&mut s, "data", Some(&data));
    s.push_str("</tr>\n");
    s
}

/// Streams up to `limit` rows that pass `filter` as table rows.
pub fn write_rows(
    ledger: &Ledger,
    campaign_id: i64,
    filter: &StatusFilter,
    limit: u64,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    let mut written = 0;
    if limit == 0 {
        return Ok(());
    }
    each_record(ledger, campaign_id, filter, |r| {
        out.write_all(row_html(&r).as_bytes())?;
        written += 1;
        Ok(if written >= limit {
            Flow::Stop
        } else {
            Flow::Continue
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_escaped_and_complete() {
        let mut r = Record {
            row: 3,
            phone: Some("+966501234567".into()),
            first_name: Some("<script>alert(1)</script>".into()),
            status: "failed".into(),
            reason: Some("rejected".into()),
            error: Some("422: \"email\" is bad".into()),
            first_attempt_at: Some("2026-01-01T00:00:01.5Z".into()),
            ..Record::default()
        };
        r.metadata.insert("acct".into(), "A&B".into());
        let h = row_html(&r);
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{h}");
        assert!(!h.contains("<script>"));
        assert!(h.contains("acct=A&amp;B"));
        assert!(h.contains("&quot;email&quot;"));
        assert!(h.contains("2026-01-01 00:00:01<"));
        assert!(h.contains("pill st-failed"));
        assert_eq!(h.matches("<td").count(), HEADER.matches("<th>").count());
    }

    #[test]
    fn a_skipped_row_shows_its_raw_cells() {
        let r = Record {
            status: "skipped".into(),
            raw: Some("Sara,not-a-number".into()),
            ..Record::default()
        };
        assert!(row_html(&r).contains(">Sara,not-a-number</td>"));
    }
}
