//! The language-model intent extraction (`engine::llm`) against a stub
//! OpenAI-compatible server in this process (no network): what the rules
//! left open is filled and stated; a bad, slow or failing answer, or a
//! value out of bounds, leaves the rules' reading as it was; a value the
//! rules found is never overwritten; tokens and cost are counted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wayfare_domain::intent::{Destination, RoomRequirement, TripIntent};
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::TokioClock;
use wayfare_engine::llm::extract::{is_refusal, question_field};
use wayfare_engine::llm::{Completion, Field, LlmClient, LlmConfig, Outcome};
use wayfare_engine::parse::Gazetteer;
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig, SubmitError};

/// No destination and no date: the rules cannot complete it, whatever
/// they read of the rest (origin, length, party, budget).
const OPEN: &str = "Three days out of Seattle for 2 people, budget $1,800. Surprise us with somewhere good to eat.";

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 3, 1).expect("a date")
}

fn rules(catalog: &dyn Catalog, text: &str) -> TripIntent {
    Gazetteer::new(catalog).with_today(today()).parse(text)
}

/// What the stub answers each request with.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

/// A chat completion whose message is `content`.
fn completion(content: &str, prompt_tokens: u64, completion_tokens: u64) -> Reply {
    Reply {
        status: 200,
        body: json!({
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "model": "stub",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens
            }
        })
        .to_string(),
        delay: Duration::ZERO,
    }
}

/// A request the stub received: its head (request line and headers) and body.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: String,
}

struct Stub {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// Serves `reply` to every request on a loopback port, one HTTP/1.1
    /// exchange per connection.
    async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let reply = reply.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    log.lock().expect("the log").push(Seen { head, body });
                    tokio::time::sleep(reply.delay).await;
                    let response = format!(
                        "HTTP/1.1 {} Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                        reply.status,
                        reply.body.len(),
                        reply.body
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { addr, seen }
    }

    fn config(&self) -> LlmConfig {
        LlmConfig {
            base_url: format!("http://{}/v1", self.addr),
            model: "stub-model".to_owned(),
            api_key_env: None,
            timeout_ms: 2_000,
            cost_per_1k_tokens: 0.5,
            price_per_1k_input: None,
            price_per_1k_output: None,
        }
    }

    fn client(&self) -> LlmClient {
        LlmClient::new(self.config()).expect("a valid configuration")
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log").clone()
    }
}

async fn complete(
    client: &LlmClient,
    catalog: &dyn Catalog,
    intent: &mut TripIntent,
) -> Completion {
    client
        .complete_intent(intent, &TripOverrides::default(), catalog, today())
        .await
}

fn has_question(intent: &TripIntent, field: Field) -> bool {
    intent
        .questions
        .iter()
        .any(|q| question_field(q) == Some(field))
}

#[test]
fn the_rules_questions_are_classified_by_field() {
    let catalog = catalog();
    let texts = [
        "I want a holiday.",
        "A trip to Denver.",
        "From Seattle to Denver for 3 days.",
        "A 99999-day trip from Seattle to Denver on June 5th 2027, budget $2,000.",
        "From Seattle to Denver, June 5th to June 7th 2027, for 50 people.",
        "From Seattle to Colorado visiting 40 cities, June 5th to June 7th 2027.",
    ];
    for text in texts {
        let intent = rules(catalog.as_ref(), text);
        for q in &intent.questions {
            let field = question_field(q);
            assert!(
                field.is_some() || q.to_lowercase().contains("how many cities"),
                "{text:?}: the question {q:?} names no field"
            );
        }
    }
    let intent = rules(catalog.as_ref(), "I want a holiday.");
    for field in [
        Field::Origin,
        Field::Destination,
        Field::StartDate,
        Field::Days,
    ] {
        assert!(
            has_question(&intent, field),
            "{field:?}: {:?}",
            intent.questions
        );
    }
    let absurd = rules(
        catalog.as_ref(),
        "A 99999-day trip from Seattle to Denver on June 5th 2027.",
    );
    assert!(
        absurd
            .questions
            .iter()
            .any(|q| question_field(q) == Some(Field::Days) && is_refusal(q)),
        "{:?}",
        absurd.questions
    );
}

/// (1) The missing destination and date are filled, stated, and the intent
/// is complete.
#[tokio::test]
async fn a_request_the_rules_cannot_complete_is_completed_and_the_reading_stated() {
    let catalog = catalog();
    let mut intent = rules(catalog.as_ref(), OPEN);
    assert!(intent.destination.is_none() && intent.start_date.is_none());
    assert!(!intent.is_complete());
    let stub = Stub::start(completion(
        r#"{"destination_city": "denver", "destination_state": null, "start_date": "2027-06-05"}"#,
        120,
        30,
    ))
    .await;
    let client = stub.client();
    let done = complete(&client, catalog.as_ref(), &mut intent).await;
    let Completion::Merged { outcome, merged } = done else {
        panic!("merged expected, got {done:?}");
    };
    assert_eq!(outcome, Outcome::Ok);
    assert!(merged.rejected.is_empty(), "{merged:?}");
    assert_eq!(
        intent.destination,
        Some(Destination::City {
            name: "Denver".into()
        })
    );
    assert_eq!(
        intent.start_date.map(|d| d.to_string()).as_deref(),
        Some("2027-06-05")
    );
    assert!(intent.is_complete(), "{:?}", intent.questions);
    assert!(!has_question(&intent, Field::Destination) && !has_question(&intent, Field::StartDate));
    for said in [
        "destination Denver, read by the language model",
        "start date 2027-06-05, read by the language model",
    ] {
        assert!(
            intent.assumptions.iter().any(|a| a == said),
            "{said:?} not in {:?}",
            intent.assumptions
        );
    }

    // The request: only the open fields asked for, at temperature 0, with
    // a JSON schema, to /v1/chat/completions.
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].head.starts_with("POST /v1/chat/completions "),
        "{}",
        seen[0].head
    );
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).expect("a JSON body");
    assert_eq!(body["model"], "stub-model");
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["response_format"]["type"], "json_schema");
    let props = &body["response_format"]["json_schema"]["schema"]["properties"];
    for asked in ["destination_city", "destination_state", "start_date"] {
        assert!(props.get(asked).is_some(), "{asked} not asked: {props}");
    }
    for found in ["origin", "days", "budget_usd"] {
        assert!(
            props.get(found).is_none(),
            "{found} asked although found: {props}"
        );
    }
    assert_eq!(body["messages"][1]["content"], OPEN);
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("2027-03-01")),
        "today is in the prompt"
    );
}

/// A state read by the model, in a fenced reply, with its city count; and
/// a relative date the model resolved.
#[tokio::test]
async fn a_state_destination_in_a_fenced_reply_is_read() {
    let catalog = catalog();
    let text = "We live in Seattle and want to tour colorado for a week starting next monday, 2 of us, $4,000.";
    let mut intent = rules(catalog.as_ref(), text);
    intent.destination = None;
    intent.start_date = None;
    intent
        .questions
        .push("Where should the trip go? Name a city or a state.".into());
    intent.questions.push("When does the trip start?".into());
    let stub = Stub::start(completion(
        "```json\n{\"destination_city\": null, \"destination_state\": \"Colorado\", \"cities_to_visit\": 2, \"start_date\": \"2027-03-08\"}\n```",
        60,
        20,
    ))
    .await;
    let client = stub.client();
    let done = complete(&client, catalog.as_ref(), &mut intent).await;
    assert!(matches!(done, Completion::Merged { .. }), "{done:?}");
    assert_eq!(
        intent.destination,
        Some(Destination::State {
            name: "Colorado".into(),
            cities: 2
        })
    );
    assert_eq!(
        intent.start_date.map(|d| d.to_string()).as_deref(),
        Some("2027-03-08")
    );
    assert!(
        intent
            .assumptions
            .iter()
            .any(|a| a == "destination Colorado (2 cities), read by the language model"),
        "{:?}",
        intent.assumptions
    );
}

/// (2) An answer that is not the JSON asked for, an error status or no
/// server at all: the rules' reading stands.
#[tokio::test]
async fn invalid_json_an_error_status_or_no_server_leave_the_rules_reading() {
    let catalog = catalog();
    let before = rules(catalog.as_ref(), OPEN);
    let cases = [
        (
            completion("Sure! The trip goes to Denver.", 50, 10),
            Outcome::Invalid,
        ),
        (
            completion(r#"{"destination_city": "Denver", "days": "#, 50, 10),
            Outcome::Invalid,
        ),
        (
            Reply {
                status: 200,
                body: "<html>not an API</html>".into(),
                delay: Duration::ZERO,
            },
            Outcome::Invalid,
        ),
        (
            Reply {
                status: 500,
                body: r#"{"error": "model not loaded"}"#.into(),
                delay: Duration::ZERO,
            },
            Outcome::Error,
        ),
    ];
    for (reply, expected) in cases {
        let stub = Stub::start(reply).await;
        let client = stub.client();
        let mut intent = before.clone();
        let done = complete(&client, catalog.as_ref(), &mut intent).await;
        assert_eq!(done, Completion::Failed(expected));
        assert_eq!(intent, before, "the rules' reading is unchanged");
        let m = client.metrics();
        assert_eq!(m.ok, 0);
        assert_eq!(m.invalid + m.error, 1);
    }
    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        l.local_addr().expect("its address")
    };
    let client = LlmClient::new(LlmConfig {
        base_url: format!("http://{closed}/v1"),
        ..LlmConfig::default()
    })
    .expect("valid");
    let mut intent = before.clone();
    let done = complete(&client, catalog.as_ref(), &mut intent).await;
    assert_eq!(done, Completion::Failed(Outcome::Error));
    assert_eq!(intent, before);
    assert_eq!(client.metrics().error, 1);
}

/// (3) A server slower than the timeout: the rules' reading, within the
/// timeout.
#[tokio::test]
async fn a_slow_server_is_cut_off_at_the_timeout() {
    let catalog = catalog();
    let before = rules(catalog.as_ref(), OPEN);
    let mut reply = completion(r#"{"destination_city": "Denver"}"#, 50, 10);
    reply.delay = Duration::from_secs(5);
    let stub = Stub::start(reply).await;
    let client = LlmClient::new(LlmConfig {
        timeout_ms: 300,
        ..stub.config()
    })
    .expect("valid");
    let mut intent = before.clone();
    let started = Instant::now();
    let done = complete(&client, catalog.as_ref(), &mut intent).await;
    let took = started.elapsed();
    assert_eq!(done, Completion::Failed(Outcome::Timeout));
    assert!(
        took < Duration::from_millis(1_500),
        "took {took:?} with a 300 ms timeout"
    );
    assert!(took >= Duration::from_millis(250), "took {took:?}");
    assert_eq!(intent, before);
    let m = client.metrics();
    assert_eq!((m.timeout, m.latency_count), (1, 1));
}

/// (4) Values out of bounds or not in the catalog are refused one by one:
/// their questions stay, and the rest of the answer is still used.
#[tokio::test]
async fn out_of_bounds_values_and_unknown_places_are_refused_and_the_questions_stay() {
    let catalog = catalog();
    // No party size stated: the rules assume one traveller.
    let text = "Three days out of Seattle, budget $1,800, somewhere new.";
    let before = rules(catalog.as_ref(), text);
    assert!(before.destination.is_none() && before.start_date.is_none());
    let stub = Stub::start(completion(
        r#"{"destination_city": "Atlantis", "destination_state": null,
            "start_date": "1999-12-31", "people": 1000000000,
            "room_type": "penthouse", "cuisines": ["Martian"],
            "house_rules": [], "transport": []}"#,
        80,
        40,
    ))
    .await;
    let client = stub.client();
    let mut intent = before.clone();
    let done = complete(&client, catalog.as_ref(), &mut intent).await;
    let Completion::Merged { merged, .. } = done else {
        panic!("merged expected, got {done:?}");
    };
    assert!(merged.filled.is_empty(), "{merged:?}");
    let rejected: Vec<Field> = merged.rejected.iter().map(|(f, _)| *f).collect();
    assert!(rejected.contains(&Field::Destination), "{merged:?}");
    assert!(rejected.contains(&Field::StartDate), "{merged:?}");
    assert!(rejected.contains(&Field::Constraints), "{merged:?}");
    if before
        .assumptions
        .iter()
        .any(|a| a.contains("traveller") && a.contains("assumed"))
    {
        assert!(rejected.contains(&Field::People), "{merged:?}");
    }
    assert_eq!(intent.destination, None);
    assert_eq!(intent.start_date, None);
    assert_eq!(intent.people, before.people, "10^9 travellers refused");
    assert_eq!(intent.constraints, before.constraints);
    assert_eq!(intent.questions, before.questions, "every question stays");
    assert!(has_question(&intent, Field::Destination) && has_question(&intent, Field::StartDate));
    assert!(!intent.is_complete());
    assert_eq!(
        client.metrics().fields_rejected,
        merged.rejected.len() as u64
    );
    assert_eq!(client.metrics().fields_filled, 0);
}

/// (5) What the rules found is neither asked for nor overwritten, whatever
/// the model says; and neither is what the person set in `overrides`.
#[tokio::test]
async fn a_field_the_rules_found_is_not_overwritten() {
    let catalog = catalog();
    let before = rules(catalog.as_ref(), OPEN);
    assert_eq!(before.origin.as_deref(), Some("Seattle"));
    let days = before.days;
    let budget = before.budget;
    let stub = Stub::start(completion(
        r#"{"origin": "Chicago", "days": 9, "budget_usd": 99, "people": 7,
            "destination_city": "Portland", "start_date": "2027-07-01",
            "room_type": "not_shared", "transport": ["no_flight"]}"#,
        100,
        20,
    ))
    .await;
    let client = stub.client();
    let mut intent = before.clone();
    complete(&client, catalog.as_ref(), &mut intent).await;
    assert_eq!(intent.origin.as_deref(), Some("Seattle"));
    assert_eq!(intent.days, days);
    assert_eq!(intent.budget, budget);
    assert_eq!(intent.people, before.people, "2 people were stated");
    assert_eq!(
        intent.destination,
        Some(Destination::City {
            name: "Portland".into()
        })
    );
    // Constraint categories the rules found none of are read and stated.
    assert_eq!(
        intent.constraints.room_type,
        Some(RoomRequirement::NotShared)
    );
    assert!(
        intent
            .assumptions
            .iter()
            .any(|a| a.contains("not shared room") && a.contains("language model")),
        "{:?}",
        intent.assumptions
    );

    // An override is the person's word: not asked, not replaced.
    let overrides = TripOverrides::try_from(OverridesInput {
        start_date: Some("2027-08-01".into()),
        ..OverridesInput::default()
    })
    .expect("valid overrides");
    let mut intent = before.clone();
    overrides.apply(&mut intent);
    let stub = Stub::start(completion(
        r#"{"destination_city": "Portland", "start_date": "2027-07-01"}"#,
        10,
        5,
    ))
    .await;
    let client = stub.client();
    client
        .complete_intent(&mut intent, &overrides, catalog.as_ref(), today())
        .await;
    assert_eq!(
        intent.start_date.map(|d| d.to_string()).as_deref(),
        Some("2027-08-01")
    );
    let body: serde_json::Value = serde_json::from_str(&stub.seen()[0].body).expect("a JSON body");
    assert!(
        body["response_format"]["json_schema"]["schema"]["properties"]
            .get("start_date")
            .is_none()
    );
}

/// (6) Tokens and cost are counted; the same request again is answered
/// from the client's cache, without a call or tokens.
#[tokio::test]
async fn usage_tokens_and_cost_are_counted() {
    let catalog = catalog();
    let stub = Stub::start(completion(
        r#"{"destination_city": "Denver", "start_date": "2027-06-05"}"#,
        120,
        30,
    ))
    .await;
    let client = stub.client();
    let mut intent = rules(catalog.as_ref(), OPEN);
    complete(&client, catalog.as_ref(), &mut intent).await;
    let m = client.metrics();
    assert_eq!((m.ok, m.prompt_tokens, m.completion_tokens), (1, 120, 30));
    assert!(
        (m.cost_usd - 0.075).abs() < 1e-9,
        "150 tokens at $0.5/1k: {}",
        m.cost_usd
    );
    assert_eq!(m.latency_count, 1);
    assert_eq!(m.latency_buckets.last().map(|(_, n)| *n), Some(1));
    assert_eq!(m.fields_filled, 2);

    let mut again = rules(catalog.as_ref(), OPEN);
    let done = complete(&client, catalog.as_ref(), &mut again).await;
    assert!(matches!(
        done,
        Completion::Merged {
            outcome: Outcome::Cached,
            ..
        }
    ));
    assert_eq!(again, intent);
    let m = client.metrics();
    assert_eq!((m.ok, m.cached, m.prompt_tokens), (1, 1, 120));
    assert_eq!(stub.seen().len(), 1, "no second call");
}

/// A complete request is not sent at all; a key named by `api_key_env`
/// goes as a bearer token.
#[tokio::test]
async fn a_complete_request_costs_no_call_and_the_key_is_sent() {
    let catalog = catalog();
    let stub = Stub::start(completion(r#"{"destination_city": "Denver"}"#, 1, 1)).await;
    let client = stub.client();
    let mut intent = rules(
        catalog.as_ref(),
        "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.",
    );
    assert!(intent.questions.is_empty(), "{:?}", intent.questions);
    assert_eq!(
        complete(&client, catalog.as_ref(), &mut intent).await,
        Completion::NotNeeded
    );
    assert!(stub.seen().is_empty());

    // Cargo sets CARGO_MANIFEST_DIR for the tests it runs.
    let Ok(key) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let client = LlmClient::new(LlmConfig {
        api_key_env: Some("CARGO_MANIFEST_DIR".into()),
        ..stub.config()
    })
    .expect("valid");
    let mut intent = rules(catalog.as_ref(), OPEN);
    complete(&client, catalog.as_ref(), &mut intent).await;
    let head = stub.seen()[0].head.to_lowercase();
    assert!(
        head.contains(&format!("authorization: bearer {}", key.to_lowercase())),
        "{head}"
    );
    assert!(!format!("{client:?}").contains(&key), "the key never shows");
}

#[test]
fn a_missing_key_variable_or_a_bad_url_is_a_clear_error() {
    let err = LlmClient::new(LlmConfig {
        api_key_env: Some("WAYFARE_TEST_SURELY_UNSET_KEY".into()),
        ..LlmConfig::default()
    })
    .expect_err("no key");
    assert!(
        err.to_string()
            .contains("WAYFARE_TEST_SURELY_UNSET_KEY is not set"),
        "{err}"
    );
    let err = LlmClient::new(LlmConfig {
        base_url: "127.0.0.1:11434".into(),
        timeout_ms: 0,
        ..LlmConfig::default()
    })
    .expect_err("bad");
    let msg = err.to_string();
    assert!(
        msg.contains("llm.base_url") && msg.contains("llm.timeout"),
        "{msg}"
    );
}

/// Through the runtime: with `llm` configured, a request the rules alone
/// would refuse as unplannable is accepted for planning.
#[tokio::test]
async fn the_runtime_plans_a_request_the_model_completed() {
    let stub = Stub::start(completion(
        r#"{"destination_city": "Denver", "start_date": "2027-06-05"}"#,
        120,
        30,
    ))
    .await;
    let mut config = RuntimeConfig::default();
    config.orchestrator.run_agents_on_blocking_pool = false;
    let without = Runtime::start(
        config.clone(),
        MemoryRuntimeStore::new(),
        catalog(),
        Arc::new(TokioClock::new()),
    )
    .await
    .expect("starts");
    assert!(without.llm().is_none(), "off by default");
    let refused = without
        .submit(OPEN.to_owned(), TripOverrides::default())
        .await;
    assert!(
        matches!(refused, Err(SubmitError::Unplannable { .. })),
        "{refused:?}"
    );
    without.shutdown().await;

    config.llm = Some(stub.config());
    let rt = Runtime::start(
        config,
        MemoryRuntimeStore::new(),
        catalog(),
        Arc::new(TokioClock::new()),
    )
    .await
    .expect("starts");
    let submitted = rt
        .submit(OPEN.to_owned(), TripOverrides::default())
        .await
        .expect("complete with the model's reading");
    assert_eq!(submitted.status, TripStatus::Planning);
    let m = rt.llm().expect("configured").metrics();
    assert_eq!((m.ok, m.prompt_tokens, m.completion_tokens), (1, 120, 30));
    // The same request again (by the form's path) costs no second call.
    rt.submit_or_ask(OPEN.to_owned(), TripOverrides::default())
        .await
        .expect("accepted");
    let m = rt.llm().expect("configured").metrics();
    assert_eq!((m.ok, m.cached), (1, 1), "{m:?}");
    assert_eq!(stub.seen().len(), 1);
    rt.shutdown().await;
}
