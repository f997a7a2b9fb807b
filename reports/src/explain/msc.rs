//! A message-sequence (Lamport) diagram of kept events, as hand-written SVG.
//!
//! One vertical lifeline (`class="lifeline"`) per node and client that sends
//! or receives a kept message or suffers a kept fault; one arrow
//! (`class="arrow"`) per delivery or drop, from the sender at its send time
//! to the receiver at its delivery (or drop) time, labelled with the message
//! and the version it carries (value and vector clock); dropped messages are
//! dashed and end in a cross (`class="drop-mark"`). Node down intervals
//! (crash → restart) are red bands on the lifeline (`class="crash"`),
//! partitions are bands across the diagram (`class="partition"`), other
//! faults are marked on their node (`class="fault"`).
//!
//! Time is rank-scaled: every distinct event time gets the next row, so a
//! millisecond of chatter and a ten-second silence take the same room; the
//! left axis prints each row's virtual time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::trace::TraceKind;

use super::story::version_of;
use super::{number_after, secs, Ev, Names};

/// The most arrows drawn (later messages are left out, and the diagram
/// says so).
pub const MAX_ARROWS: usize = 2_000;

const LEFT: f64 = 120.0;
const LANE_W: f64 = 170.0;
const TOP: f64 = 70.0;
const ROW: f64 = 24.0;

/// XML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// The short label of a message arrow: the verb and the version it carries
/// (`write v3.999[n2:1] hint_for=n1`), else the verb and the next word.
fn arrow_label(e: &Ev) -> String {
    let mut words = e.details.split_whitespace();
    let verb = words.next().unwrap_or(&e.label);
    match version_of(&e.details) {
        Some(v) => {
            let hint = e
                .details
                .split_whitespace()
                .find(|t| t.starts_with("hint_for="))
                .map(|h| format!(" {h}"))
                .unwrap_or_default();
            format!("{verb} {v}{hint}")
        }
        None => match words.next() {
            Some(w) => format!("{verb} {w}"),
            None => verb.to_string(),
        },
    }
}

/// The message-sequence diagram of `events` (see the module docs).
pub fn msc_svg(events: &[Ev], names: &Names, title: &str) -> String {
    let arrows: Vec<&Ev> = events
        .iter()
        .filter(|e| {
            matches!(e.kind, TraceKind::Deliver | TraceKind::Drop)
                && e.from.is_some()
                && e.at.is_some()
        })
        .collect();
    let omitted = arrows.len().saturating_sub(MAX_ARROWS);
    let arrows = &arrows[..arrows.len().min(MAX_ARROWS)];
    let last_arrow_time = arrows.last().map(|e| e.time_us);
    let faults: Vec<&Ev> = events
        .iter()
        .filter(|e| matches!(e.kind, TraceKind::Fault | TraceKind::Phase))
        .filter(|e| last_arrow_time.is_none_or(|t| omitted == 0 || e.time_us <= t))
        .collect();

    // Lanes.
    let mut lanes: BTreeMap<Endpoint, usize> = BTreeMap::new();
    for e in arrows {
        lanes.insert(e.from.expect("filtered"), 0);
        lanes.insert(e.at.expect("filtered"), 0);
    }
    for e in &faults {
        if let Some(a) = e.at {
            lanes.insert(a, 0);
        }
    }
    for (i, v) in lanes.values_mut().enumerate() {
        *v = i;
    }
    let x_of = |e: Endpoint| LEFT + LANE_W * (lanes[&e] as f64 + 0.5);

    // Rows: one per distinct time.
    let mut times: Vec<u64> = Vec::new();
    for e in arrows {
        times.push(e.time_us);
        times.push(e.sent_at_us.unwrap_or(e.time_us));
    }
    for e in &faults {
        times.push(e.time_us);
    }
    times.sort_unstable();
    times.dedup();
    let rank: BTreeMap<u64, usize> = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let y_of = |t: u64| TOP + ROW * (rank[&t] as f64 + 0.5);
    let rows = times.len().max(1);
    let bottom = TOP + ROW * rows as f64;
    let width = LEFT + LANE_W * lanes.len().max(1) as f64 + 40.0;
    let height = bottom + 40.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r##"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>"##
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text class="title" x="10" y="18" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    if omitted > 0 {
        let _ = writeln!(
            s,
            r##"<text class="note" x="10" y="34" fill="#a00">{omitted} later messages not drawn (narrow the selection with --key/--from/--to/--nodes)</text>"##
        );
    }

    // Partition bands and other global faults, drawn first (underneath).
    let mut open_partitions: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    let mut bands: Vec<(u64, u64, String)> = Vec::new();
    let end_t = times.last().copied().unwrap_or(0);
    for e in &faults {
        if e.kind != TraceKind::Fault {
            continue;
        }
        if e.label.starts_with("partition") {
            if let Some(id) = number_after(&e.details, "partition#") {
                open_partitions.insert(id, (e.time_us, e.details.clone()));
            }
        } else if e.label == "heal" {
            if let Some(id) = number_after(&e.details, "partition#") {
                if let Some((start, d)) = open_partitions.remove(&id) {
                    bands.push((start, e.time_us, d));
                }
            }
        }
    }
    for (_, (start, d)) in open_partitions {
        bands.push((start, end_t, d));
    }
    for (start, end, d) in &bands {
        let y0 = y_of(*start) - ROW / 2.0;
        let y1 = y_of(*end) + ROW / 2.0;
        let _ = writeln!(
            s,
            r##"<rect class="partition" x="{LEFT}" y="{y0}" width="{}" height="{}" fill="#f5a623" fill-opacity="0.15" stroke="#f5a623" stroke-dasharray="6 3"><title>{}</title></rect>"##,
            width - LEFT - 20.0,
            (y1 - y0).max(2.0),
            esc(d)
        );
        let _ = writeln!(
            s,
            r##"<text class="partition-label" x="{}" y="{}" fill="#b36b00">{}</text>"##,
            LEFT + 4.0,
            y0 + 11.0,
            esc(d)
        );
    }

    // Time axis.
    for (i, t) in times.iter().enumerate() {
        let y = TOP + ROW * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            r##"<text class="time" x="8" y="{}" fill="#666">{}</text>"##,
            y + 4.0,
            secs(*t)
        );
        let _ = writeln!(
            s,
            r##"<line class="grid" x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/>"##,
            width - 20.0
        );
    }

    // Lifelines.
    for e in lanes.keys() {
        let x = x_of(*e);
        let _ = writeln!(
            s,
            r##"<line class="lifeline" x1="{x}" y1="{}" x2="{x}" y2="{bottom}" stroke="#999" stroke-width="1.5"><title>{}</title></line>"##,
            TOP - 12.0,
            esc(&names.name(*e))
        );
        let _ = writeln!(
            s,
            r#"<text class="lane-label" x="{x}" y="{}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
            TOP - 18.0,
            esc(&names.name(*e))
        );
    }

    // Crash intervals and node faults.
    let mut down: BTreeMap<Endpoint, (u64, bool)> = BTreeMap::new();
    let mut crashes: Vec<(Endpoint, u64, u64, bool)> = Vec::new();
    for e in &faults {
        let Some(at) = e.at else { continue };
        match e.label.as_str() {
            "crash" => {
                down.insert(at, (e.time_us, e.details.contains("disk")));
            }
            "restart" => {
                if let Some((t, disk)) = down.remove(&at) {
                    crashes.push((at, t, e.time_us, disk));
                }
            }
            _ => {
                let x = x_of(at);
                let y = y_of(e.time_us);
                let _ = writeln!(
                    s,
                    r##"<g class="fault"><circle cx="{x}" cy="{y}" r="5" fill="#d0021b"/><text x="{}" y="{}" fill="#d0021b">{}</text><title>{}</title></g>"##,
                    x + 8.0,
                    y + 4.0,
                    esc(&e.label),
                    esc(&e.details)
                );
            }
        }
    }
    for (at, (t, disk)) in down {
        crashes.push((at, t, end_t, disk));
    }
    for (at, from, to, disk) in crashes {
        let x = x_of(at);
        let y0 = y_of(from);
        let y1 = y_of(to);
        let label = if disk { "down (disk lost)" } else { "down" };
        let _ = writeln!(
            s,
            r##"<rect class="crash" x="{}" y="{y0}" width="16" height="{}" fill="#d0021b" fill-opacity="0.35"><title>{} {label} {}..{}</title></rect>"##,
            x - 8.0,
            (y1 - y0).max(3.0),
            esc(&names.name(at)),
            secs(from),
            secs(to)
        );
        let _ = writeln!(
            s,
            r##"<text class="crash-label" x="{}" y="{}" fill="#d0021b">{label}</text>"##,
            x + 10.0,
            y0 + 10.0
        );
    }

    // Phases.
    for e in faults.iter().filter(|e| e.kind == TraceKind::Phase) {
        let y = y_of(e.time_us);
        let _ = writeln!(
            s,
            r##"<line class="phase" x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#4a90e2" stroke-dasharray="2 4"/><text x="{}" y="{}" fill="#4a90e2" text-anchor="end">{}</text>"##,
            width - 20.0,
            width - 22.0,
            y - 3.0,
            esc(&e.label)
        );
    }

    // Arrows.
    for e in arrows {
        let (from, to) = (e.from.expect("filtered"), e.at.expect("filtered"));
        let (x1, x2) = (x_of(from), x_of(to));
        let (y1, y2) = (y_of(e.sent_at_us.unwrap_or(e.time_us)), y_of(e.time_us));
        let dropped = e.kind == TraceKind::Drop;
        let color = if dropped { "#d0021b" } else { "#333" };
        let dash = if dropped {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let head = if dropped {
            ""
        } else {
            r#" marker-end="url(#head)""#
        };
        let tip = format!(
            "#{} {} -> {}: {} (sent {}, {} {})",
            e.id.unwrap_or(0),
            names.name(from),
            names.name(to),
            e.details,
            secs(e.sent_at_us.unwrap_or(e.time_us)),
            if dropped { "dropped" } else { "delivered" },
            secs(e.time_us)
        );
        let (shape, lx, ly, end) = if from == to {
            let d = format!(
                "M {x1} {y1} C {} {y1}, {} {}, {x2} {}",
                x1 + 45.0,
                x1 + 45.0,
                y2.max(y1 + 10.0),
                y2.max(y1 + 10.0)
            );
            (
                format!(r#"<path d="{d}" fill="none" stroke="{color}"{dash}{head}/>"#),
                x1 + 48.0,
                (y1 + y2.max(y1 + 10.0)) / 2.0,
                (x2, y2.max(y1 + 10.0)),
            )
        } else {
            (
                format!(
                    r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}"{dash}{head}/>"#
                ),
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 3.0,
                (x2, y2),
            )
        };
        let cross = if dropped {
            let (cx, cy) = end;
            format!(
                r#"<path class="drop-mark" d="M {} {} L {} {} M {} {} L {} {}" stroke="{color}" stroke-width="2"/>"#,
                cx - 5.0,
                cy - 5.0,
                cx + 5.0,
                cy + 5.0,
                cx - 5.0,
                cy + 5.0,
                cx + 5.0,
                cy - 5.0
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            r#"<g class="arrow" data-msg="{}" data-dropped="{dropped}"><title>{}</title>{shape}{cross}<text x="{lx}" y="{ly}" text-anchor="middle" fill="{color}" font-size="10">{}</text></g>"#,
            e.id.unwrap_or(0),
            esc(&tip),
            esc(&arrow_label(e))
        );
    }
    s.push_str("</svg>\n");
    s
}
