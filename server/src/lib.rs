#![recursion_limit = "256"]
//! The `wayfare` server: configuration, telemetry, the axum router (SSR,
//! server functions, health), and the command line. This is the only crate
//! that wires concrete types together.

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod metrics;
pub mod telemetry;
pub mod web;
pub mod worker;
