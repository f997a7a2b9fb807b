//! Stories of what a read checker flagged (`explain --what`): a stale read,
//! a resurrected delete, sibling growth; and, for a lost write, the write
//! that superseded it and the dot or timestamp that decided it.
//!
//! Read replies name how many versions they carry, not which: whether a
//! replica could have answered with a write is inferred from when that
//! write's request reached it and when the replica sent its reply.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::{NodeId, WriteId};
use sim_core::engine::record::Record;
use sim_core::engine::time::SimTime;
use sim_core::engine::trace::TraceKind;
use sim_core::world::faults::FaultAction;

use super::story::{mentions_value, version_of, writes_of, WriteInfo};
use super::{number_after, secs, Ev, Names};
use crate::metrics::ReadFinding;

/// A story's list of the read's replies, one per line, or "none kept".
fn replies_section(s: &mut String, replies: &[String]) {
    let _ = writeln!(s, "\nthe read's replies (to its coordinator):");
    let list = if replies.is_empty() {
        "none kept".into()
    } else {
        replies.join("\n  ")
    };
    let _ = writeln!(s, "  {list}");
}

/// Where a value arrived, for a story: "n1 (2.5 s), n3 (2.6 s)" in the
/// order of [`reached`], or "none".
fn reached_list(events: &[Ev], value: &str, names: &Names) -> String {
    let at: Vec<String> = reached(events, value)
        .into_iter()
        .map(|(e, t)| format!("{} ({})", names.name(e), secs(t)))
        .collect();
    if at.is_empty() {
        "none".into()
    } else {
        at.join(", ")
    }
}

/// When each endpoint first received a write request carrying `value`
/// (as a replica or a hint holder).
pub(crate) fn reached(events: &[Ev], value: &str) -> BTreeMap<Endpoint, u64> {
    let mut at = BTreeMap::new();
    for e in events.iter().filter(|e| {
        e.kind == TraceKind::Deliver
            && (e.label == "write_request" || e.label == "read_repair")
            && mentions_value(&e.details, value)
    }) {
        if let Some(to) = e.at {
            at.entry(to).or_insert(e.time_us);
        }
    }
    at
}

/// The version `value` as the messages show it (`v3.999[n2:1, n3:1]`).
pub(crate) fn clock_of(events: &[Ev], value: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| e.label == "write_request" && mentions_value(&e.details, value))
        .find_map(|e| version_of(&e.details))
        .filter(|v| v.contains('[') && !v.ends_with("[]"))
}

/// The entries of a displayed clock (`[n2:1, n3:4]`), by node name.
pub(crate) fn clock_entries(version: &str) -> BTreeMap<String, u64> {
    let Some(open) = version.find('[') else {
        return BTreeMap::new();
    };
    version[open + 1..]
        .trim_end_matches(']')
        .split(',')
        .filter_map(|p| {
            let (n, c) = p.trim().split_once(':')?;
            Some((n.to_string(), c.parse().ok()?))
        })
        .collect()
}

/// Whether `later` is a causal descendant of `earlier` through the
/// writes' contexts (read-modify-writes based on it, transitively).
pub(crate) fn descends(
    writes: &BTreeMap<WriteId, WriteInfo>,
    later: WriteId,
    earlier: WriteId,
) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![later];
    while let Some(w) = todo.pop() {
        if !seen.insert(w) {
            continue;
        }
        if let Some(i) = writes.get(&w) {
            for b in &i.based_on {
                if *b == earlier {
                    return true;
                }
                todo.push(*b);
            }
        }
    }
    false
}

/// Every write whose context carried `root`, directly or through other
/// writes (one pass over the writes' contexts).
pub(crate) fn descendants(
    writes: &BTreeMap<WriteId, WriteInfo>,
    root: WriteId,
) -> BTreeSet<WriteId> {
    let mut children: BTreeMap<WriteId, Vec<WriteId>> = BTreeMap::new();
    for (w, i) in writes {
        for b in &i.based_on {
            children.entry(*b).or_default().push(*w);
        }
    }
    let mut out = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(w) = todo.pop() {
        for c in children.get(&w).into_iter().flatten() {
            if out.insert(*c) {
                todo.push(*c);
            }
        }
    }
    out
}

/// The coordinator's local clock (its last-write-wins stamp) when a put
/// reached it at `t`: `t` plus the skew set by the latest clock fault at or
/// before `t` (offset and drift).
pub(crate) fn lww_stamp_us(records: &[(SimTime, Record)], node: NodeId, t: u64) -> i128 {
    let (mut offset, mut drift) = (0i64, 0i64);
    for (at, r) in records {
        if at.as_micros() > t {
            break;
        }
        if let Record::Fault {
            action:
                FaultAction::ClockSkew {
                    node: n,
                    offset_us,
                    drift_ppm,
                },
        } = r
        {
            if *n == node {
                offset = *offset_us;
                drift = *drift_ppm;
            }
        }
    }
    let t = i128::from(t);
    t + i128::from(offset) + t * i128::from(drift) / 1_000_000
}

/// When the coordinator of `w` received its put (the client request or a
/// forward delivered to it).
fn put_arrival(events: &[Ev], w: &str, coordinator: Option<NodeId>) -> Option<u64> {
    events
        .iter()
        .filter(|e| {
            e.kind == TraceKind::Deliver
                && (e.label == "client_request" || e.label == "forward")
                && mentions_value(&e.details, w)
        })
        .filter(|e| coordinator.is_none_or(|c| e.at == Some(Endpoint::Node(c))))
        .map(|e| e.time_us)
        .next_back()
}

fn fmt_stamp(us: i128) -> String {
    if us < 0 {
        format!("-{}", secs((-us) as u64))
    } else {
        secs(us as u64)
    }
}

/// The lines that name the write that superseded `lost` and what decided
/// it: under vector clocks the dot of `lost` that the superseding
/// version's clock covers (and whether it covers it because its writer had
/// seen `lost`, or by counter alone); under last-write-wins the two
/// timestamps. `held` are the values held at the end.
pub(crate) fn superseded_by(
    lost: WriteId,
    events: &[Ev],
    records: &[(SimTime, Record)],
    names: &Names,
    held: &[String],
) -> String {
    let writes = writes_of(records);
    let w = lost.to_string();
    let mine = writes.get(&lost).cloned().unwrap_or_default();
    let node = |n: NodeId| names.name(Endpoint::Node(n));
    let mut s = String::new();
    // The first write (by invocation) whose context carried it.
    let heirs_of = descendants(&writes, lost);
    let mut heirs: Vec<(&WriteId, &WriteInfo)> = writes
        .iter()
        .filter(|(x, _)| **x != lost && heirs_of.contains(*x))
        .collect();
    heirs.sort_by_key(|(x, i)| (i.invoked, **x));
    let lost_clock = clock_of(events, &w);
    if let Some(lc) = &lost_clock {
        // Vector clocks.
        let dot = mine.coordinator.and_then(|c| {
            let name = c.to_string();
            clock_entries(lc).get(&name).map(|n| (name, *n))
        });
        let dot_text = dot.as_ref().map_or("?".into(), |(n, c)| format!("{n}:{c}"));
        let clock = lc.find('[').map_or(lc.as_str(), |i| &lc[i..]);
        let _ = writeln!(s, "{w}'s clock {clock}, its dot {dot_text}");
        let covers = |v: &str| -> Option<String> {
            let c = clock_of(events, v)?;
            let (n, k) = dot.as_ref()?;
            let have = *clock_entries(&c).get(n)?;
            (have >= *k).then(|| format!("{c} ({n}:{have} >= {k})"))
        };
        if let Some((x, i)) = heirs.first() {
            let x = x.to_string();
            let _ = writeln!(
                s,
                "superseded by {x}: written by {} at {}, a read-modify-write whose context carried {w}{}",
                i.client.map(|c| names.name(c)).unwrap_or_default(),
                i.invoked.map_or("?".into(), |t| secs(t.as_micros())),
                covers(&x).map_or(String::new(), |c| format!("; its clock {c} covers the dot {dot_text}"))
            );
        }
        for v in held {
            if heirs.iter().any(|(x, _)| x.to_string() == *v) {
                continue;
            }
            if let Some(c) = covers(v) {
                let why = match writes.iter().find(|(x, _)| x.to_string() == *v) {
                    Some((x, _)) if heirs_of.contains(x) => "its writer had seen it",
                    _ => "NOT by causality: its writer never saw it, the counter was reused or truncated",
                };
                let _ = writeln!(
                    s,
                    "the held {v}'s clock {c} covers the dot {dot_text} of {w}: {why}"
                );
            }
        }
        if heirs.is_empty() && held.iter().all(|v| covers(v).is_none()) {
            let _ = writeln!(s, "no later version's clock covers {w}'s dot {dot_text}");
        }
    } else {
        // Last-write-wins: the stamps (each coordinator's local clock when
        // the put reached it).
        let stamp = |x: &str, i: &WriteInfo| {
            put_arrival(events, x, i.coordinator)
                .zip(i.coordinator)
                .map(|(t, c)| (lww_stamp_us(records, c, t), t, c))
        };
        let mine_stamp = stamp(&w, &mine);
        if let Some((st, t, c)) = mine_stamp {
            let _ = writeln!(
                s,
                "{w}'s timestamp {} ({}'s clock when the put reached it at {})",
                fmt_stamp(st),
                node(c),
                secs(t)
            );
        }
        for v in held {
            let Some((x, i)) = writes.iter().find(|(x, _)| x.to_string() == *v) else {
                continue;
            };
            if *x == lost {
                continue;
            }
            if let (Some((sv, t, c)), Some((sw, _, _))) = (stamp(v, i), mine_stamp) {
                let _ = writeln!(
                    s,
                    "superseded by {v} (written by {} at {}): timestamp {} ({}'s clock at {}) {} {w}'s {}: the later timestamp wins",
                    i.client.map(|c| names.name(c)).unwrap_or_default(),
                    i.invoked.map_or("?".into(), |t| secs(t.as_micros())),
                    fmt_stamp(sv),
                    node(c),
                    secs(t),
                    if sv >= sw { ">" } else { "<" },
                    fmt_stamp(sw)
                );
            }
        }
    }
    s
}

/// Which replicas answered the read of `f` (read replies delivered to its
/// coordinator between its invocation and completion), each with when it
/// replied and whether `expected` had reached it by then.
fn replies(events: &[Ev], f: &ReadFinding, expected: Option<&str>, names: &Names) -> Vec<String> {
    let (from, to) = (f.invoked.as_micros(), f.completed.as_micros());
    let coordinator = events
        .iter()
        .find(|e| {
            e.kind == TraceKind::Deliver
                && e.label == "client_request"
                && e.from == Some(Endpoint::Client(f.client))
                && e.time_us >= from
                && e.time_us <= to
                && e.details.starts_with("get ")
        })
        .and_then(|e| e.at);
    let request = events
        .iter()
        .find(|e| {
            e.label == "read_request"
                && e.from == coordinator
                && e.time_us >= from
                && e.time_us <= to
        })
        .and_then(|e| number_after(&e.details, "r"));
    let have = expected.map(|x| reached(events, x)).unwrap_or_default();
    events
        .iter()
        .filter(|e| {
            e.kind == TraceKind::Deliver
                && e.label == "read_response"
                && e.at == coordinator
                && request.is_some()
                && number_after(&e.details, "r") == request
        })
        .map(|e| {
            let replica = e.from.map(|x| names.name(x)).unwrap_or_default();
            let sent = e.sent_at_us.unwrap_or(e.time_us);
            let versions = e
                .details
                .split_whitespace()
                .find_map(|t| t.strip_prefix("versions="))
                .unwrap_or("?");
            let held = match (expected, e.from.and_then(|x| have.get(&x))) {
                (None, _) => String::new(),
                (Some(x), Some(t)) if *t <= sent => format!(", had {x} (since {})", secs(*t)),
                (Some(x), _) => format!(", did NOT have {x} yet"),
            };
            format!(
                "{replica} replied at {} ({versions} version(s){held})",
                secs(sent)
            )
        })
        .collect()
}

/// The most writes a story lists in one line.
const MAX_LISTED: usize = 8;

fn names_of(ws: &[WriteId]) -> String {
    if ws.is_empty() {
        return "nothing (not found)".into();
    }
    let mut text = ws
        .iter()
        .take(MAX_LISTED)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ws.len() > MAX_LISTED {
        let _ = write!(text, " and {} more", ws.len() - MAX_LISTED);
    }
    text
}

fn write_line(
    writes: &BTreeMap<WriteId, WriteInfo>,
    w: WriteId,
    names: &Names,
    events: &[Ev],
) -> String {
    let i = writes.get(&w).cloned().unwrap_or_default();
    let ctx = if w.is_preloaded() {
        "loaded before the run".to_string()
    } else if i.blind {
        "blind write (no context)".into()
    } else if i.based_on.is_empty() {
        "read-modify-write of an empty key".into()
    } else {
        format!("read-modify-write based on {}", names_of(&i.based_on))
    };
    let res = i
        .completed
        .as_ref()
        .map_or("pending".to_string(), |(t, r)| {
            format!("{r} at {}", secs(t.as_micros()))
        });
    format!(
        "{w}{} by {} invoked {}{}: {res}; {ctx}",
        clock_of(events, &w.to_string())
            .and_then(|c| c.find('[').map(|i| c[i..].to_string()))
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        i.client
            .map(|c| names.name(c))
            .unwrap_or_else(|| "?".into()),
        i.invoked.map_or("?".into(), |t| secs(t.as_micros())),
        i.coordinator
            .map(|c| format!(" via {}", names.name(Endpoint::Node(c))))
            .unwrap_or_default()
    )
}

/// The story of a stale read: what it returned, the write it missed, and
/// which replicas answered it and whether they had that write yet.
pub fn stale_read_story(
    f: &ReadFinding,
    events: &[Ev],
    records: &[(SimTime, Record)],
    names: &Names,
) -> String {
    let writes = writes_of(records);
    let mut s = String::new();
    let missed = f.expected.map(|w| w.to_string());
    let _ = writeln!(
        s,
        "STALE READ of k{} by {}: invoked at {}, returned {} at {}, {} version(s) behind{}.",
        f.key.0,
        names.name(Endpoint::Client(f.client)),
        secs(f.invoked.as_micros()),
        names_of(&f.returned),
        secs(f.completed.as_micros()),
        f.k,
        missed.as_ref().map_or(String::new(), |m| format!(
            " {m}, done before the read started"
        ))
    );
    if let Some(w) = f.expected {
        let _ = writeln!(
            s,
            "\nthe write it missed:\n  {}",
            write_line(&writes, w, names, events)
        );
        let at = reached_list(events, &w.to_string(), names);
        let _ = writeln!(s, "  reached: {at}");
    }
    let _ = writeln!(s, "\nwhat it returned:");
    for w in &f.returned {
        let _ = writeln!(s, "  {}", write_line(&writes, *w, names, events));
    }
    let r = replies(events, f, missed.as_deref(), names);
    replies_section(&mut s, &r);
    let stale_repliers = r.iter().filter(|x| x.contains("did NOT have")).count();
    let _ = writeln!(
        s,
        "\n=> {} of {} replies came from replicas that did not have {} yet: the read quorum missed the write quorum.",
        stale_repliers,
        r.len(),
        missed.as_deref().unwrap_or("the latest write")
    );
    s
}

/// The story of a resurrected delete: the delete, the read that saw a
/// value it covered, and the replicas that answered.
pub fn resurrection_story(
    f: &ReadFinding,
    events: &[Ev],
    records: &[(SimTime, Record)],
    names: &Names,
) -> String {
    let writes = writes_of(records);
    let mut s = String::new();
    let d = f
        .expected
        .map(|w| w.to_string())
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(
        s,
        "RESURRECTED DELETE on k{}: the delete {d} was acknowledged before a read by {} (invoked at {}) that returned {} at {}.",
        f.key.0,
        names.name(Endpoint::Client(f.client)),
        secs(f.invoked.as_micros()),
        names_of(&f.returned),
        secs(f.completed.as_micros())
    );
    if let Some(w) = f.expected {
        let _ = writeln!(
            s,
            "\nthe delete:\n  {}",
            write_line(&writes, w, names, events)
        );
        let at = reached_list(events, &d, names);
        let _ = writeln!(s, "  its tombstone reached: {at}");
    }
    let _ = writeln!(s, "\nwhat came back (values the delete had covered):");
    for w in &f.returned {
        let _ = writeln!(s, "  {}", write_line(&writes, *w, names, events));
    }
    let purges = records
        .iter()
        .filter(|(_, r)| matches!(r, Record::TombstonesPurged { .. }))
        .count();
    let r = replies(events, f, Some(&d), names);
    replies_section(&mut s, &r);
    let _ = writeln!(
        s,
        "\n=> replicas without the tombstone (never reached{}) still held an older value and returned it.",
        if purges > 0 { ", or purged" } else { "" }
    );
    s
}

/// The story of sibling growth: the read that returned the most siblings,
/// each sibling's write and context, and why they are concurrent.
pub fn siblings_story(
    f: &ReadFinding,
    events: &[Ev],
    records: &[(SimTime, Record)],
    names: &Names,
) -> String {
    let writes = writes_of(records);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "SIBLINGS on k{}: a read by {} (invoked at {}) returned {} concurrent versions at {}, the most of any read in the run.",
        f.key.0,
        names.name(Endpoint::Client(f.client)),
        secs(f.invoked.as_micros()),
        f.returned.len(),
        secs(f.completed.as_micros())
    );
    let _ = writeln!(s, "\nthe siblings:");
    for w in f.returned.iter().take(MAX_LISTED) {
        let _ = writeln!(s, "  {}", write_line(&writes, *w, names, events));
    }
    if f.returned.len() > MAX_LISTED {
        let _ = writeln!(s, "  ... and {} more", f.returned.len() - MAX_LISTED);
    }
    let blind = f
        .returned
        .iter()
        .filter(|w| writes.get(w).is_some_and(|i| i.blind))
        .count();
    let listed = &f.returned[..f.returned.len().min(MAX_LISTED)];
    let mut pairs = 0;
    for (i, a) in listed.iter().enumerate() {
        for b in &listed[i + 1..] {
            if !descends(&writes, *a, *b) && !descends(&writes, *b, *a) {
                pairs += 1;
            }
        }
    }
    let total = listed.len() * listed.len().saturating_sub(1) / 2;
    let _ = writeln!(
        s,
        "\n=> {pairs} of the {total} pair(s) listed are concurrent (neither writer had seen the other){}; the store keeps all until a read-modify-write reconciles them.",
        if blind > 0 {
            format!("; {blind} are blind writes, which carry no context")
        } else {
            String::new()
        }
    );
    s
}
