//! A node's local store of versions: per key, the set of causally unrelated
//! versions (siblings), with syntactic reconciliation on every write (§4.4).
//!
//! The store keeps what one storage engine instance holds. It owns the rule
//! "a new version replaces exactly the versions it supersedes, and is dropped
//! if a stored version already supersedes it" for vector clocks, and "the
//! larger stamp wins" for last-write-wins. It knows nothing about replicas,
//! quorums or the network; which store is durable and which is a volatile
//! buffer is the node's business.

use std::collections::BTreeMap;

use crate::config::Versioning;
use crate::dynamo::protocol::Version;
use crate::engine::ids::Key;
use crate::engine::time::SimTime;

/// A stored version and when it was stored locally (for tombstone GC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The version.
    pub version: Version,
    /// Local store time (global virtual time).
    pub stored_at: SimTime,
}

/// The outcome of applying one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Stored; it replaced this many obsolete versions.
    Stored {
        /// Versions it superseded.
        replaced: u32,
    },
    /// A stored version already supersedes it (or it is already stored).
    Obsolete,
}

/// Keeps only the versions no other version supersedes (syntactic
/// reconciliation), or the single largest stamp under last-write-wins.
/// Order of the result: the order of first appearance.
pub fn reconcile(
    versioning: Versioning,
    versions: impl IntoIterator<Item = Version>,
) -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    for v in versions {
        absorb(versioning, &mut out, v);
    }
    out
}

fn absorb(versioning: Versioning, set: &mut Vec<Version>, v: Version) -> Applied {
    match versioning {
        Versioning::LastWriteWins => match set.first() {
            Some(cur) if cur.stamp >= v.stamp => Applied::Obsolete,
            Some(_) => {
                set.clear();
                set.push(v);
                Applied::Stored { replaced: 1 }
            }
            None => {
                set.push(v);
                Applied::Stored { replaced: 0 }
            }
        },
        Versioning::VectorClocks { .. } => {
            if set.iter().any(|cur| cur.supersedes(&v)) {
                return Applied::Obsolete;
            }
            let before = set.len();
            set.retain(|cur| !v.supersedes(cur));
            let replaced = (before - set.len()) as u32;
            set.push(v);
            Applied::Stored { replaced }
        }
    }
}

/// True when `held` already contains or supersedes every version of `wanted`.
pub fn covers(held: &[Version], wanted: &[Version], versioning: Versioning) -> bool {
    wanted.iter().all(|w| match versioning {
        Versioning::LastWriteWins => held.iter().any(|h| h.stamp >= w.stamp),
        Versioning::VectorClocks { .. } => held.iter().any(|h| h.supersedes(w)),
    })
}

/// One store: key → siblings.
#[derive(Clone, Debug)]
pub struct Store {
    versioning: Versioning,
    keys: BTreeMap<Key, Vec<Stored>>,
}

impl Store {
    /// An empty store.
    pub fn new(versioning: Versioning) -> Self {
        Store {
            versioning,
            keys: BTreeMap::new(),
        }
    }

    /// Applies `version` with syntactic reconciliation.
    pub fn apply(&mut self, key: Key, version: Version, now: SimTime) -> Applied {
        let entry = self
            .keys
            .entry(key)
            .or_insert_with(|| Vec::with_capacity(1));
        let applied = match self.versioning {
            Versioning::LastWriteWins => match entry.first() {
                Some(cur) if cur.version.stamp >= version.stamp => Applied::Obsolete,
                Some(_) => {
                    entry.clear();
                    entry.push(Stored {
                        version,
                        stored_at: now,
                    });
                    Applied::Stored { replaced: 1 }
                }
                None => {
                    entry.push(Stored {
                        version,
                        stored_at: now,
                    });
                    Applied::Stored { replaced: 0 }
                }
            },
            Versioning::VectorClocks { .. } => {
                if entry.iter().any(|cur| cur.version.supersedes(&version)) {
                    Applied::Obsolete
                } else {
                    let before = entry.len();
                    entry.retain(|cur| !version.supersedes(&cur.version));
                    let replaced = (before - entry.len()) as u32;
                    entry.push(Stored {
                        version,
                        stored_at: now,
                    });
                    Applied::Stored { replaced }
                }
            }
        };
        if entry.is_empty() {
            self.keys.remove(&key);
        }
        applied
    }

    /// Drops every version of `key` (it moved to its new owners).
    pub fn remove(&mut self, key: Key) {
        self.keys.remove(&key);
    }

    /// The versions of `key` (cloned).
    pub fn versions(&self, key: Key) -> Vec<Version> {
        self.keys
            .get(&key)
            .map(|v| v.iter().map(|s| s.version.clone()).collect())
            .unwrap_or_default()
    }

    /// The stored entries of `key`.
    pub fn stored(&self, key: Key) -> &[Stored] {
        self.keys.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every key with its entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &[Stored])> + '_ {
        self.keys.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Removes tombstones stored at or before `cutoff`; returns how many, and
    /// appends the keys it touched to `touched`.
    pub fn purge_tombstones(&mut self, cutoff: SimTime, touched: &mut Vec<Key>) -> u32 {
        let mut purged = 0;
        self.keys.retain(|key, versions| {
            let before = versions.len();
            versions.retain(|s| !(s.version.value.is_tombstone() && s.stored_at <= cutoff));
            let removed = (before - versions.len()) as u32;
            if removed > 0 {
                touched.push(*key);
            }
            purged += removed;
            !versions.is_empty()
        });
        purged
    }

    /// Takes every entry out, leaving the store empty.
    pub fn take_all(&mut self) -> BTreeMap<Key, Vec<Stored>> {
        std::mem::take(&mut self.keys)
    }

    /// Number of keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Number of versions over all keys.
    pub fn version_count(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }

    /// Drops everything (disk loss).
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::protocol::{LwwStamp, Value};
    use crate::dynamo::vclock::VectorClock;
    use crate::engine::ids::{ClientId, NodeId, OpId, WriteId};

    const VC: Versioning = Versioning::VectorClocks {
        truncation_threshold: 10,
    };

    fn write(seq: u64) -> WriteId {
        WriteId(OpId {
            client: ClientId(0),
            seq,
        })
    }

    /// A version written by `node` from `context`.
    fn version(context: &VectorClock, node: u32, seq: u64) -> Version {
        let mut clock = context.clone();
        clock.increment(NodeId(node), SimTime(seq));
        Version {
            seen: context.counter(NodeId(node)),
            clock,
            coordinator: NodeId(node),
            value: Value::Data(write(seq)),
            stamp: LwwStamp {
                local_time_us: seq,
                write: write(seq),
            },
            size: 0,
        }
    }

    #[test]
    fn a_descendant_replaces_its_ancestor() {
        let mut s = Store::new(VC);
        let d1 = version(&VectorClock::new(), 0, 1);
        let d2 = version(&d1.clock, 0, 2);
        assert_eq!(
            s.apply(Key(1), d1.clone(), SimTime(0)),
            Applied::Stored { replaced: 0 }
        );
        assert_eq!(
            s.apply(Key(1), d2.clone(), SimTime(0)),
            Applied::Stored { replaced: 1 }
        );
        assert_eq!(s.apply(Key(1), d1, SimTime(0)), Applied::Obsolete);
        assert_eq!(s.versions(Key(1)), vec![d2]);
    }

    #[test]
    fn concurrent_writes_through_one_coordinator_stay_siblings() {
        // Same context, same coordinator: the paper's clocks would be equal.
        let mut s = Store::new(VC);
        let base = version(&VectorClock::new(), 0, 1);
        let a = version(&base.clock, 0, 2);
        let b = version(&base.clock, 0, 3);
        s.apply(Key(1), base, SimTime(0));
        s.apply(Key(1), a.clone(), SimTime(0));
        s.apply(Key(1), b.clone(), SimTime(0));
        assert_eq!(s.versions(Key(1)), vec![a.clone(), b.clone()]);
        // A client that read both writes a version that supersedes both.
        let merged = a.clock.merge(&b.clock);
        let c = version(&merged, 1, 4);
        s.apply(Key(1), c.clone(), SimTime(0));
        assert_eq!(s.versions(Key(1)), vec![c]);
    }

    #[test]
    fn last_write_wins_keeps_the_largest_stamp() {
        let lww = Versioning::LastWriteWins;
        let mut s = Store::new(lww);
        let mut early = version(&VectorClock::new(), 0, 5);
        early.stamp.local_time_us = 100;
        let mut late = version(&VectorClock::new(), 1, 6);
        late.stamp.local_time_us = 50;
        s.apply(Key(2), early.clone(), SimTime(0));
        assert_eq!(s.apply(Key(2), late, SimTime(0)), Applied::Obsolete);
        assert_eq!(s.versions(Key(2)), vec![early]);
    }

    #[test]
    fn tombstones_are_purged_after_the_cutoff_only() {
        let mut s = Store::new(VC);
        let mut t = version(&VectorClock::new(), 0, 1);
        t.value = Value::Tombstone(write(1));
        s.apply(Key(3), t, SimTime(10));
        assert_eq!(s.purge_tombstones(SimTime(9), &mut Vec::new()), 0);
        let mut touched = Vec::new();
        assert_eq!(s.purge_tombstones(SimTime(10), &mut touched), 1);
        assert_eq!(touched, vec![Key(3)]);
        assert_eq!(s.key_count(), 0);
    }

    #[test]
    fn reconcile_keeps_maximal_versions() {
        let d1 = version(&VectorClock::new(), 0, 1);
        let d2 = version(&d1.clock, 0, 2);
        let d3 = version(&d2.clock, 1, 3);
        let d4 = version(&d2.clock, 2, 4);
        let r = reconcile(VC, vec![d1, d3.clone(), d2, d4.clone()]);
        assert_eq!(r, vec![d3.clone(), d4.clone()]);
        assert!(covers(&r, &[d3], VC));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A history of writes: each picks a coordinator and a subset of the
        /// earlier writes as its context (what the client had read).
        fn history() -> impl Strategy<Value = Vec<(u32, Vec<usize>)>> {
            prop::collection::vec((0u32..3, prop::collection::vec(0usize..64, 0..3)), 1..12)
        }

        fn build(h: &[(u32, Vec<usize>)]) -> Vec<Version> {
            let mut out: Vec<Version> = Vec::new();
            let mut issued = [0u64; 3];
            for (i, (node, ctx)) in h.iter().enumerate() {
                let mut context = VectorClock::new();
                for j in ctx.iter().filter(|j| **j < i) {
                    context.merge_in(&out[*j].clock);
                }
                let mut clock = context.clone();
                let seen = clock.counter(NodeId(*node));
                clock.increment_above(NodeId(*node), issued[*node as usize], SimTime(i as u64));
                issued[*node as usize] = clock.counter(NodeId(*node));
                let id = write(i as u64);
                out.push(Version {
                    clock,
                    coordinator: NodeId(*node),
                    seen,
                    value: Value::Data(id),
                    stamp: LwwStamp {
                        local_time_us: i as u64,
                        write: id,
                    },
                    size: 0,
                });
            }
            out
        }

        proptest! {
            /// The store keeps exactly the versions no other version
            /// supersedes, whatever order the versions arrive in.
            #[test]
            fn store_matches_the_maximal_elements_model(h in history(), seed in any::<u64>()) {
                let versions = build(&h);
                let model: Vec<WriteId> = versions
                    .iter()
                    .filter(|v| !versions.iter().any(|o| o.value != v.value && o.supersedes(v)))
                    .map(|v| v.value.write())
                    .collect();
                let mut order: Vec<usize> = (0..versions.len()).collect();
                let mut rng = crate::engine::rng::SimRng::new(seed, crate::engine::rng::Stream::Custom(0));
                rng.shuffle(&mut order);
                let mut s = Store::new(VC);
                for i in order {
                    s.apply(Key(0), versions[i].clone(), SimTime(0));
                }
                let mut got: Vec<WriteId> = s.versions(Key(0)).iter().map(|v| v.value.write()).collect();
                got.sort();
                let mut want = model;
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }
}
