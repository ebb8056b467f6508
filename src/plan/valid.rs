//! libphonenumber's validity check (`phonenumber::is_valid`), on the crate's own metadata but
//! with regexes compiled once per country code.
//!
//! Why: the crate keeps its compiled patterns in one 100-entry LRU cache behind a mutex, and
//! looks each pattern up by hashing its source text (often hundreds of bytes) on every match.
//! Validation is ~10 such lookups per number, so it cost about as much as parsing; a file
//! with numbers from a dozen countries also thrashes the cache into recompiling. The rules
//! here are the crate's, step for step (`validator::source_for` and `number_type`); tests
//! check both agree on the example numbers of each region and on near-miss variants of them
//! (every country code, in every test run).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use phonenumber::{PhoneNumber, Type};

use crate::zone::NumberKind as Kind;
use phonenumber::country::Id;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

/// Same answer as `phonenumber::is_valid(number)`.
#[cfg(test)]
pub(crate) fn is_valid(number: &PhoneNumber) -> bool {
    valid_region(number).is_some()
}

/// `Some(region)` when the number is valid, naming the region whose rules it matched
/// (`None` inside for non-geographic codes such as +800). Asking the crate for the region
/// instead (`Country::id`) would run every region's patterns of the code again.
#[cfg(test)]
pub(crate) fn valid_region(number: &PhoneNumber) -> Option<Option<Id>> {
    classify(number).map(|(region, _)| region)
}

/// libphonenumber's number type, boiled down to what time zones need (see `zone::prefix`).
fn kind_of(t: Type) -> Kind {
    match t {
        Type::FixedLine | Type::FixedLineOrMobile => Kind::FixedLine,
        Type::Mobile => Kind::Mobile,
        _ => Kind::Other,
    }
}

/// [`valid_region`] and the number's [`Kind`], from one pass of the patterns.
pub(crate) fn classify(number: &PhoneNumber) -> Option<(Option<Id>, Kind)> {
    let national = number.national().to_string();
    match rules_for(number.code().value()) {
        Some(rules) => rules.valid_region(&national),
        // A pattern our regex settings refuse: let the crate decide.
        None => phonenumber::is_valid(number).then(|| {
            let kind = kind_of(number.number_type(&DATABASE));
            (number.country().id(), kind)
        }),
    }
}

/// One descriptor: the lengths it allows and its national-number pattern.
struct Pattern {
    lengths: Vec<u16>,
    /// Anchored at the start only, as the crate matches (`find` starting at 0).
    regex: Regex,
}

impl Pattern {
    fn new(d: &Descriptor) -> Option<Pattern> {
        Some(Pattern {
            lengths: d.possible_length().to_vec(),
            regex: anchored(d.national_number().as_str())?,
        })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national)
    }
}

struct Region {
    /// `None` when the region id is not one `country::Id` knows: the crate then finds no
    /// metadata, so nothing in that region is valid.
    known: bool,
    /// The region's id (`None` for the non-geographic "001").
    id: Option<Id>,
    leading_digits: Option<Regex>,
    general: Pattern,
    /// The types `number_type` tries before fixed line and mobile, in its order; a number
    /// is valid when it matches any type.
    others: Vec<Pattern>,
    fixed: Option<Pattern>,
    mobile: Option<Pattern>,
}

impl Region {
    fn new(meta: &Metadata) -> Option<Region> {
        let d = meta.descriptors();
        let candidates = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ];
        let mut others = Vec::new();
        for descriptor in candidates.into_iter().flatten() {
            others.push(Pattern::new(descriptor)?);
        }
        let optional =
            |d: Option<&Descriptor>| d.map(Pattern::new).map_or(Some(None), |p| p.map(Some));
        let leading_digits = match meta.leading_digits() {
            Some(p) => Some(anchored(p.as_str())?),
            None => None,
        };
        Some(Region {
            known: meta.id() == "001" || meta.id().parse::<Id>().is_ok(),
            id: meta.id().parse::<Id>().ok(),
            leading_digits,
            general: Pattern::new(d.general())?,
            others,
            fixed: optional(d.fixed_line())?,
            mobile: optional(d.mobile())?,
        })
    }

    /// `number_type(meta, national)`, boiled down to a [`Kind`]; `None` for `Type::Unknown`.
    fn kind(&self, national: &str) -> Option<Kind> {
        let matches = |p: &Option<Pattern>| p.as_ref().is_some_and(|p| p.is_match(national));
        if !self.general.is_match(national) {
            None
        } else if self.others.iter().any(|t| t.is_match(national)) {
            Some(Kind::Other)
        } else if matches(&self.fixed) {
            Some(Kind::FixedLine)
        } else if matches(&self.mobile) {
            Some(Kind::Mobile)
        } else {
            None
        }
    }
}

/// Every region sharing one country code, in the crate's order; a non-geographic code
/// (`001`, e.g. +800) has just its first metadata entry, as the crate uses.
struct CodeRules {
    regions: Vec<Region>,
}

impl CodeRules {
    fn new(code: u16) -> Option<CodeRules> {
        let Some(ids) = DATABASE.region(&code) else {
            return Some(CodeRules {
                regions: Vec::new(),
            });
        };
        if ids.len() == 1 && ids[0] == "001" {
            let meta = DATABASE.by_code(&code).and_then(|m| m.into_iter().next());
            return Some(CodeRules {
                regions: meta.map(Region::new).into_iter().collect::<Option<_>>()?,
            });
        }
        let mut regions = Vec::with_capacity(ids.len());
        for id in ids {
            match DATABASE.by_id(id) {
                Some(meta) => regions.push(Region::new(meta)?),
                // Mirrors the crate, which would stop here with a panic: refuse to decide.
                None => return None,
            }
        }
        Some(CodeRules { regions })
    }

    /// `validator::source_for`, then `number_type` on the region it picks: the region when
    /// the number is valid there.
    fn valid_region(&self, national: &str) -> Option<(Option<Id>, Kind)> {
        let region = match self.regions.as_slice() {
            [] => return None,
            [only] => only,
            several => {
                let picked = several.iter().find(|r| match &r.leading_digits {
                    Some(leading) => leading.is_match(national),
                    None => r.kind(national).is_some(),
                });
                picked?
            }
        };
        let kind = region.kind(national).filter(|_| region.known)?;
        Some((region.id, kind))
    }
}

/// The compiled rules for `code`, built on first use; `None` if a pattern will not compile.
fn rules_for(code: u16) -> Option<Arc<CodeRules>> {
    type Cache = RwLock<HashMap<u16, Option<Arc<CodeRules>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    // A poisoned lock only means another thread panicked mid-insert; the map is still sound.
    if let Some(rules) = cache.read().unwrap_or_else(|e| e.into_inner()).get(&code) {
        return rules.clone();
    }
    let rules = CodeRules::new(code).map(Arc::new);
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(code)
        .or_insert(rules)
        .clone()
}

/// The crate compiles metadata patterns with `ignore_whitespace`; the closing parenthesis
/// goes on its own line so that a `#` in a pattern could not comment it out. The national
/// number is ASCII digits, so a Unicode `\d` matches nothing more than `[0-9]` would: ASCII
/// mode gives the same answers with a fraction of the memory (a Unicode `\d` is hundreds
/// of ranges in every compiled pattern, ~6 MiB over the dry run of a large file).
fn anchored(source: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:{source}\n)"))
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Example numbers of every type of every region with `code`, and variants one digit
    /// longer, shorter or different, as `(national, region)` pairs to parse.
    fn corpus(code: u16) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for meta in DATABASE.by_code(&code).unwrap_or_default() {
            let d = meta.descriptors();
            let descriptors = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ];
            for example in descriptors
                .into_iter()
                .flatten()
                .filter_map(|d| d.example())
            {
                let e = example.to_owned();
                let flipped: String = e
                    .char_indices()
                    .map(|(i, c)| match (i + 1 == e.len(), c) {
                        (true, '9') => '0',
                        (true, c) => {
                            char::from_digit(c.to_digit(10).unwrap_or(0) + 1, 10).unwrap_or('0')
                        }
                        (false, c) => c,
                    })
                    .collect();
                for variant in [
                    e.clone(),
                    format!("{e}7"),
                    e[..e.len().saturating_sub(1)].to_owned(),
                    flipped,
                    format!("1{e}"),
                ] {
                    out.push((format!("+{code} {variant}"), meta.id().to_owned()));
                }
            }
        }
        out
    }

    fn agree_for(codes: impl IntoIterator<Item = u16>) -> usize {
        let mut checked = 0;
        for code in codes {
            for (text, region) in corpus(code) {
                let Ok(number) = phonenumber::parse(None, &text) else {
                    continue;
                };
                assert_eq!(
                    is_valid(&number),
                    phonenumber::is_valid(&number),
                    "{text} ({region})"
                );
                // Where the crate names a region we name the same one; for some shared
                // codes (+39 02 ...) it names none and we name the region whose rules matched.
                if let (Some(found), Some(theirs)) = (valid_region(&number), number.country().id())
                {
                    assert_eq!(found, Some(theirs), "region of {text}");
                }
                // The kind decides where zones are read from; it must be libphonenumber's.
                // The crate's `number_type` reads the national number as an integer, losing
                // a leading zero (+39 02..., +225 01...), so compare only numbers without one.
                let national = number.national();
                let no_leading_zero = national.to_string() == national.value().to_string();
                if let (Some((_, kind)), true) = (classify(&number), no_leading_zero) {
                    let theirs = kind_of(number.number_type(&DATABASE));
                    assert_eq!(kind, theirs, "kind of {text}");
                }
                checked += 1;
            }
        }
        checked
    }

    #[test]
    fn agrees_with_the_crate_on_the_campaign_countries_and_shared_codes() {
        // The sample's countries: SA AE GB(+GG IM JE) US(+NANP) DE FR IN EG NG. Every code
        // (shared ones such as +7, non-geographic ones such as +800): the ignored test below.
        let codes = [966, 971, 44, 1, 49, 33, 91, 20, 234];
        assert!(agree_for(codes) > 300);
    }

    /// Every country code, in every `cargo test`: the regex and phone-number crates are
    /// built optimised in debug too (Cargo.toml), which keeps this to seconds.
    #[test]
    fn agrees_with_the_crate_on_every_country_code() {
        assert!(agree_for(1..1000) > 5000);
    }

    #[test]
    fn unknown_codes_are_invalid() {
        let rules = CodeRules::new(999).expect("rules");
        assert_eq!(rules.valid_region("123456789"), None);
    }
}
