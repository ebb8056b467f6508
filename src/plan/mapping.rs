//! Header auto-mapping (SPEC.md, "Reading the CSV") and `--map` overrides: which column
//! feeds which request field.

use super::field::{Field, fold};
use super::{PlanError, quote_list};
use crate::api::types::{META_CAMPAIGN, META_ROW};

/// One [`Field`] per header column, in header order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    headers: Vec<String>,
    fields: Vec<Field>,
    /// The auto-mapped `name`/`full_name` column that also fills firstName and lastName,
    /// because the file has no column for either (see [`Mapping::full_name_column`]).
    full_name: Option<usize>,
}

/// Headers (folded) that hold a contact's whole name in one cell.
const FULL_NAME_HEADERS: [&str; 4] = ["name", "fullname", "contactname", "customername"];

/// The field a header maps to without `--map`. Headers are compared case-, space-, `_`- and
/// `-`-insensitively; `tag:KEY` is a prompt tag; anything else is metadata under the header
/// as written (trimmed). A blank header has no name to file its values under, so it is
/// ignored rather than sent as metadata key `""`.
pub fn auto_field(header: &str) -> Field {
    let header = header.trim();
    if header.is_empty() {
        return Field::Ignore;
    }
    if let Some(prefix) = header.get(..4)
        && prefix.eq_ignore_ascii_case("tag:")
    {
        let key = header[4..].trim();
        if !key.is_empty() {
            return Field::PromptTag(key.to_owned());
        }
    }
    match fold(header).as_str() {
        "phone" | "phonenumber" | "number" | "mobile" | "msisdn" | "tel" | "numbertocall" => {
            Field::NumberToCall
        }
        "phone2" | "altphone" | "alternatephone" | "secondaryphone" | "mobile2" | "homephone"
        | "workphone" => Field::AltNumber,
        "firstname" | "givenname" => Field::FirstName,
        "lastname" | "surname" | "familyname" => Field::LastName,
        "email" => Field::Email,
        "contactuuid" | "contactid" => Field::ContactUuid,
        "template" | "templateid" | "aisettingstemplateid" => Field::AiSettingsTemplateId,
        "timezone" | "tz" => Field::Timezone,
        _ => Field::Metadata(header.to_owned()),
    }
}

impl Mapping {
    /// Auto-maps `headers`, then lets `overrides` (from `--map`, later ones winning for the
    /// same column) replace the automatic choice. A single-valued field claimed by an
    /// override, or by an earlier column, sends a later auto-mapped column to metadata.
    pub fn from_headers(
        headers: &[String],
        overrides: &[(String, Field)],
    ) -> Result<Mapping, PlanError> {
        let headers: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
        let mut chosen: Vec<Option<Field>> = vec![None; headers.len()];
        // Which `--map` set each column, for messages.
        let mut overridden_by: Vec<Option<usize>> = vec![None; headers.len()];
        for (o, (column, field)) in overrides.iter().enumerate() {
            let index =
                find_column(&headers, column).ok_or_else(|| PlanError::UnknownMapColumn {
                    column: column.clone(),
                    headers: quote_list(headers.iter().map(String::as_str)),
                })?;
            chosen[index] = Some(field.clone());
            overridden_by[index] = Some(o);
        }

        // Overrides first, so that they keep their field whatever their column position.
        let mut taken: Vec<(Field, usize)> = Vec::new();
        for (index, field) in chosen.iter().enumerate() {
            let Some(field) = field.as_ref().filter(|f| f.is_single_valued()) else {
                continue;
            };
            if let Some((_, first)) = taken.iter().find(|(f, _)| f == field) {
                return Err(PlanError::ConflictingMap {
                    first: headers[*first].clone(),
                    second: headers[index].clone(),
                    field: field.to_string(),
                });
            }
            taken.push((field.clone(), index));
        }

        let mut fields = Vec::with_capacity(headers.len());
        for (header, chosen) in headers.iter().zip(chosen) {
            let field = match chosen {
                Some(field) => field,
                None => {
                    let field = auto_field(header);
                    if field.is_single_valued() {
                        if taken.iter().any(|(f, _)| *f == field) {
                            Field::Metadata(header.clone())
                        } else {
                            taken.push((field.clone(), fields.len()));
                            field
                        }
                    } else {
                        field
                    }
                }
            };
            fields.push(field);
        }

        if !fields.contains(&Field::NumberToCall) {
            return Err(PlanError::NoPhoneColumn {
                headers: quote_list(headers.iter().map(String::as_str)),
                hint: no_phone_hint(&headers),
            });
        }
        for (index, (header, field)) in headers.iter().zip(&fields).enumerate() {
            let Field::Metadata(key) = field else {
                continue;
            };
            if key == META_CAMPAIGN || key == META_ROW {
                let origin = match overridden_by[index] {
                    Some(o) => format!("--map {}={}", overrides[o].0, overrides[o].1),
                    None => format!("the column \"{header}\""),
                };
                let fix = format!(
                    "--map {} or --map {}",
                    shell_quote(&format!("{header}=metadata.my_{key}")),
                    shell_quote(&format!("{header}=ignore"))
                );
                return Err(PlanError::ReservedColumn {
                    origin,
                    key: key.clone(),
                    fix,
                });
            }
        }
        let full_name = full_name_column(&headers, &fields, &overridden_by);
        Ok(Mapping {
            headers,
            fields,
            full_name,
        })
    }

    /// The column whose cell is split into firstName and lastName: a `name`, `full_name`,
    /// `contact_name` or `customer_name` column left to auto-mapping (it still goes to
    /// metadata too, as every unnamed column does), when no column is firstName or
    /// lastName. A `--map` of that column, or a first/last name column, turns this off.
    pub fn full_name_column(&self) -> Option<usize> {
        self.full_name
    }

    /// `(header, what it fills)` for every column, for the dry run's list: like
    /// [`Mapping::columns`], with the name split spelled out.
    pub fn described(&self) -> impl Iterator<Item = (&str, String)> {
        self.columns().enumerate().map(|(i, (header, field))| {
            let what = if Some(i) == self.full_name {
                format!("firstName + lastName (split at the first space), {field}")
            } else {
                field.to_string()
            };
            (header, what)
        })
    }

    /// `(header, field)` for every column, in header order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Field)> {
        self.headers.iter().map(String::as_str).zip(&self.fields)
    }

    /// The header of the column that holds the number to call.
    pub fn number_column(&self) -> &str {
        self.columns()
            .find(|(_, f)| **f == Field::NumberToCall)
            .map_or("", |(h, _)| h)
    }

    pub(super) fn fields(&self) -> &[Field] {
        &self.fields
    }
}

fn full_name_column(
    headers: &[String],
    fields: &[Field],
    overridden_by: &[Option<usize>],
) -> Option<usize> {
    if fields
        .iter()
        .any(|f| matches!(f, Field::FirstName | Field::LastName))
    {
        return None;
    }
    headers.iter().enumerate().position(|(i, h)| {
        overridden_by[i].is_none()
            && matches!(fields[i], Field::Metadata(_))
            && FULL_NAME_HEADERS.contains(&fold(h).as_str())
    })
}

/// The column a `--map` names: the header as written (trimmed), else the one header that
/// matches it case-, space-, `_`- and `-`-insensitively.
fn find_column(headers: &[String], column: &str) -> Option<usize> {
    let column = column.trim();
    if let Some(i) = headers.iter().position(|h| h == column) {
        return Some(i);
    }
    let folded = fold(column);
    let mut matches = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| fold(h) == folded);
    match (matches.next(), matches.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The end of the "no phone column" message: the `--map` that would fix it, naming the
/// likeliest column, or a word about a missing header line when the first line is data.
fn no_phone_hint(headers: &[String]) -> String {
    if headers.iter().any(|h| looks_like_number(h)) {
        return "the first line looks like data, not headers: add a header line that names the \
                phone column `phone`"
            .to_owned();
    }
    // Earlier words are stronger hints; "no" and "nr" are the German/Dutch/English
    // abbreviations of "number" ("Mobile Nr", "Tel. No").
    const HINTS: [&str; 10] = [
        "phone", "mobile", "msisdn", "cell", "tel", "whatsapp", "number", "num", "nr", "no",
    ];
    let guess = HINTS.iter().find_map(|hint| {
        headers
            .iter()
            .find(|h| fold(h).contains(hint))
            .map(String::as_str)
    });
    // Else a column no other field wants, else the first.
    let fallback = || {
        headers
            .iter()
            .find(|h| matches!(auto_field(h), Field::Metadata(_)))
            .or(headers.first())
            .map(String::as_str)
    };
    match guess.or_else(fallback) {
        Some(column) => format!(
            "name the phone column with --map {}",
            shell_quote(&format!("{column}=numberToCall"))
        ),
        None => {
            "the file has no header line; add one that names the phone column `phone`".to_owned()
        }
    }
}

/// True for text made only of digits and phone punctuation with at least three digits: a
/// phone number however it is written, not a header name.
pub(crate) fn looks_like_number(s: &str) -> bool {
    let s = s.trim();
    let s = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => &s[4..],
        _ => s,
    };
    let mut digits = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !(c == ' ' || "+-().,/".contains(c)) {
            return false;
        }
    }
    digits >= 3
}

/// Quotes for a POSIX shell when needed, so a suggested command can be pasted as is.
pub(crate) fn shell_quote(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "=._-:/@+,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
