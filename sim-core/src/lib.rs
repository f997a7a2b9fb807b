//! `sim-core`: dynasim's deterministic engine and Dynamo nodes.
//!
//! # The determinism contract
//! A run is a pure function of (scenario, `rng_seed`, `Cargo.lock`, commit):
//! the same inputs give the same event stream and the same trace hash, byte
//! for byte, on any machine, build profile or thread count. What makes it so:
//! - time is [`time::SimTime`], integer microseconds, advanced only by
//!   [`sim::Simulation::step`]; nothing here reads a clock;
//! - randomness comes from [`rng::SimRng`], one ChaCha8 stream per component
//!   keyed by a fixed stream id;
//! - the event queue breaks ties by insertion sequence;
//! - no `HashMap`/`HashSet` (enforced by `clippy.toml`): every map iterates in
//!   key order;
//! - this crate does no I/O: parsing takes `&str`, output goes to a
//!   [`record::Sink`] and a [`trace::Tracer`].
//!
//! # Map (reading order)
//! | module | what it owns |
//! | --- | --- |
//! | [`time`], [`ids`], [`rng`], [`dist`] | virtual time, identifiers, random streams, latency distributions |
//! | [`queue`] | the event queue, ordered by (time, seq) |
//! | [`ring`] | consistent hashing, virtual nodes, preference lists (§4.2, §4.3, §6.2) |
//! | [`vclock`], [`storage`] | vector clocks and the versioned store (§4.4) |
//! | [`merkle`] | Merkle trees for anti-entropy (§4.7) |
//! | [`protocol`], [`outbox`] | the messages, and how state machines ask for effects |
//! | [`node`] | the Dynamo node: coordinator, replica, hinted handoff, failure detection |
//! | [`workload`], [`client`] | key popularity and client sessions |
//! | [`net`], [`faults`] | the faulty network and the fault model |
//! | [`config`], [`scenario`] | validated configuration and the JSON scenario format |
//! | [`record`], [`trace`] | observations for reports, the trace and its hash |
//! | [`sim`] | the one loop |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod dist;
pub mod faults;
pub mod ids;
pub mod merkle;
pub mod net;
pub mod node;
pub mod outbox;
pub mod protocol;
pub mod queue;
pub mod record;
pub mod ring;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod storage;
pub mod time;
pub mod trace;
pub mod vclock;
pub mod workload;
