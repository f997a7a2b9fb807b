//! The `capacity` block of the summary: what each node's resources (request
//! processing, disk, network interface) did over the run, from the engine's
//! [`ResourceStats`].
//!
//! Per node and resource: utilisation while the workload runs (busy time
//! over capacity, in the metrics windows before the workload ends; over
//! the whole run as `utilisation_run`), mean queue length (the time integral of the waiting jobs over the
//! run time), the longest queue, waiting and sojourn time distributions,
//! refusals and sheds. Per resource across the cluster: the mean and the
//! largest utilisation, the merged waiting-time distribution and the
//! totals. A utilisation timeline per resource (per metrics window) feeds
//! the report's figure; with more than [`TIMELINE_NODES`] nodes it keeps the
//! busiest ones. This module only turns counters into numbers; it decides
//! nothing about the run.

use serde_json::{json, Map, Value as Json};
use sim_core::config::Scenario;
use sim_core::dynamo::protocol::MsgKind;
use sim_core::engine::histogram::Histogram;
use sim_core::sim::{ResourceStats, RunOutcome};
use sim_core::world::resources::{LinkStats, StationStats};

/// Nodes whose utilisation timelines the summary keeps (the busiest).
pub const TIMELINE_NODES: usize = 8;

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// `{count, mean, p50, p99, p999, max}` of a histogram of microseconds, in ms.
fn dist_ms(h: &Histogram) -> Json {
    if h.count() == 0 {
        return json!({"count": 0, "mean": null, "p50": null, "p99": null, "p999": null, "max": null});
    }
    json!({
        "count": h.count(),
        "mean": h.mean() / 1000.0,
        "p50": ms(h.quantile(0.5)),
        "p99": ms(h.quantile(0.99)),
        "p999": ms(h.quantile(0.999)),
        "max": ms(h.max()),
    })
}

/// Utilisation while clients issue operations: busy time in the metrics
/// windows that start before the workload ends, over their capacity.
fn under_load(busy: &[u64], window_us: u64, servers: f64, workload_end_us: u64) -> f64 {
    let windows = workload_end_us.div_ceil(window_us.max(1)) as usize;
    if windows == 0 {
        return 0.0;
    }
    let sum: u64 = busy.iter().take(windows).sum();
    sum as f64 / (servers * windows as f64 * window_us as f64)
}

fn station(s: &StationStats, run_us: f64, end_us: u64) -> Json {
    json!({
        "servers": s.servers,
        "utilisation": under_load(s.timeline.busy(), s.timeline.window_us(), f64::from(s.servers), end_us),
        "utilisation_run": s.busy_us as f64 / (f64::from(s.servers) * run_us),
        "queue_mean": s.queue_us as f64 / run_us,
        "in_system_mean": s.in_system_us as f64 / run_us,
        "queue_max": s.queue_max,
        "started": s.started,
        "refused": s.refused,
        "shed": s.shed,
        "lost_in_crashes": s.lost,
        "wait_ms": dist_ms(&s.wait),
        "sojourn_ms": dist_ms(&s.sojourn),
    })
}

fn link(l: &LinkStats, run_us: f64, end_us: u64) -> Json {
    let by_kind: Map<String, Json> = MsgKind::ALL
        .iter()
        .filter_map(|k| {
            let b = l.bytes_by_class.get(k.index()).copied().unwrap_or(0);
            (b > 0).then(|| (k.name().to_string(), json!(b)))
        })
        .collect();
    json!({
        "utilisation": under_load(l.timeline.busy(), l.timeline.window_us(), 1.0, end_us),
        "utilisation_run": l.busy_us as f64 / run_us,
        "bytes": l.bytes,
        "bytes_by_kind": by_kind,
        "messages": l.messages,
        "dropped": l.dropped,
        "backlog_max_bytes": l.backlog_max_bytes,
        "wait_ms": dist_ms(&l.wait),
    })
}

/// The four resources by name, with a node's stats of each.
type Pick = fn(&ResourceStats) -> Option<Kind<'_>>;

enum Kind<'a> {
    Station(&'a StationStats),
    Link(&'a LinkStats),
}

const RESOURCES: [(&str, Pick); 4] = [
    ("cpu", |r| r.cpu.as_ref().map(Kind::Station)),
    ("disk", |r| r.disk.as_ref().map(Kind::Station)),
    ("egress", |r| r.egress.as_ref().map(Kind::Link)),
    ("ingress", |r| r.ingress.as_ref().map(Kind::Link)),
];

impl Kind<'_> {
    fn json(&self, run_us: f64, end_us: u64) -> Json {
        match self {
            Kind::Station(s) => station(s, run_us, end_us),
            Kind::Link(l) => link(l, run_us, end_us),
        }
    }
    /// Utilisation while the workload runs.
    fn utilisation(&self, end_us: u64) -> f64 {
        match self {
            Kind::Station(s) => under_load(
                s.timeline.busy(),
                s.timeline.window_us(),
                f64::from(s.servers),
                end_us,
            ),
            Kind::Link(l) => under_load(l.timeline.busy(), l.timeline.window_us(), 1.0, end_us),
        }
    }
    fn wait(&self) -> &Histogram {
        match self {
            Kind::Station(s) => &s.wait,
            Kind::Link(l) => &l.wait,
        }
    }
    /// Busy time per window and the capacity of one window (µs × servers).
    fn timeline(&self) -> (&[u64], f64) {
        match self {
            Kind::Station(s) => (
                s.timeline.busy(),
                s.timeline.window_us() as f64 * f64::from(s.servers),
            ),
            Kind::Link(l) => (l.timeline.busy(), l.timeline.window_us() as f64),
        }
    }
}

/// The `capacity` block. `null`-free zeros when the scenario has no
/// capacity section (`enabled: false`).
pub fn block(scenario: &Scenario, outcome: &RunOutcome) -> Json {
    let deferred: u64 = outcome
        .node_stats
        .iter()
        .map(|s| s.background_deferred)
        .sum();
    let refused_requests: u64 = outcome.node_stats.iter().map(|s| s.overload_refusals).sum();
    let mut out = Map::new();
    out.insert("enabled".into(), json!(!outcome.resources.is_empty()));
    out.insert("refused_requests".into(), json!(refused_requests));
    out.insert(
        "dropped_overloaded".into(),
        json!(outcome.stats.dropped_overloaded),
    );
    out.insert(
        "disk_jobs_refused".into(),
        json!(outcome.stats.disk_refused),
    );
    out.insert("background_deferred".into(), json!(deferred));
    if outcome.resources.is_empty() {
        return Json::Object(out);
    }
    let run_us = (outcome.end_time.as_micros() as f64).max(1.0);
    let end_us = scenario.workload_end().as_micros();
    let name = |i: usize| scenario.cluster.nodes[i].name.clone();
    let mut nodes = Vec::new();
    for (i, r) in outcome.resources.iter().enumerate() {
        let mut node = Map::new();
        node.insert("node".into(), json!(name(i)));
        for (res, pick) in RESOURCES {
            if let Some(k) = pick(r) {
                node.insert(res.into(), k.json(run_us, end_us));
            }
        }
        if let Some((evaluations, deferrals)) = r.admission {
            node.insert(
                "admission".into(),
                json!({"evaluations": evaluations, "deferring": deferrals}),
            );
        }
        node.insert(
            "background_deferred".into(),
            json!(outcome.node_stats[i].background_deferred),
        );
        nodes.push(Json::Object(node));
    }
    out.insert("nodes".into(), json!(nodes));
    let window_s = scenario.metrics.window.as_micros() as f64 / 1e6;
    let mut timelines = Map::new();
    for (res, pick) in RESOURCES {
        let present: Vec<(usize, Kind)> = outcome
            .resources
            .iter()
            .enumerate()
            .filter_map(|(i, r)| pick(r).map(|k| (i, k)))
            .collect();
        if present.is_empty() {
            continue;
        }
        let utils: Vec<f64> = present.iter().map(|(_, k)| k.utilisation(end_us)).collect();
        let mut wait = Histogram::default();
        for (_, k) in &present {
            wait.merge(k.wait());
        }
        let (busiest, max) =
            present
                .iter()
                .zip(&utils)
                .fold((None, 0.0f64), |(b, m), ((i, _), u)| {
                    if *u > m || b.is_none() {
                        (Some(*i), *u)
                    } else {
                        (b, m)
                    }
                });
        let mut agg = json!({
            "nodes": present.len(),
            "utilisation_mean": utils.iter().sum::<f64>() / utils.len() as f64,
            "utilisation_max": max,
            "busiest_node": busiest.map(name),
            "wait_ms": dist_ms(&wait),
        });
        let sum = |f: fn(&StationStats) -> u64| {
            present
                .iter()
                .map(|(_, k)| match k {
                    Kind::Station(s) => f(s),
                    Kind::Link(_) => 0,
                })
                .sum::<u64>()
        };
        if matches!(present[0].1, Kind::Station(_)) {
            agg["refused"] = json!(sum(|s| s.refused));
            agg["shed"] = json!(sum(|s| s.shed));
            agg["queue_max"] = json!(present
                .iter()
                .map(|(_, k)| match k {
                    Kind::Station(s) => s.queue_max,
                    Kind::Link(_) => 0,
                })
                .max()
                .unwrap_or(0));
        } else {
            agg["dropped"] = json!(present
                .iter()
                .map(|(_, k)| match k {
                    Kind::Link(l) => l.dropped,
                    Kind::Station(_) => 0,
                })
                .sum::<u64>());
        }
        out.insert(res.into(), agg);
        // Utilisation per window, for the busiest nodes.
        let mut order: Vec<usize> = (0..present.len()).collect();
        order.sort_by(|a, b| utils[*b].total_cmp(&utils[*a]).then(a.cmp(b)));
        order.truncate(TIMELINE_NODES);
        order.sort_unstable();
        let mut per_node = Map::new();
        for idx in order {
            let (i, k) = &present[idx];
            let (busy, cap) = k.timeline();
            let series: Vec<f64> = busy.iter().map(|b| *b as f64 / cap).collect();
            per_node.insert(name(*i), json!(series));
        }
        timelines.insert(res.into(), Json::Object(per_node));
    }
    out.insert(
        "timeline".into(),
        json!({"window_s": window_s, "utilisation": timelines}),
    );
    Json::Object(out)
}

/// True for a `capacity.*` metric path `expect` may name.
pub fn is_known_metric(parts: &[&str]) -> bool {
    let dist = ["count", "mean", "p50", "p99", "p999", "max"];
    match parts {
        ["enabled"
        | "refused_requests"
        | "dropped_overloaded"
        | "disk_jobs_refused"
        | "background_deferred"] => true,
        [res, x] => {
            ["cpu", "disk", "egress", "ingress"].contains(res)
                && [
                    "nodes",
                    "utilisation_mean",
                    "utilisation_max",
                    "refused",
                    "shed",
                    "queue_max",
                    "dropped",
                ]
                .contains(x)
        }
        [res, "wait_ms", x] => {
            ["cpu", "disk", "egress", "ingress"].contains(res) && dist.contains(x)
        }
        _ => false,
    }
}

/// The table line for capacity, when it is on.
pub fn table_line(summary: &Json) -> String {
    let c = &summary["capacity"];
    if !c["enabled"].as_bool().unwrap_or(false) {
        return String::new();
    }
    let mut parts = Vec::new();
    for res in ["cpu", "disk", "egress", "ingress"] {
        let r = &c[res];
        if r.is_null() {
            continue;
        }
        parts.push(format!(
            "{res} util mean {:.2} max {:.2} ({}) wait p99 {}",
            r["utilisation_mean"].as_f64().unwrap_or(0.0),
            r["utilisation_max"].as_f64().unwrap_or(0.0),
            r["busiest_node"].as_str().unwrap_or("-"),
            r["wait_ms"]["p99"]
                .as_f64()
                .map_or("-".to_string(), |x| format!("{x:.3} ms"))
        ));
    }
    let mut line = format!("capacity       {}\n", parts.join("; "));
    let (refused, dropped, deferred) = (
        c["refused_requests"].as_u64().unwrap_or(0),
        c["dropped_overloaded"].as_u64().unwrap_or(0),
        c["background_deferred"].as_u64().unwrap_or(0),
    );
    if refused + dropped + deferred > 0 {
        line.push_str(&format!(
            "overload       client requests refused {refused}  messages dropped by full queues {dropped}  background slices deferred {deferred}\n"
        ));
    }
    line
}
