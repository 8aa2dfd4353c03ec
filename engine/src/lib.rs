//! Wayfare's engine: everything that plans a trip, with no web framework and
//! no database. It defines the ports it needs (the [`catalog::Catalog`] read
//! API among them) with in-memory implementations, so it runs and is tested
//! on its own; `wayfare-store` fills the ports from SQLite or PostgreSQL.

pub mod catalog;
pub mod clock;
pub mod hub;
pub mod resilience;
pub mod state;
