//! Anti-entropy exchange scheduling (§4.7): with `partners: round_robin` a
//! node meets every other replica of every range it replicates once per
//! cycle of `R × (N − 1)` rounds, the bound the module docs state.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::json;
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::NodeId;
use sim_core::engine::trace::{TraceEvent, TraceKind, Tracer};
use sim_core::scenario::parse;
use sim_core::sim::Simulation;

fn no_files(_: &str) -> Result<String, String> {
    Err("no files".into())
}

/// Every exchange a node starts: (initiator, range, peer), in order.
#[derive(Default)]
struct Roots(Vec<(NodeId, u32, NodeId)>);

impl Tracer for Roots {
    fn event(&mut self, e: &TraceEvent<'_>) {
        if e.kind != TraceKind::Send || e.label != "anti_entropy" {
            return;
        }
        let details = e.details.to_string();
        let Some(range) = details
            .strip_prefix("ae_root ")
            .and_then(|d| d.split("range=").nth(1))
            .and_then(|r| r.trim().parse::<u32>().ok())
        else {
            return;
        };
        if let (Some(Endpoint::Node(from)), Some(Endpoint::Node(to))) = (e.from, e.at) {
            self.0.push((from, range, to));
        }
    }
}

/// A healthy static cluster with anti-entropy every 100 ms and a trickle
/// of reads (a workload is required), running `rounds` rounds.
fn scenario(nodes: u32, n: u32, partitions: u32, rounds: u64, partners: &str) -> String {
    json!({
        "name": "ae-schedule",
        "duration_s": rounds as f64 * 0.1 + 0.05,
        "cluster": {
            "nodes": nodes,
            "quorum": { "n": n, "r": 1, "w": 1 },
            "partitioning": { "strategy": "equal_partitions", "partitions": partitions },
            "anti_entropy": { "interval_ms": 100, "partners": partners }
        },
        "network": { "latency": { "constant": { "ms": 1 } } },
        "workload": {
            "clients": 1,
            "arrival": { "open_loop": { "rate_per_s": 1 } },
            "keys": { "count": 10 },
            "mix": { "read": 1.0 }
        }
    })
    .to_string()
}

/// Per (range, peer) pair a node should meet: how often it did in the
/// cycle; and how many exchanges went to pairs it does not share.
type Cycle = (BTreeMap<(u32, NodeId), u32>, usize);

/// For each node, how many of its first `R × (N − 1)` exchanges went to
/// each (range, peer) pair it should meet, and the pairs it met that are
/// not its own.
fn first_cycle(nodes: u32, n: u32, partitions: u32, partners: &str) -> BTreeMap<NodeId, Cycle> {
    // Enough rounds for the longest cycle.
    let rounds = u64::from(partitions * (n - 1).max(1)) + 2;
    let text = scenario(nodes, n, partitions, rounds, partners);
    let scenario = Arc::new(parse(&text, &no_files).expect("valid"));
    let sim = Simulation::new(scenario);
    let ring = sim.ring().clone();
    let mut roots = Roots::default();
    sim.run(&mut sim_core::engine::record::NullSink, Some(&mut roots));
    let mut out = BTreeMap::new();
    for i in 0..nodes {
        let node = NodeId(i);
        let mut want: BTreeMap<(u32, NodeId), u32> = BTreeMap::new();
        for r in ring.ranges_replicated_by(node) {
            for p in ring
                .preference_list_of_range(r)
                .iter()
                .take(n as usize)
                .filter(|p| **p != node)
            {
                want.insert((r.0, *p), 0);
            }
        }
        let cycle = want.len();
        let mut stray = 0;
        for (_, range, peer) in roots
            .0
            .iter()
            .filter(|(from, _, _)| *from == node)
            .take(cycle)
        {
            match want.get_mut(&(*range, *peer)) {
                Some(c) => *c += 1,
                None => stray += 1,
            }
        }
        out.insert(node, (want, stray));
    }
    out
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0xae_5eed),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Round-robin: in its first R × (N − 1) exchanges a node meets every
    /// (range, other replica) pair exactly once, for any cluster shape.
    #[test]
    fn round_robin_meets_every_replica_of_every_range_once_per_cycle(
        nodes in 2u32..10,
        n_pick in 0u32..4,
        partitions in prop::sample::select(vec![16u32, 32, 64]),
    ) {
        let n = 2 + n_pick % (nodes - 1).min(4);
        for (node, (pairs, stray)) in first_cycle(nodes, n, partitions, "round_robin") {
            prop_assert_eq!(stray, 0, "{:?} exchanged a range it does not share", node);
            for ((range, peer), count) in &pairs {
                prop_assert_eq!(
                    *count, 1,
                    "{:?}: range {} with {:?} met {} times in one cycle of {}",
                    node, range, peer, count, pairs.len()
                );
            }
        }
    }
}

/// The control: the older random choice misses pairs within a cycle, which
/// is why a difference could wait many cycles (and why the test above can
/// fail).
#[test]
fn random_partners_miss_pairs_within_a_cycle() {
    let missed: usize = first_cycle(8, 3, 32, "random")
        .values()
        .map(|(pairs, _)| pairs.values().filter(|c| **c == 0).count())
        .sum();
    assert!(missed > 0, "random partners met every pair in one cycle");
}
