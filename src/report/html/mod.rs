//! The HTML report and the dashboard's campaign page: one renderer for both. The page is
//! self-contained (inline CSS, SVG and a small script, nothing fetched): results first
//! (funnel, talk time, outcomes over the day, a breakdown by a column), then the engineering
//! figures, then every row, searchable and sortable, from an inline JSON block. The
//! dashboard renders the same page with [`Live`] set, and refreshes [`Page::sections`].
//! Every text that came from the CSV, the API or a webhook goes through [`esc`].

mod chart;
mod results;
mod sections;
mod table;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use super::ReportError;
use super::export::ReportOptions;
use super::record::StatusFilter;
use super::summary::{Summary, rfc3339};
use crate::api::types::{META_CAMPAIGN, META_ROW};
use crate::ledger::{BreakdownLine, Campaign, Ledger, now_ms};

pub use table::write_rows_json;

const STYLE: &str = include_str!("style.css");
const TABLE_JS: &str = include_str!("table.js");
const LIVE_JS: &str = include_str!("live.js");

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

/// What the dashboard adds to the page: where to poll, and whether to offer the controls.
#[derive(Debug, Clone)]
pub struct Live {
    /// The campaign's URL path, e.g. `/campaigns/demo` (already percent-encoded).
    pub base: String,
    /// Offer pause and cancel (only when the dashboard has a token).
    pub controls: bool,
}

/// How to render the page.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    pub filter: StatusFilter,
    /// The breakdown column (`KEY` or `tag:KEY`); none when unset (the page names them).
    pub by: Option<String>,
    pub live: Option<Live>,
}

impl HtmlOptions {
    pub fn report(opts: &ReportOptions) -> HtmlOptions {
        HtmlOptions {
            filter: opts.status.clone(),
            by: opts.by.clone(),
            live: None,
        }
    }
}

/// Everything the page shows above the rows table, read from the ledger.
pub struct Page {
    pub campaign: Campaign,
    pub summary: Summary,
    /// Requests started per `interval_ms`: (slot start ms, requests), gaps filled.
    pub over_time: Vec<(i64, u64)>,
    pub interval_ms: i64,
    /// Latest latency per row: (ms, rows).
    pub latency: Vec<(i64, u64)>,
    /// (UTC hour, callOutput, rows).
    pub by_hour: Vec<(u8, String, u64)>,
    /// The columns a breakdown can use, as the CSV report names them.
    pub columns: Vec<String>,
    /// The chosen column and its lines.
    pub breakdown: Option<(String, Vec<BreakdownLine>)>,
    pub generated_at: i64,
}

impl Page {
    /// Reads the page's figures; `by` picks the breakdown column.
    pub fn load(
        ledger: &Ledger,
        campaign: &Campaign,
        by: Option<&str>,
    ) -> Result<Page, ReportError> {
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
        let keys = ledger.request_keys(campaign.id)?;
        let columns: Vec<String> = keys
            .metadata
            .into_iter()
            .filter(|k| k != META_CAMPAIGN && k != META_ROW)
            .chain(keys.tags.into_iter().map(|t| format!("tag:{t}")))
            .collect();
        let breakdown = match by.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some((c.to_string(), ledger.breakdown(campaign.id, c)?)),
            None => None,
        };
        Ok(Page {
            campaign: campaign.clone(),
            over_time,
            interval_ms,
            latency: ledger.latency_counts(campaign.id)?,
            by_hour: ledger.outcomes_by_hour(campaign.id)?,
            columns,
            breakdown,
            summary,
            generated_at: now_ms(),
        })
    }

    /// The part of the page that changes while a campaign runs: the results, then the
    /// engineering figures. The dashboard swaps it in place on every refresh.
    pub fn sections(&self, live: bool) -> String {
        let sum = &self.summary;
        let mut s = String::with_capacity(32 * 1024);
        s.push_str(&results::funnel(sum));
        s.push_str(&results::by_hour(&self.by_hour));
        s.push_str(&results::breakdown(
            self.breakdown.as_ref(),
            &self.columns,
            live,
        ));
        s.push_str("<h2 class=\"part\">Engineering figures</h2>\n");
        s.push_str(&sections::cards(sum));
        s.push_str(&sections::states(&sum.counts));
        s.push_str(&sections::over_time(&self.over_time, self.interval_ms));
        s.push_str(&sections::latency(&self.latency, &sum.latency));
        if let Some(o) = &sum.outcomes {
            s.push_str(&sections::outcomes(o));
        }
        s.push_str(&sections::reasons(&sum.counts));
        s
    }

    /// A short text that changes whenever the figures do: the dashboard fetches the rows
    /// again only when it changed.
    pub fn version(&self) -> String {
        let s = &self.summary;
        let o = s.outcomes.as_ref().map_or(0, |o| o.received);
        let states: Vec<String> = s
            .counts
            .states
            .iter()
            .map(|(k, v)| format!("{k}{v}"))
            .collect();
        format!(
            "{}-{}-{o}-{}",
            s.counts.total,
            s.latency.requests,
            states.join("")
        )
    }

    /// The document up to the live sections.
    fn head(&self, live: Option<&Live>) -> String {
        let c = &self.campaign;
        let name = esc(&c.name);
        let mut s = String::with_capacity(8 * 1024);
        let live_attr = live.map_or(String::new(), |l| {
            let cfg = serde_json::json!({ "base": l.base, "by": self.breakdown.as_ref().map(|b| &b.0), "version": self.version() });
            format!(" data-live=\"{}\"", esc(&cfg.to_string()))
        });
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>dialer report: {name}</title>\n<style>\n{STYLE}</style>\n</head>\n\
             <body{live_attr}>\n<header>\n<h1>Campaign {name}</h1>\n<p class=\"sub\">"
        );
        let mut sub = vec![
            format!("CSV <code>{}</code>", esc(&c.csv_path)),
            format!("created {}", rfc3339(c.created_at)),
        ];
        if let Some(t) = c.started_at {
            sub.push(format!("last run started {}", rfc3339(t)));
        }
        if let Some(t) = c.finished_at {
            sub.push(format!("finished {}", rfc3339(t)));
        }
        sub.push(format!("generated {}", rfc3339(self.generated_at)));
        for part in sub {
            let _ = writeln!(s, "<span>{part}</span>");
        }
        s.push_str("</p>\n");
        if let Some(l) = live {
            s.push_str("<p class=\"live\"><a href=\"/\">all campaigns</a> · <span id=\"live-state\">live</span>");
            if l.controls {
                s.push_str(
                    " <button type=\"button\" data-action=\"pause\">Pause</button>\
                     <button type=\"button\" data-action=\"cancel\">Cancel</button>",
                );
            }
            s.push_str("</p>\n");
        }
        s.push_str("</header>\n<div id=\"live\">\n");
        s
    }

    /// The rows section up to the inline data.
    fn rows_intro(&self, filter: &StatusFilter) -> String {
        let mut s = String::from("</div>\n<section id=\"rows\">\n<h2>Rows</h2>\n");
        if !filter.states().is_empty() {
            let _ = writeln!(
                s,
                "<p class=\"note\">Only rows with status {}.</p>",
                esc(&filter
                    .states()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
            );
        }
        s.push_str(table::SHELL);
        s
    }
}

/// Writes the page of `campaign` to `out`, streaming the rows as inline JSON.
pub fn write(
    ledger: &Ledger,
    campaign: &Campaign,
    opts: &HtmlOptions,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    let page = Page::load(ledger, campaign, opts.by.as_deref())?;
    let w = |out: &mut dyn Write, s: &str| -> Result<(), ReportError> {
        out.write_all(s.as_bytes()).map_err(ReportError::Write)
    };
    w(out, &page.head(opts.live.as_ref()))?;
    w(out, &page.sections(opts.live.is_some()))?;
    w(out, &page.rows_intro(&opts.filter))?;
    w(out, "<script type=\"application/json\" id=\"rows-data\">")?;
    write_rows_json(ledger, campaign.id, &opts.filter, out)?;
    w(out, "</script>\n<script>\n")?;
    w(out, TABLE_JS)?;
    if opts.live.is_some() {
        w(out, LIVE_JS)?;
    }
    let foot = format!(
        "</script>\n</section>\n<footer>Made by dialer {} from the ledger. Times are UTC.</footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    w(out, &foot)?;
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
}
