//! `dynasim explain` and the trace exporters: the story of a lost write names
//! it and the write that replaced it; the message-sequence diagram has one
//! lifeline per endpoint and one arrow per message; Perfetto JSON parses and
//! has the required fields; ShiViz logs parse with ShiViz's regex shape and
//! their vector clocks are monotone per host.

use std::collections::BTreeMap;
use std::sync::Arc;

use reports::explain::export::{exporter, PerfettoExporter, ShivizExporter};
use reports::explain::{explain, msc, Ev, Names, Request, What};
use serde_json::{json, Value as Json};
use sim_core::config::Scenario;
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::NodeId;
use sim_core::engine::trace::{TraceKind, Tracer};
use sim_core::scenario::{parse, ScenarioFile};
use sim_core::sim::Simulation;

fn scenario(doc: &Json, seed: u64) -> Arc<Scenario> {
    let mut file: ScenarioFile =
        serde_json::from_value(doc.clone()).expect("test scenario has the right shape");
    file.rng_seed = seed;
    let text = serde_json::to_string(&file).expect("serializes");
    Arc::new(parse(&text, &sim_core::scenario::no_files).expect("test scenario validates"))
}

/// Last-write-wins with one clock 2 s behind (scenarios/lww-clock-skew.json,
/// shortened).
fn lww_skew() -> Json {
    json!({
        "name": "lww-skew",
        "duration_s": 6,
        "cluster": {
            "nodes": 5,
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "versioning": "last_write_wins",
            "coordinator_scope": "any_node"
        },
        "network": { "latency": { "exponential": { "mean_ms": 1.0 } } },
        "workload": {
            "clients": 6,
            "arrival": { "open_loop": { "rate_per_s": 30 } },
            "keys": { "count": 5 },
            "mix": { "read": 0.3, "blind_write": 0.7 }
        },
        "faults": [ { "at_s": 0, "clock_skew": { "node": "n1", "offset_ms": -2000 } } ]
    })
}

/// A small healthy run (for exporters over a whole trace).
fn small() -> Json {
    json!({
        "name": "small",
        "duration_s": 1,
        "cluster": { "nodes": 3, "quorum": { "n": 3, "r": 2, "w": 2 } },
        "network": { "latency": { "exponential": { "mean_ms": 1.0 } } },
        "workload": {
            "clients": 2,
            "arrival": { "open_loop": { "rate_per_s": 40 } },
            "keys": { "count": 4 },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        },
        "faults": [
            { "at_s": 0.3, "crash": { "node": "n2" } },
            { "at_s": 0.6, "restart": { "node": "n2" } }
        ]
    })
}

#[test]
fn the_story_of_a_lost_lww_write_names_it_and_what_overwrote_it() {
    let s = scenario(&lww_skew(), 1);
    let ex = explain(s, &Request::default()).expect("explains");
    assert!(!ex.lost.is_empty(), "the skewed clock must lose writes");
    let lost = ex.focus.clone().expect("the first lost write is the focus");
    assert_eq!(ex.selection.key, Some(lost.key.0));
    let story = ex.story();
    let w = lost.write.to_string();
    assert!(story.contains(&format!("LOST WRITE {w}")), "{story}");
    // The write that replaced it: a value the replicas hold at the end.
    let line = story
        .lines()
        .find(|l| l.starts_with("=> "))
        .unwrap_or_else(|| panic!("no verdict line:\n{story}"));
    let winner = line
        .split("overwritten by ")
        .nth(1)
        .and_then(|r| r.split([' ', '.']).next().map(|_| r))
        .unwrap_or_else(|| panic!("no overwriter named:\n{story}"));
    let winner: String = winner
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(')
        .collect();
    let winner = winner.trim_end_matches('.');
    assert!(winner.starts_with('v') && winner != w, "{story}");
    let held = ex.records.iter().any(|(_, r)| match r {
        sim_core::engine::record::Record::FinalValues { values, .. } => {
            values.iter().any(|v| v.write().to_string() == winner)
        }
        _ => false,
    });
    assert!(held, "{winner} must be held at the end:\n{story}");
    assert!(story.contains("acknowledged by"), "{story}");
    // The timeline has the key's messages and the skew fault.
    let timeline = ex.timeline();
    assert!(timeline.contains("clock_skew"), "faults are always kept");
    assert!(timeline.contains(&w), "{timeline}");
    // Every kept message event concerns the key (faults and phases aside).
    assert!(ex
        .events
        .iter()
        .filter(|e| e.is_message())
        .all(|e| e.key == Some(lost.key.0)));
    // Exports of the selection are well-formed.
    let perfetto: Json = serde_json::from_slice(&ex.export("perfetto").unwrap()).unwrap();
    assert!(perfetto["traceEvents"].as_array().unwrap().len() > 10);
    let svg = ex.msc("lww");
    assert!(svg.contains(&w));
}

/// A loaded value (`workload.keys.preload`) whose three replicas all lose
/// their disks: the story says where the load put it and that those
/// replicas lost their disks.
#[test]
fn the_story_of_a_lost_loaded_value_names_its_replicas_and_their_lost_disks() {
    let mut doc = small();
    doc["duration_s"] = json!(4);
    doc["cluster"]["hinted_handoff"] = json!(false);
    doc["cluster"]["read_repair"] = json!(false);
    doc["workload"]["keys"] = json!({ "count": 20, "preload": true });
    doc["workload"]["mix"] = json!({ "read": 1.0 });
    doc["faults"] = json!([
        { "at_s": 1, "crash": { "node": "n0", "disk_loss": true } },
        { "at_s": 1, "crash": { "node": "n1", "disk_loss": true } },
        { "at_s": 1, "crash": { "node": "n2", "disk_loss": true } },
        { "at_s": 2, "restart": { "node": "n0" } },
        { "at_s": 2, "restart": { "node": "n1" } },
        { "at_s": 2, "restart": { "node": "n2" } }
    ]);
    let ex = explain(scenario(&doc, 1), &Request::default()).expect("explains");
    assert_eq!(
        ex.lost_count, 20,
        "three nodes, N = 3: every loaded value is gone"
    );
    let lost = ex.focus.clone().expect("a focus");
    assert_eq!(
        lost.write,
        sim_core::engine::ids::WriteId::preloaded(lost.key)
    );
    assert_eq!(ex.loaded_on.len(), 3);
    let story = ex.story();
    assert!(
        story.contains(&format!("LOST WRITE vload.{}", lost.key.0 + 1)),
        "{story}"
    );
    assert!(story.contains("the load phase"), "{story}");
    for n in ["n0", "n1", "n2"] {
        assert!(
            story.contains(&format!("{n} (loaded before the run)")),
            "{story}"
        );
        assert!(
            story.contains(&format!("{n} crashed at 1.000000s and LOST ITS DISK")),
            "{story}"
        );
    }
}

#[test]
fn explain_narrows_to_a_window_and_nodes() {
    let s = scenario(&lww_skew(), 1);
    let req = Request {
        key: Some(2),
        from_s: Some(1.0),
        to_s: Some(2.0),
        endpoints: vec!["n0".into(), "3".into()],
        ..Request::default()
    };
    let ex = explain(s.clone(), &req).expect("explains");
    for e in ex.events.iter().filter(|e| e.is_message()) {
        assert!((1_000_000..=2_000_000).contains(&e.time_us));
        assert_eq!(e.key, Some(2));
        let ours = [Endpoint::Node(NodeId(0)), Endpoint::Node(NodeId(3))];
        assert!(ours.iter().any(|x| e.at == Some(*x) || e.from == Some(*x)));
    }
    assert!(ex.events.iter().any(|e| e.kind == TraceKind::Fault));
    let bad = Request {
        endpoints: vec!["nope".into()],
        ..Request::default()
    };
    assert!(explain(s, &bad).is_err());
}

fn ev(kind: TraceKind, t: u64, from: u32, to: u32, id: u64, sent: u64, details: &str) -> Ev {
    Ev {
        time_us: t,
        kind,
        at: Some(Endpoint::Node(NodeId(to))),
        from: Some(Endpoint::Node(NodeId(from))),
        label: "write_request".into(),
        details: details.into(),
        id: Some(id),
        sent_at_us: Some(sent),
        key: Some(7),
    }
}

/// Three nodes, five messages (one dropped), a crash and a partition.
fn five_messages() -> Vec<Ev> {
    let w = "write k7 r1 v0.1[n0:1]";
    let ack = "write_ack r1";
    let fault = |t: u64, label: &str, at: Option<u32>, details: &str| Ev {
        time_us: t,
        kind: TraceKind::Fault,
        at: at.map(|n| Endpoint::Node(NodeId(n))),
        from: None,
        label: label.into(),
        details: details.into(),
        id: None,
        sent_at_us: None,
        key: None,
    };
    let mut v = Vec::new();
    for (id, to) in [(1, 1), (2, 2)] {
        v.push(ev(TraceKind::Send, 100, 0, to, id, 100, w));
    }
    v.push(ev(TraceKind::Deliver, 900, 0, 1, 1, 100, w));
    v.push(fault(950, "partition", None, "partition#1 {n0,n1} | {n2}"));
    v.push(ev(TraceKind::Deliver, 1_200, 0, 2, 2, 100, w));
    v.push(ev(TraceKind::Send, 1_300, 1, 0, 3, 1_300, ack));
    v.push(ev(TraceKind::Send, 1_300, 2, 0, 4, 1_300, ack));
    v.push(ev(
        TraceKind::Drop,
        1_300,
        2,
        0,
        4,
        1_300,
        "write_ack r1 (partitioned)",
    ));
    v.push(ev(TraceKind::Deliver, 2_000, 1, 0, 3, 1_300, ack));
    v.push(fault(2_100, "crash", Some(2), "crash n2"));
    v.push(ev(TraceKind::Send, 2_200, 0, 0, 5, 2_200, w));
    v.push(ev(TraceKind::Deliver, 2_200, 0, 0, 5, 2_200, w));
    v.push(fault(3_000, "heal", None, "heal partition#1"));
    v.push(fault(3_500, "restart", Some(2), "restart n2"));
    for e in &mut v {
        if e.label == "write_request" && e.details.starts_with("write_ack") {
            e.label = "write_ack".into();
        }
    }
    v
}

#[test]
fn the_sequence_diagram_has_a_lifeline_per_node_and_an_arrow_per_message() {
    let names = Names::default();
    let svg = msc::msc_svg(&five_messages(), &names, "three nodes <five messages>");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches(r#"class="lifeline""#).count(), 3, "{svg}");
    assert_eq!(svg.matches(r#"class="arrow""#).count(), 5, "{svg}");
    assert_eq!(svg.matches(r#"class="drop-mark""#).count(), 1);
    assert_eq!(svg.matches(r#"class="crash""#).count(), 1);
    assert_eq!(svg.matches(r#"class="partition""#).count(), 1);
    assert!(svg.contains("v0.1[n0:1]"), "versions annotate arrows");
    assert!(svg.contains("&lt;five messages&gt;"), "text is escaped");
    // Tags balance (a cheap well-formedness check).
    assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
}

fn perfetto_of(events: &[Ev]) -> Json {
    let mut p = PerfettoExporter::new(Vec::new(), Names::default());
    for e in events {
        e.replay(&mut p);
    }
    serde_json::from_slice(&p.into_inner().unwrap()).expect("perfetto output is JSON")
}

fn check_perfetto(doc: &Json) -> usize {
    let events = doc["traceEvents"].as_array().expect("traceEvents array");
    let mut flows: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for e in events {
        for f in ["name", "ph", "ts", "pid", "tid"] {
            assert!(!e[f].is_null(), "{f} missing in {e}");
        }
        assert_eq!(e["pid"], 1);
        match e["ph"].as_str().unwrap() {
            "X" => assert!(e["dur"].as_u64().is_some(), "{e}"),
            "s" | "f" => {
                let id = e["id"].as_u64().expect("flows have ids");
                flows.entry(id).or_default().push(e["ph"].as_str().unwrap());
                if e["ph"] == "f" {
                    assert_eq!(e["bp"], "e");
                }
            }
            "i" => assert!(matches!(e["s"].as_str(), Some("g" | "t" | "p"))),
            "M" => assert!(e["args"]["name"].is_string() || e["args"]["sort_index"].is_number()),
            other => panic!("unexpected ph {other}"),
        }
    }
    for (id, phs) in &flows {
        assert_eq!(phs[0], "s", "flow {id} starts at its send");
    }
    events.len()
}

#[test]
fn perfetto_json_parses_and_has_the_required_fields() {
    let doc = perfetto_of(&five_messages());
    check_perfetto(&doc);
    let events = doc["traceEvents"].as_array().unwrap();
    let threads: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(threads, ["cluster", "n0", "n1", "n2"]);
    assert_eq!(events.iter().filter(|e| e["ph"] == "f").count(), 4);
    assert!(events.iter().any(|e| e["ph"] == "i" && e["s"] == "g"));

    // A whole run, streamed.
    let s = scenario(&small(), 3);
    let mut out = Vec::new();
    {
        let mut ex = exporter("perfetto", &mut out, Names::from_scenario(&s)).unwrap();
        Simulation::new(s.clone()).run(&mut sim_core::engine::record::NullSink, Some(ex.tracer()));
        ex.finish().unwrap();
    }
    let doc: Json = serde_json::from_slice(&out).expect("whole-run perfetto JSON parses");
    assert!(check_perfetto(&doc) > 100);
    assert!(exporter("nope", Vec::new(), Names::default()).is_err());
}

/// Parses the two-line ShiViz format: `host {clock}` then the event.
fn parse_shiviz(text: &str) -> Vec<(String, BTreeMap<String, u64>, String)> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() % 2, 0, "two lines per event");
    lines
        .chunks(2)
        .map(|pair| {
            let (host, clock) = pair[0].split_once(' ').expect("host, space, clock");
            assert!(!host.is_empty() && !host.contains(char::is_whitespace));
            assert!(clock.starts_with('{') && clock.ends_with('}'), "{clock}");
            let clock: BTreeMap<String, u64> =
                serde_json::from_str(clock).expect("the clock is a JSON object of counters");
            assert!(!pair[1].is_empty());
            (host.to_string(), clock, pair[1].to_string())
        })
        .collect()
}

fn check_monotone(log: &[(String, BTreeMap<String, u64>, String)]) {
    let mut last: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for (host, clock, event) in log {
        let own = clock.get(host).copied().unwrap_or(0);
        if let Some(prev) = last.get(host.as_str()) {
            assert_eq!(
                own,
                prev[host] + 1,
                "{host}'s own entry steps by one: {event}"
            );
            for (h, c) in prev {
                assert!(clock.get(h).copied().unwrap_or(0) >= *c, "{host}: {event}");
            }
        } else {
            assert_eq!(own, 1, "{host} starts at 1");
        }
        last.insert(host, clock.clone());
    }
}

#[test]
fn shiviz_logs_parse_and_clocks_are_monotone_per_host() {
    let mut sv = ShivizExporter::new(Vec::new(), Names::default());
    for e in five_messages() {
        e.replay(&mut sv);
    }
    let text = String::from_utf8(sv.into_inner().unwrap()).unwrap();
    let log = parse_shiviz(&text);
    check_monotone(&log);
    // n1 received n0's write: its clock includes n0's send.
    let n1_deliver = log
        .iter()
        .find(|(h, _, e)| h == "n1" && e.starts_with("deliver"))
        .unwrap();
    assert!(n1_deliver.1["n0"] >= 1, "{:?}", n1_deliver);
    // n0 received n1's ack: it learned n1's entry.
    let n0_ack = log
        .iter()
        .find(|(h, _, e)| h == "n0" && e.starts_with("deliver write_ack"))
        .unwrap();
    assert!(n0_ack.1["n1"] >= 2);

    // A whole run, streamed.
    let s = scenario(&small(), 5);
    let mut out = Vec::new();
    {
        let mut ex = exporter("shiviz", &mut out, Names::from_scenario(&s)).unwrap();
        let tracer: &mut dyn Tracer = ex.tracer();
        Simulation::new(s.clone()).run(&mut sim_core::engine::record::NullSink, Some(tracer));
        ex.finish().unwrap();
    }
    let log = parse_shiviz(std::str::from_utf8(&out).unwrap());
    assert!(log.len() > 100);
    check_monotone(&log);
    assert!(log.iter().any(|(h, _, _)| h == "c0"));
}

#[test]
fn jsonl_export_has_one_object_per_event() {
    let s = scenario(&small(), 2);
    let mut out = Vec::new();
    {
        let mut ex = exporter("jsonl", &mut out, Names::from_scenario(&s)).unwrap();
        Simulation::new(s.clone()).run(&mut sim_core::engine::record::NullSink, Some(ex.tracer()));
        ex.finish().unwrap();
    }
    let text = String::from_utf8(out).unwrap();
    let mut sends = 0;
    for line in text.lines() {
        let v: Json = serde_json::from_str(line).unwrap();
        assert!(v["t_us"].is_u64() && v["kind"].is_string());
        if v["kind"] == "send" {
            sends += 1;
            assert!(v["id"].is_u64());
        }
    }
    assert!(sends > 10);
}

/// The lost-write story names the write that superseded it and the
/// timestamps that decided it (last-write-wins: the coordinators' clocks,
/// one of them skewed); the timeline and diagram show the window around
/// the loss, not the run from t=0.
#[test]
fn a_lost_lww_write_names_its_superseder_and_the_timestamps_in_a_window() {
    let s = scenario(&lww_skew(), 1);
    let ex = explain(s, &Request::default()).expect("explains");
    let lost = ex.focus.clone().expect("a lost write");
    let story = ex.story();
    let decided = story
        .split("what decided it:")
        .nth(1)
        .unwrap_or_else(|| panic!("no decision:\n{story}"));
    assert!(
        decided.contains(&format!("{}'s timestamp", lost.write)),
        "{story}"
    );
    assert!(decided.contains("superseded by v"), "{story}");
    assert!(decided.contains("the later timestamp wins"), "{story}");
    let (a, b) = ex.window.expect("a window around the loss");
    let t = lost.acked_at.as_micros();
    assert!(a < t && t < b && b - a == 2_000_000, "{a}..{b} around {t}");
    let shown = ex.windowed();
    assert!(shown.len() < ex.events.len());
    assert!(shown.iter().all(|e| (e.time_us >= a && e.time_us <= b)
        || matches!(e.kind, TraceKind::Fault | TraceKind::Phase)));
    assert!(ex.timeline_window().lines().count() < ex.timeline().lines().count());
    assert!(ex
        .header("lww", 1)
        .contains("around the explained lost write"));
    // --from/--to choose the window instead.
    let req = Request {
        from_s: Some(0.0),
        to_s: Some(6.0),
        ..Request::default()
    };
    assert_eq!(
        explain(scenario(&lww_skew(), 1), &req)
            .expect("explains")
            .window,
        None
    );
}

/// Under vector clocks the story names the lost write's dot and the clock
/// that covers it: a disk lost on a coordinator makes it reuse counters,
/// so a write that never saw the lost one still covers its dot.
#[test]
fn a_lost_write_under_reused_dots_names_the_dot_that_decided_it() {
    let ex = explain(
        scenario(&shipped("disk-loss-reused-dots"), 1),
        &Request::default(),
    )
    .expect("explains");
    assert!(ex.focus.is_some(), "reused dots lose writes on seed 1");
    let story = ex.story();
    let decided = story
        .split("what decided it:")
        .nth(1)
        .unwrap_or_else(|| panic!("no decision:\n{story}"));
    assert!(decided.contains("its dot n"), "{story}");
    assert!(decided.contains("covers the dot"), "{story}");
    assert!(decided.contains("NOT by causality"), "{story}");
}

fn shipped(name: &str) -> Json {
    let path = format!("{}/../scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("shipped scenario")).expect("JSON")
}

fn stale_prone() -> Json {
    json!({
        "name": "stale",
        "duration_s": 3,
        "cluster": { "nodes": 5, "quorum": { "n": 3, "r": 1, "w": 1 } },
        "network": { "latency": { "exponential": { "mean_ms": 2.0 } } },
        "workload": {
            "clients": 6,
            "arrival": { "open_loop": { "rate_per_s": 60 } },
            "keys": { "count": 3 },
            "mix": { "read": 0.5, "read_modify_write": 0.5 }
        }
    })
}

/// `--what stale-read`: the first stale read, the write it missed, and
/// which replicas answered without it.
#[test]
fn the_story_of_a_stale_read_names_the_missed_write_and_the_replies() {
    let req = Request {
        what: What::StaleRead,
        ..Request::default()
    };
    let ex = explain(scenario(&stale_prone(), 1), &req).expect("explains");
    let f = ex.read_focus.clone().expect("R=1 W=1 reads stale");
    assert_eq!(ex.selection.key, Some(f.key.0));
    let story = ex.story();
    let missed = f.expected.expect("the missed write").to_string();
    assert!(
        story.starts_with(&format!("STALE READ of k{}", f.key.0)),
        "{story}"
    );
    assert!(
        story.contains(&format!("the write it missed:\n  {missed}")),
        "{story}"
    );
    assert!(
        story.contains(&format!("did NOT have {missed} yet")),
        "{story}"
    );
    let (a, b) = ex.window.expect("window");
    assert!(a <= f.completed.as_micros() && f.completed.as_micros() <= b);
}

/// `--what resurrection`: a delete acknowledged while a replica was cut
/// off, its tombstone purged, and the old value read back after the heal.
#[test]
fn the_story_of_a_resurrected_delete_names_the_delete_and_the_replica_without_it() {
    let mut doc = shipped("tombstone-resurrection");
    doc["duration_s"] = json!(10);
    let req = Request {
        what: What::Resurrection,
        ..Request::default()
    };
    let ex = explain(scenario(&doc, 1), &req).expect("explains");
    let f = ex.read_focus.clone().expect("a resurrection");
    let story = ex.story();
    let d = f.expected.expect("the delete").to_string();
    assert!(
        story.starts_with(&format!(
            "RESURRECTED DELETE on k{}: the delete {d}",
            f.key.0
        )),
        "{story}"
    );
    assert!(story.contains(&format!("did NOT have {d} yet")), "{story}");
}

/// `--what siblings`: blind writes under vector clocks pile up siblings;
/// the story lists them and says they are concurrent.
#[test]
fn the_story_of_siblings_lists_them_and_why_they_are_concurrent() {
    let mut doc = stale_prone();
    doc["cluster"]["quorum"] = json!({ "n": 3, "r": 2, "w": 2 });
    doc["workload"]["mix"] = json!({ "read": 0.5, "blind_write": 0.5 });
    let req = Request {
        what: What::Siblings,
        ..Request::default()
    };
    let ex = explain(scenario(&doc, 1), &req).expect("explains");
    let f = ex.read_focus.clone().expect("siblings");
    assert!(f.k >= 2 && f.returned.len() == f.k);
    let story = ex.story();
    assert!(
        story.starts_with(&format!("SIBLINGS on k{}", f.key.0)),
        "{story}"
    );
    assert!(story.contains("blind write (no context)"), "{story}");
    assert!(story.contains("are concurrent"), "{story}");
    // No such finding: the story says so.
    let none = Request {
        what: What::Resurrection,
        ..Request::default()
    };
    let ex = explain(scenario(&doc, 1), &none).expect("explains");
    assert!(ex.read_focus.is_none());
    assert!(
        ex.story().contains("No resurrected delete"),
        "{}",
        ex.story()
    );
}
