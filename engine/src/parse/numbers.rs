//! Numbers written in digits or words: counts ("three", "twenty-one",
//! "99,999") and amounts ("twelve hundred", "two thousand five hundred",
//! "1.5k", "3 grand").

/// A regex alternation for a count in digits (with thousands commas) or
/// words up to ninety-nine.
pub(super) const NUM: &str = r"(?:\d[\d,]*|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine|ten)";

const UNITS: [(&str, u64); 20] = [
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
];

const TENS: [(&str, u64); 8] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

fn small_word(word: &str) -> Option<u64> {
    UNITS
        .iter()
        .chain(TENS.iter())
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
        .or(match word {
            "a" | "an" | "single" => Some(1),
            "dozen" => Some(12),
            _ => None,
        })
}

/// A count written in digits or as words ("three", "twenty-one", "a").
/// Digits too many for a `u64` still make a number — one larger than any
/// bound.
pub(super) fn number(word: &str) -> Option<u64> {
    let word = word.trim().to_ascii_lowercase();
    let digits: String = word.chars().filter(|c| *c != ',').collect();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(digits.parse().unwrap_or(u64::MAX));
    }
    let mut total = 0u64;
    let mut any = false;
    for part in word.split(['-', ' ']).filter(|p| !p.is_empty()) {
        total = total.saturating_add(small_word(part)?);
        any = true;
    }
    any.then_some(total)
}

/// An amount in words: "twelve hundred", "two thousand five hundred",
/// "a thousand", "fifteen hundred", "three grand". `None` when a word is
/// not a number word.
pub(super) fn amount_in_words(words: &str) -> Option<f64> {
    let mut total = 0u64;
    let mut current = 0u64;
    let mut any = false;
    for part in words
        .to_ascii_lowercase()
        .split(['-', ' '])
        .filter(|p| !p.is_empty() && *p != "and")
    {
        match part {
            "hundred" => current = current.max(1).saturating_mul(100),
            "thousand" | "grand" => {
                total = total.saturating_add(current.max(1).saturating_mul(1000));
                current = 0;
            }
            other => current = current.saturating_add(small_word(other)?),
        }
        any = true;
    }
    any.then(|| (total + current) as f64)
}

/// An amount in digits: "1,250", "1.5" with an optional multiplier word
/// ("k", "thousand", "grand"). `None` for a malformed number ("1,5").
pub(super) fn amount_in_digits(digits: &str, multiplier: Option<&str>) -> Option<f64> {
    // Thousands commas must group by three: "1,250" yes, "1,5" no.
    let int = digits.split('.').next().unwrap_or("");
    if int.contains(',') {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or("");
        if first.is_empty() || first.len() > 3 || groups.any(|g| g.len() != 3) {
            return None;
        }
    }
    // "1.500": a thousands dot, or a decimal? Not a number to guess at.
    if !digits.contains(',')
        && multiplier.is_none()
        && digits
            .split_once('.')
            .is_some_and(|(_, frac)| frac.len() == 3)
    {
        return None;
    }
    let mut value: f64 = digits.replace(',', "").parse().ok()?;
    if let Some(m) = multiplier {
        let m = m.to_ascii_lowercase();
        if m == "k" || m == "thousand" || m == "grand" {
            value *= 1000.0;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counts_and_amounts() {
        assert_eq!(number("twenty-one"), Some(21));
        assert_eq!(number("99,999"), Some(99_999));
        assert_eq!(number("Three"), Some(3));
        assert_eq!(amount_in_words("twelve hundred"), Some(1200.0));
        assert_eq!(amount_in_words("two thousand five hundred"), Some(2500.0));
        assert_eq!(amount_in_words("a thousand"), Some(1000.0));
        assert_eq!(amount_in_words("two grand"), Some(2000.0));
        assert_eq!(amount_in_words("lots"), None);
        assert_eq!(amount_in_digits("1,250", None), Some(1250.0));
        assert_eq!(amount_in_digits("1.5", Some("k")), Some(1500.0));
        assert_eq!(amount_in_digits("1,5", None), None);
        assert_eq!(amount_in_digits("12,000", None), Some(12000.0));
    }
}
