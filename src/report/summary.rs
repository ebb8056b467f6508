//! The summary of one campaign, built from the ledger: counts per state and per skip or
//! failure reason, request rate, elapsed time and latency percentiles.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::ledger::{Campaign, Counts, LatencyStats, Ledger, LedgerError, OutcomeStats, RowState};

/// The row states in the order a reader expects them.
pub const STATES: [RowState; 9] = [
    RowState::Succeeded,
    RowState::Failed,
    RowState::Uncertain,
    RowState::Skipped,
    RowState::Pending,
    RowState::RetryWait,
    RowState::InFlight,
    RowState::Expired,
    RowState::Cancelled,
];

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub campaign: String,
    pub created_at: String,
    pub counts: Counts,
    pub latency: LatencyStats,
    /// Seconds from the first request to the last.
    pub elapsed_s: Option<f64>,
    /// Requests per second over that span.
    pub achieved_rate_per_s: Option<f64>,
    /// Share of rows in a final state (succeeded, failed, uncertain, skipped), in percent.
    pub done_pct: f64,
    /// What the webhooks said about the calls; `None` until one arrived.
    pub outcomes: Option<OutcomeStats>,
    /// Placed calls with no webhook outcome after the wait `load_with` was given.
    pub awaiting_outcome: u64,
    /// Rows not skipped, by what decided their calling zone (`column`, `number`...).
    pub zone_sources: std::collections::BTreeMap<String, u64>,
    /// The results funnel: what a reader of the report looks at first.
    pub funnel: Funnel,
    /// A pause or cancel that holds the campaign now, and who asked.
    pub control: Option<Control>,
}

/// `paused` / `cancelled`, by `user@host`, at an RFC 3339 time. `acted` is false while no
/// dispatcher has seen the request yet (it is seen within a second by a running one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub state: &'static str,
    pub by: String,
    pub at: String,
    pub acted: bool,
}

impl Control {
    fn of(req: crate::ledger::ControlRequest) -> Control {
        Control {
            state: match req.action {
                crate::ledger::ControlAction::Pause => "paused",
                crate::ledger::ControlAction::Cancel => "cancelled",
            },
            by: req.requested_by,
            at: rfc3339(req.requested_at),
            acted: req.handled_at.is_some(),
        }
    }
}

/// Rows -> dialed -> placed -> reached, and the talk time of the calls that got through.
/// Each step counts rows, so every step is at most the one before it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Funnel {
    pub rows: u64,
    /// Rows with at least one request sent.
    pub dialed: u64,
    /// Rows whose call the API accepted (state `succeeded`).
    pub placed: u64,
    /// Rows whose call got through (webhook `deliveryStatus` pass).
    pub reached: u64,
    /// Minutes of talk over the reached calls.
    pub talk_minutes: f64,
}

/// Unix milliseconds as RFC 3339 UTC, always with three fraction digits, so times line up
/// and sort as text.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_default()
}

/// How long a placed call may go without its webhook before it counts as awaiting_outcome.
pub const AWAITING_AFTER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Summary {
    pub fn load(ledger: &Ledger, campaign: &Campaign) -> Result<Summary, LedgerError> {
        Summary::load_with(ledger, campaign, AWAITING_AFTER)
    }

    /// The same, counting as `awaiting_outcome` the calls placed more than `awaiting_after`
    /// ago that have no webhook outcome yet (a lost webhook becomes visible).
    pub fn load_with(
        ledger: &Ledger,
        campaign: &Campaign,
        awaiting_after: std::time::Duration,
    ) -> Result<Summary, LedgerError> {
        let counts = ledger.counts(campaign.id)?;
        let latency = ledger.latency(campaign.id)?;
        let elapsed_s = match (latency.first_attempt_at, latency.last_attempt_at) {
            (Some(a), Some(b)) => Some((b - a) as f64 / 1000.0),
            _ => None,
        };
        let achieved_rate_per_s = elapsed_s
            .filter(|s| *s > 0.0)
            .map(|s| latency.requests.saturating_sub(1) as f64 / s);
        let done = counts.total - counts.open();
        let done_pct = if counts.total == 0 {
            0.0
        } else {
            100.0 * done as f64 / counts.total as f64
        };
        let outcomes = Some(ledger.outcome_stats(campaign.id)?).filter(|o| o.received > 0);
        let awaiting_outcome =
            ledger.count_awaiting_outcome(campaign.id, awaiting_after.as_millis() as i64)?;
        let more = ledger.funnel_counts(campaign.id)?;
        let funnel = Funnel {
            rows: counts.total,
            dialed: more.dialed,
            placed: counts.state(crate::ledger::RowState::Succeeded),
            reached: outcomes.as_ref().map_or(0, |o| o.delivered()),
            talk_minutes: more.talk_s as f64 / 60.0,
        };
        Ok(Summary {
            campaign: campaign.name.clone(),
            created_at: rfc3339(campaign.created_at),
            counts,
            latency,
            elapsed_s,
            achieved_rate_per_s,
            done_pct,
            outcomes,
            awaiting_outcome,
            zone_sources: ledger.zone_sources(campaign.id)?,
            funnel,
            control: ledger.standing_control(campaign.id)?.map(Control::of),
        })
    }

    /// The figures of the summary in display order: what `status` prints as a table and the
    /// xlsx report's summary sheet holds, from one list so the two never disagree.
    pub fn figures(&self) -> Vec<(String, Figure)> {
        let mut f: Vec<(String, Figure)> = Vec::new();
        if let Some(c) = &self.control {
            let by = crate::text::escape_controls(&c.by);
            f.push((
                c.state.to_string(),
                Figure::Text(format!("by {by} at {}", c.at)),
            ));
        }
        let mut count = |label: String, n: u64| f.push((label, Figure::Count(n)));
        for state in STATES {
            let n = self.counts.state(state);
            if n > 0
                || matches!(
                    state,
                    RowState::Succeeded | RowState::Failed | RowState::Skipped
                )
            {
                count(state.to_string(), n);
            }
            let reasons = match state {
                RowState::Skipped => &self.counts.skipped,
                RowState::Failed => &self.counts.failed,
                _ => continue,
            };
            for (reason, n) in reasons {
                count(format!("  {reason}"), *n);
            }
        }
        count("total".into(), self.counts.total);
        count("requests sent".into(), self.latency.requests);
        let mut text = |label: &str, t: String| f.push((label.to_string(), Figure::Text(t)));
        if let Some(s) = self.elapsed_s {
            text("elapsed", format!("{s:.1} s"));
        }
        if let Some(r) = self.achieved_rate_per_s {
            text("achieved rate", format!("{r:.2} /s"));
        }
        if let (Some(p50), Some(p95), Some(p99)) = (
            self.latency.p50_ms,
            self.latency.p95_ms,
            self.latency.p99_ms,
        ) {
            text(
                "latency p50 / p95 / p99",
                format!("{p50} / {p95} / {p99} ms"),
            );
        }
        text("done", format!("{:.1} %", self.done_pct));
        if let Some(o) = &self.outcomes {
            outcome_figures(&mut f, o);
        }
        if !self.zone_sources.is_empty() {
            f.push(("zone from".into(), Figure::None));
            for (source, n) in &self.zone_sources {
                f.push((format!("  {source}"), Figure::Count(*n)));
            }
        }
        if self.awaiting_outcome > 0 {
            f.push((
                "awaiting_outcome (no webhook yet)".into(),
                Figure::Count(self.awaiting_outcome),
            ));
        }
        f
    }

    /// The summary as an aligned table for a terminal.
    pub fn table(&self) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            Cell::new(format!("campaign {}", self.campaign)),
            Cell::new("rows"),
        ]);
        for (label, figure) in self.figures() {
            let value = match figure {
                Figure::Count(n) => Cell::new(n),
                Figure::Text(s) => Cell::new(s),
                Figure::None => Cell::new(""),
            };
            t.add_row(vec![
                Cell::new(label),
                value.set_alignment(CellAlignment::Right),
            ]);
        }
        t.to_string()
    }
}

/// One figure of the summary.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    /// A number of rows, requests or outcomes.
    Count(u64),
    /// A figure with its unit, as shown (`12.5 s`, `98.0 %`).
    Text(String),
    /// A heading with no value of its own.
    None,
}

/// The webhook part of the summary.
fn outcome_figures(f: &mut Vec<(String, Figure)>, o: &OutcomeStats) {
    f.push(("call outcomes received".into(), Figure::Count(o.received)));
    f.push(("  delivered".into(), Figure::Count(o.delivered())));
    f.push(("  not delivered".into(), Figure::Count(o.not_delivered())));
    if let Some(d) = o.mean_duration_s {
        f.push((
            "mean call duration".into(),
            Figure::Text(format!("{d:.1} s")),
        ));
    }
    for (title, counts) in [("call output", &o.call_output), ("sentiment", &o.sentiment)] {
        f.push((title.into(), Figure::None));
        for (label, n) in counts {
            f.push((format!("  {label}"), Figure::Count(*n)));
        }
    }
}

/// One line per campaign for `status` with no name.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignLine {
    pub campaign: String,
    pub created_at: String,
    pub counts: Counts,
    pub done_pct: f64,
    /// A pause or cancel that holds the campaign now: the list must not look like a
    /// campaign merely left unfinished.
    pub control: Option<Control>,
}

impl CampaignLine {
    pub fn of(s: Summary) -> CampaignLine {
        CampaignLine {
            campaign: s.campaign,
            created_at: s.created_at,
            counts: s.counts,
            done_pct: s.done_pct,
            control: s.control,
        }
    }

    pub fn table(lines: &[CampaignLine]) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        let mut header = vec!["campaign", "created"];
        header.extend(STATES.iter().take(5).map(|s| s.as_str()));
        header.extend(["total", "done", "held"]);
        t.set_header(header);
        for l in lines {
            let mut row = vec![Cell::new(&l.campaign), Cell::new(&l.created_at)];
            for s in STATES.iter().take(5) {
                row.push(Cell::new(l.counts.state(*s)).set_alignment(CellAlignment::Right));
            }
            row.push(Cell::new(l.counts.total).set_alignment(CellAlignment::Right));
            row.push(Cell::new(format!("{:.1} %", l.done_pct)).set_alignment(CellAlignment::Right));
            row.push(Cell::new(l.control.as_ref().map_or("", |c| c.state)));
            t.add_row(row);
        }
        t.to_string()
    }
}
