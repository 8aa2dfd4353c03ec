//! The agents on the real sandbox data.

mod common;

use chrono::NaiveDate;
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{Destination, HardConstraints, RoomRequirement, TransportRestriction};
use wayfare_domain::itinerary::TravelMode;
use wayfare_engine::agents::accommodation::AccommodationAgent;
use wayfare_engine::agents::activity::ActivityAgent;
use wayfare_engine::agents::dining::DiningAgent;
use wayfare_engine::agents::location::{LocationAgent, haversine_km};
use wayfare_engine::agents::planning::PlanningAgent;
use wayfare_engine::agents::transport::TransportAgent;
use wayfare_engine::agents::{Agent, LegKey, TripSpec};
use wayfare_engine::assemble::{Proposals, assemble};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn trip(
    origin: &str,
    dest: Destination,
    start: &str,
    days: u32,
    people: u32,
    constraints: HardConstraints,
) -> TripSpec {
    let start = date(start);
    TripSpec {
        origin: origin.into(),
        destination: dest,
        dates: (0..days)
            .map(|i| start + chrono::Duration::days(i64::from(i)))
            .collect(),
        people,
        budget: Some(10_000.0),
        constraints,
        preferences: Vec::new(),
        budget_level: None,
        pace: None,
        interests: Vec::new(),
        children: 0,
        objective: Default::default(),
    }
}

fn leg(from: &str, to: &str, d: &str) -> LegKey {
    LegKey {
        from: from.into(),
        to: to.into(),
        date: date(d),
        day_index: 0,
    }
}

#[test]
fn transport_offers_the_flight_on_its_date_and_prices_it_per_person() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let t = trip(
        "St. Petersburg",
        Destination::City {
            name: "Rockford".into(),
        },
        "2022-03-16",
        3,
        2,
        HardConstraints::default(),
    );
    let options = TransportAgent.options(
        &t,
        catalog.as_ref(),
        &leg("St. Petersburg", "Rockford", "2022-03-16"),
    );
    let flight = options
        .iter()
        .find(|o| o.item.number.as_deref() == Some("F3573659"))
        .expect("F3573659 flies that day");
    let f = catalog.flights("St. Petersburg", "Rockford", date("2022-03-16"));
    let price = f
        .iter()
        .find(|x| x.number == "F3573659")
        .expect("in catalog")
        .price;
    assert_eq!(flight.cost, price * 2.0);
    assert!(
        options.windows(2).all(|w| w[0].cost <= w[1].cost),
        "cheapest first"
    );
    let next_day = TransportAgent.options(
        &t,
        catalog.as_ref(),
        &leg("St. Petersburg", "Rockford", "2022-03-17"),
    );
    assert!(
        next_day
            .iter()
            .all(|o| o.item.number.as_deref() != Some("F3573659"))
    );
}

#[test]
fn transport_respects_no_flight_and_no_self_driving() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    // Atlanta → Chattanooga has flights that day and a road.
    let k = leg("Atlanta", "Chattanooga", "2022-03-07");
    let all = HardConstraints::default();
    let t = trip(
        "Atlanta",
        Destination::City {
            name: "Chattanooga".into(),
        },
        "2022-03-07",
        3,
        1,
        all,
    );
    let modes: Vec<TravelMode> = TransportAgent
        .options(&t, catalog.as_ref(), &k)
        .iter()
        .map(|o| o.item.mode)
        .collect();
    assert!(modes.contains(&TravelMode::Flight) && modes.contains(&TravelMode::SelfDriving));
    for (restriction, banned) in [
        (TransportRestriction::NoFlight, TravelMode::Flight),
        (TransportRestriction::NoSelfDriving, TravelMode::SelfDriving),
    ] {
        let c = HardConstraints {
            transport: vec![restriction],
            ..Default::default()
        };
        let t = trip(
            "Atlanta",
            Destination::City {
                name: "Chattanooga".into(),
            },
            "2022-03-07",
            3,
            1,
            c,
        );
        let options = TransportAgent.options(&t, catalog.as_ref(), &k);
        assert!(!options.is_empty());
        assert!(
            options.iter().all(|o| o.item.mode != banned),
            "{restriction:?}"
        );
    }
}

#[test]
fn transport_prices_cars_and_taxis_per_vehicle() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let t = trip(
        "Kansas City",
        Destination::City {
            name: "Pensacola".into(),
        },
        "2022-03-27",
        3,
        5,
        HardConstraints::default(),
    );
    let route = catalog
        .ground_route("Kansas City", "Pensacola")
        .expect("route");
    let options = TransportAgent.options(
        &t,
        catalog.as_ref(),
        &leg("Kansas City", "Pensacola", "2022-03-27"),
    );
    let car = options
        .iter()
        .find(|o| o.item.mode == TravelMode::SelfDriving)
        .expect("car");
    let taxi = options
        .iter()
        .find(|o| o.item.mode == TravelMode::Taxi)
        .expect("taxi");
    assert_eq!(car.cost, (route.distance_km * 0.05).floor()); // 5 people, one car
    assert_eq!(taxi.cost, route.distance_km.floor() * 2.0); // 5 people, two taxis
}

#[test]
fn accommodation_keeps_only_stays_that_allow_the_rules_room_and_nights() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let c = HardConstraints {
        house_rules: vec![HouseRule::Pets],
        room_type: Some(RoomRequirement::EntireRoom),
        ..Default::default()
    };
    let t = trip(
        "Bangor",
        Destination::City {
            name: "Washington".into(),
        },
        "2022-03-21",
        3,
        3,
        c,
    );
    let options = AccommodationAgent.options(&t, catalog.as_ref(), "Washington", 2);
    assert!(!options.is_empty());
    assert!(options.len() < catalog.stays_in("Washington").len());
    for o in &options {
        let s = &o.item.stay;
        assert!(s.minimum_nights <= 2 && !s.forbids.contains(&HouseRule::Pets));
        assert_eq!(s.room_type, wayfare_domain::catalog::RoomType::EntireHome);
        assert_eq!(o.item.units, 3u32.div_ceil(s.maximum_occupancy));
        assert_eq!(o.cost, s.price * f64::from(o.item.units) * 2.0);
    }
    assert!(options.windows(2).all(|w| w[0].cost <= w[1].cost));
}

#[test]
fn dining_lists_each_restaurant_once_cheapest_first() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let t = trip(
        "Atlanta",
        Destination::City {
            name: "Chattanooga".into(),
        },
        "2022-03-07",
        3,
        5,
        HardConstraints::default(),
    );
    let options = DiningAgent.options(&t, catalog.as_ref(), "Chattanooga");
    let mut names: Vec<&str> = options.iter().map(|o| o.item.name.as_str()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
    assert!(options.windows(2).all(|w| w[0].cost <= w[1].cost));
    assert!(options.iter().all(|o| o.cost == o.item.average_cost * 5.0));
}

#[test]
fn activity_orders_attractions_into_a_shorter_route_than_the_catalog_order() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let length = |pts: &[(f64, f64)]| {
        pts.windows(2)
            .map(|w| haversine_km(w[0].0, w[0].1, w[1].0, w[1].1))
            .sum::<f64>()
    };
    let route = ActivityAgent.route(catalog.as_ref(), "New York");
    let routed: Vec<(f64, f64)> = route.iter().map(|a| (a.lat, a.lon)).collect();
    let original: Vec<(f64, f64)> = catalog
        .attractions_in("New York")
        .iter()
        .map(|a| (a.lat, a.lon))
        .collect();
    assert!(route.len() >= 10);
    assert!(
        length(&routed) < length(&original),
        "{} vs {}",
        length(&routed),
        length(&original)
    );
}

#[test]
fn planning_picks_distinct_cities_of_the_state_that_can_be_travelled() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let c = HardConstraints {
        transport: vec![TransportRestriction::NoFlight],
        ..Default::default()
    };
    let t = trip(
        "Minneapolis",
        Destination::State {
            name: "Ohio".into(),
            cities: 3,
        },
        "2022-03-17",
        7,
        2,
        c,
    );
    let facts = LocationAgent
        .run(&t, catalog.as_ref(), &())
        .expect("Ohio cities");
    let skeletons = PlanningAgent
        .run(&t, catalog.as_ref(), &facts)
        .expect("routes");
    assert!(!skeletons.is_empty());
    for s in &skeletons {
        let sk = &s.item;
        assert_eq!(sk.cities.len(), 3);
        assert_eq!(sk.nights.iter().sum::<u32>(), 6);
        let mut distinct = sk.cities.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3);
        for city in &sk.cities {
            assert_eq!(catalog.city(city).expect("known").state, "Ohio");
        }
        for l in sk.legs(&t.origin, &t.dates) {
            assert!(
                catalog.ground_route(&l.from, &l.to).is_some(),
                "no flight allowed, so {l:?} must be drivable"
            );
        }
    }
}

#[test]
fn planning_explains_a_destination_no_transport_reaches() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let t = trip(
        "Ontario",
        Destination::City {
            name: "Honolulu".into(),
        },
        "2022-03-04",
        3,
        1,
        HardConstraints::default(),
    );
    let facts = LocationAgent.run(&t, catalog.as_ref(), &()).expect("facts");
    let err = PlanningAgent
        .run(&t, catalog.as_ref(), &facts)
        .expect_err("no route to Hawaii");
    assert!(
        err.to_string()
            .contains("no flight or drivable route from Ontario to Honolulu on 2022-03-04"),
        "{err}"
    );
}

#[test]
fn the_assembler_says_what_the_cheapest_plan_costs_when_the_budget_is_short() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let mut t = trip(
        "St. Petersburg",
        Destination::City {
            name: "Rockford".into(),
        },
        "2022-03-16",
        3,
        1,
        HardConstraints::default(),
    );
    t.budget = Some(100.0);
    let c = catalog.as_ref();
    let facts = LocationAgent.run(&t, c, &()).expect("facts");
    let skeletons = PlanningAgent.run(&t, c, &facts).expect("routes");
    let legs: Vec<LegKey> = skeletons
        .iter()
        .flat_map(|s| s.item.legs(&t.origin, &t.dates))
        .collect();
    let cities = vec!["Rockford".to_string()];
    let proposals = Proposals {
        legs: TransportAgent.run(&t, c, &legs).expect("legs"),
        stays: AccommodationAgent
            .run(&t, c, &vec![("Rockford".into(), 2)])
            .expect("stays"),
        meals: DiningAgent.run(&t, c, &cities).expect("meals"),
        activities: ActivityAgent.run(&t, c, &cities).expect("activities"),
        skeletons,
    };
    let err = assemble(&t, &proposals).expect_err("over budget");
    let cheapest = err.cheapest.expect("a cheapest cost");
    assert!(cheapest > 100.0);
    assert!(
        err.reason.starts_with(&format!(
            "the cheapest valid plan costs ${cheapest:.0}; the budget is $100"
        )),
        "{}",
        err.reason
    );
    t.budget = Some(cheapest);
    let plans = assemble(&t, &proposals).expect("a plan at exactly the cheapest cost");
    assert!((plans[0].totals.total - cheapest).abs() < 1e-6);
}

#[test]
fn the_assembler_spends_spare_budget_on_better_stays_of_good_value_only() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    // The cheapest objective's rule (at most twice the cheapest stay); the
    // utility objective spends by utility per dollar (tests/plan_utility.rs).
    let planner = wayfare_engine::orchestrator::Planner::new(catalog.clone())
        .with_default_year(2022)
        .with_objective(wayfare_engine::agents::Objective::Cheapest);
    let outcome = planner.plan_blocking("A 7-day trip for two from Minneapolis covering three cities in Ohio from March 17th to March 23rd, 2022, budget $9,000, with pets; no flights.");
    let trip = TripSpec::from_intent(&outcome.intent).expect("trip");
    let plan = outcome.itinerary.expect("plan");
    for city in plan.visited_cities() {
        let nights = plan
            .days
            .iter()
            .filter(|d| d.city == city && d.accommodation.is_some())
            .count() as u32;
        let cheapest = AccommodationAgent.options(&trip, catalog.as_ref(), &city, nights)[0].cost
            / f64::from(nights);
        let night = plan
            .days
            .iter()
            .find_map(|d| d.accommodation.as_ref().filter(|s| s.city == city))
            .expect("stay")
            .cost;
        assert!(
            night <= 2.0 * cheapest + 1e-9,
            "{city}: ${night} a night vs cheapest ${cheapest}"
        );
    }
}

#[test]
fn activity_visits_attractions_matching_the_interests_first() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let mut t = trip(
        "Atlanta",
        Destination::City {
            name: "New York".into(),
        },
        "2022-03-07",
        3,
        1,
        HardConstraints::default(),
    );
    t.preferences = vec!["museum".into()];
    let route = ActivityAgent.route_for(&t, catalog.as_ref(), "New York");
    let museums = catalog
        .attractions_in("New York")
        .iter()
        .filter(|a| a.name.to_lowercase().contains("museum"))
        .count();
    assert!(museums >= 2);
    assert!(
        route
            .iter()
            .take(museums)
            .all(|a| a.name.to_lowercase().contains("museum")),
        "{:?}",
        route
            .iter()
            .take(museums)
            .map(|a| &a.name)
            .collect::<Vec<_>>()
    );
}

#[test]
fn planning_says_when_a_restriction_is_what_rules_the_trip_out() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    // St. Petersburg → Rockford has flights on these dates but no usable road.
    let c = HardConstraints {
        transport: vec![TransportRestriction::NoFlight],
        ..Default::default()
    };
    let t = trip(
        "St. Petersburg",
        Destination::City {
            name: "Rockford".into(),
        },
        "2022-03-16",
        3,
        1,
        c,
    );
    let facts = LocationAgent.run(&t, catalog.as_ref(), &()).expect("facts");
    let err = PlanningAgent
        .run(&t, catalog.as_ref(), &facts)
        .expect_err("no road");
    assert!(
        err.to_string()
            .contains("allowing flights would make the trip possible"),
        "{err}"
    );
}

#[test]
fn planning_names_the_requirement_no_stay_meets() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let c = HardConstraints {
        room_type: Some(RoomRequirement::SharedRoom),
        house_rules: HouseRule::ALL.to_vec(),
        ..Default::default()
    };
    let t = trip(
        "St. Petersburg",
        Destination::City {
            name: "Rockford".into(),
        },
        "2022-03-16",
        3,
        1,
        c,
    );
    let facts = LocationAgent.run(&t, catalog.as_ref(), &()).expect("facts");
    let err = PlanningAgent
        .run(&t, catalog.as_ref(), &facts)
        .expect_err("no such stay");
    assert_eq!(
        err.to_string(),
        "no stay in Rockford is a shared room allowing parties, smoking, children under 10, pets, visitors bookable for 2 night(s)"
    );
}
