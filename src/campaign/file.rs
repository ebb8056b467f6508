//! Whether a file is still the one a campaign was started from: the same bytes (SHA-256
//! and length), the same bytes with more rows appended, or something else.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::CampaignError;
use crate::ledger::Campaign;

/// A file's SHA-256 and length, as taken when it is opened for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub sha256: String,
    pub bytes: u64,
}

/// How a file compares with the one a campaign holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Same,
    /// The campaign's bytes, then more that start on a new line: new rows at the end.
    Grew,
    Different,
}

/// SHA-256 and length of at most `limit` bytes of a file, streamed; gives up when `stop`
/// says so (Ctrl-C on a huge file).
pub fn fingerprint(
    path: &Path,
    limit: Option<u64>,
    stop: &dyn Fn() -> bool,
) -> Result<Fingerprint, CampaignError> {
    let read_err = |source| CampaignError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut reader = file.take(limit.unwrap_or(u64::MAX));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        if stop() {
            return Err(CampaignError::Interrupted);
        }
        let n = reader.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(Fingerprint {
        sha256: hex::encode(hasher.finalize()),
        bytes,
    })
}

/// Compares `now` (the file at `path`) with what `campaign` recorded. A campaign from a
/// ledger older than the stored length can only match whole.
pub fn compare(
    campaign: &Campaign,
    path: &Path,
    now: &Fingerprint,
) -> Result<Match, CampaignError> {
    if now.sha256 == campaign.csv_sha256 {
        return Ok(Match::Same);
    }
    let Some(old) = campaign.csv_bytes.and_then(|b| u64::try_from(b).ok()) else {
        return Ok(Match::Different);
    };
    if old == 0 || now.bytes <= old || !ends_a_line(path, old)? {
        return Ok(Match::Different);
    }
    let head = fingerprint(path, Some(old), &|| false)?;
    Ok(if head.sha256 == campaign.csv_sha256 {
        Match::Grew
    } else {
        Match::Different
    })
}

/// Whether the byte before `at` ends a line: otherwise the appended bytes carry on the
/// old last record, which would then be a different row than the one stored.
fn ends_a_line(path: &Path, at: u64) -> Result<bool, CampaignError> {
    use std::io::{Seek, SeekFrom};
    let read_err = |source| CampaignError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    file.seek(SeekFrom::Start(at - 1)).map_err(read_err)?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last).map_err(read_err)?;
    Ok(matches!(last[0], b'\n' | b'\r'))
}

/// One SHA-256 over the contents of the do-not-call lists, in order; `None` without lists.
pub fn lists_fingerprint(paths: &[std::path::PathBuf]) -> Result<Option<String>, CampaignError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut all = Sha256::new();
    for path in paths {
        all.update(fingerprint(path, None, &|| false)?.sha256.as_bytes());
    }
    Ok(Some(hex::encode(all.finalize())))
}

/// The campaign's file, checked to hold the campaign's bytes (whole, or with rows
/// appended) before it is read again to re-plan rows.
pub fn check_unchanged(campaign: &Campaign, stop: &dyn Fn() -> bool) -> Result<(), CampaignError> {
    let path = Path::new(&campaign.csv_path);
    let gone = || CampaignError::FileGone {
        name: crate::text::quote(&campaign.name),
        path: crate::text::quote(&campaign.csv_path),
    };
    let now = fingerprint(path, None, stop).map_err(|e| match e {
        CampaignError::Interrupted => e,
        _ => gone(),
    })?;
    match compare(campaign, path, &now)? {
        Match::Same | Match::Grew => Ok(()),
        Match::Different => Err(gone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(fp: &Fingerprint) -> Campaign {
        Campaign {
            id: 1,
            name: "c".into(),
            csv_path: String::new(),
            csv_sha256: fp.sha256.clone(),
            settings: "{}".into(),
            created_at: 0,
            started_at: None,
            finished_at: None,
            ingested: true,
            total_rows: None,
            csv_bytes: Some(fp.bytes as i64),
            suppress_sha256: None,
        }
    }

    fn compare_after(old: &[u8], new: &[u8]) -> Match {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, old).unwrap();
        let c = campaign(&fingerprint(&path, None, &|| false).unwrap());
        std::fs::write(&path, new).unwrap();
        let now = fingerprint(&path, None, &|| false).unwrap();
        compare(&c, &path, &now).unwrap()
    }

    #[test]
    fn rows_appended_after_the_last_line_are_growth_and_nothing_else_is() {
        let old = b"phone\n+966501234567\n";
        assert_eq!(compare_after(old, old), Match::Same);
        assert_eq!(
            compare_after(old, b"phone\n+966501234567\n+966501234568\n"),
            Match::Grew
        );
        assert_eq!(
            compare_after(old, b"phone\n+966501234560\n+966501234568\n"),
            Match::Different
        );
        assert_eq!(compare_after(old, b"phone\n"), Match::Different);
        // The old last line had no line end: appending carries on its record.
        assert_eq!(
            compare_after(b"phone\n+9665012", b"phone\n+966501234567\n"),
            Match::Different
        );
    }
}
