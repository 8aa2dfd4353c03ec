//! The soft wishes a request states — spending style, pace, interests —
//! and its children, on a labelled set of requests written as people write
//! them (`tests/data/wishes.jsonl`). A label left out means "not stated":
//! the parser must then leave the field unset (no level, no pace, no
//! interests, no children), so a plain request is never read as a wish.

use serde::Deserialize;
use wayfare_domain::preferences::{BudgetLevel, Interest, Pace};
use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::parse::Gazetteer;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    text: String,
    level: Option<BudgetLevel>,
    pace: Option<Pace>,
    #[serde(default)]
    interests: Vec<Interest>,
    #[serde(default)]
    children: u32,
    people: Option<u32>,
}

#[test]
fn every_stated_wish_is_read_and_none_is_invented() {
    let catalog = MemoryCatalog::new(demo_catalog().expect("the demo catalog loads"));
    let gazetteer = Gazetteer::new(&catalog)
        .with_today(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date"));
    let mut wrong = Vec::new();
    let mut count = 0;
    for line in include_str!("data/wishes.jsonl").lines() {
        if line.trim().is_empty() {
            continue;
        }
        count += 1;
        let label: Labelled = serde_json::from_str(line).expect("a labelled request");
        let intent = gazetteer.parse(&label.text);
        let got = (
            intent.budget_level,
            intent.pace,
            intent.interests.clone(),
            intent.children,
        );
        let want = (label.level, label.pace, label.interests, label.children);
        if got != want {
            wrong.push(format!("{}\n    got {got:?}\n   want {want:?}", label.text));
        }
        if let Some(people) = label.people {
            assert_eq!(intent.people.get(), people, "{}", label.text);
        }
    }
    assert!(count >= 30, "the set has {count} requests");
    assert!(
        wrong.is_empty(),
        "{} of {count} read wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
