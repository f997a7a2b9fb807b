//! The load phase (`workload.keys.preload`): the run starts with every key
//! written once, on exactly its top N replicas, and the requests that follow
//! see that value.

use std::sync::Arc;

use serde_json::{json, Value as Json};
use sim_core::dynamo::protocol::Value;
use sim_core::engine::ids::{ClientId, Key, NodeId, WriteId};
use sim_core::engine::record::{OpKind, Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;

const KEYS: u64 = 500;

fn scenario(preload: bool, mix: Json) -> Arc<sim_core::config::Scenario> {
    let mut v: Json = serde_json::from_str(include_str!("../../scenarios/healthy-baseline.json"))
        .expect("the shipped baseline is JSON");
    v["duration_s"] = json!(5);
    v["quiescence"] = json!({ "duration_s": 1, "heal_faults": true });
    v["workload"]["keys"] = json!({ "count": KEYS, "preload": preload });
    v["workload"]["mix"] = mix;
    Arc::new(parse(&v.to_string(), &no_files).expect("the test scenario validates"))
}

/// Completed gets: (key, values returned).
#[derive(Default)]
struct Reads {
    preloaded: Option<u64>,
    gets: Vec<(Key, Vec<Value>)>,
}

impl Sink for Reads {
    fn record(&mut self, at: SimTime, record: &Record) {
        match record {
            Record::Preloaded { keys } => {
                assert_eq!(at, SimTime::ZERO, "the load is recorded first, at time 0");
                assert!(self.gets.is_empty());
                self.preloaded = Some(*keys);
            }
            Record::OpCompleted {
                kind: OpKind::Get,
                key,
                result: Ok(()),
                values,
                ..
            } => self.gets.push((*key, values.clone())),
            _ => {}
        }
    }
}

#[test]
fn every_key_starts_on_exactly_its_top_n_replicas() {
    let s = scenario(true, json!({ "read": 1.0 }));
    let sim = Simulation::new(s.clone());
    let n = s.cluster.quorum.n as usize;
    let nodes = s.cluster.nodes.len() as u32;
    for k in 0..KEYS {
        let key = Key(k);
        let top = &sim.ring().preference_list(key)[..n];
        for id in (0..nodes).map(NodeId) {
            let stored = sim.node(id).durable().store.versions(key);
            if top.contains(&id) {
                assert_eq!(stored.len(), 1, "{key} on {id}");
                let v = &stored[0];
                assert_eq!(v.value(), Value::Data(WriteId::preloaded(key)));
                assert_eq!(v.coordinator, top[0], "the first of the top N coordinates");
                assert_eq!(v.clock.counter(top[0]), 1);
                assert_eq!(v.clock.len(), 1);
            } else {
                assert!(stored.is_empty(), "{key} is not on {id}, outside its top N");
            }
        }
        // Issued by the load (a lazy load keeps it in the shared table).
        assert_eq!(sim.node(top[0]).issued_counter(key), 1);
        for id in top[1..].iter() {
            assert_eq!(sim.node(*id).issued_counter(key), 0);
        }
    }
    let w = WriteId::preloaded(Key(7));
    assert!(w.is_preloaded() && w.0.client == ClientId::LOADER);
    assert_eq!(w.to_string(), "vload.8");
}

#[test]
fn reads_return_the_loaded_value_and_an_empty_store_returns_nothing() {
    let mut loaded = Reads::default();
    Simulation::new(scenario(true, json!({ "read": 1.0 }))).run(&mut loaded, None);
    assert_eq!(loaded.preloaded, Some(KEYS));
    assert!(loaded.gets.len() > 100, "{} gets", loaded.gets.len());
    for (key, values) in &loaded.gets {
        assert_eq!(
            values,
            &vec![Value::Data(WriteId::preloaded(*key))],
            "{key}"
        );
    }

    let mut empty = Reads::default();
    Simulation::new(scenario(false, json!({ "read": 1.0 }))).run(&mut empty, None);
    assert_eq!(empty.preloaded, None);
    assert!(empty.gets.len() > 100);
    assert!(empty.gets.iter().all(|(_, values)| values.is_empty()));
}

#[test]
fn read_modify_writes_build_on_the_loaded_value() {
    let s = scenario(true, json!({ "read_modify_write": 1.0 }));
    let mut reads = Reads::default();
    let sim = Simulation::new(s.clone());
    sim.run(&mut reads, None);
    // Every get finds at least one value: the load, or a write based on it.
    assert!(reads.gets.len() > 100);
    assert!(reads.gets.iter().all(|(_, values)| !values.is_empty()));
    assert!(
        reads
            .gets
            .iter()
            .any(|(_, values)| values.iter().all(|v| !v.write().is_preloaded())),
        "some reads see a client's write that replaced the load"
    );
}

/// Every node's end-of-run values: (node, key) -> values, sorted.
type EndState = std::collections::BTreeMap<(NodeId, Key), Vec<Value>>;

#[derive(Default)]
struct Finals(EndState);

impl Sink for Finals {
    fn record(&mut self, _at: SimTime, record: &Record) {
        if let Record::FinalValues {
            node, key, values, ..
        } = record
        {
            let mut values = values.clone();
            values.sort();
            let before = self.0.insert((*node, *key), values);
            assert!(before.is_none(), "{key} on {node} is reported once");
        }
    }
}

/// The end-of-run report is what the stores hold when the run ends, node by
/// node, although the engine drops each node's data once it has reported
/// it (so that the stores and the collector's copy of them are never both
/// whole): a run stepped to its end without the report, its stores read
/// directly, gives the same values for every node and key.
#[test]
fn the_end_state_reports_the_stores_before_they_are_released() {
    let s = scenario(
        true,
        json!({ "read_modify_write": 0.6, "blind_write": 0.4 }),
    );
    let mut reported = Finals::default();
    let outcome = Simulation::new(s.clone()).run(&mut reported, None);
    let mut sim = Simulation::new(s.clone());
    let mut ignore = sim_core::engine::record::NullSink;
    let mut tracer = None;
    sim.start(&mut ignore, &mut tracer);
    while sim.step(&mut ignore, &mut tracer).is_none() {}
    let mut held = EndState::new();
    let mut values = Vec::new();
    for id in (0..s.cluster.nodes.len() as u32).map(NodeId) {
        let node = sim.node(id);
        let keys: std::collections::BTreeSet<Key> = node.held_keys().collect();
        for key in keys {
            values.clear();
            node.held_values(key, &mut values);
            values.sort();
            values.dedup();
            held.insert((id, key), values.clone());
        }
    }
    assert!(
        held.values().any(|v| v
            .iter()
            .any(|v| !matches!(v, Value::Data(w) if w.0.client == ClientId::LOADER))),
        "the workload's writes are in the end state"
    );
    assert_eq!(reported.0, held);
    // Releasing the data leaves the counters the outcome reports.
    let stats: Vec<_> = (0..s.cluster.nodes.len() as u32)
        .map(|i| sim.node(NodeId(i)).stats())
        .collect();
    assert_eq!(outcome.node_stats, stats);
}
