//! End-to-end tests of the `dynasim` binary: exit codes, printed lines,
//! files written, determinism, bad input, validate/schema/plot/help.
//!
//! Most tests use a tiny scenario (3 nodes, 2 clients, 2 s) written to a
//! per-test temporary directory so the suite stays fast in debug builds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dynasim");

// ---------------------------------------------------------------- helpers

/// A per-test scratch directory, removed (best effort) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("dynasim-cli-test-{}-{}", std::process::id(), test));
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

    /// Writes `text` to `rel` inside the directory and returns its path.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.join(rel);
        std::fs::write(&p, text).expect("write temp file");
        p
    }

    /// Writes a JSON value (pretty) to `rel`.
    fn write_json(&self, rel: &str, v: &Value) -> PathBuf {
        self.write(rel, &serde_json::to_string_pretty(v).expect("json"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The tiny healthy scenario.
fn tiny() -> Value {
    json!({
        "name": "tiny",
        "rng_seed": 5,
        "duration_s": 2,
        "quiescence": { "duration_s": 1, "heal_faults": true },
        "cluster": {
            "nodes": 3,
            "quorum": { "n": 3, "r": 2, "w": 2 }
        },
        "network": { "latency": { "normal": { "mean_ms": 1.0, "stddev_ms": 0.3 } } },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 20 } },
            "keys": { "count": 100 },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        },
        "expect": { "durability.lost": { "max": 0 } }
    })
}

/// The tiny scenario with one node crashing for half a second.
fn tiny_with_crash() -> Value {
    let mut s = tiny();
    s["name"] = json!("tiny-crash");
    s["faults"] = json!([{ "at_s": 0.5, "for_s": 0.5, "crash": { "node": "n1" } }]);
    s
}

fn dynasim(args: &[&str]) -> Output {
    dynasim_in(None, args)
}

fn dynasim_in(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("spawn dynasim")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `dynasim run FILE --out OUT --no-plots --quiet --trace TRACE`, with
/// `--trace-format FORMAT` when given.
fn run_traced(file: &Path, out: &Path, trace: &Path, format: Option<&str>) -> Output {
    let mut args = vec![
        "run",
        s(file),
        "--out",
        s(out),
        "--no-plots",
        "--quiet",
        "--trace",
        s(trace),
    ];
    if let Some(f) = format {
        args.extend(["--trace-format", f]);
    }
    dynasim(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Panics with both streams when the exit code is not `want`.
fn assert_code(o: &Output, want: i32, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "{what}: expected exit {want}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// The 16-hex-digit hash from the `trace hash ...` line.
fn trace_hash(o: &Output) -> String {
    let out = stdout(o);
    let hashes: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("trace hash "))
        .collect();
    assert_eq!(hashes.len(), 1, "one `trace hash` line in:\n{out}");
    let h = hashes[0].trim();
    assert!(
        h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit()),
        "trace hash is 16 hex digits: {h:?}"
    );
    h.to_string()
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", p.display()))
}

fn assert_nonempty_file(p: &Path) {
    let meta = std::fs::metadata(p).unwrap_or_else(|e| panic!("{} exists: {e}", p.display()));
    assert!(meta.len() > 0, "{} is non-empty", p.display());
}

// ---------------------------------------------------------------- run

#[test]
fn run_tiny_scenario_passes_and_writes_report() {
    let tmp = TempDir::new("run_tiny");
    let file = tmp.write_json("tiny.json", &tiny());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--out", s(&out)]);
    assert_code(&o, 0, "healthy tiny run");
    let hash = trace_hash(&o);

    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["run"]["trace_hash"].as_str(), Some(hash.as_str()));
    assert_eq!(summary["run"]["rng_seed"].as_u64(), Some(5));
    assert!(summary["ops"]["total"].as_u64().unwrap_or(0) > 0, "ops ran");

    assert_nonempty_file(&out.join("report.html"));
    for fig in ["latency", "t_visibility", "timeline_throughput"] {
        assert_nonempty_file(&out.join(format!("{fig}.svg")));
        assert_nonempty_file(&out.join(format!("{fig}.png")));
    }
    let png = std::fs::read(out.join("latency.png")).expect("read png");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "latency.png is a PNG"
    );
    let svg = std::fs::read_to_string(out.join("latency.svg")).expect("read svg");
    assert!(svg.contains("<svg"), "latency.svg is an SVG");
}

#[test]
fn run_no_plots_writes_only_summary() {
    let tmp = TempDir::new("run_no_plots");
    let file = tmp.write_json("tiny.json", &tiny());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots"]);
    assert_code(&o, 0, "--no-plots run");
    trace_hash(&o);
    assert_nonempty_file(&out.join("summary.json"));
    assert!(!out.join("report.html").exists(), "no report.html");
    assert!(!out.join("latency.svg").exists(), "no latency.svg");
    assert!(!out.join("latency.png").exists(), "no latency.png");
}

#[test]
fn one_thread_or_two_the_outputs_are_the_same() {
    let tmp = TempDir::new("run_one_thread");
    let file = tmp.write_json("crash.json", &tiny_with_crash());
    let (two, one) = (tmp.join("two"), tmp.join("one"));
    let a = dynasim(&["run", s(&file), "--out", s(&two), "--no-plots", "--ops"]);
    assert_code(&a, 0, "default run");
    let b = dynasim(&[
        "run",
        s(&file),
        "--out",
        s(&one),
        "--no-plots",
        "--ops",
        "--one-thread",
    ]);
    assert_code(&b, 0, "--one-thread run");
    // The same console summary, but for the report's directory.
    let console = |o: &Output, dir: &Path| stdout(o).replace(s(dir), "OUT");
    assert_eq!(
        console(&a, &two),
        console(&b, &one),
        "the same console summary"
    );
    for name in ["summary.json", "timeline.csv", "ops.csv"] {
        let read = |d: &Path| std::fs::read_to_string(d.join(name)).expect("an output");
        assert_eq!(read(&two), read(&one), "{name} is the same");
    }
}

#[test]
fn run_quiet_still_prints_hash_and_verdicts() {
    let tmp = TempDir::new("run_quiet");
    let file = tmp.write_json("tiny.json", &tiny());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--out", s(&out), "--quiet", "--no-plots"]);
    assert_code(&o, 0, "--quiet run");
    trace_hash(&o);
    assert!(
        stdout(&o).contains("durability.lost"),
        "verdict printed:\n{}",
        stdout(&o)
    );
}

#[test]
fn run_default_out_dir_is_runs_name_seed() {
    let tmp = TempDir::new("run_default_out");
    let file = tmp.write_json("tiny.json", &tiny());
    let o = dynasim_in(Some(tmp.path()), &["run", s(&file), "--no-plots"]);
    assert_code(&o, 0, "default out dir");
    let summary = read_json(&tmp.join("runs/tiny-seed5/summary.json"));
    assert_eq!(
        summary["run"]["trace_hash"].as_str(),
        Some(trace_hash(&o).as_str())
    );

    // --seed changes the default directory name too.
    let o = dynasim_in(
        Some(tmp.path()),
        &["run", s(&file), "--no-plots", "--seed", "11"],
    );
    assert_code(&o, 0, "default out dir, --seed 11");
    assert_nonempty_file(&tmp.join("runs/tiny-seed11/summary.json"));
}

#[test]
fn run_is_deterministic_and_seed_matters() {
    let tmp = TempDir::new("run_deterministic");
    let file = tmp.write_json("tiny.json", &tiny());
    let (a, b, c) = (tmp.join("a"), tmp.join("b"), tmp.join("c"));
    let oa = dynasim(&["run", s(&file), "--out", s(&a), "--no-plots", "--quiet"]);
    let ob = dynasim(&["run", s(&file), "--out", s(&b), "--no-plots"]);
    assert_code(&oa, 0, "run a");
    assert_code(&ob, 0, "run b");
    assert_eq!(trace_hash(&oa), trace_hash(&ob), "same seed, same hash");
    let sa = std::fs::read(a.join("summary.json")).expect("summary a");
    let sb = std::fs::read(b.join("summary.json")).expect("summary b");
    assert!(sa == sb, "summary.json is byte-identical across runs");

    // --seed equal to the file's rng_seed is the same run.
    let o5 = dynasim(&["run", s(&file), "--out", s(&c), "--no-plots", "--seed", "5"]);
    assert_code(&o5, 0, "run --seed 5");
    assert_eq!(trace_hash(&o5), trace_hash(&oa), "--seed 5 == rng_seed 5");

    let o6 = dynasim(&["run", s(&file), "--out", s(&c), "--no-plots", "--seed", "6"]);
    assert_code(&o6, 0, "run --seed 6");
    assert_ne!(
        trace_hash(&o6),
        trace_hash(&oa),
        "another seed, another hash"
    );
    let s6 = read_json(&c.join("summary.json"));
    assert_eq!(s6["run"]["rng_seed"].as_u64(), Some(6));
}

#[test]
fn hash_runs_the_simulator_alone_with_runs_trace_hash() {
    let tmp = TempDir::new("hash_alone");
    let file = tmp.write_json("tiny.json", &tiny_with_crash());
    let out = tmp.join("out");
    for seed in ["5", "6"] {
        let run = dynasim(&[
            "run",
            s(&file),
            "--out",
            s(&out),
            "--no-plots",
            "--quiet",
            "--seed",
            seed,
        ]);
        assert_code(&run, 0, "run");
        let hash = dynasim(&["hash", s(&file), "--seed", seed]);
        assert_code(&hash, 0, "hash");
        assert_eq!(trace_hash(&hash), trace_hash(&run), "seed {seed}");
        let first = stdout(&hash);
        assert!(
            first.starts_with(&format!("scenario tiny-crash  rng_seed {seed}  ("))
                && first.contains(" messages, ")
                && first.contains("stop: end_of_run)"),
            "{first}"
        );
    }
    // No file is written: the run has no output directory.
    let listed: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(listed.len(), 2, "only tiny.json and run's out: {listed:?}");

    // --set applies as for run, and a run stopped early says so (exit 3).
    let set = ["--set", "max_events=200"];
    let run = dynasim(
        &[
            &["run", s(&file), "--out", s(&out), "--no-plots", "--quiet"][..],
            &set[..],
        ]
        .concat(),
    );
    assert_code(&run, 3, "run stopped by max_events");
    let hash = dynasim(&[&["hash", s(&file)][..], &set[..]].concat());
    assert_code(&hash, 3, "hash stopped by max_events");
    assert_eq!(
        trace_hash(&hash),
        trace_hash(&run),
        "the same part of the run"
    );
    let text = stdout(&hash);
    assert!(
        text.contains("INCOMPLETE RUN") && text.contains("(max_events)"),
        "{text}"
    );
    let repro = format!(
        "dynasim run {} --seed 5 --set max_events=200",
        file.display()
    );
    assert!(
        text.lines().any(|l| l.trim() == repro),
        "{repro:?} in:\n{text}"
    );

    // Bad input: the JSON path and what was expected, exit 2, no hash.
    let bad = dynasim(&["hash", s(&file), "--set", "cluster.quorum.r=9"]);
    assert_code(&bad, 2, "hash of an inconsistent scenario");
    assert!(
        stderr(&bad).contains("cluster.quorum.r"),
        "{}",
        stderr(&bad)
    );
    assert!(!stdout(&bad).contains("trace hash"), "{}", stdout(&bad));
    let missing = dynasim(&["hash", s(&tmp.join("missing.json"))]);
    assert_code(&missing, 2, "hash of a missing file");
}

#[test]
fn failing_expectation_exits_1_with_repro_command() {
    let tmp = TempDir::new("run_failing_expect");
    let mut sc = tiny();
    sc["expect"] = json!({ "durability.lost": { "min": 1 } });
    let file = tmp.write_json("fail.json", &sc);
    let out = tmp.join("out");
    let o = dynasim(&[
        "run",
        s(&file),
        "--out",
        s(&out),
        "--no-plots",
        "--seed",
        "42",
    ]);
    assert_code(&o, 1, "failed expectation");
    trace_hash(&o);
    let repro = format!("dynasim run {} --seed 42", file.display());
    assert!(
        stdout(&o).lines().any(|l| l.trim() == repro),
        "repro line {repro:?} in:\n{}",
        stdout(&o)
    );
    // The report is still written.
    assert_nonempty_file(&out.join("summary.json"));

    // Without --seed the repro names the file's own rng_seed.
    let o = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots", "--quiet"]);
    assert_code(&o, 1, "failed expectation, file seed");
    let repro = format!("dynasim run {} --seed 5", file.display());
    assert!(
        stdout(&o).lines().any(|l| l.trim() == repro),
        "repro line {repro:?} in:\n{}",
        stdout(&o)
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_inputs_exit_2_naming_the_problem() {
    let tmp = TempDir::new("bad_inputs");

    let mut bad_r = tiny();
    bad_r["cluster"]["quorum"]["r"] = json!(5);
    let mut bad_type = tiny();
    bad_type["cluster"]["quorum"]["w"] = json!("two");
    let mut unknown_field = tiny();
    unknown_field["workload"]["bogus"] = json!(1);
    let mut bad_duration = tiny();
    bad_duration["duration_s"] = json!(-1);
    let mut bad_metric = tiny();
    bad_metric["expect"] = json!({ "no.such.metric": { "max": 1 } });
    let mut bad_node = tiny();
    bad_node["faults"] = json!([{ "at_s": 0.5, "for_s": 0.5, "crash": { "node": "nope" } }]);

    let cases: Vec<(&str, PathBuf, Vec<&str>)> = vec![
        (
            "malformed JSON",
            tmp.write(
                "malformed.json",
                "{\n  \"name\": \"x\",\n  \"duration_s\": 2,,\n}\n",
            ),
            vec!["line 3", "column"],
        ),
        (
            "truncated JSON",
            tmp.write("truncated.json", "{\n  \"name\": \"x\",\n"),
            vec!["line", "column"],
        ),
        (
            "r > n",
            tmp.write_json("bad_r.json", &bad_r),
            vec!["cluster.quorum.r"],
        ),
        (
            "wrong type",
            tmp.write_json("bad_type.json", &bad_type),
            vec!["cluster.quorum.w"],
        ),
        (
            "unknown field",
            tmp.write_json("unknown_field.json", &unknown_field),
            vec!["workload.bogus"],
        ),
        (
            "negative duration",
            tmp.write_json("bad_duration.json", &bad_duration),
            vec!["duration_s"],
        ),
        (
            "unknown expect metric",
            tmp.write_json("bad_metric.json", &bad_metric),
            vec!["no.such.metric", "unknown metric"],
        ),
        (
            "unknown fault node",
            tmp.write_json("bad_node.json", &bad_node),
            vec!["faults[0]", "nope"],
        ),
        (
            "missing file",
            tmp.join("does-not-exist.json"),
            vec!["does-not-exist.json"],
        ),
    ];

    for (what, file, fragments) in cases {
        let out = tmp.join("out");
        let o = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots"]);
        assert_code(&o, 2, what);
        let err = stderr(&o);
        for frag in fragments {
            assert!(
                err.contains(frag),
                "{what}: stderr contains {frag:?}:\n{err}"
            );
        }
        assert!(
            !stdout(&o).contains("trace hash"),
            "{what}: nothing was run:\n{}",
            stdout(&o)
        );
    }
}

#[test]
fn bad_command_line_is_rejected() {
    let o = dynasim(&["run"]);
    assert!(
        !o.status.success(),
        "missing FILE fails: {:?}",
        o.status.code()
    );
    let o = dynasim(&["frobnicate"]);
    assert!(
        !o.status.success(),
        "unknown subcommand fails: {:?}",
        o.status.code()
    );
    let tmp = TempDir::new("bad_cli");
    let file = tmp.write_json("tiny.json", &tiny());
    let o = dynasim(&["run", s(&file), "--seed", "minus-one"]);
    assert!(
        !o.status.success(),
        "non-numeric --seed fails: {:?}",
        o.status.code()
    );
}

// ---------------------------------------------------------------- --trace, --ops

#[test]
fn trace_jsonl_is_ordered_and_has_faults() {
    let tmp = TempDir::new("trace_jsonl");
    let file = tmp.write_json("crash.json", &tiny_with_crash());
    let trace = tmp.join("t.jsonl");
    let out = tmp.join("out");
    let o = run_traced(&file, &out, &trace, None);
    assert_code(&o, 0, "crash run with --trace");

    let text = std::fs::read_to_string(&trace).expect("read trace");
    let mut last = 0u64;
    let mut lines = 0usize;
    let (mut deliver, mut fault, mut completed) = (0usize, 0usize, 0usize);
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("trace line {} is JSON ({e}): {line}", i + 1));
        let t = v["t_us"]
            .as_u64()
            .unwrap_or_else(|| panic!("line {}: t_us is an integer: {line}", i + 1));
        assert!(t >= last, "line {}: t_us {t} < previous {last}", i + 1);
        last = t;
        let kind = v["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("line {}: kind is a string: {line}", i + 1));
        assert!(
            v.get("label").is_some(),
            "line {}: has a label: {line}",
            i + 1
        );
        match kind {
            "deliver" => deliver += 1,
            "fault" => fault += 1,
            "record" => {
                assert!(
                    v["fields"].is_object(),
                    "line {}: a record has structured fields: {line}",
                    i + 1
                );
                if v["label"] == "op_completed" {
                    completed += 1;
                    assert!(v["fields"]["key"].is_u64(), "line {}: {line}", i + 1);
                    assert!(
                        v["fields"]["op"]["client"].is_string(),
                        "line {}: {line}",
                        i + 1
                    );
                }
            }
            _ => {}
        }
        lines += 1;
    }
    assert!(lines > 0, "trace is not empty");
    assert!(deliver > 0, "trace has deliver events");
    assert!(fault > 0, "trace has fault events");
    assert!(completed > 0, "trace has completed operations");

    // Tracing does not change the run.
    let o2 = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots", "--quiet"]);
    assert_code(&o2, 0, "crash run without --trace");
    assert_eq!(
        trace_hash(&o),
        trace_hash(&o2),
        "--trace leaves the hash alone"
    );
}

#[test]
fn ops_csv_has_one_row_per_op() {
    let tmp = TempDir::new("ops_csv");
    let file = tmp.write_json("tiny.json", &tiny());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots", "--ops"]);
    assert_code(&o, 0, "--ops run");

    let csv = std::fs::read_to_string(out.join("ops.csv")).expect("read ops.csv");
    let mut lines = csv.lines();
    let header = lines.next().expect("ops.csv has a header");
    let columns: Vec<&str> = header.split(',').collect();
    for col in ["client", "kind", "key", "result"] {
        assert!(columns.contains(&col), "header has {col:?}: {header}");
    }
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let summary = read_json(&out.join("summary.json"));
    let total = summary["ops"]["total"].as_u64().expect("ops.total");
    assert!(total > 0, "some ops ran");
    assert_eq!(rows.len() as u64, total, "one ops.csv row per op");
    for row in &rows {
        assert!(
            row.split(',').count() >= columns.len(),
            "row has every column: {row}"
        );
    }
}

// ---------------------------------------------------------------- validate

#[test]
fn validate_reports_good_and_bad_files() {
    let tmp = TempDir::new("validate_mixed");
    let good = tmp.write_json("good.json", &tiny());
    let mut bad = tiny();
    bad["cluster"]["quorum"]["r"] = json!(5);
    bad["duration_s"] = json!(-1);
    bad["workload"]["mix"]["read"] = json!(-0.5);
    let bad = tmp.write_json("bad.json", &bad);
    let malformed = tmp.write("malformed.json", "{ \"name\": ");

    let o = dynasim(&["validate", s(&good), s(&bad), s(&malformed)]);
    assert_code(&o, 2, "validate good + bad");
    let all = stdout(&o) + &stderr(&o);
    assert!(
        all.contains(&format!("{}: ok", good.display())),
        "good file ok:\n{all}"
    );
    // Every problem of the bad file, each with its JSON path.
    for path in ["cluster.quorum.r", "duration_s", "workload.mix.read"] {
        assert!(
            all.lines()
                .any(|l| l.contains(&*bad.display().to_string()) && l.contains(path)),
            "bad file's {path} reported:\n{all}"
        );
    }
    assert!(
        all.lines()
            .any(|l| l.contains(&*malformed.display().to_string()) && l.contains("line 1")),
        "malformed file reported with its position:\n{all}"
    );
    assert!(
        !all.contains(&format!("{}: ok", bad.display())),
        "bad file is not ok:\n{all}"
    );
    assert!(
        !all.contains(&format!("{}: ok", malformed.display())),
        "malformed file is not ok:\n{all}"
    );

    // Problems go to stderr, `ok` lines to stdout; the count is of problems.
    assert!(
        !stdout(&o).contains("workload.mix.read"),
        "problems are not on stdout:\n{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("4 problems in 2 of 3 files"),
        "problems counted, not files:\n{}",
        stderr(&o)
    );

    let o = dynasim(&["validate", s(&good)]);
    assert_code(&o, 0, "validate good only");
    assert!(stdout(&o).contains(&format!("{}: ok", good.display())));
}

#[test]
fn validate_unknown_metric_is_a_problem_not_ok() {
    let tmp = TempDir::new("validate_metric");
    let mut sc = tiny();
    sc["expect"] = json!({ "no.such.metric": { "max": 1 } });
    let file = tmp.write_json("metric.json", &sc);
    let o = dynasim(&["validate", s(&file)]);
    assert_code(&o, 2, "validate unknown metric");
    let all = stdout(&o) + &stderr(&o);
    assert!(all.contains("no.such.metric"), "metric named:\n{all}");
    assert!(
        !all.contains(&format!("{}: ok", file.display())),
        "a file with an unknown metric is not reported ok:\n{all}"
    );
}

#[test]
fn validate_missing_file_exits_2() {
    let tmp = TempDir::new("validate_missing");
    let missing = tmp.join("nope.json");
    let o = dynasim(&["validate", s(&missing)]);
    assert_code(&o, 2, "validate missing file");
    let all = stdout(&o) + &stderr(&o);
    assert!(all.contains("nope.json"), "file named:\n{all}");
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read scenarios/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "scenarios/*.json exist");
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|p| s(p)));
    let o = dynasim(&args);
    assert_code(&o, 0, "validate scenarios/*.json");
    let out = stdout(&o);
    for f in &files {
        assert!(
            out.contains(&format!("{}: ok", f.display())),
            "{} ok:\n{out}",
            f.display()
        );
    }
}

// ---------------------------------------------------------------- schema, plot

#[test]
fn schema_is_a_json_object_with_properties() {
    let o = dynasim(&["schema"]);
    assert_code(&o, 0, "schema");
    let v: Value = serde_json::from_str(&stdout(&o)).expect("schema is JSON");
    let props = v
        .get("properties")
        .and_then(Value::as_object)
        .expect("schema has properties");
    for field in ["name", "cluster", "workload"] {
        assert!(props.contains_key(field), "schema has property {field:?}");
    }
}

#[test]
fn plot_overlays_two_summaries() {
    let tmp = TempDir::new("plot_overlay");
    let file = tmp.write_json("tiny.json", &tiny());
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    for (dir, seed) in [(&a, "1"), (&b, "2")] {
        let o = dynasim(&[
            "run",
            s(&file),
            "--out",
            s(dir),
            "--no-plots",
            "--quiet",
            "--seed",
            seed,
        ]);
        assert_code(&o, 0, "quick run for plot");
    }
    let cmp = tmp.join("cmp");
    let o = dynasim(&[
        "plot",
        s(&a.join("summary.json")),
        s(&b.join("summary.json")),
        "--out",
        s(&cmp),
    ]);
    assert_code(&o, 0, "plot");
    for fig in ["t_visibility", "k_staleness", "latency_get"] {
        assert_nonempty_file(&cmp.join(format!("{fig}.svg")));
        assert_nonempty_file(&cmp.join(format!("{fig}.png")));
    }

    // A summary that is not JSON is bad input.
    let junk = tmp.write("junk.json", "not json");
    let o = dynasim(&["plot", s(&junk), "--out", s(&cmp)]);
    assert_code(&o, 2, "plot of a non-JSON summary");
    assert!(stderr(&o).contains("junk.json"), "names the file");
}

// ---------------------------------------------------------------- help, version

#[test]
fn help_and_version() {
    for flag in ["--help", "-h"] {
        let o = dynasim(&[flag]);
        assert_code(&o, 0, flag);
        let out = stdout(&o);
        for sub in ["run", "validate", "schema", "plot"] {
            assert!(out.contains(sub), "{flag} lists {sub}:\n{out}");
        }
    }
    let o = dynasim(&["--version"]);
    assert_code(&o, 0, "--version");
    assert!(
        stdout(&o).contains(env!("CARGO_PKG_VERSION")),
        "version printed: {}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("(commit ") && stdout(&o).contains(" build)"),
        "--version names the commit and build: {}",
        stdout(&o)
    );
    for sub in ["run", "validate", "schema", "plot"] {
        let o = dynasim(&[sub, "--help"]);
        assert_code(&o, 0, &format!("{sub} --help"));
        assert!(
            stdout(&o).contains("Example"),
            "{sub} --help has an example:\n{}",
            stdout(&o)
        );
    }
}

// ---------------------------------------------------------------- explain, --trace-format

#[test]
fn explain_tells_the_story_of_a_lost_lww_write_and_writes_its_files() {
    let tmp = TempDir::new("explain");
    let mut sc = tiny();
    sc["name"] = json!("tiny-lww-skew");
    sc["duration_s"] = json!(4);
    sc["cluster"]["nodes"] = json!(4);
    sc["cluster"]["versioning"] = json!("last_write_wins");
    sc["cluster"]["coordinator_scope"] = json!("any_node");
    sc["workload"]["keys"] = json!({ "count": 3 });
    sc["workload"]["mix"] = json!({ "read": 0.3, "blind_write": 0.4, "read_modify_write": 0.3 });
    sc["workload"]["arrival"] = json!({ "open_loop": { "rate_per_s": 60 } });
    sc["faults"] = json!([{ "at_s": 0, "clock_skew": { "node": "n0", "offset_ms": -1500 } }]);
    let file = tmp.write_json("skew.json", &sc);
    let out = tmp.join("ex");
    let o = dynasim(&["explain", s(&file), "--seed", "3", "--out", s(&out)]);
    // The scenario expects no lost write, and LWW under skew loses some.
    assert_code(&o, 1, "explain on a failing LWW run");
    let text = stdout(&o);
    assert!(text.contains("LOST WRITE"), "names the lost write:\n{text}");
    assert!(
        text.contains("overwritten by"),
        "names what overwrote it:\n{text}"
    );
    for f in [
        "timeline.txt",
        "story.txt",
        "msc.svg",
        "perfetto.json",
        "shiviz.log",
    ] {
        assert_nonempty_file(&out.join(f));
    }
    let doc = read_json(&out.join("perfetto.json"));
    assert!(doc["traceEvents"].as_array().is_some_and(|a| !a.is_empty()));

    // Same seed, same story.
    let out2 = tmp.join("ex2");
    let o2 = dynasim(&["explain", s(&file), "--seed", "3", "--out", s(&out2)]);
    assert_eq!(
        std::fs::read(out.join("story.txt")).unwrap(),
        std::fs::read(out2.join("story.txt")).unwrap(),
        "explain is deterministic"
    );
    assert_code(&o2, 1, "second explain");

    // A bad key is a command-line error.
    let o3 = dynasim(&["explain", s(&file), "--key", "banana", "--out", s(&out2)]);
    assert_code(&o3, 2, "explain with a bad --key");

    // The story names what decided the loss; the printed timeline is the
    // window around it.
    assert!(text.contains("what decided it:"), "{text}");
    assert!(text.contains("the later timestamp wins"), "{text}");
    assert!(
        text.contains("timeline and sequence diagram: ")
            && text.contains("around the explained lost write"),
        "{text}"
    );
    // --what: the other checkers' stories; --window narrows the window.
    for (what, head) in [
        ("stale-read", "STALE READ of k"),
        ("siblings", "No sibling growth"),
        ("resurrection", "No resurrected delete"),
    ] {
        let o = dynasim(&[
            "explain",
            s(&file),
            "--seed",
            "3",
            "--what",
            what,
            "--window",
            "0.5",
            "--out",
            s(&out2),
        ]);
        assert_code(&o, 1, what);
        assert!(stdout(&o).contains(head), "{what}:\n{}", stdout(&o));
    }
    let o = dynasim(&["explain", s(&file), "--what", "nonsense", "--out", s(&out2)]);
    assert_code(&o, 2, "explain with a bad --what");
    let o = dynasim(&["explain", s(&file), "--window", "-1", "--out", s(&out2)]);
    assert_code(&o, 2, "explain with a bad --window");
}

#[test]
fn trace_format_perfetto_and_shiviz_streams_parse() {
    let tmp = TempDir::new("trace_format");
    let file = tmp.write_json("crash.json", &tiny_with_crash());
    let out = tmp.join("out");
    let perfetto = tmp.join("t.json");
    let o = run_traced(&file, &out, &perfetto, Some("perfetto"));
    assert_code(&o, 0, "run with perfetto trace");
    let doc = read_json(&perfetto);
    let events = doc["traceEvents"].as_array().expect("traceEvents array");
    assert!(events.len() > 10, "perfetto trace has events");
    for e in events {
        assert!(
            e["ph"].is_string() && e["pid"].is_number(),
            "required fields: {e}"
        );
    }

    let shiviz = tmp.join("t.log");
    let o = run_traced(&file, &out, &shiviz, Some("shiviz"));
    assert_code(&o, 0, "run with shiviz trace");
    let text = std::fs::read_to_string(&shiviz).expect("read shiviz log");
    assert!(text.lines().count() > 10, "shiviz log has lines");
    assert!(text.contains("{\""), "shiviz lines carry vector clocks");

    let o = dynasim(&[
        "run",
        s(&file),
        "--trace",
        s(&shiviz),
        "--trace-format",
        "xml",
    ]);
    assert_code(&o, 2, "unknown trace format");
}

#[test]
fn claims_counts_passing_seeds_per_expectation_and_lists_repro_commands() {
    let dir = TempDir::new("claims");
    let ok = dir.write_json("tiny.json", &tiny());
    // A claim that fails on some seeds: availability 1 under a crash.
    let mut shaky = tiny_with_crash();
    shaky["expect"] = json!({ "availability": { "min": 1.0 }, "durability.lost": { "max": 0 } });
    let shaky = dir.write_json("shaky.json", &shaky);
    let out = dir.join("claims");
    let o = dynasim(&[
        "claims",
        s(&ok),
        "--seeds",
        "1..=4",
        "--jobs",
        "2",
        "--out",
        s(&out),
    ]);
    assert_code(&o, 0, "every seed passes");
    let doc = read_json(&out.join("claims.json"));
    let e = &doc["files"][0]["expectations"][0];
    assert_eq!(e["metric"], "durability.lost");
    assert_eq!(
        (e["runs"].as_u64(), e["passed"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(std::fs::read_to_string(out.join("claims.md"))
        .expect("claims.md")
        .contains("| tiny | durability.lost | 4 / 4 |"));

    let o = dynasim(&[
        "claims",
        s(&ok),
        s(&shaky),
        "--seeds",
        "1..=4",
        "--out",
        s(&out),
    ]);
    assert_code(&o, 1, "a claim fails on some seed");
    let doc = read_json(&out.join("claims.json"));
    let avail = &doc["files"][1]["expectations"][0];
    assert_eq!(avail["metric"], "availability");
    let failing = avail["failing_seeds"].as_array().expect("list").len() as u64;
    assert!(failing > 0, "{avail}");
    assert_eq!(avail["passed"].as_u64(), Some(4 - failing));
    let text = stdout(&o);
    assert!(text.contains("FAIL tiny-crash availability"), "{text}");
    assert!(
        text.contains(&format!("reproduce: dynasim run {}", s(&shaky))),
        "{text}"
    );
    // Results do not depend on --jobs.
    let again = dir.join("again");
    let o = dynasim(&[
        "claims",
        s(&ok),
        s(&shaky),
        "--seeds",
        "1..=4",
        "--jobs",
        "1",
        "--out",
        s(&again),
    ]);
    assert_code(&o, 1, "same verdicts");
    assert_eq!(read_json(&again.join("claims.json")), doc);
}

/// Paired claims: two files compared seed by seed. A pair that holds on
/// every seed passes; the same pair the wrong way round fails on every seed
/// with both repro commands; pairs whose files are not both checked are
/// skipped; a bad pairs file exits 2 naming the JSON path.
#[test]
fn claims_checks_paired_claims_seed_by_seed() {
    let dir = TempDir::new("claims-pairs");
    let fast = dir.write_json("fast.json", &tiny());
    let mut slow = tiny();
    slow["name"] = json!("tiny-slow");
    slow["network"]["latency"] = json!({ "normal": { "mean_ms": 5.0, "stddev_ms": 0.3 } });
    let slow = dir.write_json("slow.json", &slow);
    let pairs = |relation: &str| {
        json!({ "pairs": [
            { "claim": "a faster network answers sooner", "a": "fast.json", "b": "slow.json",
              "metric": "latency.get.p50_ms", "relation": relation },
            { "claim": "skipped: its second file is not checked", "a": "fast.json", "b": "other.json",
              "metric": "latency.get.p50_ms", "relation": "below" }
        ] })
    };
    dir.write_json("other.json", &tiny_with_crash());
    let run = |pairs_doc: &Value, out: &str| {
        let file = dir.write_json("pairs.json", pairs_doc);
        let out = dir.join(out);
        let o = dynasim(&[
            "claims",
            s(&fast),
            s(&slow),
            "--seeds",
            "1..=3",
            "--pairs",
            s(&file),
            "--out",
            s(&out),
        ]);
        (o, out)
    };
    let (o, out) = run(&pairs("below"), "good");
    assert_code(&o, 0, "the pair holds on every seed");
    let doc = read_json(&out.join("claims.json"));
    assert_eq!(doc["pairs"].as_array().map(Vec::len), Some(1), "{doc}");
    let p = &doc["pairs"][0];
    assert_eq!(
        (p["runs"].as_u64(), p["passed"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(
        p["ratio_a_to_b"]["max"].as_f64().expect("a ratio") < 1.0,
        "{p}"
    );
    let md = std::fs::read_to_string(out.join("claims.md")).expect("claims.md");
    assert!(md.contains("| a faster network answers sooner | tiny | below | tiny-slow | latency.get.p50_ms | 3 / 3 |"), "{md}");

    let (o, out) = run(&pairs("above"), "bad");
    assert_code(&o, 1, "the pair the wrong way round fails");
    let p = &read_json(&out.join("claims.json"))["pairs"][0];
    assert_eq!(p["passed"].as_u64(), Some(0), "{p}");
    assert_eq!(p["failing_seeds"], json!([1, 2, 3]));
    let text = stdout(&o);
    assert!(
        text.contains("FAIL pair a faster network answers sooner"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "dynasim run {} --seed 1 ; dynasim run {} --seed 1",
            s(&fast),
            s(&slow)
        )),
        "{text}"
    );

    let mut broken = pairs("faster");
    broken["pairs"].as_array_mut().expect("pairs").truncate(1);
    let (o, _) = run(&broken, "broken");
    assert_code(&o, 2, "a bad relation is bad input");
    assert!(stderr(&o).contains("$.pairs[0].relation"), "{}", stderr(&o));
}

/// `dynasim wars`: the shipped LNKD-DISK scenario's model reproduces PBS's
/// published P(consistent | t = 0) = .437 (the figure docs/scenarios.md
/// quotes), the JSON does not depend on the number of threads, the table
/// names the legs, and bad input exits 2.
#[test]
fn wars_prints_the_model_alone() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pbs-lnkd-disk.json");
    let json_with = |threads: &str| {
        let o = Command::new(BIN)
            .args(["wars", s(&file), "--trials", "2000000", "--json"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("spawn dynasim");
        assert_code(&o, 0, "wars --json");
        stdout(&o)
    };
    let one = json_with("1");
    assert_eq!(one, json_with("2"), "threads do not change the prediction");
    let doc: Value = serde_json::from_str(&one).expect("wars --json is JSON");
    assert_eq!(
        (doc["n"].as_u64(), doc["r"].as_u64(), doc["w"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
    let p0 = doc["p_consistent_t0"].as_f64().expect("p at t=0");
    assert!(
        (p0 - 0.437).abs() <= 0.005,
        "LNKD-DISK t=0: {p0} vs PBS .437"
    );
    let curve = doc["t_visibility"].as_array().expect("curve");
    let at = |ms: f64| {
        curve
            .iter()
            .find(|p| p["t_ms"].as_f64() == Some(ms))
            .and_then(|p| p["p_consistent"].as_f64())
            .expect("grid point")
    };
    // PBS's LNKD-DISK curve at 2 ms (issue 16 quotes .671).
    assert!((at(2.0) - 0.671).abs() <= 0.005, "2 ms: {}", at(2.0));
    assert!(at(200.0) > 0.999);
    assert!(doc["latency"]["put"]["p99_ms"].as_f64().expect("put p99") > 1.0);

    let o = dynasim(&["wars", s(&file), "--trials", "100000"]);
    assert_code(&o, 0, "wars table");
    let out = stdout(&o);
    for want in ["N=3 R=1 W=1", "write (W)", "P(consistent)", "put (commit)"] {
        assert!(out.contains(want), "{want:?} in {out}");
    }

    let o = dynasim(&["wars", s(&file), "--trials", "0"]);
    assert_code(&o, 2, "wars --trials 0");
    assert!(stderr(&o).contains("--trials"), "{}", stderr(&o));
    let tmp = TempDir::new("wars_bad");
    let mut bad = tiny();
    bad["cluster"]["quorum"]["r"] = json!(5);
    let f = tmp.write_json("bad.json", &bad);
    let o = dynasim(&["wars", s(&f)]);
    assert_code(&o, 2, "wars on a bad scenario");
    assert!(stderr(&o).contains("cluster.quorum"), "{}", stderr(&o));
}

/// `metrics.wars_trials` puts the model beside the simulation: a `wars`
/// block in summary.json with the comparison, and the report says so.
#[test]
fn run_with_wars_trials_overlays_the_model() {
    let tmp = TempDir::new("run_wars");
    let mut v = tiny();
    v["metrics"] = json!({ "wars_trials": 200000 });
    let file = tmp.write_json("wars.json", &v);
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--quiet", "--out", s(&out)]);
    assert_code(&o, 0, "run with wars_trials");
    let summary = read_json(&out.join("summary.json"));
    let w = &summary["wars"];
    assert_eq!(w["trials"].as_u64(), Some(200000), "{w}");
    assert_eq!(w["r"].as_u64(), Some(2));
    // R + W > N: the model is always consistent.
    assert_eq!(w["p_consistent_t0"].as_f64(), Some(1.0));
    assert!(w["points_compared"].as_u64().is_some());
    assert!(w["latency"]["get"]["cdf"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let caveats = w["caveats"].as_array().expect("caveats");
    assert!(
        caveats.iter().any(|c| c
            .as_str()
            .is_some_and(|c| c.contains("coordinators are replicas"))),
        "{caveats:?}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(
        html.contains("WARS model"),
        "the report has the WARS section"
    );
}

// ---------------------------------------------------------------- outputs for scripts

/// A run's summary.json holds the scenario as it ran (after --set and
/// --seed, CSV latency files inlined): re-running the summary itself, or
/// the field extracted into a file elsewhere, gives the same trace hash.
#[test]
fn the_scenario_in_a_summary_reruns_to_the_same_trace_hash() {
    let tmp = TempDir::new("rerun_summary");
    let mut sc = tiny_with_crash();
    sc["network"] = json!({"latency": {"empirical": {"csv": "lat.csv"}}});
    tmp.write(
        "lat.csv",
        "latency_ms,cumulative_probability\n0.5,0.2\n1,0.9\n4,1\n",
    );
    let file = tmp.write_json("crash.json", &sc);
    let out = tmp.join("a");
    let o = dynasim(&[
        "run",
        s(&file),
        "--out",
        s(&out),
        "--no-plots",
        "--quiet",
        "--seed",
        "11",
        "--set",
        "cluster.quorum.r=1",
    ]);
    assert_code(&o, 0, "first run");
    let hash = trace_hash(&o);
    let summary = read_json(&out.join("summary.json"));
    let resolved = summary["scenario_file"].clone();
    assert_eq!(resolved["rng_seed"], json!(11), "the --seed is recorded");
    assert_eq!(
        resolved["cluster"]["quorum"]["r"],
        json!(1),
        "the --set is recorded"
    );
    assert!(
        resolved["network"]["latency"]["empirical"]["points"].is_array(),
        "the CSV is inlined: {}",
        resolved["network"]
    );
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).expect("timeline.csv");
    assert!(
        timeline.starts_with("start_s,end_s,partial,completed,ok,failed,"),
        "{timeline}"
    );
    assert!(timeline.lines().count() > 1, "{timeline}");
    assert!(summary["run"]["dynasim_commit"].is_string());
    assert!(summary["run"]["dynasim_build"].is_string());

    let o = dynasim(&[
        "run",
        s(&out.join("summary.json")),
        "--out",
        s(&tmp.join("b")),
        "--no-plots",
        "--quiet",
    ]);
    assert_code(&o, 0, "re-running summary.json");
    assert_eq!(trace_hash(&o), hash, "summary.json re-runs the run");

    let elsewhere = tmp.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    let extracted = elsewhere.join("extracted.json");
    std::fs::write(
        &extracted,
        serde_json::to_string_pretty(&resolved).expect("json"),
    )
    .expect("write");
    let o = dynasim(&[
        "run",
        s(&extracted),
        "--out",
        s(&tmp.join("c")),
        "--no-plots",
        "--quiet",
    ]);
    assert_code(&o, 0, "re-running the extracted scenario");
    assert_eq!(
        trace_hash(&o),
        hash,
        "the extracted scenario re-runs the run"
    );

    let mut old = summary.clone();
    old.as_object_mut().expect("object").remove("scenario_file");
    let old = tmp.write_json("old-summary.json", &old);
    let o = dynasim(&["run", s(&old), "--out", s(&tmp.join("d")), "--quiet"]);
    assert_code(&o, 2, "a summary without its scenario");
    assert!(stderr(&o).contains("scenario_file"), "{}", stderr(&o));
}

/// summary.json breaks the run down by phase (before, during and after
/// the crash, and the quiescence), datacenter and client group; the phases
/// partition the operations, and the latency counting failures is never
/// below the one without them; the console prints the phase table.
#[test]
fn breakdowns_by_phase_datacenter_and_client_group() {
    let tmp = TempDir::new("breakdown");
    let file = tmp.write_json("crash.json", &tiny_with_crash());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&file), "--out", s(&out), "--no-plots"]);
    assert_code(&o, 0, "crash run");
    assert!(stdout(&o).contains("by phase"), "{}", stdout(&o));
    let summary = read_json(&out.join("summary.json"));
    let b = &summary["breakdown"];
    let phases = b["by_phase"].as_array().expect("by_phase");
    let labels: Vec<&str> = phases.iter().filter_map(|p| p["phase"].as_str()).collect();
    assert_eq!(
        labels,
        [
            "before faults",
            "during crash n1",
            "after crash n1",
            "quiescence"
        ],
        "{b}"
    );
    assert_eq!(phases[1]["start_s"], json!(0.5));
    assert_eq!(phases[1]["end_s"], json!(1.0));
    let total = summary["ops"]["total"].as_u64().expect("total");
    let sum: u64 = phases.iter().map(|p| p["ops"].as_u64().unwrap_or(0)).sum();
    assert_eq!(sum, total, "phases partition the operations");
    for p in phases {
        if let (Some(ok), Some(all)) = (
            p["latency_ok_ms"]["p99"].as_f64(),
            p["latency_all_ms"]["p99"].as_f64(),
        ) {
            assert!(all >= ok, "{p}");
        }
    }
    assert_eq!(b["by_datacenter"]["dc1"]["ops"], json!(total), "{b}");
    assert_eq!(b["by_client_group"]["c"]["clients"], json!(2), "{b}");
    assert_eq!(b["by_client_group"]["c"]["ops"], json!(total), "{b}");
    let c0 = b["by_client"]["c0"]["ops"].as_u64().unwrap_or(0);
    let c1 = b["by_client"]["c1"]["ops"].as_u64().unwrap_or(0);
    assert_eq!(c0 + c1, total);
    assert_eq!(summary["convergence"]["last_heal_s"], json!(1.0));
}

// ---------------------------------------------------------------- compare, index, reused --out

/// `compare`: a table with deltas against the first run and a verdict
/// column (same seed and trace hash: "identical run"), compare.json,
/// compare.csv and the overlays; a run directory or its summary.json both
/// work; something that is not a summary is refused with exit 2.
#[test]
fn compare_tables_deltas_verdicts_and_overlays() {
    let tmp = TempDir::new("compare");
    let file = tmp.write_json("tiny.json", &tiny());
    for (dir, seed) in [("a", "1"), ("b", "1"), ("c", "2")] {
        let o = dynasim(&[
            "run",
            s(&file),
            "--out",
            s(&tmp.join(dir)),
            "--no-plots",
            "--quiet",
            "--seed",
            seed,
        ]);
        assert_code(&o, 0, "run for compare");
    }
    let out = tmp.join("cmp");
    let o = dynasim(&[
        "compare",
        s(&tmp.join("a")),
        s(&tmp.join("b/summary.json")),
        s(&tmp.join("c")),
        "--out",
        s(&out),
        "--metric",
        "availability,latency.get.p999_ms",
    ]);
    assert_code(&o, 0, "compare");
    let text = stdout(&o);
    assert!(text.contains("baseline"), "{text}");
    assert!(text.contains("identical run"), "{text}");
    assert!(
        text.contains("different (seed 1 vs 2, trace hash)"),
        "{text}"
    );
    assert!(text.contains("Δ #3 − #1"), "{text}");
    let doc = read_json(&out.join("compare.json"));
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[1]["verdict"], json!("identical run"));
    assert_eq!(runs[2]["verdict"], json!("different"));
    assert_eq!(runs[1]["deltas"]["availability"], json!(0.0));
    let p999 = |r: &Value| r["metrics"]["latency.get.p999_ms"].as_f64().expect("p99.9");
    let delta = runs[2]["deltas"]["latency.get.p999_ms"]
        .as_f64()
        .expect("delta");
    assert!((delta - (p999(&runs[2]) - p999(&runs[0]))).abs() < 1e-9);
    let csv = std::fs::read_to_string(out.join("compare.csv")).expect("csv");
    assert!(csv.starts_with("run,label,source,scenario,rng_seed,trace_hash,verdict,"));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    for fig in ["t_visibility", "k_staleness", "latency_get", "latency_put"] {
        assert_nonempty_file(&out.join(format!("{fig}.svg")));
    }
    let o = dynasim(&["compare", s(&file), "--out", s(&out)]);
    assert_code(&o, 2, "compare of a scenario");
    assert!(
        stderr(&o).contains("not a dynasim summary"),
        "{}",
        stderr(&o)
    );
}

/// `index`: one offline HTML page linking every run's report (relative
/// links), each sweep and its points, with sortable metric columns.
#[test]
fn index_links_every_run_and_sweep_offline() {
    let tmp = TempDir::new("index");
    let file = tmp.write_json("tiny.json", &tiny());
    let runs = tmp.join("runs");
    let o = dynasim(&["run", s(&file), "--out", s(&runs.join("r1")), "--quiet"]);
    assert_code(&o, 0, "run with report");
    let o = dynasim(&[
        "run",
        s(&file),
        "--out",
        s(&runs.join("deep/r2")),
        "--quiet",
        "--no-plots",
        "--seed",
        "2",
    ]);
    assert_code(&o, 0, "run without report");
    let o = dynasim(&[
        "sweep",
        s(&file),
        "--seeds",
        "1..3",
        "--set",
        "cluster.quorum.r=1,2",
        "--out",
        s(&runs.join("sw")),
        "--no-plots",
    ]);
    assert_code(&o, 0, "sweep");
    std::fs::write(runs.join("summary.json"), "{\"not\": \"ours\"}").expect("write");
    let page = tmp.join("pages/index.html");
    let o = dynasim(&["index", s(&runs), "--out", s(&page)]);
    assert_code(&o, 0, "index");
    assert!(
        stdout(&o).contains("4 run(s) and sweep point(s), 1 sweep(s)"),
        "{}",
        stdout(&o)
    );
    let html = std::fs::read_to_string(&page).expect("page");
    for link in [
        "href=\"../runs/r1/report.html\"",
        "href=\"../runs/deep/r2/summary.json\"",
        "href=\"../runs/sw/sweep.json\"",
        "sweep point",
        "<th>availability</th>",
        "addEventListener('click'",
    ] {
        assert!(html.contains(link), "{link} in the page");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "offline"
    );
    let o = dynasim(&["index", s(&tmp.join("nowhere")), "--out", s(&page)]);
    assert_code(&o, 2, "index of a missing directory");
}

/// A reused --out holds only the new run's files: a figure an older run
/// drew and the new one does not (node capacity's utilisation) is gone,
/// and a file of the user's stays.
#[test]
fn a_reused_out_keeps_no_file_of_an_older_run() {
    let tmp = TempDir::new("reused_out");
    let mut with_capacity = tiny();
    with_capacity["cluster"]["capacity"] = json!({ "cpu": { "workers": 2, "service": { "default": { "constant": { "ms": 0.05 } } } } });
    let old = tmp.write_json("old.json", &with_capacity);
    let new = tmp.write_json("new.json", &tiny());
    let out = tmp.join("out");
    let o = dynasim(&["run", s(&old), "--out", s(&out), "--quiet", "--ops"]);
    assert_code(&o, 0, "older run");
    assert_nonempty_file(&out.join("utilisation_cpu.svg"));
    assert_nonempty_file(&out.join("ops.csv"));
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let o = dynasim(&["run", s(&new), "--out", s(&out), "--quiet"]);
    assert_code(&o, 0, "newer run");
    for gone in ["utilisation_cpu.svg", "utilisation_cpu.png", "ops.csv"] {
        assert!(!out.join(gone).exists(), "{gone} of the older run is gone");
    }
    assert_nonempty_file(&out.join("latency.svg"));
    assert!(out.join("notes.txt").exists(), "the user's file stays");
    assert!(!out.join("in-progress.dynasim").exists());
}

/// Issue 17: convergence over time from the command line, without
/// anti-entropy. node-crash-recovery's crash of n2 (20-40 s) shows as
/// divergent keys in `timeline.csv`'s windows, the table says when the
/// heal's divergence cleared, and the figure is written.
#[test]
fn run_reports_divergence_over_time_without_anti_entropy() {
    let tmp = TempDir::new("divergence");
    let out = tmp.0.join("run");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/node-crash-recovery.json");
    let o = dynasim(&["run", s(&file), "--out", s(&out)]);
    assert_code(&o, 0, "node-crash-recovery");
    let table = stdout(&o);
    let line = table
        .lines()
        .find(|l| l.starts_with("convergence"))
        .unwrap_or_else(|| panic!("a convergence line: {table}"));
    assert!(
        line.contains("the last heal's divergence cleared in"),
        "{line}"
    );
    let csv = std::fs::read_to_string(out.join("timeline.csv")).expect("timeline.csv");
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (start, divergent) = (col("start_s"), col("divergent_keys"));
    let rows: Vec<(f64, u64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[start].parse().expect("start_s"),
                cells[divergent].parse().expect("divergent_keys"),
            )
        })
        .collect();
    let at = |t: f64| rows.iter().find(|r| r.0 == t).map(|r| r.1).expect("window");
    assert!(
        at(5.0) <= 2 && at(30.0) > 100 && at(38.0) > at(30.0),
        "{csv}"
    );
    assert_eq!(at(70.0), 0, "the quiescence has rows and ends converged");
    let summary = read_json(&out.join("summary.json"));
    let c = &summary["convergence"];
    assert!(
        c["time_to_converge_from_last_heal_s"].as_f64() > Some(0.0),
        "{c}"
    );
    assert!(out.join("timeline_divergence.png").exists());
    assert!(out.join("timeline_divergence.svg").exists());
}

/// The wall-clock limit covers the WARS prediction's trials after the
/// simulation: a model whose write leg is a sum of 100 normals takes most
/// of a minute for its 10M trials on two cores, and `--max-wall-s 1` stops
/// it (exit 3, the summary saying where it stopped; without the check the
/// run would end complete, exit 0).
#[test]
fn the_wall_clock_limit_stops_the_wars_trials_too() {
    let tmp = TempDir::new("wars-wall");
    let file = slow_wars_scenario(&tmp);
    let out = tmp.path().join("out");
    let run = dynasim(&[
        "run",
        s(&file),
        "--out",
        s(&out),
        "--no-plots",
        "--quiet",
        "--max-wall-s",
        "1",
    ]);
    assert_code(&run, 3, "WARS trials stopped by the wall clock");
    let text = stdout(&run);
    assert!(
        text.contains("INCOMPLETE RUN") && text.contains("WARS"),
        "{text}"
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("summary.json")).expect("summary.json"),
    )
    .expect("JSON");
    assert_eq!(summary["wars"]["stopped"], "wall_clock");
    assert_eq!(summary["run"]["stopped_in"], "wars");
    assert_eq!(summary["run"]["complete"], false);
    // explain's first run summarises it the same way.
    let explained = dynasim(&[
        "explain",
        s(&file),
        "--out",
        s(&tmp.path().join("explained")),
        "--max-wall-s",
        "1",
    ]);
    assert_code(
        &explained,
        3,
        "explain's WARS trials stopped by the wall clock",
    );
}

/// A tiny scenario whose WARS model is slow: its write leg is a sum of 100
/// normals, and it asks 10M trials (most of a minute on two cores).
fn slow_wars_scenario(tmp: &TempDir) -> PathBuf {
    let mut scenario = tiny();
    let leg = json!({ "normal": { "mean_ms": 0.01, "stddev_ms": 0.003 } });
    scenario["network"]["latency_by_kind"] = json!({ "write_request": { "sum": vec![leg; 100] } });
    scenario["metrics"] = json!({ "wars_trials": 10_000_000 });
    let file = tmp.path().join("wars-slow.json");
    std::fs::write(&file, scenario.to_string()).expect("write");
    file
}

/// `dynasim wars`, the model alone, takes the same wall-clock limit: the
/// slow model's 10M trials are given up after a second (exit 3, the JSON
/// saying so and holding no prediction), and a limit of 0 means none.
#[test]
fn the_wars_command_stops_at_its_wall_clock_limit() {
    let tmp = TempDir::new("wars-cmd-wall");
    let file = slow_wars_scenario(&tmp);
    let o = dynasim(&[
        "wars",
        s(&file),
        "--trials",
        "10000000",
        "--max-wall-s",
        "1",
        "--json",
    ]);
    assert_code(&o, 3, "wars stopped by the wall clock");
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("wars --json is JSON");
    assert_eq!(doc["stopped"], "wall_clock", "{doc}");
    assert_eq!(doc["trials_asked"], 10_000_000, "{doc}");
    assert!(doc.get("t_visibility").is_none(), "{doc}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("INCOMPLETE") && err.contains("--max-wall-s"),
        "{err}"
    );
    let o = dynasim(&[
        "wars",
        s(&file),
        "--trials",
        "10000",
        "--max-wall-s",
        "0",
        "--json",
    ]);
    assert_code(&o, 0, "wars without a limit");
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("wars --json is JSON");
    assert!(doc["t_visibility"].is_array(), "{doc}");
}
