//! The wire protocol: one closed enum per sub-protocol, wrapped by [`Msg`].
//!
//! Every message a node or client can send is a variant here, with named
//! fields. [`MsgKind`] classifies messages for the network model (each kind may
//! have its own latency distribution) and for message counts in reports. This
//! module holds data only: no behaviour beyond classification and display.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Weak};

use crate::dynamo::ring::RangeId;
use crate::dynamo::vclock::VectorClock;
use crate::engine::ids::{ClientId, Key, NodeId, OpId, RequestId, WriteId};

/// What a version holds: a written value or a delete marker. Values are
/// identified by the unique write that produced them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A value written by a put.
    Data(WriteId),
    /// A tombstone written by a delete.
    Tombstone(WriteId),
}

impl Value {
    /// The value of the write `(client, seq)`: a delete marker when
    /// `tombstone` (the parts the compact forms keep, [`VersionData`] and
    /// [`PutValue`]).
    pub fn of(client: ClientId, seq: u64, tombstone: bool) -> Value {
        let w = WriteId(OpId { client, seq });
        if tombstone {
            Value::Tombstone(w)
        } else {
            Value::Data(w)
        }
    }

    /// The write that produced this value.
    pub fn write(self) -> WriteId {
        match self {
            Value::Data(w) | Value::Tombstone(w) => w,
        }
    }
    /// True for a delete marker.
    pub fn is_tombstone(self) -> bool {
        self.tombstone().is_some()
    }

    /// The delete that wrote this marker, for a delete marker.
    pub fn tombstone(self) -> Option<WriteId> {
        match self {
            Value::Tombstone(w) => Some(w),
            Value::Data(_) => None,
        }
    }
}

/// The last-write-wins stamp: the coordinator's local (possibly skewed) clock
/// reading, ties broken by the write's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LwwStamp {
    /// The coordinator's local clock when it accepted the put, microseconds.
    pub local_time_us: u64,
    /// Tie-breaker.
    pub write: WriteId,
}

/// One version of a key's value: the value and its causal history.
///
/// `clock` is the version's vector clock (§4.4): the context the client sent,
/// with the coordinator's entry incremented. `seen` is the coordinator's entry
/// in that context *before* the increment, so the version's causal past is
/// exactly "`clock` with the coordinator's entry lowered to `seen`". Keeping
/// it lets two writes coordinated by the same node from the same context stay
/// siblings instead of one silently replacing the other (the failure the
/// paper's Figure 3 does not show, later fixed by dotted version vectors).
///
/// A version is written once, by its coordinator, and then copied to
/// replicas, read replies, hints and repairs: it is shared, not copied (one
/// allocation per write, however many stores and messages hold it). A
/// change to one holder's copy (a corrupted disk, a vnode clock's merge)
/// copies it first ([`Arc::make_mut`] behind `DerefMut`), so no other holder
/// sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Version(Arc<VersionData>);

impl Version {
    /// A new version.
    pub fn new(data: VersionData) -> Self {
        Version(Arc::new(data))
    }

    /// True when `a` and `b` are the same allocation (shared, not only
    /// equal).
    pub fn shared(a: &Version, b: &Version) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// A weak reference to this version (see [`Version::upgrade`]).
    pub fn downgrade(&self) -> Weak<VersionData> {
        Arc::downgrade(&self.0)
    }

    /// The version `weak` refers to, while anything still holds it.
    pub fn upgrade(weak: &Weak<VersionData>) -> Option<Version> {
        weak.upgrade().map(Version)
    }
}

impl Deref for Version {
    type Target = VersionData;
    fn deref(&self) -> &VersionData {
        &self.0
    }
}

impl DerefMut for Version {
    /// This holder's own copy (copied first if shared).
    fn deref_mut(&mut self) -> &mut VersionData {
        Arc::make_mut(&mut self.0)
    }
}

impl fmt::Debug for Version {
    /// As the struct it was before it was shared: `Version { clock, .. }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug_fields(&mut f.debug_struct("Version"))
    }
}

/// The contents of a [`Version`].
///
/// The value and the corruption flag are private: the value's write and its
/// delete flag are kept as separate fields so that the flags fill the
/// write's padding (64 bytes in all, which with the shared pointer's counts
/// is a heap block of 80 bytes, not 96, per version stored). Read them with
/// [`VersionData::value`] and [`VersionData::corrupted`].
#[derive(Clone, PartialEq, Eq)]
pub struct VersionData {
    /// The vector clock (§4.4). Empty in last-write-wins mode.
    pub clock: VectorClock,
    /// The node that coordinated the write (whose entry it incremented).
    pub coordinator: NodeId,
    /// The coordinator's counter in the write's context.
    pub seen: u64,
    /// The value's write: its client and the client's operation counter.
    write_client: ClientId,
    write_seq: u64,
    /// The value is a delete marker ([`Value::Tombstone`]).
    tombstone: bool,
    /// The coordinator's local (possibly skewed) clock when it accepted the
    /// put, microseconds: with the value's write, the last-write-wins stamp
    /// ([`VersionData::stamp`]; used only in that mode, kept always so reports
    /// can show it).
    pub stamp_us: u64,
    /// Ground truth, not protocol: this copy's bytes were silently corrupted
    /// on a disk (the `corrupt` fault). A node with checksums detects it
    /// when it reads the copy; without, the copy is served as if intact.
    corrupted: bool,
    /// The value's size in bytes (what a message carrying it weighs).
    pub size: u32,
}

impl fmt::Debug for VersionData {
    /// As the derived form of the struct with a `value` field was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_fields(&mut f.debug_struct("VersionData"))
    }
}

impl VersionData {
    /// A version of `value` (not corrupted).
    pub fn new(
        clock: VectorClock,
        coordinator: NodeId,
        seen: u64,
        value: Value,
        stamp_us: u64,
        size: u32,
    ) -> VersionData {
        let mut v = VersionData {
            clock,
            coordinator,
            seen,
            write_client: ClientId(0),
            write_seq: 0,
            tombstone: false,
            stamp_us,
            corrupted: false,
            size,
        };
        v.set_value(value);
        v
    }

    /// The value.
    pub fn value(&self) -> Value {
        Value::of(self.write_client, self.write_seq, self.tombstone)
    }

    /// Replaces the value.
    pub fn set_value(&mut self, value: Value) {
        let WriteId(OpId { client, seq }) = value.write();
        self.write_client = client;
        self.write_seq = seq;
        self.tombstone = value.is_tombstone();
    }

    /// True when this copy's bytes were silently corrupted (ground truth,
    /// see the field).
    pub fn corrupted(&self) -> bool {
        self.corrupted
    }

    /// Marks this copy corrupted (the `corrupt` fault).
    pub fn corrupt(&mut self) {
        self.corrupted = true;
    }

    /// True when both hold the same value (`a.value() == b.value()`).
    pub fn same_value(&self, other: &VersionData) -> bool {
        (self.write_seq, self.write_client, self.tombstone)
            == (other.write_seq, other.write_client, other.tombstone)
    }

    /// The fields, in the order and with the names the struct had when the
    /// value was one field (debug output stays as it was).
    fn debug_fields(&self, d: &mut fmt::DebugStruct<'_, '_>) -> fmt::Result {
        d.field("clock", &self.clock)
            .field("coordinator", &self.coordinator)
            .field("seen", &self.seen)
            .field("value", &self.value())
            .field("stamp_us", &self.stamp_us)
            .field("corrupted", &self.corrupted)
            .field("size", &self.size)
            .finish()
    }

    /// The last-write-wins stamp: the coordinator's clock reading, ties
    /// broken by the write (kept once, in the value, not twice).
    pub fn stamp(&self) -> LwwStamp {
        LwwStamp {
            local_time_us: self.stamp_us,
            write: self.value().write(),
        }
    }

    /// The counter of `node` in this version's causal past (its context).
    pub fn past_counter(&self, node: NodeId) -> u64 {
        if node == self.coordinator {
            self.seen
        } else {
            self.clock.counter(node)
        }
    }

    /// True when this version's writer had seen `other` (or it is the same
    /// write): `other` is obsolete once this version is stored.
    pub fn supersedes(&self, other: &VersionData) -> bool {
        if self.same_value(other) {
            return true;
        }
        other
            .clock
            .entries()
            .all(|(node, entry)| self.past_counter(node) >= entry.counter)
            && !other.clock.is_empty()
    }
}

/// The opaque context a `get` returns and a `put` sends back (§4.1): the
/// merged clock of the versions read, and, with the §5 optimisation, the node
/// that answered the read fastest (to coordinate the write).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The merged vector clock of every version the read returned.
    pub clock: VectorClock,
    /// The replica that answered the preceding read first.
    pub fastest_replica: Option<NodeId>,
}

/// Why a client operation failed (protocol outcome, not a Rust error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// The coordinator's timeout fired before the quorum was met.
    NotEnoughReplicas {
        /// Replies or acks received.
        got: u32,
        /// R or W.
        required: u32,
    },
    /// The client heard nothing before its own timeout.
    ClientTimeout,
    /// The coordinator refused the put: the object would have had more
    /// siblings than `cluster.sibling_limits.refuse_above` (Riak's
    /// `max_siblings`).
    TooManySiblings {
        /// Siblings the write would have left.
        siblings: u32,
        /// The limit.
        limit: u32,
    },
    /// The coordinator's request queue was full (node capacity): refused at
    /// once, as Riak answers `{error, overload}`.
    Overloaded,
    /// The coordinator believed too few nodes reachable to meet the quorum
    /// (or PR/PW) and failed the request at once (`cluster.quorum.fail_fast`,
    /// PR and PW as Riak checks them).
    Unavailable {
        /// Nodes believed reachable (primaries for PR/PW).
        reachable: u32,
        /// What the request needs.
        required: u32,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotEnoughReplicas { got, required } => {
                write!(f, "not_enough_replicas({got}/{required})")
            }
            Failure::ClientTimeout => write!(f, "client_timeout"),
            Failure::TooManySiblings { siblings, limit } => {
                write!(f, "too_many_siblings({siblings}>{limit})")
            }
            Failure::Overloaded => write!(f, "overloaded"),
            Failure::Unavailable {
                reachable,
                required,
            } => write!(f, "unavailable({reachable}/{required})"),
        }
    }
}

/// A [`Value`] as a put request carries it: the write's client, its delete
/// flag and its sequence number in 16 bytes (the flag fills the write id's
/// padding, where [`Value`]'s tag takes 8 bytes more), so that a put, the
/// largest message, keeps every message and event 8 bytes smaller. Shows
/// as the value it stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PutValue {
    client: ClientId,
    tombstone: bool,
    seq: u64,
}

impl From<Value> for PutValue {
    fn from(v: Value) -> Self {
        let WriteId(OpId { client, seq }) = v.write();
        PutValue {
            client,
            tombstone: v.is_tombstone(),
            seq,
        }
    }
}

impl From<PutValue> for Value {
    fn from(v: PutValue) -> Self {
        Value::of(v.client, v.seq, v.tombstone)
    }
}

impl fmt::Debug for PutValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Value::from(*self).fmt(f)
    }
}

/// Client ↔ coordinator (§4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMsg {
    /// `get(key)`.
    Get {
        /// The client operation.
        op: OpId,
        /// The key.
        key: Key,
        /// Set when a node that is not in the preference list passed the request
        /// on, so it is never forwarded twice.
        forwarded: bool,
    },
    /// `put(key, context, value)`; a delete puts a tombstone.
    Put {
        /// The client operation.
        op: OpId,
        /// The key.
        key: Key,
        /// The context from the preceding `get` (empty for a blind write).
        context: Context,
        /// The new value.
        value: PutValue,
        /// The value's size in bytes.
        size: u32,
        /// See [`ClientMsg::Get::forwarded`].
        forwarded: bool,
    },
    /// The answer to a `get`.
    GetReply {
        /// The client operation.
        op: OpId,
        /// The causally unrelated versions found, or why the read failed.
        result: Result<GetResult, Failure>,
        /// The node that coordinated.
        coordinator: NodeId,
    },
    /// The answer to a `put`.
    PutReply {
        /// The client operation.
        op: OpId,
        /// Success, or why the write failed.
        result: Result<(), Failure>,
        /// The node that coordinated.
        coordinator: NodeId,
        /// With `cluster.quorum.return_body` (Riak's `return_body`): the
        /// key's versions after the write, the reconciled merge of what the
        /// acknowledging replicas stored (siblings included). Empty otherwise.
        body: Vec<Version>,
    },
}

/// A successful read: the siblings and the context to write back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetResult {
    /// Causally unrelated versions (one in the common case).
    pub versions: Vec<Version>,
    /// The opaque context for a following put.
    pub context: Context,
}

/// How durably a replica must store a write (§6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Durability {
    /// Write to the durable store before acknowledging.
    Durable,
    /// Acknowledge from the in-memory buffer; flushed periodically.
    Buffered,
}

/// Coordinator ↔ replicas (§4.5, §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaMsg {
    /// Read the local versions of `key`.
    Read {
        /// The coordinator's request.
        request: RequestId,
        /// The key.
        key: Key,
    },
    /// The local versions of `key`.
    ReadReply {
        /// The coordinator's request.
        request: RequestId,
        /// The versions stored (possibly none).
        versions: Vec<Version>,
    },
    /// Store `version` of `key`; with a hint when the receiver stands in for an
    /// unreachable replica (sloppy quorum, §4.6).
    Write {
        /// The coordinator's request.
        request: RequestId,
        /// The key.
        key: Key,
        /// The version to store.
        version: Version,
        /// The coordinator's local siblings that the write's context did not
        /// cover, shipped with it (dotted version vectors and vnode clocks:
        /// the merged object); empty with server clocks.
        siblings: Vec<Version>,
        /// The intended owner when this is a hinted replica.
        hint: Option<NodeId>,
        /// Durable or buffered.
        durability: Durability,
    },
    /// The write was stored.
    WriteAck {
        /// The coordinator's request.
        request: RequestId,
        /// With `cluster.quorum.return_body`: every version of the key the
        /// replica holds after the write (Riak's vnode returns the object it
        /// stored). Empty otherwise.
        versions: Vec<Version>,
    },
    /// The replica has not received the key's range yet (pending
    /// ownership after a join): ask someone else.
    ReadDeclined {
        /// The coordinator's request.
        request: RequestId,
    },
    /// Read repair: store these reconciled versions (no reply expected).
    Repair {
        /// The key.
        key: Key,
        /// The reconciled versions.
        versions: Vec<Version>,
        /// When the repaired node answered the read as a fallback: the
        /// owner it stood in for. It keeps the versions as hints for that
        /// owner (handed off, then deleted), never as a permanent copy of a
        /// key it does not replicate.
        hint: Option<NodeId>,
    },
}

/// Hinted handoff (§4.6): a node holding hints hands them to their owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandoffMsg {
    /// Hinted versions for the receiver, which owns them.
    Deliver {
        /// Identifies the batch for the acknowledgement.
        batch: u64,
        /// The hinted versions.
        hints: Vec<(Key, Version)>,
    },
    /// The owner stored the batch; the holder may drop those hints.
    Delivered {
        /// The batch.
        batch: u64,
    },
}

/// Merkle-tree anti-entropy between two replicas of a range (§4.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncMsg {
    /// The initiator's root hash for the range.
    Root {
        /// Identifies the exchange.
        exchange: u64,
        /// The key range.
        range: RangeId,
        /// Root hash.
        hash: u64,
    },
    /// Roots are equal: nothing to do.
    InSync {
        /// The exchange.
        exchange: u64,
    },
    /// Hashes of tree nodes at `level` (children of differing nodes).
    Hashes {
        /// The exchange.
        exchange: u64,
        /// The key range.
        range: RangeId,
        /// Tree level of these nodes (root = 0).
        level: u32,
        /// `(index, hash)` per node.
        hashes: Vec<(u32, u64)>,
    },
    /// "Send me the children of these nodes at `level`."
    Descend {
        /// The exchange.
        exchange: u64,
        /// The key range.
        range: RangeId,
        /// Level of the differing nodes.
        level: u32,
        /// Their indices.
        indices: Vec<u32>,
    },
    /// The initiator's key digests in the differing leaves.
    Leaves {
        /// The exchange.
        exchange: u64,
        /// The key range.
        range: RangeId,
        /// The differing leaves.
        leaves: Vec<u32>,
        /// `(key, digest)` of the initiator's keys there.
        entries: Vec<(Key, u64)>,
    },
    /// Versions of differing keys, and the keys the sender wants back.
    Versions {
        /// The exchange.
        exchange: u64,
        /// The key range.
        range: RangeId,
        /// The sender's versions of keys that differ.
        versions: Vec<(Key, Vec<Version>)>,
        /// Keys the receiver should send its versions of.
        want: Vec<Key>,
    },
}

/// One member's entry in a node's membership history (§4.8.1): its status
/// and placement, with a version that only the change's issuer increments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    /// Higher wins when two views reconcile.
    pub version: u64,
    /// In the ring, on its way out, or gone.
    pub status: MemberStatus,
    /// Its datacenter.
    pub datacenter: crate::engine::ids::DatacenterId,
    /// Its tokens (strategies 1 and 2) or partitions (strategy 3).
    pub placement: Vec<u128>,
}

/// A member's place in the ring's life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberStatus {
    /// Owns its tokens.
    Normal,
    /// Decommissioned: out of the ring, handing its keys to the new owners.
    Leaving,
    /// Gone (kept so gossip never brings it back).
    Left,
}

/// A ring handed to a partition-aware client. Compared by identity.
#[derive(Clone, Debug)]
pub struct RingView(pub std::sync::Arc<crate::dynamo::ring::Ring>);

impl PartialEq for RingView {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RingView {}

/// Gossip-based membership and failure detection (§4.8). A round costs one
/// message when the two views already agree (equal hashes); otherwise the
/// digest and then only the differing member states travel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipMsg {
    /// Opens a round: the initiator's membership hash, and (with the
    /// phi-accrual detector) its heartbeat table.
    Syn {
        /// Hash of every `(member, version)` the sender knows.
        hash: u64,
        /// `(node, generation, counter)` per known heartbeat.
        heartbeats: Vec<(NodeId, u64, u64)>,
    },
    /// The hashes differed: the receiver's `(member, version)` digest.
    Digest {
        /// Every member the sender knows, with the version it holds.
        digest: Vec<(NodeId, u64)>,
    },
    /// Member states the other side lacks, and members the sender wants.
    Delta {
        /// Newer states.
        states: Vec<(NodeId, MemberState)>,
        /// Members whose states the sender asks for.
        wants: Vec<NodeId>,
    },
    /// A partition-aware client asks for the node's current ring (§4.5).
    ViewRequest,
    /// With phi-accrual: the receiver of a `Syn` answers with its own
    /// heartbeat table, so heartbeats spread push-pull.
    Heartbeats {
        /// `(node, generation, counter)` per known heartbeat.
        heartbeats: Vec<(NodeId, u64, u64)>,
    },
    /// The answer.
    View {
        /// The node's ring.
        ring: RingView,
    },
}

/// Key transfer when ranges change hands on join and leave (§4.9): the
/// giver offers, the new owner confirms, then batches flow one at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferMsg {
    /// "I hold keys you now own."
    Offer {
        /// The transfer.
        transfer: u64,
        /// How many keys.
        keys: u32,
        /// The ranges (by their end token in the giver's view) the giver is
        /// responsible for handing over, including those it holds no key
        /// of: once the transfer completes the receiver has every key of
        /// them (pending ownership).
        ranges: Vec<crate::dynamo::ring::Token>,
    },
    /// The new owner confirms it takes them.
    Accept {
        /// The transfer.
        transfer: u64,
    },
    /// Some of the keys, every version of each.
    Batch {
        /// The transfer.
        transfer: u64,
        /// Batch number, from 0.
        seq: u32,
        /// The versions.
        versions: Vec<(Key, Version)>,
    },
    /// The new owner stored a batch.
    BatchAck {
        /// The transfer.
        transfer: u64,
        /// The batch.
        seq: u32,
    },
}

/// Every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Client ↔ coordinator.
    Client(ClientMsg),
    /// Coordinator ↔ replica.
    Replica(ReplicaMsg),
    /// Hinted handoff.
    Handoff(HandoffMsg),
    /// Merkle anti-entropy.
    AntiEntropy(SyncMsg),
    /// Membership gossip.
    Gossip(GossipMsg),
    /// Key transfer on membership changes.
    Transfer(TransferMsg),
}

/// Message classes for per-kind latency and for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MsgKind {
    /// Client request to a node (get or put).
    ClientRequest,
    /// Coordinator's answer to a client.
    ClientReply,
    /// A request passed on by a node outside the preference list.
    Forward,
    /// Coordinator asks a replica to read.
    ReadRequest,
    /// Replica's read answer.
    ReadResponse,
    /// Coordinator asks a replica to write.
    WriteRequest,
    /// Replica's write acknowledgement.
    WriteAck,
    /// Read repair write.
    Repair,
    /// Hinted handoff delivery.
    Handoff,
    /// Hinted handoff acknowledgement.
    HandoffAck,
    /// Merkle anti-entropy exchange.
    AntiEntropy,
    /// Membership gossip (and client view refreshes).
    Gossip,
    /// Key transfer on join and leave.
    Transfer,
}

impl MsgKind {
    /// Every kind, in a fixed order.
    pub const ALL: [MsgKind; 13] = [
        MsgKind::ClientRequest,
        MsgKind::ClientReply,
        MsgKind::Forward,
        MsgKind::ReadRequest,
        MsgKind::ReadResponse,
        MsgKind::WriteRequest,
        MsgKind::WriteAck,
        MsgKind::Repair,
        MsgKind::Handoff,
        MsgKind::HandoffAck,
        MsgKind::AntiEntropy,
        MsgKind::Gossip,
        MsgKind::Transfer,
    ];

    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            MsgKind::ClientRequest => "client_request",
            MsgKind::ClientReply => "client_reply",
            MsgKind::Forward => "forward",
            MsgKind::ReadRequest => "read_request",
            MsgKind::ReadResponse => "read_response",
            MsgKind::WriteRequest => "write_request",
            MsgKind::WriteAck => "write_ack",
            MsgKind::Repair => "repair",
            MsgKind::Handoff => "handoff",
            MsgKind::HandoffAck => "handoff_ack",
            MsgKind::AntiEntropy => "anti_entropy",
            MsgKind::Gossip => "gossip",
            MsgKind::Transfer => "transfer",
        }
    }

    /// Parses a [`MsgKind::name`].
    pub fn from_name(name: &str) -> Option<MsgKind> {
        MsgKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// True for background work (§6.5: read repair, hinted handoff,
    /// anti-entropy, gossip, key transfers), as opposed to the foreground
    /// get/put path.
    pub fn is_background(self) -> bool {
        matches!(
            self,
            MsgKind::Repair
                | MsgKind::Handoff
                | MsgKind::HandoffAck
                | MsgKind::AntiEntropy
                | MsgKind::Gossip
                | MsgKind::Transfer
        )
    }

    /// Dense index (for per-kind tables).
    pub fn index(self) -> usize {
        MsgKind::ALL
            .iter()
            .position(|k| *k == self)
            .expect("ALL lists every kind")
    }
}

impl Msg {
    /// The class of this message.
    pub fn kind(&self) -> MsgKind {
        match self {
            Msg::Client(ClientMsg::Get { forwarded, .. } | ClientMsg::Put { forwarded, .. }) => {
                if *forwarded {
                    MsgKind::Forward
                } else {
                    MsgKind::ClientRequest
                }
            }
            Msg::Client(ClientMsg::GetReply { .. } | ClientMsg::PutReply { .. }) => {
                MsgKind::ClientReply
            }
            Msg::Replica(ReplicaMsg::Read { .. }) => MsgKind::ReadRequest,
            Msg::Replica(ReplicaMsg::ReadReply { .. } | ReplicaMsg::ReadDeclined { .. }) => {
                MsgKind::ReadResponse
            }
            Msg::Replica(ReplicaMsg::Write { .. }) => MsgKind::WriteRequest,
            Msg::Replica(ReplicaMsg::WriteAck { .. }) => MsgKind::WriteAck,
            Msg::Replica(ReplicaMsg::Repair { .. }) => MsgKind::Repair,
            Msg::Handoff(HandoffMsg::Deliver { .. }) => MsgKind::Handoff,
            Msg::Handoff(HandoffMsg::Delivered { .. }) => MsgKind::HandoffAck,
            Msg::AntiEntropy(_) => MsgKind::AntiEntropy,
            Msg::Gossip(_) => MsgKind::Gossip,
            Msg::Transfer(_) => MsgKind::Transfer,
        }
    }

    /// The key the message is about, when there is exactly one.
    pub fn key(&self) -> Option<Key> {
        match self {
            Msg::Client(ClientMsg::Get { key, .. } | ClientMsg::Put { key, .. }) => Some(*key),
            Msg::Replica(
                ReplicaMsg::Read { key, .. }
                | ReplicaMsg::Write { key, .. }
                | ReplicaMsg::Repair { key, .. },
            ) => Some(*key),
            _ => None,
        }
    }

    /// A number that identifies the request/operation in the trace hash.
    pub fn tag(&self) -> u64 {
        match self {
            Msg::Client(
                ClientMsg::Get { op, .. }
                | ClientMsg::Put { op, .. }
                | ClientMsg::GetReply { op, .. }
                | ClientMsg::PutReply { op, .. },
            ) => u64::from(op.client.0) << 40 | op.seq,
            Msg::Replica(
                ReplicaMsg::Read { request, .. }
                | ReplicaMsg::ReadReply { request, .. }
                | ReplicaMsg::Write { request, .. }
                | ReplicaMsg::WriteAck { request, .. }
                | ReplicaMsg::ReadDeclined { request },
            ) => request.0,
            Msg::Replica(ReplicaMsg::Repair { versions, .. }) => versions.len() as u64,
            Msg::Handoff(HandoffMsg::Deliver { batch, .. } | HandoffMsg::Delivered { batch }) => {
                *batch
            }
            Msg::AntiEntropy(
                SyncMsg::Root { exchange, .. }
                | SyncMsg::InSync { exchange }
                | SyncMsg::Hashes { exchange, .. }
                | SyncMsg::Descend { exchange, .. }
                | SyncMsg::Leaves { exchange, .. }
                | SyncMsg::Versions { exchange, .. },
            ) => *exchange,
            Msg::Gossip(g) => match g {
                GossipMsg::Syn { hash, .. } => *hash,
                GossipMsg::Digest { digest } => digest.len() as u64,
                GossipMsg::Delta { states, wants } => {
                    (states.len() as u64) << 32 | wants.len() as u64
                }
                GossipMsg::ViewRequest => 1,
                GossipMsg::Heartbeats { heartbeats } => heartbeats.len() as u64,
                GossipMsg::View { ring } => ring.0.range_count() as u64,
            },
            Msg::Transfer(
                TransferMsg::Offer { transfer, .. }
                | TransferMsg::Accept { transfer }
                | TransferMsg::Batch { transfer, .. }
                | TransferMsg::BatchAck { transfer, .. },
            ) => *transfer,
        }
    }
}

/// What a message weighs on the wire, in bytes: an envelope plus what it
/// carries. The constants are round figures for a binary encoding (ids and
/// counters 8 bytes, a vector clock entry 16: node, counter, timestamp); a
/// value weighs its own [`VersionData::size`].
///
/// A list of versions is encoded as a sequence of objects: a run of
/// versions with equal clocks carries the clock once (a vnode-clock object,
/// whose siblings share the object's clock; or dotted siblings that happen
/// to share a clock), and each version carries its own dot (coordinator and
/// counter, in [`wire::VERSION`]) and value. So a write shipped with the
/// coordinator's siblings (dotted version vectors, vnode clocks) weighs every
/// sibling's value, and an exploded vnode object weighs all its values but
/// one clock.
pub mod wire {
    /// Envelope: kind, ids, request or batch number, sender and receiver.
    pub const HEADER: u64 = 64;
    /// A key.
    pub const KEY: u64 = 16;
    /// Per version beyond its value: value id, LWW stamp, its dot
    /// (coordinator and the counter it had seen).
    pub const VERSION: u64 = 32;
    /// A vector clock entry.
    pub const CLOCK_ENTRY: u64 = 16;
    /// A Merkle hash or a key digest with its index.
    pub const HASH: u64 = 12;
    /// A member state (status, version, datacenter) besides its placement.
    pub const MEMBER: u64 = 32;
    /// A token or partition number.
    pub const TOKEN: u64 = 16;
    /// A heartbeat entry.
    pub const HEARTBEAT: u64 = 24;
}

/// A list of (key, version) pairs: each key once per run of the same key,
/// and within a run the versions as [`versions_bytes`] counts them.
fn keyed_bytes(vs: &[(Key, Version)]) -> u64 {
    let mut total = 0;
    let mut previous: Option<(Key, &VectorClock)> = None;
    for (k, v) in vs {
        total += wire::VERSION + u64::from(v.size);
        match previous {
            Some((pk, pc)) if pk == *k => {
                if pc != &v.clock {
                    total += wire::CLOCK_ENTRY * v.clock.len() as u64;
                }
            }
            _ => total += wire::KEY + wire::CLOCK_ENTRY * v.clock.len() as u64,
        }
        previous = Some((*k, &v.clock));
    }
    total
}

/// A list of versions: each version's dot and value, and each run of equal
/// clocks' clock once (see [`wire`]).
fn versions_bytes<'a>(vs: impl IntoIterator<Item = &'a Version>) -> u64 {
    let mut total = 0;
    let mut previous: Option<&VectorClock> = None;
    for v in vs {
        total += wire::VERSION + u64::from(v.size);
        if previous != Some(&v.clock) {
            total += wire::CLOCK_ENTRY * v.clock.len() as u64;
        }
        previous = Some(&v.clock);
    }
    total
}

impl Msg {
    /// The message's size on the wire (see [`wire`]).
    pub fn size_bytes(&self) -> u64 {
        use wire::*;
        let versions = |vs: &[Version]| versions_bytes(vs);
        HEADER
            + match self {
                Msg::Client(m) => match m {
                    ClientMsg::Get { .. } => KEY,
                    ClientMsg::Put { context, size, .. } => {
                        KEY + CLOCK_ENTRY * context.clock.len() as u64 + u64::from(*size)
                    }
                    ClientMsg::GetReply { result, .. } => match result {
                        Ok(r) => versions(&r.versions) + CLOCK_ENTRY * r.context.clock.len() as u64,
                        Err(_) => 0,
                    },
                    ClientMsg::PutReply { body, .. } => versions(body),
                },
                Msg::Replica(m) => match m {
                    ReplicaMsg::Read { .. } => KEY,
                    ReplicaMsg::ReadReply { versions: vs, .. } => versions(vs),
                    ReplicaMsg::Write {
                        version, siblings, ..
                    } => KEY + versions_bytes(std::iter::once(version).chain(siblings)),
                    ReplicaMsg::WriteAck { versions: vs, .. } => versions(vs),
                    ReplicaMsg::ReadDeclined { .. } => 0,
                    ReplicaMsg::Repair { versions: vs, .. } => KEY + versions(vs),
                },
                Msg::Handoff(m) => match m {
                    HandoffMsg::Deliver { hints, .. } => keyed_bytes(hints),
                    HandoffMsg::Delivered { .. } => 0,
                },
                Msg::AntiEntropy(m) => match m {
                    SyncMsg::Root { .. } | SyncMsg::InSync { .. } => HASH,
                    SyncMsg::Hashes { hashes, .. } => HASH * hashes.len() as u64,
                    SyncMsg::Descend { indices, .. } => 4 * indices.len() as u64,
                    SyncMsg::Leaves {
                        leaves, entries, ..
                    } => 4 * leaves.len() as u64 + (KEY + HASH) * entries.len() as u64,
                    SyncMsg::Versions {
                        versions: vs, want, ..
                    } => {
                        vs.iter().map(|(_, v)| KEY + versions(v)).sum::<u64>()
                            + KEY * want.len() as u64
                    }
                },
                Msg::Gossip(m) => match m {
                    GossipMsg::Syn { heartbeats, .. } | GossipMsg::Heartbeats { heartbeats } => {
                        HASH + HEARTBEAT * heartbeats.len() as u64
                    }
                    GossipMsg::Digest { digest } => HASH * digest.len() as u64,
                    GossipMsg::Delta { states, wants } => {
                        states
                            .iter()
                            .map(|(_, st)| MEMBER + TOKEN * st.placement.len() as u64)
                            .sum::<u64>()
                            + 8 * wants.len() as u64
                    }
                    GossipMsg::ViewRequest => 0,
                    GossipMsg::View { ring } => TOKEN * ring.0.range_count() as u64,
                },
                Msg::Transfer(m) => match m {
                    TransferMsg::Offer { ranges, .. } => TOKEN * ranges.len() as u64,
                    TransferMsg::Accept { .. } | TransferMsg::BatchAck { .. } => 0,
                    TransferMsg::Batch { versions: vs, .. } => keyed_bytes(vs),
                },
            }
    }
}

/// Where a message goes: a storage node or a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A storage node.
    Node(NodeId),
    /// A client session.
    Client(ClientId),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Node(n) => n.fmt(f),
            Endpoint::Client(c) => c.fmt(f),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Value::Data(w) => write!(f, "{w}{}", self.clock)?,
            Value::Tombstone(w) => write!(f, "del:{w}{}", self.clock)?,
        }
        if self.corrupted {
            f.write_str("(corrupt)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Client(ClientMsg::Get { op, key, .. }) => write!(f, "get {key} op={op}"),
            Msg::Client(ClientMsg::Put { op, key, value, .. }) => {
                write!(f, "put {key} op={op} value={}", Value::from(*value).write())
            }
            Msg::Client(ClientMsg::GetReply { op, result, .. }) => match result {
                Ok(r) => write!(f, "get_reply op={op} versions={}", r.versions.len()),
                Err(e) => write!(f, "get_reply op={op} failed={e}"),
            },
            Msg::Client(ClientMsg::PutReply { op, result, .. }) => match result {
                Ok(()) => write!(f, "put_reply op={op} ok"),
                Err(e) => write!(f, "put_reply op={op} failed={e}"),
            },
            Msg::Replica(ReplicaMsg::Read { request, key }) => write!(f, "read {key} {request}"),
            Msg::Replica(ReplicaMsg::ReadReply { request, versions }) => {
                write!(f, "read_reply {request} versions={}", versions.len())
            }
            Msg::Replica(ReplicaMsg::Write {
                request,
                key,
                version,
                siblings,
                hint,
                ..
            }) => {
                write!(f, "write {key} {request} {version}")?;
                if !siblings.is_empty() {
                    write!(f, " +siblings={}", siblings.len())?;
                }
                match hint {
                    Some(h) => write!(f, " hint_for={h}"),
                    None => Ok(()),
                }
            }
            Msg::Replica(ReplicaMsg::ReadDeclined { request }) => {
                write!(f, "read_declined {request}")
            }
            Msg::Replica(ReplicaMsg::WriteAck { request, .. }) => write!(f, "write_ack {request}"),
            Msg::Replica(ReplicaMsg::Repair {
                key,
                versions,
                hint,
            }) => match hint {
                Some(h) => write!(f, "repair {key} versions={} hint_for={h}", versions.len()),
                None => write!(f, "repair {key} versions={}", versions.len()),
            },
            Msg::Handoff(HandoffMsg::Deliver { batch, hints }) => {
                write!(f, "handoff batch={batch} hints={}", hints.len())
            }
            Msg::Handoff(HandoffMsg::Delivered { batch }) => write!(f, "handoff_ack batch={batch}"),
            Msg::AntiEntropy(m) => match m {
                SyncMsg::Root {
                    exchange, range, ..
                } => write!(f, "ae_root x{exchange} range={}", range.0),
                SyncMsg::InSync { exchange } => write!(f, "ae_in_sync x{exchange}"),
                SyncMsg::Hashes {
                    exchange,
                    level,
                    hashes,
                    ..
                } => {
                    write!(f, "ae_hashes x{exchange} level={level} n={}", hashes.len())
                }
                SyncMsg::Descend {
                    exchange,
                    level,
                    indices,
                    ..
                } => {
                    write!(
                        f,
                        "ae_descend x{exchange} level={level} n={}",
                        indices.len()
                    )
                }
                SyncMsg::Leaves {
                    exchange, entries, ..
                } => write!(f, "ae_leaves x{exchange} keys={}", entries.len()),
                SyncMsg::Versions {
                    exchange,
                    versions,
                    want,
                    ..
                } => {
                    write!(
                        f,
                        "ae_versions x{exchange} keys={} want={}",
                        versions.len(),
                        want.len()
                    )
                }
            },
            Msg::Gossip(g) => match g {
                GossipMsg::Syn { hash, heartbeats } => {
                    write!(
                        f,
                        "gossip_syn hash={hash:016x} heartbeats={}",
                        heartbeats.len()
                    )
                }
                GossipMsg::Digest { digest } => write!(f, "gossip_digest members={}", digest.len()),
                GossipMsg::Delta { states, wants } => {
                    write!(f, "gossip_delta states=")?;
                    for (i, (n, st)) in states.iter().enumerate() {
                        if i > 0 {
                            write!(f, ",")?;
                        }
                        write!(f, "{n}@{}:{:?}", st.version, st.status)?;
                    }
                    write!(f, " wants={}", wants.len())
                }
                GossipMsg::ViewRequest => write!(f, "view_request"),
                GossipMsg::Heartbeats { heartbeats } => {
                    write!(f, "gossip_heartbeats n={}", heartbeats.len())
                }
                GossipMsg::View { ring } => write!(f, "view ranges={}", ring.0.range_count()),
            },
            Msg::Transfer(t) => match t {
                TransferMsg::Offer {
                    transfer,
                    keys,
                    ranges,
                } => {
                    write!(
                        f,
                        "transfer_offer t{transfer} keys={keys} ranges={}",
                        ranges.len()
                    )
                }
                TransferMsg::Accept { transfer } => write!(f, "transfer_accept t{transfer}"),
                TransferMsg::Batch {
                    transfer,
                    seq,
                    versions,
                } => write!(
                    f,
                    "transfer_batch t{transfer} #{seq} versions={}",
                    versions.len()
                ),
                TransferMsg::BatchAck { transfer, seq } => {
                    write!(f, "transfer_batch_ack t{transfer} #{seq}")
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::vclock::VectorClock;

    #[test]
    fn a_version_is_64_bytes_and_its_value_round_trips() {
        // 64 bytes plus the shared pointer's two counts is mimalloc's 80-byte
        // class (the memory bench's stored versions); one field more is 96.
        assert_eq!(std::mem::size_of::<VersionData>(), 64);
        let w = WriteId(OpId {
            client: ClientId(7),
            seq: 41,
        });
        let mut v = VersionData::new(VectorClock::new(), NodeId(2), 0, Value::Data(w), 5, 9);
        assert_eq!(v.value(), Value::Data(w));
        assert!(!v.corrupted());
        let before = format!("{v:?}");
        assert!(before.starts_with("VersionData { clock: "), "{before}");
        assert!(before.contains("value: Data("), "{before}");
        v.set_value(Value::Tombstone(w));
        assert_eq!(v.value(), Value::Tombstone(w));
        let other = VersionData::new(VectorClock::new(), NodeId(3), 1, Value::Data(w), 6, 9);
        assert!(!v.same_value(&other));
        v.set_value(Value::Data(w));
        assert!(v.same_value(&other));
        v.corrupt();
        assert!(v.corrupted());
        assert!(format!("{:?}", Version::new(v)).starts_with("Version { clock: "));
    }
}
