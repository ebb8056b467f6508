//! Phone numbers to E.164 by libphonenumber's rules (the `phonenumber` crate), and the
//! `--default-region` code that reads numbers written without `+country`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use phonenumber::ParseError;
use phonenumber::country::Id;

use super::PlanError;
use crate::zone::{self, PrefixZones};

/// Why a phone cell gives no number to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// The cell is empty or only whitespace.
    Missing,
    /// Not a *valid* number (a merely possible one is not enough); the text says why, as a
    /// clause that fits after "not a valid phone number: ".
    Invalid(String),
}

/// Loads the phone-number metadata (and compiles a first region's rules) now, so the
/// first row does not pay for it. Safe to run beside planning: the load happens once.
pub fn warm_up() {
    let _ = parses("+966501234567", None);
}

/// No real number comes close to this many bytes; longer cells are refused before the parser
/// sees them so that a pasted paragraph costs nothing.
const MAX_CELL_BYTES: usize = 64;

/// The E.164 form (`+966501234567`) of `raw`, read with `region` when it has no `+country`
/// (an international prefix such as `00` or `011` is read by that region's rules).
pub fn normalize_number(raw: &str, region: Option<Id>) -> Result<String, NumberError> {
    normalize_with_country(raw, region).map(|n| n.e164)
}

/// A valid number and what tells its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub e164: String,
    /// The ISO region the number belongs to (e.g. `SA`; for shared country codes such as
    /// +1, the region its digits say).
    pub country: Option<Id>,
    /// The zones libphonenumber's prefix map gives the number.
    pub zones: Option<PrefixZones>,
}

/// [`normalize_number`], plus the number's region and prefix zones, for time-zone resolution.
pub fn normalize_with_country(raw: &str, region: Option<Id>) -> Result<Normalized, NumberError> {
    let text = ascii_digits(raw.trim());
    let text = text.as_ref();
    if text.is_empty() {
        return Err(NumberError::Missing);
    }
    if text.len() > MAX_CELL_BYTES {
        return Err(NumberError::Invalid(
            "it is far too long to be a phone number".to_owned(),
        ));
    }
    let no_country = region.is_none() && !text.contains('+');
    // The parser is third-party code fed with user data; a panic in it (there have been
    // some) must cost one row, not the run.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        phonenumber::parse(region, text).map(|n| {
            let found = super::valid::classify(&n);
            (n, found)
        })
    }));
    match parsed {
        // Written by hand: the crate's formatter looks up the national format patterns even
        // for E.164, and those regexes evict the validation ones from its 100-entry cache.
        Ok(Ok((number, Some((country, kind))))) => {
            let code = number.code().value();
            let e164 = format!("+{code}{}", number.national());
            let zones = zone::for_number(&e164, code, kind);
            Ok(Normalized {
                e164,
                country,
                zones,
            })
        }
        _ if no_country => Err(NumberError::Invalid(
            "it has no +country code; write it with one or pass --default-region".to_owned(),
        )),
        Ok(Ok((number, None))) => {
            let code = number.country().code();
            let region = number
                .country()
                .id()
                .map(|id| id.as_ref().to_owned())
                .or_else(|| {
                    let regions = phonenumber::metadata::DATABASE.region(&code)?;
                    regions.first().map(|r| (*r).to_owned())
                });
            Err(NumberError::Invalid(match region {
                Some(region) => format!("wrong length or prefix for a {region} number (+{code})"),
                None => format!("wrong length or prefix for country code +{code}"),
            }))
        }
        Ok(Err(e)) => Err(NumberError::Invalid(
            match e {
                ParseError::NoNumber => "it is not a phone number",
                ParseError::InvalidCountryCode => "its country code does not exist",
                ParseError::TooShortAfterIdd | ParseError::TooShortNsn => "it is too short",
                ParseError::TooLong => "it is too long",
                ParseError::MalformedInteger(_) => "its digits cannot be read",
            }
            .to_owned(),
        )),
        Err(_) => Err(NumberError::Invalid(
            "the phone-number parser could not read it".to_owned(),
        )),
    }
}

/// True when libphonenumber can read `text` as some number, valid or not (see
/// [`normalize_number`] for why the parser is fenced).
pub(crate) fn parses(text: &str, region: Option<Id>) -> bool {
    let text = ascii_digits(text);
    let text = text.as_ref();
    text.len() <= MAX_CELL_BYTES
        && catch_unwind(|| phonenumber::parse(region, text).is_ok()).unwrap_or(false)
}

/// The zero of each decimal-digit script libphonenumber reads as digits (its
/// `Character.digit` rule), each followed by its nine: Arabic-Indic, Eastern Arabic-Indic
/// (Persian, Urdu), NKo, the Indic scripts, Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian and
/// full-width. The `phonenumber` crate has such a table but its parser rejects the text
/// before using it, so the digits are made ASCII here, before the parser sees them.
const DIGIT_ZEROS: [u32; 19] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10,
];

/// `text` with every digit of another script as its ASCII digit and a full-width plus as
/// `+` (libphonenumber's PLUS_CHARS); borrowed as is when already ASCII.
fn ascii_digits(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let digit = |c: char| {
        let cp = u32::from(c);
        DIGIT_ZEROS
            .iter()
            .find(|&&zero| (zero..zero + 10).contains(&cp))
            .and_then(|zero| char::from_digit(cp - zero, 10))
    };
    text.chars()
        .map(|c| match c {
            '\u{FF0B}' => '+',
            c => digit(c).unwrap_or(c),
        })
        .collect()
}

/// `--default-region`: an ISO 3166 alpha-2 code, any case. `UK` is taken as `GB`, the code
/// libphonenumber uses, since people write it that way.
pub fn parse_region(cc: &str) -> Result<Id, PlanError> {
    let code = cc.trim().to_ascii_uppercase();
    let code = if code == "UK" { "GB".to_owned() } else { code };
    // Only regions the metadata knows: other `Id`s would make the parser fail on every row.
    code.parse::<Id>()
        .ok()
        .filter(|id| phonenumber::metadata::DATABASE.by_id(id.as_ref()).is_some())
        .ok_or_else(|| PlanError::InvalidRegion(cc.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country;

    fn ok(raw: &str, region: Option<Id>) -> String {
        match normalize_number(raw, region) {
            Ok(n) => n,
            Err(e) => panic!("{raw:?} with {region:?}: {e:?}"),
        }
    }

    #[test]
    fn saudi_numbers_in_every_usual_format() {
        let sa = Some(country::SA);
        for raw in [
            "+966501234567",
            "+966 50 123 4567",
            "0501234567",
            "050 123 4567",
            "050-123-4567",
            "(050) 123.4567",
            "00966501234567",
            "00966 50 123 4567",
            "966501234567",
            " \t0501234567 ",
        ] {
            assert_eq!(ok(raw, sa), "+966501234567", "{raw}");
        }
        assert_eq!(ok("+966501234567", None), "+966501234567");
    }

    #[test]
    fn other_regions_national_and_international() {
        let gb = Some(country::GB);
        assert_eq!(ok("020 7946 0018", gb), "+442079460018");
        assert_eq!(ok("+44 (0)20 7946 0018", None), "+442079460018");
        assert_eq!(ok("07400 123456", gb), "+447400123456");
        assert_eq!(ok("+44 7400 123456", Some(country::SA)), "+447400123456");
        let us = Some(country::US);
        assert_eq!(ok("(201) 555-0123", us), "+12015550123");
        assert_eq!(ok("201.555.0123", us), "+12015550123");
        assert_eq!(ok("011 966 50 123 4567", us), "+966501234567");
        assert_eq!(ok("+1 201 555 0123", Some(country::SA)), "+12015550123");
        assert_eq!(ok("0151 23456789", Some(country::DE)), "+4915123456789");
        assert_eq!(ok("06 12 34 56 78", Some(country::FR)), "+33612345678");
        assert_eq!(ok("0044 20 7946 0018", Some(country::AE)), "+442079460018");
        // Italian numbers keep their leading zero after the country code.
        assert_eq!(ok("+39 06 1234 5678", None), "+390612345678");
        assert_eq!(ok("06 1234 5678", Some(country::IT)), "+390612345678");
    }

    #[test]
    fn empty_is_missing_and_bad_numbers_are_invalid_with_a_reason() {
        assert_eq!(normalize_number("", None), Err(NumberError::Missing));
        assert_eq!(
            normalize_number("  \t ", Some(country::SA)),
            Err(NumberError::Missing)
        );
        for raw in [
            "12",
            "hello",
            "+999 123 456 789",
            "050123",
            "+9665012345678",
        ] {
            assert!(
                matches!(
                    normalize_number(raw, Some(country::SA)),
                    Err(NumberError::Invalid(_))
                ),
                "{raw}"
            );
        }
        // Possible (right length) but not valid: Ofcom's drama range for mobiles.
        assert_eq!(
            normalize_number("+44 7700 900123", None),
            Err(NumberError::Invalid(
                "wrong length or prefix for a GB number (+44)".to_owned()
            ))
        );
        assert!(matches!(
            normalize_number(&"1".repeat(200), Some(country::SA)),
            Err(NumberError::Invalid(_))
        ));
    }

    #[test]
    fn without_region_a_national_number_asks_for_default_region() {
        let Err(NumberError::Invalid(why)) = normalize_number("0501234567", None) else {
            panic!("national number without a region must be invalid");
        };
        assert!(why.contains("--default-region"), "{why}");
    }

    #[test]
    fn regions_parse_in_any_case() {
        assert_eq!(parse_region("SA").ok(), Some(country::SA));
        assert_eq!(parse_region(" us ").ok(), Some(country::US));
        assert_eq!(parse_region("uk").ok(), Some(country::GB));
        for bad in ["", "XX", "Saudi", "966"] {
            let err = parse_region(bad).unwrap_err().to_string();
            assert!(err.contains("ISO 3166"), "{err}");
        }
    }

    #[test]
    fn digits_of_other_scripts_read_as_libphonenumber_reads_them() {
        for text in [
            "+٩٦٦٥٠١٢٣٤٥٦٧",              // Arabic-Indic
            "+۹۶۶۵۰۱۲۳۴۵۶۷",              // Eastern Arabic-Indic
            "＋９６６５０１２３４５６７", // full-width, full-width plus
            "+٩٦٦ ٥٠ ١٢٣ ٤٥٦٧",           // with the usual spaces
        ] {
            assert_eq!(ok(text, None), "+966501234567", "{text}");
        }
        assert_eq!(ok("٠٥٠١٢٣٤٥٦٧", Some(country::SA)), "+966501234567");
        assert_eq!(ok("+۹۷۱۵۰۱۲۳۴۵۶۷", None), "+971501234567");
        assert!(parses("+٩٦٦٥٠١٢٣٤٥٦٧", None));
    }
}
