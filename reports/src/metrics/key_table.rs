//! A map by [`Key`] for the collector's per-key state (unpacked histories,
//! packed ones): every record of an operation looks its key up two or
//! three times, so this map is on the collector's hottest path.
//!
//! A scenario's keys are numbered `0..key_count`, so below a limit (the
//! scenario's key count, at most [`DENSE_MAX`]) a key is an index into a
//! vector of optional values grown to the highest key seen: one memory
//! access instead of a `BTreeMap`'s walk of four or so nodes over 65,536
//! histories. Larger keys (only a hand-written record stream carries them)
//! go to a `BTreeMap`. It iterates in key order, as the `BTreeMap` it
//! replaces did: the vector's keys are all below the map's.
//!
//! This module owns that layout and nothing else.

use std::collections::BTreeMap;

use sim_core::engine::ids::Key;

/// The most keys indexed directly (a slot each, 8 or 16 bytes, grown to
/// the highest key seen).
pub(super) const DENSE_MAX: u64 = 1 << 22;

/// See the module docs.
#[derive(Clone, Debug)]
pub(super) struct KeyTable<V> {
    /// Keys below this are slots of `dense`.
    limit: u64,
    dense: Vec<Option<V>>,
    sparse: BTreeMap<Key, V>,
    len: usize,
}

impl<V> KeyTable<V> {
    /// A table whose keys below `min(key_count, DENSE_MAX)` are slots.
    pub(super) fn new(key_count: u64) -> Self {
        KeyTable {
            limit: key_count.min(DENSE_MAX),
            dense: Vec::new(),
            sparse: BTreeMap::new(),
            len: 0,
        }
    }

    fn slot(&self, key: Key) -> Option<usize> {
        (key.0 < self.limit).then_some(key.0 as usize)
    }

    pub(super) fn get(&self, key: &Key) -> Option<&V> {
        match self.slot(*key) {
            Some(i) => self.dense.get(i)?.as_ref(),
            None => self.sparse.get(key),
        }
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut V> {
        match self.slot(*key) {
            Some(i) => self.dense.get_mut(i)?.as_mut(),
            None => self.sparse.get_mut(key),
        }
    }

    pub(super) fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`, made by `make` if it had none.
    pub(super) fn get_or_insert_with(&mut self, key: Key, make: impl FnOnce() -> V) -> &mut V {
        if !self.contains_key(&key) {
            self.insert(key, make());
        }
        self.get_mut(&key).expect("inserted above")
    }

    /// Inserts `value` for `key`, returning the value it replaced.
    pub(super) fn insert(&mut self, key: Key, value: V) -> Option<V> {
        let old = match self.slot(key) {
            Some(i) => {
                if self.dense.len() <= i {
                    // Doubling, so that keys met in increasing order do not
                    // grow the vector one by one.
                    let len = (i + 1).max(2 * self.dense.len()).min(self.limit as usize);
                    self.dense.resize_with(len, || None);
                }
                self.dense[i].replace(value)
            }
            None => self.sparse.insert(key, value),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub(super) fn remove(&mut self, key: &Key) -> Option<V> {
        let old = match self.slot(*key) {
            Some(i) => self.dense.get_mut(i)?.take(),
            None => self.sparse.remove(key),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// The entries in key order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (Key, &V)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (Key(i as u64), v)))
            .chain(self.sparse.iter().map(|(k, v)| (*k, v)))
    }

    /// The keys in order.
    pub(super) fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(super) fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same answers and order as a `BTreeMap`, for keys below and
        /// above the dense limit.
        #[test]
        fn answers_as_a_btreemap(
            limit in 0u64..40,
            ops in proptest::collection::vec((0u8..3, prop_oneof![0u64..50, Just(u64::MAX)], any::<u16>()), 0..300),
        ) {
            let mut t: KeyTable<u16> = KeyTable::new(limit);
            let mut reference: BTreeMap<Key, u16> = BTreeMap::new();
            for (op, k, v) in ops {
                let key = Key(k);
                match op {
                    0 => prop_assert_eq!(t.insert(key, v), reference.insert(key, v)),
                    1 => prop_assert_eq!(t.remove(&key), reference.remove(&key)),
                    _ => {
                        let got = *t.get_or_insert_with(key, || v);
                        prop_assert_eq!(got, *reference.entry(key).or_insert(v));
                    }
                }
                prop_assert_eq!(t.len(), reference.len());
                prop_assert_eq!(t.is_empty(), reference.is_empty());
                prop_assert_eq!(t.get(&key), reference.get(&key));
                prop_assert_eq!(t.contains_key(&Key(k / 2)), reference.contains_key(&Key(k / 2)));
            }
            let got: Vec<(Key, u16)> = t.iter().map(|(k, v)| (k, *v)).collect();
            let expected: Vec<(Key, u16)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(got, expected);
            prop_assert!(t.dense.len() as u64 <= limit.min(DENSE_MAX));
        }
    }
}
