//! `dialer status [CAMPAIGN] [--json]`: one campaign's summary, or a line per campaign.

use std::path::Path;

use super::{CmdError, exit, open_existing};
use crate::cli::StatusArgs;
use crate::report::{CampaignLine, Summary};

pub fn run(ledger_path: &Path, args: &StatusArgs) -> Result<i32, CmdError> {
    let ledger = open_existing(ledger_path)?;
    match &args.campaign {
        Some(name) => {
            let campaign = ledger.campaign(name)?;
            let summary = Summary::load(&ledger, &campaign)?;
            if args.json {
                println!("{}", to_json(&summary));
            } else {
                println!("{}", summary.table());
            }
        }
        None => {
            let mut lines = Vec::new();
            for c in ledger.list_campaigns()? {
                let s = Summary::load(&ledger, &c)?;
                lines.push(CampaignLine {
                    campaign: s.campaign,
                    created_at: s.created_at,
                    counts: s.counts,
                    done_pct: s.done_pct,
                });
            }
            if args.json {
                println!("{}", to_json(&lines));
            } else if lines.is_empty() {
                println!("no campaigns in {}", ledger_path.display());
            } else {
                println!("{}", CampaignLine::table(&lines));
            }
        }
    }
    Ok(exit::OK)
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("summaries always serialise")
}
