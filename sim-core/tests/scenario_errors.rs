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
