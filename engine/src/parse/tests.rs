use chrono::NaiveDate;
use wayfare_domain::bounds::{Budget, Days, TripDate};
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{Destination, RoomRequirement, TransportRestriction};

use super::Gazetteer;

fn gazetteer() -> Gazetteer {
    let cities = [
        ("St. Petersburg", "Florida"),
        ("Rockford", "Illinois"),
        ("Washington", "District of Columbia"),
        ("Seattle", "Washington"),
        ("Spokane", "Washington"),
        ("New York", "New York"),
        ("Buffalo", "New York"),
        ("Kansas City", "Missouri"),
        ("Wichita", "Kansas"),
        ("Bangor", "Maine"),
        ("Denver", "Colorado"),
        ("Aspen", "Colorado"),
        ("San Juan", "Puerto Rico"),
        ("Boston", "Massachusetts"),
        ("Sault Ste. Marie", "Michigan"),
        ("Detroit", "Michigan"),
    ];
    Gazetteer::from_parts(
        cities
            .iter()
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .collect(),
        ["Chinese", "Italian", "Mexican", "Cafe", "Tea"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
    .with_default_year(2022)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

#[test]
fn reads_explicit_dates_with_a_year() {
    let i = gazetteer().parse("A trip from Rockford to Denver from March 16th to March 18th, 2022, for one person, budget $900.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2022, 3, 16)));
    assert_eq!(i.days.map(Days::get), Some(3));
    assert!(i.questions.is_empty(), "{:?}", i.questions);
}

#[test]
fn reads_a_start_date_and_a_duration() {
    let i = gazetteer().parse("Plan a 5-day trip from Denver to Rockford starting April 2nd 2023, budget $2,000 for 2 people.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2023, 4, 2)));
    assert_eq!(i.days.map(Days::get), Some(5));
    assert_eq!(i.dates().last(), Some(&d(2023, 4, 6)));
}

#[test]
fn reads_week_long_and_one_week_as_seven_days() {
    for text in [
        "a week-long trip from Denver to Rockford from March 1st 2022, $3,000",
        "a one-week trip from Denver to Rockford from March 1st 2022, $3,000",
    ] {
        assert_eq!(
            gazetteer().parse(text).days.map(Days::get),
            Some(7),
            "{text}"
        );
    }
}

#[test]
fn states_the_assumed_year_when_a_date_has_none() {
    let i = gazetteer().parse("From Denver to Rockford, March 3rd to March 5th, $1,000 solo.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2022, 3, 3)));
    assert!(i.assumptions.iter().any(|a| a.contains("2022")));
}

#[test]
fn asks_for_dates_when_there_are_none() {
    let i = gazetteer().parse("A trip from Denver to Rockford for $1,000.");
    assert!(i.start_date.is_none());
    assert!(i.questions.iter().any(|q| q.contains("start")));
}

#[test]
fn counts_travellers_in_every_phrasing() {
    let cases = [
        ("planned for a single person", 1),
        ("a solo trip", 1),
        ("I am traveling alone", 1),
        ("a 3-day trip for two, starting", 2),
        ("for a group of 4", 4),
        ("2 adults and 1 child", 3),
        ("for 1 person", 1),
        ("for 3 people", 3),
        ("a group of five", 5),
        ("a plan for a duo", 2),
        ("a pair of travelers", 2),
    ];
    for (phrase, want) in cases {
        let text =
            format!("From Denver to Rockford, {phrase}, March 3rd to March 5th 2022, $1,000.");
        let i = gazetteer().parse(&text);
        assert_eq!(i.people.get(), want, "{phrase}");
        assert!(
            i.assumptions.iter().all(|a| !a.contains("traveller")),
            "{phrase}"
        );
    }
}

#[test]
fn assumes_one_traveller_and_says_so() {
    let i = gazetteer().parse("From Denver to Rockford, March 3rd to March 5th 2022, $1,000.");
    assert_eq!(i.people.get(), 1);
    assert!(i.assumptions.iter().any(|a| a.contains("one traveller")));
}

#[test]
fn reads_budgets_with_commas_and_thousands() {
    let cases = [
        ("a budget of $1,700", 1700.0),
        ("around 1.7k dollars", 1700.0),
        ("budget of $3,600.", 3600.0),
        ("budget is about 2.5k", 2500.0),
        ("up to 900 USD", 900.0),
    ];
    for (phrase, want) in cases {
        let text = format!("From Denver to Rockford, March 3rd to March 5th 2022, {phrase}");
        assert_eq!(
            gazetteer().parse(&text).budget.map(Budget::usd),
            Some(want),
            "{phrase}"
        );
    }
}

#[test]
fn tells_origin_from_destination_by_cue_words() {
    let i = gazetteer().parse(
        "Heading to Rockford, departing from St. Petersburg, March 3rd to March 5th 2022, $1,000.",
    );
    assert_eq!(i.origin.as_deref(), Some("St. Petersburg"));
    assert_eq!(
        i.destination,
        Some(Destination::City {
            name: "Rockford".into()
        })
    );
}

#[test]
fn reads_a_state_with_a_city_count() {
    let i = gazetteer().parse("Could you plan a 5-day solo trip from Bangor to visit 2 different cities in Colorado from March 6th to March 10th, 2022, budget $3,600?");
    assert_eq!(
        i.destination,
        Some(Destination::State {
            name: "Colorado".into(),
            cities: 2
        })
    );
}

#[test]
fn takes_washington_as_the_city_for_a_three_day_trip() {
    let i = gazetteer().parse("a 3-day travel plan from Bangor visiting Washington from March 21st to March 23rd, 2022, $3,100");
    assert_eq!(
        i.destination,
        Some(Destination::City {
            name: "Washington".into()
        })
    );
}

#[test]
fn takes_washington_as_the_state_when_cities_are_counted() {
    let i = gazetteer().parse("a 7-day trip from Bangor covering three cities in Washington from March 1st to March 7th, 2022, $5,000");
    assert_eq!(
        i.destination,
        Some(Destination::State {
            name: "Washington".into(),
            cities: 3
        })
    );
}

#[test]
fn keeps_the_longest_name_kansas_city_over_kansas() {
    let i = gazetteer().parse("from Kansas City to Wichita, March 3rd to March 5th 2022, $900");
    assert_eq!(i.origin.as_deref(), Some("Kansas City"));
}

#[test]
fn tolerates_small_typos_and_lower_case() {
    let i = gazetteer().parse("from seatle to rockfrod, March 3rd to March 5th 2022, $900");
    assert_eq!(i.origin.as_deref(), Some("Seattle"));
    assert_eq!(i.destination.as_ref().map(|d| d.name()), Some("Rockford"));
}

#[test]
fn asks_about_an_unknown_destination() {
    let i = gazetteer().parse("from Denver to Atlantis, March 3rd to March 5th 2022, $900");
    assert!(i.destination.is_none());
    assert!(!i.questions.is_empty());
}

#[test]
fn reads_house_rules_the_stay_must_allow() {
    let cases = [
        (
            "accommodations where parties are allowed",
            HouseRule::Parties,
        ),
        ("smoking is permissible", HouseRule::Smoking),
        (
            "they must permit children under 10",
            HouseRule::ChildrenUnder10,
        ),
        ("we need pet-friendly accommodations", HouseRule::Pets),
        ("places that welcome visitors", HouseRule::Visitors),
    ];
    for (phrase, rule) in cases {
        let text =
            format!("From Denver to Rockford, March 3rd to March 5th 2022, $1,000. {phrase}.");
        assert_eq!(
            gazetteer().parse(&text).constraints.house_rules,
            vec![rule],
            "{phrase}"
        );
    }
}

#[test]
fn reads_room_types() {
    let cases = [
        (
            "we would like entire rooms to ourselves",
            RoomRequirement::EntireRoom,
        ),
        (
            "our preferred accommodations are private rooms",
            RoomRequirement::PrivateRoom,
        ),
        (
            "we prefer to stay in shared rooms",
            RoomRequirement::SharedRoom,
        ),
        ("we prefer non-shared rooms", RoomRequirement::NotShared),
        ("rooms that are not shared", RoomRequirement::NotShared),
    ];
    for (phrase, want) in cases {
        let text =
            format!("From Denver to Rockford, March 3rd to March 5th 2022, $1,000. {phrase}.");
        assert_eq!(
            gazetteer().parse(&text).constraints.room_type,
            Some(want),
            "{phrase}"
        );
    }
}

#[test]
fn reads_cuisines_but_not_ordinary_words() {
    let i = gazetteer().parse("From Denver to Rockford, March 3rd to March 5th 2022, $1,000. We'd love Mexican and Chinese food, and a Cafe stop for Tea.");
    assert_eq!(
        i.constraints.cuisines,
        vec!["Mexican".to_string(), "Chinese".to_string()]
    );
}

#[test]
fn reads_transport_restrictions() {
    let cases = [
        (
            "We do not plan on self-driving for this trip",
            TransportRestriction::NoSelfDriving,
        ),
        (
            "we prefer not to drive ourselves",
            TransportRestriction::NoSelfDriving,
        ),
        (
            "We will not be taking any flights for transportation",
            TransportRestriction::NoFlight,
        ),
        (
            "Our preferred mode of transportation is not flight-based",
            TransportRestriction::NoFlight,
        ),
        ("we'd prefer not to fly", TransportRestriction::NoFlight),
        ("we dont drive", TransportRestriction::NoSelfDriving),
        ("we DONT want to drive", TransportRestriction::NoSelfDriving),
        ("I can’t drive", TransportRestriction::NoSelfDriving),
        ("we wont fly", TransportRestriction::NoFlight),
    ];
    for (phrase, want) in cases {
        let text =
            format!("From Denver to Rockford, March 3rd to March 5th 2022, $1,000. {phrase}.");
        assert_eq!(
            gazetteer().parse(&text).constraints.transport,
            vec![want],
            "{phrase}"
        );
    }
}

#[test]
fn finds_no_constraint_when_the_text_says_it_has_none() {
    let i = gazetteer().parse("From Denver to Rockford, March 3rd to March 5th 2022, $1,000. I have no specific preferences about house rules, cuisine, accommodations, or transportation.");
    assert_eq!(i.constraints.count(), 0, "{:?}", i.constraints);
}

#[test]
fn keeps_a_qualifying_state_out_of_the_destination() {
    let i = gazetteer().parse("a 3-day travel from Boston to San Juan, Puerto Rico, for one person between March 28th and March 30th, 2022, $1,400");
    assert_eq!(
        i.destination,
        Some(Destination::City {
            name: "San Juan".into()
        })
    );
    assert_eq!(i.days.map(Days::get), Some(3));
}

#[test]
fn reads_day_first_and_shortened_date_ranges() {
    for text in [
        "a trip from Denver to Rockford from the 23rd to the 29th of March, 2022, $900",
        "a trip from Denver to Rockford, March 23-29, 2022, $900",
        "a trip from Denver to Rockford, March 23rd to 29th, 2022, $900",
    ] {
        let i = gazetteer().parse(text);
        assert_eq!(
            i.start_date.map(TripDate::get),
            Some(d(2022, 3, 23)),
            "{text}"
        );
        assert_eq!(i.days.map(Days::get), Some(7), "{text}");
    }
}

#[test]
fn keeps_the_origin_state_qualifier_out_of_the_destination() {
    let i = gazetteer().parse("a 7-day plan departing from Bangor in Maine, visiting 3 cities in Colorado, March 6th to March 12th, 2022, $5,100");
    assert_eq!(i.origin.as_deref(), Some("Bangor"));
    assert_eq!(
        i.destination,
        Some(Destination::State {
            name: "Colorado".into(),
            cities: 3
        })
    );
}

#[test]
fn asks_about_an_unknown_origin_instead_of_taking_the_destination_for_it() {
    let i = gazetteer().parse("from Atlantis to Denver, March 3rd to March 5th 2022, $900");
    assert!(i.origin.is_none());
    assert_eq!(
        i.destination,
        Some(Destination::City {
            name: "Denver".into()
        })
    );
    assert!(i.questions.iter().any(|q| q.contains("start from")));
}

#[test]
fn takes_the_first_name_as_the_origin_when_no_cue_says_otherwise() {
    let i = gazetteer().parse("Denver - Rockford, March 3rd to March 5th 2022, $900");
    assert_eq!(i.origin.as_deref(), Some("Denver"));
    assert_eq!(i.destination.as_ref().map(|d| d.name()), Some("Rockford"));
}

proptest::proptest! {
    #[test]
    fn never_panics_on_any_text(text in "\\PC{0,300}") {
        let _ = gazetteer().parse(&text);
    }

    #[test]
    fn never_panics_on_request_like_text_with_odd_characters(
        city in "(Denver|Rockford|seatle|Kansas City|Washington)",
        noise in "[ a-zA-Z0-9$,.éü–—’-]{0,80}",
    ) {
        let text = format!("from {city}{noise} to Rockford {noise} March 3rd {noise} 2022 ${noise}");
        let _ = gazetteer().parse(&text);
    }
}

#[test]
fn a_date_without_a_year_that_has_passed_means_next_year() {
    let g = gazetteer().with_today(NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"));
    let intent = g.parse("3 days from Seattle to Denver, March 5-7, two of us, $2,000");
    assert_eq!(
        intent.start_date.map(TripDate::get),
        NaiveDate::from_ymd_opt(2027, 3, 5)
    );
    assert!(
        intent.assumptions.iter().any(|a| a.contains("2027")),
        "{:?}",
        intent.assumptions
    );
    let later = g.parse("3 days from Seattle to Denver, December 5-7, two of us, $2,000");
    assert_eq!(
        later.start_date.map(TripDate::get),
        NaiveDate::from_ymd_opt(2026, 12, 5)
    );
}

#[test]
fn a_dollar_amount_is_never_the_year() {
    let g = gazetteer().with_today(d(2026, 11, 23));
    for text in [
        "3 days from Seattle to Denver, March 5-7, two of us, $2000",
        "3 days from Seattle to Denver, March 5-7, two of us, 2000 dollars",
        "3 days from Seattle to Denver, March 5th to March 7th 2000 dollars, two of us",
    ] {
        let i = g.parse(text);
        assert_eq!(
            i.start_date.map(TripDate::get),
            Some(d(2027, 3, 5)),
            "{text}"
        );
        assert_eq!(i.budget.map(Budget::usd), Some(2000.0), "{text}");
        assert!(
            i.assumptions.iter().any(|a| a == "the dates are in 2027"),
            "{text}: {:?}",
            i.assumptions
        );
    }
}

#[test]
fn a_year_said_in_words_is_stated_not_assumed() {
    let g = gazetteer().with_today(d(2026, 11, 23));
    let i = g.parse("3 days from Seattle to Denver in 2028, March 5-7, two of us, $2000");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2028, 3, 5)));
    assert!(
        i.assumptions.iter().all(|a| !a.contains("dates are in")),
        "{:?}",
        i.assumptions
    );
}

#[test]
fn absurd_numbers_are_questions_naming_the_field_never_values() {
    let nines = "9".repeat(400);
    let cases = [
        (
            format!("From Denver to Rockford, March 3rd to March 5th 2022, ${nines}"),
            "budget",
        ),
        (
            format!("From Denver to Rockford, March 3rd 2022, {nines} days, $900"),
            "-day trip",
        ),
        (
            "From Denver to Rockford, March 3rd 2022, 4294967295 days, $900".to_owned(),
            "-day trip",
        ),
        (
            "From Denver to Rockford, March 3rd 2022, 100 days, $900".to_owned(),
            "-day trip",
        ),
        (
            "From Denver to Rockford, March 3rd to March 5th 2022, for a group of 50, $900"
                .to_owned(),
            "travellers",
        ),
        (
            "From Denver to Rockford, March 3rd to March 5th 1999, $900".to_owned(),
            "start date",
        ),
        (
            "From Denver to Rockford, 9999-03-03 to 9999-03-05, $900".to_owned(),
            "start date",
        ),
        (
            "From Denver to Rockford, March 3rd 2022 to March 5th 2100, $900".to_owned(),
            "-day trip",
        ),
    ];
    for (text, field) in cases {
        let i = gazetteer().parse(&text);
        assert!(
            i.questions.iter().any(|q| q.contains(field)),
            "{field}: {:?}",
            i.questions
        );
        assert!(!i.is_complete());
        assert!(i.dates().len() <= 30);
    }
}

/// The demo-like gazetteer read from a fixed today (Wednesday 2026-11-25).
fn today_gazetteer() -> Gazetteer {
    let cities = [
        ("Seattle", "Washington"),
        ("Tacoma", "Washington"),
        ("Denver", "Colorado"),
        ("Chicago", "Illinois"),
        ("New York", "New York"),
        ("Los Angeles", "California"),
        ("San Francisco", "California"),
    ];
    Gazetteer::from_parts(
        cities
            .iter()
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .collect(),
        ["Mexican", "Italian", "Chinese"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
    .with_today(d(2026, 11, 25))
}

#[test]
fn reads_relative_dates_from_today_and_says_how() {
    let g = today_gazetteer();
    let i = g.parse("Seattle to Chicago next Saturday for 3 days, 2 people, $1800.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2026, 12, 5)));
    assert!(
        i.assumptions.iter().any(|a| a.contains("next Saturday")),
        "{:?}",
        i.assumptions
    );
    let i = g.parse("Denver to Chicago this weekend, solo, $700.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2026, 11, 28)));
    assert_eq!(i.days.map(Days::get), Some(2));
    let i = g.parse("Chicago to Denver in two weeks, for 4 days, 1 person, $1300.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2026, 12, 9)));
    let i = g.parse("Seattle to Denver 6/21-6/23, 2 people, $1000.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2027, 6, 21)));
    assert_eq!(i.days.map(Days::get), Some(3));
}

#[test]
fn a_self_correction_takes_the_later_statement_and_says_so() {
    let i = today_gazetteer()
        .parse("Seattle to Los Angeles, 4 days, sorry, 5 days, starting Dec 10, 2 people, $2500.");
    assert_eq!(i.days.map(Days::get), Some(5));
    assert!(i.assumptions.iter().any(|a| a.contains("corrects itself")));
    let i = today_gazetteer().parse("Seattle to Denver, 3 days, 5 days, Dec 5, 2 people, $1500.");
    assert_eq!(i.days, None);
    assert!(i.questions.iter().any(|q| q.contains("days")));
}

#[test]
fn refuses_nonsense_with_a_question_naming_the_field() {
    let g = today_gazetteer();
    let i = g.parse("Denver to Los Angeles, Dec 19-21, 2 people, budget -$500.");
    assert_eq!(i.budget, None);
    assert!(
        i.questions
            .iter()
            .any(|q| q.contains("budget") && q.contains("negative")),
        "{:?}",
        i.questions
    );
    let i = g.parse("From Seattle to Denver, from Dec 8 to Dec 5, 2 people, $1500.");
    assert_eq!((i.start_date, i.days), (None, None));
    assert!(i.questions.iter().any(|q| q.contains("before the start")));
    let i = g.parse("From Chicago to Denver, Dec 5-7, for 100000000000 travellers, $1500.");
    assert!(i.questions.iter().any(|q| q.contains("people")));
}

#[test]
fn reads_parties_budgets_places_and_negations_as_people_write_them() {
    let g = today_gazetteer();
    let i = g.parse(
        "we live in tacoma and want to visit the big apple dec 5-7, \
         me, my wife and our 2 kids, $500 each, anything but a dorm, no planes, some mexican food",
    );
    assert_eq!(i.origin.as_deref(), Some("Tacoma"));
    assert_eq!(
        i.destination,
        Some(Destination::City {
            name: "New York".into()
        })
    );
    assert_eq!(i.people.get(), 4);
    assert_eq!(i.children, 2);
    assert_eq!(i.budget.map(f64::from), Some(2000.0));
    assert!(i.assumptions.iter().any(|a| a.contains("each")));
    assert_eq!(i.constraints.room_type, Some(RoomRequirement::NotShared));
    assert_eq!(
        i.constraints.transport,
        vec![TransportRestriction::NoFlight]
    );
    assert_eq!(i.constraints.cuisines, vec!["Mexican".to_string()]);
    assert!(i.is_complete(), "{:?}", i.questions);
    assert!(!i.explicit_requirements.is_empty());
    assert!(
        i.implicit_requirements
            .iter()
            .any(|r| r.contains("return to Tacoma"))
    );
}

#[test]
fn reads_form_like_text() {
    let i = today_gazetteer()
        .parse("From: Seattle\nTo: Denver\nWhen: Dec 5-7\nPeople: 2\nBudget: 1500");
    assert_eq!(i.origin.as_deref(), Some("Seattle"));
    assert_eq!(i.destination.as_ref().map(|d| d.name()), Some("Denver"));
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2026, 12, 5)));
    assert_eq!(i.days.map(Days::get), Some(3));
    assert_eq!(i.people.get(), 2);
    assert_eq!(i.budget.map(f64::from), Some(1500.0));
}

#[test]
fn the_home_page_examples_read_completely_on_the_demo_catalog() {
    let catalog = crate::catalog::MemoryCatalog::new(
        crate::catalog::demo::demo_catalog().expect("demo catalog"),
    );
    let g = Gazetteer::new(&catalog).with_today(d(2026, 11, 25));
    // The texts of `app::pages::home::EXAMPLES`.
    let examples = [
        (
            "A 3-day trip from Seattle to Denver, May 14-16, 2027, for two of us with a budget \
             of $2,000. We love Italian food.",
            2,
        ),
        (
            "Please plan a 5-day trip from Chicago to California, visiting 2 cities, from June 3rd \
             to June 7th, 2027, for 3 people with a budget of $6,000.",
            3,
        ),
        (
            "Plan a 3-day trip from San Francisco to Los Angeles from July 10th to July 12th, 2027, \
             for 4 people with a budget of $3,500. We need an entire home that allows pets, and no \
             flights please.",
            4,
        ),
    ];
    for (text, people) in examples {
        let i = g.parse(text);
        assert!(i.is_complete(), "{text}: {:?}", i.questions);
        assert_eq!(i.people.get(), people, "{text}");
        assert!(i.budget.is_some(), "{text}");
    }
}

#[test]
fn a_spending_style_and_a_pace_are_read_and_an_amount_is_not_a_style() {
    use wayfare_domain::preferences::{BudgetLevel, Pace};
    let g = gazetteer();
    let base = "3 days from Seattle to Denver, March 5-7 2027, two of us";
    for (text, level) in [
        ("we're on a shoestring", BudgetLevel::Budget),
        ("a cheap trip", BudgetLevel::Budget),
        ("budget-friendly please", BudgetLevel::Budget),
        ("mid-range hotels", BudgetLevel::Moderate),
        ("somewhere comfortable", BudgetLevel::Comfort),
        ("we want to splurge", BudgetLevel::Luxury),
        ("a five-star luxury getaway", BudgetLevel::Luxury),
    ] {
        let i = g.parse(&format!("{base}, $2,000, {text}"));
        assert_eq!(i.budget_level, Some(level), "{text}");
    }
    for text in [
        "with a budget of $2,000",
        "budget $2,000, nothing luxurious",
        "$2,000, not cheap motels",
        "$2,000, at a moderate pace",
    ] {
        let i = g.parse(&format!("{base}, {text}"));
        assert_eq!(i.budget_level, None, "{text}");
    }
    let pace = |text: &str| g.parse(&format!("{base}, $2,000, {text}")).pace;
    assert_eq!(pace("a leisurely trip"), Some(Pace::Relaxed));
    assert_eq!(pace("we just want to relax"), Some(Pace::Relaxed));
    assert_eq!(pace("a packed schedule"), Some(Pace::Packed));
    assert_eq!(pace("at a moderate pace"), Some(Pace::Balanced));
    assert_eq!(pace(""), None);
}

#[test]
fn interests_are_read_in_the_order_named_and_a_family_that_travels_is_not_one() {
    use wayfare_domain::preferences::Interest;
    let g = gazetteer();
    let base = "3 days from Seattle to Denver, March 5-7 2027, $2,000";
    let interests = |text: &str| g.parse(&format!("{base}, {text}")).interests;
    assert_eq!(
        interests("two of us, museums and good food"),
        [Interest::Culture, Interest::Food]
    );
    assert_eq!(
        interests("we love hiking, art galleries and the nightlife"),
        [Interest::Nature, Interest::Art, Interest::Nightlife]
    );
    assert_eq!(
        interests("a family of four, something kid-friendly"),
        [Interest::Family]
    );
    // The party, not a wish; parking is not a park; "no museums" is none.
    assert!(interests("my family and I, we need parking").is_empty());
    assert!(interests("two of us, no museums please").is_empty());
    let kids = g.parse(&format!("{base}, two adults with two kids"));
    assert_eq!(kids.children, 2);
    assert!(kids.interests.is_empty());
}

#[test]
fn an_unstated_spending_style_is_inferred_and_said_and_accessibility_is_read() {
    let g = gazetteer();
    let i = g.parse("3 days from Seattle to Denver, March 5-7 2027, two of us, $2,000");
    assert!(
        i.assumptions
            .iter()
            .any(|a| a.starts_with("Comfortable spending: about $333 a person a day")),
        "{:?}",
        i.assumptions
    );
    let stated = g
        .parse("3 days from Seattle to Denver, March 5-7 2027, two of us, $2,000, on a shoestring");
    assert!(
        !stated.assumptions.iter().any(|a| a.contains("spending")),
        "{:?}",
        stated.assumptions
    );
    let access = g.parse("3 days from Seattle to Denver, March 5-7 2027, two of us, $2,000; my wife uses a wheelchair");
    assert!(
        access
            .explicit_requirements
            .iter()
            .any(|r| r.contains("wheelchair"))
    );
    assert!(
        access
            .assumptions
            .iter()
            .any(|a| a.starts_with("Accessibility")),
        "{:?}",
        access.assumptions
    );
}

#[test]
fn reads_weeks_of_a_month_and_holidays_as_dates() {
    let g = today_gazetteer();
    let i = g.parse("Plan me a trip to New York from Chicago for the first week of May 2027. Budget is $4,000 for 2 people.");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2027, 5, 1)));
    assert_eq!(i.days.map(Days::get), Some(7));
    assert!(i.questions.is_empty(), "{:?}", i.questions);
    let i = g.parse("3 nights in Chicago from Denver over new years, 2 of us, $2500");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2026, 12, 31)));
    assert_eq!(i.days.map(Days::get), Some(4));
    let i = g.parse("Denver to Chicago, 3 days in the last week of June, 1 person, $900, to see the Christmas lights");
    assert_eq!(i.start_date.map(TripDate::get), Some(d(2027, 6, 24)));
    assert_eq!(i.days.map(Days::get), Some(3));
}

#[test]
fn a_month_without_a_day_is_asked_about_by_name() {
    let i = today_gazetteer()
        .parse("3 days from Seattle to Portland in May, two of us, $1,500, we love Italian food");
    assert_eq!(i.start_date, None);
    assert!(
        i.questions
            .iter()
            .any(|q| q.starts_with("When does the trip start?")
                && q.contains("names May but no day")),
        "{:?}",
        i.questions
    );
}
