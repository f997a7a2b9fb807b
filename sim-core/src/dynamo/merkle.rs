//! Merkle trees for anti-entropy replica synchronization.
//!
//! Follows §4.7 of the Dynamo paper ("Handling permanent failures: Replica
//! synchronization"): each node keeps one Merkle tree per key range (partition)
//! it replicates; two replicas compare the roots of their trees for a range and
//! descend only into children whose hashes differ, so identical replicas cost
//! one hash comparison and replicas differing in `d` keys about
//! `O(d * fanout * depth)` comparisons.
//!
//! The tree has a fixed shape: `fanout^depth` leaves, each key assigned to a
//! leaf by a fixed hash of the key. A leaf's hash is the wrapping sum of
//! `mix(key, version digest)` over its entries and an internal node's hash is
//! the wrapping sum of its children's, so an insert, replace or remove updates
//! the hashes on one leaf-to-root path in O(depth) by adding a delta, and the
//! hash of a subtree depends only on its contents: an empty subtree hashes to
//! 0 whatever its history, and insertion order never matters.
//!
//! This module owns the tree and the simulated descent ([`MerkleTree::diff`]),
//! which reports what an exchange would cost. It never rebuilds a tree for an
//! exchange, never sends messages (the caller turns a [`MerkleDiff`] into
//! traffic and repairs), and never draws randomness.

use std::collections::BTreeMap;

use crate::engine::ids::Key;

/// The finalizer of SplitMix64: a bijective 64-bit mixer.
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The contribution of one `(key, digest)` entry to its leaf's hash.
fn entry_hash(key: Key, digest: u64) -> u64 {
    fmix64(fmix64(key.0 ^ 0x6a09_e667_f3bc_c908) ^ digest)
}

/// One replica's Merkle tree over the keys of one range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    fanout: u32,
    depth: u32,
    /// Every entry, keyed by `(leaf, key)` so a leaf's entries are contiguous.
    entries: BTreeMap<(u32, Key), u64>,
    /// `levels[l][i]`: hash of node `i` at level `l`; level 0 is the root,
    /// level `depth` the leaves.
    levels: Vec<Vec<u64>>,
}

/// The outcome of comparing two trees by descent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleDiff {
    /// Keys present on only one side or with different version digests,
    /// ascending.
    pub keys: Vec<Key>,
    /// Hashes compared: the root, `fanout` children of every differing
    /// internal node, and one digest per key of every differing leaf (the
    /// union of both sides' keys there).
    pub hashes_compared: u64,
    /// Exchange rounds: one for the roots, one per level descended, and one
    /// for the key digests of the differing leaves. 1 for identical trees.
    pub rounds: u32,
}

impl MerkleTree {
    /// An empty tree with `fanout^depth` leaves.
    ///
    /// # Panics
    /// If `fanout < 2`, `depth < 1` or the leaf count overflows `u32`
    /// (configuration is validated elsewhere). Memory is one `u64` per tree
    /// node, about `fanout^depth * fanout / (fanout - 1)` of them.
    pub fn new(fanout: u32, depth: u32) -> Self {
        assert!(fanout >= 2, "a Merkle tree needs fanout >= 2");
        assert!(depth >= 1, "a Merkle tree needs depth >= 1");
        assert!(
            fanout.checked_pow(depth).is_some(),
            "fanout^depth leaves must fit in u32"
        );
        let levels = (0..=depth)
            .map(|l| vec![0; fanout.pow(l) as usize])
            .collect();
        MerkleTree {
            fanout,
            depth,
            entries: BTreeMap::new(),
            levels,
        }
    }

    /// The number of children of every internal node.
    pub fn fanout(&self) -> u32 {
        self.fanout
    }

    /// The number of levels below the root.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The number of leaves, `fanout^depth`.
    pub fn leaf_count(&self) -> u32 {
        self.levels[self.depth as usize].len() as u32
    }

    /// The leaf `key` belongs to: a fixed hash of the key number scaled onto
    /// the leaves. The same in every tree of the same shape, on every run.
    pub fn leaf_of(&self, key: Key) -> u32 {
        let h = fmix64(key.0 ^ 0x510e_527f_ade6_82d1);
        ((u128::from(h) * u128::from(self.leaf_count())) >> 64) as u32
    }

    /// Adds `delta` to the hashes on the path from `leaf` to the root.
    fn propagate(&mut self, leaf: u32, delta: u64) {
        if delta == 0 {
            return;
        }
        let mut index = leaf as usize;
        for level in self.levels.iter_mut().rev() {
            level[index] = level[index].wrapping_add(delta);
            index /= self.fanout as usize;
        }
    }

    /// Sets the version digest of `key`, inserting or replacing. O(depth)
    /// hash updates plus one map operation.
    pub fn insert(&mut self, key: Key, version_digest: u64) {
        let leaf = self.leaf_of(key);
        let new = entry_hash(key, version_digest);
        let old = self
            .entries
            .insert((leaf, key), version_digest)
            .map_or(0, |d| entry_hash(key, d));
        self.propagate(leaf, new.wrapping_sub(old));
    }

    /// Removes `key` if present. O(depth).
    pub fn remove(&mut self, key: Key) {
        let leaf = self.leaf_of(key);
        if let Some(d) = self.entries.remove(&(leaf, key)) {
            self.propagate(leaf, entry_hash(key, d).wrapping_neg());
        }
    }

    /// The version digest stored for `key`.
    pub fn get(&self, key: Key) -> Option<u64> {
        self.entries.get(&(self.leaf_of(key), key)).copied()
    }

    /// The number of keys in the tree.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The root hash: 0 for an empty tree; equal for trees with equal
    /// contents.
    pub fn root(&self) -> u64 {
        self.levels[0][0]
    }

    /// The number of levels including the root: `depth + 1`.
    pub fn level_count(&self) -> u32 {
        self.depth + 1
    }

    /// The hash of node `index` at `level` (0 = root).
    ///
    /// # Panics
    /// If there is no such node.
    pub fn node_hash(&self, level: u32, index: u32) -> u64 {
        self.levels[level as usize][index as usize]
    }

    /// The children of node `index` at `level`, as `(child index, hash)` at
    /// `level + 1`. Empty for a leaf.
    ///
    /// # Panics
    /// If there is no node `index` at `level`.
    pub fn children(&self, level: u32, index: u32) -> Vec<(u32, u64)> {
        assert!(
            (index as usize) < self.levels[level as usize].len(),
            "no node {index} at level {level}"
        );
        if level >= self.depth {
            return Vec::new();
        }
        let first = index * self.fanout;
        let below = &self.levels[level as usize + 1];
        (first..first + self.fanout)
            .map(|c| (c, below[c as usize]))
            .collect()
    }

    /// The `(key, version digest)` entries of `leaf`, by key.
    pub fn leaf_entries(&self, leaf: u32) -> Vec<(Key, u64)> {
        self.leaf_iter(leaf).collect()
    }

    fn leaf_iter(&self, leaf: u32) -> impl Iterator<Item = (Key, u64)> + '_ {
        self.entries
            .range((leaf, Key(0))..=(leaf, Key(u64::MAX)))
            .map(|((_, k), d)| (*k, *d))
    }

    /// Simulates the anti-entropy exchange between `self` and `other`:
    /// compare the roots, descend level by level only into children whose
    /// hashes differ, and at differing leaves compare the key digests.
    /// Returns the keys that differ and what the exchange cost.
    ///
    /// # Panics
    /// If the trees differ in fanout or depth.
    pub fn diff(&self, other: &Self) -> MerkleDiff {
        assert!(
            self.fanout == other.fanout && self.depth == other.depth,
            "cannot compare Merkle trees of different shapes"
        );
        let mut out = MerkleDiff {
            keys: Vec::new(),
            hashes_compared: 1,
            rounds: 1,
        };
        if self.root() == other.root() {
            return out;
        }
        let fanout = self.fanout as usize;
        let mut frontier = vec![0usize];
        let mut next = Vec::new();
        for level in 1..=self.depth as usize {
            out.rounds += 1;
            let (mine, theirs) = (&self.levels[level], &other.levels[level]);
            for &parent in &frontier {
                let children = parent * fanout..(parent + 1) * fanout;
                out.hashes_compared += fanout as u64;
                next.extend(children.filter(|&c| mine[c] != theirs[c]));
            }
            std::mem::swap(&mut frontier, &mut next);
            next.clear();
        }
        if !frontier.is_empty() {
            out.rounds += 1;
        }
        for &leaf in &frontier {
            let leaf = leaf as u32;
            let mut a = self.leaf_iter(leaf).peekable();
            let mut b = other.leaf_iter(leaf).peekable();
            loop {
                let differs = match (a.peek().copied(), b.peek().copied()) {
                    (None, None) => break,
                    (Some((ka, _)), None) => {
                        a.next();
                        Some(ka)
                    }
                    (None, Some((kb, _))) => {
                        b.next();
                        Some(kb)
                    }
                    (Some((ka, da)), Some((kb, db))) => {
                        if ka < kb {
                            a.next();
                            Some(ka)
                        } else if kb < ka {
                            b.next();
                            Some(kb)
                        } else {
                            a.next();
                            b.next();
                            (da != db).then_some(ka)
                        }
                    }
                };
                out.hashes_compared += 1;
                out.keys.extend(differs);
            }
        }
        out.keys.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(pairs: &[(u64, u64)]) -> MerkleTree {
        let mut t = MerkleTree::new(4, 3);
        for &(k, d) in pairs {
            t.insert(Key(k), d);
        }
        t
    }

    #[test]
    fn shape_and_basic_operations() {
        let mut t = MerkleTree::new(4, 3);
        assert_eq!(t.leaf_count(), 64);
        assert_eq!(t.level_count(), 4);
        assert!(t.is_empty());
        assert_eq!(t.root(), 0);
        t.insert(Key(7), 1);
        t.insert(Key(9), 2);
        t.insert(Key(7), 3);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(Key(7)), Some(3));
        assert_eq!(t.get(Key(8)), None);
        let leaf = t.leaf_of(Key(9));
        assert!(leaf < 64);
        assert!(t.leaf_entries(leaf).contains(&(Key(9), 2)));
        let kids = t.children(0, 0);
        assert_eq!(
            kids.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(kids.iter().fold(0u64, |s, c| s.wrapping_add(c.1)), t.root());
        assert!(t.children(3, 5).is_empty());
        t.remove(Key(7));
        t.remove(Key(7));
        t.remove(Key(9));
        assert!(t.is_empty());
        assert_eq!(t.root(), 0);
        assert_eq!(t, MerkleTree::new(4, 3));
    }

    #[test]
    fn identical_trees_cost_one_comparison() {
        let a = tree_of(&[(1, 10), (2, 20), (3, 30)]);
        let b = tree_of(&[(3, 30), (1, 10), (2, 20)]);
        let d = a.diff(&b);
        assert!(d.keys.is_empty());
        assert_eq!(d.hashes_compared, 1);
        assert_eq!(d.rounds, 1);
        assert_eq!(
            MerkleTree::new(2, 1)
                .diff(&MerkleTree::new(2, 1))
                .hashes_compared,
            1
        );
    }

    #[test]
    fn one_differing_key_descends_one_path() {
        let pairs: Vec<(u64, u64)> = (0..500).map(|k| (k, k * 7)).collect();
        let a = tree_of(&pairs);
        let mut b = a.clone();
        b.insert(Key(123), 0);
        let d = a.diff(&b);
        assert_eq!(d.keys, vec![Key(123)]);
        assert_eq!(d.rounds, 5);
        let leaf_keys = a.leaf_entries(a.leaf_of(Key(123))).len() as u64;
        assert_eq!(d.hashes_compared, 1 + 3 * 4 + leaf_keys);
        // A key missing on one side.
        b.remove(Key(400));
        assert_eq!(b.diff(&a).keys, vec![Key(123), Key(400)]);
    }

    #[test]
    fn leaf_assignment_and_hashes_are_stable() {
        // Golden values: if these change, every recorded exchange changes.
        let t = MerkleTree::new(16, 2);
        let leaves: Vec<u32> = (0..4).map(|k| t.leaf_of(Key(k))).collect();
        assert_eq!(leaves, vec![233, 237, 100, 160]);
        let mut u = MerkleTree::new(4, 2);
        u.insert(Key(1), 2);
        u.insert(Key(3), 4);
        assert_eq!(u.root(), 0x8faf_f879_7c63_871a);
    }

    mod proptests {
        use super::super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        fn contents() -> impl Strategy<Value = BTreeMap<u64, u64>> {
            proptest::collection::btree_map(0u64..200, 0u64..4, 0..60)
        }

        fn build(fanout: u32, depth: u32, m: &BTreeMap<u64, u64>) -> MerkleTree {
            let mut t = MerkleTree::new(fanout, depth);
            for (k, d) in m {
                t.insert(Key(*k), *d);
            }
            t
        }

        proptest! {
            #[test]
            fn diff_finds_exactly_the_differing_keys(
                a in contents(), b in contents(), fanout in 2u32..5, depth in 1u32..4
            ) {
                let ta = build(fanout, depth, &a);
                let tb = build(fanout, depth, &b);
                let expected: Vec<Key> = a.keys().chain(b.keys())
                    .copied()
                    .collect::<std::collections::BTreeSet<u64>>()
                    .into_iter()
                    .filter(|k| a.get(k) != b.get(k))
                    .map(Key)
                    .collect();
                let d = ta.diff(&tb);
                prop_assert_eq!(&d.keys, &expected);
                prop_assert_eq!(tb.diff(&ta).keys, expected.clone());
                if expected.is_empty() {
                    prop_assert_eq!(d.hashes_compared, 1);
                    prop_assert_eq!(ta.root(), tb.root());
                } else {
                    prop_assert_eq!(d.rounds, depth + 2);
                }
                prop_assert_eq!(ta.len(), a.len());
                for (k, v) in &a {
                    prop_assert_eq!(ta.get(Key(*k)), Some(*v));
                }
            }

            #[test]
            fn hashes_depend_only_on_contents(
                m in contents(), order in any::<u64>(), noise in contents()
            ) {
                let reference = build(3, 2, &m);
                // Same contents, different order and history: insert noise
                // and stale digests first, then fix everything up.
                let mut pairs: Vec<(u64, u64)> = m.iter().map(|(k, v)| (*k, *v)).collect();
                let mut rng = crate::engine::rng::SimRng::new(order, crate::engine::rng::Stream::Custom(0));
                rng.shuffle(&mut pairs);
                let mut t = MerkleTree::new(3, 2);
                for (k, v) in &noise {
                    t.insert(Key(*k), v ^ 0xff);
                }
                for (k, v) in &pairs {
                    t.insert(Key(*k), *v);
                }
                for k in noise.keys() {
                    if !m.contains_key(k) {
                        t.remove(Key(*k));
                    }
                }
                prop_assert_eq!(&t, &reference);
                prop_assert_eq!(t.root(), reference.root());
            }

            #[test]
            fn remove_then_reinsert_restores_the_root(m in contents(), k in 0u64..200, d in 0u64..4) {
                let mut t = build(4, 2, &m);
                t.insert(Key(k), d);
                let before = t.root();
                t.remove(Key(k));
                prop_assert_eq!(t.get(Key(k)), None);
                prop_assert_ne!(t.root(), before);
                t.insert(Key(k), d);
                prop_assert_eq!(t.root(), before);
            }
        }
    }
}
