//! Optional language-model intent extraction: an OpenAI-compatible
//! chat-completions client ([`LlmClient`]) that reads what the rules parser
//! could not. Off unless configured ([`LlmConfig`]; the server's `llm:`
//! section).
//!
//! [`LlmClient::complete_intent`] runs after the rules (and the request's
//! overrides) when they left questions: it asks the model, with a JSON
//! schema of only the open fields ([`extract::open_fields`]), at
//! temperature 0, within the configured timeout, and merges the answer by
//! [`extract::merge`]: the rules' values win, every model value goes
//! through the domain's bounded types and the catalog's names, each field
//! filled drops its question and adds an assumption ("destination Denver,
//! read by the language model"). Invalid JSON, a timeout, a transport
//! error or an error status leave the rules' intent as it was (logged at
//! warn, counted in [`LlmMetrics`]). The verifier checks every plan as
//! always.
//!
//! Transport: `reqwest` over rustls (ring) — plain HTTP for a local
//! Ollama, llama.cpp server or vLLM, HTTPS for a hosted API.

pub mod extract;
pub mod wire;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::overrides::{OverridesInput, TripOverrides};

pub use self::extract::{ExtractedIntent, Field, Merged};
use self::extract::{Places, merge, open_fields, schema, system_prompt};
use self::wire::{
    ChatMessage, ChatRequest, ChatResponse, NamedSchema, ResponseFormat, Role, Usage,
};
use crate::catalog::Catalog;
use crate::runtime::cache::Lru;

/// Largest response body read (a chat completion for a few fields is a
/// few hundred bytes).
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Latency histogram bounds in ms (the last is +Inf).
pub const LATENCY_BUCKETS_MS: [f64; 10] = [
    50.0,
    100.0,
    250.0,
    500.0,
    1_000.0,
    2_500.0,
    5_000.0,
    10_000.0,
    30_000.0,
    f64::INFINITY,
];

/// Readings kept per text, so that asking again (the form path parses a
/// request twice; answering a trip parses it again) costs no second call.
const CACHE_ENTRIES: usize = 256;

/// How to reach the model. Not the key itself: the name of the
/// environment variable holding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// The API's base, ending before `/chat/completions`
    /// (`http://127.0.0.1:11434/v1` for Ollama).
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key, sent as
    /// `Authorization: Bearer …`; none for a local server.
    pub api_key_env: Option<String>,
    /// One call, connection to last byte.
    pub timeout_ms: u64,
    /// USD per 1,000 tokens (prompt and completion alike), for the metrics;
    /// the price of whichever kind has no price of its own below.
    pub cost_per_1k_tokens: f64,
    /// USD per 1,000 prompt (input) tokens; hosted APIs price input and
    /// output apart. `None`: `cost_per_1k_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_1k_input: Option<f64>,
    /// USD per 1,000 completion (output) tokens. `None`:
    /// `cost_per_1k_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_1k_output: Option<f64>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:11434/v1".to_owned(),
            model: "llama3.1".to_owned(),
            api_key_env: None,
            timeout_ms: 10_000,
            cost_per_1k_tokens: 0.0,
            price_per_1k_input: None,
            price_per_1k_output: None,
        }
    }
}

impl LlmConfig {
    /// Every problem of the settings, each naming its key under `llm.`;
    /// the key's variable must be set (and not empty) when named.
    /// What `usage` cost in USD: prompt tokens at the input price,
    /// completion tokens at the output price (each per 1,000).
    pub fn cost_of(&self, usage: Usage) -> f64 {
        let input = self.price_per_1k_input.unwrap_or(self.cost_per_1k_tokens);
        let output = self.price_per_1k_output.unwrap_or(self.cost_per_1k_tokens);
        (usage.prompt_tokens as f64 * input + usage.completion_tokens as f64 * output) / 1000.0
    }

    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || reqwest::Url::parse(url).is_err()
        {
            problems.push(format!(
                "key `llm.base_url`: {:?} is not an http:// or https:// URL",
                self.base_url
            ));
        }
        if self.model.trim().is_empty() {
            problems.push("key `llm.model`: must name a model".to_owned());
        }
        if self.timeout_ms == 0 {
            problems.push("key `llm.timeout`: must be above 0".to_owned());
        }
        for (key, price) in [
            ("cost_per_1k_tokens", Some(self.cost_per_1k_tokens)),
            ("price_per_1k_input", self.price_per_1k_input),
            ("price_per_1k_output", self.price_per_1k_output),
        ] {
            if let Some(price) = price
                && !(price.is_finite() && price >= 0.0)
            {
                problems.push(format!(
                    "key `llm.{key}`: must be a number of USD, 0 or more, not {price}"
                ));
            }
        }
        if let Some(var) = &self.api_key_env {
            match std::env::var(var) {
                Ok(key) if !key.trim().is_empty() => {}
                Ok(_) => problems.push(format!(
                    "key `llm.api_key_env`: the environment variable {var} is empty"
                )),
                Err(_) => problems.push(format!(
                    "key `llm.api_key_env`: the environment variable {var} is not set (it must hold the API key; leave api_key_env out for a server that needs none)"
                )),
            }
        }
        problems
    }
}

/// Why a call gave nothing to merge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("invalid language-model settings: {0}")]
    Config(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("transport: {0}")]
    Transport(String),
    #[error("the server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the answer is not the JSON asked for: {0}")]
    Invalid(String),
}

/// How one call ended, the metrics' `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered with readable JSON (its values may still be refused).
    Ok,
    /// Answered, not with the JSON asked for.
    Invalid,
    Timeout,
    /// Transport failure or an error status.
    Error,
    /// Read from the client's cache: no call.
    Cached,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Invalid,
        Outcome::Timeout,
        Outcome::Error,
        Outcome::Cached,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Invalid => "invalid",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
            Outcome::Cached => "cached",
        }
    }

    fn of(error: &LlmError) -> Self {
        match error {
            LlmError::Timeout(_) => Outcome::Timeout,
            LlmError::Invalid(_) => Outcome::Invalid,
            LlmError::Config(_) | LlmError::Transport(_) | LlmError::Status { .. } => {
                Outcome::Error
            }
        }
    }
}

/// What the client counted since it was built.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmMetrics {
    pub ok: u64,
    pub invalid: u64,
    pub timeout: u64,
    pub error: u64,
    pub cached: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens × the input price + completion tokens × the output
    /// price, per 1,000 ([`LlmConfig::cost_of`]).
    pub cost_usd: f64,
    /// Calls made (not cached): sum, count and cumulative `le` buckets in ms.
    pub latency_ms_sum: f64,
    pub latency_count: u64,
    pub latency_buckets: Vec<(f64, u64)>,
    /// Intent fields the model filled, and values refused by the checks.
    pub fields_filled: u64,
    pub fields_rejected: u64,
}

impl LlmMetrics {
    /// Calls by outcome, in [`Outcome::ALL`] order.
    pub fn requests(&self) -> [(Outcome, u64); 5] {
        [
            (Outcome::Ok, self.ok),
            (Outcome::Invalid, self.invalid),
            (Outcome::Timeout, self.timeout),
            (Outcome::Error, self.error),
            (Outcome::Cached, self.cached),
        ]
    }
}

#[derive(Default)]
struct Counters {
    by_outcome: [u64; 5],
    prompt_tokens: u64,
    completion_tokens: u64,
    cost_usd: f64,
    latency_ms_sum: f64,
    latency_count: u64,
    buckets: [u64; LATENCY_BUCKETS_MS.len()],
    fields_filled: u64,
    fields_rejected: u64,
}

/// What [`LlmClient::complete_intent`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    /// The rules left nothing the model may fill: no call.
    NotNeeded,
    /// The call failed; the intent is the rules'.
    Failed(Outcome),
    /// The answer was merged (`outcome` ok or cached).
    Merged { outcome: Outcome, merged: Merged },
}

/// A key that never shows in logs or `Debug`.
struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(…)")
    }
}

/// The chat-completions client. Cheap to share (`Arc`).
pub struct LlmClient {
    config: LlmConfig,
    endpoint: String,
    http: reqwest::Client,
    api_key: Option<ApiKey>,
    counters: Mutex<Counters>,
    cache: Mutex<Lru<String, ExtractedIntent>>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.config.model)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The JSON inside a reply, without the Markdown fence some models put
/// around it.
fn unfenced(content: &str) -> &str {
    let t = content.trim();
    match t.strip_prefix("```") {
        Some(rest) => {
            let rest = rest.strip_prefix("json").unwrap_or(rest);
            rest.strip_suffix("```").unwrap_or(rest).trim()
        }
        None => t,
    }
}

impl LlmClient {
    /// A client for `config`, its key read from the named variable now.
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(LlmError::Config(problems.join("; ")));
        }
        let api_key = match &config.api_key_env {
            Some(var) => Some(ApiKey(
                std::env::var(var)
                    .map_err(|_| LlmError::Config(format!("{var} is not set")))?
                    .trim()
                    .to_owned(),
            )),
            None => None,
        };
        let timeout = Duration::from_millis(config.timeout_ms);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| LlmError::Config(e.to_string()))?;
        let endpoint = format!(
            "{}/chat/completions",
            config.base_url.trim().trim_end_matches('/')
        );
        Ok(Self {
            config,
            endpoint,
            http,
            api_key,
            counters: Mutex::new(Counters::default()),
            cache: Mutex::new(Lru::new(CACHE_ENTRIES)),
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms)
    }

    pub fn metrics(&self) -> LlmMetrics {
        let c = lock(&self.counters);
        let mut cumulative = 0;
        LlmMetrics {
            ok: c.by_outcome[0],
            invalid: c.by_outcome[1],
            timeout: c.by_outcome[2],
            error: c.by_outcome[3],
            cached: c.by_outcome[4],
            prompt_tokens: c.prompt_tokens,
            completion_tokens: c.completion_tokens,
            cost_usd: c.cost_usd,
            latency_ms_sum: c.latency_ms_sum,
            latency_count: c.latency_count,
            latency_buckets: LATENCY_BUCKETS_MS
                .iter()
                .zip(c.buckets)
                .map(|(le, n)| {
                    cumulative += n;
                    (*le, cumulative)
                })
                .collect(),
            fields_filled: c.fields_filled,
            fields_rejected: c.fields_rejected,
        }
    }

    fn count(&self, outcome: Outcome, elapsed: Option<Duration>, usage: Option<Usage>) {
        let mut c = lock(&self.counters);
        let i = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        c.by_outcome[i] += 1;
        if let Some(elapsed) = elapsed {
            let ms = elapsed.as_secs_f64() * 1000.0;
            c.latency_ms_sum += ms;
            c.latency_count += 1;
            if let Some(b) = LATENCY_BUCKETS_MS.iter().position(|le| ms <= *le) {
                c.buckets[b] += 1;
            }
        }
        if let Some(u) = usage {
            c.prompt_tokens += u.prompt_tokens;
            c.completion_tokens += u.completion_tokens;
            c.cost_usd += self.config.cost_of(u);
        }
    }

    /// The request body for `text` asking for `open`.
    pub fn request(&self, text: &str, open: &[Field], today: NaiveDate) -> ChatRequest {
        ChatRequest {
            model: self.config.model.clone(),
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: Some(system_prompt(today)),
                },
                ChatMessage {
                    role: Role::User,
                    content: Some(text.to_owned()),
                },
            ],
            response_format: ResponseFormat::JsonSchema {
                json_schema: NamedSchema {
                    name: "trip_intent".to_owned(),
                    strict: true,
                    schema: schema(open),
                },
            },
            temperature: 0.0,
            stream: false,
        }
    }

    /// One call: the model's reading of `text` for the `open` fields, and
    /// the tokens it used. Counted in the metrics whatever the outcome.
    pub async fn extract(
        &self,
        text: &str,
        open: &[Field],
        today: NaiveDate,
    ) -> Result<ExtractedIntent, LlmError> {
        let body = self.request(text, open, today);
        let started = Instant::now();
        let timeout = self.timeout();
        let result = match tokio::time::timeout(timeout, self.call(&body)).await {
            Ok(r) => r,
            Err(_) => Err((LlmError::Timeout(timeout), None)),
        };
        let elapsed = started.elapsed();
        match result {
            Ok((answer, usage)) => {
                self.count(Outcome::Ok, Some(elapsed), usage);
                Ok(answer)
            }
            Err((e, usage)) => {
                self.count(Outcome::of(&e), Some(elapsed), usage);
                Err(e)
            }
        }
    }

    /// The HTTP exchange; the usage is returned with an unreadable answer
    /// too, since its tokens were spent.
    async fn call(
        &self,
        body: &ChatRequest,
    ) -> Result<(ExtractedIntent, Option<Usage>), (LlmError, Option<Usage>)> {
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                (LlmError::Timeout(self.timeout()), None)
            } else {
                (LlmError::Transport(e.to_string()), None)
            }
        };
        let mut request = self.http.post(&self.endpoint).json(body);
        if let Some(ApiKey(key)) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err((
                    LlmError::Invalid(format!("the answer is over {MAX_RESPONSE_BYTES} bytes")),
                    None,
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err((
                LlmError::Status {
                    status: status.as_u16(),
                    body: text.chars().take(200).collect(),
                },
                None,
            ));
        }
        let reply: ChatResponse = serde_json::from_slice(&bytes).map_err(|e| {
            (
                LlmError::Invalid(format!("not a chat completion: {e}")),
                None,
            )
        })?;
        let usage = reply.usage;
        let content = reply
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| {
                (
                    LlmError::Invalid("no message in the answer".to_owned()),
                    usage,
                )
            })?;
        let answer: ExtractedIntent = serde_json::from_str(unfenced(&content)).map_err(|e| {
            (
                LlmError::Invalid(format!("the message is not the schema's JSON: {e}")),
                usage,
            )
        })?;
        Ok((answer, usage))
    }

    /// Fills what the rules left open in `intent` (the request's
    /// `overrides` applied already, and never overwritten), from the
    /// model's reading of `intent.text`. On any failure `intent` is left
    /// as it was. Places resolve against `catalog`; `today` dates
    /// relative phrases.
    pub async fn complete_intent(
        &self,
        intent: &mut TripIntent,
        overrides: &TripOverrides,
        catalog: &dyn Catalog,
        today: NaiveDate,
    ) -> Completion {
        let set = OverridesInput::from(overrides.clone());
        let open = open_fields(intent, &set);
        if open.is_empty() {
            return Completion::NotNeeded;
        }
        let key = format!(
            "{today}|{}|{}",
            open.iter().map(|f| f.name()).collect::<Vec<_>>().join(","),
            intent.text
        );
        let cached = lock(&self.cache).get(&key);
        let (outcome, answer) = match cached {
            Some(answer) => {
                self.count(Outcome::Cached, None, None);
                (Outcome::Cached, answer)
            }
            None => match self.extract(&intent.text, &open, today).await {
                Ok(answer) => {
                    lock(&self.cache).put(key, answer.clone());
                    (Outcome::Ok, answer)
                }
                Err(e) => {
                    tracing::warn!(error = %e, model = %self.config.model, "language-model extraction failed; the rules' reading stands");
                    return Completion::Failed(Outcome::of(&e));
                }
            },
        };
        let merged = merge(intent, &answer, &open, &Places::new(catalog));
        for (field, why) in &merged.rejected {
            tracing::warn!(field = field.name(), reason = %why, "a value the language model read was refused");
        }
        {
            let mut c = lock(&self.counters);
            c.fields_filled += merged.filled.len() as u64;
            c.fields_rejected += merged.rejected.len() as u64;
        }
        Completion::Merged { outcome, merged }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_and_output_tokens_are_priced_apart_or_alike() {
        let usage = Usage {
            prompt_tokens: 2_000,
            completion_tokens: 500,
        };
        let alike = LlmConfig {
            cost_per_1k_tokens: 0.2,
            ..LlmConfig::default()
        };
        assert!((alike.cost_of(usage) - 0.5).abs() < 1e-12);
        let apart = LlmConfig {
            price_per_1k_input: Some(0.1),
            price_per_1k_output: Some(0.4),
            ..alike.clone()
        };
        assert!((apart.cost_of(usage) - 0.4).abs() < 1e-12);
        let output_only = LlmConfig {
            price_per_1k_output: Some(1.0),
            ..alike
        };
        assert!((output_only.cost_of(usage) - 0.9).abs() < 1e-12);
        assert_eq!(
            LlmConfig::default().cost_of(usage),
            0.0,
            "free unless priced"
        );
        let negative = LlmConfig {
            price_per_1k_input: Some(-1.0),
            ..LlmConfig::default()
        };
        assert!(
            negative
                .problems()
                .iter()
                .any(|p| p.contains("llm.price_per_1k_input"))
        );
    }
}
