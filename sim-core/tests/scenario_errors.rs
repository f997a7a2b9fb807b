//! Bad scenario files: every problem is reported with the JSON path where it
//! is and a message saying what was expected.
//!
//! Each case is a small mutation of a valid base scenario (the shape of
//! `scenarios/healthy-baseline.json`, with partitioning pinned so that node
//! count changes do not trip it).

use serde_json::{json, Value};
use sim_core::scenario::{parse, parse_file, validate, ScenarioError, ScenarioErrors};

/// A valid scenario: 8 nodes, (3, 2, 2), 60 s + 10 s quiescence.
fn base() -> Value {
    json!({
        "name": "errors-base",
        "description": "valid base for the error table",
        "rng_seed": 1,
        "duration_s": 60,
        "quiescence": { "duration_s": 10, "heal_faults": true },
        "cluster": {
            "nodes": 8,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "partitioning": { "strategy": "equal_partitions", "partitions": 64 },
            "storage": {
                "read_latency": { "lognormal": { "median_ms": 0.2, "sigma": 0.5 } },
                "write_latency": { "lognormal": { "median_ms": 0.8, "sigma": 0.6 } }
            }
        },
        "network": {
            "latency": { "mixture": [
                { "weight": 0.99, "latency": { "normal": { "mean_ms": 0.5, "stddev_ms": 0.1 } } },
                { "weight": 0.01, "latency": { "exponential": { "mean_ms": 5 } } }
            ] }
        },
        "workload": {
            "clients": 8,
            "arrival": { "open_loop": { "rate_per_s": 50 } },
            "keys": { "count": 1000, "popularity": { "zipfian": 0.99 } },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        },
        "expect": {
            "durability.lost": { "max": 0 },
            "availability": { "min": 1.0 }
        }
    })
}

/// Turns the base workload into a probe workload with these settings.
fn probe(v: &mut Value, settings: Value) {
    v["workload"]["arrival"] = json!({ "probe": settings });
    v["workload"].as_object_mut().expect("object").remove("mix");
}

/// Turns on gossip membership with every default.
fn gossip(v: &mut Value) {
    v["cluster"]["membership"] = json!({});
}

fn parse_value(v: &Value) -> Result<(), ScenarioErrors> {
    parse(&v.to_string(), &sim_core::scenario::no_files).map(|_| ())
}

/// How a case turns the base into bad input.
enum Input {
    /// Mutate the base JSON value.
    Mutate(fn(&mut Value)),
    /// Raw text (for syntax errors).
    Text(fn(&str) -> String),
}

struct Case {
    name: &'static str,
    input: Input,
    path: &'static str,
    message: &'static str,
}

fn case(name: &'static str, path: &'static str, message: &'static str, f: fn(&mut Value)) -> Case {
    Case {
        name,
        input: Input::Mutate(f),
        path,
        message,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // ------------------------------------------------------------ quorum
        case(
            "quorum r above n",
            "cluster.quorum.r",
            "4 exceeds n = 3",
            |v| v["cluster"]["quorum"]["r"] = json!(4),
        ),
        case(
            "quorum w above n",
            "cluster.quorum.w",
            "5 exceeds n = 3",
            |v| v["cluster"]["quorum"]["w"] = json!(5),
        ),
        case(
            "quorum n above node count",
            "cluster.quorum.n",
            "9 exceeds the number of nodes (8)",
            |v| v["cluster"]["quorum"] = json!({ "n": 9, "r": 2, "w": 2 }),
        ),
        case(
            "quorum n zero",
            "cluster.quorum.n",
            "at least 1 replica",
            |v| v["cluster"]["quorum"] = json!({ "n": 0, "r": 0, "w": 0 }),
        ),
        case("pr above r", "cluster.quorum.pr", "3 exceeds r = 2", |v| {
            v["cluster"]["quorum"]["pr"] = json!(3)
        }),
        case("pw above w", "cluster.quorum.pw", "3 exceeds w = 2", |v| {
            v["cluster"]["quorum"]["pw"] = json!(3)
        }),
        case("dw above w", "cluster.quorum.dw", "3 exceeds w = 2", |v| {
            v["cluster"]["quorum"]["dw"] = json!(3)
        }),
        case(
            "basic quorum with notfound ok",
            "cluster.quorum.basic_quorum",
            "has no effect unless notfound_ok is false",
            |v| v["cluster"]["quorum"]["basic_quorum"] = json!(true),
        ),
        case(
            "negative pw",
            "cluster.quorum.pw",
            "invalid value",
            |v| v["cluster"]["quorum"]["pw"] = json!(-1),
        ),
        case(
            "retry with a negative backoff",
            "workload.retries.backoff_ms",
            "expected a non-negative number, got -5",
            |v| v["workload"]["retries"] = json!({ "attempts": 3, "backoff_ms": -5 }),
        ),
        case(
            "retry with one attempt",
            "workload.retries.attempts",
            "expected 2..=10 tries",
            |v| v["workload"]["retries"] = json!({ "attempts": 1 }),
        ),
        case(
            "retry budget negative",
            "workload.retries.budget",
            "between 0 and 100",
            |v| v["workload"]["retries"] = json!({ "attempts": 2, "budget": -1 }),
        ),
        case(
            "hedge after a negative delay",
            "workload.hedged_reads.after_ms",
            "expected a non-negative number",
            |v| v["workload"]["hedged_reads"] = json!({ "after_ms": -1 }),
        ),
        case(
            "hedge after a latency distribution",
            "workload.hedged_reads.after_ms",
            "invalid type",
            |v| v["workload"]["hedged_reads"] = json!({ "after_ms": { "constant": { "ms": 5 } } }),
        ),
        case(
            "hedge at percentile 100",
            "workload.hedged_reads.after_percentile",
            "strictly between 0 and 100",
            |v| v["workload"]["hedged_reads"] = json!({ "after_percentile": 100 }),
        ),
        case(
            "hedge with both a delay and a percentile",
            "workload.hedged_reads",
            "expected exactly one of after_ms",
            |v| v["workload"]["hedged_reads"] = json!({ "after_ms": 5, "after_percentile": 99 }),
        ),
        case(
            "same-datacenter fallbacks without datacenters",
            "cluster.quorum.fallbacks",
            "same_datacenter needs datacenters",
            |v| v["cluster"]["quorum"]["fallbacks"] = json!("same_datacenter"),
        ),
        case(
            "same-datacenter fallbacks with a strict quorum",
            "cluster.quorum.fallbacks",
            "has no effect with quorum_mode strict",
            |v| {
                v["datacenters"] = json!(["a", "b"]);
                let nodes: Vec<Value> = (0..8)
                    .map(|i| {
                        let dc = if i % 2 == 0 { "a" } else { "b" };
                        json!({ "name": format!("n{i}"), "datacenter": dc })
                    })
                    .collect();
                v["cluster"]["nodes"] = json!(nodes);
                v["cluster"]["quorum_mode"] = json!("strict");
                v["cluster"]["quorum"]["fallbacks"] = json!("same_datacenter");
            },
        ),
        case(
            "unknown fallbacks",
            "cluster.quorum.fallbacks",
            "unknown variant `nearest`",
            |v| v["cluster"]["quorum"]["fallbacks"] = json!("nearest"),
        ),
        case(
            "return_body not a bool",
            "cluster.quorum.return_body",
            "invalid type",
            |v| v["cluster"]["quorum"]["return_body"] = json!("yes"),
        ),
        case(
            "local quorum without datacenters",
            "cluster.quorum.consistency",
            "need datacenters",
            |v| v["cluster"]["quorum"]["consistency"] = json!("local_quorum"),
        ),
        case("quorum r zero", "cluster.quorum.r", "at least 1", |v| {
            v["cluster"]["quorum"]["r"] = json!(0)
        }),
        case(
            "quorum missing w",
            "cluster.quorum",
            "missing field `w`",
            |v| {
                v["cluster"]["quorum"].as_object_mut().unwrap().remove("w");
            },
        ),
        case(
            "no nodes at all",
            "cluster.nodes",
            "at least one node",
            |v| v["cluster"]["nodes"] = json!(0),
        ),
        // ------------------------------------------------------ probabilities
        case("loss above one", "network.loss", "got 1.5", |v| {
            v["network"]["loss"] = json!(1.5)
        }),
        case("duplicate negative", "network.duplicate", "got -0.1", |v| {
            v["network"]["duplicate"] = json!(-0.1)
        }),
        case("loss ratio above one", "network.loss", "\"3/2\"", |v| {
            v["network"]["loss"] = json!("3/2")
        }),
        case("loss ratio over zero", "network.loss", "\"1/0\"", |v| {
            v["network"]["loss"] = json!("1/0")
        }),
        case(
            "loss garbage string",
            "network.loss",
            "expected a probability in [0, 1]",
            |v| v["network"]["loss"] = json!("abc"),
        ),
        case(
            "hotspot fraction above one",
            "workload.keys.popularity.hotspot.hot_keys",
            "got 2",
            |v| {
                v["workload"]["keys"]["popularity"] =
                    json!({ "hotspot": { "hot_keys": 2.0, "hot_traffic": 0.5 } })
            },
        ),
        // ----------------------------------------------------------- latency
        case(
            "negative constant latency",
            "network.latency.constant.ms",
            "non-negative number of milliseconds, got -1",
            |v| v["network"]["latency"] = json!({ "constant": { "ms": -1 } }),
        ),
        case(
            "uniform max below min",
            "network.latency.uniform.max_ms",
            "1 is below min_ms = 2",
            |v| v["network"]["latency"] = json!({ "uniform": { "min_ms": 2, "max_ms": 1 } }),
        ),
        case(
            "empty mixture",
            "network.latency.mixture",
            "empty mixture",
            |v| v["network"]["latency"] = json!({ "mixture": [] }),
        ),
        case(
            "mixture weight zero",
            "network.latency.mixture[1].weight",
            "expected a positive weight, got 0",
            |v| v["network"]["latency"]["mixture"][1]["weight"] = json!(0),
        ),
        case(
            "negative latency inside a mixture part",
            "network.latency.mixture[0].latency.normal.stddev_ms",
            "got -0.1",
            |v| {
                v["network"]["latency"]["mixture"][0]["latency"]["normal"]["stddev_ms"] =
                    json!(-0.1)
            },
        ),
        case(
            "negative offset",
            "network.latency.offset.ms",
            "non-negative number of milliseconds, got -75",
            |v| {
                v["network"]["latency"] = json!({ "offset": { "ms": -75,
                    "latency": { "exponential": { "mean_ms": 5 } } } })
            },
        ),
        case(
            "empty sum",
            "network.latency.sum",
            "at least one part, got an empty sum",
            |v| v["network"]["latency"] = json!({ "sum": [] }),
        ),
        case(
            "bad part inside a sum",
            "network.latency.sum[1].pareto.shape",
            "expected a positive number, got 0",
            |v| {
                v["network"]["latency"] = json!({ "sum": [
                    { "constant": { "ms": 75 } },
                    { "pareto": { "scale_ms": 1, "shape": 0 } }
                ] })
            },
        ),
        // ------------------------------------------------------- probe workload
        case(
            "probe with an empty t grid",
            "workload.arrival.probe.t_grid_ms",
            "expected at least one t (a probe with no reads measures nothing)",
            |v| probe(v, json!({ "t_grid_ms": [] })),
        ),
        case(
            "probe with a non-increasing t grid",
            "workload.arrival.probe.t_grid_ms[2]",
            "expected strictly increasing non-negative values, got 1",
            |v| probe(v, json!({ "t_grid_ms": [0, 1, 1, 5] })),
        ),
        case(
            "probe with a negative t",
            "workload.arrival.probe.t_grid_ms[0]",
            "expected strictly increasing non-negative values, got -1",
            |v| probe(v, json!({ "t_grid_ms": [-1, 1] })),
        ),
        case(
            "probe with no reads at each t",
            "workload.arrival.probe.reads_per_t",
            "expected 1..=1000000 reads at each t (a probe with no reads measures nothing), got 0",
            |v| probe(v, json!({ "t_grid_ms": [0, 1], "reads_per_t": 0 })),
        ),
        case(
            "probe with no slots",
            "workload.arrival.probe.concurrent",
            "expected 1..=10000 probes at once per client, got 0",
            |v| probe(v, json!({ "t_grid_ms": [0], "concurrent": 0 })),
        ),
        case(
            "probe with a mix",
            "workload.mix",
            "expected no mix with a probe arrival",
            |v| {
                probe(v, json!({ "t_grid_ms": [0] }));
                v["workload"]["mix"] = json!({ "read": 1 });
            },
        ),
        case(
            "probe through a non-replica that may not coordinate writes",
            "workload.arrival.probe.coordinator",
            "unless cluster.coordinator_scope is \"any_node_reads_and_writes\"",
            |v| probe(v, json!({ "t_grid_ms": [0], "coordinator": "non_replica" })),
        ),
        case(
            "probe through a non-replica with no node outside the top N",
            "workload.arrival.probe.coordinator",
            "needs more nodes than N = 3, got 3",
            |v| {
                probe(v, json!({ "t_grid_ms": [0], "coordinator": "non_replica" }));
                v["cluster"]["nodes"] = json!(3);
                v["cluster"]["coordinator_scope"] = json!("any_node_reads_and_writes");
                v["cluster"]["partitioning"] = json!({ "strategy": "equal_partitions", "partitions": 12 });
            },
        ),
        case(
            "mix missing without a probe",
            "workload.mix",
            "expected at least one positive weight",
            |v| {
                v["workload"].as_object_mut().expect("object").remove("mix");
            },
        ),
        case(
            "no WARS trials",
            "metrics.wars_trials",
            "expected 1..=1000000000 trials, got 0",
            |v| v["metrics"] = json!({ "wars_trials": 0 }),
        ),
        case(
            "empirical not ending at one",
            "network.latency.empirical",
            "last cumulative probability to be 1, got 0.9",
            |v| {
                v["network"]["latency"] =
                    json!({ "empirical": { "points": [[0.5, 0.0], [1.0, 0.5], [2.0, 0.9]] } })
            },
        ),
        case(
            "empirical decreasing latency",
            "network.latency.empirical.points[1]",
            "non-decreasing",
            |v| {
                v["network"]["latency"] =
                    json!({ "empirical": { "points": [[2.0, 0.5], [1.0, 1.0]] } })
            },
        ),
        case(
            "empirical csv without file access",
            "network.latency.empirical.csv",
            "cannot read \"cdf.csv\"",
            |v| v["network"]["latency"] = json!({ "empirical": { "csv": "cdf.csv" } }),
        ),
        case(
            "pareto shape zero",
            "cluster.storage.read_latency.pareto.shape",
            "positive number, got 0",
            |v| {
                v["cluster"]["storage"]["read_latency"] =
                    json!({ "pareto": { "scale_ms": 1, "shape": 0 } })
            },
        ),
        case(
            "unknown latency_by_kind message kind",
            "network.latency_by_kind.carrier_pigeon",
            "unknown message kind \"carrier_pigeon\"",
            |v| {
                v["network"]["latency_by_kind"] =
                    json!({ "carrier_pigeon": { "constant": { "ms": 1 } } })
            },
        ),
        // ------------------------------------------------------------ faults
        case(
            "crash of an unknown node",
            "faults[0].crash.node",
            "unknown node \"n99\"",
            |v| v["faults"] = json!([{ "at_s": 5, "crash": { "node": "n99" } }]),
        ),
        case(
            "unknown name in a partition group",
            "faults[0].partition.groups[1][1]",
            "unknown node, client or datacenter \"nowhere\"",
            |v| {
                v["faults"] =
                    json!([{ "at_s": 5, "partition": { "groups": [["n0"], ["n1", "nowhere"]] } }])
            },
        ),
        case(
            "partition with one group",
            "faults[0].partition.groups",
            "at least two groups",
            |v| v["faults"] = json!([{ "at_s": 5, "partition": { "groups": [["n0", "n1"]] } }]),
        ),
        case(
            "partition with an endpoint on both sides",
            "faults[0].partition.groups[1]",
            "appears in two groups (n1)",
            |v| {
                v["faults"] =
                    json!([{ "at_s": 5, "partition": { "groups": [["n0", "n1"], ["n1", "n2"]] } }])
            },
        ),
        case(
            "fault after the end of the run",
            "faults[1].at_s",
            "not before the end of the run (70 s)",
            |v| {
                v["faults"] = json!([
                    { "at_s": 5, "crash": { "node": "n1" } },
                    { "at_s": 70, "restart": { "node": "n1" } }
                ])
            },
        ),
        case("fault with two actions", "faults[0]", "got 2", |v| {
            v["faults"] =
                json!([{ "at_s": 5, "crash": { "node": "n1" }, "isolate": { "node": "n2" } }])
        }),
        case(
            "fault with no action",
            "faults[0]",
            "expected exactly one action",
            |v| v["faults"] = json!([{ "at_s": 5, "for_s": 1 }]),
        ),
        case(
            "for_s on a restart",
            "faults[0].for_s",
            "cannot be undone",
            |v| v["faults"] = json!([{ "at_s": 5, "for_s": 3, "restart": { "node": "n1" } }]),
        ),
        case(
            "negative fault time",
            "faults[0].at_s",
            "non-negative number, got -1",
            |v| v["faults"] = json!([{ "at_s": -1, "isolate": { "node": "n1" } }]),
        ),
        case(
            "clock offset beyond a billion ms",
            "faults[0].clock_skew.offset_ms",
            "within ±1e9 ms",
            |v| {
                v["faults"] =
                    json!([{ "at_s": 5, "clock_skew": { "node": "n1", "offset_ms": 2e9 } }])
            },
        ),
        case(
            "nemesis ending before it starts",
            "nemesis.end_s",
            "end_s >= start_s",
            |v| v["nemesis"] = json!({ "start_s": 20, "end_s": 10 }),
        ),
        case(
            "nemesis crash of an unknown node",
            "nemesis.crashes.nodes[1]",
            "unknown node \"ghost\"",
            |v| {
                v["nemesis"] = json!({ "crashes": {
                    "mtbf_s": 30, "downtime": { "constant": { "ms": 100 } }, "nodes": ["n0", "ghost"]
                } })
            },
        ),
        // -------------------------------------------------------- membership
        case(
            "join without cluster.membership",
            "faults[0].join",
            "expected `cluster.membership` to be set (membership changes spread by gossip)",
            |v| v["faults"] = json!([{ "at_s": 5, "join": { "node": "n8" } }]),
        ),
        case(
            "decommission without cluster.membership",
            "faults[0].decommission",
            "expected `cluster.membership` to be set",
            |v| v["faults"] = json!([{ "at_s": 5, "decommission": { "node": "n3" } }]),
        ),
        case(
            "replace without cluster.membership",
            "faults[0].replace",
            "expected `cluster.membership` to be set",
            |v| v["faults"] = json!([{ "at_s": 5, "replace": { "node": "n3", "with": "n8" } }]),
        ),
        case(
            "join of an existing node name",
            "faults[0].join.node",
            "\"n3\" is already a node; expected a new node name",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n3" } }]);
            },
        ),
        case(
            "join of a client name",
            "faults[0].join.node",
            "\"c0\" is already a client; expected a new node name",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "c0" } }]);
            },
        ),
        case(
            "join of a datacenter name",
            "faults[0].join.node",
            "\"dc1\" is a datacenter; expected a new node name",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "dc1" } }]);
            },
        ),
        case(
            "join with an empty name",
            "faults[0].join.node",
            "expected a non-empty node name",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "" } }]);
            },
        ),
        case(
            "the same node joins twice",
            "faults[1].join.node",
            "\"n8\" already joins in faults[0]; expected a new node name",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 5, "join": { "node": "n8" } },
                    { "at_s": 9, "join": { "node": "n8" } }
                ]);
            },
        ),
        case(
            "replace.with naming a node that already joins",
            "faults[1].replace.with",
            "\"n8\" already joins in faults[0]",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 5, "join": { "node": "n8" } },
                    { "at_s": 9, "replace": { "node": "n3", "with": "n8" } }
                ]);
            },
        ),
        case(
            "replace of a node with itself",
            "faults[0].replace.with",
            "\"n3\" is already a node",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "replace": { "node": "n3", "with": "n3" } }]);
            },
        ),
        case(
            "join into an unknown datacenter",
            "faults[0].join.datacenter",
            "unknown datacenter \"mars\"",
            |v| {
                gossip(v);
                v["faults"] =
                    json!([{ "at_s": 5, "join": { "node": "n8", "datacenter": "mars" } }]);
            },
        ),
        case(
            "replacement in an unknown datacenter",
            "faults[0].replace.datacenter",
            "unknown datacenter \"mars\"",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 5, "replace": { "node": "n3", "with": "n8", "datacenter": "mars" } }
                ]);
            },
        ),
        case(
            "decommission of an unknown node",
            "faults[0].decommission.node",
            "unknown node \"n99\"",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "decommission": { "node": "n99" } }]);
            },
        ),
        case(
            "replace of an unknown node",
            "faults[0].replace.node",
            "unknown node \"n99\"",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "replace": { "node": "n99", "with": "n8" } }]);
            },
        ),
        case(
            "decommission of a node that already left",
            "faults[1].decommission.node",
            "n3 already left at 10 s (faults[0], decommission); expected a current member",
            |v| {
                gossip(v);
                // File order is not time order: the later entry acts first.
                v["faults"] = json!([
                    { "at_s": 10, "decommission": { "node": "n3" } },
                    { "at_s": 20, "decommission": { "node": "n3" } }
                ]);
            },
        ),
        case(
            "replace of a decommissioned node",
            "faults[0].replace.node",
            "n3 already left at 10 s (faults[1], decommission)",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 20, "replace": { "node": "n3", "with": "n8" } },
                    { "at_s": 10, "decommission": { "node": "n3" } }
                ]);
            },
        ),
        case(
            "decommission of a replaced node",
            "faults[1].decommission.node",
            "n3 already left at 10 s (faults[0], replace)",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "replace": { "node": "n3", "with": "n8" } },
                    { "at_s": 20, "decommission": { "node": "n3" } }
                ]);
            },
        ),
        case(
            "decommission of a joiner before it joins",
            "faults[0].decommission.node",
            "n8 joins at 10 s (faults[1]); expected a time at or after it",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 5, "decommission": { "node": "n8" } },
                    { "at_s": 10, "join": { "node": "n8" } }
                ]);
            },
        ),
        case(
            "replace of a joiner listed before its join at the same time",
            "faults[0].replace.node",
            "n8 joins at 10 s (faults[1]), listed after this fault",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "replace": { "node": "n8", "with": "n9" } },
                    { "at_s": 10, "join": { "node": "n8" } }
                ]);
            },
        ),
        case(
            "crash of a joiner before it joins",
            "faults[1].crash.node",
            "n8 joins at 10 s (faults[0]); expected a time at or after it",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "join": { "node": "n8" } },
                    { "at_s": 5, "crash": { "node": "n8" } }
                ]);
            },
        ),
        case(
            "clock skew on a replacement before it exists",
            "faults[1].clock_skew.node",
            "n8 joins at 10 s (faults[0])",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "replace": { "node": "n3", "with": "n8" } },
                    { "at_s": 2, "clock_skew": { "node": "n8", "offset_ms": 5 } }
                ]);
            },
        ),
        case(
            "partition naming a joiner before it joins",
            "faults[1].partition.groups[0][1]",
            "n8 joins at 10 s (faults[0]); expected a time at or after it",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "join": { "node": "n8" } },
                    { "at_s": 5, "for_s": 2, "partition": { "groups": [["n0", "n8"], ["n1"]] } }
                ]);
            },
        ),
        case(
            "degraded link to a joiner before it joins",
            "faults[1].degrade_links.to[0]",
            "n8 joins at 10 s",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "join": { "node": "n8" } },
                    { "at_s": 5, "degrade_links": { "from": ["n0"], "to": ["n8"], "extra_loss": 0.5 } }
                ]);
            },
        ),
        case(
            "slow node after it was decommissioned",
            "faults[1].slow_node.node",
            "n3 leaves at 10 s (faults[0], decommission); expected a time before it",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 10, "decommission": { "node": "n3" } },
                    { "at_s": 15, "slow_node": { "node": "n3", "extra_latency": { "constant": { "ms": 5 } } } }
                ]);
            },
        ),
        case(
            "decommission below N members",
            "faults[0].decommission.node",
            "decommissioning n2 leaves 2 members; expected at least N = 3 (cluster.quorum.n) at every point",
            |v| {
                gossip(v);
                v["cluster"]["nodes"] = json!(3);
                v["faults"] = json!([{ "at_s": 10, "decommission": { "node": "n2" } }]);
            },
        ),
        case(
            "a join whose seeds have all left",
            "faults[1].join",
            "no seed (n0) is a member at 10 s",
            |v| {
                gossip(v);
                v["cluster"]["membership"]["seeds"] = json!(["n0"]);
                v["faults"] = json!([
                    { "at_s": 5, "decommission": { "node": "n0" } },
                    { "at_s": 10, "join": { "node": "n8" } }
                ]);
            },
        ),
        case(
            "replacing the only seed",
            "faults[0].replace",
            "no seed (n0) other than n0 is a member at 10 s",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 10, "replace": { "node": "n0", "with": "n8" } }]);
            },
        ),
        case(
            "for_s on a join",
            "faults[0].for_s",
            "cannot be undone",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "for_s": 3, "join": { "node": "n8" } }]);
            },
        ),
        case(
            "join and crash in one fault",
            "faults[0]",
            "expected exactly one action (crash, restart, partition, isolate, partition_one_way, heal_all, degrade_links, slow_node, clock_skew, join, decommission, replace, corrupt, cpu_slowdown, disk_slowdown, disk_stall, bandwidth_drop), got 2",
            |v| {
                gossip(v);
                v["faults"] = json!([
                    { "at_s": 5, "join": { "node": "n8" }, "crash": { "node": "n1" } }
                ]);
            },
        ),
        case(
            "nemesis crash list naming a joiner",
            "nemesis.crashes.nodes[1]",
            "\"n8\" joins later (faults[0]); expected an initial node",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n8" } }]);
                v["nemesis"] = json!({ "crashes": {
                    "mtbf_s": 30, "downtime": { "constant": { "ms": 100 } }, "nodes": ["n0", "n8"]
                } });
            },
        ),
        case(
            "equal partitions fewer than the members after joins",
            "cluster.partitioning.partitions",
            "8 is fewer than the 9 members the cluster reaches with joins",
            |v| {
                gossip(v);
                v["cluster"]["partitioning"] =
                    json!({ "strategy": "equal_partitions", "partitions": 8 });
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n8" } }]);
            },
        ),
        case(
            "quorum n above the initial nodes",
            "cluster.quorum.n",
            "3 exceeds the number of nodes (2) at the start; nodes that join later do not count",
            |v| {
                gossip(v);
                v["cluster"]["nodes"] = json!(2);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n2" } }]);
            },
        ),
        case(
            "unknown seed",
            "cluster.membership.seeds[1]",
            "unknown node \"ghost\"",
            |v| v["cluster"]["membership"] = json!({ "seeds": ["n0", "ghost"] }),
        ),
        case(
            "seed that joins later",
            "cluster.membership.seeds[0]",
            "\"n8\" joins later (faults[0]); expected an initial node",
            |v| {
                v["cluster"]["membership"] = json!({ "seeds": ["n8"] });
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n8" } }]);
            },
        ),
        case(
            "duplicate seed",
            "cluster.membership.seeds[2]",
            "duplicate seed \"n0\"",
            |v| v["cluster"]["membership"] = json!({ "seeds": ["n0", "n4", "n0"] }),
        ),
        case(
            "empty seed list",
            "cluster.membership.seeds",
            "expected at least one seed",
            |v| v["cluster"]["membership"] = json!({ "seeds": [] }),
        ),
        case(
            "zero gossip interval",
            "cluster.membership.gossip_interval_ms",
            "positive duration, got 0",
            |v| v["cluster"]["membership"] = json!({ "gossip_interval_ms": 0 }),
        ),
        case(
            "zero transfer batch",
            "cluster.membership.transfer_batch",
            "expected at least 1",
            |v| v["cluster"]["membership"] = json!({ "transfer_batch": 0 }),
        ),
        case(
            "phi threshold zero",
            "cluster.membership.failure_detector.phi_accrual.threshold",
            "expected a positive finite number, got 0",
            |v| {
                v["cluster"]["membership"] =
                    json!({ "failure_detector": { "phi_accrual": { "threshold": 0 } } })
            },
        ),
        case(
            "phi window of one sample",
            "cluster.membership.failure_detector.phi_accrual.window",
            "expected 2..=10000 samples, got 1",
            |v| {
                v["cluster"]["membership"] =
                    json!({ "failure_detector": { "phi_accrual": { "window": 1 } } })
            },
        ),
        case(
            "phi window too large",
            "cluster.membership.failure_detector.phi_accrual.window",
            "expected 2..=10000 samples, got 10001",
            |v| {
                v["cluster"]["membership"] =
                    json!({ "failure_detector": { "phi_accrual": { "window": 10001 } } })
            },
        ),
        case(
            "phi min stddev zero",
            "cluster.membership.failure_detector.phi_accrual.min_stddev_ms",
            "positive duration, got 0",
            |v| {
                v["cluster"]["membership"] =
                    json!({ "failure_detector": { "phi_accrual": { "min_stddev_ms": 0 } } })
            },
        ),
        case(
            "unknown failure detector",
            "cluster.membership.failure_detector",
            "unknown variant `heartbeat`",
            |v| v["cluster"]["membership"] = json!({ "failure_detector": "heartbeat" }),
        ),
        case(
            "unknown field in membership",
            "cluster.membership.gossip_ms",
            "unknown field `gossip_ms`",
            |v| v["cluster"]["membership"] = json!({ "gossip_ms": 100 }),
        ),
        case(
            "unknown field in a join",
            "faults[0].join.dc",
            "unknown field `dc`",
            |v| {
                gossip(v);
                v["faults"] = json!([{ "at_s": 5, "join": { "node": "n8", "dc": "dc1" } }]);
            },
        ),
        // ------------------------------------------------------------- shape
        case(
            "unknown field at top level",
            "durration_s",
            "unknown field `durration_s`",
            |v| v["durration_s"] = json!(60),
        ),
        case(
            "unknown field nested",
            "cluster.quorum.x",
            "unknown field `x`, expected one of `n`, `r`, `w`",
            |v| v["cluster"]["quorum"]["x"] = json!(1),
        ),
        case(
            "unknown field in a fault",
            "faults[0].crash.disk",
            "unknown field `disk`",
            |v| v["faults"] = json!([{ "at_s": 5, "crash": { "node": "n1", "disk": true } }]),
        ),
        case(
            "wrong type for duration",
            "duration_s",
            "invalid type: string \"ten\", expected f64",
            |v| v["duration_s"] = json!("ten"),
        ),
        case(
            "unknown partitioning strategy",
            "cluster.partitioning.strategy",
            "unknown variant `consistent_hashing`",
            |v| v["cluster"]["partitioning"] = json!({ "strategy": "consistent_hashing" }),
        ),
        case(
            "missing required name",
            "(root)",
            "missing field `name`",
            |v| {
                v.as_object_mut().unwrap().remove("name");
            },
        ),
        // ---------------------------------------------------- run and names
        case(
            "zero duration",
            "duration_s",
            "positive duration, got 0",
            |v| v["duration_s"] = json!(0),
        ),
        case("empty name", "name", "non-empty name", |v| {
            v["name"] = json!("  ")
        }),
        case("max_events zero", "max_events", "positive number", |v| {
            v["max_events"] = json!(0)
        }),
        case(
            "duplicate node names",
            "cluster.nodes[2].name",
            "duplicate name \"a\"",
            |v| {
                v["cluster"]["nodes"] = json!([{ "name": "a" }, { "name": "b" }, { "name": "a" }]);
                v["cluster"]["quorum"] = json!({ "n": 1, "r": 1, "w": 1 });
                v["cluster"]["partitioning"] =
                    json!({ "strategy": "random_tokens", "tokens_per_node": 8 });
            },
        ),
        case(
            "node name clashing with a client name",
            "workload.clients[0].name",
            "duplicate name \"n0\"",
            |v| v["workload"]["clients"] = json!([{ "name": "n0" }]),
        ),
        case(
            "unknown datacenter",
            "cluster.nodes[1].datacenter",
            "unknown datacenter \"mars\"",
            |v| {
                v["datacenters"] = json!(["east", "west"]);
                v["cluster"]["nodes"] = json!([
                    { "name": "a", "datacenter": "east" },
                    { "name": "b", "datacenter": "mars" },
                    { "name": "c", "datacenter": "west" }
                ]);
            },
        ),
        case(
            "duplicate datacenter",
            "datacenters[1]",
            "duplicate datacenter name \"east\"",
            |v| v["datacenters"] = json!(["east", "east"]),
        ),
        case(
            "datacenter link to an unknown datacenter",
            "network.datacenter_links[0].between[1]",
            "unknown datacenter \"moon\"",
            |v| {
                v["network"]["datacenter_links"] =
                    json!([{ "between": ["dc1", "moon"], "loss": 0.1 }])
            },
        ),
        // ----------------------------------------------------------- expect
        case(
            "expect bound with min above max",
            "expect[\"availability\"]",
            "min = 1 exceeds max = 0.5",
            |v| v["expect"]["availability"] = json!({ "min": 1.0, "max": 0.5 }),
        ),
        case(
            "expect bound with neither min nor max",
            "expect[\"availability\"]",
            "expected \"min\", \"max\" or both",
            |v| v["expect"]["availability"] = json!({}),
        ),
        // --------------------------------------------------------- workload
        case(
            "zero clients",
            "workload.clients",
            "at least one client",
            |v| v["workload"]["clients"] = json!(0),
        ),
        case(
            "zero keys",
            "workload.keys.count",
            "expected 1..=100000000 keys, got 0",
            |v| v["workload"]["keys"]["count"] = json!(0),
        ),
        case(
            "load phase over too many keys",
            "workload.keys.preload",
            "expected at most 10000000 keys with a load phase (it stores every key N times before the run), got 20000000",
            |v| v["workload"]["keys"] = json!({ "count": 20_000_000, "preload": true }),
        ),
        case(
            "mix all zero",
            "workload.mix",
            "at least one positive weight",
            |v| v["workload"]["mix"] = json!({ "read": 0, "blind_write": 0 }),
        ),
        case(
            "negative mix weight",
            "workload.mix.delete",
            "non-negative weight, got -1",
            |v| v["workload"]["mix"]["delete"] = json!(-1),
        ),
        case(
            "open-loop rate zero",
            "workload.arrival.open_loop.rate_per_s",
            "expected a rate in (0, 1000000], got 0",
            |v| v["workload"]["arrival"] = json!({ "open_loop": { "rate_per_s": 0 } }),
        ),
        case(
            "zipf exponent too large",
            "workload.keys.popularity.zipfian",
            "exponent in [0, 10], got 11",
            |v| v["workload"]["keys"]["popularity"] = json!({ "zipfian": 11 }),
        ),
        // --------------------------------------------------------- cluster
        case(
            "equal partitions fewer than nodes",
            "cluster.partitioning.partitions",
            "4 is fewer than the 8 nodes",
            |v| {
                v["cluster"]["partitioning"] =
                    json!({ "strategy": "equal_partitions", "partitions": 4 })
            },
        ),
        case(
            "zero tokens per node",
            "cluster.partitioning.tokens_per_node",
            "expected 1..=4096, got 0",
            |v| {
                v["cluster"]["partitioning"] =
                    json!({ "strategy": "random_tokens", "tokens_per_node": 0 })
            },
        ),
        case(
            "zero request timeout",
            "cluster.request_timeout_ms",
            "positive duration, got 0",
            |v| v["cluster"]["request_timeout_ms"] = json!(0),
        ),
        case(
            "non-increasing t-visibility grid",
            "metrics.t_visibility_grid_ms[2]",
            "increasing non-negative values, got 1",
            |v| v["metrics"] = json!({ "t_visibility_grid_ms": [0, 1, 1, 5] }),
        ),
        // --------------------------------------------- versions (issue 14)
        case(
            "unknown versioning mode",
            "cluster.versioning",
            "unknown variant `dotted_vectors`",
            |v| v["cluster"]["versioning"] = json!("dotted_vectors"),
        ),
        case(
            "unknown fallback read rule",
            "cluster.fallback_reads",
            "unknown variant `sometimes`",
            |v| v["cluster"]["fallback_reads"] = json!("sometimes"),
        ),
        case(
            "unknown disk-loss identity",
            "cluster.disk_loss_identity",
            "unknown variant `fresh`",
            |v| v["cluster"]["disk_loss_identity"] = json!("fresh"),
        ),
        case(
            "sibling refusal limit of zero",
            "cluster.sibling_limits.refuse_above",
            "expected at least 1",
            |v| v["cluster"]["sibling_limits"] = json!({ "refuse_above": 0 }),
        ),
        case(
            "sibling warning limit of zero",
            "cluster.sibling_limits.warn_above",
            "expected at least 1",
            |v| v["cluster"]["sibling_limits"] = json!({ "warn_above": 0 }),
        ),
        case(
            "sibling warning above the refusal",
            "cluster.sibling_limits.warn_above",
            "above refuse_above (10)",
            |v| v["cluster"]["sibling_limits"] = json!({ "warn_above": 20, "refuse_above": 10 }),
        ),
        case(
            "empty sibling limits",
            "cluster.sibling_limits",
            "expected warn_above, refuse_above or both",
            |v| v["cluster"]["sibling_limits"] = json!({}),
        ),
        case(
            "unknown field in sibling limits",
            "cluster.sibling_limits.max",
            "unknown field `max`",
            |v| v["cluster"]["sibling_limits"] = json!({ "max": 5 }),
        ),
        case(
            "sibling threshold of zero",
            "metrics.sibling_threshold",
            "expected at least 1",
            |v| v["metrics"] = json!({ "sibling_threshold": 0 }),
        ),
        case(
            "corruption fraction above one",
            "faults[0].corrupt.fraction",
            "probability in [0, 1]",
            |v| v["faults"] = json!([{ "at_s": 5, "corrupt": { "node": "n1", "fraction": 1.5 } }]),
        ),
        case(
            "corruption fraction negative",
            "faults[0].corrupt.fraction",
            "got -0.2",
            |v| v["faults"] = json!([{ "at_s": 5, "corrupt": { "node": "n1", "fraction": -0.2 } }]),
        ),
        case(
            "corruption of an unknown node",
            "faults[0].corrupt.node",
            "unknown node \"n99\"",
            |v| v["faults"] = json!([{ "at_s": 5, "corrupt": { "node": "n99" } }]),
        ),
        case(
            "corruption key range backwards",
            "faults[0].corrupt.keys",
            "first <= last, got [9, 3]",
            |v| v["faults"] = json!([{ "at_s": 5, "corrupt": { "node": "n1", "keys": [9, 3] } }]),
        ),
        case(
            "corruption with a window",
            "faults[0].for_s",
            "cannot be undone",
            |v| v["faults"] = json!([{ "at_s": 5, "for_s": 2, "corrupt": { "node": "n1" } }]),
        ),
        // ----------------------------------------------------------- syntax
        Case {
            name: "truncated JSON",
            input: Input::Text(|t| t[..t.len() / 2].to_string()),
            path: "(syntax)",
            message: "EOF while parsing",
        },
        Case {
            name: "trailing comma",
            input: Input::Text(|_| "{\"name\": \"x\",}".to_string()),
            path: "(syntax)",
            message: "line 1, column 14",
        },
        // ------------------------------------------- sizes (issue 19)
        case(
            "duration beyond 10^9 s",
            "duration_s",
            "expected at most 1000000000 s (10^9 s, about 31 years), got 1e15",
            |v| v["duration_s"] = json!(1e15),
        ),
        case(
            "timeout beyond 10^9 s",
            "cluster.request_timeout_ms",
            "expected at most 1000000000000 ms",
            |v| v["cluster"]["request_timeout_ms"] = json!(1e13),
        ),
        case(
            "a million nodes",
            "cluster.nodes",
            "expected at most 4096 nodes, got 1000000",
            |v| v["cluster"]["nodes"] = json!(1_000_000),
        ),
        case(
            "too many clients",
            "workload.clients",
            "expected at most 4096 clients, got 5000",
            |v| v["workload"]["clients"] = json!(5000),
        ),
        case(
            "t-visibility grid too fine",
            "metrics.t_visibility_grid_ms",
            "expected at most 10000 points, got 10001",
            |v| {
                let grid: Vec<u32> = (0..10_001).collect();
                v["metrics"] = json!({ "t_visibility_grid_ms": grid });
            },
        ),
        case(
            "empirical distribution too fine",
            "network.latency.empirical.points",
            "expected at most 100000 points, got 100001",
            |v| {
                let points: Vec<[f64; 2]> = (0..=100_000)
                    .map(|i| [f64::from(i), f64::from(i) / 100_000.0])
                    .collect();
                v["network"]["latency"] = json!({ "empirical": { "points": points } });
            },
        ),
        case(
            "name with a slash",
            "name",
            "expected a name without '/'",
            |v| v["name"] = json!("../../etc"),
        ),
        case(
            "name too long",
            "name",
            "expected at most 128 characters, got 129",
            |v| v["name"] = json!("x".repeat(129)),
        ),
        case(
            "node name too long",
            "cluster.nodes[1].name",
            "expected at most 128 characters, got 200",
            |v| v["cluster"]["nodes"] = json!([{ "name": "a" }, { "name": "b".repeat(200) }, { "name": "c" }]),
        ),
        case(
            "links expanding past the 16-bit link table",
            "network.links[0].between",
            "expands to 67108864 endpoint pairs",
            |v| {
                v["cluster"]["nodes"] = json!(4096);
                v["workload"]["clients"] = json!(4096);
                v["cluster"]["partitioning"]["partitions"] = json!(4096);
                v["network"]["links"] =
                    json!([{ "between": ["dc1", "dc1"], "latency": { "constant": { "ms": 2 } } }]);
            },
        ),
        case(
            "too many link entries",
            "network.links[65534].between",
            "expected at most 65535 links in all",
            |v| {
                let link = json!({ "between": ["n0", "n1"], "latency": { "constant": { "ms": 2 } } });
                v["network"]["links"] = json!(vec![link; 70_000]);
            },
        ),
        case(
            "description too long",
            "description",
            "expected at most 16384 characters, got 16385",
            |v| v["description"] = json!("d".repeat(16_385)),
        ),
        // ---- node capacity (cluster.capacity, workload.value_size, gray failures)
        case(
            "zero workers",
            "cluster.capacity.cpu.workers",
            "expected 1..=1000000, got 0",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 0,
                    "service": {"default": {"constant": {"ms": 0.1}}}}});
            },
        ),
        case(
            "zero service time (infinite rate)",
            "cluster.capacity.cpu.service.default",
            "expected a service time with a positive mean",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0}}}}});
            },
        ),
        case(
            "negative service time",
            "cluster.capacity.cpu.service.default.constant.ms",
            "expected a non-negative number of milliseconds, got -1",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": -1}}}}});
            },
        ),
        case(
            "service for an unknown message kind",
            "cluster.capacity.cpu.service.by_kind.gets",
            "unknown message kind; expected one of client_request",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}},
                                "by_kind": {"gets": {"constant": {"ms": 0.1}}}}}});
            },
        ),
        case(
            "an anti-entropy partner rule that does not exist",
            "cluster.anti_entropy.partners",
            "unknown variant `gossip`, expected `round_robin` or `random`",
            |v| v["cluster"]["anti_entropy"] = json!({"partners": "gossip"}),
        ),
        case(
            "an overload policy that does not exist",
            "cluster.capacity.cpu.overload",
            "unknown variant `drop_newest`, expected `reject` or `shed_oldest`",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}}}, "overload": "drop_newest"}});
            },
        ),
        case(
            "zero disk concurrency",
            "cluster.capacity.disk.concurrency",
            "expected 1..=1000000, got 0",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 0}});
            },
        ),
        case(
            "a disk whose storage latency is zero",
            "cluster.capacity.disk.read",
            "has mean 0; give the disk a positive one",
            |v| {
                v["cluster"]["storage"]["read_latency"] = json!({"constant": {"ms": 0}});
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2}});
            },
        ),
        case(
            "zero bandwidth",
            "cluster.capacity.nic.bandwidth_mb_per_s",
            "expected a positive bandwidth in MB/s (at most 1e9), got 0",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 0}});
            },
        ),
        case(
            "infinite bandwidth",
            "cluster.capacity.nic.egress_mb_per_s",
            "expected a positive bandwidth in MB/s (at most 1e9), got 1e300",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 100, "egress_mb_per_s": 1e300}});
            },
        ),
        case(
            "no bandwidth at all",
            "cluster.capacity.nic.egress_mb_per_s",
            "expected a bandwidth: set bandwidth_mb_per_s (both ways) or this field",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"ingress_mb_per_s": 100}});
            },
        ),
        case(
            "a negative network queue limit",
            "cluster.capacity.nic.queue_limit_mb",
            "expected a positive number of megabytes (at most 1e6), got -5",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 100, "queue_limit_mb": -5}});
            },
        ),
        case(
            "a negative queue limit",
            "cluster.capacity.cpu.queue_limit",
            "invalid value: integer `-1`, expected u32",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}}}, "queue_limit": -1}});
            },
        ),
        case(
            "an override naming an unknown node",
            "cluster.capacity.overrides[0].nodes[0]",
            "unknown node",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2},
                    "overrides": [{"nodes": ["n99"], "disk": {"concurrency": 1}}]});
            },
        ),
        case(
            "a node overridden twice",
            "cluster.capacity.overrides[1].nodes[0]",
            "n1 is already overridden by cluster.capacity.overrides[0]",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2},
                    "overrides": [{"nodes": ["n1"], "disk": {"concurrency": 1}},
                                  {"nodes": ["n1"], "disk": {"concurrency": 3}}]});
            },
        ),
        case(
            "admission control percentile outside (0, 1)",
            "cluster.capacity.admission_control.percentile",
            "expected a number in (0, 1), got 1.5",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2},
                    "admission_control": {"percentile": 1.5, "target_ms": 10}});
            },
        ),
        case(
            "admission control with nothing to watch",
            "cluster.capacity.admission_control",
            "expected cluster.capacity.cpu or .disk",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 100},
                    "admission_control": {"target_ms": 10}});
            },
        ),
        case(
            "a zero value size",
            "workload.value_size.constant.bytes",
            "expected a positive number of bytes of at most 1 GiB, got 0",
            |v| {
                v["workload"]["value_size"] = json!({"constant": {"bytes": 0}});
            },
        ),
        case(
            "an infinite value size",
            "workload.value_size.lognormal.median_bytes",
            "expected a positive number of bytes of at most 1 GiB",
            |v| {
                v["workload"]["value_size"] = json!({"lognormal": {"median_bytes": 1e300, "sigma": 1}});
            },
        ),
        case(
            "a CPU slowdown on a node without a request queue",
            "faults[0].cpu_slowdown.node",
            "n1 has no cpu queue to slow down; expected cluster.capacity.cpu",
            |v| {
                v["faults"] = json!([{"at_s": 5, "for_s": 5, "cpu_slowdown": {"node": "n1", "factor": 4}}]);
            },
        ),
        case(
            "a slowdown factor below 1",
            "faults[0].disk_slowdown.factor",
            "expected how many times slower, a number in [1, 1e6], got 0",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2}});
                v["faults"] = json!([{"at_s": 5, "for_s": 5, "disk_slowdown": {"node": "n1", "factor": 0}}]);
            },
        ),
        case(
            "a disk stall without a window",
            "faults[0].for_s",
            "a disk stall needs a window: set for_s",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2}});
                v["faults"] = json!([{"at_s": 5, "disk_stall": {"node": "n1"}}]);
            },
        ),
        // ---- node capacity at its limits (issue 19: sizes, no cascade)
        case(
            "ten million workers",
            "cluster.capacity.cpu.workers",
            "expected 1..=1000000, got 10000000",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 10_000_000,
                    "service": {"default": {"constant": {"ms": 0.1}}}}});
            },
        ),
        case(
            "a request queue limit beyond 32 bits",
            "cluster.capacity.cpu.queue_limit",
            "expected u32",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}}}, "queue_limit": 10_000_000_000u64}});
            },
        ),
        case(
            "a disk queue limit beyond 32 bits",
            "cluster.capacity.disk.queue_limit",
            "expected u32",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2, "queue_limit": 1e10}});
            },
        ),
        case(
            "a network queue of ten terabytes",
            "cluster.capacity.nic.queue_limit_mb",
            "expected a positive number of megabytes (at most 1e6), got 10000000",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 100, "queue_limit_mb": 1e7}});
            },
        ),
        case(
            "a per-megabyte cost of 1e300 ms (printed short)",
            "cluster.capacity.cpu.per_mb_ms",
            "(10^9 s, about 31 years), got 1e300",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}}}, "per_mb_ms": 1e300}});
            },
        ),
        case(
            "an admission window of 1e300 s",
            "cluster.capacity.admission_control.window_s",
            "got 1e300",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2},
                    "admission_control": {"window_s": 1e300, "target_ms": 10}});
            },
        ),
        case(
            "a value size spread too wide to have a mean",
            "workload.value_size.lognormal.sigma",
            "expected a number in [0, 10], got 30",
            |v| {
                v["workload"]["value_size"] = json!({"lognormal": {"median_bytes": 100, "sigma": 30}});
            },
        ),
        case(
            "a value of 2 GiB",
            "workload.value_size.constant.bytes",
            "expected a positive number of bytes of at most 1 GiB",
            |v| {
                v["workload"]["value_size"] = json!({"constant": {"bytes": 2_147_483_648u64}});
            },
        ),
        case(
            "a bandwidth drop of ten million times",
            "faults[0].bandwidth_drop.factor",
            "expected how many times slower, a number in [1, 1e6], got 10000000",
            |v| {
                v["cluster"]["capacity"] = json!({"nic": {"bandwidth_mb_per_s": 100}});
                v["faults"] = json!([{"at_s": 1, "for_s": 1, "bandwidth_drop": {"node": "n1", "factor": 1e7}}]);
            },
        ),
        case(
            "a bandwidth drop on a node without an interface",
            "faults[0].bandwidth_drop.node",
            "n1 has no nic queue to slow down",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2}});
                v["faults"] = json!([{"at_s": 1, "for_s": 1, "bandwidth_drop": {"node": "n1", "factor": 2}}]);
            },
        ),
        case(
            "a disk stall on an unknown node",
            "faults[0].disk_stall.node",
            "unknown node",
            |v| {
                v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2}});
                v["faults"] = json!([{"at_s": 1, "for_s": 1, "disk_stall": {"node": "n99"}}]);
            },
        ),
        case(
            "a slowdown without a factor",
            "faults[0].cpu_slowdown",
            "missing field `factor`",
            |v| {
                v["cluster"]["capacity"] = json!({"cpu": {"workers": 2,
                    "service": {"default": {"constant": {"ms": 0.1}}}}});
                v["faults"] = json!([{"at_s": 1, "for_s": 1, "cpu_slowdown": {"node": "n1"}}]);
            },
        ),
        case(
            "an unknown resource",
            "cluster.capacity.gpu",
            "unknown field `gpu`",
            |v| {
                v["cluster"]["capacity"] = json!({"gpu": {}});
            },
        ),
        case(
            "reads during transfer that are neither served nor declined",
            "cluster.membership.reads_during_transfer",
            "unknown variant `maybe`, expected `served` or `declined`",
            |v| {
                v["cluster"]["membership"] = json!({"reads_during_transfer": "maybe"});
            },
        ),
    ]
}

fn describe(errors: &ScenarioErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("    [{}] {e}", e.path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs one case; `Err` says what went wrong.
fn check(case: &Case, base_text: &str) -> Result<(), String> {
    let text = match &case.input {
        Input::Mutate(f) => {
            let mut v = base();
            f(&mut v);
            serde_json::to_string_pretty(&v).expect("a Value serializes")
        }
        Input::Text(f) => f(base_text),
    };
    let result = std::panic::catch_unwind(|| parse(&text, &sim_core::scenario::no_files));
    let errors = match result {
        Err(_) => return Err("parse panicked".to_string()),
        Ok(Ok(_)) => return Err("parse accepted the input".to_string()),
        Ok(Err(errors)) => errors,
    };
    if errors.0.is_empty() {
        return Err("parse returned an empty error list".to_string());
    }
    let hit = errors
        .0
        .iter()
        .any(|e| e.path() == case.path && e.to_string().contains(case.message));
    if hit {
        Ok(())
    } else {
        Err(format!(
            "expected an error at `{}` containing {:?}; got:\n{}",
            case.path,
            case.message,
            describe(&errors)
        ))
    }
}

#[test]
fn base_scenario_is_valid() {
    if let Err(e) = parse_value(&base()) {
        panic!("base scenario rejected:\n{}", describe(&e));
    }
}

#[test]
fn each_bad_input_is_rejected_with_its_path_and_reason() {
    let base_text = serde_json::to_string_pretty(&base()).unwrap();
    let cases = cases();
    assert!(cases.len() >= 30, "the table covers at least 30 cases");
    let mut names = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        if let Err(why) = check(case, &base_text) {
            failures.push(format!("case `{}`: {why}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn quorum_r_above_n_is_rejected_with_its_path() {
    let mut v = base();
    v["cluster"]["quorum"]["r"] = json!(4);
    let errors = parse_value(&v).expect_err("r = 4 > n = 3");
    assert_eq!(
        errors.0,
        vec![ScenarioError::Invalid {
            path: "cluster.quorum.r".to_string(),
            message: "4 exceeds n = 3".to_string(),
        }]
    );
    assert_eq!(errors.to_string(), "cluster.quorum.r: 4 exceeds n = 3");
}

#[test]
fn truncated_json_is_a_syntax_error_with_a_position() {
    let text = serde_json::to_string_pretty(&base()).unwrap();
    let cut = &text[..text.len() / 2];
    let errors = parse(cut, &sim_core::scenario::no_files).expect_err("truncated");
    assert_eq!(errors.0.len(), 1, "{}", describe(&errors));
    match &errors.0[0] {
        ScenarioError::Syntax {
            line,
            column,
            message,
        } => {
            assert!(*line > 0 && *column > 0, "line {line}, column {column}");
            assert!(
                *line > 1,
                "a pretty-printed file cut in half ends past line 1"
            );
            assert!(!message.contains(" at line "), "position is not repeated");
            let shown = errors.0[0].to_string();
            assert!(
                shown.starts_with(&format!("line {line}, column {column}: ")),
                "{shown}"
            );
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert_eq!(errors.0[0].path(), "(syntax)");
}

#[test]
fn shape_errors_stop_at_the_first_problem_with_one_entry() {
    let mut v = base();
    v["duration_s"] = json!("ten");
    v["cluster"]["quorum"]["x"] = json!(1);
    let errors = parse_file(&v.to_string()).expect_err("two shape problems");
    assert_eq!(errors.0.len(), 1, "{}", describe(&errors));
    assert!(matches!(errors.0[0], ScenarioError::Shape { .. }));
}

#[test]
fn validation_collects_every_independent_problem() {
    let mut v = base();
    v["cluster"]["quorum"]["r"] = json!(4);
    v["network"]["loss"] = json!(1.5);
    v["workload"]["keys"]["count"] = json!(0);
    let errors = parse_value(&v).expect_err("three problems");
    let paths: Vec<&str> = errors.0.iter().map(ScenarioError::path).collect();
    assert_eq!(
        paths,
        vec!["cluster.quorum.r", "network.loss", "workload.keys.count"],
        "{}",
        describe(&errors)
    );
    assert!(errors
        .0
        .iter()
        .all(|e| matches!(e, ScenarioError::Invalid { .. })));
    // Display lists one problem per line.
    assert_eq!(errors.to_string().lines().count(), 3);
}

#[test]
fn problems_in_several_faults_are_all_reported() {
    let mut v = base();
    v["faults"] = json!([
        { "at_s": 1, "crash": { "node": "x1" } },
        { "at_s": 2, "slow_node": { "node": "x2", "extra_latency": { "constant": { "ms": -3 } } } },
        { "at_s": 3, "heal_all": true, "for_s": 1 }
    ]);
    let errors = parse_value(&v).expect_err("three bad faults");
    let paths: Vec<&str> = errors.0.iter().map(ScenarioError::path).collect();
    for want in [
        "faults[0].crash.node",
        "faults[1].slow_node.node",
        "faults[1].slow_node.extra_latency.constant.ms",
        "faults[2].for_s",
    ] {
        assert!(
            paths.contains(&want),
            "missing {want}:\n{}",
            describe(&errors)
        );
    }
}

#[test]
fn validate_reports_the_same_problems_as_parse() {
    let mut v = base();
    v["cluster"]["quorum"]["w"] = json!(7);
    let file = parse_file(&v.to_string()).expect("shape is fine");
    let direct = validate(&file, &sim_core::scenario::no_files).expect_err("w > n");
    let via_parse = parse_value(&v).expect_err("w > n");
    assert_eq!(direct, via_parse);
}

// ------------------------------------------------------------ membership

#[test]
fn membership_is_absent_by_default_and_every_node_is_initial() {
    let s = parse(&base().to_string(), &sim_core::scenario::no_files).expect("valid");
    assert!(s.cluster.membership.is_none());
    assert_eq!(s.cluster.initial_nodes, 8);
    assert_eq!(s.cluster.nodes.len(), 8);
}

#[test]
fn joins_and_replacements_get_ids_after_the_initial_nodes() {
    use sim_core::config::FailureDetectorKind;
    use sim_core::dynamo::protocol::Endpoint;
    use sim_core::engine::ids::{DatacenterId, NodeId};
    use sim_core::engine::time::SimDuration;
    use sim_core::world::faults::FaultAction;

    let mut v = base();
    v["datacenters"] = json!(["east", "west"]);
    v["cluster"]["nodes"] = json!([
        { "name": "w0", "datacenter": "west" },
        { "name": "e0", "datacenter": "east" },
        { "name": "e1", "datacenter": "east" },
        { "name": "w1", "datacenter": "west" }
    ]);
    v["cluster"]["membership"] = json!({});
    v["network"]["links"] = json!([{ "between": ["e9", "c0"], "loss": 0.5 }]);
    v["faults"] = json!([
        // File order fixes the ids; time order is how they take effect.
        { "at_s": 30, "replace": { "node": "w1", "with": "w9" } },
        { "at_s": 10, "join": { "node": "e9" } },
        { "at_s": 20, "crash": { "node": "e9" }, "for_s": 5 },
        { "at_s": 40, "replace": { "node": "e9", "with": "x9", "datacenter": "west" } },
        { "at_s": 45, "decommission": { "node": "x9" } },
        { "at_s": 50, "decommission": { "node": "e1" } }
    ]);
    let s = parse(&v.to_string(), &sim_core::scenario::no_files)
        .unwrap_or_else(|e| panic!("rejected:\n{e}"));
    let c = &s.cluster;
    assert_eq!(c.initial_nodes, 4);
    let nodes: Vec<(&str, u16)> = c
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.datacenter.0))
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("w0", 1),
            ("e0", 0),
            ("e1", 0),
            ("w1", 1),
            ("w9", 1), // replace: the replaced node's datacenter
            ("e9", 0), // join: the first datacenter by default
            ("x9", 1), // replace with an explicit datacenter
        ]
    );
    let m = c.membership.as_ref().expect("membership is on");
    // The first node of each datacenter, in datacenter order.
    assert_eq!(m.seeds, vec![NodeId(1), NodeId(0)]);
    assert_eq!(m.gossip_interval, SimDuration::from_millis(1000));
    assert_eq!(m.failure_detector, FailureDetectorKind::Local);
    assert_eq!(m.transfer_batch, 64);
    let actions: Vec<(u64, FaultAction)> = s
        .faults
        .iter()
        .map(|f| (f.at.as_micros() / 1_000_000, f.action.clone()))
        .collect();
    assert_eq!(
        actions,
        vec![
            (10, FaultAction::Join { node: NodeId(5) }),
            (
                20,
                FaultAction::Crash {
                    node: NodeId(5),
                    disk_loss: false
                }
            ),
            (25, FaultAction::Restart { node: NodeId(5) }),
            (
                30,
                FaultAction::Replace {
                    node: NodeId(3),
                    with: NodeId(4)
                }
            ),
            (
                40,
                FaultAction::Replace {
                    node: NodeId(5),
                    with: NodeId(6)
                }
            ),
            (45, FaultAction::Decommission { node: NodeId(6) }),
            (50, FaultAction::Decommission { node: NodeId(2) }),
        ]
    );
    // A network link may name a node that joins later.
    assert!(s
        .network
        .endpoint_links
        .iter()
        .any(|(a, _, _)| *a == Endpoint::Node(NodeId(5))));
    assert_eq!(c.nodes[5].datacenter, DatacenterId(0));
}

#[test]
fn membership_settings_and_phi_accrual_defaults() {
    use sim_core::config::FailureDetectorKind;
    use sim_core::engine::ids::NodeId;
    use sim_core::engine::time::SimDuration;

    let mut v = base();
    v["cluster"]["membership"] = json!({ "failure_detector": { "phi_accrual": {} } });
    let s = parse(&v.to_string(), &sim_core::scenario::no_files).expect("valid");
    let m = s.cluster.membership.expect("membership is on");
    assert_eq!(m.seeds, vec![NodeId(0)], "one datacenter: its first node");
    assert_eq!(
        m.failure_detector,
        FailureDetectorKind::PhiAccrual {
            threshold: 8.0,
            window: 100,
            min_stddev: SimDuration::from_millis(500),
        }
    );

    v["cluster"]["membership"] = json!({
        "gossip_interval_ms": 250,
        "seeds": ["n5", "n2"],
        "failure_detector": { "phi_accrual": { "threshold": 12.5, "window": 500, "min_stddev_ms": 40 } },
        "transfer_batch": 7
    });
    let s = parse(&v.to_string(), &sim_core::scenario::no_files).expect("valid");
    let m = s.cluster.membership.expect("membership is on");
    assert_eq!(m.gossip_interval, SimDuration::from_millis(250));
    assert_eq!(m.seeds, vec![NodeId(5), NodeId(2)], "in the order written");
    assert_eq!(
        m.failure_detector,
        FailureDetectorKind::PhiAccrual {
            threshold: 12.5,
            window: 500,
            min_stddev: SimDuration::from_millis(40),
        }
    );
    assert_eq!(m.transfer_batch, 7);
    assert_eq!(s.cluster.initial_nodes, 8);
}

#[test]
fn the_default_partition_count_covers_the_members_after_joins() {
    use sim_core::dynamo::ring::PartitionStrategy;

    let mut v = base();
    v["cluster"]["nodes"] = json!(3);
    v["cluster"].as_object_mut().unwrap().remove("partitioning");
    v["cluster"]["membership"] = json!({});
    v["faults"] = json!([
        { "at_s": 5, "join": { "node": "n3" } },
        { "at_s": 6, "join": { "node": "n4" } },
        { "at_s": 7, "decommission": { "node": "n0" } }
    ]);
    let s = parse(&v.to_string(), &sim_core::scenario::no_files)
        .unwrap_or_else(|e| panic!("rejected:\n{e}"));
    assert_eq!(
        s.cluster.partitioning,
        PartitionStrategy::EqualPartitions { partitions: 40 },
        "8 × the peak of 5 members"
    );
}

#[test]
fn a_fault_on_a_joiner_at_its_join_time_is_fine_when_listed_after_it() {
    let mut v = base();
    v["cluster"]["membership"] = json!({});
    v["faults"] = json!([
        { "at_s": 10, "join": { "node": "n8" } },
        { "at_s": 10, "isolate": { "node": "n8" }, "for_s": 1 },
        { "at_s": 20, "decommission": { "node": "n8" } },
        // A datacenter name still covers nodes that have left.
        { "at_s": 30, "degrade_links": { "from": ["dc1"], "to": ["dc1"], "extra_loss": 0.1 }, "for_s": 1 }
    ]);
    if let Err(e) = parse_value(&v) {
        panic!("rejected:\n{}", describe(&e));
    }
}

/// Latency algebra: an offset and a sum both become a sum of draws (the
/// positive side of the `negative offset` and `empty sum` cases).
#[test]
fn an_offset_and_a_sum_parse_into_a_sum_of_draws() {
    use sim_core::world::dist::Latency;
    let mut v = base();
    v["network"]["latency"] = json!({ "offset": { "ms": 75,
        "latency": { "sum": [{ "constant": { "ms": 1 } }, { "uniform": { "min_ms": 0, "max_ms": 2 } }] } } });
    let s = parse(&v.to_string(), &sim_core::scenario::no_files).expect("valid");
    assert_eq!(
        s.network.default.latency,
        Latency::Sum(vec![
            Latency::Constant { us: 75_000.0 },
            Latency::Sum(vec![
                Latency::Constant { us: 1000.0 },
                Latency::Uniform {
                    min_us: 0.0,
                    max_us: 2000.0
                }
            ])
        ])
    );
    assert_eq!(s.network.default.latency.mean_us(), Some(77_000.0));
}

/// Issue 19: a mistake is reported once, not with its consequences.
#[test]
fn an_oversized_value_is_one_error_not_a_cascade() {
    for (mutate, path) in [
        (
            (|v: &mut Value| v["duration_s"] = json!(1e15)) as fn(&mut Value),
            "duration_s",
        ),
        (
            |v| v["cluster"]["nodes"] = json!(1_000_000),
            "cluster.nodes",
        ),
        (
            |v| {
                v["faults"] = json!([
                    { "at_s": 1, "isolate": { "node": "n1" } },
                    { "at_s": 2, "isolate": { "node": "n2" } },
                    { "at_s": 3, "heal_all": true, "for_s": 1 }
                ])
            },
            "faults[2].for_s",
        ),
    ] {
        let mut v = base();
        mutate(&mut v);
        let errors = parse_value(&v).expect_err(path);
        assert_eq!(errors.0.len(), 1, "{}", describe(&errors));
        assert_eq!(errors.0[0].path(), path);
    }
}

/// Issue 19: a 1 MB bad string is not echoed in full.
#[test]
fn long_values_are_clipped_in_messages() {
    let mut v = base();
    v["workload"]["routing"] = json!("x".repeat(1_000_000));
    let errors = parse_value(&v).expect_err("unknown variant");
    let shown = errors.to_string();
    assert!(shown.len() < 1000, "{} bytes", shown.len());
    assert!(shown.contains("characters omitted"), "{shown}");
    assert!(
        shown.starts_with("workload.routing: unknown variant"),
        "{shown}"
    );
    let mut v = base();
    let metric = "m".repeat(100_000);
    v["expect"] = json!({ metric: {} });
    let errors = parse_value(&v).expect_err("no bound");
    assert!(errors.to_string().len() < 1000);
}

/// Issue 19: 100,000 duplicated entries list the first problems and count
/// the rest, instead of printing 100,000 lines.
#[test]
fn a_flood_of_problems_is_listed_up_to_a_limit() {
    let mut v = base();
    v["cluster"]["capacity"] = json!({"disk": {"concurrency": 2},
        "overrides": [{"nodes": vec!["n1"; 100_000], "disk": {"concurrency": 1}}]});
    let errors = parse_value(&v).expect_err("duplicates");
    assert_eq!(errors.0.len(), 101, "{}", describe(&errors));
    let last = errors.0.last().expect("a last error");
    assert_eq!(last.path(), "cluster.capacity.overrides[0].nodes[101]");
    assert!(
        last.to_string().contains("and 99899 more problem(s)"),
        "{last}"
    );
}

/// Link settings are flattened into `network` and each override; a shape
/// error inside them names the full path, not just `network`.
#[test]
fn shape_errors_in_flattened_link_settings_name_the_full_path() {
    let shape_path = |v: &Value| -> String {
        match parse_file(&v.to_string()) {
            Err(ScenarioErrors(errors)) => match &errors[..] {
                [ScenarioError::Shape { path, .. }] => path.clone(),
                other => panic!("one shape error expected: {other:?}"),
            },
            Ok(_) => panic!("accepted"),
        }
    };
    let mut v = base();
    v["network"]["latency"] = json!({ "lognormal": { "median": 3 } });
    assert_eq!(shape_path(&v), "network.latency.lognormal.median");
    let mut v = base();
    v["network"]["loss"] = json!(true);
    assert_eq!(shape_path(&v), "network.loss");
    let mut v = base();
    v["network"]["links"] = json!([
        { "between": ["n0", "n1"], "loss": 0.1 },
        { "between": ["n0", "n2"], "latency": { "normal": { "mean_ms": "x", "stddev_ms": 1 } } }
    ]);
    assert_eq!(shape_path(&v), "network.links[1].latency.normal.mean_ms");
    let mut v = base();
    v["network"]["bogus"] = json!(1);
    assert!(shape_path(&v).starts_with("network"), "{}", shape_path(&v));
}
