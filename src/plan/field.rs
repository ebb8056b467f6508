//! The `--map COLUMN=FIELD` and `--meta KEY=VALUE` vocabulary: what a CSV column can become.

use std::fmt;
use std::str::FromStr;

/// Where one CSV column goes in the request (or that it goes nowhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    NumberToCall,
    /// A secondary number (`phone2`, `work_phone`...), tried when a call to the one before
    /// it was not delivered; several columns may hold one, tried in column order.
    AltNumber,
    FirstName,
    LastName,
    Email,
    ContactUuid,
    AiSettingsTemplateId,
    /// The row's IANA zone for the calling window; never sent to the API.
    Timezone,
    Metadata(String),
    PromptTag(String),
    /// Read nothing from this column.
    Ignore,
}

impl Field {
    /// Fields that take at most one column; a second column for one of them is an error
    /// from `--map` and goes to metadata when it comes from auto-mapping.
    pub fn is_single_valued(&self) -> bool {
        !matches!(
            self,
            Field::Metadata(_) | Field::PromptTag(_) | Field::Ignore | Field::AltNumber
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::NumberToCall => f.write_str("numberToCall"),
            Field::AltNumber => f.write_str("altNumber"),
            Field::FirstName => f.write_str("firstName"),
            Field::LastName => f.write_str("lastName"),
            Field::Email => f.write_str("email"),
            Field::ContactUuid => f.write_str("contactUuid"),
            Field::AiSettingsTemplateId => f.write_str("aiSettingsTemplateId"),
            Field::Timezone => f.write_str("timezone"),
            Field::Metadata(key) => write!(f, "metadata.{key}"),
            Field::PromptTag(key) => write!(f, "promptTags.{key}"),
            Field::Ignore => f.write_str("ignore"),
        }
    }
}

const FIELD_CHOICES: &str = "numberToCall, altNumber, firstName, lastName, email, contactUuid, \
                             aiSettingsTemplateId, timezone, metadata.KEY, promptTags.KEY or ignore";

impl FromStr for Field {
    type Err = String;

    /// SPEC's names, read case-insensitively (`numbertocall` and `number_to_call` too) so a
    /// typo in case does not cost the user a run; the KEY of `metadata.KEY` /
    /// `promptTags.KEY` is kept as written.
    fn from_str(s: &str) -> Result<Field, String> {
        let s = s.trim();
        if let Some((prefix, key)) = s.split_once('.') {
            let key = key.trim();
            let field = match fold(prefix).as_str() {
                "metadata" => Field::Metadata(key.to_owned()),
                "prompttags" | "prompttag" => Field::PromptTag(key.to_owned()),
                _ => return Err(unknown_field(s)),
            };
            if key.is_empty() {
                return Err(format!(
                    "\"{s}\" needs a key after the dot, e.g. {prefix}.account_id"
                ));
            }
            return Ok(field);
        }
        Ok(match fold(s).as_str() {
            "numbertocall" => Field::NumberToCall,
            "altnumber" => Field::AltNumber,
            "firstname" => Field::FirstName,
            "lastname" => Field::LastName,
            "email" => Field::Email,
            "contactuuid" => Field::ContactUuid,
            "aisettingstemplateid" => Field::AiSettingsTemplateId,
            "timezone" => Field::Timezone,
            "ignore" => Field::Ignore,
            _ => return Err(unknown_field(s)),
        })
    }
}

fn unknown_field(s: &str) -> String {
    format!("\"{s}\" is not a field; use one of {FIELD_CHOICES}")
}

/// Lower case without spaces, `_` and `-`: the form header auto-mapping compares in.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `--map "Mobile Nr=numberToCall"`. The split is at the last `=`, because field names
/// never contain one and column names might.
pub fn parse_map_arg(s: &str) -> Result<(String, Field), String> {
    let Some((column, field)) = s.rsplit_once('=') else {
        return Err(format!(
            "\"{s}\" is not COLUMN=FIELD; write e.g. --map \"Mobile Nr=numberToCall\""
        ));
    };
    let column = column.trim();
    if column.is_empty() {
        return Err(format!(
            "\"{s}\" names no column; write e.g. --map \"Mobile Nr=numberToCall\""
        ));
    }
    Ok((column.to_owned(), field.parse()?))
}

/// `--meta KEY=VALUE`, split at the first `=` so values may contain one. An empty value is
/// refused: the API must never see `""` for a value, and an empty `--meta` is surely a typo.
pub fn parse_meta_arg(s: &str) -> Result<(String, String), String> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(format!(
            "\"{s}\" is not KEY=VALUE; write e.g. --meta project=spring"
        ));
    };
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err(format!(
            "\"{s}\" has no key; write e.g. --meta project=spring"
        ));
    }
    if value.is_empty() {
        return Err(format!(
            "--meta {key}= has no value; give one or drop the option"
        ));
    }
    if key == crate::api::types::META_CAMPAIGN || key == crate::api::types::META_ROW {
        return Err(format!(
            "--meta {key} uses a metadata key the dialer reserves for matching webhooks to rows; choose another key"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_in_spec_spelling_and_case_variants() {
        let cases = [
            ("numberToCall", Field::NumberToCall),
            ("NUMBER_TO_CALL", Field::NumberToCall),
            ("firstName", Field::FirstName),
            ("lastName", Field::LastName),
            ("email", Field::Email),
            ("contactUuid", Field::ContactUuid),
            ("aiSettingsTemplateId", Field::AiSettingsTemplateId),
            ("timezone", Field::Timezone),
            ("ignore", Field::Ignore),
            ("metadata.Account ID", Field::Metadata("Account ID".into())),
            ("promptTags.amount", Field::PromptTag("amount".into())),
            ("prompttags.Due", Field::PromptTag("Due".into())),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Field>(), Ok(want.clone()), "{text}");
            // Display gives back a spelling FromStr accepts.
            assert_eq!(want.to_string().parse::<Field>(), Ok(want));
        }
    }

    #[test]
    fn unknown_fields_and_empty_keys_are_refused_with_the_choices() {
        let err = "phone".parse::<Field>().unwrap_err();
        assert!(
            err.contains("numberToCall") && err.contains("promptTags.KEY"),
            "{err}"
        );
        assert!("metadata.".parse::<Field>().is_err());
        assert!("tags.x".parse::<Field>().is_err());
    }

    #[test]
    fn map_arg_splits_at_the_last_equals() {
        assert_eq!(
            parse_map_arg("Mobile Nr=numberToCall"),
            Ok(("Mobile Nr".into(), Field::NumberToCall))
        );
        assert_eq!(
            parse_map_arg("a=b=metadata.x"),
            Ok(("a=b".into(), Field::Metadata("x".into())))
        );
        assert!(parse_map_arg("numberToCall").is_err());
        assert!(parse_map_arg(" =email").is_err());
        assert!(parse_map_arg("col=nope").is_err());
    }

    #[test]
    fn meta_arg_splits_at_the_first_equals_and_refuses_reserved_keys() {
        assert_eq!(
            parse_meta_arg("project=a=b"),
            Ok(("project".into(), "a=b".into()))
        );
        assert!(parse_meta_arg("novalue").is_err());
        assert!(parse_meta_arg("=x").is_err());
        assert!(parse_meta_arg("k=").is_err());
        assert!(
            parse_meta_arg("dialer_row=7")
                .unwrap_err()
                .contains("reserves")
        );
        assert!(parse_meta_arg("dialer_campaign=x").is_err());
    }
}
