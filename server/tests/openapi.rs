//! `/api/openapi.json` through the real router: it is OpenAPI 3.1, it
//! describes every endpoint the API router serves (path and method) and
//! nothing it does not, every error it documents has the JSON error body,
//! and its schemas accept the real answers of the endpoints (checked with a
//! small JSON Schema validator below: `$ref`, `type`, `required`,
//! `properties`, `additionalProperties`, `items`, `enum`, `oneOf`/`anyOf`/
//! `allOf`, `minimum`, and the `uuid`, `date` and `date-time` formats).

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{Answer, QUERY, TestApp, TestDb};
use wayfare_engine::runtime::RuntimeConfig;

const PLAN_WITHIN: Duration = Duration::from_secs(60);
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let answer = app.call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/json",
        "content type"
    );
    assert!(answer.json.is_object(), "not JSON: {}", answer.text);
    answer.json
}

/// A concrete URI for a path template.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", &uuid::Uuid::new_v4().to_string())
        .replace("{component_id}", "d2.dinner")
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.to_uppercase().as_bytes()).expect("a method")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_describes_every_api_route() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "not OpenAPI 3.1: {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().expect("paths");

    // Every path the API router serves is described, with exactly the
    // methods it answers (a method it does not serve is axum's 405).
    let served = wayfare_server::api::served_paths();
    assert!(served.len() >= 9, "{served:?}");
    for path in &served {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is served but not in /api/openapi.json"));
        for name in METHODS {
            let answer = app.call(method(name), &concrete(path), None).await;
            let is_served = answer.status != StatusCode::METHOD_NOT_ALLOWED;
            assert_eq!(
                is_served,
                item.get(name).is_some(),
                "{} {path}: answered {} but the document {} it",
                name.to_uppercase(),
                answer.status,
                if item.get(name).is_some() {
                    "describes"
                } else {
                    "does not describe"
                }
            );
        }
    }
    // And nothing else under /api is described (`/healthz` is the one
    // documented path outside it).
    for path in paths.keys() {
        assert!(
            served.contains(&path.as_str()) || path == "/healthz",
            "{path} is described but not served"
        );
    }
    assert!(paths.contains_key("/healthz"));

    for (path, item) in paths {
        for (name, op) in item.as_object().expect("path item") {
            let what = format!("{} {path}", name.to_uppercase());
            // Path parameters: required, and a trip id is a UUID.
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] == "path" {
                    assert_eq!(param["required"], true, "{what}: {param}");
                }
                if param["name"] == "id" {
                    assert_eq!(param["schema"]["format"], "uuid", "{what}: {param}");
                }
            }
            for placeholder in path.split('{').skip(1) {
                let name = placeholder.split('}').next().unwrap_or_default();
                assert!(
                    op["parameters"].as_array().is_some_and(|ps| ps
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path")),
                    "{what}: path parameter {name} not described"
                );
            }
            // Request bodies: required JSON objects with their required fields.
            if name == "post" || name == "put" {
                let body = &op["requestBody"];
                assert_eq!(body["required"], true, "{what}: {body}");
                let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
                assert!(
                    schema["required"].as_array().is_some_and(|r| !r.is_empty()),
                    "{what}: request body without required fields: {schema}"
                );
            }
            // Links name an operation that exists, in OpenAPI's spelling.
            for response in op["responses"].as_object().into_iter().flatten() {
                for (name, link) in response.1["links"].as_object().into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap_or_else(|| {
                        panic!("{what}: link {name} without operationId: {link}")
                    });
                    assert!(
                        paths
                            .values()
                            .flat_map(|i| i.as_object().into_iter().flatten())
                            .any(|(_, o)| o["operationId"] == target),
                        "{what}: link {name} to unknown operation {target}"
                    );
                }
            }
            // Every error documented has the JSON error body.
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{what}: no responses");
            for (status, response) in responses {
                if (status.starts_with('4') || status.starts_with('5')) && path != "/healthz" {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{what} {status}: {response}"
                    );
                }
            }
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["error", "message"]), "{error}");
    app.finish().await;
}

#[tokio::test]
async fn the_documented_schemas_accept_the_real_answers() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let doc = document(&app).await;
    let id = app.submit(QUERY).await;
    let status = app.wait_final(&id, PLAN_WITHIN).await;
    assert_eq!(
        status["status"],
        "ready",
        "{status}\n{}",
        app.explain(&id).await
    );
    let version = status["version"].as_u64().expect("version");
    let unknown = uuid::Uuid::new_v4();

    let calls: Vec<(Method, &str, String, Option<Value>, StatusCode)> = vec![
        (
            Method::GET,
            "/api/trips/{id}/status",
            format!("/api/trips/{id}/status"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/trips/{id}",
            format!("/api/trips/{id}"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/trips/{id}/alternatives/{component_id}",
            format!("/api/trips/{id}/alternatives/d2.dinner"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/trips/{id}/alternatives/{component_id}",
            format!("/api/trips/{id}/alternatives/d1.teleport"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            "/api/agents",
            "/api/agents".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/healthz",
            "/healthz".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/openapi.json",
            "/api/openapi.json".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/trips/{id}",
            format!("/api/trips/{unknown}"),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/trips/{id}/events",
            format!("/api/trips/{id}/events"),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/api/trips/plan",
            "/api/trips/plan".into(),
            Some(json!({"query": QUERY, "extra": 1})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            "/api/trips/{id}/modify",
            format!("/api/trips/{id}/modify"),
            Some(json!({"expected_version": version + 7, "changes": []})),
            StatusCode::CONFLICT,
        ),
        (
            Method::PUT,
            "/api/trips/{id}/modify",
            format!("/api/trips/{id}/modify"),
            Some(
                json!({"expected_version": version, "changes": [{"kind": "travellers", "value": 3}]}),
            ),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            "/api/trips/{id}/cancel",
            format!("/api/trips/{id}/cancel"),
            None,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/trips/plan",
            "/api/trips/plan".into(),
            Some(json!({"query": QUERY})),
            StatusCode::ACCEPTED,
        ),
    ];
    for (method, template, uri, body, expected) in calls {
        let body = body.map(|b| b.to_string());
        let answer = app.call(method.clone(), &uri, body.as_deref()).await;
        let what = format!("{method} {uri}");
        assert_eq!(answer.status, expected, "{what}: {}", answer.text);
        let schema = response_schema(&doc, template, &method, &answer, &what);
        let errors = validate(&doc, &schema, &answer.json, "$");
        assert!(errors.is_empty(), "{what}: {errors:#?}\n{}", answer.text);
    }
    app.finish().await;
}

/// The validator catches what the test relies on it to catch, on a real
/// answer: a missing required field, a wrong type, an unknown enum value.
#[tokio::test]
async fn the_validator_rejects_answers_that_break_the_schema() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let doc = document(&app).await;
    let id = app.submit(QUERY).await;
    let answer = app
        .call(Method::GET, &format!("/api/trips/{id}/status"), None)
        .await;
    let schema = response_schema(
        &doc,
        "/api/trips/{id}/status",
        &Method::GET,
        &answer,
        "status",
    );
    assert_eq!(
        validate(&doc, &schema, &answer.json, "$"),
        Vec::<String>::new()
    );
    let broken = [
        ("/trip_id", None),
        ("/version", Some(json!("7"))),
        ("/status", Some(json!("dreaming"))),
        ("/progress", Some(Value::Null)),
        ("/tasks", Some(json!([{"task_id": "t"}]))),
    ];
    for (pointer, value) in broken {
        let mut json = answer.json.clone();
        let key = pointer.trim_start_matches('/');
        match value {
            None => {
                json.as_object_mut().expect("object").remove(key);
            }
            Some(v) => json[key] = v,
        }
        assert!(
            !validate(&doc, &schema, &json, "$").is_empty(),
            "the validator accepted {pointer} = {:?}",
            json.pointer(pointer)
        );
    }
    app.finish().await;
}

/// The schema the document gives for this answer's status and JSON body;
/// panics when the status is not documented.
fn response_schema(
    doc: &Value,
    template: &str,
    method: &Method,
    answer: &Answer,
    what: &str,
) -> Value {
    let op = &doc["paths"][template][method.as_str().to_lowercase()];
    assert!(op.is_object(), "{what}: {template} not documented");
    let response = &op["responses"][answer.status.as_str()];
    assert!(
        response.is_object(),
        "{what}: status {} not documented for {template}",
        answer.status
    );
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "{what}: no JSON body documented: {response}"
    );
    assert!(
        !answer.json.is_null(),
        "{what}: the answer is not JSON: {}",
        answer.text
    );
    schema
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            let target = doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling {reference}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

/// The ways `value` breaks `schema` (empty: it conforms), each with its path.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut errors = Vec::new();
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
        return errors;
    }
    match &schema["type"] {
        Value::String(t) if !type_matches(t, value) => {
            errors.push(format!("{at}: {value} is not of type {t}"));
            return errors;
        }
        Value::Array(ts)
            if !ts
                .iter()
                .any(|t| type_matches(t.as_str().unwrap_or(""), value)) =>
        {
            errors.push(format!("{at}: {value} is none of {ts:?}"));
            return errors;
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(minimum) = schema["minimum"].as_f64()
        && value.as_f64().is_some_and(|v| v < minimum)
    {
        errors.push(format!("{at}: {value} is below {minimum}"));
    }
    if let (Some(format), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let ok = match format {
            "uuid" => uuid::Uuid::parse_str(text).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: {text:?} is not a {format}"));
        }
    }
    if let Some(object) = value.as_object() {
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                errors.push(format!("{at}: required field {key} is missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (key, field) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => {
                    errors.extend(validate(doc, property, field, &format!("{at}.{key}")));
                }
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => errors.push(format!("{at}: unknown field {key}")),
                    extra @ Value::Object(_) => {
                        errors.extend(validate(doc, extra, field, &format!("{at}.{key}")));
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            errors.extend(validate(doc, items, item, &format!("{at}[{i}]")));
        }
    }
    for all in schema["allOf"].as_array().into_iter().flatten() {
        errors.extend(validate(doc, all, value, at));
    }
    if let Some(any) = schema["anyOf"].as_array()
        && !any.iter().any(|s| validate(doc, s, value, at).is_empty())
    {
        errors.push(format!("{at}: {value} matches none of anyOf"));
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let matching = one
            .iter()
            .filter(|s| validate(doc, s, value, at).is_empty())
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: {value} matches {matching} of oneOf, not one"
            ));
        }
    }
    errors
}
