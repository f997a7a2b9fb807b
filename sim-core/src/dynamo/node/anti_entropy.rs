//! Anti-entropy with Merkle trees (§4.7).
//!
//! Each node keeps one Merkle tree per key range it replicates, updated on
//! every write to its durable store (never rebuilt for an exchange). A leaf
//! holds, per key, a digest of the key's version set, so two replicas that
//! hold the same versions have the same hashes.
//!
//! Periodically a node picks one of its ranges and another replica of it,
//! and they compare trees top-down. By default (`partners: round_robin`) a
//! node walks its ranges in ring order and, for each, the other replicas in
//! preference-list order, one exchange per interval, skipping a replica its
//! failure detector suspects (as Riak's active anti-entropy walks the
//! preference list). **Bound:** a node that replicates `R` ranges with `N`
//! replicas each meets every other replica of every range once per cycle
//! of at most `R × (N − 1)` rounds, so once the network is healed and every
//! replica is trusted again, any difference between two replicas is found
//! within `R × (N − 1)` anti-entropy intervals of either of them (plus the
//! exchange's own messages; a lost exchange message waits for the next
//! cycle). `partners: random` keeps the older rule, a random range and
//! replica every round, under which one pair meets after a geometric number
//! of rounds and the last difference can wait many cycles.
//!
//! 1. `Root`: the initiator sends its root hash; equal roots end the
//!    exchange (`InSync`): identical replicas cost O(1) messages.
//! 2. `Hashes` / `Descend`: the two walk down only where hashes differ.
//! 3. `Leaves`: at the differing leaves the initiator sends its key digests;
//!    the peer answers with its versions of the keys that differ (`Versions`)
//!    and asks for the initiator's versions of the keys it lacks (`want`).
//!
//! Both sides apply what they receive with the normal reconciliation rule, so
//! replicas that differ in d keys exchange about O(d log K) hashes and
//! converge in both directions. This module never schedules anything itself
//! other than its periodic timer, and never reads a clock.

use std::collections::BTreeMap;

use crate::config::AePartners;
use crate::dynamo::merkle::MerkleTree;
use crate::dynamo::protocol::{Endpoint, Msg, SyncMsg, Version};
use crate::dynamo::ring::RangeId;
use crate::engine::ids::{Key, NodeId};
use crate::engine::outbox::Outbox;

use super::{Node, NodeTime, Timer};

/// One version's term in the digest of a key's version set, which is the
/// wrapping sum of its versions' terms (order-independent, timestamps
/// excluded). It covers the stored bytes, so a silently corrupted version
/// changes it: anti-entropy then finds the key different, and with
/// checksums the exchange reads, detects and repairs it.
pub fn version_digest(version: &Version) -> u64 {
    let w = version.value().write();
    let mut x = version.clock.digest()
        ^ (u64::from(w.0.client.0) << 40 | w.0.seq).rotate_left(17)
        ^ u64::from(version.value().is_tombstone())
        ^ if version.corrupted() {
            0x5bd1_e995_0000_0000
        } else {
            0
        };
    // SplitMix64 finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Node {
    /// The trees of the ranges this node replicates (empty when anti-entropy
    /// is off).
    pub(super) fn new_trees(&self) -> BTreeMap<RangeId, MerkleTree> {
        match &self.cluster.anti_entropy {
            None => BTreeMap::new(),
            Some(ae) => self
                .ring
                .ranges_replicated_by(self.id)
                .into_iter()
                .map(|r| (r, MerkleTree::new(ae.fanout, ae.depth)))
                .collect(),
        }
    }

    /// Keeps the key's leaf in step with the durable store.
    pub(super) fn update_tree(&mut self, key: Key) {
        if self.durable.trees.is_empty() {
            return;
        }
        let range = self.ring.range_of(key);
        // `None` when the store holds nothing for the key.
        let mut digest: Option<u64> = None;
        self.durable.store.for_each_version(key, |v| {
            let d = digest.get_or_insert(0);
            *d = d.wrapping_add(version_digest(v));
        });
        if let Some(tree) = self.durable.trees.get_mut(&range) {
            match digest {
                Some(d) => tree.insert(key, d),
                None => tree.remove(key),
            }
        }
    }

    /// The Merkle root of a range (for the convergence observer).
    pub fn merkle_root(&self, range: RangeId) -> Option<u64> {
        self.durable.trees.get(&range).map(MerkleTree::root)
    }

    /// The other replicas of `range`, in preference-list order.
    fn ae_peers(&self, range: RangeId) -> impl Iterator<Item = NodeId> + '_ {
        let n = self.cluster.quorum.n as usize;
        self.ring
            .preference_list_of_range(range)
            .iter()
            .take(n)
            .copied()
            .filter(move |p| *p != self.id)
    }

    /// Round-robin: the next (range, replica) pair after the cursor whose
    /// replica is trusted, at most one full cycle ahead.
    fn next_ae_pair(&mut self, now: crate::engine::time::SimTime) -> Option<(RangeId, NodeId)> {
        use std::ops::Bound::{Excluded, Unbounded};
        let n = self.cluster.quorum.n as usize;
        let cycle = self.durable.trees.len() * n.saturating_sub(1).max(1);
        let first = *self.durable.trees.keys().next()?;
        let mut cursor = self.volatile.ae_cursor;
        for _ in 0..cycle {
            let (range, idx) = match cursor {
                Some((r, i)) if self.durable.trees.contains_key(&r) && i + 1 < n - 1 => (r, i + 1),
                Some((r, _)) => {
                    let next = self.durable.trees.range((Excluded(r), Unbounded)).next();
                    (next.map_or(first, |(r, _)| *r), 0)
                }
                None => (first, 0),
            };
            cursor = Some((range, idx));
            let peer = self.ae_peers(range).nth(idx);
            if let Some(peer) = peer {
                if self.volatile.detector.is_healthy(peer, now) {
                    self.volatile.ae_cursor = cursor;
                    return Some((range, peer));
                }
            }
        }
        self.volatile.ae_cursor = cursor;
        None
    }

    /// Periodic: start an exchange of one range with one other replica
    /// (the next pair in turn, or a random one; see the module docs).
    pub(super) fn on_anti_entropy_round(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(ae) = self.cluster.anti_entropy.clone() else {
            return;
        };
        out.set_timer(Timer::AntiEntropy, ae.interval);
        if self.durable.trees.is_empty() || !self.background_admitted(t) {
            return;
        }
        let (range, peer) = match ae.partners {
            AePartners::RoundRobin => match self.next_ae_pair(t.now) {
                Some(pair) => pair,
                None => return,
            },
            AePartners::Random => {
                let ranges: Vec<RangeId> = self.durable.trees.keys().copied().collect();
                let range = ranges[self.rng.index(ranges.len())];
                let peers: Vec<NodeId> = self
                    .ae_peers(range)
                    .filter(|p| self.volatile.detector.is_healthy(*p, t.now))
                    .collect();
                let Some(&peer) = self.rng.choose(&peers) else {
                    return;
                };
                (range, peer)
            }
        };
        let exchange = self.fresh_id();
        let hash = self.durable.trees[&range].root();
        self.stats.ae_exchanges += 1;
        self.stats.ae_hashes_sent += 1;
        self.send_node(
            out,
            peer,
            Msg::AntiEntropy(SyncMsg::Root {
                exchange,
                range,
                hash,
            }),
        );
    }

    pub(super) fn on_sync_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: SyncMsg,
        out: &mut Outbox<Timer>,
    ) {
        let Endpoint::Node(peer) = from else { return };
        match msg {
            SyncMsg::Root {
                exchange,
                range,
                hash,
            } => {
                let Some(tree) = self.durable.trees.get(&range) else {
                    return;
                };
                let reply = if tree.root() == hash {
                    SyncMsg::InSync { exchange }
                } else {
                    let hashes = tree.children(0, 0);
                    self.stats.ae_hashes_sent += hashes.len() as u64;
                    SyncMsg::Hashes {
                        exchange,
                        range,
                        level: 1,
                        hashes,
                    }
                };
                self.send_node(out, peer, Msg::AntiEntropy(reply));
            }
            SyncMsg::InSync { .. } => self.stats.ae_in_sync += 1,
            SyncMsg::Hashes {
                exchange,
                range,
                level,
                hashes,
            } => {
                let Some(tree) = self.durable.trees.get(&range) else {
                    return;
                };
                let differing: Vec<u32> = hashes
                    .iter()
                    .filter(|(i, h)| tree.node_hash(level, *i) != *h)
                    .map(|(i, _)| *i)
                    .collect();
                if differing.is_empty() {
                    return;
                }
                let reply = if level >= tree.depth() {
                    let entries: Vec<(Key, u64)> = differing
                        .iter()
                        .flat_map(|l| tree.leaf_entries(*l))
                        .collect();
                    self.stats.ae_hashes_sent += entries.len() as u64;
                    SyncMsg::Leaves {
                        exchange,
                        range,
                        leaves: differing,
                        entries,
                    }
                } else {
                    SyncMsg::Descend {
                        exchange,
                        range,
                        level,
                        indices: differing,
                    }
                };
                self.send_node(out, peer, Msg::AntiEntropy(reply));
            }
            SyncMsg::Descend {
                exchange,
                range,
                level,
                indices,
            } => {
                let Some(tree) = self.durable.trees.get(&range) else {
                    return;
                };
                let hashes: Vec<(u32, u64)> = indices
                    .iter()
                    .flat_map(|i| tree.children(level, *i))
                    .collect();
                self.stats.ae_hashes_sent += hashes.len() as u64;
                let reply = SyncMsg::Hashes {
                    exchange,
                    range,
                    level: level + 1,
                    hashes,
                };
                self.send_node(out, peer, Msg::AntiEntropy(reply));
            }
            SyncMsg::Leaves {
                exchange,
                range,
                leaves,
                entries,
            } => {
                let Some(tree) = self.durable.trees.get(&range) else {
                    return;
                };
                let theirs: BTreeMap<Key, u64> = entries.into_iter().collect();
                let mine: BTreeMap<Key, u64> =
                    leaves.iter().flat_map(|l| tree.leaf_entries(*l)).collect();
                let mut versions = Vec::new();
                for (key, digest) in &mine {
                    if theirs.get(key) != Some(digest) {
                        self.verify(*key, out);
                        versions.push((*key, self.durable.store.versions(*key)));
                    }
                }
                let want: Vec<Key> = theirs
                    .iter()
                    .filter(|(k, d)| mine.get(k) != Some(d))
                    .map(|(k, _)| *k)
                    .collect();
                let count = versions.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
                self.stats.ae_versions_sent += count;
                let reply = SyncMsg::Versions {
                    exchange,
                    range,
                    versions,
                    want,
                };
                self.send_after_reads(out, count as u32, peer, Msg::AntiEntropy(reply));
            }
            SyncMsg::Versions {
                exchange,
                range,
                versions,
                want,
            } => {
                let writes = self.apply_synced(t, versions, out);
                self.background_writes(out, writes);
                if !want.is_empty() {
                    for k in &want {
                        self.verify(*k, out);
                    }
                    let versions: Vec<(Key, Vec<Version>)> = want
                        .iter()
                        .map(|k| (*k, self.durable.store.versions(*k)))
                        .collect();
                    let count = versions.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
                    self.stats.ae_versions_sent += count;
                    let reply = SyncMsg::Versions {
                        exchange,
                        range,
                        versions,
                        want: Vec::new(),
                    };
                    self.send_after_reads(out, count as u32, peer, Msg::AntiEntropy(reply));
                }
            }
        }
    }

    /// Applies versions received in an exchange; returns how many.
    fn apply_synced(
        &mut self,
        t: NodeTime,
        versions: Vec<(Key, Vec<Version>)>,
        out: &mut Outbox<Timer>,
    ) -> u32 {
        let mut writes = 0;
        for (key, vs) in versions {
            writes += vs.len() as u32;
            self.store_apply_all(key, vs, t.now, out);
        }
        writes
    }
}
