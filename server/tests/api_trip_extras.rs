//! The trip endpoints beyond planning, through the real router over a real
//! runtime, on every backend: `DELETE /api/trips/{id}`,
//! `PUT`/`GET /api/trips/{id}/rating` and `GET /api/trips/{id}/calendar.ics`.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event};
use serde_json::json;
use support::{QUERY, TestApp, TestDb, assert_error};
use wayfare_domain::itinerary::{Itinerary, TravelMode};
use wayfare_domain::trip::TripView;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::RuntimeConfig;
use wayfare_server::api::calendar::trip_calendar;

const PLAN_WITHIN: Duration = Duration::from_secs(60);

/// A trip id nobody made.
fn unknown() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_deleted_trip_is_gone_and_unknown_ones_are_404() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        app.store
            .record_trip_owner(&id, "session")
            .await
            .expect("owner");

        let answer = app
            .call(Method::DELETE, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        assert!(answer.text.is_empty(), "204 has no body: {}", answer.text);
        for path in [
            format!("/api/trips/{id}"),
            format!("/api/trips/{id}/status"),
        ] {
            let answer = app.call(Method::GET, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(
            app.store
                .owned_trips("session", 10)
                .await
                .expect("list")
                .is_empty(),
            "[{}] the owner row went with the trip",
            app.backend
        );

        // Again, an unknown trip and a malformed id: 404.
        for path in [
            format!("/api/trips/{id}"),
            format!("/api/trips/{}", unknown()),
            "/api/trips/not-a-uuid".to_owned(),
        ] {
            let answer = app.call(Method::DELETE, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_trip_is_rated_read_back_and_counted_in_the_metrics() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        app.wait_final(&id, PLAN_WITHIN).await;
        let path = format!("/api/trips/{id}/rating");

        let answer = app.call(Method::GET, &path, None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_rated");

        let body = json!({ "stars": 4, "note": "Great food; the museum, closed.\nStill good." });
        let answer = app.call(Method::PUT, &path, Some(&body.to_string())).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        let answer = app.call(Method::GET, &path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json, body, "[{}]", app.backend);

        // Rated again: replaced; a missing note is no note.
        let answer = app.call(Method::PUT, &path, Some(r#"{"stars": 2}"#)).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        let answer = app.call(Method::GET, &path, None).await;
        assert_eq!(answer.json, json!({ "stars": 2, "note": null }));

        let metrics = app.call(Method::GET, "/metrics", None).await;
        assert_eq!(metrics.status, StatusCode::OK);
        for line in ["wayfare_user_satisfaction 2", "wayfare_ratings_total 1"] {
            assert!(
                metrics.text.lines().any(|l| l == line),
                "[{}] missing {line:?} in\n{}",
                app.backend,
                metrics.text
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_ratings_are_400_or_422_and_unknown_trips_404() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        app.wait_final(&id, PLAN_WITHIN).await;
        let path = format!("/api/trips/{id}/rating");
        let long = "x".repeat(1001);
        for (body, status, code) in [
            (
                json!({ "stars": 0 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 6 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": -3 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 3, "note": long }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 3, "note": "bell\u{7}" }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": "four" }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "stars": 4.5 }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "note": "no stars" }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "stars": 4, "extra": 1 }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (json!([4]), StatusCode::BAD_REQUEST, "bad_request"),
        ] {
            let answer = app.call(Method::PUT, &path, Some(&body.to_string())).await;
            assert_error(&answer, status, code);
        }
        let answer = app.call(Method::PUT, &path, Some("{not json")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
        // Nothing was stored by any of them.
        let answer = app.call(Method::GET, &path, None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_rated");

        for other in [unknown(), "not-a-uuid".to_owned()] {
            let path = format!("/api/trips/{other}/rating");
            let answer = app.call(Method::PUT, &path, Some(r#"{"stars": 5}"#)).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
            let answer = app.call(Method::GET, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_document_describes_the_rating_with_its_bounds() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let doc = app.call(Method::GET, "/api/openapi.json", None).await.json;
    for name in ["Rating", "RatingInput"] {
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(
            schema["properties"]["stars"]["minimum"], 1,
            "{name}: {schema}"
        );
        assert_eq!(
            schema["properties"]["stars"]["maximum"], 5,
            "{name}: {schema}"
        );
        assert_eq!(
            schema["properties"]["note"]["maxLength"], 1000,
            "{name}: {schema}"
        );
        assert_eq!(schema["required"], json!(["stars"]), "{name}: {schema}");
        // Control characters but a newline (U+000A) are refused.
        assert_eq!(
            schema["properties"]["note"]["pattern"],
            r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$",
            "{name}: {schema}"
        );
    }
    let item = &doc["paths"]["/api/trips/{id}/rating"];
    assert!(item["put"].is_object() && item["get"].is_object(), "{item}");
    app.finish().await;
}

/// Legs, meals, attractions and continuous stays (runs of consecutive
/// nights in one place) of a plan, counted from the plan itself.
fn expected_events(itinerary: &Itinerary) -> usize {
    let mut count = 0;
    let mut previous_stay: Option<&str> = None;
    for day in &itinerary.days {
        count += day.transport.len();
        count += day.meals().iter().filter(|(_, m)| m.is_some()).count();
        count += day.attractions.len();
        let stay = day.accommodation.as_ref().map(|s| s.id.as_str());
        if stay.is_some() && stay != previous_stay {
            count += 1;
        }
        previous_stay = stay;
    }
    count
}

async fn ready_trip(app: &TestApp) -> TripView {
    let id = app.submit(QUERY).await;
    let status = app.wait_final(&id, PLAN_WITHIN).await;
    assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
    app.runtime
        .trip(&id)
        .await
        .expect("read")
        .expect("the trip exists")
}

#[tokio::test]
async fn a_ready_trip_exports_one_event_per_item_and_parses_back() {
    for app in TestApp::on_every_backend().await {
        let view = ready_trip(&app).await;
        let id = view.trip_id.clone();
        let itinerary = view.itinerary.as_ref().expect("a plan");
        let answer = app
            .call(Method::GET, &format!("/api/trips/{id}/calendar.ics"), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(
            answer.headers[header::CONTENT_TYPE],
            "text/calendar; charset=utf-8"
        );
        assert_eq!(
            answer.headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"wayfare-trip-{id}.ics\"").as_str()
        );
        assert!(
            answer.text.starts_with("BEGIN:VCALENDAR\r\n"),
            "{}",
            answer.text
        );

        let calendar: Calendar = answer.text.parse().expect("the export parses back");
        let events: Vec<&Event> = calendar.events().collect();
        let expected = expected_events(itinerary);
        assert!(
            expected > 5,
            "a 3-day trip has more than 5 items: {itinerary:?}"
        );
        assert_eq!(events.len(), expected, "[{}]\n{}", app.backend, answer.text);

        // Stable, unique UIDs named after the components.
        let uids: HashSet<&str> = events.iter().filter_map(|e| e.get_uid()).collect();
        assert_eq!(uids.len(), events.len(), "unique UIDs");
        for day in &itinerary.days {
            for leg in &day.transport {
                assert!(uids.contains(format!("{id}-{}@wayfare", leg.id).as_str()));
            }
        }
        let again = app
            .call(Method::GET, &format!("/api/trips/{id}/calendar.ics"), None)
            .await;
        let again: Calendar = again.text.parse().expect("parses");
        let uids_again: HashSet<&str> = again.events().filter_map(|e| e.get_uid()).collect();
        assert_eq!(uids, uids_again, "UIDs are stable across exports");

        // Every event has a start before its end and a summary; meals are
        // at their hours, named after the restaurant.
        for event in &events {
            let (Some(DatePerhapsTime::DateTime(start)), Some(DatePerhapsTime::DateTime(end))) =
                (event.get_start(), event.get_end())
            else {
                panic!("an event without a date-time: {event:?}");
            };
            let (CalendarDateTime::Floating(start), CalendarDateTime::Floating(end)) = (start, end)
            else {
                panic!("times are local to the city (floating): {event:?}");
            };
            assert!(start <= end, "{event:?}");
            assert!(event.get_summary().is_some_and(|s| !s.is_empty()));
            assert!(
                event
                    .get_description()
                    .is_some_and(|d| d.contains("Cost: $")),
                "{event:?}"
            );
        }
        let day2 = &itinerary.days[1];
        if let Some(dinner) = &day2.dinner {
            let event = events
                .iter()
                .find(|e| e.get_uid() == Some(format!("{id}-{}@wayfare", dinner.id).as_str()))
                .expect("the dinner's event");
            assert_eq!(
                event.get_summary(),
                Some(format!("Dinner at {}", dinner.name).as_str())
            );
            let date = day2.date.expect("a dated plan");
            assert_eq!(
                event.get_start(),
                Some(DatePerhapsTime::DateTime(CalendarDateTime::Floating(
                    date.and_hms_opt(19, 0, 0).expect("a time")
                )))
            );
            assert_eq!(event.property_value("LOCATION"), Some(dinner.city.as_str()));
        }
        // A flight is named by its number and its cities.
        for leg in itinerary.days.iter().flat_map(|d| &d.transport) {
            let event = events
                .iter()
                .find(|e| e.get_uid() == Some(format!("{id}-{}@wayfare", leg.id).as_str()))
                .expect("the leg's event");
            let summary = event.get_summary().expect("a summary");
            assert!(
                summary.ends_with(&format!("{} → {}", leg.from, leg.to)),
                "{summary}"
            );
            if leg.mode == TravelMode::Flight
                && let Some(number) = &leg.number
            {
                assert_eq!(
                    summary,
                    format!("Flight {number} {} → {}", leg.from, leg.to)
                );
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn catalog_text_is_escaped_and_reads_back_unchanged() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let mut view = ready_trip(&app).await;
    let tricky = "Bar, Grill; & Café\nSecond line \\ backslash";
    let itinerary = view.itinerary.as_mut().expect("a plan");
    let day = itinerary
        .days
        .iter_mut()
        .find(|d| d.dinner.is_some())
        .expect("a dinner");
    let dinner = day.dinner.as_mut().expect("a dinner");
    dinner.name = tricky.to_owned();
    dinner.city = "Denver, CO; USA".to_owned();
    dinner.reason = "Cheap, close; open late\nand good".to_owned();
    let dinner_id = dinner.id.clone();
    let text = trip_calendar(&view).expect("a calendar");
    assert!(
        text.contains(r"Dinner at Bar\, Grill\; & Café\nSecond line \\ backslash"),
        "{text}"
    );
    assert!(text.contains(r"LOCATION:Denver\, CO\; USA"), "{text}");
    // Every content line ends in CRLF and none is over 75 octets.
    for line in text.split("\r\n") {
        assert!(!line.contains('\n'), "a bare newline: {line:?}");
        assert!(line.len() <= 75, "an unfolded line: {line:?}");
    }
    let calendar: Calendar = text.parse().expect("parses");
    let uid = format!("{}-{dinner_id}@wayfare", view.trip_id);
    let event = calendar
        .events()
        .find(|e| e.get_uid() == Some(uid.as_str()))
        .expect("the dinner");
    assert_eq!(
        event.get_summary(),
        Some(format!("Dinner at {tricky}").as_str())
    );
    assert_eq!(event.property_value("LOCATION"), Some("Denver, CO; USA"));
    assert!(
        event
            .get_description()
            .is_some_and(|d| d.ends_with("Cheap, close; open late\nand good")),
        "{event:?}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_trip_without_a_plan_is_409_and_an_unknown_one_404() {
    let mut config = RuntimeConfig::default();
    config.faults.insert(
        "budget".into(),
        FaultConfig {
            added_latency: Duration::from_secs(3_600),
            ..FaultConfig::default()
        },
    );
    let app = TestApp::start(TestDb::sqlite().await, config).await;
    let id = app.submit(QUERY).await;
    let answer = app
        .call(Method::GET, &format!("/api/trips/{id}/calendar.ics"), None)
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "not_ready");
    for other in [unknown(), "not-a-uuid".to_owned()] {
        let answer = app
            .call(
                Method::GET,
                &format!("/api/trips/{other}/calendar.ics"),
                None,
            )
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    }
    // A view without an itinerary has no calendar.
    let mut view = app
        .runtime
        .trip(&id)
        .await
        .expect("read")
        .expect("the trip");
    view.itinerary = None;
    assert_eq!(trip_calendar(&view), None);
    app.finish().await;
}

/// A request with no dates, sent with `ask`, is kept as a trip in
/// `needs_input` with its questions; answering them over REST plans the same
/// trip. Bad answers are refused naming the field, a stale version is a 409,
/// and a trip that asks nothing takes no answer.
#[tokio::test]
async fn an_incomplete_request_asks_and_its_rest_answer_plans_the_same_trip() {
    for app in TestApp::on_every_backend().await {
        let undated = r#"{"query": "A 3-day trip for two from Seattle to Denver, budget $2,500."}"#;
        let refused = app
            .call(Method::POST, "/api/trips/plan", Some(undated))
            .await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "unplannable");

        let asking = r#"{"query": "A 3-day trip for two from Seattle to Denver, budget $2,500.", "ask": true}"#;
        let accepted = app
            .call(Method::POST, "/api/trips/plan", Some(asking))
            .await;
        assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
        assert_eq!(accepted.json["status"], "needs_input", "{}", accepted.text);
        let id = accepted.json["trip_id"].as_str().expect("an id").to_owned();
        let trip = app
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(trip.json["status"], "needs_input");
        let questions = trip.json["questions"].as_array().expect("questions");
        assert!(
            questions
                .iter()
                .any(|q| q.as_str().is_some_and(|q| q.contains("start"))),
            "[{}] {questions:?}",
            app.backend
        );
        let version = trip.json["version"].as_u64().expect("a version");
        let path = format!("/api/trips/{id}/answer");

        let bad = json!({"expected_version": version, "answers": {"start_date": "2027-02-30"}});
        let answer = app.call(Method::POST, &path, Some(&bad.to_string())).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(answer.text.contains("start_date"), "{}", answer.text);
        let stale =
            json!({"expected_version": version + 7, "answers": {"start_date": "2027-03-12"}});
        let answer = app
            .call(Method::POST, &path, Some(&stale.to_string()))
            .await;
        assert_error(&answer, StatusCode::CONFLICT, "version_conflict");
        let empty = json!({"expected_version": version, "answers": {}});
        let answer = app
            .call(Method::POST, &path, Some(&empty.to_string()))
            .await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");

        let good = json!({"expected_version": version, "answers": {"start_date": "2027-03-12"}});
        let answer = app.call(Method::POST, &path, Some(&good.to_string())).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json["trip_id"], id.as_str(), "the same trip");
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        let planned = app
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(planned.json["intent"]["start_date"], "2027-03-12");

        // A ready trip asks nothing.
        let version = planned.json["version"].as_u64().expect("a version");
        let again = json!({"expected_version": version, "answers": {"start_date": "2027-03-19"}});
        let answer = app
            .call(Method::POST, &path, Some(&again.to_string()))
            .await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
        app.finish().await;
    }
}
