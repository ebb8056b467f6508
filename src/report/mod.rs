//! What users read: the campaign summary (end of `run`, `status`) as a table or JSON.

mod summary;

pub use summary::{CampaignLine, Summary, rfc3339};
