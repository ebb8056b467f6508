//! The command line explains itself: help text with examples for every command, global
//! options only where they apply (and still accepted where they always were), shell
//! completions that a shell accepts, a man page that `man` renders, and the demo telling
//! the user where to look afterwards.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use clap::{CommandFactory, Parser};
use dialer::cli::Cli;

fn dialer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(args)
        .env_remove("DIALER_LEDGER")
        .output()
        .expect("run dialer")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The tree as clap shows it: built, so that global options sit in every subcommand.
fn built() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

fn help_of(name: &str) -> String {
    let mut cmd = built();
    let sub = cmd
        .find_subcommand_mut(name)
        .unwrap_or_else(|| panic!("no command {name}"));
    sub.render_help().to_string()
}

#[test]
fn every_command_has_examples_and_every_flag_a_description() {
    let cmd = built();
    let mut commands = vec![&cmd];
    commands.extend(cmd.get_subcommands().filter(|s| s.get_name() != "help"));
    assert!(commands.len() >= 11, "{} commands", commands.len());
    for c in commands {
        let name = c.get_name();
        let after = c
            .get_after_help()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let examples = after
            .lines()
            .filter(|l| l.starts_with("  ") && l.contains("dialer "))
            .count();
        assert!(
            after.starts_with("Examples:") && examples >= 2,
            "`{name} --help` needs two or three examples, has:\n{after}"
        );
        assert!(c.get_about().is_some(), "`{name}` has no description");
        for arg in c.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                !help.trim().is_empty(),
                "`{name}` has --{} without a description",
                arg.get_long().unwrap_or(arg.get_id().as_str())
            );
        }
    }
}

#[test]
fn global_options_show_only_on_commands_they_apply_to() {
    for name in ["run", "resume", "retry", "demo"] {
        let help = help_of(name);
        for flag in ["--ledger", "--no-progress", "--verbose", "--log-format"] {
            assert!(help.contains(flag), "`{name} --help` lacks {flag}");
        }
    }
    for name in ["status", "report", "webhook"] {
        let help = help_of(name);
        assert!(help.contains("--ledger"), "`{name} --help` lacks --ledger");
        assert!(
            !help.contains("--no-progress"),
            "`{name}` shows --no-progress"
        );
    }
    let sandbox = help_of("sandbox");
    assert!(!sandbox.contains("--ledger") && !sandbox.contains("--no-progress"));
    assert!(
        sandbox.contains("--verbose"),
        "the sandbox logs, so -v applies"
    );
    for name in ["completions", "manpage"] {
        let help = help_of(name);
        for flag in [
            "--ledger",
            "--no-progress",
            "--verbose",
            "--quiet",
            "--log-format",
        ] {
            assert!(!help.contains(flag), "`{name} --help` shows {flag}");
        }
    }
    // Nor in the completions of those commands, while the commands that use them keep them.
    let bash = stdout(&dialer(&["completions", "bash"]));
    let words = |name: &str| {
        let case = format!("dialer__subcmd__{name})");
        bash.lines()
            .skip_while(|l| l.trim() != case)
            .find(|l| l.contains("opts=\""))
            .unwrap_or_else(|| panic!("no completion words for {name}"))
            .to_owned()
    };
    let sandbox = words("sandbox");
    assert!(
        !sandbox.contains("--ledger") && sandbox.contains("--latency"),
        "{sandbox}"
    );
    assert!(!words("manpage").contains("--verbose"));
    assert!(!words("status").contains("--no-progress"));
    let run = words("run");
    assert!(
        run.contains("--ledger") && run.contains("--no-progress"),
        "{run}"
    );
}

#[test]
fn ledger_is_read_before_or_after_the_command_and_hidden_globals_still_parse() {
    let at = |args: &[&str]| Cli::try_parse_from(args).expect("parses").ledger_path();
    assert_eq!(
        at(&["dialer", "--ledger", "x.db", "status"]),
        Path::new("x.db")
    );
    assert_eq!(
        at(&["dialer", "status", "--ledger", "x.db"]),
        Path::new("x.db")
    );
    assert_eq!(
        at(&["dialer", "report", "c", "--ledger", "y.db"]),
        Path::new("y.db")
    );
    assert_eq!(at(&["dialer", "status"]), Path::new("dialer.db"));
    // Accepted (and ignored) where they do nothing, as before they were hidden there.
    for args in [
        &["dialer", "--ledger", "x.db", "sandbox"][..],
        &["dialer", "sandbox", "--ledger", "x.db", "--no-progress"],
        &["dialer", "--no-progress", "status"],
        &[
            "dialer",
            "-v",
            "completions",
            "bash",
            "-q",
            "--log-format",
            "json",
        ],
    ] {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let cli = Cli::try_parse_from(["dialer", "status", "-vv", "--log-format", "json"]).unwrap();
    assert_eq!(
        (cli.verbose, cli.log_format),
        (2, dialer::cli::LogFormat::Json)
    );

    // DIALER_LEDGER still names the ledger, and --ledger still beats it.
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("from-env.db");
    let out = Command::new(env!("CARGO_BIN_EXE_dialer"))
        .arg("status")
        .env("DIALER_LEDGER", &from_env)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("from-env.db"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(["status", "--ledger"])
        .arg(dir.path().join("flag.db"))
        .env("DIALER_LEDGER", &from_env)
        .output()
        .unwrap();
    assert!(stderr(&out).contains("flag.db"), "{}", stderr(&out));
}

#[test]
fn bash_completions_source_cleanly_and_every_shell_gets_a_script() {
    let script = format!(
        "source <('{}' completions bash) && complete -p dialer",
        env!("CARGO_BIN_EXE_dialer")
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "bash: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "bash complained: {}", stderr(&out));
    assert!(
        stdout(&out).contains("-F _dialer dialer"),
        "{}",
        stdout(&out)
    );

    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = dialer(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("dialer") && text.contains("max-attempts"),
            "{shell}"
        );
    }
    let bad = dialer(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Pipes `input` into `program args` and returns what it printed.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("MANWIDTH", "100")
        .env_remove("MAN_KEEP_FORMATTING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// `man`'s text without its overstrike bold and underline (`D\bD`, `_\bx`).
fn unformat(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_man_page_renders_with_every_command_in_it() {
    let page = dialer(&["manpage"]);
    assert!(page.status.success(), "{}", stderr(&page));
    assert!(stdout(&page).contains("\n.TH dialer 1 "), "not a roff page");
    if !has("man") {
        eprintln!("SKIPPED: `man` is not installed, so `dialer manpage | man -l -` was not run");
        return;
    }
    let shown = pipe("man", &["-l", "-"], &page.stdout);
    assert!(shown.status.success(), "man: {}", stderr(&shown));
    let text = unformat(&stdout(&shown));
    for name in [
        "run", "resume", "retry", "status", "webhook", "report", "demo",
    ] {
        let heading = format!("DIALER {}", name.to_uppercase());
        assert!(text.contains(&heading), "no {heading} section");
    }
    assert!(text.contains("EXAMPLES") && text.contains("--max-attempts"));
    if has("groff") {
        // -ww: every warning; the page must not make groff complain.
        let checked = pipe("groff", &["-man", "-Tutf8", "-ww", "-z"], &page.stdout);
        assert!(stderr(&checked).is_empty(), "groff: {}", stderr(&checked));
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dialer(&["manpage", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["dialer.1", "dialer-run.1", "dialer-completions.1"] {
        assert!(dir.path().join(file).is_file(), "no {file}");
    }
}

#[test]
fn a_template_that_is_not_a_uuid_is_a_usage_error_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("t.db");
    let out = dialer(&[
        "run",
        "does-not-exist.csv",
        "--template",
        "spring-template",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("\"spring-template\" is not a template id") && err.contains("UUID"),
        "{err}"
    );
    assert!(!ledger.exists(), "nothing may be written");
}

#[test]
fn the_demo_says_how_to_look_at_what_it_did() {
    let out = dialer(&["demo", "--rate", "unlimited", "--no-progress"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let status_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("dialer --ledger") && l.ends_with("status demo"))
        .unwrap_or_else(|| panic!("no status command in:\n{text}"));
    assert!(text.contains("dialer --ledger demo.db demo"), "{text}");
    let ledger = status_line
        .trim()
        .strip_prefix("dialer --ledger ")
        .and_then(|l| l.strip_suffix(" status demo"))
        .unwrap();
    let status = dialer(&["--ledger", ledger, "status", "demo", "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(stdout(&status).contains("\"demo\""));
    // The demo keeps its temporary directory for these commands; the test tidies it.
    std::fs::remove_dir_all(Path::new(ledger).parent().unwrap()).unwrap();
}

#[test]
fn the_dry_run_shows_a_whole_name_column_split_into_first_and_last_name() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("names.csv");
    std::fs::write(&csv, "Full Name,phone\nSara Al Harbi,0501234567\n").unwrap();
    let ledger = dir.path().join("n.db");
    let out = dialer(&[
        "run",
        csv.to_str().unwrap(),
        "--default-region",
        "SA",
        "--dry-run",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("Full Name -> firstName + lastName (split at the first space)"),
        "{text}"
    );
    assert!(text.contains("\"firstName\": \"Sara\""), "{text}");
    assert!(text.contains("\"lastName\": \"Al Harbi\""), "{text}");
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // `dialer status | head -1`: the reader is gone before the command prints. (Should the
    // command print first, the pipe holds it and the run is an ordinary one.)
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.db");
    drop(dialer::ledger::Ledger::open(&ledger).unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialer"))
        .args(["--ledger", ledger.to_str().unwrap(), "status"])
        .env_remove("DIALER_LEDGER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dialer");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
