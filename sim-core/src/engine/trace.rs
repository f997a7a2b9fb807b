//! The trace: the ordered stream of processed events, hashed and optionally
//! streamed to a [`Tracer`].
//!
//! The trace hash is FNV-1a (64-bit, offset basis and prime as specified)
//! applied word-wise to seven 64-bit words per event: `time, code, at, from,
//! message kind, tag, key` (one xor-multiply step per word).
//! It is specified here, not delegated to `DefaultHasher`, so a hash printed
//! today can be compared with one printed on any machine later.

use std::fmt;

use crate::dynamo::protocol::Endpoint;
use crate::engine::time::SimTime;

/// FNV-1a, 64-bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    /// Mixes bytes in.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// Mixes a u64 in (little-endian bytes).
    pub fn write_u64(&mut self, x: u64) {
        self.write(&x.to_le_bytes());
    }
    /// Mixes a whole 64-bit word in as one FNV-1a step (xor, then multiply):
    /// the trace hash's unit, 8x fewer multiplications than byte-wise.
    pub fn write_word(&mut self, x: u64) {
        self.0 ^= x;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

/// What kind of trace event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceKind {
    /// A message was delivered and handled.
    Deliver,
    /// A message was dropped (partition, loss, down receiver, crashed sender).
    Drop,
    /// A timer fired and was handled.
    Timer,
    /// A fault was applied.
    Fault,
    /// An observation was recorded.
    Record,
    /// A phase boundary (workload end, quiescence, end of run).
    Phase,
    /// A message was sent (tracer only; not part of the hash, since the
    /// delivery or drop that follows is). New kinds go last: the
    /// discriminant is part of the trace hash.
    Send,
}

impl TraceKind {
    /// Name in the JSONL trace.
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Send => "send",
            TraceKind::Deliver => "deliver",
            TraceKind::Drop => "drop",
            TraceKind::Timer => "timer",
            TraceKind::Fault => "fault",
            TraceKind::Record => "record",
            TraceKind::Phase => "phase",
        }
    }
    fn code(self) -> u8 {
        self as u8
    }
}

/// One event as a tracer sees it. `details` is formatted lazily.
pub struct TraceEvent<'a> {
    /// Virtual time.
    pub time: SimTime,
    /// Kind.
    pub kind: TraceKind,
    /// Where it happens: the receiver of a message (also for its send and
    /// drop events), the node of a timer or fault.
    pub at: Option<Endpoint>,
    /// The sender, for messages.
    pub from: Option<Endpoint>,
    /// A short label: message kind, timer name, fault or record name.
    pub label: &'a str,
    /// Human-readable details.
    pub details: &'a dyn fmt::Display,
    /// For messages: the message's number in the run (a send, its delivery
    /// or its drop share it), so exporters can draw arrows and flows.
    pub id: Option<u64>,
    /// For messages: when it was sent.
    pub sent_at: Option<SimTime>,
    /// The key the event concerns, when there is one.
    pub key: Option<u64>,
}

/// Receives every trace event in order (e.g. to write JSONL). Never consulted
/// by the simulation: tracing cannot change a run.
pub trait Tracer {
    /// One event.
    fn event(&mut self, event: &TraceEvent<'_>);
}

pub(crate) fn endpoint_code(e: Option<Endpoint>) -> u64 {
    match e {
        None => u64::MAX,
        Some(Endpoint::Node(n)) => u64::from(n.0),
        Some(Endpoint::Client(c)) => 1 << 32 | u64::from(c.0),
    }
}

/// The running trace hash.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceHash {
    h: Fnv64,
    events: u64,
}

impl TraceHash {
    /// Mixes one event in: FNV-1a over the event's seven 64-bit words
    /// (time, kind, at, from, sub-kind, tag, key), one word per step.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        time: SimTime,
        kind: TraceKind,
        at: Option<Endpoint>,
        from: Option<Endpoint>,
        sub: u64,
        tag: u64,
        key: u64,
    ) {
        for word in [
            time.as_micros(),
            u64::from(kind.code()),
            endpoint_code(at),
            endpoint_code(from),
            sub,
            tag,
            key,
        ] {
            self.h.write_word(word);
        }
        self.events += 1;
    }
    /// The hash.
    pub fn value(&self) -> u64 {
        self.h.finish()
    }
    /// Events hashed.
    pub fn events(&self) -> u64 {
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        let mut h = Fnv64::default();
        h.write(b"");
        assert_eq!(h.finish(), 0xcbf29ce484222325);
        let mut h = Fnv64::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63dc4c8601ec8c);
        let mut h = Fnv64::default();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x85944171f73967e8);
    }
}
