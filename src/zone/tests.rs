//! Zone resolution and calling windows at fixed instants, across zones, midnight and DST.

use super::*;
use jiff::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tz(name: &str) -> TimeZone {
    zone(name).unwrap()
}

#[test]
fn single_zone_countries() {
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

fn schedule(s: &str) -> Schedule {
    s.parse().unwrap()
}

#[test]
fn schedules_parse_and_print_back() {
    for text in [
        "09:00-18:00",
        "mon-fri 09:00-20:00; sat 10:00-14:00",
        "mon,wed,fri 09:00-12:00; skip 2026-12-25,2027-01-01",
        "fri-mon 22:00-02:00",
    ] {
        assert_eq!(
            schedule(text).to_string(),
            text.replace("fri-mon", "mon,fri-sun")
        );
    }
    assert_eq!(
        schedule("Monday 09:00-10:00").to_string(),
        "mon 09:00-10:00"
    );
    assert_eq!(
        schedule("mon,tue 09:00-10:00").to_string(),
        "mon,tue 09:00-10:00"
    );
    for bad in [
        "",
        "skip 2026-12-25",
        "monkey 09:00-10:00",
        "mon-fri",
        "mon 09:00-10:00 extra",
        "09:00-10:00; skip 2026-13-01",
    ] {
        assert!(bad.parse::<Schedule>().is_err(), "{bad:?}");
    }
    let dates = parse_holidays("# public holidays\n2026-12-25\n\n2027-01-01 # new year\n").unwrap();
    assert_eq!(dates.len(), 2);
    assert!(
        parse_holidays("2026-12-25\nChristmas\n")
            .unwrap_err()
            .contains("line 2")
    );
}

#[test]
fn days_and_skipped_dates_close_whole_days() {
    // 2026-11-28 is a Saturday.
    let utc = [tz("UTC")];
    let weekdays = schedule("mon-fri 09:00-17:00");
    assert!(!weekdays.is_open(&utc, ts("2026-11-28T10:00:00Z")));
    assert_eq!(
        weekdays.next_open(&utc, ts("2026-11-28T10:00:00Z")),
        Some(ts("2026-11-30T09:00:00Z")),
        "Monday morning"
    );
    let saturday = schedule("sat 10:00-14:00; skip 2026-11-28");
    assert!(!saturday.is_open(&utc, ts("2026-11-28T11:00:00Z")));
    assert_eq!(
        saturday.next_open(&utc, ts("2026-11-28T11:00:00Z")),
        Some(ts("2026-12-05T10:00:00Z")),
        "the next Saturday"
    );
    // A Friday-night window runs into Saturday, and not from Thursday into Friday.
    let night = schedule("fri 22:00-02:00");
    assert!(night.is_open(&utc, ts("2026-11-28T01:00:00Z")));
    assert!(!night.is_open(&utc, ts("2026-11-27T01:00:00Z")));
    // With Saturday skipped, the Friday night stops at midnight.
    let night = schedule("fri 22:00-02:00; skip 2026-11-28");
    assert!(night.is_open(&utc, ts("2026-11-27T23:00:00Z")));
    assert!(!night.is_open(&utc, ts("2026-11-28T01:00:00Z")));
    // ...and a skipped Friday lets the Saturday part open at midnight.
    let night = schedule("fri 22:00-02:00; skip 2026-11-27");
    assert_eq!(
        night.next_open(&utc, ts("2026-11-27T12:00:00Z")),
        Some(ts("2026-11-28T00:00:00Z"))
    );
}

#[test]
fn several_zones_must_all_be_open() {
    let both = [tz("America/New_York"), tz("America/Los_Angeles")];
    let day = schedule("09:00-17:00");
    // 10:00 in New York is 07:00 in Los Angeles.
    assert!(!day.is_open(&both, ts("2026-11-24T15:00:00Z")));
    assert_eq!(
        day.next_open(&both, ts("2026-11-24T15:00:00Z")),
        Some(ts("2026-11-24T17:00:00Z")),
        "09:00 in Los Angeles, 12:00 in New York"
    );
    assert!(day.is_open(&both, ts("2026-11-24T21:59:00Z")));
    assert!(
        !day.is_open(&both, ts("2026-11-24T22:00:00Z")),
        "17:00 in New York"
    );
    // Moscow and Kamchatka are nine hours apart: a 09:00-17:00 day never meets.
    let far = [tz("Europe/Moscow"), tz("Asia/Kamchatka")];
    assert_eq!(day.next_open(&far, ts("2026-11-24T00:00:00Z")), None);
    assert!(
        schedule("08:00-21:00")
            .next_open(&far, ts("2026-11-24T00:00:00Z"))
            .is_some()
    );
}

#[test]
fn the_dst_gap_holds_for_schedules_too() {
    let london = [tz("Europe/London")];
    let s = schedule("sun 01:30-03:00");
    assert_eq!(
        s.next_open(&london, ts("2026-03-28T23:00:00Z")),
        Some(ts("2026-03-29T01:00:00Z")),
        "02:00 BST, the first instant past the missing 01:30"
    );
}

#[test]
fn hours_cache_rows_zones_and_their_next_opening() {
    let hours = Hours::new(schedule("09:00-17:00"), tz("UTC"));
    let text = Some("America/Los_Angeles,America/New_York");
    let before = ts("2026-11-24T15:00:00Z");
    assert!(!hours.is_open(text, before));
    let opens = hours.next_open(text, before).unwrap();
    assert_eq!(opens, ts("2026-11-24T17:00:00Z"));
    // Asked again a little later, the remembered answer still holds.
    assert_eq!(
        hours.next_open(text, ts("2026-11-24T16:00:00Z")),
        Some(opens)
    );
    assert_eq!(hours.next_open(text, opens), Some(opens));
    assert_eq!(hours.zones(text).len(), 2);
    // No zone, or one this build cannot read: the default zone.
    assert!(hours.is_open(None, ts("2026-11-24T10:00:00Z")));
    assert!(hours.is_open(Some("Mars/Olympus"), ts("2026-11-24T10:00:00Z")));
    let wait = hours
        .first_opening([text, Some("Asia/Tokyo")], before)
        .unwrap();
    assert_eq!(wait.until, opens, "Tokyo opens later (00:00 UTC)");
    let said = wait.message(&tz("Asia/Riyadh"));
    assert_eq!(
        said,
        "nobody can be called until 20:00 +03 (17:00 UTC, Tue 2026-11-24), when \"09:00-17:00\" \
         opens in all of America/Los_Angeles, America/New_York (2 zones)"
    );
    assert_eq!(
        hours.first_opening([None], ts("2026-11-24T10:00:00Z")),
        None,
        "open now"
    );
}
