//! The test environment: a temp dir, a sandbox on 127.0.0.1:0 in this process, CSV
//! writers, and the real `dialer` binary run against both. Nothing leaves the machine.

#![allow(dead_code)]

pub mod browser;
pub mod receiver;

use std::path::{Path, PathBuf};
use std::process::Output;

use dialer::ledger::{Campaign, Counts, Ledger, RowRecord};
use dialer::sandbox::{self, Sandbox, SandboxConfig};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
}

impl Env {
    pub async fn new(config: SandboxConfig) -> Env {
        let sandbox = sandbox::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("start the sandbox");
        Env {
            dir: tempfile::tempdir().unwrap(),
            sandbox,
        }
    }

    pub async fn default() -> Env {
        Env::new(SandboxConfig::default()).await
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.path("ledger.db")
    }

    /// Runs `dialer ARGS` against the sandbox with the sandbox's static token.
    pub async fn dialer(&self, args: &[&str]) -> Run {
        self.dialer_with(args, &[("LEVERS_API_TOKEN", "sandbox-token")])
            .await
    }

    /// The same with exactly these credential variables (none of the caller's leak in).
    pub async fn dialer_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.command(args, env).output().await;
        Run::from(out.expect("run the dialer binary"))
    }

    /// Starts `dialer ARGS` with the sandbox token and returns at once (for signals).
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args, &[("LEVERS_API_TOKEN", "sandbox-token")])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the dialer binary")
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialer"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("DIALER_LEDGER", self.ledger_path())
            .env("LEVERS_API_URL", self.sandbox.url())
            .env_remove("LEVERS_API_TOKEN")
            .env_remove("LEVERS_CLIENT_ID")
            .env_remove("LEVERS_CLIENT_SECRET")
            .env_remove("RUST_LOG")
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn ledger(&self) -> Ledger {
        Ledger::open(&self.ledger_path()).unwrap()
    }

    pub fn campaign(&self, name: &str) -> (Ledger, Campaign) {
        let l = self.ledger();
        let c = l.campaign(name).unwrap();
        (l, c)
    }

    pub fn counts(&self, name: &str) -> Counts {
        let (l, c) = self.campaign(name);
        l.counts(c.id).unwrap()
    }

    pub fn rows(&self, name: &str) -> Vec<RowRecord> {
        let (l, c) = self.campaign(name);
        let mut out = Vec::new();
        l.for_each_row(c.id, |r| {
            out.push(r);
            std::ops::ControlFlow::<()>::Continue(())
        })
        .unwrap();
        out
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A CSV of `n` distinct valid Saudi mobile numbers.
pub fn contacts(n: usize) -> String {
    let mut s = String::from("first_name,phone\n");
    for i in 0..n {
        s.push_str(&format!("P{i},{}\n", number(i)));
    }
    s
}

/// The `i`-th test number, in E.164.
pub fn number(i: usize) -> String {
    format!("+96650{i:07}")
}

/// A path as a command-line argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `dialer run FILE --rate unlimited ARGS...`, which must succeed.
pub async fn run_ok(env: &Env, file: &Path, args: &[&str]) {
    let mut all = vec!["run", arg(file), "--rate", "unlimited"];
    all.extend_from_slice(args);
    env.dialer(&all).await.expect_code(0);
}

pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `dialer run FILE --rate unlimited ARGS...`, whatever its exit code.
pub async fn run_unlimited(env: &Env, file: &Path, args: &[&str]) -> Run {
    let mut all = vec!["run", arg(file), "--rate", "unlimited"];
    all.extend_from_slice(args);
    env.dialer(&all).await
}

/// The sandbox placed `total` calls, none of them to a number it had called before.
#[track_caller]
pub fn each_number_called_once(env: &Env, total: u64) {
    let stats = env.sandbox.stats();
    assert_eq!(stats.total_calls, total, "{stats:?}");
    assert!(
        stats.calls_per_number.values().all(|&n| n == 1),
        "a number was called twice: {:?}",
        stats.calls_per_number
    );
}
