//! Durable hub messages.
