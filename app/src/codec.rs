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
//!
//! The same goes for an island's props, which Leptos decodes with
//! `from_str`: a prop of a type the server functions also answer travels as
//! [`Shipped`], a JSON text inside the props that is read with [`from_json`].

use leptos::server::codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// An island's prop, carried as a JSON text and read with [`from_json`]
/// (see the module's note).
#[derive(Debug, Clone, PartialEq)]
pub struct Shipped<T>(pub T);

impl<T: Serialize> Serialize for Shipped<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Shipped<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        from_json(&text)
            .map(Shipped)
            .map_err(serde::de::Error::custom)
    }
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

    #[test]
    fn a_shipped_value_travels_as_a_json_text() {
        let shipped = Shipped(vec!["Denver".to_owned(), "Boulder \"CO\"".to_owned()]);
        let text = serde_json::to_string(&shipped).expect("serializes");
        assert_eq!(text, r#""[\"Denver\",\"Boulder \\\"CO\\\"\"]""#);
        let back: Shipped<Vec<String>> = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, shipped);
        assert!(serde_json::from_str::<Shipped<Vec<String>>>(r#""[1, 2]""#).is_err());
        assert!(serde_json::from_str::<Shipped<Vec<String>>>("[]").is_err());
    }
}
