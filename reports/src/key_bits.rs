//! A set of keys as one bit per key number: for sets over loaded keys (up
//! to a million), where a map entry per key would cost tens of bytes.
//!
//! Owns the bit layout only; what a bit means is its user's business.
//! Iteration is in key order.

use sim_core::engine::ids::Key;

/// Keys by number, a bit each; grows to the largest key inserted.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyBits(Vec<u64>);

impl KeyBits {
    /// An empty set with room for keys `0..n` without growing.
    pub(crate) fn with_capacity(n: u64) -> Self {
        KeyBits(vec![0; n.div_ceil(64) as usize])
    }

    fn place(key: Key) -> (usize, u64) {
        ((key.0 / 64) as usize, 1 << (key.0 % 64))
    }

    pub(crate) fn insert(&mut self, key: Key) {
        let (word, bit) = Self::place(key);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= bit;
    }

    /// Takes `key` out; true when it was in.
    pub(crate) fn remove(&mut self, key: Key) -> bool {
        let (word, bit) = Self::place(key);
        match self.0.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn contains(&self, key: Key) -> bool {
        let (word, bit) = Self::place(key);
        self.0.get(word).is_some_and(|w| w & bit != 0)
    }

    /// The keys in the set, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Key> + '_ {
        self.0.iter().enumerate().flat_map(|(word, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = u64::from(bits.trailing_zeros());
                    bits &= bits - 1;
                    Key(word as u64 * 64 + bit)
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Answers as a `BTreeSet` of the same keys does, and iterates
        /// them in order.
        #[test]
        fn key_bits_answer_as_a_set(keys in prop::collection::vec(0u64..1_000, 0..100)) {
            let mut bits = KeyBits::with_capacity(100);
            let set: std::collections::BTreeSet<u64> = keys.iter().copied().collect();
            for k in &keys {
                bits.insert(Key(*k));
            }
            for k in 0..1_100 {
                prop_assert_eq!(bits.contains(Key(k)), set.contains(&k));
            }
            let back: Vec<u64> = bits.iter().map(|k| k.0).collect();
            prop_assert_eq!(back, set.into_iter().collect::<Vec<_>>());
        }
    }
}
