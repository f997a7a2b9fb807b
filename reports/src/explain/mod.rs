//! `dynasim explain`: the story of one key (or time window, or set of nodes)
//! in a run, and exporters of the trace for existing viewers.
//!
//! A run is re-executed deterministically with a [`Recorder`] as its tracer
//! (and record sink); the recorder keeps only the events that concern the
//! [`Selection`] (faults and phase changes are always kept). From the kept
//! events this module writes:
//!
//! - a terminal timeline ([`story::timeline`]),
//! - a causal story of a lost write ([`story::story`]): who wrote it, which
//!   coordinator took it, which replicas acknowledged it, where hints went,
//!   which later writes and crashes replaced or swallowed it,
//! - a message-sequence diagram as SVG ([`msc::msc_svg`]),
//! - Perfetto / Chrome trace-event JSON and ShiViz logs ([`export`]), both
//!   streamed `Tracer`s usable for a whole run too (`dynasim run
//!   --trace-format`).
//!
//! Message events carry no key when the message names none (acks, replies,
//! timers): the recorder infers it from the request or operation they answer
//! (see [`KeyTagger`]).

pub mod export;
pub mod fields;
pub mod msc;
pub mod reads;
pub mod story;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sim_core::config::Scenario;
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::{ClientId, Key, NodeId};
use sim_core::engine::record::{Record, Sink};
use sim_core::engine::time::SimTime;
use sim_core::engine::trace::{TraceEvent, TraceKind, Tracer};
use sim_core::sim::Simulation;

use crate::metrics::{Collector, LostWrite};

/// Names of endpoints, owned (so exporters need no borrow of the scenario).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Node names by node id.
    pub nodes: Vec<String>,
    /// Client names by client id.
    pub clients: Vec<String>,
}

impl Names {
    /// The scenario's names.
    pub fn from_scenario(scenario: &Scenario) -> Names {
        Names {
            nodes: scenario
                .cluster
                .nodes
                .iter()
                .map(|n| n.name.clone())
                .collect(),
            clients: scenario
                .workload
                .clients
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    /// The name of an endpoint: the scenario's, else its id (`n3`, `c1`).
    pub fn name(&self, e: Endpoint) -> String {
        let named = match e {
            Endpoint::Node(n) => self.nodes.get(n.0 as usize),
            Endpoint::Client(c) => self.clients.get(c.0 as usize),
        };
        named.cloned().unwrap_or_else(|| e.to_string())
    }

    /// Resolves a name given on the command line: a node or client name, an
    /// id (`n3`, `c1`) or a bare node number (`3` is `n3`).
    pub fn resolve(&self, s: &str) -> Option<Endpoint> {
        let s = s.trim();
        if let Some(i) = self.nodes.iter().position(|n| n == s) {
            return Some(Endpoint::Node(NodeId(i as u32)));
        }
        if let Some(i) = self.clients.iter().position(|n| n == s) {
            return Some(Endpoint::Client(ClientId(i as u32)));
        }
        let (node, num) = match s.as_bytes().first()? {
            b'n' => (true, &s[1..]),
            b'c' => (false, &s[1..]),
            _ => (true, s),
        };
        let i: u32 = num.parse().ok()?;
        Some(if node {
            Endpoint::Node(NodeId(i))
        } else {
            Endpoint::Client(ClientId(i))
        })
    }
}

/// An owned copy of a [`TraceEvent`], plus the key inferred for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ev {
    /// Virtual time, microseconds.
    pub time_us: u64,
    /// Kind.
    pub kind: TraceKind,
    /// Where it happens (the receiver, for message events).
    pub at: Option<Endpoint>,
    /// The sender, for messages.
    pub from: Option<Endpoint>,
    /// Short label (message kind, timer, fault or record name).
    pub label: String,
    /// Details as displayed.
    pub details: String,
    /// Message number, for messages.
    pub id: Option<u64>,
    /// When the message was sent, microseconds.
    pub sent_at_us: Option<u64>,
    /// The key, given by the engine or inferred (see [`KeyTagger`]).
    pub key: Option<u64>,
}

impl Ev {
    /// Copies a trace event.
    pub fn from_trace(e: &TraceEvent<'_>) -> Ev {
        Ev {
            time_us: e.time.as_micros(),
            kind: e.kind,
            at: e.at,
            from: e.from,
            label: e.label.to_string(),
            details: e.details.to_string(),
            id: e.id,
            sent_at_us: e.sent_at.map(SimTime::as_micros),
            key: e.key,
        }
    }

    /// Feeds this event to a tracer (to replay kept events into exporters).
    pub fn replay(&self, tracer: &mut dyn Tracer) {
        tracer.event(&TraceEvent {
            time: SimTime(self.time_us),
            kind: self.kind,
            at: self.at,
            from: self.from,
            label: &self.label,
            details: &self.details,
            id: self.id,
            sent_at: self.sent_at_us.map(SimTime),
            key: self.key,
        });
    }

    /// True for send, deliver and drop events.
    pub fn is_message(&self) -> bool {
        matches!(
            self.kind,
            TraceKind::Send | TraceKind::Deliver | TraceKind::Drop
        )
    }
}

/// Formats microseconds as seconds with 6 decimals (`12.345678s`).
pub fn secs(us: u64) -> String {
    format!("{}.{:06}s", us / 1_000_000, us % 1_000_000)
}

/// The number after `prefix` in `s` (first occurrence), e.g. `r` in
/// `write_ack r22`.
fn number_after(s: &str, prefix: &str) -> Option<u64> {
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        let boundary = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric();
        let tail = &rest[i + prefix.len()..];
        let digits: &str = &tail[..tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len())];
        if boundary && !digits.is_empty() {
            return digits.parse().ok();
        }
        rest = &rest[i + prefix.len()..];
    }
    None
}

/// The `op=cX.Y` operation named in a client message.
fn op_of(details: &str) -> Option<&str> {
    let i = details.find("op=")?;
    let tail = &details[i + 3..];
    Some(&tail[..tail.find(char::is_whitespace).unwrap_or(tail.len())])
}

/// Infers the key of events that do not carry one: acknowledgements and
/// read replies (by the coordinator's request they answer), client replies
/// (by operation), coordinator and client timers, records that name a key.
#[derive(Debug, Default)]
pub struct KeyTagger {
    requests: BTreeMap<(Endpoint, u64), u64>,
    ops: BTreeMap<String, u64>,
}

impl KeyTagger {
    /// The key of `e` (its own, or inferred); learns request and operation
    /// keys from events that carry them.
    pub fn key_of(&mut self, e: &Ev) -> Option<u64> {
        match e.kind {
            TraceKind::Send | TraceKind::Deliver | TraceKind::Drop => {
                let d = e.details.as_str();
                if let Some(k) = e.key {
                    if let (Some(from), true) = (
                        e.from,
                        e.label == "read_request" || e.label == "write_request",
                    ) {
                        if let Some(r) = number_after(d, "r") {
                            self.requests.insert((from, r), k);
                        }
                    }
                    if let Some(op) = op_of(d) {
                        if !self.ops.contains_key(op) {
                            self.ops.insert(op.to_string(), k);
                        }
                    }
                    return Some(k);
                }
                match e.label.as_str() {
                    "read_response" | "write_ack" => {
                        let r = number_after(d, "r")?;
                        self.requests.get(&(e.at?, r)).copied()
                    }
                    "client_reply" => self.ops.get(op_of(d)?).copied(),
                    _ => None,
                }
            }
            TraceKind::Timer => {
                let at = e.at?;
                match at {
                    Endpoint::Node(_) => {
                        let r = number_after(&e.label, "RequestId(")?;
                        self.requests.get(&(at, r)).copied()
                    }
                    Endpoint::Client(c) => {
                        let seq = number_after(&e.label, "OpTimeout(")?;
                        self.ops.get(&format!("{c}.{seq}")).copied()
                    }
                }
            }
            TraceKind::Record => number_after(&e.details, "Key("),
            _ => None,
        }
    }
}

/// What to keep: a key, a time window, some endpoints. Faults and phase
/// changes are always kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only events about this key.
    pub key: Option<u64>,
    /// Only events at or after this time (µs).
    pub from_us: Option<u64>,
    /// Only events at or before this time (µs).
    pub to_us: Option<u64>,
    /// Only events at or from these endpoints (empty: all).
    pub endpoints: BTreeSet<Endpoint>,
}

impl Selection {
    /// Whether `e` (with its inferred key `key`) is kept.
    pub fn keeps(&self, e: &Ev, key: Option<u64>) -> bool {
        if matches!(e.kind, TraceKind::Fault | TraceKind::Phase) {
            return true;
        }
        if self.from_us.is_some_and(|t| e.time_us < t) || self.to_us.is_some_and(|t| e.time_us > t)
        {
            return false;
        }
        if !self.endpoints.is_empty()
            && !e.at.is_some_and(|a| self.endpoints.contains(&a))
            && !e.from.is_some_and(|f| self.endpoints.contains(&f))
        {
            return false;
        }
        match self.key {
            Some(k) => key == Some(k),
            None => true,
        }
    }

    /// A one-line description.
    pub fn describe(&self, names: &Names) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.key {
            parts.push(format!("key k{k}"));
        }
        if self.from_us.is_some() || self.to_us.is_some() {
            parts.push(format!(
                "time {}..{}",
                self.from_us.map(secs).unwrap_or_else(|| "start".into()),
                self.to_us.map(secs).unwrap_or_else(|| "end".into())
            ));
        }
        if !self.endpoints.is_empty() {
            let list: Vec<String> = self.endpoints.iter().map(|e| names.name(*e)).collect();
            parts.push(format!("endpoints {}", list.join(",")));
        }
        if parts.is_empty() {
            "the whole run".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The most events a [`Recorder`] keeps (a whole-run selection of a long
/// scenario would otherwise hold the whole trace in memory).
pub const MAX_KEPT_EVENTS: usize = 200_000;

/// A tracer that keeps the events of a selection.
#[derive(Debug)]
pub struct Recorder {
    selection: Selection,
    tagger: KeyTagger,
    /// Kept events, in run order.
    pub events: Vec<Ev>,
    /// Events not kept because [`MAX_KEPT_EVENTS`] was reached.
    pub truncated: u64,
}

impl Recorder {
    /// A recorder for `selection`.
    pub fn new(selection: Selection) -> Recorder {
        Recorder {
            selection,
            tagger: KeyTagger::default(),
            events: Vec::new(),
            truncated: 0,
        }
    }
}

impl Tracer for Recorder {
    fn event(&mut self, event: &TraceEvent<'_>) {
        let mut ev = Ev::from_trace(event);
        let key = self.tagger.key_of(&ev);
        if !self.selection.keeps(&ev, key) {
            return;
        }
        if self.events.len() >= MAX_KEPT_EVENTS {
            self.truncated += 1;
            return;
        }
        ev.key = key;
        self.events.push(ev);
    }
}

/// The key a record is about, if any.
pub fn record_key(r: &Record) -> Option<Key> {
    match r {
        Record::OpInvoked { key, .. }
        | Record::OpCompleted { key, .. }
        | Record::HintStored { key, .. }
        | Record::ReadRepair { key, .. }
        | Record::FinalValues { key, .. }
        | Record::FinalHint { key, .. } => Some(*key),
        _ => None,
    }
}

/// A record sink that keeps, for a key, every record about the key plus
/// faults, lost buffers and hint deliveries (any key); without a key, only
/// faults.
#[derive(Debug)]
pub struct RecordKeeper {
    key: Option<u64>,
    /// Kept records, in run order.
    pub records: Vec<(SimTime, Record)>,
}

impl RecordKeeper {
    /// A keeper for `key`.
    pub fn new(key: Option<u64>) -> RecordKeeper {
        RecordKeeper {
            key,
            records: Vec::new(),
        }
    }
}

impl Sink for RecordKeeper {
    fn record(&mut self, at: SimTime, record: &Record) {
        let keep = match (self.key, record_key(record)) {
            (Some(k), Some(rk)) => rk.0 == k,
            (Some(_), None) => matches!(
                record,
                Record::Fault { .. } | Record::BufferLost { .. } | Record::HintsDelivered { .. }
            ),
            (None, _) => matches!(record, Record::Fault { .. }),
        };
        if keep {
            self.records.push((at, record.clone()));
        }
    }
}

/// Which kind of finding `dynasim explain` tells the story of (`--what`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum What {
    /// The first lost write (by acknowledgement).
    #[default]
    LostWrite,
    /// The first stale read.
    StaleRead,
    /// The first read that returned a value an acknowledged delete covered.
    Resurrection,
    /// The first read that returned the most siblings.
    Siblings,
}

impl What {
    /// The `--what` names, in order.
    pub const NAMES: [&'static str; 4] = ["lost-write", "stale-read", "resurrection", "siblings"];

    /// Parses a `--what` name.
    pub fn parse(s: &str) -> Option<What> {
        Some(match s {
            "lost-write" => What::LostWrite,
            "stale-read" => What::StaleRead,
            "resurrection" => What::Resurrection,
            "siblings" => What::Siblings,
            _ => return None,
        })
    }

    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            What::LostWrite => "lost write",
            What::StaleRead => "stale read",
            What::Resurrection => "resurrected delete",
            What::Siblings => "sibling growth",
        }
    }
}

/// The half-width of the window the timeline and sequence diagram show
/// around the explained event by default (seconds).
pub const DEFAULT_WINDOW_S: f64 = 1.0;

/// What `dynasim explain` was asked to select.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Which finding to explain (default: a lost write).
    pub what: What,
    /// Half-width of the window shown around the explained event (seconds;
    /// default [`DEFAULT_WINDOW_S`]); ignored with `from_s` or `to_s`.
    pub window_s: Option<f64>,
    /// A key (default: the key of the first lost write, else the whole run).
    pub key: Option<u64>,
    /// Window start, seconds.
    pub from_s: Option<f64>,
    /// Window end, seconds.
    pub to_s: Option<f64>,
    /// Endpoint names (`n1`, a client name, or a bare node number).
    pub endpoints: Vec<String>,
}

/// The result of [`explain`].
#[derive(Debug)]
pub struct Explanation {
    /// The run's summary (as `dynasim run` writes it).
    pub summary: serde_json::Value,
    /// Whether the run reached its end (see [`crate::report::is_complete`]).
    pub complete: bool,
    /// Whether every expectation passed (never for an incomplete run).
    pub expectations_ok: bool,
    /// The trace hash (equal in both runs: they are the same run).
    pub trace_hash: u64,
    /// The lost writes of the run as the summary lists them (writes folded
    /// into a lost one are listed by their earliest; see
    /// [`Collector::lost_writes`]).
    pub lost: Vec<LostWrite>,
    /// How many acknowledged writes were lost (`durability.lost`).
    pub lost_count: u64,
    /// The lost write the story is about (the first one on the selected key).
    pub focus: Option<LostWrite>,
    /// Which finding the story is about.
    pub what: What,
    /// The read the story is about (`--what` other than a lost write).
    pub read_focus: Option<crate::metrics::ReadFinding>,
    /// The window (µs) the timeline and diagram show: around the explained
    /// event, unless `--from`/`--to` chose the selection's own.
    pub window: Option<(u64, u64)>,
    /// What was kept.
    pub selection: Selection,
    /// Why the selection was chosen (for the header).
    pub reason: String,
    /// Endpoint names.
    pub names: Names,
    /// The kept events, in run order.
    pub events: Vec<Ev>,
    /// Events not kept because [`MAX_KEPT_EVENTS`] was reached.
    pub truncated: u64,
    /// The kept records (see [`RecordKeeper`]).
    pub records: Vec<(SimTime, Record)>,
    /// When the focused write is a loaded value (`workload.keys.preload`):
    /// the top N replicas it was stored on before time 0.
    pub loaded_on: Vec<sim_core::engine::ids::NodeId>,
}

fn seconds_to_us(s: f64) -> u64 {
    (s.max(0.0) * 1e6).round() as u64
}

/// Runs `scenario` twice (same seed, so the same run): once to find lost
/// writes and verdicts, once keeping the selection's events.
pub fn explain(scenario: Arc<Scenario>, request: &Request) -> Result<Explanation, String> {
    explain_guarded(scenario, request, &mut sim_core::sim::NoGuard, &|| false)
}

/// [`explain`] under a driver's [`Guard`](sim_core::sim::Guard). When the
/// first run stops before its end, the second stops after the same number
/// of events, so both are the same (partial) run. `wall_stop` stops the
/// first run's WARS trials (see [`crate::report::summary_until`]).
pub fn explain_guarded(
    scenario: Arc<Scenario>,
    request: &Request,
    guard: &mut dyn sim_core::sim::Guard,
    wall_stop: &(dyn Fn() -> bool + Sync),
) -> Result<Explanation, String> {
    let names = Names::from_scenario(&scenario);
    let mut endpoints = BTreeSet::new();
    for n in &request.endpoints {
        let e = names
            .resolve(n)
            .filter(|e| match e {
                Endpoint::Node(x) => (x.0 as usize) < names.nodes.len(),
                Endpoint::Client(x) => (x.0 as usize) < names.clients.len(),
            })
            .ok_or_else(|| format!("--nodes: no node or client named {n:?}"))?;
        endpoints.insert(e);
    }

    // Pass 1: verdicts and lost writes.
    let sim = Simulation::new(scenario.clone());
    let ring = sim.ring().clone();
    let mut collector = Collector::new(&scenario);
    let outcome = sim.run_guarded(&mut collector, None, guard);
    let summary = crate::report::summary_until(&scenario, &outcome, &collector, &ring, wall_stop);
    let complete = outcome.stop.is_complete();
    let expectations_ok = crate::report::verdicts(&summary).iter().all(|v| v.pass);
    let (lost_count, lost) = collector.losses();
    let findings = collector.findings().clone();
    let read_focus = match request.what {
        What::LostWrite => None,
        What::StaleRead => findings.stale_read,
        What::Resurrection => findings.resurrection,
        What::Siblings => findings.siblings,
    };
    let first_lost = |key: Option<u64>| {
        lost.iter()
            .filter(|l| key.is_none_or(|k| l.key.0 == k))
            .min_by_key(|l| (l.acked_at, l.key))
            .cloned()
    };
    let (key, reason) = match (request.key, request.what, &read_focus) {
        (Some(k), What::LostWrite, _) => (Some(k), format!("key k{k} (--key)")),
        (Some(k), what, Some(f)) if f.key.0 != k => (
            Some(k),
            format!(
                "key k{k} (--key); the first {} of the run is on k{}",
                what.words(),
                f.key.0
            ),
        ),
        (Some(k), what, None) => (
            Some(k),
            format!("key k{k} (--key); no {} in the run", what.words()),
        ),
        (_, what, Some(f)) if what != What::LostWrite => (
            Some(f.key.0),
            format!(
                "key k{} of the first {} ({} by {}, completed at {})",
                f.key.0,
                what.words(),
                what.words(),
                names.name(Endpoint::Client(f.client)),
                secs(f.completed.as_micros())
            ),
        ),
        (None, what, None) if what != What::LostWrite => {
            (None, format!("no {} in the run: whole run", what.words()))
        }
        _ => match first_lost(None) {
            Some(l) => (
                Some(l.key.0),
                format!(
                    "key k{} of the first lost write ({}, acknowledged at {})",
                    l.key.0,
                    l.write,
                    secs(l.acked_at.as_micros())
                ),
            ),
            None if !expectations_ok => (
                None,
                "no lost write; the failed expectations name no key: whole run".into(),
            ),
            None => (None, "no lost write: whole run".into()),
        },
    };
    let focus = first_lost(key).filter(|_| key.is_some() && request.what == What::LostWrite);
    let read_focus = read_focus.filter(|f| key == Some(f.key.0));
    let focus_us = match (&focus, &read_focus) {
        (Some(l), _) => Some(l.acked_at.as_micros()),
        (None, Some(f)) => Some(f.completed.as_micros()),
        _ => None,
    };
    let half_us = seconds_to_us(request.window_s.unwrap_or(DEFAULT_WINDOW_S));
    let window = focus_us
        .filter(|_| request.from_s.is_none() && request.to_s.is_none())
        .map(|t| (t.saturating_sub(half_us), t.saturating_add(half_us)));
    let loaded_on = match &focus {
        Some(l) if l.write.is_preloaded() => {
            let list = ring.preference_list(l.key);
            list[..(scenario.cluster.quorum.n as usize).min(list.len())].to_vec()
        }
        _ => Vec::new(),
    };
    let selection = Selection {
        key,
        from_us: request.from_s.map(seconds_to_us),
        to_us: request.to_s.map(seconds_to_us),
        endpoints,
    };

    // Pass 2: the same run, recorded (stopped where the first one stopped).
    let scenario = if complete {
        scenario
    } else {
        let mut s = (*scenario).clone();
        s.max_events = outcome.stats.events;
        Arc::new(s)
    };
    let sim = Simulation::new(scenario.clone());
    let mut recorder = Recorder::new(selection.clone());
    let mut keeper = RecordKeeper::new(key);
    let outcome2 = sim.run(&mut keeper, Some(&mut recorder));
    debug_assert_eq!(outcome.trace_hash, outcome2.trace_hash);
    Ok(Explanation {
        complete: crate::report::is_complete(&summary),
        summary,
        expectations_ok,
        trace_hash: outcome.trace_hash,
        lost,
        lost_count,
        focus,
        what: request.what,
        read_focus,
        window,
        selection,
        reason,
        names,
        events: recorder.events,
        truncated: recorder.truncated,
        records: keeper.records,
        loaded_on,
    })
}

impl Explanation {
    /// The header shared by the text outputs.
    pub fn header(&self, scenario: &str, seed: u64) -> String {
        let mut h = format!(
            "dynasim explain: {scenario} seed {seed} (trace hash {:016x})\nselection: {} — {}\nexpectations: {}; lost writes in the run: {}\nkept events: {}",
            self.trace_hash,
            self.selection.describe(&self.names),
            self.reason,
            if self.expectations_ok { "pass" } else { "FAIL" },
            self.lost_count,
            self.events.len(),
        );
        if self.truncated > 0 {
            h.push_str(&format!(" ({} more not kept)", self.truncated));
        }
        h.push('\n');
        if let Some(note) = self.window_note() {
            h.push_str(&note);
            h.push('\n');
        }
        if let Some(note) = crate::report::incomplete_note(&self.summary) {
            h.push_str(&note);
            h.push('\n');
        }
        h
    }

    /// The terminal timeline of the kept events.
    pub fn timeline(&self) -> String {
        story::timeline(&self.events, &self.names)
    }

    /// The kept events inside [`Explanation::window`] (all of them without
    /// one); faults and phase changes always.
    pub fn windowed(&self) -> Vec<Ev> {
        match self.window {
            None => self.events.clone(),
            Some((a, b)) => self
                .events
                .iter()
                .filter(|e| {
                    (e.time_us >= a && e.time_us <= b)
                        || matches!(e.kind, TraceKind::Fault | TraceKind::Phase)
                })
                .cloned()
                .collect(),
        }
    }

    /// The timeline of the window around the explained event (what the
    /// terminal shows; timeline.txt has every kept event).
    pub fn timeline_window(&self) -> String {
        story::timeline(&self.windowed(), &self.names)
    }

    /// A line naming the window the printed timeline and the diagram show.
    pub fn window_note(&self) -> Option<String> {
        let (a, b) = self.window?;
        Some(format!(
            "timeline and sequence diagram: {}..{}, around the explained {} (--window S, or --from/--to, to change; timeline.txt has every kept event)",
            secs(a),
            secs(b),
            self.what.words()
        ))
    }

    /// The causal story of the focused lost write (or of the key, or a note
    /// that there is no key to tell about).
    pub fn story(&self) -> String {
        if let Some(f) = &self.read_focus {
            return match self.what {
                What::StaleRead => {
                    reads::stale_read_story(f, &self.events, &self.records, &self.names)
                }
                What::Resurrection => {
                    reads::resurrection_story(f, &self.events, &self.records, &self.names)
                }
                What::Siblings | What::LostWrite => {
                    reads::siblings_story(f, &self.events, &self.records, &self.names)
                }
            };
        }
        if self.what != What::LostWrite {
            return match self.selection.key {
                Some(k) => format!(
                    "No {} on k{k}.\n\n{}",
                    self.what.words(),
                    story::key_summary(k, &self.records, &self.names)
                ),
                None => format!("No {} in this run.\n", self.what.words()),
            };
        }
        match (&self.focus, self.selection.key) {
            (Some(l), _) => {
                story::story(l, &self.events, &self.records, &self.names, &self.loaded_on)
            }
            (None, Some(k)) => story::key_summary(k, &self.records, &self.names),
            (None, None) => {
                "No lost write in this run; select a key with --key to see its story.\n".into()
            }
        }
    }

    /// The message-sequence diagram of the kept events.
    pub fn msc(&self, title: &str) -> String {
        msc::msc_svg(&self.windowed(), &self.names, title)
    }

    /// Replays the kept events into an exporter (`perfetto`, `shiviz`,
    /// `jsonl`) and returns its output.
    pub fn export(&self, format: &str) -> Result<Vec<u8>, String> {
        let mut buf = Vec::new();
        {
            let mut ex = export::exporter(format, &mut buf, self.names.clone())?;
            for e in &self.events {
                e.replay(ex.tracer());
            }
            ex.finish().map_err(|e| e.to_string())?;
        }
        Ok(buf)
    }
}
