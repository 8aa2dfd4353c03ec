//! Wayfare's shared vocabulary.
//!
//! Plain serde types used by every other crate — the engine, the store, the
//! server and the browser (this crate compiles to `wasm32-unknown-unknown`).
//! Nothing here does I/O.

pub mod bounds;
pub mod catalog;
pub mod intent;
pub mod itinerary;
pub mod overrides;
pub mod preferences;
pub mod rating;
pub mod request;
pub mod trip;
pub mod verdict;
