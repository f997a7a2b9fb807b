//! Commits, coordinators outside the preference list, and the probe
//! workload (issue 16): what PBS's experiment needs from the simulator.

use std::sync::Arc;

use serde_json::{json, Value as Json};
use sim_core::config::Scenario;
use sim_core::engine::ids::{Key, NodeId, OpId};
use sim_core::engine::record::{OpKind, Record};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::{RunOutcome, Simulation};

/// Six nodes, N=3, vector clocks, blind writes through a load balancer
/// (so most requests first reach a node outside the key's top N).
fn writes(scope: &str) -> Json {
    json!({
        "name": "scope",
        "duration_s": 2,
        "quiescence": { "duration_s": 1 },
        "cluster": { "nodes": 6, "quorum": { "n": 3, "r": 1, "w": 1 }, "coordinator_scope": scope },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 100 } },
            "keys": { "count": 50 },
            "mix": { "read": 0.5, "blind_write": 0.5 }
        }
    })
}

fn load(v: &Json) -> Arc<Scenario> {
    Arc::new(parse(&v.to_string(), &no_files).expect("the test scenario validates"))
}

fn run(s: &Arc<Scenario>) -> (RunOutcome, Vec<(SimTime, Record)>) {
    let sim = Simulation::new(s.clone());
    let mut records: Vec<(SimTime, Record)> = Vec::new();
    let outcome = sim.run(&mut records, None);
    (outcome, records)
}

fn forwards(o: &RunOutcome) -> u64 {
    o.stats.sent_by_kind[sim_core::dynamo::protocol::MsgKind::Forward.index()]
}

/// Every commit: (time, op, key, coordinator).
fn commits(records: &[(SimTime, Record)]) -> Vec<(SimTime, OpId, Key, NodeId)> {
    records
        .iter()
        .filter_map(|(t, r)| match r {
            Record::WriteCommitted {
                op,
                key,
                coordinator,
                ..
            } => Some((*t, *op, *key, *coordinator)),
            _ => None,
        })
        .collect()
}

#[test]
fn under_vector_clocks_any_node_forwards_writes_and_any_node_reads_and_writes_coordinates_them() {
    let narrow = load(&writes("any_node"));
    let (o, records) = run(&narrow);
    let ring = Simulation::new(narrow.clone()).ring().clone();
    let outside = |key: Key, node: NodeId| !ring.preference_list(key)[..3].contains(&node);
    assert!(forwards(&o) > 0, "vector-clock writes are forwarded");
    let c = commits(&records);
    assert!(c.len() > 100, "{} commits", c.len());
    assert!(
        c.iter().all(|(_, _, key, node)| !outside(*key, *node)),
        "any_node keeps vector-clock writes on replicas"
    );

    let wide = load(&writes("any_node_reads_and_writes"));
    let (o, records) = run(&wide);
    assert_eq!(forwards(&o), 0, "every node coordinates what reaches it");
    let c = commits(&records);
    let foreign = c.iter().filter(|(_, _, k, n)| outside(*k, *n)).count();
    assert!(
        foreign > c.len() / 4,
        "{foreign} of {} writes coordinated outside the preference list",
        c.len()
    );
}

#[test]
fn a_write_commits_before_its_client_hears_of_it() {
    let s = load(&writes("any_node_reads_and_writes"));
    let (_, records) = run(&s);
    let c = commits(&records);
    let mut checked = 0;
    for (t, r) in &records {
        if let Record::OpCompleted {
            op,
            kind: OpKind::Put,
            result: Ok(()),
            ..
        } = r
        {
            let (committed, ..) = c
                .iter()
                .find(|(_, o, ..)| o == op)
                .expect("an acknowledged write was committed");
            assert!(committed <= t, "commit {committed:?} after ack {t:?}");
            checked += 1;
        }
    }
    assert!(checked > 100);
}

/// PBS's setting: N=3, R=W=1, vector clocks, a coordinator that is never a
/// replica, clients next to it (zero client legs), and a probe per slot.
fn probes(grid_ms: &[f64], concurrent: u32) -> Json {
    json!({
        "name": "probe",
        "duration_s": 2,
        "quiescence": { "duration_s": 0.5 },
        "cluster": {
            "nodes": 5,
            "quorum": { "n": 3, "r": 1, "w": 1 },
            "coordinator_scope": "any_node_reads_and_writes",
            "storage": { "read_latency": { "constant": { "ms": 0 } }, "write_latency": { "constant": { "ms": 0 } } }
        },
        "network": {
            "latency": { "exponential": { "mean_ms": 2 } },
            "latency_by_kind": {
                "client_request": { "constant": { "ms": 0 } },
                "client_reply": { "constant": { "ms": 0 } }
            }
        },
        "workload": {
            "clients": 2,
            "arrival": { "probe": { "t_grid_ms": grid_ms, "concurrent": concurrent, "coordinator": "non_replica" } },
            "keys": { "count": 10 }
        }
    })
}

#[test]
fn each_probe_reads_its_fresh_key_exactly_t_after_the_commit_through_a_non_replica() {
    let grid = [0.0, 0.5, 2.0, 10.0];
    let s = load(&probes(&grid, 3));
    let (_, records) = run(&s);
    let ring = Simulation::new(s.clone()).ring().clone();
    let commits = commits(&records);
    assert!(commits.len() > 100, "{} probes", commits.len());
    let mut keys: Vec<Key> = commits.iter().map(|c| c.2).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), commits.len(), "one fresh key per probe");
    assert!(
        keys.iter().all(|k| k.0 >= 10),
        "fresh keys start at keys.count"
    );
    // Reads per key: their start times, and every coordinator.
    let mut reads: std::collections::BTreeMap<Key, Vec<SimTime>> = Default::default();
    for (t, r) in &records {
        match r {
            Record::OpInvoked {
                kind: OpKind::Get,
                key,
                ..
            } => reads.entry(*key).or_default().push(*t),
            Record::OpCompleted {
                key,
                coordinator: Some(c),
                ..
            } => assert!(
                !ring.preference_list(*key)[..3].contains(c),
                "{c:?} is a replica of {key:?}"
            ),
            _ => {}
        }
    }
    let end = SimTime::ZERO + s.duration;
    let mut full = 0;
    for (at, _, key, _) in &commits {
        let expected: Vec<SimTime> = grid
            .iter()
            .map(|ms| *at + sim_core::engine::time::SimDuration::from_micros((ms * 1000.0) as u64))
            .filter(|t| *t < end)
            .collect();
        let got = reads.get(key).cloned().unwrap_or_default();
        assert_eq!(got, expected, "reads of {key:?} committed at {at:?}");
        full += usize::from(got.len() == grid.len());
    }
    assert!(full > 100);
    // Three probes per client at once: six writes at time 0.
    let first = records
        .iter()
        .filter(|(t, r)| {
            *t == SimTime::ZERO
                && matches!(
                    r,
                    Record::OpInvoked {
                        kind: OpKind::Put,
                        ..
                    }
                )
        })
        .count();
    assert_eq!(first, 6);
}

#[test]
fn a_probe_run_is_deterministic_and_seed_dependent() {
    let s = load(&probes(&[0.0, 1.0], 2));
    let a = run(&s).0.trace_hash;
    assert_eq!(a, run(&s).0.trace_hash);
    let mut v = probes(&[0.0, 1.0], 2);
    v["rng_seed"] = json!(2);
    assert_ne!(a, run(&load(&v)).0.trace_hash);
}
