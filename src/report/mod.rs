//! What users read: the campaign summary (end of `run`, `status`) as a table or JSON, and
//! the `dialer report` exports (csv, jsonl, json, html).

pub mod csv;
pub mod export;
pub mod html;
pub mod record;
mod summary;

pub use export::{Format, ReportError, ReportOptions, write_report, write_report_file};
pub use record::{Record, StatusFilter};
pub use summary::{CampaignLine, Summary, rfc3339};
