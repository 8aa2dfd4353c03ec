//! A trip request as a person typed it, and the record the store keeps of it.

use serde::{Deserialize, Serialize};

use crate::bounds::InputError;

/// The longest request text accepted, in bytes. Longer input is refused with
/// a clear error rather than truncated.
pub const MAX_QUERY_BYTES: usize = 4_000;

/// A stored trip request: the words a person typed, exactly as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TripRequestRecord {
    /// Unguessable id (UUID v4, 128 random bits) in its hyphenated form.
    pub id: String,
    pub query: String,
    /// RFC 3339 timestamp of when the request was stored.
    pub created_at: String,
}

/// Why a request text was refused before it reached the planner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryError {
    Empty,
    TooLong {
        bytes: usize,
        max: usize,
    },
    /// A control character (see [`is_refused_control`]); `at` counts
    /// characters from 1.
    ControlCharacter {
        code: u32,
        at: usize,
    },
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Empty => write!(f, "describe your trip first: the request is empty"),
            QueryError::TooLong { bytes, max } => {
                write!(
                    f,
                    "the request is {bytes} bytes long; at most {max} are accepted"
                )
            }
            QueryError::ControlCharacter { code, at } => write!(
                f,
                "the request contains the control character U+{code:04X} at character {at}; remove it"
            ),
        }
    }
}

impl std::error::Error for QueryError {}

/// Whether `c` is a control character Wayfare refuses in text a person
/// sends: every Unicode control (C0, DEL, C1) except tab, line feed and
/// carriage return. NUL is the one that matters most: PostgreSQL's `text`
/// and `jsonb` cannot hold it (SQLite can), so it is refused on both
/// backends, before anything is stored; the others have no business in a
/// trip request and would reach logs and terminals.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first refused control character in `text`: its code point and its
/// position, counting characters from 1.
pub fn find_control(text: &str) -> Option<(u32, usize)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| is_refused_control(*c))
        .map(|(i, c)| (u32::from(c), i + 1))
}

/// Checks a string field of structured input (overrides, changes): no
/// refused control character, at most `max_bytes`. The error names `field`.
pub fn check_text(field: &str, text: &str, max_bytes: usize) -> Result<(), InputError> {
    if let Some((code, at)) = find_control(text) {
        return Err(InputError::new(format!(
            "{field} contains the control character U+{code:04X} at character {at}; remove it"
        )));
    }
    if text.len() > max_bytes {
        return Err(InputError::new(format!(
            "{field} is {} bytes long; at most {max_bytes} are accepted",
            text.len()
        )));
    }
    Ok(())
}

/// The longest name (a place, a component id, a cuisine) accepted in
/// structured input, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// serde `deserialize_with` for a string field of a change: refused control
/// characters and names over [`MAX_NAME_BYTES`] fail the decoding.
pub fn plain_name<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let s = String::deserialize(deserializer)?;
    check_text("the name", &s, MAX_NAME_BYTES).map_err(serde::de::Error::custom)?;
    Ok(s)
}

/// Parse, don't validate: the trimmed request text, guaranteed non-empty,
/// within [`MAX_QUERY_BYTES`] and free of refused control characters
/// ([`is_refused_control`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText(String);

impl QueryText {
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        // Before trimming: some controls (VT, FF, NEL) count as white space
        // and would slip through at the ends of a text stored as given.
        if let Some((code, at)) = find_control(raw) {
            return Err(QueryError::ControlCharacter { code, at });
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(QueryError::Empty);
        }
        if trimmed.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong {
                bytes: trimmed.len(),
                max: MAX_QUERY_BYTES,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_ordinary_text() {
        let q = QueryText::parse("  3 days in Denver \n").expect("valid");
        assert_eq!(q.as_str(), "3 days in Denver");
    }

    #[test]
    fn refuses_blank_text() {
        assert_eq!(QueryText::parse(" \t\n"), Err(QueryError::Empty));
    }

    #[test]
    fn refuses_nul_and_other_control_characters_but_not_line_breaks() {
        assert_eq!(
            QueryText::parse("3 days\u{0} in Denver"),
            Err(QueryError::ControlCharacter { code: 0, at: 7 })
        );
        for c in ['\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            let text = format!("3 days in {c}Denver");
            assert!(
                matches!(
                    QueryText::parse(&text),
                    Err(QueryError::ControlCharacter { .. })
                ),
                "{c:?}"
            );
        }
        let message = QueryText::parse("a\u{0}b").unwrap_err().to_string();
        assert!(message.contains("U+0000"), "{message}");
        assert!(QueryText::parse("3 days\r\n\tin Denver").is_ok());
        // At either end too, where trimming would hide them.
        for edge in [
            "\u{b}3 days in Denver",
            "3 days in Denver\u{85}",
            "\u{c}3 days",
        ] {
            assert!(
                matches!(
                    QueryText::parse(edge),
                    Err(QueryError::ControlCharacter { .. })
                ),
                "{edge:?}"
            );
        }
    }

    #[test]
    fn refuses_text_over_the_limit() {
        let long = "a".repeat(MAX_QUERY_BYTES + 1);
        assert!(matches!(
            QueryText::parse(&long),
            Err(QueryError::TooLong { .. })
        ));
    }
}
