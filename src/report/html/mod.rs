//! The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)
//! that reads on a laptop and prints: summary cards, the charts, the reasons, then the rows.
//! Every text that came from the CSV, the API or a webhook goes through [`esc`].

mod chart;
mod sections;
mod table;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use super::export::ReportError;
use super::record::StatusFilter;
use super::summary::{Summary, rfc3339};
use crate::ledger::{Campaign, Ledger, now_ms};

/// Most rows the table shows; the CSV report has them all.
pub const MAX_TABLE_ROWS: u64 = 5_000;

const STYLE: &str = include_str!("style.css");

/// Text made safe for HTML content and quoted attribute values.
pub fn esc(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A span of seconds the way a person says it: "42.0 s", "3 min 20 s", "2 h 05 min".
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0);
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        format!("{} h {:02} min", whole / 3600, (whole % 3600) / 60)
    }
}

/// Everything the page shows above the rows table.
pub struct Page<'a> {
    pub campaign: &'a Campaign,
    pub summary: &'a Summary,
    /// Requests started per `interval_ms`: (slot start ms, requests), gaps filled.
    pub over_time: &'a [(i64, u64)],
    pub interval_ms: i64,
    /// Latest latency per row: (ms, rows).
    pub latency: &'a [(i64, u64)],
    pub filter: &'a StatusFilter,
    pub generated_at: i64,
}

impl Page<'_> {
    /// Rows the table would list with the filter applied.
    pub fn rows_in_filter(&self) -> u64 {
        let counts = &self.summary.counts;
        match self.filter.states() {
            [] => counts.total,
            states => states.iter().map(|s| counts.state(*s)).sum(),
        }
    }

    /// The document up to and including the table's header.
    pub fn head(&self) -> String {
        let c = self.campaign;
        let name = esc(&c.name);
        let mut s = String::with_capacity(32 * 1024);
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>dialer report: {name}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
             <header>\n<h1>Campaign {name}</h1>\n<p class=\"sub\">"
        );
        let mut sub = vec![
            format!("CSV <code>{}</code>", esc(&c.csv_path)),
            format!(
                "SHA-256 <code>{}</code>",
                esc(c.csv_sha256.get(..12).unwrap_or(&c.csv_sha256))
            ),
            format!("created {}", rfc3339(c.created_at)),
        ];
        if let Some(t) = c.started_at {
            sub.push(format!("last run started {}", rfc3339(t)));
        }
        if let Some(t) = c.finished_at {
            sub.push(format!("finished {}", rfc3339(t)));
        }
        sub.push(format!("report generated {}", rfc3339(self.generated_at)));
        for part in sub {
            let _ = writeln!(s, "<span>{part}</span>");
        }
        s.push_str("</p>\n</header>\n");
        s.push_str(&sections::cards(self.summary));
        s.push_str(&sections::states(&self.summary.counts));
        s.push_str(&sections::over_time(self.over_time, self.interval_ms));
        s.push_str(&sections::latency(self.latency, &self.summary.latency));
        if let Some(o) = &self.summary.outcomes {
            s.push_str(&sections::outcomes(o));
        }
        s.push_str(&sections::reasons(&self.summary.counts));
        s.push_str(&self.rows_intro());
        s.push_str(table::HEADER);
        s
    }

    fn rows_intro(&self) -> String {
        let mut s = String::from("<section id=\"rows\">\n<h2>Rows</h2>\n");
        let shown = self.rows_in_filter();
        if !self.filter.states().is_empty() {
            let _ = writeln!(
                s,
                "<p class=\"note\">Only rows with status {}.</p>",
                esc(&self
                    .filter
                    .states()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
            );
        }
        if shown > MAX_TABLE_ROWS {
            let _ = writeln!(
                s,
                "<p class=\"note\">The first {} of {} rows, in CSV line order. Every row is in \
                 <code>dialer report {} --format csv</code>.</p>",
                thousands(MAX_TABLE_ROWS),
                thousands(shown),
                esc(&shell_word(&self.campaign.name))
            );
        } else if shown == 0 {
            s.push_str("<p class=\"note\">No rows to show.</p>\n");
        }
        s
    }

    /// What closes the document after the last table row.
    pub fn foot(&self) -> String {
        format!(
            "{}</section>\n<footer>Made by dialer {} from the ledger. Times are UTC.</footer>\n\
             </body>\n</html>\n",
            table::FOOTER,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// A campaign name as a shell word, for the command the note suggests.
fn shell_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.,/+=:@".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// Writes the HTML report of `campaign` to `out`, streaming the rows table.
pub fn write(
    ledger: &Ledger,
    campaign: &Campaign,
    filter: &StatusFilter,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    let summary = Summary::load(ledger, campaign)?;
    // Bars per minute for a normal campaign; finer for a short one, coarser for a long one.
    let (first, last) = (
        summary.latency.first_attempt_at,
        summary.latency.last_attempt_at,
    );
    let interval_ms = chart::interval_for(first.unwrap_or(0), last.unwrap_or(0), 120);
    let over_time = chart::fill_slots(
        &ledger.requests_per_interval(campaign.id, interval_ms)?,
        interval_ms,
    );
    let latency = ledger.latency_counts(campaign.id)?;
    let page = Page {
        campaign,
        summary: &summary,
        over_time: &over_time,
        interval_ms,
        latency: &latency,
        filter,
        generated_at: now_ms(),
    };
    let w = |out: &mut dyn Write, s: &str| -> Result<(), ReportError> {
        out.write_all(s.as_bytes()).map_err(ReportError::Write)
    };
    w(out, &page.head())?;
    table::write_rows(ledger, campaign.id, filter, MAX_TABLE_ROWS, out)?;
    w(out, &page.foot())?;
    out.flush().map_err(ReportError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert!(matches!(esc("plain عبدالله"), Cow::Borrowed(_)));
    }

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(4.24), "4.2 s");
        assert_eq!(duration(200.0), "3 min 20 s");
        assert_eq!(duration(7500.0), "2 h 05 min");
    }

    #[test]
    fn campaign_names_are_quoted_for_the_shell() {
        assert_eq!(shell_word("demo-2026"), "demo-2026");
        assert_eq!(shell_word("my list"), "'my list'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
