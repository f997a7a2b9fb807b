//! The validated configuration of a run: what `scenario::parse` produces and
//! every other module reads.
//!
//! These are core types: typed durations, integer probabilities, dense ids.
//! They never derive `Deserialize` (the JSON DTOs live in `scenario`), so a
//! value of these types has always passed validation.

use std::collections::BTreeMap;

use crate::dynamo::protocol::{Endpoint, MsgKind};
use crate::dynamo::ring::PartitionStrategy;
use crate::engine::ids::{DatacenterId, NodeId};
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
    /// Riak's PR: how many of the replies a read counts must come from
    /// primary replicas (the key's top N, not fallbacks); 0 = no rule. A
    /// coordinator that believes fewer primaries are up fails the read at
    /// once.
    pub pr: u32,
    /// Riak's PW: the same for write acknowledgements.
    pub pw: u32,
    /// Riak's DW: how many acknowledgements must come from durable writes
    /// (not from a §6.1 write buffer); 0 = no rule. With buffered writes the
    /// first `max(1, dw)` targets write durably.
    pub dw: u32,
    /// Riak's `notfound_ok`: a replica's "not found" counts toward R (true,
    /// the default and the paper's behaviour). When false, only replies that
    /// hold a version count.
    pub notfound_ok: bool,
    /// Riak's `basic_quorum`: with `notfound_ok` false, a read answers "not
    /// found" as soon as a majority of N said so, instead of waiting until R
    /// found replies are impossible (N - R + 1 not-founds).
    pub basic_quorum: bool,
    /// Fail a request at once (`unavailable`) when the coordinator believes
    /// fewer than R (W) of the nodes it would ask are reachable, instead of
    /// waiting for the request timeout (Riak's and Cassandra's
    /// `Unavailable`).
    pub fail_fast: bool,
    /// R and W, or Cassandra's datacenter-aware quorums instead.
    pub consistency: Consistency,
    /// Where a sloppy-quorum fallback may come from.
    pub fallbacks: Fallbacks,
    /// Riak's `return_body`: a put's reply carries the key's versions after
    /// the write, as the coordinator learnt them from the acknowledgements.
    pub return_body: bool,
}

/// Which nodes may stand in for an unreachable replica (sloppy quorum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fallbacks {
    /// The next healthy node of the extended preference list (the paper).
    #[default]
    Any,
    /// The next healthy node of the list in the replica's own datacenter
    /// (Cassandra's and Riak's multi-datacenter deployments).
    SameDatacenter,
}

/// What a request waits for (Cassandra's consistency levels for several
/// datacenters; replicas are the key's top N, spread over datacenters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consistency {
    /// R replies, W acknowledgements, from anywhere (the paper).
    Fixed,
    /// A majority of the key's replicas in the coordinator's datacenter
    /// (`LOCAL_QUORUM`); other datacenters are not waited for.
    LocalQuorum,
    /// A majority of the key's replicas in every datacenter that holds one
    /// (`EACH_QUORUM`).
    EachQuorum,
}

impl Quorum {
    /// `(N, R, W)` with every other option at its default (and
    /// [`Consistency::Fixed`]).
    pub fn nrw(n: u32, r: u32, w: u32) -> Quorum {
        Quorum {
            n,
            r,
            w,
            pr: 0,
            pw: 0,
            dw: 0,
            notfound_ok: true,
            basic_quorum: false,
            fail_fast: false,
            consistency: Consistency::Fixed,
            fallbacks: Fallbacks::Any,
            return_body: false,
        }
    }

    /// Whether a coordinator must know which targets it believes reachable
    /// (PR, PW or `fail_fast`).
    pub fn needs_reachability(&self) -> bool {
        self.pr > 0 || self.pw > 0 || self.fail_fast || self.consistency != Consistency::Fixed
    }
}

/// How versions are kept and reconciled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Vector clocks with syntactic reconciliation (§4.4).
    VectorClocks {
        /// Truncate a clock above this many entries (0 = never).
        truncation_threshold: usize,
        /// Which clocks, and what a coordinator does with its local siblings.
        scheme: ClockScheme,
    },
    /// Last write wins by the coordinator's local timestamp.
    LastWriteWins,
}

/// The three vector-clock designs a Dynamo-style store has shipped (see
/// `dynamo::storage` for the rules and the anomaly each allows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockScheme {
    /// Per-key clocks with server (coordinator) ids, as in the paper: the
    /// coordinator builds the new version from the client's context alone
    /// and ships it alone. Each version keeps its dot (`VersionData::seen`), but
    /// the context is a plain vector, so a write whose context covers
    /// counter k+1 of a coordinator supersedes a concurrent write with
    /// counter k that its read never returned: acknowledged writes can be
    /// lost on a healthy network.
    ServerClocks,
    /// Dotted version vectors (Preguiça et al., Riak 2.0): the coordinator
    /// merges the new version with its local siblings (dropping those the
    /// context covers) and ships the merged object, so any replica holding
    /// a coordinator's dot k+1 also holds its dot k or a version that
    /// supersedes it. Siblings stay bounded by the truly concurrent writes.
    DottedVersionVectors,
    /// Riak before 2.0 (`vnode_vclocks`): one clock per stored object, no
    /// dots. The coordinator merges with its local object; a write whose
    /// context does not descend the object's clock adds a sibling and keeps
    /// every old one, even those its writer had read: sibling explosion.
    VnodeClocks,
}

/// Whether fallback nodes answer reads with the hinted versions they hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackReads {
    /// A fallback's read reply includes its hints for the key (Riak; what
    /// the paper's sloppy quorum, "the first N healthy nodes", implies for
    /// reads as well as writes).
    IncludeHints,
    /// Hints are invisible to reads (Cassandra): a fallback answers from its
    /// main store only, so a read can miss writes that fallbacks
    /// acknowledged.
    ExcludeHints,
}

/// What a node that lost its disk uses as its actor id in vector clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskLossIdentity {
    /// A new actor epoch: dots issued after the loss can never equal dots
    /// issued before it (Riak's vnode epochs).
    NewActor,
    /// The same id: the node forgets the counters it issued and can issue
    /// a `(node, counter)` dot twice, so replicas treat a new write as
    /// superseded by an older one (kept as a positive control).
    SameActor,
}

/// Riak-style sibling limits (`warn_siblings`, `max_siblings`), checked by
/// the coordinator on the object a put produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SiblingLimits {
    /// Record a warning when a put leaves more siblings than this.
    pub warn_above: Option<u32>,
    /// Refuse a put that would leave more siblings than this.
    pub refuse_above: Option<u32>,
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
    /// Any node coordinates reads and writes under either versioning: a
    /// write under vector clocks may be coordinated by a node that is not
    /// one of its replicas (PBS's WARS model, whose coordinator is never a
    /// replica).
    AnyNodeReadsAndWrites,
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
    /// How a node picks the range and the replica of each exchange.
    pub partners: AePartners,
}

/// How a node walks its anti-entropy exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AePartners {
    /// Each of its ranges with each other replica of that range in turn
    /// (ranges in ring order, replicas in preference-list order), as Riak's
    /// active anti-entropy walks the preference list: every pair of
    /// replicas of every range meets within a bounded number of rounds.
    RoundRobin,
    /// A random range and a random replica each round (the model before
    /// round-robin): a given pair meets after a geometric number of rounds,
    /// so the last difference of a range can wait a long time.
    Random,
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
    /// Whether fallback nodes answer reads with their hints.
    pub fallback_reads: FallbackReads,
    /// A node's actor id after it lost its disk.
    pub disk_loss_identity: DiskLossIdentity,
    /// Sibling limits checked at the coordinator.
    pub sibling_limits: SiblingLimits,
    /// Per-version checksums: replicas detect silently corrupted versions
    /// when they read them (for a client read, anti-entropy, a transfer or a
    /// write to the key), drop them, and let read repair and anti-entropy
    /// restore a good copy.
    pub checksums: bool,
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
    /// The nodes `cluster.capacity.overrides` names, in order (each at
    /// most once): what the file spells out node by node (the budget
    /// counts its JSON).
    pub overridden: Vec<NodeId>,
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
    /// The vector-clock scheme, or `None` under last-write-wins.
    pub fn clock_scheme(&self) -> Option<ClockScheme> {
        match self.versioning {
            Versioning::VectorClocks { scheme, .. } => Some(scheme),
            Versioning::LastWriteWins => None,
        }
    }

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
        /// §6.4 client-driven coordination: the client runs the get state
        /// machine itself (asks the replicas, waits for R, reconciles, read
        /// repair), so a get has no coordinator hop; puts go to a replica as
        /// with plain partition-aware routing.
        client_driven: bool,
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
    /// PBS's experiment through the full protocol: each probe writes once
    /// and reads at fixed times after the write's commit (see [`Probe`]).
    Probe(Probe),
}

/// The probe workload: per probe, one blind write, then reads started
/// exactly `t` after the write *committed* (the coordinator's W-th
/// acknowledgement) for each `t` of the grid. The client learns the commit
/// from the engine, an oracle no real client has: the probe is a
/// measuring instrument, as PBS's experiment is.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// When the reads start after the commit, strictly increasing.
    pub t_grid: Vec<SimDuration>,
    /// Reads started at each `t` (at least one).
    pub reads_per_t: u32,
    /// Probes each client keeps running at once (each on its own key when
    /// keys are fresh).
    pub concurrent: u32,
    /// Pause between the end of a probe (its write failed, or its last read
    /// finished) and the start of the next one in the same slot.
    pub interval: SimDuration,
    /// Which key a probe writes.
    pub key: ProbeKey,
    /// Where a probe's requests go.
    pub coordinator: ProbeCoordinator,
}

/// Which key a probe writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKey {
    /// A key nobody has used: numbered from `keys.count` up, one per probe,
    /// so the first write a read can find is the probe's.
    Fresh,
    /// A key drawn from `workload.keys` (count and popularity), so probes
    /// can share keys (a key count of 1 is one chosen key).
    Sampled,
}

/// Where a probe sends its write and its reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeCoordinator {
    /// As `workload.routing` says.
    Routing,
    /// A node outside the key's top N, drawn at random among them, so the
    /// coordinator is never a replica (PBS's WARS model). Needs more nodes
    /// than N and a `coordinator_scope` that lets it coordinate.
    NonReplica,
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
    /// Client retries, when enabled.
    pub retries: Option<Retries>,
    /// Hedged reads, when enabled.
    pub hedged_reads: Option<Hedge>,
}

impl Workload {
    /// The longest an operation can stay in flight from its invocation to
    /// its completion: one client timeout, or with retries one per attempt
    /// (each attempt re-arms it) plus the longest wait before each retry.
    pub fn longest_operation(&self) -> SimDuration {
        match &self.retries {
            None => self.client_timeout,
            Some(r) => {
                let attempts = u64::from(r.attempts.max(1));
                self.client_timeout
                    .saturating_mul(attempts)
                    .saturating_add(r.max_backoff.saturating_mul(attempts - 1))
            }
        }
    }

    /// How long after it settled a write may still matter to an operation
    /// in flight (the checkers' *horizon*): twice the longest operation
    /// plus a replica's `request_timeout`.
    pub fn horizon(&self, request_timeout: SimDuration) -> SimDuration {
        self.longest_operation()
            .saturating_mul(2)
            .saturating_add(request_timeout)
    }
}

/// Client retries: a failed or timed-out operation is sent again as the
/// same operation (same id, same written value), so a retried write is one
/// logical write for the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// Tries per operation, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub backoff: SimDuration,
    /// The longest wait.
    pub max_backoff: SimDuration,
    /// Retries allowed per operation started, parts per million, on top of
    /// [`Retries::BUDGET_FLOOR`].
    pub budget_ppm: u64,
}

impl Retries {
    /// Retries every client may send whatever its budget.
    pub const BUDGET_FLOOR: u64 = 10;
}

/// When a get is also sent to a second coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hedge {
    /// After a fixed delay.
    After(SimDuration),
    /// After the client's own get latency at this percentile (parts per
    /// million) over its last [`Hedge::WINDOW`] successful gets; no hedge
    /// before it has [`Hedge::MIN_SAMPLES`].
    Percentile(u32),
}

impl Hedge {
    /// Latencies a client keeps for the percentile.
    pub const WINDOW: usize = 1000;
    /// Latencies it needs before it hedges by percentile.
    pub const MIN_SAMPLES: usize = 100;
}

/// A fault at a fixed time.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledFault {
    /// When it happens.
    pub at: SimTime,
    /// What happens.
    pub action: FaultAction,
}

/// Where t-visibility's t starts, and which writes a read must see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StalenessOrigin {
    /// The commit: the coordinator's W-th acknowledgement (PBS's
    /// definition). A read must see every write committed before it started.
    #[default]
    Commit,
    /// The client receiving the acknowledgement. A read must see every write
    /// acknowledged before it started.
    ClientAck,
}

/// Report settings (used by `reports`; the core only carries them).
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// Explicit bins of the t-visibility curve, microseconds, increasing
    /// (`None`: fine logarithmic bins, or exact mass points for a probe
    /// workload).
    pub t_visibility_grid_us: Option<Vec<u64>>,
    /// Where t starts (commit or client acknowledgement).
    pub staleness_origin: StalenessOrigin,
    /// Trials of PBS's WARS model to run beside the simulation (its
    /// prediction goes into the summary and the report), if any.
    pub wars_trials: Option<u64>,
    /// Width of a timeline window.
    pub window: SimDuration,
    /// A key is reported as "over the threshold" when a read returned more
    /// siblings than this.
    pub sibling_threshold: u32,
    /// Retire writes from the checkers' history this long after they
    /// settled, when storage evidence covers them (`None`: the exact rule
    /// only; see the metrics module in `reports`).
    pub retention_window: Option<SimDuration>,
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
