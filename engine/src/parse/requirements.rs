//! The orchestrator's reading of a parsed request: explicit requirements
//! (what the text states: budget, dates, party, constraints), implicit ones
//! (what follows: the return leg, room for the party, children's rules),
//! priorities from the words used ("cheap", "luxury", "quick", "foodie"),
//! and a complexity assessment for agent allocation.

use std::sync::LazyLock;

use regex::Regex;
use wayfare_domain::intent::{Complexity, Priority, TripIntent};

use super::people::Party;

re!(
    COST,
    r"(?i)\b(cheap|cheapest|affordable|inexpensive|budget-friendly|on a budget|save money|low[- ]cost|as little as possible|frugal)\b"
);
re!(
    COMFORT,
    r"(?i)\b(luxury|luxurious|comfortable|comfort|nice hotel|upscale|fancy|five[- ]star|5[- ]star|boutique)\b"
);
re!(
    TIME,
    r"(?i)\b(quick|quickest|fast|fastest|shortest|direct|non-?stop|no layovers?|in a hurry)\b"
);
re!(
    FOOD,
    r"(?i)\b(food|foodie|cuisine|restaurants?|eat|eating|dining|culinary)\b"
);
re!(
    EXPERIENCES,
    r"(?i)\b(museums?|hiking|hike|sights?|sightseeing|attractions?|nightlife|shows?|tours?|parks?|beach(?:es)?|adventure|art|history)\b"
);
re!(
    ACCESSIBLE,
    r"(?i)\b(wheelchair|accessible|accessibility|step[- ]free|mobility|disabled|disability|walker|can't walk far|cannot walk far)\b"
);
re!(
    RELAX,
    r"(?i)\b(relax|relaxing|relaxed|slow pace|laid[- ]back|chill|unwind|spa)\b"
);

/// Fills the requirements, priorities and complexity of `intent`.
pub(super) fn assess(text: &str, party: &Party, intent: &mut TripIntent) {
    let mut explicit = Vec::new();
    if let Some(origin) = &intent.origin {
        explicit.push(format!("start from {origin}"));
    }
    if let Some(dest) = &intent.destination {
        explicit.push(match dest.city_count() {
            1 => format!("visit {}", dest.name()),
            n => format!("visit {n} cities in {}", dest.name()),
        });
    }
    if let (Some(start), Some(days)) = (intent.start_date, intent.days) {
        explicit.push(format!("{} days from {}", days.get(), start.get()));
    }
    if let Some(budget) = intent.budget {
        explicit.push(format!("total cost at most ${}", f64::from(budget)));
    }
    let c = &intent.constraints;
    for rule in &c.house_rules {
        explicit.push(format!(
            "stays allow {}",
            rule.prohibition().trim_start_matches("No ").to_lowercase()
        ));
    }
    if let Some(room) = c.room_type {
        explicit.push(format!("room: {}", room.label()));
    }
    for cuisine in &c.cuisines {
        explicit.push(format!("a meal serving {cuisine} food"));
    }
    for t in &c.transport {
        explicit.push(t.label().to_string());
    }

    let mut implicit = Vec::new();
    if let Some(origin) = &intent.origin {
        implicit.push(format!("return to {origin} on the last day"));
    }
    let people = intent.people.get();
    if party.count.is_some() && people > 1 {
        implicit.push(format!("transport seats and stays for {people} travellers"));
    }
    if party.children > 0 {
        implicit.push(format!(
            "{} of the travellers are children: family-friendly activities",
            party.children
        ));
    }
    if let Some(budget) = intent.budget
        && party.count.is_some()
        && people > 1
    {
        implicit.push(format!(
            "about ${:.0} per traveller",
            f64::from(budget) / f64::from(people)
        ));
    }
    if let Some(days) = intent.days {
        implicit.push(format!("{} nights' stay", days.get().saturating_sub(1)));
    }

    // Priorities, in the order the text names them.
    let mut found: Vec<(usize, Priority)> = Vec::new();
    for (re, p) in [
        (&COST, Priority::Cost),
        (&COMFORT, Priority::Comfort),
        (&TIME, Priority::Time),
        (&FOOD, Priority::Food),
        (&EXPERIENCES, Priority::Experiences),
        (&RELAX, Priority::Relaxation),
    ] {
        if let Some(m) = re.find(text) {
            found.push((m.start(), p));
        }
    }
    if !c.cuisines.is_empty() && !found.iter().any(|(_, p)| *p == Priority::Food) {
        found.push((usize::MAX, Priority::Food));
    }
    found.sort_by_key(|(at, _)| *at);
    intent.priorities = found.into_iter().map(|(_, p)| p).collect();

    // Complexity: cities, length, party, constraints.
    let cities = intent.destination.as_ref().map_or(1, |d| d.city_count());
    let days = intent.days.map_or(0, |d| d.get());
    let score = usize::try_from(cities.saturating_sub(1)).unwrap_or(0) * 2
        + usize::from(days > 5)
        + usize::from(people > 4)
        + c.count();
    intent.complexity = match score {
        0..=1 => Complexity::Simple,
        2..=3 => Complexity::Moderate,
        _ => Complexity::Complex,
    };
    // Accessibility: read and said, but the catalog cannot check it.
    if let Some(m) = ACCESSIBLE.find(text) {
        explicit.push(format!("accessible stays and visits: '{}'", m.as_str()));
        intent.assumptions.push(
            "Accessibility: the catalog does not say which stays and visits are step-free; \
             check each one before booking"
                .to_owned(),
        );
    }
    intent.note_spending();
    intent.explicit_requirements = explicit;
    intent.implicit_requirements = implicit;
}
