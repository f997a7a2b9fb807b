//! `sim-core`: dynasim's deterministic engine and Dynamo nodes.
//!
//! # The determinism contract
//! A run is a pure function of (scenario, `rng_seed`, `Cargo.lock`, commit):
//! the same inputs give the same event stream and the same trace hash, byte
//! for byte, on any machine, build profile or thread count. What makes it so:
//! - time is [`engine::time::SimTime`], integer microseconds, advanced only by
//!   [`sim::Simulation::step`]; nothing here reads a clock;
//! - randomness comes from [`engine::rng::SimRng`], one ChaCha8 stream per
//!   component keyed by a fixed stream id;
//! - the event queue breaks ties by insertion sequence;
//! - no `HashMap`/`HashSet` (enforced by `clippy.toml`): every map iterates in
//!   key order;
//! - this crate does no I/O: parsing takes `&str`, output goes to a
//!   [`engine::record::Sink`] and a [`engine::trace::Tracer`].
//!
//! # Layers (every arrow points down)
//! | layer | folder | what it owns |
//! | --- | --- | --- |
//! | 1 | [`engine`] | virtual time, ids, random streams, the event queue (time, seq), the outbox, records, the trace and its hash |
//! | 1 | [`config`] | the validated configuration every layer reads |
//! | 2 | [`world`] | latency distributions, the faulty network, the fault model |
//! | 3 | [`dynamo`] | ring and preference lists (§4.2, §4.3, §6.2), vector clocks and the versioned store (§4.4), Merkle trees (§4.7), the protocol, the node (coordinator, replica, hinted handoff, failure detection, anti-entropy, membership, transfer), clients and workload |
//! | 4 | [`sim`] | the one loop: pops events, drives nodes and clients, applies faults |
//! | 4 | [`divergence`] | the loop's observer of replica divergence over time (observation only) |
//! | 5 | [`scenario`] | the JSON scenario format: DTOs, validation into [`config`], the JSON Schema |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod divergence;
pub mod dynamo;
pub mod engine;
pub mod scenario;
pub mod sim;
pub mod world;
