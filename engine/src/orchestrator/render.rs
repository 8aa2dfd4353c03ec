//! A plan as readable text, day by day, with costs and the verdict.

use std::fmt::Write;

use wayfare_domain::itinerary::{Itinerary, PlanItem, TravelMode};

fn item(out: &mut String, label: &str, it: &Option<PlanItem>) {
    if let Some(m) = it {
        let _ = writeln!(
            out,
            "  {label:<10} {} ({}) ${:.0} — {}",
            m.name, m.city, m.cost, m.reason
        );
    }
}

/// Renders `it` for a terminal.
pub fn render_text(it: &Itinerary) -> String {
    let mut out = String::new();
    for day in &it.days {
        let date = day.date.map_or(String::new(), |d| format!(" ({d})"));
        match &day.from {
            Some(from) => {
                let _ = writeln!(out, "Day {}{date}: {from} → {}", day.day, day.city);
            }
            None => {
                let _ = writeln!(out, "Day {}{date}: {}", day.day, day.city);
            }
        }
        for leg in &day.transport {
            let what = match leg.mode {
                TravelMode::Flight => format!(
                    "flight {} {}–{}",
                    leg.number.as_deref().unwrap_or("?"),
                    leg.departure
                        .map_or("?".into(), |t| t.format("%H:%M").to_string()),
                    leg.arrival
                        .map_or("?".into(), |t| t.format("%H:%M").to_string())
                ),
                mode => format!(
                    "{} {}, {}",
                    mode.label().to_lowercase(),
                    leg.distance_text,
                    leg.duration_text
                ),
            };
            let _ = writeln!(out, "  {:<10} {what} ${:.0}", "transport", leg.cost);
        }
        item(&mut out, "breakfast", &day.breakfast);
        for a in &day.attractions {
            let _ = writeln!(out, "  {:<10} {} ({})", "visit", a.name, a.city);
        }
        item(&mut out, "lunch", &day.lunch);
        item(&mut out, "dinner", &day.dinner);
        item(&mut out, "stay", &day.accommodation);
    }
    let t = &it.totals;
    let _ = writeln!(
        out,
        "Total ${:.0}: transport ${:.0}, stays ${:.0}, meals ${:.0}",
        t.total, t.transport, t.accommodation, t.meals
    );
    let _ = writeln!(out, "Verdict: {}", it.verdict.summary());
    for c in it.verdict.failures() {
        let _ = writeln!(out, "  ✗ {}: {}", c.name, c.message);
    }
    out
}
