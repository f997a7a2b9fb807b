//! The fault model: what can go wrong, and when.
//!
//! Faults are verbs ([`FaultAction`]). They come from the scenario's schedule
//! (at time T do X; a fault with a window is undone at its end) and from a
//! random [`Nemesis`] whose rates are turned into faults as the run goes
//! ([`NemesisPlan`]), drawn from the fault stream only, so the nemesis never
//! shifts any other component's randomness. The draws are the ones a
//! schedule compiled up front would make ([`compile_nemesis`] still builds
//! it, for printing and tests), but a run holds at most one pending pair per
//! source, so a tiny `mtbf_s` costs time, not memory.
//!
//! This module decides *when*; `net` and `sim` decide what a fault *does*.

use std::fmt;

use crate::config::ScheduledFault;
use crate::dynamo::protocol::Endpoint;
use crate::engine::ids::{Key, NodeId};
use crate::engine::rng::{Probability, SimRng};
use crate::engine::time::{SimDuration, SimTime};
use crate::world::dist::Latency;

/// Names a partition or degraded link so that a later action can undo it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultId(pub u32);

/// A node resource a gray failure acts on (node capacity).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// Request processing.
    Cpu,
    /// The disk.
    Disk,
    /// The network interface.
    Nic,
}

impl Resource {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Disk => "disk",
            Resource::Nic => "nic",
        }
    }
}

/// One thing that goes wrong (or stops going wrong).
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// The node stops; its volatile state is lost. With `disk_loss`, its
    /// durable state (store and hints) is lost too.
    Crash {
        /// The node.
        node: NodeId,
        /// Lose the disk as well.
        disk_loss: bool,
    },
    /// A crashed node comes back with its durable state.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// Endpoints in different groups cannot reach each other; endpoints in no
    /// group are unaffected.
    Partition {
        /// Identifies it for `Heal`.
        id: FaultId,
        /// The sides.
        groups: Vec<Vec<Endpoint>>,
    },
    /// Messages from `from` to `to` are dropped; the other direction works.
    PartitionOneWay {
        /// Identifies it for `Heal`.
        id: FaultId,
        /// Senders whose messages are dropped.
        from: Vec<Endpoint>,
        /// Receivers that do not get them.
        to: Vec<Endpoint>,
    },
    /// Ends a partition.
    Heal {
        /// The partition.
        id: FaultId,
    },
    /// Extra loss and latency on the links between two sets of endpoints.
    DegradeLinks {
        /// Identifies it for `RestoreLinks`.
        id: FaultId,
        /// One end.
        from: Vec<Endpoint>,
        /// The other end.
        to: Vec<Endpoint>,
        /// Also degrade `to → from`.
        both_ways: bool,
        /// Added loss probability.
        extra_loss: Probability,
        /// Added delay.
        extra_latency: Latency,
    },
    /// Ends a link degradation.
    RestoreLinks {
        /// The degradation.
        id: FaultId,
    },
    /// The node handles every message late by an extra processing delay
    /// (a gray failure).
    SlowNode {
        /// The node.
        node: NodeId,
        /// The extra delay per message received.
        extra: Latency,
    },
    /// The node is no longer slow.
    RestoreNode {
        /// The node.
        node: NodeId,
    },
    /// The node's local clock reads `global + offset + drift * global`.
    ClockSkew {
        /// The node.
        node: NodeId,
        /// Fixed offset, microseconds (may be negative).
        offset_us: i64,
        /// Drift in parts per million of elapsed global time.
        drift_ppm: i64,
    },
    /// An administrator adds a fresh node to the ring (§4.9): it starts,
    /// learns the membership from the seeds, takes tokens per the
    /// partitioning strategy, and the nodes losing ranges transfer them.
    Join {
        /// The new node.
        node: NodeId,
    },
    /// An administrator removes a node: it leaves the ring, hands its keys to
    /// the new owners, then stops serving.
    Decommission {
        /// The leaving node.
        node: NodeId,
    },
    /// A dead node is replaced by a fresh one that takes its tokens; the
    /// surviving replicas stream it the data.
    Replace {
        /// The node being replaced (stopped for good if still up).
        node: NodeId,
        /// The fresh node.
        with: NodeId,
    },
    /// Silent corruption (bit rot): each version in the node's durable
    /// store, for keys in `keys` (all when `None`), is corrupted with
    /// probability `fraction`. Nothing notices until a checksum is checked.
    Corrupt {
        /// The node.
        node: NodeId,
        /// Probability that one stored version is corrupted.
        fraction: Probability,
        /// Inclusive key range, or every key.
        keys: Option<(Key, Key)>,
    },
    /// A gray failure: a node resource gets `factor_permille / 1000` times
    /// slower (service times of the CPU or disk grow, the interface's
    /// bandwidth shrinks) for work that starts from now on.
    SlowResource {
        /// The node.
        node: NodeId,
        /// Which resource.
        resource: Resource,
        /// How many times slower, in thousandths.
        factor_permille: u64,
    },
    /// The resource is back to its configured speed.
    RestoreResource {
        /// The node.
        node: NodeId,
        /// Which resource.
        resource: Resource,
    },
    /// The node's disk starts no operation (those in service finish).
    StallDisk {
        /// The node.
        node: NodeId,
    },
    /// The stall ends: waiting disk jobs start.
    ResumeDisk {
        /// The node.
        node: NodeId,
    },
}

impl FaultAction {
    /// The action's name as in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::Crash { .. } => "crash",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Partition { .. } => "partition",
            FaultAction::PartitionOneWay { .. } => "partition_one_way",
            FaultAction::Heal { .. } => "heal",
            FaultAction::DegradeLinks { .. } => "degrade_links",
            FaultAction::RestoreLinks { .. } => "restore_links",
            FaultAction::SlowNode { .. } => "slow_node",
            FaultAction::RestoreNode { .. } => "restore_node",
            FaultAction::ClockSkew { .. } => "clock_skew",
            FaultAction::Join { .. } => "join",
            FaultAction::Decommission { .. } => "decommission",
            FaultAction::Replace { .. } => "replace",
            FaultAction::Corrupt { .. } => "corrupt",
            FaultAction::SlowResource { .. } => "slow_resource",
            FaultAction::RestoreResource { .. } => "restore_resource",
            FaultAction::StallDisk { .. } => "stall_disk",
            FaultAction::ResumeDisk { .. } => "resume_disk",
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, eps: &[Endpoint]) -> fmt::Result {
    write!(f, "{{")?;
    for (i, e) in eps.iter().enumerate() {
        if i > 0 {
            write!(f, ",")?;
        }
        write!(f, "{e}")?;
    }
    write!(f, "}}")
}

impl fmt::Display for FaultAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultAction::Crash { node, disk_loss } => {
                write!(
                    f,
                    "crash {node}{}",
                    if *disk_loss { " (disk lost)" } else { "" }
                )
            }
            FaultAction::Restart { node } => write!(f, "restart {node}"),
            FaultAction::Partition { id, groups } => {
                write!(f, "partition#{} ", id.0)?;
                for (i, g) in groups.iter().enumerate() {
                    if i > 0 {
                        write!(f, " | ")?;
                    }
                    list(f, g)?;
                }
                Ok(())
            }
            FaultAction::PartitionOneWay { id, from, to } => {
                write!(f, "partition#{} one-way ", id.0)?;
                list(f, from)?;
                write!(f, " -> ")?;
                list(f, to)
            }
            FaultAction::Heal { id } => write!(f, "heal partition#{}", id.0),
            FaultAction::DegradeLinks {
                id,
                from,
                to,
                extra_loss,
                ..
            } => {
                write!(f, "degrade#{} ", id.0)?;
                list(f, from)?;
                write!(f, " - ")?;
                list(f, to)?;
                write!(f, " extra_loss={}", extra_loss.as_f64())
            }
            FaultAction::RestoreLinks { id } => write!(f, "restore degrade#{}", id.0),
            FaultAction::SlowNode { node, .. } => write!(f, "slow {node}"),
            FaultAction::RestoreNode { node } => write!(f, "unslow {node}"),
            FaultAction::ClockSkew {
                node,
                offset_us,
                drift_ppm,
            } => {
                write!(
                    f,
                    "clock_skew {node} offset={offset_us}us drift={drift_ppm}ppm"
                )
            }
            FaultAction::Join { node } => write!(f, "join {node}"),
            FaultAction::Decommission { node } => write!(f, "decommission {node}"),
            FaultAction::Replace { node, with } => write!(f, "replace {node} with {with}"),
            FaultAction::Corrupt {
                node,
                fraction,
                keys,
            } => {
                write!(f, "corrupt {node} fraction={}", fraction.as_f64())?;
                match keys {
                    Some((a, b)) => write!(f, " keys={a}..={b}"),
                    None => Ok(()),
                }
            }
            FaultAction::SlowResource {
                node,
                resource,
                factor_permille,
            } => write!(
                f,
                "{} of {node} x{} slower",
                resource.name(),
                *factor_permille as f64 / 1000.0
            ),
            FaultAction::RestoreResource { node, resource } => {
                write!(f, "{} of {node} restored", resource.name())
            }
            FaultAction::StallDisk { node } => write!(f, "disk of {node} stalls"),
            FaultAction::ResumeDisk { node } => write!(f, "disk of {node} resumes"),
        }
    }
}

/// Random crashes of nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisCrashes {
    /// Mean time between failures of one node.
    pub mtbf: SimDuration,
    /// How long a crashed node stays down.
    pub downtime: Latency,
    /// Probability that a crash also loses the disk.
    pub disk_loss: Probability,
    /// The nodes that may crash (all when empty).
    pub nodes: Vec<NodeId>,
}

/// The shape of a random partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionShape {
    /// The nodes split into two random halves (clients stay connected to all).
    RandomHalves,
    /// One random node is cut off from everyone.
    IsolateOne,
}

/// The sides of a nemesis partition of `node_count` nodes, drawn from `rng`
/// (clients are on no side: they stay connected to every node).
fn partition_groups(
    shape: PartitionShape,
    node_count: u32,
    rng: &mut SimRng,
) -> Vec<Vec<Endpoint>> {
    match shape {
        PartitionShape::RandomHalves => {
            let mut nodes: Vec<NodeId> = (0..node_count).map(NodeId).collect();
            rng.shuffle(&mut nodes);
            let half = nodes.len() / 2;
            let mut a: Vec<Endpoint> = nodes[..half].iter().map(|n| Endpoint::Node(*n)).collect();
            let mut b: Vec<Endpoint> = nodes[half..].iter().map(|n| Endpoint::Node(*n)).collect();
            a.sort();
            b.sort();
            vec![a, b]
        }
        PartitionShape::IsolateOne => {
            let lone = NodeId(rng.below(u64::from(node_count)) as u32);
            let rest = (0..node_count)
                .map(NodeId)
                .filter(|n| *n != lone)
                .map(Endpoint::Node)
                .collect();
            vec![vec![Endpoint::Node(lone)], rest]
        }
    }
}

/// Random partitions.
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisPartitions {
    /// Mean time between partitions.
    pub mean_interval: SimDuration,
    /// How long one lasts.
    pub duration: Latency,
    /// What it looks like.
    pub shape: PartitionShape,
}

/// Random bursts of message loss on every node-to-node link.
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisLoss {
    /// Mean time between bursts.
    pub mean_interval: SimDuration,
    /// How long one lasts.
    pub duration: Latency,
    /// Loss added during a burst.
    pub extra_loss: Probability,
}

/// Random faults with rates, active in `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Nemesis {
    /// When the nemesis starts.
    pub start: SimTime,
    /// When it stops starting new faults (each fault still ends normally).
    pub end: SimTime,
    /// Crashes, if any.
    pub crashes: Option<NemesisCrashes>,
    /// Partitions, if any.
    pub partitions: Option<NemesisPartitions>,
    /// Loss bursts, if any.
    pub loss: Option<NemesisLoss>,
}

/// Fault ids at or above this are the nemesis's own (scenario ids are small).
pub const NEMESIS_FAULT_ID_BASE: u32 = 1 << 20;

/// Where the nemesis's faults come from, in the order the fault stream
/// draws them: one crash source per node that may crash (in the order of
/// `crashes.nodes`, or every node by id), then partitions, then loss
/// bursts. Each source yields `(fault, undo)` pairs in time order.
#[derive(Clone, Debug)]
enum SourceKind {
    Crashes(NodeId),
    Partitions,
    Loss,
}

/// One source of nemesis faults with its own copy of the fault stream,
/// positioned where the eager schedule would have started drawing for it.
#[derive(Clone, Debug)]
struct Source {
    kind: SourceKind,
    rng: SimRng,
    /// The start of the next pair (already drawn; `>= end` means done).
    next_at: SimTime,
    /// The next fault id (partitions and loss bursts).
    next_id: u32,
}

fn exp_draw(rng: &mut SimRng, mean: SimDuration) -> SimDuration {
    SimDuration::from_micros(libm::round(rng.exp_f64(mean.as_micros() as f64)) as u64)
}

impl Source {
    /// Starts a source: draws its first start time from `rng`.
    fn new(kind: SourceKind, nemesis: &Nemesis, mut rng: SimRng, next_id: u32) -> Source {
        let mean = match &kind {
            SourceKind::Crashes(_) => nemesis.crashes.as_ref().map(|c| c.mtbf),
            SourceKind::Partitions => nemesis.partitions.as_ref().map(|p| p.mean_interval),
            SourceKind::Loss => nemesis.loss.as_ref().map(|l| l.mean_interval),
        }
        .expect("a source exists only for a configured kind");
        let next_at = nemesis.start + exp_draw(&mut rng, mean);
        Source {
            kind,
            rng,
            next_at,
            next_id,
        }
    }

    /// The next `(fault, undo)` pair, drawing exactly what the eager
    /// schedule drew for it, in the same order; `None` once the next start
    /// is at or after the nemesis's end.
    fn next_pair(
        &mut self,
        nemesis: &Nemesis,
        node_count: u32,
    ) -> Option<(ScheduledFault, ScheduledFault)> {
        let t = self.next_at;
        if t >= nemesis.end {
            return None;
        }
        let rng = &mut self.rng;
        let (fault, undo, until, mean) = match &self.kind {
            SourceKind::Crashes(node) => {
                let c = nemesis.crashes.as_ref().expect("crash source");
                let node = *node;
                let disk_loss = rng.chance(c.disk_loss);
                let back = t + c.downtime.sample(rng).saturating_add(SimDuration(1));
                (
                    FaultAction::Crash { node, disk_loss },
                    FaultAction::Restart { node },
                    back,
                    c.mtbf,
                )
            }
            SourceKind::Partitions => {
                let p = nemesis.partitions.as_ref().expect("partition source");
                let id = FaultId(self.next_id);
                self.next_id += 1;
                let groups = partition_groups(p.shape, node_count, rng);
                let until = t + p.duration.sample(rng).saturating_add(SimDuration(1));
                (
                    FaultAction::Partition { id, groups },
                    FaultAction::Heal { id },
                    until,
                    p.mean_interval,
                )
            }
            SourceKind::Loss => {
                let l = nemesis.loss.as_ref().expect("loss source");
                let id = FaultId(self.next_id);
                self.next_id += 1;
                let all: Vec<Endpoint> =
                    (0..node_count).map(|n| Endpoint::Node(NodeId(n))).collect();
                let until = t + l.duration.sample(rng).saturating_add(SimDuration(1));
                (
                    FaultAction::DegradeLinks {
                        id,
                        from: all.clone(),
                        to: all,
                        both_ways: true,
                        extra_loss: l.extra_loss,
                        extra_latency: Latency::ZERO,
                    },
                    FaultAction::RestoreLinks { id },
                    until,
                    l.mean_interval,
                )
            }
        };
        self.next_at = until + exp_draw(rng, mean);
        Some((
            ScheduledFault {
                at: t,
                action: fault,
            },
            ScheduledFault {
                at: until,
                action: undo,
            },
        ))
    }
}

/// The nemesis's faults, drawn as the run goes.
///
/// The eager schedule drew every crash of node 0, then every crash of node
/// 1, ..., then every partition, then every loss burst, from one fault
/// stream. To draw the same values lazily, [`NemesisPlan::new`] walks the
/// stream once without keeping anything (time linear in the faults, memory
/// constant), noting where each source starts and how many pairs it yields;
/// the run then asks each source for its next pair when the previous one
/// ends ([`NemesisPlan::next_pair`]). At most one pair per source is
/// pending at a time, so memory is linear in the sources (nodes), not in
/// the faults, whatever the rates.
///
/// Ordering: the eager schedule was sorted by time, stably, so faults at
/// the same instant applied in source order, then in the order a source
/// drew them. [`NemesisPlan::rank`] gives each fault that position, and the
/// engine queues faults by it (see `EventQueue::push_ranked`).
#[derive(Clone, Debug)]
pub struct NemesisPlan {
    nemesis: Nemesis,
    node_count: u32,
    sources: Vec<Source>,
    /// Pairs each source will yield in all.
    pairs: Vec<u64>,
    /// Pairs each source has yielded so far.
    yielded: Vec<u64>,
}

impl NemesisPlan {
    /// Prepares the lazy schedule, advancing `rng` (the fault stream) past
    /// every draw the schedule makes, as compiling it eagerly did.
    pub fn new(nemesis: &Nemesis, node_count: u32, rng: &mut SimRng) -> NemesisPlan {
        let mut kinds = Vec::new();
        if let Some(c) = &nemesis.crashes {
            if c.nodes.is_empty() {
                kinds.extend((0..node_count).map(|n| SourceKind::Crashes(NodeId(n))));
            } else {
                kinds.extend(c.nodes.iter().map(|n| SourceKind::Crashes(*n)));
            }
        }
        if nemesis.partitions.is_some() {
            kinds.push(SourceKind::Partitions);
        }
        if nemesis.loss.is_some() {
            kinds.push(SourceKind::Loss);
        }
        let mut sources = Vec::with_capacity(kinds.len());
        let mut pairs = Vec::with_capacity(kinds.len());
        let mut next_id = NEMESIS_FAULT_ID_BASE;
        for kind in kinds {
            let source = Source::new(kind, nemesis, rng.clone(), next_id);
            let mut walker = source.clone();
            let mut count = 0u64;
            while walker.next_pair(nemesis, node_count).is_some() {
                count += 1;
            }
            *rng = walker.rng;
            next_id = walker.next_id;
            sources.push(source);
            pairs.push(count);
        }
        NemesisPlan {
            nemesis: nemesis.clone(),
            node_count,
            yielded: vec![0; sources.len()],
            sources,
            pairs,
        }
    }

    /// How many sources there are.
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Fault events (faults plus undos) not yet yielded.
    pub fn remaining_events(&self) -> u64 {
        self.pairs
            .iter()
            .zip(&self.yielded)
            .map(|(p, y)| 2 * (p - y))
            .sum()
    }

    /// The next pair of `source`, with the index of the pair within it
    /// (the fault's index is `2 * pair`, the undo's `2 * pair + 1`).
    pub fn next_pair(&mut self, source: usize) -> Option<(u64, ScheduledFault, ScheduledFault)> {
        let pair = self.sources[source].next_pair(&self.nemesis, self.node_count)?;
        let index = self.yielded[source];
        self.yielded[source] += 1;
        debug_assert!(
            self.yielded[source] <= self.pairs[source],
            "the walk counted every pair"
        );
        Some((index, pair.0, pair.1))
    }

    /// The position of a nemesis fault among faults due at the same
    /// instant: after every scheduled fault (rank source 0), then by
    /// source, then by draw order within the source.
    pub fn rank(source: usize, event_index: u64) -> u64 {
        fault_rank(source as u64 + 1, event_index)
    }
}

/// Bits of a fault rank that hold the event's index within its source.
const RANK_INDEX_BITS: u32 = 40;

/// The queue rank of fault `index` of `source` (0 = the scenario's
/// scheduled faults, in file order; 1.. = nemesis sources).
pub fn fault_rank(source: u64, index: u64) -> u64 {
    assert!(
        index < 1 << RANK_INDEX_BITS,
        "fewer than 2^40 faults per source"
    );
    assert!(source < 1 << 22, "fewer than 2^22 fault sources");
    source << RANK_INDEX_BITS | index
}

/// The whole nemesis schedule at once, sorted by time (stable): what a run
/// applies, for printing or tests. Memory is linear in the faults; the
/// engine uses [`NemesisPlan`] instead.
pub fn compile_nemesis(
    nemesis: &Nemesis,
    node_count: u32,
    rng: &mut SimRng,
) -> Vec<ScheduledFault> {
    let mut plan = NemesisPlan::new(nemesis, node_count, rng);
    let mut out = Vec::new();
    for source in 0..plan.source_count() {
        while let Some((_, fault, undo)) = plan.next_pair(source) {
            out.push(fault);
            out.push(undo);
        }
    }
    out.sort_by_key(|f| f.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Stream;

    fn nemesis() -> Nemesis {
        Nemesis {
            start: SimTime::ZERO,
            end: SimTime(600_000_000),
            crashes: Some(NemesisCrashes {
                mtbf: SimDuration::from_secs(60),
                downtime: Latency::Constant { us: 5e6 },
                disk_loss: Probability::NEVER,
                nodes: vec![],
            }),
            partitions: Some(NemesisPartitions {
                mean_interval: SimDuration::from_secs(100),
                duration: Latency::Constant { us: 10e6 },
                shape: PartitionShape::RandomHalves,
            }),
            loss: None,
        }
    }

    /// The eager schedule as it was compiled before faults were drawn
    /// lazily: the reference the lazy plan must reproduce draw for draw.
    fn reference_schedule(
        nemesis: &Nemesis,
        node_count: u32,
        rng: &mut SimRng,
    ) -> Vec<ScheduledFault> {
        let mut out = Vec::new();
        let mut next_id = NEMESIS_FAULT_ID_BASE;
        let exp = |rng: &mut SimRng, mean: SimDuration| {
            SimDuration::from_micros(libm::round(rng.exp_f64(mean.as_micros() as f64)) as u64)
        };
        if let Some(c) = &nemesis.crashes {
            let nodes: Vec<NodeId> = if c.nodes.is_empty() {
                (0..node_count).map(NodeId).collect()
            } else {
                c.nodes.clone()
            };
            for node in nodes {
                let mut t = nemesis.start + exp(rng, c.mtbf);
                while t < nemesis.end {
                    let disk_loss = rng.chance(c.disk_loss);
                    out.push(ScheduledFault {
                        at: t,
                        action: FaultAction::Crash { node, disk_loss },
                    });
                    let back = t + c.downtime.sample(rng).saturating_add(SimDuration(1));
                    out.push(ScheduledFault {
                        at: back,
                        action: FaultAction::Restart { node },
                    });
                    t = back + exp(rng, c.mtbf);
                }
            }
        }
        if let Some(p) = &nemesis.partitions {
            let mut t = nemesis.start + exp(rng, p.mean_interval);
            while t < nemesis.end {
                let id = FaultId(next_id);
                next_id += 1;
                let groups = partition_groups(p.shape, node_count, rng);
                out.push(ScheduledFault {
                    at: t,
                    action: FaultAction::Partition { id, groups },
                });
                let until = t + p.duration.sample(rng).saturating_add(SimDuration(1));
                out.push(ScheduledFault {
                    at: until,
                    action: FaultAction::Heal { id },
                });
                t = until + exp(rng, p.mean_interval);
            }
        }
        if let Some(l) = &nemesis.loss {
            let all: Vec<Endpoint> = (0..node_count).map(|n| Endpoint::Node(NodeId(n))).collect();
            let mut t = nemesis.start + exp(rng, l.mean_interval);
            while t < nemesis.end {
                let id = FaultId(next_id);
                next_id += 1;
                out.push(ScheduledFault {
                    at: t,
                    action: FaultAction::DegradeLinks {
                        id,
                        from: all.clone(),
                        to: all.clone(),
                        both_ways: true,
                        extra_loss: l.extra_loss,
                        extra_latency: Latency::ZERO,
                    },
                });
                let until = t + l.duration.sample(rng).saturating_add(SimDuration(1));
                out.push(ScheduledFault {
                    at: until,
                    action: FaultAction::RestoreLinks { id },
                });
                t = until + exp(rng, l.mean_interval);
            }
        }
        out.sort_by_key(|f| f.at);
        out
    }

    /// Every kind at once, with short means so that equal-time ties occur
    /// (zero downtime and sub-microsecond gaps round to the same instant).
    fn busy_nemesis(shape: PartitionShape, nodes: Vec<NodeId>) -> Nemesis {
        Nemesis {
            start: SimTime(1_000),
            end: SimTime(20_000),
            crashes: Some(NemesisCrashes {
                mtbf: SimDuration::from_micros(3),
                downtime: Latency::Exponential { mean_us: 2.0 },
                disk_loss: Probability::from_f64(0.3).expect("probability"),
                nodes,
            }),
            partitions: Some(NemesisPartitions {
                mean_interval: SimDuration::from_micros(40),
                duration: Latency::Uniform {
                    min_us: 0.0,
                    max_us: 30.0,
                },
                shape,
            }),
            loss: Some(NemesisLoss {
                mean_interval: SimDuration::from_micros(25),
                duration: Latency::Constant { us: 0.0 },
                extra_loss: Probability::from_f64(0.5).expect("probability"),
            }),
        }
    }

    /// Merges the lazy plan the way the engine does: all sources' pairs,
    /// ordered by (time, rank).
    fn lazy_schedule(nemesis: &Nemesis, node_count: u32, rng: &mut SimRng) -> Vec<ScheduledFault> {
        let mut plan = NemesisPlan::new(nemesis, node_count, rng);
        let mut all = Vec::new();
        for s in 0..plan.source_count() {
            while let Some((i, fault, undo)) = plan.next_pair(s) {
                all.push((fault.at, NemesisPlan::rank(s, 2 * i), fault));
                all.push((undo.at, NemesisPlan::rank(s, 2 * i + 1), undo));
            }
        }
        assert_eq!(plan.remaining_events(), 0);
        all.sort_by_key(|(t, r, _)| (*t, *r));
        all.into_iter().map(|(_, _, f)| f).collect()
    }

    #[test]
    fn lazy_plan_draws_exactly_the_eager_schedule_and_leaves_the_stream_where_it_did() {
        for seed in 0..20 {
            for (shape, nodes) in [
                (PartitionShape::RandomHalves, vec![]),
                (
                    PartitionShape::IsolateOne,
                    vec![NodeId(2), NodeId(0), NodeId(2)],
                ),
            ] {
                let n = busy_nemesis(shape, nodes);
                let mut eager_rng = SimRng::new(seed, Stream::Faults);
                let eager = reference_schedule(&n, 5, &mut eager_rng);
                let mut lazy_rng = SimRng::new(seed, Stream::Faults);
                let lazy = lazy_schedule(&n, 5, &mut lazy_rng);
                assert!(eager.len() > 1000, "a busy schedule: {}", eager.len());
                assert_eq!(lazy, eager, "seed {seed}");
                assert_eq!(
                    lazy_rng.below(u64::MAX),
                    eager_rng.below(u64::MAX),
                    "the fault stream ends where it did"
                );
                let ties = eager.windows(2).filter(|w| w[0].at == w[1].at).count();
                assert!(ties > 0, "equal-time faults exercise the ranks");
                let mut compiled_rng = SimRng::new(seed, Stream::Faults);
                assert_eq!(compile_nemesis(&n, 5, &mut compiled_rng), eager);
            }
        }
    }

    #[test]
    fn a_tiny_mtbf_keeps_one_pending_pair_per_source() {
        // 1 s at a 1 µs mean gap (plus 1 µs down): ~500k crash pairs per node.
        let n = Nemesis {
            start: SimTime::ZERO,
            end: SimTime(1_000_000),
            crashes: Some(NemesisCrashes {
                mtbf: SimDuration::from_micros(1),
                downtime: Latency::Constant { us: 0.0 },
                disk_loss: Probability::NEVER,
                nodes: vec![],
            }),
            partitions: None,
            loss: None,
        };
        let mut plan = NemesisPlan::new(&n, 3, &mut SimRng::new(1, Stream::Faults));
        assert_eq!(plan.source_count(), 3);
        let total = plan.remaining_events();
        assert!(total > 1_000_000, "{total}");
        let (_, first, undo) = plan.next_pair(0).expect("a first pair");
        assert!(first.at < undo.at);
        assert_eq!(plan.remaining_events(), total - 2);
    }

    #[test]
    fn nemesis_schedule_is_deterministic_and_paired() {
        let a = compile_nemesis(&nemesis(), 5, &mut SimRng::new(9, Stream::Faults));
        let b = compile_nemesis(&nemesis(), 5, &mut SimRng::new(9, Stream::Faults));
        assert_eq!(a, b);
        let crashes = a
            .iter()
            .filter(|f| matches!(f.action, FaultAction::Crash { .. }))
            .count();
        let restarts = a
            .iter()
            .filter(|f| matches!(f.action, FaultAction::Restart { .. }))
            .count();
        assert!(crashes > 10, "5 nodes, 600 s, mtbf 60 s: {crashes}");
        assert_eq!(crashes, restarts);
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
    }
}
