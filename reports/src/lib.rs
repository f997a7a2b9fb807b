//! `reports`: turns what a dynasim run records into metrics, summaries,
//! expectation verdicts, plots and an HTML report.
//!
//! Floats live here, never in `sim-core`. This crate contains no simulation
//! logic: it consumes [`sim_core::engine::record::Record`]s (as a
//! [`sim_core::engine::record::Sink`]) and the engine's [`sim_core::sim::RunOutcome`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod breakdown;
pub mod capacity;
pub mod compare;
pub mod expect;
pub mod explain;
pub mod files;
pub mod json_text;
mod key_bits;
pub mod key_table;
pub use sim_core::engine::histogram;
pub mod membership;
pub mod metrics;
pub mod objects;
pub mod pipeline;
pub mod plot;
pub mod render;
pub mod report;
pub mod sweep;
pub mod tvis;
pub mod wars;

/// The commit this build was compiled from: 12 hex digits, `-dirty` when
/// tracked files had changes, or `unknown` (a source tarball without git;
/// set `DYNASIM_COMMIT` when building to name it).
pub const COMMIT: &str = env!("DYNASIM_COMMIT");
/// The build profile (`release`, `debug`).
pub const BUILD: &str = env!("DYNASIM_BUILD");
/// What `dynasim --version` prints after the name: version, commit, build.
pub const VERSION_LINE: &str = env!("DYNASIM_VERSION_LINE");
