//! An ordered map for the many small maps of a run: a sorted vector while
//! it holds at most [`SMALL_MAP_MAX`] entries, a `BTreeMap` beyond.
//!
//! Most of them hold a handful of entries at a time and churn: a node's
//! pending requests and their timers, a client's operations in flight, a
//! key's writes in the checkers' histories. A `BTreeMap` pays a node
//! allocation, a search through its leaf and a rebalancing step on every
//! change; a short sorted vector pays a binary search and a shift of a few
//! entries. A map that grows past the limit becomes a `BTreeMap` (same
//! worst case as before), and becomes a vector again once it has shrunk to
//! a quarter of the limit.
//!
//! A representation only: every query answers as a `BTreeMap` with the
//! same entries would, and iteration is in key order either way. This
//! module owns no policy about what is stored.

use std::collections::BTreeMap;

use Repr::{Large, Small};

/// The most entries a [`SmallMap`] keeps as a sorted vector.
pub const SMALL_MAP_MAX: usize = 16;

/// A `Large` map shrunk to this many entries becomes `Small` again.
const SMALL_MAP_BACK: usize = SMALL_MAP_MAX / 4;

/// An ordered map: a sorted vector up to [`SMALL_MAP_MAX`] entries, a
/// `BTreeMap` beyond (see the module docs). Same order, same answers.
#[derive(Clone, Debug)]
pub struct SmallMap<K, V>(Repr<K, V>);

/// A [`SmallMap`]'s representation (private, so that its invariants hold).
#[derive(Clone, Debug)]
enum Repr<K, V> {
    /// At most [`SMALL_MAP_MAX`] entries, sorted by key, keys distinct.
    Small(Vec<(K, V)>),
    /// More than [`SMALL_MAP_BACK`] entries (more than [`SMALL_MAP_MAX`]
    /// once, and not yet shrunk back).
    Large(BTreeMap<K, V>),
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Small(Vec::new()))
    }
}

impl<K: Ord + Copy, V> SmallMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        match &self.0 {
            Small(v) => v.binary_search_by(|(x, _)| x.cmp(k)).ok().map(|i| &v[i].1),
            Large(m) => m.get(k),
        }
    }

    /// The value of `k`, to change in place.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        match &mut self.0 {
            Small(v) => match v.binary_search_by(|(x, _)| x.cmp(k)) {
                Ok(i) => Some(&mut v[i].1),
                Err(_) => None,
            },
            Large(m) => m.get_mut(k),
        }
    }

    /// True when `k` has a value.
    pub fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        match &self.0 {
            Small(v) => v.len(),
            Large(m) => m.len(),
        }
    }

    /// True when the map holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `k`'s value; returns the value it replaced.
    pub fn insert(&mut self, k: K, value: V) -> Option<V> {
        match &mut self.0 {
            Small(v) => match v.binary_search_by(|(x, _)| x.cmp(&k)) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, value)),
                Err(i) if v.len() < SMALL_MAP_MAX => {
                    if v.len() == v.capacity() {
                        // Grow by one or two, not to four at once: most
                        // maps of a run stay at one or two entries.
                        v.reserve_exact(v.len().clamp(1, 2));
                    }
                    v.insert(i, (k, value));
                    None
                }
                Err(_) => {
                    let mut m: BTreeMap<K, V> = std::mem::take(v).into_iter().collect();
                    m.insert(k, value);
                    self.0 = Large(m);
                    None
                }
            },
            Large(m) => m.insert(k, value),
        }
    }

    /// Removes `k`; returns its value.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        match &mut self.0 {
            Small(v) => match v.binary_search_by(|(x, _)| x.cmp(k)) {
                Ok(i) => Some(v.remove(i).1),
                Err(_) => None,
            },
            Large(m) => {
                let out = m.remove(k);
                if out.is_some() && m.len() <= SMALL_MAP_BACK {
                    let v: Vec<(K, V)> = std::mem::take(m).into_iter().collect();
                    self.0 = Small(v);
                }
                out
            }
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        *self = SmallMap::default();
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        let (small, large) = match &self.0 {
            Small(v) => (Some(v.iter().map(|(k, v)| (k, v))), None),
            Large(m) => (None, Some(m.iter())),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }

    /// The entries in key order, taken out of the map.
    pub fn into_entries(self) -> Vec<(K, V)> {
        match self.0 {
            Small(v) => v,
            Large(m) => m.into_iter().collect(),
        }
    }

    /// True when the map is a `BTreeMap` (see the module docs): what a
    /// packed copy records to rebuild the same representation.
    pub fn is_large(&self) -> bool {
        matches!(self.0, Large(_))
    }

    /// A map of `entries` (sorted by key, keys distinct) in the
    /// representation [`SmallMap::is_large`] names; a vector is kept only
    /// within [`SMALL_MAP_MAX`] entries and a tree only beyond
    /// `SMALL_MAP_BACK`, as the map's own changes keep them.
    pub fn from_sorted(entries: Vec<(K, V)>, large: bool) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        if (large && entries.len() > SMALL_MAP_BACK) || entries.len() > SMALL_MAP_MAX {
            SmallMap(Large(entries.into_iter().collect()))
        } else {
            SmallMap(Small(entries))
        }
    }
}

impl<K: Ord + Copy, V> std::ops::Index<&K> for SmallMap<K, V> {
    type Output = V;
    fn index(&self, k: &K) -> &V {
        self.get(k).expect("the key is in the map")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One change: insert (`true`) or remove a key of 0..40.
    fn change(insert_share: f64) -> impl Strategy<Value = (bool, u8, u16)> {
        (
            proptest::bool::weighted(insert_share),
            0u8..40,
            any::<u16>(),
        )
    }

    proptest! {
        /// Any sequence of inserts, removes and in-place changes leaves a
        /// `SmallMap` with the same answers and order as a `BTreeMap`
        /// given the same sequence: a phase that mostly inserts (the map
        /// grows into a tree) then one that mostly removes (it shrinks back
        /// to a vector), checked after every change.
        #[test]
        fn answers_as_a_btreemap(
            grow in proptest::collection::vec(change(0.75), 0..120),
            shrink in proptest::collection::vec(change(0.15), 0..240),
        ) {
            let mut small: SmallMap<u8, u16> = SmallMap::new();
            let mut model: BTreeMap<u8, u16> = BTreeMap::new();
            for (insert, k, v) in grow.into_iter().chain(shrink) {
                if insert {
                    prop_assert_eq!(small.insert(k, v), model.insert(k, v));
                } else {
                    prop_assert_eq!(small.remove(&k), model.remove(&k));
                }
                if let (Some(a), Some(b)) = (small.get_mut(&k), model.get_mut(&k)) {
                    *a = a.wrapping_add(1);
                    *b = b.wrapping_add(1);
                }
                prop_assert_eq!(small.len(), model.len());
                prop_assert_eq!(small.is_empty(), model.is_empty());
                match &small.0 {
                    Small(v) => prop_assert!(v.len() <= SMALL_MAP_MAX),
                    Large(m) => prop_assert!(m.len() > SMALL_MAP_BACK),
                }
                let got: Vec<(u8, u16)> = small.iter().map(|(k, v)| (*k, *v)).collect();
                let want: Vec<(u8, u16)> = model.iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(got, want);
                for probe in 0u8..40 {
                    prop_assert_eq!(small.get(&probe), model.get(&probe));
                    prop_assert_eq!(small.contains_key(&probe), model.contains_key(&probe));
                }
            }
            let large = small.is_large();
            let drained: Vec<(u8, u16)> = small.into_entries();
            prop_assert_eq!(&drained, &model.into_iter().collect::<Vec<_>>());
            // A packed copy's rebuild answers the same.
            let rebuilt = SmallMap::from_sorted(drained.clone(), large);
            prop_assert_eq!(rebuilt.into_entries(), drained);
        }
    }

    #[test]
    fn grows_into_a_btreemap_and_shrinks_back() {
        let mut m: SmallMap<u32, u32> = SmallMap::new();
        for k in 0..=SMALL_MAP_MAX as u32 {
            m.insert(k, k);
        }
        assert!(m.is_large());
        for k in 0..=SMALL_MAP_MAX as u32 {
            if m.len() > SMALL_MAP_BACK {
                assert!(m.is_large(), "{k}");
            }
            m.remove(&k);
        }
        assert!(!m.is_large());
        assert!(m.is_empty());
    }
}
