//! A map from `u32` ids that are handed out in increasing order and mostly
//! removed oldest first: a key history's chains (`Chain`).
//!
//! A hot key keeps thousands of chains (every write of the last few seconds
//! of virtual time stays retained, see "Retirement rule" in the collector's
//! docs), and an ancestry walk looks one up per step. As a `BTreeMap` each
//! lookup was four or so nodes deep, each a likely cache miss; here it is
//! an index into a `VecDeque` of slots starting at the oldest id still
//! held. Ids removed out of order leave empty slots; should they outnumber
//! the entries (an old chain that never retires while thousands are born
//! and removed after it), the map turns into a `BTreeMap` so that memory
//! follows the entries, not the ids. Either way it answers exactly as a
//! `BTreeMap` would, iterating in id order.
//!
//! This module owns that layout and nothing else.

use std::collections::{BTreeMap, VecDeque};

/// Empty slots tolerated beyond twice the entries before the map turns
/// sparse.
const HOLES_FLOOR: usize = 64;

/// See the module docs.
#[derive(Clone)]
pub(super) enum IdMap<V> {
    /// `slots[i]` holds id `base + i`.
    Dense {
        base: u32,
        slots: VecDeque<Option<V>>,
        live: usize,
    },
    Sparse(BTreeMap<u32, V>),
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap::Dense {
            base: 0,
            slots: VecDeque::new(),
            live: 0,
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for IdMap<V> {
    /// As the map it stands for, whatever the layout.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> IdMap<V> {
    pub(super) fn get(&self, id: u32) -> Option<&V> {
        match self {
            IdMap::Dense { base, slots, .. } => {
                let i = id.checked_sub(*base)? as usize;
                slots.get(i)?.as_ref()
            }
            IdMap::Sparse(m) => m.get(&id),
        }
    }

    pub(super) fn get_mut(&mut self, id: u32) -> Option<&mut V> {
        match self {
            IdMap::Dense { base, slots, .. } => {
                let i = id.checked_sub(*base)? as usize;
                slots.get_mut(i)?.as_mut()
            }
            IdMap::Sparse(m) => m.get_mut(&id),
        }
    }

    /// The lowest id a slot stands for, when the map is slots (every id it
    /// holds is at least this, and at most a bounded number above it).
    pub(super) fn dense_base(&self) -> Option<u32> {
        match self {
            IdMap::Dense { base, .. } => Some(*base),
            IdMap::Sparse(_) => None,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            IdMap::Dense { live, .. } => *live,
            IdMap::Sparse(m) => m.len(),
        }
    }

    /// Inserts `value` at `id`, returning the value it replaced.
    pub(super) fn insert(&mut self, id: u32, value: V) -> Option<V> {
        if let IdMap::Dense { base, slots, live } = self {
            if slots.is_empty() {
                *base = id;
            }
            if id >= *base {
                let i = (id - *base) as usize;
                if let Some(slot) = slots.get_mut(i) {
                    let old = slot.replace(value);
                    if old.is_none() {
                        *live += 1;
                    }
                    return old;
                }
                // Holes as `remove` tolerates them, counting those the
                // gap adds (so that inserts alone keep them bounded too).
                let gap = i - slots.len();
                if slots.len() - *live + gap <= 2 * (*live + 1) + HOLES_FLOOR {
                    slots.extend(std::iter::repeat_with(|| None).take(gap));
                    super::room::deque(slots);
                    slots.push_back(Some(value));
                    *live += 1;
                    return None;
                }
            }
            self.make_sparse();
        }
        match self {
            IdMap::Sparse(m) => m.insert(id, value),
            IdMap::Dense { .. } => unreachable!("made sparse above"),
        }
    }

    /// Removes `id`, returning its value.
    pub(super) fn remove(&mut self, id: u32) -> Option<V> {
        match self {
            IdMap::Dense { base, slots, live } => {
                let i = id.checked_sub(*base)? as usize;
                let old = slots.get_mut(i)?.take()?;
                *live -= 1;
                while slots.front().is_some_and(Option::is_none) {
                    slots.pop_front();
                    if slots.is_empty() {
                        // `base` is set again by the next insert (and the
                        // highest id has no successor).
                        break;
                    }
                    *base += 1;
                }
                while slots.back().is_some_and(Option::is_none) {
                    slots.pop_back();
                }
                if slots.len() - *live > 2 * *live + HOLES_FLOOR {
                    self.make_sparse();
                }
                Some(old)
            }
            IdMap::Sparse(m) => {
                let old = m.remove(&id);
                // Back to slots once the ids held are close together again.
                let span = match (m.first_key_value(), m.last_key_value()) {
                    (Some((first, _)), Some((last, _))) => (last - first) as usize + 1,
                    _ => 0,
                };
                if span <= 2 * m.len() + HOLES_FLOOR {
                    let base = m.first_key_value().map_or(0, |(k, _)| *k);
                    let mut slots: VecDeque<Option<V>> =
                        std::iter::repeat_with(|| None).take(span).collect();
                    let live = m.len();
                    for (k, v) in std::mem::take(m) {
                        slots[(k - base) as usize] = Some(v);
                    }
                    *self = IdMap::Dense { base, slots, live };
                }
                old
            }
        }
    }

    /// The entries in id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &V)> + '_ {
        let (dense, sparse) = match self {
            IdMap::Dense { base, slots, .. } => {
                let base = *base;
                (
                    Some(
                        slots
                            .iter()
                            .enumerate()
                            .filter_map(move |(i, s)| s.as_ref().map(|v| (base + i as u32, v))),
                    ),
                    None,
                )
            }
            IdMap::Sparse(m) => (None, Some(m.iter().map(|(k, v)| (*k, v)))),
        };
        dense
            .into_iter()
            .flatten()
            .chain(sparse.into_iter().flatten())
    }

    fn make_sparse(&mut self) {
        if let IdMap::Dense { base, slots, .. } = self {
            let base = *base;
            let m: BTreeMap<u32, V> = std::mem::take(slots)
                .into_iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|v| (base + i as u32, v)))
                .collect();
            *self = IdMap::Sparse(m);
        }
    }
}

impl<V> std::ops::Index<u32> for IdMap<V> {
    type Output = V;
    fn index(&self, id: u32) -> &V {
        self.get(id).expect("the id is in the map")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        /// Insert at the next id (as chains are born), or this far past it.
        Next(u32),
        /// Insert at any id.
        At(u32),
        /// Remove the oldest entry, or one this far into the map.
        Remove(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u32..3).prop_map(Op::Next),
            1 => (0u32..400).prop_map(Op::At),
            5 => (0usize..8).prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// The same answers as a `BTreeMap` under chain-like use (ids born
        /// in order, removed mostly oldest first) and arbitrary use, across
        /// switches to the sparse layout.
        #[test]
        fn answers_as_a_btreemap(ops in proptest::collection::vec(op(), 0..600)) {
            let mut m: IdMap<u64> = IdMap::default();
            let mut reference: BTreeMap<u32, u64> = BTreeMap::new();
            let mut next = 0u32;
            for (n, op) in ops.into_iter().enumerate() {
                let value = n as u64;
                match op {
                    Op::Next(skip) => {
                        let id = next + skip;
                        next = id + 1;
                        prop_assert_eq!(m.insert(id, value), reference.insert(id, value));
                    }
                    Op::At(id) => {
                        prop_assert_eq!(m.insert(id, value), reference.insert(id, value));
                    }
                    Op::Remove(i) => {
                        let id = reference.keys().nth(i % reference.len().max(1)).copied().unwrap_or(7);
                        prop_assert_eq!(m.remove(id), reference.remove(&id));
                    }
                }
                prop_assert_eq!(m.len(), reference.len());
                for probe in [0u32, 1, next.saturating_sub(1), next, 399, u32::MAX] {
                    prop_assert_eq!(m.get(probe), reference.get(&probe));
                }
            }
            let got: Vec<(u32, u64)> = m.iter().map(|(k, v)| (k, *v)).collect();
            let expected: Vec<(u32, u64)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(format!("{m:?}"), format!("{reference:?}"));
        }
    }

    /// Inserts alone, each past a gap, keep the holes within the bound too.
    #[test]
    fn inserts_alone_keep_holes_linear_in_entries() {
        let mut m: IdMap<u32> = IdMap::default();
        let mut id = 0u32;
        for n in 0..2_000u32 {
            m.insert(id, n);
            id += n + 1;
            if let IdMap::Dense { slots, live, .. } = &m {
                assert!(
                    slots.len() <= 3 * live + HOLES_FLOOR + 2,
                    "{} slots",
                    slots.len()
                );
            }
        }
        assert_eq!(m.len(), 2_000);
    }

    #[test]
    fn the_highest_id_comes_and_goes() {
        let mut m: IdMap<u32> = IdMap::default();
        m.insert(u32::MAX, 1);
        assert_eq!(m.remove(u32::MAX), Some(1));
        assert_eq!(m.len(), 0);
        m.insert(3, 3);
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(3, &3)]);
    }

    /// Holes never outnumber the entries by much, and the map goes back to
    /// slots once the old entry leaves.
    #[test]
    fn a_chain_that_never_leaves_turns_the_map_sparse_instead_of_growing_it() {
        let mut m: IdMap<u32> = IdMap::default();
        m.insert(0, 0);
        for id in 1..10_000u32 {
            m.insert(id, id);
            if id > 10 {
                m.remove(id - 10);
            }
            if let IdMap::Dense { slots, live, .. } = &m {
                assert!(slots.len() <= 3 * live + HOLES_FLOOR + 1);
            }
        }
        assert_eq!(m.len(), 11);
        assert!(matches!(m, IdMap::Sparse(_)), "the old id kept far behind");
        m.remove(0);
        assert!(matches!(m, IdMap::Dense { .. }), "close together again");
        assert_eq!(
            m.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            (9_990..10_000).collect::<Vec<_>>()
        );
    }
}
