//! A map by [`Key`] for per-key state on the collector's hottest path:
//! unpacked and packed histories (every record of an operation looks its
//! key up two or three times), and each key's largest object
//! (`objects.rs`, once per read).
//!
//! A scenario's keys are numbered `0..key_count`, so below a limit (the
//! scenario's key count, at most [`DENSE_MAX`]) a key is an index into
//! pages of [`PAGE`] optional values, a page made when a key of it first
//! arrives: two memory accesses (the page table is small enough to stay in
//! cache) instead of a `BTreeMap`'s walk of four or so nodes over 65,536
//! histories, and a run touching a few keys pays a few pages, not a slot
//! per key up to the highest. Larger keys (only a hand-written record
//! stream carries them) go to a `BTreeMap`. It iterates in key order, as
//! the `BTreeMap` it replaces did: the pages' keys are all below the map's.
//!
//! This module owns that layout and nothing else.

use std::collections::BTreeMap;

use sim_core::engine::ids::Key;

/// The most keys indexed directly (a slot each, 8 or 16 bytes, in pages).
pub const DENSE_MAX: u64 = 1 << 22;

/// Slots per page.
pub const PAGE: usize = 1 << 12;

/// See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct KeyTable<V> {
    /// Keys below this are slots of `pages`.
    limit: u64,
    /// Page `p` holds keys `p * PAGE ..`; grown to the highest page used.
    pages: Vec<Option<Box<[Option<V>]>>>,
    sparse: BTreeMap<Key, V>,
    len: usize,
}

impl<V> KeyTable<V> {
    /// A table whose keys below `min(key_count, DENSE_MAX)` are slots.
    pub(crate) fn new(key_count: u64) -> Self {
        KeyTable {
            limit: key_count.min(DENSE_MAX),
            pages: Vec::new(),
            sparse: BTreeMap::new(),
            len: 0,
        }
    }

    /// `key`'s page and place in it, when it has a slot.
    fn slot(&self, key: Key) -> Option<(usize, usize)> {
        (key.0 < self.limit).then_some((key.0 as usize / PAGE, key.0 as usize % PAGE))
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&V> {
        match self.slot(*key) {
            Some((p, i)) => self.pages.get(p)?.as_ref()?[i].as_ref(),
            None => self.sparse.get(key),
        }
    }

    pub(crate) fn get_mut(&mut self, key: &Key) -> Option<&mut V> {
        match self.slot(*key) {
            Some((p, i)) => self.pages.get_mut(p)?.as_mut()?[i].as_mut(),
            None => self.sparse.get_mut(key),
        }
    }

    pub(crate) fn contains_key(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`, made by `make` if it had none (one lookup).
    pub(crate) fn get_or_insert_with(&mut self, key: Key, make: impl FnOnce() -> V) -> &mut V {
        match self.slot(key) {
            Some((p, i)) => {
                let slot = &mut page(&mut self.pages, p)[i];
                if slot.is_none() {
                    self.len += 1;
                }
                slot.get_or_insert_with(make)
            }
            None => match self.sparse.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    self.len += 1;
                    e.insert(make())
                }
            },
        }
    }

    /// Inserts `value` for `key`, returning the value it replaced.
    pub(crate) fn insert(&mut self, key: Key, value: V) -> Option<V> {
        let old = match self.slot(key) {
            Some((p, i)) => page(&mut self.pages, p)[i].replace(value),
            None => self.sparse.insert(key, value),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub(crate) fn remove(&mut self, key: &Key) -> Option<V> {
        let old = match self.slot(*key) {
            Some((p, i)) => self.pages.get_mut(p)?.as_mut()?[i].take(),
            None => self.sparse.remove(key),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Key, &V)> + '_ {
        self.pages
            .iter()
            .enumerate()
            .filter_map(|(p, page)| page.as_ref().map(|page| (p * PAGE, page)))
            .flat_map(|(first, page)| {
                page.iter()
                    .enumerate()
                    .filter_map(move |(i, v)| v.as_ref().map(|v| (Key((first + i) as u64), v)))
            })
            .chain(self.sparse.iter().map(|(k, v)| (*k, v)))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }
}

/// Page `p` of `pages`, made (and the page table grown) if it was not.
fn page<V>(pages: &mut Vec<Option<Box<[Option<V>]>>>, p: usize) -> &mut [Option<V>] {
    if pages.len() <= p {
        pages.resize_with(p + 1, || None);
    }
    pages[p].get_or_insert_with(|| std::iter::repeat_with(|| None).take(PAGE).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A run touching one key near the top pays one page, not a slot per
    /// key below it.
    #[test]
    fn one_high_key_costs_one_page() {
        let mut t: KeyTable<Box<u64>> = KeyTable::new(DENSE_MAX);
        t.insert(Key(DENSE_MAX - 1), Box::new(1));
        assert_eq!(t.pages.iter().filter(|p| p.is_some()).count(), 1);
        assert_eq!(t.pages.len() * PAGE, DENSE_MAX as usize);
        assert_eq!(t.keys().collect::<Vec<_>>(), vec![Key(DENSE_MAX - 1)]);
    }

    proptest! {
        /// The same answers and order as a `BTreeMap`, for keys below and
        /// above the dense limit.
        #[test]
        fn answers_as_a_btreemap(
            limit in prop_oneof![0u64..40, Just(3 * PAGE as u64 + 7)],
            ops in proptest::collection::vec((0u8..3, prop_oneof![0u64..50, (0u64..4 * PAGE as u64), Just(u64::MAX)], any::<u16>()), 0..300),
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
            prop_assert!((t.pages.len() * PAGE) as u64 <= limit.min(DENSE_MAX) + PAGE as u64);
        }
    }
}
