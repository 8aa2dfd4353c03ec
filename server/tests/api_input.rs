//! Input that reached too far (issue 12, items 4–6), through the real router
//! on every backend: overrides and changes out of range are a 422 naming
//! the field, never a panic, a 500 or seconds of work; control characters
//! (NUL above all: PostgreSQL cannot store it) are refused the same way on
//! SQLite and PostgreSQL; a dollar amount is never read as a year.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{QUERY, TestApp, assert_error};

const PLAN_WITHIN: Duration = Duration::from_secs(60);

async fn plan(app: &TestApp, body: Value) -> support::Answer {
    app.call(Method::POST, "/api/trips/plan", Some(&body.to_string()))
        .await
}

#[tokio::test]
async fn overrides_out_of_range_are_a_422_naming_the_field() {
    for app in TestApp::on_every_backend().await {
        for (overrides, field) in [
            (json!({ "days": 4_294_967_295u64 }), "overrides.days"),
            (json!({ "days": 94_000_000 }), "overrides.days"),
            (json!({ "days": 0 }), "overrides.days"),
            (
                json!({ "start_date": "+262142-12-30" }),
                "overrides.start_date",
            ),
            (
                json!({ "start_date": "0000-01-01" }),
                "overrides.start_date",
            ),
            (
                json!({ "start_date": "9999-12-31" }),
                "overrides.start_date",
            ),
            (json!({ "people": 0 }), "overrides.people"),
            (json!({ "travellers": 21 }), "overrides.people"),
            (json!({ "budget": -1 }), "overrides.budget"),
            (json!({ "budget": 1e300 }), "overrides.budget"),
            (json!({ "origin": "Seattle\u{0}" }), "overrides.origin"),
        ] {
            let started = Instant::now();
            let answer = plan(&app, json!({ "query": QUERY, "overrides": overrides })).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
            let message = answer.json["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with(field),
                "[{}] {overrides}: {message}",
                app.backend
            );
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "[{}] {overrides} took {:?}",
                app.backend,
                started.elapsed()
            );
        }
        // A wrong shape is still a malformed body.
        for overrides in [
            json!({ "days": "four" }),
            json!({ "days": 2.5 }),
            json!({ "no_such_field": 1 }),
            // Not an object: serde would read an array by position.
            json!([null, null]),
            json!([]),
            json!("days=3"),
            json!(3),
        ] {
            let answer = plan(&app, json!({ "query": QUERY, "overrides": overrides })).await;
            assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
        }
        // Values in range still win over the text.
        let answer = plan(
            &app,
            json!({ "query": QUERY, "overrides": { "budget": 3000, "travellers": 1 } }),
        )
        .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        let id = answer.json["trip_id"].as_str().expect("trip id").to_owned();
        let trip = app
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(trip.json["intent"]["budget"], 3000.0, "{}", trip.text);
        assert_eq!(trip.json["intent"]["people"], 1, "{}", trip.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn changes_out_of_range_are_a_422_and_never_panic() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "{status}");
        let version = status["version"].as_u64().expect("version");
        let uri = format!("/api/trips/{id}/modify");
        for (change, field) in [
            (
                json!({ "kind": "dates", "start": "+262142-12-30" }),
                "start date",
            ),
            (
                json!({ "kind": "dates", "start": "9999-12-31" }),
                "start date",
            ),
            (json!({ "kind": "travellers", "value": 0 }), "travellers"),
            (json!({ "kind": "budget", "value": -1 }), "budget"),
            (
                json!({ "kind": "reroll", "component_id": "d1.dinner\u{0}" }),
                "U+0000",
            ),
        ] {
            let body = json!({ "expected_version": version, "changes": [change] }).to_string();
            let answer = app.call(Method::PUT, &uri, Some(&body)).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
            let message = answer.json["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(field),
                "[{}] {change}: {message}",
                app.backend
            );
        }
        // Nothing was applied: the trip is where it was.
        let after = app
            .call(Method::GET, &format!("/api/trips/{id}/status"), None)
            .await;
        assert_eq!(after.json["version"], version, "{}", after.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn control_characters_in_the_query_are_a_422_on_every_backend() {
    for app in TestApp::on_every_backend().await {
        for bad in ['\u{0}', '\u{1b}', '\u{7f}', '\u{85}'] {
            let query = format!("{QUERY}{bad} more");
            let answer = plan(&app, json!({ "query": query })).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
            let message = answer.json["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(&format!("U+{:04X}", u32::from(bad))),
                "[{}] {message}",
                app.backend
            );
        }
        // Line breaks and tabs are ordinary text.
        let answer = plan(&app, json!({ "query": format!("{QUERY}\r\n\tThanks!") })).await;
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "[{}] {}",
            app.backend,
            answer.text
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_dollar_amount_is_not_a_year_and_an_absurd_budget_is_a_question() {
    for app in TestApp::on_every_backend().await {
        let query = "Plan a 3-day trip from Seattle to Denver starting March 12th, budget $2000 for 2 people.";
        let answer = plan(&app, json!({ "query": query })).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        let id = answer.json["trip_id"].as_str().expect("trip id").to_owned();
        let trip = app
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        let intent = &trip.json["intent"];
        assert_ne!(intent["start_date"], "2000-03-12", "{}", trip.text);
        assert!(
            intent["assumptions"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s
                    .as_str()
                    .is_some_and(|s| s.starts_with("the dates are in")))),
            "the year is assumed and said: {}",
            trip.text
        );

        let nines = "9".repeat(400);
        let query = format!(
            "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget ${nines} for 2 people."
        );
        let answer = plan(&app, json!({ "query": query })).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unplannable");
        assert!(
            answer.json["questions"].as_array().is_some_and(|q| q
                .iter()
                .any(|q| q.as_str().is_some_and(|q| q.contains("budget must be")))),
            "{}",
            answer.text
        );
        app.finish().await;
    }
}
