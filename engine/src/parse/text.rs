//! Text helpers the readers share: word boundaries, words, clauses, and the
//! words by which a person corrects themselves ("sorry", "I mean").

use std::sync::LazyLock;

use regex::Regex;

/// Whether `hay[start..end]` is a whole word (no letter or digit either side).
pub(super) fn is_boundary(hay: &str, start: usize, end: usize) -> bool {
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
}

/// Whether `word` occurs in `hay` as a whole word.
pub(super) fn contains_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word)
        .any(|(i, _)| is_boundary(hay, i, i + word.len()))
}

/// The byte spans of the words of `text` (letters, digits, inner dots and
/// apostrophes; a trailing full stop belongs to the sentence).
pub(super) fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        let part = ch.is_alphanumeric() || ch == '.' || ch == '\'';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
        .into_iter()
        .map(|(s, e)| (s, s + text[s..e].trim_end_matches('.').len()))
        .filter(|(s, e)| e > s)
        .collect()
}

/// Splits lower-cased text into clauses at punctuation and conjunctions.
pub(super) fn clauses(lower: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for sentence in lower.split(['.', ';', '!', '?', ',', '\n']) {
        let mut rest = sentence;
        while let Some((i, len)) = [" and ", " but ", " so "]
            .iter()
            .filter_map(|sep| rest.find(sep).map(|i| (i, sep.len())))
            .min()
        {
            out.push(&rest[..i]);
            rest = &rest[i + len..];
        }
        out.push(rest);
    }
    out
}

/// Splits lower-cased text into sentences.
pub(super) fn sentences(lower: &str) -> impl Iterator<Item = &str> {
    lower.split(['.', ';', '!', '?', '\n'])
}

re!(
    CORRECTION,
    r"(?i)\b(?:sorry|i mean|i meant|actually|make that|make it|correction|scratch that|no wait|wait|or rather|rather)\b"
);

/// Whether the person corrects themselves between byte offsets `a` and `b`.
pub(super) fn corrected_between(text: &str, a: usize, b: usize) -> bool {
    a < b
        && b <= text.len()
        && text.is_char_boundary(a)
        && text.is_char_boundary(b)
        && CORRECTION.is_match(&text[a..b])
}

/// The text of a match, trimmed, for quoting in an assumption.
pub(super) fn quote(text: &str) -> String {
    text.trim()
        .trim_matches(|c: char| c == ',' || c == '.')
        .trim()
        .to_string()
}
