//! Vector clocks: the version metadata Dynamo attaches to every object.
//!
//! Follows §4.4 of the Dynamo paper ("Data Versioning"). A vector clock is a
//! list of `(node, counter)` pairs; the coordinator that handles a put
//! increments its own counter. One version *descends* another when every
//! counter is at least as large; two versions neither of which descends the
//! other are *concurrent* and must be reconciled (syntactically by the store
//! when one subsumes the other, semantically by the client otherwise). Each
//! entry also carries the local time at which its node last incremented it, so
//! that a clock that grows past a threshold can be truncated by dropping the
//! oldest entry, as the paper describes.
//!
//! This module owns the clock representation, the causal comparison, the
//! least-upper-bound merge, truncation, the stable digest and syntactic
//! reconciliation of a set of versions. It must never read a clock or draw
//! randomness: the caller supplies the time of every increment. Entries are
//! kept sorted by [`NodeId`], so iteration, display and digest are
//! deterministic.
//!
//! Equality, hashing and ordering look at the `(node, counter)` pairs only;
//! timestamps are bookkeeping for truncation and never affect causality.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU64;
use std::ops::Deref;
use std::sync::Arc;

use crate::engine::ids::NodeId;
use crate::engine::time::SimTime;

/// One node's entry in a [`VectorClock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClockEntry {
    /// How many times the node has coordinated a write to this object's
    /// history (always at least 1 for a stored entry).
    pub counter: u64,
    /// The node's local time when it last incremented `counter`; used only to
    /// choose which entry truncation drops.
    pub timestamp: SimTime,
}

/// The causal relation of one clock (`self`) to another (`other`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Causality {
    /// `self` happened before `other`: `other` strictly descends `self`.
    Before,
    /// `self` happened after `other`: `self` strictly descends `other`.
    After,
    /// The same version: every counter is equal.
    Equal,
    /// Neither descends the other: divergent versions needing reconciliation.
    Concurrent,
}

impl Causality {
    /// The relation seen from the other side (`Before` ↔ `After`).
    pub fn mirror(self) -> Causality {
        match self {
            Causality::Before => Causality::After,
            Causality::After => Causality::Before,
            other => other,
        }
    }
}

/// A Dynamo vector clock: `(node, counter)` pairs sorted by node, each with
/// the time of the node's last increment.
///
/// `PartialEq`, `Hash` and `PartialOrd` ignore timestamps, so `a == b` exactly
/// when `a.compare(&b) == Causality::Equal`.
///
/// A clock of one entry (a blind write's, or a key's written through one
/// coordinator) is kept inline, 24 bytes and no allocation; an empty clock
/// or one of several entries is shared, copy-on-write: a version travels in
/// many messages and sits on N replicas, and cloning its clock is a
/// reference count, not a copy. Only a coordinator (increment, truncation)
/// and reconciliation (merge) build new entries. Which form a clock takes
/// follows from its entries alone and is never observable.
#[derive(Clone, Default)]
pub struct VectorClock {
    /// Sorted by `NodeId`, one entry per node, every counter >= 1.
    entries: Entries,
}

/// A [`VectorClock`]'s entries: one inline, or none or several shared.
#[derive(Clone, Debug)]
enum Entries {
    One(OneEntry),
    Shared(Arc<[(NodeId, ClockEntry)]>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Shared(Arc::default())
    }
}

/// The single entry of a one-entry clock. The counter is never 0 (a stored
/// entry counts at least one write), and that spare value tags the
/// [`Entries`] enum: `Entries` is as large as this struct. `repr(C)` puts the
/// counter first, so the shared form's pointer fits beside it.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct OneEntry {
    counter: NonZeroU64,
    timestamp: SimTime,
    node: NodeId,
}

impl OneEntry {
    fn entry(&self) -> ClockEntry {
        ClockEntry {
            counter: self.counter.get(),
            timestamp: self.timestamp,
        }
    }
}

/// The entries as a slice: borrowed from the shared form, or the inline
/// entry copied out.
enum View<'a> {
    Shared(&'a [(NodeId, ClockEntry)]),
    One([(NodeId, ClockEntry); 1]),
}

impl Deref for View<'_> {
    type Target = [(NodeId, ClockEntry)];
    fn deref(&self) -> &Self::Target {
        match self {
            View::Shared(s) => s,
            View::One(one) => one,
        }
    }
}

impl Entries {
    fn from_vec(entries: Vec<(NodeId, ClockEntry)>) -> Entries {
        match entries[..] {
            [(node, entry)] => match NonZeroU64::new(entry.counter) {
                Some(counter) => Entries::One(OneEntry {
                    counter,
                    timestamp: entry.timestamp,
                    node,
                }),
                // Not a stored entry (every counter is at least 1), but kept
                // as given.
                None => Entries::Shared(entries.into()),
            },
            _ => Entries::Shared(entries.into()),
        }
    }

    fn view(&self) -> View<'_> {
        match self {
            Entries::Shared(s) => View::Shared(s),
            Entries::One(one) => View::One([(one.node, one.entry())]),
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Shared(s) => s.len(),
            Entries::One(_) => 1,
        }
    }

    /// True when both are the same shared allocation.
    fn same_shared(&self, other: &Entries) -> bool {
        matches!((self, other), (Entries::Shared(a), Entries::Shared(b)) if Arc::ptr_eq(a, b))
    }
}

impl VectorClock {
    /// The empty clock (the version of an object nobody has written).
    pub fn new() -> Self {
        VectorClock::default()
    }

    /// Applies `edit` to a private copy of the entries.
    fn edit<T>(&mut self, edit: impl FnOnce(&mut Vec<(NodeId, ClockEntry)>) -> T) -> T {
        let mut entries = self.entries.view().to_vec();
        let out = edit(&mut entries);
        self.entries = Entries::from_vec(entries);
        out
    }

    fn position(&self, node: NodeId) -> Result<usize, usize> {
        self.entries.view().binary_search_by_key(&node, |(n, _)| *n)
    }

    /// The counter of `node`, 0 if the node has no entry.
    pub fn counter(&self, node: NodeId) -> u64 {
        self.entry(node).map_or(0, |e| e.counter)
    }

    /// The full entry of `node`, if it has one.
    pub fn entry(&self, node: NodeId) -> Option<ClockEntry> {
        match &self.entries {
            Entries::One(one) => (one.node == node).then(|| one.entry()),
            Entries::Shared(s) => s
                .binary_search_by_key(&node, |(n, _)| *n)
                .ok()
                .map(|i| s[i].1),
        }
    }

    /// Like [`VectorClock::increment`], but the new counter is also above
    /// `floor`: a coordinator passes the highest counter it ever issued for the
    /// key, so it never issues the same `(node, counter)` twice even when two
    /// writes arrive with the same context.
    pub fn increment_above(&mut self, node: NodeId, floor: u64, now: SimTime) {
        let next = self.counter(node).max(floor).saturating_add(1);
        let position = self.position(node);
        let entry = ClockEntry {
            counter: next,
            timestamp: now,
        };
        self.edit(|entries| match position {
            Ok(i) => entries[i].1 = entry,
            Err(i) => entries.insert(i, (node, entry)),
        });
    }

    /// Records a write coordinated by `node` at its local time `now`: the
    /// node's counter goes up by one and its timestamp becomes `now`.
    pub fn increment(&mut self, node: NodeId, now: SimTime) {
        let position = self.position(node);
        self.edit(|entries| match position {
            Ok(i) => {
                let e = &mut entries[i].1;
                e.counter = e.counter.saturating_add(1);
                e.timestamp = now;
            }
            Err(i) => entries.insert(
                i,
                (
                    node,
                    ClockEntry {
                        counter: 1,
                        timestamp: now,
                    },
                ),
            ),
        })
    }

    /// The causal relation of `self` to `other`.
    pub fn compare(&self, other: &Self) -> Causality {
        let mut self_ahead = false;
        let mut other_ahead = false;
        let (mut i, mut j) = (0, 0);
        let (a, b) = (self.entries.view(), other.entries.view());
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    self_ahead = true;
                    i += 1;
                }
                Ordering::Greater => {
                    other_ahead = true;
                    j += 1;
                }
                Ordering::Equal => {
                    match a[i].1.counter.cmp(&b[j].1.counter) {
                        Ordering::Greater => self_ahead = true,
                        Ordering::Less => other_ahead = true,
                        Ordering::Equal => {}
                    }
                    i += 1;
                    j += 1;
                }
            }
            if self_ahead && other_ahead {
                return Causality::Concurrent;
            }
        }
        self_ahead |= i < a.len();
        other_ahead |= j < b.len();
        match (self_ahead, other_ahead) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::After,
            (false, true) => Causality::Before,
            (true, true) => Causality::Concurrent,
        }
    }

    /// True when `self` descends `other` (`self >= other`: equal or after),
    /// i.e. the version tagged `self` subsumes the one tagged `other`.
    pub fn descends(&self, other: &Self) -> bool {
        matches!(self.compare(other), Causality::Equal | Causality::After)
    }

    /// The least upper bound of the two clocks: per node the larger counter.
    /// The timestamp travels with the winning counter; on equal counters the
    /// later timestamp is kept.
    pub fn merge(&self, other: &Self) -> Self {
        let (a, b) = (self.entries.view(), other.entries.view());
        let mut entries = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    entries.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    entries.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    entries.push((a[i].0, merge_entry(a[i].1, b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        entries.extend_from_slice(&a[i..]);
        entries.extend_from_slice(&b[j..]);
        VectorClock {
            entries: Entries::from_vec(entries),
        }
    }

    /// Merges `other` into `self` (see [`VectorClock::merge`]).
    pub fn merge_in(&mut self, other: &Self) {
        if other.is_empty() || self.entries.same_shared(&other.entries) {
            return;
        }
        // Two inline entries of one node (siblings sharing a one-entry
        // object clock): merged in place, without the general merge's list.
        if let (Entries::One(a), Entries::One(b)) = (&mut self.entries, &other.entries) {
            if a.node == b.node {
                let merged = merge_entry(a.entry(), b.entry());
                a.timestamp = merged.timestamp;
                a.counter = NonZeroU64::new(merged.counter).expect("a merge of stored counters");
                return;
            }
        }
        if self.is_empty() {
            // Share the entries (siblings of one object share their clock).
            self.entries = other.entries.clone();
            return;
        }
        *self = self.merge(other);
    }

    /// While the clock has more than `threshold` entries, drops the entry with
    /// the oldest timestamp (ties: the smallest node id). Returns how many
    /// entries were dropped. A `threshold` of 0 means "never truncate".
    ///
    /// Truncation loses causal information, exactly as in the paper: a
    /// truncated clock may later look concurrent with one it really precedes.
    pub fn truncate(&mut self, threshold: usize) -> usize {
        if threshold == 0 {
            return 0;
        }
        if self.entries.len() <= threshold {
            return 0;
        }
        self.edit(|entries| {
            let mut dropped = 0;
            while entries.len() > threshold {
                let oldest = entries
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (node, e))| (e.timestamp, *node))
                    .map(|(i, _)| i)
                    .expect("a clock longer than a positive threshold is not empty");
                entries.remove(oldest);
                dropped += 1;
            }
            dropped
        })
    }

    /// The number of nodes with an entry.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for the empty clock.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The entries in `NodeId` order.
    pub fn entries(&self) -> impl Iterator<Item = (NodeId, ClockEntry)> + '_ {
        let view = self.entries.view();
        (0..view.len()).map(move |i| view[i])
    }

    /// A stable 64-bit digest of the `(node, counter)` pairs, timestamps
    /// excluded: FNV-1a over each node id (4 bytes) and counter (8 bytes),
    /// little-endian, in node order. Equal clocks have equal digests on every
    /// platform and in every run.
    pub fn digest(&self) -> u64 {
        const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = FNV_OFFSET;
        let mut feed = |bytes: &[u8]| {
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(FNV_PRIME);
            }
        };
        for (node, e) in self.entries.view().iter() {
            feed(&node.0.to_le_bytes());
            feed(&e.counter.to_le_bytes());
        }
        h
    }
}

fn merge_entry(a: ClockEntry, b: ClockEntry) -> ClockEntry {
    match a.counter.cmp(&b.counter) {
        Ordering::Greater => a,
        Ordering::Less => b,
        Ordering::Equal => ClockEntry {
            counter: a.counter,
            timestamp: a.timestamp.max(b.timestamp),
        },
    }
}

impl PartialEq for VectorClock {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.entries.view(), other.entries.view());
        a.len() == b.len()
            && a.iter()
                .zip(b.iter())
                .all(|((n1, e1), (n2, e2))| n1 == n2 && e1.counter == e2.counter)
    }
}

impl Eq for VectorClock {}

impl Hash for VectorClock {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.entries.len());
        for (node, e) in self.entries.view().iter() {
            node.hash(state);
            e.counter.hash(state);
        }
    }
}

impl PartialOrd for VectorClock {
    /// `Less` when `self` happened before `other`, `Greater` when after,
    /// `Equal` for the same version and `None` when concurrent.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.compare(other) {
            Causality::Before => Some(Ordering::Less),
            Causality::After => Some(Ordering::Greater),
            Causality::Equal => Some(Ordering::Equal),
            Causality::Concurrent => None,
        }
    }
}

impl fmt::Debug for VectorClock {
    /// As it was when the entries were always a shared slice (trace files
    /// show it), whichever form they take.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorClock")
            .field("entries", &&*self.entries.view())
            .finish()
    }
}

impl fmt::Display for VectorClock {
    /// `[n1:2, n3:1]`: node and counter, in node order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, (node, e)) in self.entries.view().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}:{}", node, e.counter)?;
        }
        f.write_str("]")
    }
}

/// Syntactic reconciliation (§4.4): the indices, in increasing order, of the
/// versions that no other version strictly descends. Of a group of `Equal`
/// clocks only the first is kept. What remains are the concurrent versions a
/// read must return for the client to reconcile semantically (a single index
/// when one version subsumes all others).
pub fn reconcile_syntactic(versions: &[VectorClock]) -> Vec<usize> {
    (0..versions.len())
        .filter(|&i| {
            versions.iter().enumerate().all(|(j, other)| {
                i == j
                    || match versions[i].compare(other) {
                        Causality::Before => false,
                        Causality::Equal => j > i,
                        Causality::After | Causality::Concurrent => true,
                    }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(pairs: &[(u32, u64)]) -> VectorClock {
        let mut c = VectorClock::new();
        for &(n, k) in pairs {
            for _ in 0..k {
                c.increment(NodeId(n), SimTime(0));
            }
        }
        c
    }

    #[test]
    fn a_one_entry_clock_is_inline_and_answers_as_a_shared_one() {
        // The layout this representation exists for: no larger than the
        // shared pointer's 16 bytes plus one entry.
        assert_eq!(std::mem::size_of::<VectorClock>(), 24);
        let one = vc(&[(3, 2)]);
        assert!(matches!(one.entries, Entries::One(_)));
        let shared = VectorClock {
            entries: Entries::Shared(
                vec![(
                    NodeId(3),
                    ClockEntry {
                        counter: 2,
                        timestamp: SimTime(0),
                    },
                )]
                .into(),
            ),
        };
        assert_eq!(one, shared);
        assert_eq!(one.digest(), shared.digest());
        assert_eq!(one.compare(&shared), Causality::Equal);
        assert_eq!(one.to_string(), shared.to_string());
        assert_eq!(format!("{one:?}"), format!("{shared:?}"));
        assert_eq!(
            format!("{one:?}"),
            "VectorClock { entries: [(NodeId(3), ClockEntry { counter: 2, timestamp: SimTime(0) })] }"
        );
        assert_eq!(one.entry(NodeId(3)), shared.entry(NodeId(3)));
        assert_eq!(one.counter(NodeId(4)), 0);
        // Growing to two entries and truncating back to one changes form.
        let mut two = one.clone();
        two.increment(NodeId(1), SimTime(5));
        assert!(matches!(two.entries, Entries::Shared(_)));
        assert_eq!(two.to_string(), "[n1:1, n3:2]");
        assert_eq!(two.truncate(1), 1);
        assert!(matches!(two.entries, Entries::One(_)));
        assert_eq!(two.to_string(), "[n1:1]");
        // Two one-entry clocks of one node merge in place: the larger
        // counter with its timestamp, on a tie the later timestamp.
        let mut a = VectorClock::new();
        a.increment(NodeId(3), SimTime(9));
        let mut b = one.clone();
        b.merge_in(&a);
        assert_eq!(b.entry(NodeId(3)), one.entry(NodeId(3)));
        let mut c = vc(&[(3, 2)]);
        c.increment(NodeId(3), SimTime(1));
        c.merge_in(&one);
        assert_eq!(c.counter(NodeId(3)), 3);
        let mut d = one.clone();
        let mut later = vc(&[(3, 1)]);
        later.increment(NodeId(3), SimTime(7));
        d.merge_in(&later);
        assert_eq!(
            d.entry(NodeId(3)),
            Some(ClockEntry {
                counter: 2,
                timestamp: SimTime(7)
            })
        );
        assert!(matches!(d.entries, Entries::One(_)));
        // An empty clock merged with a one-entry clock takes it.
        let mut empty = VectorClock::new();
        empty.merge_in(&one);
        assert_eq!(empty, one);
    }

    #[test]
    fn paper_figure_3_example() {
        let (sx, sy, sz) = (NodeId(0), NodeId(1), NodeId(2));
        // D1: a new object written through Sx.
        let mut d1 = VectorClock::new();
        d1.increment(sx, SimTime(1));
        assert_eq!(d1.to_string(), "[n0:1]");
        // D2: Sx handles an update of D1.
        let mut d2 = d1.clone();
        d2.increment(sx, SimTime(2));
        assert_eq!(d2.counter(sx), 2);
        assert_eq!(d2.compare(&d1), Causality::After);
        assert!(d2.descends(&d1));
        // D3: Sy handles an update of D2.
        let mut d3 = d2.clone();
        d3.increment(sy, SimTime(3));
        // D4: Sz handles a different update of D2.
        let mut d4 = d2.clone();
        d4.increment(sz, SimTime(4));
        assert_eq!(d3.to_string(), "[n0:2, n1:1]");
        assert_eq!(d4.to_string(), "[n0:2, n2:1]");
        assert_eq!(d3.compare(&d4), Causality::Concurrent);
        assert_eq!(d4.compare(&d3), Causality::Concurrent);
        assert_eq!(d3.partial_cmp(&d4), None);
        assert!(d3.descends(&d2) && d4.descends(&d2));
        assert!(!d3.descends(&d4) && !d4.descends(&d3));
        // A read sees both D3 and D4: the store cannot reconcile them.
        assert_eq!(reconcile_syntactic(&[d3.clone(), d4.clone()]), vec![0, 1]);
        assert_eq!(
            reconcile_syntactic(&[d1.clone(), d3.clone(), d2.clone(), d4.clone()]),
            vec![1, 3]
        );
        // D5: the client reconciles and Sx coordinates the write.
        let mut d5 = d3.merge(&d4);
        d5.increment(sx, SimTime(5));
        assert_eq!(d5.to_string(), "[n0:3, n1:1, n2:1]");
        assert!(d5.descends(&d3) && d5.descends(&d4));
        assert_eq!(d5.compare(&d3), Causality::After);
        assert_eq!(d3.compare(&d5), Causality::Before);
        assert!(d3 < d5 && d4 < d5 && d1 < d5);
        assert_eq!(
            reconcile_syntactic(&[d3, d4, d5.clone(), d1, d2, d5]),
            vec![2]
        );
    }

    #[test]
    fn empty_clock_precedes_everything() {
        let e = VectorClock::new();
        assert!(e.is_empty());
        assert_eq!(e.compare(&VectorClock::default()), Causality::Equal);
        assert_eq!(e.compare(&vc(&[(3, 1)])), Causality::Before);
        assert_eq!(e.to_string(), "[]");
        assert_eq!(e.counter(NodeId(9)), 0);
    }

    #[test]
    fn truncation_drops_the_oldest_entries() {
        let mut c = VectorClock::new();
        c.increment(NodeId(5), SimTime(30));
        c.increment(NodeId(1), SimTime(10));
        c.increment(NodeId(2), SimTime(50));
        c.increment(NodeId(3), SimTime(10));
        c.increment(NodeId(1), SimTime(40)); // n1 is now recent
        assert_eq!(c.truncate(0), 0);
        assert_eq!(c.truncate(4), 0);
        assert_eq!(c.len(), 4);
        // Oldest is n3 (10), then n5 (30).
        assert_eq!(c.truncate(2), 2);
        assert_eq!(c.to_string(), "[n1:2, n2:1]");
        // Ties on timestamp: smallest node id goes first.
        let mut t = VectorClock::new();
        t.increment(NodeId(7), SimTime(1));
        t.increment(NodeId(4), SimTime(1));
        t.increment(NodeId(6), SimTime(2));
        assert_eq!(t.truncate(2), 1);
        assert_eq!(t.to_string(), "[n6:1, n7:1]");
    }

    #[test]
    fn merge_keeps_the_timestamp_of_the_winning_counter() {
        let mut a = VectorClock::new();
        a.increment(NodeId(1), SimTime(10));
        a.increment(NodeId(1), SimTime(20));
        let mut b = VectorClock::new();
        b.increment(NodeId(1), SimTime(99));
        b.increment(NodeId(2), SimTime(5));
        let m = a.merge(&b);
        assert_eq!(
            m.entry(NodeId(1)),
            Some(ClockEntry {
                counter: 2,
                timestamp: SimTime(20)
            })
        );
        assert_eq!(m.entry(NodeId(2)).map(|e| e.timestamp), Some(SimTime(5)));
        // Equal counters: the later timestamp.
        let mut c = VectorClock::new();
        c.increment(NodeId(1), SimTime(3));
        let mut d = VectorClock::new();
        d.increment(NodeId(1), SimTime(8));
        assert_eq!(
            c.merge(&d).entry(NodeId(1)).map(|e| e.timestamp),
            Some(SimTime(8))
        );
        let mut e = c.clone();
        e.merge_in(&d);
        assert_eq!(e.entry(NodeId(1)).map(|e| e.timestamp), Some(SimTime(8)));
    }

    #[test]
    fn equality_and_digest_ignore_timestamps() {
        let mut a = VectorClock::new();
        a.increment(NodeId(1), SimTime(1));
        let mut b = VectorClock::new();
        b.increment(NodeId(1), SimTime(2));
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), vc(&[(1, 2)]).digest());
        assert_ne!(vc(&[(1, 1), (2, 1)]).digest(), vc(&[(1, 1)]).digest());
        // Golden value: FNV-1a of the empty input is the offset basis.
        assert_eq!(VectorClock::new().digest(), 0xcbf2_9ce4_8422_2325);
    }

    mod proptests {
        use super::super::*;
        use proptest::prelude::*;

        /// Clocks over a few nodes so that relations of every kind occur.
        fn clock() -> impl Strategy<Value = VectorClock> {
            proptest::collection::vec((0u32..4, 0u64..3, 0u64..100), 0..5).prop_map(|v| {
                let mut c = VectorClock::new();
                for (n, k, t) in v {
                    for _ in 0..k {
                        c.increment(NodeId(n), SimTime(t));
                    }
                }
                c
            })
        }

        /// The definition, straight from the paper: every counter >= .
        fn model_descends(a: &VectorClock, b: &VectorClock) -> bool {
            b.entries().all(|(n, e)| a.counter(n) >= e.counter)
        }

        proptest! {
            #[test]
            fn compare_matches_the_definition(a in clock(), b in clock()) {
                let ab = model_descends(&a, &b);
                let ba = model_descends(&b, &a);
                let expected = match (ab, ba) {
                    (true, true) => Causality::Equal,
                    (true, false) => Causality::After,
                    (false, true) => Causality::Before,
                    (false, false) => Causality::Concurrent,
                };
                prop_assert_eq!(a.compare(&b), expected);
                prop_assert_eq!(a.descends(&b), ab);
            }

            #[test]
            fn compare_is_a_partial_order(a in clock(), b in clock(), c in clock()) {
                prop_assert_eq!(a.compare(&a), Causality::Equal);
                prop_assert_eq!(a.compare(&b), b.compare(&a).mirror());
                if a.descends(&b) && b.descends(&a) {
                    prop_assert_eq!(&a, &b);
                }
                if a.descends(&b) && b.descends(&c) {
                    prop_assert!(a.descends(&c));
                }
                prop_assert_eq!(a == b, a.compare(&b) == Causality::Equal);
            }

            #[test]
            fn merge_is_the_least_upper_bound(a in clock(), b in clock(), c in clock()) {
                let ab = a.merge(&b);
                prop_assert_eq!(&ab, &b.merge(&a));
                prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
                prop_assert_eq!(a.merge(&a), a.clone());
                prop_assert!(ab.descends(&a) && ab.descends(&b));
                if c.descends(&a) && c.descends(&b) {
                    prop_assert!(c.descends(&ab));
                }
                let mut inplace = a.clone();
                inplace.merge_in(&b);
                prop_assert_eq!(inplace.entries().collect::<Vec<_>>(), ab.entries().collect::<Vec<_>>());
            }

            #[test]
            fn reconcile_keeps_exactly_the_maximal_versions(
                vs in proptest::collection::vec(clock(), 0..7)
            ) {
                let kept = reconcile_syntactic(&vs);
                for (i, v) in vs.iter().enumerate() {
                    let dominated = vs.iter().any(|o| o.compare(v) == Causality::After);
                    let earlier_equal = vs[..i].iter().any(|o| o == v);
                    prop_assert_eq!(kept.contains(&i), !dominated && !earlier_equal);
                }
                // Every input is descended by some kept version.
                for v in &vs {
                    prop_assert!(kept.iter().any(|&k| vs[k].descends(v)));
                }
            }

            #[test]
            fn truncate_leaves_at_most_threshold(a in clock(), t in 1usize..4) {
                let mut b = a.clone();
                let dropped = b.truncate(t);
                prop_assert_eq!(b.len(), a.len().min(t));
                prop_assert_eq!(dropped, a.len() - b.len());
                // Survivors are never older than anything dropped.
                let min_kept = b.entries().map(|(n, e)| (e.timestamp, n)).min();
                for (n, e) in a.entries() {
                    if b.entry(n).is_none() {
                        prop_assert!(Some((e.timestamp, n)) < min_kept);
                    }
                }
            }
        }
    }
}
