//! The scenario file's JSON shape: one DTO per object, mirroring the JSON
//! one to one (`deny_unknown_fields`, units in field names: `_ms`, `_s`).
//! DTOs carry no rules beyond their shape (validation is in `validate`) and
//! are the only types in `sim-core` that derive `Deserialize`; the JSON
//! Schema is generated from them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn default_rng_seed() -> u64 {
    1
}
fn yes() -> bool {
    true
}

/// A scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, used in output directory names.
    pub name: String,
    /// What the scenario demonstrates.
    #[serde(default)]
    pub description: String,
    /// Root of every random stream (overridable with `--seed`). Default 1.
    #[serde(default = "default_rng_seed")]
    pub rng_seed: u64,
    /// How long clients issue operations, seconds of virtual time.
    pub duration_s: f64,
    /// What happens after the workload stops.
    #[serde(default)]
    pub quiescence: QuiescenceDto,
    /// Safety bound on processed events. Default 200 million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<u64>,
    /// Datacenter names. Default: one datacenter, "dc1".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datacenters: Vec<String>,
    /// Storage nodes and Dynamo settings.
    pub cluster: ClusterDto,
    /// The network model.
    #[serde(default)]
    pub network: NetworkDto,
    /// Clients.
    pub workload: WorkloadDto,
    /// Faults at fixed times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultDto>,
    /// Random faults with rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nemesis: Option<NemesisDto>,
    /// Report settings.
    #[serde(default)]
    pub metrics: MetricsDto,
    /// Bounds on summary metrics: `"durability.lost": {"max": 0}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<String, BoundDto>,
}

/// `quiescence`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuiescenceDto {
    /// Seconds of background activity after the workload. Default 10.
    #[serde(default = "QuiescenceDto::default_duration")]
    pub duration_s: f64,
    /// Heal every fault when quiescence starts. Default true.
    #[serde(default = "yes")]
    pub heal_faults: bool,
}

impl QuiescenceDto {
    pub(super) fn default_duration() -> f64 {
        10.0
    }
}

impl Default for QuiescenceDto {
    fn default() -> Self {
        QuiescenceDto {
            duration_s: 10.0,
            heal_faults: true,
        }
    }
}

/// A node count or an explicit list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NodesDto {
    /// `n` nodes named `n0..`, in the first datacenter.
    Count(u32),
    /// Named nodes.
    List(Vec<NamedDto>),
}

/// A named node or client, optionally placed in a datacenter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedDto {
    /// Unique name.
    pub name: String,
    /// Datacenter name (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
}

/// `(N, R, W)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuorumDto {
    /// Replicas per key.
    pub n: u32,
    /// Replies a read waits for.
    pub r: u32,
    /// Acknowledgements a write waits for.
    pub w: u32,
    /// Riak's PR: replies from primary replicas a read needs (0..=R). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pr: u32,
    /// Riak's PW: acknowledgements from primary replicas a write needs
    /// (0..=W). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pw: u32,
    /// Riak's DW: durable acknowledgements a write needs (0..=W). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dw: u32,
    /// Riak's `notfound_ok`: a "not found" reply counts toward R. Default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub notfound_ok: bool,
    /// Riak's `basic_quorum`: with `notfound_ok` false, answer "not found"
    /// once a majority of N said so. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub basic_quorum: bool,
    /// Fail at once (`unavailable`) when fewer than R (W) of the nodes a
    /// request would use are believed reachable. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_fast: bool,
    /// `"fixed"` (R and W, default), `"local_quorum"` or `"each_quorum"`
    /// (Cassandra's, per datacenter).
    #[serde(default, skip_serializing_if = "ConsistencyDto::is_fixed")]
    pub consistency: ConsistencyDto,
    /// Where a sloppy-quorum fallback may come from: `"any"` node of the
    /// extended preference list (default) or one in the `"same_datacenter"`
    /// as the replica it stands in for.
    #[serde(default, skip_serializing_if = "FallbacksDto::is_any")]
    pub fallbacks: FallbacksDto,
    /// Riak's `return_body`: a put's reply carries the key's versions after
    /// the write (the merge of the acknowledging replicas'). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_body: bool,
}

/// `cluster.quorum.fallbacks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum FallbacksDto {
    /// The next healthy node of the extended preference list (default).
    #[default]
    Any,
    /// The next healthy node in the datacenter of the replica it stands in
    /// for.
    SameDatacenter,
}

impl FallbacksDto {
    fn is_any(&self) -> bool {
        *self == FallbacksDto::Any
    }
}

/// `cluster.quorum.consistency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsistencyDto {
    /// R and W (default).
    #[default]
    Fixed,
    /// A majority of the key's replicas in the coordinator's datacenter.
    LocalQuorum,
    /// A majority of the key's replicas in every datacenter.
    EachQuorum,
}

impl ConsistencyDto {
    fn is_fixed(&self) -> bool {
        *self == ConsistencyDto::Fixed
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_true(v: &bool) -> bool {
    *v
}

/// §6.2 partitioning strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "strategy", rename_all = "snake_case", deny_unknown_fields)]
pub enum PartitioningDto {
    /// Strategy 1: T random tokens per node.
    RandomTokens {
        /// T.
        tokens_per_node: u32,
    },
    /// Strategy 2: T random tokens per node, Q equal partitions.
    RandomTokensEqualPartitions {
        /// T.
        tokens_per_node: u32,
        /// Q.
        partitions: u32,
    },
    /// Strategy 3: Q/S tokens per node, Q equal partitions.
    EqualPartitions {
        /// Q.
        partitions: u32,
    },
}

/// Versioning scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum VersioningDto {
    /// Per-key vector clocks with server ids, as in the paper (default):
    /// the coordinator ships the new version alone. Loses a write when a
    /// context covers counter k+1 of a coordinator but its read missed the
    /// concurrent version with counter k.
    #[default]
    VectorClocks,
    /// Dotted version vectors (Riak 2.0): the coordinator merges the new
    /// version with its local siblings and ships the merged object.
    DottedVersionVectors,
    /// Riak's pre-2.0 vnode clocks: one clock per object, no dots; siblings
    /// pile up under concurrent writers (sibling explosion).
    VnodeClocks,
    /// Last write wins by coordinator timestamp.
    LastWriteWins,
}

/// `cluster.fallback_reads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReadsDto {
    /// Fallback nodes answer reads with the hinted versions they hold
    /// (Riak; the paper's sloppy quorum) (default).
    #[default]
    IncludeHints,
    /// Hints are invisible to reads (Cassandra).
    ExcludeHints,
}

/// `cluster.disk_loss_identity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum DiskLossIdentityDto {
    /// A node that lost its disk comes back as a new actor (epoch) in
    /// vector clocks, so no dot is issued twice (default).
    #[default]
    NewActor,
    /// It keeps its id and may reissue dots it issued before the loss.
    SameActor,
}

/// `cluster.sibling_limits`: Riak's `warn_siblings` / `max_siblings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SiblingLimitsDto {
    /// Record a warning when a put leaves more siblings than this (>= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_above: Option<u32>,
    /// Refuse a put that would leave more siblings than this (>= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refuse_above: Option<u32>,
}

/// Quorum mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum QuorumModeDto {
    /// First N healthy nodes of the extended list (default).
    #[default]
    Sloppy,
    /// Only the top N.
    Strict,
}

/// Write coordinator choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteCoordinatorDto {
    /// First healthy node of the top N (default).
    #[default]
    FirstHealthy,
    /// The replica that answered the preceding read fastest (§5).
    FastestReadResponder,
}

/// Coordinator scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatorScopeDto {
    /// Only top-N nodes coordinate; others forward (default).
    #[default]
    PreferenceList,
    /// Any node coordinates reads (and writes under last-write-wins).
    AnyNode,
    /// Any node coordinates reads and writes, under either versioning.
    AnyNodeReadsAndWrites,
}

/// `cluster.storage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageDto {
    /// Local read latency. Default constant 0.1 ms.
    #[serde(default = "StorageDto::default_read")]
    pub read_latency: LatencyDto,
    /// Durable local write latency. Default constant 0.5 ms.
    #[serde(default = "StorageDto::default_write")]
    pub write_latency: LatencyDto,
    /// §6.1 buffered writes; absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffered_writes: Option<BufferedWritesDto>,
}

impl StorageDto {
    pub(super) fn default_read() -> LatencyDto {
        LatencyDto::Constant { ms: 0.1 }
    }
    pub(super) fn default_write() -> LatencyDto {
        LatencyDto::Constant { ms: 0.5 }
    }
}

impl Default for StorageDto {
    fn default() -> Self {
        StorageDto {
            read_latency: Self::default_read(),
            write_latency: Self::default_write(),
            buffered_writes: None,
        }
    }
}

/// `cluster.storage.buffered_writes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BufferedWritesDto {
    /// Flush period, milliseconds.
    pub flush_interval_ms: f64,
}

/// `cluster.anti_entropy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AntiEntropyDto {
    /// How often each node starts an exchange, ms. Default 1000.
    #[serde(default = "d_ae_interval_ms")]
    pub interval_ms: f64,
    /// Merkle tree fan-out (2..=64). Default 16.
    #[serde(default = "d_ae_fanout")]
    pub fanout: u32,
    /// Merkle tree depth (1..=4; fanout^depth at most 65536). Default 2.
    #[serde(default = "d_ae_depth")]
    pub depth: u32,
    /// How a node picks each exchange's range and replica. Default
    /// `round_robin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partners: Option<AePartnersDto>,
}

/// `cluster.anti_entropy.partners`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AePartnersDto {
    /// Each range with each other replica in turn: bounded rounds.
    RoundRobin,
    /// A random range and replica every round.
    Random,
}

/// `cluster.tombstone_gc`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TombstoneGcDto {
    /// Tombstones older than this are purged, seconds.
    pub grace_s: f64,
    /// Scan period, seconds. Default 1.
    #[serde(default = "TombstoneGcDto::default_scan")]
    pub scan_interval_s: f64,
}

impl TombstoneGcDto {
    pub(super) fn default_scan() -> f64 {
        1.0
    }
}

macro_rules! default_fns {
    ($($name:ident: $ty:ty = $val:expr;)*) => {
        $(fn $name() -> $ty { $val })*
    };
}

default_fns! {
    d_truncation: usize = 10;
    d_hint_scan_ms: f64 = 1000.0;
    d_hint_batch: usize = 64;
    d_read_repair_window_ms: f64 = 50.0;
    d_request_timeout_ms: f64 = 1000.0;
    d_replica_timeout_ms: f64 = 200.0;
    d_retry_interval_ms: f64 = 1000.0;
    d_refresh_s: f64 = 10.0;
    d_client_timeout_ms: f64 = 2000.0;
    d_backoff_ms: f64 = 10.0;
    d_max_backoff_ms: f64 = 1000.0;
    d_retry_budget: f64 = 0.2;
    d_window_s: f64 = 1.0;
    d_ae_interval_ms: f64 = 1000.0;
    d_ae_fanout: u32 = 16;
    d_ae_depth: u32 = 2;
    d_gossip_interval_ms: f64 = 1000.0;
    d_transfer_batch: u32 = 64;
    d_phi_threshold: f64 = 8.0;
    d_phi_window: u32 = 100;
    d_phi_min_stddev_ms: f64 = 500.0;
    d_sibling_threshold: u32 = 25;
    d_queue_limit: u32 = 10_000;
    d_concurrency: u32 = 1;
    d_nic_queue_mb: f64 = 64.0;
    d_admission_window_s: f64 = 10.0;
    d_admission_percentile: f64 = 0.99;
}

/// `cluster.membership`: gossip-based membership (§4.8) and key transfer on
/// join and leave (§4.9). `{}` means every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipDto {
    /// Every interval each node reconciles its membership with a random peer,
    /// ms. Default 1000.
    #[serde(default = "d_gossip_interval_ms")]
    pub gossip_interval_ms: f64,
    /// Seed node names: initial nodes known to all, which every node also
    /// gossips with. Default: the first node of each datacenter, in
    /// datacenter order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<String>>,
    /// The failure detector. Default `"local"`.
    #[serde(default)]
    pub failure_detector: FailureDetectorDto,
    /// Keys per key-transfer batch when ranges move. Default 64.
    #[serde(default = "d_transfer_batch")]
    pub transfer_batch: u32,
    /// Whether a node that gained ranges answers reads of keys it has not
    /// received yet. Default: `declined` with `cluster.capacity` (transfers
    /// take time), `served` without (transfers are instantaneous there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads_during_transfer: Option<ReadsDuringTransferDto>,
}

/// `cluster.membership.reads_during_transfer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadsDuringTransferDto {
    /// Answer with what it has.
    Served,
    /// Decline; the coordinator asks the node the joiner displaced.
    Declined,
}

impl Default for MembershipDto {
    fn default() -> Self {
        MembershipDto {
            gossip_interval_ms: d_gossip_interval_ms(),
            seeds: None,
            failure_detector: FailureDetectorDto::default(),
            transfer_batch: d_transfer_batch(),
            reads_during_transfer: None,
        }
    }
}

/// `cluster.membership.failure_detector`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FailureDetectorDto {
    /// §4.8.3: a peer that does not answer a request in time is avoided and
    /// retried later (default).
    #[default]
    Local,
    /// Phi-accrual detection fed by gossiped heartbeats:
    /// `{"phi_accrual": {"threshold": 8, "window": 100, "min_stddev_ms": 500}}`.
    PhiAccrual {
        /// Suspicion threshold on phi (> 0). Default 8.
        #[serde(default = "d_phi_threshold")]
        threshold: f64,
        /// Heartbeat inter-arrival samples kept per peer (2..=10000). Default 100.
        #[serde(default = "d_phi_window")]
        window: u32,
        /// Floor on the inter-arrival standard deviation, ms (> 0). Default 100.
        #[serde(default = "d_phi_min_stddev_ms")]
        min_stddev_ms: f64,
    },
}

/// `cluster`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterDto {
    /// A count or a list of named nodes.
    pub nodes: NodesDto,
    /// `(N, R, W)`.
    pub quorum: QuorumDto,
    /// Partitioning strategy. Default: equal partitions, Q = 8 × nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<PartitioningDto>,
    /// Vector clocks or last-write-wins.
    #[serde(default)]
    pub versioning: VersioningDto,
    /// Truncate vector clocks above this many entries (0 = never). Default 10.
    #[serde(default = "d_truncation")]
    pub vclock_truncation_threshold: usize,
    /// Sloppy or strict quorum.
    #[serde(default)]
    pub quorum_mode: QuorumModeDto,
    /// Hinted handoff. Default true.
    #[serde(default = "yes")]
    pub hinted_handoff: bool,
    /// Hint scan period, ms. Default 1000.
    #[serde(default = "d_hint_scan_ms")]
    pub hint_scan_interval_ms: f64,
    /// Hints per handoff message. Default 64.
    #[serde(default = "d_hint_batch")]
    pub hint_batch_max: usize,
    /// Read repair. Default true.
    #[serde(default = "yes")]
    pub read_repair: bool,
    /// How long a coordinator waits for late replies before repairing, ms. Default 50.
    #[serde(default = "d_read_repair_window_ms")]
    pub read_repair_window_ms: f64,
    /// Coordinator gives up after this long, ms. Default 1000.
    #[serde(default = "d_request_timeout_ms")]
    pub request_timeout_ms: f64,
    /// A replica silent this long is treated as down, ms. Default 200.
    #[serde(default = "d_replica_timeout_ms")]
    pub replica_timeout_ms: f64,
    /// A peer treated as down is retried after this long, ms. Default 1000.
    #[serde(default = "d_retry_interval_ms")]
    pub retry_interval_ms: f64,
    /// Tombstone garbage collection; absent = tombstones are kept forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tombstone_gc: Option<TombstoneGcDto>,
    /// Merkle-tree anti-entropy; absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anti_entropy: Option<AntiEntropyDto>,
    /// Storage engine timing.
    #[serde(default)]
    pub storage: StorageDto,
    /// Which node coordinates a put.
    #[serde(default)]
    pub write_coordinator: WriteCoordinatorDto,
    /// Which nodes may coordinate.
    #[serde(default)]
    pub coordinator_scope: CoordinatorScopeDto,
    /// Gossip membership and administrative joins/leaves; absent = static
    /// membership known to all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipDto>,
    /// Whether fallback nodes answer reads with their hints. Default
    /// `"include_hints"`.
    #[serde(default)]
    pub fallback_reads: FallbackReadsDto,
    /// A node's vector-clock identity after a disk loss. Default `"new_actor"`.
    #[serde(default)]
    pub disk_loss_identity: DiskLossIdentityDto,
    /// Sibling limits checked by the coordinator; absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sibling_limits: Option<SiblingLimitsDto>,
    /// Per-version checksums that detect silently corrupted versions on read
    /// and in anti-entropy. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checksums: bool,
    /// Node capacity (request processing, disk, network interface as queues
    /// with service times); absent = infinite capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityDto>,
}

/// What a full queue does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum OverloadDto {
    /// Refuse the new arrival (default); a client request gets an
    /// `overloaded` failure.
    #[default]
    Reject,
    /// Drop the oldest waiting job to make room.
    ShedOldest,
}

/// Service times of request processing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDto {
    /// Every message kind not listed in `by_kind`.
    pub default: LatencyDto,
    /// Per message kind (`client_request`, `read_request`, `write_request`,
    /// `read_response`, `write_ack`, `repair`, `handoff`, `anti_entropy`,
    /// `gossip`, `transfer`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<String, LatencyDto>,
}

/// `cluster.capacity.cpu`: a pool of workers in front of the handlers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuDto {
    /// Workers serving messages in parallel.
    pub workers: u32,
    /// Service time per message.
    pub service: ServiceDto,
    /// Extra service time per megabyte of message, ms. Default 0.
    #[serde(default)]
    pub per_mb_ms: f64,
    /// Messages that may wait for a worker. Default 10000.
    #[serde(default = "d_queue_limit")]
    pub queue_limit: u32,
    /// What a full queue does.
    #[serde(default)]
    pub overload: OverloadDto,
}

/// `cluster.capacity.disk`: a queue in front of the storage device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskDto {
    /// Operations served in parallel. Default 1.
    #[serde(default = "d_concurrency")]
    pub concurrency: u32,
    /// Service time of one read. Default: `storage.read_latency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<LatencyDto>,
    /// Service time of one durable write. Default: `storage.write_latency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<LatencyDto>,
    /// Disk jobs that may wait. Default 10000.
    #[serde(default = "d_queue_limit")]
    pub queue_limit: u32,
    /// What a full queue does.
    #[serde(default)]
    pub overload: OverloadDto,
}

/// `cluster.capacity.nic`: the network interface's bandwidth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NicDto {
    /// Bandwidth each way, megabytes (10^6 bytes) per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mb_per_s: Option<f64>,
    /// Outgoing bandwidth, overrides `bandwidth_mb_per_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_mb_per_s: Option<f64>,
    /// Incoming bandwidth, overrides `bandwidth_mb_per_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_mb_per_s: Option<f64>,
    /// Megabytes that may wait in each direction; more are dropped. Default 64.
    #[serde(default = "d_nic_queue_mb")]
    pub queue_limit_mb: f64,
}

/// Per-node resources replacing the defaults for the nodes listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityOverrideDto {
    /// Node names.
    pub nodes: Vec<String>,
    /// Replaces the CPU section for these nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuDto>,
    /// Replaces the disk section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskDto>,
    /// Replaces the network interface section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic: Option<NicDto>,
}

/// §6.5 admission control of background tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionDto {
    /// Trailing window of foreground latencies, s. Default 10.
    #[serde(default = "d_admission_window_s")]
    pub window_s: f64,
    /// The percentile compared with the target, in (0, 1). Default 0.99.
    #[serde(default = "d_admission_percentile")]
    pub percentile: f64,
    /// Background tasks run while the percentile is at or under this, ms.
    pub target_ms: f64,
}

/// `cluster.capacity`: node resources as queues with service times. Each
/// resource left out is infinite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDto {
    /// Request processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuDto>,
    /// The disk (its service times default to `storage`'s latencies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskDto>,
    /// The network interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic: Option<NicDto>,
    /// Per-node replacements of the sections above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<CapacityOverrideDto>,
    /// §6.5 admission control of background tasks; absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_control: Option<AdmissionDto>,
}

/// A distribution of sizes in bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeDto {
    /// `{"constant": {"bytes": 1024}}`
    Constant {
        /// Bytes.
        bytes: f64,
    },
    /// `{"uniform": {"min_bytes": 100, "max_bytes": 10000}}`
    Uniform {
        /// Lower bound.
        min_bytes: f64,
        /// Upper bound.
        max_bytes: f64,
    },
    /// Exponential.
    Exponential {
        /// Mean.
        mean_bytes: f64,
    },
    /// Log-normal.
    Lognormal {
        /// Median.
        median_bytes: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Pareto type I.
    Pareto {
        /// Minimum.
        scale_bytes: f64,
        /// Tail index (> 0).
        shape: f64,
    },
}

/// A latency distribution; milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyDto {
    /// `{"constant": {"ms": 1}}`
    Constant {
        /// Value, ms.
        ms: f64,
    },
    /// `{"uniform": {"min_ms": 0.5, "max_ms": 2}}`
    Uniform {
        /// Lower bound, ms.
        min_ms: f64,
        /// Upper bound, ms.
        max_ms: f64,
    },
    /// Normal truncated at 0.
    Normal {
        /// Mean, ms.
        mean_ms: f64,
        /// Standard deviation, ms.
        stddev_ms: f64,
    },
    /// Exponential.
    Exponential {
        /// Mean, ms.
        mean_ms: f64,
    },
    /// Log-normal.
    Lognormal {
        /// Median, ms.
        median_ms: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Pareto type I.
    Pareto {
        /// Minimum, ms.
        scale_ms: f64,
        /// Tail index (> 0).
        shape: f64,
    },
    /// Weighted mixture.
    Mixture(Vec<MixturePartDto>),
    /// Empirical CDF, inline or from a CSV file (`latency_ms,cumulative_probability`).
    Empirical(EmpiricalDto),
    /// The sum of one independent draw from each part:
    /// `{"sum": [{"constant": {"ms": 75}}, {...}]}`.
    Sum(Vec<LatencyDto>),
    /// A constant added to a distribution: `{"offset": {"ms": 75, "latency": {...}}}`.
    Offset(OffsetDto),
}

/// `offset`: a constant plus a distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffsetDto {
    /// The constant, ms (>= 0).
    pub ms: f64,
    /// The distribution it is added to.
    pub latency: Box<LatencyDto>,
}

/// One part of a mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixturePartDto {
    /// Relative weight (> 0).
    pub weight: f64,
    /// The part.
    pub latency: LatencyDto,
}

/// Empirical CDF points, inline or in a CSV file beside the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmpiricalDto {
    /// `[[latency_ms, cumulative_probability], ...]`, non-decreasing, ending at 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<(f64, f64)>,
    /// A CSV file path, relative to the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
}

/// A probability: a number in [0, 1] or a ratio string `"1/100"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ProbabilityDto {
    /// A fraction.
    Number(f64),
    /// `"a/b"`.
    Ratio(String),
}

impl Default for ProbabilityDto {
    fn default() -> Self {
        ProbabilityDto::Number(0.0)
    }
}

/// Link settings; every field optional in overrides.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDto {
    /// Message delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyDto>,
    /// Per message kind delays (`write_request`, `read_response`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_by_kind: BTreeMap<String, LatencyDto>,
    /// Loss probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<ProbabilityDto>,
    /// Duplication probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<ProbabilityDto>,
    /// In-order delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<bool>,
}

/// A link override between two named things.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkOverrideDto {
    /// The two ends (datacenters for `datacenter_links`; nodes or clients for `links`).
    pub between: (String, String),
    /// The settings that differ from the enclosing level.
    #[serde(flatten)]
    pub link: LinkDto,
}

/// `network`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkDto {
    /// Default link. Latency default: constant 1 ms.
    #[serde(flatten)]
    pub default: LinkDto,
    /// Overrides per datacenter pair (same name twice: within a datacenter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datacenter_links: Vec<LinkOverrideDto>,
    /// Overrides per endpoint pair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOverrideDto>,
}

/// A client count or list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ClientsDto {
    /// `n` clients named `c0..`.
    Count(u32),
    /// Named clients.
    List(Vec<NamedDto>),
}

/// Client routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoutingDto {
    /// Through a load balancer to a random node (default).
    #[default]
    LoadBalancer,
    /// Straight to a coordinator.
    PartitionAware,
    /// Partition-aware, and the client coordinates gets itself (§6.4).
    ClientDriven,
}

/// Arrival process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ArrivalDto {
    /// Poisson arrivals per client.
    OpenLoop {
        /// Operations per second per client.
        rate_per_s: f64,
    },
    /// One operation at a time with think time.
    ClosedLoop {
        /// Pause between operations.
        think_time: LatencyDto,
    },
    /// PBS's experiment: per probe one write, then reads at fixed times
    /// after its commit (`workload.mix` must be absent).
    Probe(ProbeDto),
}

fn one() -> u32 {
    1
}

/// `workload.arrival.probe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeDto {
    /// When the reads start after the write's commit, ms, strictly increasing.
    pub t_grid_ms: Vec<f64>,
    /// Reads started at each t. Default 1.
    #[serde(default = "one")]
    pub reads_per_t: u32,
    /// Probes each client runs at once. Default 1.
    #[serde(default = "one")]
    pub concurrent: u32,
    /// Pause between the end of a probe and the next one in its slot, ms.
    /// Default 0.
    #[serde(default)]
    pub interval_ms: f64,
    /// Which key a probe writes. Default fresh.
    #[serde(default)]
    pub key: ProbeKeyDto,
    /// Where a probe's requests go. Default: as `workload.routing` says.
    #[serde(default)]
    pub coordinator: ProbeCoordinatorDto,
}

/// A probe's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKeyDto {
    /// A key nobody has used (default).
    #[default]
    Fresh,
    /// Drawn from `workload.keys`.
    Sampled,
}

/// A probe's coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProbeCoordinatorDto {
    /// As `workload.routing` says (default).
    #[default]
    Routing,
    /// A node outside the key's top N.
    NonReplica,
}

/// Key popularity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PopularityDto {
    /// Every key equally likely.
    Uniform,
    /// Zipf with this exponent.
    Zipfian(f64),
    /// A hot set.
    Hotspot {
        /// Fraction of keys that are hot.
        hot_keys: f64,
        /// Fraction of requests to hot keys.
        hot_traffic: f64,
    },
}

/// `workload.keys`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysDto {
    /// Number of keys.
    pub count: u64,
    /// Popularity. Default uniform.
    #[serde(default = "KeysDto::default_popularity")]
    pub popularity: PopularityDto,
    /// Load phase: start with every key written once, stored on its top N
    /// replicas and acknowledged at time 0 (a YCSB-style load). Default
    /// false: the store starts empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preload: bool,
}

impl KeysDto {
    pub(super) fn default_popularity() -> PopularityDto {
        PopularityDto::Uniform
    }
}

/// `workload.mix`: relative weights.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixDto {
    /// Plain reads.
    #[serde(default)]
    pub read: f64,
    /// get + put with context.
    #[serde(default)]
    pub read_modify_write: f64,
    /// put without context.
    #[serde(default)]
    pub blind_write: f64,
    /// get + delete with context.
    #[serde(default)]
    pub delete: f64,
}

impl MixDto {
    /// True when no weight is set (the mix of a probe workload).
    pub fn is_empty(&self) -> bool {
        *self == MixDto::default()
    }
}

/// Client-side sibling merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileDto {
    /// Union (shopping cart), default.
    #[default]
    Union,
    /// Keep the sibling with the latest timestamp.
    LastWriterWins,
}

/// `workload`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadDto {
    /// A count or a list of named clients.
    pub clients: ClientsDto,
    /// Routing.
    #[serde(default)]
    pub routing: RoutingDto,
    /// Partition-aware clients refresh their view this often, s. Default 10.
    #[serde(default = "d_refresh_s")]
    pub membership_refresh_s: f64,
    /// Arrival process.
    pub arrival: ArrivalDto,
    /// Keys.
    pub keys: KeysDto,
    /// Operation mix (required, except with a probe arrival, where it must
    /// be absent).
    #[serde(default, skip_serializing_if = "MixDto::is_empty")]
    pub mix: MixDto,
    /// Sibling merge.
    #[serde(default)]
    pub reconcile: ReconcileDto,
    /// Client gives up after this long, ms. Default 2000.
    #[serde(default = "d_client_timeout_ms")]
    pub client_timeout_ms: f64,
    /// Stop after this many operations in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ops: Option<u64>,
    /// Size of each written value; absent = 1024 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_size: Option<SizeDto>,
    /// Client retries of failed operations; absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetriesDto>,
    /// Hedged (speculative) reads; absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedged_reads: Option<HedgedReadsDto>,
}

/// `workload.retries`: a failed or timed-out operation is sent again, the
/// same operation (a retried write is the same write).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetriesDto {
    /// Tries per operation, the first included (2..=10).
    pub attempts: u32,
    /// Wait before the first retry, ms; doubled for each later one. Default 10.
    #[serde(default = "d_backoff_ms")]
    pub backoff_ms: f64,
    /// The longest wait between tries, ms. Default 1000.
    #[serde(default = "d_max_backoff_ms")]
    pub max_backoff_ms: f64,
    /// Retries a client may send, as a fraction of the operations it started,
    /// on top of 10 (Finagle's retry budget). Default 0.2.
    #[serde(default = "d_retry_budget")]
    pub budget: f64,
}

/// `workload.hedged_reads`: a get still unanswered after a delay is also
/// sent to another coordinator; the first reply wins. Exactly one of the
/// two fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HedgedReadsDto {
    /// A fixed delay, ms (Cassandra's `speculative_retry: '10ms'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_ms: Option<f64>,
    /// The client's own get latency at this percentile over its last 1000
    /// successful gets (Cassandra's `'99PERCENTILE'`), in (0, 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_percentile: Option<f64>,
}

/// `{"node": "n3"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeRefDto {
    /// Node name.
    pub node: String,
}

/// `crash`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrashDto {
    /// Node name.
    pub node: String,
    /// Lose the disk too.
    #[serde(default)]
    pub disk_loss: bool,
}

/// `partition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionDto {
    /// Sides: names of nodes, clients or datacenters.
    pub groups: Vec<Vec<String>>,
}

/// `partition_one_way` / `degrade_links` ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OneWayDto {
    /// Senders.
    pub from: Vec<String>,
    /// Receivers.
    pub to: Vec<String>,
}

/// `degrade_links`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradeDto {
    /// One end.
    pub from: Vec<String>,
    /// Other end.
    pub to: Vec<String>,
    /// Both directions. Default true.
    #[serde(default = "yes")]
    pub both_ways: bool,
    /// Added loss.
    #[serde(default)]
    pub extra_loss: ProbabilityDto,
    /// Added delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_latency: Option<LatencyDto>,
}

/// `slow_node`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowNodeDto {
    /// Node name.
    pub node: String,
    /// Extra processing delay per message.
    pub extra_latency: LatencyDto,
}

/// `clock_skew`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSkewDto {
    /// Node name.
    pub node: String,
    /// Offset, ms (negative: behind).
    #[serde(default)]
    pub offset_ms: f64,
    /// Drift, parts per million.
    #[serde(default)]
    pub drift_ppm: i64,
}

/// `join`: a new node joins the ring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinDto {
    /// The new node's name (not a node, client or datacenter name already).
    pub node: String,
    /// Its datacenter (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
}

/// `replace`: a fresh node takes over a member's tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceDto {
    /// The member being replaced.
    pub node: String,
    /// The fresh node's name (a new name).
    pub with: String,
    /// The fresh node's datacenter (default: the replaced node's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<String>,
}

/// `corrupt`: silent corruption (bit rot) of stored versions on one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorruptDto {
    /// Node name.
    pub node: String,
    /// Fraction of the node's stored versions (in `keys`) that are
    /// corrupted, in [0, 1]. Default 1.
    #[serde(default = "CorruptDto::default_fraction")]
    pub fraction: ProbabilityDto,
    /// Only keys in this inclusive range `[first, last]`; absent = every key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<(u64, u64)>,
}

impl CorruptDto {
    pub(super) fn default_fraction() -> ProbabilityDto {
        ProbabilityDto::Number(1.0)
    }
}

/// One scheduled fault: a time, an optional window, and exactly one action.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultDto {
    /// When, seconds.
    pub at_s: f64,
    /// For how long, seconds; the fault is undone at the end (crash → restart,
    /// partition → heal, ...). Absent: it lasts until healed otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_s: Option<f64>,
    /// Crash a node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<CrashDto>,
    /// Restart a crashed node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<NodeRefDto>,
    /// Partition groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionDto>,
    /// Cut one node off from everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate: Option<NodeRefDto>,
    /// One-way partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_one_way: Option<OneWayDto>,
    /// Heal every partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal_all: Option<bool>,
    /// Degrade links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degrade_links: Option<DegradeDto>,
    /// Slow node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_node: Option<SlowNodeDto>,
    /// Clock skew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<ClockSkewDto>,
    /// A new node joins (needs `cluster.membership`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinDto>,
    /// A member leaves for good, handing its keys over (needs `cluster.membership`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decommission: Option<NodeRefDto>,
    /// A fresh node replaces a member (needs `cluster.membership`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<ReplaceDto>,
    /// Silently corrupt stored versions on a node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<CorruptDto>,
    /// The node's request processing gets `factor` times slower (needs
    /// `cluster.capacity.cpu` for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_slowdown: Option<ResourceFaultDto>,
    /// The node's disk gets `factor` times slower (needs a disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_slowdown: Option<ResourceFaultDto>,
    /// The node's disk starts nothing for `for_s` (needs a disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_stall: Option<NodeRefDto>,
    /// The node's network interface carries `factor` times fewer bytes per
    /// second (needs `cluster.capacity.nic` for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_drop: Option<ResourceFaultDto>,
}

/// A gray failure of one node's resource: `factor` times slower.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceFaultDto {
    /// Node name.
    pub node: String,
    /// How many times slower (at least 1).
    pub factor: f64,
}

impl FaultDto {
    /// How many actions are set (a valid fault has exactly one).
    pub(super) fn action_count(&self) -> usize {
        [
            self.crash.is_some(),
            self.restart.is_some(),
            self.partition.is_some(),
            self.isolate.is_some(),
            self.partition_one_way.is_some(),
            self.heal_all.is_some(),
            self.degrade_links.is_some(),
            self.slow_node.is_some(),
            self.clock_skew.is_some(),
            self.join.is_some(),
            self.decommission.is_some(),
            self.replace.is_some(),
            self.corrupt.is_some(),
            self.cpu_slowdown.is_some(),
            self.disk_slowdown.is_some(),
            self.disk_stall.is_some(),
            self.bandwidth_drop.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count()
    }
}

/// `nemesis.crashes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NemesisCrashesDto {
    /// Mean time between failures per node, s.
    pub mtbf_s: f64,
    /// Downtime distribution.
    pub downtime: LatencyDto,
    /// Probability a crash loses the disk.
    #[serde(default)]
    pub disk_loss: ProbabilityDto,
    /// Nodes that may crash (default all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
}

/// Random partition shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartitionShapeDto {
    /// Two random halves.
    #[default]
    RandomHalves,
    /// One node isolated.
    IsolateOne,
}

/// `nemesis.partitions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NemesisPartitionsDto {
    /// Mean time between partitions, s.
    pub mean_interval_s: f64,
    /// Duration distribution.
    pub duration: LatencyDto,
    /// Shape.
    #[serde(default)]
    pub shape: PartitionShapeDto,
}

/// `nemesis.loss`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NemesisLossDto {
    /// Mean time between bursts, s.
    pub mean_interval_s: f64,
    /// Duration distribution.
    pub duration: LatencyDto,
    /// Loss during a burst.
    pub extra_loss: ProbabilityDto,
}

/// `nemesis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NemesisDto {
    /// Start, s. Default 0.
    #[serde(default)]
    pub start_s: f64,
    /// End, s. Default: the workload duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// Random crashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashes: Option<NemesisCrashesDto>,
    /// Random partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<NemesisPartitionsDto>,
    /// Random loss bursts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<NemesisLossDto>,
}

/// `metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsDto {
    /// Bin edges of the t-visibility curve, ms, increasing. Default: fine
    /// logarithmic bins (20 per decade), or exact mass points for a probe
    /// workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_visibility_grid_ms: Option<Vec<f64>>,
    /// Where t-visibility's t starts: `commit` (the coordinator's W-th
    /// acknowledgement, PBS's definition; default) or `client_ack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staleness_origin: Option<StalenessOriginDto>,
    /// Run PBS's WARS model with this many trials beside the simulation and
    /// overlay its prediction in the report (1..=1000000000). Default: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wars_trials: Option<u64>,
    /// Timeline window, s. Default 1.
    #[serde(default = "d_window_s")]
    pub window_s: f64,
    /// A key counts as "over the threshold" in `objects.siblings_per_key`
    /// when a read returned more siblings than this. Default 25 (Riak's
    /// `warn_siblings`).
    #[serde(default = "d_sibling_threshold")]
    pub sibling_threshold: u32,
    /// Retire a write from the checkers' history once it settled this long
    /// ago (s) and storage evidence covers it, whatever later writes its key
    /// gets: memory then follows the window, not the writes, and the checks
    /// that reach past the window are approximated (see the metrics
    /// module's docs, "Retention window"). At least the horizon: twice the
    /// longest an operation can take (the client timeout, per attempt with
    /// retries, plus the backoffs) plus the request timeout. Default: off
    /// (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_window_s: Option<f64>,
}

impl Default for MetricsDto {
    fn default() -> Self {
        MetricsDto {
            t_visibility_grid_ms: None,
            staleness_origin: None,
            wars_trials: None,
            window_s: 1.0,
            sibling_threshold: d_sibling_threshold(),
            retention_window_s: None,
        }
    }
}

/// `metrics.staleness_origin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StalenessOriginDto {
    /// The coordinator's W-th acknowledgement (PBS).
    Commit,
    /// The client receiving the acknowledgement.
    ClientAck,
}

/// A bound: `{"min": 0.999}`, `{"max": 0}` or both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundDto {
    /// Inclusive lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Inclusive upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}
