//! Reads who travels: counts ("5 people", "a group of 6 colleagues",
//! "family of four", "the two of us", "us two", "2 pax"), lists of people
//! ("three adults and a toddler", "my sister, her son and me", "me, my wife
//! and our 2 kids", "the two of us plus grandma", "with my wife"), and
//! words that say it ("solo", "just me", "a couple", "honeymoon").
//!
//! A list counts when it names the speaker, has two members or more, or
//! follows "with" (the speaker travels with them). A member whose number
//! is not said ("my kids", "we") makes the count a question unless a total
//! is stated elsewhere; two totals that disagree are a question unless the
//! later corrects the earlier. Children are counted; a toddler, baby,
//! infant or a child under ten also means stays must allow children under
//! 10.

use std::sync::LazyLock;

use regex::Regex;
use wayfare_domain::bounds::Travellers;
use wayfare_domain::intent::TripIntent;

use super::numbers::{NUM, number};
use super::text::{corrected_between, quote};

/// Who travels, as far as the text says.
#[derive(Debug, Clone, Default)]
pub(super) struct Party {
    /// The number of travellers, when known and in bounds.
    pub count: Option<u32>,
    /// How many of them are children.
    pub children: u32,
    /// Someone under ten travels (a toddler, a baby, "a 4-year-old").
    pub under_ten: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    /// "," "+" "&": joins members of a list.
    Join,
    /// Anything else that ends a list: "." "!" ":" ";" "(" …
    Break,
}

fn tokens(lower: &str) -> Vec<(usize, usize, Tok<'_>)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in lower.char_indices() {
        let part = ch.is_alphanumeric() || ch == '\'' || ch == '’' || ch == '-';
        if part {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push((s, i, Tok::Word(&lower[s..i])));
        }
        match ch {
            ',' | '+' | '&' => out.push((i, i + ch.len_utf8(), Tok::Join)),
            c if c.is_whitespace() => {}
            '$' => {}
            _ => out.push((i, i + ch.len_utf8(), Tok::Break)),
        }
    }
    if let Some(s) = start {
        out.push((s, lower.len(), Tok::Word(&lower[s..])));
    }
    out
}

/// One member of a list.
#[derive(Debug, Clone, Copy, Default)]
struct Member {
    /// `None`: a plural whose number is not said ("my kids").
    count: Option<u64>,
    speaker: bool,
    children: u64,
    under_ten: bool,
    /// A total ("5 people", "group of 6"): it takes no additions.
    total: bool,
    /// Counted in its own right ("3 adults", "4 friends").
    counted: bool,
    /// Named as the speaker's ("my husband", "our kids").
    possessive: bool,
}

impl Member {
    /// A stated total of `n` ("5 people", "a trio"): it takes no additions.
    fn total(n: u64) -> Self {
        Member {
            count: Some(n),
            total: true,
            ..Member::default()
        }
    }

    /// The speaker, one of `n` ("me", "the two of us").
    fn speaker(n: u64) -> Self {
        Member {
            count: Some(n),
            speaker: true,
            ..Member::default()
        }
    }
}

const SELF_WORDS: [&str; 5] = ["me", "i", "myself", "i'm", "im"];
const DETERMINERS: [&str; 7] = ["my", "our", "her", "his", "their", "the", "your"];
const ADJECTIVES: [&str; 10] = [
    "little", "young", "younger", "older", "elder", "teenage", "grown", "small", "elderly", "best",
];
const TOTAL_NOUNS: [&str; 12] = [
    "people",
    "persons",
    "person",
    "ppl",
    "pax",
    "travellers",
    "travelers",
    "traveller",
    "traveler",
    "individuals",
    "passengers",
    "guests",
];
const ADULT_NOUNS: [&str; 24] = [
    "adults",
    "adult",
    "grown-ups",
    "friends",
    "friend",
    "colleagues",
    "colleague",
    "coworkers",
    "coworker",
    "co-workers",
    "co-worker",
    "students",
    "student",
    "buddies",
    "buddy",
    "seniors",
    "girls",
    "guys",
    "ladies",
    "men",
    "women",
    "teammates",
    "classmates",
    "roommates",
];
/// One person each.
const RELATIVES: [&str; 40] = [
    "wife",
    "husband",
    "partner",
    "spouse",
    "girlfriend",
    "boyfriend",
    "fiance",
    "fiancee",
    "fiancé",
    "fiancée",
    "mom",
    "mum",
    "mother",
    "dad",
    "father",
    "grandma",
    "grandpa",
    "grandmother",
    "grandfather",
    "granny",
    "nana",
    "sister",
    "brother",
    "son",
    "daughter",
    "boss",
    "cousin",
    "aunt",
    "uncle",
    "niece",
    "nephew",
    "roommate",
    "mother-in-law",
    "father-in-law",
    "sister-in-law",
    "brother-in-law",
    "stepson",
    "stepdaughter",
    "bestie",
    "mate",
];
/// Relatives who may be named without "my".
const BARE_RELATIVES: [&str; 8] = [
    "grandma",
    "grandpa",
    "granny",
    "nana",
    "mom",
    "mum",
    "dad",
    "grandmother",
];
/// Relatives counted as more than one.
const PAIRS: [(&str, u64); 3] = [("parents", 2), ("grandparents", 2), ("in-laws", 2)];
const PLURAL_RELATIVES: [&str; 8] = [
    "sisters",
    "brothers",
    "sons",
    "daughters",
    "cousins",
    "nieces",
    "nephews",
    "siblings",
];
/// (word, is under ten).
const CHILD_NOUNS: [(&str, bool); 16] = [
    ("kid", false),
    ("kids", false),
    ("child", false),
    ("children", false),
    ("toddler", true),
    ("toddlers", true),
    ("baby", true),
    ("babies", true),
    ("infant", true),
    ("infants", true),
    ("teen", false),
    ("teens", false),
    ("teenager", false),
    ("teenagers", false),
    ("kiddo", false),
    ("kiddos", false),
];
const GROUP_NOUNS: [&str; 7] = ["group", "party", "team", "family", "crew", "gang", "bunch"];
const JOIN_WORDS: [&str; 6] = ["and", "plus", "with", "along", "together", "also"];
/// Verbs after which the people named travel with the speaker.
const BRINGING: [&str; 14] = [
    "bring",
    "take",
    "joining",
    "join",
    "bringing",
    "taking",
    "travelling",
    "traveling",
    "going",
    "coming",
    "flying",
    "accompanied",
    "joined",
    "by",
];

fn count_word(w: &str) -> Option<u64> {
    if w == "a" || w == "an" {
        return Some(1);
    }
    number(w)
}

/// "4-year-old", "10-year-olds": the age.
fn age_word(w: &str) -> Option<u64> {
    let age = w
        .strip_suffix("-year-old")
        .or_else(|| w.strip_suffix("-year-olds"))
        .or_else(|| w.strip_suffix("-yr-old"))?;
    number(age)
}

fn word<'a>(toks: &[(usize, usize, Tok<'a>)], i: usize) -> Option<&'a str> {
    match toks.get(i) {
        Some((_, _, Tok::Word(w))) => Some(w),
        _ => None,
    }
}

/// The member starting at token `i`, and the token after it.
fn member(toks: &[(usize, usize, Tok<'_>)], i: usize) -> Option<(Member, usize)> {
    let possessive = matches!(word(toks, i), Some("my" | "our"));
    member_at(toks, i).map(|(m, next)| {
        (
            Member {
                possessive: m.possessive || possessive,
                ..m
            },
            next,
        )
    })
}

fn member_at(toks: &[(usize, usize, Tok<'_>)], i: usize) -> Option<(Member, usize)> {
    let w0 = word(toks, i)?;
    if SELF_WORDS.contains(&w0) {
        return Some((Member::speaker(1), i + 1));
    }
    // "both of us", "the two of us", "six of us", "us two".
    let mut j = i;
    if matches!(w0, "the" | "all") {
        j += 1;
    }
    if let Some(wn) = word(toks, j)
        && word(toks, j + 1) == Some("of")
        && word(toks, j + 2) == Some("us")
    {
        let n = if wn == "both" { Some(2) } else { number(wn) };
        if let Some(n) = n {
            return Some((
                Member {
                    counted: true,
                    ..Member::speaker(n)
                },
                j + 3,
            ));
        }
    }
    // "we're 2", "we are four".
    let after_we = match w0 {
        "we're" | "were" => Some(i + 1),
        "we" if word(toks, i + 1) == Some("are") => Some(i + 2),
        _ => None,
    };
    if let Some(j) = after_we
        && let Some(n) = word(toks, j)
            .filter(|w| !matches!(*w, "a" | "an" | "single"))
            .and_then(number)
        && !word(toks, j + 1).is_some_and(|w| {
            TOTAL_NOUNS.contains(&w) || ADULT_NOUNS.contains(&w) || age_word(w).is_some()
        })
    {
        return Some((
            Member {
                total: true,
                ..Member::speaker(n)
            },
            j + 1,
        ));
    }
    if w0 == "us"
        && let Some(n) = word(toks, i + 1).and_then(number)
    {
        return Some((
            Member {
                counted: true,
                ..Member::speaker(n)
            },
            i + 2,
        ));
    }
    // "a group of 6 (colleagues)", "family of four".
    let mut j = i;
    if matches!(w0, "a" | "an" | "our" | "my" | "the") {
        j += 1;
    }
    if word(toks, j).is_some_and(|w| GROUP_NOUNS.contains(&w))
        && word(toks, j + 1) == Some("of")
        && let Some(n) = word(toks, j + 2).and_then(number)
    {
        let mut next = j + 3;
        if word(toks, next).is_some_and(|w| TOTAL_NOUNS.contains(&w) || ADULT_NOUNS.contains(&w)) {
            next += 1;
        }
        return Some((Member::total(n), next));
    }
    // "a trio", "a pair of students", "a couple" (not "a couple of days").
    if matches!(w0, "a" | "the") {
        match word(toks, i + 1) {
            Some("trio") => {
                return Some((Member::total(3), i + 2));
            }
            Some("pair") | Some("couple") | Some("duo") => {
                let of = word(toks, i + 2) == Some("of");
                let noun = word(toks, i + 3).unwrap_or("");
                let people =
                    TOTAL_NOUNS.contains(&noun) || ADULT_NOUNS.contains(&noun) || noun == "us";
                if of && !people {
                    return None;
                }
                return Some((Member::total(2), if of { i + 4 } else { i + 2 }));
            }
            _ => {}
        }
    }
    // "two of my friends": a number of the speaker's.
    if let Some(n) = number(w0).filter(|_| !matches!(w0, "a" | "an" | "single"))
        && word(toks, i + 1) == Some("of")
        && matches!(word(toks, i + 2), Some("my" | "our"))
        && let Some(noun) = word(toks, i + 3)
        && (ADULT_NOUNS.contains(&noun)
            || PLURAL_RELATIVES.contains(&noun)
            || CHILD_NOUNS.iter().any(|(w, _)| *w == noun))
    {
        let child = CHILD_NOUNS.iter().any(|(w, _)| *w == noun);
        return Some((
            Member {
                count: Some(n),
                children: if child { n } else { 0 },
                counted: true,
                possessive: true,
                ..Member::default()
            },
            i + 4,
        ));
    }
    // "a few friends", "several colleagues": people, how many not said.
    let mut q = i;
    if w0 == "a" && word(toks, i + 1) == Some("few") {
        q += 1;
    }
    if matches!(word(toks, q), Some("few" | "several" | "some" | "many"))
        && let Some(noun) = word(toks, q + 1)
        && (ADULT_NOUNS.contains(&noun)
            || PLURAL_RELATIVES.contains(&noun)
            || TOTAL_NOUNS.contains(&noun))
    {
        return Some((
            Member {
                count: None,
                counted: true,
                ..Member::default()
            },
            q + 2,
        ));
    }
    // [determiner] [number] [adjectives] noun
    let mut j = i;
    let mut det = false;
    if DETERMINERS.contains(&w0) {
        det = true;
        j += 1;
    }
    let mut n: Option<u64> = None;
    if let Some(w) = word(toks, j)
        && let Some(k) = count_word(w)
    {
        // "a" before a noun counts one.
        n = Some(k);
        j += 1;
    }
    while word(toks, j).is_some_and(|w| ADJECTIVES.contains(&w)) {
        j += 1;
    }
    let noun = word(toks, j)?;
    let next = j + 1;
    if let Some(age) = age_word(noun) {
        let k = n.unwrap_or(1);
        return Some((
            Member {
                count: Some(k),
                children: k,
                under_ten: age < 10,
                counted: true,
                ..Member::default()
            },
            next,
        ));
    }
    if let Some((_, under)) = CHILD_NOUNS.iter().find(|(w, _)| *w == noun) {
        let singular = !noun.ends_with('s') && noun != "children" && noun != "babies";
        let count = n.or((singular && det).then_some(1));
        return Some((
            Member {
                count,
                children: count.unwrap_or(0),
                under_ten: *under,
                counted: n.is_some(),
                ..Member::default()
            },
            next,
        ));
    }
    if TOTAL_NOUNS.contains(&noun) {
        return n.map(|k| (Member::total(k), next));
    }
    if noun == "couples" || noun == "couple" {
        return n.map(|k| (Member::total(k.saturating_mul(2)), next));
    }
    if ADULT_NOUNS.contains(&noun) {
        let singular = !noun.ends_with('s') && noun != "men" && noun != "women";
        if singular && !det && n.is_none() {
            return None;
        }
        let count = n.or((singular && det).then_some(1));
        return Some((
            Member {
                count,
                counted: n.is_some(),
                ..Member::default()
            },
            next,
        ));
    }
    if let Some((_, k)) = PAIRS.iter().find(|(w, _)| *w == noun) {
        return Some((
            Member {
                count: Some(n.map_or(*k, |n| n.saturating_mul(*k))),
                ..Member::default()
            },
            next,
        ));
    }
    if PLURAL_RELATIVES.contains(&noun) {
        return Some((
            Member {
                count: n,
                children: if noun == "sons" || noun == "daughters" {
                    n.unwrap_or(0)
                } else {
                    0
                },
                ..Member::default()
            },
            next,
        ));
    }
    if RELATIVES.contains(&noun) && (det || n.is_some() || BARE_RELATIVES.contains(&noun)) {
        return Some((
            Member {
                count: Some(n.unwrap_or(1)),
                ..Member::default()
            },
            next,
        ));
    }
    None
}

/// A list of members joined by "and", ",", "plus", "with"…
#[derive(Debug, Clone)]
struct List {
    start: usize,
    end: usize,
    count: Option<u64>,
    children: u64,
    under_ten: bool,
    /// Counts in its own right: see the module documentation.
    qualified: bool,
    /// Only a stated total ("5 people").
    total: bool,
}

fn lists(lower: &str) -> Vec<List> {
    let toks = tokens(lower);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let Some((first, mut next)) = member(&toks, i) else {
            i += 1;
            continue;
        };
        let after_with = i > 0
            && (word(&toks, i - 1) == Some("with")
                || word(&toks, i - 1).is_some_and(|w| BRINGING.contains(&w)));
        let mut members = vec![first];
        let mut end = toks[next - 1].1;
        // Members a total describes ("a family of 4 with 2 kids"): their
        // children are noted, their number is already in the total.
        let mut described: Vec<Member> = Vec::new();
        loop {
            let mut j = next;
            let mut joined = false;
            let mut describing = false;
            while let Some((_, _, t)) = toks.get(j) {
                match t {
                    Tok::Join => joined = true,
                    Tok::Word(w) if first.total && matches!(*w, "with" | "including" | "incl") => {
                        describing = true;
                    }
                    Tok::Word(w) if JOIN_WORDS.contains(w) || BRINGING.contains(w) => joined = true,
                    Tok::Word("as") | Tok::Word("well") => {}
                    _ => break,
                }
                j += 1;
            }
            // "2 adults 1 child": two counted members side by side.
            let side_by_side = j == next
                && members.last().is_some_and(|m| m.counted)
                && member(&toks, j).is_some_and(|(m, _)| m.counted);
            if first.total && !describing {
                break;
            }
            if !joined && !describing && !side_by_side {
                break;
            }
            match member(&toks, j) {
                Some((m, after)) if first.total => {
                    described.push(m);
                    next = after;
                    end = toks[after - 1].1;
                }
                Some((m, after)) if !m.total || m.speaker => {
                    members.push(m);
                    next = after;
                    end = toks[after - 1].1;
                }
                _ => break,
            }
        }
        let speaker = members.iter().any(|m| m.speaker);
        let count = members
            .iter()
            .try_fold(0u64, |acc, m| m.count.map(|c| acc.saturating_add(c)));
        let implicit_self = after_with && !speaker && !first.total;
        let count = count.map(|c| c + u64::from(implicit_self));
        // "my husband and our 3-year-old": the speaker's people, but whether
        // the speaker goes too is not said.
        let speaker_unsaid =
            !speaker && !after_with && members.len() >= 2 && members.iter().any(|m| m.possessive);
        let count = count.filter(|_| !speaker_unsaid);
        let qualified = members.len() >= 2
            || after_with
            || first.total
            || (first.counted && first.children == 0);
        out.push(List {
            start: toks[i].0,
            end,
            count,
            children: members.iter().chain(&described).map(|m| m.children).sum(),
            under_ten: members.iter().chain(&described).any(|m| m.under_ten),
            qualified,
            total: first.total,
        });
        i = next;
    }
    out
}

re!(
    SOLO,
    r"(?i)\b(solo|alone|single travell?er|just me|by myself|on my own|only me|just myself)\b"
);
re!(
    TWO_WORDS,
    r"(?i)\b(honeymoon|anniversary|romantic getaway|couple's|couples trip)\b"
);
re!(
    WE,
    r"(?i)\b(we|us|our|we're|we'd|we'll|we've|ourselves|family|kids|children)\b"
);
re!(FOR_N, &format!(r"(?i)\bfor\s+({NUM})\b(\s+\w+)?"));

/// "-2 people": refused, not read as 2.
static NEGATIVE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^\w-])(?:-|minus\s+|negative\s+)\s*\d+\s*(?:people|persons|person|travell?ers?|adults|guests|pax|ppl)\b")
        .expect("valid built-in regex")
});

/// "children under 10": the benchmark's house-rule phrase, not a count.
static UNDER_TEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:children|kids|child|kid)\s+(?:under|below|younger than)\s+(?:the\s+age\s+of\s+)?(?:10|ten)\b")
        .expect("valid built-in regex")
});

/// Reads the party into `intent.people` (a question when it cannot), and
/// returns it.
///
/// `ask_for_we`: whether "we" without a number is a question. Reading
/// from today (a person's request) it is; with a fixed default year (the
/// TravelPlanner benchmark's convention, where a party not stated is one
/// traveller) one traveller is assumed and the assumption says "we".
pub(super) fn parse_people(text: &str, ask_for_we: bool, intent: &mut TripIntent) -> Party {
    let lower = text.to_lowercase();
    if let Some(m) = NEGATIVE_COUNT.find(&lower) {
        intent.questions.push(format!(
            "How many people travel? ('{}': parties are from {} to {} travellers)",
            quote(m.as_str()),
            Travellers::MIN,
            Travellers::MAX
        ));
        return Party::default();
    }
    let rule_phrases: Vec<(usize, usize)> = UNDER_TEN
        .find_iter(&lower)
        .map(|m| (m.start(), m.end()))
        .collect();
    let found: Vec<List> = lists(&lower)
        .into_iter()
        .filter(|l| {
            l.count.is_some()
                || !rule_phrases
                    .iter()
                    .any(|(s, e)| (*s..*e).contains(&l.start))
        })
        .collect();
    // (start, end, count, words, inferred)
    let mut strong: Vec<(usize, usize, u64, String, bool)> = Vec::new();
    let mut unknown: Option<String> = None;
    let mut has_total = false;
    let mut chosen_children = 0u64;
    let mut under_ten = false;
    for l in found.iter().filter(|l| l.qualified) {
        let words = quote(&lower[l.start..l.end]);
        match l.count {
            Some(c) => {
                has_total |= l.total;
                strong.push((l.start, l.end, c, words, !l.total));
            }
            None => {
                unknown.get_or_insert(words);
            }
        }
    }
    for m in SOLO.find_iter(&lower) {
        has_total = true;
        strong.push((m.start(), m.end(), 1, m.as_str().to_string(), false));
    }
    strong.sort_by_key(|s| s.0);

    let mut people: Option<u64> = None;
    let mut said: Option<String> = None;
    let mut question: Option<String> = None;
    if !strong.is_empty() && (unknown.is_none() || has_total) {
        let first = &strong[0];
        if strong.iter().all(|s| s.2 == first.2) {
            people = Some(first.2);
            if first.4 {
                said = Some(first.3.clone());
            }
        } else {
            let k = (1..strong.len())
                .rev()
                .find(|&k| strong[k].2 != strong[k - 1].2)
                .unwrap_or(0);
            if k > 0 && corrected_between(&lower, strong[k - 1].1, strong[k].0) {
                people = Some(strong[k].2);
                intent.assumptions.push(format!(
                    "{} people: '{}' taken over '{}' (the text corrects itself)",
                    strong[k].2,
                    strong[k].3,
                    strong[k - 1].3
                ));
            } else {
                let all: Vec<String> = strong.iter().map(|s| format!("'{}'", s.3)).collect();
                question = Some(format!(
                    "How many people travel? The text says {}.",
                    all.join(" and ")
                ));
            }
        }
        if let Some(n) = people
            && let Some(l) = found
                .iter()
                .find(|l| l.qualified && l.count == Some(n) && (l.children > 0 || l.under_ten))
        {
            chosen_children = l.children;
            under_ten = l.under_ten;
        }
    } else if let Some(words) = &unknown {
        question = Some(format!(
            "How many people travel? ('{words}' does not say how many, or whether you travel too)"
        ));
    } else {
        // Weaker readings: "for three", "honeymoon".
        for cap in FOR_N.captures_iter(&lower) {
            let next = cap
                .get(2)
                .map(|m| m.as_str().trim().to_string())
                .unwrap_or_default();
            let counts_something_else = [
                "day", "days", "night", "nights", "week", "weeks", "cities", "city", "hours",
                "dollars", "bucks", "usd",
            ]
            .contains(&next.as_str());
            if !counts_something_else && let Some(n) = number(&cap[1]) {
                people = Some(n);
                break;
            }
        }
        if people.is_none()
            && let Some(m) = TWO_WORDS.find(&lower)
        {
            people = Some(2);
            said = Some(m.as_str().to_string());
        }
        if people.is_none()
            && let Some(m) = WE.find(&lower)
        {
            if ask_for_we {
                question = Some(format!(
                    "How many people travel? ('{}' does not say how many)",
                    m.as_str()
                ));
            } else {
                intent.assumptions.push(format!(
                    "one traveller assumed although the text says '{}'; say how many travel",
                    m.as_str()
                ));
                return Party {
                    count: Some(1),
                    ..Party::default()
                };
            }
        }
    }
    if let Some(q) = question {
        intent.questions.push(q);
        return Party::default();
    }
    match people.map(Travellers::try_from) {
        Some(Ok(p)) => {
            intent.people = p;
            if let Some(words) = said {
                intent.assumptions.push(format!(
                    "{} {}: '{words}'",
                    p.get(),
                    if p.get() == 1 { "person" } else { "people" }
                ));
            }
            let children = u32::try_from(chosen_children).unwrap_or(0).min(p.get());
            intent.children = children;
            Party {
                count: Some(p.get()),
                children,
                under_ten,
            }
        }
        Some(Err(e)) => {
            intent
                .questions
                .push(format!("How many people travel? ({e})"));
            Party::default()
        }
        None => {
            intent.assumptions.push("one traveller assumed".into());
            Party {
                count: Some(1),
                ..Party::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(text: &str) -> Option<u32> {
        let mut intent = TripIntent::default();
        let party = parse_people(text, true, &mut intent);
        if intent.questions.is_empty() {
            party.count
        } else {
            None
        }
    }

    #[test]
    fn counts_parties_as_people_describe_them() {
        assert_eq!(people("three adults and a toddler"), Some(4));
        assert_eq!(people("my husband and me"), Some(2));
        assert_eq!(people("a group of 6 colleagues"), Some(6));
        assert_eq!(people("the two of us plus grandma"), Some(3));
        assert_eq!(people("me, my wife and our 2 kids"), Some(4));
        assert_eq!(people("my sister, her son and me"), Some(3));
        assert_eq!(people("I'm going with my wife"), Some(2));
        assert_eq!(people("a couple of days in Denver"), Some(1));
        assert_eq!(people("we live in Tacoma"), None);
        assert_eq!(people("2 people, sorry, 3 people"), Some(3));
        assert_eq!(people("2 people, 3 people"), None);
        assert_eq!(people("for 0 people"), None);
        assert_eq!(people("a family of 4 with 2 kids"), Some(4));
        assert_eq!(people("2 adults 1 child"), Some(3));
        assert_eq!(people("we're 2 and we want to go"), Some(2));
        assert_eq!(people("two of my friends and I"), Some(3));
        assert_eq!(people("a few friends"), None);
        assert_eq!(people("my husband and our 3-year-old"), None);
        assert_eq!(people("4 people including 2 kids"), Some(4));
    }
}
