//! A long-running runtime reads dates from the day a request arrives, not
//! from the day it started: a date without a year is the next one from
//! today, and the parse and request caches do not hand yesterday's reading
//! to today's request.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::clock::{Clock, TokioClock};
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig};

async fn planned_start(rt: &Runtime<MemoryRuntimeStore>, query: &str) -> NaiveDate {
    let id = rt
        .submit(query.to_owned(), TripOverrides::default())
        .await
        .expect("accepted")
        .trip_id;
    for _ in 0..2_000 {
        let trip = rt.trip(&id).await.unwrap().expect("the trip");
        if trip.status != TripStatus::Planning {
            assert_eq!(trip.status, TripStatus::Ready, "{}", trip.explanation);
            let start = trip
                .intent
                .and_then(|i| i.start_date)
                .expect("a start date");
            let first_day = trip.itinerary.expect("a plan").days[0].date;
            assert_eq!(
                first_day,
                Some(start.get()),
                "the plan is on the dates read"
            );
            return start.get();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("trip {id} still planning");
}

#[tokio::test(start_paused = true)]
async fn a_date_without_a_year_is_read_from_the_day_the_request_arrives() {
    let clock = Arc::new(TokioClock::new());
    let mut config = RuntimeConfig::default();
    config.orchestrator.run_agents_on_blocking_pool = false;
    config.orchestrator.default_year = None;
    let rt = Runtime::start(
        config,
        MemoryRuntimeStore::new(),
        Arc::new(MemoryCatalog::new(demo_catalog().expect("demo catalog"))),
        clock.clone(),
    )
    .await
    .expect("runtime");
    // Ten days from now, written without a year.
    let today = clock.now().date_naive();
    let day = today + chrono::Days::new(10);
    let query = format!(
        "A 3-day trip for two from Seattle to Denver from {} {} to {} {}, budget $3,000.",
        day.format("%B"),
        day.day(),
        (day + chrono::Days::new(2)).format("%B"),
        (day + chrono::Days::new(2)).day(),
    );
    assert_eq!(planned_start(&rt, &query).await, day);
    // Twenty days later that day has passed: the same words mean next year.
    tokio::time::advance(Duration::from_secs(20 * 24 * 3600)).await;
    let next = planned_start(&rt, &query).await;
    assert_eq!(
        (next.year(), next.month(), next.day()),
        (day.year() + 1, day.month(), day.day()),
        "read on the new day, not served from the caches"
    );
    rt.shutdown().await;
}
