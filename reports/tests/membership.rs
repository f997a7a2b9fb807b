//! Gossip membership, joins, leaves, replacement and key transfer (§4.8,
//! §4.9), end to end through the engine and the checkers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use reports::metrics::Collector;
use serde_json::{json, Value as Json};
use sim_core::config::{FailureDetectorKind, MembershipConfig, NodeSpec, Scenario, ScheduledFault};
use sim_core::engine::ids::{Key, NodeId};
use sim_core::engine::record::Record;
use sim_core::engine::time::{SimDuration, SimTime};
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;
use sim_core::world::faults::FaultAction;

fn doc(nodes: u32, rate: f64, duration_s: u64) -> Json {
    json!({
        "name": "membership",
        "rng_seed": 7,
        "duration_s": duration_s,
        "quiescence": { "duration_s": 20, "heal_faults": true },
        "cluster": {
            "nodes": nodes,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "partitioning": { "strategy": "random_tokens", "tokens_per_node": 8 }
        },
        "network": { "latency": { "normal": { "mean_ms": 1.0, "stddev_ms": 0.3 } } },
        "workload": {
            "clients": 4,
            "arrival": { "open_loop": { "rate_per_s": rate } },
            "keys": { "count": 400 },
            "mix": { "read": 0.3, "read_modify_write": 0.4, "blind_write": 0.3 }
        }
    })
}

/// Anti-entropy stays off unless a test turns it on, so the key transfers
/// of §4.9 alone must move the data.
/// Parses `doc` with `seed`, turns gossip membership on (seed node n0),
/// appends `joiners` fresh nodes and schedules `faults`.
fn scenario(
    doc: &Json,
    seed: u64,
    joiners: u32,
    detector: FailureDetectorKind,
    faults: Vec<(f64, FaultAction)>,
) -> Arc<Scenario> {
    let mut s = parse(&doc.to_string(), &no_files).expect("valid scenario");
    s.rng_seed = seed;
    s.cluster.membership = Some(MembershipConfig {
        gossip_interval: SimDuration::from_millis(1000),
        seeds: vec![NodeId(0)],
        failure_detector: detector,
        transfer_batch: 64,
        reads_during_transfer: sim_core::config::ReadsDuringTransfer::Served,
    });
    for _ in 0..joiners {
        let id = s.cluster.nodes.len();
        s.cluster.nodes.push(NodeSpec {
            name: format!("n{id}"),
            datacenter: s.cluster.nodes[0].datacenter,
        });
    }
    for (at, action) in faults {
        s.faults.push(ScheduledFault {
            at: SimTime::ZERO + SimDuration::from_micros((at * 1e6) as u64),
            action,
        });
    }
    s.faults.sort_by_key(|f| f.at);
    Arc::new(s)
}

struct Run {
    summary: Json,
    records: Vec<(SimTime, Record)>,
    final_ring: Arc<sim_core::dynamo::ring::Ring>,
}

fn run(s: Arc<Scenario>) -> Run {
    let sim = Simulation::new(s.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&s);
    let outcome = sim.run(&mut collector, None);
    let final_ring = outcome
        .final_ring
        .clone()
        .expect("gossip mode has a final ring");
    let summary = reports::report::summary(&s, &outcome, &collector, &ring);
    let mut records = Vec::new();
    let again = Simulation::new(s).run(&mut records, None);
    assert_eq!(again.trace_hash, outcome.trace_hash, "deterministic");
    Run {
        summary,
        records,
        final_ring,
    }
}

fn n(summary: &Json, path: &str) -> f64 {
    reports::expect::lookup(summary, path).unwrap_or_else(|| panic!("no metric {path}"))
}

/// Values each node holds at the end, per key.
fn holdings(records: &[(SimTime, Record)]) -> BTreeMap<Key, BTreeMap<NodeId, usize>> {
    let mut held: BTreeMap<Key, BTreeMap<NodeId, usize>> = BTreeMap::new();
    for (_, r) in records {
        if let Record::FinalValues {
            node, key, values, ..
        } = r
        {
            held.entry(*key).or_default().insert(*node, values.len());
        }
    }
    held
}

fn converged_rounds(records: &[(SimTime, Record)], member: NodeId) -> Option<u32> {
    records.iter().find_map(|(_, r)| match r {
        Record::MembershipConverged {
            member: m, rounds, ..
        } if *m == member => Some(*rounds),
        _ => None,
    })
}

#[test]
fn a_node_joins_a_16_node_cluster_under_load_and_takes_its_keys() {
    for seed in 1..=3 {
        let s = scenario(
            &doc(16, 200.0, 30),
            seed,
            1,
            FailureDetectorKind::Local,
            vec![(10.0, FaultAction::Join { node: NodeId(16) })],
        );
        let r = run(s);
        let joiner = NodeId(16);
        assert!(
            r.final_ring.nodes().contains(&joiner),
            "seed {seed}: the joiner is in the final ring"
        );
        assert!(
            n(&r.summary, "availability") >= 0.999,
            "seed {seed}: reads and writes keep working during the transfer"
        );
        assert!(
            converged_rounds(&r.records, joiner).is_some(),
            "seed {seed}: the join spread"
        );
        assert_eq!(n(&r.summary, "durability.lost"), 0.0, "seed {seed}");
        let held = holdings(&r.records);
        let mut owned = 0;
        for (key, nodes) in &held {
            let top: Vec<NodeId> = r.final_ring.preference_list(*key)[..3].to_vec();
            if !top.contains(&joiner) {
                continue;
            }
            owned += 1;
            assert!(
                nodes.get(&joiner).is_some_and(|c| *c > 0),
                "seed {seed}: {key:?} is owned by the joiner (top {top:?}) but it holds nothing; holders {nodes:?}"
            );
        }
        assert!(
            owned > 20,
            "seed {seed}: the joiner owns a share of the keys ({owned})"
        );
        let done = r
            .records
            .iter()
            .filter(|(_, r)| matches!(r, Record::TransferDone { target, .. } if *target == joiner))
            .count();
        assert!(done > 0, "seed {seed}: keys were transferred to the joiner");
    }
}

#[test]
fn a_decommissioned_node_hands_over_its_keys_and_leaves() {
    for seed in 1..=3 {
        let leaver = NodeId(3);
        let s = scenario(
            &doc(8, 200.0, 30),
            seed,
            0,
            FailureDetectorKind::Local,
            vec![(10.0, FaultAction::Decommission { node: leaver })],
        );
        let r = run(s);
        assert!(
            !r.final_ring.nodes().contains(&leaver),
            "seed {seed}: the leaver is out of the ring"
        );
        let left = r.records.iter().any(|(_, x)| {
            matches!(x, Record::MembershipChange { member, change: "left", .. } if *member == leaver)
        });
        assert!(
            left,
            "seed {seed}: the leaver finished its transfers and left"
        );
        assert_eq!(n(&r.summary, "durability.lost"), 0.0, "seed {seed}");
        let held = holdings(&r.records);
        let still: Vec<&Key> = held
            .iter()
            .filter(|(_, nodes)| nodes.get(&leaver).is_some_and(|c| *c > 0))
            .map(|(k, _)| k)
            .collect();
        assert!(
            still.is_empty(),
            "seed {seed}: the leaver still holds {} keys",
            still.len()
        );
        for (key, nodes) in &held {
            let top = &r.final_ring.preference_list(*key)[..3];
            let on_owners = top.iter().filter(|o| nodes.contains_key(o)).count();
            assert!(
                on_owners >= 2,
                "seed {seed}: {key:?} on {on_owners} of its owners {top:?}"
            );
        }
    }
}

#[test]
fn a_dead_node_replaced_by_a_fresh_one_loses_nothing() {
    for seed in 1..=3 {
        let s = scenario(
            &doc(8, 200.0, 30),
            seed,
            1,
            FailureDetectorKind::Local,
            vec![
                (
                    8.0,
                    FaultAction::Crash {
                        node: NodeId(2),
                        disk_loss: true,
                    },
                ),
                (
                    10.0,
                    FaultAction::Replace {
                        node: NodeId(2),
                        with: NodeId(8),
                    },
                ),
            ],
        );
        let r = run(s);
        let nodes: BTreeSet<NodeId> = r.final_ring.nodes().iter().copied().collect();
        assert!(
            nodes.contains(&NodeId(8)) && !nodes.contains(&NodeId(2)),
            "seed {seed}: {nodes:?}"
        );
        assert_eq!(n(&r.summary, "durability.lost"), 0.0, "seed {seed}");
        let held = holdings(&r.records);
        for (key, holders) in &held {
            let top = &r.final_ring.preference_list(*key)[..3];
            if top.contains(&NodeId(8)) {
                assert!(
                    holders.contains_key(&NodeId(8)),
                    "seed {seed}: {key:?} not streamed to the replacement"
                );
            }
        }
    }
}

#[test]
fn gossip_spreads_a_join_in_logarithmically_many_rounds() {
    let mut rounds = Vec::new();
    for nodes in [16u32, 64, 256] {
        let mut per_seed = Vec::new();
        for seed in 1..=3 {
            let s = scenario(
                &doc(nodes, 10.0, 20),
                seed,
                1,
                FailureDetectorKind::Local,
                vec![(
                    5.0,
                    FaultAction::Join {
                        node: NodeId(nodes),
                    },
                )],
            );
            let mut records = Vec::new();
            Simulation::new(s).run(&mut records, None);
            per_seed.push(converged_rounds(&records, NodeId(nodes)).expect("the join converged"));
        }
        let mean = per_seed.iter().sum::<u32>() as f64 / per_seed.len() as f64;
        println!("nodes {nodes}: rounds {per_seed:?} mean {mean}");
        rounds.push(mean);
    }
    // Each quadrupling adds about 2 log2 steps of epidemic spread, not 4x.
    let (r16, r64, r256) = (rounds[0], rounds[1], rounds[2]);
    assert!(r64 <= r16 + 6.0, "16 -> 64 nodes: {r16} -> {r64}");
    assert!(r256 <= r64 + 6.0, "64 -> 256 nodes: {r64} -> {r256}");
    assert!(r256 < 4.0 * r16, "not linear: {r16} -> {r256}");
}

/// With no client traffic after the change and anti-entropy off, only the
/// §4.9 transfer can put the keys on the new owner.
#[test]
fn after_the_writes_stop_transfer_alone_moves_every_key_to_a_joiner_and_a_replacement() {
    for seed in 1..=2 {
        let s = scenario(
            &doc(8, 200.0, 10),
            seed,
            2,
            FailureDetectorKind::Local,
            vec![
                (12.0, FaultAction::Join { node: NodeId(8) }),
                // After the join's transfers: a giver replaced before it
                // handed over leaves the gap to anti-entropy (off here).
                (
                    20.0,
                    FaultAction::Replace {
                        node: NodeId(5),
                        with: NodeId(9),
                    },
                ),
            ],
        );
        let r = run(s);
        assert_eq!(n(&r.summary, "durability.lost"), 0.0, "seed {seed}");
        let held = holdings(&r.records);
        for new in [NodeId(8), NodeId(9)] {
            let mut owned = 0;
            for (key, holders) in &held {
                if r.final_ring.preference_list(*key)[..3].contains(&new) {
                    owned += 1;
                    assert!(
                        holders.contains_key(&new),
                        "seed {seed}: {new} owns {key:?} but does not hold it"
                    );
                }
            }
            assert!(owned > 20, "seed {seed}: {new} owns {owned} keys");
        }
    }
}

fn phi() -> FailureDetectorKind {
    FailureDetectorKind::PhiAccrual {
        threshold: 8.0,
        window: 100,
        min_stddev: SimDuration::from_millis(500),
    }
}

/// Positive control for the phi-accrual detector: a crash is noticed by
/// every other node within a few gossip intervals (indirect heartbeats
/// arrive in whole rounds, so the default 500 ms deviation floor keeps the
/// healthy case free of false suspicions; see the negative control).
#[test]
fn phi_accrual_detects_a_crash_everywhere_within_seconds() {
    for seed in 1..=3 {
        let s = scenario(
            &doc(8, 50.0, 30),
            seed,
            0,
            phi(),
            vec![
                (
                    10.0,
                    FaultAction::Crash {
                        node: NodeId(2),
                        disk_loss: false,
                    },
                ),
                (20.0, FaultAction::Restart { node: NodeId(2) }),
            ],
        );
        let r = run(s);
        let s = &r.summary;
        println!(
            "seed {seed}: detected {} max {} s, undetected {}, false {}",
            n(s, "failure_detection.detection_delay_s.count"),
            n(s, "failure_detection.detection_delay_s.max"),
            n(s, "failure_detection.undetected"),
            n(s, "failure_detection.false_suspicions"),
        );
        assert_eq!(
            n(s, "failure_detection.detection_delay_s.count"),
            7.0,
            "seed {seed}"
        );
        assert_eq!(n(s, "failure_detection.undetected"), 0.0, "seed {seed}");
        assert!(
            n(s, "failure_detection.detection_delay_s.max") < 12.0,
            "seed {seed}"
        );
        assert_eq!(n(s, "durability.lost"), 0.0, "seed {seed}");
    }
}

/// Negative control: on a healthy network neither detector suspects anyone.
#[test]
fn neither_detector_suspects_a_healthy_node() {
    for seed in 1..=4 {
        for detector in [FailureDetectorKind::Local, phi()] {
            let s = scenario(&doc(8, 50.0, 30), seed, 0, detector, Vec::new());
            let r = run(s);
            assert_eq!(
                n(&r.summary, "failure_detection.suspicions"),
                0.0,
                "seed {seed} {detector:?}"
            );
            assert!(n(&r.summary, "membership.gossip.messages") > 100.0);
        }
    }
}
