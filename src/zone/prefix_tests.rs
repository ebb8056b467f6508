//! The zones libphonenumber gives numbers, and how rows' zones are resolved from them.

use super::*;
use crate::plan::normalize_with_country;

fn zones_of(number: &str) -> Vec<&'static str> {
    let n = normalize_with_country(number, None).unwrap();
    n.zones.map(|z| z.names().collect()).unwrap_or_default()
}

fn now() -> jiff::Timestamp {
    "2026-11-24T12:00:00Z".parse().unwrap()
}

#[test]
fn numbers_get_the_zones_libphonenumber_gives() {
    assert_eq!(zones_of("+1 212 555 0123"), ["America/New_York"]);
    assert_eq!(zones_of("+1 415 555 0123"), ["America/Los_Angeles"]);
    assert_eq!(zones_of("+1 416 555 0123"), ["America/Toronto"]);
    assert_eq!(zones_of("+1 604 555 0123"), ["America/Vancouver"]);
    assert_eq!(zones_of("+61 2 9123 4567"), ["Australia/Sydney"]);
    assert_eq!(
        zones_of("+61 8 9123 4567"),
        ["Australia/Adelaide", "Australia/Perth"],
        "08 covers South and Western Australia"
    );
    assert_eq!(
        zones_of("+55 11 98765 4321"),
        ["America/Sao_Paulo"],
        "mobiles in Brazil are placed"
    );
    assert_eq!(zones_of("+7 495 123 45 67"), ["Europe/Moscow"]);
    // Mobiles elsewhere get every zone of their country code, as libphonenumber says; its
    // Indian/Christmas and Indian/Cocos are tzdata links to Bangkok and Yangon.
    assert_eq!(
        zones_of("+61 412 345 678"),
        [
            "Asia/Bangkok",
            "Asia/Yangon",
            "Australia/Adelaide",
            "Australia/Brisbane",
            "Australia/Eucla",
            "Australia/Lord_Howe",
            "Australia/Perth",
            "Australia/Sydney",
        ]
    );
    let russia = zones_of("+7 912 345 67 89");
    assert_eq!(russia.len(), 16, "{russia:?}");
    assert!(russia.contains(&"Asia/Kamchatka") && russia.contains(&"Europe/Moscow"));
    // Guernsey, Jersey and the Isle of Man keep London's clock: one zone.
    assert_eq!(zones_of("+44 7911 123456"), ["Europe/London"]);
}

#[test]
fn the_prefix_table_is_sound() {
    use super::prefixes::{PREFIXES, SETS, ZONES};
    assert!(
        PREFIXES.windows(2).all(|w| w[0].0 < w[1].0),
        "sorted for binary search"
    );
    assert!(ZONES.windows(2).all(|w| w[0] < w[1]));
    for name in ZONES {
        assert!(zone(name).is_ok(), "{name} is in the compiled database");
        let canonical = TimeZone::get(name).unwrap();
        assert_eq!(canonical.iana_name(), Some(*name), "{name} is a main name");
    }
    assert!(!ZONES.contains(&"Europe/Guernsey"));
    for set in SETS {
        assert!(!set.is_empty() && set.windows(2).all(|w| w[0] < w[1]));
    }
    assert!(PREFIX_DATA_VERSION.contains("phonenumbers 9.0.43"));
    assert!(!code_has_zones(800) && code_has_zones(1) && code_has_zones(966));
}

#[test]
fn rows_resolve_column_then_number_then_country_then_default() {
    let rules = Rules::new(None, None, "America/Chicago", now());
    let place = |col, number: &str| {
        let n = normalize_with_country(number, None).unwrap();
        let country = n.country.map(|c| c.as_ref().to_owned());
        let got = rules.resolve(RowPlace {
            column: col,
            number: n.zones,
            country: country.as_deref(),
        });
        got.map(|(z, s)| (z.to_string(), s)).unwrap()
    };
    assert_eq!(
        place(Some("Asia/Tokyo"), "+966501234567"),
        ("Asia/Tokyo".into(), ZoneSource::Column)
    );
    assert_eq!(
        place(None, "+966501234567"),
        ("Asia/Riyadh".into(), ZoneSource::Number)
    );
    assert_eq!(
        place(None, "+1 212 555 0123"),
        ("America/New_York".into(), ZoneSource::Number)
    );
    // A +800 number has no place at all.
    assert_eq!(
        place(None, "+800 1234 5678"),
        ("America/Chicago".into(), ZoneSource::Default)
    );
    let country = rules.resolve(RowPlace {
        country: Some("SA"),
        ..RowPlace::default()
    });
    assert_eq!(country.unwrap().1, ZoneSource::Country);
}

#[test]
fn zones_that_share_no_hour_need_tz() {
    let russia = normalize_with_country("+7 912 345 67 89", None)
        .unwrap()
        .zones;
    let place = RowPlace {
        number: russia,
        ..RowPlace::default()
    };
    // From UTC+2 (Bucharest, in libphonenumber's +7 list) to UTC+12 (Kamchatka): a nine-hour
    // day never meets.
    let day: Schedule = "09:00-18:00".parse().unwrap();
    let strict = Rules::new(Some(&day), None, "UTC", now());
    let err = strict.resolve(place).unwrap_err();
    assert_eq!(err.zones.len(), 16);
    let said = err.to_string();
    assert!(
        said.contains("16 time zones") && said.contains("--tz ZONE"),
        "{said}"
    );
    let with_tz = Rules::new(Some(&day), Some("Europe/Moscow"), "Europe/Moscow", now());
    assert_eq!(
        with_tz.resolve(place).unwrap(),
        (Zones::one("Europe/Moscow"), ZoneSource::Default)
    );
    // Without calling hours every zone is as good: the row keeps all of them.
    let (zones, source) = Rules::new(None, None, "UTC", now()).resolve(place).unwrap();
    assert_eq!((zones.len(), source), (16, ZoneSource::Number));
    // Australia's mobile zones span 4.5 hours: a nine-hour day still meets.
    let au = normalize_with_country("+61 412 345 678", None)
        .unwrap()
        .zones;
    let (zones, source) = strict
        .resolve(RowPlace {
            number: au,
            ..RowPlace::default()
        })
        .unwrap();
    assert_eq!((zones.len(), source), (8, ZoneSource::Number));
}

#[test]
fn zones_text_round_trips() {
    let z: Zones = "America/New_York, America/Los_Angeles".parse().unwrap();
    assert_eq!(z.to_string(), "America/Los_Angeles,America/New_York");
    assert_eq!(z.to_string().parse::<Zones>().unwrap(), z);
    assert!("".parse::<Zones>().is_err());
    assert!("Mars/Olympus".parse::<Zones>().is_err());
}
