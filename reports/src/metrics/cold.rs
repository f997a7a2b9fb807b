//! Cold keys: the packed form of a quiet key's write history and sessions.
//!
//! Owns the byte layout of a [`KeyHistory`] and its [`Session`]s when the
//! collector freezes a key no record reached for a while (beyond the cap on
//! unpacked histories; see the module docs of `metrics`, "Cold keys"), and
//! the rule that sizes that cap from how often unpacked histories serve an
//! operation ([`HotCap`]). Packing is exact: [`unpack`] returns what
//! [`pack`] was given, field for field, so no checker's answer depends on
//! whether or when a key was frozen. It must never decide which key to
//! freeze or what to retire: the collector does.
//!
//! Layout: unsigned LEB128 varints throughout; times and record numbers of
//! a write as zigzag deltas from its invocation (they are small); a
//! [`WriteId`] in the key's own map of writes as its client and sequence
//! number, and every later mention of one of those writes (acknowledgement
//! and commit lists, chains, folds, sessions) as its place in that map, a
//! byte for a key of fewer than 128 retained writes (0 and the id spelled
//! out for a write the map does not hold); the times of the acknowledgement,
//! commit and delete lists and a session's record number of its last write
//! as differences from that write's own (a byte when equal); a session as
//! its client and one varint of what it holds, then its last write and
//! last read if it has them (a settled session is those two bytes for a
//! client below 128). A loaded key with one blind
//! write packs into about 90 bytes (the memory bench's 500k blind writes
//! leave 389,422 keys packed in 34.5 MB, their loaded values, writes,
//! acknowledgement and commit lists, chains and sessions; in an earlier
//! layout 327,982 keys in 31.8 MB, and 41.9 MB with every id spelled out),
//! against about a kilobyte and a half as maps, vectors and deques.

use std::collections::{BTreeMap, VecDeque};

use sim_core::engine::ids::{ClientId, OpId, WriteId};
use sim_core::engine::time::SimTime;

use super::id_map::IdMap;
use super::{Chain, Fold, KeyHistory, Parent, Past, Session, Settled, SmallMap, WriteInfo};

/// The most key histories the collector keeps unpacked: beyond them it
/// freezes keys no record reached for a while. Runs that touch fewer keys
/// pay nothing. An unpacked history costs about 1.2 KB, so the cap holds
/// about 80 MB; 16,384 held a quarter of that but cost the scale bench
/// (1M zipfian keys) about 8 % of its time packing and unpacking. The
/// collector lowers its cap toward [`HOT_KEYS_MIN`] while the unpacked
/// histories serve few operations (see [`HotCap`]).
pub(super) const HOT_KEYS: usize = 65_536;

/// The fewest key histories the adaptive cap keeps unpacked (more while more
/// operations are in flight: see [`HotCap::floor`]).
pub(super) const HOT_KEYS_MIN: usize = 4_096;

/// Invocations (reads and blind writes) between two decisions of the
/// adaptive cap.
pub(super) const HOT_WINDOW: u64 = 65_536;

/// The cap on unpacked histories, adapted to how often they serve an
/// operation (a CLOCK-managed cache sized by its hits per slot).
///
/// Every [`HOT_WINDOW`] invocations of reads and blind writes (a put or
/// delete based on a read follows its own read of the key, which unpacked
/// it, so it says nothing about reuse), those that found their key's
/// history unpacked (*hits*; a key with no history or a packed one is not)
/// are compared with the cap. Fewer hits than an eighth of the cap: most
/// unpacked histories cost their kilobyte and serve nothing (uniform access
/// over a key space much larger than the cap, where an unpacked history is
/// rarely touched again before it is packed), and the cap halves, down to
/// the floor. More than half the cap: it doubles, up to [`HOT_KEYS`].
/// Uniform access over a million keys goes down to the floor (at the full
/// cap about one invocation in sixteen hits, a sixteenth of the cap's worth
/// per window); a zipfian draw over a million keys, whose 65,536 most
/// popular keys take most of the draws, keeps the full cap. Packing is exact,
/// so the cap changes what a run costs, never what it reports; it depends
/// on the records only, so a run stays a pure function of its scenario and
/// seed.
#[derive(Clone, Debug)]
pub(super) struct HotCap {
    /// The cap now.
    max: usize,
    /// False for a cap a caller fixed ([`HotCap::fixed`]).
    adaptive: bool,
    invoked: u64,
    hits: u64,
}

impl Default for HotCap {
    fn default() -> Self {
        HotCap {
            max: HOT_KEYS,
            adaptive: true,
            invoked: 0,
            hits: 0,
        }
    }
}

impl HotCap {
    /// A cap fixed at `max` that never adapts.
    pub fn fixed(max: usize) -> Self {
        HotCap {
            max,
            adaptive: false,
            ..HotCap::default()
        }
    }

    /// The cap now.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The floor with `in_flight` operations pending: room for every
    /// pending operation's key twice over, so that a key is seldom packed
    /// between an operation's invocation and its completion.
    pub fn floor(in_flight: usize) -> usize {
        HOT_KEYS_MIN.max(in_flight.saturating_mul(2)).min(HOT_KEYS)
    }

    /// Counts one invocation of a read or blind write, a hit when its key's
    /// history was unpacked; at the end of a window, adapts the cap (the
    /// floor is applied at each decision: a cap below it is raised to it).
    pub fn invoked(&mut self, hit: bool, in_flight: usize) {
        if !self.adaptive {
            return;
        }
        self.invoked += 1;
        self.hits += u64::from(hit);
        if self.invoked < HOT_WINDOW {
            return;
        }
        let cap = self.max as u64;
        if self.hits * 8 < cap {
            self.max = (self.max / 2).max(Self::floor(in_flight));
        } else if self.hits * 2 > cap {
            self.max = self.max.saturating_mul(2).min(HOT_KEYS);
        }
        (self.invoked, self.hits) = (0, 0);
    }
}

/// What a key's lists of times and record numbers are coded against, per
/// write of its own: the write's acknowledgement time, its commit time and
/// its acknowledgement's record number (0 for one it has not; all 0 for a
/// write the key does not hold).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Own {
    acked_at: u64,
    committed_at: u64,
    ack_seq: u64,
}

/// A key's own writes in order, each with its [`Own`] times: made in one
/// pass over the map, so a mention finds its place and its times with one
/// search.
type Index = Vec<(WriteId, Own)>;

fn index_of(writes: &SmallMap<WriteId, WriteInfo>) -> Index {
    writes
        .iter()
        .map(|(w, i)| {
            let own = Own {
                acked_at: i.committed().map_or(0, |t| t.0),
                committed_at: i.commit().map_or(0, |c| c.0 .0),
                ack_seq: i.ack_seq().unwrap_or(0),
            };
            (*w, own)
        })
        .collect()
}

/// Bytes, and once the key's own writes are packed, their [`Index`]: a
/// later mention of one of them is its place in that list (a byte or two)
/// instead of its client and sequence number.
struct Packer {
    bytes: Vec<u8>,
    index: Option<Index>,
}

impl Packer {
    fn u(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.bytes.push(byte);
                return;
            }
            self.bytes.push(byte | 0x80);
        }
    }

    /// A signed delta, zigzag-coded.
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    fn t(&mut self, t: SimTime) {
        self.u(t.0);
    }

    /// A write id: spelled out before the index is set; after, its place
    /// in the index plus one, or 0 and spelled out (a write retired or of
    /// another key). Returns the write's [`Own`] times (all 0 when the
    /// index does not hold it).
    fn w(&mut self, w: WriteId) -> Own {
        if let Some(index) = &self.index {
            match index.binary_search_by_key(&w, |(x, _)| *x) {
                Ok(i) => {
                    let own = index[i].1;
                    self.u(i as u64 + 1);
                    return own;
                }
                Err(_) => self.u(0),
            }
        }
        self.u(u64::from(w.0.client.0));
        self.u(w.0.seq);
        Own::default()
    }

    fn len(&mut self, n: usize) {
        self.u(n as u64);
    }

    /// A list of (time, write), each time as its difference from the
    /// write's own time for this list, `pick` of its [`Own`] (nearly always
    /// equal, so a byte).
    fn timed(&mut self, list: &[(SimTime, WriteId)], pick: fn(&Own) -> u64) {
        self.len(list.len());
        for (t, w) in list {
            let own = self.w(*w);
            self.i(delta(t.0, pick(&own)));
        }
    }

    fn ids<'a>(&mut self, n: usize, ids: impl Iterator<Item = &'a WriteId>) {
        self.len(n);
        for w in ids {
            self.w(*w);
        }
    }
}

/// Reads back what [`Packer`] wrote. The bytes are the collector's own, so
/// a short or malformed buffer is a bug, not input: it panics.
struct Unpacker<'a> {
    bytes: &'a [u8],
    at: usize,
    /// As [`Packer`]'s.
    index: Option<Index>,
}

impl Unpacker<'_> {
    fn u(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.bytes[self.at];
            self.at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }

    fn i(&mut self) -> i64 {
        let z = self.u();
        ((z >> 1) as i64) ^ -((z & 1) as i64)
    }

    fn t(&mut self) -> SimTime {
        SimTime(self.u())
    }

    fn w(&mut self) -> WriteId {
        self.w_own().0
    }

    /// A write id and its [`Own`] times, as [`Packer::w`] wrote them.
    fn w_own(&mut self) -> (WriteId, Own) {
        if self.index.is_some() {
            let place = self.u();
            if place > 0 {
                return self.index.as_ref().expect("checked")[place as usize - 1];
            }
        }
        let client = ClientId(self.u() as u32);
        let w = WriteId(OpId {
            client,
            seq: self.u(),
        });
        (w, Own::default())
    }

    fn len(&mut self) -> usize {
        self.u() as usize
    }

    fn timed(&mut self, pick: fn(&Own) -> u64) -> Vec<(SimTime, WriteId)> {
        let n = self.len();
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let (w, own) = self.w_own();
            let t = undelta(self.i(), pick(&own));
            v.push((SimTime(t), w));
        }
        v
    }

    fn ids(&mut self) -> Vec<WriteId> {
        let n = self.len();
        (0..n).map(|_| self.w()).collect()
    }
}

const TOMBSTONE: u64 = 1;
const BLIND: u64 = 2;
const COMMITTED: u64 = 4;
const ACKED: u64 = 8;
const COMMIT: u64 = 16;

// What a packed session holds (one varint of these bits).
const SESSION_WRITE: u64 = 1;
const SESSION_READ: u64 = 2;
const SESSION_WROTE: u64 = 4;
const SESSION_READ_SETTLED: u64 = 8;

fn delta(a: u64, from: u64) -> i64 {
    a.wrapping_sub(from) as i64
}

fn undelta(d: i64, from: u64) -> u64 {
    from.wrapping_add(d as u64)
}

fn pack_write(p: &mut Packer, w: WriteId, i: &WriteInfo) {
    p.w(w);
    let flags = u64::from(i.tombstone) * TOMBSTONE
        + u64::from(i.blind) * BLIND
        + u64::from(i.committed().is_some()) * COMMITTED
        + u64::from(i.ack_seq().is_some()) * ACKED
        + u64::from(i.commit().is_some()) * COMMIT;
    p.u(flags);
    p.t(i.invoked);
    p.u(i.invoked_seq);
    if let Some(c) = i.committed() {
        p.i(delta(c.0, i.invoked.0));
    }
    if let Some(s) = i.ack_seq() {
        p.i(delta(s, i.invoked_seq));
    }
    if let Some((t, s)) = i.commit() {
        p.i(delta(t.0, i.invoked.0));
        p.i(delta(s, i.invoked_seq));
    }
    p.u(u64::from(i.chain));
    p.u(u64::from(i.depth));
}

fn unpack_write(u: &mut Unpacker) -> (WriteId, WriteInfo) {
    let w = u.w();
    let flags = u.u();
    let invoked = u.t();
    let invoked_seq = u.u();
    let committed = (flags & COMMITTED != 0).then(|| SimTime(undelta(u.i(), invoked.0)));
    let ack_seq = (flags & ACKED != 0).then(|| undelta(u.i(), invoked_seq));
    let commit = (flags & COMMIT != 0).then(|| {
        let t = SimTime(undelta(u.i(), invoked.0));
        (t, undelta(u.i(), invoked_seq))
    });
    let mut info = WriteInfo::invoked(
        invoked,
        invoked_seq,
        flags & TOMBSTONE != 0,
        flags & BLIND != 0,
    );
    info.acked_at = super::packed(committed.map(|t| t.0));
    info.acked_seq = super::packed(ack_seq);
    if let Some((t, s)) = commit {
        info.set_commit(t, s);
    }
    info.chain = u.u() as u32;
    info.depth = u.u() as u32;
    (w, info)
}

fn pack_chain(p: &mut Packer, id: u32, c: &Chain) {
    p.u(u64::from(id));
    p.ids(c.members.len(), c.members.iter());
    p.ids(c.parents.len(), c.parents.iter().map(|p| &p.id));
    p.t(c.blind_floor);
}

/// Unpacks a chain of a history whose `writes` are unpacked already (its
/// parents' places are looked up there).
fn unpack_chain(u: &mut Unpacker, writes: &SmallMap<WriteId, WriteInfo>) -> (u32, Chain) {
    let id = u.u() as u32;
    let members = VecDeque::from(u.ids());
    let parents = u
        .ids()
        .into_iter()
        .map(|p| Parent::of(p, &writes[&p]))
        .collect();
    let blind_floor = u.t();
    (
        id,
        Chain {
            members,
            parents,
            blind_floor,
        },
    )
}

/// Packs a map's representation too, so that unpacking gives back the
/// same one (a tree that shrank to between 5 and 16 entries stays a tree).
fn pack_map<K: Ord + Copy, V>(
    p: &mut Packer,
    m: &SmallMap<K, V>,
    mut each: impl FnMut(&mut Packer, K, &V),
) {
    p.u(u64::from(m.is_large()));
    p.len(m.len());
    for (k, v) in m.iter() {
        each(p, *k, v);
    }
}

fn unpack_map<K: Ord + Copy, V>(
    u: &mut Unpacker,
    mut each: impl FnMut(&mut Unpacker) -> (K, V),
) -> SmallMap<K, V> {
    let large = u.u() == 1;
    let n = u.len();
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(each(u));
    }
    SmallMap::from_sorted(v, large)
}

/// Packs `h` with the sessions of its key into bytes.
pub(super) fn pack(h: &KeyHistory) -> Box<[u8]> {
    let mut p = Packer {
        bytes: Vec::with_capacity(64),
        index: None,
    };
    pack_map(&mut p, &h.writes, pack_write);
    p.index = Some(index_of(&h.writes));
    p.timed(&h.acked, |o| o.acked_at);
    p.timed(&h.commits, |o| o.committed_at);
    let past = h.past();
    p.timed(&past.deletes, |o| o.acked_at);
    p.ids(
        past.indeterminate_deletes.len(),
        past.indeterminate_deletes.iter(),
    );
    p.len(h.chains.len());
    for (id, c) in h.chains.iter() {
        pack_chain(&mut p, id, c);
    }
    p.u(u64::from(h.next_chain));
    p.len(past.folds.len());
    for (w, f) in &past.folds {
        p.w(*w);
        p.u(f.acked);
        p.u(f.unacked);
        match f.first {
            None => p.u(0),
            Some((t, first)) => {
                p.u(1);
                p.t(t);
                p.w(first);
            }
        }
    }
    p.ids(h.evidence.len(), h.evidence.iter());
    p.len(h.since_pass);
    p.u(h.retired);
    p.t(past.deleted_floor);
    p.u(past.retired_done_invoked[0]);
    p.u(past.retired_done_invoked[1]);
    p.len(h.sessions.len());
    for (client, s) in &h.sessions {
        p.u(u64::from(client.0));
        // What the session holds, in one byte.
        p.u(u64::from(s.last_write().is_some()) * SESSION_WRITE
            + u64::from(s.last_read().is_some()) * SESSION_READ
            + u64::from(s.settled.wrote) * SESSION_WROTE
            + u64::from(s.settled.read) * SESSION_READ_SETTLED);
        if let Some((seq, w)) = s.last_write() {
            let own = p.w(w);
            p.i(delta(seq, own.ack_seq));
        }
        if let Some((seq, ids)) = s.last_read() {
            p.u(seq);
            p.ids(ids.len(), ids.iter());
        }
    }
    p.bytes.into_boxed_slice()
}

/// The history and sessions [`pack`] packed (`referenced` is left unset:
/// the collector sets it when it thaws a key).
pub(super) fn unpack(bytes: &[u8]) -> KeyHistory {
    let mut u = Unpacker {
        bytes,
        at: 0,
        index: None,
    };
    let mut h = unpack_history(&mut u);
    let n = u.len();
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        let client = ClientId(u.u() as u32);
        let holds = u.u();
        let last_write = (holds & SESSION_WRITE != 0).then(|| {
            let (w, own) = u.w_own();
            (undelta(u.i(), own.ack_seq), w)
        });
        let last_read = (holds & SESSION_READ != 0).then(|| {
            let seq = u.u();
            (seq, u.ids())
        });
        let mut session = Session {
            settled: Settled {
                wrote: holds & SESSION_WROTE != 0,
                read: holds & SESSION_READ_SETTLED != 0,
            },
            ..Session::default()
        };
        session.set_last_write(last_write);
        session.set_last_read(last_read);
        sessions.push((client, session));
    }
    debug_assert_eq!(u.at, bytes.len(), "a packed key is read to its end");
    h.sessions = sessions;
    h
}

/// The history alone of a packed key, without its sessions (what the
/// summary reads).
pub(super) fn unpack_history_only(bytes: &[u8]) -> KeyHistory {
    unpack_history(&mut Unpacker {
        bytes,
        at: 0,
        index: None,
    })
}

/// Reads a history; `u` is left at its sessions.
fn unpack_history(u: &mut Unpacker) -> KeyHistory {
    let writes = unpack_map(u, unpack_write);
    u.index = Some(index_of(&writes));
    let acked = u.timed(|o| o.acked_at);
    let commits = u.timed(|o| o.committed_at);
    let deletes = u.timed(|o| o.acked_at);
    let indeterminate_deletes = u.ids();
    let mut chains = IdMap::default();
    for _ in 0..u.len() {
        let (id, c) = unpack_chain(u, &writes);
        chains.insert(id, c);
    }
    let next_chain = u.u() as u32;
    let n = u.len();
    let mut folds = BTreeMap::new();
    for _ in 0..n {
        let w = u.w();
        let acked = u.u();
        let unacked = u.u();
        let first = (u.u() == 1).then(|| {
            let t = u.t();
            (t, u.w())
        });
        folds.insert(
            w,
            Fold {
                acked,
                unacked,
                first,
            },
        );
    }
    let evidence = u.ids();
    let since_pass = u.len();
    let retired = u.u();
    let deleted_floor = u.t();
    let retired_done_invoked = [u.u(), u.u()];
    let past = Past {
        deletes,
        indeterminate_deletes,
        folds,
        deleted_floor,
        retired_done_invoked,
    };
    KeyHistory {
        writes,
        acked,
        commits,
        chains,
        next_chain,
        referenced: false,
        since_pass,
        evidence,
        retired,
        past: (!past.is_empty()).then(|| Box::new(past)),
        sessions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Varints and zigzag deltas read back what was written, in any
        /// sequence.
        #[test]
        fn varints_and_deltas_round_trip(values in proptest::collection::vec((any::<u64>(), any::<i64>()), 0..50)) {
            let mut p = Packer { bytes: Vec::new(), index: None };
            for (u, i) in &values {
                p.u(*u);
                p.i(*i);
            }
            let mut u = Unpacker { bytes: &p.bytes, at: 0, index: None };
            for (a, b) in &values {
                prop_assert_eq!(u.u(), *a);
                prop_assert_eq!(u.i(), *b);
            }
            prop_assert_eq!(u.at, p.bytes.len());
        }

        /// Write ids read back the same whether spelled out or named by
        /// their place in the key's own writes, and a named one takes
        /// fewer bytes.
        #[test]
        fn write_ids_round_trip_through_the_index(
            own in proptest::collection::btree_set((0u32..4, 0u64..1_000_000), 0..20),
            mentions in proptest::collection::vec((0u32..4, 0u64..1_000_000, any::<bool>()), 0..40),
        ) {
            let id = |(c, q): (u32, u64)| WriteId(OpId { client: ClientId(c), seq: q });
            let own: Vec<WriteId> = own.into_iter().map(id).collect();
            let mentions: Vec<WriteId> = mentions
                .into_iter()
                .map(|(c, q, pick)| match (pick, own.is_empty()) {
                    (true, false) => own[q as usize % own.len()],
                    _ => id((c, q)),
                })
                .collect();
            let index: Index = own.iter().map(|w| (*w, Own::default())).collect();
            let mut p = Packer { bytes: Vec::new(), index: Some(index.clone()) };
            for w in &mentions {
                p.w(*w);
            }
            let mut u = Unpacker { bytes: &p.bytes, at: 0, index: Some(index) };
            for w in &mentions {
                prop_assert_eq!(u.w(), *w);
            }
            prop_assert_eq!(u.at, p.bytes.len());
            let mut plain = Packer { bytes: Vec::new(), index: None };
            for w in &mentions {
                plain.w(*w);
            }
            let named = mentions.iter().filter(|w| own.contains(w)).count();
            if named > 0 && own.len() < 128 {
                prop_assert!(p.bytes.len() < plain.bytes.len() + mentions.len() - named);
            }
        }

        /// A list of (time, write) reads back whatever the times, coded
        /// against each write's own time (0 for a write without one); an
        /// entry whose time is its write's own takes one byte for it.
        #[test]
        fn timed_lists_round_trip_against_their_writes_times(
            own in proptest::collection::btree_map(0u64..1_000, any::<u64>(), 0..20),
            list in proptest::collection::vec((0u64..1_200, any::<u64>(), any::<bool>()), 0..40),
        ) {
            let id = |q: u64| WriteId(OpId { client: ClientId(1), seq: q });
            let reference = |w: &WriteId| own.get(&w.0.seq).copied().unwrap_or(0);
            let list: Vec<(SimTime, WriteId)> = list
                .into_iter()
                .map(|(q, t, same)| {
                    let w = id(q);
                    (SimTime(if same { reference(&w) } else { t }), w)
                })
                .collect();
            let index: Index = own
                .iter()
                .map(|(q, t)| (id(*q), Own { acked_at: *t, ..Own::default() }))
                .collect();
            let mut p = Packer { bytes: Vec::new(), index: Some(index.clone()) };
            p.timed(&list, |o| o.acked_at);
            let mut u = Unpacker { bytes: &p.bytes, at: 0, index: Some(index) };
            prop_assert_eq!(u.timed(|o| o.acked_at), list.clone());
            prop_assert_eq!(u.at, p.bytes.len());
            // Named writes at their own time: a byte of place, a byte of time.
            let all_own_and_exact = list
                .iter()
                .all(|(t, w)| own.contains_key(&w.0.seq) && t.0 == reference(w));
            if all_own_and_exact && own.len() < 128 {
                prop_assert_eq!(p.bytes.len(), 1 + 2 * list.len());
            }
        }

        /// A write's times and record numbers pack as deltas from its
        /// invocation, whichever way they point.
        #[test]
        fn deltas_undo(a in any::<u64>(), from in any::<u64>()) {
            prop_assert_eq!(undelta(delta(a, from), from), a);
        }
    }
}
