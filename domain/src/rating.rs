//! A person's rating of a planned trip — the design document's
//! user-satisfaction metric — and the figure made of all of them.
//!
//! [`Rating`] is built through [`Rating::new`] (or decoded, which checks the
//! same way): 1 to 5 stars, and an optional note of at most
//! [`MAX_NOTE_CHARS`] characters with no control character but a newline.
//! [`RatingInput`] is the unchecked shape a request body decodes into, so
//! that a wrong shape and a value out of range can be told apart (400 and
//! 422 in the API).

use serde::{Deserialize, Serialize};

use crate::bounds::InputError;

/// The longest note accepted, in characters (not bytes: a note in Greek
/// may be as long as one in English).
pub const MAX_NOTE_CHARS: usize = 1_000;

/// The fewest and most stars.
pub const MIN_STARS: u8 = 1;
pub const MAX_STARS: u8 = 5;

/// A trip's rating: 1 ..= 5 stars and an optional note. Checked when built
/// with [`Rating::new`] and when decoded; [`Rating::check`] checks one built
/// field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RatingInput")]
pub struct Rating {
    /// 1 (poor) to 5 (excellent).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5, example = 4))]
    pub stars: u8,
    /// What the person said, if anything: at most 1000 characters, no
    /// control character but a newline.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1000,
            pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
        )
    )]
    pub note: Option<String>,
}

/// A rating as sent, before its values are checked: any whole number of
/// stars, any note (a `Rating` is made of it by `Rating::try_from`, which
/// checks them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1 (poor) to 5 (excellent).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5, example = 4))]
    pub stars: i64,
    /// At most 1000 characters, no control character but a newline.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1000,
            pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$",
            example = "Great food, the museum was closed."
        )
    )]
    pub note: Option<String>,
}

impl Rating {
    /// A checked rating. A note that is empty or only white space is no
    /// note.
    pub fn new(stars: i64, note: Option<String>) -> Result<Self, InputError> {
        let stars = u8::try_from(stars)
            .ok()
            .filter(|s| (MIN_STARS..=MAX_STARS).contains(s))
            .ok_or_else(|| {
                InputError::new(format!(
                    "stars must be a whole number from {MIN_STARS} to {MAX_STARS}, not {stars}"
                ))
            })?;
        let note = note.filter(|n| !n.trim().is_empty());
        let rating = Rating { stars, note };
        rating.check()?;
        Ok(rating)
    }

    /// Whether this value is within the bounds (for one built field by
    /// field, e.g. read from a database).
    pub fn check(&self) -> Result<(), InputError> {
        if !(MIN_STARS..=MAX_STARS).contains(&self.stars) {
            return Err(InputError::new(format!(
                "stars must be a whole number from {MIN_STARS} to {MAX_STARS}, not {}",
                self.stars
            )));
        }
        if let Some(note) = &self.note {
            if let Some((i, c)) = note
                .chars()
                .enumerate()
                .find(|(_, c)| c.is_control() && *c != '\n')
            {
                return Err(InputError::new(format!(
                    "note contains the control character U+{:04X} at character {}; remove it",
                    u32::from(c),
                    i + 1
                )));
            }
            let chars = note.chars().count();
            if chars > MAX_NOTE_CHARS {
                return Err(InputError::new(format!(
                    "note is {chars} characters long; at most {MAX_NOTE_CHARS} are accepted"
                )));
            }
        }
        Ok(())
    }
}

impl TryFrom<RatingInput> for Rating {
    type Error = InputError;

    fn try_from(input: RatingInput) -> Result<Self, Self::Error> {
        Rating::new(input.stars, input.note)
    }
}

impl From<Rating> for RatingInput {
    fn from(rating: Rating) -> Self {
        RatingInput {
            stars: i64::from(rating.stars),
            note: rating.note,
        }
    }
}

/// Every rating, summed up: how many there are and their average stars
/// (`None` before the first).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Satisfaction {
    pub ratings: u64,
    pub average: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_from_one_to_five_are_accepted_and_others_refused() {
        for stars in 1..=5 {
            assert_eq!(Rating::new(stars, None).map(|r| r.stars), Ok(stars as u8));
        }
        for stars in [0, 6, -1, 256, 261, i64::MAX, i64::MIN] {
            let err = Rating::new(stars, None).expect_err("out of range");
            assert!(
                err.message().contains("from 1 to 5"),
                "{stars}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn a_note_is_bounded_in_characters_and_keeps_its_newlines() {
        let long = "é".repeat(MAX_NOTE_CHARS);
        assert!(Rating::new(4, Some(long.clone())).is_ok(), "1000 chars");
        assert!(Rating::new(4, Some(format!("{long}x"))).is_err(), "1001");
        let lines = "Good.\nWould go again.".to_owned();
        assert_eq!(
            Rating::new(4, Some(lines.clone())).map(|r| r.note),
            Ok(Some(lines))
        );
        for bad in ["tab\there", "nul\0", "cr\r\n", "bell\u{7}", "c1\u{85}"] {
            assert!(Rating::new(4, Some(bad.into())).is_err(), "{bad:?}");
        }
        assert_eq!(Rating::new(3, Some("  ".into())).map(|r| r.note), Ok(None));
    }

    #[test]
    fn decoding_checks_and_a_rating_round_trips() {
        let rating: Rating = serde_json::from_str(r#"{"stars": 5, "note": "Lovely"}"#).unwrap();
        assert_eq!(rating.note.as_deref(), Some("Lovely"));
        assert_eq!(
            serde_json::from_str::<Rating>(&serde_json::to_string(&rating).unwrap()).unwrap(),
            rating
        );
        assert!(serde_json::from_str::<Rating>(r#"{"stars": 9}"#).is_err());
        assert!(serde_json::from_str::<RatingInput>(r#"{"stars": 2, "x": 1}"#).is_err());
        let input: RatingInput = serde_json::from_str(r#"{"stars": 9}"#).unwrap();
        assert!(Rating::try_from(input).is_err());
        assert!(
            Rating {
                stars: 0,
                note: None
            }
            .check()
            .is_err()
        );
    }
}
