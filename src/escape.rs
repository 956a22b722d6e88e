//! Text from the network, written so that it cannot break a log line.
//!
//! Every `Display` of the crate's errors, [`Code`](crate::Code) and
//! [`RequestId`](crate::RequestId) writes foreign text (a code, a message or
//! a RequestId from a body, a cause's message, body bytes) through
//! [`EscapeControl`] or [`EscapeBytes`]: a CR or LF from a hostile gateway
//! would otherwise start a forged line in the logs, and an ESC would drive
//! the terminal that shows them.

use std::fmt;

/// Writes a `str` with every control character (C0, DEL, C1), line and
/// paragraph separator, and bidirectional override escaped visibly (`\n`,
/// `\r`, `\t`, `\u{1b}`); a backslash becomes `\\`, so that the original
/// text can be read back. Everything else is written as it is.
pub(crate) struct EscapeControl<'a>(pub(crate) &'a str);

impl fmt::Display for EscapeControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let mut clean = 0;
        for (at, c) in text.char_indices() {
            if !needs_escape(c) {
                continue;
            }
            f.write_str(&text[clean..at])?;
            write_escaped(f, c)?;
            clean = at + c.len_utf8();
        }
        f.write_str(&text[clean..])
    }
}

/// Writes bytes as [`EscapeControl`] writes text, with each byte that is not
/// part of valid UTF-8 as `\xNN`: nothing is dropped or replaced.
pub(crate) struct EscapeBytes<'a>(pub(crate) &'a [u8]);

impl fmt::Display for EscapeBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            EscapeControl(chunk.valid()).fmt(f)?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(
            c,
            // Line and paragraph separators: line breaks to many viewers.
            '\u{2028}' | '\u{2029}'
            // Bidirectional overrides and isolates: they reorder what follows.
            | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn write_escaped(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        _ => write!(f, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// Writes `error`'s message and those of its sources, joined by `: `,
/// escaped; a source whose message the text already ends with (an error
/// that prints its cause itself) is not written twice.
pub(crate) fn write_chain(
    f: &mut fmt::Formatter<'_>,
    error: &(dyn std::error::Error + 'static),
) -> fmt::Result {
    let mut written = String::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let message = error.to_string();
        if !written.ends_with(&message) {
            if !written.is_empty() {
                written.push_str(": ");
            }
            written.push_str(&message);
        }
        next = error.source();
    }
    write!(f, "{}", EscapeControl(&written))
}

// The integration tests' reader of escapes, so that both check against one.
#[cfg(test)]
#[path = "../tests/support/escape.rs"]
#[allow(dead_code, unreachable_pub)]
mod reading;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn control_characters_are_escaped_visibly_and_words_stay_apart() {
        let shown = EscapeControl("a\nb\r\nc\u{1b}[31md\te\\f\u{2028}g\u{202e}h").to_string();
        assert_eq!(shown, r"a\nb\r\nc\u{1b}[31md\te\\f\u{2028}g\u{202e}h");
        assert_eq!(
            EscapeControl("plain, 你好 😀").to_string(),
            "plain, 你好 😀"
        );
    }

    #[test]
    fn invalid_utf8_bytes_are_written_as_hex() {
        let shown = EscapeBytes(b"\x1f\x8b\x08\x00ok\xff\n").to_string();
        assert_eq!(shown, r"\u{1f}\x8b\u{8}\u{0}ok\xff\n");
    }

    proptest! {
        #[test]
        fn escaped_text_is_one_line_and_reads_back(text in any::<String>()) {
            let shown = EscapeControl(&text).to_string();
            prop_assert!(!shown.chars().any(needs_escape_but_backslash), "{shown:?}");
            prop_assert_eq!(super::reading::unescape(&shown), Some(text));
        }

        #[test]
        fn escaped_bytes_keep_every_valid_character(bytes in any::<Vec<u8>>()) {
            let shown = EscapeBytes(&bytes).to_string();
            prop_assert!(!shown.chars().any(needs_escape_but_backslash), "{shown:?}");
            let kept: String = bytes.utf8_chunks().map(|chunk| chunk.valid()).collect();
            for c in kept.chars().filter(|c| !needs_escape(*c)) {
                prop_assert!(shown.contains(c));
            }
        }
    }

    fn needs_escape_but_backslash(c: char) -> bool {
        c != '\\' && needs_escape(c)
    }
}
