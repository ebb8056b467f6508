//! A campaign run again with other settings, a grown file, or `retry --status skipped`:
//! what is to change is worked out before the lease ([`for_run`], [`for_again`]) and
//! applied under it ([`Fix::apply`]), before the first call: re-planned rows, the grown
//! file's new hash, the settings stored for later runs, and one line per change.

use std::path::{Path, PathBuf};

use super::changes::{self, Change, Kind};
use super::file::{self, Fingerprint, Match};
use super::{CampaignError, Inputs, Settings, Start, blocking, off_runtime, replan};
use crate::dispatch::Halt;
use crate::ledger::{Campaign, Ledger, Replanned, RowState};
use crate::plan::SkipReason;

/// What to change in a campaign before it is dialed.
#[derive(Debug, Clone)]
pub struct Fix {
    changes: Vec<Change>,
    /// The file to re-read when rows are re-planned.
    file: PathBuf,
    /// The settings rows are re-planned and dialed with, and those they replace.
    plan_with: Settings,
    old: Settings,
    /// What the campaign keeps for its later runs.
    store: Settings,
    replan: bool,
    /// Whether rows' verdicts may change (a planning setting, `--status skipped`), so the
    /// re-plan's summary is news; a new template alone changes requests only.
    verdicts: bool,
    grown: Option<Fingerprint>,
    /// The do-not-call lists' contents the rows are planned with (stored with the settings).
    lists: Option<String>,
}

impl Fix {
    /// The file grew: the campaign's ingest must read on.
    pub fn grew(&self) -> bool {
        self.grown.is_some()
    }
}

/// A `run` that may continue an existing campaign: the do-not-call lists it had are kept
/// (see [`keep_lists`]), and what the run changes is worked out ([`for_run`]). A campaign
/// from before file lengths were kept learns its length, so that its file may grow.
pub(super) async fn continuing(
    ledger: &Ledger,
    campaign: &mut Campaign,
    start: &mut Start,
    inputs: &mut Inputs,
) -> Result<Option<Fix>, CampaignError> {
    let (c, mut s, fp, lists) = (
        campaign.clone(),
        start.clone(),
        inputs.file.clone(),
        inputs.lists.clone(),
    );
    let headers = inputs.source.headers().to_vec();
    // Loading lists and hashing the head of a grown file block: off the async workers.
    let (s, planner, lists, fix) = off_runtime(move || {
        let stored = Settings::from_json(&c.settings, &c.name)?;
        let (planner, lists) = if keep_lists(&c.name, &mut s.settings, &stored) {
            let planner = s.settings.planner(&s.name, &headers)?;
            (
                Some(planner),
                file::lists_fingerprint(&s.settings.suppress)?,
            )
        } else {
            (None, lists)
        };
        let fix = for_run(&c, &s, &fp, lists.clone())?;
        Ok((s, planner, lists, fix))
    })
    .await?;
    *start = s;
    inputs.lists = lists;
    if let Some(planner) = planner {
        inputs.planner = planner;
    }
    if campaign.csv_bytes.is_none() && campaign.csv_sha256 == inputs.file.sha256 {
        ledger
            .record_csv_bytes(campaign.id, inputs.file.bytes)
            .await?;
    }
    // The new rows of a grown file are read on from the last stored line.
    campaign.ingested &= !fix.as_ref().is_some_and(Fix::grew);
    Ok(fix)
}

/// A do-not-call list is never dropped by leaving it out of a later run (a command typed
/// again from history must not dial the numbers it holds): the campaign's lists stay, and
/// the run's own are added. `true` when a list was kept.
fn keep_lists(campaign: &str, settings: &mut Settings, stored: &Settings) -> bool {
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    let kept: Vec<PathBuf> = stored
        .suppress
        .iter()
        .filter(|old| !settings.suppress.iter().any(|new| same(old, new)))
        .cloned()
        .collect();
    if kept.is_empty() {
        return false;
    }
    let names: Vec<String> = kept
        .iter()
        .map(|p| crate::text::quote(&p.display().to_string()))
        .collect();
    tracing::info!(
        "campaign {}: keeps its do-not-call list(s) {} from earlier runs (a list is never \
         dropped by leaving it out); to dial numbers taken off a list, edit the file and run \
         `dialer retry {} --status skipped`",
        crate::text::quote(campaign),
        names.join(", "),
        crate::text::quote(campaign),
    );
    let mut all = kept;
    all.append(&mut settings.suppress);
    settings.suppress = all;
    true
}

/// A `run` of an existing campaign: the file compared with the stored one (refused unless
/// the same or grown at its end), the settings with the stored ones, and the do-not-call
/// lists' contents with those the rows were planned with.
fn for_run(
    campaign: &Campaign,
    start: &Start,
    now: &Fingerprint,
    lists: Option<String>,
) -> Result<Option<Fix>, CampaignError> {
    let (csv, settings) = (start.csv.as_path(), &start.settings);
    let grown = match file::compare(campaign, csv, now)? {
        Match::Same => None,
        Match::Grew => Some(now.clone()),
        Match::Different => {
            return Err(CampaignError::FileChanged {
                name: campaign.name.clone(),
                path: csv.display().to_string(),
            });
        }
    };
    let old = Settings::from_json(&campaign.settings, &campaign.name)?;
    let mut changes = changes::diff(&old, settings);
    let edited = lists.is_some() && lists != campaign.suppress_sha256;
    if edited && !changes.iter().any(|c| c.key == "suppress") {
        changes.push(changes::lists_edited(settings));
    }
    if changes.is_empty() && grown.is_none() {
        return Ok(None);
    }
    Ok(Some(Fix {
        lists,
        replan: changes.iter().any(|c| c.kind != Kind::Dialing),
        verdicts: changes.iter().any(|c| c.kind == Kind::Planning),
        changes,
        file: csv.to_path_buf(),
        plan_with: settings.clone(),
        old,
        store: settings.clone(),
        grown,
    }))
}

/// `resume`/`retry` with request flags (`settings` holds them over the stored ones), or
/// `retry --status skipped` (`replan_skipped`): the rows are re-planned from the
/// campaign's file; only the request settings are kept for later runs.
pub fn for_again(
    campaign: &Campaign,
    settings: &Settings,
    replan_skipped: bool,
) -> Result<Option<Fix>, CampaignError> {
    let old = Settings::from_json(&campaign.settings, &campaign.name)?;
    let changes: Vec<Change> = changes::diff(&old, settings)
        .into_iter()
        .filter(|c| c.kind == Kind::Request)
        .collect();
    if changes.is_empty() && !replan_skipped {
        return Ok(None);
    }
    Ok(Some(Fix {
        lists: file::lists_fingerprint(&settings.suppress)?,
        store: changes::adopt(&old, settings, Kind::Request, &campaign.name)?,
        changes,
        file: PathBuf::from(&campaign.csv_path),
        plan_with: settings.clone(),
        old,
        replan: true,
        verdicts: replan_skipped,
        grown: None,
    }))
}

impl Fix {
    /// Applies the fix under the campaign's lease, before any call of this run. Reading
    /// the file stops when `halt` does (Ctrl-C), whatever its size.
    pub async fn apply(
        self,
        ledger: &Ledger,
        campaign: &Campaign,
        halt: &Halt,
    ) -> Result<(), CampaignError> {
        let name = crate::text::quote(&campaign.name);
        if let Some(fp) = self.grown.clone() {
            let (path, settings, id) = (self.file.clone(), self.plan_with.clone(), campaign.id);
            let last = blocking(ledger, move |l| l.max_line(id)).await?;
            let h = halt.clone();
            let added = off_runtime(move || {
                replan::count_after(&path, &settings, last, &|| h.is_stopped())
            })
            .await?;
            ledger
                .set_grown_file(campaign.id, fp.sha256, fp.bytes)
                .await?;
            tracing::info!(
                "campaign {name}: its file grew by {added} row(s) after line {last}; they join \
                 the campaign (the rows before are as they were)"
            );
        }
        let replanned = if self.replan {
            Some(self.replan(ledger, campaign, halt).await?)
        } else {
            None
        };
        ledger
            .set_settings(campaign.id, self.store.to_json(), self.lists.clone())
            .await?;
        let id = campaign.id;
        let left = blocking(ledger, move |l| l.counts(id)).await?;
        let left = left.state(RowState::Pending) + left.state(RowState::RetryWait);
        if !self.changes.is_empty() {
            tracing::info!(
                "campaign {name}: {} setting(s) changed; they apply to the rows not yet dialed, \
                 never to a row already dialed:",
                self.changes.len()
            );
        }
        for c in &self.changes {
            tracing::info!("  {}", change_line(c, replanned.as_ref(), left));
        }
        if let Some(r) = replanned.as_ref().filter(|_| self.verdicts) {
            tracing::info!("campaign {name}: {}", summary_line(&r.all));
        }
        Ok(())
    }

    /// The re-plan itself, off the async workers.
    async fn replan(
        &self,
        ledger: &Ledger,
        campaign: &Campaign,
        halt: &Halt,
    ) -> Result<replan::Done, CampaignError> {
        let (l, c, h) = (ledger.clone(), campaign.clone(), halt.clone());
        let (path, new, old, changes) = (
            self.file.clone(),
            self.plan_with.clone(),
            self.old.clone(),
            self.changes.clone(),
        );
        off_runtime(move || {
            let ask = replan::Ask {
                settings: &new,
                alone: Some((&old, &changes)),
            };
            replan::replan(&l, &c, &path, ask, &|| h.is_stopped())
        })
        .await
    }
}

/// One change and the rows it reaches: its own count when several changed at once, else
/// the re-plan's.
fn change_line(c: &Change, replanned: Option<&replan::Done>, left: u64) -> String {
    let alone = replanned.and_then(|d| d.alone.iter().find(|(k, _)| *k == c.key));
    let all = replanned.map(|d| &d.all);
    let reach = match (c.kind, all, alone) {
        (Kind::Request, _, Some((_, n))) => format!("{n} request(s) not yet sent now use it"),
        (Kind::Planning, _, Some((_, n))) => format!("{n} row(s) not yet dialed change verdict"),
        (Kind::Request, Some(r), None) => format!(
            "{} request(s) not yet sent now use it",
            r.requests_changed + r.now_dialable.values().sum::<u64>()
        ),
        (Kind::Planning, Some(r), None) => format!(
            "{} row(s) not yet dialed change verdict",
            r.verdicts_changed()
        ),
        _ => format!("applies to the {left} row(s) left to dial"),
    };
    format!("{}: {} -> {} ({reach})", c.key, c.was, c.now)
}

/// What re-planning did: how many rows may now be dialed, and why the others are skipped.
fn summary_line(r: &Replanned) -> String {
    let list = |m: &std::collections::BTreeMap<SkipReason, u64>| {
        m.iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let total = |m: &std::collections::BTreeMap<SkipReason, u64>| m.values().sum::<u64>();
    let mut parts = vec![format!(
        "re-planned the rows not yet dialed: {} skipped row(s) are now dialable",
        total(&r.now_dialable)
    )];
    if !r.now_dialable.is_empty() {
        parts[0].push_str(&format!(" (were {})", list(&r.now_dialable)));
    }
    if !r.now_skipped.is_empty() {
        parts.push(format!(
            "{} row(s) are now skipped ({})",
            total(&r.now_skipped),
            list(&r.now_skipped)
        ));
    }
    parts.push(if r.still_skipped.is_empty() {
        "no row is still skipped".into()
    } else {
        format!(
            "{} still skipped ({})",
            total(&r.still_skipped),
            list(&r.still_skipped)
        )
    });
    parts.join("; ")
}
