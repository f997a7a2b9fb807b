//! The terminal timeline of kept events and the causal story of a lost write.
//!
//! Both are built from the kept [`Ev`]s (message details as the protocol
//! displays them: `write k979 r22 v3.999[n2:1] hint_for=n1`,
//! `put k979 op=c3.999 value=v3.999`, `write_ack r22`) and the kept records
//! (operations invoked and completed, hints, faults, end-of-run values).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::{NodeId, WriteId};
use sim_core::engine::record::Record;
use sim_core::engine::time::SimTime;
use sim_core::engine::trace::TraceKind;
use sim_core::world::faults::FaultAction;

use super::{number_after, secs, Ev, Names};
use crate::metrics::LostWrite;

/// Whether `details` mentions the value `value` (e.g. `v3.999`) as a whole
/// token (`value=v3.999`, `v3.999[n2:1]`, `del:v3.999[]`).
pub fn mentions_value(details: &str, value: &str) -> bool {
    let bytes = details.as_bytes();
    let mut start = 0;
    while let Some(i) = details[start..].find(value) {
        let at = start + i;
        let end = at + value.len();
        let before_ok = at == 0 || matches!(bytes[at - 1], b' ' | b'=' | b':' | b',' | b'(');
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_digit();
        if before_ok && after_ok {
            return true;
        }
        start = end;
    }
    false
}

/// The first version in `details`: a value id and, when present, its vector
/// clock (`v3.999[n2:1, n3:1]`, `del:v1.2[]`, `v3.999` of a put).
pub fn version_of(details: &str) -> Option<String> {
    let bytes = details.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || matches!(bytes[i - 1], b' ' | b'=' | b':');
        if bytes[i] == b'v' && boundary {
            let mut j = i + 1;
            let d1 = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j > d1 && j < bytes.len() && bytes[j] == b'.' {
                j += 1;
                let d2 = j;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                if j > d2 {
                    if j < bytes.len() && bytes[j] == b'[' {
                        if let Some(close) = details[j..].find(']') {
                            j += close + 1;
                        }
                    }
                    let start = if details[..i].ends_with("del:") {
                        i - 4
                    } else {
                        i
                    };
                    return Some(details[start..j].to_string());
                }
            }
        }
        i += 1;
    }
    None
}

/// The terminal timeline: one line per kept event (a message once: its
/// delivery or drop, not its send), faults marked `!!`.
pub fn timeline(events: &[Ev], names: &Names) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>14}  {:<2} {:<8} {:<8} {:<16} {:<14} {:<7} {:<22} details",
        "time", "", "at", "event", "label", "from -> to", "key", "version"
    );
    for e in events {
        if e.kind == TraceKind::Send {
            continue;
        }
        let mark = match e.kind {
            TraceKind::Fault => "!!",
            TraceKind::Drop => "xx",
            TraceKind::Phase => "--",
            _ => "",
        };
        let at = e.at.map(|x| names.name(x)).unwrap_or_default();
        let route = match (e.from, e.at) {
            (Some(f), Some(t)) => format!("{} -> {}", names.name(f), names.name(t)),
            _ => String::new(),
        };
        let key = e.key.map(|k| format!("k{k}")).unwrap_or_default();
        let version = if e.is_message() {
            version_of(&e.details).unwrap_or_default()
        } else {
            String::new()
        };
        let details = if e.kind == TraceKind::Deliver || e.kind == TraceKind::Drop {
            match e.sent_at_us {
                Some(t) if t != e.time_us => format!("{} (sent {})", e.details, secs(t)),
                _ => e.details.clone(),
            }
        } else {
            e.details.clone()
        };
        let _ = writeln!(
            s,
            "{:>14}  {:<2} {:<8} {:<8} {:<16} {:<14} {:<7} {:<22} {}",
            secs(e.time_us),
            mark,
            at,
            e.kind.name(),
            e.label,
            route,
            key,
            version,
            details
        );
    }
    s
}

/// What the records say about one write.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteInfo {
    pub client: Option<Endpoint>,
    pub invoked: Option<SimTime>,
    pub blind: bool,
    pub based_on: Vec<WriteId>,
    pub completed: Option<(SimTime, String)>,
    pub coordinator: Option<NodeId>,
}

impl WriteInfo {
    /// When it was invoked (seconds, `?` if unknown) and whether that was
    /// before `mine`.
    fn invoked_vs(&self, mine: SimTime) -> (String, bool) {
        (
            self.invoked.map_or("?".into(), |t| secs(t.as_micros())),
            self.invoked.is_some_and(|t| t < mine),
        )
    }
}

pub(crate) fn writes_of(records: &[(SimTime, Record)]) -> BTreeMap<WriteId, WriteInfo> {
    let mut by_op = BTreeMap::new();
    let mut out: BTreeMap<WriteId, WriteInfo> = BTreeMap::new();
    for (t, r) in records {
        match r {
            Record::OpInvoked {
                op,
                write: Some(w),
                blind,
                based_on,
                ..
            } => {
                by_op.insert(*op, *w);
                let info = out.entry(*w).or_default();
                info.client = Some(Endpoint::Client(op.client));
                info.invoked = Some(*t);
                info.blind = *blind;
                info.based_on = based_on.clone();
            }
            Record::OpCompleted {
                op,
                result,
                coordinator,
                ..
            } => {
                if let Some(w) = by_op.get(op) {
                    let info = out.entry(*w).or_default();
                    let res = match result {
                        Ok(()) => "ok".to_string(),
                        Err(f) => f.to_string(),
                    };
                    info.completed = Some((*t, res));
                    info.coordinator = *coordinator;
                }
            }
            _ => {}
        }
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// The causal story of `lost` (a lost write) from the kept events and
/// records of its key: acknowledged by whom, present where, superseded or
/// swallowed by what. `loaded_on`: the replicas a loaded value
/// (`workload.keys.preload`) was stored on before time 0 (empty otherwise).
pub fn story(
    lost: &LostWrite,
    events: &[Ev],
    records: &[(SimTime, Record)],
    names: &Names,
    loaded_on: &[NodeId],
) -> String {
    let w = lost.write.to_string();
    let key = lost.key.0;
    let writes = writes_of(records);
    let info = writes.get(&lost.write).cloned().unwrap_or_default();
    let node = |n: NodeId| names.name(Endpoint::Node(n));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "LOST WRITE {w} on k{key}: acknowledged at {}, held by no replica at the end.",
        secs(lost.acked_at.as_micros())
    );

    // Who wrote it.
    let _ = writeln!(s, "\nwritten:");
    match (info.client, info.invoked) {
        (Some(c), Some(t)) => {
            let ctx = if info.blind {
                "blind write (no context)".to_string()
            } else if info.based_on.is_empty() {
                "read-modify-write of an empty key".to_string()
            } else {
                let b: Vec<String> = info.based_on.iter().map(|x| x.to_string()).collect();
                format!("read-modify-write based on {}", b.join(", "))
            };
            let _ = writeln!(
                s,
                "  {} invoked put {w} at {} ({ctx})",
                names.name(c),
                secs(t.as_micros())
            );
        }
        _ if lost.write.is_preloaded() => {
            let _ = writeln!(
                s,
                "  the load phase (workload.keys.preload) stored it on the key's top N replicas before time 0"
            );
        }
        _ => {
            let _ = writeln!(s, "  (the invocation is outside the selection)");
        }
    }

    // Which coordinator took it.
    let mut coordinators = Vec::new();
    for e in events.iter().filter(|e| {
        (e.label == "client_request" || e.label == "forward") && mentions_value(&e.details, &w)
    }) {
        let who = e.at.map(|x| names.name(x)).unwrap_or_default();
        let from = e.from.map(|x| names.name(x)).unwrap_or_default();
        let _ = match e.kind {
            TraceKind::Deliver => writeln!(
                s,
                "  {} {from} -> {who} delivered at {}",
                e.label,
                secs(e.time_us)
            ),
            TraceKind::Drop => writeln!(
                s,
                "  {} {from} -> {who} DROPPED at {}: {}",
                e.label,
                secs(e.time_us),
                e.details
            ),
            _ => Ok(()),
        };
        if e.kind == TraceKind::Deliver {
            coordinators.push(who);
        }
    }
    if let Some(c) = info.coordinator {
        let _ = writeln!(s, "coordinator: {}", node(c));
    } else if let Some(c) = coordinators.last() {
        let _ = writeln!(s, "coordinator: {c} (last to receive the put)");
    }

    // Where the write went; who acknowledged it.
    let mut requests: BTreeSet<(Endpoint, u64)> = BTreeSet::new();
    let mut holders: BTreeMap<Endpoint, u64> = BTreeMap::new();
    let mut present = Vec::new();
    for n in loaded_on {
        holders.insert(Endpoint::Node(*n), 0);
        present.push(format!("{} (loaded before the run)", node(*n)));
    }
    for e in events
        .iter()
        .filter(|e| e.label == "write_request" && mentions_value(&e.details, &w))
    {
        let (Some(from), Some(to)) = (e.from, e.at) else {
            continue;
        };
        if let Some(r) = number_after(&e.details, "r") {
            requests.insert((from, r));
        }
        let hint = e
            .details
            .split_whitespace()
            .find_map(|t| t.strip_prefix("hint_for="))
            .map(|h| format!(" as a hint for {h}"))
            .unwrap_or_default();
        match e.kind {
            TraceKind::Deliver => {
                holders.entry(to).or_insert(e.time_us);
                present.push(format!("{}{hint} ({})", names.name(to), secs(e.time_us)));
            }
            TraceKind::Drop => present.push(format!(
                "{}{hint} NOT reached: dropped at {} ({})",
                names.name(to),
                secs(e.time_us),
                e.details
                    .rsplit('(')
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(')')
            )),
            _ => {}
        }
    }
    let _ = writeln!(s, "\npresent at (write requests delivered):");
    let _ = writeln!(s, "  {}", list(&present));
    let acks: Vec<String> = events
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver && e.label == "write_ack")
        .filter(|e| {
            let r = number_after(&e.details, "r");
            e.at.zip(r).is_some_and(|k| requests.contains(&k))
        })
        .map(|e| {
            format!(
                "{} ({})",
                e.from.map(|x| names.name(x)).unwrap_or_default(),
                secs(e.time_us)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "acknowledged by (write_ack delivered to the coordinator):"
    );
    let _ = writeln!(s, "  {}", list(&acks));
    if let Some((t, res)) = &info.completed {
        let _ = writeln!(s, "client saw: put {w} {res} at {}", secs(t.as_micros()));
    }
    let hints: Vec<String> = records
        .iter()
        .filter_map(|(t, r)| match r {
            Record::HintStored { holder, owner, .. }
                if holders.contains_key(&Endpoint::Node(*holder)) =>
            {
                Some(format!(
                    "{} holds a hint for {} ({})",
                    node(*holder),
                    node(*owner),
                    secs(t.as_micros())
                ))
            }
            _ => None,
        })
        .collect();
    if !hints.is_empty() {
        let _ = writeln!(
            s,
            "hints on k{key} at those nodes:\n  {}",
            hints.join("\n  ")
        );
    }

    // What superseded it.
    let mut finals: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut w_held_by = Vec::new();
    for (_, r) in records {
        if let Record::FinalValues {
            node: n,
            values,
            replica,
            ..
        } = r
        {
            for v in values {
                let id = v.write().to_string();
                let label = format!(
                    "{}{}",
                    node(*n),
                    if *replica { "" } else { " (not a replica)" }
                );
                if id == w {
                    w_held_by.push(label);
                } else {
                    finals.entry(id).or_default().push(label);
                }
            }
        }
        if let Record::FinalHint { node: n, value, .. } = r {
            if value.write() == lost.write {
                w_held_by.push(format!("{} (a hint never handed off)", node(*n)));
            }
        }
    }
    let _ = writeln!(s, "\nother writes on k{key}:");
    let mut others: Vec<(&WriteId, &WriteInfo)> =
        writes.iter().filter(|(x, _)| **x != lost.write).collect();
    others.sort_by_key(|(x, i)| (i.invoked, **x));
    let mine = info.invoked.unwrap_or(SimTime::ZERO);
    for (x, i) in others.iter().take(20) {
        let (when, before) = i.invoked_vs(mine);
        let rel = if before { "before" } else { "after" };
        let coord = i
            .coordinator
            .map(|c| format!(" via {}", node(c)))
            .unwrap_or_default();
        let res = i
            .completed
            .as_ref()
            .map_or("pending".to_string(), |(t, r)| {
                format!("{r} at {}", secs(t.as_micros()))
            });
        let _ = writeln!(
            s,
            "  {x} by {} invoked {when} ({rel}){coord}: {res}",
            i.client.map(|c| names.name(c)).unwrap_or_default()
        );
    }
    if others.len() > 20 {
        let _ = writeln!(s, "  ... {} more", others.len() - 20);
    }
    if others.is_empty() {
        let _ = writeln!(s, "  none");
    }

    // Crashes and lost buffers at the nodes that held it.
    let mut crashes = Vec::new();
    for (t, r) in records {
        match r {
            Record::Fault {
                action: FaultAction::Crash { node: n, disk_loss },
            } if holders
                .get(&Endpoint::Node(*n))
                .is_some_and(|first| *first <= t.as_micros()) =>
            {
                crashes.push(format!(
                    "{} crashed at {}{}",
                    node(*n),
                    secs(t.as_micros()),
                    if *disk_loss { " and LOST ITS DISK" } else { "" }
                ));
            }
            Record::BufferLost { node: n, versions }
                if holders
                    .get(&Endpoint::Node(*n))
                    .is_some_and(|first| *first <= t.as_micros()) =>
            {
                crashes.push(format!(
                    "{} lost {versions} buffered version(s) at {}",
                    node(*n),
                    secs(t.as_micros())
                ));
            }
            _ => {}
        }
    }
    let _ = writeln!(s, "crashes of nodes that held it:\n  {}", list(&crashes));
    let repairs = records
        .iter()
        .filter(|(_, r)| matches!(r, Record::ReadRepair { .. }))
        .count();
    let _ = writeln!(s, "read repairs on k{key}: {repairs}");

    // What readers saw once it was acknowledged, and the coordinator's clock.
    let first_read = records.iter().find_map(|(t, r)| match r {
        Record::OpCompleted {
            op,
            kind: sim_core::engine::record::OpKind::Get,
            invoked,
            result: Ok(()),
            values,
            ..
        } if *invoked >= lost.acked_at && !values.iter().any(|v| v.write() == lost.write) => {
            Some((
                *t,
                *op,
                values.iter().map(|v| v.write()).collect::<Vec<_>>(),
            ))
        }
        _ => None,
    });
    let mut hidden_by = None;
    if let Some((t, op, vals)) = &first_read {
        let v: Vec<String> = vals.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(
            s,
            "first read after its acknowledgement: {} (op {op}) at {} returned {}",
            names.name(Endpoint::Client(op.client)),
            secs(t.as_micros()),
            list(&v)
        );
        hidden_by = vals.first().copied();
    }
    let skews: Vec<String> = records
        .iter()
        .filter_map(|(t, r)| match r {
            Record::Fault {
                action:
                    FaultAction::ClockSkew {
                        node: n,
                        offset_us,
                        drift_ppm,
                    },
            } if info.coordinator == Some(*n) && *t <= lost.acked_at => Some(format!(
                "coordinator {}'s clock is off by {} ms (drift {drift_ppm} ppm) since {}",
                node(*n),
                offset_us / 1000,
                secs(t.as_micros())
            )),
            _ => None,
        })
        .collect();
    for k in &skews {
        let _ = writeln!(s, "{k}");
    }

    // End state and verdict.
    let _ = writeln!(s, "\nat the end:");
    if finals.is_empty() && w_held_by.is_empty() {
        let _ = writeln!(s, "  no node holds any value of k{key}");
    }
    for (v, at) in &finals {
        let _ = writeln!(s, "  {v} held by {}", at.join(", "));
    }
    if !w_held_by.is_empty() {
        let _ = writeln!(s, "  {w} held only by {}", w_held_by.join(", "));
    }
    let held: Vec<String> = finals.keys().cloned().collect();
    let decided = super::reads::superseded_by(lost.write, events, records, names, &held);
    if !decided.is_empty() {
        let _ = writeln!(s, "\nwhat decided it:");
        for l in decided.lines() {
            let _ = writeln!(s, "  {l}");
        }
    }
    let winner = finals
        .iter()
        .max_by_key(|(v, at)| (at.len(), std::cmp::Reverse((*v).clone())))
        .map(|(v, _)| v.clone());
    let _ = writeln!(s);
    match winner {
        Some(v) => {
            let how = writes
                .iter()
                .find(|(x, _)| x.to_string() == v)
                .map(|(_, i)| {
                    let (when, before) = i.invoked_vs(mine);
                    let rel = if before {
                        "invoked BEFORE it"
                    } else {
                        "invoked after it"
                    };
                    let coord = i
                        .coordinator
                        .map(|c| format!(", coordinated by {}", node(c)))
                        .unwrap_or_default();
                    format!(
                        " (written by {} at {when}, {rel}{coord})",
                        i.client.map(|c| names.name(c)).unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            let cause = if crashes.iter().any(|c| c.contains("LOST")) {
                "; a holder's disk was lost as well"
            } else {
                ""
            };
            let _ = writeln!(s, "=> {w} was overwritten by {v}{how}{cause}.");
            if let Some(h) = hidden_by.filter(|h| h.to_string() != v) {
                let when = writes
                    .get(&h)
                    .and_then(|i| i.invoked)
                    .map(|t| {
                        let rel = if t < mine { "BEFORE" } else { "after" };
                        format!(" (invoked {rel} it, at {})", secs(t.as_micros()))
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "   but readers already saw {h}{when} instead of it right after its acknowledgement."
                );
            }
            if !skews.is_empty() {
                let _ = writeln!(
                    s,
                    "   {w}'s coordinator clock was skewed: under last-write-wins its timestamp lost to older writes."
                );
            }
        }
        None if !crashes.is_empty() => {
            let _ = writeln!(
                s,
                "=> {w} was swallowed by crashes: {}.",
                crashes.join("; ")
            );
        }
        None => {
            let _ = writeln!(s, "=> {w} vanished: no node holds k{key} at the end.");
        }
    }
    s
}

/// A short story of a key without a lost write: its writes and end state.
pub fn key_summary(key: u64, records: &[(SimTime, Record)], names: &Names) -> String {
    let writes = writes_of(records);
    let mut s = format!("No lost write on k{key}.\n\nwrites on k{key}:\n");
    for (w, i) in &writes {
        let when = i.invoked.map_or("?".into(), |t| secs(t.as_micros()));
        let res = i
            .completed
            .as_ref()
            .map_or("pending".to_string(), |(t, r)| {
                format!("{r} at {}", secs(t.as_micros()))
            });
        let _ = writeln!(
            s,
            "  {w} by {} invoked {when}: {res}",
            i.client.map(|c| names.name(c)).unwrap_or_default()
        );
    }
    let _ = writeln!(s, "\nat the end:");
    for (_, r) in records {
        if let Record::FinalValues { node, values, .. } = r {
            let v: Vec<String> = values.iter().map(|v| v.write().to_string()).collect();
            let _ = writeln!(
                s,
                "  {} holds {}",
                names.name(Endpoint::Node(*node)),
                list(&v)
            );
        }
    }
    s
}
