//! A real headless Chromium for the browser tests: found on the machine (never downloaded),
//! 1280 px wide, with the few page helpers the tests share. Without a browser, [`browser`]
//! says plainly that the test is skipped and returns `None`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

/// The system's Chromium, if there is one: `CHROME` first, then the usual names on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROME").map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A headless browser 1280 px wide, or `None` (and a plain note) when none is installed.
pub fn browser(test: &str) -> Option<Browser> {
    let Some(path) = chromium() else {
        eprintln!("SKIPPED {test}: no Chromium found (apt-get install chromium, or set CHROME)");
        return None;
    };
    let opts = LaunchOptions::default_builder()
        .path(Some(path))
        .headless(true)
        // Tests run as root in CI containers, where Chromium's sandbox cannot start.
        .sandbox(false)
        .window_size(Some((1280, 2400)))
        .idle_browser_timeout(Duration::from_secs(300))
        .build()
        .expect("launch options");
    Some(Browser::new(opts).expect("start Chromium"))
}

pub fn eval(tab: &Tab, js: &str) -> Value {
    tab.evaluate(js, false)
        .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
        .value
        .unwrap_or(Value::Null)
}

/// Evaluates `js` until it is true; a generous deadline, since a loaded machine is slow.
pub fn wait_for(tab: &Tab, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while eval(tab, js) != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the page never satisfied {js}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url).expect("navigate");
    tab.wait_until_navigated().expect("page loads");
    wait_for(tab, "typeof window.dialerRendered === 'number'");
}

/// Saves what the tab shows under `target/screenshots/NAME.png`.
pub fn screenshot(tab: &Tab, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}
