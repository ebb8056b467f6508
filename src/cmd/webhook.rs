//! `dialer webhook`: the signed-webhook receiver on `--listen`, writing into the ledger,
//! until Ctrl-C or SIGTERM (then it finishes the deliveries in hand and exits 0).

use std::path::Path;

use tokio::signal::unix::{SignalKind, signal};

use super::say;
use super::{CmdError, exit};
use crate::cli::WebhookArgs;
use crate::ledger::Ledger;
use crate::webhook::{self, ReceiverConfig, WebhookSecret};

/// Where the secret comes from when `--secret-file` is not given.
pub const SECRET_ENV: &str = "LEVERS_WEBHOOK_SECRET";

pub async fn run(
    ledger_path: &Path,
    args: &WebhookArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<i32, CmdError> {
    let secret = secret(args, &env)?;
    webhook::check_path(&args.path).map_err(CmdError::Usage)?;
    let ledger = Ledger::open(ledger_path)?;
    let config = ReceiverConfig {
        secret,
        path: args.path.clone(),
    };
    // Checked first, so a refused dashboard address never leaves a receiver half started.
    if let Some(addr) = args.dashboard {
        crate::dashboard::check(addr, env(crate::dashboard::TOKEN_ENV))?;
    }
    let receiver = webhook::start(ledger, config, args.listen)
        .await
        .map_err(|e| CmdError::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    if !args.listen.ip().is_loopback() {
        tracing::warn!(
            "listening on {}: reachable from other machines; put it behind an HTTPS proxy",
            args.listen
        );
    }
    // The URL goes to stdout so scripts (and tests) can read the port picked for :0.
    say!("webhook receiver listening on {}", receiver.url());
    eprintln!(
        "writing events into {}; register the URL (through your HTTPS proxy) in the Levers \
         dashboard, Settings > Webhooks",
        ledger_path.display()
    );
    let board = match args.dashboard {
        Some(addr) => Some(super::dashboard::start(ledger_path, addr, &env).await?),
        None => None,
    };
    stop_signal().await?;
    tracing::info!("stopping the webhook receiver");
    receiver.shutdown().await;
    if let Some(board) = board {
        board.shutdown().await;
    }
    Ok(exit::OK)
}

/// `--secret-file` wins over the environment; without either the receiver refuses to
/// start, since it could not tell a real delivery from a forged one.
fn secret(
    args: &WebhookArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<WebhookSecret, CmdError> {
    let (text, source) = match &args.secret_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CmdError::Usage(format!(
                    "cannot read the webhook secret file {}: {e}",
                    path.display()
                ))
            })?;
            (text, path.display().to_string())
        }
        None => match env(SECRET_ENV) {
            Some(text) => (text, SECRET_ENV.to_owned()),
            None => {
                return Err(CmdError::Usage(format!(
                    "no webhook secret: set {SECRET_ENV} or pass --secret-file PATH with the \
                     endpoint's signing secret (whsec_...) from the Levers dashboard"
                )));
            }
        },
    };
    WebhookSecret::parse(&text).map_err(|e| CmdError::Usage(format!("{e} (read from {source})")))
}

pub(super) async fn stop_signal() -> Result<(), CmdError> {
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CmdError::Io(format!("cannot listen for SIGTERM: {e}")))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => {
            r.map_err(|e| CmdError::Io(format!("cannot wait for Ctrl-C: {e}")))
        }
        _ = term.recv() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn args(secret_file: Option<PathBuf>) -> WebhookArgs {
        WebhookArgs {
            listen: "127.0.0.1:0".parse().expect("addr"),
            path: webhook::DEFAULT_PATH.into(),
            secret_file,
            dashboard: None,
        }
    }

    #[test]
    fn the_secret_comes_from_the_file_first_then_the_environment() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "whsec_c2VjcmV0LW9uZQ==\n").expect("write");
        let env = |_: &str| Some("whsec_###".to_owned());
        assert!(secret(&args(Some(file)), env).is_ok(), "the file wins");
        let bad = secret(&args(None), env).expect_err("bad base64");
        assert!(!bad.to_string().contains("###"), "{bad}");
        assert!(bad.to_string().contains(SECRET_ENV), "{bad}");
        let env = |k: &str| (k == SECRET_ENV).then(|| "whsec_c2VjcmV0LW9uZQ==".to_owned());
        assert!(secret(&args(None), env).is_ok());
    }

    #[test]
    fn no_secret_or_an_unreadable_file_is_a_usage_error() {
        let none = secret(&args(None), |_| None).expect_err("no secret");
        assert_eq!(none.exit_code(), exit::USAGE);
        assert!(none.to_string().contains("--secret-file"), "{none}");
        let missing = args(Some(PathBuf::from("/nonexistent/dialer-secret")));
        let err = secret(&missing, |_| None).expect_err("no file");
        assert_eq!(err.exit_code(), exit::USAGE);
    }
}
