//! `dynasim` as a library: everything the command-line tool does, callable
//! from Rust. The binary (`src/main.rs`) only parses arguments into the
//! [`options`] structs, calls these functions and maps their [`Outcome`] to
//! an exit code.
//!
//! | module | what it owns |
//! | --- | --- |
//! | [`load`] | reading and validating scenario files and `--set`-changed documents; one untraced run ([`load::simulate`]) |
//! | [`compare`] | `compare` (runs side by side with deltas and verdicts) and `index` (an HTML page of many runs and sweeps) |
//! | [`commands`] | `run` (one run, its summary, report, ops and trace files), `validate`, `plot` |
//! | [`sweep`] | many runs over seeds and parameter points, sharding and merging, the `--set` path machinery |
//! | [`claims`] | every scenario's expectations over many seeds: pass counts, measured spreads, repro commands |
//! | [`pairs`] | paired claims: two scenario files compared seed by seed (`scenarios/pairs/pairs.json`) |
//! | [`shrink`] | test-case reduction of a failing scenario |
//! | [`explore`] | swarm testing with random nemesis faults |
//! | [`explain`] | the story of one key in one run, and the trace exporters |
//! | [`options`] | every command's options |
//! | [`wars`] | `wars`: PBS's WARS model of a scenario, without a simulation |
//! | [`budget`] | the resource estimate of a scenario, checked before it runs |
//! | [`guard`] | the limits (`--max-memory-mb`, ...) and the runtime wall-clock and memory guard |
//! | [`outputs`] | output directories: clearing our own files, atomic writes, the in-progress marker |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod budget;
pub mod claims;
pub mod commands;
pub mod compare;
pub mod explain;
pub mod explore;
pub mod guard;
pub mod load;
pub mod options;
pub mod outputs;
pub mod pairs;
pub mod shrink;
pub mod sweep;
pub mod wars;

pub use load::Outcome;
