//! Changing any component of a ready plan through the runtime (in-memory
//! store, demo catalog): attractions and transport legs listed, replaced and
//! rerolled; only the component (and what its times affect) changes; the
//! verdict still passes; what would break a rule is refused.

use std::sync::Arc;
use std::time::Duration;

use wayfare_domain::intent::{HardConstraints, TransportRestriction};
use wayfare_domain::itinerary::{Itinerary, TravelMode};
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::{Change, TripStatus, TripStatusView, TripView};
use wayfare_engine::agents::TripSpec;
use wayfare_engine::assemble::utility::Context;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::TokioClock;
use wayfare_engine::runtime::{MemoryRuntimeStore, ModifyError, Runtime, RuntimeConfig};

const DENVER: &str =
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";
/// Monday to Wednesday: both daily and Mon|Wed flights fly; a road too.
const SPOKANE_NO_DRIVING: &str = "A 3-day trip for two from Seattle to Spokane from June 7th to June 9th, 2027, budget $3,000, no self-driving.";
const SPOKANE_NO_FLIGHTS: &str = "A 3-day trip for two from Seattle to Spokane from June 7th to June 9th, 2027, budget $3,000, no flights.";

type Rt = Arc<Runtime<MemoryRuntimeStore>>;

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

async fn start() -> Rt {
    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    c.orchestrator.retry_initial_ms = 50;
    Runtime::start(
        c,
        MemoryRuntimeStore::new(),
        catalog(),
        Arc::new(TokioClock::new()),
    )
    .await
    .expect("the runtime starts")
}

async fn wait_for(rt: &Rt, id: &str, done: impl Fn(&TripStatusView) -> bool) -> TripStatusView {
    for _ in 0..20_000 {
        let status = rt.status(id).await.unwrap().expect("the trip exists");
        if done(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting on trip {id}");
}

async fn ready_trip(rt: &Rt, query: &str) -> (String, TripView) {
    let id = rt
        .submit(query.to_string(), TripOverrides::default())
        .await
        .expect("accepted")
        .trip_id;
    let status = wait_for(rt, &id, |s| s.status != TripStatus::Planning).await;
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(status.status, TripStatus::Ready, "{}", view.explanation);
    (id, view)
}

fn plan(view: &TripView) -> &Itinerary {
    view.itinerary.as_ref().expect("a plan")
}

/// Every component of a plan as (id, JSON), to compare what changed.
fn components(it: &Itinerary) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for day in &it.days {
        for leg in &day.transport {
            out.push((leg.id.clone(), serde_json::to_value(leg).unwrap()));
        }
        for item in [&day.breakfast, &day.lunch, &day.dinner]
            .into_iter()
            .flatten()
            .chain(&day.attractions)
            .chain(&day.accommodation)
        {
            out.push((
                format!("{}#{}", item.id, day.day),
                serde_json::to_value(item).unwrap(),
            ));
        }
    }
    out
}

/// The ids of the components that differ between two plans.
fn changed(before: &Itinerary, after: &Itinerary) -> Vec<String> {
    let (a, b) = (components(before), components(after));
    let mut ids: Vec<String> = a
        .iter()
        .filter(|x| !b.contains(x))
        .chain(b.iter().filter(|x| !a.contains(x)))
        .map(|(id, _)| id.split('#').next().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn passed(view: &TripView) -> bool {
    view.verdict.as_ref().is_some_and(|v| v.passed()) && plan(view).verdict.passed()
}

#[tokio::test(start_paused = true)]
async fn an_attraction_is_listed_replaced_and_rerolled_alone() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, DENVER).await;
    let before = plan(&view).clone();
    let day = before
        .days
        .iter()
        .find(|d| !d.attractions.is_empty() && d.from.is_none())
        .expect("a full day with a visit");
    let target = day.attractions[0].clone();
    let in_plan: Vec<String> = before
        .days
        .iter()
        .flat_map(|d| &d.attractions)
        .filter(|a| a.id != target.id || a.name != target.name)
        .map(|a| a.name.clone())
        .collect();

    let alternatives = rt.alternatives(&id, &target.id).await.unwrap();
    let current: Vec<_> = alternatives.iter().filter(|a| a.current).collect();
    assert_eq!(current.len(), 1, "{alternatives:?}");
    assert_eq!(current[0].name, target.name);
    assert!(alternatives.len() >= 3, "{alternatives:?}");
    for a in &alternatives {
        assert!(
            !in_plan.contains(&a.name),
            "{} is already in the plan",
            a.name
        );
        assert!(a.reason.ends_with('.'), "a sentence: {}", a.reason);
    }
    let pick = alternatives
        .iter()
        .find(|a| !a.current)
        .expect("another sight")
        .clone();
    let after = rt
        .modify(
            &id,
            view.version,
            vec![Change::Replace {
                component_id: target.id.clone(),
                with: pick.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(after.status, TripStatus::Ready, "{}", after.explanation);
    assert!(passed(&after), "{:?}", after.verdict);
    assert_eq!(changed(&before, plan(&after)), vec![target.id.clone()]);
    let now = plan(&after).days[(day.day - 1) as usize].attractions[0].clone();
    assert_eq!(now.name, pick.name);
    assert_eq!(now.source_id.as_deref(), Some(pick.id.as_str()));
    // The route map follows the swap: the new sight is located, the old one is gone.
    let after_day = &plan(&after).days[(day.day - 1) as usize];
    assert!(after_day.point_of(&now).is_some(), "{:?}", after_day.coords);
    assert_ne!(after_day.point_of(&now), day.point_of(&target));
    if let Some(old) = &target.source_id {
        assert!(
            !after_day.coords.contains_key(old),
            "{:?}",
            after_day.coords
        );
    }

    // A reroll takes the next one after the current choice.
    let listed = rt.alternatives(&id, &target.id).await.unwrap();
    let at = listed.iter().position(|a| a.current).expect("current");
    let next = listed
        .get(at + 1)
        .or_else(|| listed.first())
        .expect("one more")
        .clone();
    let rerolled = rt
        .modify(
            &id,
            after.version,
            vec![Change::Reroll {
                component_id: target.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert!(passed(&rerolled), "{}", rerolled.explanation);
    let now = &plan(&rerolled).days[(day.day - 1) as usize].attractions[0];
    assert_eq!(now.name, next.name);
    assert_eq!(
        changed(plan(&after), plan(&rerolled)),
        vec![target.id.clone()]
    );

    // A sight already in the plan is not an alternative; nor is nonsense.
    if let Some(other) = before
        .days
        .iter()
        .flat_map(|d| &d.attractions)
        .find(|a| a.name != target.name && a.source_id.is_some())
    {
        let err = rt
            .modify(
                &id,
                rerolled.version,
                vec![Change::Replace {
                    component_id: target.id.clone(),
                    with: other.source_id.clone().unwrap(),
                }],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ModifyError::Invalid(_)), "{err:?}");
    }
    for bad in ["d1.attraction9", "d9.attraction1", "d1.attraction0"] {
        assert!(
            matches!(
                rt.alternatives(&id, bad).await.unwrap_err(),
                ModifyError::Invalid(_)
            ),
            "{bad}"
        );
    }
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn meal_and_stay_alternatives_carry_their_cost_against_the_current_choice() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, DENVER).await;
    let it = plan(&view);
    let dinner = it.days[1].dinner.clone().expect("a dinner on day 2");
    let others: Vec<String> = it
        .days
        .iter()
        .flat_map(|d| [&d.breakfast, &d.lunch, &d.dinner])
        .flatten()
        .filter(|m| m.id != dinner.id)
        .map(|m| m.name.clone())
        .collect();
    let meals = rt.alternatives(&id, "d2.dinner").await.unwrap();
    assert!(meals.len() > 1, "{meals:?}");
    for a in &meals {
        assert!(!others.contains(&a.name), "{} is another meal's", a.name);
        let delta = if a.current { 0.0 } else { a.cost - dinner.cost };
        assert!((a.cost_delta - delta).abs() < 1e-9, "{a:?}");
        assert!(a.reason.ends_with('.'), "a sentence: {}", a.reason);
        // How it compares with the dinner in the plan ("rated 4.7 vs 4.3, $18 more").
        assert!(a.current || a.reason.contains(" vs "), "{}", a.reason);
    }
    let stay = it.days[0].accommodation.clone().expect("a stay");
    let nights = it
        .days
        .iter()
        .filter(|d| d.accommodation.as_ref().is_some_and(|a| a.id == stay.id))
        .count() as f64;
    let stays = rt.alternatives(&id, &stay.id).await.unwrap();
    assert!(stays.iter().any(|a| !a.current), "{stays:?}");
    for a in &stays {
        let delta = if a.current {
            0.0
        } else {
            a.cost - stay.cost * nights
        };
        assert!((a.cost_delta - delta).abs() < 1e-6, "{a:?}");
        assert!(a.current || a.reason.contains(" vs "), "{}", a.reason);
    }
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_flight_is_listed_replaced_and_rerolled_with_the_budget_and_the_verifier_kept() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, SPOKANE_NO_DRIVING).await;
    let before = plan(&view).clone();
    let leg = before.days[0].transport[0].clone();
    assert_eq!(leg.id, "d1.leg1");

    let alternatives = rt.alternatives(&id, "d1.leg1").await.unwrap();
    assert!(alternatives.iter().any(|a| a.current), "{alternatives:?}");
    // Two flights and a taxi; never self-driving (the request forbids it).
    assert_eq!(alternatives.len(), 3, "{alternatives:?}");
    assert!(
        alternatives
            .iter()
            .all(|a| !a.id.starts_with("self-driving"))
    );
    assert!(alternatives.iter().any(|a| a.id.starts_with("taxi")));
    let now = alternatives.iter().find(|a| a.current).expect("current");
    assert_eq!(now.cost, leg.cost);
    for a in &alternatives {
        let delta = if a.current { 0.0 } else { a.cost - leg.cost };
        assert!((a.cost_delta - delta).abs() < 1e-9, "{a:?}");
        assert!(a.reason.ends_with('.'), "a sentence: {}", a.reason);
    }
    // Best for this trip first: the meals and visits a leg's times leave
    // room for (worth the utility's travel-slot value each), less its price.
    let intent = view.intent.clone().expect("an intent");
    let spec = TripSpec::from_intent(&intent).expect("plannable");
    let value = Context::new(&spec).travel_slot_value();
    let room = |reason: &str| -> f64 {
        reason
            .split("time for ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0)
    };
    let scores: Vec<f64> = alternatives
        .iter()
        .map(|a| room(&a.reason) * value - a.cost)
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1] - 1e-9),
        "best first: {scores:?} {alternatives:#?}"
    );

    let pick = alternatives
        .iter()
        .find(|a| !a.current && a.id.starts_with("flight"))
        .expect("another flight")
        .clone();
    let after = rt
        .modify(
            &id,
            view.version,
            vec![Change::Replace {
                component_id: "d1.leg1".into(),
                with: pick.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(after.status, TripStatus::Ready, "{}", after.explanation);
    assert!(passed(&after), "{:?}", after.verdict);
    let new_leg = &plan(&after).days[0].transport[0];
    assert_eq!(new_leg.mode, TravelMode::Flight);
    assert_ne!(new_leg.number, leg.number);
    assert!((new_leg.cost - pick.cost).abs() < 1e-9);
    // Only day 1 can change: the leg, and the meals or visits its times move.
    for id in changed(&before, plan(&after)) {
        assert!(id.starts_with("d1."), "{id} changed");
    }
    assert!(changed(&before, plan(&after)).contains(&"d1.leg1".to_string()));
    let delta = plan(&after).totals.transport - before.totals.transport;
    assert!((delta - (pick.cost - leg.cost)).abs() < 1e-6, "{delta}");

    // A reroll takes the next option after the current one.
    let listed = rt.alternatives(&id, "d1.leg1").await.unwrap();
    let at = listed.iter().position(|a| a.current).expect("current");
    let next = listed
        .get(at + 1)
        .or_else(|| listed.first())
        .expect("one more")
        .clone();
    let rerolled = rt
        .modify(
            &id,
            after.version,
            vec![Change::Reroll {
                component_id: "d1.leg1".into(),
            }],
        )
        .await
        .unwrap();
    assert!(passed(&rerolled), "{}", rerolled.explanation);
    let now = rt.alternatives(&id, "d1.leg1").await.unwrap();
    assert_eq!(
        now.iter().find(|a| a.current).map(|a| a.id.clone()),
        Some(next.id.clone())
    );

    // Unknown legs and options are refused.
    for (component, with) in [
        ("d1.leg2", "x"),
        ("d2.leg1", "x"),
        ("d1.leg1", "flight:nope"),
    ] {
        let err = rt
            .modify(
                &id,
                rerolled.version,
                vec![Change::Replace {
                    component_id: component.into(),
                    with: with.into(),
                }],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, ModifyError::Invalid(_)),
            "{component}: {err:?}"
        );
    }
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_earlier_flight_home_drops_the_meals_and_visits_it_leaves_no_time_for() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, SPOKANE_NO_DRIVING).await;
    let before = plan(&view).clone();
    let last = before.days.last().expect("a last day").clone();
    let leg = last.transport[0].clone();
    let component = leg.id.clone();
    // The cheap afternoon flight leaves time for a meal in Spokane first.
    let eaten: Vec<String> = [&last.breakfast, &last.lunch, &last.dinner]
        .into_iter()
        .flatten()
        .filter(|m| m.city == "Spokane")
        .map(|m| m.id.clone())
        .collect();
    assert!(
        !eaten.is_empty(),
        "no meal before the flight home: {last:?}"
    );
    let early = rt
        .alternatives(&id, &component)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| !a.current && a.id.starts_with("flight"))
        .find(|a| a.name.contains(" 07:"))
        .expect("a morning flight home");
    let after = rt
        .modify(
            &id,
            view.version,
            vec![Change::Replace {
                component_id: component.clone(),
                with: early.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(after.status, TripStatus::Ready, "{}", after.explanation);
    assert!(passed(&after), "{:?}", after.verdict);
    let day = plan(&after).days.last().unwrap().clone();
    for id in &eaten {
        assert!(
            [&day.breakfast, &day.lunch, &day.dinner]
                .into_iter()
                .flatten()
                .all(|m| &m.id != id),
            "{id} is still planned before a 07:xx flight"
        );
    }
    assert!(
        day.transport[0].reason.contains("No longer fits"),
        "{}",
        day.transport[0].reason
    );
    let changed = changed(&before, plan(&after));
    assert!(changed.contains(&component));
    let prefix = format!("d{}.", last.day);
    assert!(
        changed.iter().all(|c| c.starts_with(&prefix)),
        "{changed:?}"
    );
    assert!(plan(&after).totals.meals < before.totals.meals);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_leg_that_would_break_a_rule_is_refused_and_nothing_is_recorded() {
    let rt = start().await;
    // No flights: self-driving (the cheapest) both ways; a taxi there
    // would mix with the drive back, and no flight is offered at all.
    let (id, view) = ready_trip(&rt, SPOKANE_NO_FLIGHTS).await;
    let legs: Vec<_> = plan(&view)
        .days
        .iter()
        .flat_map(|d| d.transport.clone())
        .collect();
    assert!(
        legs.iter().all(|l| l.mode == TravelMode::SelfDriving),
        "{legs:?}"
    );
    let alternatives = rt.alternatives(&id, "d1.leg1").await.unwrap();
    assert!(
        alternatives
            .iter()
            .all(|a| a.id.starts_with("self-driving")),
        "{alternatives:?}"
    );
    let taxi = format!(
        "taxi:{}",
        legs[0].source_id.clone().expect("the route's record")
    );
    let err = rt
        .modify(
            &id,
            view.version,
            vec![Change::Replace {
                component_id: "d1.leg1".into(),
                with: taxi,
            }],
        )
        .await
        .unwrap_err();
    let ModifyError::Invalid(why) = err else {
        panic!("{err:?}")
    };
    assert!(why.contains("self-driving"), "{why}");
    let err = rt
        .modify(
            &id,
            view.version,
            vec![Change::Reroll {
                component_id: "d1.leg1".into(),
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ModifyError::Invalid(_)), "{err:?}");
    let unchanged = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(unchanged.version, view.version, "nothing was recorded");
    assert_eq!(unchanged.itinerary, view.itinerary);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_replacement_over_the_budget_is_refused_with_the_figures() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, SPOKANE_NO_DRIVING).await;
    let total = plan(&view).totals.total;
    // Tighten the budget to the plan's cost: any dearer leg breaks it.
    let tight = rt
        .modify(
            &id,
            view.version,
            vec![Change::Budget {
                value: wayfare_domain::bounds::Budget::try_from(total.ceil() + 1.0).unwrap(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(tight.status, TripStatus::Ready, "{}", tight.explanation);
    let spent = plan(&tight).totals.total;
    let leg_cost = plan(&tight).days[0].transport[0].cost;
    let dearer = rt
        .alternatives(&id, "d1.leg1")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.cost - leg_cost > total.ceil() + 1.0 - spent)
        .expect("a dearer option");
    let err = rt
        .modify(
            &id,
            tight.version,
            vec![Change::Replace {
                component_id: "d1.leg1".into(),
                with: dearer.id.clone(),
            }],
        )
        .await
        .unwrap_err();
    let ModifyError::Invalid(why) = err else {
        panic!("{err:?}")
    };
    assert!(why.contains("budget"), "{why}");
    assert_eq!(rt.trip(&id).await.unwrap().unwrap().version, tight.version);
    rt.shutdown().await;
}

// ----- rules -----

/// Adding and removing a rule re-plans the whole trip under the new set;
/// a set no plan can meet is rolled back with the reason, the trip as it
/// was.
#[tokio::test(start_paused = true)]
async fn a_rule_added_or_removed_replans_the_trip_under_the_new_set() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, SPOKANE_NO_DRIVING).await;
    let modes = |v: &TripView| -> Vec<TravelMode> {
        plan(v)
            .days
            .iter()
            .flat_map(|d| d.transport.iter().map(|l| l.mode))
            .collect()
    };
    assert!(!modes(&view).contains(&TravelMode::SelfDriving));
    let mut rules = view.intent.clone().expect("an intent").constraints;
    assert_eq!(rules.transport, [TransportRestriction::NoSelfDriving]);
    rules.transport = vec![TransportRestriction::NoFlight];
    assert_eq!(
        rt.preview(
            &id,
            vec![Change::Constraints {
                value: rules.clone()
            }]
        )
        .await
        .unwrap()
        .first()
        .map(String::as_str),
        Some("planning"),
        "a rule re-plans from the route on"
    );
    let swapped = rt
        .modify(
            &id,
            view.version,
            vec![Change::Constraints {
                value: rules.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(swapped.status, TripStatus::Ready, "{}", swapped.explanation);
    assert!(passed(&swapped), "{:?}", swapped.verdict);
    assert_eq!(swapped.intent.as_ref().unwrap().constraints, rules);
    assert!(!modes(&swapped).is_empty());
    assert!(
        !modes(&swapped).contains(&TravelMode::Flight),
        "{:?}",
        modes(&swapped)
    );

    // Removing every rule: any mode again, and still a valid plan.
    let free = rt
        .modify(
            &id,
            swapped.version,
            vec![Change::Constraints {
                value: HardConstraints::default(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(free.status, TripStatus::Ready, "{}", free.explanation);
    assert!(passed(&free));
    assert!(
        free.intent
            .as_ref()
            .unwrap()
            .constraints
            .transport
            .is_empty()
    );
    rt.shutdown().await;
}

/// Seattle to Denver has no road in the demo catalog: ruling out flights
/// leaves no plan, and the change is rolled back with that reason.
#[tokio::test(start_paused = true)]
async fn a_rule_no_plan_can_meet_is_rolled_back_with_the_reason() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, DENVER).await;
    let mut rules = view.intent.clone().expect("an intent").constraints;
    rules.transport.push(TransportRestriction::NoFlight);
    let outcome = rt
        .modify(
            &id,
            view.version,
            vec![Change::Constraints { value: rules }],
        )
        .await;
    let after = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(after.status, TripStatus::Ready);
    assert_eq!(
        after.itinerary, view.itinerary,
        "the plan is the one before"
    );
    assert_eq!(
        after.intent.as_ref().unwrap().constraints,
        view.intent.as_ref().unwrap().constraints,
        "and so are its rules"
    );
    let explanation = outcome.expect("a rolled-back change answers").explanation;
    assert!(
        explanation.starts_with("Modification rolled back")
            && explanation.contains("rules them out"),
        "{explanation}"
    );
    rt.shutdown().await;
}

// ----- dry runs -----

#[tokio::test(start_paused = true)]
async fn a_preview_names_what_would_be_replanned_and_writes_nothing() {
    let rt = start().await;
    let (id, view) = ready_trip(&rt, SPOKANE_NO_DRIVING).await;
    let budget = wayfare_domain::bounds::Budget::try_from(2_500.0).unwrap();
    assert_eq!(
        rt.preview(&id, vec![Change::Budget { value: budget }])
            .await
            .unwrap(),
        vec!["budget", "verifier"]
    );
    assert_eq!(
        rt.preview(
            &id,
            vec![Change::Travellers {
                value: wayfare_domain::bounds::Travellers::ONE
            }]
        )
        .await
        .unwrap(),
        vec!["transport", "accommodation", "dining", "budget", "verifier"]
    );
    let pick = rt
        .alternatives(&id, "d1.leg1")
        .await
        .unwrap()
        .into_iter()
        .find(|a| !a.current)
        .expect("another option");
    let replan = rt
        .preview(
            &id,
            vec![Change::Replace {
                component_id: "d1.leg1".into(),
                with: pick.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(replan.first().map(String::as_str), Some("d1.leg1"));
    assert_eq!(replan.last().map(String::as_str), Some("verifier"));
    assert!(
        replan[1..replan.len() - 1]
            .iter()
            .all(|c| c.starts_with("d1.")),
        "{replan:?}"
    );
    assert!(matches!(
        rt.preview(
            &id,
            vec![Change::Reroll {
                component_id: "d1.teleport".into()
            }]
        )
        .await
        .unwrap_err(),
        ModifyError::Invalid(_)
    ));
    let after = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(after.version, view.version, "nothing was written");
    assert_eq!(after.itinerary, view.itinerary);
    rt.shutdown().await;
}

// ----- trips that ask -----

/// No dates and no budget: the parser asks for both.
const UNDATED: &str = "A 3-day trip for two from Seattle to Denver.";

fn answer(json: serde_json::Value) -> TripOverrides {
    serde_json::from_value(json).expect("valid overrides")
}

#[tokio::test(start_paused = true)]
async fn an_incomplete_request_asks_and_its_answers_plan_the_same_trip() {
    let rt = start().await;
    let asked = rt
        .submit_or_ask(UNDATED.into(), TripOverrides::default())
        .await
        .expect("recorded");
    assert_eq!(asked.status, TripStatus::NeedsInput);
    let id = asked.trip_id;
    let view = rt.trip(&id).await.unwrap().expect("recorded");
    assert_eq!(view.status, TripStatus::NeedsInput);
    assert!(view.itinerary.is_none());
    assert_eq!(view.questions.len(), 2, "{:?}", view.questions);
    assert!(view.questions.iter().any(|q| q.contains("start")));
    assert!(view.questions.iter().any(|q| q.contains("budget")));

    // A stale version conflicts; half an answer asks the rest.
    assert!(matches!(
        rt.answer(
            &id,
            view.version - 1,
            answer(serde_json::json!({"budget": 3000}))
        )
        .await
        .unwrap_err(),
        ModifyError::Conflict { .. }
    ));
    let again = rt
        .answer(
            &id,
            view.version,
            answer(serde_json::json!({"start_date": "2027-06-05"})),
        )
        .await
        .unwrap();
    assert_eq!(again.status, TripStatus::NeedsInput);
    assert_eq!(again.questions.len(), 1, "{:?}", again.questions);
    assert!(
        again.questions[0].contains("budget"),
        "{:?}",
        again.questions
    );

    let planning = rt
        .answer(
            &id,
            again.version,
            answer(serde_json::json!({"budget": 3000})),
        )
        .await
        .unwrap();
    assert_eq!(planning.status, TripStatus::Planning);
    assert_eq!(planning.trip_id, id);
    let status = wait_for(&rt, &id, |s| s.status != TripStatus::Planning).await;
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(status.status, TripStatus::Ready, "{}", view.explanation);
    assert!(passed(&view));
    let intent = view.intent.expect("an intent");
    assert_eq!(
        intent.start_date.map(|d| d.to_string()).as_deref(),
        Some("2027-06-05")
    );
    assert_eq!(intent.budget.map(f64::from), Some(3000.0));
    assert!(view.questions.is_empty(), "{:?}", view.questions);

    // A ready trip takes no answer; an unknown one is not found.
    let refused = rt
        .answer(
            &id,
            view.version,
            answer(serde_json::json!({"budget": 2000})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ModifyError::Invalid(why) if why.contains("ready")),
        "{refused:?}"
    );
    assert_eq!(
        rt.answer(
            "00000000-0000-4000-8000-000000000000",
            1,
            answer(serde_json::json!({"budget": 2000}))
        )
        .await
        .unwrap_err(),
        ModifyError::NotFound
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_complete_request_is_planned_at_once_and_submit_still_refuses_what_asks() {
    let rt = start().await;
    let planned = rt
        .submit_or_ask(DENVER.into(), TripOverrides::default())
        .await
        .unwrap();
    assert_ne!(planned.status, TripStatus::NeedsInput);
    assert!(matches!(
        rt.submit(UNDATED.into(), TripOverrides::default()).await,
        Err(wayfare_engine::runtime::SubmitError::Unplannable { .. })
    ));
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_answered_trip_is_planned_after_a_restart() {
    let store = MemoryRuntimeStore::new();
    let mut slow = RuntimeConfig::default();
    slow.orchestrator.run_agents_on_blocking_pool = false;
    slow.faults.insert(
        "location".into(),
        wayfare_engine::resilience::FaultConfig {
            added_latency: Duration::from_secs(3_600),
            ..Default::default()
        },
    );
    let first = Runtime::start(slow, store.clone(), catalog(), Arc::new(TokioClock::new()))
        .await
        .unwrap();
    let id = first
        .submit_or_ask(UNDATED.into(), TripOverrides::default())
        .await
        .unwrap()
        .trip_id;
    let version = first.trip(&id).await.unwrap().unwrap().version;
    let view = first
        .answer(
            &id,
            version,
            answer(serde_json::json!({"start_date": "2027-06-05", "budget": 3000})),
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Planning);
    first.shutdown().await;

    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    let second = Runtime::start(c, store, catalog(), Arc::new(TokioClock::new()))
        .await
        .unwrap();
    let status = wait_for(&second, &id, |s| s.status != TripStatus::Planning).await;
    assert_eq!(status.status, TripStatus::Ready);
    let kinds: Vec<String> = second
        .events(&id, 0)
        .await
        .unwrap()
        .expect("the trip")
        .0
        .into_iter()
        .map(|e| e.r#type)
        .collect();
    assert!(kinds.contains(&"needs_input".to_string()), "{kinds:?}");
    second.shutdown().await;
}
