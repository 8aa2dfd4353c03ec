//! The parser on the TravelPlanner queries: every dev label right, every
//! validation query understood without questions.

mod common;

use wayfare_engine::eval::{field_accuracy, read_labelled};
use wayfare_engine::parse::Gazetteer;

#[test]
fn parses_every_dev_query_field_exactly_as_labelled() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let gazetteer = Gazetteer::new(catalog.as_ref()).with_default_year(2022);
    let text =
        std::fs::read_to_string(common::data_dir().join("dev_queries.jsonl")).expect("dev queries");
    let labelled = read_labelled(&text).expect("labels parse");
    assert_eq!(labelled.len(), 15);
    let mut wrong = Vec::new();
    for q in &labelled {
        let intent = gazetteer.parse(&q.query);
        for (field, ok) in field_accuracy(&intent, q) {
            if !ok {
                wrong.push(format!("#{} {field}: got {:?}", q.idx, intent));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn parses_all_validation_queries_without_questions() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let gazetteer = Gazetteer::new(catalog.as_ref()).with_default_year(2022);
    let text = std::fs::read_to_string(common::data_dir().join("validation_queries.jsonl"))
        .expect("validation queries");
    let mut problems = Vec::new();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let query = v["query"].as_str().expect("query text");
        let intent = gazetteer.parse(query);
        n += 1;
        if !intent.questions.is_empty() || !intent.is_complete() || intent.budget.is_none() {
            problems.push(format!("{query}\n   -> {:?}\n", intent));
        }
        // The dataset's shape: 3-day trips visit one city, 5-day two, 7-day three.
        let want_cities = match intent.days.map(u32::from) {
            Some(3) => 1,
            Some(5) => 2,
            Some(7) => 3,
            _ => 0,
        };
        if intent.destination.as_ref().map(|d| d.city_count()) != Some(want_cities) {
            problems.push(format!(
                "city count: {query}\n   -> {:?}",
                intent.destination
            ));
        }
        // the destination must be a known city or state, distinct from the origin
        if let (Some(o), Some(d)) = (&intent.origin, &intent.destination)
            && o == d.name()
        {
            problems.push(format!("origin == destination: {query}"));
        }
    }
    assert_eq!(n, 180);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
