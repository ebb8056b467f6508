//! Running the real `dialer` binary and measuring it from the outside: wall time, peak RSS
//! and the delay from spawning the process to the first call request reaching the
//! in-process sandbox.
//!
//! Peak RSS is the kernel's own high-water mark from `wait4`'s rusage, so no tool such as
//! `/usr/bin/time` is needed and no sampling can miss a short peak. One catch: Linux folds
//! the RSS of the process *before* its `exec` into that figure, and a child spawned by
//! this harness starts as a copy of it (tens of MiB once a sandbox has seen 100k numbers).
//! So the harness re-runs itself as a small "measurer" ([`MEASURE`]) that spawns `dialer`,
//! reaps it with `wait4` and hands the figure back in a file.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use dialer::sandbox::Sandbox;

/// What one finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub code: i32,
    pub wall: Duration,
    /// Peak resident set, in KiB (`ru_maxrss` on Linux).
    pub max_rss_kib: u64,
    /// User + system CPU time: next to the wall time it shows how much the load cost.
    pub cpu: Duration,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to the sandbox's request counter moving, when a sandbox was watched.
    pub first_request: Option<Duration>,
}

impl Finished {
    pub fn max_rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }

    /// `wall 7.9 s, cpu 7.4 s`, for the details of a figure.
    pub fn times(&self) -> String {
        format!(
            "wall {:.2} s, cpu {:.2} s",
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64()
        )
    }

    /// Fails with the process's own words when it did not exit as `expected`.
    pub fn expect_code(self, expected: &[i32], what: &str) -> Result<Finished, String> {
        if expected.contains(&self.code) {
            return Ok(self);
        }
        let tail: String = self
            .stderr
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .join(" | ");
        Err(format!(
            "{what}: exit {} (stderr, last lines first: {tail})",
            self.code
        ))
    }
}

/// The first argument that makes the harness a measurer: `MEASURE BIN ARGS...`.
pub const MEASURE: &str = "__measure";
/// Where the measurer writes `PEAK_RSS_KIB CPU_MICROS` of the process it ran.
const MAXRSS_FILE: &str = "DIALER_BENCH_MAXRSS_FILE";

/// The measurer's whole life: run `args[0]` with the rest, write its peak RSS to the file
/// named by [`MAXRSS_FILE`], exit with its code.
pub fn measure(args: &[OsString]) -> i32 {
    let Some((bin, rest)) = args.split_first() else {
        eprintln!("bench: {MEASURE} needs a program to run");
        return 2;
    };
    let mut cmd = Command::new(bin);
    cmd.args(rest).env_remove(MAXRSS_FILE);
    // SAFETY: prctl is async-signal-safe; it makes `dialer` die with us when the harness
    // kills us at a time limit, so no benchmark process outlives its figure.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let result = cmd
        .spawn()
        .map_err(|e| e.to_string())
        .and_then(|c| wait_rusage(&c));
    match result {
        Ok((code, usage)) => {
            if let Some(path) = std::env::var_os(MAXRSS_FILE) {
                let cpu = usage.cpu.as_micros();
                let _ = std::fs::write(path, format!("{} {cpu}", usage.max_rss_kib));
            }
            code
        }
        Err(e) => {
            eprintln!("bench: cannot run {}: {e}", Path::new(bin).display());
            127
        }
    }
}

/// `dialer` (through the measurer) with the environment every benchmark run shares: the
/// sandbox's token, its URL, no progress bar, and only our crate's debug lines (the
/// writer's commit count).
pub fn dialer(bin: &Path, ledger: &Path, sandbox_url: &str) -> Command {
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("e2e"));
    let mut cmd = Command::new(me);
    cmd.arg(MEASURE)
        .arg(bin)
        .arg("--ledger")
        .arg(ledger)
        .arg("--no-progress")
        .env("LEVERS_API_TOKEN", "sandbox-token")
        .env("LEVERS_API_URL", sandbox_url)
        .env("RUST_LOG", "warn,dialer::campaign=debug")
        .env_remove("LEVERS_CLIENT_ID")
        .env_remove("LEVERS_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What `wait4` says about one child.
struct Usage {
    max_rss_kib: u64,
    cpu: Duration,
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u64::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}

/// Exit code and rusage of `child`, reaped with `wait4` so the rusage is this child's
/// alone (RUSAGE_CHILDREN would be the maximum over every child so far).
fn wait_rusage(child: &Child) -> Result<(i32, Usage), String> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both pointers are to live locals.
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if got == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4 failed: {err}"));
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let usage = Usage {
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
    };
    Ok((code, usage))
}

/// Runs `cmd` (from [`dialer`]) to the end, killing it after `limit` (every benchmark
/// stays bounded). With `watch`, polls the sandbox's request counter every 200 µs from the
/// spawn until it moves (or the process ends) to time the first request; the measurer's
/// own start (about a millisecond) is counted against `dialer`, never in its favour.
pub fn run(mut cmd: Command, watch: Option<&Sandbox>, limit: Duration) -> Result<Finished, String> {
    let rss_file = tempfile::NamedTempFile::new().map_err(|e| format!("temp file: {e}"))?;
    cmd.env(MAXRSS_FILE, rss_file.path());
    let before = watch.map(|s| s.stats().requests);
    let spawned = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start dialer: {e}"))?;
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        let result = wait_rusage(&child);
        let _ = done_tx.send(Instant::now());
        result
    });
    let mut first_request = None;
    let mut ended = false;
    if let (Some(sandbox), Some(before)) = (watch, before) {
        while !ended {
            if sandbox.stats().requests > before {
                first_request = Some(spawned.elapsed());
                break;
            }
            ended = done_rx.try_recv().is_ok();
            thread::sleep(Duration::from_micros(200));
        }
    }
    let remaining = limit.saturating_sub(spawned.elapsed());
    if !ended && done_rx.recv_timeout(remaining).is_err() {
        // SAFETY: `pid` is our child, not reaped yet: the waiter has not returned.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = waiter.join();
        return Err(format!("dialer did not finish within {limit:?}; killed it"));
    }
    let (code, _) = waiter.join().map_err(|_| "the wait thread panicked")??;
    let measured = std::fs::read_to_string(rss_file.path()).unwrap_or_default();
    let mut fields = measured
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    let max_rss_kib = fields.next().unwrap_or(0);
    let cpu = Duration::from_micros(fields.next().unwrap_or(0));
    let wall = spawned.elapsed();
    let text = |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Finished {
        code,
        wall,
        max_rss_kib,
        cpu,
        stdout: text(out),
        stderr: text(err),
        first_request,
    })
}

/// `(commits, operations)` from the "ledger writer:" debug line a dispatch ends with.
pub fn writer_stats(stderr: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().find(|l| l.contains("ledger writer:"))?;
    let rest = &line[line.find("ledger writer:")? + "ledger writer:".len()..];
    let mut words = rest.split_whitespace();
    let commits = words.next()?.trim_end_matches(',').parse().ok()?;
    let _ = words.next(); // "commits,"
    let ops = words.next()?.trim_end_matches(',').parse().ok()?;
    Some((commits, ops))
}
