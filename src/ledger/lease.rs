//! One dispatcher per campaign: a lease row naming the holder (pid, the process's start
//! time, host, a per-process token) with a heartbeat. On this host a holder is judged by its
//! process alone: alive (same pid, same start time) means live however old its heartbeat,
//! because clocks jump and processes get stopped; a reused pid is not the holder. A holder
//! on another host can only be judged by its heartbeat ([`STALE_AFTER_MS`]).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Ledger, LedgerError, now_ms};

/// How often a holder refreshes its heartbeat, and so how soon it notices a lost lease.
pub const HEARTBEAT_EVERY_MS: i64 = 1_000;
/// A heartbeat older than this means a holder on another host is gone.
pub const STALE_AFTER_MS: i64 = 30_000;

/// Test hook: shifts the lease's clock, to prove a process whose clock is ahead cannot
/// take over a live holder. Never set in production.
const CLOCK_SKEW_ENV: &str = "DIALER_TEST_LEASE_CLOCK_SKEW_MS";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseHolder {
    pub pid: u32,
    pub host: String,
    /// The holder process's identity beside its pid (boot id and start time), when known.
    pub start: Option<String>,
    pub acquired_at: i64,
    pub heartbeat_at: i64,
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} (last heartbeat {} s ago)",
            self.pid,
            self.host,
            (now_ms() - self.heartbeat_at).max(0) / 1000
        )
    }
}

/// What this process can see of a lease's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The holder is on another host: only its heartbeat tells.
    OtherHost,
    /// No process with that pid on this host.
    Gone,
    /// A process with that pid runs here, with this identity (if readable).
    Alive(Option<String>),
}

/// Whether a recorded holder still holds its lease. Pure: the caller says what it sees.
pub fn is_live(holder: &LeaseHolder, now: i64, seen: &Seen) -> bool {
    let fresh = now - holder.heartbeat_at <= STALE_AFTER_MS;
    match seen {
        Seen::OtherHost => fresh,
        Seen::Gone => false,
        Seen::Alive(found) => match (&holder.start, found) {
            (Some(recorded), Some(found)) => recorded == found,
            // A lease written before start times were recorded: the heartbeat decides.
            _ => fresh,
        },
    }
}

/// What this host sees of `holder`.
pub fn look(holder: &LeaseHolder, this_host: &str) -> Seen {
    if holder.host != this_host {
        return Seen::OtherHost;
    }
    if !pid_alive(holder.pid) {
        return Seen::Gone;
    }
    Seen::Alive(process_start(holder.pid))
}

/// `kill(pid, 0)`: the process exists (EPERM still means it exists).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 performs only the existence and permission check.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A process's identity beyond its pid: the boot id and its start time in clock ticks
/// since boot (`/proc/PID/stat` field 22). Two processes never share both.
pub fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2 (the command) is in parentheses and may hold spaces: count after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let start = rest.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{}:{start}", boot.trim()))
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn lease_now() -> i64 {
    let skew = std::env::var(CLOCK_SKEW_ENV)
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    now_ms() + skew
}

impl Ledger {
    /// Takes the campaign's lease for this process, or names the live holder.
    pub async fn acquire_lease(
        &self,
        campaign_id: i64,
        token: String,
    ) -> Result<Result<(), LeaseHolder>, LedgerError> {
        let host = hostname();
        let pid = std::process::id();
        let start = process_start(pid);
        self.writer
            .call(move |tx| {
                let now = lease_now();
                let current: Option<(LeaseHolder, String)> = tx
                    .query_row(
                        "SELECT holder_pid, holder_host, acquired_at, heartbeat_at, token,
                                holder_start
                         FROM leases WHERE campaign_id = ?1",
                        [campaign_id],
                        |r| {
                            Ok((
                                LeaseHolder {
                                    pid: r.get(0)?,
                                    host: r.get(1)?,
                                    acquired_at: r.get(2)?,
                                    heartbeat_at: r.get(3)?,
                                    start: r.get(5)?,
                                },
                                r.get(4)?,
                            ))
                        },
                    )
                    .optional()?;
                if let Some((holder, held_token)) = current
                    && held_token != token
                {
                    if is_live(&holder, now, &look(&holder, &host)) {
                        return Ok(Err(holder));
                    }
                    tracing::warn!("taking over the lease of a dead dispatcher ({holder})");
                }
                tx.execute(
                    "INSERT OR REPLACE INTO leases (campaign_id, holder_pid, holder_host, token,
                         acquired_at, heartbeat_at, holder_start)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                    params![campaign_id, pid, host, token, now, start],
                )?;
                Ok(Ok(()))
            })
            .await
    }

    /// Refreshes the heartbeat; `false` if the lease is no longer ours.
    pub async fn heartbeat(&self, campaign_id: i64, token: String) -> Result<bool, LedgerError> {
        self.writer
            .call(move |tx| {
                let n = tx.execute(
                    "UPDATE leases SET heartbeat_at = ?3 WHERE campaign_id = ?1 AND token = ?2",
                    params![campaign_id, token, lease_now()],
                )?;
                Ok(n == 1)
            })
            .await
    }

    pub async fn release_lease(&self, campaign_id: i64, token: String) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "DELETE FROM leases WHERE campaign_id = ?1 AND token = ?2",
                    params![campaign_id, token],
                )
                .map(drop)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(start: Option<&str>, heartbeat_at: i64) -> LeaseHolder {
        LeaseHolder {
            pid: 42,
            host: "me".into(),
            start: start.map(str::to_string),
            acquired_at: 0,
            heartbeat_at,
        }
    }

    #[test]
    fn liveness_rules() {
        let now = 100_000;
        let old = now - STALE_AFTER_MS - 1;
        let alive = |s: &str| Seen::Alive(Some(s.to_string()));
        // A live holder on this host is never taken over, however old its heartbeat.
        assert!(is_live(&holder(Some("b:1"), old), now, &alive("b:1")));
        assert!(is_live(
            &holder(Some("b:1"), now - 7_200_000),
            now,
            &alive("b:1")
        ));
        // The pid was reused by another process: the holder is gone.
        assert!(!is_live(&holder(Some("b:1"), now), now, &alive("b:2")));
        assert!(!is_live(&holder(Some("b:1"), now), now, &Seen::Gone));
        // Another host: only the heartbeat tells.
        assert!(is_live(&holder(None, now - 1000), now, &Seen::OtherHost));
        assert!(!is_live(&holder(None, old), now, &Seen::OtherHost));
        // A lease from before start times were recorded falls back to the heartbeat.
        assert!(is_live(&holder(None, now), now, &alive("b:1")));
        assert!(!is_live(&holder(None, old), now, &alive("b:1")));
    }

    #[test]
    fn this_process_is_seen_alive_with_its_start_time() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(u32::MAX));
        let me = process_start(std::process::id()).expect("/proc is readable");
        assert_eq!(process_start(std::process::id()), Some(me.clone()));
        let h = LeaseHolder {
            pid: std::process::id(),
            host: hostname(),
            start: Some(me.clone()),
            acquired_at: 0,
            heartbeat_at: 0,
        };
        assert_eq!(look(&h, &hostname()), Seen::Alive(Some(me)));
        assert!(is_live(&h, i64::MAX / 2, &look(&h, &hostname())));
    }
}
