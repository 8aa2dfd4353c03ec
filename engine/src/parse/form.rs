//! Puts a request in one shape before it is read: form-like fields
//! ("From: Seattle / To: Denver / When: Dec 5-7 / People: 2 / Budget: 1500",
//! one per line, or separated by full stops, `|` or ` / `) become a
//! sentence; arrows ("->", "→") become "to"; dashes become hyphens;
//! negations typed without an apostrophe ("dont", "cant") get one.
//! Text without fields is left as it is, apart from those characters.

use std::sync::LazyLock;

use regex::Regex;

re!(
    FIELD,
    r"(?i)^\s*(from|origin|origin city|starting city|start city|home|home city|leaving from|departing from|departure city|departure|departing|leaving|start|start date|starting|to|destination|dest|destination city|arrival|arrival city|going to|where|when|dates?|travel dates|end|end date|return|returning|back|duration|length|days|nights|people|persons|travell?ers|party|party size|guests|who|group|pax|adults|kids|children|budget|max budget|total budget|room|room type|stay|notes?|other|preferences|requests?|transport|food|cuisines?)\s*[:=]\s*(.*?)\s*\.?\s*$"
);

/// Whether a value reads like a date rather than a place.
fn looks_like_date(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.bytes().any(|b| b.is_ascii_digit())
        || [
            "today",
            "tomorrow",
            "next",
            "this",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "weekend",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

fn is_bare_number(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

/// One field as a phrase of a sentence.
fn rewrite(label: &str, value: &str) -> String {
    let label = label.to_ascii_lowercase();
    let v = value.trim();
    match label.as_str() {
        "from" | "origin" | "origin city" | "starting city" | "start city" | "home"
        | "home city" | "leaving from" | "departing from" | "departure city" => {
            format!("from {v}")
        }
        "departure" | "departing" | "leaving" | "start" | "start date" | "starting" => {
            if looks_like_date(v) {
                format!("starting {v}")
            } else {
                format!("from {v}")
            }
        }
        "to" | "destination" | "dest" | "destination city" | "arrival" | "arrival city"
        | "going to" | "where" => format!("to {v}"),
        "end" | "end date" | "return" | "returning" | "back" => format!("until {v}"),
        "duration" | "length" | "days" if is_bare_number(v) => format!("{v} days"),
        "nights" if is_bare_number(v) => format!("{v} nights"),
        "people" | "persons" | "travellers" | "travelers" | "party" | "party size" | "guests"
        | "who" | "group" | "pax" | "adults"
            if is_bare_number(v) =>
        {
            format!("{v} people")
        }
        "kids" | "children" if is_bare_number(v) => format!("with {v} kids"),
        "budget" | "max budget" | "total budget" => format!("budget {v}"),
        _ => v.to_string(),
    }
}

/// The request in one shape; see the module documentation.
pub(super) fn prepare(text: &str) -> String {
    let text = CONTRACTION.replace_all(text, "${1}'t");
    let text = W_SLASH
        .replace_all(&text, "${1}with ")
        .replace("->", " to ")
        .replace("=>", " to ")
        .replace('→', " to ")
        .replace(['–', '—'], "-");
    if !FIELD_HINT.is_match(&text) {
        return text;
    }
    // Pieces split at newlines, "|", " / " and full stops, with the
    // separator each ended with, so text that is not a field is kept.
    let mut out = String::with_capacity(text.len() + 16);
    let mut any = false;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let cut = SEPARATOR
            .find(rest)
            .map_or((rest.len(), rest.len()), |m| (m.start(), m.end()));
        let (piece, sep) = (&rest[..cut.0], &rest[cut.0..cut.1]);
        match FIELD.captures(piece) {
            Some(cap) => {
                any = true;
                out.push_str(&rewrite(&cap[1], &cap[2]));
                out.push_str(". ");
            }
            None => {
                out.push_str(piece);
                out.push_str(sep);
            }
        }
        rest = &rest[cut.1..];
    }
    if any { out } else { text }
}

// "we dont drive", "can't", "won’t": a negation typed without its
// apostrophe, or with a typographic one, reads as "don't".
re!(
    CONTRACTION,
    r"(?i)\b(don|doesn|didn|can|won|isn|aren|wouldn|shouldn|haven|hasn|couldn)[’']?t\b"
);

re!(
    FIELD_HINT,
    r"(?m)^\s*[A-Za-z][A-Za-z ]{0,20}[:=]|[.|/]\s*[A-Za-z][A-Za-z ]{0,20}:"
);
re!(SEPARATOR, r"\n|\s\|\s?|\|| / |\.\s+|\.$");
re!(W_SLASH, r"(?i)(^|\s)w/\s*");

#[cfg(test)]
mod tests {
    use super::prepare;

    #[test]
    fn fields_become_a_sentence() {
        let p = prepare("From: Seattle\nTo: Denver\nWhen: Dec 5-7\nPeople: 2\nBudget: 1500");
        assert_eq!(
            p,
            "from Seattle. to Denver. Dec 5-7. 2 people. budget 1500. "
        );
        let p = prepare("From: Chicago. To: Los Angeles. When: Jan 10-13.");
        assert!(
            p.starts_with("from Chicago. to Los Angeles. Jan 10-13."),
            "{p}"
        );
        assert_eq!(prepare("Seattle -> Denver"), "Seattle  to  Denver");
        let plain = "A trip from L.A. to Seattle, Jan 2-4.";
        assert_eq!(prepare(plain), plain);
    }
}
