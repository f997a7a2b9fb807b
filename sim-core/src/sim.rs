//! The simulation: the one loop that pops events and advances virtual time.
//!
//! `Simulation` owns the event queue, the nodes, the clients, the network and
//! the fault state. [`Simulation::step`] pops the earliest event, sets `now`,
//! hands the event to the state machine it concerns, and turns the commands
//! that come back into new events (through the network for messages). No
//! other code advances time or pops events (architecture invariant).
//!
//! Phases: clients issue operations until `duration`; then the quiescence
//! phase lets background repair run (optionally with every fault healed);
//! at the end every node reports what it holds, for the durability checker.

use std::sync::Arc;

use crate::config::Scenario;
use crate::divergence::{DivergenceObserver, Replicas};
use crate::dynamo::client::{Client, ClientShared, ClientTimer};
use crate::dynamo::node::membership::JoinPlan;
use crate::dynamo::node::{Node, NodeStats, NodeTime, Timer};
use crate::dynamo::protocol::{Endpoint, Msg, MsgKind};
use crate::dynamo::ring::{Ring, TokenMap};
use crate::dynamo::storage::LoadTable;
use crate::dynamo::workload::KeySampler;
use crate::engine::ids::{ClientId, Key, NodeId};
use crate::engine::outbox::{Command, DiskIo, DiskOp, Outbox};
use crate::engine::queue::{EventHandle, EventQueue};
use crate::engine::record::{Record, Sink};
use crate::engine::rng::{SimRng, Stream};
use crate::engine::small_map::SmallMap;
use crate::engine::time::{SimDuration, SimTime};
use crate::engine::trace::{TraceEvent, TraceHash, TraceKind, Tracer};
use crate::world::faults::{fault_rank, FaultAction, NemesisPlan, Resource};
use crate::world::net::{DropReason, Network, Transmission};
use crate::world::resources::{
    Admission, AdmissionMonitor, Arrival, LinkStats, Nic, Pool, PoolAdmission, Slot, Station,
    StationStats, Windows,
};

/// Something that happens at an instant.
///
/// Every event is moved into the queue and out of it, so its size is a
/// cost of every step: at 128 bytes today's compiler moves it inline, and
/// at 136 (what it was) each move was a call to `memcpy`. So a delivery's
/// size is 32 bits and a message waiting for node capacity (`Ingressed`,
/// `CpuStart`) waits in the simulation's table of waiting jobs, its event
/// holding its place ([`JobRef`]). Not `Clone`: two events holding one
/// place would take one job twice.
#[derive(Debug)]
pub enum Event {
    /// A message arrives (at the receiver's network interface, with node
    /// capacity; otherwise at its handler).
    Deliver {
        /// The message's number in the run.
        id: u64,
        /// When it was sent.
        sent_at: SimTime,
        /// When it left the sender's network interface (`sent_at` without
        /// one): a crash before then means it never left.
        departed: SimTime,
        /// Sender.
        from: Endpoint,
        /// Receiver.
        to: Endpoint,
        /// The message's size, measured once by the sender's interface (0
        /// when the sender has none or the size needs more than 32 bits:
        /// the receiver measures it).
        bytes: u32,
        /// The message.
        msg: Msg,
    },
    /// A node's delayed send leaves (after local processing such as a disk
    /// write), unless the node crashed meanwhile.
    LocalSend {
        /// The sender.
        node: NodeId,
        /// The sender's incarnation when it asked.
        incarnation: u32,
        /// Receiver.
        to: Endpoint,
        /// The message.
        msg: Msg,
    },
    /// A node timer fires (ignored if the node restarted since).
    NodeTimer {
        /// The node.
        node: NodeId,
        /// Its incarnation when the timer was set.
        incarnation: u32,
        /// The timer.
        timer: Timer,
    },
    /// A client timer fires.
    ClientTimer {
        /// The client.
        client: ClientId,
        /// The timer.
        timer: ClientTimer,
    },
    /// A message is through the receiver's network interface and joins
    /// its request queue (node capacity).
    Ingressed {
        /// The receiver.
        node: NodeId,
        /// Its incarnation when the message arrived.
        incarnation: u32,
        /// The message, in the table of waiting jobs.
        job: JobRef,
    },
    /// A message that waited for a worker starts its service: its handler
    /// runs now and its effects leave at `end`.
    CpuStart {
        /// The node.
        node: NodeId,
        /// Its incarnation when the message arrived.
        incarnation: u32,
        /// The message, in the table of waiting jobs.
        job: JobRef,
        /// When its service ends.
        end: SimTime,
    },
    /// The disk finished a job: what waited for it is sent now.
    DiskDone {
        /// The node.
        node: NodeId,
        /// Its incarnation when the job started.
        incarnation: u32,
        /// The job.
        job: DiskJob,
    },
    /// A fault is applied.
    Fault(FaultAction),
    /// A nemesis fault is applied; when it ends its source's pair (the
    /// undo), the source's next pair is drawn and queued.
    NemesisFault {
        /// The nemesis source (see `NemesisPlan`).
        source: usize,
        /// True for the undo, the second event of a pair.
        ends_pair: bool,
        /// What happens.
        action: FaultAction,
    },
    /// Clients stop; quiescence starts.
    WorkloadEnd,
    /// The run ends.
    End,
}

/// A message in a node's request processing (node capacity).
#[derive(Clone, Debug)]
pub struct CpuJob {
    head: JobHead,
    msg: Msg,
}

/// The place of a message in the table of those waiting for node capacity,
/// held by the one event that takes it back (neither `Clone` nor `Copy`).
#[derive(Debug, PartialEq, Eq)]
pub struct JobRef(u32);

/// Messages waiting for node capacity (through a network interface, or for
/// a worker), each taken back exactly once by the event that holds its
/// [`JobRef`] (a message of a crashed node's old incarnation too, when its
/// event pops and drops it). Slots are reused, so there are as many as
/// messages ever waited at once (what the bounded queues allow), and a
/// waiting message needs neither an allocation of its own nor a 136-byte
/// event. The event queue keeps a free list of the same kind for its
/// payloads; one generic slab for both was measured and dropped: the queue
/// then built each 144-byte slot and moved it in with `memcpy` (2 % more
/// of the engine's instructions) where it now writes a reused slot's
/// fields in place.
#[derive(Debug, Default)]
struct WaitingJobs {
    slots: Vec<Option<CpuJob>>,
    free: Vec<u32>,
}

impl WaitingJobs {
    fn insert(&mut self, job: CpuJob) -> JobRef {
        match self.free.pop() {
            Some(i) => {
                debug_assert!(self.slots[i as usize].is_none());
                self.slots[i as usize] = Some(job);
                JobRef(i)
            }
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 waiting messages");
                self.slots.push(Some(job));
                JobRef(i)
            }
        }
    }

    fn take(&mut self, job: JobRef) -> CpuJob {
        let taken = self.slots[job.0 as usize].take();
        self.free.push(job.0);
        taken.expect("a waiting job is taken once")
    }
}

/// What request processing needs to know of a message besides the message
/// itself (kept apart so the common path never copies the message into a
/// job record).
#[derive(Clone, Copy, Debug)]
struct JobHead {
    id: u64,
    sent_at: SimTime,
    from: Endpoint,
    /// The message's size (`Msg::size_bytes`, measured once).
    bytes: u64,
    /// When it joined the request queue.
    arrived: SimTime,
}

/// A message at the receiver's network interface (node capacity).
enum Ingress {
    /// The interface's queue is full.
    Dropped,
    /// Through the interface at this time.
    Later(SimTime),
    /// Through now.
    Now,
}

/// What becomes of a message arriving at a node (node capacity): the
/// verdict of its interface, then of its request queue.
enum Verdict {
    /// Handled now. `Some(end)`: a worker serves it and its effects leave
    /// at `end`; `None`: the node's request processing is not modelled.
    Handle(Option<SimTime>),
    /// The interface's queue is full.
    Dropped,
    /// Through the interface at this time, then it joins the request queue.
    Later(SimTime),
    /// Handled when this slot starts.
    Wait(Slot),
    /// The request queue's waiting room is full.
    Refused,
}

/// Disk work of a node (node capacity).
#[derive(Clone, Debug)]
pub struct DiskJob {
    io: DiskIo,
    then: Option<(Endpoint, Msg)>,
    /// When it joined the disk queue.
    arrived: SimTime,
    /// It cannot start before this (asked for by a handler whose CPU
    /// service ends then; it holds its channel from the handler's start).
    ready: SimTime,
}

/// One node's resources (node capacity).
struct NodeRes {
    cpu: Option<Pool>,
    /// Messages that wait for a worker: their start, and their `CpuStart`
    /// event (to cancel when shed).
    cpu_pending: std::collections::VecDeque<(SimTime, EventHandle)>,
    disk: Option<Station<DiskJob>>,
    nic: Option<Nic>,
    admission: Option<AdmissionMonitor>,
    /// Service-time draws, the node's own resource stream.
    rng: SimRng,
    /// The node's last crash (messages still in its egress queue then are lost).
    last_crash: Option<SimTime>,
}

/// What one node's resources observed over a run (node capacity).
#[derive(Clone, Debug, Default)]
pub struct ResourceStats {
    /// Request processing.
    pub cpu: Option<StationStats>,
    /// The disk.
    pub disk: Option<StationStats>,
    /// The network interface, outgoing.
    pub egress: Option<LinkStats>,
    /// The network interface, incoming.
    pub ingress: Option<LinkStats>,
    /// §6.5 admission control: (evaluations, evaluations that deferred
    /// background work).
    pub admission: Option<(u64, u64)>,
}

/// Why a run stopped. Only [`StopReason::EndOfRun`] is a complete run:
/// every other reason means the run stopped before its end, and the
/// driver must not report its results as a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The scenario's end time was reached.
    EndOfRun,
    /// The `max_events` bound was hit first.
    MaxEvents,
    /// Nothing left to do before the end.
    QueueEmpty,
    /// The driver's wall-clock guard stopped it (see [`Guard`]).
    WallClock,
    /// The driver's memory guard stopped it (see [`Guard`]).
    Memory,
}

impl StopReason {
    /// Name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            StopReason::EndOfRun => "end_of_run",
            StopReason::MaxEvents => "max_events",
            StopReason::QueueEmpty => "queue_empty",
            StopReason::WallClock => "wall_clock",
            StopReason::Memory => "memory",
        }
    }

    /// True when the run reached its end.
    pub fn is_complete(self) -> bool {
        self == StopReason::EndOfRun
    }
}

/// A bound the driver enforces from outside the simulation: wall-clock
/// time or memory. `sim-core` never reads a clock or the process's memory;
/// the driver implements this trait and [`Simulation::run_guarded`] asks it
/// every [`GUARD_INTERVAL_EVENTS`] events whether to stop. A guard that
/// never fires changes nothing: the run stays a pure function of
/// (scenario, seed).
pub trait Guard {
    /// `Some(reason)` stops the run now (`WallClock` or `Memory`).
    fn check(&mut self, events: u64) -> Option<StopReason>;
}

/// A guard that never stops a run.
pub struct NoGuard;

impl Guard for NoGuard {
    fn check(&mut self, _events: u64) -> Option<StopReason> {
        None
    }
}

/// How often (in processed events) [`Simulation::run_guarded`] consults
/// its guard.
pub const GUARD_INTERVAL_EVENTS: u64 = 1024;

/// Counters kept by the engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Events processed.
    pub events: u64,
    /// Messages sent (entered the network or a local queue), by [`MsgKind::index`].
    pub sent_by_kind: [u64; MsgKind::ALL.len()],
    /// Messages dropped, by kind.
    pub dropped_by_kind: [u64; MsgKind::ALL.len()],
    /// Drops by reason: partitioned, lost, node down.
    pub dropped_partitioned: u64,
    /// See `dropped_partitioned`.
    pub dropped_lost: u64,
    /// See `dropped_partitioned`.
    pub dropped_node_down: u64,
    /// Messages refused by a full queue (node capacity).
    pub dropped_overloaded: u64,
    /// Disk jobs refused by a full disk queue (what they would have sent
    /// is never sent).
    pub disk_refused: u64,
    /// Messages delivered twice.
    pub duplicated: u64,
    /// Largest number of pending events.
    pub peak_queue_len: u64,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Why it stopped.
    pub stop: StopReason,
    /// Virtual time at the end.
    pub end_time: SimTime,
    /// The trace hash (see [`crate::engine::trace`]).
    pub trace_hash: u64,
    /// Engine counters.
    pub stats: EngineStats,
    /// Per-node counters, by node id.
    pub node_stats: Vec<NodeStats>,
    /// With gossip membership: the ring of the first member up at the end
    /// (after joins and leaves it differs from the initial one).
    pub final_ring: Option<Arc<Ring>>,
    /// Per node, with node capacity (empty without).
    pub resources: Vec<ResourceStats>,
}

/// The stream of the load phase's value sizes ("LOADSZ").
const LOAD_SIZES_STREAM: u64 = 0x4c_4f_41_44_53_5a;

/// Where a node slot is in its administrative life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admin {
    /// A member (up or crashed).
    Active,
    /// Will join later (a `join` or `replace` fault names it).
    NotJoined,
    /// Replaced: stopped for good.
    Removed,
}

struct NodeSlot {
    node: Node,
    admin: Admin,
    up: bool,
    incarnation: u32,
    skew_offset_us: i64,
    skew_drift_ppm: i64,
}

/// Every node's stores, as the divergence observer sees them (a crashed
/// node's durable store counts, as in `FinalValues`).
struct NodesView<'a>(&'a mut [NodeSlot]);

impl Replicas for NodesView<'_> {
    fn drain_changes(&mut self, out: &mut Vec<Key>) {
        for slot in self.0.iter_mut() {
            slot.node.take_changed_keys(out);
        }
    }
    fn all_keys(&self, out: &mut Vec<Key>) {
        for slot in self.0.iter() {
            out.extend(slot.node.held_keys());
        }
    }
    fn held(&self, node: NodeId, key: Key, out: &mut Vec<crate::dynamo::protocol::Value>) {
        if let Some(slot) = self.0.get(node.0 as usize) {
            slot.node.held_values(key, out);
        }
    }
}

/// One run of one scenario.
pub struct Simulation {
    scenario: Arc<Scenario>,
    now: SimTime,
    queue: EventQueue<Event>,
    nodes: Vec<NodeSlot>,
    clients: Vec<Client>,
    net: Network,
    ring: Arc<Ring>,
    hash: TraceHash,
    stats: EngineStats,
    healed: bool,
    node_out: Outbox<Timer>,
    client_out: Outbox<ClientTimer>,
    /// Armed timers per node and per client, so a timer can be re-armed or
    /// cancelled in the queue (at most one armed instance per timer value).
    node_timers: Vec<SmallMap<Timer, EventHandle>>,
    client_timers: Vec<SmallMap<ClientTimer, EventHandle>>,
    /// When to next compare replicas' Merkle roots (after the workload ends,
    /// until they agree). Observation only: no events, no random draws.
    next_convergence_check: Option<SimTime>,
    /// Replica divergence over time (observation only, see
    /// [`crate::divergence`]).
    divergence: DivergenceObserver,
    /// Messages transmitted so far (each gets the next number as its id).
    next_msg_id: u64,
    /// Membership changes not yet known to every member that is up:
    /// `(member, version, issued)`. Observation only.
    pending_changes: Vec<(NodeId, u64, SimTime)>,
    /// The nemesis, drawn as the run goes (at most one pending pair per
    /// source).
    nemesis: Option<NemesisPlan>,
    /// Per node, with node capacity (empty without: infinite capacity).
    resources: Vec<NodeRes>,
    /// Messages waiting for node capacity.
    waiting_jobs: WaitingJobs,
    /// While a handler runs inside a message's CPU service: how long until
    /// the service ends. Its sends, timers and disk work take effect then.
    offset: SimDuration,
}

impl Simulation {
    /// Builds the world: ring, nodes, clients, network, and the fault schedule
    /// (scheduled faults plus the compiled nemesis).
    pub fn new(scenario: Arc<Scenario>) -> Simulation {
        let seed = scenario.rng_seed;
        let cluster = Arc::new(scenario.cluster.clone());
        let members: Vec<_> = cluster
            .nodes
            .iter()
            .take(cluster.initial_nodes as usize)
            .enumerate()
            .map(|(i, n)| (NodeId(i as u32), n.datacenter))
            .collect();
        let tokens = TokenMap::initial(
            cluster.partitioning,
            &members,
            &mut SimRng::new(seed, Stream::Ring),
        );
        let mut ring = Ring::new(&tokens, cluster.quorum.n as usize, cluster.extended_len());
        ring.cache_keys(scenario.workload.key_count);
        let ring = Arc::new(ring);
        let initial = cluster.initial_nodes;
        let history = cluster
            .membership
            .as_ref()
            .map(|_| crate::dynamo::node::membership::Membership::from_token_map(&tokens));
        let tokens = Arc::new(tokens);
        let nodes = (0..cluster.nodes.len() as u32)
            .map(|i| NodeSlot {
                node: {
                    let node = Node::new(
                        NodeId(i),
                        cluster.clone(),
                        ring.clone(),
                        SimRng::new(seed, Stream::Node(i)),
                    );
                    match &history {
                        Some(h) if i < initial => node.with_membership(&tokens, h),
                        _ => node,
                    }
                },
                admin: if i < initial {
                    Admin::Active
                } else {
                    Admin::NotJoined
                },
                up: i < initial,
                incarnation: 0,
                skew_offset_us: 0,
                skew_drift_ppm: 0,
            })
            .collect();
        let workload = &scenario.workload;
        let shared = Arc::new(ClientShared {
            workload: workload.clone(),
            keys: KeySampler::new(workload.key_count, &workload.popularity),
            ring: ring.clone(),
            replicas_n: cluster.quorum.n as usize,
            node_count: cluster.initial_nodes,
            view_refresh: cluster.membership.as_ref().map(|_| match workload.routing {
                crate::config::Routing::PartitionAware {
                    refresh_interval, ..
                } => refresh_interval,
                crate::config::Routing::LoadBalancer => SimDuration::from_millis(10_000),
            }),
            workload_end: scenario.workload_end(),
            ops_per_client: workload
                .max_ops
                .map(|m| m.div_ceil(workload.clients.len().max(1) as u64)),
            write_coordinator: cluster.write_coordinator,
            retry_interval: cluster.retry_interval,
            versioning: cluster.versioning,
            quorum: cluster.quorum,
            strict: cluster.quorum_mode == crate::config::QuorumMode::Strict,
            buffered_writes: cluster.storage.buffered_writes.is_some(),
            datacenters: cluster.nodes.iter().map(|n| n.datacenter).collect(),
            read_repair: cluster.read_repair,
            node_datacenters: if cluster.quorum.consistency == crate::config::Consistency::Fixed {
                Vec::new()
            } else {
                cluster.nodes.iter().map(|n| n.datacenter).collect()
            },
            rng_seed: seed,
        });
        let clients = (0..workload.clients.len() as u32)
            .map(|i| {
                Client::new(
                    ClientId(i),
                    shared.clone(),
                    SimRng::new(seed, Stream::Client(i)),
                )
            })
            .collect();
        let node_dcs: Vec<_> = cluster.nodes.iter().map(|n| n.datacenter).collect();
        let client_dcs: Vec<_> = workload.clients.iter().map(|c| c.datacenter).collect();
        let net = Network::new(
            &scenario.network,
            &node_dcs,
            &client_dcs,
            SimRng::new(seed, Stream::Network),
        );
        let node_count = cluster.nodes.len();
        let client_count = scenario.workload.clients.len();
        let windows = Windows {
            width: scenario.metrics.window,
            end: scenario.end(),
        };
        let resources = match &cluster.capacity {
            None => Vec::new(),
            Some(cap) => {
                cap.nodes
                    .iter()
                    .enumerate()
                    .map(|(i, spec)| NodeRes {
                        cpu: spec
                            .cpu
                            .as_ref()
                            .map(|c| Pool::new(c.workers, c.queue_limit, c.overload, windows)),
                        cpu_pending: std::collections::VecDeque::new(),
                        disk: spec.disk.as_ref().map(|d| {
                            Station::new(d.concurrency, d.queue_limit, d.overload, windows)
                        }),
                        nic: spec.nic.as_ref().map(|n| {
                            Nic::new(
                                n.egress_bytes_per_s,
                                n.ingress_bytes_per_s,
                                n.queue_limit_bytes,
                                windows,
                            )
                        }),
                        admission: cap
                            .admission
                            .as_ref()
                            .map(|a| AdmissionMonitor::new(a.window, a.percentile_ppm, a.target)),
                        rng: SimRng::new(seed, Stream::Resources(i as u32)),
                        last_crash: None,
                    })
                    .collect()
            }
        };
        let mut sim = Simulation {
            now: SimTime::ZERO,
            queue: EventQueue::with_capacity(1024),
            nodes,
            clients,
            net,
            ring,
            hash: TraceHash::default(),
            stats: EngineStats::default(),
            healed: false,
            node_out: Outbox::new(),
            client_out: Outbox::new(),
            next_convergence_check: None,
            divergence: DivergenceObserver::default(),
            next_msg_id: 0,
            pending_changes: Vec::new(),
            nemesis: None,
            resources,
            waiting_jobs: WaitingJobs::default(),
            offset: SimDuration::ZERO,
            node_timers: vec![SmallMap::new(); node_count],
            client_timers: vec![SmallMap::new(); client_count],
            scenario,
        };
        if sim.scenario.workload.preload {
            sim.preload();
        }
        // The stores as built agree (the load phase wrote each key to its
        // top N): the divergence observer starts from there, not from a
        // comparison of every loaded key.
        let mut loaded = Vec::new();
        for slot in &mut sim.nodes {
            slot.node.take_changed_keys(&mut loaded);
            loaded.clear();
        }
        sim.divergence = DivergenceObserver::agreeing_under(sim.judging_ring());
        sim.schedule_faults();
        sim.queue
            .push(sim.scenario.workload_end(), Event::WorkloadEnd);
        sim.queue.push(sim.scenario.end(), Event::End);
        sim
    }

    /// The load phase (`workload.keys.preload`): every key's first write,
    /// coordinated by the first node of its preference list and stored on
    /// the top N, durably, before time 0. No events, no messages: the run
    /// starts from the loaded state.
    fn preload(&mut self) {
        let n = self.scenario.cluster.quorum.n as usize;
        let ring = self.ring.clone();
        // Loaded values get sizes from their own stream (drawn only when the
        // workload sets a size distribution).
        let mut sizes = SimRng::new(self.scenario.rng_seed, Stream::Custom(LOAD_SIZES_STREAM));
        let value_size = self.scenario.workload.value_size.clone();
        // Every key once, in order: its top N replicas (the first
        // coordinates its load) and its value's size.
        let keys = (0..self.scenario.workload.key_count).filter_map(|k| {
            let key = Key(k);
            let list = ring.preference_list(key);
            let top = &list[..n.min(list.len())];
            top.first()?;
            let size = match &value_size {
                None => crate::config::DEFAULT_VALUE_BYTES,
                Some(d) => d.sample_units(&mut sizes).min(u64::from(u32::MAX)) as u32,
            };
            Some((key, top, size))
        });
        if self.nodes.iter().all(|n| n.node.can_load_lazily()) {
            // A bit per key and replica, the versions in one shared table
            // (`LoadTable`): the same state, without a version per copy.
            let constant = value_size
                .is_none()
                .then_some(crate::config::DEFAULT_VALUE_BYTES);
            let mut table = LoadTable::new(self.nodes.len(), constant);
            for (key, top, size) in keys {
                let first = top[0];
                if !table.has_template(first) {
                    let version = self.nodes[first.0 as usize].node.coordinate_load(key, size);
                    table.set_template(first, version);
                }
                table.push(first, size);
                for replica in top {
                    self.nodes[replica.0 as usize].node.mark_loaded(key);
                }
            }
            let table = Arc::new(table);
            for n in &mut self.nodes {
                n.node.attach_load_table(&table);
            }
            return;
        }
        for (key, top, size) in keys {
            let version = self.nodes[top[0].0 as usize]
                .node
                .coordinate_load(key, size);
            for replica in top {
                self.nodes[replica.0 as usize]
                    .node
                    .preload(key, version.clone());
            }
        }
    }

    /// Queues the scheduled faults and each nemesis source's first pair.
    /// Faults are ranked (`EventQueue::push_ranked`): at equal times they
    /// pop before every other event, scheduled ones first in file order,
    /// then the nemesis's by source and draw order, exactly as when the
    /// whole schedule was compiled and queued before the run.
    fn schedule_faults(&mut self) {
        for (i, f) in self.scenario.faults.iter().enumerate() {
            self.queue.push_ranked(
                f.at,
                fault_rank(0, i as u64),
                Event::Fault(f.action.clone()),
            );
        }
        if let Some(nemesis) = &self.scenario.nemesis {
            let mut rng = SimRng::new(self.scenario.rng_seed, Stream::Faults);
            let initial = self.scenario.cluster.initial_nodes;
            let plan = NemesisPlan::new(nemesis, initial, &mut rng);
            let sources = plan.source_count();
            self.nemesis = Some(plan);
            for source in 0..sources {
                self.queue_nemesis_pair(source);
            }
        }
    }

    /// Draws and queues the next pair of nemesis `source`, if any.
    fn queue_nemesis_pair(&mut self, source: usize) {
        let Some(plan) = self.nemesis.as_mut() else {
            return;
        };
        if let Some((pair, fault, undo)) = plan.next_pair(source) {
            self.queue.push_ranked(
                fault.at,
                NemesisPlan::rank(source, 2 * pair),
                Event::NemesisFault {
                    source,
                    ends_pair: false,
                    action: fault.action,
                },
            );
            self.queue.push_ranked(
                undo.at,
                NemesisPlan::rank(source, 2 * pair + 1),
                Event::NemesisFault {
                    source,
                    ends_pair: true,
                    action: undo.action,
                },
            );
        }
    }

    /// The ring every node starts with.
    pub fn ring(&self) -> &Arc<Ring> {
        &self.ring
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
    }

    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// A node (for tests and end-of-run inspection).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize].node
    }

    /// Whether a node is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes[id.0 as usize].up
    }

    /// Runs to the end, feeding records to `sink` and events to `tracer`.
    pub fn run(self, sink: &mut dyn Sink, tracer: Option<&mut dyn Tracer>) -> RunOutcome {
        self.run_guarded(sink, tracer, &mut NoGuard)
    }

    /// Runs to the end, or until `max_events` or the driver's `guard`
    /// stops it (see [`RunOutcome::stop`]).
    pub fn run_guarded(
        mut self,
        sink: &mut dyn Sink,
        mut tracer: Option<&mut dyn Tracer>,
        guard: &mut dyn Guard,
    ) -> RunOutcome {
        self.start(sink, &mut tracer);
        let stop = loop {
            if self.stats.events >= self.scenario.max_events {
                break StopReason::MaxEvents;
            }
            if self.stats.events % GUARD_INTERVAL_EVENTS == 0 {
                if let Some(reason) = guard.check(self.stats.events) {
                    break reason;
                }
            }
            match self.step(sink, &mut tracer) {
                Some(stop) => break stop,
                None => continue,
            }
        };
        self.finish(sink, &mut tracer);
        let now = self.now;
        let resources = self
            .resources
            .iter_mut()
            .map(|r| ResourceStats {
                cpu: r.cpu.as_ref().map(|c| c.stats().clone()),
                disk: r.disk.as_mut().map(|d| d.stats_at(now).clone()),
                egress: r.nic.as_ref().map(|n| n.egress.stats().clone()),
                ingress: r.nic.as_ref().map(|n| n.ingress.stats().clone()),
                admission: r.admission.as_ref().map(AdmissionMonitor::counts),
            })
            .collect();
        RunOutcome {
            resources,
            stop,
            end_time: self.now,
            trace_hash: self.hash.value(),
            stats: self.stats.clone(),
            node_stats: self.nodes.iter().map(|s| s.node.stats()).collect(),
            final_ring: self
                .scenario
                .cluster
                .membership
                .as_ref()
                .map(|_| self.judging_ring()),
        }
    }

    /// Starts the run: the load phase's record, every node's and client's
    /// first timers. [`Simulation::run`] calls it; a caller that drives the
    /// run with [`Simulation::step`] calls it once first.
    pub fn start(&mut self, sink: &mut dyn Sink, tracer: &mut Option<&mut dyn Tracer>) {
        if self.scenario.workload.preload {
            let keys = self.scenario.workload.key_count;
            self.emit(None, Record::Preloaded { keys }, sink, tracer);
        }
        for i in 0..self.nodes.len() {
            if !self.nodes[i].up {
                continue;
            }
            let t = self.node_time(NodeId(i as u32));
            self.nodes[i].node.on_start(t, &mut self.node_out);
            self.flush_node(NodeId(i as u32), sink, tracer);
        }
        for i in 0..self.clients.len() {
            self.clients[i].on_start(self.now, &mut self.client_out);
            self.flush_client(ClientId(i as u32), sink, tracer);
        }
    }

    fn node_time(&mut self, id: NodeId) -> NodeTime {
        let now = self.now;
        let background = match self
            .resources
            .get_mut(id.0 as usize)
            .and_then(|r| r.admission.as_mut())
        {
            Some(m) => m.verdict(now),
            None => Admission::Admit,
        };
        let slot = &self.nodes[id.0 as usize];
        let global = self.now.as_micros() as i128;
        // Without drift the product is zero: skip the 128-bit division
        // (eight calls an operation on the healthy path).
        let drift = match slot.skew_drift_ppm {
            0 => 0,
            ppm => global * i128::from(ppm) / 1_000_000,
        };
        let local = global + i128::from(slot.skew_offset_us) + drift;
        NodeTime {
            now: self.now,
            local: SimTime(local.clamp(0, i128::from(u64::MAX)) as u64),
            background,
        }
    }

    /// Processes one event. Returns `Some` when the run is over.
    pub fn step(
        &mut self,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) -> Option<StopReason> {
        let (time, event) = match self.queue.pop() {
            Some(e) => e,
            None => return Some(StopReason::QueueEmpty),
        };
        debug_assert!(time >= self.now, "time never goes backwards");
        if time >= self.divergence.next_check() {
            self.check_divergence(time, sink);
        }
        self.now = time;
        self.stats.events += 1;
        match event {
            Event::Deliver {
                id,
                sent_at,
                departed,
                from,
                to,
                bytes,
                msg,
            } => self.on_deliver(
                id,
                (sent_at, departed),
                from,
                to,
                (u64::from(bytes), msg),
                sink,
                tracer,
            ),
            Event::Ingressed {
                node,
                incarnation,
                job,
            } => {
                let job = self.waiting_jobs.take(job);
                if self.is_current(node, incarnation) {
                    self.cpu_arrival(node, job, sink, tracer);
                } else {
                    let to = Endpoint::Node(node);
                    let (id, sent, from) = (job.head.id, job.head.sent_at, job.head.from);
                    self.drop_message(id, sent, from, to, &job.msg, DropReason::NodeDown, tracer);
                }
            }
            Event::CpuStart {
                node,
                incarnation,
                job,
                end,
            } => {
                let job = self.waiting_jobs.take(job);
                self.on_cpu_start(node, incarnation, job, end, sink, tracer)
            }
            Event::DiskDone {
                node,
                incarnation,
                job,
            } => self.on_disk_done(node, incarnation, job, tracer),

            Event::LocalSend {
                node,
                incarnation,
                to,
                msg,
            } => {
                let slot = &self.nodes[node.0 as usize];
                if slot.up && slot.incarnation == incarnation {
                    self.transmit(Endpoint::Node(node), to, msg, tracer);
                }
            }
            Event::NodeTimer {
                node,
                incarnation,
                timer,
            } => {
                let slot = &self.nodes[node.0 as usize];
                if slot.up && slot.incarnation == incarnation {
                    self.node_timers[node.0 as usize].remove(&timer);
                    self.trace_timer(Endpoint::Node(node), timer_code(timer), &timer, tracer);
                    let nt = self.node_time(node);
                    self.nodes[node.0 as usize]
                        .node
                        .on_timer(nt, timer, &mut self.node_out);
                    self.flush_node(node, sink, tracer);
                }
            }
            Event::ClientTimer { client, timer } => {
                self.client_timers[client.0 as usize].remove(&timer);
                let code = client_timer_code(timer);
                self.trace_timer(Endpoint::Client(client), code, &timer, tracer);
                self.clients[client.0 as usize].on_timer(time, timer, &mut self.client_out);
                self.flush_client(client, sink, tracer);
            }
            Event::Fault(action) => {
                // Administrative changes are not faults: healing spares them.
                let admin = matches!(
                    action,
                    FaultAction::Join { .. }
                        | FaultAction::Decommission { .. }
                        | FaultAction::Replace { .. }
                );
                if !self.healed || admin {
                    self.apply_fault(action, sink, tracer);
                }
            }
            Event::NemesisFault {
                source,
                ends_pair,
                action,
            } => {
                if !self.healed {
                    self.apply_fault(action, sink, tracer);
                }
                if ends_pair {
                    self.queue_nemesis_pair(source);
                }
            }
            Event::WorkloadEnd => {
                if self.scenario.cluster.anti_entropy.is_some() {
                    self.next_convergence_check = Some(time);
                }
                self.phase("workload_end", tracer);
                if self.scenario.quiescence.heal_faults {
                    self.heal_everything(sink, tracer);
                }
            }
            Event::End => return Some(StopReason::EndOfRun),
        }
        if self.next_convergence_check.is_some_and(|t| time >= t) {
            if self.replicas_agree() {
                self.next_convergence_check = None;
                self.emit(None, Record::ReplicasConverged, sink, tracer);
            } else {
                self.next_convergence_check = Some(time + SimDuration::from_millis(100));
            }
        }
        // Nemesis faults not drawn yet count as pending, as they did when
        // the whole schedule was queued up front.
        let undrawn = self
            .nemesis
            .as_ref()
            .map_or(0, NemesisPlan::remaining_events);
        let pending = self.queue.len() as u64 + undrawn;
        if pending > self.stats.peak_queue_len {
            self.stats.peak_queue_len = pending;
        }
        None
    }

    /// Hashes and traces a timer firing at `at`.
    fn trace_timer(
        &mut self,
        at: Endpoint,
        code: u64,
        timer: &dyn std::fmt::Debug,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        self.hash
            .add(self.now, TraceKind::Timer, Some(at), None, code, 0, 0);
        if let Some(t) = tracer.as_deref_mut() {
            let label = format!("{timer:?}");
            t.event(&TraceEvent {
                id: None,
                sent_at: None,
                key: None,
                time: self.now,
                kind: TraceKind::Timer,
                at: Some(at),
                from: None,
                label: &label,
                details: &"",
            });
        }
    }

    fn phase(&mut self, name: &str, tracer: &mut Option<&mut dyn Tracer>) {
        self.hash.add(
            self.now,
            TraceKind::Phase,
            None,
            None,
            name.len() as u64,
            0,
            0,
        );
        if let Some(t) = tracer.as_deref_mut() {
            t.event(&TraceEvent {
                id: None,
                sent_at: None,
                key: None,
                time: self.now,
                kind: TraceKind::Phase,
                at: None,
                from: None,
                label: name,
                details: &"",
            });
        }
    }

    /// A message arrives at its receiver. With node capacity a node's
    /// message goes through the network interface and the request queue
    /// first ([`Simulation::arrival_verdict`]); otherwise it is handled now.
    #[allow(clippy::too_many_arguments)]
    fn on_deliver(
        &mut self,
        id: u64,
        (sent_at, departed): (SimTime, SimTime),
        from: Endpoint,
        to: Endpoint,
        (bytes, msg): (u64, Msg),
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        if let Endpoint::Node(n) = to {
            if !self.nodes[n.0 as usize].up {
                self.drop_message(id, sent_at, from, to, &msg, DropReason::NodeDown, tracer);
                return;
            }
        }
        if !self.resources.is_empty() {
            // A message still in the sender's egress queue when the sender
            // crashed never left it.
            if let Endpoint::Node(s) = from {
                let crash = self.resources[s.0 as usize].last_crash;
                if departed > sent_at && crash.is_some_and(|c| c > sent_at && c <= departed) {
                    self.drop_message(id, sent_at, from, to, &msg, DropReason::NodeDown, tracer);
                    return;
                }
            }
            if let Endpoint::Node(n) = to {
                if from != to {
                    let bytes = if bytes > 0 { bytes } else { msg.size_bytes() };
                    let head = JobHead {
                        id,
                        sent_at,
                        from,
                        bytes,
                        arrived: self.now,
                    };
                    let kind = msg.kind();
                    // Every verdict but "handle now" keeps the message for
                    // later; "handle now" falls through to the one call
                    // below, so the message moves once, as without capacity.
                    match self.arrival_verdict(n, &head, kind, sink, tracer) {
                        Verdict::Handle(None) => {}
                        Verdict::Handle(Some(end)) => {
                            self.begin_service(n, head.arrived, kind, end);
                            self.handle_message(id, sent_at, from, to, msg, sink, tracer);
                            self.offset = SimDuration::ZERO;
                            return;
                        }
                        verdict => {
                            self.hold(n, CpuJob { head, msg }, verdict, sink, tracer);
                            return;
                        }
                    }
                }
            }
        }
        self.handle_message(id, sent_at, from, to, msg, sink, tracer);
    }

    /// Hashes, traces and hands a message to its receiver's handler now.
    #[allow(clippy::too_many_arguments)]
    fn handle_message(
        &mut self,
        id: u64,
        sent_at: SimTime,
        from: Endpoint,
        to: Endpoint,
        msg: Msg,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let kind = msg.kind();
        let key = msg.key().map_or(u64::MAX, |k| k.0);
        self.hash.add(
            self.now,
            TraceKind::Deliver,
            Some(to),
            Some(from),
            kind as u64,
            msg.tag(),
            key,
        );
        if let Some(t) = tracer.as_deref_mut() {
            t.event(&TraceEvent {
                id: Some(id),
                sent_at: Some(sent_at),
                key: msg.key().map(|k| k.0),
                time: self.now,
                kind: TraceKind::Deliver,
                at: Some(to),
                from: Some(from),
                label: kind.name(),
                details: &msg,
            });
        }
        match to {
            Endpoint::Node(n) => {
                let nt = self.node_time(n);
                self.nodes[n.0 as usize]
                    .node
                    .on_message(nt, from, msg, &mut self.node_out);
                self.flush_node(n, sink, tracer);
            }
            Endpoint::Client(c) => {
                self.clients[c.0 as usize].on_message(self.now, from, msg, &mut self.client_out);
                self.flush_client(c, sink, tracer);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn drop_message(
        &mut self,
        id: u64,
        sent_at: SimTime,
        from: Endpoint,
        to: Endpoint,
        msg: &Msg,
        reason: DropReason,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let kind = msg.kind();
        self.stats.dropped_by_kind[kind.index()] += 1;
        match reason {
            DropReason::Partitioned => self.stats.dropped_partitioned += 1,
            DropReason::Lost => self.stats.dropped_lost += 1,
            DropReason::NodeDown => self.stats.dropped_node_down += 1,
            DropReason::Overloaded => self.stats.dropped_overloaded += 1,
        }
        self.hash.add(
            self.now,
            TraceKind::Drop,
            Some(to),
            Some(from),
            kind as u64,
            msg.tag(),
            reason as u64,
        );
        if let Some(t) = tracer.as_deref_mut() {
            let details = format!("{} ({})", msg, reason.name());
            t.event(&TraceEvent {
                id: Some(id),
                sent_at: Some(sent_at),
                key: msg.key().map(|k| k.0),
                time: self.now,
                kind: TraceKind::Drop,
                at: Some(to),
                from: Some(from),
                label: kind.name(),
                details: &details,
            });
        }
    }

    /// Puts a message on the network now.
    fn transmit(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        msg: Msg,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        self.transmit_at(from, to, msg, self.now, tracer);
    }

    /// Puts a message on the network at `at` (now, or when the CPU service
    /// of the handler that sends it ends), with no event in between.
    fn transmit_at(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        msg: Msg,
        at: SimTime,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        self.stats.sent_by_kind[msg.kind().index()] += 1;
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        let sent_at = self.now;
        if let Some(t) = tracer.as_deref_mut() {
            t.event(&TraceEvent {
                id: Some(id),
                sent_at: Some(sent_at),
                key: msg.key().map(|k| k.0),
                time: self.now,
                kind: TraceKind::Send,
                at: Some(to),
                from: Some(from),
                label: msg.kind().name(),
                details: &msg,
            });
        }
        if from == to {
            self.queue.push(
                at,
                Event::Deliver {
                    id,
                    sent_at,
                    departed: at,
                    from,
                    to,
                    bytes: 0,
                    msg,
                },
            );
            return;
        }
        let mut departed = at;
        let mut bytes = 0;
        if let Endpoint::Node(n) = from {
            if let Some(nic) = self
                .resources
                .get_mut(n.0 as usize)
                .and_then(|r| r.nic.as_mut())
            {
                bytes = msg.size_bytes();
                match nic.egress.carry(at, bytes, msg.kind().index()) {
                    Some(t) => departed = t,
                    None => {
                        let reason = DropReason::Overloaded;
                        self.drop_message(id, sent_at, from, to, &msg, reason, tracer);
                        return;
                    }
                }
            }
        }
        match self.net.transmit(departed, from, to, msg.kind()) {
            Transmission::Dropped(reason) => {
                self.drop_message(id, sent_at, from, to, &msg, reason, tracer)
            }
            Transmission::Delivered { at, duplicate_at } => {
                // A size past 32 bits travels as 0: the receiver measures it.
                let wire_bytes = u32::try_from(bytes).unwrap_or(0);
                if let Some(dup) = duplicate_at {
                    self.stats.duplicated += 1;
                    let msg = msg.clone();
                    self.queue.push(
                        dup,
                        Event::Deliver {
                            id,
                            sent_at,
                            departed,
                            from,
                            to,
                            bytes: wire_bytes,
                            msg,
                        },
                    );
                }
                self.queue.push(
                    at,
                    Event::Deliver {
                        id,
                        sent_at,
                        departed,
                        from,
                        to,
                        bytes: wire_bytes,
                        msg,
                    },
                );
            }
        }
    }

    /// True when `node` is up in incarnation `incarnation`.
    fn is_current(&self, node: NodeId, incarnation: u32) -> bool {
        let slot = &self.nodes[node.0 as usize];
        slot.up && slot.incarnation == incarnation
    }

    /// Node capacity: a message reaches a node's network interface; once
    /// through it, it joins the request queue. The verdict says whether it
    /// is handled now (and when its effects leave) or held: the message
    /// itself stays with the caller, so in the common case (the interface
    /// lets it through now and a worker is free) it moves once, from the
    /// event to its handler; the job record is built only when it waits.
    #[inline(always)]
    fn arrival_verdict(
        &mut self,
        node: NodeId,
        head: &JobHead,
        kind: MsgKind,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) -> Verdict {
        match self.ingress(node, head, kind) {
            Ingress::Dropped => Verdict::Dropped,
            Ingress::Later(done) => Verdict::Later(done),
            Ingress::Now => self.cpu_verdict(node, head, kind, sink, tracer),
        }
    }

    /// Acts on a verdict with the message in a job record: served now,
    /// dropped or refused now, or queued for the interface or a worker.
    fn hold(
        &mut self,
        node: NodeId,
        job: CpuJob,
        verdict: Verdict,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        match verdict {
            Verdict::Handle(end) => {
                let CpuJob { head, msg } = job;
                if let Some(end) = end {
                    self.begin_service(node, head.arrived, msg.kind(), end);
                }
                let to = Endpoint::Node(node);
                self.handle_message(head.id, head.sent_at, head.from, to, msg, sink, tracer);
                self.offset = SimDuration::ZERO;
            }
            Verdict::Dropped => {
                let (id, sent, from) = (job.head.id, job.head.sent_at, job.head.from);
                let (to, reason) = (Endpoint::Node(node), DropReason::Overloaded);
                self.drop_message(id, sent, from, to, &job.msg, reason, tracer);
            }
            Verdict::Later(done) => {
                let incarnation = self.nodes[node.0 as usize].incarnation;
                self.queue.push(
                    done,
                    Event::Ingressed {
                        node,
                        incarnation,
                        job: self.waiting_jobs.insert(job),
                    },
                );
            }
            Verdict::Wait(slot) => self.wait_cpu(node, job, slot),
            Verdict::Refused => self.refuse(node, job, sink, tracer),
        }
    }

    /// Node capacity: the receiver's interface takes a message in (cut
    /// through: the bytes stream in while the sender sends them).
    fn ingress(&mut self, node: NodeId, head: &JobHead, kind: MsgKind) -> Ingress {
        let now = self.now;
        let bytes = head.bytes;
        // A sender without a modelled interface (a client) sends at the
        // receiver's rate.
        let sender = match head.from {
            Endpoint::Node(s) => self.resources[s.0 as usize]
                .nic
                .as_ref()
                .map(|n| (n.egress.rate(), n.egress.transmission(bytes))),
            Endpoint::Client(_) => None,
        };
        let Some(nic) = self.resources[node.0 as usize].nic.as_mut() else {
            return Ingress::Now;
        };
        let link = &mut nic.ingress;
        let class = kind.index();
        let through = match sender {
            // The same rate: the transmission here is the sender's.
            Some((rate, spread)) if rate == link.rate() => {
                link.receive_tx(now, bytes, spread, spread, class)
            }
            Some((_, spread)) => link.receive(now, bytes, spread, class),
            None => {
                let tx = link.transmission(bytes);
                link.receive_tx(now, bytes, tx, tx, class)
            }
        };
        match through {
            None => Ingress::Dropped,
            Some(done) if done > now => Ingress::Later(done),
            Some(_) => Ingress::Now,
        }
    }

    /// A message through the receiver's interface (an `Ingressed` event)
    /// joins the request queue.
    fn cpu_arrival(
        &mut self,
        node: NodeId,
        job: CpuJob,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let CpuJob { mut head, msg } = job;
        head.arrived = self.now;
        let kind = msg.kind();
        let verdict = self.cpu_verdict(node, &head, kind, sink, tracer);
        self.hold(node, CpuJob { head, msg }, verdict, sink, tracer);
    }

    /// Node capacity: a message joins the request queue now (or is handled
    /// at once when the node's request processing is infinite). Its service
    /// time is drawn now and the pool computes its slot: a message that
    /// finds a worker free is handled now with its effects leaving when its
    /// service ends (no event); one that waits is handled when its service
    /// starts (one event). A message that sheds the oldest waiting one
    /// refuses that one here.
    fn cpu_verdict(
        &mut self,
        node: NodeId,
        head: &JobHead,
        kind: MsgKind,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) -> Verdict {
        let now = self.now;
        let r = &mut self.resources[node.0 as usize];
        let Some(pool) = r.cpu.as_mut() else {
            return Verdict::Handle(None);
        };
        let spec = self
            .scenario
            .cluster
            .capacity
            .as_ref()
            .and_then(|c| c.nodes[node.0 as usize].cpu.as_ref())
            .expect("a node with a pool has a CPU spec");
        let mut service = spec.service[kind.index()].sample(&mut r.rng);
        if spec.per_mb_us > 0 {
            let bytes = u128::from(head.bytes);
            let extra = bytes * u128::from(spec.per_mb_us) / 1_000_000;
            service = service + SimDuration(extra.min(u128::from(u64::MAX / 4)) as u64);
        }
        let slot = match pool.admit(now, service) {
            PoolAdmission::Admitted(slot) => slot,
            PoolAdmission::Refused => return Verdict::Refused,
            PoolAdmission::AdmittedShedding(slot, shed) => {
                let pending = &mut self.resources[node.0 as usize].cpu_pending;
                if let Some(i) = pending.iter().position(|(start, _)| *start == shed) {
                    let (_, handle) = pending.remove(i).expect("found");
                    if let Some(Event::CpuStart { job: old, .. }) = self.queue.cancel(handle) {
                        let old = self.waiting_jobs.take(old);
                        self.refuse(node, old, sink, tracer);
                    }
                }
                slot
            }
        };
        if slot.start <= now {
            Verdict::Handle(Some(slot.end))
        } else {
            Verdict::Wait(slot)
        }
    }

    /// A message that has to wait for a worker: it is handled when its
    /// service starts.
    fn wait_cpu(&mut self, node: NodeId, job: CpuJob, slot: Slot) {
        let incarnation = self.nodes[node.0 as usize].incarnation;
        let end = slot.end;
        let handle = self.queue.push(
            slot.start,
            Event::CpuStart {
                node,
                incarnation,
                job: self.waiting_jobs.insert(job),
                end,
            },
        );
        self.resources[node.0 as usize]
            .cpu_pending
            .push_back((slot.start, handle));
    }

    /// A message that waited starts its service now.
    fn on_cpu_start(
        &mut self,
        node: NodeId,
        incarnation: u32,
        job: CpuJob,
        end: SimTime,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let now = self.now;
        let pending = &mut self.resources[node.0 as usize].cpu_pending;
        while pending.front().is_some_and(|(start, _)| *start <= now) {
            pending.pop_front();
        }
        let CpuJob { head, msg } = job;
        if !self.is_current(node, incarnation) {
            // The node crashed while the message waited: it is lost.
            let (id, sent, from, to) = (head.id, head.sent_at, head.from, Endpoint::Node(node));
            self.drop_message(id, sent, from, to, &msg, DropReason::NodeDown, tracer);
            return;
        }
        self.begin_service(node, head.arrived, msg.kind(), end);
        let to = Endpoint::Node(node);
        self.handle_message(head.id, head.sent_at, head.from, to, msg, sink, tracer);
        self.offset = SimDuration::ZERO;
    }

    /// A worker starts serving a message now, its service ending at `end`:
    /// what the handler (run next by the caller) sends, the timers it sets
    /// and the disk work it asks for take effect at `end`. The caller sets
    /// the offset back to zero after the handler.
    #[inline(always)]
    fn begin_service(&mut self, node: NodeId, arrived: SimTime, kind: MsgKind, end: SimTime) {
        let now = self.now;
        let r = &mut self.resources[node.0 as usize];
        // Without a disk queue, admission control watches request processing.
        if r.disk.is_none() && !kind.is_background() {
            if let Some(m) = r.admission.as_mut() {
                m.sample(now, SimDuration(end.as_micros() - arrived.as_micros()));
            }
        }
        self.offset = SimDuration(end.as_micros().saturating_sub(now.as_micros()));
    }

    /// A full request queue refused a message: the node answers a client
    /// request with an `overloaded` failure; anything else is dropped.
    fn refuse(
        &mut self,
        node: NodeId,
        job: CpuJob,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let to = Endpoint::Node(node);
        let (id, sent, from) = (job.head.id, job.head.sent_at, job.head.from);
        self.drop_message(id, sent, from, to, &job.msg, DropReason::Overloaded, tracer);
        let offset = std::mem::replace(&mut self.offset, SimDuration::ZERO);
        let nt = self.node_time(node);
        self.nodes[node.0 as usize]
            .node
            .on_overload(nt, job.msg, &mut self.node_out);
        self.flush_node(node, sink, tracer);
        self.offset = offset;
    }

    /// Node capacity: disk work joins the disk queue.
    fn disk_arrival(&mut self, node: NodeId, job: DiskJob) {
        let now = self.now;
        let disk = self.resources[node.0 as usize]
            .disk
            .as_mut()
            .expect("only a node with a disk queue asks for disk work");
        match disk.arrive(now, job) {
            Arrival::Start(job) => self.start_disk(node, job),
            Arrival::Queued => {}
            Arrival::Refused(_) | Arrival::Shed(_) => self.stats.disk_refused += 1,
        }
    }

    /// Draws the service time of a disk job's next operation and schedules
    /// its end.
    fn start_disk(&mut self, node: NodeId, job: DiskJob) {
        let spec = self
            .scenario
            .cluster
            .capacity
            .as_ref()
            .and_then(|c| c.nodes[node.0 as usize].disk.as_ref())
            .expect("a node with a disk queue has a disk spec");
        let r = &mut self.resources[node.0 as usize];
        let dist = match job.io.op {
            DiskOp::Read => &spec.read,
            DiskOp::Write => &spec.write,
        };
        let service = dist.sample(&mut r.rng);
        let now = self.now;
        let service = match r.disk.as_mut() {
            Some(d) => {
                d.reserved_until(now, job.ready);
                d.scale(service)
            }
            None => service,
        };
        let incarnation = self.nodes[node.0 as usize].incarnation;
        self.queue.push(
            self.now.max(job.ready) + service,
            Event::DiskDone {
                node,
                incarnation,
                job,
            },
        );
    }

    /// The disk finished an operation: the next waiting job starts; a job
    /// with operations left goes back to the end of the queue, a finished
    /// one sends what waited for it.
    fn on_disk_done(
        &mut self,
        node: NodeId,
        incarnation: u32,
        job: DiskJob,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        if !self.is_current(node, incarnation) {
            return;
        }
        let now = self.now;
        let r = &mut self.resources[node.0 as usize];
        let next = r.disk.as_mut().and_then(|d| d.complete(now, job.arrived));
        if job.io.foreground {
            if let Some(m) = r.admission.as_mut() {
                m.sample(now, SimDuration(now.as_micros() - job.arrived.as_micros()));
            }
        }
        if let Some(next) = next {
            self.start_disk(node, next);
        }
        if job.io.ops > 1 {
            let mut rest = job;
            rest.io.ops -= 1;
            rest.arrived = now;
            rest.ready = now;
            self.disk_arrival(node, rest);
            return;
        }
        if let Some((to, msg)) = job.then {
            self.transmit(Endpoint::Node(node), to, msg, tracer);
        }
    }

    fn flush_node(
        &mut self,
        node: NodeId,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let mut out = std::mem::take(&mut self.node_out);
        // Probe workload: commits the engine passes on to the writing client.
        let mut committed: Vec<crate::engine::ids::OpId> = Vec::new();
        let probing = matches!(
            self.scenario.workload.arrival,
            crate::config::Arrival::Probe(_)
        );
        let incarnation = self.nodes[node.0 as usize].incarnation;
        let mut check_membership = false;
        for cmd in out.drain() {
            match cmd {
                Command::Send { to, msg, delay } => {
                    if delay == SimDuration::ZERO {
                        let at = self.now + self.offset;
                        self.transmit_at(Endpoint::Node(node), to, msg, at, tracer);
                    } else {
                        self.queue.push(
                            self.now + self.offset + delay,
                            Event::LocalSend {
                                node,
                                incarnation,
                                to,
                                msg,
                            },
                        );
                    }
                }
                Command::SetTimer { timer, after } => {
                    let at = self.now + self.offset + after;
                    let armed = &mut self.node_timers[node.0 as usize];
                    let event = Event::NodeTimer {
                        node,
                        incarnation,
                        timer,
                    };
                    // A request's timers are armed a fixed delay ahead and
                    // nearly always cancelled: they wait in the queue's
                    // lanes, out of the heap (same order either way).
                    let lane = matches!(
                        timer,
                        Timer::ReplicaCheck(_) | Timer::RequestTimeout(_) | Timer::ReadRepair(_)
                    )
                    .then_some(after);
                    arm(&mut self.queue, armed, timer, lane, at, event);
                }
                Command::CancelTimer { timer } => {
                    if let Some(h) = self.node_timers[node.0 as usize].remove(&timer) {
                        self.queue.discard(h);
                    }
                }
                Command::Disk { io, then } => {
                    let job = DiskJob {
                        io,
                        then,
                        arrived: self.now,
                        ready: self.now + self.offset,
                    };
                    self.disk_arrival(node, job);
                }
                Command::Record(r) => {
                    match &r {
                        Record::MembershipChange {
                            member, version, ..
                        } => {
                            self.pending_changes.push((*member, *version, self.now));
                            check_membership = true;
                        }
                        Record::MembershipLearned { .. } => check_membership = true,
                        Record::WriteCommitted { op, .. } if probing => committed.push(*op),
                        _ => {}
                    }
                    self.emit(Some(Endpoint::Node(node)), r, sink, tracer)
                }
            }
        }
        self.node_out = out;
        for op in committed {
            if let Some(client) = self.clients.get_mut(op.client.0 as usize) {
                client.on_write_committed(self.now, op, &mut self.client_out);
                self.flush_client(op.client, sink, tracer);
            }
        }
        if check_membership && !self.pending_changes.is_empty() {
            self.check_membership_convergence(sink, tracer);
        }
    }

    fn flush_client(
        &mut self,
        client: ClientId,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let mut out = std::mem::take(&mut self.client_out);
        for cmd in out.drain() {
            match cmd {
                Command::Send { to, msg, delay } => {
                    debug_assert_eq!(delay, SimDuration::ZERO, "clients have no local delay");
                    self.transmit(Endpoint::Client(client), to, msg, tracer);
                }
                Command::SetTimer { timer, after } => {
                    let at = self.now + after;
                    let armed = &mut self.client_timers[client.0 as usize];
                    let event = Event::ClientTimer { client, timer };
                    // As a node's request timers (see `flush_node`).
                    let lane = matches!(
                        timer,
                        ClientTimer::OpTimeout(_)
                            | ClientTimer::ReadRepair(_)
                            | ClientTimer::Hedge(_)
                    )
                    .then_some(after);
                    arm(&mut self.queue, armed, timer, lane, at, event);
                }
                Command::CancelTimer { timer } => {
                    if let Some(h) = self.client_timers[client.0 as usize].remove(&timer) {
                        self.queue.discard(h);
                    }
                }
                Command::Record(r) => self.emit(Some(Endpoint::Client(client)), r, sink, tracer),
                Command::Disk { .. } => unreachable!("clients have no disk"),
            }
        }
        self.client_out = out;
    }

    fn emit(
        &mut self,
        at: Option<Endpoint>,
        record: Record,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        if let Some(t) = tracer.as_deref_mut() {
            let details = format!("{record:?}");
            t.event(&TraceEvent {
                id: None,
                sent_at: None,
                key: None,
                time: self.now,
                kind: TraceKind::Record,
                at,
                from: None,
                label: record.name(),
                details: &details,
            });
        }
        sink.record_owned(self.now, record);
    }

    fn apply_fault(
        &mut self,
        action: FaultAction,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let applied = match &action {
            FaultAction::Crash { node, disk_loss } => {
                let slot = &self.nodes[node.0 as usize];
                if slot.up && slot.admin == Admin::Active {
                    let lost = self.stop_node(*node, *disk_loss);
                    if lost > 0 {
                        self.emit(
                            Some(Endpoint::Node(*node)),
                            Record::BufferLost {
                                node: *node,
                                versions: lost,
                            },
                            sink,
                            tracer,
                        );
                    }
                    true
                } else {
                    false
                }
            }
            FaultAction::Restart { node } => {
                let slot = &mut self.nodes[node.0 as usize];
                if slot.up || slot.admin != Admin::Active {
                    false
                } else {
                    slot.up = true;
                    slot.incarnation += 1;
                    true
                }
            }
            FaultAction::Partition { id, groups } => {
                self.net.partition(*id, groups);
                true
            }
            FaultAction::PartitionOneWay { id, from, to } => {
                self.net.partition_one_way(*id, from, to);
                true
            }
            FaultAction::Heal { id } => self.net.heal(*id),
            FaultAction::DegradeLinks {
                id,
                from,
                to,
                both_ways,
                extra_loss,
                extra_latency,
            } => {
                self.net.degrade(
                    *id,
                    from,
                    to,
                    *both_ways,
                    *extra_loss,
                    extra_latency.clone(),
                );
                true
            }
            FaultAction::RestoreLinks { id } => self.net.restore(*id),
            FaultAction::SlowNode { node, extra } => {
                self.net.set_slow(*node, Some(extra.clone()));
                true
            }
            FaultAction::RestoreNode { node } => {
                self.net.set_slow(*node, None);
                true
            }
            FaultAction::ClockSkew {
                node,
                offset_us,
                drift_ppm,
            } => {
                let slot = &mut self.nodes[node.0 as usize];
                slot.skew_offset_us = *offset_us;
                slot.skew_drift_ppm = *drift_ppm;
                true
            }
            FaultAction::Join { node } => self.activate(*node),
            FaultAction::Decommission { node } => {
                let slot = &self.nodes[node.0 as usize];
                slot.up && slot.admin == Admin::Active && self.scenario.cluster.membership.is_some()
            }
            FaultAction::Corrupt {
                node,
                fraction,
                keys,
            } => {
                let slot = &mut self.nodes[node.0 as usize];
                if slot.admin == Admin::Active {
                    let versions = slot.node.corrupt(*fraction, *keys);
                    self.emit(
                        Some(Endpoint::Node(*node)),
                        Record::VersionsCorrupted {
                            node: *node,
                            versions,
                        },
                        sink,
                        tracer,
                    );
                    true
                } else {
                    false
                }
            }
            FaultAction::SlowResource {
                node,
                resource,
                factor_permille,
            } => self.set_resource_speed(*node, *resource, *factor_permille),
            FaultAction::RestoreResource { node, resource } => {
                self.set_resource_speed(*node, *resource, 1000)
            }
            FaultAction::StallDisk { node } => {
                let now = self.now;
                match self
                    .resources
                    .get_mut(node.0 as usize)
                    .and_then(|r| r.disk.as_mut())
                {
                    Some(d) => {
                        d.stall(now, SimTime(u64::MAX));
                        true
                    }
                    None => false,
                }
            }
            FaultAction::ResumeDisk { node } => {
                let now = self.now;
                match self
                    .resources
                    .get_mut(node.0 as usize)
                    .and_then(|r| r.disk.as_mut())
                {
                    Some(d) => {
                        for job in d.unstall(now) {
                            self.start_disk(*node, job);
                        }
                        true
                    }
                    None => false,
                }
            }
            FaultAction::Replace { node, with } => {
                let old = &mut self.nodes[node.0 as usize];
                if old.admin == Admin::Active && self.activate(*with) {
                    self.nodes[node.0 as usize].admin = Admin::Removed;
                    if self.nodes[node.0 as usize].up {
                        self.stop_node(*node, true);
                    }
                    true
                } else {
                    false
                }
            }
        };
        if !applied {
            return;
        }
        let code = action.name().len() as u64;
        let target = match &action {
            FaultAction::Crash { node, .. }
            | FaultAction::Restart { node }
            | FaultAction::SlowNode { node, .. }
            | FaultAction::RestoreNode { node }
            | FaultAction::ClockSkew { node, .. }
            | FaultAction::Join { node }
            | FaultAction::Corrupt { node, .. }
            | FaultAction::Decommission { node }
            | FaultAction::SlowResource { node, .. }
            | FaultAction::RestoreResource { node, .. }
            | FaultAction::StallDisk { node }
            | FaultAction::ResumeDisk { node } => Some(Endpoint::Node(*node)),
            FaultAction::Replace { with, .. } => Some(Endpoint::Node(*with)),
            _ => None,
        };
        self.hash
            .add(self.now, TraceKind::Fault, target, None, code, 0, 0);
        if let Some(t) = tracer.as_deref_mut() {
            t.event(&TraceEvent {
                id: None,
                sent_at: None,
                key: None,
                time: self.now,
                kind: TraceKind::Fault,
                at: target,
                from: None,
                label: action.name(),
                details: &action,
            });
        }
        sink.record(
            self.now,
            &Record::Fault {
                action: action.clone(),
            },
        );
        match action {
            FaultAction::Restart { node } => {
                let nt = self.node_time(node);
                self.nodes[node.0 as usize]
                    .node
                    .on_start(nt, &mut self.node_out);
                self.flush_node(node, sink, tracer);
            }
            FaultAction::Join { node } | FaultAction::Replace { with: node, .. } => {
                let plan = match action {
                    FaultAction::Replace { node: old, .. } => JoinPlan::Replace(old),
                    _ => JoinPlan::Join,
                };
                let nt = self.node_time(node);
                let n = &mut self.nodes[node.0 as usize].node;
                n.begin_join(plan);
                n.on_start(nt, &mut self.node_out);
                self.flush_node(node, sink, tracer);
            }
            FaultAction::Decommission { node } => {
                let nt = self.node_time(node);
                self.nodes[node.0 as usize]
                    .node
                    .decommission(nt, &mut self.node_out);
                self.flush_node(node, sink, tracer);
            }
            _ => {}
        }
    }

    /// A gray failure (or its end): `resource` of `node` runs
    /// `factor_permille / 1000` times slower from now on. False when the
    /// node has no such resource.
    fn set_resource_speed(
        &mut self,
        node: NodeId,
        resource: Resource,
        factor_permille: u64,
    ) -> bool {
        let Some(r) = self.resources.get_mut(node.0 as usize) else {
            return false;
        };
        match resource {
            Resource::Cpu => r.cpu.as_mut().map(|c| c.set_slowdown(factor_permille)),
            Resource::Disk => r.disk.as_mut().map(|d| d.set_slowdown(factor_permille)),
            // Bandwidth shrinks by the factor: the interface runs at 1/k.
            Resource::Nic => r
                .nic
                .as_mut()
                .map(|n| n.set_factor(1_000_000 / factor_permille.max(1))),
        }
        .is_some()
    }

    /// Takes an up node down: a new incarnation, its armed timers cancelled,
    /// its volatile state (and with `disk_loss` its durable state) dropped.
    /// Returns the buffered versions lost.
    fn stop_node(&mut self, node: NodeId, disk_loss: bool) -> u32 {
        let slot = &mut self.nodes[node.0 as usize];
        slot.up = false;
        slot.incarnation += 1;
        for (_, h) in std::mem::take(&mut self.node_timers[node.0 as usize]).into_entries() {
            self.queue.discard(h);
        }
        let lost = slot.node.crash(disk_loss);
        let now = self.now;
        if let Some(r) = self.resources.get_mut(node.0 as usize) {
            r.last_crash = Some(now);
            if let Some(c) = r.cpu.as_mut() {
                c.crash(now);
            }
            r.cpu_pending.clear();
            if let Some(d) = r.disk.as_mut() {
                d.crash(now);
            }
            if let Some(n) = r.nic.as_mut() {
                n.crash(now);
            }
        }
        lost
    }

    /// Brings a not-yet-joined node slot up. False if it was not waiting.
    fn activate(&mut self, node: NodeId) -> bool {
        let slot = &mut self.nodes[node.0 as usize];
        if slot.admin != Admin::NotJoined || self.scenario.cluster.membership.is_none() {
            return false;
        }
        slot.admin = Admin::Active;
        slot.up = true;
        slot.incarnation += 1;
        true
    }

    /// The ring the engine judges convergence by: the view of the first
    /// member that is up (all views agree once gossip converged).
    fn judging_ring(&self) -> Arc<Ring> {
        if self.scenario.cluster.membership.is_some() {
            if let Some(s) = self.nodes.iter().find(|s| {
                s.up && s.admin == Admin::Active && s.node.has_view() && !s.node.has_left()
            }) {
                return s.node.ring().clone();
            }
        }
        self.ring.clone()
    }

    /// Emits `MembershipConverged` for every pending change that every
    /// member that is up now knows.
    fn check_membership_convergence(
        &mut self,
        sink: &mut dyn Sink,
        tracer: &mut Option<&mut dyn Tracer>,
    ) {
        let interval = self
            .scenario
            .cluster
            .membership
            .as_ref()
            .map_or(1, |m| m.gossip_interval.as_micros().max(1));
        let mut done = Vec::new();
        self.pending_changes.retain(|&(member, version, issued)| {
            let known = self
                .nodes
                .iter()
                .filter(|s| {
                    s.up && s.admin == Admin::Active && s.node.has_view() && !s.node.has_left()
                })
                .all(|s| {
                    s.node
                        .membership_version(member)
                        .is_some_and(|v| v >= version)
                });
            if known {
                done.push((member, version, issued));
            }
            !known
        });
        for (member, version, issued) in done {
            let elapsed = self.now.as_micros() - issued.as_micros();
            let record = Record::MembershipConverged {
                member,
                version,
                issued,
                rounds: elapsed.div_ceil(interval) as u32,
            };
            self.emit(None, record, sink, tracer);
        }
    }

    /// True when, for every range, all its top-N replicas have the same
    /// Merkle root.
    fn replicas_agree(&self) -> bool {
        let n = self.scenario.cluster.quorum.n as usize;
        let ring = self.judging_ring();
        (0..ring.range_count() as u32).all(|r| {
            let range = crate::dynamo::ring::RangeId(r);
            let mut roots = ring
                .preference_list_of_range(range)
                .iter()
                .take(n)
                .map(|node| self.nodes[node.0 as usize].node.merkle_root(range));
            let first = roots.next().flatten();
            roots.all(|x| x == first)
        })
    }

    /// Quiescence with healing: every partition and degradation ends, every
    /// crashed node restarts, and later scheduled faults are ignored.
    fn heal_everything(&mut self, sink: &mut dyn Sink, tracer: &mut Option<&mut dyn Tracer>) {
        self.net.heal_all();
        self.net.restore_all();
        let now = self.now;
        for i in 0..self.resources.len() {
            let node = NodeId(i as u32);
            for resource in [Resource::Cpu, Resource::Disk, Resource::Nic] {
                self.set_resource_speed(node, resource, 1000);
            }
            let started = match self.resources[i].disk.as_mut() {
                Some(d) if d.stalled_until() > now => d.unstall(now),
                _ => Vec::new(),
            };
            for job in started {
                self.start_disk(node, job);
            }
        }
        for i in 0..self.nodes.len() {
            if !self.nodes[i].up && self.nodes[i].admin == Admin::Active {
                self.apply_fault(
                    FaultAction::Restart {
                        node: NodeId(i as u32),
                    },
                    sink,
                    tracer,
                );
            }
        }
        self.healed = true;
    }

    /// The divergence observer's check, as of its pending instant (before
    /// the event at `time` is handled).
    fn check_divergence(&mut self, time: SimTime, sink: &mut dyn Sink) {
        let ring = self.judging_ring();
        let n = self.scenario.cluster.quorum.n as usize;
        let mut view = NodesView(&mut self.nodes);
        if let Some((at, seen)) = self.divergence.check_due(time, &ring, n, &mut view) {
            sink.record(at, &seen.record());
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink, tracer: &mut Option<&mut dyn Tracer>) {
        self.phase("end", tracer);
        sink.end_phase();
        let now = self.now;
        let ring = self.judging_ring();
        let n = self.scenario.cluster.quorum.n as usize;
        let seen = self
            .divergence
            .check_final(now, &ring, n, &mut NodesView(&mut self.nodes));
        sink.record(now, &seen.record());
        for slot in &mut self.nodes {
            slot.node.final_state(&mut |r| sink.record(now, r));
            slot.node.release_data();
        }
    }
}

/// Arms `event` at `at` for `timer`, replacing the instance armed in
/// `armed` (a node's or a client's table): the old one is cancelled and the
/// new one pushed, in the queue's lane for `lane` (the delay it was armed
/// with) when it is one of the fixed-delay timers that wait there. It takes
/// the next sequence number either way, as a re-arm in place would.
fn arm<T: Ord + Copy>(
    queue: &mut EventQueue<Event>,
    armed: &mut SmallMap<T, EventHandle>,
    timer: T,
    lane: Option<SimDuration>,
    at: SimTime,
    event: Event,
) {
    if let Some(h) = armed.get(&timer) {
        queue.discard(*h);
    }
    let handle = match lane {
        Some(delay) => queue.push_in_lane(delay.as_micros(), at, event),
        None => queue.push(at, event),
    };
    armed.insert(timer, handle);
}

fn timer_code(t: Timer) -> u64 {
    match t {
        Timer::ReplicaCheck(r) => r.0 << 3,
        Timer::RequestTimeout(r) => r.0 << 3 | 1,
        Timer::ReadRepair(r) => r.0 << 3 | 2,
        Timer::HintScan => 3,
        Timer::BufferFlush => 4,
        Timer::TombstoneGc => 5,
        Timer::AntiEntropy => 6,
        Timer::Gossip => 7,
    }
}

fn client_timer_code(t: ClientTimer) -> u64 {
    match t {
        ClientTimer::NextOp => 0,
        ClientTimer::OpTimeout(seq) => seq << 1 | 1,
        ClientTimer::RefreshView => 2,
        // Probe timers (new kinds: no shipped scenario's hash depends on
        // them): 4 and 6 modulo 8, apart from the codes above.
        ClientTimer::ProbeNext(slot) => u64::from(slot) << 3 | 4,
        ClientTimer::ProbeRead { write, read } => (write << 20 ^ u64::from(read)) << 3 | 6,
        // Retries, hedges and client-driven read repair (new kinds, seq >= 1):
        // 0 and 8 modulo 16 above 8, and 2 modulo 8 above 8.
        ClientTimer::Hedge(seq) => seq << 4,
        ClientTimer::ReadRepair(seq) => seq << 4 | 8,
        ClientTimer::Retry(seq) => seq << 3 | 2,
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn an_event_fits_the_compilers_inline_move() {
        // See `Event`'s docs: at 136 bytes every move called `memcpy`.
        assert!(std::mem::size_of::<Event>() <= 128);
    }
}
