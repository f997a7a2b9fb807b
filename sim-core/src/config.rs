//! The validated configuration of a run: what `scenario::parse` produces and
//! every other module reads.
//!
//! These are core types: typed durations, integer probabilities, dense ids.
//! They never derive `Deserialize` (the JSON DTOs live in `scenario`), so a
//! value of these types has always passed validation.

use std::collections::BTreeMap;

use crate::dynamo::protocol::{Endpoint, MsgKind};
use crate::dynamo::ring::PartitionStrategy;
use crate::engine::ids::DatacenterId;
use crate::engine::rng::Probability;
use crate::engine::time::{SimDuration, SimTime};
use crate::world::dist::Latency;
use crate::world::faults::{FaultAction, Nemesis};

/// A complete, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Short name (file stem by convention).
    pub name: String,
    /// What the scenario demonstrates.
    pub description: String,
    /// The root of every random stream in the run.
    pub rng_seed: u64,
    /// How long clients issue operations.
    pub duration: SimDuration,
    /// What happens after the workload stops, before the end state is judged.
    pub quiescence: Quiescence,
    /// A bound on processed events; the run stops there (a safety net).
    pub max_events: u64,
    /// Datacenter names, indexed by `DatacenterId`.
    pub datacenters: Vec<String>,
    /// The storage nodes and their Dynamo settings.
    pub cluster: Cluster,
    /// The network model.
    pub network: NetworkConfig,
    /// The clients and what they do.
    pub workload: Workload,
    /// Faults at fixed times, sorted by time (stable).
    pub faults: Vec<ScheduledFault>,
    /// Random faults with rates, drawn from the fault stream.
    pub nemesis: Option<Nemesis>,
    /// Settings for the reports (grid of the t-visibility curve, windows).
    pub metrics: MetricsConfig,
    /// Bounds on summary metrics, checked after the run.
    pub expect: Vec<Expectation>,
}

impl Scenario {
    /// When clients stop issuing operations.
    pub fn workload_end(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }
    /// When the run ends (after quiescence).
    pub fn end(&self) -> SimTime {
        self.workload_end() + self.quiescence.duration
    }
    /// The name of an endpoint as written in the scenario.
    pub fn endpoint_name(&self, e: Endpoint) -> &str {
        match e {
            Endpoint::Node(n) => &self.cluster.nodes[n.0 as usize].name,
            Endpoint::Client(c) => &self.workload.clients[c.0 as usize].name,
        }
    }
}

/// The phase after the workload stops.
#[derive(Clone, Debug)]
pub struct Quiescence {
    /// How long background repair may run.
    pub duration: SimDuration,
    /// Whether every fault is healed (partitions, crashed nodes restarted,
    /// links restored) when quiescence starts.
    pub heal_faults: bool,
}

/// One storage node.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Its name in the scenario and reports.
    pub name: String,
    /// Where it runs.
    pub datacenter: DatacenterId,
}

/// Dynamo's `(N, R, W)` (§4.5). `n`: replicas per key; `r`: replies a read
/// waits for; `w`: acknowledgements a write waits for (the coordinator's own
/// local write counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quorum {
    /// Replicas per key.
    pub n: u32,
    /// Read quorum.
    pub r: u32,
    /// Write quorum.
    pub w: u32,
}

/// How versions are kept and reconciled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Vector clocks with syntactic reconciliation (§4.4).
    VectorClocks {
        /// Truncate a clock above this many entries (0 = never).
        truncation_threshold: usize,
    },
    /// Last write wins by the coordinator's local timestamp.
    LastWriteWins,
}

/// Whether a request may use nodes beyond the top N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuorumMode {
    /// "the first N healthy nodes" of the extended preference list (§4.6).
    Sloppy,
    /// Only the top N of the preference list, healthy or not.
    Strict,
}

/// Which node coordinates a put (§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteCoordinator {
    /// The first healthy node of the top N.
    FirstHealthy,
    /// The replica that answered the preceding read fastest (from the context).
    FastestReadResponder,
}

/// Which nodes may coordinate without forwarding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorScope {
    /// Only nodes in the top N; others forward (server-driven routing).
    PreferenceList,
    /// Any node coordinates reads (and writes under last-write-wins), as in
    /// published quorum models with a non-replica coordinator.
    AnyNode,
}

/// §6.1 buffered writes.
#[derive(Clone, Debug)]
pub struct BufferedWrites {
    /// How often the buffer is flushed to the durable store.
    pub flush_interval: SimDuration,
}

/// The local storage engine's timing.
#[derive(Clone, Debug)]
pub struct StorageConfig {
    /// A local read.
    pub read_latency: Latency,
    /// A durable local write.
    pub write_latency: Latency,
    /// Buffered writes, when enabled.
    pub buffered_writes: Option<BufferedWrites>,
}

/// Tombstone garbage collection (§4.4's deleted items that resurface).
#[derive(Clone, Debug)]
pub struct TombstoneGc {
    /// A tombstone older than this (since it was stored) is purged.
    pub grace: SimDuration,
    /// How often each node scans for old tombstones.
    pub scan_interval: SimDuration,
}

/// Merkle-tree anti-entropy (§4.7).
#[derive(Clone, Debug)]
pub struct AntiEntropy {
    /// How often each node starts an exchange.
    pub interval: SimDuration,
    /// Merkle tree fan-out.
    pub fanout: u32,
    /// Merkle tree depth (leaves = fanout^depth).
    pub depth: u32,
}

/// How a node decides a peer is down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FailureDetectorKind {
    /// §4.8.3: a peer that does not answer a request in time is avoided and
    /// retried later.
    Local,
    /// The phi-accrual detector (Hayashibara et al.), fed by the heartbeat
    /// counters gossip spreads: a peer is suspected while
    /// phi = -log10(P(a heartbeat arrives later than now)) >= `threshold`.
    PhiAccrual {
        /// Suspicion threshold (Cassandra's default is 8).
        threshold: f64,
        /// Heartbeat inter-arrival samples kept per peer.
        window: u32,
        /// Floor on the inter-arrival standard deviation, so perfectly
        /// regular heartbeats do not make phi explode on the first jitter.
        min_stddev: SimDuration,
    },
}

/// Gossip-based membership (§4.8) and key transfer on join/leave (§4.9).
#[derive(Clone, Debug)]
pub struct MembershipConfig {
    /// Every interval each node reconciles its membership with a random peer.
    pub gossip_interval: SimDuration,
    /// Nodes known to all; every node also gossips with them, so separately
    /// joined nodes do not form logically partitioned rings (§4.8.2).
    pub seeds: Vec<crate::engine::ids::NodeId>,
    /// The failure detector.
    pub failure_detector: FailureDetectorKind,
    /// Keys per key-transfer batch.
    pub transfer_batch: u32,
    /// Whether a joining (or replacing) node answers reads for ranges it
    /// has not received yet.
    pub reads_during_transfer: ReadsDuringTransfer,
}

/// What a node that gained ranges (a join, a replacement) does with reads
/// of keys it has not received yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadsDuringTransfer {
    /// Answers with what it has (the model before node capacity, where a
    /// transfer is over in milliseconds).
    Served,
    /// Declines (pending ownership, as Cassandra's pending ranges and
    /// Riak's ownership handoff): the coordinator asks the next node of
    /// the extended preference list, the node the joiner displaced, which
    /// still holds the range until the transfer completes.
    Declined,
}

/// Dynamo's settings for every node.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Every physical node the run may use, indexed by `NodeId`: the initial
    /// members first, then the nodes that join later (`join` and `replace`
    /// faults), in order of their first appearance.
    pub nodes: Vec<NodeSpec>,
    /// How many of `nodes` are members from the start.
    pub initial_nodes: u32,
    /// Gossip membership; `None`: membership is static and known to all.
    pub membership: Option<MembershipConfig>,
    /// `(N, R, W)`.
    pub quorum: Quorum,
    /// The §6.2 partitioning strategy.
    pub partitioning: PartitionStrategy,
    /// Vector clocks or last-write-wins.
    pub versioning: Versioning,
    /// Sloppy or strict quorum.
    pub quorum_mode: QuorumMode,
    /// Hinted handoff: fallbacks keep hints and deliver them when the owner is
    /// reachable. When off, fallbacks still take writes but never hand off.
    pub hinted_handoff: bool,
    /// How often a node scans its hints for owners that are reachable again.
    pub hint_scan_interval: SimDuration,
    /// The most hints sent in one handoff message.
    pub hint_batch_max: usize,
    /// Read repair: `Some(window)` waits this long for late replies after
    /// answering, then repairs stale replicas.
    pub read_repair: Option<SimDuration>,
    /// A coordinator gives up on a request after this long.
    pub request_timeout: SimDuration,
    /// A replica that has not answered within this long is treated as down by
    /// the coordinator, which turns to the next node (§4.8.3).
    pub replica_timeout: SimDuration,
    /// A node treated as down is tried again after this long.
    pub retry_interval: SimDuration,
    /// Tombstone GC, when enabled.
    pub tombstone_gc: Option<TombstoneGc>,
    /// Anti-entropy, when enabled.
    pub anti_entropy: Option<AntiEntropy>,
    /// Storage engine timing.
    pub storage: StorageConfig,
    /// Which node coordinates a put.
    pub write_coordinator: WriteCoordinator,
    /// Which nodes may coordinate.
    pub coordinator_scope: CoordinatorScope,
    /// Node capacity: request processing, disk and network interface as
    /// queues with service times. `None`: every node serves any number of
    /// requests at once (the model before capacity existed).
    pub capacity: Option<Capacity>,
}

/// What happens to work that arrives at a full queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverloadPolicy {
    /// The new arrival is refused (a client request gets an `overloaded`
    /// failure at once; other messages are dropped).
    Reject,
    /// The oldest waiting job is refused to make room for the new one.
    ShedOldest,
}

/// Request processing: a pool of workers in front of the node's handlers.
#[derive(Clone, Debug)]
pub struct CpuSpec {
    /// Workers serving messages in parallel.
    pub workers: u32,
    /// Service time per message, by kind (indexed by [`MsgKind::index`]).
    pub service: Vec<Latency>,
    /// Extra service time per megabyte of message (deserialisation), µs.
    pub per_mb_us: u64,
    /// Messages that may wait for a worker.
    pub queue_limit: u32,
    /// What a full queue does.
    pub overload: OverloadPolicy,
}

/// The local disk: a queue in front of a device that serves `concurrency`
/// operations at once.
#[derive(Clone, Debug)]
pub struct DiskSpec {
    /// Operations served in parallel.
    pub concurrency: u32,
    /// Service time of one read.
    pub read: Latency,
    /// Service time of one durable write.
    pub write: Latency,
    /// Disk jobs that may wait.
    pub queue_limit: u32,
    /// What a full queue does.
    pub overload: OverloadPolicy,
}

/// The network interface: a bandwidth in each direction, FIFO.
#[derive(Clone, Debug)]
pub struct NicSpec {
    /// Bytes per second out.
    pub egress_bytes_per_s: u64,
    /// Bytes per second in.
    pub ingress_bytes_per_s: u64,
    /// Bytes that may wait to be sent (or received); more are dropped.
    pub queue_limit_bytes: u64,
}

/// One node's resources; a `None` resource is infinite.
#[derive(Clone, Debug, Default)]
pub struct NodeCapacity {
    /// Request processing.
    pub cpu: Option<CpuSpec>,
    /// The disk.
    pub disk: Option<DiskSpec>,
    /// The network interface.
    pub nic: Option<NicSpec>,
}

/// §6.5 admission control: background tasks (hinted handoff, anti-entropy,
/// key transfers) get time slices only while the foreground latency of the
/// monitored resource is under a target.
#[derive(Clone, Debug)]
pub struct AdmissionControl {
    /// The trailing window the percentile is taken over.
    pub window: SimDuration,
    /// The percentile, parts per million (990_000 = p99).
    pub percentile_ppm: u32,
    /// Background work runs while the percentile is at or under this.
    pub target: SimDuration,
}

/// Node capacity (`cluster.capacity`).
#[derive(Clone, Debug)]
pub struct Capacity {
    /// Per node (indexed by `NodeId`): the default with per-node overrides.
    pub nodes: Vec<NodeCapacity>,
    /// §6.5 admission control of background tasks, when enabled.
    pub admission: Option<AdmissionControl>,
}

impl Capacity {
    /// True when some node has a disk queue (replicas then ask the engine
    /// for disk time instead of drawing a storage latency themselves).
    pub fn has_disk(&self) -> bool {
        self.nodes.iter().any(|n| n.disk.is_some())
    }
}

impl Cluster {
    /// The length of the precomputed extended preference list.
    pub fn extended_len(&self) -> usize {
        let n = self.quorum.n as usize;
        self.nodes.len().min((2 * n).max(n + 8))
    }
}

/// One link's behaviour.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    /// Delay of a message on this link.
    pub latency: Latency,
    /// Per-kind delays that replace `latency` for that kind.
    pub latency_by_kind: BTreeMap<MsgKind, Latency>,
    /// Probability a message is lost.
    pub loss: Probability,
    /// Probability a message is delivered twice.
    pub duplicate: Probability,
    /// Whether messages on this link arrive in the order sent.
    pub fifo: bool,
}

/// The network model: a default link, overridden per datacenter pair and per
/// endpoint pair (most specific wins).
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Every link not overridden.
    pub default: LinkSpec,
    /// Links between (or within) datacenters: unordered pairs.
    pub datacenter_links: Vec<(DatacenterId, DatacenterId, LinkSpec)>,
    /// Links between two endpoints: unordered pairs.
    pub endpoint_links: Vec<(Endpoint, Endpoint, LinkSpec)>,
}

/// One client session.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Its name.
    pub name: String,
    /// Where it runs.
    pub datacenter: DatacenterId,
}

/// How a client reaches a coordinator (§4.5, §6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Through a load balancer to a random node (server-driven).
    LoadBalancer,
    /// Straight to a coordinator from the client's own membership view.
    PartitionAware {
        /// How often the view is refreshed.
        refresh_interval: SimDuration,
    },
}

/// When operations start.
#[derive(Clone, Debug)]
pub enum Arrival {
    /// Poisson arrivals per client, independent of completions.
    OpenLoop {
        /// Mean time between arrivals at one client.
        mean_interarrival: SimDuration,
    },
    /// One operation at a time, with a think time after each.
    ClosedLoop {
        /// Pause between operations.
        think_time: Latency,
    },
}

/// Key popularity.
#[derive(Clone, Debug, PartialEq)]
pub enum Popularity {
    /// Every key equally likely.
    Uniform,
    /// Zipf with exponent `s`.
    Zipfian {
        /// The exponent.
        s: f64,
    },
    /// A hot set of keys draws most requests.
    Hotspot {
        /// Fraction of keys that are hot.
        hot_keys: Probability,
        /// Probability that a request goes to a hot key.
        hot_traffic: Probability,
    },
}

/// The operation mix as integer weights (parts per billion of the total).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Plain reads.
    pub read: u32,
    /// get, reconcile, put with the context (Dynamo's normal pattern).
    pub read_modify_write: u32,
    /// put with an empty context.
    pub blind_write: u32,
    /// get, then delete with the context.
    pub delete: u32,
}

/// How a client merges siblings before writing back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconcile {
    /// Shopping-cart merge: the new value keeps every sibling's contents.
    Union,
    /// Client-side last writer wins: keep the sibling with the latest stamp.
    LastWriterWins,
}

/// The size of a value when the workload sets none.
pub const DEFAULT_VALUE_BYTES: u32 = 1024;

/// What the clients do.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The sessions.
    pub clients: Vec<ClientSpec>,
    /// Routing.
    pub routing: Routing,
    /// Arrival process.
    pub arrival: Arrival,
    /// Number of keys.
    pub key_count: u64,
    /// Key popularity.
    pub popularity: Popularity,
    /// Operation mix.
    pub mix: Mix,
    /// Sibling merge.
    pub reconcile: Reconcile,
    /// A client gives up on an operation after this long.
    pub client_timeout: SimDuration,
    /// Stop after this many operations in total (all clients), if set.
    pub max_ops: Option<u64>,
    /// Size of each written value in bytes; `None`: every value is
    /// [`DEFAULT_VALUE_BYTES`] and no size is drawn.
    pub value_size: Option<Latency>,
    /// Load phase: before time 0 every key holds one value (written by
    /// [`ClientId::LOADER`](crate::engine::ids::ClientId::LOADER)) on its top N
    /// replicas, as a YCSB-style load would leave it.
    pub preload: bool,
}

/// A fault at a fixed time.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    /// When it happens.
    pub at: SimTime,
    /// What happens.
    pub action: FaultAction,
}

/// Report settings (used by `reports`; the core only carries them).
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// The t grid of the t-visibility curve, microseconds, increasing.
    pub t_visibility_grid_us: Vec<u64>,
    /// Width of a timeline window.
    pub window: SimDuration,
}

/// A bound on one summary metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The metric's path in `summary.json`, dotted (`durability.lost`).
    pub metric: String,
    /// Lower bound, inclusive.
    pub min: Option<f64>,
    /// Upper bound, inclusive.
    pub max: Option<f64>,
}
