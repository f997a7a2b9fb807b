//! Streamed trace exporters for existing viewers. Each is a [`Tracer`] that
//! writes through a [`std::io::Write`] as events arrive (nothing but small
//! per-endpoint and per-message state is kept):
//!
//! - [`JsonlExporter`]: one JSON object per event (`dynasim run --trace`).
//! - [`PerfettoExporter`]: Chrome / Perfetto trace-event JSON
//!   (`{"traceEvents":[...]}`, open it at <https://ui.perfetto.dev>): pid 1,
//!   one thread per endpoint (named by `thread_name` metadata), a short slice
//!   (`ph: "X"`) per message handled, per send and per timer, flow arrows
//!   (`ph: "s"` at the send on the sender's track, `ph: "f"`, `bp: "e"` at the
//!   delivery on the receiver's track, the message number as `id`), instant
//!   events for drops and records (thread-scoped) and faults and phases
//!   (global, `s: "g"`). Timestamps are virtual microseconds.
//! - [`ShivizExporter`]: a ShiViz log (<https://bestchai.bitbucket.io/shiviz/>):
//!   two lines per event, `<host> <vector clock JSON>` then the event text,
//!   for ShiViz's regex `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`. Each
//!   host keeps a logical vector clock: its own entry is incremented on every
//!   event it takes part in; a delivery first merges the clock the sender had
//!   when it sent that message (looked up by message number).
//!
//! Call [`Exporter::finish`] after the run: it closes the JSON document,
//! flushes, and reports the first write error (writing stops at the first
//! error, the run does not).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::json;
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::trace::{TraceEvent, TraceKind, Tracer};

use super::Names;

/// A streamed exporter: a [`Tracer`] that must be finished.
pub trait Exporter: Tracer {
    /// This exporter as a plain tracer (to hand to `Simulation::run`).
    fn tracer(&mut self) -> &mut dyn Tracer;
    /// Closes the document, flushes, and returns the first write error.
    fn finish(&mut self) -> io::Result<()>;
}

/// The trace formats [`exporter`] knows.
pub const FORMATS: [&str; 3] = ["jsonl", "perfetto", "shiviz"];

/// An exporter for `format` (`jsonl`, `perfetto` or `shiviz`) writing to
/// `out`. Wrap `out` in a `BufWriter` for files.
pub fn exporter<'a, W: Write + 'a>(
    format: &str,
    out: W,
    names: Names,
) -> Result<Box<dyn Exporter + 'a>, String> {
    Ok(match format {
        "jsonl" => Box::new(JsonlExporter::new(out, names)),
        "perfetto" => Box::new(PerfettoExporter::new(out, names)),
        "shiviz" => Box::new(ShivizExporter::new(out, names)),
        other => {
            return Err(format!(
                "unknown trace format {other:?} (expected one of {})",
                FORMATS.join(", ")
            ))
        }
    })
}

/// A writer that remembers its first error and then ignores writes.
struct Out<W: Write> {
    w: W,
    error: Option<io::Error>,
}

impl<W: Write> Out<W> {
    fn new(w: W) -> Self {
        Out { w, error: None }
    }
    fn put(&mut self, s: &str) {
        if self.error.is_none() {
            if let Err(e) = self.w.write_all(s.as_bytes()) {
                self.error = Some(e);
            }
        }
    }
    fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()
    }
}

// ------------------------------------------------------------------ JSONL

/// One JSON object per event: `t_us`, `kind`, `at`, `from`, `label`,
/// `details` (text), for records `fields` (the record as JSON, see
/// [`super::fields`]), and for messages `id`, `sent_at_us` and `key`.
pub struct JsonlExporter<W: Write> {
    out: Out<W>,
    names: Names,
}

impl<W: Write> JsonlExporter<W> {
    /// Writes to `out`.
    pub fn new(out: W, names: Names) -> Self {
        JsonlExporter {
            out: Out::new(out),
            names,
        }
    }
    /// Finishes and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.finish()?;
        Ok(self.out.w)
    }
}

impl<W: Write> Tracer for JsonlExporter<W> {
    fn event(&mut self, e: &TraceEvent<'_>) {
        if self.out.error.is_some() {
            return;
        }
        let name = |ep: Option<Endpoint>| ep.map(|x| self.names.name(x));
        let mut line = json!({
            "t_us": e.time.as_micros(),
            "kind": e.kind.name(),
            "at": name(e.at),
            "from": name(e.from),
            "label": e.label,
            "details": e.details.to_string(),
        });
        if e.kind == TraceKind::Record {
            if let Some(fields) = super::fields::record_fields(&e.details.to_string(), &self.names)
            {
                line["fields"] = fields;
            }
        }
        if let Some(id) = e.id {
            line["id"] = json!(id);
        }
        if let Some(t) = e.sent_at {
            line["sent_at_us"] = json!(t.as_micros());
        }
        if let Some(k) = e.key {
            line["key"] = json!(k);
        }
        self.out.put(&format!("{line}\n"));
    }
}

impl<W: Write> Exporter for JsonlExporter<W> {
    fn tracer(&mut self) -> &mut dyn Tracer {
        self
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.finish()
    }
}

// ------------------------------------------------------------------ Perfetto

/// Duration of the slices drawn for handled messages, sends and timers (µs).
pub const SLICE_US: u64 = 2;

/// The thread id of an endpoint in Perfetto output: nodes `1 + id`, clients
/// `100_001 + id`; 0 is the cluster-wide track (faults, phases).
pub fn perfetto_tid(e: Option<Endpoint>) -> u64 {
    match e {
        None => 0,
        Some(Endpoint::Node(n)) => 1 + u64::from(n.0),
        Some(Endpoint::Client(c)) => 100_001 + u64::from(c.0),
    }
}

/// Chrome / Perfetto trace-event JSON (see the module docs).
pub struct PerfettoExporter<W: Write> {
    out: Out<W>,
    names: Names,
    named: std::collections::BTreeSet<u64>,
    first: bool,
    closed: bool,
}

impl<W: Write> PerfettoExporter<W> {
    /// Writes the document's head to `out`.
    pub fn new(out: W, names: Names) -> Self {
        let mut p = PerfettoExporter {
            out: Out::new(out),
            names,
            named: Default::default(),
            first: true,
            closed: false,
        };
        p.out.put("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        p.emit(
            &json!({"name": "process_name", "ph": "M", "ts": 0, "pid": 1, "tid": 0,
            "args": {"name": "dynasim"}}),
        );
        p.thread(None);
        p
    }

    /// Finishes and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        Exporter::finish(&mut self)?;
        Ok(self.out.w)
    }

    fn emit(&mut self, v: &serde_json::Value) {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        self.out.put(&format!("{sep}{v}"));
    }

    /// The endpoint's tid, announcing its name the first time.
    fn thread(&mut self, e: Option<Endpoint>) -> u64 {
        let tid = perfetto_tid(e);
        if self.named.insert(tid) {
            let name = e.map_or_else(|| "cluster".to_string(), |x| self.names.name(x));
            self.emit(&json!({"name": "thread_name", "ph": "M", "ts": 0, "pid": 1,
                "tid": tid, "args": {"name": name}}));
            self.emit(
                &json!({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": 1,
                "tid": tid, "args": {"sort_index": tid}}),
            );
        }
        tid
    }
}

impl<W: Write> Tracer for PerfettoExporter<W> {
    fn event(&mut self, e: &TraceEvent<'_>) {
        if self.out.error.is_some() || self.closed {
            return;
        }
        let ts = e.time.as_micros();
        let details = e.details.to_string();
        let mut args = json!({ "details": details });
        if let Some(from) = e.from {
            args["from"] = json!(self.names.name(from));
        }
        if let Some(to) = e.at {
            args["at"] = json!(self.names.name(to));
        }
        if let Some(id) = e.id {
            args["msg"] = json!(id);
        }
        if let Some(k) = e.key {
            args["key"] = json!(format!("k{k}"));
        }
        if let Some(s) = e.sent_at {
            args["sent_at_us"] = json!(s.as_micros());
        }
        let label = e.label;
        match e.kind {
            TraceKind::Send => {
                let tid = self.thread(e.from);
                self.emit(
                    &json!({"name": format!("send {label}"), "cat": "send", "ph": "X",
                    "ts": ts, "dur": SLICE_US, "pid": 1, "tid": tid, "args": args}),
                );
                if let Some(id) = e.id {
                    self.emit(&json!({"name": label, "cat": "msg", "ph": "s", "id": id,
                        "ts": ts, "pid": 1, "tid": tid}));
                }
            }
            TraceKind::Deliver => {
                let tid = self.thread(e.at);
                self.emit(
                    &json!({"name": label, "cat": "deliver", "ph": "X", "ts": ts,
                    "dur": SLICE_US, "pid": 1, "tid": tid, "args": args}),
                );
                if let Some(id) = e.id {
                    self.emit(&json!({"name": label, "cat": "msg", "ph": "f", "bp": "e",
                        "id": id, "ts": ts, "pid": 1, "tid": tid}));
                }
            }
            TraceKind::Drop => {
                let tid = self.thread(e.at);
                self.emit(
                    &json!({"name": format!("drop {label}"), "cat": "drop", "ph": "i",
                    "s": "t", "ts": ts, "pid": 1, "tid": tid, "args": args}),
                );
            }
            TraceKind::Timer => {
                let tid = self.thread(e.at);
                self.emit(&json!({"name": label, "cat": "timer", "ph": "X", "ts": ts,
                    "dur": SLICE_US, "pid": 1, "tid": tid, "args": args}));
            }
            TraceKind::Record => {
                let tid = self.thread(e.at);
                let scope = if e.at.is_some() { "t" } else { "g" };
                self.emit(
                    &json!({"name": label, "cat": "record", "ph": "i", "s": scope,
                    "ts": ts, "pid": 1, "tid": tid, "args": args}),
                );
            }
            TraceKind::Fault | TraceKind::Phase => {
                let tid = self.thread(e.at);
                let cat = if e.kind == TraceKind::Fault {
                    "fault"
                } else {
                    "phase"
                };
                self.emit(
                    &json!({"name": format!("{label}: {details}").trim_end_matches(": "),
                    "cat": cat, "ph": "i", "s": "g", "ts": ts, "pid": 1, "tid": tid,
                    "args": args}),
                );
            }
        }
    }
}

impl<W: Write> Exporter for PerfettoExporter<W> {
    fn tracer(&mut self) -> &mut dyn Tracer {
        self
    }
    fn finish(&mut self) -> io::Result<()> {
        if !self.closed {
            self.closed = true;
            self.out.put("\n]}\n");
        }
        self.out.finish()
    }
}

// ------------------------------------------------------------------ ShiViz

/// ShiViz's default parser regex for the log [`ShivizExporter`] writes.
pub const SHIVIZ_REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";

/// Sent messages' clocks are forgotten this long after their send (virtual
/// µs), bounding memory; a delivery later than that merges nothing.
pub const SHIVIZ_HORIZON_US: u64 = 60_000_000;

/// ShiViz log with per-host vector clocks (see the module docs).
pub struct ShivizExporter<W: Write> {
    out: Out<W>,
    names: Names,
    hosts: BTreeMap<String, usize>,
    host_names: Vec<String>,
    clocks: Vec<Vec<u64>>,
    /// Message number → (send time, the sender's clock at the send).
    sent: BTreeMap<u64, (u64, Vec<u64>)>,
}

impl<W: Write> ShivizExporter<W> {
    /// Writes to `out`.
    pub fn new(out: W, names: Names) -> Self {
        ShivizExporter {
            out: Out::new(out),
            names,
            hosts: BTreeMap::new(),
            host_names: Vec::new(),
            clocks: Vec::new(),
            sent: BTreeMap::new(),
        }
    }

    /// Finishes and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.finish()?;
        Ok(self.out.w)
    }

    fn host(&mut self, e: Option<Endpoint>) -> usize {
        let name: String = e
            .map_or_else(|| "cluster".to_string(), |x| self.names.name(x))
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .collect();
        if let Some(i) = self.hosts.get(&name) {
            return *i;
        }
        let i = self.host_names.len();
        self.hosts.insert(name.clone(), i);
        self.host_names.push(name);
        self.clocks.push(Vec::new());
        i
    }

    fn clock_json(&self, h: usize) -> String {
        let mut m = serde_json::Map::new();
        for (i, c) in self.clocks[h].iter().enumerate() {
            if *c > 0 {
                m.insert(self.host_names[i].clone(), json!(c));
            }
        }
        serde_json::Value::Object(m).to_string()
    }
}

fn tick(clock: &mut Vec<u64>, h: usize) {
    if clock.len() <= h {
        clock.resize(h + 1, 0);
    }
    clock[h] += 1;
}

impl<W: Write> Tracer for ShivizExporter<W> {
    fn event(&mut self, e: &TraceEvent<'_>) {
        if self.out.error.is_some() {
            return;
        }
        let now = e.time.as_micros();
        while let Some((_, (sent, _))) = self.sent.first_key_value() {
            if sent.saturating_add(SHIVIZ_HORIZON_US) >= now {
                break;
            }
            self.sent.pop_first();
        }
        let where_ = match e.kind {
            TraceKind::Send => e.from,
            _ => e.at,
        };
        let h = self.host(where_);
        if e.kind == TraceKind::Deliver {
            if let Some((_, theirs)) = e.id.and_then(|id| self.sent.get(&id)) {
                let mine = &mut self.clocks[h];
                if mine.len() < theirs.len() {
                    mine.resize(theirs.len(), 0);
                }
                for (m, t) in mine.iter_mut().zip(theirs) {
                    *m = (*m).max(*t);
                }
            }
        }
        tick(&mut self.clocks[h], h);
        if e.kind == TraceKind::Send {
            if let Some(id) = e.id {
                self.sent.insert(id, (now, self.clocks[h].clone()));
            }
        }
        if e.kind == TraceKind::Drop {
            if let Some(id) = e.id {
                self.sent.remove(&id);
            }
        }
        let peer = match e.kind {
            TraceKind::Send => e.at.map(|x| format!(" to {}", self.names.name(x))),
            TraceKind::Deliver | TraceKind::Drop => {
                e.from.map(|x| format!(" from {}", self.names.name(x)))
            }
            _ => None,
        }
        .unwrap_or_default();
        let msg = e.id.map(|i| format!(" #{i}")).unwrap_or_default();
        let text = format!(
            "{} {}{peer}{msg}: {} @{}",
            e.kind.name(),
            e.label,
            e.details,
            super::secs(now)
        )
        .replace(['\n', '\r'], " ");
        let line = format!("{} {}\n{}\n", self.host_names[h], self.clock_json(h), text);
        self.out.put(&line);
    }
}

impl<W: Write> Exporter for ShivizExporter<W> {
    fn tracer(&mut self) -> &mut dyn Tracer {
        self
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.finish()
    }
}
