//! The fault model: what can go wrong, and when.
//!
//! Faults are verbs ([`FaultAction`]). They come from the scenario's schedule
//! (at time T do X; a fault with a window is undone at its end) and from a
//! random [`Nemesis`] whose rates are turned into a concrete schedule at the
//! start of the run, drawn from the fault stream only. Compiling the whole
//! schedule up front means the nemesis never shifts any other component's
//! randomness and the full fault plan can be printed before the run.
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

/// Turns the nemesis's rates into a concrete schedule, drawing only from `rng`
/// (the fault stream). The result is merged with the scheduled faults by time.
pub fn compile_nemesis(
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
            let groups = match p.shape {
                PartitionShape::RandomHalves => {
                    let mut nodes: Vec<NodeId> = (0..node_count).map(NodeId).collect();
                    rng.shuffle(&mut nodes);
                    let half = nodes.len() / 2;
                    let mut a: Vec<Endpoint> =
                        nodes[..half].iter().map(|n| Endpoint::Node(*n)).collect();
                    let mut b: Vec<Endpoint> =
                        nodes[half..].iter().map(|n| Endpoint::Node(*n)).collect();
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
            };
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
