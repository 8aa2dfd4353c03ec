//! Named periods a person writes instead of dates: "the first week of May",
//! "the last week of June 2027", "over New Year's", "Christmas Eve", "the
//! Fourth of July". Each is rewritten into "Month D" dates before the date
//! reader runs (the assumptions then quote those dates and the year taken).
//!
//! A week of a month is a start date and seven days, unless the text states
//! a length of its own ("4 days in the first week of May" starts on May 1
//! and lasts 4 days). A holiday is its date: New Year's starts on December
//! 31, Christmas on the 24th ("over Christmas" includes the eve).

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::{Captures, Regex};

use super::dates::{MONTH_ALT, MONTHS, capitalised, month_of};

re!(
    WEEK_OF_MONTH,
    &format!(
        r"(?i)\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|last|final)\s+week\s+(?:of|in)\s+({MONTH_ALT})\b(?:,?\s*(\d{{4}})\b)?"
    )
);
re!(
    HOLIDAY,
    r"(?i)\b(?:(over|for|on|at|during|from|around|before|after|until|till|to|through|by|this|next|starting|since)\s+(?:the\s+)?)?(new\s+year'?s?'?\s+eve|new\s+year'?s?'?\s+day|new\s+year'?s?'?|christmas\s+eve|christmas\s+day|christmas|xmas|(?:the\s+)?fourth\s+of\s+july|independence\s+day)\b"
);
re!(
    /// A length stated in the text ("4 days", "3 nights", "a week").
    LENGTH,
    r"(?i)\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+(?:days?|nights?|weeks?)\b|\bweekend\b|\bfortnight\b"
);

/// The text with named periods rewritten as dates.
pub(super) fn rewrite(text: &str) -> String {
    let text = if WEEK_OF_MONTH.is_match(text) {
        let outside = WEEK_OF_MONTH.replace_all(text, " ");
        let stated_length = LENGTH.is_match(&outside);
        WEEK_OF_MONTH
            .replace_all(text, |c: &Captures<'_>| {
                week_of_month(c, stated_length).unwrap_or_else(|| c[0].to_string())
            })
            .into_owned()
    } else {
        text.to_string()
    };
    HOLIDAY
        .replace_all(&text, |c: &Captures<'_>| {
            let name = c[2].to_ascii_lowercase();
            let specific = name.ends_with("eve") || name.ends_with("day") || name.contains("july");
            // A bare "Christmas" is a date only after a cue ("over
            // Christmas"), not in "the Christmas markets".
            let Some(cue) = c.get(1).map(|m| m.as_str()) else {
                return if specific {
                    holiday_date(&name).to_string()
                } else {
                    c[0].to_string()
                };
            };
            format!("{cue} {}", holiday_date(&name))
        })
        .into_owned()
}

/// A holiday's date, from its lower-case name.
fn holiday_date(name: &str) -> &'static str {
    if name.starts_with("new") {
        if name.ends_with("day") {
            "January 1"
        } else {
            "December 31"
        }
    } else if name.contains("july") || name.starts_with("independence") {
        "July 4"
    } else if name.ends_with("day") {
        "December 25"
    } else {
        "December 24"
    }
}

/// "the second week of May 2027" → "May 8 2027 to May 14 2027" (or the
/// start alone when the text states a length).
fn week_of_month(c: &Captures<'_>, stated_length: bool) -> Option<String> {
    let month = month_of(&c[2])?;
    let year = c.get(3).and_then(|y| y.as_str().parse::<i32>().ok());
    let first = match c[1].to_ascii_lowercase().as_str() {
        "first" | "1st" => 1,
        "second" | "2nd" => 8,
        "third" | "3rd" => 15,
        "fourth" | "4th" => 22,
        _ => days_in_month(year, month)? - 6,
    };
    let name = capitalised(MONTHS.get(usize::try_from(month).ok()?.checked_sub(1)?)?);
    let year = year.map(|y| format!(" {y}")).unwrap_or_default();
    Some(if stated_length {
        format!("{name} {first}{year}")
    } else {
        format!("{name} {first}{year} to {name} {}{year}", first + 6)
    })
}

/// Days in the month; February has 28 when no year is written.
fn days_in_month(year: Option<i32>, month: u32) -> Option<u32> {
    let y = year.unwrap_or(2027);
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, month + 1, 1)
    }?;
    let first = NaiveDate::from_ymd_opt(y, month, 1)?;
    u32::try_from((next - first).num_days()).ok()
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn weeks_of_a_month_and_holidays_become_dates() {
        let cases = [
            (
                "the first week of May 2027, 2 people",
                "May 1 2027 to May 7 2027, 2 people",
            ),
            ("second week in june", "June 8 to June 14"),
            (
                "the last week of February 2028",
                "February 23 2028 to February 29 2028",
            ),
            ("the last week of April", "April 24 to April 30"),
            ("4 days in the third week of July", "4 days in July 15"),
            ("3 nights over New Year's", "3 nights over December 31"),
            ("over new years", "over December 31"),
            ("from new year's day", "from January 1"),
            ("Christmas Eve to Dec 27", "December 24 to Dec 27"),
            ("over the fourth of July", "over July 4"),
            ("a week in May", "a week in May"),
            ("see the Christmas markets", "see the Christmas markets"),
            ("on Christmas", "on December 24"),
        ];
        for (text, want) in cases {
            assert_eq!(rewrite(text), want, "{text:?}");
        }
    }
}
