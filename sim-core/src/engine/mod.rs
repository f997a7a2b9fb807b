//! Layer 1, the engine's primitives: virtual time, identifiers, random
//! streams, the event queue, the small ordered maps the run's churning
//! tables use, the outbox through which state machines ask for effects,
//! the records they emit and the trace with its hash.
//!
//! Everything above uses these; nothing here knows about Dynamo, the
//! network or the scenario format. The loop that pops events
//! ([`crate::sim`]) sits at the top of the crate because it drives the
//! nodes, not here.

pub mod histogram;
pub mod ids;
pub mod outbox;
pub mod queue;
pub mod record;
pub mod rng;
pub mod small_map;
pub mod time;
pub mod trace;
