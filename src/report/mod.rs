//! What users read: the campaign summary (end of `run`, `status`) as a table or JSON, and
//! the `dialer report` exports (csv, jsonl, json, html, xlsx).

pub mod csv;
pub mod export;
pub mod html;
pub mod record;
mod summary;
mod xlsx;

pub use export::{Format, ReportError, ReportOptions, write_report, write_report_file};
pub use record::{Record, StatusFilter};
pub use summary::{CampaignLine, Figure, Summary, rfc3339};
