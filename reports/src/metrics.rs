//! The metrics collector: a streaming [`Sink`] that turns a run's records into
//! the summary (`summary.json`).
//!
//! It owns the *checkers* as well as the counters:
//! - **staleness** (PBS, Bailis et al. 2012): t-visibility and k-staleness,
//!   with the rules below;
//! - **durability** (Jepsen-style): which acknowledged writes are lost;
//! - **anomalies**: deletes that resurface, read-your-writes and
//!   monotonic-read violations per client session;
//! - **convergence**: keys whose top-N replicas disagree at the end.
//!
//! # The rules
//!
//! **Order of events.** Records arrive in run order, so "before" is exact
//! even within one microsecond: a write acknowledged by a record that came
//! before a read's invocation record was acknowledged before the read
//! started (a closed-loop client that reads with zero think time after its
//! put's acknowledgement reads *after* it, at t = 0). Every record gets a
//! number in arrival order; comparisons of "done before invoked" use it.
//!
//! **Done.** A write is *done* at its commit (the coordinator's W-th
//! acknowledgement, [`Record::WriteCommitted`]: PBS's definition and the
//! default `metrics.staleness_origin`) or, with the `client_ack` origin, when
//! its client received the acknowledgement. A committed write is done even if
//! its client never hears of it.
//!
//! **Supersedes.** Write `w` supersedes write `v` (w ≠ v) when `v` is in
//! `w`'s causal past (ground truth: the values `w`'s client read before
//! writing; a blind write in that past supersedes everything acknowledged
//! before it was invoked, as a register overwrite does), or `v` was done
//! before `w` was invoked (real-time order). Two writes neither of which
//! supersedes the other are *concurrent*; in particular two writes that
//! overlap in real time (each invoked before the other was done) are
//! concurrent unless one was based on the other. A write that is never done
//! (failed, or still in flight) may take effect at any later time, so it
//! overlaps every write invoked after it.
//!
//! **Staleness.** A read must see the writes done before it started. It is
//! *consistent* when at least one value it returned is superseded by none of
//! them: it returned the newest write, one concurrent with it, or one newer
//! still. So a read returning either of two overlapping writes is not stale
//! (they were never ordered, and last-write-wins may keep either), while a
//! read returning a value some finished write replaced is. A read that
//! returns nothing when a write was done is stale. Its **k** is, for the
//! returned value that fares best, the number of writes done before the read
//! that supersede it (10 and more are one bucket): for a linear history,
//! how many versions behind the newest it was. Its **t** runs from when the
//! newest of those writes was done to when the read started (see [`crate::tvis`]
//! for the curve). Reads before any write was done are not checked. This is
//! PBS's register view under both versionings: under vector clocks a read
//! that returns one of two concurrent siblings is consistent here; missing
//! siblings show in `siblings`, read-your-writes and durability.
//!
//! **Loss.** An acknowledged write is lost when, at the end, no node holds
//! it nor a value that supersedes it causally (as above, blind writes
//! included), and no acknowledged delete superseded it. Under last-write-wins
//! the store keeps one of concurrent writes by design, so there a write is
//! also safe while some node holds a value no older than it in real time
//! (acknowledged after it was invoked, or never acknowledged): the survivor
//! of two overlapping writes is not a loss, and neither is a write replaced
//! by a later one its client did not base on it. Under vector clocks
//! concurrent writes must all be kept (as siblings), so dropping one is.
//!
//! **Sessions.** Read-your-writes: a read started after the client's own
//! write was acknowledged must return that write or a value carrying it
//! (vector clocks), or, under last-write-wins, a value no older than it
//! (concurrent or newer). Monotonic reads: a read started after the client's
//! previous read of the key completed must return, for each value that read
//! returned, the value or one that causally supersedes it (vector clocks),
//! or, under last-write-wins, a value no older than it (reading one of two
//! overlapping writes and then the other is not going back).
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
//!    the longest an operation can take: the client timeout, or with
//!    `workload.retries` one per attempt plus the backoffs), and all of them
//!    longer ago than the *horizon*;
//! 3. the horizon is twice that longest operation plus the request timeout
//!    (`2 × client_timeout + request_timeout` without retries): every
//!    operation ends within it of its invocation, so no read still in
//!    flight, nor any later one, can find a retired write among the last ten
//!    acknowledged before it started; the t-visibility and k-staleness figures
//!    are exact (k counts retained writes only, and a returned value that was
//!    retired is behind every retained write done before the read). With the commit origin this relies on
//!    the sixteen writes acknowledged after `w` also committing after it,
//!    which fails only if all sixteen overlapped `w` with slower client legs;
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
//! Still unbounded under this rule: failed writes that no later version
//! covers stay retained (a read returning one later must still be
//! recognised); and, since rule 2 counts later writes *to the same key*, a
//! key written fewer than [`RETAIN_ACKED`] times keeps its whole history:
//! with more keys than writes (blind writes over a large loaded key space)
//! the retained writes grow with the number of writes. A retention window
//! (next) bounds that by time instead. What such a key costs is kept small
//! as well: its writes are a [`SmallMap`] (a sorted vector up to
//! [`sim_core::engine::small_map::SMALL_MAP_MAX`] entries: a `BTreeMap`'s
//! first node has room for eleven, over a kilobyte of `WriteInfo`s), its
//! chains an `id_map::IdMap` (slots by chain id, as many as it holds), and
//! once it goes quiet it is packed (see "Cold keys").
//!
//! # Retention window
//!
//! With `metrics.retention_window_s` (off by default), retention no longer
//! depends on later writes to the key. Rule 2 gets an alternative: a write
//! that *settled* (its acknowledgement, or its invocation plus the longest
//! an operation can take, and its commit if it had one, which can follow a
//! client's giving up) more than the window ago may be retired whatever
//! came after it; rules 1, 3 and 4 stand (the window is at least the
//! horizon: a shorter one is rejected). Like the exact rule, this assumes a
//! commit arrives within the horizon of its write's invocation: one later
//! still (a request delayed beyond it) finds its write retired and is
//! ignored, so commit-origin reads no longer count it. Such *timed passes* run per key the
//! longest operation plus a window after an operation on it completed (one
//! armed at a time; an operation completing meanwhile has the pass arm the
//! next), each at its own due time, so when the next record arrives changes
//! nothing, and on a frozen key in its packed form's place (it stays
//! frozen), so freezing changes nothing either (`reports/tests/retention.rs`).
//! A timed pass's evidence is the latest read's values or, for a key no read
//! returned anything for, its latest acknowledged write. Under either
//! origin it keeps the latest done write and the latest done among those
//! it could retire, so every read, one in flight during the pass included,
//! still has the newest write it had to see, and its t is exact. A retained
//! value that a retired write superseded in real time (it was done before
//! that write was invoked) is still stale: each key keeps, per origin, the
//! latest invocation among its retired done writes.
//!
//! A pass on a *quiet* key (no operation on it completed since the pass was
//! armed, so every completion came a longest operation plus a window
//! before it) also settles its sessions: a client's last write, and its
//! last read, whose writes all retired are replaced by the fact of them
//! (`Settled`, two bits). That is all the session checks still need: a
//! retired write is covered by any value, so only a read returning nothing
//! can miss it, and every read checked from then on started after it
//! (`reports/tests/retention.rs` runs the checker scenarios at the
//! shortest window each accepts with and without settling
//! ([`Collector::keep_sessions_whole`]) and finds the summaries identical,
//! and a unit test has a settled session charge a read returning nothing
//! as the exact rule does). Packed, such a session is two bytes instead of
//! a dozen.
//!
//! Memory then follows the window's writes and a write or two per key,
//! not the writes: last-write-wins blind writes over 1M loaded keys peak at
//! 427.7 MB (2M) and 779.7 MB (6M) under the exact rule, 386.7 and 436.6 MB
//! with a 5 s window (393.7 and 538.4 MB before sessions settled; `cargo
//! bench -p reports --bench memory`,
//! `blind_writes_*_lww_window_5s_peak_rss_mb`). What still grows is the
//! keys touched (86 % of them at 2M, all but 0.25 % at 6M) and a settled
//! session per client that wrote a key. A key read once and then only
//! written keeps its later writes: the old read's values are its evidence
//! and cover none of them (rule 2 or the backstop of "Keys nobody reads"
//! bounds them; a unit test pins this).
//!
//! *Approximations*, only for checks that reach back past the window (a
//! stale replica returning a value that settled more than a window before
//! and that a read had already seen replaced):
//! - **k** of a read returning a retired value counts the retained writes
//!   done before the read (up to 10), not the retired ones between: fewer
//!   than exactly when the history is linear; and it is at least 1 even if
//!   the value was concurrent with every later write (siblings, overlapping
//!   writes), which exactly would be consistent. A retained value's k is
//!   exact but for retired writes (at least 1 when one superseded it);
//! - **sessions and resurrection**: a retired write counts as covered, as
//!   under rule 2, so a read that misses a client's write retired by time
//!   is not charged (one returning nothing still is), and a retired value
//!   returned after an acknowledged delete counts as resurfaced (an
//!   overcount when the value came after the delete);
//! - **durability**: fate sharing as above, and for keys nobody reads the
//!   latest acknowledged write stands in for a read ("Keys nobody reads"):
//!   if it is lost while a replica keeps an older write, the older one is
//!   counted lost with it.
//!
//! On six shipped checker scenarios a 30 s window changes no figure at all
//! (`reports/tests/retention.rs` compares whole summaries). A window as
//! short as the horizon checks the same reads and finds the same ones
//! stale, and moves the other figures in the directions above:
//! partition-heal (5 s) reads 43 read-your-writes violations instead of
//! 59, 35 monotonic-read violations instead of 41, a mean k of 1.77
//! instead of 1.93; chaos (3 s) 2 resurrected deletes instead of 1 (`cargo
//! test --release -p reports --test retention -- --nocapture` prints them).
//!
//! # Cold keys
//!
//! A key's history is needed again only when a record touches the key. At
//! most `cold::HOT_KEYS` histories stay unpacked: beyond them a key no
//! record reached for a while (the CLOCK algorithm's choice, an
//! approximation of the least recently used) is packed, with its clients'
//! sessions, into about
//! 36 bytes per write (`cold`: varints, times as deltas from the write's
//! invocation or its own acknowledgement), and the next record of the key unpacks it first. (The
//! first version packed every key no record had touched for 500 ms of
//! virtual time: on the zipfian baseline over 100k keys, packing and
//! unpacking keys that come back every second or so took a fifth of the
//! run's CPU; the cap packs only what memory needs.) The cap adapts to the
//! run (`cold::HotCap`): every 65,536 reads and blind writes it halves,
//! down to 4,096 (or twice the operations in flight), when fewer of them
//! than an eighth of it found their key unpacked, and doubles back, up to
//! `cold::HOT_KEYS`, when more than half did. Uniform access over a
//! million keys thus keeps a few thousand histories unpacked instead of
//! 65,536 for a few more thaws (the memory bench's blind writes: 79 MB
//! less at 500k, 106 MB at 2M), and a zipfian draw keeps them all (the
//! scale bench's `scale_unpacked_cap`). Packing is exact, so no
//! verdict depends on it: `reports/tests/cold_keys.rs` runs checker
//! scenarios with every key frozen after each record and with none and
//! compares whole summaries. The summary reads packed keys one at a
//! time. What this saves is the layout, not the writes: a blind write over a
//! large key space still costs its packed bytes until the end.
//!
//! **End state.** The nodes' final values arrive as flat lists (held
//! values, replica values) sorted when the summary needs them. The top-N
//! replicas' copies take 16 bytes a copy and 8 a value, in small chunks
//! (`end_state`): the engine releases each node's stores once the node
//! has reported them, and the chunks take the freed memory's place, so the
//! end state adds little to the run's peak. A loaded key nobody touched can
//! only hold its loaded value, so its copies are a bit and a (key, node)
//! pair each (`LoadedEnd`), not map entries: a run that loads a million
//! keys and touches a few pays a few bytes per copy.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Value as Json};
use sim_core::config::{Arrival, Scenario, StalenessOrigin, Versioning};
use sim_core::dynamo::node::NodeStats;
use sim_core::dynamo::protocol::{Failure, Value};
use sim_core::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};
use sim_core::engine::record::{OpKind, Record, Sink};
use sim_core::engine::small_map::SmallMap;
use sim_core::engine::time::{SimDuration, SimTime};
use sim_core::world::faults::FaultAction;

use crate::histogram::Histogram;
use crate::key_bits::KeyBits;
use crate::membership::Tracker;
use crate::tvis::{wilson95, TVisibility};

mod cold;

/// The most key histories the collector keeps unpacked (`cold`'s cap; the
/// budget counts what an unpacked key's writes cost beside).
pub const HOT_KEYS: usize = cold::HOT_KEYS;
mod end_state;
mod id_map;
mod in_flight;
mod room;

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

/// "None" in the times and record numbers of a [`WriteInfo`] or a
/// [`Session`]: no run reaches it (times are microseconds, capped far
/// below; a run stops long before `u64::MAX` records).
const UNSET: u64 = u64::MAX;

/// `UNSET` for none, the value otherwise.
fn packed(v: Option<u64>) -> u64 {
    debug_assert_ne!(v, Some(UNSET), "no time or record number reaches u64::MAX");
    v.unwrap_or(UNSET)
}

/// The value, or none for `UNSET`.
fn unpacked(v: u64) -> Option<u64> {
    (v != UNSET).then_some(v)
}

/// A retained write. Its optional times and record numbers are kept as
/// plain words with [`UNSET`] for none and read through the methods of the
/// same names: 64 bytes a write instead of 88 (a retained write is the
/// largest item of the collector's memory).
#[derive(Clone, Debug)]
struct WriteInfo {
    invoked: SimTime,
    /// The collector's record number of the invocation (see
    /// [`Collector::seq`]): orders events within one microsecond.
    invoked_seq: u64,
    /// When the client received the acknowledgement
    /// ([`WriteInfo::committed`]; the name is older than the commit below).
    acked_at: u64,
    /// The record number of the acknowledgement ([`WriteInfo::ack_seq`]).
    acked_seq: u64,
    /// The commit (the coordinator's W-th acknowledgement) and its record
    /// number ([`WriteInfo::commit`], none when the number is unset); the
    /// acknowledgement stands in when no commit was recorded.
    commit_at: u64,
    commit_seq: u64,
    /// The linear run of writes this one belongs to (see [`Chain`]).
    chain: u32,
    /// Position in that run (0 at its first write).
    depth: u32,
    tombstone: bool,
    /// A blind write (no context) overwrites, in register semantics, every
    /// write acknowledged before it was invoked. It always starts a chain.
    blind: bool,
}

impl WriteInfo {
    /// A write invoked at `invoked` (record `invoked_seq`), neither
    /// acknowledged nor committed, placed by [`KeyHistory::insert`].
    fn invoked(invoked: SimTime, invoked_seq: u64, tombstone: bool, blind: bool) -> WriteInfo {
        WriteInfo {
            invoked,
            invoked_seq,
            acked_at: UNSET,
            acked_seq: UNSET,
            commit_at: UNSET,
            commit_seq: UNSET,
            chain: 0,
            depth: 0,
            tombstone,
            blind,
        }
    }

    /// When the client received the acknowledgement.
    fn committed(&self) -> Option<SimTime> {
        unpacked(self.acked_at).map(SimTime)
    }

    /// The record number of the acknowledgement.
    fn ack_seq(&self) -> Option<u64> {
        unpacked(self.acked_seq)
    }

    /// The commit and its record number.
    fn commit(&self) -> Option<(SimTime, u64)> {
        unpacked(self.commit_seq).map(|s| (SimTime(self.commit_at), s))
    }

    /// Acknowledged to its client at `at`, record `seq`.
    fn set_acked(&mut self, at: SimTime, seq: u64) {
        self.acked_at = packed(Some(at.0));
        self.acked_seq = packed(Some(seq));
    }

    /// Committed at `at`, record `seq`.
    fn set_commit(&mut self, at: SimTime, seq: u64) {
        self.commit_at = packed(Some(at.0));
        self.commit_seq = packed(Some(seq));
    }

    /// The record number at which the write was done under `origin`.
    fn done_seq(&self, origin: StalenessOrigin) -> Option<u64> {
        match origin {
            StalenessOrigin::Commit => self.commit().map(|(_, s)| s),
            StalenessOrigin::ClientAck => self.ack_seq(),
        }
    }

    /// Where the write sits: (chain, depth).
    fn place(&self) -> Place {
        (self.chain, self.depth)
    }
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
    /// The retained writes the chain's first write was based on, with
    /// where each sits (fixed when it was inserted), latest invoked first;
    /// a parent leaves this list when it is retired, so every entry is
    /// retained.
    parents: Vec<Parent>,
    /// The latest invocation of a blind write among the chain's first write
    /// and its retired causal past (`SimTime::ZERO` when there is none).
    blind_floor: SimTime,
}

/// A chain's retained parent and its place, copied from its [`WriteInfo`] so
/// that an ancestry walk moves from chain to chain without looking writes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parent {
    id: WriteId,
    chain: u32,
    depth: u32,
    invoked: SimTime,
}

impl Parent {
    /// Where the parent sits: (chain, depth), as [`WriteInfo::place`].
    fn place(&self) -> Place {
        (self.chain, self.depth)
    }

    fn of(id: WriteId, info: &WriteInfo) -> Parent {
        Parent {
            id,
            chain: info.chain,
            depth: info.depth,
            invoked: info.invoked,
        }
    }
}

/// A write's place: (chain, depth).
type Place = (u32, u32);

/// How one write covers another ([`KeyHistory::cover`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cover {
    /// Not covered.
    No,
    /// The ancestor is in the value's causal past (or is the value).
    Past,
    /// Covered for another reason: a blind write in the value's past was
    /// invoked after the ancestor was acknowledged, or the ancestor was
    /// retired.
    Otherwise,
}

thread_local! {
    /// [`KeyHistory::covers`]'s work lists, kept between calls so that a
    /// query allocates nothing: the (chain, depth) positions to visit, and
    /// per chain the deepest position explored.
    static COVER_SCRATCH: std::cell::RefCell<(Vec<Place>, Reach)> =
        const { std::cell::RefCell::new((Vec::new(), Reach::new())) };
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

/// What a set of roots supersedes, or what an ancestry walk has explored:
/// per chain, the deepest member reached (every shallower retained member
/// is reached too).
///
/// For a key whose chains sit in slots (`IdMap::Dense`, nearly every key),
/// a slot per chain id from `base`, stamped with the walk's number: a step
/// is one index, with no search or allocation per chain, and a reach used
/// again for another walk ([`Reach::start`]; [`KeyHistory::cover`]'s, kept
/// between calls) clears nothing. Otherwise a map by chain. (As a map
/// for every key, or as a list sorted by chain for the cover walk, the
/// searches and inserts were most of a walk's instructions on a busy key.)
struct Reach {
    /// The walk's number; a slot stamped with another is not reached.
    stamp: u32,
    /// Chain ids from here have slots, while `dense`.
    base: u32,
    /// Per chain id from `base`: (stamp, deepest depth reached); grown as
    /// walks reach further ids.
    slots: Vec<(u32, u32)>,
    /// True while `slots` serve the walk; else `sparse` does.
    dense: bool,
    sparse: BTreeMap<u32, u32>,
}

impl Reach {
    const fn new() -> Reach {
        Reach {
            stamp: 0,
            base: 0,
            slots: Vec::new(),
            dense: false,
            sparse: BTreeMap::new(),
        }
    }

    /// Nothing reached, over chains with ids from `base` on (`None`: any
    /// ids).
    fn empty(base: Option<u32>) -> Reach {
        let mut r = Reach::new();
        r.start(base);
        r
    }

    /// Forgets what was reached, for a walk over chains with ids from
    /// `base` on (`None`: any ids). Slots are made as the walk reaches
    /// them, so a walk that reaches nothing (a key without deletes, in the
    /// durability verdicts) allocates nothing.
    fn start(&mut self, base: Option<u32>) {
        match base {
            Some(base) => {
                if self.stamp == u32::MAX {
                    self.slots.iter_mut().for_each(|s| *s = (0, 0));
                    self.stamp = 0;
                }
                self.stamp += 1;
                self.base = base;
                self.dense = true;
            }
            None => {
                self.sparse.clear();
                self.dense = false;
            }
        }
    }

    /// True when the write at `(chain, depth)` is reached.
    #[inline]
    fn contains(&self, (chain, depth): Place) -> bool {
        if self.dense {
            return chain
                .checked_sub(self.base)
                .and_then(|i| self.slots.get(i as usize))
                .is_some_and(|(stamp, d)| *stamp == self.stamp && *d >= depth);
        }
        self.sparse.get(&chain).is_some_and(|d| *d >= depth)
    }

    /// Marks `(chain, depth)` reached; false when it (or a deeper member of
    /// its chain) was already. `chain` is a chain of the walk's span.
    #[inline(always)]
    fn reach(&mut self, (chain, depth): Place) -> bool {
        if self.dense {
            let i = (chain - self.base) as usize;
            if i >= self.slots.len() {
                self.slots.resize(i + 1, (0, 0));
            }
            let slot = &mut self.slots[i];
            if slot.0 == self.stamp && slot.1 >= depth {
                return false;
            }
            *slot = (self.stamp, depth);
            return true;
        }
        match self.sparse.get(&chain) {
            Some(d) if *d >= depth => false,
            _ => {
                self.sparse.insert(chain, depth);
                true
            }
        }
    }
}

/// A write a retirement pass may retire, with what the pass asks of it
/// (copied from its [`WriteInfo`], which stays as it is while the pass
/// retires others).
struct Candidate {
    invoked: SimTime,
    id: WriteId,
    place: Place,
    committed: Option<SimTime>,
}

#[derive(Clone, Debug, Default)]
struct KeyHistory {
    /// Retained writes.
    writes: SmallMap<WriteId, WriteInfo>,
    /// Retained acknowledged writes in acknowledgement order.
    acked: Vec<(SimTime, WriteId)>,
    /// Retained committed writes in commit order (the coordinator's W-th
    /// acknowledgement; acknowledged or not).
    commits: Vec<(SimTime, WriteId)>,
    chains: id_map::IdMap<Chain>,
    next_chain: u32,
    /// Set by every record that reaches this history, cleared when the
    /// freezing clock passes it (see "Cold keys" in the module docs).
    referenced: bool,
    /// Writes added since the last retirement pass.
    since_pass: usize,
    /// The values of the latest successful read that returned any.
    evidence: Vec<WriteId>,
    /// Writes retired so far.
    retired: u64,
    /// Deletes and what retirement left (see [`Past`]): made on first
    /// need ([`KeyHistory::past_mut`]).
    past: Option<Box<Past>>,
    /// One session per client that read or wrote the key, by client (kept
    /// with the history, so that a read finds its session without a second
    /// map lookup and a key's sessions freeze with it).
    sessions: Vec<(ClientId, Session)>,
}

/// What only a key with deletes or retired writes keeps, apart from its
/// history so that the many keys with neither pay a pointer for it, not
/// 96 bytes ([`KeyHistory::past`] reads an empty one for them).
#[derive(Clone, Debug, Default)]
struct Past {
    /// Acknowledged deletes in commit order: every retained one, and retired
    /// ones only while a read could still take them for the latest delete
    /// before it started.
    deletes: Vec<(SimTime, WriteId)>,
    /// Deletes whose outcome the client never learned (a client timeout,
    /// or the coordinator's quorum timeout after it had sent the
    /// tombstone): they may have taken effect, so what they supersede and
    /// no node holds at the end is not counted lost (Jepsen's rule for
    /// indeterminate operations). Retained ones only.
    indeterminate_deletes: Vec<WriteId>,
    folds: BTreeMap<WriteId, Fold>,
    /// The latest blind floor among retired acknowledged deletes: what they
    /// still supersede among the retained writes.
    deleted_floor: SimTime,
    /// Per origin (commit, client acknowledgement), the largest invocation
    /// record number among retired writes that were done by that origin
    /// before they settled (0: none). A retained value done before it was
    /// superseded, in real time, by a write no longer here (see
    /// "Retention window" in the module docs).
    retired_done_invoked: [u64; 2],
}

/// The [`Past`] of a key that has none yet.
static NO_PAST: Past = Past {
    deletes: Vec::new(),
    indeterminate_deletes: Vec::new(),
    folds: BTreeMap::new(),
    deleted_floor: SimTime::ZERO,
    retired_done_invoked: [0; 2],
};

impl Past {
    /// True when it holds nothing (a key without one reads the same).
    fn is_empty(&self) -> bool {
        self.deletes.is_empty()
            && self.indeterminate_deletes.is_empty()
            && self.folds.is_empty()
            && self.deleted_floor == SimTime::ZERO
            && self.retired_done_invoked == [0; 2]
    }
}

impl KeyHistory {
    /// The key's deletes and what retirement left (empty for most keys).
    fn past(&self) -> &Past {
        self.past.as_deref().unwrap_or(&NO_PAST)
    }

    /// The same, to change: made on first need.
    fn past_mut(&mut self) -> &mut Past {
        self.past.get_or_insert_with(Box::default)
    }

    /// `client`'s session on this key.
    fn session(&self, client: ClientId) -> Option<&Session> {
        self.sessions
            .binary_search_by_key(&client, |(c, _)| *c)
            .ok()
            .map(|i| &self.sessions[i].1)
    }

    /// `client`'s session on this key, made empty if it had none.
    fn session_mut(&mut self, client: ClientId) -> &mut Session {
        let i = match self.sessions.binary_search_by_key(&client, |(c, _)| *c) {
            Ok(i) => i,
            Err(i) => {
                room::vec(&mut self.sessions);
                self.sessions.insert(i, (client, Session::default()));
                i
            }
        };
        &mut self.sessions[i].1
    }

    /// Records a new write and places it in a chain.
    fn insert(&mut self, w: WriteId, mut info: WriteInfo, parents: &[WriteId]) {
        self.since_pass += 1;
        let extends = match parents {
            [p] if !info.blind => self.writes.get(p).and_then(|pi| {
                let chain = &self.chains[pi.chain];
                (chain.members.back() == Some(p)).then_some((pi.chain, pi.depth + 1))
            }),
            _ => None,
        };
        match extends {
            Some((chain, depth)) => {
                let members = &mut self
                    .chains
                    .get_mut(chain)
                    .expect("a retained write's chain exists")
                    .members;
                room::deque(members);
                members.push_back(w);
                info.chain = chain;
                info.depth = depth;
            }
            None => {
                info.chain = self.next_chain;
                info.depth = 0;
                self.next_chain += 1;
                // A retired parent ends the ancestry (its whole past is
                // retired); an unknown one never had any.
                let mut parents: Vec<Parent> = parents
                    .iter()
                    .filter_map(|p| self.writes.get(p).map(|pi| Parent::of(*p, pi)))
                    .collect();
                // Latest invoked first: an ancestry walk stops at the first
                // one invoked before the write it looks for.
                parents.sort_by(|x, y| y.invoked.cmp(&x.invoked).then(x.id.cmp(&y.id)));
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
        self.cover(ancestor, v) != Cover::No
    }

    /// [`KeyHistory::covers`], saying how: [`Cover::Past`] when the walk
    /// found `ancestor` itself in `v`'s causal past (or `v` is it), which is
    /// transitive, unlike the other reasons.
    fn cover(&self, ancestor: WriteId, v: WriteId) -> Cover {
        if ancestor == v {
            return Cover::Past;
        }
        let Some(a) = self.writes.get(&ancestor) else {
            return if self.retired > 0 {
                Cover::Otherwise
            } else {
                Cover::No
            };
        };
        let Some(vi) = self.writes.get(&v) else {
            return Cover::No;
        };
        self.cover_retained(a, vi)
    }

    /// [`KeyHistory::cover`] for two distinct retained writes whose entries
    /// the caller has looked up (`a`'s, then `v`'s).
    fn cover_retained(&self, a: &WriteInfo, vi: &WriteInfo) -> Cover {
        let floor = a.invoked;
        let acked_before = |t: SimTime| a.committed().is_some_and(|c| c < t);
        COVER_SCRATCH.with(|scratch| {
            let (stack, explored) = &mut *scratch.borrow_mut();
            stack.clear();
            explored.start(self.chains.dense_base());
            stack.push(vi.place());
            while let Some((chain_id, depth)) = stack.pop() {
                if chain_id == a.chain && a.depth <= depth {
                    return Cover::Past;
                }
                if !explored.reach((chain_id, depth)) {
                    continue;
                }
                let chain = &self.chains[chain_id];
                if acked_before(chain.blind_floor) {
                    return Cover::Otherwise;
                }
                // Parents invoked before `ancestor` cannot descend from it.
                // One that sits at or below it in its chain answers at once,
                // as it would when popped (a write over many siblings has as
                // many parents).
                for p in chain.parents.iter().take_while(|p| p.invoked >= floor) {
                    if p.chain == a.chain && a.depth <= p.depth {
                        return Cover::Past;
                    }
                    stack.push(p.place());
                }
            }
            Cover::No
        })
    }

    /// The retained writes a read must see under `origin`, in origin order.
    fn prior(&self, origin: StalenessOrigin) -> &[(SimTime, WriteId)] {
        match origin {
            StalenessOrigin::Commit => &self.commits,
            StalenessOrigin::ClientAck => &self.acked,
        }
    }

    /// How many entries of `list` happened before a read invoked at
    /// `start` (record number `start_seq`): every entry before `start`, and
    /// those of the same microsecond whose record came first (`seq_of`).
    fn count_before(
        &self,
        list: &[(SimTime, WriteId)],
        start: SimTime,
        start_seq: u64,
        seq_of: impl Fn(&WriteInfo) -> Option<u64>,
    ) -> usize {
        let mut n = partition_point_from_back(list, |(t, _)| *t < start);
        while n < list.len()
            && list[n].0 == start
            && self
                .writes
                .get(&list[n].1)
                .and_then(&seq_of)
                .is_some_and(|s| s < start_seq)
        {
            n += 1;
        }
        n
    }

    /// True when write `w` supersedes write `v` (`w != v`): `v` is in `w`'s
    /// causal past (or a blind write there was invoked after `v` was
    /// acknowledged), or `v` was done (committed or acknowledged, per
    /// `origin`) before `w` was invoked. Writes neither of which supersedes
    /// the other are concurrent. A retired `v` is superseded by every
    /// retained write; a retired `w` supersedes nothing here.
    fn supersedes(&self, w: WriteId, v: WriteId, origin: StalenessOrigin) -> bool {
        if w == v {
            return false;
        }
        let Some(wi) = self.writes.get(&w) else {
            return false;
        };
        let Some(vi) = self.writes.get(&v) else {
            return true;
        };
        self.supersedes_retained((w, wi), (v, vi), origin)
    }

    /// [`KeyHistory::supersedes`] for two distinct retained writes whose
    /// entries the caller has looked up.
    fn supersedes_retained(
        &self,
        (w, wi): (WriteId, &WriteInfo),
        (v, vi): (WriteId, &WriteInfo),
        origin: StalenessOrigin,
    ) -> bool {
        if vi.done_seq(origin).is_some_and(|d| d < wi.invoked_seq) {
            return true;
        }
        debug_assert_ne!(w, v, "two distinct writes");
        self.cover_retained(vi, wi) != Cover::No
    }

    /// How many writes of `prior` (writes a read had to see, in origin
    /// order) supersede the returned value `v`, counting at most 10.
    fn newer_than(
        &self,
        v: WriteId,
        prior: &[(SimTime, WriteId)],
        origin: StalenessOrigin,
    ) -> usize {
        let Some(vi) = self.writes.get(&v) else {
            return prior.len().min(10);
        };
        let mut n = 0;
        for (t, w) in prior.iter().rev() {
            // A write done before `v` was invoked was invoked before it too,
            // and a superseding write is invoked after `v`.
            if *t < vi.invoked {
                break;
            }
            // `supersedes(w, v)`, with `v`'s entry looked up once.
            let newer = *w != v
                && self
                    .writes
                    .get(w)
                    .is_some_and(|wi| self.supersedes_retained((*w, wi), (v, vi), origin));
            if newer {
                n += 1;
                if n == 10 {
                    break;
                }
            }
        }
        n
    }

    /// True when a retired write superseded the retained `v` in real time:
    /// `v` was done (per `origin`) before that write was invoked (see
    /// "Retention window" in the module docs; the write was done long
    /// before any read that asks).
    fn superseded_by_retired(&self, v: WriteId, origin: StalenessOrigin) -> bool {
        let slot = match origin {
            StalenessOrigin::Commit => 0,
            StalenessOrigin::ClientAck => 1,
        };
        self.writes
            .get(&v)
            .and_then(|i| i.done_seq(origin))
            .is_some_and(|d| d < self.past().retired_done_invoked[slot])
    }

    /// True when write `w` was acknowledged to its client before record
    /// `seq` (a retired write was, long before).
    fn acked_before(&self, w: WriteId, seq: u64) -> bool {
        self.writes
            .get(&w)
            .is_none_or(|i| i.ack_seq().is_some_and(|a| a < seq))
    }

    fn covered_by_any(&self, w: WriteId, values: &[WriteId]) -> bool {
        values.iter().any(|v| self.covers(w, *v))
    }

    /// True when `p` is in `w`'s causal past as far as can be told without
    /// a walk (both retained): shallower in the same chain, or one of the
    /// writes the chain's first write, `w`, was based on.
    fn in_near_past(&self, p: WriteId, w: WriteId) -> bool {
        let (Some(pi), Some(wi)) = (self.writes.get(&p), self.writes.get(&w)) else {
            return false;
        };
        if pi.chain == wi.chain {
            return pi.depth < wi.depth;
        }
        wi.depth == 0 && self.chains[wi.chain].parents.iter().any(|x| x.id == p)
    }

    /// Everything `roots` supersede (inclusive): their causal past, plus for
    /// a blind write every write acknowledged before it was invoked, and the
    /// same for blind writes invoked up to `floor`. Only retained writes are
    /// answered for.
    fn reach(&self, roots: impl IntoIterator<Item = WriteId>, floor: SimTime) -> Reach {
        let mut blind_floor = SimTime::ZERO;
        let acked = &self.acked;
        let place = |w: &WriteId| self.writes.get(w).map(WriteInfo::place);
        let mut raise = move |to: SimTime, stack: &mut Vec<Place>| {
            if to > blind_floor {
                blind_floor = to;
                let before = partition_point_from_back(acked, |(t, _)| *t < to);
                stack.extend(acked[..before].iter().filter_map(|(_, w)| place(w)));
            }
        };
        let mut stack: Vec<Place> = roots.into_iter().filter_map(|w| place(&w)).collect();
        raise(floor, &mut stack);
        self.walk(stack, |chain, stack| raise(chain.blind_floor, stack))
    }

    /// Walks the causal past of the writes at `stack`'s places through
    /// parent links (a parent's place is kept with it, so the walk looks no
    /// write up), calling `on_chain` each time it reaches a chain deeper
    /// than before (it may push more places); per chain, the deepest member
    /// reached. Only retained writes have places.
    fn walk(
        &self,
        mut stack: Vec<Place>,
        mut on_chain: impl FnMut(&Chain, &mut Vec<Place>),
    ) -> Reach {
        let mut reached = Reach::empty(self.chains.dense_base());
        while let Some((chain_id, depth)) = stack.pop() {
            if !reached.reach((chain_id, depth)) {
                continue;
            }
            let chain = &self.chains[chain_id];
            stack.extend(chain.parents.iter().map(Parent::place));
            on_chain(chain, &mut stack);
        }
        reached
    }

    /// `v`'s causal past (inclusive) through parent links, per chain the
    /// deepest member reached, and the latest blind floor among the chains
    /// it meets: `covers(w, v)` is exactly "`w` reached, or `w`
    /// acknowledged before that floor" (a chain whose blind floor follows
    /// `w`'s acknowledgement holds writes invoked after `w`, so the walk
    /// in `covers`, which skips only writes invoked before `w`, meets it
    /// too).
    fn ancestry(&self, v: WriteId) -> (Reach, SimTime) {
        let mut floor = SimTime::ZERO;
        let start = self.writes.get(&v).map(WriteInfo::place);
        let reach = self.walk(start.into_iter().collect(), |chain, _| {
            floor = floor.max(chain.blind_floor)
        });
        (reach, floor)
    }

    /// True when enough writes were added since the last pass for another
    /// one to pay off (amortised O(1) per write).
    fn pass_due(&self) -> bool {
        self.since_pass >= PASS_MIN_WRITES.max(self.writes.len() / 2)
    }

    /// One retirement pass at `now` behind the latest read's evidence.
    fn retire(&mut self, now: SimTime, horizon: SimDuration, longest_op: SimDuration) {
        let evidence = std::mem::take(&mut self.evidence);
        self.retire_behind(&evidence, now, horizon, longest_op, None);
        self.evidence = evidence;
    }

    /// A timed pass at `now` (see "Retention window" in the module docs):
    /// retires what settled `window` ago behind the latest read's values,
    /// or, for a key no read returned anything for, its latest
    /// acknowledged write.
    fn timed_pass(
        &mut self,
        now: SimTime,
        horizon: SimDuration,
        longest_op: SimDuration,
        window: SimDuration,
        settle: bool,
    ) -> u64 {
        let read = !self.evidence.is_empty();
        let evidence = if read {
            Some(std::mem::take(&mut self.evidence))
        } else {
            self.acked.last().map(|(_, w)| vec![*w])
        };
        if let Some(evidence) = evidence {
            self.retire_behind(&evidence, now, horizon, longest_op, Some(window));
            if read {
                self.evidence = evidence;
            }
        }
        let mut settled = 0;
        if settle {
            for (_, session) in &mut self.sessions {
                settled += session.settle(&self.writes, self.retired);
            }
        }
        settled
    }

    /// One retirement pass at `now` (see the module docs): `evidence` are
    /// the values storage is known to hold (a read's, or for a key nobody
    /// reads its newest acknowledged write). Writes that never completed
    /// settle `longest_op` after their invocation.
    fn retire_behind(
        &mut self,
        evidence: &[WriteId],
        now: SimTime,
        horizon: SimDuration,
        longest_op: SimDuration,
        window: Option<SimDuration>,
    ) {
        if window.is_none() {
            // Timed passes leave the count alone: it paces the passes
            // after reads and acknowledgements (and the backstop's).
            self.since_pass = 0;
        }
        let Some(limit) = now.as_micros().checked_sub(horizon.as_micros()) else {
            return;
        };
        if evidence.is_empty() {
            return;
        }
        let cut = match window {
            // Settled a window ago, whatever came after.
            Some(window) => match now.as_micros().checked_sub(window.as_micros()) {
                Some(cut) => SimTime(cut),
                None => return,
            },
            // Sixteen acknowledged writes later, all beyond the horizon.
            None => {
                let old = self.acked.partition_point(|(t, _)| t.as_micros() < limit);
                if old < RETAIN_ACKED {
                    return;
                }
                self.acked[old - RETAIN_ACKED].0
            }
        };
        // Under a window a write settles once its commit, if it had one,
        // came too (a commit can follow a client's giving up), so what a
        // timed pass retires was done before every read it can matter to.
        let settled = |i: &WriteInfo| {
            let s = i.committed().unwrap_or(i.invoked + longest_op);
            match (window, i.commit()) {
                (Some(_), Some((c, _))) => s.max(c),
                _ => s,
            }
        };
        // A timed pass keeps, under either origin, the latest done write
        // and the latest done among those it could retire, so a read, even
        // one in flight, still has the newest write it had to see, and its
        // t (see "Retention window" in the module docs); it leaves out what
        // it keeps before walking anything (most of its passes find nothing
        // else).
        let mut candidates: Vec<Candidate> = Vec::new();
        // Per origin (commit, acknowledgement), the latest done eligible one.
        let mut latest: [Option<(u64, WriteId)>; 2] = [None, None];
        for (w, i) in self.writes.iter().filter(|(_, i)| settled(i) < cut) {
            candidates.push(Candidate {
                invoked: i.invoked,
                id: *w,
                place: i.place(),
                committed: i.committed(),
            });
            if window.is_none() {
                continue;
            }
            for (slot, done) in latest
                .iter_mut()
                .zip([i.commit().map(|(_, s)| s), i.ack_seq()])
            {
                if let Some(d) = done {
                    *slot = (*slot).max(Some((d, *w)));
                }
            }
        }
        if window.is_some() {
            let kept: Vec<WriteId> = evidence
                .iter()
                .copied()
                .chain(
                    [self.acked.last(), self.commits.last()]
                        .into_iter()
                        .flatten()
                        .map(|(_, w)| *w),
                )
                .chain(latest.into_iter().flatten().map(|(_, w)| w))
                .collect();
            candidates.retain(|c| !kept.contains(&c.id));
        }
        if candidates.is_empty() {
            return;
        }
        // Ancestors were invoked before their descendants.
        candidates.sort_unstable_by_key(|c| (c.invoked, c.id));
        // What each evidence value covers, walked once for every candidate
        // (a walk per candidate made a pass quadratic in a hot key's
        // history: 70 s for one pass over 15k writes).
        let views: Vec<(Reach, SimTime)> = evidence.iter().map(|v| self.ancestry(*v)).collect();
        let heir = *evidence.iter().min().expect("not empty");
        // Chains by the retained parents they were based on.
        let mut children: Option<BTreeMap<WriteId, Vec<u32>>> = None;
        // What this pass retires.
        let mut gone: Vec<WriteId> = Vec::new();
        for Candidate {
            id: w,
            place,
            committed,
            ..
        } in candidates
        {
            let oldest = {
                let chain = &self.chains[place.0];
                chain.members.front() == Some(&w) && chain.parents.is_empty()
            };
            let covered = views
                .iter()
                .all(|(anc, floor)| anc.contains(place) || committed.is_some_and(|c| c < *floor));
            debug_assert_eq!(
                covered,
                evidence.iter().all(|v| self.covers(w, *v)),
                "ancestry views answer as covers for {w}"
            );
            if !oldest || evidence.contains(&w) || !covered {
                continue;
            }
            let children = children.get_or_insert_with(|| {
                let mut m: BTreeMap<WriteId, Vec<u32>> = BTreeMap::new();
                for (id, c) in self.chains.iter() {
                    for p in &c.parents {
                        m.entry(p.id).or_default().push(id);
                    }
                }
                m
            });
            self.retire_one(w, heir, children, cut);
            gone.push(w);
        }
        // The acknowledgement, commit and indeterminate-delete lists hold
        // retained writes only (writes leave `writes` here and nowhere
        // else), so what they lose is what this pass retired: looked up in
        // that short list, not in a hot key's map of thousands.
        if !gone.is_empty() {
            gone.sort_unstable();
            let kept = |w: &WriteId| gone.binary_search(w).is_err();
            self.acked.retain(|(_, w)| kept(w));
            if let Some(past) = self.past.as_deref_mut() {
                past.indeterminate_deletes.retain(kept);
            }
            self.commits.retain(|(_, w)| kept(w));
        }
        let writes = &self.writes;
        debug_assert!(
            self.acked
                .iter()
                .chain(&self.commits)
                .map(|(_, w)| w)
                .chain(&self.past().indeterminate_deletes)
                .all(|w| writes.contains_key(w)),
            "the lists hold retained writes only"
        );
        // A retired delete followed by another acknowledged before the
        // horizon can no longer be the latest delete before a read.
        let Some(past) = self.past.as_deref_mut() else {
            return;
        };
        let last_old = past.deletes.partition_point(|(t, _)| t.as_micros() < limit);
        let mut i = 0;
        past.deletes.retain(|(_, d)| {
            i += 1;
            i >= last_old || writes.contains_key(d)
        });
        // A past left empty goes (one retirement of a loaded write, done
        // at record 0, leaves nothing), so a key reads the same whether
        // packed and unpacked or not.
        if past.is_empty() {
            self.past = None;
        }
    }

    /// Retires `w` (the oldest retained write of its chain, with no retained
    /// ancestor) into `heir`.
    fn retire_one(
        &mut self,
        w: WriteId,
        heir: WriteId,
        children: &BTreeMap<WriteId, Vec<u32>>,
        cut: SimTime,
    ) {
        let info = self.writes.remove(&w).expect("a retained write");
        let done = [
            info.commit().is_some_and(|(t, _)| t < cut),
            info.committed().is_some_and(|t| t < cut),
        ];
        let past = self.past_mut();
        for (slot, done) in past.retired_done_invoked.iter_mut().zip(done) {
            if done {
                *slot = (*slot).max(info.invoked_seq);
            }
        }
        let mut fold = past.folds.remove(&w).unwrap_or_default();
        if !info.tombstone {
            match info.committed() {
                Some(at) => fold.absorb(&Fold {
                    acked: 1,
                    unacked: 0,
                    first: Some((at, w)),
                }),
                None => fold.unacked += 1,
            }
        }
        if fold.acked + fold.unacked > 0 {
            self.past_mut().folds.entry(heir).or_default().absorb(&fold);
        }
        let chain = self.chains.get_mut(info.chain).expect("its chain");
        debug_assert_eq!(chain.members.front(), Some(&w));
        chain.members.pop_front();
        let floor = chain.blind_floor;
        if chain.members.is_empty() {
            self.chains.remove(info.chain);
        }
        for c in children.get(&w).into_iter().flatten() {
            if let Some(child) = self.chains.get_mut(*c) {
                child.parents.retain(|p| p.id != w);
                child.blind_floor = child.blind_floor.max(floor);
            }
        }
        if info.tombstone && info.committed().is_some() {
            let past = self.past_mut();
            past.deleted_floor = past.deleted_floor.max(floor);
        }
        self.retired += 1;
    }
}

#[derive(Clone, Debug)]
struct Invocation {
    write: Option<WriteId>,
    /// The invocation's record number.
    seq: u64,
    /// The breakdown phase it was invoked in.
    phase: u32,
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
    /// Every completed operation's latency, failures included (at the
    /// time they took to fail), by histogram bucket.
    latency_all: BTreeMap<usize, u64>,
    reads_checked: u64,
    stale: u64,
}

/// A client's session on one key: its last acknowledged write and last
/// read, each with the record number of its completion.
///
/// Kept in 56 bytes, not 72 (a run has a session for every client and key
/// it pairs): the record numbers are plain words with [`UNSET`] for none,
/// the last read's values an exact boxed slice; read them through
/// [`Session::last_write`] and [`Session::last_read`].
#[derive(Clone, Debug)]
struct Session {
    /// The record number of the last write's acknowledgement ([`UNSET`]:
    /// none) and the write.
    write_seq: u64,
    write: WriteId,
    /// The record number of the last read's completion ([`UNSET`]: none)
    /// and the values it returned.
    read_seq: u64,
    read: Box<[WriteId]>,
    /// What is left of a last write or last read whose writes all retired
    /// by time (see [`Session::settle`]).
    settled: Settled,
}

/// A session's write while it has none (never read: `write_seq` is unset).
const NO_WRITE: WriteId = WriteId(OpId {
    client: ClientId(0),
    seq: 0,
});

impl Default for Session {
    fn default() -> Self {
        Session {
            write_seq: UNSET,
            write: NO_WRITE,
            read_seq: UNSET,
            read: Box::default(),
            settled: Settled::default(),
        }
    }
}

/// Under a retention window, what a session's checks still need of a last
/// write, or of a last read, whose writes have all retired on a quiet key:
/// whether there was one. A retired write counts as covered by any value,
/// so the session check against it is violated by a read that returns
/// nothing, and by no other; and every later read of the key starts after
/// the write or read completed (see [`Session::settle`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Settled {
    /// The client's last write of the key retired.
    wrote: bool,
    /// The client's last read of the key returned values that all retired.
    read: bool,
}

impl Session {
    /// The last write's acknowledgement record number and the write.
    fn last_write(&self) -> Option<(u64, WriteId)> {
        unpacked(self.write_seq).map(|seq| (seq, self.write))
    }

    /// The last read's completion record number and what it returned.
    fn last_read(&self) -> Option<(u64, &[WriteId])> {
        unpacked(self.read_seq).map(|seq| (seq, &*self.read))
    }

    /// A last write acknowledged at record `seq` (none: forgotten).
    fn set_last_write(&mut self, last: Option<(u64, WriteId)>) {
        self.write_seq = packed(last.map(|(seq, _)| seq));
        self.write = last.map_or(NO_WRITE, |(_, w)| w);
    }

    /// A last read completed at record `seq` (none: forgotten).
    fn set_last_read(&mut self, last: Option<(u64, Vec<WriteId>)>) {
        self.read_seq = packed(last.as_ref().map(|(seq, _)| *seq));
        self.read = last
            .map(|(_, ids)| ids.into_boxed_slice())
            .unwrap_or_default();
    }

    /// Replaces a last write, and a last read, whose writes the key's
    /// history no longer retains (`writes`, after `retired` retirements)
    /// by the mere fact of them (a few bytes packed instead of a
    /// dozen: what grew per key with the number of clients that wrote it).
    /// Only on a quiet key under a retention window: a timed pass that
    /// found no operation completed on the key since it was armed, so every
    /// completion on it came at least the longest operation before the
    /// pass, and every read checked from then on started after it (its
    /// record number is then below every later read's start, which is all
    /// the checks compare it with). With no write retired the checks treat
    /// an unknown write differently, so nothing settles then.
    ///
    /// Two assumptions, which a simulation's full record stream meets and
    /// a hand-written or partial one may not: an operation never lasts
    /// longer than the longest operation plus the window (one that did
    /// could have started before a settled completion, where the exact
    /// rule would not charge it), and a read checked with no recorded
    /// invocation (start 0) is never charged through a settled session,
    /// as the exact rule's `seq < start_seq` never charges it.
    ///
    /// Returns how many of the two it settled.
    fn settle(&mut self, writes: &SmallMap<WriteId, WriteInfo>, retired: u64) -> u64 {
        if retired == 0 {
            return 0;
        }
        let mut settled = 0;
        if let Some((_, w)) = self.last_write() {
            if !writes.contains_key(&w) {
                self.set_last_write(None);
                self.settled.wrote = true;
                settled += 1;
            }
        }
        if let Some((_, prev)) = self.last_read() {
            if prev.iter().all(|p| !writes.contains_key(p)) {
                // A last read that returned nothing charges no later one.
                self.settled.read = !prev.is_empty();
                self.set_last_read(None);
                settled += 1;
            }
        }
        settled
    }
}

/// What the nodes held at the end (see [`Collector::held`]).
struct Held<'a> {
    copies: &'a end_state::FinalCopies,
    by_key: end_state::ByKey,
    /// Values held outside the top-N replicas' copies (other nodes, hints),
    /// sorted, without repeats.
    others: Vec<(Key, WriteId)>,
}

impl Held<'_> {
    /// The values some node held for `key` at the end, sorted, without
    /// repeats.
    fn of(&self, key: Key) -> Vec<WriteId> {
        let mut held: Vec<WriteId> = self
            .by_key
            .of(self.copies, key)
            .iter()
            .flat_map(|&c| self.copies.values(c))
            .collect();
        let from = self.others.partition_point(|(k, _)| *k < key);
        let to = from + self.others[from..].partition_point(|(k, _)| *k <= key);
        held.extend(self.others[from..to].iter().map(|(_, w)| *w));
        held.sort_unstable();
        held.dedup();
        held
    }
}

#[derive(Clone, Debug)]
struct FaultWindow {
    start: SimTime,
    end: Option<SimTime>,
    label: String,
}

/// The end state of the loaded keys nobody touched (no read, no write): the
/// only value such a key ever had is its loaded one, so a node's final copy
/// of it says everything as one bit and one (key, node) pair, a few bytes
/// per copy instead of a map entry per key and node (1M loaded keys at
/// N = 3 are 3M copies at the end of a run). Copies holding anything else
/// (nothing, or more than the loaded value) go to the general maps.
#[derive(Debug, Default)]
struct LoadedEnd {
    /// The loaded keys some node (store or hint) holds the value of.
    held: KeyBits,
    /// `(key, node)` of each replica-store copy of exactly the loaded value.
    replica_copies: Vec<(u32, u32)>,
}

/// The replica copies of [`LoadedEnd`] grouped by key, for the summary's
/// convergence check: each key's nodes found by its place, in one pass
/// over the copies (a count per key, then each copy's node put in its
/// key's run) instead of sorting a copy of the list. Four bytes per key up
/// to the highest and four per copy, where the sorted copy took eight per
/// copy.
struct CopiesByKey {
    /// Key `k`'s nodes are `nodes[start[k]..start[k + 1]]`.
    start: Vec<u32>,
    nodes: Vec<u32>,
}

impl CopiesByKey {
    fn of(copies: &[(u32, u32)]) -> CopiesByKey {
        let keys = copies.iter().map(|c| c.0 as usize + 1).max().unwrap_or(0);
        // Counts (key k's at k + 1), then each key's start; each copy's
        // node goes to its key's cursor, which leaves the cursor at the
        // key's end, the next key's start: shifted back by one, the starts
        // again. Copies keep their order within a key.
        let mut start = vec![0u32; keys + 1];
        for c in copies {
            start[c.0 as usize + 1] += 1;
        }
        for k in 1..start.len() {
            start[k] += start[k - 1];
        }
        let mut nodes = vec![0u32; copies.len()];
        for c in copies {
            let cursor = &mut start[c.0 as usize];
            nodes[*cursor as usize] = c.1;
            *cursor += 1;
        }
        start.rotate_right(1);
        if let Some(first) = start.first_mut() {
            *first = 0;
        }
        CopiesByKey { start, nodes }
    }

    /// The nodes holding a copy of `key`.
    fn of_key(&self, key: Key) -> &[u32] {
        match usize::try_from(key.0) {
            Ok(k) if k + 1 < self.start.len() => {
                &self.nodes[self.start[k] as usize..self.start[k + 1] as usize]
            }
            _ => &[],
        }
    }

    /// Each key with a copy, in key order, with its nodes.
    fn runs(&self) -> impl Iterator<Item = (Key, &[u32])> + '_ {
        self.start
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] < w[1])
            .map(|(k, w)| (Key(k as u64), &self.nodes[w[0] as usize..w[1] as usize]))
    }
}

/// The history of `key`, made on first use (a loaded key's starts with its
/// loaded value, acknowledged at time 0).
fn history<'a>(
    keys: &'a mut crate::key_table::KeyTable<Box<KeyHistory>>,
    orphans: &mut BTreeMap<(Key, ClientId), Session>,
    preloaded: u64,
    key: Key,
) -> &'a mut KeyHistory {
    keys.get_or_insert_with(key, || {
        let mut h = KeyHistory::default();
        if !orphans.is_empty() {
            // Sessions of reads made before the key had a history.
            let clients: Vec<ClientId> = orphans
                .range((key, ClientId(0))..=(key, ClientId(u32::MAX)))
                .map(|((_, c), _)| *c)
                .collect();
            for c in clients {
                if let Some(session) = orphans.remove(&(key, c)) {
                    room::vec(&mut h.sessions);
                    h.sessions.push((c, session));
                }
            }
        }
        if key.0 < preloaded {
            let w = WriteId::preloaded(key);
            let mut info = WriteInfo::invoked(SimTime::ZERO, 0, false, false);
            info.set_acked(SimTime::ZERO, 0);
            info.set_commit(SimTime::ZERO, 0);
            h.insert(w, info, &[]);
            room::vec(&mut h.acked);
            h.acked.push((SimTime::ZERO, w));
            room::vec(&mut h.commits);
            h.commits.push((SimTime::ZERO, w));
        }
        Box::new(h)
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
    /// Records seen so far: each record's number orders it among records
    /// of the same microsecond (records arrive in run order).
    seq: u64,
    /// Which writes a read must see, and where its t starts.
    origin: StalenessOrigin,
    /// Last-write-wins arbitrates concurrent writes (see the durability
    /// rules in the module docs).
    versioning: Versioning,
    window_us: u64,
    in_flight: in_flight::InFlight<Invocation>,
    kinds: BTreeMap<OpKind, KindStats>,
    keys: crate::key_table::KeyTable<Box<KeyHistory>>,
    /// How long after it settled a write may still matter to a read in
    /// flight (see the module docs).
    horizon: SimDuration,
    /// The longest an operation can stay in flight
    /// (`Workload::longest_operation`: the client timeout, per attempt
    /// with retries, plus the backoffs): a write never acknowledged has
    /// settled this long after its invocation.
    longest_op: SimDuration,
    acked_puts: u64,
    acked_deletes: u64,
    windows: Vec<Window>,
    t_visibility: TVisibility,
    k_staleness: [u64; 11],
    reads_checked: u64,
    stale_reads: u64,
    siblings: [u64; 5],
    /// Successful puts whose reply carried the object (`return_body`), and
    /// those of them with siblings.
    put_bodies: [u64; 2],
    /// Histories and sessions of the keys frozen for being quiet, packed
    /// (see "Cold keys" in the module docs and [`cold`]).
    cold: crate::key_table::KeyTable<Box<[u8]>>,
    /// Sessions on keys read before they had a history (see `history`,
    /// which moves them into the history it makes).
    orphan_sessions: BTreeMap<(Key, ClientId), Session>,
    /// The most histories kept unpacked, adapted to how often they serve
    /// an operation ([`cold::HotCap`]) unless [`Collector::keep_hot`] fixed
    /// it.
    hot: cold::HotCap,
    /// Every unpacked history's key once, in the order the freezing clock
    /// visits them (see `Collector::freeze_beyond_cap`).
    clock: VecDeque<Key>,
    /// Keys thawed so far (a frozen key touched again).
    thaws: u64,
    /// `metrics.retention_window`: retire what settled this long ago behind
    /// storage evidence, whatever later writes the key gets (see
    /// "Retention window" in the module docs).
    retention_window: Option<SimDuration>,
    /// Timed retirement passes, in due order: `(due, key)`.
    timers: VecDeque<(SimTime, Key)>,
    /// Keys with a timed pass in `timers`.
    armed: KeyBits,
    /// Armed keys an operation completed on since they were armed: their
    /// pass arms them again.
    rearm: KeyBits,
    /// Timed passes run so far.
    timed_passes: u64,
    /// Whether quiet passes settle sessions (see [`Collector::keep_sessions_whole`]).
    settle_sessions: bool,
    /// Sessions settled so far (a last write or a last read each).
    sessions_settled: u64,
    resurrected: u64,
    ryw_violations: u64,
    monotonic_violations: u64,
    /// Of those, the ones where the value missed had been acknowledged
    /// before the later read started.
    monotonic_settled_violations: u64,
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
    /// Every (key, value) a node other than the key's top-N replicas held
    /// at the end (store or buffer), and every hint, in arrival order with
    /// repeats; the replicas' own copies are `replica_copies`. Merged and
    /// sorted by [`Collector::held`].
    held: Vec<(Key, WriteId)>,
    /// The end state of loaded keys nobody touched, kept compact (see
    /// [`LoadedEnd`]); `held` and `replica_copies` hold every other key.
    loaded_end: LoadedEnd,
    /// The loaded keys with a history (hot or packed): built when the end
    /// state first asks, dropped by any record that can make a history.
    touched_loaded: Option<KeyBits>,
    /// When every range's Merkle roots first agreed after the workload
    /// (anti-entropy on).
    converged_at: Option<SimTime>,
    /// The engine's divergence observations (`Record::Divergence`): the
    /// count of keys whose replicas disagree from each time on, and the
    /// oldest disagreement among them. A row per change, at most one per
    /// 100 ms check.
    divergence: Vec<(SimTime, u64, Option<SimTime>)>,
    /// Each top-N replica's final copy of a touched key, in arrival order
    /// (one entry per node and key): flat lists, 16 bytes a copy and 8 a
    /// value ([`end_state`]), sorted when the summary needs them, rather than
    /// a map per key and a vector per copy.
    copies: end_state::FinalCopies,
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
    /// Siblings, sibling limits and corruption.
    objects: crate::objects::Objects,
    /// By phase, datacenter and client group.
    breakdown: crate::breakdown::Breakdown,
    /// The first stale read, the first resurrected delete and the read
    /// with the most siblings (for `explain --what`).
    findings: Findings,
}

/// One read a checker flagged (see [`Findings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadFinding {
    /// The key read.
    pub key: Key,
    /// The reading client.
    pub client: ClientId,
    /// When the read was invoked.
    pub invoked: SimTime,
    /// When it completed.
    pub completed: SimTime,
    /// The values it returned.
    pub returned: Vec<WriteId>,
    /// What it should have returned: for a stale read the latest write
    /// done before it started; for a resurrection the acknowledged delete.
    pub expected: Option<WriteId>,
    /// For a stale read, how many versions behind (k, capped at 10); for
    /// siblings, how many values it returned.
    pub k: usize,
}

/// The first finding of each read checker in a run, in run order: what
/// `explain --what stale-read|resurrection|siblings` tells the story of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// The first stale read.
    pub stale_read: Option<ReadFinding>,
    /// The first read that returned a value an acknowledged delete covered.
    pub resurrection: Option<ReadFinding>,
    /// The first read that returned the most siblings (two or more).
    pub siblings: Option<ReadFinding>,
}

impl Collector {
    /// True for a loaded key no operation has touched (so far: at the end
    /// of the run, for good).
    fn is_untouched_loaded(&mut self, key: Key) -> bool {
        if key.0 >= self.preloaded {
            return false;
        }
        // The end state asks this for every copy of every loaded key: a
        // lookup in the map of packed keys per copy was a tenth of a
        // blind-write run. A bit per loaded key, built once from both maps,
        // answers for `has_history` instead.
        if self.touched_loaded.is_none() {
            let mut bits = KeyBits::with_capacity(self.preloaded);
            for k in self.keys.keys().chain(self.cold.keys()) {
                if k.0 < self.preloaded {
                    bits.insert(k);
                }
            }
            self.touched_loaded = Some(bits);
        }
        !self.has_history(key)
    }

    /// True when `key` has a history, hot or frozen (told by the loaded
    /// keys' bitset while it exists: it is exact then).
    fn has_history(&self, key: Key) -> bool {
        match &self.touched_loaded {
            Some(bits) if key.0 < self.preloaded => bits.contains(key),
            _ => self.keys.contains_key(&key) || self.cold.contains_key(&key),
        }
    }

    /// Unpacks `key`'s history and sessions if the key was frozen.
    fn thaw(&mut self, key: Key) {
        if self.cold.is_empty() {
            return;
        }
        if let Some(bytes) = self.cold.remove(&key) {
            self.thaws += 1;
            self.keys.insert(key, Box::new(cold::unpack(&bytes)));
        }
    }

    /// Arms a timed retirement pass over `key` at `due` (see "Retention
    /// window" in the module docs), or, if one is armed already, has that
    /// pass arm the next.
    fn arm(&mut self, key: Key, due: SimTime) {
        if self.armed.contains(key) {
            self.rearm.insert(key);
        } else {
            // Dues come in order: a completion's is its record's time plus a
            // constant, and a pass re-arms from its own due, which is later
            // than every record before it (see `run_timed_passes`).
            debug_assert!(self.timers.back().is_none_or(|(d, _)| *d <= due));
            self.armed.insert(key);
            self.timers.push_back((due, key));
        }
    }

    /// Runs the timed retirement passes due by `now`, each at its own due
    /// time (so when the next record arrives changes nothing). A frozen key
    /// is passed over unpacked aside and stays frozen, packed again if the
    /// pass changed it.
    fn run_timed_passes(&mut self, now: SimTime) {
        let Some(window) = self.retention_window else {
            return;
        };
        while let Some(&(due, key)) = self.timers.front() {
            if due > now {
                break;
            }
            self.timers.pop_front();
            self.armed.remove(key);
            // Quiet: no operation on the key completed since the pass was
            // armed, a longest operation plus a window ago.
            let quiet = !self.rearm.remove(key);
            if !quiet {
                self.arm(key, due + self.longest_op + window);
            }
            let settle = quiet && self.settle_sessions;
            if let Some(h) = self.keys.get_mut(&key) {
                self.timed_passes += 1;
                self.sessions_settled +=
                    h.timed_pass(due, self.horizon, self.longest_op, window, settle);
            } else if let Some(bytes) = self.cold.get_mut(&key) {
                self.timed_passes += 1;
                // A frozen key is passed over in its packed form's place: it
                // stays frozen; the pass's result is packed aside and stored
                // only if it differs (replacing every key's bytes on every
                // pass churned the heap into fragments).
                let mut h = cold::unpack(bytes);
                self.sessions_settled +=
                    h.timed_pass(due, self.horizon, self.longest_op, window, settle);
                let packed = cold::pack(&h);
                if packed != *bytes {
                    *bytes = packed;
                }
            }
        }
    }

    /// Fixes the cap on unpacked histories at `max` and stops it adapting
    /// (see "Cold keys" in the module docs): beyond `max`, keys no record
    /// reached for a while are packed. By default the cap starts at
    /// `cold::HOT_KEYS` and adapts (`cold::HotCap`); no metric depends on
    /// it (`reports/tests/cold_keys.rs` runs scenarios with every key frozen
    /// after each record, with none, and with the adaptive cap).
    pub fn keep_hot(&mut self, max: usize) {
        self.hot = cold::HotCap::fixed(max);
    }

    /// The cap on unpacked histories now (see [`Collector::keep_hot`]).
    pub fn hot_cap(&self) -> usize {
        self.hot.max()
    }

    /// Keys frozen now, and how many times a frozen key was thawed.
    pub fn cold_keys(&self) -> (usize, u64) {
        (self.cold.len(), self.thaws)
    }

    /// The packed bytes of the keys frozen now.
    pub fn cold_bytes(&self) -> usize {
        self.cold.values().map(|b| b.len()).sum()
    }

    /// Packs histories, with their sessions, while more than the cap are
    /// unpacked, choosing as the CLOCK page-replacement algorithm does: the
    /// clock's next key is packed unless a record reached it since the
    /// clock last passed, in which case it is cleared and goes round again
    /// (an approximation of least recently used that costs no work per
    /// record beyond setting a flag). See "Cold keys" in the module docs.
    fn freeze_beyond_cap(&mut self) {
        while self.keys.len() > self.hot.max() {
            let Some(key) = self.clock.pop_front() else {
                break;
            };
            let Some(h) = self.keys.get_mut(&key) else {
                continue;
            };
            if h.referenced {
                h.referenced = false;
                self.clock.push_back(key);
                continue;
            }
            let h = self.keys.remove(&key).expect("looked up above");
            self.cold.insert(key, cold::pack(&h));
        }
    }

    /// Every history, hot or frozen, in key order (frozen ones unpacked one
    /// at a time).
    fn for_each_history(&self, mut f: impl FnMut(Key, &KeyHistory)) {
        let mut cold = self.cold.iter().peekable();
        for (key, h) in self.keys.iter() {
            while let Some((ck, bytes)) = cold.next_if(|(ck, _)| *ck < key) {
                f(ck, &cold::unpack_history_only(bytes));
            }
            f(key, h);
        }
        for (ck, bytes) in cold {
            f(ck, &cold::unpack_history_only(bytes));
        }
    }

    /// A collector for `scenario`'s report settings.
    pub fn new(scenario: &Scenario) -> Collector {
        let mass_points = match &scenario.workload.arrival {
            Arrival::Probe(p) => Some(p.t_grid.len()),
            _ => None,
        };
        Collector {
            seq: 0,
            origin: scenario.metrics.staleness_origin,
            versioning: scenario.cluster.versioning,
            t_visibility: TVisibility::new(
                scenario.metrics.t_visibility_grid_us.clone(),
                mass_points,
            ),
            window_us: scenario.metrics.window.as_micros().max(1),
            in_flight: in_flight::InFlight::default(),
            kinds: OpKind::ALL
                .iter()
                .map(|k| {
                    let mut s = KindStats::default();
                    Self::ensure_failure_keys(&mut s);
                    (*k, s)
                })
                .collect(),
            keys: crate::key_table::KeyTable::new(scenario.workload.key_count),
            horizon: scenario.workload.horizon(scenario.cluster.request_timeout),
            longest_op: scenario.workload.longest_operation(),
            acked_puts: 0,
            acked_deletes: 0,
            windows: Vec::new(),
            k_staleness: [0; 11],
            reads_checked: 0,
            stale_reads: 0,
            siblings: [0; 5],
            put_bodies: [0; 2],
            cold: crate::key_table::KeyTable::new(scenario.workload.key_count),
            orphan_sessions: BTreeMap::new(),
            hot: cold::HotCap::default(),
            clock: VecDeque::new(),
            thaws: 0,
            retention_window: scenario.metrics.retention_window,
            timers: VecDeque::new(),
            armed: KeyBits::default(),
            rearm: KeyBits::default(),
            timed_passes: 0,
            settle_sessions: true,
            sessions_settled: 0,
            resurrected: 0,
            ryw_violations: 0,
            monotonic_violations: 0,
            monotonic_settled_violations: 0,
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
            held: Vec::new(),
            loaded_end: LoadedEnd::default(),
            touched_loaded: None,
            converged_at: None,
            divergence: Vec::new(),
            scatter: Vec::new(),
            scatter_stride: 1,
            completions: 0,
            copies: end_state::FinalCopies::new(end_state::chunk_bytes(
                scenario.cluster.versioning,
            )),
            end: SimTime::ZERO,
            preloaded: 0,
            membership: Tracker::new(scenario),
            objects: crate::objects::Objects::new(scenario),
            breakdown: crate::breakdown::Breakdown::new(scenario),
            findings: Findings::default(),
        }
    }

    /// Siblings, sibling limits and corruption (the `objects` and
    /// `corruption` blocks of the summary).
    pub fn objects(&self) -> &crate::objects::Objects {
        &self.objects
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
        let seq = self.seq;
        let phase = self.breakdown.phase();
        self.in_flight.insert(op, Invocation { write, seq, phase });
        if let Some(w) = write {
            self.writes_attempted += 1;
            self.discarded += discarded.len() as u64;
            let info = WriteInfo::invoked(at, seq, kind == OpKind::Delete, blind);
            history(
                &mut self.keys,
                &mut self.orphan_sessions,
                self.preloaded,
                key,
            )
            .insert(w, info, based_on);
        }
    }

    fn ensure_failure_keys(stats: &mut KindStats) {
        for reason in [
            "not_enough_replicas",
            "client_timeout",
            "too_many_siblings",
            "unavailable",
        ] {
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
        // An invocation the collector never saw counts in the first phase.
        let phase = inv.as_ref().map_or(0, |i| i.phase);
        self.breakdown
            .completed(phase, op.client, latency, result.is_ok());
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
                    Failure::TooManySiblings { .. } => "too_many_siblings",
                    Failure::Overloaded => "overloaded",
                    Failure::Unavailable { .. } => "unavailable",
                };
                *stats.failures.entry(reason.to_string()).or_default() += 1;
            }
        }
        self.sample_scatter(at, latency, result.is_ok(), kind);
        let w = self.window(at);
        w.completed += 1;
        *w.latency_all
            .entry(crate::histogram::bucket_of(latency))
            .or_default() += 1;
        if result.is_ok() {
            w.ok += 1;
            *w.latency
                .entry(crate::histogram::bucket_of(latency))
                .or_default() += 1;
        }
        if let Err(f) = result {
            let indeterminate = matches!(
                f,
                Failure::ClientTimeout | Failure::NotEnoughReplicas { .. }
            );
            if let (OpKind::Delete, true, Some(w)) =
                (kind, indeterminate, inv.as_ref().and_then(|i| i.write))
            {
                let h = history(
                    &mut self.keys,
                    &mut self.orphan_sessions,
                    self.preloaded,
                    key,
                );
                if h.writes.contains_key(&w) {
                    h.past_mut().indeterminate_deletes.push(w);
                }
            }
            return;
        }
        match kind {
            OpKind::Get => {
                // An invocation the collector never saw (a partial record
                // stream) is taken to have started before every record.
                let start_seq = inv.map_or(0, |i| i.seq);
                self.check_read(at, op.client, key, invoked, start_seq, values, phase)
            }
            OpKind::Put | OpKind::Delete => {
                let write = inv.and_then(|i| i.write);
                if let Some(w) = write {
                    let seq = self.seq;
                    let h = history(
                        &mut self.keys,
                        &mut self.orphan_sessions,
                        self.preloaded,
                        key,
                    );
                    // A write retired before its acknowledgement arrived
                    // (only an operation outliving the longest one the
                    // horizon allows for, as a hand-written history can) is
                    // not listed: the acknowledgement and commit lists hold
                    // retained writes (deletes and sessions may name
                    // retired ones).
                    if let Some(info) = h.writes.get_mut(&w) {
                        info.set_acked(at, seq);
                        if info.commit().is_none() {
                            // No commit recorded (a hand-written history):
                            // the acknowledgement is the commit.
                            info.set_commit(at, seq);
                            room::vec(&mut h.commits);
                            h.commits.push((at, w));
                        }
                        room::vec(&mut h.acked);
                        h.acked.push((at, w));
                    }
                    if h.writes.len() > UNREAD_BACKSTOP && h.pass_due() {
                        // No read has superseded enough of this key's past:
                        // this write stands in for the evidence (see the
                        // module docs, "Keys nobody reads").
                        h.retire_behind(&[w], at, self.horizon, self.longest_op, None);
                    }
                    if kind == OpKind::Delete {
                        let deletes = &mut h.past_mut().deletes;
                        room::vec(deletes);
                        deletes.push((at, w));
                        self.acked_deletes += 1;
                    } else {
                        self.acked_puts += 1;
                    }
                    let session = h.session_mut(op.client);
                    session.set_last_write(Some((seq, w)));
                    session.settled.wrote = false;
                }
            }
        }
    }

    /// A coordinator's W-th acknowledgement of `write` (the first one
    /// counts; a request delivered twice commits twice).
    fn on_committed(&mut self, at: SimTime, key: Key, write: WriteId) {
        let seq = self.seq;
        let h = history(
            &mut self.keys,
            &mut self.orphan_sessions,
            self.preloaded,
            key,
        );
        if let Some(info) = h.writes.get_mut(&write) {
            if info.commit().is_none() {
                info.set_commit(at, seq);
                room::vec(&mut h.commits);
                h.commits.push((at, write));
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

    #[allow(clippy::too_many_arguments)]
    fn check_read(
        &mut self,
        at: SimTime,
        client: ClientId,
        key: Key,
        start: SimTime,
        start_seq: u64,
        values: &[Value],
        phase: u32,
    ) {
        self.siblings[values.len().min(4)] += 1;
        self.breakdown.read(phase, client, values.len());
        let returned: Vec<WriteId> = values.iter().map(|v| v.write()).collect();
        let finding = |expected: Option<WriteId>, k: usize| ReadFinding {
            key,
            client,
            invoked: start,
            completed: at,
            returned: returned.clone(),
            expected,
            k,
        };
        if values.len() >= 2
            && self
                .findings
                .siblings
                .as_ref()
                .is_none_or(|f| values.len() > f.k)
        {
            self.findings.siblings = Some(finding(None, values.len()));
        }
        if key.0 < self.preloaded {
            // The loaded value is the first acknowledged write of the key.
            history(
                &mut self.keys,
                &mut self.orphan_sessions,
                self.preloaded,
                key,
            );
        }
        let empty = KeyHistory::default();
        let h: &KeyHistory = self.keys.get(&key).map_or(&empty, |h| h);
        // Staleness against every write done (committed or acknowledged,
        // per the origin) before the read started; see the module docs.
        let origin = self.origin;
        let prior = h.prior(origin);
        let before = h.count_before(prior, start, start_seq, |i| i.done_seq(origin));
        if before > 0 {
            let prior = &prior[..before];
            let (latest_at, _) = prior[before - 1];
            let windowed = self.retention_window.is_some();
            let k = returned
                .iter()
                .map(|v| match h.newer_than(*v, prior, origin) {
                    0 if windowed && h.superseded_by_retired(*v, origin) => 1,
                    n => n,
                })
                .min()
                .unwrap_or(before.min(10));
            let consistent = k == 0;
            self.k_staleness[k] += 1;
            self.reads_checked += 1;
            let t = start.saturating_since(latest_at).as_micros();
            self.t_visibility.record(t, consistent);
            if !consistent {
                self.stale_reads += 1;
                if self.findings.stale_read.is_none() {
                    self.findings.stale_read = Some(finding(Some(prior[before - 1].1), k));
                }
            }
            self.breakdown.checked(phase, client, !consistent);
            let w = self.window(at);
            w.reads_checked += 1;
            if !consistent {
                w.stale += 1;
            }
        }
        let found = self.keys.get(&key);
        let h: &KeyHistory = found.map_or(&empty, |h| h);
        // A delete acknowledged before the read, resurfacing in it.
        let deletes_before = h.count_before(&h.past().deletes, start, start_seq, |i| i.ack_seq());
        if deletes_before > 0 {
            let (_, d) = h.past().deletes[deletes_before - 1];
            let resurfaced = values
                .iter()
                .any(|v| !v.is_tombstone() && v.write() != d && h.covers(v.write(), d));
            if resurfaced {
                self.resurrected += 1;
                if self.findings.resurrection.is_none() {
                    self.findings.resurrection = Some(finding(Some(d), 0));
                }
            }
        }
        // Session guarantees: against the session's last acknowledged write
        // and last read, when their completion came before this read started
        // (record order, so the same microsecond counts too).
        let session = match found {
            Some(h) => h.session(client),
            None => self.orphan_sessions.get(&(key, client)),
        };
        // Under vector clocks, the session's last write when a returned
        // value has it in its causal past: so has that value everything in
        // the write's own past, which is where the last read's values
        // usually are (a read-modify-write's put is based on its get), and
        // the monotonic-read check below need not walk for them.
        let mut carried: Option<WriteId> = None;
        // What a settled session's check comes to (see `Settled`): a read
        // that returned nothing, and whose invocation was recorded (start
        // 0 never follows a session's write or read).
        let settled_missed = returned.is_empty() && start_seq > 0;
        if let Some((seq, w)) = session.and_then(Session::last_write) {
            let missed = match self.versioning {
                // The store keeps one of concurrent writes: violated when
                // every value returned is older than the session's write
                // (nothing returned, at worst).
                Versioning::LastWriteWins => returned
                    .iter()
                    .all(|v| h.supersedes(w, *v, StalenessOrigin::ClientAck)),
                // The store keeps concurrent writes as siblings: violated
                // unless a returned value is the write or carries it.
                Versioning::VectorClocks { .. } => {
                    let how = returned
                        .iter()
                        .map(|v| h.cover(w, *v))
                        .find(|c| *c != Cover::No);
                    if how == Some(Cover::Past) {
                        carried = Some(w);
                    }
                    how.is_none()
                }
            };
            if seq < start_seq && missed {
                self.ryw_violations += 1;
            }
        } else if settled_missed && session.is_some_and(|s| s.settled.wrote) {
            // A retired write is covered by any value (see `Settled`).
            self.ryw_violations += 1;
        }
        // Under vector clocks: some returned value carries `p`.
        let carried_by = |p: WriteId| {
            let near = carried.is_some_and(|w| h.in_near_past(p, w));
            debug_assert!(!near || h.covered_by_any(p, &returned));
            near || h.covered_by_any(p, &returned)
        };
        if let Some((seq, prev)) = session.and_then(Session::last_read) {
            let went_back = match self.versioning {
                // Some value the last read returned is newer than every
                // value this one returned.
                Versioning::LastWriteWins => prev.iter().any(|p| {
                    returned
                        .iter()
                        .all(|v| h.supersedes(*p, *v, StalenessOrigin::ClientAck))
                }),
                // Some value the last read returned is carried by none.
                Versioning::VectorClocks { .. } => prev.iter().any(|p| !carried_by(*p)),
            };
            if seq < start_seq && went_back {
                self.monotonic_violations += 1;
                // A value whose write was still in flight when this read
                // started may be missed: quorums without a write-back
                // phase are a regular register, not an atomic one (a
                // new-old inversion). Missing one acknowledged before this
                // read started is what no strict quorum allows.
                let settled = prev.iter().any(|p| {
                    h.acked_before(*p, start_seq)
                        && match self.versioning {
                            Versioning::LastWriteWins => returned
                                .iter()
                                .all(|v| h.supersedes(*p, *v, StalenessOrigin::ClientAck)),
                            Versioning::VectorClocks { .. } => !carried_by(*p),
                        }
                });
                if settled {
                    self.monotonic_settled_violations += 1;
                }
            }
        } else if settled_missed && session.is_some_and(|s| s.settled.read) {
            // Every value the last read returned retired: each is covered
            // by any value, and counts as acknowledged before this read
            // (`acked_before` answers so for every retired write, one
            // never acknowledged included), as the check above would have
            // it (see `Settled`).
            self.monotonic_violations += 1;
            self.monotonic_settled_violations += 1;
        }
        let seq = self.seq;
        match self.keys.get_mut(&key) {
            Some(h) => {
                if !returned.is_empty() {
                    h.evidence.clone_from(&returned);
                }
                if h.pass_due() {
                    h.retire(at, self.horizon, self.longest_op);
                }
                let session = h.session_mut(client);
                session.set_last_read(Some((seq, returned)));
                session.settled.read = false;
            }
            // A key read before it has a history (never written, not
            // loaded, or a partial record stream): the session waits
            // beside the histories until one is made.
            None => {
                self.orphan_sessions
                    .entry((key, client))
                    .or_default()
                    .set_last_read(Some((seq, returned)));
            }
        }
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
            // Administrative changes and bit rot are instants, not windows.
            FaultAction::Join { .. }
            | FaultAction::Decommission { .. }
            | FaultAction::Replace { .. }
            | FaultAction::Corrupt { .. } => (None, None),
        };
        let mut closed = None;
        let mut changed = false;
        if let Some(key) = close {
            if let Some(i) = self.open_fault_windows.remove(&key) {
                self.fault_windows[i].end = Some(at);
                closed = Some(i);
                changed = true;
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
                changed = true;
            }
        }
        if changed {
            let mut open: Vec<usize> = self.open_fault_windows.values().copied().collect();
            open.sort_unstable();
            let labels: Vec<&str> = open
                .iter()
                .map(|&i| self.fault_windows[i].label.as_str())
                .collect();
            let closed = closed.map(|i| self.fault_windows[i].label.as_str());
            self.breakdown.faults_changed(at, &labels, closed);
        }
    }

    /// What the nodes held at the end, key by key: the copies by key, and
    /// the other (key, value) pairs sorted. [`Held::of`] answers per key
    /// without a list of every pair (9M of them, 24 bytes each, after 2M
    /// blind writes over 1M keys).
    fn held(&self) -> Held<'_> {
        let mut others = self.held.clone();
        others.sort_unstable();
        others.dedup();
        Held {
            copies: &self.copies,
            by_key: self.copies.by_key(),
            others,
        }
    }

    /// The durability verdicts at the end of the run (see the module docs
    /// for how retired writes are counted).
    fn durability(&self) -> Durability {
        let mut d = Durability::default();
        let held_all = self.held();
        let held_of = |key: Key| held_all.of(key);
        self.for_each_history(|key, h| {
            let held = held_of(key);
            let reached = h.reach(held.iter().copied(), SimTime::ZERO);
            // Last-write-wins keeps one of two concurrent writes: a write is
            // not lost while a held value is no older than it in real time
            // (acknowledged after it was invoked, or never acknowledged).
            let lww_after = match self.versioning {
                Versioning::LastWriteWins => held
                    .iter()
                    .filter_map(|v| h.writes.get(v))
                    .map(|i| i.ack_seq().unwrap_or(u64::MAX))
                    .max(),
                Versioning::VectorClocks { .. } => None,
            };
            let covered = |info: &WriteInfo| {
                reached.contains(info.place()) || lww_after.is_some_and(|s| info.invoked_seq < s)
            };
            let past = h.past();
            let deletes = past.deletes.iter().map(|(_, d)| *d);
            let deleted = h.reach(
                deletes.chain(past.indeterminate_deletes.iter().copied()),
                past.deleted_floor,
            );
            let mut listed = Vec::new();
            for (w, info) in h.writes.iter() {
                let fold = past.folds.get(w).copied().unwrap_or_default();
                let acked_put = !info.tombstone && info.committed().is_some();
                if covered(info) {
                    if !info.tombstone {
                        if info.committed().is_some() {
                            d.surviving += 1;
                        } else {
                            d.unacked_present += 1;
                        }
                    }
                    d.surviving += fold.acked;
                    d.unacked_present += fold.unacked;
                } else if !deleted.contains(info.place()) {
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
                    !info.tombstone && !covered(info) && !deleted.contains(info.place())
                })
                .copied()
                .collect();
            lost.extend(listed);
            lost.sort_by_key(|(at, _)| *at);
            d.listed
                .extend(lost.into_iter().map(|(acked_at, write)| LostWrite {
                    key,
                    write,
                    acked_at,
                }));
        });
        // Loaded keys nobody touched: the loaded value is the only one they
        // ever had, so it survives exactly when some node holds it.
        if self.preloaded > 0 {
            for key in (0..self.preloaded).map(Key) {
                if self.has_history(key) {
                    continue;
                }
                let w = WriteId::preloaded(key);
                if self.loaded_end.held.contains(key) || held_of(key).contains(&w) {
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

    /// The first stale read, resurrected delete and sibling growth.
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// How many acknowledged puts are lost (`durability.lost`).
    pub fn lost_count(&self) -> u64 {
        self.durability().lost
    }

    /// [`Collector::lost_count`] and [`Collector::lost_writes`] from one
    /// pass over the histories (each of those makes its own).
    pub fn losses(&self) -> (u64, Vec<LostWrite>) {
        let d = self.durability();
        (d.lost, d.listed)
    }

    /// Writes kept in the per-key histories now (the rest were retired; see
    /// the module docs). With a fixed key space this stays bounded however
    /// long the run.
    pub fn retained_writes(&self) -> usize {
        let mut n = 0;
        self.for_each_history(|_, h| n += h.writes.len());
        n
    }

    /// Writes retired from the per-key histories so far.
    pub fn retired_writes(&self) -> u64 {
        let mut n = 0;
        self.for_each_history(|_, h| n += h.retired);
        n
    }

    /// Timed retirement passes run so far (a retention window's; see the
    /// module docs).
    pub fn timed_passes(&self) -> u64 {
        self.timed_passes
    }

    /// Last writes and last reads settled so far by quiet timed passes
    /// (see "Retention window" in the module docs).
    pub fn sessions_settled(&self) -> u64 {
        self.sessions_settled
    }

    /// Keeps every session whole: quiet timed passes settle nothing (see
    /// "Retention window" in the module docs). Settling is exact, so no
    /// metric depends on this; it exists so that tests can show it
    /// (`reports/tests/retention.rs`).
    pub fn keep_sessions_whole(&mut self) {
        self.settle_sessions = false;
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
        let t_vis = self.t_visibility.points();
        let mut k_stale = serde_json::Map::new();
        let mut k_detail = Vec::new();
        for (k, n) in self.k_staleness.iter().enumerate() {
            let name = if k == 10 {
                "10+".to_string()
            } else {
                k.to_string()
            };
            k_stale.insert(name.clone(), json!(n));
            // The fraction of checked reads exactly k versions behind, and
            // of those at most k behind (PBS's k-staleness), each with its
            // 95 % Wilson interval.
            let within: u64 = self.k_staleness[..=k].iter().sum();
            k_detail.push(json!({
                "k": name,
                "reads": n,
                "fraction": share(*n, self.reads_checked),
                "ci95": wilson95(*n, self.reads_checked),
                "p_within_k": share(within, self.reads_checked),
                "p_within_k_ci95": wilson95(within, self.reads_checked),
            }));
        }
        let found_reads: u64 = self.siblings[1..].iter().sum();
        let durability = self.durability();
        // Convergence of replicas at the end.
        let mut divergent = 0u64;
        let mut keys_checked = 0u64;
        // Untouched loaded keys' copies of their loaded value: each key's
        // nodes.
        let copies = CopiesByKey::of(&self.loaded_end.replica_copies);
        // Stable: a later report of the same node and key wins, as in a map.
        let by_key = self.copies.by_key();
        let holders_of = |key: Key| -> &[u32] { by_key.of(&self.copies, key) };
        // `key`'s replicas disagree, given its final copies (`holders`) and
        // the nodes of its untouched loaded copies (`loaded`).
        let diverges = |key: Key, holders: &[u32], loaded: &[u32]| -> bool {
            let replicas = replicas_of(key);
            if holders.is_empty() {
                // Each replica holds the loaded value or nothing.
                let mut held = replicas.iter().map(|n| loaded.contains(&n.0));
                let first = held.next();
                return held.any(|h| Some(h) != first);
            }
            let sets: Vec<BTreeSet<WriteId>> = replicas
                .into_iter()
                .map(|n| {
                    let mut set: BTreeSet<WriteId> = holders
                        .iter()
                        .rev()
                        .find(|&&c| self.copies.copy(c).1 == n)
                        .map(|&c| self.copies.values(c).collect())
                        .unwrap_or_default();
                    if loaded.contains(&n.0) {
                        set.insert(WriteId::preloaded(key));
                    }
                    set
                })
                .collect();
            sets.windows(2).any(|p| p[0] != p[1])
        };
        let mut keys: BTreeSet<Key> = self.keys.keys().chain(self.cold.keys()).collect();
        keys.extend(by_key.keys(&self.copies));
        for &key in &keys {
            keys_checked += 1;
            if diverges(key, holders_of(key), copies.of_key(key)) {
                divergent += 1;
            }
        }
        // The loaded keys nobody touched (no final copy of theirs is in
        // `values`: those keys are in `keys`), each with its run of copies.
        for (key, run) in copies.runs() {
            if keys.contains(&key) {
                continue;
            }
            keys_checked += 1;
            if diverges(key, &[], run) {
                divergent += 1;
            }
        }
        let end = self.end;
        let workload_end = SimTime::ZERO + scenario.duration;
        // The last fault window to close (a heal, a restart, links restored).
        let last_heal = self.fault_windows.iter().filter_map(|w| w.end).max();
        let divergence = DivergenceSeries(&self.divergence);
        let windows: Vec<Json> = self
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut h = Histogram::default();
                for (b, c) in &w.latency {
                    h.record_n(crate::histogram::bucket_range(*b).0, *c);
                }
                let mut all = Histogram::default();
                for (b, c) in &w.latency_all {
                    all.record_n(crate::histogram::bucket_range(*b).0, *c);
                }
                let start = i as u64 * self.window_us;
                let stop = SimTime((start + self.window_us).min(end.as_micros()));
                json!({
                    "divergent_keys": divergence.at(stop),
                    "divergent_keys_max": divergence.max_in(SimTime(start), stop),
                    "partial": start + self.window_us > end.as_micros(),
                    "p99_all_ms": if w.completed == 0 { Json::Null } else { json!(ms(all.quantile(0.99))) },
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
        let mut summary = json!({
            "ops": {"total": total, "ok": total_ok, "failed": total - total_ok},
            "availability": ratio(total_ok, total),
            "availability_by_kind": availability_by_kind,
            "latency": latency,
            "staleness": {
                "reads_checked": self.reads_checked,
                "stale_reads": self.stale_reads,
                "stale_read_fraction": ratio(self.stale_reads, self.reads_checked),
                "origin": match self.origin {
                    StalenessOrigin::Commit => "commit",
                    StalenessOrigin::ClientAck => "client_ack",
                },
                "t_visibility_kind": if self.t_visibility.is_mass_points() { "mass_points" } else { "bins" },
                "t_visibility": t_vis,
                "k_staleness": k_stale,
                "k_staleness_detail": k_detail,
            },
            "siblings": {
                "reads": self.siblings.iter().sum::<u64>(),
                "not_found": self.siblings[0],
                "1": self.siblings[1], "2": self.siblings[2], "3": self.siblings[3], "4+": self.siblings[4],
                "single_version_fraction": if found_reads == 0 { 1.0 } else { self.siblings[1] as f64 / found_reads as f64 },
                "put_bodies": self.put_bodies[0],
                "put_bodies_with_siblings": self.put_bodies[1],
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
                "monotonic_read_violations_of_acknowledged_writes": self.monotonic_settled_violations,
            },
            "convergence": {
                "keys_checked": keys_checked,
                "divergent_keys": divergent,
                "converged": divergent == 0,
                "time_to_converge_s": divergence
                    .converged_at()
                    .map(|c| c.map_or(0.0, |c| secs(c).max(secs(workload_end)) - secs(workload_end))),
                "last_heal_s": last_heal.map(secs),
                "time_to_converge_from_last_heal_s": last_heal
                    .and_then(|h| divergence.backlog_cleared_after(h))
                    .map(|d| d.as_micros() as f64 / 1e6),
                "converged_at_s": divergence.converged_at().map(|c| c.map_or(0.0, secs)),
                "peak_divergent_keys": divergence.peak().map_or(0, |p| p.1),
                "peak_at_s": divergence.peak().map(|p| secs(p.0)),
                "divergent_keys_observed_at_end": divergence.at(end),
                "merkle_roots_agree_s": self
                    .converged_at
                    .map(|t| secs(t.max(workload_end)) - secs(workload_end)),
                "measured": "replicas compared by the engine every 100 ms of virtual time, with or without anti-entropy: a key diverges while its top-N replicas hold different sets of values; converged_at_s starts the divergence-free stretch that lasts to the end (0 when no key ever diverged), time_to_converge_s counts from the workload's end to it (0 when it came before); time_to_converge_from_last_heal_s ends when every key divergent at the last heal has been seen in agreement (keys that diverge later, such as writes in flight, do not count)",
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
            "breakdown": self.breakdown.summary(end),
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
        });
        if let Some(window) = self.retention_window {
            // Only with a window, so an exact run's summary is as before.
            // One pass over the histories (frozen ones are unpacked).
            let (mut retained, mut retired) = (0, 0);
            self.for_each_history(|_, h| {
                retained += h.writes.len();
                retired += h.retired;
            });
            summary["retention"] = json!({
                "window_s": window.as_micros() as f64 / 1e6,
                "timed_passes": self.timed_passes,
                "writes_retired": retired,
                "writes_retained": retained,
                "note": "writes that settled more than window_s before a check may have been retired: checks reaching back past the window are approximated (k a lower bound; session and resurrection checks treat a retired write as covered; a key nobody reads shares its latest write's fate). See \"Retention window\" in reports/src/metrics.rs",
            });
        }
        summary
    }
}

/// `list.partition_point(pred)` (`pred` holds on a prefix of `list`),
/// searched from the back: probes at 1, 2, 4, ... from the end, then a
/// binary search within the last step. A key's lists ordered by time
/// (acknowledgements, commits) are asked where a read or a blind write that
/// started a moment ago falls, so the split lies near the end: this touches
/// only the list's tail, which the latest appends left in the cache, where
/// a binary search from the middle of a hot key's thousands of entries
/// missed the cache at nearly every step (a quarter of the checker's time
/// in a read's staleness check, in a perf profile of the baseline).
fn partition_point_from_back<T>(list: &[T], mut pred: impl FnMut(&T) -> bool) -> usize {
    // Every entry from `hi` on fails `pred`.
    let mut hi = list.len();
    let mut step = 1;
    while hi > 0 {
        let probe = hi.saturating_sub(step);
        if pred(&list[probe]) {
            return probe + 1 + list[probe + 1..hi].partition_point(pred);
        }
        hi = probe;
        step *= 2;
    }
    0
}

/// The engine's divergence observations as a step function of time.
struct DivergenceSeries<'a>(&'a [(SimTime, u64, Option<SimTime>)]);

impl DivergenceSeries<'_> {
    /// The count at `t` (the last observation at or before it; 0 before
    /// the first).
    fn at(&self, t: SimTime) -> u64 {
        let i = self.0.partition_point(|e| e.0 <= t);
        if i == 0 {
            0
        } else {
            self.0[i - 1].1
        }
    }

    /// The largest count from `from` through `to`.
    fn max_in(&self, from: SimTime, to: SimTime) -> u64 {
        let first = self.0.partition_point(|e| e.0 <= from);
        let within = self.0[first..]
            .iter()
            .take_while(|e| e.0 <= to)
            .map(|e| e.1)
            .max()
            .unwrap_or(0);
        within.max(self.at(from))
    }

    /// The largest count and when it was first seen; `None` when no key
    /// ever diverged.
    fn peak(&self) -> Option<(SimTime, u64)> {
        let mut best: Option<(SimTime, u64)> = None;
        for &(at, n, _) in self.0 {
            if n > 0 && best.is_none_or(|b| n > b.1) {
                best = Some((at, n));
            }
        }
        best
    }

    /// When the divergence-free stretch that lasts to the end began:
    /// `None` when the run ended with divergent keys, `Some(None)` when no
    /// key ever diverged.
    fn converged_at(&self) -> Option<Option<SimTime>> {
        match self.0.last() {
            Some(e) if e.1 > 0 => None,
            _ => {
                let last_divergent = self.0.iter().rposition(|e| e.1 > 0);
                Some(last_divergent.map(|i| self.0[i + 1].0))
            }
        }
    }

    /// How long after `t` every key divergent at `t` had been seen with
    /// agreeing replicas (keys that diverged later do not count): 0 when
    /// none was divergent, `None` when one still disagreed at the end.
    fn backlog_cleared_after(&self, t: SimTime) -> Option<SimDuration> {
        let i = self.0.partition_point(|e| e.0 <= t);
        let divergent_then = i > 0 && self.0[i - 1].1 > 0;
        if !divergent_then {
            return Some(SimDuration::ZERO);
        }
        self.0[i..]
            .iter()
            .find(|e| e.2.is_none_or(|since| since > t))
            .map(|e| e.0.saturating_since(t))
    }
}

/// `a / b`, or null when `b` is zero.
fn share(a: u64, b: u64) -> Json {
    if b == 0 {
        Json::Null
    } else {
        json!(a as f64 / b as f64)
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
        if self.timers.front().is_some_and(|(due, _)| *due <= at) {
            self.run_timed_passes(at);
        }
        self.seq += 1;
        // The records that read or change a key's history or sessions.
        let key = match record {
            Record::OpInvoked { key, .. }
            | Record::OpCompleted { key, .. }
            | Record::WriteCommitted { key, .. } => Some(*key),
            _ => None,
        };
        // Mark the key's history referenced; one this record thaws or
        // makes joins the freezing clock after it.
        let mut joins = None;
        if let Some(key) = key {
            self.touched_loaded = None;
            let hot = if let Some(h) = self.keys.get_mut(&key) {
                h.referenced = true;
                true
            } else {
                false
            };
            // Reads and blind writes only: a put or delete based on a read
            // follows its own read of the key, which unpacked it.
            if let Record::OpInvoked { write, blind, .. } = record {
                if write.is_none() || *blind {
                    self.hot.invoked(hot, self.in_flight.len());
                }
            }
            if !hot {
                self.thaw(key);
                joins = Some(key);
            }
        }
        self.on_record(at, record);
        if let (Some(window), Record::OpCompleted { key, .. }) = (self.retention_window, record) {
            self.arm(*key, at + self.longest_op + window);
        }
        if let Some(key) = joins {
            if self.keys.contains_key(&key) {
                self.clock.push_back(key);
                self.freeze_beyond_cap();
            }
        }
    }
}

impl Collector {
    fn on_record(&mut self, at: SimTime, record: &Record) {
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
                bytes,
                ..
            } => {
                if *kind == OpKind::Get && result.is_ok() {
                    self.objects.on_read(at, *key, values.len() as u32, *bytes);
                }
                if *kind != OpKind::Get && result.is_ok() && !values.is_empty() {
                    self.put_bodies[0] += 1;
                    self.put_bodies[1] += u64::from(values.len() > 1);
                }
                self.on_completed(at, *op, *kind, *key, *invoked, result, values)
            }
            Record::Fault { action } => self.on_fault(at, action),
            Record::PeerTrusted { .. }
            | Record::MembershipChange { .. }
            | Record::MembershipConverged { .. }
            | Record::TransferOffered { .. }
            | Record::TransferDone { .. }
            | Record::BootstrapDone { .. } => self.membership.record(at, record),
            Record::MembershipLearned { .. } => {}
            Record::WriteCommitted { key, write, .. } => self.on_committed(at, *key, *write),
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
            Record::SiblingLimit { .. }
            | Record::VersionsCorrupted { .. }
            | Record::CorruptionDetected { .. }
            | Record::CorruptRead { .. }
            | Record::FinalCorrupted { .. } => self.objects.record(record),
            Record::FinalValues {
                node,
                key,
                values,
                replica,
            } => {
                if self.is_untouched_loaded(*key)
                    && values.as_slice() == [Value::Data(WriteId::preloaded(*key))]
                {
                    // `key < preloaded <= MAX_PRELOAD_KEYS`: fits in 32 bits.
                    self.objects.record_final_single(*key, *replica);
                    self.loaded_end.held.insert(*key);
                    if *replica {
                        self.loaded_end.replica_copies.push((key.0 as u32, node.0));
                    }
                    return;
                }
                self.objects.record(record);
                if *replica {
                    self.copies
                        .push(*key, *node, values.iter().map(|v| v.write()));
                } else {
                    self.held.extend(values.iter().map(|v| (*key, v.write())));
                }
            }
            Record::FinalHint { key, value, .. } => {
                self.hints_remaining += 1;
                if self.is_untouched_loaded(*key) && value.write() == WriteId::preloaded(*key) {
                    self.loaded_end.held.insert(*key);
                    return;
                }
                self.held.push((*key, value.write()));
            }
            Record::ClientStarted { .. } => {}
            Record::ReplicasConverged => self.converged_at = Some(at),
            Record::Divergence {
                divergent_keys,
                oldest_since,
            } => {
                self.divergence.push((at, *divergent_keys, *oldest_since));
                // The timeline covers the run up to this observation, the
                // quiescence included.
                if at > SimTime::ZERO {
                    self.window(SimTime(at.as_micros() - 1));
                }
            }
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
            kinds.contains(k)
                && [
                    "not_enough_replicas",
                    "client_timeout",
                    "too_many_siblings",
                    "overloaded",
                    "unavailable",
                ]
                .contains(r)
        }
        ["objects", "siblings_per_read", x] => ["reads", "mean", "p50", "p99", "max"].contains(x),
        ["objects", "siblings_per_key", x] => {
            ["keys", "p50", "p99", "max", "threshold", "over_threshold"].contains(x)
        }
        ["objects", "size_bytes_per_read", x] => ["reads", "mean", "p50", "p99", "max"].contains(x),
        ["objects", "size_bytes_per_key", x] => ["keys", "p50", "p99", "max"].contains(x),
        ["objects", "siblings_at_end", x] => ["keys", "max", "over_threshold"].contains(x),
        ["objects", "sibling_limit", x] => ["warned", "refused"].contains(x),
        ["objects", "non_replica_copies_at_end"] => true,
        ["corruption", x] => [
            "versions_corrupted",
            "detections",
            "detected_versions",
            "reads_corrupted",
            "corrupted_versions_read",
            "remaining_versions",
        ]
        .contains(x),
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
            "put_bodies",
            "put_bodies_with_siblings",
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
            "monotonic_read_violations_of_acknowledged_writes",
        ]
        .contains(x),
        ["convergence", x] => [
            "keys_checked",
            "divergent_keys",
            "converged",
            "time_to_converge_s",
            "last_heal_s",
            "time_to_converge_from_last_heal_s",
            "converged_at_s",
            "peak_divergent_keys",
            "peak_at_s",
            "divergent_keys_observed_at_end",
            "merkle_roots_agree_s",
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
        // Present when `metrics.wars_trials` is set.
        ["wars", x] => [
            "p_consistent_t0",
            "trials",
            "points_compared",
            "max_gap",
            "max_gap_t_ms",
            "points_outside_ci",
        ]
        .contains(x),
        ["wars", "latency", "get" | "put", x] => {
            ["p50_ms", "p90_ms", "p99_ms", "p999_ms"].contains(x)
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

    proptest::proptest! {
        /// A reach answers the same with slots per chain id as with the
        /// map, walk after walk (the slots keep their stamps from earlier
        /// walks, over spans that move and shrink), while it is filled and
        /// after.
        #[test]
        fn reach_slots_answer_as_the_map(
            walks in proptest::collection::vec(
                (
                    0u32..50,
                    1usize..40,
                    proptest::collection::vec((0u32..40, 0u32..6), 0..60),
                    proptest::collection::vec((0u32..100, 0u32..8), 0..30),
                ),
                1..8,
            ),
        ) {
            let (mut slots, mut map) = (Reach::new(), Reach::new());
            for (base, len, visits, asks) in walks {
                slots.start(Some(base));
                map.start(None);
                for (offset, depth) in visits {
                    let place = (base + offset % len as u32, depth);
                    proptest::prop_assert_eq!(slots.reach(place), map.reach(place));
                }
                for place in asks {
                    proptest::prop_assert_eq!(slots.contains(place), map.contains(place));
                }
            }
        }

        /// The search from the back answers as `partition_point` does, for
        /// any sorted list (duplicates, empty) and any split.
        #[test]
        fn partition_point_from_back_is_partition_point(
            mut list in proptest::collection::vec(0u32..64, 0..300),
            split in 0u32..66,
        ) {
            list.sort_unstable();
            proptest::prop_assert_eq!(
                partition_point_from_back(&list, |x| *x < split),
                list.partition_point(|x| *x < split)
            );
        }

        /// Copies grouped by key hold, for every key, its copies' nodes in
        /// their order in the list (what filtering the list by key gives),
        /// and list exactly the keys with a copy, in key order.
        #[test]
        fn copies_by_key_group_the_list(
            copies in proptest::collection::vec((0u32..40, 0u32..8), 0..200),
        ) {
            let grouped = CopiesByKey::of(&copies);
            let of = |k: u32| copies.iter().filter(|c| c.0 == k).map(|c| c.1).collect::<Vec<_>>();
            for k in 0..45 {
                proptest::prop_assert_eq!(grouped.of_key(Key(u64::from(k))), &of(k)[..]);
            }
            let mut keys: Vec<u32> = copies.iter().map(|c| c.0).collect();
            keys.sort_unstable();
            keys.dedup();
            let runs: Vec<(Key, Vec<u32>)> = grouped.runs().map(|(k, n)| (k, n.to_vec())).collect();
            let expected: Vec<(Key, Vec<u32>)> =
                keys.iter().map(|&k| (Key(u64::from(k)), of(k))).collect();
            proptest::prop_assert_eq!(runs, expected);
        }
    }

    const K: Key = Key(0);

    /// Blind puts, one at a time, client 0, on the keys `keys` yields.
    fn blind_puts(c: &mut Collector, keys: impl Iterator<Item = u64>) {
        for (i, key) in keys.enumerate() {
            let (seq, t) = (i as u64 + 1, 10 * i as u64);
            let (op, write) = (op(0, seq), w(0, seq));
            c.record(
                SimTime(t),
                &Record::OpInvoked {
                    op,
                    kind: OpKind::Put,
                    key: Key(key),
                    write: Some(write),
                    based_on: vec![],
                    blind: true,
                    discarded: vec![],
                },
            );
            c.record(
                SimTime(t + 5),
                &Record::OpCompleted {
                    op,
                    kind: OpKind::Put,
                    key: Key(key),
                    invoked: SimTime(t),
                    result: Ok(()),
                    values: vec![],
                    coordinator: None,
                    bytes: 0,
                },
            );
        }
    }

    #[test]
    fn the_unpacked_cap_shrinks_when_histories_serve_nothing_and_holds_when_they_do() {
        // A step that visits every key of a space 8 times the cap before
        // coming back (uniform access over a large space, at its worst):
        // no invocation finds its key unpacked, so the cap halves each
        // window down to the floor.
        let space = 8 * cold::HOT_KEYS as u64;
        let mut c = Collector::new(&scenario());
        blind_puts(&mut c, (0..6 * cold::HOT_WINDOW).map(|i| i * 7919 % space));
        assert_eq!(c.hot_cap(), cold::HOT_KEYS_MIN);
        assert!(c.cold_keys().0 > 0 && c.keys.len() <= cold::HOT_KEYS_MIN);
        // Back on a small working set, every invocation hits and the cap
        // doubles back to the full size.
        let mut c2 = c;
        blind_puts(&mut c2, (0..6 * cold::HOT_WINDOW).map(|i| i % 1_000));
        assert_eq!(c2.hot_cap(), cold::HOT_KEYS);
        // A fixed cap does not move.
        let mut fixed = Collector::new(&scenario());
        fixed.keep_hot(100);
        blind_puts(
            &mut fixed,
            (0..2 * cold::HOT_WINDOW).map(|i| i * 7919 % space),
        );
        assert_eq!(fixed.hot_cap(), 100);
    }

    /// Packing a key (see [`cold`]) gives back the same history and
    /// sessions, field for field, for every key of a run that retires
    /// writes (hot zipfian keys), folds them, deletes and crashes.
    #[test]
    fn cold_keys_unpack_to_what_was_packed() {
        cold_keys_unpack_to_what_was_packed_with("", 30);
        // With a window as short as the horizon, and keys quiet long enough
        // for sessions to settle.
        cold_keys_unpack_to_what_was_packed_with(r#""metrics":{"retention_window_s":2},"#, 300);
    }

    fn cold_keys_unpack_to_what_was_packed_with(metrics: &str, keys: u32) {
        let text = r#"{"name":"t","duration_s":8,"quiescence":{"duration_s":2},METRICS
            "cluster":{"nodes":5,"quorum":{"n":3,"r":2,"w":2},"replica_timeout_ms":30},
            "network":{"latency":{"exponential":{"mean_ms":1.0}}},
            "faults":[{"at_s":2,"for_s":2,"crash":{"node":"n2"}}],
            "workload":{"clients":4,"arrival":{"open_loop":{"rate_per_s":60}},
              "keys":{"count":KEYS,"popularity":{"zipfian":0.9}},
              "mix":{"read":0.4,"read_modify_write":0.3,"blind_write":0.2,"delete":0.1},
              "client_timeout_ms":500}}"#;
        let text = text
            .replace("METRICS", metrics)
            .replace("KEYS", &keys.to_string());
        let scenario = std::sync::Arc::new(
            sim_core::scenario::parse(&text, &sim_core::scenario::no_files).expect("valid"),
        );
        let mut c = Collector::new(&scenario);
        let _ = sim_core::sim::Simulation::new(scenario.clone()).run(&mut c, None);
        assert!(c.retired_writes() > 100, "the run retires writes");
        let settled = |f: fn(&Settled) -> bool| {
            c.keys
                .values()
                .any(|h| h.sessions.iter().any(|(_, s)| f(&s.settled)))
        };
        let window = !metrics.is_empty();
        assert_eq!(settled(|s| s.wrote), window, "{metrics}");
        assert_eq!(settled(|s| s.read), window, "{metrics}");
        assert!(c
            .keys
            .values()
            .any(|h| !h.past().folds.is_empty() && !h.past().deletes.is_empty()));
        for (key, h) in c.keys.iter() {
            assert!(!h.sessions.is_empty());
            let mut h = KeyHistory::clone(h);
            h.referenced = false;
            let bytes = cold::pack(&h);
            let back = cold::unpack(&bytes);
            assert_eq!(format!("{back:?}"), format!("{h:?}"), "key {key:?}");
            let alone = cold::unpack_history_only(&bytes);
            h.sessions.clear();
            assert_eq!(format!("{alone:?}"), format!("{h:?}"), "key {key:?}");
        }
    }

    #[test]
    fn divergence_series_reads_counts_peaks_and_convergence() {
        let t = |ms: u64| SimTime(ms * 1000);
        let rows = [
            (t(1000), 2, Some(t(1000))),
            (t(2000), 3, Some(t(1000))),
            (t(3000), 1, Some(t(2000))),
            (t(4000), 0, None),
            (t(5000), 0, None),
        ];
        let s = DivergenceSeries(&rows);
        assert_eq!(s.at(t(500)), 0);
        assert_eq!(s.at(t(2000)), 3, "a row holds from its own instant");
        assert_eq!(s.at(t(2500)), 3);
        assert_eq!(s.max_in(t(1500), t(3500)), 3);
        assert_eq!(s.max_in(t(3500), t(4500)), 1, "the count carried in counts");
        assert_eq!(s.peak(), Some((t(2000), 3)));
        assert_eq!(s.converged_at(), Some(Some(t(4000))));
        // Every key divergent at 1.5 s agreed by the 3 s check (the one
        // left then has diverged since 2 s).
        assert_eq!(
            s.backlog_cleared_after(t(1500)),
            Some(SimDuration::from_millis(1500))
        );
        assert_eq!(s.backlog_cleared_after(t(4500)), Some(SimDuration::ZERO));
        // Ending diverged: no convergence, and a backlog that never clears.
        let open = [(t(1000), 2, Some(t(1000))), (t(2000), 2, Some(t(1000)))];
        let s = DivergenceSeries(&open);
        assert_eq!(s.converged_at(), None);
        assert_eq!(s.backlog_cleared_after(t(1500)), None);
        // Never diverged.
        let none = [(t(9000), 0, None)];
        assert_eq!(DivergenceSeries(&none).converged_at(), Some(None));
        assert_eq!(DivergenceSeries(&none).peak(), None);
    }

    fn op(client: u32, seq: u64) -> OpId {
        OpId {
            client: ClientId(client),
            seq,
        }
    }

    fn w(client: u32, seq: u64) -> WriteId {
        WriteId(op(client, seq))
    }

    /// A key read before it has a history (a partial record stream: the
    /// value's write was never seen) gets no history from the read, and
    /// the read's session is there when a history is made: a later read
    /// that misses the value is a monotonic-read violation, as it was when
    /// sessions lived in a map of their own.
    #[test]
    fn a_read_before_any_history_keeps_its_session_and_makes_no_history() {
        let mut h = History::new();
        h.invoke_get(0, 1, 10);
        h.complete_get(0, 1, 10, 15, &[w(1, 1)]);
        assert!(h.0.keys.is_empty(), "a read makes no history");
        assert_eq!(h.0.orphan_sessions.len(), 1);
        // Another client's write makes the history; client 0's next read
        // returns it, not the value it read before.
        h.invoke_put(1, 2, 20);
        h.ack_put(1, 2, 20, 25);
        assert!(h.0.orphan_sessions.is_empty(), "moved into the history");
        h.invoke_get(0, 3, 30);
        h.complete_get(0, 3, 30, 35, &[w(1, 2)]);
        assert_eq!(h.0.monotonic_violations, 1);
        let summary = h.0.summary(&scenario(), &|_| vec![NodeId(0)]);
        assert_eq!(summary["convergence"]["keys_checked"], 1);
    }

    struct History(Collector);

    impl History {
        fn new() -> Self {
            History(Collector::new(&scenario()))
        }
        /// A collector for a scenario with these extra cluster and metrics
        /// settings (JSON object bodies).
        fn with(cluster: &str, metrics: &str) -> Self {
            let text = format!(
                r#"{{"name":"t","duration_s":10,"cluster":{{"nodes":3,"quorum":{{"n":3,"r":2,"w":2}}{cluster}}},
                "workload":{{"clients":2,"arrival":{{"open_loop":{{"rate_per_s":1}}}},"keys":{{"count":1}},"mix":{{"read":1}}}},
                "metrics":{{"window_s":1{metrics}}}}}"#
            );
            History(Collector::new(
                &sim_core::scenario::parse(&text, &sim_core::scenario::no_files).expect("valid"),
            ))
        }
        /// Under last-write-wins.
        fn lww() -> Self {
            History::with(r#","versioning":"last_write_wins""#, "")
        }
        /// A blind put's invocation alone.
        fn invoke_put(&mut self, client: u32, seq: u64, start: u64) {
            let record = Record::OpInvoked {
                op: op(client, seq),
                kind: OpKind::Put,
                key: K,
                write: Some(w(client, seq)),
                based_on: vec![],
                blind: true,
                discarded: vec![],
            };
            self.0.record(SimTime(start), &record);
        }
        /// A put's acknowledgement alone.
        fn ack_put(&mut self, client: u32, seq: u64, start: u64, end: u64) {
            let done = Record::OpCompleted {
                op: op(client, seq),
                kind: OpKind::Put,
                key: K,
                invoked: SimTime(start),
                result: Ok(()),
                values: vec![],
                coordinator: None,
                bytes: 0,
            };
            self.0.record(SimTime(end), &done);
        }
        /// A put's commit at its coordinator.
        fn commit(&mut self, client: u32, seq: u64, at: u64) {
            let r = Record::WriteCommitted {
                op: op(client, seq),
                key: K,
                write: w(client, seq),
                coordinator: NodeId(0),
            };
            self.0.record(SimTime(at), &r);
        }
        /// A get's invocation alone.
        fn invoke_get(&mut self, client: u32, seq: u64, start: u64) {
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
        }
        /// A get's completion alone.
        fn complete_get(
            &mut self,
            client: u32,
            seq: u64,
            start: u64,
            end: u64,
            values: &[WriteId],
        ) {
            let done = Record::OpCompleted {
                op: op(client, seq),
                kind: OpKind::Get,
                key: K,
                invoked: SimTime(start),
                result: Ok(()),
                values: values.iter().map(|v| Value::Data(*v)).collect(),
                coordinator: None,
                bytes: 0,
            };
            self.0.record(SimTime(end), &done);
        }
        /// (reads checked, stale reads, read-your-writes violations).
        fn verdicts(&self) -> (u64, u64, u64) {
            (
                self.0.reads_checked,
                self.0.stale_reads,
                self.0.ryw_violations,
            )
        }
        /// The t-visibility points as (t in µs, reads, consistent).
        fn curve(&self) -> Vec<(u64, u64, u64)> {
            self.0
                .t_visibility
                .points()
                .iter()
                .map(|p| {
                    (
                        (p["t_ms"].as_f64().expect("t") * 1000.0).round() as u64,
                        p["reads"].as_u64().expect("reads"),
                        p["consistent"].as_u64().expect("consistent"),
                    )
                })
                .collect()
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
                    bytes: 0,
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
                bytes: 0,
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

    /// Loaded keys nobody touched keep their end state compact
    /// (`LoadedEnd`, `Objects::record_final_single`); the verdicts are those
    /// of the general maps: held on every replica (converged), on two of
    /// three (divergent), nowhere (lost), a mix of a compact copy and an
    /// empty one (divergent), and a touched key through the general path.
    #[test]
    fn untouched_loaded_keys_are_judged_from_their_compact_end_state() {
        let scenario = scenario();
        let mut c = Collector::new(&scenario);
        let at = SimTime(1_000_000);
        c.record(SimTime::ZERO, &Record::Preloaded { keys: 5 });
        let get = op(0, 1);
        c.record(
            SimTime(10),
            &Record::OpInvoked {
                op: get,
                kind: OpKind::Get,
                key: Key(4),
                write: None,
                based_on: vec![],
                blind: false,
                discarded: vec![],
            },
        );
        c.record(
            SimTime(20),
            &Record::OpCompleted {
                op: get,
                kind: OpKind::Get,
                key: Key(4),
                invoked: SimTime(10),
                result: Ok(()),
                values: vec![Value::Data(WriteId::preloaded(Key(4)))],
                bytes: 0,
                coordinator: None,
            },
        );
        let holds = |c: &mut Collector, key: u64, nodes: &[u32], empty: &[u32]| {
            for &n in nodes {
                let values = vec![Value::Data(WriteId::preloaded(Key(key)))];
                let r = Record::FinalValues {
                    node: NodeId(n),
                    key: Key(key),
                    values,
                    replica: true,
                };
                c.record(at, &r);
            }
            for &n in empty {
                let r = Record::FinalValues {
                    node: NodeId(n),
                    key: Key(key),
                    values: vec![],
                    replica: true,
                };
                c.record(at, &r);
            }
        };
        holds(&mut c, 0, &[0, 1, 2], &[]);
        holds(&mut c, 1, &[0, 1], &[]);
        holds(&mut c, 3, &[0, 2], &[1]);
        holds(&mut c, 4, &[0, 1, 2], &[]);
        // Key 2: no node holds it.
        assert_eq!(c.loaded_end.replica_copies.len(), 7, "keys 0, 1 and 3");
        let held = c.held();
        let held_keys: BTreeSet<Key> = (0..5)
            .map(Key)
            .filter(|k| !held.of(*k).is_empty())
            .collect();
        // Key 3's empty copy holds nothing; key 4 was touched.
        assert!(held_keys.into_iter().eq([Key(4)]));
        assert_eq!(c.copies.len(), 4, "key 3's empty copy, key 4's three");
        let lost: Vec<_> = c
            .lost_writes()
            .into_iter()
            .map(|l| (l.key, l.write))
            .collect();
        assert_eq!(lost, vec![(Key(2), WriteId::preloaded(Key(2)))]);
        let summary = c.summary(&scenario, &|_| vec![NodeId(0), NodeId(1), NodeId(2)]);
        assert_eq!(summary["convergence"]["keys_checked"], 4);
        assert_eq!(summary["convergence"]["divergent_keys"], 2);
        assert_eq!(summary["durability"]["lost"], 1);
        let objects = c.objects().summary();
        let siblings = &objects["siblings_at_end"];
        assert_eq!(siblings["keys"], 4, "{siblings}");
        assert_eq!(siblings["max"], 1);
    }

    #[test]
    fn a_write_superseded_by_a_surviving_descendant_is_not_lost() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[w(0, 1)], 20, Some(30)); // read w(0,1), wrote on top of it
        h.holds(0, &[w(1, 1)]);
        assert!(h.lost().is_empty());
    }

    /// tombstone-resurrection seed 16: a delete based on an acknowledged
    /// put reached every replica but its acknowledgements did not reach
    /// the coordinator (the client timed out); the tombstone was purged
    /// later and no node holds the key. The delete may have taken effect,
    /// so the put is not lost; a delete refused before it was sent
    /// (unavailable) explains nothing, and the put is lost.
    #[test]
    fn a_delete_of_unknown_outcome_explains_what_it_superseded() {
        for (failure, lost) in [
            (Failure::ClientTimeout, vec![]),
            (
                Failure::NotEnoughReplicas {
                    got: 1,
                    required: 2,
                },
                vec![],
            ),
            (
                Failure::Unavailable {
                    reachable: 1,
                    required: 2,
                },
                vec![w(0, 1)],
            ),
        ] {
            let mut h = History::new();
            h.put(0, 1, &[], 0, Some(10));
            h.write(1, 1, OpKind::Delete, &[w(0, 1)], false, 20, None);
            let done = Record::OpCompleted {
                op: op(1, 1),
                kind: OpKind::Delete,
                key: K,
                invoked: SimTime(20),
                result: Err(failure),
                values: vec![],
                bytes: 0,
                coordinator: None,
            };
            h.0.record(SimTime(520), &done);
            h.holds(0, &[]);
            assert_eq!(h.lost(), lost, "{failure:?}");
        }
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

    // ------------------------------------------------------------ issue 16
    // Bug 1: a read started in the microsecond its own put was acknowledged
    // was judged against the write before; bug 2: overlapping writes were
    // ordered by acknowledgement time.

    /// The client's put is acknowledged at 10 µs and the same client reads
    /// at 10 µs (zero think time): the put's record came first, so the read
    /// must see it, at t = 0.
    #[test]
    fn a_read_started_in_the_microsecond_of_its_own_put_ack_must_see_it() {
        // Positive control: the read misses the write.
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(5));
        h.invoke_put(0, 2, 6);
        h.ack_put(0, 2, 6, 10);
        h.invoke_get(0, 3, 10);
        h.complete_get(0, 3, 10, 12, &[w(0, 1)]);
        assert_eq!(
            h.verdicts(),
            (1, 1, 1),
            "stale and a read-your-writes violation"
        );
        assert_eq!(h.curve(), vec![(0, 1, 0)], "counted at t = 0");
        assert_eq!(h.0.k_staleness[1], 1);
        // Negative control: the read returns it.
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(5));
        h.invoke_put(0, 2, 6);
        h.ack_put(0, 2, 6, 10);
        h.invoke_get(0, 3, 10);
        h.complete_get(0, 3, 10, 12, &[w(0, 2)]);
        assert_eq!(h.verdicts(), (1, 0, 0));
        assert_eq!(h.curve(), vec![(0, 1, 1)]);
        // A read whose record came before the ack in the same microsecond
        // started first: it need not see the write.
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(5));
        h.invoke_put(0, 2, 6);
        h.invoke_get(1, 1, 10);
        h.ack_put(0, 2, 6, 10);
        h.complete_get(1, 1, 10, 12, &[w(0, 1)]);
        assert_eq!(h.verdicts(), (1, 0, 0));
        assert_eq!(h.curve(), vec![(5, 1, 1)], "t from the write before");
    }

    /// Monotonic reads follow the same rule: a read completed in the
    /// microsecond the next one starts comes before it.
    #[test]
    fn a_read_right_after_another_in_the_same_microsecond_is_checked_for_monotonicity() {
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(5));
        h.put(0, 2, &[w(0, 1)], 6, Some(8));
        h.invoke_get(1, 1, 9);
        h.complete_get(1, 1, 9, 20, &[w(0, 2)]);
        h.invoke_get(1, 2, 20);
        h.complete_get(1, 2, 20, 22, &[w(0, 1)]);
        assert_eq!(h.0.monotonic_violations, 1);
    }

    /// Strict quorums are a regular register: a read may return a write
    /// still in flight and a later read, overlapping the same write, its
    /// predecessor (a new-old inversion, found by the overlapping-LWW control
    /// on seed 8). That counts as a monotonic-read violation, but not as one
    /// of an acknowledged write; once the newer write was acknowledged
    /// before the later read started, it counts as both. Under
    /// last-write-wins and vector clocks alike.
    #[test]
    fn a_new_old_inversion_during_a_write_is_told_apart_from_a_settled_one() {
        for lww in [true, false] {
            for acked_first in [false, true] {
                let mut h = if lww { History::lww() } else { History::new() };
                // v = w(0, 1), acknowledged; then p = w(0, 2) in flight.
                h.put(0, 1, &[], 0, Some(10));
                h.invoke_put(0, 2, 20);
                // Client 1 reads p while it is in flight, then reads v.
                h.get(1, 1, 25, 30, &[w(0, 2)]);
                let p_ack = if acked_first { 35 } else { 60 };
                if acked_first {
                    h.ack_put(0, 2, 20, p_ack);
                }
                h.get(1, 2, 40, 50, &[w(0, 1)]);
                if !acked_first {
                    h.ack_put(0, 2, 20, p_ack);
                }
                let c = &h.0;
                let settled = u64::from(acked_first);
                assert_eq!(
                    (c.monotonic_violations, c.monotonic_settled_violations),
                    (1, settled),
                    "lww {lww}, p acknowledged before the second read {acked_first}"
                );
            }
        }
    }

    /// Two blind writes overlap in real time: A (0..100 µs) and B
    /// (10..50 µs). Ordered by acknowledgement, A looked like the latest and
    /// a read returning B stale at any t; they are concurrent, so either is
    /// fresh. A write invoked after both were acknowledged (C) supersedes
    /// both.
    #[test]
    fn a_read_returning_either_of_two_overlapping_writes_is_fresh() {
        let overlapping = |h: &mut History| {
            h.invoke_put(0, 1, 0);
            h.invoke_put(1, 1, 10);
            h.ack_put(1, 1, 10, 50);
            h.ack_put(0, 1, 0, 100);
        };
        for returned in [w(0, 1), w(1, 1)] {
            let mut h = History::lww();
            overlapping(&mut h);
            h.get(1, 2, 1_000, 1_001, &[returned]);
            h.get(1, 3, 500_000, 500_001, &[returned]);
            assert_eq!(h.verdicts(), (2, 0, 0), "returning {returned}");
        }
        // Positive control: C (blind, 150..160 µs) came after both.
        for returned in [w(0, 1), w(1, 1)] {
            let mut h = History::lww();
            overlapping(&mut h);
            h.put(2, 1, &[], 150, Some(160));
            h.get(2, 2, 1_000, 1_001, &[returned]);
            // Stale, and C's own client misses its write.
            assert_eq!(h.verdicts(), (1, 1, 1), "returning {returned}");
            assert_eq!(h.0.k_staleness[1], 1, "one version behind");
        }
        // Read-your-writes: client 1 wrote B; reading A (concurrent) is fine,
        // reading the write before both is not.
        let mut h = History::lww();
        h.put(3, 1, &[], 0, Some(0));
        h.invoke_put(0, 1, 1);
        h.invoke_put(1, 1, 10);
        h.ack_put(1, 1, 10, 50);
        h.ack_put(0, 1, 1, 100);
        h.get(1, 2, 1_000, 1_001, &[w(0, 1)]);
        assert_eq!(h.0.ryw_violations, 0);
        h.get(1, 3, 2_000, 2_001, &[w(3, 1)]);
        assert_eq!(h.0.ryw_violations, 1);
    }

    /// Last-write-wins keeps one of two overlapping writes: the survivor's
    /// twin is not lost. Under vector clocks both must be kept (siblings), so
    /// there it is; and a write older than both does not excuse either.
    #[test]
    fn the_survivor_of_two_overlapping_writes_is_not_a_loss_under_last_write_wins() {
        let history = |mut h: History, held: WriteId| {
            h.put(3, 1, &[], 0, Some(0));
            h.invoke_put(0, 1, 1);
            h.invoke_put(1, 1, 10);
            h.ack_put(1, 1, 10, 50);
            h.ack_put(0, 1, 1, 100);
            h.holds(0, &[held]);
            h.lost()
        };
        assert_eq!(history(History::lww(), w(1, 1)), vec![]);
        assert_eq!(history(History::lww(), w(0, 1)), vec![]);
        assert_eq!(history(History::new(), w(1, 1)), vec![w(0, 1)]);
        // Only the write before both survives: both are lost.
        assert_eq!(history(History::lww(), w(3, 1)), vec![w(1, 1), w(0, 1)]);
        // Under last-write-wins a later write not based on A still replaces
        // it (read-modify-write of an older value, invoked after A's ack).
        let mut h = History::lww();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[w(3, 9)], 20, Some(30));
        h.holds(0, &[w(1, 1)]);
        assert_eq!(h.lost(), vec![]);
        let mut h = History::new();
        h.put(0, 1, &[], 0, Some(10));
        h.put(1, 1, &[w(3, 9)], 20, Some(30));
        h.holds(0, &[w(1, 1)]);
        assert_eq!(h.lost(), vec![w(0, 1)], "a vector-clock sibling is lost");
    }

    /// With the commit as origin (the default), a read must see every write
    /// committed before it started, and t runs from the commit; with the
    /// client acknowledgement as origin, from the acknowledgement.
    #[test]
    fn the_origin_decides_which_writes_a_read_must_see_and_where_t_starts() {
        let run = |mut h: History, returned: WriteId| {
            h.put(0, 1, &[], 0, Some(5));
            h.invoke_put(0, 2, 10);
            h.commit(0, 2, 60);
            h.invoke_get(1, 1, 80);
            h.ack_put(0, 2, 10, 100);
            h.complete_get(1, 1, 80, 90, &[returned]);
            h.invoke_get(1, 2, 130);
            h.complete_get(1, 2, 130, 140, &[returned]);
            (h.verdicts(), h.curve())
        };
        let ack = || History::with("", r#","staleness_origin":"client_ack""#);
        // Missing the new write: stale from its commit on under the commit
        // origin; under the acknowledgement origin the first read came first.
        assert_eq!(
            run(History::new(), w(0, 1)),
            ((2, 2, 0), vec![(20, 1, 0), (70, 1, 0)])
        );
        assert_eq!(
            run(ack(), w(0, 1)),
            ((2, 1, 0), vec![(30, 1, 0), (75, 1, 1)])
        );
        // Returning it: fresh either way.
        assert_eq!(
            run(History::new(), w(0, 2)),
            ((2, 0, 0), vec![(20, 1, 1), (70, 1, 1)])
        );
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

    /// A history under a retention window as short as the test scenario's
    /// horizon (2 × 2 s client timeout + 1 s request timeout), or exact.
    fn windowed(window: bool) -> History {
        if window {
            History::with("", r#","retention_window_s":5"#)
        } else {
            History::new()
        }
    }

    /// Issue 18: retention must not depend on later writes to the key. Three
    /// blind writes nobody reads keep their whole history under the exact
    /// rule (fewer than sixteen later writes); with a window, once it passed
    /// (a record at 100 s), only the latest is left, the two before it
    /// folded into it, and the verdicts agree while it survives.
    #[test]
    fn a_retention_window_retires_by_time_whatever_later_writes_come() {
        for window in [false, true] {
            let mut h = windowed(window);
            for i in 1..=3 {
                h.put(0, i, &[], i * 1_000_000, Some(i * 1_000_000 + 2_000));
            }
            h.invoke_get(1, 1, 100_000_000);
            let expected = if window { (1, 2) } else { (3, 0) };
            assert_eq!(
                (h.0.retained_writes(), h.0.retired_writes()),
                (expected.0, expected.1 as u64),
                "window {window}"
            );
            assert_eq!(h.0.timed_passes() > 0, window);
            let summary = h.0.summary(&scenario(), &|_| vec![NodeId(0)]);
            assert_eq!(summary.get("retention").is_some(), window);
            if window {
                assert_eq!(summary["retention"]["writes_retired"], 2);
                assert_eq!(summary["retention"]["window_s"], 5.0);
            }
            h.holds(0, &[w(0, 3)]);
            assert_eq!(durability(&h), (0, 3, 0), "window {window}");
        }
        // The documented approximation: the newest write stands in for a
        // read, so when it is lost while a replica keeps the first, the
        // write folded into it is lost with it (exactly: 2 lost, 1 survives).
        for (window, lost) in [(false, (2, 1, 0)), (true, (3, 0, 0))] {
            let mut h = windowed(window);
            for i in 1..=3 {
                h.put(0, i, &[], i * 1_000_000, Some(i * 1_000_000 + 2_000));
            }
            h.invoke_get(1, 1, 100_000_000);
            h.holds(0, &[w(0, 1)]);
            assert_eq!(durability(&h), lost, "window {window}");
        }
    }

    /// A read-modify-write chain w1 → w2 → w3, each read back. A stale
    /// replica's read returning w1 is stale under both rules (positive
    /// control) and a read returning w3 is not (negative control). Within
    /// the window (6 s) k is exact, 2; past it (20 s) w1 and w2 were retired
    /// and k counts the retained writes only: 1, the documented lower bound.
    #[test]
    fn a_read_of_a_write_retired_by_time_is_still_stale() {
        for (window, at, k) in [(false, 6, 2), (true, 6, 2), (false, 20, 2), (true, 20, 1)] {
            let mut h = windowed(window);
            for i in 1..=3u64 {
                let parents: Vec<WriteId> = if i == 1 { vec![] } else { vec![w(0, i - 1)] };
                let start = i * 1_000_000;
                h.write(
                    0,
                    i,
                    OpKind::Put,
                    &parents,
                    i == 1,
                    start,
                    Some(start + 1_000),
                );
                h.get(1, i, start + 2_000, start + 3_000, &[w(0, i)]);
            }
            let start = at * 1_000_000;
            h.get(1, 10, start, start + 1_000, &[w(0, 1)]);
            assert_eq!(h.verdicts(), (4, 1, 0), "window {window} at {at} s");
            assert_eq!(h.0.k_staleness[k], 1, "window {window} at {at} s: k");
            assert_eq!(h.0.retired_writes() > 0, window && at == 20);
            h.get(1, 11, start + 2_000, start + 3_000, &[w(0, 3)]);
            assert_eq!(h.verdicts(), (5, 1, 0), "window {window} at {at} s");
        }
    }

    /// A timed pass keeps the latest done write even when a read's values
    /// cover it (here an unacknowledged write based on it, which a read
    /// returned): a later read must still be checked against it.
    #[test]
    fn a_timed_pass_keeps_the_latest_done_write() {
        let mut h = windowed(true);
        h.put(0, 1, &[], 1_000_000, Some(1_001_000));
        h.put(0, 2, &[w(0, 1)], 2_000_000, None);
        h.get(1, 1, 2_500_000, 2_501_000, &[w(0, 2)]);
        h.get(1, 2, 30_000_000, 30_001_000, &[w(0, 2)]);
        assert!(h.0.timed_passes() > 0);
        assert_eq!(h.0.retained_writes(), 2, "w1 is the latest done write");
        assert_eq!(h.verdicts(), (2, 0, 0), "both reads checked");
    }

    /// A put retired while still in flight (only an operation outliving the
    /// longest one the horizon allows for can be: a hand-written history
    /// here), then acknowledged: it is counted acknowledged but not listed,
    /// and judging durability does not panic (it indexed the retained
    /// writes with every acknowledged id).
    #[test]
    fn a_write_retired_in_flight_then_acknowledged_is_judged_without_panic() {
        let mut h = windowed(true);
        h.invoke_put(0, 1, 1_000_000);
        h.put(1, 2, &[w(0, 1)], 1_500_000, Some(1_600_000));
        h.get(1, 3, 1_700_000, 1_800_000, &[w(1, 2)]);
        h.invoke_get(2, 4, 9_000_000);
        assert_eq!(h.0.retired_writes(), 1, "w(0,1) retired while in flight");
        h.ack_put(0, 1, 1_000_000, 10_000_000);
        h.holds(0, &[w(1, 2)]);
        assert_eq!(durability(&h), (0, 1, 1));
    }

    /// A retained value `v` that a write retired by time superseded in real
    /// time (`v` done before it was invoked), while the latest done write
    /// overlaps `v`: a read returning `v` is stale under both rules, with
    /// k = 1 (the retired write) under the window.
    ///
    /// x blind 1.0–1.1 s; v blind 1.05–1.2 s; L blind 1.15–2.9 s; r based
    /// on x 1.3–1.4 s; e based on r, 1.5 s, never done; a read returns e.
    #[test]
    fn a_value_a_retired_write_superseded_is_still_stale() {
        for window in [false, true] {
            let mut h = windowed(window);
            h.invoke_put(0, 1, 1_000_000); // x
            h.invoke_put(1, 2, 1_050_000); // v
            h.ack_put(0, 1, 1_000_000, 1_100_000);
            h.invoke_put(2, 3, 1_150_000); // L
            h.ack_put(1, 2, 1_050_000, 1_200_000);
            h.write(
                4,
                4,
                OpKind::Put,
                &[w(0, 1)],
                false,
                1_300_000,
                Some(1_400_000),
            ); // r
            h.write(5, 5, OpKind::Put, &[w(4, 4)], false, 1_500_000, None); // e
            h.get(3, 6, 1_600_000, 1_700_000, &[w(5, 5)]);
            h.ack_put(2, 3, 1_150_000, 2_900_000);
            h.get(3, 7, 20_000_000, 20_001_000, &[w(1, 2)]);
            assert_eq!(h.verdicts(), (2, 1, 0), "window {window}");
            assert_eq!(h.0.retired_writes() > 0, window, "window {window}");
        }
    }

    /// A session whose last write and last read retired by time keeps only
    /// the fact of them (`Settled`), and still charges a read that returns
    /// nothing, as the exact rule does: client 0 writes A and reads it;
    /// client 1 writes B, which client 2 reads (the key's evidence), so A
    /// retires; a quiet timed pass at 15 s settles client 0's session; at
    /// 20 s client 0 reads nothing (a read-your-writes and a monotonic-read
    /// violation under both rules), then reads B (neither).
    #[test]
    fn a_settled_session_still_charges_a_read_returning_nothing() {
        for window in [false, true] {
            let mut h = windowed(window);
            h.put(0, 1, &[], 1_000_000, Some(1_001_000)); // A
            h.get(0, 2, 1_050_000, 1_060_000, &[w(0, 1)]);
            h.put(1, 3, &[], 1_100_000, Some(1_101_000)); // B
            h.get(2, 4, 1_200_000, 1_201_000, &[w(1, 3)]);
            h.invoke_get(0, 5, 20_000_000);
            let session = h.0.keys.get(&K).expect("history").session(ClientId(0));
            let session = session.expect("client 0's session");
            assert_eq!(session.last_write().is_none(), window, "window {window}");
            assert_eq!(session.last_read().is_none(), window, "window {window}");
            assert_eq!(
                session.settled,
                Settled {
                    wrote: window,
                    read: window
                }
            );
            let violations = |h: &History| {
                (
                    h.0.ryw_violations,
                    h.0.monotonic_violations,
                    h.0.monotonic_settled_violations,
                )
            };
            h.complete_get(0, 5, 20_000_000, 20_001_000, &[]);
            assert_eq!(violations(&h), (1, 1, 1), "window {window}");
            // A read whose invocation was never recorded is not charged
            // (the write is still settled under the window).
            h.complete_get(0, 9, 19_000_000, 20_000_500, &[]);
            assert_eq!(violations(&h), (1, 1, 1), "window {window}");
            h.get(0, 6, 21_000_000, 21_001_000, &[w(1, 3)]);
            assert_eq!(violations(&h), (1, 1, 1), "window {window}");
        }
    }

    /// A read in flight when a timed pass runs still finds the newest write
    /// it had to see: A (done at 1 s) is the only write done before read R
    /// starts (6.4 s); L is done at 6.5 s, a read returns it, and the pass
    /// due at 8 s runs before R completes (8.2 s, empty): R is checked and
    /// stale under both rules.
    #[test]
    fn a_read_in_flight_at_a_timed_pass_keeps_what_it_had_to_see() {
        for window in [false, true] {
            let mut h = windowed(window);
            h.put(0, 1, &[], 900_000, Some(1_000_000)); // A
            h.invoke_put(0, 2, 6_000_000); // L
            h.invoke_get(1, 3, 6_400_000); // R
            h.ack_put(0, 2, 6_000_000, 6_500_000);
            h.get(2, 4, 6_600_000, 6_700_000, &[w(0, 2)]);
            h.complete_get(1, 3, 6_400_000, 8_200_000, &[]);
            assert_eq!(h.verdicts(), (2, 1, 0), "window {window}");
            assert_eq!(h.0.timed_passes() > 0, window);
        }
    }

    /// The documented limit: a key read once early and then only written
    /// keeps its later writes, since the old read's values are its
    /// evidence and cover none of them (a key never read keeps one).
    #[test]
    fn an_old_read_keeps_the_later_writes_of_a_key_only_written() {
        let mut kept = Vec::new();
        for early_read in [false, true] {
            let mut h = windowed(true);
            h.put(0, 1, &[], 1_000_000, Some(1_002_000));
            if early_read {
                h.get(1, 2, 1_100_000, 1_101_000, &[w(0, 1)]);
            }
            for i in 3..=100u64 {
                h.put(0, i, &[], i * 1_000_000, Some(i * 1_000_000 + 2_000));
            }
            h.invoke_get(1, 1000, 200_000_000);
            kept.push(h.0.retained_writes());
        }
        assert_eq!(kept, vec![1, 99]);
    }

    /// `superseded_by_retired` per origin: the retired write r (based on
    /// x, superseding v in real time: v done before r invoked) was committed
    /// but never acknowledged. Under the commit origin a read returning v is
    /// stale under both rules; under the client-ack origin r was never done,
    /// so the read is consistent under both.
    #[test]
    fn a_retired_write_supersedes_per_origin() {
        for (origin, stale) in [("commit", 1), ("client_ack", 0)] {
            let mut got = Vec::new();
            for window in [false, true] {
                let m = if window {
                    format!(r#","retention_window_s":5,"staleness_origin":"{origin}""#)
                } else {
                    format!(r#","staleness_origin":"{origin}""#)
                };
                let mut h = History::with("", &m);
                h.invoke_put(0, 1, 1_000_000); // x
                h.invoke_put(1, 2, 1_050_000); // v
                h.commit(0, 1, 1_090_000);
                h.ack_put(0, 1, 1_000_000, 1_100_000);
                h.invoke_put(2, 3, 1_150_000); // L
                h.commit(1, 2, 1_190_000);
                h.ack_put(1, 2, 1_050_000, 1_200_000);
                // r: based on x, committed, never acknowledged.
                h.write(4, 4, OpKind::Put, &[w(0, 1)], false, 1_300_000, None);
                h.commit(4, 4, 1_350_000);
                h.write(5, 5, OpKind::Put, &[w(4, 4)], false, 1_500_000, None); // e
                h.get(3, 6, 1_600_000, 1_700_000, &[w(5, 5)]);
                h.commit(2, 3, 2_800_000);
                h.ack_put(2, 3, 1_150_000, 2_900_000);
                h.get(3, 7, 20_000_000, 20_001_000, &[w(1, 2)]);
                let (checked, stale, _) = h.verdicts();
                got.push((checked, stale, h.0.retired_writes() > 0));
            }
            assert_eq!(
                got,
                vec![(2, stale, false), (2, stale, true)],
                "origin {origin}"
            );
        }
    }

    /// Timed passes leave the count that paces the passes after reads (and
    /// the backstop's) alone, and a key an operation completed on while its
    /// pass was armed is armed again by that pass.
    #[test]
    fn timed_passes_keep_the_pass_count_and_arm_again() {
        let mut h = windowed(true);
        h.put(0, 1, &[], 1_000_000, Some(1_001_000)); // arms: due 8.001 s
        h.put(0, 2, &[], 1_500_000, Some(1_501_000)); // re-arm on firing
        let before = h.0.keys.get(&K).expect("history").since_pass;
        h.invoke_get(1, 3, 8_500_000);
        assert_eq!(h.0.timed_passes(), 1);
        assert_eq!(h.0.keys.get(&K).expect("history").since_pass, before);
        assert_eq!(
            h.0.timers.iter().copied().collect::<Vec<_>>(),
            vec![(SimTime(8_001_000 + 7_000_000), K)],
            "armed again a longest operation plus a window after the pass"
        );
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
