//! The OpenAI chat-completions wire format (`POST {base_url}/chat/completions`),
//! as far as Wayfare uses it: the request with a JSON-schema
//! `response_format` and `temperature: 0`, and the response's first choice
//! and `usage`. Ollama, llama.cpp's server, vLLM and hosted APIs speak it.
//!
//! Unknown response fields are ignored; a missing `usage` (some servers
//! leave it out) counts as zero tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub response_format: ResponseFormat,
    /// Always 0: the same text gives the same reading.
    pub temperature: f32,
    /// One answer, not a stream.
    pub stream: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    /// Absent or null in some assistant messages (tool calls); Wayfare asks
    /// for none, so a missing content is an invalid answer.
    #[serde(default)]
    pub content: Option<String>,
}

/// `{"type": "json_schema", "json_schema": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    JsonSchema { json_schema: NamedSchema },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedSchema {
    pub name: String,
    /// OpenAI's strict mode: every property listed in `required`, no
    /// other property; nullable ones say so by type.
    pub strict: bool,
    pub schema: ObjectSchema,
}

/// A JSON Schema object of named properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectSchema {
    #[serde(rename = "type")]
    pub kind: SchemaType,
    pub properties: BTreeMap<String, PropertySchema>,
    pub required: Vec<String>,
    #[serde(rename = "additionalProperties")]
    pub additional_properties: bool,
}

/// The JSON Schema type names used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaType {
    Object,
    String,
    Integer,
    Number,
    Array,
    Null,
}

/// One property: its type(s) (`["string", "null"]` for a nullable one),
/// and what narrows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertySchema {
    #[serde(rename = "type")]
    pub kinds: Vec<SchemaType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed strings (of a string, or of an array's items).
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<PropertySchema>>,
}

/// The response body (the parts read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatResponse {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Choice {
    pub message: ChatMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// Tokens the call used, as the server counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}
