//! What a contact file is, told from its first bytes rather than its name: a workbook saved
//! as `contacts.csv`, or a CSV named `.xlsx`, is still read as what it holds.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::SourceError;

/// How a file is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Delimited text, read by the CSV source.
    Text,
    /// Office Open XML (`.xlsx`, `.xlsm`): a zip holding `[Content_Types].xml`.
    Xlsx,
    /// OpenDocument (`.ods`): a zip whose first entry is its `mimetype`.
    Ods,
    /// Excel 97-2003 (`.xls`): an OLE compound file.
    Xls,
}

impl FileKind {
    /// The name a user knows the kind by.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Text => "csv",
            FileKind::Xlsx => "xlsx",
            FileKind::Ods => "ods",
            FileKind::Xls => "xls",
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// An OpenDocument zip stores its media type uncompressed as its first entry, so it can be
/// read from the head of the file without opening the archive.
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// Reads the head of `path` and says what it is.
pub fn detect(path: &Path) -> Result<FileKind, SourceError> {
    let open_error = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(128);
    File::open(path)
        .map_err(open_error)?
        .take(128)
        .read_to_end(&mut head)
        .map_err(open_error)?;
    Ok(detect_bytes(&head))
}

/// The kind of a file beginning with `head`.
pub fn detect_bytes(head: &[u8]) -> FileKind {
    if head.starts_with(OLE_MAGIC) {
        FileKind::Xls
    } else if head.starts_with(ZIP_MAGIC) {
        let is_ods = head.windows(ODS_MIMETYPE.len()).any(|w| w == ODS_MIMETYPE);
        if is_ods {
            FileKind::Ods
        } else {
            FileKind::Xlsx
        }
    } else {
        FileKind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_magic_bytes() {
        assert_eq!(detect_bytes(b"phone,name\n"), FileKind::Text);
        assert_eq!(
            detect_bytes(b"PK\x03\x04\x14\0\0\0[Content_Types].xml"),
            FileKind::Xlsx
        );
        let ods = [&b"PK\x03\x04"[..], &[0; 26], b"mimetype", ODS_MIMETYPE].concat();
        assert_eq!(detect_bytes(&ods), FileKind::Ods);
        assert_eq!(detect_bytes(OLE_MAGIC), FileKind::Xls);
    }
}
