//! The command line: every subcommand and flag of SPEC.md, with value parsers. Behaviour
//! lives in the library; this file only describes and parses.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::dispatch::Rate;
use crate::ledger::RowState;
use crate::plan::{Field, parse_map_arg, parse_meta_arg};
use crate::sandbox::SandboxConfig;
use crate::zone::{DayWindow, Schedule};

mod day;
mod examples;
mod parse;
mod unused;

pub use day::{ControlArgs, DayArgs, RedialWhat};
pub use parse::*;

use examples::*;

pub const DEFAULT_API_URL: &str = "https://api.dev.uselevers.com";
pub const DEFAULT_LEDGER: &str = "dialer.db";

#[derive(Debug, Parser)]
#[command(
    name = "dialer",
    version,
    about = "Run outbound AI phone-call campaigns from a CSV file against the Levers API.",
    long_about = "Run outbound AI phone-call campaigns from a CSV file against the Levers API.\n\n\
        Every row, attempt and outcome is written to a SQLite ledger, so an interrupted run \
        resumes where it stopped and no contact is called twice by accident. The global \
        options below may come before or after the command name.",
    after_help = EXAMPLES_TOP,
    propagate_version = true
)]
pub struct Cli {
    /// The SQLite ledger file [default: ./dialer.db; `demo` uses a temporary one].
    #[arg(
        long,
        value_name = "PATH",
        env = "DIALER_LEDGER",
        global = true,
        help_heading = "Global options"
    )]
    pub ledger: Option<PathBuf>,
    /// More logging (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Global options")]
    pub verbose: u8,
    /// Less logging (-q, -qq).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Global options")]
    pub quiet: u8,
    /// Log lines as text or as one JSON object a line (for log collectors).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, help_heading = "Global options")]
    pub log_format: LogFormat,
    /// No progress bar; a log line every 10 s instead (commands that dial).
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_progress: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn ledger_path(&self) -> PathBuf {
        self.ledger
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a campaign from a CSV (or continue the same one).
    #[command(after_help = EXAMPLES_RUN)]
    Run(RunArgs),
    /// Continue an interrupted campaign from the ledger (no CSV needed).
    #[command(after_help = EXAMPLES_RESUME)]
    Resume(ResumeArgs),
    /// Ask the process dialing a campaign to stop starting calls (from any terminal).
    #[command(after_help = EXAMPLES_PAUSE, arg(unused::no_progress()))]
    Pause(ControlArgs),
    /// Stop a campaign for good: rows not yet dialed become `cancelled`.
    #[command(after_help = EXAMPLES_CANCEL, arg(unused::no_progress()))]
    Cancel(ControlArgs),
    /// Put failed (or uncertain) rows back in the queue and dial them.
    #[command(after_help = EXAMPLES_RETRY)]
    Retry(RetryArgs),
    /// One campaign's counts, or every campaign when none is named.
    #[command(after_help = EXAMPLES_STATUS, arg(unused::no_progress()))]
    Status(StatusArgs),
    /// Receive Levers `phone_call.ended` webhooks into the ledger.
    #[command(after_help = EXAMPLES_WEBHOOK, arg(unused::no_progress()))]
    Webhook(WebhookArgs),
    /// Serve a live, read-only view of the ledger in the browser.
    #[command(after_help = EXAMPLES_DASHBOARD, arg(unused::no_progress()))]
    Dashboard(DashboardArgs),
    /// Export a campaign's rows: csv, jsonl, json or a self-contained html page.
    #[command(after_help = EXAMPLES_REPORT, arg(unused::no_progress()))]
    Report(ReportArgs),
    /// A local stand-in for the Levers API (demos and tests).
    #[command(
        after_help = EXAMPLES_SANDBOX,
        arg(unused::ledger()),
        arg(unused::no_progress())
    )]
    Sandbox(SandboxArgs),
    /// Sandbox + a run of samples/contacts.csv, in one process.
    #[command(after_help = EXAMPLES_DEMO)]
    Demo(DemoArgs),
    /// Shell completions (bash, zsh, fish, powershell, elvish) on stdout.
    #[command(after_help = EXAMPLES_COMPLETIONS, args(unused::all()))]
    Completions(CompletionsArgs),
    /// The roff man page on stdout (or one page per command into a directory).
    #[command(after_help = EXAMPLES_MANPAGE, args(unused::all()))]
    Manpage(ManpageArgs),
}

/// Flags that shape how rows are dialed: shared by run (and later resume/retry).
#[derive(Debug, Clone, Args)]
pub struct DialArgs {
    /// Calls started per unit of time: 5/s, 300/m, 1000/h, a bare number (per second) or unlimited.
    #[arg(long, default_value = "1/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Calls that may start at once beyond the steady rate.
    #[arg(long, default_value = "1")]
    pub burst: NonZeroU32,
    /// Most requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Attempts per row for retryable failures.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Also retry rows whose outcome is uncertain (a retry may place a second real call).
    #[arg(long)]
    pub retry_uncertain: bool,
    /// Per-request timeout (e.g. 30s, 1500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Dial at most N rows in this invocation (the rest stay pending).
    #[arg(long)]
    pub limit: Option<u64>,
    /// The Levers API base URL (plain http only for loopback).
    #[arg(long, env = "LEVERS_API_URL", default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// Read the bearer token from this file instead of LEVERS_API_TOKEN.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The contacts CSV.
    pub csv: PathBuf,
    /// The campaign's name in the ledger [default: the CSV's file stem].
    #[arg(long)]
    pub campaign: Option<String>,
    /// aiSettingsTemplateId (a UUID) for every row; a template column overrides it per row.
    #[arg(long, value_name = "UUID", value_parser = parse_template)]
    pub template: Option<String>,
    /// Send createIfNotExists:false (only existing contacts are called).
    #[arg(long)]
    pub no_create: bool,
    /// Send updateExisting:true.
    #[arg(long)]
    pub update_existing: bool,
    /// Static metadata KEY=VALUE added to every call (repeatable).
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta_arg)]
    pub meta: Vec<(String, String)>,
    /// COLUMN=FIELD: numberToCall, firstName, lastName, email, contactUuid,
    /// aiSettingsTemplateId, timezone, metadata.KEY, promptTags.KEY or ignore (repeatable).
    /// A `name`/`full_name` column, when no first/last name column exists, is split at its
    /// first space into firstName and lastName.
    #[arg(long = "map", value_name = "COLUMN=FIELD", value_parser = parse_map_arg)]
    pub map: Vec<(String, Field)>,
    /// ISO country used to read numbers written without +country (e.g. SA, US, GB).
    #[arg(long)]
    pub default_region: Option<String>,
    /// A do-not-call list: CSV or one number a line (repeatable).
    #[arg(long)]
    pub suppress: Vec<PathBuf>,
    /// The CSV's encoding when it is not UTF-8/UTF-16 with a BOM (e.g. windows-1252).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Force the delimiter instead of sniffing it: , ; | or tab (\t).
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// The sheet of a workbook (.xlsx/.xls/.ods) to read, by name or position (1 = first)
    /// [default: the first sheet with data].
    #[arg(long, value_name = "NAME|N")]
    pub sheet: Option<String>,
    /// Calling hours in each contact's local time: [DAYS ]HH:MM-HH:MM, e.g. 09:00-18:00 or
    /// "mon-fri 09:00-20:00" (repeatable; may cross midnight).
    #[arg(long, value_name = "[DAYS ]HH:MM-HH:MM", value_parser = parse_window)]
    pub window: Vec<DayWindow>,
    /// A local date on which nobody is called, e.g. 2026-12-25 (repeatable).
    #[arg(long, value_name = "DATE", value_parser = parse_skip_date)]
    pub skip_date: Vec<jiff::civil::Date>,
    /// A file of dates on which nobody is called: one a line, `#` comments (repeatable).
    #[arg(long, value_name = "FILE", value_parser = parse_holidays_file)]
    pub holidays: Vec<HolidayDates>,
    /// IANA zone for contacts whose zone the dialer cannot tell [default: system zone].
    #[arg(long, value_parser = parse_tz)]
    pub tz: Option<String>,
    /// No call starts before this RFC 3339 time (e.g. 2026-11-25T09:00:00+03:00).
    #[arg(long, value_parser = parse_start_at)]
    pub start_at: Option<jiff::Timestamp>,
    /// Read, map, validate, deduplicate and suppress everything; send and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dial: DialArgs,
    #[command(flatten)]
    pub day: Box<DayArgs>,
}

/// Settings a campaign keeps from its start that `resume`/`retry` may change.
#[derive(Debug, Clone, Default, Args)]
pub struct OverrideArgs {
    /// Change the call rate: 5/s, 300/m, 1000/h, a bare number (per second) or unlimited.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Change how many calls may start at once beyond the steady rate.
    #[arg(long)]
    pub burst: Option<NonZeroU32>,
    /// Change the most requests in flight at once (1-4096).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,
    /// Change the attempts per row for retryable failures (1-100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: Option<u32>,
    /// Also retry rows whose outcome is uncertain (a retry may place a second real call).
    #[arg(long)]
    pub retry_uncertain: bool,
    /// Change the per-request timeout (e.g. 30s, 1500ms).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Dial at most N rows in this invocation.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Point the campaign at another API host.
    #[arg(long, env = "LEVERS_API_URL")]
    pub api_url: Option<String>,
    /// Read the bearer token from this file instead of LEVERS_API_TOKEN.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Change the calling hours ([DAYS ]HH:MM-HH:MM, repeatable); skipped dates are kept.
    #[arg(long, value_name = "[DAYS ]HH:MM-HH:MM", value_parser = parse_window)]
    pub window: Vec<DayWindow>,
    /// Move the campaign's deadline: rows not dialed by this RFC 3339 time become expired.
    #[arg(long, value_parser = parse_start_at, conflicts_with = "expire_after")]
    pub expire_at: Option<jiff::Timestamp>,
    /// Move the deadline to this long from now (e.g. 2h).
    #[arg(long, value_parser = parse_duration)]
    pub expire_after: Option<Duration>,
    #[command(flatten)]
    pub request: RequestArgs,
}

/// The request-shaping flags `resume`/`retry` take for the rows they dial (rebuilt from
/// the campaign's file, which must still be there unchanged).
#[derive(Debug, Clone, Default, Args)]
pub struct RequestArgs {
    /// Use this aiSettingsTemplateId (a UUID) for the rows dialed from now on.
    #[arg(long, value_name = "UUID", value_parser = parse_template)]
    pub template: Option<String>,
    /// Add static metadata KEY=VALUE to the rows dialed from now on (repeatable).
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta_arg)]
    pub meta: Vec<(String, String)>,
    /// Send createIfNotExists:false from now on.
    #[arg(long)]
    pub no_create: bool,
    /// Send updateExisting:true from now on.
    #[arg(long)]
    pub update_existing: bool,
}

/// The dates of one `--holidays` file, read when the command line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDates(pub Vec<jiff::civil::Date>);

impl RunArgs {
    /// `--window`, `--skip-date` and `--holidays` as one schedule; `None` without a window.
    pub fn schedule(&self) -> Option<Schedule> {
        let holidays = self.holidays.iter().flat_map(|h| h.0.iter().copied());
        Schedule::new(
            self.window.clone(),
            self.skip_date.iter().copied().chain(holidays),
        )
    }
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The campaign; the only unfinished one when omitted.
    pub campaign: Option<String>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RetryArgs {
    /// The campaign whose rows to dial again.
    pub campaign: String,
    /// Row states to put back in the queue: failed, uncertain, expired, cancelled
    /// (comma-separated) [default: failed, unless --outcome is given]; `skipped` plans the
    /// skipped rows again with the current settings and dials those now dialable.
    #[arg(long, value_delimiter = ',', value_parser = parse_row_state)]
    pub status: Option<Vec<RowState>>,
    /// Also re-dial rows whose call ended this way (from webhooks).
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeFilter>,
    /// With --outcome: only calls at least this old (e.g. 2h), so a contact is not rung
    /// right back.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub min_age: Duration,
    /// With --outcome: calls a contact may get in total, across every retry.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_calls: u32,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

impl RetryArgs {
    /// The states to requeue: as given, else `failed` unless only an outcome was asked for.
    pub fn states(&self) -> Vec<RowState> {
        match (&self.status, self.outcome) {
            (Some(s), _) => s.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => vec![RowState::Failed],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeFilter {
    /// The call went out but `deliveryStatus` was `fail`.
    Undelivered,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The campaign; every campaign when omitted.
    pub campaign: Option<String>,
    /// JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show one row (by its CSV line) with its attempt history.
    #[arg(long, requires = "campaign")]
    pub row: Option<u64>,
    /// Count placed calls with no webhook outcome after this long as awaiting_outcome.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub awaiting_after: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Address to listen on; keep it on loopback behind a TLS proxy (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
    /// The URL path Levers posts to.
    #[arg(long, default_value = crate::webhook::DEFAULT_PATH)]
    pub path: String,
    /// Read the endpoint's signing secret (whsec_...) from this file instead of
    /// LEVERS_WEBHOOK_SECRET.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Also serve the live dashboard on this address (loopback unless
    /// DIALER_DASHBOARD_TOKEN is set).
    #[arg(long, value_name = "ADDR")]
    pub dashboard: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct DashboardArgs {
    /// Address to serve on; any non-loopback address needs DIALER_DASHBOARD_TOKEN (port 0
    /// picks a free one).
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The campaign to export.
    pub campaign: String,
    /// csv, jsonl, json, html or xlsx (needs --out) [default: from --out's extension, else csv].
    #[arg(long, value_enum)]
    pub format: Option<crate::report::Format>,
    /// Write to this file instead of stdout (an existing file is kept unless --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Only rows in these states (comma-separated), e.g. failed,uncertain.
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Add the call transcript as a CSV column (jsonl and json always carry it).
    #[arg(long)]
    pub with_transcript: bool,
    /// Break the HTML report's results down by this metadata column (or `tag:KEY`)
    /// [default: the first metadata column].
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8788")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub config: SandboxConfig,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The contacts file to run [default: samples/contacts.csv].
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Calls per second in the demo.
    #[arg(long, default_value = "25/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Also write the run's HTML report to this file (replaced if it exists).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManpageArgs {
    /// Write dialer.1 and one dialer-COMMAND.1 page per command into this directory
    /// instead of the single page on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
