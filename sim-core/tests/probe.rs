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
