//! Helpers shared by the benches that measure in child processes
//! (`sim-core/benches/engine.rs`, `reports/benches/collector.rs`): peak RSS
//! is process-wide and never goes down, so each measured run re-executes the
//! bench with `DYNASIM_BENCH_CHILD=<spec>` and reads back the `name: value`
//! lines it prints.

use std::process::{Command, Stdio};

/// The `dynasim` binary's allocator (`src/main.rs`), so that the benches
/// measure what a user's run does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The variable that puts a bench in child mode; its value is the spec.
pub const CHILD_ENV: &str = "DYNASIM_BENCH_CHILD";

/// The `name: value` lines a child printed.
pub struct ChildFigures(Vec<(String, String)>);

impl ChildFigures {
    /// The value printed for `name` (panics when the child printed none).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the child printed no `{name}`"))
    }
}

/// Runs this bench again in a fresh process with `CHILD_ENV=spec` (and
/// without `DYNASIM_BENCH_QUICK`) and collects what it printed.
pub fn run_child_spec(spec: &str) -> ChildFigures {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let out = Command::new(exe)
        .env(CHILD_ENV, spec)
        .env_remove("DYNASIM_BENCH_QUICK")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the bench can re-execute itself");
    assert!(
        out.status.success(),
        "the {spec} child failed: {}",
        out.status
    );
    let text = String::from_utf8(out.stdout).expect("the child prints UTF-8");
    ChildFigures(
        text.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

/// Peak resident set size of this process in MiB (`VmHWM`; Linux only).
#[cfg(target_os = "linux")]
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Peak RSS is read from `/proc`, which only Linux has.
#[cfg(not(target_os = "linux"))]
pub fn peak_rss_mb() -> Option<f64> {
    None
}

/// CPU time (user + system) this process has used, in seconds
/// (`/proc/self/stat`, clock ticks of 1/100 s; Linux only).
#[cfg(target_os = "linux")]
#[allow(dead_code)] // the collector bench measures memory, not time
pub fn cpu_time_s() -> Option<f64> {
    stat_ticks(11).map(|t| t / 100.0)
}

/// CPU time (user + system) of this process's children that have been
/// waited for, in seconds (`cutime` + `cstime` of `/proc/self/stat`).
#[cfg(target_os = "linux")]
#[allow(dead_code)] // only the sweep bench runs children it waits for
pub fn children_cpu_time_s() -> Option<f64> {
    stat_ticks(13).map(|t| t / 100.0)
}

/// The sum of the two clock-tick fields of `/proc/self/stat` starting at
/// `first` (counted after the command name): 11 for this process, 13 for
/// its waited-for children.
#[cfg(target_os = "linux")]
#[allow(dead_code)]
fn stat_ticks(first: usize) -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(first)?.parse().ok()?;
    let system: f64 = fields.get(first + 1)?.parse().ok()?;
    Some(user + system)
}

/// CPU time is read from `/proc`, which only Linux has.
#[cfg(not(target_os = "linux"))]
#[allow(dead_code)]
pub fn cpu_time_s() -> Option<f64> {
    None
}

/// CPU time is read from `/proc`, which only Linux has.
#[cfg(not(target_os = "linux"))]
#[allow(dead_code)]
pub fn children_cpu_time_s() -> Option<f64> {
    None
}

/// The baseline's nodes.
#[allow(dead_code)]
pub const BASELINE_NODES: u32 = 64;
/// The baseline's clients.
#[allow(dead_code)]
pub const BASELINE_CLIENTS: u64 = 100;
/// The baseline's operations per second per client.
#[allow(dead_code)]
pub const BASELINE_RATE_PER_CLIENT: u64 = 200;

/// The engine bench's baseline scenario (64 nodes, 100 read-modify-write
/// clients, 100k preloaded zipfian keys) with a budget of `ops` operations
/// (gets + puts).
#[allow(dead_code)] // the engine and run-path benches only
pub fn baseline_scenario_json(ops: u64) -> String {
    // One read-modify-write plan = one get + one put; clients count plans.
    let plans = ops / 2;
    assert_eq!(
        plans % BASELINE_CLIENTS,
        0,
        "every client gets the same budget (max_ops is split with div_ceil)"
    );
    // Twice the expected time to spend the budget: max_ops ends the workload.
    let expected_s = plans / (BASELINE_CLIENTS * BASELINE_RATE_PER_CLIENT);
    let duration_s = 2 * expected_s + 5;
    format!(
        r#"{{
  "name": "bench-baseline",
  "description": "engine benchmark: strategy 3, (3,2,2), RMW clients, healthy network",
  "rng_seed": 1,
  "duration_s": {duration_s},
  "quiescence": {{ "duration_s": 1, "heal_faults": true }},
  "max_events": 10000000000,
  "cluster": {{
    "nodes": {BASELINE_NODES},
    "quorum": {{ "n": 3, "r": 2, "w": 2 }},
    "partitioning": {{ "strategy": "equal_partitions", "partitions": 512 }}
  }},
  "network": {{
    "latency": {{ "normal": {{ "mean_ms": 0.5, "stddev_ms": 0.1 }} }}
  }},
  "workload": {{
    "clients": {BASELINE_CLIENTS},
    "arrival": {{ "open_loop": {{ "rate_per_s": {BASELINE_RATE_PER_CLIENT} }} }},
    "keys": {{ "count": 100000, "popularity": {{ "zipfian": 0.99 }}, "preload": true }},
    "mix": {{ "read_modify_write": 1.0 }},
    "max_ops": {plans}
  }}
}}"#
    )
}

/// The engine bench's node capacity (its section 5): every node gets 8
/// workers (exponential 20 µs per message), a disk with 4 channels (the
/// default storage latencies as service times) and a 1,250 MB/s interface,
/// generous enough that the baseline is not overloaded.
#[allow(dead_code)]
pub const BASELINE_CAPACITY: &str = r#""capacity": {
      "cpu": { "workers": 8, "service": { "default": { "exponential": { "mean_ms": 0.02 } } } },
      "disk": { "concurrency": 4 },
      "nic": { "bandwidth_mb_per_s": 1250 }
    },"#;

/// `scenario` (the baseline or one derived from it) with
/// [`BASELINE_CAPACITY`] in its cluster section: the same run with node
/// capacity on (issue 18's goals hold with capacity off and on).
#[allow(dead_code)]
pub fn with_capacity(scenario: &str) -> String {
    let at = r#""cluster": {"#;
    assert!(
        scenario.contains(at) && !scenario.contains(r#""capacity""#),
        "the baseline changed: no cluster section to give capacity"
    );
    scenario.replacen(at, &format!("{at}\n    {BASELINE_CAPACITY}"), 1)
}
