//! A trip request as a person typed it, and the record the store keeps of it.

use serde::{Deserialize, Serialize};

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
    TooLong { bytes: usize, max: usize },
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
        }
    }
}

impl std::error::Error for QueryError {}

/// Parse, don't validate: the trimmed request text, guaranteed non-empty and
/// within [`MAX_QUERY_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText(String);

impl QueryText {
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
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
    fn refuses_text_over_the_limit() {
        let long = "a".repeat(MAX_QUERY_BYTES + 1);
        assert!(matches!(
            QueryText::parse(&long),
            Err(QueryError::TooLong { .. })
        ));
    }
}
