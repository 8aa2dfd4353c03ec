//! The values a trip planner sensibly accepts, as types: [`Days`],
//! [`Travellers`], [`Budget`], [`TripDate`].
//!
//! Parse, don't validate: each is built only through `TryFrom` (and serde's
//! `try_from`, so decoding JSON checks it too), and the parser's output, the
//! API's overrides and a modification's changes all hold these types. A
//! value out of range is an [`InputError`] whose message names the field and
//! the range it must lie in; no code past the boundary checks again.
//!
//! | type | range | why |
//! | --- | --- | --- |
//! | [`Days`] | 2 ..= 30 | the first and last days are travel days; a month is the longest trip the agents plan |
//! | [`Travellers`] | 1 ..= 20 | a party, not a tour operator's coach |
//! | [`Budget`] | > 0 ..= 1 000 000 USD, finite | anything above is not a trip budget but a typo |
//! | [`TripDate`] | 2000-01-01 ..= 2100-12-31 | fixed years, not relative to today: the benchmark's trips are in 2022 and logs are replayed years later |

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A value outside what Wayfare plans, or text it refuses. The message
/// names the field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The same error, said of the field `name` (e.g. `overrides.people`).
    pub fn within(self, name: &str) -> Self {
        Self {
            message: format!("{name}: {}", self.message),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// Defines a whole-number newtype within `MIN ..= MAX`, from any integer.
macro_rules! bounded_count {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(try_from = "i64", into = "u32")]
        pub struct $name(u32);

        impl $name {
            pub const MIN: u32 = $min;
            pub const MAX: u32 = $max;

            pub fn get(self) -> u32 {
                self.0
            }

            fn out_of_range(shown: impl fmt::Display) -> InputError {
                InputError::new(format!(
                    "{} must be a whole number from {} to {}, not {shown}",
                    $what,
                    Self::MIN,
                    Self::MAX
                ))
            }
        }

        impl TryFrom<i64> for $name {
            type Error = InputError;

            fn try_from(n: i64) -> Result<Self, InputError> {
                match u32::try_from(n) {
                    Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
                    _ => Err(Self::out_of_range(n)),
                }
            }
        }

        impl TryFrom<u64> for $name {
            type Error = InputError;

            fn try_from(n: u64) -> Result<Self, InputError> {
                match u32::try_from(n) {
                    Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
                    _ => Err(Self::out_of_range(n)),
                }
            }
        }

        impl TryFrom<u32> for $name {
            type Error = InputError;

            fn try_from(n: u32) -> Result<Self, InputError> {
                Self::try_from(u64::from(n))
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

bounded_count!(
    /// A trip's length in days, the first and last being travel days.
    Days,
    2,
    30,
    "days"
);

bounded_count!(
    /// How many people travel together.
    Travellers,
    1,
    20,
    "travellers"
);

impl Travellers {
    /// One traveller: what the parser assumes (and says so) when the text
    /// does not tell.
    pub const ONE: Travellers = Travellers(1);
}

impl Default for Travellers {
    fn default() -> Self {
        Travellers::ONE
    }
}

/// The total budget of a trip, in USD: finite, more than 0, at most
/// [`Budget::MAX_USD`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "f64", into = "f64")]
pub struct Budget(f64);

impl Budget {
    pub const MAX_USD: f64 = 1_000_000.0;

    pub fn usd(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Budget {
    type Error = InputError;

    fn try_from(usd: f64) -> Result<Self, InputError> {
        if usd.is_finite() && usd > 0.0 && usd <= Self::MAX_USD {
            return Ok(Self(usd));
        }
        let shown = if usd.is_finite() {
            usd.to_string()
        } else {
            "a number too large to read".to_owned()
        };
        Err(InputError::new(format!(
            "budget must be more than 0 and at most {} USD, not {shown}",
            Self::MAX_USD
        )))
    }
}

impl From<Budget> for f64 {
    fn from(b: Budget) -> f64 {
        b.0
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A day a trip may start on: within [`TripDate::FIRST`] ..= [`TripDate::LAST`].
/// Serialised as `YYYY-MM-DD`, like a `NaiveDate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
#[serde(try_from = "String", into = "NaiveDate")]
pub struct TripDate(NaiveDate);

impl TripDate {
    pub const FIRST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
        Some(d) => d,
        None => panic!("a valid constant date"),
    };
    pub const LAST: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
        Some(d) => d,
        None => panic!("a valid constant date"),
    };

    pub fn get(self) -> NaiveDate {
        self.0
    }

    fn refused(shown: impl fmt::Display) -> InputError {
        InputError::new(format!(
            "start date must be a date (YYYY-MM-DD) from {} to {}, not {shown}",
            Self::FIRST,
            Self::LAST
        ))
    }
}

impl TryFrom<NaiveDate> for TripDate {
    type Error = InputError;

    fn try_from(date: NaiveDate) -> Result<Self, InputError> {
        if (Self::FIRST..=Self::LAST).contains(&date) {
            Ok(Self(date))
        } else {
            Err(Self::refused(date))
        }
    }
}

impl FromStr for TripDate {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, InputError> {
        match NaiveDate::from_str(s) {
            Ok(date) => Self::try_from(date),
            Err(_) => Err(Self::refused(format_args!("{:?}", shown_text(s)))),
        }
    }
}

impl TryFrom<String> for TripDate {
    type Error = InputError;

    fn try_from(s: String) -> Result<Self, InputError> {
        s.parse()
    }
}

impl From<TripDate> for NaiveDate {
    fn from(d: TripDate) -> NaiveDate {
        d.0
    }
}

impl fmt::Display for TripDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// At most the first 40 characters of `s`, to quote it in a message.
fn shown_text(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_their_range_and_refuse_the_rest_naming_the_field() {
        assert_eq!(Days::try_from(2i64).map(Days::get), Ok(2));
        assert_eq!(Days::try_from(30u64).map(Days::get), Ok(30));
        for n in [
            0i64,
            1,
            31,
            -1,
            4_294_967_295,
            94_000_000,
            i64::MAX,
            i64::MIN,
        ] {
            let err = Days::try_from(n).unwrap_err().to_string();
            assert!(err.contains("days") && err.contains("2 to 30"), "{err}");
        }
        assert!(Travellers::try_from(0i64).is_err());
        assert!(Travellers::try_from(21u32).is_err());
        let err = Travellers::try_from(0i64).unwrap_err().to_string();
        assert!(
            err.contains("travellers") && err.contains("1 to 20"),
            "{err}"
        );
    }

    #[test]
    fn a_budget_is_finite_positive_and_capped() {
        assert_eq!(Budget::try_from(1800.0).map(Budget::usd), Ok(1800.0));
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN, 1e300, 1_000_000.01] {
            let err = Budget::try_from(bad).unwrap_err().to_string();
            assert!(err.contains("budget"), "{err}");
        }
    }

    #[test]
    fn a_trip_date_lies_in_the_window() {
        assert!("2022-03-16".parse::<TripDate>().is_ok());
        for bad in [
            "+262142-12-30",
            "0000-01-01",
            "9999-12-31",
            "1999-12-31",
            "2101-01-01",
            "soon",
        ] {
            let err = bad.parse::<TripDate>().unwrap_err().to_string();
            assert!(
                err.contains("start date") && err.contains("2000-01-01"),
                "{err}"
            );
        }
    }

    #[test]
    fn serde_checks_the_bounds_and_keeps_the_plain_json_shape() {
        let days: Days = serde_json::from_str("3").expect("in range");
        assert_eq!(serde_json::to_string(&days).expect("json"), "3");
        assert!(serde_json::from_str::<Days>("4294967295").is_err());
        assert!(serde_json::from_str::<Travellers>("0").is_err());
        assert!(serde_json::from_str::<Budget>("-1").is_err());
        let date: TripDate = serde_json::from_str("\"2022-03-16\"").expect("in range");
        assert_eq!(
            serde_json::to_string(&date).expect("json"),
            "\"2022-03-16\""
        );
        assert!(serde_json::from_str::<TripDate>("\"+262142-12-30\"").is_err());
    }
}
