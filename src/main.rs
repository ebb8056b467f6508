//! The `dialer` binary: parse the command line, start logging and the runtime, run one
//! subcommand, and turn its result into SPEC.md's exit code with one clear sentence.

use clap::Parser;
use tracing_subscriber::{EnvFilter, fmt};

use dialer::cli::{Cli, Command, LogFormat};
use dialer::cmd::{self, CmdError};
use dialer::ledger::ControlAction;
use dialer::progress;

/// mimalloc, not glibc's malloc: on the unpaced call path a row's buffers are allocated on
/// one thread (ingest, a tokio worker) and freed on another (the ledger writer, its sync
/// thread), and glibc's malloc, free and consolidation were 9 % of the CPU. 8 % more calls
/// a second on 200k rows, for 4-5 MiB more peak RSS (every benchmark peak under 64 MiB).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    keep_freed_memory();
    let cli = Cli::parse();
    init_logging(&cli);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dialer: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(dispatch(&cli)) {
        Ok(code) => code,
        Err(e) => {
            report_error(&cli, &e);
            e.exit_code()
        }
    };
    // Don't wait for stray blocking tasks (e.g. a stdin read) on the way out.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}

async fn dispatch(cli: &Cli) -> Result<i32, CmdError> {
    let env = |k: &str| std::env::var(k).ok();
    match &cli.command {
        Command::Run(args) => {
            let interrupt = cmd::interrupt_on_signals();
            cmd::run::run(&cli.ledger_path(), args, env, interrupt, !cli.no_progress).await
        }
        Command::Resume(args) => {
            let interrupt = cmd::interrupt_on_signals();
            cmd::resume::resume(&cli.ledger_path(), args, env, interrupt, !cli.no_progress).await
        }
        Command::Retry(args) => {
            let interrupt = cmd::interrupt_on_signals();
            cmd::resume::retry(&cli.ledger_path(), args, env, interrupt, !cli.no_progress).await
        }
        Command::Pause(args) => {
            cmd::control::run(&cli.ledger_path(), args, ControlAction::Pause).await
        }
        Command::Cancel(args) => {
            cmd::control::run(&cli.ledger_path(), args, ControlAction::Cancel).await
        }
        Command::Status(args) => cmd::status::run(&cli.ledger_path(), args),
        Command::Report(args) => cmd::report::run(&cli.ledger_path(), args),
        Command::Sandbox(args) => cmd::sandbox::run(args).await,
        Command::Webhook(args) => cmd::webhook::run(&cli.ledger_path(), args, env).await,
        Command::Dashboard(args) => cmd::dashboard::run(&cli.ledger_path(), args, env).await,
        Command::Demo(args) => {
            let interrupt = cmd::interrupt_on_signals();
            cmd::demo::run(cli.ledger.clone(), args, interrupt, !cli.no_progress).await
        }
        Command::Completions(args) => cmd::completions::run(args),
        Command::Manpage(args) => cmd::manpage::run(args),
    }
}

/// The one sentence a user sees when a command fails: on stderr as text, or as one JSON
/// line with `--log-format json` so a machine reading the log can parse it too.
fn report_error(cli: &Cli, e: &CmdError) {
    let message = e.to_string();
    match cli.log_format {
        LogFormat::Json => {
            let line = serde_json::json!({
                "level": "ERROR",
                "fields": {"message": message, "exit_code": e.exit_code()},
                "target": "dialer",
            });
            eprintln!("{line}");
        }
        LogFormat::Text => eprintln!("dialer: {message}"),
    }
}

fn init_logging(cli: &Cli) {
    let level = match i16::from(cli.verbose) - i16::from(cli.quiet) {
        i16::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // RUST_LOG wins when set; otherwise -v/-q pick the level for our crate only.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,dialer={level}")));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter)
        .with_ansi(progress::colour_on_stderr());
    progress::set_json_logs(cli.log_format == LogFormat::Json);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
}

/// Profiled: 17 % of the ledger writer's time was glibc giving freed memory back to the
/// system after SQLite released each savepoint's journal (`madvise` on the thread's arena,
/// then a TLB flush on every core). A high trim threshold keeps it for the next batch; the
/// peak is unchanged. SQLite allocates through glibc still: [`GLOBAL`] serves Rust only.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; it is called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
