//! Client sessions as state machines (the workload's active half).
//!
//! A client issues operations (open loop: Poisson arrivals; closed loop: one
//! at a time with think time), routes each to a coordinator (through a load
//! balancer to a random node, or partition-aware straight to the preference
//! list, §4.5/§6.4), and records what it invoked and what came back. For a
//! read-modify-write it reads, reconciles the siblings *semantically* (union
//! merge or client-side last-writer-wins) and writes back with the context,
//! which is Dynamo's normal pattern. Every write carries a value nobody wrote
//! before, so the checkers know exactly which write a read returned.
//!
//! A *probe* client (`Arrival::Probe`) runs PBS's experiment instead of a
//! mix: per probe one blind write, then reads started exactly `t` after the
//! write committed, for each `t` of a grid. The commit happens at the
//! coordinator; the engine tells the client ([`Client::on_write_committed`]),
//! an oracle no real client has, which is what makes the probe a measuring
//! instrument rather than a workload.
//!
//! Like nodes, a client never reads a clock or touches the network.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::config::Versioning;
use crate::config::{
    Arrival, Hedge, ProbeCoordinator, ProbeKey, Quorum, Reconcile, Retries, Routing, Workload,
    WriteCoordinator,
};
use crate::dynamo::node::failure_detector::LocalFailureDetector;
use crate::dynamo::protocol::{
    ClientMsg, Context, Durability, Endpoint, Failure, GetResult, GossipMsg, Msg, ReplicaMsg,
    Value, Version, VersionData,
};
use crate::dynamo::quorum::{checks_availability, Placement, ReadTally, WriteTally};
use crate::dynamo::ring::Ring;
use crate::dynamo::storage::{covers, reconcile};
use crate::dynamo::vclock::VectorClock;
use crate::dynamo::workload::{choose_plan, KeySampler, Plan};
use crate::engine::ids::{ClientId, DatacenterId, Key, NodeId, OpId, RequestId, WriteId};
use crate::engine::outbox::Outbox;
use crate::engine::record::{OpKind, Record};
use crate::engine::rng::SimRng;
use crate::engine::small_map::SmallMap;
use crate::engine::time::{SimDuration, SimTime};

/// A client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientTimer {
    /// Time to start the next operation.
    NextOp,
    /// The client gives up on an operation (by sequence number).
    OpTimeout(u64),
    /// Time to refresh the membership view from a random node (§4.5).
    RefreshView,
    /// Probe workload: time to start the next probe in this slot.
    ProbeNext(u32),
    /// Probe workload: time to start read `read` of the probe whose write
    /// is operation `write`.
    ProbeRead {
        /// The probe's write (its operation's sequence number).
        write: u64,
        /// The read's number within the probe.
        read: u32,
    },
    /// Time to send operation `seq` again (`workload.retries`).
    Retry(u64),
    /// Time to send get `seq` to a second coordinator (`workload.hedged_reads`).
    Hedge(u64),
    /// Client-driven get `seq`: the read repair window closed.
    ReadRepair(u64),
}

/// A get the client coordinates itself (client-driven routing, §6.4).
#[derive(Clone, Debug)]
struct ClientGet {
    key: Key,
    targets: Vec<NodeId>,
    replies: Vec<(NodeId, Vec<Version>)>,
    /// The replies counted before the answer (Riak's get core, shared
    /// with the nodes' coordinators).
    tally: ReadTally,
    answered: bool,
}

/// A put the client coordinates itself (client-driven routing under
/// last-write-wins, §6.4).
#[derive(Clone, Debug)]
struct ClientPut {
    key: Key,
    write: WriteId,
    targets: Vec<NodeId>,
    acked: Vec<NodeId>,
    /// Targets asked for a buffered write (§6.1).
    buffered: Vec<NodeId>,
    /// Acknowledgements so far (shared with the nodes' coordinators).
    tally: WriteTally,
    /// With `return_body`: the merge of the versions the acks carried.
    body: Vec<Version>,
}

/// What the client will do when a get completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FollowUp {
    None,
    Put,
    Delete,
    /// A probe's read; the probe's write is this operation.
    ProbeRead(u64),
}

/// Which part of a probe finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProbePart {
    Write,
    Read,
}

/// A probe in progress (probe workload).
#[derive(Clone, Debug)]
struct ProbeState {
    slot: u32,
    key: Key,
    committed: bool,
    write_done: bool,
    /// Reads scheduled or in flight.
    reads_pending: u64,
}

#[derive(Clone, Debug)]
struct InFlight {
    kind: OpKind,
    key: Key,
    invoked: SimTime,
    target: NodeId,
    follow_up: FollowUp,
    /// Tries sent so far (retries and hedges included).
    tries: u32,
    /// Retries sent so far.
    retries: u32,
    /// Coordinators asked so far (a hedge goes elsewhere).
    asked: Asked,
    /// What to send again (kept only with retries or hedged reads).
    request: Option<ClientMsg>,
    /// A retry is scheduled: late failures of earlier tries are ignored.
    retry_pending: bool,
    /// The get was hedged.
    hedged: bool,
}

/// The coordinators an operation asked, in order: the first inline (nearly
/// every operation asks one and no other), later ones (a retry's, a
/// hedge's) in a vector that allocates only then.
#[derive(Clone, Debug, Default)]
struct Asked {
    first: Option<NodeId>,
    more: Vec<NodeId>,
}

impl Asked {
    /// Only `node`.
    fn one(node: NodeId) -> Asked {
        Asked {
            first: Some(node),
            more: Vec::new(),
        }
    }

    fn push(&mut self, node: NodeId) {
        match self.first {
            None => self.first = Some(node),
            Some(_) => self.more.push(node),
        }
    }

    fn contains(&self, node: &NodeId) -> bool {
        self.first.as_ref() == Some(node) || self.more.contains(node)
    }
}

/// Settings every client shares.
#[derive(Debug)]
pub struct ClientShared {
    /// The workload.
    pub workload: Workload,
    /// Keys.
    pub keys: KeySampler,
    /// The membership view of partition-aware clients.
    pub ring: Arc<Ring>,
    /// N of the quorum.
    pub replicas_n: usize,
    /// Number of storage nodes at the start.
    pub node_count: u32,
    /// With gossip membership: how often a client refreshes its view (the
    /// ring it routes with, or the load balancer's node list) from a random
    /// node. `None`: membership is static and every view is `ring`.
    pub view_refresh: Option<SimDuration>,
    /// When clients stop issuing operations.
    pub workload_end: SimTime,
    /// Operations per client before it stops (from `max_ops`).
    pub ops_per_client: Option<u64>,
    /// Whether puts go to the fastest read responder.
    pub write_coordinator: WriteCoordinator,
    /// Retry interval of the client's local failure detector.
    pub retry_interval: SimDuration,
    /// How versions reconcile (client-driven gets).
    pub versioning: Versioning,
    /// The quorum settings (client-driven coordination).
    pub quorum: Quorum,
    /// The quorum is strict: client-driven requests go to the top N only.
    pub strict: bool,
    /// Storage has §6.1 buffered writes (client-driven puts).
    pub buffered_writes: bool,
    /// Every node's datacenter, by node id (client-driven coordination).
    pub datacenters: Vec<DatacenterId>,
    /// The read repair window (client-driven gets), if read repair is on.
    pub read_repair: Option<SimDuration>,
    /// With `local_quorum` / `each_quorum`: each node's datacenter, so a
    /// partition-aware client picks a coordinator in its own (Cassandra's
    /// datacenter-aware load balancing). Empty otherwise.
    pub node_datacenters: Vec<DatacenterId>,
    /// The run's root seed (each client forks its value-size stream from it).
    pub rng_seed: u64,
}

/// One client session.
#[derive(Debug)]
pub struct Client {
    id: ClientId,
    shared: Arc<ClientShared>,
    rng: SimRng,
    next_seq: u64,
    ops_started: u64,
    in_flight: SmallMap<u64, InFlight>,
    detector: LocalFailureDetector,
    /// The ring this client routes with (refreshed with gossip membership).
    view: Arc<Ring>,
    /// Set while a put is issued as the second half of a read-modify-write.
    writing_back: bool,
    /// Probe workload: the probes in progress, by their write's sequence.
    probes: BTreeMap<u64, ProbeState>,
    /// Probe workload: fresh keys taken so far.
    fresh_keys: u64,
    /// Draws value sizes (`workload.value_size`), its own stream.
    sizes: SimRng,
    /// Retries sent (the retry budget).
    retries_sent: u64,
    /// Latencies of the last successful gets, µs (hedging by percentile).
    get_latencies: VecDeque<u64>,
    /// Client-driven gets in progress or in their read repair window.
    client_gets: BTreeMap<u64, ClientGet>,
    /// Client-driven puts in progress.
    client_puts: BTreeMap<u64, ClientPut>,
}

impl Client {
    /// A new session.
    pub fn new(id: ClientId, shared: Arc<ClientShared>, rng: SimRng) -> Client {
        Client {
            sizes: SimRng::new(
                shared.rng_seed,
                crate::engine::rng::Stream::ClientValues(id.0),
            ),
            view: shared.ring.clone(),
            writing_back: false,
            probes: BTreeMap::new(),
            fresh_keys: 0,
            id,
            shared,
            rng,
            next_seq: 0,
            ops_started: 0,
            in_flight: SmallMap::new(),
            detector: LocalFailureDetector::new(),
            retries_sent: 0,
            get_latencies: VecDeque::new(),
            client_gets: BTreeMap::new(),
            client_puts: BTreeMap::new(),
        }
    }

    /// Starts the session: the first operation after a random offset.
    pub fn on_start(&mut self, _now: SimTime, out: &mut Outbox<ClientTimer>) {
        out.record(Record::ClientStarted { client: self.id });
        if let Some(every) = self.shared.view_refresh {
            out.set_timer(ClientTimer::RefreshView, every);
        }
        let first = match &self.shared.workload.arrival {
            Arrival::OpenLoop { mean_interarrival } => self.exp(*mean_interarrival),
            Arrival::ClosedLoop { think_time } => think_time.sample(&mut self.rng),
            Arrival::Probe(p) => {
                for slot in 0..p.concurrent {
                    out.set_timer(ClientTimer::ProbeNext(slot), SimDuration::ZERO);
                }
                return;
            }
        };
        out.set_timer(ClientTimer::NextOp, first);
    }

    fn exp(&mut self, mean: SimDuration) -> SimDuration {
        SimDuration(libm::round(self.rng.exp_f64(mean.as_micros() as f64)) as u64)
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, now: SimTime, timer: ClientTimer, out: &mut Outbox<ClientTimer>) {
        match timer {
            ClientTimer::NextOp => self.on_next_op(now, out),
            ClientTimer::RefreshView => {
                if let Some(every) = self.shared.view_refresh {
                    out.set_timer(ClientTimer::RefreshView, every);
                    let nodes = self.view.nodes();
                    if now < self.shared.workload_end && !nodes.is_empty() {
                        let pick = nodes[self.rng.below(nodes.len() as u64) as usize];
                        out.send(Endpoint::Node(pick), Msg::Gossip(GossipMsg::ViewRequest));
                    }
                }
            }
            ClientTimer::ProbeNext(slot) => self.start_probe(now, slot, out),
            ClientTimer::ProbeRead { write, .. } => self.probe_read(now, write, out),
            ClientTimer::Retry(seq) => self.retry(now, seq, out),
            ClientTimer::Hedge(seq) => self.hedge(now, seq, out),
            ClientTimer::ReadRepair(seq) => self.read_repair(seq, out),
            ClientTimer::OpTimeout(seq) => {
                if let Some(f) = self.in_flight.get(&seq) {
                    let target = f.target;
                    self.detector
                        .suspect(target, now, self.shared.retry_interval);
                    if self.schedule_retry(seq, &Failure::ClientTimeout, out) {
                        return;
                    }
                }
                if let Some(f) = self.in_flight.remove(&seq) {
                    self.complete(
                        now,
                        seq,
                        f,
                        Err(Failure::ClientTimeout),
                        (Vec::new(), 0),
                        None,
                        out,
                    );
                    self.after_completion(out);
                }
            }
        }
    }

    fn budget_left(&self) -> bool {
        self.shared
            .ops_per_client
            .is_none_or(|max| self.ops_started < max)
    }

    fn on_next_op(&mut self, now: SimTime, out: &mut Outbox<ClientTimer>) {
        if now >= self.shared.workload_end || !self.budget_left() {
            return;
        }
        self.ops_started += 1;
        let plan = choose_plan(&self.shared.workload.mix, &mut self.rng);
        let key = self.shared.keys.sample(&mut self.rng);
        match plan {
            Plan::Read => self.invoke_get(now, key, FollowUp::None, out),
            Plan::ReadModifyWrite => self.invoke_get(now, key, FollowUp::Put, out),
            Plan::Delete => self.invoke_get(now, key, FollowUp::Delete, out),
            Plan::BlindWrite => {
                self.invoke_put(
                    now,
                    key,
                    OpKind::Put,
                    Context::default(),
                    Vec::new(),
                    Vec::new(),
                    out,
                );
            }
        }
        if let Arrival::OpenLoop { mean_interarrival } = self.shared.workload.arrival {
            let gap = self.exp(mean_interarrival);
            out.set_timer(ClientTimer::NextOp, gap);
        }
    }

    fn next_op(&mut self) -> OpId {
        self.next_seq += 1;
        OpId {
            client: self.id,
            seq: self.next_seq,
        }
    }

    /// The node to send a request to.
    fn route(&mut self, now: SimTime, key: Key, chosen: Option<NodeId>) -> NodeId {
        if let Arrival::Probe(p) = &self.shared.workload.arrival {
            if p.coordinator == ProbeCoordinator::NonReplica {
                if let Some(node) = self.non_replica(now, key) {
                    return node;
                }
            }
        }
        match self.shared.workload.routing {
            Routing::LoadBalancer => {
                let retry = self.shared.retry_interval;
                let mut pick = NodeId(0);
                for _ in 0..16 {
                    pick = if self.shared.view_refresh.is_some() {
                        let nodes = self.view.nodes();
                        nodes[self.rng.below(nodes.len() as u64) as usize]
                    } else {
                        NodeId(self.rng.below(u64::from(self.shared.node_count)) as u32)
                    };
                    if self.detector.claim(pick, now, retry) {
                        break;
                    }
                }
                pick
            }
            Routing::PartitionAware { .. } => {
                let retry = self.shared.retry_interval;
                if let Some(node) = chosen.filter(|n| self.detector.claim(*n, now, retry)) {
                    return node;
                }
                let ring = self.view.clone();
                let list = ring.preference_list(key);
                let dcs = &self.shared.node_datacenters;
                if !dcs.is_empty() {
                    let mine = self.shared.workload.clients[self.id.0 as usize].datacenter;
                    let local = list.iter().copied().find(|node| {
                        dcs.get(node.0 as usize) == Some(&mine)
                            && self.detector.claim(*node, now, retry)
                    });
                    if let Some(node) = local {
                        return node;
                    }
                }
                list.iter()
                    .copied()
                    .find(|node| self.detector.claim(*node, now, retry))
                    .unwrap_or(list[0])
            }
        }
    }

    /// A node of this client's view outside `key`'s top N, drawn at random
    /// (preferring nodes the client does not treat as down).
    fn non_replica(&mut self, now: SimTime, key: Key) -> Option<NodeId> {
        let ring = self.view.clone();
        let list = ring.preference_list(key);
        let top = &list[..self.shared.replicas_n.min(list.len())];
        let others: Vec<NodeId> = ring
            .nodes()
            .iter()
            .copied()
            .filter(|n| !top.contains(n))
            .collect();
        let first = self.rng.index(others.len().max(1));
        let retry = self.shared.retry_interval;
        (0..others.len())
            .map(|i| others[(first + i) % others.len()])
            .find(|n| self.detector.claim(*n, now, retry))
            .or_else(|| others.get(first).copied())
    }

    /// Starts a probe in `slot`: its blind write (probe workload).
    fn start_probe(&mut self, now: SimTime, slot: u32, out: &mut Outbox<ClientTimer>) {
        let Arrival::Probe(p) = &self.shared.workload.arrival else {
            return;
        };
        let interval = p.interval;
        if now >= self.shared.workload_end || !self.budget_left() {
            return;
        }
        self.ops_started += 1;
        let key = match p.key {
            ProbeKey::Fresh => {
                let clients = self.shared.workload.clients.len() as u64;
                let k = self.shared.workload.key_count
                    + self.fresh_keys * clients
                    + u64::from(self.id.0);
                self.fresh_keys += 1;
                Key(k)
            }
            ProbeKey::Sampled => self.shared.keys.sample(&mut self.rng),
        };
        let op = self.invoke_put(
            now,
            key,
            OpKind::Put,
            Context::default(),
            Vec::new(),
            Vec::new(),
            out,
        );
        if !self.in_flight.contains_key(&op.seq) {
            // A client-driven put refused at once (PW, fail_fast): the
            // probe ends before it started; the slot's next one is due.
            out.set_timer(ClientTimer::ProbeNext(slot), interval);
            return;
        }
        self.probes.insert(
            op.seq,
            ProbeState {
                slot,
                key,
                committed: false,
                write_done: false,
                reads_pending: 0,
            },
        );
    }

    /// The engine saw this client's write `op` commit at its coordinator
    /// (the W-th acknowledgement): a probe schedules its reads, exactly `t`
    /// after now for each `t` of the grid. Other clients ignore it, and so
    /// does a probe for a second commit of the same write (a duplicated
    /// request coordinated twice).
    pub fn on_write_committed(&mut self, _now: SimTime, op: OpId, out: &mut Outbox<ClientTimer>) {
        let shared = self.shared.clone();
        let Arrival::Probe(p) = &shared.workload.arrival else {
            return;
        };
        let Some(state) = self.probes.get_mut(&op.seq) else {
            return;
        };
        if state.committed {
            return;
        }
        state.committed = true;
        let mut read = 0u32;
        for t in &p.t_grid {
            for _ in 0..p.reads_per_t {
                out.set_timer(
                    ClientTimer::ProbeRead {
                        write: op.seq,
                        read,
                    },
                    *t,
                );
                read += 1;
            }
        }
        state.reads_pending = u64::from(read);
    }

    /// One of a probe's reads is due. Reads due after the workload ended are
    /// not started (like every other operation), only counted off.
    fn probe_read(&mut self, now: SimTime, write: u64, out: &mut Outbox<ClientTimer>) {
        let Some(state) = self.probes.get(&write) else {
            return;
        };
        let key = state.key;
        if now >= self.shared.workload_end {
            self.probe_progress(write, ProbePart::Read, out);
            return;
        }
        self.invoke_get(now, key, FollowUp::ProbeRead(write), out);
    }

    /// A probe's write or one of its reads finished (or a read was counted
    /// off); when nothing is left, the probe ends and its slot's next probe
    /// is due after the interval.
    fn probe_progress(&mut self, write: u64, part: ProbePart, out: &mut Outbox<ClientTimer>) {
        let Some(state) = self.probes.get_mut(&write) else {
            return;
        };
        match part {
            ProbePart::Write => state.write_done = true,
            ProbePart::Read => state.reads_pending = state.reads_pending.saturating_sub(1),
        }
        // A write that failed before committing never gets its reads.
        let over = state.write_done && (!state.committed || state.reads_pending == 0);
        if over {
            let slot = state.slot;
            self.probes.remove(&write);
            if let Arrival::Probe(p) = &self.shared.workload.arrival {
                out.set_timer(ClientTimer::ProbeNext(slot), p.interval);
            }
        }
    }

    fn invoke_get(
        &mut self,
        now: SimTime,
        key: Key,
        follow_up: FollowUp,
        out: &mut Outbox<ClientTimer>,
    ) {
        let op = self.next_op();
        let client_driven = matches!(
            self.shared.workload.routing,
            Routing::PartitionAware {
                client_driven: true,
                ..
            }
        );
        out.record(Record::OpInvoked {
            op,
            kind: OpKind::Get,
            blind: false,
            key,
            write: None,
            based_on: Vec::new(),
            discarded: Vec::new(),
        });
        let request = ClientMsg::Get {
            op,
            key,
            forwarded: false,
        };
        // Client-driven gets are neither retried nor hedged (not modelled).
        let keep = !client_driven
            && (self.shared.workload.retries.is_some()
                || self.shared.workload.hedged_reads.is_some());
        let target = if client_driven {
            match self.coordinate_get(now, op.seq, key, out) {
                Ok(first) => first,
                Err(failure) => {
                    // Refused before anything was sent (PR, fail_fast,
                    // a datacenter's quorum): no coordinator.
                    let f = InFlight {
                        kind: OpKind::Get,
                        key,
                        invoked: now,
                        target: NodeId(0),
                        follow_up,
                        tries: 1,
                        retries: 0,
                        asked: Asked::default(),
                        request: None,
                        retry_pending: false,
                        hedged: false,
                    };
                    self.complete(now, op.seq, f, Err(failure), (Vec::new(), 0), None, out);
                    self.after_completion(out);
                    return;
                }
            }
        } else {
            let target = self.route(now, key, None);
            out.send(Endpoint::Node(target), Msg::Client(request.clone()));
            target
        };
        out.set_timer(
            ClientTimer::OpTimeout(op.seq),
            self.shared.workload.client_timeout,
        );
        if let Some(delay) = self.hedge_delay().filter(|_| keep) {
            out.set_timer(ClientTimer::Hedge(op.seq), delay);
        }
        self.in_flight.insert(
            op.seq,
            InFlight {
                kind: OpKind::Get,
                key,
                invoked: now,
                target,
                follow_up,
                tries: 1,
                retries: 0,
                asked: Asked::one(target),
                request: keep.then_some(request),
                retry_pending: false,
                hedged: false,
            },
        );
    }

    /// What a reply from `node` to a client-driven request on `key` counts
    /// for: whether it is a primary's (when `primaries`, PR or PW, asks for
    /// any), and whether with the replicas that answered `before` it the
    /// datacenter quorum (LOCAL/EACH_QUORUM) is met.
    fn reply_weight(
        &self,
        key: Key,
        node: NodeId,
        primaries: u32,
        before: impl Iterator<Item = NodeId>,
    ) -> (bool, bool) {
        let q = self.shared.quorum;
        let place = Client::placement(&self.shared, self.id, &self.view, key);
        let primary = primaries > 0 && place.is_primary(node);
        let dc_met = q.consistency != crate::config::Consistency::Fixed && {
            let nodes: Vec<NodeId> = before.chain(std::iter::once(node)).collect();
            place.dc_quorum_met(q.consistency, &nodes)
        };
        (primary, dc_met)
    }

    /// Where `key` lives in `ring` (this client's view), with the client's
    /// datacenter as the local one.
    fn placement<'a>(
        shared: &'a ClientShared,
        id: ClientId,
        ring: &'a Ring,
        key: Key,
    ) -> Placement<'a, impl Fn(NodeId) -> DatacenterId + 'a> {
        let dcs = &shared.datacenters;
        Placement {
            list: ring.preference_list(key),
            n: shared.replicas_n,
            dc: move |n: NodeId| dcs.get(n.0 as usize).copied().unwrap_or(DatacenterId(0)),
            local: shared.workload.clients[id.0 as usize].datacenter,
        }
    }

    /// [`Client::client_targets`], or the failure when fewer replicas than
    /// `(primaries, total)` are believed reachable (PR/R for a get, PW/W
    /// for a put; `fail_fast` and the datacenter quorums as a coordinator
    /// checks them).
    fn quorum_targets(
        &mut self,
        now: SimTime,
        key: Key,
        need: (u32, u32),
    ) -> Result<Vec<(NodeId, Option<NodeId>)>, Failure> {
        let (targets, reachable) = self.client_targets(now, key);
        let q = self.shared.quorum;
        // Nothing to check: no need to place the key.
        if !checks_availability(&q, need.0) {
            return Ok(targets);
        }
        let up: Vec<NodeId> = targets[..reachable].iter().map(|t| t.0).collect();
        let ring = self.view.clone();
        let place = Client::placement(&self.shared, self.id, &ring, key);
        match place.unavailable(&q, &up, need) {
            Some(failure) => Err(failure),
            None => Ok(targets),
        }
    }

    /// The nodes a client-driven request of `key` goes to, chosen as a
    /// node's coordinator chooses them ([`Placement::sloppy_targets`], or
    /// the top N under a strict quorum) with this client's failure detector
    /// and view: `(node, hint)` per target, and how many of them (the
    /// first) the client believes reachable.
    fn client_targets(&mut self, now: SimTime, key: Key) -> (Vec<(NodeId, Option<NodeId>)>, usize) {
        let ring = self.view.clone();
        let shared = self.shared.clone();
        let retry = shared.retry_interval;
        let needs = shared.quorum.needs_reachability();
        let detector = &mut self.detector;
        let place = Client::placement(&shared, self.id, &ring, key);
        if shared.strict {
            let mut up: Vec<(NodeId, Option<NodeId>)> = Vec::new();
            let mut down = Vec::new();
            for node in place.top() {
                if !needs || detector.claim(*node, now, retry) {
                    up.push((*node, None));
                } else {
                    down.push((*node, None));
                }
            }
            let reachable = up.len();
            up.extend(down);
            (up, reachable)
        } else {
            let (targets, _, reachable) = place.sloppy_targets(shared.quorum.fallbacks, |node| {
                detector.claim(node, now, retry)
            });
            (targets, reachable)
        }
    }

    /// Client-driven coordination (§6.4): the client sends the read to the
    /// nodes a coordinator would ([`Client::client_targets`]), after the
    /// same PR, `fail_fast` and datacenter checks. Returns the first target,
    /// or the failure when the client refuses the read at once.
    fn coordinate_get(
        &mut self,
        now: SimTime,
        seq: u64,
        key: Key,
        out: &mut Outbox<ClientTimer>,
    ) -> Result<NodeId, Failure> {
        let q = self.shared.quorum;
        let picked = self.quorum_targets(now, key, (q.pr, q.r))?;
        let targets: Vec<NodeId> = picked.iter().map(|t| t.0).collect();
        for node in &targets {
            out.send(
                Endpoint::Node(*node),
                Msg::Replica(ReplicaMsg::Read {
                    request: RequestId(seq),
                    key,
                }),
            );
        }
        let first = targets[0];
        self.client_gets.insert(
            seq,
            ClientGet {
                key,
                targets,
                replies: Vec::new(),
                tally: ReadTally::default(),
                answered: false,
            },
        );
        Ok(first)
    }

    /// A replica answered a client-driven get: the client counts it as a
    /// node's coordinator does ([`ReadTally`]: R, PR, `notfound_ok`,
    /// `basic_quorum`, or the datacenters' quorums) and answers with the
    /// reconciled versions (the fastest replica stands as the coordinator);
    /// once every target answered, or the read repair window closed, it
    /// repairs the stale ones.
    fn on_read_reply(
        &mut self,
        now: SimTime,
        node: NodeId,
        seq: u64,
        versions: Vec<Version>,
        out: &mut Outbox<ClientTimer>,
    ) {
        let q = self.shared.quorum;
        let versioning = self.shared.versioning;
        let Some(g) = self.client_gets.get(&seq) else {
            return;
        };
        if !g.targets.contains(&node) || g.replies.iter().any(|(n, _)| *n == node) {
            return;
        }
        let (primary, dc_met) = self.reply_weight(g.key, node, q.pr, g.replies.iter().map(|r| r.0));
        let g = self.client_gets.get_mut(&seq).expect("checked above");
        if !g.answered {
            g.tally.count(&q, !versions.is_empty(), primary);
        }
        g.replies.push((node, versions));
        let mut reply = None;
        if let Some(verdict) = g.tally.verdict(&q, dc_met).filter(|_| !g.answered) {
            g.answered = true;
            let fastest = g.replies[0].0;
            reply = Some((fastest, g.tally.answer(&q, verdict, versioning, &g.replies)));
            match self.shared.read_repair {
                Some(window) => out.set_timer(ClientTimer::ReadRepair(seq), window),
                None => {
                    self.client_gets.remove(&seq);
                }
            }
        }
        let done = self
            .client_gets
            .get(&seq)
            .is_some_and(|g| g.answered && g.replies.len() == g.targets.len());
        if let Some((fastest, result)) = reply {
            let msg = ClientMsg::GetReply {
                op: OpId {
                    client: self.id,
                    seq,
                },
                result,
                coordinator: fastest,
            };
            self.on_message(now, Endpoint::Node(fastest), Msg::Client(msg), out);
        }
        if done {
            out.cancel_timer(ClientTimer::ReadRepair(seq));
            self.read_repair(seq, out);
        }
    }

    /// Whether this client coordinates its own puts: client-driven routing
    /// under last-write-wins, where the paper has writes "coordinated
    /// locally" (§6.4), the client stamping the version with its own clock
    /// (as Cassandra's drivers do). Under vector clocks a put still goes to
    /// a replica that coordinates it, since the clock's new entry is a
    /// server's.
    fn coordinates_puts(&self) -> bool {
        self.shared.versioning == Versioning::LastWriteWins
            && matches!(
                self.shared.workload.routing,
                Routing::PartitionAware {
                    client_driven: true,
                    ..
                }
            )
    }

    /// Client-driven put (last-write-wins, §6.4): the client builds the
    /// version (a timestamp from its clock), checks PW, `fail_fast` and the
    /// datacenters' quorums as a coordinator would, and sends the write to
    /// the nodes a coordinator would choose, a fallback with the hint of
    /// the owner it stands in for. Returns the first target, or the failure
    /// when the client refuses the put at once.
    fn coordinate_put(
        &mut self,
        now: SimTime,
        seq: u64,
        key: Key,
        (value, size): (Value, u32),
        out: &mut Outbox<ClientTimer>,
    ) -> Result<NodeId, Failure> {
        let q = self.shared.quorum;
        let targets = self.quorum_targets(now, key, (q.pw, q.w))?;
        let first = targets[0].0;
        let version = Version::new(VersionData::new(
            // No node coordinated: the first target stands as the
            // coordinator, as the fastest replica does for a get.
            VectorClock::new(),
            first,
            0,
            value,
            now.as_micros(),
            size,
        ));
        // §6.1: with buffered writes, the first max(1, DW) targets write
        // durably, as a node's coordinator has them.
        let durable_first = q.dw.max(1) as usize;
        let mut buffered = Vec::new();
        for (i, (node, hint)) in targets.iter().enumerate() {
            let durability = if self.shared.buffered_writes && i >= durable_first {
                buffered.push(*node);
                Durability::Buffered
            } else {
                Durability::Durable
            };
            out.send(
                Endpoint::Node(*node),
                Msg::Replica(ReplicaMsg::Write {
                    request: RequestId(seq),
                    key,
                    version: version.clone(),
                    siblings: Vec::new(),
                    hint: *hint,
                    durability,
                }),
            );
        }
        self.client_puts.insert(
            seq,
            ClientPut {
                key,
                write: value.write(),
                targets: targets.iter().map(|t| t.0).collect(),
                acked: Vec::new(),
                buffered,
                tally: WriteTally::default(),
                body: Vec::new(),
            },
        );
        Ok(first)
    }

    /// A replica acknowledged a client-driven put: counted as a node's
    /// coordinator counts it ([`WriteTally`]: W, PW, DW or the datacenters'
    /// quorums); at the quorum the write commits and the put completes,
    /// the replica whose acknowledgement made the quorum standing as its
    /// coordinator.
    fn on_write_ack(
        &mut self,
        now: SimTime,
        node: NodeId,
        seq: u64,
        stored: Vec<Version>,
        out: &mut Outbox<ClientTimer>,
    ) {
        let q = self.shared.quorum;
        let Some(p) = self.client_puts.get(&seq) else {
            return;
        };
        if !p.targets.contains(&node) || p.acked.contains(&node) {
            return;
        }
        let (primary, dc_met) = self.reply_weight(p.key, node, q.pw, p.acked.iter().copied());
        let p = self.client_puts.get_mut(&seq).expect("checked above");
        p.acked.push(node);
        let durable = !p.buffered.contains(&node);
        p.tally.count(primary, durable);
        if q.return_body {
            let merged = p.body.drain(..).chain(stored);
            p.body = reconcile(self.shared.versioning, merged);
        }
        if !p.tally.enough(&q, dc_met) {
            return;
        }
        let p = self.client_puts.remove(&seq).expect("checked above");
        let op = OpId {
            client: self.id,
            seq,
        };
        out.record(Record::WriteCommitted {
            op,
            key: p.key,
            write: p.write,
            coordinator: node,
        });
        self.on_write_committed(now, op, out);
        let reply = ClientMsg::PutReply {
            op,
            result: Ok(()),
            coordinator: node,
            body: p.body,
        };
        self.on_message(now, Endpoint::Node(node), Msg::Client(reply), out);
    }

    /// Client-driven read repair: the reconciled versions go to every top-N
    /// replica that answered with something stale (a fallback, which would
    /// need a hint, is left to hinted handoff and anti-entropy).
    fn read_repair(&mut self, seq: u64, out: &mut Outbox<ClientTimer>) {
        let Some(g) = self.client_gets.remove(&seq) else {
            return;
        };
        if g.replies.windows(2).all(|w| w[0].1 == w[1].1) {
            return;
        }
        let versioning = self.shared.versioning;
        let latest = reconcile(
            versioning,
            g.replies.iter().flat_map(|(_, v)| v.iter().cloned()),
        );
        if latest.is_empty() {
            return;
        }
        let ring = self.view.clone();
        let list = ring.preference_list(g.key);
        let top = &list[..self.shared.replicas_n.min(list.len())];
        for (node, versions) in &g.replies {
            if top.contains(node) && !covers(versions, &latest, versioning) {
                out.send(
                    Endpoint::Node(*node),
                    Msg::Replica(ReplicaMsg::Repair {
                        key: g.key,
                        versions: latest.clone(),
                        hint: None,
                    }),
                );
            }
        }
    }

    /// When to hedge a get started now, if at all.
    fn hedge_delay(&self) -> Option<SimDuration> {
        match self.shared.workload.hedged_reads? {
            Hedge::After(d) => Some(d),
            Hedge::Percentile(ppm) => {
                let n = self.get_latencies.len();
                if n < Hedge::MIN_SAMPLES {
                    return None;
                }
                let mut sorted: Vec<u64> = self.get_latencies.iter().copied().collect();
                let rank = ((u64::from(ppm) * n as u64) / 1_000_000).min(n as u64 - 1) as usize;
                let (_, at, _) = sorted.select_nth_unstable(rank);
                Some(SimDuration(*at))
            }
        }
    }

    /// A hedge is due: the get goes to a second coordinator too, one not
    /// asked yet (the next node of the key's preference list for a
    /// partition-aware client, another random node behind a load balancer).
    fn hedge(&mut self, now: SimTime, seq: u64, out: &mut Outbox<ClientTimer>) {
        let Some(f) = self.in_flight.get(&seq) else {
            return;
        };
        if f.hedged || f.retry_pending || f.kind != OpKind::Get {
            return;
        }
        let (key, asked) = (f.key, f.asked.clone());
        let Some(request) = f.request.clone() else {
            return;
        };
        let retry = self.shared.retry_interval;
        let candidates: Vec<NodeId> = match self.shared.workload.routing {
            Routing::PartitionAware { .. } => self.view.preference_list(key).to_vec(),
            Routing::LoadBalancer => {
                let mut nodes: Vec<NodeId> = if self.shared.view_refresh.is_some() {
                    self.view.nodes().to_vec()
                } else {
                    (0..self.shared.node_count).map(NodeId).collect()
                };
                // A random rotation: a load balancer's pick.
                let start = self.rng.index(nodes.len().max(1));
                nodes.rotate_left(start);
                nodes
            }
        };
        let fresh: Vec<NodeId> = candidates
            .into_iter()
            .filter(|n| !asked.contains(n))
            .collect();
        let Some(node) = fresh
            .iter()
            .copied()
            .find(|n| self.detector.claim(*n, now, retry))
            .or_else(|| fresh.first().copied())
        else {
            return;
        };
        let f = self.in_flight.get_mut(&seq).expect("checked above");
        f.hedged = true;
        f.tries += 1;
        f.asked.push(node);
        out.send(Endpoint::Node(node), Msg::Client(request));
    }

    /// Whether a failed try of `seq` is sent again: retries are on, the
    /// failure is worth retrying, the operation has tries left and the
    /// client's budget allows one. If so, the retry is scheduled after the
    /// backoff.
    fn schedule_retry(
        &mut self,
        seq: u64,
        failure: &Failure,
        out: &mut Outbox<ClientTimer>,
    ) -> bool {
        let Some(r) = self.shared.workload.retries else {
            return false;
        };
        let Retries {
            attempts,
            backoff,
            max_backoff,
            budget_ppm,
        } = r;
        let budget = Retries::BUDGET_FLOOR + budget_ppm * self.ops_started / 1_000_000;
        let out_of_budget = self.retries_sent >= budget;
        let Some(f) = self.in_flight.get_mut(&seq) else {
            return false;
        };
        if f.retry_pending {
            return true;
        }
        // A refused write (too many siblings) would be refused again.
        if matches!(failure, Failure::TooManySiblings { .. })
            || out_of_budget
            || f.request.is_none()
            || f.retries + 1 >= attempts
        {
            return false;
        }
        f.retry_pending = true;
        f.retries += 1;
        self.retries_sent += 1;
        let wait = backoff
            .as_micros()
            .saturating_mul(1u64 << (f.retries - 1).min(20))
            .min(max_backoff.as_micros());
        out.cancel_timer(ClientTimer::OpTimeout(seq));
        out.set_timer(ClientTimer::Retry(seq), SimDuration(wait));
        true
    }

    /// A retry is due: the same request goes out again, to the coordinator
    /// routing picks now (the failure detector may have moved it).
    fn retry(&mut self, now: SimTime, seq: u64, out: &mut Outbox<ClientTimer>) {
        let Some(f) = self.in_flight.get(&seq) else {
            return;
        };
        let (key, request) = (f.key, f.request.clone());
        let Some(request) = request else { return };
        let target = self.route(now, key, None);
        let f = self.in_flight.get_mut(&seq).expect("checked above");
        f.retry_pending = false;
        f.tries += 1;
        f.target = target;
        f.asked.push(target);
        out.send(Endpoint::Node(target), Msg::Client(request));
        out.set_timer(
            ClientTimer::OpTimeout(seq),
            self.shared.workload.client_timeout,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn invoke_put(
        &mut self,
        now: SimTime,
        key: Key,
        kind: OpKind,
        context: Context,
        based_on: Vec<WriteId>,
        discarded: Vec<WriteId>,
        out: &mut Outbox<ClientTimer>,
    ) -> OpId {
        // A put that is not the second half of a read-modify-write is blind.
        let blind = !self.writing_back;
        self.writing_back = false;
        let op = self.next_op();
        let write = WriteId(op);
        let (value, size) = if kind == OpKind::Delete {
            (Value::Tombstone(write), 0)
        } else {
            let size = match &self.shared.workload.value_size {
                None => crate::config::DEFAULT_VALUE_BYTES,
                Some(d) => d.sample_units(&mut self.sizes).min(u64::from(u32::MAX)) as u32,
            };
            (Value::Data(write), size)
        };
        let invoked = Record::OpInvoked {
            op,
            kind,
            key,
            blind,
            write: Some(write),
            based_on,
            discarded,
        };
        if self.coordinates_puts() {
            out.record(invoked);
            let coordinated = self.coordinate_put(now, op.seq, key, (value, size), out);
            let target = *coordinated.as_ref().unwrap_or(&NodeId(0));
            let f = InFlight {
                kind,
                key,
                invoked: now,
                target,
                follow_up: FollowUp::None,
                tries: 1,
                retries: 0,
                asked: Asked::one(target),
                request: None,
                retry_pending: false,
                hedged: false,
            };
            match coordinated {
                Ok(_) => {
                    out.set_timer(
                        ClientTimer::OpTimeout(op.seq),
                        self.shared.workload.client_timeout,
                    );
                    self.in_flight.insert(op.seq, f);
                }
                Err(failure) => {
                    // Refused before anything was sent (PW, fail_fast, a
                    // datacenter's quorum): no coordinator.
                    self.complete(now, op.seq, f, Err(failure), (Vec::new(), 0), None, out);
                    self.after_completion(out);
                }
            }
            return op;
        }
        let chosen = match self.shared.write_coordinator {
            WriteCoordinator::FastestReadResponder => context.fastest_replica,
            WriteCoordinator::FirstHealthy => None,
        };
        let target = self.route(now, key, chosen);
        out.record(invoked);
        let request = ClientMsg::Put {
            op,
            key,
            context,
            value: value.into(),
            size,
            forwarded: false,
        };
        // A retry sends the same put: same operation, same value.
        let keep = self
            .shared
            .workload
            .retries
            .is_some()
            .then(|| request.clone());
        out.send(Endpoint::Node(target), Msg::Client(request));
        out.set_timer(
            ClientTimer::OpTimeout(op.seq),
            self.shared.workload.client_timeout,
        );
        self.in_flight.insert(
            op.seq,
            InFlight {
                kind,
                key,
                invoked: now,
                target,
                follow_up: FollowUp::None,
                tries: 1,
                retries: 0,
                asked: Asked::one(target),
                request: keep,
                retry_pending: false,
                hedged: false,
            },
        );
        op
    }

    /// Handles a reply from a coordinator.
    pub fn on_message(
        &mut self,
        now: SimTime,
        from: Endpoint,
        msg: Msg,
        out: &mut Outbox<ClientTimer>,
    ) {
        if let Endpoint::Node(node) = from {
            self.detector.heard_from(node);
        }
        match msg {
            Msg::Client(ClientMsg::GetReply {
                op,
                result,
                coordinator,
            }) => {
                if self.retrying(op.seq, result.as_ref().err(), out) {
                    return;
                }
                let Some(f) = self.in_flight.remove(&op.seq) else {
                    return;
                };
                if result.is_ok() && self.shared.workload.hedged_reads.is_some() {
                    if self.get_latencies.len() == Hedge::WINDOW {
                        self.get_latencies.pop_front();
                    }
                    self.get_latencies
                        .push_back(now.saturating_since(f.invoked).as_micros());
                }
                let values = result
                    .as_ref()
                    .map(|r| r.versions.iter().map(|v| v.value()).collect())
                    .unwrap_or_default();
                let bytes = result.as_ref().map_or(0, |r| {
                    r.versions.iter().map(|v| u64::from(v.size)).sum::<u64>()
                });
                let corrupted = result
                    .as_ref()
                    .map_or(0, |r| r.versions.iter().filter(|v| v.corrupted()).count());
                if corrupted > 0 {
                    // Ground truth for the corruption checker: the client
                    // cannot tell, the data it got is garbage.
                    out.record(Record::CorruptRead {
                        op,
                        key: f.key,
                        versions: corrupted as u32,
                    });
                }
                let follow_up = f.follow_up;
                let key = f.key;
                self.complete(
                    now,
                    op.seq,
                    f,
                    result.as_ref().map(|_| ()).map_err(|e| *e),
                    (values, bytes),
                    Some(coordinator),
                    out,
                );
                match (follow_up, result) {
                    (FollowUp::Put, Ok(r)) => self.write_back(now, key, OpKind::Put, r, out),
                    (FollowUp::Delete, Ok(r)) => self.write_back(now, key, OpKind::Delete, r, out),
                    _ => self.after_completion(out),
                }
            }
            Msg::Client(ClientMsg::PutReply {
                op,
                result,
                coordinator,
                body,
            }) => {
                if self.retrying(op.seq, result.as_ref().err(), out) {
                    return;
                }
                let Some(f) = self.in_flight.remove(&op.seq) else {
                    return;
                };
                // With return_body: the versions the put left (siblings).
                let values = body.iter().map(|v| v.value()).collect();
                let bytes = body.iter().map(|v| u64::from(v.size)).sum();
                self.complete(
                    now,
                    op.seq,
                    f,
                    result,
                    (values, bytes),
                    Some(coordinator),
                    out,
                );
                self.after_completion(out);
            }
            Msg::Gossip(GossipMsg::View { ring }) => self.view = ring.0,
            Msg::Replica(ReplicaMsg::ReadReply { request, versions }) => {
                if let Endpoint::Node(node) = from {
                    self.on_read_reply(now, node, request.0, versions, out);
                }
            }
            Msg::Replica(ReplicaMsg::WriteAck { request, versions }) => {
                if let Endpoint::Node(node) = from {
                    self.on_write_ack(now, node, request.0, versions, out);
                }
            }
            _ => {}
        }
    }

    /// A reply for operation `seq` that does not complete it: a failure
    /// while a retry is scheduled (a late answer to an earlier try), or a
    /// failure that gets retried now.
    fn retrying(
        &mut self,
        seq: u64,
        failure: Option<&Failure>,
        out: &mut Outbox<ClientTimer>,
    ) -> bool {
        match failure {
            None => false,
            Some(failure) => self.schedule_retry(seq, failure, out),
        }
    }

    /// Semantic reconciliation, then the write with the read's context.
    fn write_back(
        &mut self,
        now: SimTime,
        key: Key,
        kind: OpKind,
        read: GetResult,
        out: &mut Outbox<ClientTimer>,
    ) {
        let based_on: Vec<WriteId> = read.versions.iter().map(|v| v.value().write()).collect();
        let discarded = match self.shared.workload.reconcile {
            Reconcile::Union => Vec::new(),
            Reconcile::LastWriterWins => {
                let winner = read
                    .versions
                    .iter()
                    .max_by_key(|v| v.stamp())
                    .map(|v| v.value().write());
                based_on
                    .iter()
                    .copied()
                    .filter(|w| Some(*w) != winner)
                    .collect()
            }
        };
        self.writing_back = true;
        self.invoke_put(now, key, kind, read.context, based_on, discarded, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        _now: SimTime,
        seq: u64,
        f: InFlight,
        result: Result<(), Failure>,
        (values, bytes): (Vec<Value>, u64),
        coordinator: Option<NodeId>,
        out: &mut Outbox<ClientTimer>,
    ) {
        let op = OpId {
            client: self.id,
            seq,
        };
        out.cancel_timer(ClientTimer::OpTimeout(seq));
        if result.is_err() && self.client_gets.remove(&seq).is_some() {
            out.cancel_timer(ClientTimer::ReadRepair(seq));
        }
        self.client_puts.remove(&seq);
        if f.retry_pending {
            out.cancel_timer(ClientTimer::Retry(seq));
        }
        if f.kind == OpKind::Get && self.shared.workload.hedged_reads.is_some() && !f.hedged {
            out.cancel_timer(ClientTimer::Hedge(seq));
        }
        out.record(Record::OpCompleted {
            op,
            kind: f.kind,
            key: f.key,
            invoked: f.invoked,
            result,
            values,
            bytes,
            coordinator,
        });
        match f.follow_up {
            FollowUp::ProbeRead(write) => self.probe_progress(write, ProbePart::Read, out),
            _ if self.probes.contains_key(&seq) => self.probe_progress(seq, ProbePart::Write, out),
            _ => {}
        }
    }

    /// Closed loop: the next operation after the think time.
    fn after_completion(&mut self, out: &mut Outbox<ClientTimer>) {
        if let Arrival::ClosedLoop { think_time } = &self.shared.workload.arrival {
            let pause = think_time.sample(&mut self.rng);
            out.set_timer(ClientTimer::NextOp, pause);
        }
    }

    /// Operations still waiting for an answer.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }
}
