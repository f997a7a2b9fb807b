//! Membership, failure-detection and key-transfer metrics (§4.8, §4.9): the
//! `membership` and `failure_detection` blocks of `summary.json`.
//!
//! A [`Tracker`] is fed by the [`crate::metrics::Collector`] (it is part of
//! the collector's [`sim_core::engine::record::Sink`]) and keeps only small
//! aggregates: one entry per membership change, one per crash window, one
//! delay per detected (crashed peer, observer) pair.
//!
//! Whether a node is *up* is ground truth from the fault records, never a
//! node's own view:
//! - the scenario's initial members are up from the start; nodes that join
//!   later are not up before their `join` (or `replace ... with`);
//! - `crash` → down, `restart` → up;
//! - `join` → up from then on;
//! - `decommission` changes nothing (the leaving node keeps running);
//! - `replace` → the replaced node is down for good (a later `restart` does
//!   not revive it), its replacement is up.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};
use sim_core::config::Scenario;
use sim_core::dynamo::node::NodeStats;
use sim_core::engine::ids::NodeId;
use sim_core::engine::record::Record;
use sim_core::engine::time::SimTime;
use sim_core::world::faults::FaultAction;

/// One administrative membership change and, once observed, its convergence.
#[derive(Clone, Debug)]
struct Change {
    issued: SimTime,
    member: NodeId,
    version: u64,
    change: &'static str,
    /// When every up member knew it, and the gossip rounds that took.
    converged: Option<(SimTime, u32)>,
}

/// A crashed peer's outage: from the crash until its restart, its
/// replacement, or the end of the run.
#[derive(Clone, Debug)]
struct Outage {
    start: SimTime,
    /// Observers (nodes up at the crash) that have not suspected it yet.
    pending: BTreeSet<NodeId>,
}

/// Streams membership, failure-detection and transfer records into metrics.
#[derive(Clone, Debug)]
pub struct Tracker {
    /// Pending ownership: `(node, took its place, received everything,
    /// ranges waited for)`.
    bootstraps: Vec<(NodeId, SimTime, SimTime, Option<SimTime>, u32)>,
    names: Vec<String>,
    up: Vec<bool>,
    replaced: Vec<bool>,
    suspicions: u64,
    false_suspicions: u64,
    trusts: u64,
    /// Open outages by crashed node.
    outages: BTreeMap<NodeId, Outage>,
    /// Detection delays (µs) of the detected (crashed peer, observer) pairs.
    delays_us: Vec<u64>,
    /// Pairs whose outage ended without a suspicion by the observer.
    undetected_closed: u64,
    changes: Vec<Change>,
    offered: u64,
    done: u64,
    keys: u64,
    versions: u64,
    duration_sum_us: u64,
    duration_max_us: u64,
}

fn secs_us(us: u64) -> f64 {
    us as f64 / 1e6
}

fn secs(t: SimTime) -> f64 {
    secs_us(t.as_micros())
}

/// Nearest-rank quantile of sorted values: the smallest value with at least
/// `q` of the values at or below it (the lower median for an even count).
fn nearest_rank(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl Tracker {
    /// A tracker for `scenario`'s nodes: the initial members are up.
    pub fn new(scenario: &Scenario) -> Tracker {
        let nodes = &scenario.cluster.nodes;
        let initial = scenario.cluster.initial_nodes as usize;
        Tracker {
            bootstraps: Vec::new(),
            names: nodes.iter().map(|n| n.name.clone()).collect(),
            up: (0..nodes.len()).map(|i| i < initial).collect(),
            replaced: vec![false; nodes.len()],
            suspicions: 0,
            false_suspicions: 0,
            trusts: 0,
            outages: BTreeMap::new(),
            delays_us: Vec::new(),
            undetected_closed: 0,
            changes: Vec::new(),
            offered: 0,
            done: 0,
            keys: 0,
            versions: 0,
            duration_sum_us: 0,
            duration_max_us: 0,
        }
    }

    fn is_up(&self, node: NodeId) -> bool {
        self.up.get(node.0 as usize).copied().unwrap_or(false)
    }

    fn set_up(&mut self, node: NodeId, up: bool) {
        if let Some(slot) = self.up.get_mut(node.0 as usize) {
            *slot = up;
        }
    }

    fn name(&self, node: NodeId) -> String {
        self.names
            .get(node.0 as usize)
            .cloned()
            .unwrap_or_else(|| node.to_string())
    }

    /// Ends `node`'s outage: observers that never suspected it are undetected.
    fn close_outage(&mut self, node: NodeId) {
        if let Some(o) = self.outages.remove(&node) {
            self.undetected_closed += o.pending.len() as u64;
        }
    }

    /// Tracks which nodes are up.
    pub fn on_fault(&mut self, at: SimTime, action: &FaultAction) {
        match action {
            FaultAction::Crash { node, .. } => {
                if self.is_up(*node) {
                    let pending = (0..self.up.len() as u32)
                        .map(NodeId)
                        .filter(|q| q != node && self.is_up(*q))
                        .collect();
                    self.outages.insert(*node, Outage { start: at, pending });
                }
                self.set_up(*node, false);
            }
            FaultAction::Restart { node } => {
                if !self.replaced.get(node.0 as usize).copied().unwrap_or(false) {
                    self.close_outage(*node);
                    self.set_up(*node, true);
                }
            }
            FaultAction::Join { node } => self.set_up(*node, true),
            FaultAction::Decommission { .. } => {}
            FaultAction::Replace { node, with } => {
                self.close_outage(*node);
                self.set_up(*node, false);
                if let Some(r) = self.replaced.get_mut(node.0 as usize) {
                    *r = true;
                }
                self.set_up(*with, true);
            }
            FaultAction::Partition { .. }
            | FaultAction::PartitionOneWay { .. }
            | FaultAction::Heal { .. }
            | FaultAction::DegradeLinks { .. }
            | FaultAction::RestoreLinks { .. }
            | FaultAction::SlowNode { .. }
            | FaultAction::RestoreNode { .. }
            | FaultAction::ClockSkew { .. }
            | FaultAction::SlowResource { .. }
            | FaultAction::RestoreResource { .. }
            | FaultAction::StallDisk { .. }
            | FaultAction::ResumeDisk { .. } => {}
        }
    }

    /// Takes the membership, failure-detection and transfer records; ignores
    /// the rest.
    pub fn record(&mut self, at: SimTime, record: &Record) {
        match record {
            Record::PeerSuspected { by, peer } => {
                self.suspicions += 1;
                if self.is_up(*peer) {
                    self.false_suspicions += 1;
                }
                if let Some(o) = self.outages.get_mut(peer) {
                    if o.pending.remove(by) {
                        self.delays_us
                            .push(at.saturating_since(o.start).as_micros());
                    }
                }
            }
            Record::PeerTrusted { .. } => self.trusts += 1,
            Record::MembershipChange {
                member,
                version,
                change,
                ..
            } => self.changes.push(Change {
                issued: at,
                member: *member,
                version: *version,
                change,
                converged: None,
            }),
            Record::MembershipConverged {
                member,
                version,
                rounds,
                ..
            } => {
                for c in self.changes.iter_mut().filter(|c| {
                    c.member == *member
                        && c.version == *version
                        && c.converged.is_none()
                        && c.issued <= at
                }) {
                    c.converged = Some((at, *rounds));
                }
            }
            Record::TransferOffered { .. } => self.offered += 1,
            Record::BootstrapDone {
                node,
                started,
                first_offer,
                ranges,
            } => self
                .bootstraps
                .push((*node, *started, at, *first_offer, *ranges)),
            Record::TransferDone {
                keys,
                versions,
                offered,
                ..
            } => {
                self.done += 1;
                self.keys += u64::from(*keys);
                self.versions += u64::from(*versions);
                let d = at.saturating_since(*offered).as_micros();
                self.duration_sum_us += d;
                self.duration_max_us = self.duration_max_us.max(d);
            }
            _ => {}
        }
    }

    /// The `membership` block. `node_stats` are the run's per-node counters
    /// (gossip traffic, keys handed over).
    pub fn membership(&self, scenario: &Scenario, node_stats: &[NodeStats]) -> Json {
        let sum = |f: fn(&NodeStats) -> u64| node_stats.iter().map(f).sum::<u64>();
        let changes: Vec<Json> = self
            .changes
            .iter()
            .map(|c| {
                json!({
                    "member": self.name(c.member),
                    "change": c.change,
                    "version": c.version,
                    "issued_s": secs(c.issued),
                    "converged_s": c.converged.map(|(t, _)| secs_us(t.saturating_since(c.issued).as_micros())),
                    "rounds": c.converged.map(|(_, r)| r),
                })
            })
            .collect();
        let converged: Vec<(u64, u32)> = self
            .changes
            .iter()
            .filter_map(|c| {
                c.converged
                    .map(|(t, r)| (t.saturating_since(c.issued).as_micros(), r))
            })
            .collect();
        let dur = |v: Option<u64>| v.map(secs_us);
        json!({
            "gossip": {
                "enabled": scenario.cluster.membership.is_some(),
                "messages": sum(|s| s.gossip_sent),
                "bytes": sum(|s| s.gossip_bytes),
            },
            "changes_issued": self.changes.len(),
            "changes": changes,
            "convergence_max_s": dur(converged.iter().map(|(d, _)| *d).max()),
            "rounds_max": converged.iter().map(|(_, r)| *r).max(),
            "unconverged": self.changes.len() - converged.len(),
            "transfers": {
                "offered": self.offered,
                "done": self.done,
                "keys": self.keys,
                "versions": self.versions,
                "duration_mean_s": (self.done > 0).then(|| secs_us(self.duration_sum_us) / self.done as f64),
                "duration_max_s": dur((self.done > 0).then_some(self.duration_max_us)),
                "keys_sent": sum(|s| s.transfer_keys_sent),
            },
            "bootstraps": self.bootstraps.iter().map(|(node, start, done, offer, ranges)| json!({
                "node": self.name(*node),
                "started_s": secs(*start),
                "done_s": secs(*done),
                "duration_s": secs_us(done.saturating_since(*start).as_micros()),
                "transfer_s": offer.map(|o| secs_us(done.saturating_since(o).as_micros())),
                "ranges": ranges,
            })).collect::<Vec<_>>(),
            "decommissions": self.decommissions().iter().map(|(node, start, left)| json!({
                "node": self.name(*node),
                "started_s": secs(*start),
                "left_s": left.map(secs),
                "duration_s": left.map(|l| secs_us(l.saturating_since(*start).as_micros())),
            })).collect::<Vec<_>>(),
        })
    }

    /// Each decommission: the member, when it began leaving, when it had
    /// handed everything over and left (if it did).
    pub fn decommissions(&self) -> Vec<(NodeId, SimTime, Option<SimTime>)> {
        self.changes
            .iter()
            .filter(|c| c.change == "leave")
            .map(|c| {
                let left = self
                    .changes
                    .iter()
                    .find(|l| l.change == "left" && l.member == c.member && l.issued >= c.issued)
                    .map(|l| l.issued);
                (c.member, c.issued, left)
            })
            .collect()
    }

    /// Each completed bootstrap (pending ownership): `(node, started, done)`.
    pub fn bootstrap_windows(&self) -> Vec<(NodeId, SimTime, SimTime)> {
        self.bootstraps
            .iter()
            .map(|(n, s, d, _, _)| (*n, *s, *d))
            .collect()
    }

    /// The `failure_detection` block.
    ///
    /// - `false_suspicions`: suspicions of a peer that was up at the time. A
    ///   peer cut off by a network partition (or slow, or behind lossy links)
    ///   is up, so suspecting it counts as false: this measures the
    ///   detector's accuracy against crashes, not against reachability.
    /// - `detection_delay_s`: for every crash of a node P that was up, the
    ///   observers are the nodes up at the crash (ids of the scenario's
    ///   nodes, P excluded). For each observer Q, the delay is from the crash
    ///   to Q's first suspicion of P before P's restart, replacement or the
    ///   end of the run. An observer that crashes meanwhile stays an
    ///   observer, and a suspicion from before the crash does not count.
    ///   `p50` is the nearest-rank median (the lower one for an even count).
    /// - `undetected`: (crash, observer) pairs with no such suspicion.
    pub fn failure_detection(&self) -> Json {
        let mut delays = self.delays_us.clone();
        delays.sort_unstable();
        let undetected = self.undetected_closed
            + self
                .outages
                .values()
                .map(|o| o.pending.len() as u64)
                .sum::<u64>();
        let mean =
            (!delays.is_empty()).then(|| secs_us(delays.iter().sum::<u64>()) / delays.len() as f64);
        json!({
            "suspicions": self.suspicions,
            "false_suspicions": self.false_suspicions,
            "trusts": self.trusts,
            "detection_delay_s": {
                "count": delays.len(),
                "p50": nearest_rank(&delays, 0.5).map(secs_us),
                "max": delays.last().copied().map(secs_us),
                "mean": mean,
            },
            "undetected": undetected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{FailureDetectorKind, MembershipConfig};
    use sim_core::engine::time::SimDuration;

    fn scenario(nodes: u32) -> Scenario {
        let text = format!(
            r#"{{"name":"t","duration_s":10,"cluster":{{"nodes":{nodes},"quorum":{{"n":3,"r":2,"w":2}}}},
            "workload":{{"clients":1,"arrival":{{"open_loop":{{"rate_per_s":1}}}},"keys":{{"count":1}},"mix":{{"read":1}}}}}}"#
        );
        sim_core::scenario::parse(&text, &sim_core::scenario::no_files).expect("valid")
    }

    const S: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * 1000)
    }

    #[test]
    fn an_empty_run_has_zeros_and_nulls() {
        let s = scenario(4);
        let tr = Tracker::new(&s);
        let m = tr.membership(&s, &[NodeStats::default(); 4]);
        assert_eq!(
            m,
            json!({
                "gossip": {"enabled": false, "messages": 0, "bytes": 0},
                "changes_issued": 0,
                "changes": [],
                "convergence_max_s": null,
                "rounds_max": null,
                "unconverged": 0,
                "transfers": {"offered": 0, "done": 0, "keys": 0, "versions": 0,
                    "duration_mean_s": null, "duration_max_s": null, "keys_sent": 0},
                "bootstraps": [],
                "decommissions": [],
            })
        );
        assert_eq!(
            tr.failure_detection(),
            json!({
                "suspicions": 0, "false_suspicions": 0, "trusts": 0,
                "detection_delay_s": {"count": 0, "p50": null, "max": null, "mean": null},
                "undetected": 0,
            })
        );
    }

    #[test]
    fn a_joiner_is_not_up_before_its_join_and_a_replaced_node_stays_down() {
        let mut s = scenario(4);
        s.cluster.initial_nodes = 3;
        let mut tr = Tracker::new(&s);
        let suspect = |tr: &mut Tracker, at, peer| {
            tr.record(
                at,
                &Record::PeerSuspected {
                    by: NodeId(0),
                    peer: NodeId(peer),
                },
            )
        };
        suspect(&mut tr, t(100), 3); // not a member yet: a true suspicion
        tr.on_fault(t(200), &FaultAction::Join { node: NodeId(3) });
        suspect(&mut tr, t(300), 3); // up: false
        tr.on_fault(t(400), &FaultAction::Decommission { node: NodeId(3) });
        suspect(&mut tr, t(500), 3); // still running: false
        tr.on_fault(
            t(600),
            &FaultAction::Replace {
                node: NodeId(1),
                with: NodeId(3),
            },
        );
        tr.on_fault(t(700), &FaultAction::Restart { node: NodeId(1) });
        suspect(&mut tr, t(800), 1); // replaced for good: true
        let fd = tr.failure_detection();
        assert_eq!(fd["suspicions"], json!(4));
        assert_eq!(fd["false_suspicions"], json!(2));
        // No crash, so no detection pairs.
        assert_eq!(fd["detection_delay_s"]["count"], json!(0));
        assert_eq!(fd["undetected"], json!(0));
    }

    #[test]
    fn gossip_and_keys_sent_come_from_node_stats() {
        let mut s = scenario(3);
        s.cluster.membership = Some(MembershipConfig {
            gossip_interval: SimDuration(S),
            seeds: vec![NodeId(0)],
            failure_detector: FailureDetectorKind::Local,
            transfer_batch: 100,
            reads_during_transfer: sim_core::config::ReadsDuringTransfer::Served,
        });
        let tr = Tracker::new(&s);
        let stats: Vec<NodeStats> = (1..=3)
            .map(|i| NodeStats {
                gossip_sent: i,
                gossip_bytes: 100 * i,
                transfer_keys_sent: 10 * i,
                ..NodeStats::default()
            })
            .collect();
        let m = tr.membership(&s, &stats);
        assert_eq!(
            m["gossip"],
            json!({"enabled": true, "messages": 6, "bytes": 600})
        );
        assert_eq!(m["transfers"]["keys_sent"], json!(60));
    }
}
