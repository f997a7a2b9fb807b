//! Layer 3, Dynamo as the paper describes it: consistent hashing and
//! preference lists, vector clocks and versions, the versioned store,
//! Merkle trees, the wire protocol, the storage node and the clients.
//!
//! Everything here is a sans-IO state machine or pure data: it receives
//! `(now, message | timer)` and answers with commands; it never reads a
//! clock, never touches the event queue, and draws randomness only from
//! its own stream.

pub mod client;
pub mod merkle;
pub mod node;
pub mod protocol;
pub mod quorum;
pub mod ring;
pub mod storage;
pub mod vclock;
pub mod workload;
