//! Breakdowns of a run's client-visible metrics by phase (before, during
//! and after each fault window, and the quiescence), by datacenter and by
//! client group: availability, latency with and without failed operations,
//! staleness and siblings.
//!
//! The collector feeds this at operation completion (a few counter
//! updates; nothing in the engine's event loop): an operation counts in
//! the phase in which it was *invoked* and in its client's accumulators.
//! A phase starts whenever the set of open fault windows changes; a run
//! with more than [`MAX_PHASES`] phases (a busy nemesis) merges the later
//! ones into the last, which says so. Latency "all" counts failed
//! operations at the time they took to fail (a client timeout at the
//! timeout), so a partition cannot make the tail look shorter by failing
//! the slow requests.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};
use sim_core::config::Scenario;
use sim_core::engine::histogram::Histogram;
use sim_core::engine::ids::ClientId;
use sim_core::engine::time::SimTime;

/// The most phases kept; later fault changes merge into the last phase.
pub const MAX_PHASES: usize = 64;
/// Runs with at most this many clients also report each client.
pub const MAX_CLIENTS_LISTED: usize = 32;

/// Counters of one group of operations.
#[derive(Clone, Debug, Default)]
struct Stats {
    completed: u64,
    ok: u64,
    latency_ok: Histogram,
    latency_all: Histogram,
    reads: u64,
    multi_version_reads: u64,
    reads_checked: u64,
    stale: u64,
}

impl Stats {
    fn merge(&mut self, o: &Stats) {
        self.completed += o.completed;
        self.ok += o.ok;
        self.latency_ok.merge(&o.latency_ok);
        self.latency_all.merge(&o.latency_all);
        self.reads += o.reads;
        self.multi_version_reads += o.multi_version_reads;
        self.reads_checked += o.reads_checked;
        self.stale += o.stale;
    }

    fn json(&self) -> Json {
        let ms = |h: &Histogram, q: f64| -> Json {
            if h.count() == 0 {
                Json::Null
            } else {
                json!(h.quantile(q) as f64 / 1000.0)
            }
        };
        let lat = |h: &Histogram| json!({"count": h.count(), "p50": ms(h, 0.5), "p99": ms(h, 0.99), "p999": ms(h, 0.999), "max": ms(h, 1.0)});
        let frac = |a: u64, b: u64| {
            if b == 0 {
                Json::Null
            } else {
                json!(a as f64 / b as f64)
            }
        };
        json!({
            "ops": self.completed,
            "ok": self.ok,
            "failed": self.completed - self.ok,
            "availability": frac(self.ok, self.completed),
            "latency_ok_ms": lat(&self.latency_ok),
            "latency_all_ms": lat(&self.latency_all),
            "reads": self.reads,
            "multi_version_read_fraction": frac(self.multi_version_reads, self.reads),
            "reads_checked": self.reads_checked,
            "stale_reads": self.stale,
            "stale_read_fraction": frac(self.stale, self.reads_checked),
        })
    }
}

#[derive(Clone, Debug)]
struct Phase {
    start: SimTime,
    label: String,
    stats: Stats,
}

/// The breakdown accumulators of one run.
#[derive(Clone, Debug)]
pub struct Breakdown {
    phases: Vec<Phase>,
    merged_phases: u64,
    quiescence_started: bool,
    workload_end: SimTime,
    has_quiescence: bool,
    clients: Vec<Stats>,
    client_names: Vec<String>,
    client_dcs: Vec<String>,
}

/// A client's group: its name without trailing digits (`web3` is in
/// `web`, the default `c0..` clients in `c`).
pub fn client_group(name: &str) -> &str {
    let g = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let g = g.trim_end_matches(['-', '_', '.']);
    if g.is_empty() {
        name
    } else {
        g
    }
}

impl Breakdown {
    /// Accumulators for `scenario`'s clients.
    pub fn new(scenario: &Scenario) -> Breakdown {
        Breakdown {
            phases: vec![Phase {
                start: SimTime::ZERO,
                label: "before faults".into(),
                stats: Stats::default(),
            }],
            merged_phases: 0,
            quiescence_started: false,
            workload_end: SimTime::ZERO + scenario.duration,
            has_quiescence: scenario.quiescence.duration.as_micros() > 0,
            clients: Vec::new(),
            client_names: scenario
                .workload
                .clients
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            client_dcs: scenario
                .workload
                .clients
                .iter()
                .map(|c| {
                    scenario
                        .datacenters
                        .get(c.datacenter.0 as usize)
                        .cloned()
                        .unwrap_or_else(|| format!("dc{}", c.datacenter.0))
                })
                .collect(),
        }
    }

    /// The current phase (stored with each invocation).
    pub fn phase(&self) -> u32 {
        (self.phases.len() - 1) as u32
    }

    /// The set of open fault windows changed at `at`: `open` names those
    /// now open, `closed` the one that just closed, if any.
    pub fn faults_changed(&mut self, at: SimTime, open: &[&str], closed: Option<&str>) {
        if self.quiescence_started {
            return;
        }
        let label = if at >= self.workload_end {
            self.quiescence_started = true;
            "quiescence".to_string()
        } else if !open.is_empty() {
            format!("during {}", open.join(" + "))
        } else {
            format!("after {}", closed.unwrap_or("faults"))
        };
        if let Some(last) = self.phases.last_mut() {
            if last.start == at {
                last.label = label;
                return;
            }
        }
        if self.phases.len() >= MAX_PHASES {
            self.merged_phases += 1;
            return;
        }
        self.phases.push(Phase {
            start: at,
            label,
            stats: Stats::default(),
        });
    }

    fn client(&mut self, client: ClientId) -> &mut Stats {
        let i = client.0 as usize;
        if self.clients.len() <= i {
            self.clients.resize_with(i + 1, Stats::default);
        }
        &mut self.clients[i]
    }

    fn both(&mut self, phase: u32, client: ClientId, f: impl Fn(&mut Stats)) {
        if let Some(p) = self.phases.get_mut(phase as usize) {
            f(&mut p.stats);
        }
        f(self.client(client));
    }

    /// An operation completed after `latency_us`.
    pub fn completed(&mut self, phase: u32, client: ClientId, latency_us: u64, ok: bool) {
        self.both(phase, client, |s| {
            s.completed += 1;
            s.latency_all.record(latency_us);
            if ok {
                s.ok += 1;
                s.latency_ok.record(latency_us);
            }
        });
    }

    /// A successful read returned `versions` versions.
    pub fn read(&mut self, phase: u32, client: ClientId, versions: usize) {
        self.both(phase, client, |s| {
            s.reads += 1;
            if versions > 1 {
                s.multi_version_reads += 1;
            }
        });
    }

    /// A read was checked for staleness.
    pub fn checked(&mut self, phase: u32, client: ClientId, stale: bool) {
        self.both(phase, client, |s| {
            s.reads_checked += 1;
            if stale {
                s.stale += 1;
            }
        });
    }

    /// The `breakdown` block of the summary; `end` is the run's end.
    pub fn summary(&self, end: SimTime) -> Json {
        let secs = |t: SimTime| t.as_micros() as f64 / 1e6;
        let mut phases: Vec<Json> = Vec::new();
        let mut starts: Vec<SimTime> = self.phases.iter().map(|p| p.start).collect();
        let quiescence_missing = !self.quiescence_started && self.has_quiescence;
        if quiescence_missing {
            starts.push(self.workload_end);
        }
        for (i, p) in self.phases.iter().enumerate() {
            let mut item = json!({
                "phase": if i + 1 == self.phases.len() && self.merged_phases > 0 {
                    format!("{} (and {} later fault changes)", p.label, self.merged_phases)
                } else if self.phases.len() == 1 && !quiescence_missing && !self.quiescence_started {
                    "whole run".to_string()
                } else if self.phases.len() == 1 {
                    "workload (no faults)".to_string()
                } else {
                    p.label.clone()
                },
                "start_s": secs(p.start),
                "end_s": secs(starts.get(i + 1).copied().unwrap_or(end).min(end).max(p.start)),
            });
            if let (Some(a), Json::Object(b)) = (item.as_object_mut(), p.stats.json()) {
                a.extend(b);
            }
            phases.push(item);
        }
        if quiescence_missing {
            let mut item = json!({"phase": "quiescence", "start_s": secs(self.workload_end), "end_s": secs(end.max(self.workload_end))});
            if let (Some(a), Json::Object(b)) = (item.as_object_mut(), Stats::default().json()) {
                a.extend(b);
            }
            phases.push(item);
        }
        let mut by_dc: BTreeMap<&str, Stats> = BTreeMap::new();
        let mut by_group: BTreeMap<&str, (u64, Stats)> = BTreeMap::new();
        let mut by_client = Map::new();
        for (i, name) in self.client_names.iter().enumerate() {
            let empty = Stats::default();
            let s = self.clients.get(i).unwrap_or(&empty);
            by_dc.entry(&self.client_dcs[i]).or_default().merge(s);
            let g = by_group.entry(client_group(name)).or_default();
            g.0 += 1;
            g.1.merge(s);
            if self.client_names.len() <= MAX_CLIENTS_LISTED {
                by_client.insert(name.clone(), s.json());
            }
        }
        let mut out = json!({
            "by_phase": phases,
            "by_datacenter": by_dc.iter().map(|(k, v)| ((*k).to_string(), v.json())).collect::<Map<_, _>>(),
            "by_client_group": by_group.iter().map(|(k, (n, v))| {
                let mut j = v.json();
                j["clients"] = json!(n);
                ((*k).to_string(), j)
            }).collect::<Map<_, _>>(),
        });
        if !by_client.is_empty() {
            out["by_client"] = Json::Object(by_client);
        }
        out
    }
}

/// The named groups of one breakdown (`by_datacenter`, `by_client_group`,
/// `by_client`) of a summary's `breakdown` block, in name order.
pub fn groups<'a>(breakdown: &'a Json, key: &str) -> Vec<(String, &'a Json)> {
    breakdown[key]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v))
        .collect()
}

fn num(v: &Json, digits: usize) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// One table row per group: ops, availability, p99 of successful
/// operations and of all (failures at their time), stale-read fraction.
fn rows(out: &mut String, title: &str, items: &[(String, &Json)]) {
    out.push_str(&format!(
        "{title:<44} {:>7} {:>9} {:>10} {:>10} {:>8}\n",
        "ops", "avail", "p99 ok ms", "p99 all", "stale"
    ));
    for (name, s) in items {
        let name = if name.chars().count() > 42 {
            format!("{}…", name.chars().take(41).collect::<String>())
        } else {
            name.clone()
        };
        out.push_str(&format!(
            "  {name:<42} {:>7} {:>9} {:>10} {:>10} {:>8}\n",
            s["ops"].as_u64().unwrap_or(0),
            num(&s["availability"], 5),
            num(&s["latency_ok_ms"]["p99"], 2),
            num(&s["latency_all_ms"]["p99"], 2),
            num(&s["stale_read_fraction"], 4),
        ));
    }
}

/// The breakdown tables `dynasim run` prints: phases when the run had
/// faults, datacenters and client groups when there are several.
pub fn table(summary: &Json) -> String {
    let b = &summary["breakdown"];
    let mut out = String::new();
    let phases: Vec<(String, &Json)> = b["by_phase"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                format!(
                    "{} [{}-{} s]",
                    p["phase"].as_str().unwrap_or(""),
                    num(&p["start_s"], 1),
                    num(&p["end_s"], 1)
                ),
                p,
            )
        })
        .collect();
    if phases.len() > 2 {
        rows(&mut out, "by phase", &phases);
    }
    for (key, title) in [
        ("by_datacenter", "by datacenter"),
        ("by_client_group", "by client group"),
    ] {
        let items = groups(b, key);
        if items.len() > 1 {
            rows(&mut out, title, &items);
        }
    }
    out
}
