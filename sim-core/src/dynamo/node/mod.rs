//! One Dynamo storage node as a sans-IO state machine.
//!
//! A node receives `(time, message)` or `(time, timer)` and answers with
//! [`Command`](crate::engine::outbox::Command)s in an outbox: messages to send, timers
//! to arm, observations to record. It never reads a clock (the engine passes
//! [`NodeTime`]), never touches the network or the event queue, and draws
//! randomness only from its own stream.
//!
//! State is split the way a crash splits it: [`Durable`] (the store on disk
//! and the hint store) survives a crash unless the disk is lost; [`Volatile`]
//! (pending requests, the write buffer, the failure detector, handoffs in
//! flight) is dropped. This file only dispatches; each mechanism of the paper
//! lives in its own module:
//!
//! | module | paper | owns |
//! | --- | --- | --- |
//! | [`coordinator`] | §4.5, §4.6, §5 | client requests, forwarding, sloppy quorums, read repair |
//! | [`replica`] | §4.4, §6.1 | local reads and writes, storage latency, buffered writes, tombstone GC |
//! | [`handoff`] | §4.6 | the hint store, its periodic scan and delivery |
//! | [`failure_detector`] | §4.8.3 | local suspicion of unresponsive peers, or phi-accrual |
//! | [`anti_entropy`] | §4.7 | Merkle trees per range, replica synchronisation |
//! | [`membership`] | §4.8 | membership history, gossip, seeds, joins and leaves |
//! | [`transfer`] | §4.9 | handing key ranges to their new owners |

pub mod anti_entropy;
pub mod coordinator;
pub mod failure_detector;
pub mod handoff;
pub mod membership;
pub mod replica;
pub mod transfer;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{Cluster, DiskLossIdentity};
use crate::dynamo::protocol::{ClientMsg, Endpoint, Failure, Msg};
use crate::dynamo::ring::Ring;
use crate::dynamo::storage::{LoadTable, Store};
use crate::engine::ids::{Key, NodeId, RequestId};
use crate::engine::outbox::{DiskIo, DiskOp, Outbox};
use crate::engine::record::Record;
use crate::engine::rng::SimRng;
use crate::engine::small_map::SmallMap;
use crate::engine::time::SimTime;

use coordinator::{PendingGet, PendingPut};
use failure_detector::FailureDetector;
use handoff::{HintStore, InFlightHandoff};
use membership::{JoinPlan, Membership};
use transfer::Outgoing;

/// What a handler is told besides the message: global virtual time (for
/// timers and bookkeeping), the node's local clock (skewed; only timestamp
/// logic such as last-write-wins stamps and vector clock entry times may use
/// it), and the §6.5 admission controller's verdict for background work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeTime {
    /// Global virtual time.
    pub now: SimTime,
    /// This node's local clock reading.
    pub local: SimTime,
    /// Whether background tasks may take a slice now (§6.5). Always
    /// [`Admission::Admit`] without admission control.
    pub background: Admission,
}

impl NodeTime {
    /// Unskewed time with background work admitted.
    pub fn at(now: SimTime) -> NodeTime {
        NodeTime {
            now,
            local: now,
            background: Admission::Admit,
        }
    }
}

pub use crate::world::resources::Admission;

/// A node's timers. At most one instance of each value is meaningful; a timer
/// that fires after its purpose is gone is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Replicas of a request that have not answered are treated as down and
    /// replaced by the next nodes of the preference list.
    ReplicaCheck(RequestId),
    /// The coordinator gives up on a request.
    RequestTimeout(RequestId),
    /// The read repair window of a get has closed.
    ReadRepair(RequestId),
    /// Periodic scan of the hint store (§4.6).
    HintScan,
    /// Periodic flush of the write buffer (§6.1).
    BufferFlush,
    /// Periodic purge of old tombstones.
    TombstoneGc,
    /// Periodic anti-entropy exchange (§4.7).
    AntiEntropy,
    /// Periodic gossip round (§4.8), which also drives key transfers.
    Gossip,
}

/// What survives a crash (unless the disk is lost).
#[derive(Clone, Debug)]
pub struct Durable {
    /// The main store.
    pub store: Store,
    /// Hinted replicas kept for unreachable owners.
    pub hints: HintStore,
    /// The highest vector clock counter this node issued per key as a
    /// coordinator, so each `(node, counter)` names exactly one write.
    pub counters: BTreeMap<Key, u64>,
    /// The load phase's table when keys were loaded lazily: a loaded key
    /// this node coordinated and `counters` has no entry for starts from
    /// the counter its template issued (`loaded_counter` in the coordinator).
    /// Dropped with `counters` on a disk loss.
    pub loaded_counters: Option<Arc<LoadTable>>,
    /// Merkle trees of the ranges this node replicates, kept in step with
    /// `store` (empty when anti-entropy is off).
    pub trees: BTreeMap<crate::dynamo::ring::RangeId, crate::dynamo::merkle::MerkleTree>,
    /// The membership history (§4.8.1); empty for a joining node that has
    /// not gossiped yet, and unused with static membership.
    pub membership: Membership,
    /// An administrative join or replace waiting for a view.
    pub join_plan: Option<JoinPlan>,
    /// Key transfers this node is giving (§4.9), by id.
    pub outgoing: BTreeMap<u64, Outgoing>,
    /// Keys stored here that this node's view places elsewhere.
    pub strays: std::collections::BTreeSet<Key>,
    /// Pending ownership: the ranges (by end token) this node gained on a
    /// join or replacement and has not received yet; it declines reads of
    /// their keys.
    pub pending: std::collections::BTreeSet<crate::dynamo::ring::Token>,
    /// When the node took its place in the ring, while ranges are pending.
    pub bootstrap_started: Option<SimTime>,
    /// Ranges pending before the transfers began (for the record).
    pub bootstrap_ranges: u32,
    /// When the first transfer was offered to this node while ranges were
    /// pending.
    pub first_offer: Option<SimTime>,
    /// Transfers this node is receiving, by id: what they cover.
    pub incoming: BTreeMap<u64, transfer::Incoming>,
}

/// What a crash loses.
#[derive(Debug)]
pub struct Volatile {
    /// Writes acknowledged from memory, not yet flushed (§6.1).
    pub buffer: Store,
    /// Peers treated as down.
    pub detector: FailureDetector,
    /// This incarnation's heartbeat: (generation, counter).
    pub heartbeat: (u64, u64),
    /// The newest heartbeat heard of each peer (phi-accrual only).
    pub heartbeats: BTreeMap<NodeId, (u64, u64)>,
    /// Gets being coordinated.
    pub gets: SmallMap<RequestId, PendingGet>,
    /// Puts being coordinated.
    pub puts: SmallMap<RequestId, PendingPut>,
    /// Hint batches sent and not yet acknowledged.
    pub handoffs: BTreeMap<u64, InFlightHandoff>,
    /// Round-robin anti-entropy: the last (range, replica index) exchanged.
    pub ae_cursor: Option<(crate::dynamo::ring::RangeId, usize)>,
    /// The hint scan's schedule: this incarnation's first scan time (drawn
    /// at start, as the periodic timer's phase) and whether a scan is
    /// armed. A node with no hints and no batch in flight has nothing to
    /// scan for, so it arms no timer (no events while idle); storing a hint
    /// arms the next scan of the same schedule.
    pub hint_scan: (SimTime, bool),
}

impl Volatile {
    fn new(cluster: &Cluster) -> Self {
        Volatile {
            buffer: Store::new(cluster.versioning),
            detector: FailureDetector::new(
                cluster.membership.as_ref().map(|m| &m.failure_detector),
                cluster
                    .membership
                    .as_ref()
                    .map_or(crate::engine::time::SimDuration::from_millis(1000), |m| {
                        m.gossip_interval
                    }),
            ),
            heartbeat: (0, 0),
            heartbeats: BTreeMap::new(),
            gets: SmallMap::new(),
            puts: SmallMap::new(),
            handoffs: BTreeMap::new(),
            ae_cursor: None,
            hint_scan: (SimTime::ZERO, false),
        }
    }
}

/// Per-node counters, reported at the end of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Client requests this node coordinated.
    pub coordinated: u64,
    /// Client requests it forwarded to a node of the preference list.
    pub forwarded: u64,
    /// Local reads served as a replica.
    pub replica_reads: u64,
    /// Local writes applied as a replica (including hints and repairs).
    pub replica_writes: u64,
    /// Anti-entropy exchanges this node started.
    pub ae_exchanges: u64,
    /// Exchanges that ended at the root (replicas already identical).
    pub ae_in_sync: u64,
    /// Merkle hashes (and key digests) this node sent.
    pub ae_hashes_sent: u64,
    /// Versions this node sent during anti-entropy.
    pub ae_versions_sent: u64,
    /// Gossip messages this node sent (§4.8).
    pub gossip_sent: u64,
    /// Estimated bytes of those gossip messages.
    pub gossip_bytes: u64,
    /// Keys this node handed to new owners on membership changes (§4.9).
    pub transfer_keys_sent: u64,
    /// Versions in those transfers.
    pub transfer_versions_sent: u64,
    /// Background task slices refused by §6.5 admission control: hint
    /// scans, anti-entropy rounds and transfer batches that waited.
    pub background_deferred: u64,
    /// Client requests refused because the request queue was full.
    pub overload_refusals: u64,
}

/// One storage node.
#[derive(Debug)]
pub struct Node {
    id: NodeId,
    cluster: Arc<Cluster>,
    ring: Arc<Ring>,
    /// The token map `ring` was built from, when it came from the
    /// membership (gossip mode); shared by every node that starts with it.
    view_map: Option<Arc<crate::dynamo::ring::TokenMap>>,
    durable: Durable,
    volatile: Volatile,
    rng: SimRng,
    /// Request and batch ids survive crashes (they stand for "incarnation +
    /// counter"), so a reply to a request from before a crash never matches a
    /// new one.
    next_id: u64,
    stats: NodeStats,
    /// The actor epoch this node signs vector clock entries with (see
    /// [`NodeId::actor`]). Not part of [`Durable`]: it stands for the fresh
    /// random id a real node draws when it finds its disk empty, so it only
    /// ever grows, by one per disk loss (with `disk_loss_identity:
    /// new_actor`).
    epoch: u32,
    /// This node has a disk queue (node capacity): disk work goes to the
    /// engine as `Command::Disk` instead of a locally drawn latency.
    disk_queue: bool,
}

impl Node {
    /// A fresh node with empty stores.
    pub fn new(id: NodeId, cluster: Arc<Cluster>, ring: Arc<Ring>, rng: SimRng) -> Node {
        let durable = Durable {
            store: Store::new(cluster.versioning),
            hints: HintStore::new(cluster.versioning),
            counters: BTreeMap::new(),
            loaded_counters: None,
            trees: BTreeMap::new(),
            membership: Membership::default(),
            join_plan: None,
            outgoing: BTreeMap::new(),
            strays: std::collections::BTreeSet::new(),
            pending: std::collections::BTreeSet::new(),
            bootstrap_started: None,
            bootstrap_ranges: 0,
            first_offer: None,
            incoming: BTreeMap::new(),
        };
        let volatile = Volatile::new(&cluster);
        let disk_queue = cluster
            .capacity
            .as_ref()
            .and_then(|c| c.nodes.get(id.0 as usize))
            .is_some_and(|n| n.disk.is_some());
        let mut node = Node {
            disk_queue,
            id,
            cluster,
            ring,
            view_map: None,
            durable,
            volatile,
            rng,
            next_id: 0,
            stats: NodeStats::default(),
            epoch: 0,
        };
        node.durable.trees = node.new_trees();
        node
    }

    /// An initial member in gossip mode: its history starts as `history`
    /// ([`Membership::from_token_map`] of `map`, the map `ring` was built
    /// from).
    pub fn with_membership(
        mut self,
        map: &Arc<crate::dynamo::ring::TokenMap>,
        history: &Membership,
    ) -> Node {
        self.durable.membership = history.clone();
        self.view_map = Some(map.clone());
        self
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The id this node signs vector clock entries with: its own id, or an
    /// actor id of a later epoch after a disk loss.
    pub fn actor(&self) -> NodeId {
        self.id.actor(self.epoch)
    }

    /// Read-only view of the durable state.
    pub fn durable(&self) -> &Durable {
        &self.durable
    }

    /// The node's counters.
    pub fn stats(&self) -> NodeStats {
        self.stats
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        u64::from(self.id.0) << 40 | self.next_id
    }

    /// Called when the node starts or restarts: arms the periodic timers.
    pub fn on_start(&mut self, _t: NodeTime, out: &mut Outbox<Timer>) {
        if self.cluster.hinted_handoff {
            let jitter = self
                .rng
                .below(self.cluster.hint_scan_interval.as_micros().max(1));
            let jitter = crate::engine::time::SimDuration(jitter);
            self.volatile.hint_scan = (_t.now + jitter, false);
            // Hints survive a crash on disk: a restarted node with some
            // scans at once on its new schedule.
            if !self.durable.hints.is_empty() {
                self.volatile.hint_scan.1 = true;
                out.set_timer(Timer::HintScan, jitter);
            }
        }
        if let Some(b) = &self.cluster.storage.buffered_writes {
            out.set_timer(Timer::BufferFlush, b.flush_interval);
        }
        if let Some(gc) = &self.cluster.tombstone_gc {
            out.set_timer(Timer::TombstoneGc, gc.scan_interval);
        }
        if let Some(ae) = &self.cluster.anti_entropy {
            let jitter = self.rng.below(ae.interval.as_micros().max(1));
            out.set_timer(Timer::AntiEntropy, crate::engine::time::SimDuration(jitter));
        }
        if let Some(m) = &self.cluster.membership {
            self.volatile.heartbeat = (_t.now.as_micros() + 1, 0);
            let jitter = self.rng.below(m.gossip_interval.as_micros().max(1));
            out.set_timer(Timer::Gossip, crate::engine::time::SimDuration(jitter));
        }
    }

    /// Handles one message.
    pub fn on_message(&mut self, t: NodeTime, from: Endpoint, msg: Msg, out: &mut Outbox<Timer>) {
        if let Endpoint::Node(peer) = from {
            if self.volatile.detector.heard_from(peer) {
                out.record(Record::PeerTrusted { by: self.id, peer });
            }
        }
        match msg {
            Msg::Client(m) => self.on_client_msg(t, m, out),
            Msg::Replica(m) => self.on_replica_msg(t, from, m, out),
            Msg::Handoff(m) => self.on_handoff_msg(t, from, m, out),
            Msg::AntiEntropy(m) => self.on_sync_msg(t, from, m, out),
            Msg::Gossip(m) => self.on_gossip_msg(t, from, m, out),
            Msg::Transfer(m) => self.on_transfer_msg(t, from, m, out),
        }
        self.arm_hint_scan(t, out);
    }

    /// Arms the hint scan when hints wait and none is armed: at the next
    /// time of the schedule drawn at start (after now), so a node scans at
    /// the times it would have scanned with a timer that never stopped.
    fn arm_hint_scan(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let (first, armed) = self.volatile.hint_scan;
        if armed || !self.cluster.hinted_handoff || self.durable.hints.is_empty() {
            return;
        }
        let interval = self.cluster.hint_scan_interval.as_micros().max(1);
        let (now, first) = (t.now.as_micros(), first.as_micros());
        let next = if now < first {
            first
        } else {
            first + ((now - first) / interval + 1) * interval
        };
        self.volatile.hint_scan.1 = true;
        out.set_timer(
            Timer::HintScan,
            crate::engine::time::SimDuration(next - now),
        );
    }

    /// Handles one timer.
    pub fn on_timer(&mut self, t: NodeTime, timer: Timer, out: &mut Outbox<Timer>) {
        match timer {
            Timer::ReplicaCheck(req) => self.on_replica_check(t, req, out),
            Timer::RequestTimeout(req) => self.on_request_timeout(t, req, out),
            Timer::ReadRepair(req) => self.on_read_repair_window(t, req, out),
            Timer::HintScan => self.on_hint_scan(t, out),
            Timer::BufferFlush => self.on_buffer_flush(t, out),
            Timer::TombstoneGc => self.on_tombstone_gc(t, out),
            Timer::AntiEntropy => self.on_anti_entropy_round(t, out),
            Timer::Gossip => self.on_gossip_round(t, out),
        }
        self.arm_hint_scan(t, out);
    }

    /// The node crashes: volatile state is dropped; with `disk_loss`, durable
    /// state too. Returns the number of buffered versions lost.
    pub fn crash(&mut self, disk_loss: bool) -> u32 {
        let lost = self.volatile.buffer.version_count() as u32;
        // The buffer goes with its change log: its keys changed.
        let mut gone = Vec::new();
        self.volatile.buffer.take_changes(&mut gone);
        gone.extend(self.volatile.buffer.keys());
        for key in gone {
            self.durable.store.note_changed(key);
        }
        self.volatile = Volatile::new(&self.cluster);
        if disk_loss {
            if self.cluster.disk_loss_identity == DiskLossIdentity::NewActor {
                self.epoch += 1;
            }
            self.durable.store.clear();
            self.durable.hints.clear();
            self.durable.counters.clear();
            self.durable.loaded_counters = None;
            self.durable.trees = self.new_trees();
            if self.cluster.membership.is_some() {
                // The history is gone too: the node relearns it from the
                // seeds, including its own tokens.
                self.durable.membership = Membership::default();
                self.durable.outgoing.clear();
                self.durable.strays.clear();
                self.durable.pending.clear();
                self.durable.incoming.clear();
                self.durable.bootstrap_started = None;
                self.view_map = None;
            }
        }
        lost
    }

    /// The `corrupt` fault: silently corrupts stored versions (see
    /// [`Store::corrupt`]), drawing from this node's own stream, and keeps
    /// the Merkle trees in step with the corrupted bytes. Returns how many
    /// versions were corrupted.
    pub fn corrupt(
        &mut self,
        fraction: crate::engine::rng::Probability,
        keys: Option<(Key, Key)>,
    ) -> u32 {
        let touched = self.durable.store.corrupt(fraction, keys, &mut self.rng);
        let mut count = 0;
        for (key, n) in touched {
            self.update_tree(key);
            count += n;
        }
        count
    }

    /// True when `self` is one of the top N replicas of `key`.
    pub fn is_replica(&self, key: Key) -> bool {
        let n = self.cluster.quorum.n as usize;
        self.ring
            .preference_list(key)
            .iter()
            .take(n)
            .any(|x| *x == self.id)
    }

    /// Moves the keys whose values changed here (main store or write
    /// buffer) since the last call into `out`, a key once per change. The
    /// engine's divergence observer drains it; nothing else reads it.
    pub fn take_changed_keys(&mut self, out: &mut Vec<Key>) {
        self.durable.store.take_changes(out);
        self.volatile.buffer.take_changes(out);
    }

    /// Appends the values this node holds for `key` (main store and write
    /// buffer, as [`Node::final_state`] reports them) to `out`, unsorted and
    /// possibly repeated.
    pub fn held_values(&self, key: Key, out: &mut Vec<crate::dynamo::protocol::Value>) {
        self.durable.store.push_values(key, out);
        self.volatile.buffer.push_values(key, out);
    }

    /// Every key this node holds (main store and write buffer), in order
    /// per store, possibly repeated across them.
    pub fn held_keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.durable.store.keys().chain(self.volatile.buffer.keys())
    }

    /// Drops what the node holds (stores, buffer, hints, clocks' counters,
    /// Merkle trees) once the run has ended and [`Node::final_state`] has
    /// reported it, so the memory goes back before the next node reports:
    /// the engine's stores and the collector's copy of the end state are
    /// never both whole. Only [`Node::stats`] may be asked after it.
    pub fn release_data(&mut self) {
        let versioning = self.cluster.versioning;
        self.durable.store = Store::new(versioning);
        self.durable.hints = HintStore::new(versioning);
        self.durable.counters = BTreeMap::new();
        self.durable.trees = BTreeMap::new();
        self.volatile = Volatile::new(&self.cluster);
    }

    /// Emits the end-of-run state: values held per key, hints held, counters.
    pub fn final_state(&self, out: &mut impl FnMut(&Record)) {
        // Both stores in key order, merged: per key, the store's values
        // then the buffer's, each once. One record's vector serves them
        // all (the sink reads a record, it does not keep it).
        let mut store = self.durable.store.values().peekable();
        let mut buffer = self.volatile.buffer.values().peekable();
        let mut values = Vec::new();
        loop {
            let key = match (store.peek(), buffer.peek()) {
                (None, None) => break,
                (Some((a, _)), None) => *a,
                (None, Some((b, _))) => *b,
                (Some((a, _)), Some((b, _))) => (*a).min(*b),
            };
            values.clear();
            for held in [&mut store, &mut buffer] {
                if let Some((_, stored)) = held.next_if(|(k, _)| *k == key) {
                    stored.for_each(|v| {
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    });
                }
            }
            let record = Record::FinalValues {
                node: self.id,
                key,
                values,
                replica: self.is_replica(key),
            };
            out(&record);
            let Record::FinalValues { values: back, .. } = record else {
                unreachable!("built above")
            };
            values = back;
        }
        for (_owner, key, version) in self.durable.hints.iter() {
            out(&Record::FinalHint {
                node: self.id,
                key,
                value: version.value(),
            });
        }
        for (key, versions) in self.durable.store.corrupted() {
            out(&Record::FinalCorrupted {
                node: self.id,
                key,
                versions,
            });
        }
    }

    /// Sends a message to another node (or to itself: the engine delivers
    /// self-addressed messages locally without the network).
    fn send_node(&self, out: &mut Outbox<Timer>, to: NodeId, msg: Msg) {
        out.send(Endpoint::Node(to), msg);
    }

    /// Sends `msg` once the disk has done `io`: through the engine's disk
    /// queue with node capacity; otherwise after one storage latency drawn
    /// from this node's stream (the model without capacity, kept exactly).
    fn send_after_disk(&mut self, out: &mut Outbox<Timer>, io: DiskIo, to: Endpoint, msg: Msg) {
        if self.disk_queue {
            out.disk(io, Some((to, msg)));
            return;
        }
        let latency = match io.op {
            DiskOp::Read => &self.cluster.storage.read_latency,
            DiskOp::Write => &self.cluster.storage.write_latency,
        };
        let delay = latency.sample(&mut self.rng);
        out.send_after(to, msg, delay);
    }

    /// Sends `msg` after reading what it carries from disk (`reads`
    /// operations): through the disk queue with node capacity, at once
    /// otherwise (the model without capacity charges no read here).
    fn send_after_reads(&mut self, out: &mut Outbox<Timer>, reads: u32, to: NodeId, msg: Msg) {
        if self.disk_queue && reads > 0 {
            let io = DiskIo {
                op: DiskOp::Read,
                ops: reads,
                foreground: false,
            };
            out.disk(io, Some((Endpoint::Node(to), msg)));
        } else {
            self.send_node(out, to, msg);
        }
    }

    /// Background disk writes with nothing to send after them (read repair,
    /// anti-entropy, buffer flushes): they occupy the disk queue with node
    /// capacity and cost nothing otherwise. (The engine serves a job of many
    /// operations one operation at a time, so it holds one disk channel,
    /// like a writer thread, and foreground operations interleave with it.)
    fn background_writes(&mut self, out: &mut Outbox<Timer>, writes: u32) {
        if self.disk_queue && writes > 0 {
            let io = DiskIo {
                op: DiskOp::Write,
                ops: writes,
                foreground: false,
            };
            out.disk(io, None);
        }
    }

    /// §6.5: whether a background task may take this slice; counts the
    /// slices refused.
    fn background_admitted(&mut self, t: NodeTime) -> bool {
        if t.background == Admission::Defer {
            self.stats.background_deferred += 1;
            return false;
        }
        true
    }

    /// A message the engine refused because this node's request queue was
    /// full (node capacity). A client request is answered at once with an
    /// `overloaded` failure, as Riak answers `{error, overload}`; anything
    /// else is dropped, and its sender's timeout deals with it.
    pub fn on_overload(&mut self, _t: NodeTime, msg: Msg, out: &mut Outbox<Timer>) {
        let reply = match msg {
            Msg::Client(ClientMsg::Get { op, .. }) => ClientMsg::GetReply {
                op,
                result: Err(Failure::Overloaded),
                coordinator: self.id,
            },
            Msg::Client(ClientMsg::Put { op, .. }) => ClientMsg::PutReply {
                op,
                result: Err(Failure::Overloaded),
                coordinator: self.id,
                body: Vec::new(),
            },
            _ => return,
        };
        self.stats.overload_refusals += 1;
        let client = match &reply {
            ClientMsg::GetReply { op, .. } | ClientMsg::PutReply { op, .. } => op.client,
            _ => unreachable!("built above"),
        };
        out.send(Endpoint::Client(client), Msg::Client(reply));
    }
}
