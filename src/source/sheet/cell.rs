//! One spreadsheet cell as the text a CSV of the same sheet would hold.
//!
//! Phone numbers typed into Excel become numbers, and Excel shows a 12-digit one as
//! `9.66501234567E+11`; the contact's digits are the integer, so whole floats are written
//! as integers. Dates are ISO dates, so a date column reads the same in every locale.

use calamine::{Data, ExcelDateTime};

/// Floats up to this magnitude hold every integer exactly (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The cell's text; an empty cell is "".
pub fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => date_time(dt),
        // The error's own spelling (#N/A, #DIV/0!): the row is then judged on it like any
        // other text, and the report shows what the sheet showed.
        Data::Error(e) => e.to_string(),
    }
}

fn float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_INTEGER_LIMIT {
        format!("{f:.0}")
    } else {
        // Rust's shortest round-trip form: never an exponent for ordinary magnitudes.
        f.to_string()
    }
}

/// `2026-11-25`, or `2026-11-25T09:30:00` when the cell holds a time of day too; a duration
/// is left as Excel's day count, since no calendar date is meant.
fn date_time(dt: &ExcelDateTime) -> String {
    if dt.is_duration() {
        return float(dt.as_f64());
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    match (h, mi, s, ms) {
        (0, 0, 0, 0) => format!("{y:04}-{mo:02}-{d:02}"),
        (_, _, _, 0) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}"),
    }
}

/// The column's letters, as Excel names it: 0 -> A, 25 -> Z, 26 -> AA, 16383 -> XFD.
pub fn column_name(col: u32) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    #[test]
    fn a_phone_number_typed_as_a_number_keeps_its_digits() {
        assert_eq!(text(&Data::Float(966501234567.0)), "966501234567");
        assert_eq!(text(&Data::Int(966501234567)), "966501234567");
        assert_eq!(text(&Data::Float(2.5)), "2.5");
    }

    #[test]
    fn dates_are_iso() {
        // 46351 is 2026-11-25 in the 1900 system.
        let day = ExcelDateTime::new(46351.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(text(&Data::DateTime(day)), "2026-11-25");
        let at = ExcelDateTime::new(46351.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(text(&Data::DateTime(at)), "2026-11-25T12:00:00");
    }

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
    }
}
