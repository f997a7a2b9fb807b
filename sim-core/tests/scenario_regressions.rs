//! Known defects of the scenario parser, each pinned by the input that shows
//! it. These tests state the intended behaviour and fail until the defect is
//! fixed in `sim-core/src/scenario/` (or the workspace manifest).

use serde_json::{json, Value};
use sim_core::scenario::{
    no_files, parse, parse_file, ProbabilityDto, ScenarioError, ScenarioErrors,
};

fn base() -> Value {
    serde_json::from_str(include_str!("../../scenarios/healthy-baseline.json"))
        .expect("the shipped baseline is JSON")
}

fn describe(errors: &ScenarioErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("    [{}] {e:?}", e.path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `clock_skew.drift_ppm` is checked with `i64::abs`, which overflows (a
/// panic with overflow checks, as in `cargo test`) for `i64::MIN`.
/// Validation must reject the value with its path instead.
#[test]
fn clock_skew_drift_of_i64_min_is_rejected_without_panicking() {
    let mut v = base();
    v["faults"] = json!([{ "at_s": 5, "clock_skew": { "node": "n1", "drift_ppm": i64::MIN } }]);
    let text = v.to_string();
    let result = std::panic::catch_unwind(|| parse(&text, &no_files));
    let errors = result
        .expect("validation must not panic on drift_ppm = i64::MIN")
        .expect_err("a drift of i64::MIN ppm is out of range");
    assert!(
        errors
            .0
            .iter()
            .any(|e| e.path() == "faults[0].clock_skew.drift_ppm"),
        "{}",
        describe(&errors)
    );
}

/// serde_json reports a wrong value for an externally tagged enum (a number
/// where `"vector_clocks"` or `{"constant": {...}}` belongs, or a latency
/// object with two keys) as a *syntax* error ("expected value"), and
/// `parse_file` trusts `is_syntax()`, so well-formed JSON comes back as
/// `ScenarioError::Syntax` with no path. A cheap fix: check the syntax first
/// (`serde_json::from_str::<serde::de::IgnoredAny>`) and report any later
/// error as a `Shape` error at the path.
#[test]
fn a_wrong_value_for_an_enum_field_is_a_shape_error_at_its_path() {
    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation); 4] = [
        ("cluster.versioning", |v| {
            v["cluster"]["versioning"] = json!(5)
        }),
        ("cluster.storage.read_latency", |v| {
            v["cluster"]["storage"]["read_latency"] = json!(5)
        }),
        ("cluster.storage.read_latency", |v| {
            v["cluster"]["storage"]["read_latency"] =
                json!({ "constant": { "ms": 1 }, "uniform": { "min_ms": 1, "max_ms": 2 } })
        }),
        ("workload.keys.popularity", |v| {
            v["workload"]["keys"]["popularity"] = json!(3)
        }),
    ];
    let mut failures = Vec::new();
    for (path, mutate) in cases {
        let mut v = base();
        mutate(&mut v);
        let errors = parse(&v.to_string(), &no_files).expect_err("wrong shape");
        let ok = errors
            .0
            .iter()
            .any(|e| matches!(e, ScenarioError::Shape { .. }) && e.path().starts_with(path));
        if !ok {
            failures.push(format!(
                "expected a shape error at {path}:\n{}",
                describe(&errors)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A `ScenarioFile` does not survive its own serialization: serde_json's
/// default float parser is not correctly rounded, so a float printed with 17
/// significant digits can come back one ULP off. Enabling serde_json's
/// `float_roundtrip` feature in the workspace fixes it.
#[test]
fn a_scenario_file_round_trips_every_float_exactly() {
    let mut file = parse_file(&base().to_string()).expect("baseline parses");
    let x = 0.184_050_676_952_052_18_f64;
    file.network.default.loss = Some(ProbabilityDto::Number(x));
    let text = serde_json::to_string(&file).expect("serializes");
    let back = parse_file(&text).expect("re-reads");
    assert_eq!(back.network.default.loss, Some(ProbabilityDto::Number(x)));
    assert_eq!(back, file);
}
