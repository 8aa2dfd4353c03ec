//! Reads the budget: "$2,000", "950 dollars", "USD 1500", "1.5k", "3
//! grand", "twelve hundred dollars", "two thousand bucks", and a bare number
//! after a budget word ("budget 950", "at most 800", "no more than 600",
//! "under 1500", "cap of 1,200", "we can spend 1800").
//!
//! An amount "each" / "per person" / "apiece" is multiplied by the party,
//! and the assumption says so. An amount "a night" or "per day" is not the
//! budget. A negative amount ("budget -$500", "negative 500"), zero, a
//! malformed one ("$1,5OO", "$1e12"), one over the bound, and two amounts
//! that disagree without a correction are each a question naming the
//! budget and its range — never repaired.

use std::sync::LazyLock;

use regex::Regex;
use wayfare_domain::bounds::Budget;
use wayfare_domain::intent::TripIntent;

use super::numbers::{amount_in_digits, amount_in_words};
use super::people::Party;
use super::text::{corrected_between, quote};

const WORD_NUM: &str = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|and)";

/// Cue words before a bare number that make it the budget.
const CUE: &str = r"budget|spend|spending|afford|cap|capped|max|maximum|at most|no more than|not more than|under|up to|less than|below|within|not exceed|exceed|limit|total of|in total|all in|around|about|approximately";

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    let num = r"\d(?:[\d,]*\d)?(?:\.\d+)?";
    let mult = r"\s*(?:k|thousand|grand)\b";
    let filler = r"(?:\s*(?::|=|~|\bis\b|\bof\b|\bat\b|\baround\b|\babout\b|\bapproximately\b|\bapprox\.?|\broughly\b|\bmax\b|\bmaximum\b|\blimit\b|\btotal\b|\bbudget\b))*";
    let alternatives = [
        format!(r"\$\s?(?P<neg2>-\s?)?(?P<d1>{num})(?P<m1>{mult})?(?P<bad1>[a-z]\w*)?"),
        format!(r"\b(?:usd|us\$)\s?(?P<d2>{num})"),
        format!(r"\b(?P<d3>{num})(?P<m3>{mult})?\s*(?:dollars|usd|bucks)\b"),
        format!(r"\b(?P<d4>{num})(?P<m4>k|\s*grand)\b"),
        format!(
            r"\b(?P<w>{WORD_NUM}(?:[\s-]+{WORD_NUM})*[\s-]+(?:hundred|thousand|grand))\b(?P<wu>\s+(?:dollars|bucks|usd))?"
        ),
        format!(
            r"(?P<cue>\b(?:{CUE}))\b{filler}\s*(?P<neg3>-\s*|negative\s+|minus\s+)?(?P<d5>{num})(?P<m5>{mult})?"
        ),
        format!(
            r"\b(?P<d6>{num})(?P<m6>{mult})?\s+(?:for the (?:whole )?trip|in total|total|all in|to spend)\b"
        ),
        format!(r"\b(?P<d7>{num})\$"),
        format!(r"\b(?P<d8>{num})(?P<m8>{mult})?\s+budget\b"),
    ];
    Regex::new(&format!(
        r"(?i)(?P<neg>-\s*|\bnegative\s+|\bminus\s+)?(?:{})",
        alternatives.join("|")
    ))
    .expect("valid built-in regex")
});
re!(
    PER_PERSON,
    r"(?i)^\s*(?:each|per person|per head|a head|apiece|pp|p\.p\.|per traveller|per traveler|a person|per pax|a piece|per adult)\b"
);
re!(
    PER_NIGHT,
    r"(?i)^\s*(?:a|per|/|an|each)\s*(?:night|nightly|day|daily)\b"
);
re!(
    /// Words just before a number that make it something else than money.
    NOT_MONEY_BEFORE,
    r"(?i)(?:kids?|children|child|ages?|aged)\s*$"
);

/// An amount found in the text.
#[derive(Debug, Clone)]
struct Amount {
    start: usize,
    end: usize,
    /// `Err(reason)` for an amount that is no budget: negative, malformed.
    value: Result<f64, String>,
    per_person: bool,
    words: String,
}

fn amounts(text: &str) -> (Vec<Amount>, Option<String>) {
    let mut out = Vec::new();
    let mut per_night = None;
    for cap in AMOUNT.captures_iter(text) {
        let Some(whole) = cap.get(0) else {
            continue;
        };
        let rest = &text[whole.end()..];
        // "1500$" yes; "7$1500" is not "7 dollars".
        if cap.name("d7").is_some() && rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        if cap.name("cue").is_some() && NOT_MONEY_BEFORE.is_match(&text[..whole.start()]) {
            continue;
        }
        if PER_NIGHT.is_match(rest) {
            per_night.get_or_insert_with(|| {
                quote(&format!(
                    "{}{}",
                    whole.as_str(),
                    rest.split(['.', ',', ';']).next().unwrap_or("")
                ))
            });
            continue;
        }
        // A cue followed by a number that counts something else.
        if cap.name("cue").is_some() {
            let after: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphabetic())
                .collect::<String>()
                .to_lowercase();
            if [
                "people",
                "persons",
                "person",
                "days",
                "day",
                "nights",
                "night",
                "adults",
                "kids",
                "travellers",
                "travelers",
                "guests",
                "cities",
                "years",
                "hours",
                "miles",
                "km",
                "stars",
                "star",
            ]
            .contains(&after.as_str())
            {
                continue;
            }
            if rest.starts_with('/') || rest.starts_with(':') {
                continue;
            }
        }
        let negative = cap.name("neg").is_some_and(|n| {
            // "Dec 5-$500"? A hyphen right after a digit is a range.
            !(n.as_str().starts_with('-')
                && text[..n.start()]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_digit()))
        }) || cap.name("neg2").is_some()
            || cap.name("neg3").is_some();
        let value = if let Some(w) = cap.name("w") {
            let unit = cap.name("wu").is_some() || w.as_str().to_lowercase().ends_with("grand");
            let cued = CUE_BEFORE.is_match(&text[..w.start()]);
            if !unit && !cued {
                continue;
            }
            amount_in_words(w.as_str()).ok_or_else(|| format!("'{}' is not an amount", w.as_str()))
        } else {
            let (digits, mult) = [
                ("d1", "m1"),
                ("d2", ""),
                ("d3", "m3"),
                ("d4", "m4"),
                ("d5", "m5"),
                ("d6", "m6"),
                ("d7", ""),
                ("d8", "m8"),
            ]
            .iter()
            .find_map(|(d, m)| {
                cap.name(d)
                    .map(|d| (d.as_str(), cap.name(m).map(|m| m.as_str().trim())))
            })
            .unwrap_or(("", None));
            if cap
                .name("bad1")
                .is_some_and(|b| !b.as_str().eq_ignore_ascii_case("k"))
            {
                Err(format!("'{}' is not an amount", quote(whole.as_str())))
            } else {
                amount_in_digits(digits, mult)
                    .ok_or_else(|| format!("'{}' is not an amount", quote(whole.as_str())))
            }
        };
        let value = match value {
            Ok(v) if negative => Err(format!("the budget cannot be negative, not -{v}")),
            other => other,
        };
        let per_person = PER_PERSON.is_match(rest);
        out.push(Amount {
            start: whole.start(),
            end: whole.end(),
            value,
            per_person,
            words: quote(whole.as_str()),
        });
    }
    (out, per_night)
}

re!(CUE_BEFORE, &format!(r"(?i)\b(?:{CUE}|is|of|have)\s*:?\s*$"));

const ASK: &str = "What is the budget for the whole trip (in USD)?";

/// Reads the budget into `intent` (a question when it cannot).
pub(super) fn parse_budget(text: &str, party: &Party, intent: &mut TripIntent) {
    let (found, per_night) = amounts(text);
    let Some(first) = found.first() else {
        intent.questions.push(match per_night {
            Some(words) => format!("{ASK} ('{words}' is not the trip's total)"),
            None => ASK.into(),
        });
        return;
    };
    let mut chosen = first;
    if found.len() > 1 {
        let same = |a: &Amount, b: &Amount| match (&a.value, &b.value) {
            (Ok(x), Ok(y)) => x == y && a.per_person == b.per_person,
            _ => false,
        };
        let last = &found[found.len() - 1];
        if found.iter().all(|a| same(a, first)) {
            chosen = first;
        } else if let Some(k) = (1..found.len())
            .rev()
            .find(|&k| !same(&found[k], &found[k - 1]))
            .filter(|&k| corrected_between(text, found[k - 1].end, found[k].start))
        {
            chosen = &found[k];
            intent.assumptions.push(format!(
                "budget: '{}' taken over '{}' (the text corrects itself)",
                found[k].words,
                found[k - 1].words
            ));
            let _ = last;
        } else {
            let all: Vec<String> = found.iter().map(|a| format!("'{}'", a.words)).collect();
            intent
                .questions
                .push(format!("{ASK} The text gives {}.", all.join(" and ")));
            return;
        }
    }
    let value = match &chosen.value {
        Ok(v) => *v,
        Err(reason) => {
            intent.questions.push(format!(
                "{ASK} ({reason}; budgets must be more than 0 and at most {} USD)",
                Budget::MAX_USD
            ));
            return;
        }
    };
    let total = if chosen.per_person {
        match party.count {
            Some(n) => {
                let total = value * f64::from(n);
                intent.assumptions.push(format!(
                    "budget ${total}: '{}' each for {n} {}",
                    chosen.words,
                    if n == 1 { "traveller" } else { "travellers" }
                ));
                total
            }
            None => {
                intent.questions.push(format!(
                    "{ASK} ('{}' is per person, and the number of travellers is not known)",
                    chosen.words
                ));
                return;
            }
        }
    } else {
        value
    };
    match Budget::try_from(total) {
        Ok(budget) => intent.budget = Some(budget),
        Err(e) => intent.questions.push(format!("{ASK} ({e})")),
    }
}
