//! One dispatcher per campaign: a lease row naming the holder (pid, host, a per-process
//! token) with a heartbeat. A lease whose holder is dead (its pid gone on this host) or
//! silent (no heartbeat for [`STALE_AFTER_MS`]) is taken over.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Ledger, LedgerError, now_ms};

/// How often a holder refreshes its heartbeat.
pub const HEARTBEAT_EVERY_MS: i64 = 5_000;
/// A heartbeat older than this means the holder is gone, whatever its pid says.
pub const STALE_AFTER_MS: i64 = 30_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseHolder {
    pub pid: u32,
    pub host: String,
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

/// Whether a recorded holder still holds its lease. Pure: the caller says whether the
/// pid is alive on this host.
pub fn is_live(holder: &LeaseHolder, now: i64, this_host: &str, pid_alive: bool) -> bool {
    if now - holder.heartbeat_at > STALE_AFTER_MS {
        return false;
    }
    holder.host != this_host || pid_alive
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

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
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
        self.writer
            .call(move |tx| {
                let now = now_ms();
                let current: Option<(LeaseHolder, String)> = tx
                    .query_row(
                        "SELECT holder_pid, holder_host, acquired_at, heartbeat_at, token
                         FROM leases WHERE campaign_id = ?1",
                        [campaign_id],
                        |r| {
                            Ok((
                                LeaseHolder {
                                    pid: r.get(0)?,
                                    host: r.get(1)?,
                                    acquired_at: r.get(2)?,
                                    heartbeat_at: r.get(3)?,
                                },
                                r.get(4)?,
                            ))
                        },
                    )
                    .optional()?;
                if let Some((holder, held_token)) = current {
                    let alive = holder.host == host && pid_alive(holder.pid);
                    if held_token != token && is_live(&holder, now, &host, alive) {
                        return Ok(Err(holder));
                    }
                    if held_token != token {
                        tracing::warn!("taking over the lease of a dead dispatcher ({holder})");
                    }
                }
                tx.execute(
                    "INSERT OR REPLACE INTO leases
                         (campaign_id, holder_pid, holder_host, token, acquired_at, heartbeat_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![campaign_id, pid, host, token, now],
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
                    params![campaign_id, token, now_ms()],
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

    fn holder(host: &str, heartbeat_at: i64) -> LeaseHolder {
        LeaseHolder {
            pid: 42,
            host: host.into(),
            acquired_at: 0,
            heartbeat_at,
        }
    }

    #[test]
    fn liveness_rules() {
        let now = 100_000;
        assert!(is_live(&holder("me", now - 1000), now, "me", true));
        assert!(
            !is_live(&holder("me", now - 1000), now, "me", false),
            "pid gone"
        );
        assert!(
            is_live(&holder("other", now - 1000), now, "me", false),
            "can't see its pid"
        );
        assert!(
            !is_live(&holder("other", now - STALE_AFTER_MS - 1), now, "me", true),
            "stale"
        );
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(u32::MAX));
    }
}
