//! The metrics collector: a streaming [`Sink`] that turns a run's records into
//! the summary (`summary.json`).
//!
//! It owns the *checkers* as well as the counters:
//! - **staleness** (PBS, Bailis et al. 2012): for each successful read, the
//!   latest write to that key acknowledged before the read started; the read
//!   is consistent if it returned that write or one that causally supersedes
//!   it (t-visibility), and k-staleness counts how many acknowledged versions
//!   behind the newest it was;
//! - **durability** (Jepsen-style): an acknowledged write is lost when, at the
//!   end, no node holds it nor a version that causally supersedes it, and no
//!   acknowledged delete superseded it;
//! - **anomalies**: deletes that resurface, read-your-writes and
//!   monotonic-read violations per client session;
//! - **convergence**: keys whose top-N replicas disagree at the end.
//!
//! Causality is ground truth from the clients (which values each put was
//! based on), never the system's own vector clocks, so a bug in versioning
//! (a truncated clock, a skewed last-write-wins stamp) shows up here.
//!
//! With a load phase (`workload.keys.preload`, [`Record::Preloaded`]) each
//! loaded key's history starts with its loaded value, an acknowledged put at
//! time 0 with no past. Histories are still made on first use (a read or
//! write of the key); a loaded key nobody touched is judged at the end by
//! whether any node holds its loaded value, the only value it ever had.
//!
//! # Memory: streamed, with retired writes
//!
//! Aggregates are kept on the fly (latency histograms, per-window counters, a
//! subsampled scatter, one session per client and key). The checkers need a
//! per-key write history, and that history is kept bounded by *retiring*
//! writes that can no longer change a verdict, so memory follows the number
//! of keys and the write rate, not the length of the run.
//!
//! **Retirement rule.** A write `w` of key `k` is retired once all of these
//! hold (checked in a pass over the key, after a read of `k` completes, once
//! at least [`PASS_MIN_WRITES`] writes and half the retained count were
//! added since the last pass, so a pass costs O(1) amortised per write):
//! 1. *superseded in storage*: the latest successful read of `k` that
//!    returned anything returned only values each of which strictly covers
//!    `w` ("covers" as the staleness check uses it: `w` is in the value's
//!    causal past, or a blind write in that past was invoked after `w` was
//!    acknowledged). The smallest returned value becomes `w`'s **heir**;
//! 2. at least [`RETAIN_ACKED`] (16, more than the 10 versions k-staleness
//!    looks back) acknowledged writes of `k` were acknowledged after `w`
//!    settled (its acknowledgement, or for a failed write its invocation plus
//!    the client timeout), and all of them longer ago than the *horizon*;
//! 3. the horizon is `2 × client_timeout + request_timeout`: every operation
//!    ends within one client timeout of its invocation, so no read still in
//!    flight, nor any later one, can find a retired write among the last ten
//!    acknowledged before it started; the t-visibility and k-staleness figures
//!    are exact;
//! 4. every causal ancestor of `w` is retired already (or in the same pass):
//!    an ancestor of a retired write is always retired, so an ancestry walk
//!    between two retained writes never crosses a retired one, and a retired
//!    parent simply ends a walk. Blind writes in a retired past leave their
//!    invocation time behind (a chain's `blind_floor`), so "a blind write in
//!    the past was invoked after `w` was acknowledged" still answers exactly.
//!
//! Writes that were never acknowledged are retired by the same rule.
//!
//! **Fate sharing.** A retired write's durability verdict follows its heir:
//! each retained write carries a `Fold`, the number of acknowledged and
//! unacknowledged puts retired into it (and, for the lost-write listing, the
//! earliest acknowledged one). When an heir is retired, its fold moves on to
//! its own heir. At the end, a retained write covered by what the nodes hold
//! passes its fold on as surviving (or unacknowledged-but-present); one that
//! is neither held nor superseded by an acknowledged delete takes its fold
//! down with it as lost. Since an heir covers everything folded into it, a
//! held heir's verdict is exact. *Approximation*: when the heir's line is
//! lost, a folded write is counted lost (and a folded failed write not
//! present) even if some other survivor, say a stale replica still holding
//! the folded write itself, or a concurrent acknowledged delete, supersedes
//! it. That needs a stale replica to survive while every up-to-date one
//! loses its data, after a read had already seen the newer version. The
//! listing names each lost retained write and, for a fold, its earliest
//! write (the count is the sum).
//!
//! **Retired writes in later checks.** `covers(w, v)` with `w` retired counts
//! as covered: the session checks (read-your-writes, monotonic reads) and the
//! resurrection check reach back only over the retained history, so a client
//! whose last write to a key was retired is not charged when a stale replica
//! later misses it. A returned value that was retired ends the ancestry walk
//! (by rule 4, no retained write descends from it). A new write based on a
//! retired value starts a chain without known parents. Deletes: the
//! resurrection check keeps every retained acknowledged delete and the latest
//! retired one that a read could still see as the latest before it; the
//! durability closure of retired deletes is their blind floor.
//!
//! **Keys nobody reads.** Rule 1 needs a read, so a key that is only written
//! (a blind-write load test) would keep its whole history. Once a key holds
//! more than [`UNREAD_BACKSTOP`] retained writes, an acknowledgement runs a
//! pass in which the acknowledged write itself stands in for the read
//! evidence (rules 2 to 4 unchanged). *Approximation*: there is then no sign
//! that storage holds the newer write, so if that write is lost (a
//! last-write-wins replica rejecting it under a skewed clock, say) the older
//! writes folded into it are counted lost even when a replica still holds
//! one of them. Below the cap, and on keys that are read, nothing changes.
//!
//! Still unbounded: failed writes that no later version covers stay
//! retained (a read returning one later must still be recognised).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Value as Json};
use sim_core::config::Scenario;
use sim_core::dynamo::node::NodeStats;
use sim_core::dynamo::protocol::{Failure, Value};
use sim_core::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};
use sim_core::engine::record::{OpKind, Record, Sink};
use sim_core::engine::time::{SimDuration, SimTime};
use sim_core::world::faults::FaultAction;

use crate::histogram::Histogram;
use crate::membership::Tracker;

/// Acknowledged writes of a key that must follow a write (and be older than
/// the horizon) before it may be retired. More than the 10 versions
/// k-staleness looks back.
pub const RETAIN_ACKED: usize = 16;

/// The fewest writes added to a key between two retirement passes over it.
pub const PASS_MIN_WRITES: usize = 32;

/// Retained writes of one key above which a write's acknowledgement runs a
/// retirement pass with the key's latest acknowledged write standing in for
/// read evidence (for keys that are written and seldom or never read).
pub const UNREAD_BACKSTOP: usize = 4096;

#[derive(Clone, Debug)]
struct WriteInfo {
    invoked: SimTime,
    committed: Option<SimTime>,
    tombstone: bool,
    /// A blind write (no context) overwrites, in register semantics, every
    /// write acknowledged before it was invoked. It always starts a chain.
    blind: bool,
    /// The linear run of writes this one belongs to (see [`Chain`]).
    chain: u32,
    /// Position in that run (0 at its first write).
    depth: u32,
}

/// A maximal linear run of writes: each one based on exactly the previous
/// one, which had no other descendant yet. Ancestry inside a chain is a depth
/// comparison, so an ancestry query jumps a whole run at once instead of
/// walking it write by write (hot keys build runs thousands long).
#[derive(Clone, Debug)]
struct Chain {
    /// The retained members, shallowest first. Retirement removes from the
    /// front (a write's ancestors retire before it).
    members: VecDeque<WriteId>,
    /// The retained writes the chain's first write was based on; a parent
    /// leaves this list when it is retired.
    parents: Vec<WriteId>,
    /// The latest invocation of a blind write among the chain's first write
    /// and its retired causal past (`SimTime::ZERO` when there is none).
    blind_floor: SimTime,
}

/// Puts whose durability verdict follows a retained write (see the module
/// docs).
#[derive(Clone, Copy, Debug, Default)]
struct Fold {
    /// Acknowledged puts retired into this write.
    acked: u64,
    /// Puts never acknowledged retired into this write.
    unacked: u64,
    /// The earliest acknowledged one: (acknowledged at, write).
    first: Option<(SimTime, WriteId)>,
}

impl Fold {
    fn absorb(&mut self, other: &Fold) {
        self.acked += other.acked;
        self.unacked += other.unacked;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// What a set of roots supersedes: per chain, the deepest member reached
/// (every shallower retained member is reached too).
struct Reach(BTreeMap<u32, u32>);

impl Reach {
    fn contains(&self, info: &WriteInfo) -> bool {
        self.0.get(&info.chain).is_some_and(|d| *d >= info.depth)
    }
}

#[derive(Clone, Debug, Default)]
struct KeyHistory {
    /// Retained writes.
    writes: BTreeMap<WriteId, WriteInfo>,
    /// Retained acknowledged writes in commit order.
    acked: Vec<(SimTime, WriteId)>,
    /// Acknowledged deletes in commit order: every retained one, and retired
    /// ones only while a read could still take them for the latest delete
    /// before it started.
    deletes: Vec<(SimTime, WriteId)>,
    chains: BTreeMap<u32, Chain>,
    next_chain: u32,
    folds: BTreeMap<WriteId, Fold>,
    /// The values of the latest successful read that returned any.
    evidence: Vec<WriteId>,
    /// Writes added since the last retirement pass.
    since_pass: usize,
    /// Writes retired so far.
    retired: u64,
    /// The latest blind floor among retired acknowledged deletes: what they
    /// still supersede among the retained writes.
    deleted_floor: SimTime,
}

impl KeyHistory {
    /// Records a new write and places it in a chain.
    fn insert(&mut self, w: WriteId, mut info: WriteInfo, parents: &[WriteId]) {
        self.since_pass += 1;
        let extends = match parents {
            [p] if !info.blind => self.writes.get(p).and_then(|pi| {
                let chain = &self.chains[&pi.chain];
                (chain.members.back() == Some(p)).then_some((pi.chain, pi.depth + 1))
            }),
            _ => None,
        };
        match extends {
            Some((chain, depth)) => {
                self.chains
                    .get_mut(&chain)
                    .expect("a retained write's chain exists")
                    .members
                    .push_back(w);
                info.chain = chain;
                info.depth = depth;
            }
            None => {
                info.chain = self.next_chain;
                info.depth = 0;
                self.next_chain += 1;
                // A retired parent ends the ancestry (its whole past is
                // retired); an unknown one never had any.
                let parents = parents
                    .iter()
                    .copied()
                    .filter(|p| self.writes.contains_key(p))
                    .collect();
                let blind_floor = if info.blind {
                    info.invoked
                } else {
                    SimTime::ZERO
                };
                self.chains.insert(
                    info.chain,
                    Chain {
                        members: VecDeque::from([w]),
                        parents,
                        blind_floor,
                    },
                );
            }
        }
        self.writes.insert(w, info);
    }

    /// True when `v` supersedes `ancestor` (or is it): `ancestor` is in the
    /// causal past of `v`, or a blind write in that past was invoked after
    /// `ancestor` was acknowledged. A retired `ancestor` counts as covered.
    fn covers(&self, ancestor: WriteId, v: WriteId) -> bool {
        if ancestor == v {
            return true;
        }
        let Some(a) = self.writes.get(&ancestor) else {
            return self.retired > 0;
        };
        let floor = a.invoked;
        let acked_before = |t: SimTime| a.committed.is_some_and(|c| c < t);
        let mut stack = vec![v];
        // Deepest position already explored per chain.
        let mut explored: BTreeMap<u32, u32> = BTreeMap::new();
        while let Some(x) = stack.pop() {
            let Some(info) = self.writes.get(&x) else {
                continue;
            };
            if info.chain == a.chain && a.depth <= info.depth {
                return true;
            }
            match explored.get(&info.chain) {
                Some(d) if *d >= info.depth => continue,
                _ => {
                    explored.insert(info.chain, info.depth);
                }
            }
            let chain = &self.chains[&info.chain];
            if acked_before(chain.blind_floor) {
                return true;
            }
            for p in &chain.parents {
                if let Some(pi) = self.writes.get(p) {
                    if pi.invoked >= floor || *p == ancestor {
                        stack.push(*p);
                    }
                }
            }
        }
        false
    }

    fn covered_by_any(&self, w: WriteId, values: &[WriteId]) -> bool {
        values.iter().any(|v| self.covers(w, *v))
    }

    /// Everything `roots` supersede (inclusive): their causal past, plus for
    /// a blind write every write acknowledged before it was invoked, and the
    /// same for blind writes invoked up to `floor`. Only retained writes are
    /// answered for.
    fn reach(&self, roots: impl IntoIterator<Item = WriteId>, floor: SimTime) -> Reach {
        let mut reached = BTreeMap::new();
        let mut stack: Vec<WriteId> = roots.into_iter().collect();
        let mut blind_floor = SimTime::ZERO;
        let mut raise = |to: SimTime, stack: &mut Vec<WriteId>| {
            if to > blind_floor {
                blind_floor = to;
                let before = self.acked.partition_point(|(t, _)| *t < to);
                stack.extend(self.acked[..before].iter().map(|(_, w)| *w));
            }
        };
        raise(floor, &mut stack);
        while let Some(x) = stack.pop() {
            let Some(info) = self.writes.get(&x) else {
                continue;
            };
            match reached.get(&info.chain) {
                Some(d) if *d >= info.depth => continue,
                _ => {
                    reached.insert(info.chain, info.depth);
                }
            }
            let chain = &self.chains[&info.chain];
            stack.extend(chain.parents.iter().copied());
            raise(chain.blind_floor, &mut stack);
        }
        Reach(reached)
    }

    /// True when enough writes were added since the last pass for another
    /// one to pay off (amortised O(1) per write).
    fn pass_due(&self) -> bool {
        self.since_pass >= PASS_MIN_WRITES.max(self.writes.len() / 2)
    }

    /// One retirement pass at `now` behind the latest read's evidence.
    fn retire(&mut self, now: SimTime, horizon: SimDuration, client_timeout: SimDuration) {
        let evidence = std::mem::take(&mut self.evidence);
        self.retire_behind(&evidence, now, horizon, client_timeout);
        self.evidence = evidence;
    }

    /// One retirement pass at `now` (see the module docs): `evidence` are
    /// the values storage is known to hold (a read's, or for a key nobody
    /// reads its newest acknowledged write). Writes that never completed
    /// settle `client_timeout` after their invocation.
    fn retire_behind(
        &mut self,
        evidence: &[WriteId],
        now: SimTime,
        horizon: SimDuration,
        client_timeout: SimDuration,
    ) {
        self.since_pass = 0;
        let Some(limit) = now.as_micros().checked_sub(horizon.as_micros()) else {
            return;
        };
        let old = self.acked.partition_point(|(t, _)| t.as_micros() < limit);
        if old < RETAIN_ACKED || evidence.is_empty() {
            return;
        }
        let cut = self.acked[old - RETAIN_ACKED].0;
        let settled = |i: &WriteInfo| i.committed.unwrap_or(i.invoked + client_timeout);
        let mut candidates: Vec<(SimTime, WriteId)> = self
            .writes
            .iter()
            .filter(|(_, i)| settled(i) < cut)
            .map(|(w, i)| (i.invoked, *w))
            .collect();
        if candidates.is_empty() {
            return;
        }
        // Ancestors were invoked before their descendants.
        candidates.sort_unstable();
        let heir = *evidence.iter().min().expect("not empty");
        // Chains by the retained parents they were based on.
        let mut children: Option<BTreeMap<WriteId, Vec<u32>>> = None;
        for (_, w) in candidates {
            let info = &self.writes[&w];
            let chain = &self.chains[&info.chain];
            let oldest = chain.members.front() == Some(&w) && chain.parents.is_empty();
            if !oldest || evidence.contains(&w) || !evidence.iter().all(|v| self.covers(w, *v)) {
                continue;
            }
            let children = children.get_or_insert_with(|| {
                let mut m: BTreeMap<WriteId, Vec<u32>> = BTreeMap::new();
                for (id, c) in &self.chains {
                    for p in &c.parents {
                        m.entry(*p).or_default().push(*id);
                    }
                }
                m
            });
            self.retire_one(w, heir, children);
        }
        let writes = &self.writes;
        self.acked.retain(|(_, w)| writes.contains_key(w));
        // A retired delete followed by another acknowledged before the
        // horizon can no longer be the latest delete before a read.
        let last_old = self.deletes.partition_point(|(t, _)| t.as_micros() < limit);
        let mut i = 0;
        self.deletes.retain(|(_, d)| {
            i += 1;
            i >= last_old || writes.contains_key(d)
        });
    }

    /// Retires `w` (the oldest retained write of its chain, with no retained
    /// ancestor) into `heir`.
    fn retire_one(&mut self, w: WriteId, heir: WriteId, children: &BTreeMap<WriteId, Vec<u32>>) {
        let info = self.writes.remove(&w).expect("a retained write");
        let mut fold = self.folds.remove(&w).unwrap_or_default();
        if !info.tombstone {
            match info.committed {
                Some(at) => fold.absorb(&Fold {
                    acked: 1,
                    unacked: 0,
                    first: Some((at, w)),
                }),
                None => fold.unacked += 1,
            }
        }
        if fold.acked + fold.unacked > 0 {
            self.folds.entry(heir).or_default().absorb(&fold);
        }
        let chain = self.chains.get_mut(&info.chain).expect("its chain");
        debug_assert_eq!(chain.members.front(), Some(&w));
        chain.members.pop_front();
        let floor = chain.blind_floor;
        if chain.members.is_empty() {
            self.chains.remove(&info.chain);
        }
        for c in children.get(&w).into_iter().flatten() {
            if let Some(child) = self.chains.get_mut(c) {
                child.parents.retain(|p| *p != w);
                child.blind_floor = child.blind_floor.max(floor);
            }
        }
        if info.tombstone && info.committed.is_some() {
            self.deleted_floor = self.deleted_floor.max(floor);
        }
        self.retired += 1;
    }
}

#[derive(Clone, Debug)]
struct Invocation {
    write: Option<WriteId>,
}

#[derive(Clone, Debug, Default)]
struct KindStats {
    ok: u64,
    failed: u64,
    failures: BTreeMap<String, u64>,
    latency: Histogram,
}

#[derive(Clone, Debug, Default)]
struct Window {
    completed: u64,
    ok: u64,
    latency: BTreeMap<usize, u64>,
    reads_checked: u64,
    stale: u64,
}

#[derive(Clone, Debug, Default)]
struct Session {
    last_write: Option<(SimTime, WriteId)>,
    last_read: Option<(SimTime, Vec<WriteId>)>,
}

#[derive(Clone, Debug)]
struct FaultWindow {
    start: SimTime,
    end: Option<SimTime>,
    label: String,
}

/// The history of `key`, made on first use; a loaded key's starts with its
/// loaded value, acknowledged at time 0.
fn history(keys: &mut BTreeMap<Key, KeyHistory>, preloaded: u64, key: Key) -> &mut KeyHistory {
    keys.entry(key).or_insert_with(|| {
        let mut h = KeyHistory::default();
        if key.0 < preloaded {
            let w = WriteId::preloaded(key);
            let info = WriteInfo {
                invoked: SimTime::ZERO,
                committed: Some(SimTime::ZERO),
                tombstone: false,
                blind: false,
                chain: 0,
                depth: 0,
            };
            h.insert(w, info, &[]);
            h.acked.push((SimTime::ZERO, w));
        }
        h
    })
}

/// A lost write (the first ones are listed in the summary). A lost retained
/// write is listed itself; the writes folded into one (see the module docs)
/// are listed by their earliest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostWrite {
    /// The key.
    pub key: Key,
    /// The write.
    pub write: WriteId,
    /// When it was acknowledged.
    pub acked_at: SimTime,
}

/// The durability verdicts (see [`Collector::lost_writes`]).
#[derive(Debug, Default)]
struct Durability {
    lost: u64,
    listed: Vec<LostWrite>,
    surviving: u64,
    unacked_present: u64,
}

/// Streams records into metrics. Feed it as the run's [`Sink`], then call
/// [`Collector::summary`].
#[derive(Debug)]
pub struct Collector {
    grid_us: Vec<u64>,
    window_us: u64,
    in_flight: BTreeMap<OpId, Invocation>,
    kinds: BTreeMap<OpKind, KindStats>,
    keys: BTreeMap<Key, KeyHistory>,
    /// How long after it settled a write may still matter to a read in
    /// flight (see the module docs).
    horizon: SimDuration,
    client_timeout: SimDuration,
    acked_puts: u64,
    acked_deletes: u64,
    windows: Vec<Window>,
    t_visibility: Vec<(u64, u64)>,
    k_staleness: [u64; 11],
    reads_checked: u64,
    stale_reads: u64,
    siblings: [u64; 5],
    sessions: BTreeMap<(ClientId, Key), Session>,
    resurrected: u64,
    ryw_violations: u64,
    monotonic_violations: u64,
    writes_attempted: u64,
    discarded: u64,
    hints_stored: u64,
    hints_delivered: u64,
    hints_remaining: u64,
    read_repairs: u64,
    replicas_repaired: u64,
    suspicions: u64,
    tombstones_purged: u64,
    buffer_lost: u64,
    faults: Vec<(SimTime, String)>,
    fault_windows: Vec<FaultWindow>,
    /// The open fault window of each key (at most one), by index in
    /// `fault_windows`: opening and closing stay O(log) however many
    /// faults a nemesis draws.
    open_fault_windows: BTreeMap<String, usize>,
    held: BTreeMap<Key, BTreeSet<WriteId>>,
    converged_at: Option<SimTime>,
    replica_values: BTreeMap<Key, BTreeMap<NodeId, Vec<Value>>>,
    /// A deterministic subsample of completed operations for the latency
    /// scatter: every `scatter_stride`-th completion, the stride doubling
    /// (and every other kept point dropped) when the buffer fills, so memory
    /// stays bounded whatever the run length.
    scatter: Vec<(SimTime, u64, bool, OpKind)>,
    scatter_stride: u64,
    completions: u64,
    end: SimTime,
    /// Keys `0..preloaded` were loaded before the run (`Record::Preloaded`):
    /// each starts with [`WriteId::preloaded`], acknowledged at time 0.
    preloaded: u64,
    /// Membership, failure detection and key transfers.
    membership: Tracker,
}

impl Collector {
    /// A collector for `scenario`'s report settings.
    pub fn new(scenario: &Scenario) -> Collector {
        let grid_us = scenario.metrics.t_visibility_grid_us.clone();
        Collector {
            t_visibility: vec![(0, 0); grid_us.len()],
            grid_us,
            window_us: scenario.metrics.window.as_micros().max(1),
            in_flight: BTreeMap::new(),
            kinds: OpKind::ALL
                .iter()
                .map(|k| {
                    let mut s = KindStats::default();
                    Self::ensure_failure_keys(&mut s);
                    (*k, s)
                })
                .collect(),
            keys: BTreeMap::new(),
            horizon: scenario
                .workload
                .client_timeout
                .saturating_mul(2)
                .saturating_add(scenario.cluster.request_timeout),
            client_timeout: scenario.workload.client_timeout,
            acked_puts: 0,
            acked_deletes: 0,
            windows: Vec::new(),
            k_staleness: [0; 11],
            reads_checked: 0,
            stale_reads: 0,
            siblings: [0; 5],
            sessions: BTreeMap::new(),
            resurrected: 0,
            ryw_violations: 0,
            monotonic_violations: 0,
            writes_attempted: 0,
            discarded: 0,
            hints_stored: 0,
            hints_delivered: 0,
            hints_remaining: 0,
            read_repairs: 0,
            replicas_repaired: 0,
            suspicions: 0,
            tombstones_purged: 0,
            buffer_lost: 0,
            faults: Vec::new(),
            fault_windows: Vec::new(),
            open_fault_windows: BTreeMap::new(),
            held: BTreeMap::new(),
            converged_at: None,
            scatter: Vec::new(),
            scatter_stride: 1,
            completions: 0,
            replica_values: BTreeMap::new(),
            end: SimTime::ZERO,
            preloaded: 0,
            membership: Tracker::new(scenario),
        }
    }

    /// The `membership` block of the summary (see [`Tracker::membership`]);
    /// `node_stats` are the run's per-node counters.
    pub fn membership(&self, scenario: &Scenario, node_stats: &[NodeStats]) -> Json {
        let mut m = self.membership.membership(scenario, node_stats);
        // The effect of each bootstrap and decommission on the foreground:
        // the p99 of successful operations while it ran, and over as long a
        // stretch just before it.
        let windows: Vec<(SimTime, Option<SimTime>)> = self
            .membership
            .bootstrap_windows()
            .iter()
            .map(|(_, s, d)| (*s, Some(*d)))
            .collect();
        let decommissions: Vec<(SimTime, Option<SimTime>)> = self
            .membership
            .decommissions()
            .iter()
            .map(|(_, s, l)| (*s, *l))
            .collect();
        for (field, spans) in [("bootstraps", windows), ("decommissions", decommissions)] {
            if let Some(items) = m[field].as_array_mut() {
                for (item, (start, end)) in items.iter_mut().zip(spans) {
                    let end = end.unwrap_or(self.end);
                    let len = end.saturating_since(start).as_micros().max(1);
                    let w = self.window_us;
                    // During: the windows it overlaps. Before: as many whole
                    // windows, all ending by its start.
                    let (first, last) = (start.as_micros() / w, (end.as_micros() - 1) / w);
                    let until = start.as_micros() / w;
                    let before = until.saturating_sub(len.div_ceil(w));
                    item["p99_ms_during"] = json!(self.p99_ms_windows(first, last + 1));
                    item["p99_ms_before"] = json!(self.p99_ms_windows(before, until));
                }
            }
        }
        m
    }

    /// The p99 latency (ms) of operations that succeeded in metrics windows
    /// `first..until`, or `None` without any.
    fn p99_ms_windows(&self, first: u64, until: u64) -> Option<f64> {
        let mut h = Histogram::default();
        for w in self
            .windows
            .iter()
            .take(until as usize)
            .skip(first as usize)
        {
            for (b, c) in &w.latency {
                h.record_n(crate::histogram::bucket_range(*b).0, *c);
            }
        }
        (h.count() > 0).then(|| h.quantile(0.99) as f64 / 1000.0)
    }

    /// The `failure_detection` block of the summary (see
    /// [`Tracker::failure_detection`]).
    pub fn failure_detection(&self) -> Json {
        self.membership.failure_detection()
    }

    fn window(&mut self, t: SimTime) -> &mut Window {
        let i = (t.as_micros() / self.window_us) as usize;
        if self.windows.len() <= i {
            self.windows.resize_with(i + 1, Window::default);
        }
        &mut self.windows[i]
    }

    #[allow(clippy::too_many_arguments)]
    fn on_invoked(
        &mut self,
        op: OpId,
        kind: OpKind,
        key: Key,
        write: Option<WriteId>,
        based_on: &[WriteId],
        blind: bool,
        discarded: &[WriteId],
        at: SimTime,
    ) {
        self.in_flight.insert(op, Invocation { write });
        if let Some(w) = write {
            self.writes_attempted += 1;
            self.discarded += discarded.len() as u64;
            let info = WriteInfo {
                invoked: at,
                committed: None,
                tombstone: kind == OpKind::Delete,
                blind,
                chain: 0,
                depth: 0,
            };
            history(&mut self.keys, self.preloaded, key).insert(w, info, based_on);
        }
    }

    fn ensure_failure_keys(stats: &mut KindStats) {
        for reason in ["not_enough_replicas", "client_timeout"] {
            stats.failures.entry(reason.to_string()).or_default();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_completed(
        &mut self,
        at: SimTime,
        op: OpId,
        kind: OpKind,
        key: Key,
        invoked: SimTime,
        result: &Result<(), Failure>,
        values: &[Value],
    ) {
        let inv = self.in_flight.remove(&op);
        let latency = at.saturating_since(invoked).as_micros();
        let stats = self.kinds.entry(kind).or_default();
        match result {
            Ok(()) => {
                stats.ok += 1;
                stats.latency.record(latency);
            }
            Err(f) => {
                stats.failed += 1;
                let reason = match f {
                    Failure::NotEnoughReplicas { .. } => "not_enough_replicas",
                    Failure::ClientTimeout => "client_timeout",
                    Failure::Overloaded => "overloaded",
                };
                *stats.failures.entry(reason.to_string()).or_default() += 1;
            }
        }
        self.sample_scatter(at, latency, result.is_ok(), kind);
        let w = self.window(at);
        w.completed += 1;
        if result.is_ok() {
            w.ok += 1;
            *w.latency
                .entry(crate::histogram::bucket_of(latency))
                .or_default() += 1;
        }
        if result.is_err() {
            return;
        }
        match kind {
            OpKind::Get => self.check_read(at, op.client, key, invoked, values),
            OpKind::Put | OpKind::Delete => {
                let write = inv.and_then(|i| i.write);
                if let Some(w) = write {
                    let h = history(&mut self.keys, self.preloaded, key);
                    if let Some(info) = h.writes.get_mut(&w) {
                        info.committed = Some(at);
                    }
                    h.acked.push((at, w));
                    if h.writes.len() > UNREAD_BACKSTOP && h.pass_due() {
                        // No read has superseded enough of this key's past:
                        // this write stands in for the evidence (see the
                        // module docs, "Keys nobody reads").
                        h.retire_behind(&[w], at, self.horizon, self.client_timeout);
                    }
                    if kind == OpKind::Delete {
                        h.deletes.push((at, w));
                        self.acked_deletes += 1;
                    } else {
                        self.acked_puts += 1;
                    }
                    self.sessions
                        .entry((op.client, key))
                        .or_default()
                        .last_write = Some((at, w));
                }
            }
        }
    }

    fn sample_scatter(&mut self, at: SimTime, latency_us: u64, ok: bool, kind: OpKind) {
        const SCATTER_MAX: usize = 20_000;
        self.completions += 1;
        if self.completions % self.scatter_stride != 0 {
            return;
        }
        self.scatter.push((at, latency_us, ok, kind));
        if self.scatter.len() >= SCATTER_MAX {
            self.scatter_stride *= 2;
            let stride = self.scatter_stride;
            let mut i = 0u64;
            self.scatter.retain(|_| {
                i += 1;
                i % 2 == 0
            });
            debug_assert!(stride > 1);
        }
    }

    fn check_read(
        &mut self,
        at: SimTime,
        client: ClientId,
        key: Key,
        start: SimTime,
        values: &[Value],
    ) {
        self.siblings[values.len().min(4)] += 1;
        let returned: Vec<WriteId> = values.iter().map(|v| v.write()).collect();
        if key.0 < self.preloaded {
            // The loaded value is the first acknowledged write of the key.
            history(&mut self.keys, self.preloaded, key);
        }
        let empty = KeyHistory::default();
        let h = self.keys.get(&key).unwrap_or(&empty);
        // Staleness against the latest write acknowledged before the read started.
        let before = h.acked.partition_point(|(t, _)| *t < start);
        if before > 0 {
            let (commit, latest) = h.acked[before - 1];
            let consistent = h.covered_by_any(latest, &returned);
            let mut k = 0usize;
            if !consistent {
                k = 1;
                while k < 10
                    && k < before
                    && !h.covered_by_any(h.acked[before - 1 - k].1, &returned)
                {
                    k += 1;
                }
            }
            self.k_staleness[k] += 1;
            self.reads_checked += 1;
            let t = start.saturating_since(commit).as_micros();
            let bucket = self.grid_us.partition_point(|g| *g <= t).saturating_sub(1);
            if let Some(slot) = self.t_visibility.get_mut(bucket) {
                slot.0 += 1;
                if consistent {
                    slot.1 += 1;
                }
            }
            if !consistent {
                self.stale_reads += 1;
            }
            let w = self.window(at);
            w.reads_checked += 1;
            if !consistent {
                w.stale += 1;
            }
        }
        let h = self.keys.get(&key).unwrap_or(&empty);
        // A delete acknowledged before the read, resurfacing in it.
        let deletes_before = h.deletes.partition_point(|(t, _)| *t < start);
        if deletes_before > 0 {
            let (_, d) = h.deletes[deletes_before - 1];
            let resurfaced = values
                .iter()
                .any(|v| !v.is_tombstone() && v.write() != d && h.covers(v.write(), d));
            if resurfaced {
                self.resurrected += 1;
            }
        }
        // Session guarantees.
        let session = self
            .sessions
            .get(&(client, key))
            .cloned()
            .unwrap_or_default();
        if let Some((t, w)) = session.last_write {
            if t < start && !h.covered_by_any(w, &returned) {
                self.ryw_violations += 1;
            }
        }
        if let Some((t, prev)) = &session.last_read {
            if *t < start && prev.iter().any(|p| !h.covered_by_any(*p, &returned)) {
                self.monotonic_violations += 1;
            }
        }
        if let Some(h) = self.keys.get_mut(&key) {
            if !returned.is_empty() {
                h.evidence.clone_from(&returned);
            }
            if h.pass_due() {
                h.retire(at, self.horizon, self.client_timeout);
            }
        }
        self.sessions.entry((client, key)).or_default().last_read = Some((at, returned));
    }

    fn on_fault(&mut self, at: SimTime, action: &FaultAction) {
        self.faults.push((at, action.to_string()));
        self.membership.on_fault(at, action);
        let (open, close): (Option<(String, String)>, Option<String>) = match action {
            FaultAction::Crash { node, disk_loss } => {
                let label = if *disk_loss {
                    format!("crash {node} (disk)")
                } else {
                    format!("crash {node}")
                };
                (Some((format!("node {node}"), label)), None)
            }
            FaultAction::Restart { node } => (None, Some(format!("node {node}"))),
            FaultAction::Partition { id, .. } | FaultAction::PartitionOneWay { id, .. } => (
                Some((format!("cut {}", id.0), "partition".to_string())),
                None,
            ),
            FaultAction::Heal { id } => (None, Some(format!("cut {}", id.0))),
            FaultAction::DegradeLinks { id, .. } => (
                Some((format!("degrade {}", id.0), "degraded links".to_string())),
                None,
            ),
            FaultAction::RestoreLinks { id } => (None, Some(format!("degrade {}", id.0))),
            FaultAction::SlowNode { node, .. } => {
                (Some((format!("slow {node}"), format!("slow {node}"))), None)
            }
            FaultAction::RestoreNode { node } => (None, Some(format!("slow {node}"))),
            FaultAction::SlowResource { node, resource, .. } => {
                let key = format!("{} {node}", resource.name());
                (Some((key.clone(), format!("slow {key}"))), None)
            }
            FaultAction::RestoreResource { node, resource } => {
                (None, Some(format!("{} {node}", resource.name())))
            }
            FaultAction::StallDisk { node } => (
                Some((format!("stall {node}"), format!("disk stall {node}"))),
                None,
            ),
            FaultAction::ResumeDisk { node } => (None, Some(format!("stall {node}"))),
            FaultAction::ClockSkew {
                node,
                offset_us,
                drift_ppm,
            } => {
                if *offset_us == 0 && *drift_ppm == 0 {
                    (None, Some(format!("skew {node}")))
                } else {
                    (
                        Some((format!("skew {node}"), format!("clock skew {node}"))),
                        None,
                    )
                }
            }
            // Administrative changes are instants, not windows.
            FaultAction::Join { .. }
            | FaultAction::Decommission { .. }
            | FaultAction::Replace { .. } => (None, None),
        };
        if let Some(key) = close {
            if let Some(i) = self.open_fault_windows.remove(&key) {
                self.fault_windows[i].end = Some(at);
            }
        }
        if let Some((key, label)) = open {
            if !self.open_fault_windows.contains_key(&key) {
                self.open_fault_windows
                    .insert(key, self.fault_windows.len());
                self.fault_windows.push(FaultWindow {
                    start: at,
                    end: None,
                    label,
                });
            }
        }
    }

    /// The durability verdicts at the end of the run (see the module docs
    /// for how retired writes are counted).
    fn durability(&self) -> Durability {
        let mut d = Durability::default();
        let empty = BTreeSet::new();
        for (key, h) in &self.keys {
            let held = self.held.get(key).unwrap_or(&empty);
            let covered = h.reach(held.iter().copied(), SimTime::ZERO);
            let deleted = h.reach(h.deletes.iter().map(|(_, d)| *d), h.deleted_floor);
            let mut listed = Vec::new();
            for (w, info) in &h.writes {
                let fold = h.folds.get(w).copied().unwrap_or_default();
                let acked_put = !info.tombstone && info.committed.is_some();
                if covered.contains(info) {
                    if !info.tombstone {
                        if info.committed.is_some() {
                            d.surviving += 1;
                        } else {
                            d.unacked_present += 1;
                        }
                    }
                    d.surviving += fold.acked;
                    d.unacked_present += fold.unacked;
                } else if !deleted.contains(info) {
                    if acked_put {
                        d.lost += 1;
                    }
                    d.lost += fold.acked;
                    if let Some((at, first)) = fold.first {
                        listed.push((at, first));
                    }
                }
            }
            // Retained lost writes in commit order, then the folds' earliest
            // writes placed by their acknowledgement (a stable sort keeps
            // ties in commit order).
            let mut lost: Vec<(SimTime, WriteId)> = h
                .acked
                .iter()
                .filter(|(_, w)| {
                    let info = &h.writes[w];
                    !info.tombstone && !covered.contains(info) && !deleted.contains(info)
                })
                .copied()
                .collect();
            lost.extend(listed);
            lost.sort_by_key(|(at, _)| *at);
            d.listed
                .extend(lost.into_iter().map(|(acked_at, write)| LostWrite {
                    key: *key,
                    write,
                    acked_at,
                }));
        }
        // Loaded keys nobody touched: the loaded value is the only one they
        // ever had, so it survives exactly when some node holds it.
        if self.preloaded > 0 {
            for key in (0..self.preloaded).map(Key) {
                if self.keys.contains_key(&key) {
                    continue;
                }
                let w = WriteId::preloaded(key);
                if self.held.get(&key).is_some_and(|held| held.contains(&w)) {
                    d.surviving += 1;
                } else {
                    d.lost += 1;
                    d.listed.push(LostWrite {
                        key,
                        write: w,
                        acked_at: SimTime::ZERO,
                    });
                }
            }
            // Keep the listing in key order (stable: by commit within a key).
            d.listed.sort_by_key(|l| l.key);
        }
        d
    }

    /// Lost writes, in key order and by acknowledgement within a key: each
    /// lost retained write, and for the writes folded into a lost one (see
    /// the module docs) the earliest. [`Collector::lost_count`] counts them
    /// all.
    pub fn lost_writes(&self) -> Vec<LostWrite> {
        self.durability().listed
    }

    /// How many acknowledged puts are lost (`durability.lost`).
    pub fn lost_count(&self) -> u64 {
        self.durability().lost
    }

    /// Writes kept in the per-key histories now (the rest were retired; see
    /// the module docs). With a fixed key space this stays bounded however
    /// long the run.
    pub fn retained_writes(&self) -> usize {
        self.keys.values().map(|h| h.writes.len()).sum()
    }

    /// Writes retired from the per-key histories so far.
    pub fn retired_writes(&self) -> u64 {
        self.keys.values().map(|h| h.retired).sum()
    }

    /// Builds the summary. `replicas_of` gives each key's top-N nodes (for the
    /// convergence check).
    pub fn summary(&self, scenario: &Scenario, replicas_of: &dyn Fn(Key) -> Vec<NodeId>) -> Json {
        let ms = |us: u64| us as f64 / 1000.0;
        let secs = |t: SimTime| t.as_micros() as f64 / 1e6;
        let mut latency = serde_json::Map::new();
        let mut total_ok = 0;
        let mut total = 0;
        let mut availability_by_kind = serde_json::Map::new();
        for (kind, s) in &self.kinds {
            let h = &s.latency;
            total_ok += s.ok;
            total += s.ok + s.failed;
            availability_by_kind.insert(kind.name().into(), json!(ratio(s.ok, s.ok + s.failed)));
            latency.insert(
                kind.name().into(),
                json!({
                    "count": s.ok + s.failed,
                    "ok": s.ok,
                    "failed": s.failed,
                    "failures": s.failures,
                    "mean_ms": h.mean() / 1000.0,
                    "p50_ms": ms(h.quantile(0.5)),
                    "p90_ms": ms(h.quantile(0.9)),
                    "p99_ms": ms(h.quantile(0.99)),
                    "p999_ms": ms(h.quantile(0.999)),
                    "max_ms": ms(h.max()),
                    "cdf": h.cdf().into_iter().map(|(v, f)| json!([ms(v), f])).collect::<Vec<_>>(),
                    // Non-empty buckets `[index, count]` (see `histogram`), so
                    // sweeps can merge distributions exactly.
                    "histogram": h.sparse().into_iter().map(|(i, c)| json!([i, c])).collect::<Vec<_>>(),
                }),
            );
        }
        let t_vis: Vec<Json> = self
            .grid_us
            .iter()
            .zip(&self.t_visibility)
            .map(|(g, (reads, consistent))| {
                json!({"t_ms": ms(*g), "reads": reads, "consistent": consistent,
                       "p_consistent": if *reads == 0 { Json::Null } else { json!(*consistent as f64 / *reads as f64) }})
            })
            .collect();
        let mut k_stale = serde_json::Map::new();
        for (k, n) in self.k_staleness.iter().enumerate() {
            k_stale.insert(
                if k == 10 {
                    "10+".to_string()
                } else {
                    k.to_string()
                },
                json!(n),
            );
        }
        let found_reads: u64 = self.siblings[1..].iter().sum();
        let durability = self.durability();
        // Convergence of replicas at the end.
        let mut divergent = 0u64;
        let mut keys_checked = 0u64;
        let mut keys: BTreeSet<Key> = self.keys.keys().copied().collect();
        keys.extend(self.replica_values.keys().copied());
        for key in keys {
            keys_checked += 1;
            let holders = self.replica_values.get(&key);
            let sets: Vec<BTreeSet<WriteId>> = replicas_of(key)
                .into_iter()
                .map(|n| {
                    holders
                        .and_then(|h| h.get(&n))
                        .map(|vs| vs.iter().map(|v| v.write()).collect())
                        .unwrap_or_default()
                })
                .collect();
            if sets.windows(2).any(|p| p[0] != p[1]) {
                divergent += 1;
            }
        }
        let end = self.end;
        let windows: Vec<Json> = self
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut h = Histogram::default();
                for (b, c) in &w.latency {
                    for _ in 0..*c {
                        h.record(crate::histogram::bucket_range(*b).0);
                    }
                }
                json!({
                    "start_s": (i as u64 * self.window_us) as f64 / 1e6,
                    "completed": w.completed,
                    "ok": w.ok,
                    "throughput_per_s": w.completed as f64 / (self.window_us as f64 / 1e6),
                    "availability": if w.completed == 0 { Json::Null } else { json!(w.ok as f64 / w.completed as f64) },
                    "p99_ms": if w.ok == 0 { Json::Null } else { json!(ms(h.quantile(0.99))) },
                    "reads_checked": w.reads_checked,
                    "stale_read_fraction": if w.reads_checked == 0 { Json::Null } else { json!(w.stale as f64 / w.reads_checked as f64) },
                })
            })
            .collect();
        let fault_windows: Vec<Json> = self
            .fault_windows
            .iter()
            .map(|w| json!({"start_s": secs(w.start), "end_s": secs(w.end.unwrap_or(end)), "label": w.label}))
            .collect();
        json!({
            "ops": {"total": total, "ok": total_ok, "failed": total - total_ok},
            "availability": ratio(total_ok, total),
            "availability_by_kind": availability_by_kind,
            "latency": latency,
            "staleness": {
                "reads_checked": self.reads_checked,
                "stale_reads": self.stale_reads,
                "stale_read_fraction": ratio(self.stale_reads, self.reads_checked),
                "t_visibility": t_vis,
                "k_staleness": k_stale,
            },
            "siblings": {
                "reads": self.siblings.iter().sum::<u64>(),
                "not_found": self.siblings[0],
                "1": self.siblings[1], "2": self.siblings[2], "3": self.siblings[3], "4+": self.siblings[4],
                "single_version_fraction": if found_reads == 0 { 1.0 } else { self.siblings[1] as f64 / found_reads as f64 },
            },
            "durability": {
                "writes_attempted": self.writes_attempted,
                "acknowledged": self.acked_puts + self.acked_deletes,
                "acknowledged_puts": self.acked_puts,
                "acknowledged_deletes": self.acked_deletes,
                "surviving": durability.surviving,
                "lost": durability.lost,
                "unacknowledged_present": durability.unacked_present,
                "discarded_by_reconciliation": self.discarded,
                "preloaded": self.preloaded,
                "lost_writes": durability.listed.iter().take(100).map(|l| json!({"key": l.key.0, "value": l.write.to_string(), "acked_at_s": secs(l.acked_at)})).collect::<Vec<_>>(),
            },
            "anomalies": {
                "resurrected_deletes": self.resurrected,
                "read_your_writes_violations": self.ryw_violations,
                "monotonic_read_violations": self.monotonic_violations,
            },
            "convergence": {
                "keys_checked": keys_checked,
                "divergent_keys": divergent,
                "converged": divergent == 0,
                "time_to_converge_s": self
                    .converged_at
                    .map(|t| t.saturating_since(SimTime::ZERO + scenario.duration).as_micros() as f64 / 1e6),
            },
            "repair": {
                "hints_stored": self.hints_stored,
                "hints_delivered": self.hints_delivered,
                "hints_remaining": self.hints_remaining,
                "read_repairs": self.read_repairs,
                "replicas_repaired": self.replicas_repaired,
                "peer_suspicions": self.suspicions,
                "tombstones_purged": self.tombstones_purged,
                "buffered_versions_lost": self.buffer_lost,
            },
            "timeline": {"window_s": self.window_us as f64 / 1e6, "windows": windows, "fault_windows": fault_windows},
            "faults": self.faults.iter().map(|(t, a)| json!({"at_s": secs(*t), "action": a})).collect::<Vec<_>>(),
            "scatter": {
                "stride": self.scatter_stride,
                "points": self
                    .scatter
                    .iter()
                    .map(|(t, l, ok, k)| json!([secs(*t), ms(*l), ok, k.name()]))
                    .collect::<Vec<_>>(),
            },
            "workload_end_s": secs(SimTime::ZERO + scenario.duration),
        })
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

impl Sink for Collector {
    fn record(&mut self, at: SimTime, record: &Record) {
        self.end = self.end.max(at);
        match record {
            Record::OpInvoked {
                op,
                kind,
                key,
                write,
                based_on,
                blind,
                discarded,
            } => self.on_invoked(*op, *kind, *key, *write, based_on, *blind, discarded, at),
            Record::OpCompleted {
                op,
                kind,
                key,
                invoked,
                result,
                values,
                ..
            } => self.on_completed(at, *op, *kind, *key, *invoked, result, values),
            Record::Fault { action } => self.on_fault(at, action),
            Record::PeerTrusted { .. }
            | Record::MembershipChange { .. }
            | Record::MembershipConverged { .. }
            | Record::TransferOffered { .. }
            | Record::TransferDone { .. }
            | Record::BootstrapDone { .. } => self.membership.record(at, record),
            Record::MembershipLearned { .. } => {}
            Record::Preloaded { keys } => {
                // Loaded values count as acknowledged puts; their histories
                // are made when a key is first touched (`history`), and the
                // untouched keys are judged at the end (`durability`).
                self.preloaded = *keys;
                self.writes_attempted += keys;
                self.acked_puts += keys;
            }
            Record::HintStored { .. } => self.hints_stored += 1,
            Record::HintsDelivered { count, .. } => self.hints_delivered += u64::from(*count),
            Record::ReadRepair { replicas, .. } => {
                self.read_repairs += 1;
                self.replicas_repaired += u64::from(*replicas);
            }
            Record::PeerSuspected { .. } => {
                self.suspicions += 1;
                self.membership.record(at, record);
            }
            Record::TombstonesPurged { count, .. } => self.tombstones_purged += u64::from(*count),
            Record::BufferLost { versions, .. } => self.buffer_lost += u64::from(*versions),
            Record::FinalValues {
                node,
                key,
                values,
                replica,
            } => {
                self.held
                    .entry(*key)
                    .or_default()
                    .extend(values.iter().map(|v| v.write()));
                if *replica {
                    self.replica_values
                        .entry(*key)
                        .or_default()
                        .insert(*node, values.clone());
                }
            }
            Record::FinalHint { key, value, .. } => {
                self.hints_remaining += 1;
                self.held.entry(*key).or_default().insert(value.write());
            }
            Record::ClientStarted { .. } => {}
            Record::ReplicasConverged => self.converged_at = Some(at),
        }
    }
}

/// True when `path` names a number in every summary (for validating
/// `expect` blocks before a run).
pub fn is_known_metric(path: &str) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    let kinds = ["get", "put", "delete"];
    let latency = [
        "count", "ok", "failed", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
    ];
    match parts.as_slice() {
        ["availability"] | ["workload_end_s"] => true,
        ["capacity", rest @ ..] => crate::capacity::is_known_metric(rest),
        ["ops", x] => ["total", "ok", "failed"].contains(x),
        ["availability_by_kind", k] => kinds.contains(k),
        ["latency", k, x] => kinds.contains(k) && latency.contains(x),
        ["latency", k, "failures", r] => {
            kinds.contains(k) && ["not_enough_replicas", "client_timeout", "overloaded"].contains(r)
        }
        ["staleness", x] => ["reads_checked", "stale_reads", "stale_read_fraction"].contains(x),
        ["staleness", "k_staleness", k] => *k == "10+" || k.parse::<u8>().is_ok_and(|k| k < 10),
        ["siblings", x] => [
            "reads",
            "not_found",
            "1",
            "2",
            "3",
            "4+",
            "single_version_fraction",
        ]
        .contains(x),
        ["durability", x] => [
            "writes_attempted",
            "acknowledged",
            "acknowledged_puts",
            "acknowledged_deletes",
            "surviving",
            "lost",
            "unacknowledged_present",
            "discarded_by_reconciliation",
            "preloaded",
        ]
        .contains(x),
        ["anomalies", x] => [
            "resurrected_deletes",
            "read_your_writes_violations",
            "monotonic_read_violations",
        ]
        .contains(x),
        ["convergence", x] => [
            "keys_checked",
            "divergent_keys",
            "converged",
            "time_to_converge_s",
        ]
        .contains(x),
        ["anti_entropy", x] => [
            "exchanges",
            "in_sync",
            "hashes_sent",
            "versions_sent",
            "bytes_estimated",
        ]
        .contains(x),
        ["repair", x] => [
            "hints_stored",
            "hints_delivered",
            "hints_remaining",
            "read_repairs",
            "replicas_repaired",
            "peer_suspicions",
            "tombstones_purged",
            "buffered_versions_lost",
        ]
        .contains(x),
        ["membership", x] => [
            "changes_issued",
            "convergence_max_s",
            "rounds_max",
            "unconverged",
        ]
        .contains(x),
        ["membership", "gossip", x] => ["enabled", "messages", "bytes"].contains(x),
        ["membership", "bootstraps", i, x] => {
            i.parse::<usize>().is_ok()
                && [
                    "started_s",
                    "done_s",
                    "duration_s",
                    "transfer_s",
                    "ranges",
                    "p99_ms_during",
                    "p99_ms_before",
                ]
                .contains(x)
        }
        ["membership", "decommissions", i, x] => {
            i.parse::<usize>().is_ok()
                && [
                    "started_s",
                    "left_s",
                    "duration_s",
                    "p99_ms_during",
                    "p99_ms_before",
                ]
                .contains(x)
        }
        ["membership", "transfers", x] => [
            "offered",
            "done",
            "keys",
            "versions",
            "duration_mean_s",
            "duration_max_s",
            "keys_sent",
        ]
        .contains(x),
        ["failure_detection", x] => {
            ["suspicions", "false_suspicions", "trusts", "undetected"].contains(x)
        }
        ["failure_detection", "detection_delay_s", x] => {
            ["count", "p50", "max", "mean"].contains(x)
        }
        ["messages", "sent_total"] | ["messages", "duplicated"] => true,
        ["messages", "sent" | "dropped", k] => {
            sim_core::dynamo::protocol::MsgKind::from_name(k).is_some()
        }
        ["messages", "dropped_by_reason", r] => {
            ["partitioned", "lost", "node_down", "overloaded"].contains(r)
        }
        ["load", "load_balancing_efficiency"] => true,
        ["run", x] => ["events", "rng_seed", "end_time_s", "peak_pending_events"].contains(x),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Each checker on a hand-written history with a known answer.

    use super::*;
    use sim_core::engine::ids::OpId;

    fn scenario() -> Scenario {
        let text = r#"{"name":"t","duration_s":10,"cluster":{"nodes":3,"quorum":{"n":3,"r":2,"w":2}},
            "workload":{"clients":2,"arrival":{"open_loop":{"rate_per_s":1}},"keys":{"count":1},"mix":{"read":1}}}"#;
        sim_core::scenario::parse(text, &sim_core::scenario::no_files).expect("valid")
    }

    const K: Key = Key(0);

    fn op(client: u32, seq: u64) -> OpId {
        OpId {
            client: ClientId(client),
            seq,
        }
    }

    fn w(client: u32, seq: u64) -> WriteId {
        WriteId(op(client, seq))
    }

    struct History(Collector);

    impl History {
        fn new() -> Self {
            History(Collector::new(&scenario()))
        }
        fn put(
            &mut self,
            client: u32,
            seq: u64,
            based_on: &[WriteId],
            start: u64,
            end: Option<u64>,
        ) {
            self.write(
                client,
                seq,
                OpKind::Put,
                based_on,
                based_on.is_empty(),
                start,
                end,
            );
        }
        #[allow(clippy::too_many_arguments)]
        fn write(
            &mut self,
            client: u32,
            seq: u64,
            kind: OpKind,
            based_on: &[WriteId],
            blind: bool,
            start: u64,
            end: Option<u64>,
        ) {
            let record = Record::OpInvoked {
                op: op(client, seq),
                kind,
                key: K,
                write: Some(w(client, seq)),
                based_on: based_on.to_vec(),
                blind,
                discarded: vec![],
            };
            self.0.record(SimTime(start), &record);
            if let Some(end) = end {
                let done = Record::OpCompleted {
                    op: op(client, seq),
                    kind,
                    key: K,
                    invoked: SimTime(start),
                    result: Ok(()),
                    values: vec![],
                    coordinator: None,
                };
                self.0.record(SimTime(end), &done);
            }
        }
        fn get(&mut self, client: u32, seq: u64, start: u64, end: u64, values: &[WriteId]) {
            let inv = Record::OpInvoked {
                op: op(client, seq),
                kind: OpKind::Get,
                key: K,
                write: None,
                based_on: vec![],
                blind: false,
                discarded: vec![],
            };
            self.0.record(SimTime(start), &inv);
            let done = Record::OpCompleted {
                op: op(client, seq),
                kind: OpKind::Get,
                key: K,
                invoked: SimTime(start),
                result: Ok(()),
                values: values.iter().map(|v| Value::Data(*v)).collect(),
                coordinator: None,
            };
            self.0.record(SimTime(end), &done);
        }
        fn holds(&mut self, node: u32, values: &[WriteId]) {
            let r = Record::FinalValues {
                node: NodeId(node),
                key: K,
                values: values.iter().map(|v| Value::Data(*v)).collect(),
                replica: true,
            };
            self.0.record(SimTime(1_000_000), &r);
        }
        fn lost(&self) -> Vec<WriteId> {
            self.0.lost_writes().into_iter().map(|l| l.write).collect()
        }
    }

    #[test]
    fn a_write_superseded_by_a_surviving_descendant_is_not_lost() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[w(0, 1)], 20, Some(30)); // read w(0,1), wrote on top of it
        h.holds(0, &[w(1, 1)]);
        assert!(h.lost().is_empty());
    }

    #[test]
    fn an_acknowledged_write_no_node_holds_is_lost_and_an_unacknowledged_one_is_not() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[w(0, 1)], 20, Some(30));
        h.put(1, 2, &[w(0, 1)], 40, None); // never acknowledged
        h.holds(0, &[w(0, 1)]); // the descendant w(1,1) vanished
        assert_eq!(h.lost(), vec![w(1, 1)]);
    }

    #[test]
    fn a_concurrent_sibling_does_not_cover_its_twin() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(0, 2, &[w(0, 1)], 20, Some(30));
        h.put(1, 1, &[w(0, 1)], 21, Some(31)); // concurrent with w(0,2)
        h.holds(0, &[w(0, 2)]);
        assert_eq!(h.lost(), vec![w(1, 1)]);
    }

    #[test]
    fn a_blind_write_overwrites_what_was_acknowledged_before_it_started() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[], 20, Some(30)); // blind, after w(0,1) was acknowledged
        h.put(0, 2, &[], 25, Some(35)); // blind, but w(1,1) was not yet acknowledged at 25
        h.holds(0, &[w(0, 2)]);
        assert_eq!(h.lost(), vec![w(1, 1)]);
    }

    #[test]
    fn reads_are_stale_only_when_missing_the_latest_write_acknowledged_before_they_started() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(0, 2, &[w(0, 1)], 20, Some(30));
        h.get(1, 1, 25, 26, &[w(0, 1)]); // w(0,2) not acknowledged yet at 25: fresh
        h.get(1, 2, 40, 41, &[w(0, 1)]); // stale by one version, 10 µs after commit
        h.get(1, 3, 50, 51, &[w(0, 2)]); // fresh
        let c = &h.0;
        assert_eq!((c.reads_checked, c.stale_reads), (3, 1));
        assert_eq!(c.k_staleness[0], 2);
        assert_eq!(c.k_staleness[1], 1);
        assert_eq!(c.monotonic_violations, 0);
    }

    #[test]
    fn session_guarantees_are_checked_per_client() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(0, 2, &[w(0, 1)], 20, Some(30));
        h.get(0, 3, 40, 41, &[w(0, 1)]); // client 0 misses its own write
        h.get(1, 1, 50, 51, &[w(0, 2)]);
        h.get(1, 2, 60, 61, &[w(0, 1)]); // client 1 goes backwards
        assert_eq!(h.0.ryw_violations, 1);
        assert_eq!(h.0.monotonic_violations, 1);
    }

    #[test]
    fn a_deleted_value_returned_after_the_delete_is_a_resurrection() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.write(0, 2, OpKind::Delete, &[w(0, 1)], false, 20, Some(30));
        h.get(1, 1, 40, 41, &[]); // deleted: nothing
        h.get(1, 2, 50, 51, &[w(0, 1)]); // the deleted value is back
        assert_eq!(h.0.resurrected, 1);
        // A deleted write is not "lost" even though nobody holds it.
        assert!(h.lost().is_empty());
    }

    /// Writes in [`long_chain`], 100 ms apart: 5 s (the horizon of the test
    /// scenario: 2 × 2 s client timeout + 1 s request timeout) is 50 writes.
    const CHAIN: u64 = 5_000;

    /// One client's read-modify-write chain on one key: write `i` (`w(0, i)`)
    /// is based on write `i - 1`, invoked at `i × 100 ms` and acknowledged
    /// 1 ms later, except every hundredth (`i % 100 == 50`), which fails
    /// (never acknowledged, but read and built upon). With `deletes`, every
    /// write with `i % 10 == 5` is a delete. After each write another client reads it back.
    /// With `sibling`, client 2 writes once, concurrently with write 2001 and
    /// based on the same write 2000; no read ever returns it. Returns the
    /// history and the largest retained write count seen along the way.
    fn long_chain(deletes: bool, sibling: bool) -> (History, usize) {
        let mut h = History::new();
        let mut most = 0;
        for i in 1..=CHAIN {
            let start = i * 100_000;
            let parents: Vec<WriteId> = if i == 1 { vec![] } else { vec![w(0, i - 1)] };
            let end = (i % 100 != 50).then_some(start + 1_000);
            let kind = if deletes && i % 10 == 5 {
                OpKind::Delete
            } else {
                OpKind::Put
            };
            h.write(0, i, kind, &parents, i == 1, start, end);
            if sibling && i == 2001 {
                h.put(2, 1, &[w(0, 2000)], start + 500, Some(start + 1_500));
            }
            h.get(1, i, start + 2_000, start + 3_000, &[w(0, i)]);
            most = most.max(h.0.retained_writes());
        }
        (h, most)
    }

    /// What [`long_chain`] may retain: the horizon's 50 writes, RETAIN_ACKED
    /// more, 20 while a failed write settles (one client timeout after its
    /// invocation; its descendants wait for it), and up to as many again
    /// added between two passes.
    const BOUND: usize = 2 * (50 + RETAIN_ACKED + 20) + 1;

    fn durability(h: &History) -> (u64, u64, u64) {
        let d = h.0.durability();
        (d.lost, d.surviving, d.unacked_present)
    }

    /// Blind writes to one key that nobody reads: the backstop keeps the
    /// history near [`UNREAD_BACKSTOP`], and the verdicts follow the last
    /// write (every blind write supersedes what was acknowledged before it).
    #[test]
    fn a_key_nobody_reads_is_bounded_by_the_backstop() {
        const WRITES: u64 = 3 * UNREAD_BACKSTOP as u64;
        let run = || {
            let mut h = History::new();
            let mut most = 0;
            for i in 1..=WRITES {
                h.put(0, i, &[], i * 100_000, Some(i * 100_000 + 2_000));
                most = most.max(h.0.retained_writes());
            }
            (h, most)
        };
        let (mut h, most) = run();
        assert!(
            most <= 2 * UNREAD_BACKSTOP + 1,
            "retained up to {most} of {WRITES}"
        );
        assert!(h.0.retired_writes() >= WRITES - 2 * UNREAD_BACKSTOP as u64);
        h.holds(0, &[w(0, WRITES)]);
        assert_eq!(durability(&h), (0, WRITES, 0), "the last write covers all");
        // The last write lost: every write is lost, folded ones included.
        let (h, _) = run();
        assert_eq!(h.0.lost_count(), WRITES);
        assert_eq!(h.0.lost_writes()[0].write, w(0, 1));
    }

    #[test]
    fn a_long_read_modify_write_chain_keeps_a_bounded_history() {
        let (h, most) = long_chain(false, false);
        assert!(most <= BOUND, "retained up to {most} of {CHAIN} writes");
        assert!(h.0.retired_writes() >= CHAIN - BOUND as u64);
        // The checks still see every recent version: all reads are fresh.
        assert_eq!(h.0.reads_checked, CHAIN);
        assert_eq!(h.0.stale_reads, 0);
        assert_eq!((h.0.ryw_violations, h.0.monotonic_violations), (0, 0));
    }

    #[test]
    fn retired_writes_share_the_fate_of_their_heir() {
        let failed = CHAIN / 100;
        let acked = CHAIN - failed;
        // The tip survives: everything folded into the retained history survives.
        let (mut h, _) = long_chain(false, false);
        h.holds(0, &[w(0, CHAIN)]);
        assert_eq!(durability(&h), (0, acked, failed));
        assert!(h.lost().is_empty());

        // Nothing survives: the retained writes are lost and take their folds
        // with them; the listing names the retained ones and the earliest
        // folded write, the count is exact.
        let (h, _) = long_chain(false, false);
        assert_eq!(durability(&h), (acked, 0, 0));
        assert_eq!(h.0.lost_count(), acked);
        let listed = h.0.lost_writes();
        assert!(listed.len() <= BOUND + 1, "{} listed", listed.len());
        assert_eq!(listed[0].write, w(0, 1));
        assert_eq!(listed[0].acked_at, SimTime(101_000));
        assert_eq!(listed.last().map(|l| l.write), Some(w(0, CHAIN)));

        // A retained write 30 versions back survives: exactly the 30 after it
        // are lost, and what was folded into the history before it survives.
        let (mut h, _) = long_chain(false, false);
        h.holds(0, &[w(0, CHAIN - 30)]);
        assert_eq!(durability(&h), (30, acked - 30, failed));
        let lost = h.lost();
        assert_eq!(lost.first(), Some(&w(0, CHAIN - 29)));
        assert_eq!(lost.len(), 30);

        // The documented approximation: a node holding only a retired write
        // (version 10) while its successors all vanished. The exact answer
        // is `acked - 10` lost; the retired write followed its heir.
        let (mut h, _) = long_chain(false, false);
        h.holds(0, &[w(0, 10)]);
        assert_eq!(durability(&h), (acked, 0, 0));
    }

    #[test]
    fn a_concurrent_sibling_no_read_returns_stays_retained_and_is_lost_alone() {
        let (mut h, most) = long_chain(false, true);
        assert!(most <= BOUND + 1, "retained up to {most}");
        h.holds(0, &[w(0, CHAIN)]);
        assert_eq!(h.lost(), vec![w(2, 1)]);
        let failed = CHAIN / 100;
        assert_eq!(durability(&h), (1, CHAIN - failed, failed));
    }

    #[test]
    fn writes_folded_into_a_deleted_history_are_neither_lost_nor_surviving() {
        let (h, most) = long_chain(true, false);
        assert!(most <= BOUND, "retained up to {most}");
        assert_eq!(h.0.acked_deletes, CHAIN / 10);
        // Nothing held: the puts after the last delete (4996..=5000) are
        // lost, every earlier one was deleted by an acknowledged delete.
        assert_eq!(durability(&h), (5, 0, 0));
        assert_eq!(
            h.lost(),
            (4996..=CHAIN).map(|i| w(0, i)).collect::<Vec<_>>()
        );
    }

    fn four_nodes() -> Scenario {
        let text = r#"{"name":"t","duration_s":10,"cluster":{"nodes":4,"quorum":{"n":3,"r":2,"w":2}},
            "workload":{"clients":1,"arrival":{"open_loop":{"rate_per_s":1}},"keys":{"count":1},"mix":{"read":1}}}"#;
        sim_core::scenario::parse(text, &sim_core::scenario::no_files).expect("valid")
    }

    fn ms(ms: u64) -> SimTime {
        SimTime(ms * 1000)
    }

    #[test]
    fn membership_failure_detection_and_transfers_from_a_hand_made_history() {
        let s = four_nodes();
        let mut c = Collector::new(&s);
        let n = NodeId;
        let suspect = |by, peer| Record::PeerSuspected {
            by: n(by),
            peer: n(peer),
        };
        let crash = FaultAction::Crash {
            node: n(2),
            disk_loss: false,
        };
        c.record(ms(1000), &Record::Fault { action: crash });
        c.record(ms(1500), &suspect(0, 2)); // delay 0.5 s
        c.record(ms(1700), &suspect(0, 2)); // n0 again: not a second pair
        c.record(ms(2000), &suspect(1, 2)); // delay 1.0 s
        c.record(ms(3000), &suspect(0, 3)); // n3 is up: false
        c.record(
            ms(3200),
            &Record::PeerTrusted {
                by: n(0),
                peer: n(3),
            },
        );
        c.record(
            ms(4000),
            &Record::MembershipChange {
                at: n(0),
                member: n(3),
                version: 2,
                change: "leave",
            },
        );
        c.record(
            ms(5000),
            &Record::TransferOffered {
                giver: n(3),
                target: n(1),
                transfer: 7,
                keys: 40,
            },
        );
        c.record(
            ms(5750),
            &Record::TransferDone {
                giver: n(3),
                target: n(1),
                transfer: 7,
                keys: 40,
                versions: 50,
                offered: ms(5000),
            },
        );
        // Another member's convergence, and one of the same member at an
        // older version: neither matches the change.
        for (member, version) in [(1, 2), (3, 1)] {
            c.record(
                ms(6000),
                &Record::MembershipConverged {
                    member: n(member),
                    version,
                    issued: ms(4000),
                    rounds: 9,
                },
            );
        }
        c.record(
            ms(6500),
            &Record::MembershipConverged {
                member: n(3),
                version: 2,
                issued: ms(4000),
                rounds: 3,
            },
        );
        c.record(
            ms(7000),
            &Record::MembershipChange {
                at: n(1),
                member: n(3),
                version: 3,
                change: "left",
            },
        );
        c.record(
            ms(8000),
            &Record::Fault {
                action: FaultAction::Restart { node: n(2) },
            },
        );
        c.record(ms(9000), &suspect(3, 2)); // after the restart: not a detection

        let fd = c.failure_detection();
        assert_eq!(
            fd,
            json!({
                "suspicions": 5,
                "false_suspicions": 2,
                "trusts": 1,
                "detection_delay_s": {"count": 2, "p50": 0.5, "max": 1.0, "mean": 0.75},
                "undetected": 1,
            })
        );
        let stats = [NodeStats::default(); 4];
        let m = c.membership(&s, &stats);
        assert_eq!(
            m["changes"],
            json!([
                {"member": "n3", "change": "leave", "version": 2, "issued_s": 4.0, "converged_s": 2.5, "rounds": 3},
                {"member": "n3", "change": "left", "version": 3, "issued_s": 7.0, "converged_s": null, "rounds": null},
            ])
        );
        assert_eq!(m["changes_issued"], json!(2));
        assert_eq!(m["convergence_max_s"], json!(2.5));
        assert_eq!(m["rounds_max"], json!(3));
        assert_eq!(m["unconverged"], json!(1));
        assert_eq!(
            m["transfers"],
            json!({"offered": 1, "done": 1, "keys": 40, "versions": 50,
                   "duration_mean_s": 0.75, "duration_max_s": 0.75, "keys_sent": 0})
        );
        // Every new leaf is an `expect`able metric.
        let summary = json!({"membership": m, "failure_detection": fd});
        for (path, value) in [
            ("membership.unconverged", 1.0),
            ("membership.changes_issued", 2.0),
            ("membership.convergence_max_s", 2.5),
            ("membership.rounds_max", 3.0),
            ("membership.gossip.enabled", 0.0),
            ("membership.gossip.messages", 0.0),
            ("membership.gossip.bytes", 0.0),
            ("membership.transfers.offered", 1.0),
            ("membership.transfers.done", 1.0),
            ("membership.transfers.keys", 40.0),
            ("membership.transfers.versions", 50.0),
            ("membership.transfers.duration_mean_s", 0.75),
            ("membership.transfers.duration_max_s", 0.75),
            ("membership.transfers.keys_sent", 0.0),
            ("failure_detection.suspicions", 5.0),
            ("failure_detection.false_suspicions", 2.0),
            ("failure_detection.trusts", 1.0),
            ("failure_detection.undetected", 1.0),
            ("failure_detection.detection_delay_s.count", 2.0),
            ("failure_detection.detection_delay_s.p50", 0.5),
            ("failure_detection.detection_delay_s.max", 1.0),
            ("failure_detection.detection_delay_s.mean", 0.75),
        ] {
            assert!(is_known_metric(path), "{path}");
            assert_eq!(crate::expect::lookup(&summary, path), Some(value), "{path}");
        }
        assert!(!is_known_metric("membership.changes"));
        assert!(!is_known_metric("failure_detection.detection_delay_s"));
        // Still counted in the repair block as before.
        assert_eq!(c.suspicions, 5);
    }

    #[test]
    fn the_false_suspicion_of_the_brief_is_the_only_one() {
        // The brief's sequence exactly: crash n2 at 1 s, suspected by n0 at
        // 1.5 s and n1 at 2 s, n3 (up) suspected at 3 s.
        let s = four_nodes();
        let mut c = Collector::new(&s);
        c.record(
            ms(1000),
            &Record::Fault {
                action: FaultAction::Crash {
                    node: NodeId(2),
                    disk_loss: true,
                },
            },
        );
        for (t, by, peer) in [(1500, 0, 2), (2000, 1, 2), (3000, 1, 3)] {
            c.record(
                ms(t),
                &Record::PeerSuspected {
                    by: NodeId(by),
                    peer: NodeId(peer),
                },
            );
        }
        let fd = c.failure_detection();
        assert_eq!(fd["false_suspicions"], json!(1));
        assert_eq!(fd["detection_delay_s"]["p50"], json!(0.5));
        assert_eq!(fd["detection_delay_s"]["max"], json!(1.0));
        // n3 never suspected n2 and the outage is still open at the end.
        assert_eq!(fd["undetected"], json!(1));
    }

    #[test]
    fn no_suspicions_or_changes_give_zeros_and_nulls() {
        let s = four_nodes();
        let mut c = Collector::new(&s);
        // A partition and a slow node are not crashes: no detection pairs.
        c.record(
            ms(1000),
            &Record::Fault {
                action: FaultAction::SlowNode {
                    node: NodeId(1),
                    extra: sim_core::world::dist::Latency::Constant { us: 1000.0 },
                },
            },
        );
        let fd = c.failure_detection();
        assert_eq!(fd["suspicions"], json!(0));
        assert_eq!(fd["false_suspicions"], json!(0));
        assert_eq!(fd["undetected"], json!(0));
        assert_eq!(
            fd["detection_delay_s"],
            json!({"count": 0, "p50": null, "max": null, "mean": null})
        );
        let m = c.membership(&s, &[NodeStats::default(); 4]);
        assert_eq!(m["changes"], json!([]));
        assert_eq!(m["convergence_max_s"], Json::Null);
        assert_eq!(m["rounds_max"], Json::Null);
        assert_eq!(m["unconverged"], json!(0));
        assert_eq!(m["transfers"]["done"], json!(0));
        assert_eq!(m["transfers"]["duration_max_s"], Json::Null);
        let summary = json!({"membership": m, "failure_detection": fd});
        assert_eq!(
            crate::expect::lookup(&summary, "membership.convergence_max_s"),
            None
        );
        assert_eq!(
            crate::expect::lookup(&summary, "failure_detection.false_suspicions"),
            Some(0.0)
        );
    }
}
