//! Layer 2, the world the nodes live in: latency distributions, the faulty
//! network, the fault model, and node resources (capacity).
//!
//! This layer decides *when* things happen to messages and nodes; it never
//! looks inside a message beyond its kind and never runs Dynamo logic.

pub mod dist;
pub mod faults;
pub mod net;
mod normal_draw;
pub mod resources;
