//! Observations: what the simulation reports about itself.
//!
//! Nodes, clients and the engine emit [`Record`]s; the engine hands each one,
//! with its virtual time, to a [`Sink`] (ripgrep's searcher → printer split).
//! `sim-core` never aggregates records into floats; the `reports` crate does.
//! Records carry the ground truth the checkers need: which write a put wrote,
//! which values it was based on, which values a read returned, and what every
//! replica holds at the end.

use crate::dynamo::protocol::{Failure, Value};
use crate::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};
use crate::engine::time::SimTime;
use crate::world::faults::FaultAction;

/// The kind of a client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// `get`.
    Get,
    /// `put` (read-modify-write or blind).
    Put,
    /// `delete` (a put of a tombstone).
    Delete,
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 3] = [OpKind::Get, OpKind::Put, OpKind::Delete];
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Put => "put",
            OpKind::Delete => "delete",
        }
    }
}

/// One observation.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A client invoked an operation.
    OpInvoked {
        /// The operation.
        op: OpId,
        /// Its kind.
        kind: OpKind,
        /// The key.
        key: Key,
        /// For puts and deletes: the unique write.
        write: Option<WriteId>,
        /// For puts and deletes: the values this write causally supersedes
        /// (ground truth, from the preceding read; empty for a blind write).
        based_on: Vec<WriteId>,
        /// A put with no preceding read (no context): in register semantics it
        /// overwrites whatever was acknowledged before it was invoked.
        blind: bool,
        /// For reconciling puts: sibling values the client chose to drop
        /// (client-side last-writer-wins); they are superseded but their data
        /// is not carried forward.
        discarded: Vec<WriteId>,
    },
    /// A client operation finished (succeeded, failed or timed out).
    OpCompleted {
        /// The operation.
        op: OpId,
        /// Its kind.
        kind: OpKind,
        /// The key.
        key: Key,
        /// When the client invoked it.
        invoked: SimTime,
        /// Success or the failure.
        result: Result<(), Failure>,
        /// For gets, and for puts with `return_body`: the values returned
        /// (siblings).
        values: Vec<Value>,
        /// The bytes of those values (the object's size, the sum of their
        /// `VersionData::size`); 0 when there are none.
        bytes: u64,
        /// The node that coordinated, when a reply came.
        coordinator: Option<NodeId>,
    },
    /// A coordinator received the W-th acknowledgement of a put (its own
    /// local write counts): the write is *committed*, the origin of PBS's
    /// t-visibility, whether or not the client ever hears of it (the reply
    /// can be lost, or arrive after the client gave up). A request delivered
    /// twice is coordinated twice and commits twice; the first one counts.
    WriteCommitted {
        /// The client operation.
        op: OpId,
        /// The key.
        key: Key,
        /// The value written.
        write: WriteId,
        /// The coordinator.
        coordinator: NodeId,
    },
    /// A fault was applied.
    Fault {
        /// What happened.
        action: FaultAction,
    },
    /// A node stored a hinted replica for an unreachable owner (§4.6).
    HintStored {
        /// The node holding the hint.
        holder: NodeId,
        /// The intended owner.
        owner: NodeId,
        /// The key.
        key: Key,
    },
    /// A node handed hints to their owner, which acknowledged them.
    HintsDelivered {
        /// The node that held them.
        holder: NodeId,
        /// The owner.
        owner: NodeId,
        /// How many.
        count: u32,
    },
    /// A coordinator sent read repairs.
    ReadRepair {
        /// The coordinator.
        coordinator: NodeId,
        /// The key.
        key: Key,
        /// Replicas repaired.
        replicas: u32,
    },
    /// A node started treating a peer as down (§4.8.3).
    PeerSuspected {
        /// The node that noticed.
        by: NodeId,
        /// The peer.
        peer: NodeId,
    },
    /// A node purged tombstones past their grace period.
    TombstonesPurged {
        /// The node.
        node: NodeId,
        /// How many.
        count: u32,
    },
    /// A crash lost buffered (unflushed) writes.
    BufferLost {
        /// The node.
        node: NodeId,
        /// Versions lost.
        versions: u32,
    },
    /// End of run: the values a node holds for a key (main store and write
    /// buffer; a crashed node's durable store counts, a lost disk does not).
    FinalValues {
        /// The node.
        node: NodeId,
        /// The key.
        key: Key,
        /// The values.
        values: Vec<Value>,
        /// Whether the node is one of the key's top-N replicas.
        replica: bool,
    },
    /// End of run: a hint a node still holds.
    FinalHint {
        /// The holder.
        node: NodeId,
        /// The key.
        key: Key,
        /// The value.
        value: Value,
    },
    /// After the workload stopped, every range's replicas had equal Merkle
    /// roots for the first time (observed by the engine every 100 ms of
    /// virtual time; needs anti-entropy's trees).
    ReplicasConverged,
    /// A client session was created (lets reports size per-client tables).
    ClientStarted {
        /// The client.
        client: ClientId,
    },
    /// A node stopped treating a peer as down.
    PeerTrusted {
        /// The node.
        by: NodeId,
        /// The peer.
        peer: NodeId,
    },
    /// An administrative membership change was issued at a node (§4.8.1).
    MembershipChange {
        /// Where the change was issued.
        at: NodeId,
        /// The member whose state changed.
        member: NodeId,
        /// The member's new state version.
        version: u64,
        /// `join`, `leave`, `left`, `replace`, `reassign`.
        change: &'static str,
    },
    /// A node adopted a newer state of a member through gossip.
    MembershipLearned {
        /// The node.
        node: NodeId,
        /// The member.
        member: NodeId,
        /// The state version learned.
        version: u64,
    },
    /// Observed by the engine: every member that is up knows this change.
    MembershipConverged {
        /// The member.
        member: NodeId,
        /// The state version.
        version: u64,
        /// When it was issued.
        issued: SimTime,
        /// Gossip rounds (intervals) it took.
        rounds: u32,
    },
    /// A node that lost key ranges offered them to a new owner (§4.9).
    TransferOffered {
        /// The node giving keys.
        giver: NodeId,
        /// The new owner.
        target: NodeId,
        /// The transfer's id.
        transfer: u64,
        /// Keys offered.
        keys: u32,
    },
    /// A key transfer finished: the new owner acknowledged every batch.
    TransferDone {
        /// The node giving keys.
        giver: NodeId,
        /// The new owner.
        target: NodeId,
        /// The transfer's id.
        transfer: u64,
        /// Keys moved.
        keys: u32,
        /// Versions moved.
        versions: u32,
        /// When the offer was made.
        offered: SimTime,
    },
    /// A node that gained ranges (a join or a replacement) with pending
    /// ownership has received every one of them and serves all its reads.
    BootstrapDone {
        /// The node.
        node: NodeId,
        /// When it took its place in the ring.
        started: SimTime,
        /// When the first transfer to it was offered (data started moving).
        first_offer: Option<SimTime>,
        /// Ranges it waited for.
        ranges: u32,
    },
    /// Observed by the engine (every 100 ms of virtual time, with or
    /// without anti-entropy): how many keys' top-N replicas, in the
    /// engine's judging ring, hold different sets of values (main store and
    /// write buffer, as `FinalValues` reports them). Emitted when the count
    /// changes (or its oldest disagreement does) and once at the end of the
    /// run; the count holds from the
    /// record's time until the next one. Observation only: no events, no
    /// random draws, not part of the trace hash.
    Divergence {
        /// Keys whose replicas disagree.
        divergent_keys: u64,
        /// The earliest check from which one of them has disagreed at
        /// every check (`None` when none does): every key divergent at an
        /// instant has since agreed once this is later than the instant.
        oldest_since: Option<SimTime>,
    },
    /// The load phase stored one value per key (`workload.keys.preload`):
    /// keys `0..keys` hold [`WriteId::preloaded`](crate::engine::ids::WriteId::preloaded),
    /// acknowledged at time 0. Emitted once, before anything else.
    Preloaded {
        /// How many keys were loaded.
        keys: u64,
    },
    /// A put left (or, refused, would have left) more siblings than a
    /// `cluster.sibling_limits` bound at its coordinator.
    SiblingLimit {
        /// The coordinator.
        coordinator: NodeId,
        /// The key.
        key: Key,
        /// Siblings the write left or would have left.
        siblings: u32,
        /// Whether the write was refused (`refuse_above`) or only warned
        /// about (`warn_above`).
        refused: bool,
    },
    /// A `corrupt` fault silently corrupted stored versions on a node.
    VersionsCorrupted {
        /// The node.
        node: NodeId,
        /// Versions corrupted.
        versions: u32,
    },
    /// A node's checksum caught corrupted versions of a key as it read them;
    /// it dropped them from its store.
    CorruptionDetected {
        /// The node.
        node: NodeId,
        /// The key.
        key: Key,
        /// Versions dropped.
        versions: u32,
    },
    /// A client read returned corrupted data (ground truth, from the
    /// versions it received).
    CorruptRead {
        /// The read.
        op: OpId,
        /// The key.
        key: Key,
        /// Corrupted versions among those returned.
        versions: u32,
    },
    /// End of run: corrupted versions a node still holds for a key.
    FinalCorrupted {
        /// The node.
        node: NodeId,
        /// The key.
        key: Key,
        /// Corrupted versions.
        versions: u32,
    },
}

impl Record {
    /// A short name for traces.
    pub fn name(&self) -> &'static str {
        match self {
            Record::OpInvoked { .. } => "op_invoked",
            Record::OpCompleted { .. } => "op_completed",
            Record::WriteCommitted { .. } => "write_committed",
            Record::Fault { .. } => "fault",
            Record::HintStored { .. } => "hint_stored",
            Record::HintsDelivered { .. } => "hints_delivered",
            Record::ReadRepair { .. } => "read_repair",
            Record::PeerSuspected { .. } => "peer_suspected",
            Record::TombstonesPurged { .. } => "tombstones_purged",
            Record::BufferLost { .. } => "buffer_lost",
            Record::FinalValues { .. } => "final_values",
            Record::FinalHint { .. } => "final_hint",
            Record::ClientStarted { .. } => "client_started",
            Record::ReplicasConverged => "replicas_converged",
            Record::PeerTrusted { .. } => "peer_trusted",
            Record::MembershipChange { .. } => "membership_change",
            Record::MembershipLearned { .. } => "membership_learned",
            Record::MembershipConverged { .. } => "membership_converged",
            Record::TransferOffered { .. } => "transfer_offered",
            Record::TransferDone { .. } => "transfer_done",
            Record::Preloaded { .. } => "preloaded",
            Record::SiblingLimit { .. } => "sibling_limit",
            Record::VersionsCorrupted { .. } => "versions_corrupted",
            Record::CorruptionDetected { .. } => "corruption_detected",
            Record::CorruptRead { .. } => "corrupt_read",
            Record::FinalCorrupted { .. } => "final_corrupted",
            Record::BootstrapDone { .. } => "bootstrap_done",
            Record::Divergence { .. } => "divergence",
        }
    }
}

/// Where records go.
pub trait Sink {
    /// Receives one record at virtual time `at`, in run order.
    fn record(&mut self, at: SimTime, record: &Record);

    /// Receives one record by value: the engine's way of handing over what
    /// it no longer needs, so that a sink that keeps records (a batch for
    /// another thread, a list) moves them instead of cloning. By default
    /// lends it to [`Sink::record`].
    fn record_owned(&mut self, at: SimTime, record: Record) {
        self.record(at, &record);
    }

    /// The run's end phase begins: the records that follow report what the
    /// nodes hold at the end, and the engine releases each node's data as
    /// soon as the node has reported it. A sink that does its work on
    /// another thread may take it back here, so that what it builds from
    /// the end state is allocated where the engine's freed memory is (an
    /// allocator reuses a thread's freed memory for that thread). A hint
    /// only: the records are the same either way. A sink that wraps
    /// another passes it on. By default nothing.
    fn end_phase(&mut self) {}
}

/// Drops every record.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn record(&mut self, _at: SimTime, _record: &Record) {}
}

impl Sink for Vec<(SimTime, Record)> {
    fn record(&mut self, at: SimTime, record: &Record) {
        self.push((at, record.clone()));
    }

    fn record_owned(&mut self, at: SimTime, record: Record) {
        self.push((at, record));
    }
}
