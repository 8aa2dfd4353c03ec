//! The message hub.
