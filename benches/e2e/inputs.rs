//! Seeded contact files for the benchmarks: N rows of valid, distinct numbers across
//! regions, in the formats people type (national with a leading 0 for the default region,
//! `+CC` with spaces, dashes or brackets elsewhere), with names, an e-mail, a prompt tag and
//! a metadata column, so every request body is as large as a real one.
//!
//! Files are cached under `target/bench-data/` by row count and seed: the same inputs are
//! reused across runs, and only the first run pays for writing a million rows.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dialer::plan::{normalize_number, parse_region};

/// One family of numbers: a fixed prefix (as written in the file) followed by `digits`
/// subscriber digits. Prefixes are disjoint across templates, so numbers never collide.
struct Template {
    prefix: &'static str,
    digits: u32,
    /// How the subscriber digits are grouped when written, e.g. `[3, 4]` -> `123 4567`.
    groups: &'static [usize],
    sep: &'static str,
}

/// Blocks that libphonenumber calls valid (every number is checked as the file is written). The first two are Saudi (the runs pass `--default-region SA`).
const TEMPLATES: &[Template] = &[
    Template {
        prefix: "050",
        digits: 7,
        groups: &[3, 4],
        sep: " ",
    },
    Template {
        prefix: "+966 55",
        digits: 7,
        groups: &[3, 4],
        sep: " ",
    },
    Template {
        prefix: "+1 (415) 6",
        digits: 6,
        groups: &[2, 4],
        sep: "-",
    },
    Template {
        prefix: "+44 740",
        digits: 7,
        groups: &[1, 6],
        sep: " ",
    },
    Template {
        prefix: "+971 50",
        digits: 7,
        groups: &[3, 4],
        sep: " ",
    },
    Template {
        prefix: "+20 10",
        digits: 8,
        groups: &[4, 4],
        sep: " ",
    },
    Template {
        prefix: "+49 170",
        digits: 7,
        groups: &[7],
        sep: "",
    },
    Template {
        prefix: "+91 98",
        digits: 8,
        groups: &[3, 5],
        sep: " ",
    },
    Template {
        prefix: "+33 61",
        digits: 7,
        groups: &[1, 2, 2, 2],
        sep: " ",
    },
];

const FIRST: &[&str] = &[
    "Aisha", "Omar", "Noura", "Khalid", "Sara", "John", "Maria", "Li", "Fatima", "Yusuf",
];
const LAST: &[&str] = &[
    "Al-Harbi", "Smith", "Haddad", "Schmidt", "Dubois", "Patel", "Nasser", "Okafor",
];

pub const HEADER: &str = "phone,first_name,last_name,email,tag:amount,account\n";

/// splitmix64: tiny, seedable and the same on every machine, so a seed names one file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// The `k`-th distinct subscriber number of a `digits`-digit block: `k * step + offset`
/// modulo 10^digits is a bijection when `step` is coprime with 10, so numbers are unique
/// yet spread over the block instead of counting up.
fn subscriber(k: u64, digits: u32, seed: u64) -> String {
    let modulus = 10u64.pow(digits);
    let step = 7_919u64; // prime, coprime with 10
    let offset = seed.wrapping_mul(104_729) % modulus;
    let n = (k.wrapping_mul(step).wrapping_add(offset)) % modulus;
    format!("{n:0width$}", width = digits as usize)
}

fn written(template: &Template, k: u64, seed: u64) -> String {
    let digits = subscriber(k, template.digits, seed);
    let mut out = String::with_capacity(24);
    out.push_str(template.prefix);
    let mut at = 0;
    for (i, len) in template.groups.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { template.sep });
        out.push_str(&digits[at..at + len]);
        at += len;
    }
    out
}

/// The phone cell of row `i` (0-based).
fn phone(i: u64, seed: u64) -> String {
    let n = TEMPLATES.len() as u64;
    written(&TEMPLATES[(i % n) as usize], i / n, seed)
}

/// The cached file of `rows` data rows for `seed`, written first if missing.
pub fn contacts(dir: &Path, rows: u64, seed: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("contacts-{rows}-{seed}.csv"));
    if path.exists() {
        return Ok(path);
    }
    fs::create_dir_all(dir)?;
    let partial = dir.join(format!(".contacts-{rows}-{seed}.partial"));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
    out.write_all(HEADER.as_bytes())?;
    let mut rng = Rng(seed);
    let region = parse_region("SA").map_err(|e| std::io::Error::other(e.to_string()))?;
    let per_block = TEMPLATES
        .iter()
        .map(|t| 10u64.pow(t.digits))
        .min()
        .unwrap_or(0);
    if rows / TEMPLATES.len() as u64 >= per_block {
        return Err(std::io::Error::other(
            "more rows than distinct numbers per template",
        ));
    }
    for i in 0..rows {
        let cell = phone(i, seed);
        // A template typo would turn benchmark calls into skipped rows: refuse the file.
        if let Err(e) = normalize_number(&cell, Some(region)) {
            return Err(std::io::Error::other(format!(
                "generated {cell:?} is invalid: {e:?}"
            )));
        }
        let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
        let amount = rng.next() % 100_000;
        writeln!(
            out,
            "{cell},{first},{last},{}.{}{i}@example.com,{}.{:02},ACC-{:08}",
            first.to_lowercase(),
            last.to_lowercase().replace('-', ""),
            amount / 100,
            amount % 100,
            rng.next() % 100_000_000,
        )?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&partial, &path)?;
    Ok(path)
}
