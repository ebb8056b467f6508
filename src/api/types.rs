//! The request body of `POST /api-service/v1/ai/phone-calls/action/call`, as documented.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One call request. Optional fields that are `None` (or empty maps) are left out of the
/// JSON entirely: the API must never see `""` or `null` for a cell the user left empty.
/// Maps are `BTreeMap`s so the same row always serialises to the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    pub number_to_call: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub contact_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub create_if_not_exists: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub update_existing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ai_settings_template_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub prompt_tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub metadata: BTreeMap<String, String>,
}

/// Metadata keys the dialer owns; a user column or `--meta` with either name is refused.
pub const META_CAMPAIGN: &str = "dialer_campaign";
pub const META_ROW: &str = "dialer_row";
