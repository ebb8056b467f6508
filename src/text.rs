//! Text from the user's file on its way to a terminal or a message: control characters
//! escaped (`\x1b`), so a cell can never drive the terminal, and long cells and header
//! lists cut to what a sentence can carry. The one copy of these rules.

use std::borrow::Cow;
use std::fmt::Write;

/// The most characters of one cell a message quotes.
pub const MAX_CELL_CHARS: usize = 200;
/// The most headers a message lists.
pub const MAX_HEADERS: usize = 20;

/// `s` with every control character (C0, DEL, C1) written as `\xNN` (or `\u{NNNN}`), and
/// backslashes left alone.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if c.is_control() && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A cell for a message: escaped, and cut to [`MAX_CELL_CHARS`] characters with an ellipsis.
pub fn cell(s: &str) -> String {
    let escaped = escape_controls(s);
    let count = escaped.chars().count();
    if count <= MAX_CELL_CHARS {
        return escaped.into_owned();
    }
    let mut cut: String = escaped.chars().take(MAX_CELL_CHARS).collect();
    let _ = write!(cut, "… ({} more characters)", count - MAX_CELL_CHARS);
    cut
}

/// A cell in double quotes, as messages show it.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", cell(s))
}

/// Headers for a message: each quoted, at most [`MAX_HEADERS`] of them.
pub fn header_list(headers: &[String]) -> String {
    let mut list: Vec<String> = headers.iter().take(MAX_HEADERS).map(|h| quote(h)).collect();
    if headers.len() > MAX_HEADERS {
        list.push(format!("and {} more", headers.len() - MAX_HEADERS));
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_terminal_raw() {
        assert_eq!(escape_controls("plain"), "plain");
        assert_eq!(escape_controls("a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(escape_controls("tab\tnl\ncr\r"), "tab\\x09nl\\x0acr\\x0d");
        assert_eq!(escape_controls("c1\u{9b}x"), "c1\\x9bx");
        assert_eq!(escape_controls("مرحبا ０１"), "مرحبا ０１");
    }

    #[test]
    fn long_cells_and_header_lists_are_cut() {
        let long = "x".repeat(5000);
        let c = cell(&long);
        assert!(c.starts_with(&"x".repeat(MAX_CELL_CHARS)));
        assert!(c.ends_with("(4800 more characters)"), "{c}");
        assert!(c.chars().count() < MAX_CELL_CHARS + 40);
        let headers: Vec<String> = (0..100).map(|i| format!("h{i}")).collect();
        let list = header_list(&headers);
        assert!(list.contains("\"h19\"") && !list.contains("\"h20\""));
        assert!(list.ends_with("and 80 more"), "{list}");
    }
}
