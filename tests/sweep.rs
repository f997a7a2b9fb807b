//! End-to-end tests of `dynasim sweep`, `merge`, `shrink` and `explore` on
//! tiny scenarios written to per-test temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dynasim");

struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "dynasim-sweep-test-{}-{}",
            std::process::id(),
            test
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn write_json(&self, rel: &str, v: &Value) -> PathBuf {
        let p = self.join(rel);
        std::fs::write(&p, serde_json::to_string_pretty(v).expect("json")).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tiny healthy scenario (3 nodes, 2 clients, 1 s).
fn tiny() -> Value {
    json!({
        "name": "tiny",
        "rng_seed": 5,
        "duration_s": 1,
        "quiescence": { "duration_s": 0.5, "heal_faults": true },
        "cluster": { "nodes": 3, "quorum": { "n": 3, "r": 2, "w": 2 } },
        "network": { "latency": { "normal": { "mean_ms": 1.0, "stddev_ms": 0.3 } } },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 20 } },
            "keys": { "count": 50 },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        },
        "expect": { "durability.lost": { "max": 0 } }
    })
}

fn dynasim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run dynasim")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn sweep_ok(dir: &Path, extra: &[&str]) {
    let mut args = vec!["sweep", "tiny.json", "--seeds", "1..=20", "--no-plots"];
    args.extend_from_slice(extra);
    let out = dynasim(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn sweeps_do_not_depend_on_jobs_and_shards_merge_to_the_unsharded_sweep() {
    let t = TempDir::new("jobs-shards");
    t.write_json("tiny.json", &tiny());
    sweep_ok(t.path(), &["--jobs", "1", "--out", "j1"]);
    sweep_ok(t.path(), &["--jobs", "2", "--out", "j2"]);
    sweep_ok(t.path(), &["--shard", "1/2", "--out", "s1"]);
    sweep_ok(t.path(), &["--shard", "2/2", "--out", "s2"]);
    let whole = read(t.join("j1/sweep.json"));
    assert_eq!(
        whole,
        read(t.join("j2/sweep.json")),
        "--jobs changed sweep.json"
    );
    assert_eq!(read(t.join("j1/sweep.csv")), read(t.join("j2/sweep.csv")));
    let out = dynasim(t.path(), &["merge", "s1", "s2", "--out", "m", "--no-plots"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(whole, read(t.join("m/sweep.json")), "merged != unsharded");
    assert_eq!(read(t.join("j1/sweep.csv")), read(t.join("m/sweep.csv")));

    let doc: Value = serde_json::from_slice(&whole).expect("json");
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(20));
    assert_eq!(doc["points"].as_array().map(Vec::len), Some(1));
    let p = &doc["points"][0];
    assert_eq!(p["runs"], json!(20));
    assert!(p["metrics"]["availability"]["ci95"].is_array());
    assert!(p["merged"]["latency"]["get"]["p99_ms"].as_f64().is_some());
    // A shard alone is marked as such; a merge of one shard is refused.
    let s1: Value = serde_json::from_slice(&read(t.join("s1/sweep.json"))).expect("json");
    assert_eq!(s1["runs"].as_array().map(Vec::len), Some(10));
    let out = dynasim(t.path(), &["merge", "s1", "--out", "m1", "--no-plots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("missing"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn set_values_make_points_and_bad_paths_exit_2_naming_them() {
    let t = TempDir::new("set");
    t.write_json("tiny.json", &tiny());
    let out = dynasim(
        t.path(),
        &[
            "sweep",
            "tiny.json",
            "--seeds",
            "1..=2",
            "--set",
            "cluster.quorum.r=1,2",
            "--out",
            "o",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&read(t.join("o/sweep.json"))).expect("json");
    let points = doc["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["params"]["cluster.quorum.r"], json!(1));
    assert_eq!(points[1]["params"]["cluster.quorum.r"], json!(2));
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(4));
    for p in points {
        let dir = t.join("o").join(p["dir"].as_str().expect("dir"));
        let s: Value = serde_json::from_slice(&read(dir.join("summary.json"))).expect("json");
        assert!(s["staleness"]["t_visibility"].is_array());
    }
    assert!(t.join("o/t_visibility.svg").exists(), "overlay written");
    assert!(t.join("o/latency_get.png").exists(), "overlay written");

    for bad in [
        "cluster.bogus=1",
        "cluster.quorum.r.x=1",
        "faults[3].at_s=1",
    ] {
        let out = dynasim(
            t.path(),
            &["sweep", "tiny.json", "--set", bad, "--out", "bad"],
        );
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let path = bad.split('=').next().expect("path");
        let stderr = text(&out.stderr);
        let named = path.split('[').next().expect("head");
        assert!(stderr.contains(named), "{bad}: {stderr}");
    }
}

#[test]
fn failing_runs_are_listed_with_a_repro_that_reproduces_them() {
    let t = TempDir::new("failures");
    let mut s = tiny();
    // r=1 reads are fast, r=3 reads wait for the slowest replica.
    s["expect"] = json!({"latency.get.p99_ms": {"max": 2.4}});
    t.write_json("tiny.json", &s);
    let out = dynasim(
        t.path(),
        &[
            "sweep",
            "tiny.json",
            "--seeds",
            "1..3",
            "--set",
            "cluster.quorum.r=1,3",
            "--out",
            "o",
            "--no-plots",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&read(t.join("o/sweep.json"))).expect("json");
    let failures = doc["failures"].as_array().expect("failures");
    assert!(!failures.is_empty());
    let repro = failures[0]["repro"].as_str().expect("repro");
    assert!(repro.contains("--set cluster.quorum.r="), "{repro}");
    let args: Vec<&str> = repro
        .split_whitespace()
        .skip(1)
        .chain(["--quiet", "--no-plots", "--out", "r"])
        .collect();
    let out = dynasim(t.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let hash = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("trace hash ").map(str::to_string))
        .expect("hash");
    let run = doc["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["run"] == failures[0]["run"])
        .expect("run");
    assert_eq!(run["trace_hash"].as_str(), Some(hash.as_str()));
}

#[test]
fn shrink_finds_a_smaller_scenario_that_still_fails() {
    let t = TempDir::new("shrink");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lww-clock-skew.json");
    let mut s: Value =
        serde_json::from_str(&std::fs::read_to_string(src).expect("read")).expect("json");
    s["expect"] = json!({"durability.lost": {"max": 0}});
    t.write_json("lww.json", &s);
    let out = dynasim(
        t.path(),
        &[
            "shrink", "lww.json", "--seed", "1", "--out", "min.json", "--budget", "40",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let min: Value = serde_json::from_slice(&read(t.join("min.json"))).expect("json");
    let smaller = min["cluster"]["nodes"].as_u64() < s["cluster"]["nodes"].as_u64()
        || min["workload"]["clients"].as_u64() < s["workload"]["clients"].as_u64()
        || min["workload"]["keys"]["count"].as_u64() < s["workload"]["keys"]["count"].as_u64()
        || min["duration_s"].as_f64() < s["duration_s"].as_f64();
    assert!(smaller, "{min:#}");
    assert_eq!(min["rng_seed"], json!(1));
    // The minimal file is a normal scenario that still fails.
    let out = dynasim(
        t.path(),
        &["run", "min.json", "--quiet", "--no-plots", "--out", "r"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("expect durability.lost <= 0: FAIL"));
    // Deterministic: the same input gives the same minimal scenario.
    let out = dynasim(
        t.path(),
        &[
            "shrink",
            "lww.json",
            "--seed",
            "1",
            "--out",
            "min2.json",
            "--budget",
            "40",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(read(t.join("min.json")), read(t.join("min2.json")));
}

#[test]
fn shrinking_a_passing_scenario_is_refused() {
    let t = TempDir::new("shrink-pass");
    t.write_json("tiny.json", &tiny());
    let out = dynasim(t.path(), &["shrink", "tiny.json", "--out", "min.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("passes its expectations"),
        "{}",
        text(&out.stderr)
    );
    assert!(!t.join("min.json").exists());
}

#[test]
fn explore_finds_a_failing_nemesis_and_shrinks_it() {
    let t = TempDir::new("explore");
    let mut s = tiny();
    s["duration_s"] = json!(4);
    s["expect"] = json!({"availability": {"min": 1.0}});
    t.write_json("tiny.json", &s);
    let args = [
        "explore",
        "tiny.json",
        "--runs",
        "20",
        "--out",
        "ex",
        "--budget",
        "20",
    ];
    let out = dynasim(t.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("explore: run "))
        .expect("failing run line")
        .to_string();
    let seed: u64 = line["explore: run ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("seed");
    let min = t.join(&format!("ex/explore-seed{seed}.min.json"));
    assert!(min.exists(), "{stdout}");
    // Same first failure with one job.
    let mut one = args.to_vec();
    one.extend(["--jobs", "1"]);
    let out = dynasim(t.path(), &one);
    assert!(text(&out.stdout).contains(&line), "{}", text(&out.stdout));
}

/// `--metric` reports any summary path (numbers, booleans as 1/0, array
/// items) per run and per point; shards keep the list and merge; a path
/// that is not one is refused with exit 2 before anything runs.
#[test]
fn metric_reports_any_summary_path_per_run_and_point() {
    let t = TempDir::new("metric");
    t.write_json("tiny.json", &tiny());
    let metrics = [
        "--metric",
        "latency.get.p999_ms",
        "--metric",
        "convergence.converged,staleness.t_visibility[0].reads",
    ];
    let mut args = vec!["--out", "m"];
    args.extend(metrics);
    sweep_ok(t.path(), &args);
    let doc: Value = serde_json::from_slice(&read(t.join("m/sweep.json"))).expect("json");
    assert_eq!(
        doc["metrics"],
        json!([
            "latency.get.p999_ms",
            "convergence.converged",
            "staleness.t_visibility[0].reads"
        ])
    );
    let run = &doc["runs"][0]["metrics"];
    assert!(run["latency.get.p999_ms"].as_f64().is_some(), "{run}");
    assert_eq!(run["convergence.converged"], json!(1), "{run}");
    assert!(
        run["staleness.t_visibility[0].reads"].as_u64().is_some(),
        "{run}"
    );
    assert_eq!(
        doc["points"][0]["metrics"]["latency.get.p999_ms"]["n"],
        json!(20)
    );
    let csv = text(&read(t.join("m/sweep.csv")));
    assert!(
        csv.starts_with("run,point,label,seed,trace_hash,latency.get.p999_ms,convergence.converged,staleness.t_visibility[0].reads,expect_pass"),
        "{csv}"
    );
    let points = text(&read(t.join("m/points.csv")));
    assert!(
        points.contains(",latency.get.p999_ms.mean,latency.get.p999_ms.ci95_lo,"),
        "{points}"
    );

    for (i, shard) in ["1/2", "2/2"].iter().enumerate() {
        let dir = format!("s{i}");
        let mut args = vec!["--shard", shard, "--out", &dir];
        args.extend(metrics);
        sweep_ok(t.path(), &args);
    }
    let out = dynasim(
        t.path(),
        &["merge", "s0", "s1", "--out", "mm", "--no-plots"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(read(t.join("m/sweep.csv")), read(t.join("mm/sweep.csv")));

    let out = dynasim(
        t.path(),
        &[
            "sweep",
            "tiny.json",
            "--metric",
            "latency..p99",
            "--out",
            "bad",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("latency..p99"),
        "{}",
        text(&out.stderr)
    );
    assert!(!t.join("bad/sweep.json").exists());
}

/// Shrinking keeps the failure's signature: on the explore failure of
/// node-crash-recovery's no-lost-writes claim, the minimal scenario still
/// loses a write, and not by a node crashing at its last instant (a crash
/// at the end of a shortened run is a trivial way to fail
/// `durability.lost`). `--first` goes straight to the failing run.
#[test]
fn shrink_keeps_a_loss_that_is_not_at_the_last_instant() {
    let t = TempDir::new("shrink-signature");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/node-crash-recovery.json");
    let mut s: Value =
        serde_json::from_str(&std::fs::read_to_string(src).expect("read")).expect("json");
    s["expect"] = json!({"durability.lost": {"max": 0}});
    t.write_json("ncr.json", &s);
    let out = dynasim(
        t.path(),
        &[
            "explore", "ncr.json", "--first", "56", "--runs", "1", "--out", "ex", "--budget", "40",
            "--jobs", "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("explore: run 56 (seed 56) fails durability.lost"),
        "{stdout}"
    );
    assert!(
        stdout.contains("same kind of finding: durability.lost"),
        "{stdout}"
    );
    let out = dynasim(
        t.path(),
        &[
            "run",
            "ex/explore-seed56.min.json",
            "--quiet",
            "--no-plots",
            "--out",
            "r",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let summary: Value = serde_json::from_slice(&read(t.join("r/summary.json"))).expect("json");
    assert!(summary["durability"]["lost"].as_u64() >= Some(1));
    let end = summary["run"]["end_time_s"].as_f64().expect("end");
    let lost = &summary["durability"]["lost_writes"][0];
    assert!(lost["acked_at_s"].as_f64().expect("acked") < end);
    for f in summary["faults"].as_array().expect("faults") {
        let crash = f["action"]
            .as_str()
            .is_some_and(|a| a.starts_with("crash "));
        assert!(
            !(crash && f["at_s"].as_f64().expect("at") >= end - 0.001),
            "a crash at the last instant: {f}"
        );
    }
    // --first and --runs count from the first run given.
    let out = dynasim(
        t.path(),
        &["explore", "ncr.json", "--first", "0", "--runs", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
