//! How a resource's value travels from the server's render to the
//! hydrating browser.
//!
//! Leptos' default resource codec decodes with `serde_json::from_str`,
//! while server functions' `Json` output decodes with
//! `serde_json::from_slice`. The two readers are different types, so every
//! type that arrives both ways (a trip's page is read into a resource and
//! answered by `change_trip`) had its whole JSON deserializer compiled
//! twice into the WebAssembly bundle. [`JsonBytes`] writes the same JSON as
//! the default codec and reads it through the server functions' reader:
//! one copy.

use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, read from bytes (see the module's note).
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        from_json(text)
    }
}

/// Reads a JSON text with the same reader as the server functions' answers
/// (see the module's note): use it instead of `serde_json::from_str` in code
/// that runs in the browser.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_decodes_to_the_same_value() {
        let value: Result<Vec<(String, u32)>, String> = Ok(vec![("Denver".into(), 3)]);
        let text = <JsonBytes as Encoder<_>>::encode(&value).expect("encodes");
        assert_eq!(text, serde_json::to_string(&value).expect("json"));
        let back: Result<Vec<(String, u32)>, String> =
            <JsonBytes as Decoder<_>>::decode(&text).expect("decodes");
        assert_eq!(back, value);
        assert!(<JsonBytes as Decoder<u32>>::decode("not json").is_err());
    }
}
