//! Hidden stand-ins for the global options a command has no use for.
//!
//! clap copies a global option into every subcommand unless that subcommand already holds
//! an argument with the same id. A hidden argument with the global's id and value type
//! therefore keeps the option out of that command's `--help`, completions and man page,
//! while `dialer --ledger X sandbox` and `dialer sandbox --ledger X` parse exactly as
//! before (scripts written against the old help keep working; the value is ignored).

use std::path::PathBuf;

use clap::builder::EnumValueParser;
use clap::{Arg, ArgAction, value_parser};

use super::LogFormat;

pub fn ledger() -> Arg {
    Arg::new("ledger")
        .long("ledger")
        .value_parser(value_parser!(PathBuf))
        .hide(true)
}

pub fn no_progress() -> Arg {
    Arg::new("no_progress")
        .long("no-progress")
        .action(ArgAction::SetTrue)
        .hide(true)
}

pub fn verbose() -> Arg {
    Arg::new("verbose")
        .short('v')
        .long("verbose")
        .action(ArgAction::Count)
        .hide(true)
}

pub fn quiet() -> Arg {
    Arg::new("quiet")
        .short('q')
        .long("quiet")
        .action(ArgAction::Count)
        .hide(true)
}

pub fn log_format() -> Arg {
    Arg::new("log_format")
        .long("log-format")
        .value_parser(EnumValueParser::<LogFormat>::new())
        .hide(true)
}

/// Every global option, for commands that neither log nor touch a ledger.
pub fn all() -> [Arg; 5] {
    [ledger(), no_progress(), verbose(), quiet(), log_format()]
}
