//! The full run path against the engine (issue 18): the engine bench's
//! 1M-operation baseline (`sim-core/benches/engine.rs`, 64 nodes, 100k
//! preloaded keys) run twice in the same bench, alternating, best of three:
//!
//! - the engine alone: `dynasim hash FILE`, the same binary running the
//!   simulator into a `NullSink` (no collector, no files), so both sides
//!   are the shipped build (the release profile aborts on a panic; a bench
//!   harness, as the engine bench's child is, cannot: Cargo builds it to
//!   unwind, which costs the engine about 8 % more instructions);
//! - the CLI's path: `dynasim run FILE --no-plots --quiet --out DIR` through
//!   the real binary (collector, checkers, summary, `summary.json`,
//!   `timeline.csv`; no figures). On two cores or more the collector works
//!   on a second thread beside the engine (`reports::pipeline`), so wall
//!   time falls while CPU time does not;
//! - the same with `--one-thread` (collector on the engine's thread):
//!   `run_path_one_thread_wall_s` / `_cpu_s` and
//!   `run_path_one_thread_vs_engine_bench` / `_cpu`.
//!
//! The figures below are measured twice: for the baseline, and for the same
//! scenario with node capacity on (the engine bench's section 5:
//! `common::BASELINE_CAPACITY`, 8 workers, 4 disk channels and a
//! 1,250 MB/s interface per node), whose figures carry a `capacity_`
//! prefix (`capacity_run_path_vs_engine_bench`,
//! `capacity_run_path_messages_per_cpu_sec`,
//! `capacity_engine_instructions_per_op`, ...): issue 18's goals hold with
//! capacity off and on. `capacity_overhead_run_path` / `_cpu` is the CLI
//! path's time with capacity over without. The one-thread CLI path and the
//! cost against the number of keys are measured without capacity only
//! (over 1,000 zipfian keys with capacity the busiest key's disks queue
//! and its siblings pile up: a sibling explosion, not the maps' cost).
//!
//! Run with `cargo bench --bench run_path` (`DYNASIM_BENCH_QUICK=1`: 200k
//! operations, one round). Prints `name: value` lines:
//! `run_path_ops`, `engine_run_wall_s` / `_cpu_s`, `run_path_wall_s` /
//! `_cpu_s`, `run_path_vs_engine_bench` (wall; goal ≤ 1.3) and
//! `run_path_vs_engine_bench_cpu`, `run_path_us_per_op` (CPU),
//! and `run_path_messages_per_cpu_sec` (messages the run sends over the CLI
//! path's CPU seconds; goal ≥ 2.2 M). Wall time is measured only here,
//! outside any simulation.
//!
//! Then the cost per operation against the number of keys: the same
//! baseline over 1,000 and over 1,000,000 loaded keys (zipfian 0.99 both),
//! each through the engine alone and through `dynasim run`, best of two
//! alternating rounds (one when quick): `keys_1k_engine_cpu_s`,
//! `keys_1m_engine_cpu_s`, `keys_1k_run_path_cpu_s`, `keys_1m_run_path_cpu_s`
//! (each with its `_wall_s` beside it), and the ratios
//! `engine_keys_1m_vs_1k_cpu` and `run_path_keys_1m_vs_1k_cpu` (wall:
//! without `_cpu`).
//! The 1M-key runs include loading the keys and the end state of every
//! copy, as a user's run does; the same scenarios with 200 operations
//! measure that fixed part (`keys_1m_fixed_engine_cpu_s`,
//! `keys_1m_fixed_run_path_cpu_s`), and the marginal cost per operation
//! is compared without it: `engine_keys_1m_vs_1k_cpu_per_op` and
//! `run_path_keys_1m_vs_1k_cpu_per_op` (goal ≤ 1.3; loading is the memory
//! bench's `preload_us_per_key`).
//!
//! Last, when valgrind is installed, instructions per operation counted by
//! callgrind, which the machine's load does not change (this machine's CPU
//! times vary by up to 30 % between identical runs): the baseline at 100k
//! and 200k operations, engine alone and CLI path with `--one-thread`, the
//! difference over the 100k operations between them:
//! `engine_instructions_per_op`, `run_path_instructions_per_op` and
//! `run_path_vs_engine_instructions` (`n/a` without valgrind).

// A benchmark has to measure time; it does so only here, around the code
// under test, never inside a simulation.
#![allow(clippy::disallowed_methods)]

#[allow(dead_code)]
#[path = "../sim-core/benches/common/mod.rs"]
mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{baseline_scenario_json, children_cpu_time_s, with_capacity};

const OPS: u64 = 1_000_000;
const QUICK_OPS: u64 = 200_000;

fn main() {
    let quick = std::env::var("DYNASIM_BENCH_QUICK").is_ok();
    let (ops, rounds) = if quick { (QUICK_OPS, 1) } else { (OPS, 3) };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("dynasim-run-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let files = VARIANTS.map(|(prefix, scenario)| {
        let file = dir.join(format!("{prefix}baseline.json"));
        std::fs::write(&file, scenario(ops)).expect("write the scenario");
        file
    });
    let mut best = [PathTimes::NONE; 2];
    let mut one_thread = (f64::INFINITY, f64::INFINITY);
    let mut messages = [0u64; 2];
    for round in 0..rounds {
        eprintln!("run_path: round {} of {rounds}", round + 1);
        // Capacity off then on, each engine alone then through the CLI;
        // the one-thread CLI path only without capacity.
        for (i, file) in files.iter().enumerate() {
            let alone = engine_run(file);
            messages[i] = alone.messages;
            let (wall, cpu, hash) = cli_run(file, &dir.join("out"));
            assert_eq!(alone.hash, hash, "the two paths ran the same run");
            best[i] = best[i].min(PathTimes {
                engine: (alone.wall, alone.cpu),
                cli: (wall, cpu),
            });
            if i == 0 {
                let (wall, cpu, one) = cli_run_with(file, &dir.join("out"), &["--one-thread"]);
                assert_eq!(hash, one, "one thread or two, the same run");
                one_thread = (one_thread.0.min(wall), one_thread.1.min(cpu));
            }
        }
    }
    println!("run_path_ops: {ops}");
    for (i, (prefix, _)) in VARIANTS.iter().enumerate() {
        let PathTimes { engine, cli } = best[i];
        println!("{prefix}engine_run_wall_s: {:.3}", engine.0);
        println!("{prefix}engine_run_cpu_s: {:.3}", engine.1);
        println!("{prefix}run_path_wall_s: {:.3}", cli.0);
        println!("{prefix}run_path_cpu_s: {:.3}", cli.1);
        println!("{prefix}run_path_vs_engine_bench: {:.2}", cli.0 / engine.0);
        println!(
            "{prefix}run_path_vs_engine_bench_cpu: {:.2}",
            cli.1 / engine.1
        );
        println!(
            "{prefix}run_path_us_per_op: {:.2}",
            cli.1 * 1e6 / ops as f64
        );
        println!(
            "{prefix}run_path_messages_per_cpu_sec: {:.0}",
            messages[i] as f64 / cli.1
        );
    }
    println!(
        "capacity_overhead_run_path: {:.2}",
        best[1].cli.0 / best[0].cli.0
    );
    println!(
        "capacity_overhead_run_path_cpu: {:.2}",
        best[1].cli.1 / best[0].cli.1
    );
    println!("run_path_one_thread_wall_s: {:.3}", one_thread.0);
    println!("run_path_one_thread_cpu_s: {:.3}", one_thread.1);
    println!(
        "run_path_one_thread_vs_engine_bench: {:.2}",
        one_thread.0 / best[0].engine.0
    );
    println!(
        "run_path_one_thread_vs_engine_bench_cpu: {:.2}",
        one_thread.1 / best[0].engine.1
    );
    // Without capacity only: over 1,000 zipfian keys the busiest key's
    // replicas get 13 % of the operations, their disks queue (358 jobs and
    // 35 ms waits in a 20k-operation run), the key's read-modify-writes
    // overlap and leave siblings (89 after 20k operations) that every later
    // read carries: the 200k-operation run then measures a sibling
    // explosion, the protocol's cost, not the per-key maps this figure is
    // about.
    keys_scaling(&dir, ops, if quick { 1 } else { 2 });
    for (prefix, scenario) in VARIANTS {
        instruction_counts(&dir, prefix, scenario);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The baseline with node capacity (the engine bench's section 5).
fn capacity_scenario_json(ops: u64) -> String {
    with_capacity(&baseline_scenario_json(ops))
}

/// A run the figures are measured for: the prefix of their names and its
/// scenario for a number of operations.
type Variant = (&'static str, fn(u64) -> String);

/// Node capacity off (no prefix) and on (`capacity_`).
const VARIANTS: [Variant; 2] = [
    ("", baseline_scenario_json),
    ("capacity_", capacity_scenario_json),
];

/// Wall and CPU seconds of one scenario: the engine alone, then the CLI
/// path.
#[derive(Clone, Copy)]
struct PathTimes {
    engine: (f64, f64),
    cli: (f64, f64),
}

impl PathTimes {
    const NONE: PathTimes = PathTimes {
        engine: (f64::INFINITY, f64::INFINITY),
        cli: (f64::INFINITY, f64::INFINITY),
    };

    /// Runs `file` through the engine alone and through the CLI.
    fn measure(file: &Path, out: &Path) -> PathTimes {
        let alone = engine_run(file);
        let (wall, cpu, _) = cli_run(file, out);
        PathTimes {
            engine: (alone.wall, alone.cpu),
            cli: (wall, cpu),
        }
    }

    /// The best (least) of each figure.
    fn min(self, o: PathTimes) -> PathTimes {
        let m = |a: (f64, f64), b: (f64, f64)| (a.0.min(b.0), a.1.min(b.1));
        PathTimes {
            engine: m(self.engine, o.engine),
            cli: m(self.cli, o.cli),
        }
    }
}

/// The baseline over 1k and 1M keys, engine alone and CLI path: best wall
/// and CPU seconds of `rounds` alternating rounds each, and their ratios.
fn keys_scaling(dir: &Path, ops: u64, rounds: usize) {
    let base = baseline_scenario_json(ops);
    let counts = [1_000u64, 1_000_000];
    let write = |n: u64, text: &str, name: &str| {
        let text = text.replace("\"count\": 100000,", &format!("\"count\": {n},"));
        assert!(
            text.contains(&format!("\"count\": {n},")),
            "the baseline names its key count"
        );
        let file = dir.join(format!("{name}-{n}.json"));
        std::fs::write(&file, text).expect("write the scenario");
        file
    };
    let out = dir.join("out-keys");
    let files: Vec<PathBuf> = counts.iter().map(|n| write(*n, &base, "keys")).collect();
    // The fixed part: the same runs with 100 plans (200 operations).
    let fixed_base = baseline_scenario_json(200);
    let fixed: Vec<PathTimes> = counts
        .iter()
        .map(|n| PathTimes::measure(&write(*n, &fixed_base, "fixed"), &out))
        .collect();
    let mut best = [PathTimes::NONE; 2];
    for round in 0..rounds {
        for (i, file) in files.iter().enumerate() {
            eprintln!(
                "run_path: {} keys, round {} of {rounds}",
                counts[i],
                round + 1
            );
            best[i] = best[i].min(PathTimes::measure(file, &out));
        }
    }
    for (path, pick) in [
        (
            "engine",
            (|t: &PathTimes| t.engine) as fn(&PathTimes) -> (f64, f64),
        ),
        ("run_path", |t: &PathTimes| t.cli),
    ] {
        let (k1, m1, f1, f0) = (
            pick(&best[0]),
            pick(&best[1]),
            pick(&fixed[1]),
            pick(&fixed[0]),
        );
        println!("keys_1k_{path}_wall_s: {:.3}", k1.0);
        println!("keys_1k_{path}_cpu_s: {:.3}", k1.1);
        println!("keys_1m_{path}_wall_s: {:.3}", m1.0);
        println!("keys_1m_{path}_cpu_s: {:.3}", m1.1);
        println!("keys_1m_fixed_{path}_wall_s: {:.3}", f1.0);
        println!("keys_1m_fixed_{path}_cpu_s: {:.3}", f1.1);
        println!("{path}_keys_1m_vs_1k: {:.2}", m1.0 / k1.0);
        println!("{path}_keys_1m_vs_1k_cpu: {:.2}", m1.1 / k1.1);
        println!(
            "{path}_keys_1m_vs_1k_per_op: {:.2}",
            (m1.0 - f1.0) / (k1.0 - f0.0)
        );
        println!(
            "{path}_keys_1m_vs_1k_cpu_per_op: {:.2}",
            (m1.1 - f1.1) / (k1.1 - f0.1)
        );
    }
}

/// One run of the engine alone (`dynasim hash`).
struct EngineRun {
    wall: f64,
    cpu: f64,
    messages: u64,
    hash: String,
}

/// The engine alone on `file`: wall and CPU seconds of `dynasim hash`, the
/// messages it sent and its trace hash.
fn engine_run(file: &Path) -> EngineRun {
    let (wall, cpu, stdout) = dynasim(&["hash".as_ref(), file.as_os_str()]);
    // `scenario NAME  rng_seed N  (E events, M messages, ...)`.
    let messages = stdout
        .split_once(" events, ")
        .and_then(|(_, rest)| rest.split_once(" messages"))
        .and_then(|(m, _)| m.parse().ok())
        .expect("dynasim hash prints the messages it sent");
    EngineRun {
        wall,
        cpu,
        messages,
        hash: trace_hash(&stdout),
    }
}

/// The CLI path: wall and CPU seconds of `dynasim run --no-plots`, and the
/// trace hash it printed.
fn cli_run(file: &Path, out: &Path) -> (f64, f64, String) {
    cli_run_with(file, out, &[])
}

/// [`cli_run`] with extra arguments.
fn cli_run_with(file: &Path, out: &Path, extra: &[&str]) -> (f64, f64, String) {
    let _ = std::fs::remove_dir_all(out);
    let mut args = vec!["run".as_ref(), file.as_os_str()];
    args.extend(["--no-plots", "--quiet", "--out"].map(OsStr::new));
    args.push(out.as_os_str());
    args.extend(extra.iter().map(OsStr::new));
    let (wall, cpu, stdout) = dynasim(&args);
    (wall, cpu, trace_hash(&stdout))
}

/// Runs the `dynasim` binary with `args`: its wall and CPU seconds and
/// standard output (panics when it fails).
fn dynasim(args: &[&OsStr]) -> (f64, f64, String) {
    let cpu_before = children_cpu_time_s();
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_dynasim"))
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the dynasim binary runs");
    let wall = start.elapsed().as_secs_f64();
    let cpu = children_cpu_time_s()
        .zip(cpu_before)
        .map_or(f64::NAN, |(after, before)| after - before);
    assert!(
        output.status.success(),
        "dynasim {args:?} failed: {}",
        output.status
    );
    (
        wall,
        cpu,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The hash of a `trace hash ...` line.
fn trace_hash(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace hash "))
        .unwrap_or_default()
        .to_string()
}

/// Operations of the smaller of the two runs [`instruction_counts`]
/// counts; the larger has twice as many.
const COUNTED_OPS: u64 = 100_000;

/// Instructions per operation, counted by callgrind (valgrind), which a
/// shared machine's load does not change: the baseline at 100k and at 200k
/// operations, the engine alone (`dynasim hash`) and the CLI path with
/// `--one-thread`, each run once. The difference of the two runs divided by
/// the 100k operations between them is the marginal cost of an operation,
/// without the fixed part (building the simulation, the end state, the
/// summary): `engine_instructions_per_op`, `run_path_instructions_per_op`
/// and their ratio `run_path_vs_engine_instructions`. Prints `n/a` without
/// valgrind. About two and a half minutes.
fn instruction_counts(dir: &Path, prefix: &str, scenario: fn(u64) -> String) {
    let names = [
        "engine_instructions_per_op",
        "run_path_instructions_per_op",
        "run_path_vs_engine_instructions",
    ]
    .map(|n| format!("{prefix}{n}"));
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !valgrind {
        for name in names {
            println!("{name}: n/a");
        }
        return;
    }
    let out = dir.join("out-counted");
    let mut counts = [[0u64; 2]; 2];
    for (i, ops) in [COUNTED_OPS, 2 * COUNTED_OPS].into_iter().enumerate() {
        let file = dir.join(format!("{prefix}counted-{ops}.json"));
        std::fs::write(&file, scenario(ops)).expect("write the scenario");
        eprintln!("run_path: {prefix}counting instructions, {ops} operations");
        counts[0][i] = callgrind(
            Command::new(env!("CARGO_BIN_EXE_dynasim"))
                .arg("hash")
                .arg(&file),
        );
        let _ = std::fs::remove_dir_all(&out);
        counts[1][i] = callgrind(
            Command::new(env!("CARGO_BIN_EXE_dynasim"))
                .arg("run")
                .arg(&file)
                .args(["--no-plots", "--quiet", "--one-thread", "--out"])
                .arg(&out),
        );
    }
    let per_op = |c: [u64; 2]| c[1].saturating_sub(c[0]) as f64 / COUNTED_OPS as f64;
    let (engine, cli) = (per_op(counts[0]), per_op(counts[1]));
    println!("{}: {engine:.0}", names[0]);
    println!("{}: {cli:.0}", names[1]);
    println!("{}: {:.2}", names[2], cli / engine);
}

/// Runs the program of `cmd` with its arguments and environment under
/// callgrind and returns the instructions it counted.
fn callgrind(cmd: &mut Command) -> u64 {
    let mut counted = Command::new("valgrind");
    counted
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_remove("DYNASIM_BENCH_QUICK")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            counted.env(k, v);
        }
    }
    let output = counted.output().expect("valgrind runs");
    assert!(
        output.status.success(),
        "the counted run failed: {}",
        output.status
    );
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|l| {
            l.split_once("Collected : ")
                .map(|(_, n)| n.trim().to_string())
        })
        .and_then(|n| n.parse().ok())
        .expect("callgrind reports the instructions it collected")
}
