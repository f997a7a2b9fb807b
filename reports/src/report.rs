//! The run report: the summary document (`summary.json`) and the printed
//! table. It joins the collector's metrics with the engine's counters, the
//! scenario echo and the expectation verdicts.

use serde_json::{json, Value as Json};
use sim_core::config::{Arrival, QuorumMode, Routing, Scenario, Versioning};
use sim_core::ids::Key;
use sim_core::protocol::MsgKind;
use sim_core::ring::Ring;
use sim_core::sim::RunOutcome;

use crate::expect::{check, Verdict};
use crate::metrics::Collector;

/// The summary format version; bumped when a field changes meaning.
pub const SUMMARY_VERSION: u32 = 1;

/// Builds `summary.json` for a finished run.
pub fn summary(
    scenario: &Scenario,
    outcome: &RunOutcome,
    collector: &Collector,
    ring: &Ring,
) -> Json {
    let n = scenario.cluster.quorum.n as usize;
    let replicas_of = |key: Key| {
        ring.preference_list(key)
            .iter()
            .take(n)
            .copied()
            .collect::<Vec<_>>()
    };
    let mut s = collector.summary(scenario, &replicas_of);
    let map = s
        .as_object_mut()
        .expect("the collector's summary is an object");
    map.insert("summary_version".into(), json!(SUMMARY_VERSION));
    map.insert("scenario".into(), scenario_echo(scenario));
    map.insert(
        "run".into(),
        json!({
            "rng_seed": scenario.rng_seed,
            "trace_hash": format!("{:016x}", outcome.trace_hash),
            "events": outcome.stats.events,
            "stop_reason": outcome.stop.name(),
            "end_time_s": outcome.end_time.as_micros() as f64 / 1e6,
            "peak_pending_events": outcome.stats.peak_queue_len,
            "dynasim_version": env!("CARGO_PKG_VERSION"),
        }),
    );
    let mut sent = serde_json::Map::new();
    let mut dropped = serde_json::Map::new();
    for k in MsgKind::ALL {
        sent.insert(
            k.name().into(),
            json!(outcome.stats.sent_by_kind[k.index()]),
        );
        dropped.insert(
            k.name().into(),
            json!(outcome.stats.dropped_by_kind[k.index()]),
        );
    }
    map.insert(
        "messages".into(),
        json!({
            "sent_total": outcome.stats.sent_by_kind.iter().sum::<u64>(),
            "sent": sent,
            "dropped": dropped,
            "dropped_by_reason": {
                "partitioned": outcome.stats.dropped_partitioned,
                "lost": outcome.stats.dropped_lost,
                "node_down": outcome.stats.dropped_node_down,
            },
            "duplicated": outcome.stats.duplicated,
        }),
    );
    map.insert("load".into(), load(scenario, outcome, ring));
    let sum =
        |f: fn(&sim_core::node::NodeStats) -> u64| outcome.node_stats.iter().map(f).sum::<u64>();
    let (hashes, versions) = (sum(|s| s.ae_hashes_sent), sum(|s| s.ae_versions_sent));
    map.insert(
        "anti_entropy".into(),
        json!({
            "enabled": scenario.cluster.anti_entropy.is_some(),
            "exchanges": sum(|s| s.ae_exchanges),
            "in_sync": sum(|s| s.ae_in_sync),
            "hashes_sent": hashes,
            "versions_sent": versions,
            // 8 bytes per hash or digest plus key; ~64 bytes per version (value, clock).
            "bytes_estimated": hashes * 16 + versions * 64,
        }),
    );
    let verdicts = check(&s, &scenario.expect);
    let exp: Vec<Json> = verdicts
        .iter()
        .map(|v| json!({"metric": v.metric, "min": v.min, "max": v.max, "value": v.value, "pass": v.pass}))
        .collect();
    s.as_object_mut()
        .expect("object")
        .insert("expectations".into(), json!(exp));
    s
}

/// The verdicts stored in a summary.
pub fn verdicts(summary: &Json) -> Vec<Verdict> {
    summary["expectations"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| Verdict {
                    metric: v["metric"].as_str().unwrap_or_default().to_string(),
                    min: v["min"].as_f64(),
                    max: v["max"].as_f64(),
                    value: v["value"].as_f64(),
                    pass: v["pass"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn share(span: u128) -> f64 {
    span as f64 / 2f64.powi(128)
}

fn load(scenario: &Scenario, outcome: &RunOutcome, ring: &Ring) -> Json {
    let shares = ring.key_space_share();
    let per_node: Vec<Json> = outcome
        .node_stats
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let (coord, repl) = shares
                .iter()
                .find(|(node, _, _)| node.0 as usize == i)
                .map(|(_, c, r)| (share(*c), share(*r)))
                .unwrap_or((0.0, 0.0));
            json!({
                "node": scenario.cluster.nodes[i].name,
                "coordinated": st.coordinated,
                "forwarded": st.forwarded,
                "replica_reads": st.replica_reads,
                "replica_writes": st.replica_writes,
                "key_space_share": coord,
                "replica_share": repl,
            })
        })
        .collect();
    let requests: Vec<u64> = outcome
        .node_stats
        .iter()
        .map(|s| s.replica_reads + s.replica_writes)
        .collect();
    let max = requests.iter().copied().max().unwrap_or(0);
    let mean = requests.iter().sum::<u64>() as f64 / requests.len().max(1) as f64;
    json!({
        "per_node": per_node,
        "load_balancing_efficiency": if max == 0 { 1.0 } else { mean / max as f64 },
    })
}

fn scenario_echo(s: &Scenario) -> Json {
    let q = s.cluster.quorum;
    json!({
        "name": s.name,
        "description": s.description,
        "rng_seed": s.rng_seed,
        "duration_s": s.duration.as_micros() as f64 / 1e6,
        "quiescence_s": s.quiescence.duration.as_micros() as f64 / 1e6,
        "nodes": s.cluster.nodes.len(),
        "datacenters": s.datacenters,
        "clients": s.workload.clients.len(),
        "quorum": {"n": q.n, "r": q.r, "w": q.w},
        "quorum_mode": match s.cluster.quorum_mode { QuorumMode::Sloppy => "sloppy", QuorumMode::Strict => "strict" },
        "versioning": match s.cluster.versioning {
            Versioning::VectorClocks { .. } => "vector_clocks",
            Versioning::LastWriteWins => "last_write_wins",
        },
        "partitioning": format!("{:?}", s.cluster.partitioning),
        "hinted_handoff": s.cluster.hinted_handoff,
        "read_repair": s.cluster.read_repair.is_some(),
        "routing": match s.workload.routing { Routing::LoadBalancer => "load_balancer", Routing::PartitionAware { .. } => "partition_aware" },
        "arrival": match &s.workload.arrival {
            Arrival::OpenLoop { mean_interarrival } => format!("open_loop {:.1}/s per client", 1e6 / mean_interarrival.as_micros() as f64),
            Arrival::ClosedLoop { .. } => "closed_loop".to_string(),
        },
        "keys": s.workload.key_count,
        "faults_scheduled": s.faults.len(),
        "nemesis": s.nemesis.is_some(),
    })
}

/// The short table `dynasim run` prints.
pub fn table(summary: &Json) -> String {
    let mut out = String::new();
    let f = |v: &Json| v.as_f64().map_or("-".to_string(), |x| format!("{x:.3}"));
    out.push_str(&format!(
        "ops {} ok {} failed {}   availability {:.5}\n",
        summary["ops"]["total"],
        summary["ops"]["ok"],
        summary["ops"]["failed"],
        summary["availability"].as_f64().unwrap_or(0.0)
    ));
    out.push_str("latency (ms)   count      p50      p90      p99    p99.9      max\n");
    for kind in ["get", "put", "delete"] {
        let l = &summary["latency"][kind];
        if l["count"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        out.push_str(&format!(
            "  {:<10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            kind,
            l["count"],
            f(&l["p50_ms"]),
            f(&l["p90_ms"]),
            f(&l["p99_ms"]),
            f(&l["p999_ms"]),
            f(&l["max_ms"])
        ));
    }
    let st = &summary["staleness"];
    out.push_str(&format!(
        "staleness      stale reads {} of {} ({:.4})   siblings: single-version {:.5}\n",
        st["stale_reads"],
        st["reads_checked"],
        st["stale_read_fraction"].as_f64().unwrap_or(0.0),
        summary["siblings"]["single_version_fraction"]
            .as_f64()
            .unwrap_or(1.0)
    ));
    let d = &summary["durability"];
    out.push_str(&format!(
        "durability     acknowledged {}  surviving {}  lost {}  unacknowledged-present {}\n",
        d["acknowledged"], d["surviving"], d["lost"], d["unacknowledged_present"]
    ));
    let a = &summary["anomalies"];
    out.push_str(&format!(
        "anomalies      resurrected deletes {}  read-your-writes {}  monotonic reads {}\n",
        a["resurrected_deletes"], a["read_your_writes_violations"], a["monotonic_read_violations"]
    ));
    let r = &summary["repair"];
    out.push_str(&format!(
        "repair         hints stored {} delivered {} remaining {}  read repairs {}  divergent keys at end {}\n",
        r["hints_stored"], r["hints_delivered"], r["hints_remaining"], r["read_repairs"],
        summary["convergence"]["divergent_keys"]
    ));
    out
}
