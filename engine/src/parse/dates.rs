//! Reads when the trip starts and how long it lasts.
//!
//! Dates: month names ("March 5th", "5 Dec", "the 23rd of March", ranges
//! "Dec 5-8", "Dec 5 through Dec 8"), ISO (`2027-01-04`), US numeric
//! (`6/21-6/23`, `6/21-23`, `2/3/27`), a day of the month alone ("from the
//! 3rd"), and relative dates counted from today: "today", "tomorrow", "the
//! day after tomorrow", weekday names ("Saturday", "this Friday", "next
//! Monday" — the Monday of next week), "this/next weekend", "in two weeks",
//! "a week from today"; named periods ("the first week of May", "over New
//! Year's": `periods`). A weekday named beside a date ("Friday Dec 4")
//! adds nothing. A year counts when written with a date or in words ("in
//! 2027"), never from a dollar amount; a date without one is the next such
//! day from today, and the year is stated as an assumption.
//!
//! Durations: "5 days", "five-day", "3 nights" (4 days), "a week",
//! "two weeks", "a fortnight", "a long weekend" (3 days), "this weekend"
//! (2 days). A date range decides the length; a stated length that differs
//! is noted. Two lengths or date ranges that disagree are a question unless
//! the later one corrects the earlier ("4 days, sorry, 5 days").

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use regex::{Captures, Regex};
use wayfare_domain::bounds::{Days, TripDate};
use wayfare_domain::intent::TripIntent;

use super::Gazetteer;
use super::numbers::{NUM, number};
use super::periods;
use super::text::{corrected_between, quote};

pub(super) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

pub(super) const MONTH_ALT: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";
/// Month names that are not also ordinary words ("may").
const MONTH_ALT_NO_MAY: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

/// Words after a number that make it a count, not a day of the month.
const UNIT_WORDS: [&str; 20] = [
    "people",
    "persons",
    "person",
    "adults",
    "adult",
    "days",
    "day",
    "nights",
    "night",
    "travellers",
    "travelers",
    "kids",
    "children",
    "guests",
    "pm",
    "am",
    "cities",
    "ppl",
    "pax",
    "of",
];

/// Whether the word after byte offset `end` is a count's unit.
fn unit_follows(text: &str, end: usize) -> bool {
    let rest = text[end..].trim_start_matches([' ', '\t']);
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    UNIT_WORDS.contains(&word.as_str())
}

re!(
    DATE,
    &format!(r"(?i)\b({MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}})\b)?")
);
re!(
    /// "the 23rd to the 29th of March" → "March 23 to March 29".
    DAY_RANGE_OF_MONTH,
    &format!(r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:to|-|through|thru|until|and|till)\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+({MONTH_ALT})\b")
);
re!(
    /// "the 23rd of March" → "March 23".
    DAY_OF_MONTH,
    &format!(r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+({MONTH_ALT})\b")
);
re!(
    /// "5-8 December" / "5th to 8th Dec" → "December 5 to December 8".
    DAY_RANGE_MONTH,
    &format!(r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|to|through|thru|until|till)\s*(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_ALT_NO_MAY})\b")
);
re!(
    /// "5 Dec" → "Dec 5".
    DAY_MONTH,
    &format!(r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_ALT_NO_MAY})\b")
);
re!(
    /// "March 16-18" / "March 16 to 18" → "March 16 to March 18".
    MONTH_DAY_RANGE,
    &format!(r"(?i)\b({MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|to|through|thru|until|till)\s*(\d{{1,2}})(?:st|nd|rd|th)?\b")
);
re!(
    /// "5/10-12" → "5/10 to 5/12".
    US_SHORT_RANGE,
    r"(?i)\b(\d{1,2})/(\d{1,2})\s*(?:-|to|through|thru|until|till)\s*(\d{1,2})\b"
);
re!(US_DATE, r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b");
re!(ISO_DATE, r"\b(\d{4})-(\d{2})-(\d{2})\b");
re!(DAY_ONLY, r"(?i)\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b");
re!(
    WEEKDAY,
    r"(?i)\b(?:(this|next|coming|on)\s+)?(mon|tues|wednes|thurs|fri|satur|sun)day\b"
);
re!(
    RELATIVE_DAY,
    r"(?i)\b(the day after tomorrow|day after tomorrow|tomorrow|today|tonight)\b"
);
re!(WEEKEND, r"(?i)\b(this|next|coming)\s+(long\s+)?weekend\b");
re!(
    IN_WEEKS,
    &format!(
        r"(?i)\b(?:in\s+({NUM}|a|one)\s+weeks?|({NUM}|a|one)\s+weeks?\s+from\s+(?:today|now))\b"
    )
);
re!(
    IN_DAYS,
    &format!(
        r"(?i)\b(?:in\s+({NUM})\s+days?(?:'|’)?\s+time|({NUM})\s+days?\s+from\s+(?:today|now))\b"
    )
);
re!(
    /// A year said in words around it: "in 2027", "of 2027", "March 2027".
    YEAR_PHRASE,
    &format!(r"(?i)\b(?:in|of|during|year|{MONTH_ALT})\.?\s+(\d{{4}})\b")
);
re!(
    /// A month or weekday name, whole ("May", "sept", "Friday").
    CALENDAR_WORD,
    &format!(r"(?i)^(?:(?:{MONTH_ALT})\.?|(?:mon|tues|wednes|thurs|fri|satur|sun)day)$")
);

/// Whether `word` is a month or a weekday ("may", "Sept", "friday").
pub(super) fn is_calendar_word(word: &str) -> bool {
    CALENDAR_WORD.is_match(word)
}

re!(
    /// A month named without a day ("in May", "during December").
    MONTH_ALONE,
    &format!(r"(?i)\b(?:in|during|this|next|early|mid|late|around|throughout)[\s-]+({MONTH_ALT})\b")
);
re!(DAYS, &format!(r"(?i)\b({NUM})[\s-]+day[sz]?\b"));
re!(NIGHTS, &format!(r"(?i)\b({NUM})[\s-]+nights?\b"));
re!(
    WEEKS,
    &format!(r"(?i)\b(?:({NUM}|a|one)[\s-]+weeks?|week[\s-]long|(fortnight))\b")
);
re!(LONG_WEEKEND, r"(?i)\blong\s+weekend\b");
re!(ANY_WEEKEND, r"(?i)\bweekend\b");
re!(
    /// A dollar amount, so that "$2000" is never read as a year.
    MONEY_YEAR,
    r"(?i)\$\s?\d[\d,]*|\b\d[\d,]*\s*(?:dollars|usd|bucks)\b"
);

/// Rewrites day-first and shortened date ranges into "Month D" form.
fn normalise(text: &str) -> String {
    let text = periods::rewrite(text);
    let text = DAY_RANGE_OF_MONTH.replace_all(&text, "$3 $1 to $3 $2");
    let text = DAY_OF_MONTH.replace_all(&text, "$2 $1");
    let text = DAY_RANGE_MONTH.replace_all(&text, "$3 $1 to $3 $2");
    let text = DAY_MONTH.replace_all(&text, "$2 $1");
    let text = MONTH_DAY_RANGE
        .replace_all(&text, |c: &Captures<'_>| {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            let next = text[whole.end..].chars().next();
            if unit_follows(&text, whole.end) || matches!(next, Some('/' | ':')) {
                c[0].to_string()
            } else {
                format!("{} {} to {} {}", &c[1], &c[2], &c[1], &c[3])
            }
        })
        .into_owned();
    US_SHORT_RANGE
        .replace_all(&text, |c: &Captures<'_>| {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            let next = text[whole.end..].chars().next();
            if matches!(next, Some('/')) || unit_follows(&text, whole.end) {
                c[0].to_string()
            } else {
                format!("{}/{} to {}/{}", &c[1], &c[2], &c[1], &c[3])
            }
        })
        .into_owned()
}

/// How a date was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// With a year.
    Dated,
    /// Month and day; the year is inferred.
    MonthDay { month: u32, day: u32 },
    /// A day of the month alone ("the 3rd").
    DayOnly { day: u32 },
    /// A weekday: `next` is "next Friday".
    Weekday { day: Weekday, next: bool },
    /// Counted from today.
    FromToday { days: u64 },
    /// "this weekend" (Saturday), "next long weekend" (Friday).
    Weekend { next: bool, long: bool },
    /// Not a date ("February 30").
    Invalid,
}

/// A day of a month, with its year when one was written: a date, a day
/// the year is still to be found for, or no such day (`February 30`).
fn day_of(year: Option<i32>, month: u32, day: u32) -> (Kind, Option<NaiveDate>) {
    match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day)
            .map_or((Kind::Invalid, None), |d| (Kind::Dated, Some(d))),
        None if NaiveDate::from_ymd_opt(2000, month, day).is_some() => {
            (Kind::MonthDay { month, day }, None)
        }
        None => (Kind::Invalid, None),
    }
}

#[derive(Debug, Clone)]
struct Mention {
    start: usize,
    end: usize,
    kind: Kind,
    /// Set for `Dated`.
    date: Option<NaiveDate>,
    words: String,
}

impl Mention {
    /// The mention of `cap`'s whole match, read as `kind` (`date` set for
    /// [`Kind::Dated`]).
    fn of(cap: &regex::Captures<'_>, kind: Kind, date: Option<NaiveDate>) -> Self {
        let whole = cap.get(0).map_or(0..0, |m| m.range());
        Mention {
            start: whole.start,
            end: whole.end,
            kind,
            date,
            words: cap[0].to_string(),
        }
    }

    fn inferred(&self) -> bool {
        !matches!(self.kind, Kind::Dated)
    }
}

/// A stated length, where it was said, and a note when it was inferred.
#[derive(Debug, Clone)]
struct Length {
    start: usize,
    end: usize,
    days: u64,
    words: String,
    note: Option<String>,
}

impl Length {
    /// `days` as `cap`'s whole match states them ("5 days").
    fn stated(cap: &regex::Captures<'_>, days: u64) -> Self {
        let whole = cap.get(0).map_or(0..0, |m| m.range());
        Length {
            start: whole.start,
            end: whole.end,
            days,
            words: cap[0].to_string(),
            note: None,
        }
    }

    /// `days` read from `cap`'s whole match in other units ("4 nights",
    /// "two weeks"), noted so that the reader sees the conversion.
    fn converted(cap: &regex::Captures<'_>, days: u64) -> Self {
        Length {
            note: Some(format!("{days} days: '{}'", quote(&cap[0]))),
            ..Length::stated(cap, days)
        }
    }
}

pub(super) fn month_of(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let key = &lower[..3.min(lower.len())];
    MONTHS
        .iter()
        .position(|m| m.starts_with(key))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn weekday_of(stem: &str) -> Option<Weekday> {
    Some(match stem.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Mon,
        "tues" => Weekday::Tue,
        "wednes" => Weekday::Wed,
        "thurs" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "satur" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// "may" → "May".
pub(super) fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn add_days(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    date.checked_add_days(chrono::Days::new(days))
}

/// The first `weekday` strictly after `after`.
fn weekday_after(after: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let from = after.weekday().num_days_from_monday();
    let to = weekday.num_days_from_monday();
    let ahead = (to + 7 - from) % 7;
    add_days(after, u64::from(if ahead == 0 { 7 } else { ahead }))
}

/// `weekday` in the week (Monday to Sunday) after `today`'s.
fn weekday_next_week(today: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let monday = add_days(today, u64::from(7 - today.weekday().num_days_from_monday()))?;
    add_days(monday, u64::from(weekday.num_days_from_monday()))
}

/// The next `month`/`day` on or after `anchor`.
fn month_day_from(anchor: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..=4).find_map(|k| {
        NaiveDate::from_ymd_opt(anchor.year() + k, month, day).filter(|d| *d >= anchor)
    })
}

/// The end of a range that starts at `start`: in the same year, or the
/// next when the month comes earlier ("Dec 28 to Jan 2"). "Dec 8 to Dec 5"
/// stays before its start, for the caller to refuse.
fn range_end(start: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let same = NaiveDate::from_ymd_opt(start.year(), month, day)?;
    if same < start && month < start.month() {
        NaiveDate::from_ymd_opt(start.year() + 1, month, day)
    } else {
        Some(same)
    }
}

/// The next `day` of a month on or after `anchor`.
fn day_from(anchor: NaiveDate, day: u32) -> Option<NaiveDate> {
    let mut year = anchor.year();
    let mut month = anchor.month();
    for _ in 0..13 {
        if let Some(d) = NaiveDate::from_ymd_opt(year, month, day).filter(|d| *d >= anchor) {
            return Some(d);
        }
        month += 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
    None
}

fn long_date(d: NaiveDate) -> String {
    d.format("%A, %B %-d, %Y").to_string()
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl Gazetteer {
    /// Every date written in `text`, in order, not yet resolved.
    fn date_mentions(
        &self,
        text: &str,
        year_of: &dyn Fn(regex::Match<'_>) -> Option<i32>,
    ) -> Vec<Mention> {
        let mut found: Vec<Mention> = Vec::new();
        let push = |found: &mut Vec<Mention>, m: Mention| {
            if !found
                .iter()
                .any(|f| overlaps((f.start, f.end), (m.start, m.end)))
            {
                found.push(m);
            }
        };
        for cap in ISO_DATE.captures_iter(text) {
            let date = match (cap[1].parse(), cap[2].parse(), cap[3].parse()) {
                (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
                _ => None,
            };
            let kind = if date.is_some() {
                Kind::Dated
            } else {
                Kind::Invalid
            };
            push(&mut found, Mention::of(&cap, kind, date));
        }
        for cap in DATE.captures_iter(text) {
            let whole = cap.get(0).map_or(0..0, |m| m.range());
            let day_end = cap.get(2).map_or(whole.end, |m| m.end());
            if cap.get(3).is_none() && unit_follows(text, day_end) {
                continue;
            }
            let (Some(month), Ok(day)) = (month_of(&cap[1]), cap[2].parse::<u32>()) else {
                continue;
            };
            let (kind, date) = day_of(cap.get(3).and_then(year_of), month, day);
            push(&mut found, Mention::of(&cap, kind, date));
        }
        for cap in US_DATE.captures_iter(text) {
            let whole = cap.get(0).map_or(0..0, |m| m.range());
            let before = text[..whole.start].chars().next_back();
            if matches!(before, Some('/' | '$')) {
                continue;
            }
            let (Ok(month), Ok(day)) = (cap[1].parse::<u32>(), cap[2].parse::<u32>()) else {
                continue;
            };
            if !(1..=12).contains(&month) || NaiveDate::from_ymd_opt(2000, month, day).is_none() {
                continue;
            }
            let year = cap.get(3).and_then(|y| {
                let n: i32 = y.as_str().parse().ok()?;
                Some(if y.as_str().len() == 2 { 2000 + n } else { n })
            });
            let (kind, date) = day_of(year, month, day);
            push(&mut found, Mention::of(&cap, kind, date));
        }
        for cap in DAY_ONLY.captures_iter(text) {
            let whole = cap.get(0).map_or(0..0, |m| m.range());
            if unit_follows(text, whole.end) {
                continue;
            }
            let Ok(day) = cap[1].parse::<u32>() else {
                continue;
            };
            let kind = if (1..=31).contains(&day) {
                Kind::DayOnly { day }
            } else {
                Kind::Invalid
            };
            push(&mut found, Mention::of(&cap, kind, None));
        }
        for cap in WEEKEND.captures_iter(text) {
            let next = cap[1].eq_ignore_ascii_case("next");
            push(
                &mut found,
                Mention::of(
                    &cap,
                    Kind::Weekend {
                        next,
                        long: cap.get(2).is_some(),
                    },
                    None,
                ),
            );
        }
        // "in two weeks" / "10 days from now": so many days from today (a
        // week when the count is left out, "in a week").
        for (re, days_per, unstated) in [(&IN_WEEKS, 7, 1), (&IN_DAYS, 1, 0)] {
            for cap in re.captures_iter(text) {
                let n = cap
                    .get(1)
                    .or(cap.get(2))
                    .and_then(|m| number(m.as_str()))
                    .unwrap_or(unstated);
                push(
                    &mut found,
                    Mention::of(
                        &cap,
                        Kind::FromToday {
                            days: n.saturating_mul(days_per),
                        },
                        None,
                    ),
                );
            }
        }
        for cap in RELATIVE_DAY.captures_iter(text) {
            let lower = cap[1].to_ascii_lowercase();
            let days = if lower.contains("after") {
                2
            } else if lower == "tomorrow" {
                1
            } else {
                0
            };
            push(
                &mut found,
                Mention::of(&cap, Kind::FromToday { days }, None),
            );
        }
        let mut weekdays = Vec::new();
        for cap in WEEKDAY.captures_iter(text) {
            let Some(day) = weekday_of(&cap[2]) else {
                continue;
            };
            let next = cap
                .get(1)
                .is_some_and(|q| q.as_str().eq_ignore_ascii_case("next"));
            weekdays.push(Mention::of(&cap, Kind::Weekday { day, next }, None));
        }
        found.sort_by_key(|m| m.start);
        // A weekday named beside a date ("Friday Dec 4", "Saturday, the
        // 5th") only describes it.
        for w in weekdays {
            let only_glue = |between: &str| {
                between.len() <= 6
                    && between
                        .trim_matches(|c: char| c == ',' || c.is_whitespace())
                        .trim_start_matches("the")
                        .trim_matches(|c: char| c == ',' || c.is_whitespace())
                        .is_empty()
            };
            let beside = found.iter().any(|m| {
                (m.start >= w.end && only_glue(&text[w.end..m.start]))
                    || (m.end <= w.start
                        && only_glue(&text[m.end..w.start])
                        && !matches!(m.kind, Kind::Weekday { .. }))
            });
            if !beside {
                push(&mut found, w);
            }
        }
        found.sort_by_key(|m| m.start);
        found
    }

    pub(super) fn parse_dates(&self, text: &str, intent: &mut TripIntent) {
        let normalised = normalise(text);
        let text = normalised.as_str();
        let money: Vec<(usize, usize)> = MONEY_YEAR
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let is_money = |at: usize| money.iter().any(|(s, e)| (*s..*e).contains(&at));
        let year_of = |m: regex::Match<'_>| -> Option<i32> {
            (!is_money(m.start()))
                .then(|| m.as_str().parse().ok())
                .flatten()
        };
        let mut mentions = self.date_mentions(text, &year_of);
        // A year the text states: with a date, or in words around it.
        let year_in_text = mentions
            .iter()
            .find(|m| m.kind == Kind::Dated)
            .and_then(|m| m.date.map(|d| d.year()))
            .or_else(|| {
                YEAR_PHRASE
                    .captures_iter(text)
                    .find_map(|c| c.get(1).and_then(year_of))
            });

        // A self-correction between two dates drops what came before it.
        if let Some(k) = (1..mentions.len())
            .rev()
            .find(|&k| corrected_between(text, mentions[k - 1].end, mentions[k].start))
        {
            let dropped: Vec<String> = mentions[..k].iter().map(|m| quote(&m.words)).collect();
            let kept: Vec<String> = mentions[k..].iter().map(|m| quote(&m.words)).collect();
            intent.assumptions.push(format!(
                "dates: '{}' taken over '{}' (the text corrects itself)",
                kept.join(" to "),
                dropped.join(" to ")
            ));
            mentions.drain(..k);
        }

        let lengths = lengths(text, &mentions);
        let today = self.today();
        // Resolve each date in order: a date without a year is the next one
        // on or after the previous date (or today).
        let mut resolved: Vec<(NaiveDate, &Mention)> = Vec::new();
        let mut invalid: Option<&Mention> = None;
        let mut assumed_year = false;
        for m in &mentions {
            let anchor = resolved.last().map(|(d, _)| *d);
            let date = match m.kind {
                Kind::Dated => m.date,
                Kind::Invalid => {
                    invalid.get_or_insert(m);
                    continue;
                }
                Kind::MonthDay { month, day } => match (year_in_text, self.not_before) {
                    (Some(y), _) => NaiveDate::from_ymd_opt(y, month, day).map(|d| match anchor {
                        // "Dec 28 to Jan 2, 2027": the range crosses the year.
                        Some(a) if d < a => month_day_from(a, month, day).unwrap_or(d),
                        _ => d,
                    }),
                    (None, Some(_)) => {
                        assumed_year = true;
                        match anchor {
                            Some(a) => range_end(a, month, day),
                            None => month_day_from(today, month, day),
                        }
                    }
                    (None, None) => {
                        assumed_year = true;
                        match anchor {
                            Some(a) => range_end(a, month, day),
                            None => NaiveDate::from_ymd_opt(self.default_year, month, day),
                        }
                    }
                },
                Kind::DayOnly { day } => day_from(anchor.unwrap_or(today), day),
                Kind::Weekday { day, next } => match (next, anchor) {
                    (false, Some(a)) => weekday_after(a, day),
                    (true, _) => weekday_next_week(today, day),
                    (false, None) => weekday_after(today, day),
                },
                Kind::FromToday { days } => add_days(today, days),
                Kind::Weekend { next, long } => {
                    let saturday = if next {
                        weekday_next_week(today, Weekday::Sat)
                    } else if today.weekday() == Weekday::Sat {
                        Some(today)
                    } else {
                        weekday_after(today, Weekday::Sat)
                    };
                    if long {
                        saturday.and_then(|s| s.pred_opt())
                    } else {
                        saturday
                    }
                }
            };
            match date {
                Some(d) => resolved.push((d, m)),
                None => {
                    invalid.get_or_insert(m);
                }
            }
        }
        for (d, m) in &resolved {
            if m.inferred() && !matches!(m.kind, Kind::MonthDay { .. }) {
                intent
                    .assumptions
                    .push(format!("'{}' read as {}", quote(&m.words), long_date(*d)));
            }
        }
        if assumed_year && let Some((first, _)) = resolved.first() {
            intent
                .assumptions
                .push(format!("the dates are in {}", first.year()));
        }
        // The same day said twice is one date.
        resolved.dedup_by_key(|(d, _)| *d);

        let mut days: Option<u64> = None;
        let mut days_question: Option<String> = None;
        match resolve_lengths(text, &lengths, intent) {
            Ok(Some(n)) => days = Some(n),
            Ok(None) => {}
            Err(q) => days_question = Some(q),
        }

        let mut start: Option<NaiveDate> = None;
        let mut start_question: Option<String> = None;
        match resolved.as_slice() {
            [] => {
                start_question = Some(match invalid {
                    Some(m) => format!(
                        "When does the trip start? ('{}' is not a date)",
                        quote(&m.words)
                    ),
                    None => match MONTH_ALONE
                        .captures(text)
                        .and_then(|c| month_of(&c[1]))
                        .and_then(|m| MONTHS.get(usize::try_from(m).ok()?.checked_sub(1)?))
                    {
                        Some(month) => {
                            let name = capitalised(month);
                            format!(
                                "When does the trip start? The text names {name} but no day (e.g. \"from {name} 14th to {name} 16th\")"
                            )
                        }
                        None => {
                            "When does the trip start? (e.g. \"from May 14th to May 16th\")".into()
                        }
                    },
                });
            }
            [(only, _)] => start = Some(*only),
            [(first, _), (last, m)] => {
                if last < first {
                    let why = format!(
                        "the end date ({}) is before the start date ({})",
                        long_date(*last),
                        long_date(*first)
                    );
                    start_question = Some(format!("When does the trip start? ({why})"));
                    days_question = Some(format!("How many days is the trip? ({why})"));
                } else {
                    start = Some(*first);
                    let span = u64::try_from((*last - *first).num_days())
                        .map_or(u64::MAX, |d| d.saturating_add(1));
                    if let Some(d) = days
                        && d != span
                        && days_question.is_none()
                    {
                        intent.assumptions.push(format!(
                            "the dates span {span} days although the text says {d}; the dates are used"
                        ));
                    }
                    if days.is_none() && m.inferred() {
                        intent.assumptions.push(format!(
                            "{span} days: from {} to {}",
                            long_date(*first),
                            long_date(*last)
                        ));
                    }
                    days = Some(span);
                    days_question = None;
                }
            }
            several => {
                let list: Vec<String> = several.iter().map(|(_, m)| quote(&m.words)).collect();
                let why = format!("the text names several dates: {}", list.join(", "));
                start_question = Some(format!("When does the trip start? ({why})"));
                if days.is_none() {
                    days_question = Some(format!("How many days is the trip? ({why})"));
                }
            }
        }
        if let Some(d) = start {
            match TripDate::try_from(d) {
                Ok(s) => intent.start_date = Some(s),
                Err(e) => intent
                    .questions
                    .push(format!("When does the trip start? ({e})")),
            }
        }
        if let Some(q) = start_question {
            intent.questions.push(q);
        }
        if let Some(q) = days_question {
            intent.questions.push(q);
            return;
        }
        match days.map(|n| (n, Days::try_from(n))) {
            Some((_, Ok(d))) => intent.days = Some(d),
            Some((n, Err(_))) => intent.questions.push(format!(
                "A {n}-day trip cannot be planned; trips last {} to {} days.",
                Days::MIN,
                Days::MAX
            )),
            None => intent
                .questions
                .push("How many days is the trip? (e.g. \"a 3-day trip\" or an end date)".into()),
        }
    }
}

/// Every stated length, in order; weekend lengths only when nothing else
/// says how long.
fn lengths(text: &str, dates: &[Mention]) -> Vec<Length> {
    let relative: Vec<(usize, usize)> = IN_WEEKS
        .find_iter(text)
        .chain(IN_DAYS.find_iter(text))
        .map(|m| (m.start(), m.end()))
        .collect();
    let inside_relative = |s: usize, e: usize| relative.iter().any(|r| overlaps(*r, (s, e)));
    let mut out = Vec::new();
    for cap in DAYS.captures_iter(text) {
        let whole = cap.get(0).map_or(0..0, |m| m.range());
        if inside_relative(whole.start, whole.end) {
            continue;
        }
        if let Some(n) = number(&cap[1]) {
            out.push(Length::stated(&cap, n));
        }
    }
    for cap in NIGHTS.captures_iter(text) {
        if let Some(n) = number(&cap[1]) {
            let days = n.saturating_add(1);
            out.push(Length::converted(&cap, days));
        }
    }
    for cap in WEEKS.captures_iter(text) {
        let whole = cap.get(0).map_or(0..0, |m| m.range());
        if inside_relative(whole.start, whole.end) {
            continue;
        }
        let weeks = if cap.get(2).is_some() {
            2
        } else {
            cap.get(1).and_then(|m| number(m.as_str())).unwrap_or(1)
        };
        let days = weeks.saturating_mul(7);
        out.push(Length::converted(&cap, days));
    }
    if out.is_empty() {
        let has_weekend_date = dates.iter().any(|m| matches!(m.kind, Kind::Weekend { .. }));
        if let Some(m) = LONG_WEEKEND.find(text) {
            out.push(Length {
                start: m.start(),
                end: m.end(),
                days: 3,
                words: m.as_str().to_string(),
                note: Some(format!("3 days (Friday to Sunday): '{}'", m.as_str())),
            });
        } else if has_weekend_date && let Some(m) = ANY_WEEKEND.find(text) {
            out.push(Length {
                start: m.start(),
                end: m.end(),
                days: 2,
                words: m.as_str().to_string(),
                note: Some("2 days (Saturday and Sunday): 'weekend'".to_string()),
            });
        }
    }
    out.sort_by_key(|l| l.start);
    out
}

/// One length from all stated: the same everywhere, or corrected; else a
/// question.
fn resolve_lengths(
    text: &str,
    lengths: &[Length],
    intent: &mut TripIntent,
) -> Result<Option<u64>, String> {
    let Some(last) = lengths.last() else {
        return Ok(None);
    };
    let first = &lengths[0];
    if lengths.iter().all(|l| l.days == first.days) {
        if let Some(note) = &first.note {
            intent.assumptions.push(note.clone());
        }
        return Ok(Some(first.days));
    }
    // The last statement that differs from the one before it.
    let k = (1..lengths.len())
        .rev()
        .find(|&k| lengths[k].days != lengths[k - 1].days)
        .unwrap_or(0);
    if k > 0 && corrected_between(text, lengths[k - 1].end, lengths[k].start) {
        intent.assumptions.push(format!(
            "{} days: '{}' taken over '{}' (the text corrects itself)",
            last.days,
            quote(&lengths[k].words),
            quote(&lengths[k - 1].words)
        ));
        return Ok(Some(lengths[k].days));
    }
    let said: Vec<String> = lengths.iter().map(|l| quote(&l.words)).collect();
    Err(format!(
        "How many days is the trip? The text says {}.",
        said.join(" and ")
    ))
}
