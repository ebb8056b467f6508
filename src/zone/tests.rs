//! Zone resolution and calling windows at fixed instants, across zones, midnight and DST.

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tz(name: &str) -> TimeZone {
    zone(name).unwrap()
}

#[test]
fn a_column_wins_then_a_single_zone_country_then_the_default() {
    assert_eq!(
        resolve(Some("Asia/Tokyo"), Some("SA"), "UTC"),
        ("Asia/Tokyo".into(), ZoneSource::Column)
    );
    assert_eq!(
        resolve(None, Some("SA"), "UTC"),
        ("Asia/Riyadh".into(), ZoneSource::Country)
    );
    assert_eq!(
        resolve(Some("  "), Some("GB"), "UTC"),
        ("Europe/London".into(), ZoneSource::Country)
    );
    assert_eq!(
        resolve(None, Some("US"), "America/Chicago"),
        ("America/Chicago".into(), ZoneSource::Default)
    );
    for (cc, zone) in [
        ("AE", "Asia/Dubai"),
        ("DE", "Europe/Berlin"),
        ("IN", "Asia/Kolkata"),
        ("EG", "Africa/Cairo"),
        ("NG", "Africa/Lagos"),
        ("JP", "Asia/Tokyo"),
        ("FR", "Europe/Paris"),
    ] {
        assert_eq!(country_zone(cc), Some(zone), "{cc}");
    }
    for cc in ["US", "CA", "AU", "RU", "BR", "MX"] {
        assert_eq!(country_zone(cc), None, "{cc} spans zones");
    }
}

#[test]
fn every_zone_in_the_country_table_is_in_the_compiled_database() {
    for (cc, name) in countries::SINGLE_ZONE {
        assert!(zone(name).is_ok(), "{cc}: {name}");
    }
    let sorted = countries::SINGLE_ZONE.windows(2).all(|w| w[0].0 < w[1].0);
    assert!(sorted, "binary search needs the table sorted");
}

#[test]
fn windows_parse_and_refuse_nonsense() {
    let w: Window = "09:00-18:30".parse().unwrap();
    assert_eq!(w.to_string(), "09:00-18:30");
    for bad in ["9-5", "25:00-26:00", "09:00", "09:00-09:00", "aa:bb-cc:dd"] {
        assert!(bad.parse::<Window>().is_err(), "{bad}");
    }
}

#[test]
fn a_day_window_in_different_zones() {
    let w: Window = "09:00-18:00".parse().unwrap();
    let now = ts("2026-11-24T07:30:00Z");
    assert!(w.is_open(now, &tz("Asia/Riyadh")), "10:30 in Riyadh");
    assert!(!w.is_open(now, &tz("Europe/London")), "07:30 in London");
    assert!(w.is_open(now, &tz("Asia/Tokyo")), "16:30 in Tokyo");
    assert_eq!(
        w.next_open(now, &tz("Europe/London")),
        ts("2026-11-24T09:00:00Z")
    );
    // After hours in New York: tomorrow 09:00 EST.
    assert_eq!(
        w.next_open(ts("2026-11-24T23:30:00Z"), &tz("America/New_York")),
        ts("2026-11-25T14:00:00Z")
    );
    // The end minute is closed.
    assert!(!w.is_open(ts("2026-11-24T18:00:00Z"), &tz("UTC")));
}

#[test]
fn a_window_that_crosses_midnight() {
    let w: Window = "22:00-02:00".parse().unwrap();
    let utc = tz("UTC");
    assert!(w.is_open(ts("2026-11-24T23:15:00Z"), &utc));
    assert!(w.is_open(ts("2026-11-25T01:59:00Z"), &utc));
    assert!(!w.is_open(ts("2026-11-25T02:00:00Z"), &utc));
    assert!(!w.is_open(ts("2026-11-24T12:00:00Z"), &utc));
    assert_eq!(
        w.next_open(ts("2026-11-24T12:00:00Z"), &utc),
        ts("2026-11-24T22:00:00Z")
    );
}

#[test]
fn dst_change_days() {
    let london = tz("Europe/London");
    // 2026-03-29: clocks jump 01:00 -> 02:00 GMT->BST. A window from 01:30 opens at 02:00 BST
    // (01:00 UTC), the first real instant past the missing start.
    let w: Window = "01:30-03:00".parse().unwrap();
    assert_eq!(
        w.next_open(ts("2026-03-28T23:00:00Z"), &london),
        ts("2026-03-29T01:00:00Z")
    );
    assert!(!w.is_open(ts("2026-03-29T00:59:59Z"), &london));
    assert!(w.is_open(ts("2026-03-29T01:00:00Z"), &london));
    // 09:00 local is 09:00 UTC the day before and 08:00 UTC on the change day.
    let day: Window = "09:00-17:00".parse().unwrap();
    assert_eq!(
        day.next_open(ts("2026-03-28T20:00:00Z"), &london),
        ts("2026-03-29T08:00:00Z")
    );
    assert!(day.is_open(ts("2026-03-29T08:30:00Z"), &london));
    assert!(!day.is_open(ts("2026-03-28T08:30:00Z"), &london));
    // Autumn: 2026-10-25, 09:00 local is 09:00 UTC again.
    assert_eq!(
        day.next_open(ts("2026-10-24T20:00:00Z"), &london),
        ts("2026-10-25T09:00:00Z")
    );
}
