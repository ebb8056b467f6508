//! Which zone each row is dialed in, end to end: the column, the number's prefix
//! (libphonenumber's zones), `--tz`, and the refusal of a zone nobody named.

mod common;

use common::Env;

#[tokio::test(flavor = "multi_thread")]
async fn zones_come_from_the_column_then_the_number_then_tz() {
    let env = Env::default().await;
    let csv = env.write(
        "zones.csv",
        "phone,timezone\n+966501234567,Asia/Tokyo\n+966501234568,\n+447700900123,\n\
         +12015550123,\n+80012345678,\n",
    );
    env.dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--rate",
        "unlimited",
        "--tz",
        "America/Chicago",
    ])
    .await
    .expect_code(0);
    let rows = env.rows("zones");
    let zone = |i: usize| {
        let r = &rows[i];
        (
            r.timezone.clone().unwrap_or_default(),
            r.zone_source.clone().unwrap_or_default(),
        )
    };
    assert_eq!(zone(0), ("Asia/Tokyo".into(), "column".into()));
    assert_eq!(zone(1), ("Asia/Riyadh".into(), "number".into()));
    assert_eq!(
        rows[2].reason.as_deref(),
        Some("invalid_number"),
        "07700 900xxx is fiction"
    );
    assert_eq!(zone(3), ("America/New_York".into(), "number".into()));
    // A +800 freephone number is in no place at all: --tz.
    assert_eq!(zone(4), ("America/Chicago".into(), "default".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_in_five_countries_get_the_zones_libphonenumber_gives() {
    let env = Env::default().await;
    let csv = env.write(
        "world.csv",
        "phone\n+12125550123\n+14155550123\n+14165550123\n+61291234567\n+61412345678\n\
         +5511987654321\n+74951234567\n+79123456789\n",
    );
    env.dialer(&["run", csv.to_str().unwrap(), "--rate", "unlimited"])
        .await
        .expect_code(0);
    let rows = env.rows("world");
    let zones: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.timezone.as_deref().unwrap_or(""),
                r.zone_source.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(zones[0], ("America/New_York", "number"));
    assert_eq!(zones[1], ("America/Los_Angeles", "number"));
    assert_eq!(zones[2], ("America/Toronto", "number"), "Canada");
    assert_eq!(zones[3], ("Australia/Sydney", "number"));
    assert_eq!(
        zones[4].0.split(',').count(),
        8,
        "an Australian mobile: {}",
        zones[4].0
    );
    assert_eq!(
        zones[5],
        ("America/Sao_Paulo", "number"),
        "Brazil's mobiles are placed"
    );
    assert_eq!(zones[6], ("Europe/Moscow", "number"));
    assert_eq!(
        zones[7].0.split(',').count(),
        16,
        "a Russian mobile: {}",
        zones[7].0
    );
    assert!(zones[7].0.contains("Asia/Kamchatka"));
    assert_eq!(
        env.sandbox.stats().total_calls,
        8,
        "no window: every row is dialed"
    );

    let status = env.dialer(&["status", "world", "--row", "3"]).await;
    status.expect_code(0);
    assert!(
        status
            .stdout
            .contains("calling hours read in America/Los_Angeles (zone from: number)"),
        "{}",
        status.stdout
    );
    let report = env.dialer(&["report", "world", "--format", "csv"]).await;
    report.expect_code(0);
    let russian = report
        .stdout
        .lines()
        .find(|l| l.contains("+79123456789"))
        .unwrap();
    assert!(russian.contains("Asia/Almaty, Asia/Anadyr"), "{russian}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_without_tz_refuses_rows_that_fall_back_to_an_unnamed_zone() {
    let env = Env::default().await;
    let csv = env.write(
        "fallback.csv",
        "phone\n+966501234567\n+80012345678\n+80012345679\n",
    );
    let run = env
        .dialer(&["run", csv.to_str().unwrap(), "--window", "09:00-18:00"])
        .await;
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("2 row(s) have no time zone the dialer can tell")
            && run.stderr.contains("line 3: +80012345678")
            && run.stderr.contains("Pass --tz ZONE"),
        "{}",
        run.stderr
    );
    assert_eq!(env.sandbox.stats().requests, 0, "refused before dialing");
    // The dry run counts rows by zone source and warns of the refusal; with --tz it is gone.
    let dry = |tz: &'static [&'static str]| {
        let mut args = vec!["run", csv.to_str().unwrap(), "--window", "09:00-18:00"];
        args.extend_from_slice(tz);
        args.push("--dry-run");
        let env = &env;
        async move { env.dialer(&args).await }
    };
    let without = dry(&[]).await;
    without.expect_code(0);
    let out = &without.stdout;
    assert!(out.contains("zone from: default 2, number 1"), "{out}");
    assert!(out.contains("2 of them have no zone of their own"), "{out}");
    let with = dry(&["--tz", "Asia/Riyadh"]).await;
    with.expect_code(0);
    assert!(
        !with.stdout.contains("no zone of their own"),
        "{}",
        with.stdout
    );
}
