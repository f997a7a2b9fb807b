//! Operations invoked and not yet completed, found by their [`OpId`].
//!
//! Every operation is looked up twice (at its invocation and at its
//! completion), so this map is on the collector's hottest path. A client's
//! operations are numbered in the order it invokes them, and each client has
//! only a few in flight, so the map is a short vector per client, sorted by
//! operation number, indexed by the client's number: an insert is nearly
//! always a push at the back, a removal a search in a handful of entries.
//! Client numbers are dense (the scenario format allows 4,096 clients);
//! larger ones, which only a hand-written record stream can carry, go to an
//! ordered map so that no id can make the vector huge.
//!
//! This module owns that layout and nothing else: what an invocation holds
//! is the collector's business.

use std::collections::{BTreeMap, VecDeque};

use sim_core::engine::ids::OpId;

/// Clients numbered below this are kept in the per-client vector.
const DENSE_CLIENTS: usize = 1 << 16;

/// A map from operation to `V` (see the module docs).
#[derive(Clone, Debug)]
pub(super) struct InFlight<V> {
    dense: Vec<VecDeque<(u64, V)>>,
    sparse: BTreeMap<OpId, V>,
    len: usize,
}

impl<V> Default for InFlight<V> {
    fn default() -> Self {
        InFlight {
            dense: Vec::new(),
            sparse: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<V> InFlight<V> {
    /// Inserts `value` for `op`, replacing (and returning) any value it had.
    pub(super) fn insert(&mut self, op: OpId, value: V) -> Option<V> {
        let c = op.client.0 as usize;
        if c >= DENSE_CLIENTS {
            let old = self.sparse.insert(op, value);
            if old.is_none() {
                self.len += 1;
            }
            return old;
        }
        if self.dense.len() <= c {
            self.dense.resize_with(c + 1, VecDeque::new);
        }
        let ops = &mut self.dense[c];
        if ops.back().is_none_or(|(seq, _)| *seq < op.seq) {
            ops.push_back((op.seq, value));
            self.len += 1;
            return None;
        }
        match ops.binary_search_by_key(&op.seq, |(seq, _)| *seq) {
            Ok(i) => Some(std::mem::replace(&mut ops[i].1, value)),
            Err(i) => {
                ops.insert(i, (op.seq, value));
                self.len += 1;
                None
            }
        }
    }

    /// Removes `op`, returning its value.
    pub(super) fn remove(&mut self, op: &OpId) -> Option<V> {
        let c = op.client.0 as usize;
        let removed = if c >= DENSE_CLIENTS {
            self.sparse.remove(op)
        } else {
            let ops = self.dense.get_mut(c)?;
            let i = ops.binary_search_by_key(&op.seq, |(seq, _)| *seq).ok()?;
            ops.remove(i).map(|(_, v)| v)
        };
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// Operations in flight.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sim_core::engine::ids::ClientId;

    fn op(client: u32, seq: u64) -> OpId {
        OpId {
            client: ClientId(client),
            seq,
        }
    }

    proptest! {
        /// The same answers as an ordered map under any sequence of inserts
        /// and removals, in any order, over dense and sparse client ids.
        #[test]
        fn answers_as_an_ordered_map(
            steps in proptest::collection::vec(
                (any::<bool>(), prop_oneof![0u32..4, Just(u32::MAX), Just(70_000u32)], 0u64..12, any::<u16>()),
                0..200,
            )
        ) {
            let mut m: InFlight<u16> = InFlight::default();
            let mut reference: BTreeMap<OpId, u16> = BTreeMap::new();
            for (insert, client, seq, value) in steps {
                let id = op(client, seq);
                if insert {
                    prop_assert_eq!(m.insert(id, value), reference.insert(id, value));
                } else {
                    prop_assert_eq!(m.remove(&id), reference.remove(&id));
                }
                prop_assert_eq!(m.len(), reference.len());
            }
            for (id, v) in &reference {
                prop_assert_eq!(m.remove(id), Some(*v));
            }
            prop_assert_eq!(m.len(), 0);
        }
    }
}
