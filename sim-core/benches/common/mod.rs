//! Helpers shared by the benches that measure in child processes
//! (`sim-core/benches/engine.rs`, `reports/benches/collector.rs`): peak RSS
//! is process-wide and never goes down, so each measured run re-executes the
//! bench with `DYNASIM_BENCH_CHILD=<spec>` and reads back the `name: value`
//! lines it prints.

use std::process::{Command, Stdio};

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
