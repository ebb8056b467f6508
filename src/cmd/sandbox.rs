//! `dialer sandbox --listen ADDR`: the local Levers stand-in, until Ctrl-C.

use super::say;
use super::{CmdError, exit};
use crate::cli::SandboxArgs;
use crate::sandbox;

pub async fn run(args: &SandboxArgs) -> Result<i32, CmdError> {
    let sb = sandbox::start(args.config.clone(), args.listen)
        .await
        .map_err(|e| CmdError::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    // The address goes to stdout so scripts (and tests) can read the port picked for :0.
    say!("sandbox listening on {}", sb.url());
    eprintln!(
        "use it with: LEVERS_API_URL={} LEVERS_API_TOKEN={} dialer run contacts.csv",
        sb.url(),
        args.config.token
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CmdError::Io(format!("cannot wait for Ctrl-C: {e}")))?;
    sb.shutdown().await;
    Ok(exit::OK)
}
