//! One CSV record -> a call request, or the reason it is skipped (SPEC.md, "Fine points":
//! which skip reason wins, empty optional cells, fields that are not API fields).

use std::collections::BTreeMap;

use phonenumber::country::Id;

use super::mapping::Mapping;
use super::number::{NumberError, normalize_with_country};
use super::suppress::SuppressList;
use super::{Field, PlanError, SkipReason};
use crate::api::CallRequest;
use crate::api::types::{META_CAMPAIGN, META_ROW};
use crate::zone::{PrefixZones, RowPlace};

/// A row's contact apart from the number, serialised with the request's field names so a
/// report reads a skipped row's `contact` exactly like a dialed row's request.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prompt_tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// Settings from `dialer run` that shape every request.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub campaign: String,
    pub default_region: Option<Id>,
    /// `--template`: used for rows whose template column is absent or empty.
    pub template: Option<String>,
    pub no_create: bool,
    pub update_existing: bool,
    /// `--meta`, in command-line order (a later one wins for the same key).
    pub meta: Vec<(String, String)>,
}

/// What to do with one row.
#[derive(Debug, Clone, PartialEq)]
// Nearly every row is a call: boxing it would cost an allocation per row to save space
// on the rare skip.
#[allow(clippy::large_enum_variant)]
pub enum Planned {
    Call(PlannedCall),
    /// `detail` is one human sentence; `e164` is the number when it was readable.
    Skip {
        reason: SkipReason,
        detail: String,
        e164: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    pub e164: String,
    pub request: CallRequest,
    /// The row's `timezone` cell as a canonical IANA name, when it has one.
    pub timezone: Option<String>,
    /// The ISO region of the number (`SA`, `US`...), when libphonenumber can tell.
    pub country: Option<String>,
    /// The zones libphonenumber's prefix map gives the number.
    pub number_zones: Option<PrefixZones>,
    /// Secondary numbers to try, in order, when a call is not delivered (see `alt.rs`).
    pub alt_numbers: Vec<String>,
}

impl PlannedCall {
    /// What the zone rules read of this row.
    pub fn place(&self) -> RowPlace<'_> {
        RowPlace {
            column: self.timezone.as_deref(),
            number: self.number_zones,
            country: self.country.as_deref(),
        }
    }
}

/// Turns records into [`Planned`]; built once per run, shared by reference (Send + Sync).
#[derive(Debug)]
pub struct Planner {
    /// Kept for messages and `--dry-run`'s list of columns.
    mapping: Mapping,
    columns: Columns,
    /// `--meta` entries, cloned into each request before the row's own metadata.
    base_meta: BTreeMap<String, String>,
    opts: PlanOptions,
    suppress: SuppressList,
}

/// Column indexes resolved once, so a row costs lookups, not searches.
#[derive(Debug)]
struct Columns {
    number: (usize, String),
    alt_numbers: Vec<usize>,
    first_name: Option<usize>,
    last_name: Option<usize>,
    /// A whole-name column split into first and last name (only when neither has a column).
    full_name: Option<usize>,
    email: Option<usize>,
    contact_uuid: Option<usize>,
    template: Option<usize>,
    timezone: Option<usize>,
    metadata: Vec<(usize, String)>,
    prompt_tags: Vec<(usize, String)>,
}

impl Columns {
    fn new(mapping: &Mapping) -> Columns {
        let mut c = Columns {
            number: (0, String::new()),
            alt_numbers: Vec::new(),
            first_name: None,
            last_name: None,
            full_name: mapping.full_name_column(),
            email: None,
            contact_uuid: None,
            template: None,
            timezone: None,
            metadata: Vec::new(),
            prompt_tags: Vec::new(),
        };
        for (i, (header, field)) in mapping.columns().enumerate() {
            match field {
                Field::NumberToCall => c.number = (i, header.to_owned()),
                Field::AltNumber => c.alt_numbers.push(i),
                Field::FirstName => c.first_name = Some(i),
                Field::LastName => c.last_name = Some(i),
                Field::Email => c.email = Some(i),
                Field::ContactUuid => c.contact_uuid = Some(i),
                Field::AiSettingsTemplateId => c.template = Some(i),
                Field::Timezone => c.timezone = Some(i),
                Field::Metadata(key) => c.metadata.push((i, key.clone())),
                Field::PromptTag(key) => c.prompt_tags.push((i, key.clone())),
                Field::Ignore => {}
            }
        }
        c
    }
}

impl Planner {
    /// Errors if a `--meta` key is one the dialer reserves.
    pub fn new(
        mapping: Mapping,
        opts: PlanOptions,
        suppress: SuppressList,
    ) -> Result<Planner, PlanError> {
        if let Some((key, _)) = opts
            .meta
            .iter()
            .find(|(k, _)| k == META_CAMPAIGN || k == META_ROW)
        {
            return Err(PlanError::ReservedMeta { key: key.clone() });
        }
        debug_assert!(mapping.fields().contains(&Field::NumberToCall));
        let base_meta = opts.meta.iter().cloned().collect();
        Ok(Planner {
            columns: Columns::new(&mapping),
            mapping,
            base_meta,
            opts,
            suppress,
        })
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Every metadata key a request may carry (`--meta`, metadata columns and the dialer's
    /// own two), and every prompt-tag key: what a report's columns are made of.
    pub fn request_keys(&self) -> (Vec<String>, Vec<String>) {
        let mut metadata: Vec<String> = self.base_meta.keys().cloned().collect();
        metadata.extend(self.columns.metadata.iter().map(|(_, k)| k.clone()));
        metadata.extend([META_CAMPAIGN.to_owned(), META_ROW.to_owned()]);
        let tags = self.columns.prompt_tags.iter().map(|(_, k)| k.clone());
        (metadata, tags.collect())
    }

    /// What the row on `line` says about its contact apart from the number: names, e-mail,
    /// prompt tags and metadata, exactly as its request would carry them. A skipped row
    /// keeps this too, so its report names whom it was about.
    pub fn contact(&self, line: u64, fields: &[String]) -> Contact {
        let c = &self.columns;
        let cell = |i: usize| fields.get(i).map(|s| s.trim()).filter(|s| !s.is_empty());
        let text = |i: Option<usize>| i.and_then(cell).map(str::to_owned);
        let pairs = |cols| filled(fields, cols);
        let mut metadata = self.base_meta.clone();
        metadata.extend(pairs(&c.metadata));
        metadata.insert(META_CAMPAIGN.to_owned(), self.opts.campaign.clone());
        metadata.insert(META_ROW.to_owned(), line.to_string());
        let (first_name, last_name) = match c.full_name.and_then(cell) {
            Some(whole) => split_name(whole),
            None => (text(c.first_name), text(c.last_name)),
        };
        Contact {
            first_name,
            last_name,
            email: text(c.email),
            prompt_tags: pairs(&c.prompt_tags).collect(),
            metadata,
        }
    }

    /// The raw `timezone` cell (when the column exists and the cell is not blank) and the
    /// raw number cell of a record: enough to pre-scan a file for rows lacking a zone
    /// without planning each one.
    pub fn zone_cells<'a>(&self, fields: &'a [String]) -> (Option<&'a str>, &'a str) {
        let cell = |i: usize| fields.get(i).map_or("", |s| s.trim());
        let tz = self.columns.timezone.map(cell).filter(|s| !s.is_empty());
        (tz, cell(self.columns.number.0))
    }

    /// `--default-region`, which reads numbers written without `+country`.
    pub fn default_region(&self) -> Option<Id> {
        self.opts.default_region
    }

    /// How many numbers the do-not-call lists hold.
    pub fn suppressed_numbers(&self) -> usize {
        self.suppress.len()
    }

    /// The number a row is dialed on, and the first of its secondary columns still to try.
    /// An invalid main number gives way to the first valid secondary one (SPEC: "or the
    /// number is invalid, the next number is dialed"); an empty one is `missing_number`.
    fn main_number<'c>(
        &self,
        cell: &impl Fn(usize) -> &'c str,
    ) -> Result<(super::number::Normalized, usize), (SkipReason, String)> {
        let c = &self.columns;
        let region = self.opts.default_region;
        let raw = cell(c.number.0);
        let why = match normalize_with_country(raw, region) {
            Ok(found) => return Ok((found, 0)),
            Err(NumberError::Missing) => {
                let column = crate::text::quote(&c.number.1);
                let detail = format!("The phone column {column} is empty.");
                return Err((SkipReason::MissingNumber, detail));
            }
            Err(NumberError::Invalid(why)) => why,
        };
        let promoted = c.alt_numbers.iter().enumerate().find_map(|(k, &i)| {
            let found = normalize_with_country(cell(i), region).ok()?;
            (!self.suppress.contains(&found.e164)).then_some((found, k + 1))
        });
        promoted.ok_or_else(|| {
            let detail = format!("\"{}\" is not a valid phone number: {why}.", shorten(raw));
            (SkipReason::InvalidNumber, detail)
        })
    }

    /// Plans the record that starts on physical `line`; `fields` are its cells in header
    /// order. Row problems are checked in SPEC's order and the first one wins; suppression
    /// comes after them all.
    pub fn plan(&self, line: u64, fields: &[String]) -> Planned {
        let c = &self.columns;
        let cell = |i: usize| fields.get(i).map_or("", |s| s.trim());
        let opt_cell = |i: Option<usize>| i.map(cell).filter(|s| !s.is_empty());

        let (number, first_alt) = match self.main_number(&cell) {
            Ok(found) => found,
            Err((reason, detail)) => return skip(reason, detail, None),
        };
        let (e164, country, number_zones) = (number.e164, number.country, number.zones);

        let contact_uuid = match opt_cell(c.contact_uuid) {
            None => None,
            // The canonical hyphenated form, whatever form (braced, urn:, simple) the cell had.
            Some(raw) => match uuid::Uuid::try_parse(raw) {
                Ok(uuid) => Some(uuid.hyphenated().to_string()),
                Err(_) => {
                    return skip(
                        SkipReason::InvalidContactUuid,
                        format!(
                            "\"{}\" is not a UUID, so it cannot be a contact UUID.",
                            shorten(raw)
                        ),
                        Some(e164),
                    );
                }
            },
        };

        let email = opt_cell(c.email);
        if let Some((raw, why)) = email.and_then(|raw| Some((raw, super::email_problem(raw)?))) {
            return skip(
                SkipReason::InvalidEmail,
                format!("\"{}\" is not an email address: {why}", shorten(raw)),
                Some(e164),
            );
        }

        let timezone = match opt_cell(c.timezone) {
            None => None,
            Some(raw) => match canonical_zone(raw) {
                Some(zone) => Some(zone),
                None => {
                    return skip(
                        SkipReason::InvalidTimezone,
                        format!(
                            "\"{}\" is not an IANA time zone (e.g. Asia/Riyadh).",
                            shorten(raw)
                        ),
                        Some(e164),
                    );
                }
            },
        };

        if self.suppress.contains(&e164) {
            return skip(
                SkipReason::Suppressed,
                format!("{e164} is on a do-not-call list."),
                Some(e164),
            );
        }

        let Contact {
            first_name,
            last_name,
            email,
            prompt_tags,
            metadata,
        } = self.contact(line, fields);
        let request = CallRequest {
            number_to_call: e164.clone(),
            first_name,
            last_name,
            email,
            contact_uuid,
            create_if_not_exists: self.opts.no_create.then_some(false),
            update_existing: self.opts.update_existing.then_some(true),
            ai_settings_template_id: opt_cell(c.template)
                .map(str::to_owned)
                .or_else(|| self.opts.template.clone()),
            prompt_tags,
            metadata,
        };
        let alts = c.alt_numbers[first_alt..].iter().map(|&i| cell(i));
        let alt_numbers =
            super::alt::alt_numbers(alts, self.opts.default_region, &e164, &self.suppress);
        Planned::Call(PlannedCall {
            e164,
            request,
            timezone,
            country: country.map(|id| id.as_ref().to_owned()),
            number_zones,
            alt_numbers,
        })
    }
}

/// "Sara Al Harbi" -> ("Sara", "Al Harbi"): the first word is what an agent greets a
/// contact by, and everything after it stays together as the family name. One word is a
/// first name only.
fn split_name(whole: &str) -> (Option<String>, Option<String>) {
    match whole.split_once(char::is_whitespace) {
        Some((first, rest)) => (Some(first.to_owned()), Some(rest.trim().to_owned())),
        None => (Some(whole.to_owned()), None),
    }
}

/// The `(key, cell)` pairs of `cols` whose cells are not empty, trimmed.
fn filled<'a>(
    fields: &'a [String],
    cols: &'a [(usize, String)],
) -> impl Iterator<Item = (String, String)> + 'a {
    cols.iter().filter_map(|(i, key)| {
        let value = fields.get(*i).map(|s| s.trim()).filter(|s| !s.is_empty())?;
        Some((key.clone(), value.to_owned()))
    })
}

fn skip(reason: SkipReason, detail: String, e164: Option<String>) -> Planned {
    Planned::Skip {
        reason,
        detail,
        e164,
    }
}

/// A cell quoted in a detail sentence: control characters escaped (the sentence reaches
/// terminals), and cut so that a pasted paragraph stays one sentence.
fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    let s = crate::text::escape_controls(s);
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.into_owned(),
    }
}

/// The canonical IANA name of `raw` (matched without regard to ASCII case), if jiff's bundled
/// database knows it. `Etc/Unknown` is jiff's placeholder, not a zone anyone lives in.
fn canonical_zone(raw: &str) -> Option<String> {
    let tz = jiff::tz::db().get(raw).ok()?;
    let name = tz.iana_name()?;
    (!name.eq_ignore_ascii_case("Etc/Unknown")).then(|| name.to_owned())
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
