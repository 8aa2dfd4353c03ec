//! Wayfare's engine: everything that plans a trip, with no web framework and
//! no database. It defines the ports it needs (the [`catalog::Catalog`] read
//! API among them) with in-memory implementations, so it runs and is tested
//! on its own; `wayfare-store` fills the ports from SQLite or PostgreSQL.
//!
//! Planning, front to back: [`parse`] turns text into a
//! [`TripIntent`](wayfare_domain::intent::TripIntent); the [`agents`] propose
//! ranked candidates; [`assemble`] searches them within the budget;
//! [`verify`] checks the result against every rule, independently. The
//! [`graph`] of those tasks and its one step are driven by two executors:
//! [`orchestrator::Planner`] in process (with [`orchestrator::run_batch`],
//! [`orchestrator::render_text`]) and the durable [`runtime`].
//! [`travelplanner_format`] writes and reads the benchmark's plan format and
//! [`eval`] scores plans by its rules.

pub mod agents;
pub mod assemble;
pub mod catalog;
pub mod clock;
pub mod eval;
pub mod graph;
pub mod hub;
pub mod llm;
pub mod ops;
pub mod orchestrator;
pub mod parse;
pub mod resilience;
pub mod runtime;
pub mod state;
pub mod travelplanner_format;
pub mod verify;
