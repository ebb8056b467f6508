//! Campaign records: creation, lookup, the start/finish times and the ingest flag.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Ledger, LedgerError, now_ms};

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub csv_path: String,
    pub csv_sha256: String,
    /// JSON of the settings the campaign was started with (never a secret).
    pub settings: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub ingested: bool,
    pub total_rows: Option<i64>,
    /// The file's length when `csv_sha256` was taken (`None` in ledgers older than that).
    pub csv_bytes: Option<i64>,
    /// The do-not-call lists' contents as the rows were last planned (see migration 0008).
    pub suppress_sha256: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub csv_path: String,
    pub csv_sha256: String,
    pub csv_bytes: u64,
    pub suppress_sha256: Option<String>,
    pub settings: String,
}

const COLUMNS: &str = "id, name, csv_path, csv_sha256, settings, created_at, started_at, \
                       finished_at, ingested, total_rows, csv_bytes, suppress_sha256";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Campaign> {
    Ok(Campaign {
        id: r.get(0)?,
        name: r.get(1)?,
        csv_path: r.get(2)?,
        csv_sha256: r.get(3)?,
        settings: r.get(4)?,
        created_at: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        ingested: r.get(8)?,
        total_rows: r.get(9)?,
        csv_bytes: r.get(10)?,
        suppress_sha256: r.get(11)?,
    })
}

fn find(conn: &Connection, name: &str) -> rusqlite::Result<Option<Campaign>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM campaigns WHERE name = ?1"),
        [name],
        from_row,
    )
    .optional()
}

impl Ledger {
    pub fn find_campaign(&self, name: &str) -> Result<Option<Campaign>, LedgerError> {
        self.read_blocking(|c| find(c, name))
    }

    pub fn campaign(&self, name: &str) -> Result<Campaign, LedgerError> {
        self.find_campaign(name)?
            .ok_or_else(|| LedgerError::NoSuchCampaign(name.to_string()))
    }

    pub fn list_campaigns(&self) -> Result<Vec<Campaign>, LedgerError> {
        self.read_blocking(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM campaigns ORDER BY id"))?;
            st.query_map([], from_row)?.collect()
        })
    }

    /// Creates the campaign, or returns the existing one of that name untouched (two
    /// processes starting the same campaign at once must not fail on the unique name).
    pub async fn create_campaign(&self, new: NewCampaign) -> Result<Campaign, LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "INSERT OR IGNORE INTO campaigns (name, csv_path, csv_sha256, settings,
                                                      created_at, csv_bytes, suppress_sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        new.name,
                        new.csv_path,
                        new.csv_sha256,
                        new.settings,
                        now_ms(),
                        new.csv_bytes as i64,
                        new.suppress_sha256
                    ],
                )?;
                find(tx, &new.name)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
            })
            .await
    }

    pub async fn mark_started(&self, campaign_id: i64) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "UPDATE campaigns SET started_at = ?2, finished_at = NULL WHERE id = ?1",
                    params![campaign_id, now_ms()],
                )
                .map(drop)
            })
            .await
    }

    pub async fn mark_finished(&self, campaign_id: i64) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "UPDATE campaigns SET finished_at = ?2 WHERE id = ?1",
                    params![campaign_id, now_ms()],
                )
                .map(drop)
            })
            .await
    }

    /// The settings a campaign dials with from now on (a later `run` changed them), and
    /// the do-not-call lists' contents its rows were planned with.
    pub async fn set_settings(
        &self,
        campaign_id: i64,
        settings: String,
        suppress_sha256: Option<String>,
    ) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "UPDATE campaigns SET settings = ?2, suppress_sha256 = ?3 WHERE id = ?1",
                    params![campaign_id, settings, suppress_sha256],
                )
                .map(drop)
            })
            .await
    }

    /// The length of a campaign's unchanged file, for a campaign from a ledger older than
    /// the stored length, so that its file may grow from now on.
    pub async fn record_csv_bytes(&self, campaign_id: i64, bytes: u64) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "UPDATE campaigns SET csv_bytes = ?2 WHERE id = ?1 AND csv_bytes IS NULL",
                    params![campaign_id, bytes as i64],
                )
                .map(drop)
            })
            .await
    }

    /// The campaign's file grew at its end: its new hash and length, and the ingest is
    /// open again so the new records are read on from the last stored line.
    pub async fn set_grown_file(
        &self,
        campaign_id: i64,
        sha256: String,
        bytes: u64,
    ) -> Result<(), LedgerError> {
        self.writer
            .call(move |tx| {
                tx.execute(
                    "UPDATE campaigns SET csv_sha256 = ?2, csv_bytes = ?3, ingested = 0
                     WHERE id = ?1",
                    params![campaign_id, sha256, bytes as i64],
                )
                .map(drop)
            })
            .await
    }

    /// Records that every CSV record is now in `rows` (blocking: called by the ingest thread).
    pub fn mark_ingested_blocking(&self, campaign_id: i64, total: u64) -> Result<(), LedgerError> {
        self.writer.call_blocking(move |tx| {
            tx.execute(
                "UPDATE campaigns SET ingested = 1, total_rows = ?2 WHERE id = ?1",
                params![campaign_id, total as i64],
            )
            .map(drop)
        })
    }
}
