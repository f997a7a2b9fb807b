//! The limits a command runs under, and the runtime guard that enforces the
//! ones only the running process can see.
//!
//! [`Limits`] are shared flags: `--max-memory-mb` and `--max-events-budget`
//! bound the up-front [`budget`](crate::budget) estimate (a scenario over
//! them is refused, exit 2), and `--max-memory-mb` and `--max-wall-s` are
//! also checked while a run goes ([`RunGuard`], a
//! [`sim_core::sim::Guard`]): a run whose resident memory or wall-clock
//! time passes them stops with `memory` or `wall_clock` as its stop reason
//! and is reported as incomplete (exit 3); the wall-clock limit covers the
//! WARS prediction's trials after the simulation too ([`RunGuard::wall_stop`]).
//! Reading the clock and the
//! process's memory happens here, in the driver, never in `sim-core`.

use std::time::{Duration, Instant};

use sim_core::sim::{Guard, StopReason};

use crate::budget::{Budget, DEFAULT_EVENTS, DEFAULT_MEMORY_MB};

/// The resource limits of a command (flags shared by run, sweep, explain,
/// shrink, explore and validate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Memory limit, MiB: a scenario estimated to need more is refused
    /// (exit 2), and a run whose resident memory passes it stops (exit 3).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_MB)]
    pub max_memory_mb: u64,
    /// Event budget: a scenario estimated to process more event-equivalents
    /// (events times their cost, capped by its max_events) is refused.
    #[arg(long, value_name = "EVENTS", default_value_t = DEFAULT_EVENTS)]
    pub max_events_budget: u64,
    /// Wall-clock limit per run, seconds (0: none): a run still going then
    /// stops and is reported as incomplete (exit 3).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WALL_S)]
    pub max_wall_s: u64,
}

/// The default wall-clock limit per run: one hour.
pub const DEFAULT_WALL_S: u64 = 3600;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_mb: DEFAULT_MEMORY_MB,
            max_events_budget: DEFAULT_EVENTS,
            max_wall_s: DEFAULT_WALL_S,
        }
    }
}

impl Limits {
    /// The up-front budget.
    pub fn budget(&self) -> Budget {
        Budget {
            memory_bytes: self.max_memory_mb.saturating_mul(1 << 20),
            events: self.max_events_budget,
        }
    }

    /// A guard for one run, started now.
    pub fn guard(&self) -> RunGuard {
        RunGuard::new(
            wall_limit(self.max_wall_s),
            Some(self.max_memory_mb.saturating_mul(1 << 20)),
        )
    }
}

/// A `--max-wall-s` value as a limit (0: none).
pub fn wall_limit(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Stops a run that passes a wall-clock or memory limit.
pub struct RunGuard {
    start: Instant,
    wall: Option<Duration>,
    memory_bytes: Option<u64>,
    next_memory_check: Instant,
}

/// How often the guard reads the process's resident memory.
const MEMORY_CHECK_EVERY: Duration = Duration::from_millis(200);

impl RunGuard {
    /// A guard started now.
    pub fn new(wall: Option<Duration>, memory_bytes: Option<u64>) -> RunGuard {
        let now = Instant::now();
        RunGuard {
            start: now,
            wall,
            memory_bytes,
            next_memory_check: now,
        }
    }

    /// True once the wall-clock limit has passed: for work after the
    /// simulation that the limit covers as well (the WARS prediction's
    /// trials, `reports::report::summary_until`).
    pub fn wall_stop(&self) -> impl Fn() -> bool + Sync + use<> {
        let (start, wall) = (self.start, self.wall);
        move || wall.is_some_and(|w| start.elapsed() >= w)
    }
}

impl Guard for RunGuard {
    fn check(&mut self, _events: u64) -> Option<StopReason> {
        let now = Instant::now();
        if self
            .wall
            .is_some_and(|w| now.duration_since(self.start) >= w)
        {
            return Some(StopReason::WallClock);
        }
        if let Some(limit) = self.memory_bytes {
            if now >= self.next_memory_check {
                self.next_memory_check = now + MEMORY_CHECK_EVERY;
                if resident_bytes().is_some_and(|rss| rss > limit) {
                    return Some(StopReason::Memory);
                }
            }
        }
        None
    }
}

/// A field of `/proc/self/status` in kB (Linux; `None` elsewhere).
fn proc_status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The process's resident memory, bytes (Linux; `None` elsewhere, where
/// the memory guard does nothing and only the up-front budget applies).
pub fn resident_bytes() -> Option<u64> {
    proc_status_kb("VmRSS:").map(|kb| kb * 1024)
}

/// The process's peak resident memory so far, kB (Linux).
pub fn peak_resident_kb() -> Option<u64> {
    proc_status_kb("VmHWM:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_past_its_wall_clock_limit_stops_the_run() {
        let mut g = RunGuard::new(Some(Duration::ZERO), None);
        assert_eq!(g.check(0), Some(StopReason::WallClock));
        let mut g = RunGuard::new(Some(Duration::from_secs(3600)), None);
        assert_eq!(g.check(0), None);
    }

    #[test]
    fn a_guard_below_the_resident_memory_stops_the_run() {
        if resident_bytes().is_none() {
            return; // not Linux: the memory guard is inert
        }
        let mut g = RunGuard::new(None, Some(1024));
        assert_eq!(g.check(0), Some(StopReason::Memory));
        let mut g = RunGuard::new(None, Some(u64::MAX));
        assert_eq!(g.check(0), None);
    }
}
