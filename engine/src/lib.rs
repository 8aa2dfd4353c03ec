//! Wayfare's engine: everything that plans a trip, with no web framework and
//! no database. It defines the ports it needs (the [`catalog::Catalog`] read
//! API among them) with in-memory implementations, so it runs and is tested
//! on its own; `wayfare-store` fills the ports from SQLite or PostgreSQL.

pub mod agents;
pub mod assemble;
pub mod catalog;
pub mod eval;
pub mod orchestrator;
pub mod parse;
pub mod travelplanner_format;
pub mod verify;
