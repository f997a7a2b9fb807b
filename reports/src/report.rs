//! The run report: the summary document (`summary.json`) and the printed
//! table. It joins the collector's metrics with the engine's counters, the
//! scenario echo and the expectation verdicts.

use serde_json::{json, Value as Json};
use sim_core::config::{
    Arrival, ClockScheme, DiskLossIdentity, FallbackReads, QuorumMode, Routing, Scenario,
    Versioning,
};
use sim_core::dynamo::protocol::MsgKind;
use sim_core::dynamo::ring::Ring;
use sim_core::engine::ids::Key;
use sim_core::sim::RunOutcome;

use crate::expect::{check, Verdict};
use crate::metrics::Collector;

/// The summary format version; bumped when a field changes meaning.
pub const SUMMARY_VERSION: u32 = 1;

/// Builds `summary.json` for a finished run. `ring` is the initial ring;
/// with gossip membership the run's final ring is used instead.
pub fn summary(
    scenario: &Scenario,
    outcome: &RunOutcome,
    collector: &Collector,
    ring: &Ring,
) -> Json {
    summary_until(scenario, outcome, collector, ring, &|| false)
}

/// [`summary`] for a run under a wall-clock limit: the WARS prediction's
/// trials (`metrics.wars_trials`), which come after the simulation, ask
/// `stop` as they go and give up once it answers true. The run is then
/// incomplete (`run.complete` false, `run.stop_reason` `wall_clock`,
/// `run.stopped_in` `wars`; the `run.complete` expectation fails), though
/// the simulation's own figures are whole.
pub fn summary_until(
    scenario: &Scenario,
    outcome: &RunOutcome,
    collector: &Collector,
    ring: &Ring,
    stop: &(dyn Fn() -> bool + Sync),
) -> Json {
    // After joins and leaves, judge placement by the final ring.
    let ring = outcome.final_ring.as_deref().unwrap_or(ring);
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
    let mut wars_stopped = false;
    if let Some(trials) = scenario.metrics.wars_trials {
        let simulated = map["staleness"]["t_visibility"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let block = crate::wars::summary_block(scenario, trials, &simulated, stop);
        // Given up after a simulation that had stopped already: that stop
        // is the one to report.
        wars_stopped = crate::wars::stopped(&block) && outcome.stop.is_complete();
        map.insert("wars".into(), block);
    }
    let complete = outcome.stop.is_complete() && !wars_stopped;
    map.insert("summary_version".into(), json!(SUMMARY_VERSION));
    map.insert("scenario".into(), scenario_echo(scenario));
    map.insert(
        "run".into(),
        json!({
            "rng_seed": scenario.rng_seed,
            "trace_hash": format!("{:016x}", outcome.trace_hash),
            "events": outcome.stats.events,
            "stop_reason": if wars_stopped { "wall_clock" } else { outcome.stop.name() },
            "complete": complete,
            "end_time_s": outcome.end_time.as_micros() as f64 / 1e6,
            "peak_pending_events": outcome.stats.peak_queue_len,
            "dynasim_version": env!("CARGO_PKG_VERSION"),
            "dynasim_commit": crate::COMMIT,
            "dynasim_build": crate::BUILD,
        }),
    );
    if wars_stopped {
        map["run"]["stopped_in"] = json!("wars");
    }
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
                "overloaded": outcome.stats.dropped_overloaded,
            },
            "duplicated": outcome.stats.duplicated,
        }),
    );
    map.insert("load".into(), load(scenario, outcome, ring));
    let sum = |f: fn(&sim_core::dynamo::node::NodeStats) -> u64| {
        outcome.node_stats.iter().map(f).sum::<u64>()
    };
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
    map.insert(
        "membership".into(),
        collector.membership(scenario, &outcome.node_stats),
    );
    map.insert("failure_detection".into(), collector.failure_detection());
    map.insert("objects".into(), collector.objects().summary());
    map.insert("corruption".into(), collector.objects().corruption());
    map.insert("capacity".into(), crate::capacity::block(scenario, outcome));
    let mut verdicts = check(&s, &scenario.expect);
    if !complete {
        // A run that stopped before its end never passes: its metrics
        // cover only part of the scenario.
        verdicts.push(Verdict {
            metric: INCOMPLETE_METRIC.to_string(),
            min: Some(1.0),
            max: None,
            value: Some(0.0),
            pass: false,
        });
    }
    let exp: Vec<Json> = verdicts
        .iter()
        .map(|v| json!({"metric": v.metric, "min": v.min, "max": v.max, "value": v.value, "pass": v.pass}))
        .collect();
    s.as_object_mut()
        .expect("object")
        .insert("expectations".into(), json!(exp));
    s
}

/// The expectation every incomplete run fails (`run.complete >= 1`): it is
/// added to the verdicts of a run that stopped before its end, so no
/// consumer of the summary (run, sweep, shrink, explore, explain) can take
/// its other verdicts for a success.
pub const INCOMPLETE_METRIC: &str = "run.complete";

/// Whether a summary's run reached its end (summaries written before the
/// `complete` field existed count as complete when they stopped at the end).
pub fn is_complete(summary: &Json) -> bool {
    match summary["run"]["complete"].as_bool() {
        Some(c) => c,
        None => summary["run"]["stop_reason"].as_str() == Some("end_of_run"),
    }
}

/// One line saying why a run is incomplete, for consoles and reports;
/// `None` for a complete run.
pub fn incomplete_note(summary: &Json) -> Option<String> {
    if is_complete(summary) {
        return None;
    }
    let run = &summary["run"];
    let why = match run["stop_reason"].as_str().unwrap_or("unknown") {
        "max_events" => "the max_events bound was reached".to_string(),
        "wall_clock" => "the wall-clock limit (--max-wall-s) was reached".to_string(),
        "memory" => "the memory limit (--max-memory-mb) was reached".to_string(),
        "queue_empty" => "nothing was left to do before the end".to_string(),
        other => format!("it stopped ({other})"),
    };
    if run["stopped_in"].as_str() == Some("wars") {
        return Some(format!(
            "INCOMPLETE RUN: the simulation ran to its end ({} events) but {why} during the WARS prediction's {} trials (metrics.wars_trials), which were given up; its expectations do not count",
            run["events"], summary["wars"]["trials_asked"]
        ));
    }
    let end = summary["scenario"]["duration_s"].as_f64().unwrap_or(0.0)
        + summary["scenario"]["quiescence_s"].as_f64().unwrap_or(0.0);
    Some(format!(
        "INCOMPLETE RUN: stopped at {} s of {end} s after {} events because {why}; its metrics cover only part of the scenario and its expectations do not count",
        run["end_time_s"], run["events"]
    ))
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
            Versioning::VectorClocks { scheme: ClockScheme::ServerClocks, .. } => "vector_clocks",
            Versioning::VectorClocks { scheme: ClockScheme::DottedVersionVectors, .. } => "dotted_version_vectors",
            Versioning::VectorClocks { scheme: ClockScheme::VnodeClocks, .. } => "vnode_clocks",
            Versioning::LastWriteWins => "last_write_wins",
        },
        "fallback_reads": match s.cluster.fallback_reads {
            FallbackReads::IncludeHints => "include_hints",
            FallbackReads::ExcludeHints => "exclude_hints",
        },
        "disk_loss_identity": match s.cluster.disk_loss_identity {
            DiskLossIdentity::NewActor => "new_actor",
            DiskLossIdentity::SameActor => "same_actor",
        },
        "checksums": s.cluster.checksums,
        "partitioning": format!("{:?}", s.cluster.partitioning),
        "hinted_handoff": s.cluster.hinted_handoff,
        "read_repair": s.cluster.read_repair.is_some(),
        "routing": match s.workload.routing { Routing::LoadBalancer => "load_balancer", Routing::PartitionAware { client_driven: false, .. } => "partition_aware", Routing::PartitionAware { client_driven: true, .. } => "client_driven" },
        "arrival": match &s.workload.arrival {
            Arrival::OpenLoop { mean_interarrival } => format!("open_loop {:.1}/s per client", 1e6 / mean_interarrival.as_micros() as f64),
            Arrival::ClosedLoop { .. } => "closed_loop".to_string(),
            Arrival::Probe(p) => format!(
                "probe: {} t points x {} reads, {} at once per client",
                p.t_grid.len(),
                p.reads_per_t,
                p.concurrent
            ),
        },
        "keys": s.workload.key_count,
        "faults_scheduled": s.faults.len(),
        "nemesis": s.nemesis.is_some(),
    })
}

/// `timeline.csv`: one row per metrics window of a summary's timeline,
/// units in the header; empty cells where a window has nothing to measure
/// (no completed operation, no checked read). `partial` is 1 for a last
/// window cut short by the end of the run.
pub fn timeline_csv(summary: &Json) -> String {
    let mut out = String::from(
        "start_s,end_s,partial,completed,ok,failed,availability,throughput_per_s,p99_ok_ms,p99_all_ms,reads_checked,stale_read_fraction,divergent_keys,divergent_keys_max\n",
    );
    let window_s = summary["timeline"]["window_s"].as_f64().unwrap_or(0.0);
    let end_s = summary["run"]["end_time_s"]
        .as_f64()
        .unwrap_or(f64::INFINITY);
    let cell = |v: &Json| v.as_f64().map_or(String::new(), |x| format!("{x}"));
    for w in summary["timeline"]["windows"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let start = w["start_s"].as_f64().unwrap_or(0.0);
        let end = (start + window_s).min(end_s);
        let completed = w["completed"].as_u64().unwrap_or(0);
        let ok = w["ok"].as_u64().unwrap_or(0);
        out.push_str(&format!(
            "{start},{end},{},{completed},{ok},{},{},{},{},{},{},{},{},{}\n",
            u8::from(w["partial"].as_bool().unwrap_or(end < start + window_s)),
            completed - ok.min(completed),
            cell(&w["availability"]),
            cell(&w["throughput_per_s"]),
            cell(&w["p99_ms"]),
            cell(&w["p99_all_ms"]),
            w["reads_checked"].as_u64().unwrap_or(0),
            cell(&w["stale_read_fraction"]),
            w["divergent_keys"].as_u64().unwrap_or(0),
            w["divergent_keys_max"].as_u64().unwrap_or(0),
        ));
    }
    out
}

/// Convergence over time in words: the peak of divergence, when the
/// replicas agreed for good, and how long the last heal's divergence took
/// to clear (the table's convergence line, the docs' "Over time").
fn convergence_words(summary: &Json) -> String {
    let c = &summary["convergence"];
    let num = |v: &Json| crate::render::fmt_num(v);
    let peak = match c["peak_at_s"].as_f64() {
        Some(_) => format!(
            "divergent keys peaked at {} ({} s)",
            c["peak_divergent_keys"],
            num(&c["peak_at_s"])
        ),
        None => "no key ever diverged".to_string(),
    };
    let agreed = match c["converged_at_s"].as_f64() {
        Some(_) => format!("replicas agree from {} s", num(&c["converged_at_s"])),
        None => "replicas still disagree at the end".to_string(),
    };
    let heal = match c["time_to_converge_from_last_heal_s"].as_f64() {
        Some(_) => format!(
            "; the last heal's divergence cleared in {} s",
            num(&c["time_to_converge_from_last_heal_s"])
        ),
        None if c["last_heal_s"].is_number() => {
            "; the last heal's divergence never cleared".to_string()
        }
        None => String::new(),
    };
    format!("{peak}; {agreed}{heal}")
}

/// The short table `dynasim run` prints.
pub fn table(summary: &Json) -> String {
    let mut out = String::new();
    if let Some(note) = incomplete_note(summary) {
        out.push_str(&note);
        out.push('\n');
    }
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
    out.push_str(&objects_lines(summary));
    let a = &summary["anomalies"];
    out.push_str(&format!(
        "anomalies      resurrected deletes {}  read-your-writes {}  monotonic reads {} ({} of acknowledged writes)\n",
        a["resurrected_deletes"],
        a["read_your_writes_violations"],
        a["monotonic_read_violations"],
        a["monotonic_read_violations_of_acknowledged_writes"]
    ));
    let r = &summary["repair"];
    out.push_str(&format!(
        "repair         hints stored {} delivered {} remaining {}  read repairs {}  divergent keys at end {}\n",
        r["hints_stored"], r["hints_delivered"], r["hints_remaining"], r["read_repairs"],
        summary["convergence"]["divergent_keys"]
    ));
    out.push_str(&format!("convergence    {}\n", convergence_words(summary)));
    out.push_str(&membership_lines(summary));
    out.push_str(&crate::capacity::table_line(summary));
    out.push_str(&crate::breakdown::table(summary));
    out
}

/// The siblings and corruption lines of the table: siblings when some key
/// had more than one, corruption when a fault corrupted anything.
fn objects_lines(summary: &Json) -> String {
    let mut out = String::new();
    let u = |v: &Json| v.as_u64().unwrap_or(0);
    let o = &summary["objects"];
    let per_key = &o["siblings_per_key"];
    let limit = &o["sibling_limit"];
    if u(&per_key["max"]) > 1 || u(&o["siblings_at_end"]["max"]) > 1 {
        let mut line = format!(
            "per read mean {:.3} p99 {} max {}   per key max {} (k{}), {} over {}   at end max {}",
            o["siblings_per_read"]["mean"].as_f64().unwrap_or(0.0),
            o["siblings_per_read"]["p99"],
            o["siblings_per_read"]["max"],
            per_key["max"],
            per_key["worst"][0]["key"],
            per_key["over_threshold"],
            per_key["threshold"],
            o["siblings_at_end"]["max"],
        );
        if u(&limit["warned"]) + u(&limit["refused"]) > 0 {
            line.push_str(&format!(
                "   limits: warned {} refused {}",
                limit["warned"], limit["refused"]
            ));
        }
        out.push_str(&format!("siblings       {line}\n"));
    }
    let c = &summary["corruption"];
    if u(&c["versions_corrupted"]) > 0 {
        out.push_str(&format!(
            "corruption     versions corrupted {}  detected {}  reads returning corrupted data {}  still corrupted at end {}\n",
            c["versions_corrupted"], c["detected_versions"], c["reads_corrupted"], c["remaining_versions"]
        ));
    }
    out
}

/// The membership and failure-detection lines of the table: only when gossip
/// membership is on, or something was suspected or changed.
fn membership_lines(summary: &Json) -> String {
    let mut out = String::new();
    let u = |v: &Json| v.as_u64().unwrap_or(0);
    let secs = |v: &Json| v.as_f64().map_or("-".to_string(), |x| format!("{x:.3} s"));
    let m = &summary["membership"];
    let fd = &summary["failure_detection"];
    let enabled = m["gossip"]["enabled"].as_bool().unwrap_or(false);
    let changes = m["changes"].as_array().map_or(0, Vec::len);
    let tr = &m["transfers"];
    if enabled || changes > 0 || u(&tr["offered"]) > 0 {
        let mut line = if changes == 0 {
            "no changes".to_string()
        } else if m["rounds_max"].is_null() {
            format!("{changes} changes, none converged")
        } else {
            format!(
                "{changes} changes, converged in ≤ {} ({} rounds), {} unconverged",
                secs(&m["convergence_max_s"]),
                m["rounds_max"],
                m["unconverged"]
            )
        };
        if u(&tr["offered"]) > 0 {
            line.push_str(&format!(
                "  transfers {}/{} done, {} keys (max {})",
                tr["done"],
                tr["offered"],
                tr["keys"],
                secs(&tr["duration_max_s"])
            ));
        }
        if enabled {
            line.push_str(&format!(
                "  gossip {} messages ({} bytes)",
                m["gossip"]["messages"], m["gossip"]["bytes"]
            ));
        }
        out.push_str(&format!("membership     {line}\n"));
    }
    if enabled || u(&fd["suspicions"]) > 0 {
        let d = &fd["detection_delay_s"];
        out.push_str(&format!(
            "detection      suspicions {} (false {})  trusts {}  delay p50 {} max {}  undetected {}\n",
            fd["suspicions"],
            fd["false_suspicions"],
            fd["trusts"],
            secs(&d["p50"]),
            secs(&d["max"]),
            fd["undetected"]
        ));
    }
    out
}

/// The figures docs/scenarios.md shows for a shipped scenario's run (the
/// text between its `<!-- figures:NAME -->` markers): the headline numbers
/// and every expectation's measured value, to 5 significant digits. The
/// scenario library test (`reports/tests/scenarios.rs`) regenerates them
/// from its runs and fails when the page differs;
/// `DYNASIM_BLESS=1 cargo test --release -p reports --test scenarios`
/// rewrites them.
pub fn doc_figures(summary: &Json) -> String {
    let n = |path: &str| crate::render::fmt_num(&crate::sweep::metric_value(summary, path));
    let mut s = format!(
        "Seed {} (generated by the scenario tests): {} ops, availability {}; \
         get p50 / p99 / p99.9 {} / {} / {} ms; put p50 / p99 / p99.9 {} / {} / {} ms; \
         {} stale of {} checked reads; {} acknowledged, {} lost; {} divergent keys at the end.\n",
        n("run.rng_seed"),
        n("ops.total"),
        n("availability"),
        n("latency.get.p50_ms"),
        n("latency.get.p99_ms"),
        n("latency.get.p999_ms"),
        n("latency.put.p50_ms"),
        n("latency.put.p99_ms"),
        n("latency.put.p999_ms"),
        n("staleness.stale_reads"),
        n("staleness.reads_checked"),
        n("durability.acknowledged"),
        n("durability.lost"),
        n("convergence.divergent_keys"),
    );
    s.push_str(&format!(
        "Over time (100 ms checks): {}.\n",
        convergence_words(summary)
    ));
    s.push_str("\n| expectation | bound | measured |\n| --- | --- | --- |\n");
    for v in verdicts(summary) {
        let num = |x: f64| crate::render::fmt_num(&json!(x));
        let bound = match (v.min, v.max) {
            (Some(lo), Some(hi)) => format!("{} – {}", num(lo), num(hi)),
            (Some(lo), None) => format!("≥ {}", num(lo)),
            (None, Some(hi)) => format!("≤ {}", num(hi)),
            (None, None) => String::new(),
        };
        s.push_str(&format!(
            "| `{}` | {bound} | {} |\n",
            v.metric,
            v.value.map_or("–".to_string(), num)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use sim_core::sim::Simulation;

    fn run(text: &str) -> Json {
        let scenario = Arc::new(
            sim_core::scenario::parse(text, &sim_core::scenario::no_files).expect("valid"),
        );
        let sim = Simulation::new(scenario.clone());
        let ring = sim.ring().clone();
        let mut collector = Collector::new(&scenario);
        let outcome = sim.run(&mut collector, None);
        summary(&scenario, &outcome, &collector, &ring)
    }

    #[test]
    fn a_run_without_membership_has_both_blocks_with_zeros_and_nulls() {
        let s = run(
            r#"{"name":"t","duration_s":2,"cluster":{"nodes":3,"quorum":{"n":3,"r":2,"w":2}},
            "workload":{"clients":2,"arrival":{"open_loop":{"rate_per_s":20}},"keys":{"count":5},"mix":{"read":0.5,"read_modify_write":0.5}}}"#,
        );
        let m = &s["membership"];
        assert_eq!(
            m["gossip"],
            json!({"enabled": false, "messages": 0, "bytes": 0})
        );
        assert_eq!(m["changes"], json!([]));
        assert_eq!(m["convergence_max_s"], Json::Null);
        assert_eq!(m["rounds_max"], Json::Null);
        assert_eq!(m["unconverged"], json!(0));
        assert_eq!(m["transfers"]["offered"], json!(0));
        assert_eq!(m["transfers"]["keys_sent"], json!(0));
        let fd = &s["failure_detection"];
        assert_eq!(fd["suspicions"], json!(0));
        assert_eq!(fd["false_suspicions"], json!(0));
        assert_eq!(fd["undetected"], json!(0));
        assert_eq!(fd["detection_delay_s"]["count"], json!(0));
        assert_eq!(fd["detection_delay_s"]["p50"], Json::Null);
        // Nothing to say: the table has no membership lines.
        let t = table(&s);
        assert!(!t.contains("membership"), "{t}");
        assert!(!t.contains("detection"), "{t}");
    }

    #[test]
    fn the_table_shows_membership_and_detection_when_relevant() {
        let s = json!({
            "membership": {
                "gossip": {"enabled": true, "messages": 120, "bytes": 9600},
                "changes": [{}, {}],
                "convergence_max_s": 3.1, "rounds_max": 4, "unconverged": 0,
                "transfers": {"offered": 3, "done": 3, "keys": 812, "duration_max_s": 1.25},
            },
            "failure_detection": {
                "suspicions": 12, "false_suspicions": 2, "trusts": 9, "undetected": 0,
                "detection_delay_s": {"count": 4, "p50": 1.2, "max": 3.0, "mean": 1.5},
            },
        });
        let lines = membership_lines(&s);
        assert_eq!(
            lines,
            "membership     2 changes, converged in ≤ 3.100 s (4 rounds), 0 unconverged  \
             transfers 3/3 done, 812 keys (max 1.250 s)  gossip 120 messages (9600 bytes)\n\
             detection      suspicions 12 (false 2)  trusts 9  delay p50 1.200 s max 3.000 s  undetected 0\n"
        );
    }
}
