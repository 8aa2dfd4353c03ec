//! `llm:` — the optional language-model intent extraction
//! ([`wayfare_engine::llm`]). Absent: off. Present (even empty: a local
//! Ollama with `llama3.1`), the runtime asks the model for what the rules
//! parser left open in a request.
//!
//! The API key is never in the file: `api_key_env` names the environment
//! variable that holds it, which must be set when named (checked at load).

use serde::{Deserialize, Serialize};
use wayfare_engine::llm::LlmConfig;

use super::human::HumanDuration;

/// `llm:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// The OpenAI-compatible API's base, before `/chat/completions`
    /// (`http://127.0.0.1:11434/v1` for Ollama, `http://127.0.0.1:8080/v1`
    /// for llama.cpp's server, `http://127.0.0.1:8000/v1` for vLLM).
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (e.g.
    /// `OPENAI_API_KEY`); leave it out for a server that needs none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Refused with a message pointing at `api_key_env`: a key in a file
    /// ends up in backups and commits.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// One call, connection to last byte (`10s`); past it the rules'
    /// reading stands.
    pub timeout: HumanDuration,
    /// USD per 1,000 tokens, prompt and completion alike, for `/metrics`
    /// and the cost per request; the price of a kind not priced below.
    pub cost_per_1k_tokens: f64,
    /// USD per 1,000 prompt (input) tokens, when the API prices them apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_1k_input: Option<f64>,
    /// USD per 1,000 completion (output) tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_1k_output: Option<f64>,
}

impl Default for LlmSection {
    fn default() -> Self {
        Self::from(&LlmConfig::default())
    }
}

impl From<&LlmConfig> for LlmSection {
    fn from(c: &LlmConfig) -> Self {
        Self {
            base_url: c.base_url.clone(),
            model: c.model.clone(),
            api_key_env: c.api_key_env.clone(),
            api_key: None,
            timeout: HumanDuration::from_millis(c.timeout_ms),
            cost_per_1k_tokens: c.cost_per_1k_tokens,
            price_per_1k_input: c.price_per_1k_input,
            price_per_1k_output: c.price_per_1k_output,
        }
    }
}

impl LlmSection {
    /// The engine's settings.
    pub fn engine(&self) -> LlmConfig {
        LlmConfig {
            base_url: self.base_url.trim().to_owned(),
            model: self.model.trim().to_owned(),
            api_key_env: self.api_key_env.clone(),
            timeout_ms: self.timeout.as_millis(),
            cost_per_1k_tokens: self.cost_per_1k_tokens,
            price_per_1k_input: self.price_per_1k_input,
            price_per_1k_output: self.price_per_1k_output,
        }
    }

    /// Every problem, each naming its key (the key variable must be set).
    pub fn problems(&self, problems: &mut Vec<String>) {
        if self.api_key.is_some() {
            problems.push(
                "key `llm.api_key`: the key is not read from the configuration; put it in an environment variable and name that in llm.api_key_env".to_owned(),
            );
        }
        problems.extend(self.engine().problems());
    }
}
