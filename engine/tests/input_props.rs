//! Property tests of everything a person can send (issue 12): the parser
//! never panics, on any text or on text built from a trip-request grammar
//! with absurd numbers, and what it reads is always within the domain's
//! bounds; arbitrary JSON overrides and changes decode to values within the
//! bounds or to an error, never a panic. Bounded: 256 cases a property.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use wayfare_domain::bounds::{Budget, Days, Travellers, TripDate};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::request::find_control;
use wayfare_domain::trip::Change;
use wayfare_engine::agents::TripSpec;
use wayfare_engine::parse::Gazetteer;

fn gazetteer() -> Gazetteer {
    Gazetteer::from_parts(
        [
            ("Seattle", "Washington"),
            ("Denver", "Colorado"),
            ("Aspen", "Colorado"),
            ("Rockford", "Illinois"),
            ("Kansas City", "Missouri"),
        ]
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect(),
        vec!["Italian".into(), "Chinese".into()],
    )
    .with_today(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date"))
}

/// What every intent must satisfy, whoever made it.
fn assert_within_bounds(intent: &TripIntent) -> Result<(), TestCaseError> {
    if let Some(days) = intent.days {
        prop_assert!((Days::MIN..=Days::MAX).contains(&days.get()));
    }
    prop_assert!((Travellers::MIN..=Travellers::MAX).contains(&intent.people.get()));
    if let Some(budget) = intent.budget {
        let usd = budget.usd();
        prop_assert!(usd.is_finite() && usd > 0.0 && usd <= Budget::MAX_USD);
    }
    if let Some(start) = intent.start_date {
        prop_assert!((TripDate::FIRST..=TripDate::LAST).contains(&start.get()));
    }
    prop_assert!(intent.dates().len() <= Days::MAX as usize);
    // The stored form decodes again (the bounds are checked on the way in).
    let json = serde_json::to_value(intent).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: TripIntent =
        serde_json::from_value(json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, intent);
    if let Ok(spec) = TripSpec::from_intent(intent) {
        prop_assert!((2..=30).contains(&spec.dates.len()));
    }
    Ok(())
}

/// A number as a person might type it: ordinary, zero, huge, or 400 digits.
fn typed_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..40).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (1usize..400).prop_map(|n| "9".repeat(n)),
        Just("4294967295".to_owned()),
        Just("2000".to_owned()),
    ]
}

fn request_like() -> impl Strategy<Value = String> {
    let place = prop_oneof![
        Just("Seattle"),
        Just("Denver"),
        Just("Colorado"),
        Just("Kansas City"),
        Just("Atlantis"),
    ];
    let month = prop_oneof![Just("March"), Just("Dec"), Just("may"), Just("February")];
    let year = prop_oneof![
        Just(String::new()),
        (0u32..10_000).prop_map(|y| format!(", {y}")),
        Just(", 2027".to_owned()),
    ];
    (
        typed_number(),
        place.clone(),
        place,
        month,
        1u32..40,
        year,
        typed_number(),
        typed_number(),
        prop_oneof![Just("$"), Just(""), Just("budget ")],
        prop_oneof![Just(" dollars"), Just("k"), Just("")],
        "[ a-z0-9$,.\u{0}\u{1b}\n-]{0,20}",
    )
        .prop_map(
            |(days, from, to, month, day, year, people, money, pre, post, noise)| {
                format!(
                    "{days} days from {from} to {to} {month} {day}{year}{noise} for {people} people, {pre}{money}{post} in {noise} {days} cities"
                )
            },
        )
}

/// Arbitrary JSON, biased towards the keys and values overrides and
/// changes use.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-5i64..40).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}".prop_map(Value::from),
        "[a-z\u{0}\u{7}]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "text",
            "origin",
            "destination",
            "start_date",
            "days",
            "people",
            "travellers",
            "budget",
            "constraints",
            "preferences",
            "assumptions",
            "questions",
            "kind",
            "name",
            "cities",
            "start",
            "value",
            "component_id",
            "with",
            "house_rules",
            "room_type",
            "cuisines",
            "transport",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,8}",
    ]
}

fn overrides_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn count_value() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        (-3i64..35).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(4_294_967_295u64)),
        Just(json!(94_000_000)),
    ]
}

fn budget_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-10.0f64..2_000_000.0).prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!(0)),
    ]
}

fn date_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1990i32..2110, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}"))),
        Just(json!("+262142-12-30")),
        Just(json!("0000-01-01")),
    ]
}

fn name_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("Denver")),
        "[A-Za-z. \u{0}\u{1b}\u{85}]{0,12}".prop_map(Value::from),
    ]
}

/// Overrides with the known keys and values near and across their bounds.
fn plausible_overrides() -> impl Strategy<Value = Value> {
    let (count, budget, date, name) = (count_value(), budget_value(), date_value(), name_value());
    (
        prop::option::of(count.clone()),
        prop::option::of(count),
        prop::option::of(budget),
        prop::option::of(date),
        prop::option::of(name),
    )
        .prop_map(|(days, people, budget, start_date, origin)| {
            let mut o = Map::new();
            for (k, v) in [
                ("days", days),
                ("people", people),
                ("budget", budget),
                ("start_date", start_date),
                ("origin", origin),
            ] {
                if let Some(v) = v {
                    o.insert(k.to_owned(), v);
                }
            }
            Value::Object(o)
        })
}

/// Changes of every kind with values near and across their bounds.
fn plausible_change() -> impl Strategy<Value = Value> {
    prop_oneof![
        date_value().prop_map(|v| json!({"kind": "dates", "start": v})),
        count_value().prop_map(|v| json!({"kind": "travellers", "value": v})),
        budget_value().prop_map(|v| json!({"kind": "budget", "value": v})),
        name_value().prop_map(|v| json!({"kind": "reroll", "component_id": v})),
        (name_value(), name_value())
            .prop_map(|(c, w)| json!({"kind": "replace", "component_id": c, "with": w})),
        (
            prop::collection::vec(name_value(), 0..20),
            prop::sample::select(vec![
                json!(null),
                json!("entire_room"),
                json!("not_shared"),
                json!("castle"),
            ])
        )
            .prop_map(|(cuisines, room)| json!({"kind": "constraints", "value": {
                "house_rules": ["pets", "pets"], "room_type": room,
                "cuisines": cuisines, "transport": ["no_flight"],
            }})),
    ]
}

fn change_object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "dates",
            "travellers",
            "budget",
            "replace",
            "reroll",
            "constraints",
            "nope",
        ]),
        prop::collection::vec((key(), json_value()), 0..3),
    )
        .prop_map(|(kind, kv)| {
            let mut object: Map<String, Value> = kv.into_iter().collect();
            object.insert("kind".into(), json!(kind));
            Value::Object(object)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_parser_never_panics_and_stays_within_the_bounds_on_any_text(text in "\\PC{0,300}") {
        let intent = gazetteer().parse(&text);
        assert_within_bounds(&intent)?;
    }

    #[test]
    fn the_parser_stays_within_the_bounds_on_request_like_text(text in request_like()) {
        let intent = gazetteer().parse(&text);
        assert_within_bounds(&intent)?;
    }

    #[test]
    fn arbitrary_overrides_decode_within_the_bounds_or_fail(
        value in prop_oneof![overrides_object(), plausible_overrides()],
    ) {
        // The API's two steps: the shape, then the values.
        if let Ok(input) = serde_json::from_value::<OverridesInput>(value.clone())
            && let Ok(overrides) = TripOverrides::try_from(input)
        {
            let mut intent = gazetteer().parse("3 days from Seattle to Denver, March 5-7, $900");
            overrides.apply(&mut intent);
            assert_within_bounds(&intent)?;
            let text = serde_json::to_string(&intent).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(!text.contains("\\u0000"), "no NUL reaches the log: {text}");
            // The logged form decodes to the same overrides.
            let logged = serde_json::to_value(&overrides).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(serde_json::from_value::<TripOverrides>(logged).ok(), Some(overrides));
        }
        // One step (the log's decoding) never panics either.
        let _ = serde_json::from_value::<TripOverrides>(value);
    }

    #[test]
    fn arbitrary_changes_decode_within_the_bounds_or_fail(
        value in prop_oneof![change_object(), plausible_change()],
    ) {
        if let Ok(change) = serde_json::from_value::<Change>(value) {
            match &change {
                Change::Dates { start } => {
                    prop_assert!((TripDate::FIRST..=TripDate::LAST).contains(&start.get()));
                }
                Change::Travellers { value } => {
                    prop_assert!((Travellers::MIN..=Travellers::MAX).contains(&value.get()));
                }
                Change::Budget { value } => {
                    prop_assert!(value.usd().is_finite() && value.usd() > 0.0);
                }
                Change::Replace { component_id, with } => {
                    prop_assert!(find_control(component_id).is_none() && find_control(with).is_none());
                }
                Change::Reroll { component_id } => {
                    prop_assert!(find_control(component_id).is_none());
                }
                Change::Constraints { value } => {
                    prop_assert!(value.cuisines.len() <= wayfare_domain::trip::MAX_CUISINES);
                    prop_assert!(value.cuisines.iter().all(|c| find_control(c).is_none() && !c.trim().is_empty()));
                    prop_assert!(value.house_rules.len() <= 1 && value.transport.len() <= 1, "duplicates counted once");
                }
            }
            let again = serde_json::to_value(&change).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(serde_json::from_value::<Change>(again).ok(), Some(change));
        }
    }
}
