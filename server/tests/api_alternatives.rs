//! Alternatives and replacements of attractions and transport legs through
//! the REST API (real router, runtime and SQLite): listed with `cost_delta`,
//! replaced with `PUT …/modify`, and a replacement that would break a rule
//! refused with 422 `invalid_change`.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, TestDb, assert_error};
use wayfare_engine::runtime::RuntimeConfig;

const PLAN_WITHIN: Duration = Duration::from_secs(60);
/// Monday to Wednesday: two flights, a taxi, no self-driving.
const NO_DRIVING: &str = "A 3-day trip for two from Seattle to Spokane from June 7th to June 9th, 2027, budget $3,000, no self-driving.";
const NO_FLIGHTS: &str = "A 3-day trip for two from Seattle to Spokane from June 7th to June 9th, 2027, budget $3,000, no flights.";

async fn ready(app: &TestApp, query: &str) -> (String, Value) {
    let id = app.submit(query).await;
    let status = app.wait_final(&id, PLAN_WITHIN).await;
    assert_eq!(status["status"], "ready", "{}", app.explain(&id).await);
    (id, status)
}

async fn alternatives(app: &TestApp, id: &str, component: &str) -> Vec<Value> {
    let answer = app
        .call(
            Method::GET,
            &format!("/api/trips/{id}/alternatives/{component}"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json.as_array().expect("a list").clone()
}

fn replace(version: &Value, component: &str, with: &Value) -> String {
    json!({
        "expected_version": version,
        "changes": [{ "kind": "replace", "component_id": component, "with": with }],
    })
    .to_string()
}

#[tokio::test]
async fn a_leg_and_an_attraction_are_listed_with_their_cost_delta_and_replaced() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let (id, status) = ready(&app, NO_DRIVING).await;

    let legs = alternatives(&app, &id, "d1.leg1").await;
    let current = legs
        .iter()
        .find(|a| a["current"] == true)
        .expect("the current leg");
    assert_eq!(current["cost_delta"], 0.0);
    let other = legs
        .iter()
        .find(|a| a["current"] == false)
        .expect("another way to travel");
    let delta = other["cost"].as_f64().unwrap() - current["cost"].as_f64().unwrap();
    assert!(
        (other["cost_delta"].as_f64().unwrap() - delta).abs() < 1e-9,
        "{other}"
    );
    assert!(
        legs.iter()
            .all(|a| a["reason"].as_str().is_some_and(|r| r.ends_with('.')))
    );
    let answer = app
        .call(
            Method::PUT,
            &format!("/api/trips/{id}/modify"),
            Some(&replace(&status["version"], "d1.leg1", &other["id"])),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["status"], "ready", "{}", answer.text);
    let leg = &answer.json["itinerary"]["days"][0]["transport"][0];
    assert_eq!(leg["cost"], other["cost"], "{leg}");
    let now = alternatives(&app, &id, "d1.leg1").await;
    assert_eq!(
        now.iter().find(|a| a["current"] == true).map(|a| &a["id"]),
        Some(&other["id"])
    );

    let sights = alternatives(&app, &id, "d2.attraction1").await;
    let sight = sights
        .iter()
        .find(|a| a["current"] == false)
        .expect("another sight");
    let answer = app
        .call(
            Method::PUT,
            &format!("/api/trips/{id}/modify"),
            Some(&replace(
                &answer.json["version"],
                "d2.attraction1",
                &sight["id"],
            )),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.json["itinerary"]["days"][1]["attractions"][0]["name"],
        sight["name"]
    );

    let answer = app
        .call(
            Method::GET,
            &format!("/api/trips/{id}/alternatives/d1.leg7"),
            None,
        )
        .await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
    app.finish().await;
}

#[tokio::test]
async fn a_replacement_that_breaks_a_transport_rule_is_a_422_and_changes_nothing() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let (id, status) = ready(&app, NO_FLIGHTS).await;
    let trip = app
        .call(Method::GET, &format!("/api/trips/{id}"), None)
        .await;
    let leg = &trip.json["itinerary"]["days"][0]["transport"][0];
    assert_eq!(leg["mode"], "self-driving", "{leg}");
    let taxi = json!(format!(
        "taxi:{}",
        leg["source_id"].as_str().expect("a record")
    ));
    let answer = app
        .call(
            Method::PUT,
            &format!("/api/trips/{id}/modify"),
            Some(&replace(&status["version"], "d1.leg1", &taxi)),
        )
        .await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
    assert!(answer.text.contains("self-driving"), "{}", answer.text);
    let after = app
        .call(Method::GET, &format!("/api/trips/{id}"), None)
        .await;
    assert_eq!(after.json["version"], status["version"]);
    app.finish().await;
}
