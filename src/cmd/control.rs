//! `dialer pause NAME` and `dialer cancel NAME`, from any terminal: they write a request
//! into the ledger, which the process dialing the campaign acts on within a second.

use std::path::Path;

use super::say;
use super::{CmdError, exit, open_existing};
use crate::campaign::{self, Asked};
use crate::cli::ControlArgs;
use crate::ledger::ControlAction;

pub async fn run(
    ledger_path: &Path,
    args: &ControlArgs,
    action: ControlAction,
) -> Result<i32, CmdError> {
    let ledger = open_existing(ledger_path)?;
    let name = args.campaign.clone();
    let l = ledger.clone();
    let campaign = tokio::task::spawn_blocking(move || l.campaign(&name))
        .await
        .map_err(|_| CmdError::Io("the ledger read stopped".into()))??;
    let by = campaign::who();
    let asked = campaign::request_control(&ledger, &campaign, action, by.clone()).await?;
    let name = crate::text::quote(&campaign.name);
    match (action, asked) {
        (ControlAction::Pause, Asked::Running { holder }) => eprintln!(
            "dialer: asked {holder} to pause campaign {name}: it stops starting calls within a \
             second and exits once the calls in flight are recorded; `dialer resume {name}` \
             continues"
        ),
        (ControlAction::Pause, Asked::Applied { .. }) => eprintln!(
            "dialer: campaign {name} is paused (nobody is dialing it now): `dialer run` refuses \
             it until `dialer resume {name}` lifts the pause"
        ),
        (ControlAction::Cancel, Asked::Running { holder }) => eprintln!(
            "dialer: asked {holder} to cancel campaign {name}: it stops starting calls within a \
             second, and the rows not yet dialed become cancelled"
        ),
        (ControlAction::Cancel, Asked::Applied { cancelled }) => eprintln!(
            "dialer: campaign {name} is cancelled: {cancelled} row(s) not yet dialed are now \
             cancelled (`dialer retry {name} --status cancelled` dials them after all)"
        ),
    }
    say!("{} requested by {by}", action.as_str());
    Ok(exit::OK)
}
