//! `reports`: turns what a dynasim run records into metrics, summaries,
//! expectation verdicts, plots and an HTML report.
//!
//! Floats live here, never in `sim-core`. This crate contains no simulation
//! logic: it consumes [`sim_core::engine::record::Record`]s (as a
//! [`sim_core::engine::record::Sink`]) and the engine's [`sim_core::sim::RunOutcome`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capacity;
pub mod expect;
pub mod explain;
pub mod files;
pub use sim_core::engine::histogram;
pub mod membership;
pub mod metrics;
pub mod objects;
pub mod plot;
pub mod render;
pub mod report;
pub mod sweep;
pub mod tvis;
pub mod wars;
