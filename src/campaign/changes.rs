//! What changed between the settings a campaign holds and the ones a later `run` (or a
//! `resume`/`retry` with request flags) brings, and what each change does to its rows
//! (SPEC.md, "Changing a campaign"). The comparison reads the settings' stored JSON, so a
//! setting added later is compared (and classed as [`Kind::Dialing`]) without code here.

use serde_json::Value;

use super::{CampaignError, Settings};

/// What a setting shapes, and so which rows a change of it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request body of rows not yet sent: `--template`, `--meta`, the create/update flags.
    Request,
    /// Which rows are dialed at all, and in which zone: they are re-planned.
    Planning,
    /// How this run dials (rate, concurrency, timeouts...): the rows left to dial.
    Dialing,
}

const REQUEST: [&str; 4] = ["template", "meta", "no_create", "update_existing"];
const PLANNING: [&str; 8] = [
    "map",
    "default_region",
    "suppress",
    "window",
    "tz",
    "encoding",
    "delimiter",
    "sheet",
];

impl Kind {
    fn of(key: &str) -> Kind {
        if REQUEST.contains(&key) {
            Kind::Request
        } else if PLANNING.contains(&key) {
            Kind::Planning
        } else {
            Kind::Dialing
        }
    }
}

/// One changed setting, with both values as a user would write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub was: String,
    pub now: String,
    pub kind: Kind,
}

fn as_object(s: &Settings) -> serde_json::Map<String, Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// Every setting whose value differs, in the order the settings are stored.
pub fn diff(old: &Settings, new: &Settings) -> Vec<Change> {
    let (old, new) = (as_object(old), as_object(new));
    new.iter()
        .filter(|(key, value)| old.get(*key).unwrap_or(&Value::Null) != *value)
        .map(|(key, value)| Change {
            key: key.clone(),
            was: shown(old.get(key).unwrap_or(&Value::Null)),
            now: shown(value),
            kind: Kind::of(key),
        })
        .collect()
}

/// The do-not-call lists are the same files, edited since the rows were last planned.
pub fn lists_edited(settings: &Settings) -> Change {
    let paths: Vec<String> = settings
        .suppress
        .iter()
        .map(|p| crate::text::cell(&p.display().to_string()))
        .collect();
    let paths = paths.join(", ");
    Change {
        key: "suppress".into(),
        now: format!("{paths} (edited since the rows were last planned)"),
        was: paths,
        kind: Kind::Planning,
    }
}

/// `old` with the settings of the given kind taken from `new`: what `resume`/`retry` keep
/// of the flags they were given (the request's; their other overrides last one run).
pub fn adopt(
    old: &Settings,
    new: &Settings,
    kind: Kind,
    campaign: &str,
) -> Result<Settings, CampaignError> {
    adopt_where(old, new, |key| Kind::of(key) == kind, campaign)
}

/// `old` with the settings whose key `take` accepts taken from `new`.
pub fn adopt_where(
    old: &Settings,
    new: &Settings,
    take: impl Fn(&str) -> bool,
    campaign: &str,
) -> Result<Settings, CampaignError> {
    let mut merged = as_object(old);
    for (key, value) in as_object(new) {
        if take(&key) {
            merged.insert(key, value);
        }
    }
    Settings::from_json(&Value::Object(merged).to_string(), campaign)
}

/// A stored value as a user would write it: `none`, `SA`, `a=b, c=d`.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => crate::text::cell(s),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(pair) => pair.iter().map(shown).collect::<Vec<_>>().join("="),
                other => shown(other),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => crate::text::cell(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Settings {
        Settings::from_json(
            r#"{"api_url":"http://127.0.0.1:1","template":null,"no_create":false,
                "update_existing":false,"meta":[],"map":[],"default_region":null,
                "suppress":[],"encoding":null,"delimiter":null,"rate":"1/s","burst":1,
                "concurrency":8,"max_attempts":3,"retry_uncertain":false,"timeout_ms":30000}"#,
            "c",
        )
        .unwrap()
    }

    #[test]
    fn each_changed_setting_is_named_with_its_kind_and_both_values() {
        let old = base();
        let mut new = base();
        new.default_region = Some("SA".into());
        new.template = Some("2222".into());
        new.meta = vec![("team".into(), "b".into())];
        new.concurrency = 4;
        let changes = diff(&old, &new);
        let find = |k: &str| changes.iter().find(|c| c.key == k).unwrap().clone();
        assert_eq!(changes.len(), 4, "{changes:?}");
        assert_eq!(
            find("default_region"),
            Change {
                key: "default_region".into(),
                was: "none".into(),
                now: "SA".into(),
                kind: Kind::Planning
            }
        );
        assert_eq!(find("template").kind, Kind::Request);
        assert_eq!(find("meta").now, "team=b");
        assert_eq!(find("concurrency").kind, Kind::Dialing);
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn adopt_takes_only_the_settings_of_one_kind() {
        let old = base();
        let mut new = base();
        new.template = Some("2222".into());
        new.concurrency = 1;
        let kept = adopt(&old, &new, Kind::Request, "c").unwrap();
        assert_eq!(kept.template.as_deref(), Some("2222"));
        assert_eq!(kept.concurrency, 8);
    }
}
