//! The typed errors of CSV reading: everything that stops a file from being read at all.
//!
//! A bad row is not an error here: it becomes a `SourceRecord::Malformed` and reading goes on.

use std::io;
use std::path::PathBuf;

/// Why a CSV file cannot be read (or could not be read to its end).
#[derive(thiserror::Error, Debug)]
pub enum SourceError {
    /// The file could not be opened.
    #[error("cannot open the CSV file {}: {source}; check the path and its permissions", path.display())]
    Open {
        /// The path as given.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },

    /// Nothing but (possibly) blank lines: there is no header line.
    #[error("the file is empty: a CSV needs a header line")]
    Empty,

    /// `--encoding` names no encoding we know.
    #[error(
        "unknown encoding label {label:?}; use a WHATWG label such as utf-8, utf-16le, \
         windows-1252, iso-8859-1 or shift_jis"
    )]
    UnknownEncoding {
        /// The label as given.
        label: String,
    },

    /// `--delimiter` is a byte that cannot separate fields.
    #[error(
        "the delimiter {delimiter:?} cannot separate fields (it must be one ASCII character \
         other than a quote or a line break); pass e.g. ',' ';' '|' or a tab"
    )]
    InvalidDelimiter {
        /// The delimiter as given, shown as a character.
        delimiter: char,
    },

    /// The header line holds bytes that are not valid in the chosen encoding, so every
    /// column name would be a guess.
    #[error(
        "the header line is not valid {encoding}; pass --encoding with the file's real \
         encoding (for example windows-1252)"
    )]
    HeaderEncoding {
        /// The encoding the header was read as.
        encoding: &'static str,
    },

    /// The first line names no column at all (`,,,` or a line of spaces).
    #[error(
        "the header line (line 1) names none of its {columns} column(s): the first line must \
         name the columns, e.g. phone,first_name; add such a line, or remove the empty one"
    )]
    BlankHeader {
        /// How many (empty) names the line held.
        columns: usize,
    },

    /// Reading failed part-way (not a decoding problem: the disk or pipe failed).
    #[error("reading the CSV failed at line {line}: {source}; the rows after it were not read")]
    Io {
        /// The physical line being read when it failed.
        line: u64,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },

    /// A workbook (`.xlsx`, `.xls`, `.ods`) that calamine cannot open.
    #[error(
        "cannot read {} as an {kind} workbook: {reason}; open it in a spreadsheet program \
         and save it again, or export the sheet as CSV",
        path.display()
    )]
    Workbook {
        /// The path as given.
        path: PathBuf,
        /// The kind the file's first bytes say it is.
        kind: &'static str,
        /// calamine's reason.
        reason: String,
    },

    /// `--sheet` names no sheet of the workbook.
    #[error(
        "the workbook has no sheet {wanted:?}; its sheets are {sheets}: pass --sheet with one of those names or a position (1 is the first)"
    )]
    NoSuchSheet {
        /// The name or number as given.
        wanted: String,
        /// The sheet names, quoted and comma-separated.
        sheets: String,
    },

    /// Every sheet is empty, so there is no header row.
    #[error("no sheet of the workbook holds any cell: a contact sheet needs a header row")]
    EmptyWorkbook,

    /// A sheet's cells could not be read part-way (a damaged or truncated file).
    #[error("reading the sheet failed at row {row}: {reason}; the rows after it were not read")]
    SheetRead {
        /// The spreadsheet row being read when it failed.
        row: u64,
        /// calamine's reason.
        reason: String,
    },
}
