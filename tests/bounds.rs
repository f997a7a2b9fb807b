//! Regression tests for issue 19, "bounded by construction": each finding of
//! the mutation fuzzer that took the machine's memory, ran for hours,
//! reported a truncated run as a success or left stale or half-written
//! outputs, run through the built binary with its exit code, message and
//! files checked. Memory is checked as the binary's own peak resident set
//! (`DYNASIM_REPORT_PEAK_RSS=1` makes it print `peak_rss_kb N` on stderr),
//! never as a duration: these tests do not time anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dynasim");

/// A per-test scratch directory, removed (best effort) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "dynasim-bounds-test-{}-{}",
            std::process::id(),
            test
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }

    fn write_json(&self, rel: &str, v: &Value) -> PathBuf {
        self.write(rel, serde_json::to_string_pretty(v).expect("json"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The fuzzer's base: 3 nodes, 10 keys, 10 s (0.01 s and 6 MB in release).
fn base() -> Value {
    json!({
        "name": "base",
        "rng_seed": 1,
        "duration_s": 10,
        "cluster": { "nodes": 3, "quorum": { "n": 3, "r": 2, "w": 2 } },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 50 } },
            "keys": { "count": 10 },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        },
        "expect": { "durability.lost": { "max": 0 } }
    })
}

fn dynasim(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DYNASIM_REPORT_PEAK_RSS", "1")
        .output()
        .expect("run dynasim")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The peak resident memory the binary reported, MiB.
fn peak_mb(o: &Output) -> f64 {
    let err = text(&o.stderr);
    let kb: f64 = err
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak_rss_kb line in stderr: {err}"));
    kb / 1024.0
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `dynasim run FILE --out DIR` plus `extra`.
fn run(file: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", path_str(file), "--out", path_str(out)];
    args.extend_from_slice(extra);
    dynasim(&args)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

// ------------------------------------------------------------ truncated runs

#[test]
fn a_run_stopped_by_max_events_exits_3_and_says_so_everywhere() {
    let t = TempDir::new("max-events");
    let f = t.write_json("s.json", &base());
    let out = t.join("out");
    let o = run(&f, &out, &["--set", "max_events=1000"]);
    let stdout = text(&o.stdout);
    assert_eq!(code(&o), 3, "{stdout}{}", text(&o.stderr));
    assert!(stdout.contains("INCOMPLETE RUN"), "{stdout}");
    assert!(stdout.contains("max_events bound was reached"), "{stdout}");
    assert!(
        stdout.contains("expect run.complete >= 1: FAIL"),
        "{stdout}"
    );
    assert!(stdout.contains("--set max_events=1000"), "repro: {stdout}");
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["run"]["complete"], json!(false));
    assert_eq!(s["run"]["stop_reason"], json!("max_events"));
    assert_eq!(s["run"]["events"], json!(1000));
    let failed: Vec<&Value> = s["expectations"]
        .as_array()
        .expect("verdicts")
        .iter()
        .filter(|v| v["pass"] == json!(false))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["metric"], json!("run.complete"));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(html.contains("INCOMPLETE RUN"));

    // The same run to its end: complete, exit 0.
    let o = run(&f, &out, &["--no-plots"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["run"]["complete"], json!(true));
    assert!(
        !out.join("report.html").exists(),
        "the old report was cleared"
    );
}

#[test]
fn a_run_past_its_wall_clock_limit_stops_with_exit_3() {
    // One hot key, 8 clients × 1000 read-modify-writes/s: the cost per
    // event grows with the siblings, so max_events does not bound the time.
    let t = TempDir::new("wall-clock");
    let mut s = base();
    s["workload"]["clients"] = json!(8);
    s["workload"]["arrival"] = json!({"open_loop": {"rate_per_s": 1000}});
    s["workload"]["keys"] = json!({"count": 1});
    s["workload"]["mix"] = json!({"read_modify_write": 1});
    let f = t.write_json("s.json", &s);
    let out = t.join("out");
    let o = run(&f, &out, &["--no-plots", "--max-wall-s", "1"]);
    let stdout = text(&o.stdout);
    assert_eq!(code(&o), 3, "{stdout}{}", text(&o.stderr));
    assert!(
        stdout.contains("wall-clock limit (--max-wall-s)"),
        "{stdout}"
    );
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["run"]["stop_reason"], json!("wall_clock"));
    assert_eq!(s["run"]["complete"], json!(false));
    // The simulator alone honours the same limit.
    let o = dynasim(&["hash", path_str(&f), "--max-wall-s", "1"]);
    let stdout = text(&o.stdout);
    assert_eq!(code(&o), 3, "{stdout}{}", text(&o.stderr));
    assert!(
        stdout.contains("stop: wall_clock") && stdout.contains("INCOMPLETE RUN"),
        "{stdout}"
    );
}

#[test]
fn a_sweep_with_an_incomplete_run_exits_3() {
    let t = TempDir::new("sweep-incomplete");
    let f = t.write_json("s.json", &base());
    let out = t.join("out");
    let o = dynasim(&[
        "sweep",
        path_str(&f),
        "--seeds",
        "1..=2",
        "--set",
        "max_events=500,100000000",
        "--no-plots",
        "--jobs",
        "1",
        "--out",
        path_str(&out),
    ]);
    let stdout = text(&o.stdout);
    assert_eq!(code(&o), 3, "{stdout}{}", text(&o.stderr));
    assert!(stdout.contains("INCOMPLETE: 2 run(s)"), "{stdout}");
    let sweep = read_json(&out.join("sweep.json"));
    assert_eq!(sweep["failures"].as_array().map(Vec::len), Some(2));
}

// ------------------------------------------------------------ the budget

#[test]
fn scenarios_over_the_budget_are_refused_naming_the_dominant_path() {
    let t = TempDir::new("budget");
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, &str, fn(&mut Value))> = vec![
        ("merkle", "cluster.partitioning.partitions", |v| {
            v["cluster"]["partitioning"] =
                json!({"strategy": "equal_partitions", "partitions": 1_048_576});
            v["cluster"]["anti_entropy"] = json!({"fanout": 16, "depth": 4});
        }),
        // With a fault every loaded key may have its versions built (a
        // quiet run leaves them in the load table: below).
        ("preload", "workload.keys.preload", |v| {
            v["workload"]["keys"] = json!({"count": 10_000_000, "preload": true});
            v["faults"] = json!([{"at_s": 5, "crash": {"node": "n0"}}]);
        }),
        ("window", "metrics.window_s", |v| {
            v["metrics"] = json!({"window_s": 1e-6});
        }),
        ("clients", "workload.arrival.open_loop.rate_per_s", |v| {
            v["workload"]["clients"] = json!(4096);
            v["workload"]["arrival"] = json!({"open_loop": {"rate_per_s": 1e6}});
        }),
        ("mtbf", "nemesis.crashes.mtbf_s", |v| {
            v["nemesis"] =
                json!({"crashes": {"mtbf_s": 1e-6, "downtime": {"constant": {"ms": 0}}}});
        }),
        ("partitions", "nemesis.partitions.mean_interval_s", |v| {
            v["nemesis"] = json!({"partitions": {"mean_interval_s": 1e-6,
                "duration": {"constant": {"ms": 0.001}}}});
        }),
        ("phi", "cluster.nodes", |v| {
            v["cluster"]["nodes"] = json!(4096);
            v["cluster"]["membership"] =
                json!({"failure_detector": {"phi_accrual": {"window": 1000}}});
            v["duration_s"] = json!(1000);
        }),
        ("duration", "duration_s", |v| {
            v["duration_s"] = json!(1e9);
        }),
    ];
    for (name, path, mutate) in cases {
        let mut v = base();
        mutate(&mut v);
        let f = t.write_json(&format!("{name}.json"), &v);
        for cmd in ["run", "validate", "hash"] {
            let mut args = vec![cmd, path_str(&f)];
            if cmd == "run" {
                args.extend(["--out", path_str(&t.0)]);
            }
            let o = dynasim(&args);
            let all = text(&o.stdout) + &text(&o.stderr);
            assert_eq!(code(&o), 2, "{name} {cmd}: {all}");
            assert!(
                all.contains(&format!("{name}.json: {path}: the run would")),
                "{name} {cmd}: {all}"
            );
            assert!(
                peak_mb(&o) < 64.0,
                "{name} {cmd}: refused before allocating"
            );
        }
    }
    // A bigger machine raises the limit with a flag. 10M loaded keys that
    // a few operations reach: about 1.4 GiB estimated, 0.59 GB measured.
    let mut v = base();
    v["workload"]["keys"] = json!({"count": 10_000_000, "preload": true});
    let f = t.write_json("preload-10m.json", &v);
    let o = dynasim(&["validate", path_str(&f), "--max-memory-mb", "512"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stdout));
    let o = dynasim(&["validate", path_str(&f), "--max-memory-mb", "4096"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}

#[test]
fn ten_thousand_heal_alls_validate_and_run_in_little_memory() {
    // Each heal_all used to emit a heal for every earlier entry: 50 million
    // heals, over 4 GB in `validate` alone.
    let t = TempDir::new("heal-all");
    let mut v = base();
    v["faults"] = json!(vec![json!({"at_s": 0, "heal_all": true}); 10_000]);
    let f = t.write_json("s.json", &v);
    let o = dynasim(&["validate", path_str(&f)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(peak_mb(&o) < 128.0, "validate: {} MB", peak_mb(&o));
    let o = run(&f, &t.join("out"), &["--no-plots", "--quiet"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(peak_mb(&o) < 256.0, "run: {} MB", peak_mb(&o));
}

#[test]
fn a_busy_nemesis_is_drawn_as_the_run_goes() {
    // 0.2 s with a crash every ~50 µs per node: 12,000 faults, drawn one
    // pair per node at a time (the eager schedule held them all first).
    let t = TempDir::new("nemesis");
    let mut v = base();
    v["duration_s"] = json!(0.2);
    v["nemesis"] = json!({"crashes": {"mtbf_s": 5e-5, "downtime": {"constant": {"ms": 0.001}}}});
    v["expect"] = json!({});
    let f = t.write_json("s.json", &v);
    let o = run(&f, &t.join("out"), &["--no-plots", "--quiet"]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let s = read_json(&t.join("out/summary.json"));
    let faults = s["timeline"]["fault_windows"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(faults > 5_000, "{faults} crash windows");
    assert!(peak_mb(&o) < 512.0, "{} MB", peak_mb(&o));
}

#[test]
fn gossip_on_4096_nodes_shares_the_membership_history() {
    // Every node used to copy the whole history: 4.5 GB for 10 s.
    let t = TempDir::new("gossip");
    let mut v = base();
    v["duration_s"] = json!(0.2);
    v["cluster"]["nodes"] = json!(4096);
    v["cluster"]["membership"] = json!({});
    v["expect"] = json!({});
    let f = t.write_json("s.json", &v);
    let o = run(&f, &t.join("out"), &["--no-plots", "--quiet"]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(peak_mb(&o) < 512.0, "{} MB", peak_mb(&o));
}

// ------------------------------------------------------------ inputs

#[test]
fn inputs_that_are_not_regular_files_or_too_large_are_refused_by_name() {
    let t = TempDir::new("inputs");
    let mut v = base();
    v["network"] = json!({"latency": {"empirical": {"csv": "/dev/zero"}}});
    let f = t.write_json("zero.json", &v);
    let o = dynasim(&["validate", path_str(&f)]);
    assert_eq!(code(&o), 2);
    let out = text(&o.stderr);
    assert!(
        out.contains(
            "network.latency.empirical.csv: cannot read \"/dev/zero\": not a regular file"
        ),
        "{out}"
    );
    assert!(peak_mb(&o) < 64.0);

    for bad in ["/dev/zero", "/dev/null"] {
        let o = dynasim(&["validate", bad]);
        assert_eq!(code(&o), 2);
        assert!(
            text(&o.stderr).contains("not a regular file"),
            "{bad}: {}",
            text(&o.stderr)
        );
    }
    let o = dynasim(&["run", path_str(&t.0)]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("not a regular file"),
        "{}",
        text(&o.stderr)
    );

    let big = t.write("big.json", vec![b' '; (16 << 20) + 1]);
    let o = dynasim(&["run", path_str(&big)]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("larger than the 16 MiB limit"),
        "{}",
        text(&o.stderr)
    );
    assert!(peak_mb(&o) < 64.0);
}

#[test]
fn invalid_utf8_is_reported_with_line_and_column() {
    let t = TempDir::new("utf8");
    let f = t.write(
        "s.json",
        b"{\n  \"name\": \"a\xff\xfeb\",\n  \"duration_s\": 1\n}",
    );
    for cmd in ["validate", "run"] {
        let o = dynasim(&[cmd, path_str(&f)]);
        assert_eq!(code(&o), 2);
        let all = text(&o.stdout) + &text(&o.stderr);
        assert!(
            all.contains("s.json: line 2, column 13: invalid UTF-8"),
            "{cmd}: {all}"
        );
    }
}

#[test]
fn plot_refuses_what_is_not_a_summary_naming_the_file() {
    let t = TempDir::new("plot");
    let scenario = t.write_json("scenario.json", &base());
    let cases = [
        (t.write("null.json", "null"), "a JSON null"),
        (t.write("empty.json", "{}"), "without summary_version"),
        (scenario, "a scenario"),
        (
            t.write_json("sweep.json", &json!({"sweep_version": 2, "runs": []})),
            "sweep.json",
        ),
    ];
    for (file, what) in cases {
        let o = dynasim(&["plot", path_str(&file), "--out", path_str(&t.join("p"))]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 2, "{err}");
        assert!(err.contains(path_str(&file)), "{err}");
        assert!(err.contains("not a dynasim summary"), "{err}");
        assert!(err.contains(what), "{what}: {err}");
    }
    assert!(
        !t.join("p/t_visibility.png").exists(),
        "no empty plots were drawn"
    );
}

#[test]
fn explain_checks_its_key_and_window() {
    let t = TempDir::new("explain-args");
    let f = t.write_json("s.json", &base());
    let out = t.join("ex");
    for (flag, value, says) in [
        ("--key", "999999999", "the scenario has 10 key(s), k0..k9"),
        ("--from", "NaN", "--from NaN: expected a time in seconds"),
        ("--to=-1", "", "expected a time in seconds"),
        ("--from", "99", "after the end of the run"),
    ] {
        let mut args = vec!["explain", path_str(&f), flag, "--out", path_str(&out)];
        if !value.is_empty() {
            args.insert(3, value);
        }
        let o = dynasim(&args);
        assert_eq!(code(&o), 2, "{flag} {value}");
        assert!(
            text(&o.stderr).contains(says),
            "{flag} {value}: {}",
            text(&o.stderr)
        );
    }
}

// ------------------------------------------------------------ sweeps and merge

#[test]
fn huge_seed_ranges_are_refused_without_allocating() {
    let t = TempDir::new("seeds");
    let f = t.write_json("s.json", &base());
    for seeds in ["0..=18446744073709551615", "1..=100000000"] {
        let o = dynasim(&[
            "sweep",
            path_str(&f),
            "--seeds",
            seeds,
            "--out",
            path_str(&t.join("o")),
        ]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 2, "{seeds}: {err}");
        assert!(
            err.contains("expected at most 1000000 per sweep process"),
            "{err}"
        );
        assert!(peak_mb(&o) < 64.0, "{seeds}: {} MB", peak_mb(&o));
    }
    let o = dynasim(&["sweep", path_str(&f), "--seeds", "1..=18446744073709551616"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("is not a seed"),
        "{}",
        text(&o.stderr)
    );
    // Sharded, the same range is within bounds per process, yet the total
    // is still bounded.
    let o = dynasim(&[
        "sweep",
        path_str(&f),
        "--seeds",
        "0..=18446744073709551615",
        "--shard",
        "1/1000000",
    ]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("in all"), "{}", text(&o.stderr));
}

#[test]
fn merge_compares_the_scenarios_contents_not_their_path() {
    let t = TempDir::new("merge");
    let mut v = base();
    v["duration_s"] = json!(1);
    let f = t.write_json("s.json", &v);
    let shard = |i: u32, file: &Path, out: &str| {
        let o = dynasim(&[
            "sweep",
            path_str(file),
            "--seeds",
            "1..=2",
            "--shard",
            &format!("{i}/2"),
            "--no-plots",
            "--out",
            path_str(&t.join(out)),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    };
    shard(1, &f, "a1");
    // The file changes between the shards: same path, other contents.
    v["workload"]["arrival"] = json!({"open_loop": {"rate_per_s": 60}});
    t.write_json("s.json", &v);
    shard(2, &f, "a2");
    let o = dynasim(&[
        "merge",
        path_str(&t.join("a1")),
        path_str(&t.join("a2")),
        "--out",
        path_str(&t.join("m")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("scenario's contents differ"),
        "{}",
        text(&o.stderr)
    );
    // The same contents under another path merge.
    let copy = t.write_json("copy.json", &v);
    shard(1, &copy, "b1");
    let o = dynasim(&[
        "merge",
        path_str(&t.join("b1")),
        path_str(&t.join("a2")),
        "--out",
        path_str(&t.join("m")),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let merged = read_json(&t.join("m/sweep.json"));
    assert_eq!(merged["runs"].as_array().map(Vec::len), Some(2));
    assert!(merged["scenario_md5"].is_string() && merged["dynasim_md5"].is_string());
}

// ------------------------------------------------------------ outputs

#[test]
fn a_reused_out_directory_holds_only_the_new_runs_files() {
    let t = TempDir::new("reuse");
    let f = t.write_json("s.json", &base());
    let out = t.join("out");
    let o = run(&f, &out, &["--ops"]);
    assert_eq!(code(&o), 0);
    assert!(out.join("latency.png").exists() && out.join("ops.csv").exists());
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let o = run(&f, &out, &["--no-plots", "--seed", "2"]);
    assert_eq!(code(&o), 0);
    assert!(!out.join("latency.png").exists(), "old plots cleared");
    assert!(!out.join("report.html").exists(), "old report cleared");
    assert!(!out.join("ops.csv").exists(), "old ops.csv cleared");
    assert!(out.join("notes.txt").exists(), "the user's file stays");
    assert!(!out.join("in-progress.dynasim").exists());
    assert_eq!(
        read_json(&out.join("summary.json"))["run"]["rng_seed"],
        json!(2)
    );

    // A sweep into the same place with fewer points leaves no old point.
    let sw = t.join("sweep");
    let sweep = |values: &str| {
        let o = dynasim(&[
            "sweep",
            path_str(&f),
            "--set",
            &format!("cluster.quorum.r={values}"),
            "--no-plots",
            "--out",
            path_str(&sw),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    };
    sweep("1,2");
    assert!(sw
        .join("points/001_cluster.quorum.r=2/summary.json")
        .exists());
    sweep("1");
    assert!(
        !sw.join("points/001_cluster.quorum.r=2").exists(),
        "old point cleared"
    );
    assert!(sw
        .join("points/000_cluster.quorum.r=1/summary.json")
        .exists());

    // explain too.
    let ex = t.join("ex");
    std::fs::create_dir_all(&ex).expect("dir");
    std::fs::write(ex.join("story.txt"), "an old story").expect("write");
    let o = dynasim(&[
        "explain",
        path_str(&f),
        "--set",
        "max_events=100",
        "--out",
        path_str(&ex),
    ]);
    assert_eq!(code(&o), 3, "an incomplete run: {}", text(&o.stdout));
    let story = std::fs::read_to_string(ex.join("story.txt")).expect("story");
    assert!(story.contains("INCOMPLETE RUN"), "{story}");
}

#[test]
fn an_interrupted_run_leaves_its_marker_and_no_older_summary() {
    let t = TempDir::new("interrupt");
    let f = t.write_json("s.json", &base());
    let out = t.join("out");
    assert_eq!(code(&run(&f, &out, &["--no-plots"])), 0);
    assert!(out.join("summary.json").exists());
    // A long run into the same directory, killed mid-way.
    let mut v = base();
    v["duration_s"] = json!(100000);
    v["max_events"] = json!(1_000_000_000u64);
    let long = t.write_json("long.json", &v);
    let mut child = Command::new(BIN)
        .args(["run", path_str(&long), "--out", path_str(&out), "--ops"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let marker = out.join("in-progress.dynasim");
    let mut waited = 0;
    while !(marker.exists() && out.join(".ops.csv.partial").exists()) && waited < 600 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        marker.exists(),
        "the marker says the directory is incomplete"
    );
    assert!(
        !out.join("summary.json").exists(),
        "no summary of the older run beside it"
    );
    assert!(
        !out.join("ops.csv").exists(),
        "no ops.csv in place, only its partial file"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_names_its_file_and_leaves_no_half_written_summary() {
    // `ulimit -f` makes writes past 64 KB fail (EFBIG; SIGXFSZ ignored), as
    // a full disk would.
    let t = TempDir::new("efbig");
    let mut v = base();
    v["workload"]["arrival"] = json!({"open_loop": {"rate_per_s": 500}});
    let f = t.write_json("s.json", &v);
    let out = t.join("out");
    let limited = |extra: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f 128; exec '{BIN}' run '{}' --out '{}' --no-plots {extra}",
                path_str(&f),
                path_str(&out)
            ))
            .output()
            .expect("sh")
    };
    let o = limited("--ops");
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("ops.csv"), "{}", text(&o.stderr));
    assert!(!out.join("ops.csv").exists() && !out.join(".ops.csv.partial").exists());
    assert!(!out.join("summary.json").exists());

    // The summary itself too big to write: no truncated summary.json.
    let mut v = v.clone();
    v["metrics"] = json!({"window_s": 0.001});
    t.write_json("s.json", &v);
    let o = limited("");
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("summary.json"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.join("summary.json").exists(), "complete or absent");
    assert!(out.join("in-progress.dynasim").exists());
}
