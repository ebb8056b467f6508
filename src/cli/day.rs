//! The flags of a campaign that runs over a day (redials, the daily cap, expiry) and of
//! `dialer pause` / `dialer cancel`.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{parse_duration, parse_start_at};

#[derive(Debug, Clone, Args)]
pub struct DayArgs {
    /// Re-dial, within this run, rows whose call was placed but not delivered (webhook
    /// deliveryStatus fail), after --redial-after, up to --max-calls calls per row.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub redial: Option<RedialWhat>,
    /// With --redial: how long after an undelivered call it is dialed again.
    #[arg(long, default_value = "2h", value_parser = parse_duration, requires = "redial")]
    pub redial_after: Duration,
    /// With --redial: calls a row may get in all, the first one included (1-20).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20), requires = "redial")]
    pub max_calls: u32,
    /// How long the run waits for a placed call's outcome before it stops waiting for it.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub outcome_timeout: Duration,
    /// No number is called more than N times in any 24 hours, across every campaign in the
    /// ledger (some laws set 3).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_calls_per_day: u32,
    /// Rows not dialed by this RFC 3339 time become `expired`; retries and redials stop then.
    #[arg(long, value_parser = parse_start_at, conflicts_with = "expire_after")]
    pub expire_at: Option<jiff::Timestamp>,
    /// The same, as a duration from the campaign's first start (e.g. 8h).
    #[arg(long, value_parser = parse_duration)]
    pub expire_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedialWhat {
    /// Calls that were placed but did not get through.
    Undelivered,
}

/// `dialer pause NAME` / `dialer cancel NAME`.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    /// The campaign.
    pub campaign: String,
}
