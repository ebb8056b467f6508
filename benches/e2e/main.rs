//! The end-to-end benchmark harness (issue 7): generates seeded contact files, runs the
//! real release `dialer` binary against an in-process sandbox on loopback (no latency, no
//! faults), and prints one figure per line with its target, MET or MISSED, and the
//! machine's load average at the moment it was taken.
//!
//! `cargo bench --bench e2e` runs every group; name groups to run only those
//! (`cargo bench --bench e2e -- throughput rate`): `throughput`, `million` (100k and 1M
//! runs: memory, start-up, resume, report), `dryrun`, `rate`, `sheets` (a 100k-row `.xlsx`
//! run and dry run, a 1M-row `xlsx` report), `oha` (the dialer beside the `oha` load
//! generator on the same sandbox and endpoint, when it is on PATH). `--scale F` multiplies every
//! row count (e.g. `--scale 0.1` for a quick look; the targets are for scale 1);
//! `--work DIR` keeps the ledgers and reports there (they must not exist yet) for a closer
//! look, e.g. profiling `dialer resume` on the 1M ledger.
//!
//! The sandbox runs inside this process so the first request can be timed without a clock
//! shared across processes: the harness notes the instant it spawns `dialer` and polls the
//! sandbox's request counter every 200 µs until it moves.

mod child;
mod figures;
mod inputs;
mod sheets;
mod versus;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use dialer::sandbox::{self, Sandbox, SandboxConfig};

/// What every figure needs: the binary, the data directory, a runtime for the sandbox.
pub struct Ctx {
    pub bin: PathBuf,
    pub data: PathBuf,
    /// Ledgers and reports; a temp dir unless `--work DIR` keeps them for a closer look.
    pub work: Work,
    pub rt: tokio::runtime::Runtime,
    pub seed: u64,
    pub scale: f64,
}

impl Ctx {
    /// `rows` at scale 1, scaled (at least 100 rows).
    pub fn rows(&self, rows: u64) -> u64 {
        ((rows as f64 * self.scale).round() as u64).max(100)
    }

    /// A fresh sandbox with no latency and no faults, so each figure sees only its own calls.
    pub fn sandbox(&self) -> Result<Sandbox, String> {
        let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        self.rt
            .block_on(sandbox::start(SandboxConfig::default(), addr))
            .map_err(|e| format!("cannot start the sandbox: {e}"))
    }

    pub fn stop(&self, sandbox: Sandbox) {
        self.rt.block_on(sandbox.shutdown());
    }
}

pub enum Work {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Work {
    pub fn path(&self) -> &std::path::Path {
        match self {
            Work::Temp(dir) => dir.path(),
            Work::Kept(dir) => dir,
        }
    }

    /// A ledger path in the work dir with nothing left there by an earlier run of the same
    /// group (with `--work`, a finished campaign would be measured as a no-op).
    pub fn fresh_ledger(&self, name: &str) -> Result<PathBuf, String> {
        let path = self.path().join(name);
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove {}: {e}", file.display())),
            }
        }
        Ok(path)
    }
}

/// One-minute load average, as `uptime` shows it.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Prints one figure: `name: value | target | MET/MISSED | details | load`.
pub fn figure(name: &str, value: String, target: Option<(&str, bool)>, detail: &str) {
    let verdict = match target {
        Some((text, met)) => format!("target {text} | {}", if met { "MET" } else { "MISSED" }),
        None => "info".to_owned(),
    };
    println!("{name}: {value} | {verdict} | {detail} | load {}", load());
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{model}, {cores} cores, {mem_gib:.1} GiB RAM")
}

struct Args {
    groups: Vec<String>,
    scale: f64,
    seed: u64,
    work: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        groups: Vec::new(),
        scale: 1.0,
        seed: 7,
        work: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--scale" => {
                let v = it.next().ok_or("--scale needs a number")?;
                args.scale = v
                    .parse()
                    .map_err(|_| format!("--scale {v}: not a number"))?;
            }
            "--seed" => {
                let v = it.next().ok_or("--seed needs a number")?;
                args.seed = v.parse().map_err(|_| format!("--seed {v}: not a number"))?;
            }
            "--work" => args.work = Some(it.next().ok_or("--work needs a directory")?.into()),
            // `cargo bench` passes `--bench`; other libtest flags mean nothing here.
            flag if flag.starts_with("--") => {}
            group => args.groups.push(group.to_owned()),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if argv.first().is_some_and(|a| a == child::MEASURE) {
        std::process::exit(child::measure(&argv[1..]));
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ctx = Ctx {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_dialer")),
        data: root.join("target").join("bench-data"),
        work: match args.work {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("--work {}: {e}", dir.display()))?;
                Work::Kept(dir)
            }
            None => {
                Work::Temp(tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?)
            }
        },
        rt: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?,
        seed: args.seed,
        scale: args.scale,
    };
    let wanted = |g: &str| args.groups.is_empty() || args.groups.iter().any(|a| a == g);
    println!(
        "machine: {} | binary {} | scale {}",
        machine(),
        ctx.bin.display(),
        ctx.scale
    );
    println!("load at start: {}", load());
    if wanted("throughput") {
        figures::throughput(&ctx)?;
    }
    if wanted("million") {
        figures::million(&ctx)?;
    }
    if wanted("dryrun") {
        figures::dry_run(&ctx)?;
    }
    if wanted("rate") {
        figures::rate(&ctx)?;
    }
    if wanted("sheets") {
        sheets::sheets(&ctx)?;
    }
    if wanted("oha") {
        versus::versus_oha(&ctx)?;
    }
    println!("load at end: {}", load());
    Ok(())
}
