//! The human forms the design document writes its configuration in:
//! durations with a unit (`30s`, `250ms`, `1.5s`, `2m`, `1h 30m`: any form
//! `humantime` reads) and shares as percentages (`80%`; a bare number is a
//! fraction in `[0, 1]`). Both serialise back to their human form, so the
//! built-in defaults go through the same parser as the file.
//!
//! One form is ours, not humantime's: a bare integer is milliseconds
//! (`1500`), which configuration files and `WAYFARE_*` variables written
//! without a unit rely on (humantime wants a unit). A bare decimal (`1.5`)
//! is now refused: it used to mean 1.5 ms, surely not what was meant.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written `30s`, `250ms`, `2m`, `1h` or as integer milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn from_millis(ms: u64) -> Self {
        Self(Duration::from_millis(ms))
    }

    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Parses `30s`, `1.5s`, `250ms`, `2m`, `1h 30m` (humantime's forms) or
/// `1500` (a bare integer: milliseconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{text:?} is out of range"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration (write e.g. 30s, 250ms, 2m): {e}"))
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.as_millis();
        if ms.is_multiple_of(1000) && ms > 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30s, 250ms or 2m, or integer milliseconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(HumanDuration::from_millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(HumanDuration::from_millis)
                    .map_err(|_| E::custom(format!("a duration cannot be negative ({v})")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_duration(v).map(HumanDuration).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A share in `[0, 1]`, written `80%` or `0.8`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(pub f64);

/// Parses `80%`, `12.5%` or `0.8` into a fraction in `[0, 1]`.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(number) => number
            .trim()
            .parse::<f64>()
            .map(|v| v / 100.0)
            .map_err(|_| format!("{text:?} is not a percentage (write e.g. 80%)"))?,
        None => text
            .parse::<f64>()
            .map_err(|_| format!("{text:?} is not a percentage (write e.g. 80% or 0.8)"))?,
    };
    check_fraction(value)
}

fn check_fraction(value: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{value} is outside [0, 1] (write a fraction such as 0.8, or a percentage such as 80%)"
        ))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", (self.0 * 1e6).round() / 1e4)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as 80%, or a fraction in [0, 1]")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                check_fraction(v).map(Percent).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_percent(v).map(Percent).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_every_unit_the_design_uses() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1500"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 20s "), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("30 parsecs").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(
            parse_duration("1.5").is_err(),
            "a bare decimal means no unit"
        );
        assert!(parse_duration("99999999999999999999").is_err());
    }

    #[test]
    fn percentages_and_fractions_mean_the_same_share() {
        assert_eq!(parse_percent("80%"), Ok(0.8));
        assert_eq!(parse_percent("0.75"), Ok(0.75));
        assert!(parse_percent("120%").is_err());
        assert!(parse_percent("80").is_err(), "80 would silently mean 8000%");
    }

    #[test]
    fn human_forms_survive_a_round_trip() {
        let d = HumanDuration::from_millis(30_000);
        assert_eq!(d.to_string(), "30s");
        assert_eq!(parse_duration(&d.to_string()), Ok(d.0));
        let d = HumanDuration::from_millis(250);
        assert_eq!(parse_duration(&d.to_string()), Ok(d.0));
        let p = Percent(0.8);
        assert_eq!(p.to_string(), "80%");
        assert_eq!(parse_percent(&p.to_string()), Ok(0.8));
    }
}
