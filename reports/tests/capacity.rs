//! Node capacity, tested against what it must reproduce: queueing theory
//! through the whole request path, latency that grows with load, overload
//! that refuses work instead of growing queues, §6.1 buffered writes under a
//! disk-bound load, and joins whose transfers take bytes / bandwidth with
//! pending ownership (the joiner serves no read of a range it has not
//! received).

use std::sync::Arc;

use reports::metrics::Collector;
use serde_json::{json, Value as Json};
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::{Key, NodeId};
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::engine::trace::{TraceEvent, TraceKind, Tracer};
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;

fn summary_of(doc: &Json) -> Json {
    let scenario = Arc::new(parse(&doc.to_string(), &no_files).expect("valid scenario"));
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    let outcome = sim.run(&mut collector, None);
    reports::report::summary(&scenario, &outcome, &collector, &ring)
}

fn f(v: &Json) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// One node, N = R = W = 1, gets only, Poisson arrivals (10 clients), one
/// worker with exponential service, no network or disk time: the get
/// latency is the request queue's time in system, an M/M/1 queue.
fn mm1(rate_per_s: f64, mean_service_ms: f64, seconds: f64) -> Json {
    json!({
        "name": "mm1",
        "rng_seed": 7,
        "duration_s": seconds,
        "quiescence": { "duration_s": 1 },
        "cluster": {
            "nodes": 1,
            "quorum": { "n": 1, "r": 1, "w": 1 },
            "read_repair": false,
            "hinted_handoff": false,
            "request_timeout_ms": 60000,
            "storage": {
                "read_latency": { "constant": { "ms": 0 } },
                "write_latency": { "constant": { "ms": 0 } }
            },
            "capacity": {
                "cpu": {
                    "workers": 1,
                    "service": { "default": { "exponential": { "mean_ms": mean_service_ms } } },
                    "queue_limit": 1000000
                }
            }
        },
        "network": { "latency": { "constant": { "ms": 0 } } },
        "workload": {
            "clients": 10,
            "arrival": { "open_loop": { "rate_per_s": rate_per_s / 10.0 } },
            "keys": { "count": 100 },
            "mix": { "read": 1.0 },
            "client_timeout_ms": 60000
        }
    })
}

#[test]
fn the_request_path_through_one_worker_is_an_mm1_queue() {
    let mu = 1000.0; // 1 ms mean service
    for (rho, seconds) in [(0.5, 300.0), (0.8, 300.0)] {
        let lambda = rho * mu;
        let s = summary_of(&mm1(lambda, 1.0, seconds));
        let mean_ms = f(&s["latency"]["get"]["mean_ms"]);
        let expected_ms = 1000.0 / (mu - lambda);
        assert!(
            (mean_ms - expected_ms).abs() / expected_ms < 0.03,
            "rho {rho}: mean get latency {mean_ms:.3} ms, M/M/1 gives 1/(mu - lambda) = {expected_ms:.3} ms"
        );
        // Little's law on the request queue: L = lambda W.
        let cpu = &s["capacity"]["nodes"][0]["cpu"];
        let l = f(&cpu["in_system_mean"]);
        let w_s = f(&cpu["sojourn_ms"]["mean"]) / 1000.0;
        let ops = f(&s["ops"]["total"]);
        let run_s = f(&s["run"]["end_time_s"]);
        let lambda_seen = ops / run_s;
        assert!(
            (l - lambda_seen * w_s).abs() / l < 0.03,
            "rho {rho}: L = {l:.4}, lambda W = {:.4}",
            lambda_seen * w_s
        );
        let util = f(&cpu["utilisation"]);
        eprintln!(
            "M/M/1 rho {rho}: mean get {mean_ms:.3} ms vs 1/(mu - lambda) {expected_ms:.3} ms; L {l:.4} vs lambda W {:.4}",
            lambda_seen * w_s
        );
        assert!(
            (util - rho * seconds / run_s).abs() < 0.02,
            "rho {rho}: utilisation {util:.3}"
        );
    }
}

/// A 4-node (3, 2, 2) cluster whose disks are the bottleneck: 2 channels
/// each, exponential 0.2 ms reads and 0.3 ms writes, bounded queues;
/// partition-aware clients on a 0.5 ms network.
fn disk_bound(rate_per_s: f64, buffered: bool, seconds: f64) -> Json {
    let mut doc = json!({
        "name": "disk-bound",
        "rng_seed": 3,
        "duration_s": seconds,
        "quiescence": { "duration_s": 2 },
        "cluster": {
            "nodes": 4,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "partitioning": { "strategy": "equal_partitions", "partitions": 32 },
            "storage": {
                "read_latency": { "exponential": { "mean_ms": 0.2 } },
                "write_latency": { "exponential": { "mean_ms": 0.3 } }
            },
            "capacity": {
                "cpu": {
                    "workers": 8,
                    "service": { "default": { "exponential": { "mean_ms": 0.02 } } },
                    "queue_limit": 200
                },
                "disk": { "concurrency": 2, "queue_limit": 200 }
            }
        },
        "network": { "latency": { "normal": { "mean_ms": 0.5, "stddev_ms": 0.05 } } },
        "workload": {
            "clients": 8,
            "routing": "partition_aware",
            "arrival": { "open_loop": { "rate_per_s": rate_per_s / 8.0 } },
            "keys": { "count": 10000, "popularity": "uniform" },
            "mix": { "read": 0.3, "blind_write": 0.7 }
        }
    });
    if buffered {
        doc["cluster"]["storage"]["buffered_writes"] = json!({ "flush_interval_ms": 100 });
    }
    doc
}

#[test]
fn tail_latency_grows_with_offered_load_and_overload_refuses_instead_of_queueing() {
    // Disk capacity: 4 nodes x 2 channels; a write costs 0.3 ms on 3
    // replicas, a read 0.2 ms on 3: 0.7 x 0.9 + 0.3 x 0.6 = 0.81 ms of disk
    // per operation at this mix, so ~9,900 operations/s saturate the disks.
    let rates = [1000.0, 4000.0, 7000.0, 8500.0];
    let mut p999 = Vec::new();
    for r in rates {
        let s = summary_of(&disk_bound(r, false, 12.0));
        assert_eq!(
            f(&s["availability"]),
            1.0,
            "no failure below capacity at {r}/s"
        );
        p999.push(f(&s["latency"]["put"]["p999_ms"]));
    }
    eprintln!("put p99.9 {p999:?} ms at {rates:?} operations/s");
    for w in p999.windows(2) {
        assert!(
            w[1] > w[0],
            "put p99.9 must grow with load: {p999:?} at {rates:?}"
        );
    }
    assert!(
        p999[3] > 2.5 * p999[0],
        "near saturation the tail is far above the light-load tail: {p999:?}"
    );
    // Twice the capacity: queues stay at their limits and work is refused.
    let s = summary_of(&disk_bound(20_000.0, false, 3.0));
    let c = &s["capacity"];
    assert!(
        f(&c["disk"]["refused"]) > 0.0,
        "a full disk queue refuses jobs: {c}"
    );
    assert!(f(&c["disk"]["queue_max"]) <= 200.0, "{c}");
    assert!(f(&c["cpu"]["queue_max"]) <= 200.0, "{c}");
    assert!(f(&s["availability"]) < 1.0);
}

#[test]
fn buffered_writes_cut_the_put_tail_under_a_disk_bound_load_and_change_little_at_light_load() {
    let tail = |rate, buffered| {
        let s = summary_of(&disk_bound(rate, buffered, 12.0));
        f(&s["latency"]["put"]["p999_ms"])
    };
    let (heavy_durable, heavy_buffered) = (tail(8500.0, false), tail(8500.0, true));
    assert!(
        heavy_durable >= 3.0 * heavy_buffered,
        "under a disk-bound load buffered writes cut put p99.9 at least 3x: {heavy_durable:.2} vs {heavy_buffered:.2} ms"
    );
    let (light_durable, light_buffered) = (tail(1000.0, false), tail(1000.0, true));
    eprintln!(
        "put p99.9 durable vs buffered: {heavy_durable:.2} vs {heavy_buffered:.2} ms at 8500/s, {light_durable:.2} vs {light_buffered:.2} ms at 1000/s"
    );
    assert!(
        light_durable < 2.0 * light_buffered,
        "at light load they change little: {light_durable:.2} vs {light_buffered:.2} ms"
    );
}

/// Four nodes with preloaded 20 KB values; every interface carries
/// `mb_per_s`; n4 joins at 2 s; light reads keep coming.
fn join_doc(mb_per_s: f64) -> Json {
    json!({
        "name": "join-bandwidth",
        "rng_seed": 5,
        "duration_s": 30,
        "quiescence": { "duration_s": 5 },
        "cluster": {
            "nodes": 4,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "partitioning": { "strategy": "equal_partitions", "partitions": 64 },
            "membership": { "transfer_batch": 16, "gossip_interval_ms": 100 },
            "capacity": { "nic": { "bandwidth_mb_per_s": mb_per_s, "queue_limit_mb": 512 } }
        },
        "network": { "latency": { "normal": { "mean_ms": 0.5, "stddev_ms": 0.05 } } },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 20 } },
            "keys": { "count": 2000, "preload": true },
            "value_size": { "constant": { "bytes": 20000 } },
            "mix": { "read": 1.0 }
        },
        "faults": [ { "at_s": 2, "join": { "node": "n4" } } ]
    })
}

/// Records the bootstrap of the joiner: from its first transfer offer to
/// its last range received.
#[derive(Default)]
struct Bootstraps(Vec<(SimTime, SimTime)>);

impl Sink for Bootstraps {
    fn record(&mut self, at: SimTime, record: &Record) {
        if let Record::BootstrapDone { first_offer, .. } = record {
            self.0
                .push((first_offer.expect("ranges came by transfer"), at));
        }
    }
}

/// Remembers the keys of read requests delivered to one node.
struct ReadsTo(Endpoint, Vec<u64>);

impl Tracer for ReadsTo {
    fn event(&mut self, e: &TraceEvent<'_>) {
        if e.kind == TraceKind::Deliver && e.at == Some(self.0) && e.label == "read_request" {
            self.1.extend(e.key);
        }
    }
}

#[test]
fn a_join_moves_its_bytes_in_bytes_over_bandwidth_and_serves_no_read_it_has_not_received() {
    let mb_per_s = 10.0;
    let scenario = Arc::new(parse(&join_doc(mb_per_s).to_string(), &no_files).expect("valid"));
    let mut sim = Simulation::new(scenario.clone());
    let joiner = NodeId(4);
    let mut sink = Bootstraps::default();
    let mut reads = ReadsTo(Endpoint::Node(joiner), Vec::new());
    let (mut served, mut served_checked, mut declined) = (0u64, 0u64, 0u64);
    sim.start(&mut sink, &mut None);
    loop {
        reads.1.clear();
        let stop = {
            let mut tracer: Option<&mut dyn Tracer> = Some(&mut reads);
            sim.step(&mut sink, &mut tracer)
        };
        if stop.is_some() {
            break;
        }
        let node = sim.node(joiner);
        let now_served = node.stats().replica_reads;
        for &k in &reads.1 {
            if now_served > served {
                // Served in this step: its range must not be pending (pending
                // only shrinks, so a range pending now was pending then).
                assert!(
                    !node.is_pending(Key(k)),
                    "the joiner served k{k} before receiving its range"
                );
                served_checked += 1;
            } else {
                assert!(node.is_pending(Key(k)), "k{k} was declined but not pending");
                declined += 1;
            }
        }
        served = now_served;
    }
    assert_eq!(sink.0.len(), 1, "the joiner finished its bootstrap once");
    assert!(declined > 0, "reads of pending ranges were declined");
    assert!(
        served_checked > 0,
        "the joiner served reads of received ranges"
    );
    let (start, done) = sink.0[0];
    let took_s = done.as_micros().saturating_sub(start.as_micros()) as f64 / 1e6;
    // D: the transfer bytes the joiner received through its interface.
    let summary = summary_of(&join_doc(mb_per_s));
    let nodes = summary["capacity"]["nodes"].as_array().expect("per node");
    let ingress_bytes = f(&nodes[4]["ingress"]["bytes_by_kind"]["transfer"]);
    let expected_s = ingress_bytes / (mb_per_s * 1e6);
    eprintln!(
        "bootstrap transfer {took_s:.3} s, D / B = {:.2} MB / {mb_per_s} MB/s = {expected_s:.3} s; {declined} reads declined, {served_checked} served after their range arrived",
        ingress_bytes / 1e6
    );
    assert!(
        (took_s - expected_s).abs() / expected_s < 0.2,
        "the bootstrap took {took_s:.2} s; D / B = {:.1} MB / {mb_per_s} MB/s = {expected_s:.2} s",
        ingress_bytes / 1e6
    );
    let b = &summary["membership"]["bootstraps"][0];
    assert!((f(&b["transfer_s"]) - took_s).abs() < 1e-6, "{b}");
    assert_eq!(summary["durability"]["lost"], json!(0));
}

fn shipped(name: &str) -> Json {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("shipped scenario")).expect("JSON")
}

#[test]
fn capacity_knee_at_a_tenth_of_the_rate_has_a_get_tail_five_times_lower() {
    let knee = shipped("capacity-knee");
    let mut light = knee.clone();
    let rate = f(&knee["workload"]["arrival"]["open_loop"]["rate_per_s"]);
    light["workload"]["arrival"]["open_loop"]["rate_per_s"] = json!(rate / 10.0);
    let (heavy, light) = (summary_of(&knee), summary_of(&light));
    let (h, l) = (
        f(&heavy["latency"]["get"]["p999_ms"]),
        f(&light["latency"]["get"]["p999_ms"]),
    );
    eprintln!("capacity-knee get p99.9 {h:.2} ms, at a tenth of the rate {l:.2} ms");
    assert!(
        h >= 5.0 * l,
        "get p99.9 at the knee {h:.2} ms, at a tenth of the rate {l:.2} ms"
    );
}

#[test]
fn the_shipped_pairs_show_their_effect() {
    let put = |name| f(&summary_of(&shipped(name))["latency"]["put"]["p999_ms"]);
    let (durable, buffered) = (
        put("disk-bound-durable-writes"),
        put("disk-bound-buffered-writes"),
    );
    assert!(
        durable >= 3.0 * buffered,
        "buffered writes: put p99.9 {durable:.2} vs {buffered:.2} ms"
    );
    let get = |name| f(&summary_of(&shipped(name))["latency"]["get"]["p999_ms"]);
    let (server, client) = (
        get("coordination-under-load-server"),
        get("coordination-under-load-client"),
    );
    eprintln!(
        "shipped pairs: put p99.9 durable {durable:.2} vs buffered {buffered:.2} ms; get p99.9 server-driven {server:.2} vs client-driven {client:.2} ms"
    );
    assert!(
        client < server,
        "client-driven coordination: get p99.9 {client:.2} vs server-driven {server:.2} ms"
    );
}

#[test]
fn every_message_a_node_handles_pays_its_service_before_its_effects_leave() {
    // Two nodes, N = R = 2, constant 1 ms of service per message, no network
    // or disk time, one operation at a time. A get costs the coordinator 1 ms
    // for the request, the other replica 1 ms for its read, the coordinator
    // 1 ms for that reply (its own read is a local call): exactly 3 ms.
    let doc = json!({
        "name": "hops",
        "duration_s": 2,
        "cluster": {
            "nodes": 2,
            "quorum": { "n": 2, "r": 2, "w": 2 },
            "read_repair": false,
            "storage": {
                "read_latency": { "constant": { "ms": 0 } },
                "write_latency": { "constant": { "ms": 0 } }
            },
            "capacity": {
                "cpu": { "workers": 4, "service": { "default": { "constant": { "ms": 1 } } } }
            }
        },
        "network": { "latency": { "constant": { "ms": 0 } } },
        "workload": {
            "clients": 1,
            "routing": "partition_aware",
            "arrival": { "closed_loop": { "think_time": { "constant": { "ms": 10 } } } },
            "keys": { "count": 10 },
            "mix": { "read": 1.0 }
        }
    });
    let s = summary_of(&doc);
    let l = &s["latency"]["get"];
    assert!(f(&l["count"]) > 100.0, "{l}");
    assert_eq!(f(&l["mean_ms"]), 3.0, "every get takes three services: {l}");
    assert_eq!(f(&l["max_ms"]), 3.0, "{l}");
}
