//! The consistent-hashing ring: tokens, partitions and preference lists.
//!
//! Follows §4.1-4.3 of the Dynamo paper (interface, partitioning with virtual
//! nodes, replication) and the three partitioning strategies of §6.2. A key is
//! hashed with MD5 onto a 128-bit ring ([`key_token`]); each physical node owns
//! several positions on the ring (virtual nodes, identified by their token);
//! the data of a key is stored on the first N distinct physical nodes met
//! walking clockwise from the key's position (the *preference list*, whose
//! first node is the *coordinator* of the key).
//!
//! Two types split the work:
//! * [`TokenMap`] is the assignment of tokens (strategies 1 and 2) or fixed
//!   partitions (strategy 3) to nodes. It is the part that membership changes
//!   act on: [`TokenMap::with_node_added`] and [`TokenMap::with_node_removed`]
//!   produce a new map and never mutate the old one.
//! * [`Ring`] is derived from a map: for every range (strategy 1) or partition
//!   (strategies 2 and 3) it precomputes the whole extended preference list
//!   (the first N for the replicas, the rest for sloppy quorum when some are
//!   down), spread across datacenters when there are several. Lookups are a
//!   hash, a binary search and a slice borrow: no allocation.
//!
//! This module owns token placement and preference-list order. It never
//! decides which nodes are up (that is the caller's failure detector), keeps
//! no state of its own between calls but a memo of each workload key's
//! range (filled on first use, it changes no answer), and draws randomness only from the
//! `&mut SimRng` it is handed. All collections are ordered (`BTreeMap`, sorted
//! `Vec`), so the same seed always yields the same ring.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use md5::{Digest, Md5};

use crate::engine::ids::{DatacenterId, Key, NodeId};
use crate::engine::rng::SimRng;

/// A position on the ring: the 128-bit output space of MD5, which wraps
/// around (the largest token is followed by 0).
pub type Token = u128;

/// The ring position of `key`: the MD5 digest of the key number's 8 bytes in
/// big-endian order, read as a big-endian 128-bit integer.
pub fn key_token(key: Key) -> Token {
    md5_token(&key.0.to_be_bytes())
}

fn md5_token(bytes: &[u8]) -> Token {
    u128::from_be_bytes(Md5::digest(bytes).into())
}

/// How the key space is split among nodes: the three strategies of §6.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartitionStrategy {
    /// Strategy 1: each node draws `tokens_per_node` random tokens; a key
    /// belongs to the range ending at the first token clockwise from it.
    RandomTokens {
        /// Virtual nodes (tokens) per physical node, at least 1.
        tokens_per_node: u32,
    },
    /// Strategy 2: each node draws `tokens_per_node` random tokens, but the
    /// ring is split into `partitions` equal fixed partitions; a partition is
    /// placed on the first N distinct nodes met walking clockwise from the
    /// end of the partition.
    RandomTokensEqualPartitions {
        /// Random tokens per physical node, at least 1.
        tokens_per_node: u32,
        /// Equal partitions of the ring (Q), at least 1.
        partitions: u32,
    },
    /// Strategy 3: `partitions` equal partitions (Q), each node holding Q/S
    /// of them (floor or ceil); the partition boundaries are the tokens.
    EqualPartitions {
        /// Equal partitions of the ring (Q), at least 1.
        partitions: u32,
    },
}

/// The last token of partition `i` of `q` equal partitions: partition `i`
/// covers `[ceil(i * 2^128 / q), ceil((i + 1) * 2^128 / q) - 1]`, so sizes
/// differ by at most one token (and are exactly equal when `q` is a power of
/// two). The last partition ends at `u128::MAX`.
fn partition_end(q: u32, i: u32) -> Token {
    debug_assert!(q > 0 && i < q);
    let next = i + 1;
    if next == q {
        return u128::MAX;
    }
    // 2^128 = q * q0 + r, with 1 <= r <= q.
    let q = u128::from(q);
    let q0 = u128::MAX / q;
    let r = u128::MAX % q + 1;
    let x = u128::from(next);
    // ceil(x * 2^128 / q) - 1 = x * q0 + ceil(x * r / q) - 1; x * r >= 1.
    x * q0 + (x * r).div_ceil(q) - 1
}

fn random_token(rng: &mut SimRng) -> Token {
    (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())
}

/// Which node holds which tokens or partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Assignment {
    /// Strategies 1 and 2: each node's random tokens, sorted, unique ring-wide.
    Tokens(BTreeMap<NodeId, Vec<Token>>),
    /// Strategy 3: the owner of each partition, by partition index.
    Partitions(Vec<NodeId>),
}

/// The assignment of tokens (strategies 1, 2) or partitions (strategy 3) to
/// physical nodes, with each node's datacenter.
///
/// A `TokenMap` is immutable: membership changes return a new map, from which
/// the caller builds a new [`Ring`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenMap {
    strategy: PartitionStrategy,
    datacenters: BTreeMap<NodeId, DatacenterId>,
    assignment: Assignment,
}

impl TokenMap {
    /// The initial assignment for `nodes` (order irrelevant: nodes are
    /// processed by id). Strategies 1 and 2 draw `tokens_per_node` random
    /// tokens per node (redrawing the astronomically unlikely duplicate);
    /// strategy 3 shuffles the partitions and deals them out, so every node
    /// holds floor or ceil of Q/S.
    ///
    /// # Panics
    /// If `nodes` is empty or repeats a node, or a strategy parameter is 0.
    pub fn initial(
        strategy: PartitionStrategy,
        nodes: &[(NodeId, DatacenterId)],
        rng: &mut SimRng,
    ) -> TokenMap {
        assert!(!nodes.is_empty(), "a ring needs at least one node");
        let datacenters: BTreeMap<NodeId, DatacenterId> = nodes.iter().copied().collect();
        assert_eq!(datacenters.len(), nodes.len(), "duplicate node in ring");
        if let Some(q) = strategy_partitions(strategy) {
            assert!(q > 0, "partitions must be positive");
        }
        let assignment = match strategy {
            PartitionStrategy::RandomTokens { tokens_per_node }
            | PartitionStrategy::RandomTokensEqualPartitions {
                tokens_per_node, ..
            } => {
                assert!(tokens_per_node > 0, "tokens_per_node must be positive");
                let mut used = BTreeSet::new();
                let tokens = datacenters
                    .keys()
                    .map(|&node| (node, draw_tokens(tokens_per_node, &mut used, rng)))
                    .collect();
                Assignment::Tokens(tokens)
            }
            PartitionStrategy::EqualPartitions { .. } => {
                let q = strategy_partitions(strategy).expect("strategy 3 has partitions");
                let mut order: Vec<u32> = (0..q).collect();
                rng.shuffle(&mut order);
                let ids: Vec<NodeId> = datacenters.keys().copied().collect();
                let mut owners = vec![ids[0]; q as usize];
                for (j, &p) in order.iter().enumerate() {
                    owners[p as usize] = ids[j % ids.len()];
                }
                Assignment::Partitions(owners)
            }
        };
        TokenMap {
            strategy,
            datacenters,
            assignment,
        }
    }

    /// A new map with `node` (in datacenter `dc`) joined. Strategies 1 and 2:
    /// the node draws fresh random tokens and nobody else's move. Strategy 3:
    /// the node steals partitions one at a time from the node holding the
    /// most (ties: smallest node id; that node gives up its lowest-numbered
    /// partition) until no node holds more than one partition beyond it, so
    /// about Q/S partitions move, all to the new node, and every node keeps
    /// floor or ceil of Q/S.
    ///
    /// # Panics
    /// If `node` is already in the map.
    pub fn with_node_added(&self, node: NodeId, dc: DatacenterId, rng: &mut SimRng) -> TokenMap {
        assert!(!self.contains(node), "{node} is already in the ring");
        let mut next = self.clone();
        next.datacenters.insert(node, dc);
        match &mut next.assignment {
            Assignment::Tokens(tokens) => {
                let per_node = strategy_tokens_per_node(self.strategy)
                    .expect("a token assignment has tokens per node");
                let mut used: BTreeSet<Token> = tokens.values().flatten().copied().collect();
                tokens.insert(node, draw_tokens(per_node, &mut used, rng));
            }
            Assignment::Partitions(owners) => {
                let mut held = partitions_held(&self.datacenters, owners);
                let mut mine = BTreeSet::new();
                loop {
                    let (_, parts) = held
                        .iter_mut()
                        .max_by_key(|(n, held)| (held.len(), Reverse(**n)))
                        .expect("the map had at least one node");
                    if parts.len() <= mine.len() + 1 {
                        break;
                    }
                    let p = parts.pop_first().expect("the donor holds more than one");
                    owners[p as usize] = node;
                    mine.insert(p);
                }
            }
        }
        next
    }

    /// A new map without `node`. Strategies 1 and 2: its tokens vanish and
    /// their ranges fall to the next tokens clockwise. Strategy 3: its
    /// partitions, in index order, each go to the node holding the fewest
    /// (ties: smallest node id). `rng` is unused today; it is taken so that a
    /// future strategy may draw.
    ///
    /// # Panics
    /// If `node` is not in the map or is its last node.
    pub fn with_node_removed(&self, node: NodeId, rng: &mut SimRng) -> TokenMap {
        let _ = rng;
        assert!(self.contains(node), "{node} is not in the ring");
        assert!(self.datacenters.len() > 1, "cannot remove the last node");
        let mut next = self.clone();
        next.datacenters.remove(&node);
        match &mut next.assignment {
            Assignment::Tokens(tokens) => {
                tokens.remove(&node);
            }
            Assignment::Partitions(owners) => {
                let mut held = partitions_held(&next.datacenters, owners);
                for (p, owner) in (0u32..).zip(owners.iter_mut()) {
                    if *owner != node {
                        continue;
                    }
                    let (heir, parts) = held
                        .iter_mut()
                        .min_by_key(|(n, held)| (held.len(), **n))
                        .expect("at least one node remains");
                    parts.insert(p);
                    *owner = *heir;
                }
            }
        }
        next
    }

    /// The map a membership view describes: each member with its datacenter
    /// and placement (its tokens for strategies 1 and 2, its partition
    /// indexes for strategy 3; see [`TokenMap::placement_of`]). Strategy 3
    /// resolves what concurrent changes can leave behind deterministically: a
    /// partition claimed twice goes to the lower node id, an unclaimed one to
    /// member `index mod members` in id order. `None` without members.
    pub fn from_members<'a>(
        strategy: PartitionStrategy,
        members: impl IntoIterator<Item = (NodeId, DatacenterId, &'a [u128])>,
    ) -> Option<TokenMap> {
        let members: Vec<_> = members.into_iter().collect();
        if members.is_empty() {
            return None;
        }
        let datacenters: BTreeMap<NodeId, DatacenterId> =
            members.iter().map(|(n, d, _)| (*n, *d)).collect();
        let assignment = match strategy_partitions(strategy) {
            Some(q) if strategy_tokens_per_node(strategy).is_none() => {
                let ids: Vec<NodeId> = datacenters.keys().copied().collect();
                let mut owners: Vec<Option<NodeId>> = vec![None; q as usize];
                for (node, _, placement) in &members {
                    for &p in *placement {
                        if let Some(slot) = usize::try_from(p).ok().and_then(|i| owners.get_mut(i))
                        {
                            match slot {
                                Some(cur) if *cur <= *node => {}
                                _ => *slot = Some(*node),
                            }
                        }
                    }
                }
                Assignment::Partitions(
                    owners
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| o.unwrap_or(ids[i % ids.len()]))
                        .collect(),
                )
            }
            _ => Assignment::Tokens(
                members
                    .iter()
                    .map(|(n, _, placement)| {
                        let mut t = placement.to_vec();
                        t.sort_unstable();
                        (*n, t)
                    })
                    .collect(),
            ),
        };
        Some(TokenMap {
            strategy,
            datacenters,
            assignment,
        })
    }

    /// Every node's placement (see [`TokenMap::placement_of`]) in one pass.
    pub fn placements(&self) -> BTreeMap<NodeId, Vec<u128>> {
        let mut out: BTreeMap<NodeId, Vec<u128>> =
            self.datacenters.keys().map(|n| (*n, Vec::new())).collect();
        match &self.assignment {
            Assignment::Tokens(tokens) => {
                for (n, t) in tokens {
                    out.insert(*n, t.clone());
                }
            }
            Assignment::Partitions(owners) => {
                for (p, owner) in (0u128..).zip(owners) {
                    out.entry(*owner).or_default().push(p);
                }
            }
        }
        out
    }

    /// What a membership view records of `node`: its tokens (strategies 1
    /// and 2) or its partition indexes (strategy 3).
    pub fn placement_of(&self, node: NodeId) -> Vec<u128> {
        match &self.assignment {
            Assignment::Tokens(tokens) => tokens.get(&node).cloned().unwrap_or_default(),
            Assignment::Partitions(_) => self
                .partitions_of(node)
                .into_iter()
                .map(u128::from)
                .collect(),
        }
    }

    /// The partitioning strategy.
    pub fn strategy(&self) -> PartitionStrategy {
        self.strategy
    }

    /// The nodes and their datacenters, by node id.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, DatacenterId)> + '_ {
        self.datacenters.iter().map(|(n, d)| (*n, *d))
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.datacenters.len()
    }

    /// True when `node` is in the map.
    pub fn contains(&self, node: NodeId) -> bool {
        self.datacenters.contains_key(&node)
    }

    /// The datacenter of `node`, if it is in the map.
    pub fn datacenter_of(&self, node: NodeId) -> Option<DatacenterId> {
        self.datacenters.get(&node).copied()
    }

    /// The tokens (virtual nodes) of `node`, sorted: its random tokens
    /// (strategies 1, 2) or the end tokens of its partitions (strategy 3).
    /// Empty for an unknown node.
    pub fn tokens_of(&self, node: NodeId) -> Vec<Token> {
        match &self.assignment {
            Assignment::Tokens(tokens) => tokens.get(&node).cloned().unwrap_or_default(),
            Assignment::Partitions(owners) => {
                let q = owners.len() as u32;
                self.partitions_of(node)
                    .into_iter()
                    .map(|p| partition_end(q, p))
                    .collect()
            }
        }
    }

    /// The partitions `node` holds, by index (strategy 3 only; empty for
    /// strategies 1 and 2, where placement comes from tokens; see
    /// [`Ring::ranges_replicated_by`]).
    pub fn partitions_of(&self, node: NodeId) -> Vec<u32> {
        match &self.assignment {
            Assignment::Tokens(_) => Vec::new(),
            Assignment::Partitions(owners) => (0u32..)
                .zip(owners)
                .filter(|(_, o)| **o == node)
                .map(|(p, _)| p)
                .collect(),
        }
    }

    /// The number of equal partitions Q (strategies 2 and 3), `None` for
    /// strategy 1.
    pub fn partition_count(&self) -> Option<u32> {
        strategy_partitions(self.strategy)
    }
}

fn strategy_partitions(s: PartitionStrategy) -> Option<u32> {
    match s {
        PartitionStrategy::RandomTokens { .. } => None,
        PartitionStrategy::RandomTokensEqualPartitions { partitions, .. }
        | PartitionStrategy::EqualPartitions { partitions } => Some(partitions),
    }
}

fn strategy_tokens_per_node(s: PartitionStrategy) -> Option<u32> {
    match s {
        PartitionStrategy::RandomTokens { tokens_per_node }
        | PartitionStrategy::RandomTokensEqualPartitions {
            tokens_per_node, ..
        } => Some(tokens_per_node),
        PartitionStrategy::EqualPartitions { .. } => None,
    }
}

/// `count` fresh random tokens not in `used` (which they join), sorted.
fn draw_tokens(count: u32, used: &mut BTreeSet<Token>, rng: &mut SimRng) -> Vec<Token> {
    let mut mine = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let t = loop {
            let t = random_token(rng);
            if used.insert(t) {
                break t;
            }
        };
        mine.push(t);
    }
    mine.sort_unstable();
    mine
}

/// For strategy 3: the partitions each node of `nodes` holds.
fn partitions_held(
    nodes: &BTreeMap<NodeId, DatacenterId>,
    owners: &[NodeId],
) -> BTreeMap<NodeId, BTreeSet<u32>> {
    let mut held: BTreeMap<NodeId, BTreeSet<u32>> =
        nodes.keys().map(|&n| (n, BTreeSet::new())).collect();
    for (p, owner) in (0u32..).zip(owners) {
        if let Some(set) = held.get_mut(owner) {
            set.insert(p);
        }
    }
    held
}

/// A range of the ring (strategy 1: between two consecutive tokens) or a
/// fixed partition (strategies 2 and 3), numbered clockwise from the one that
/// contains token 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RangeId(pub u32);

/// The lookup structure derived from a [`TokenMap`]: the ranges in ring order
/// and, for each, its precomputed extended preference list.
#[derive(Clone, Debug)]
pub struct Ring {
    /// The inclusive end token of every range, ascending.
    ends: Vec<Token>,
    /// Radix index into `ends`: the ranges whose end has top `index_bits`
    /// bits equal to `b` are `ends[buckets[b]..buckets[b + 1]]`, so a lookup
    /// binary-searches about one element instead of the whole ring.
    buckets: Vec<u32>,
    index_bits: u32,
    /// `ends.len()` preference lists of `list_len` nodes each, flattened.
    lists: Vec<NodeId>,
    list_len: usize,
    replicas_n: usize,
    /// Every node of the map, by id (some may own no partition).
    nodes: Vec<NodeId>,
    /// The range of each workload key (see [`KeyRanges`]).
    key_ranges: KeyRanges,
}

/// The range of each of the workload's keys, `Key(k)` at `k`, so the hot
/// path skips MD5: room for every key is made by [`Ring::cache_keys`], and
/// each key's range is computed the first time it is asked for (an MD5 and
/// a search), so a run pays for the keys it touches, not for the whole key
/// space (a rebuilt ring after a membership change too). Entries are atomics
/// because a ring is shared across threads (the nodes' and the reports');
/// two threads filling the same entry store the same value, a pure function
/// of the key and the ring, so the answers never depend on who came first.
#[derive(Debug, Default)]
struct KeyRanges(Box<[AtomicU32]>);

/// A [`KeyRanges`] entry not computed yet (no ring has `u32::MAX` ranges).
const RANGE_UNKNOWN: u32 = u32::MAX;

impl Clone for KeyRanges {
    fn clone(&self) -> Self {
        KeyRanges(
            self.0
                .iter()
                .map(|r| AtomicU32::new(r.load(Relaxed)))
                .collect(),
        )
    }
}

impl Ring {
    /// Builds the ring of `map` with `replicas_n` replicas (N) per key and
    /// extended preference lists of `extended_len` nodes, both capped at the
    /// number of nodes that hold at least one token.
    ///
    /// With several datacenters the first N of each list are spread: walking
    /// clockwise, a node is accepted only while its datacenter holds fewer
    /// than ceil(N / datacenters) of the first N; if a full lap leaves fewer
    /// than N, the skipped nodes fill in, in clockwise order. The rest of the
    /// extended list follows in clockwise order.
    ///
    /// Building costs about one walk of `extended_len` distinct nodes per
    /// range (a full lap when datacenters cannot satisfy the spread) and
    /// `range_count * extended_len` node ids of memory.
    ///
    /// # Panics
    /// If `replicas_n` is 0 or `extended_len < replicas_n`.
    pub fn new(map: &TokenMap, replicas_n: usize, extended_len: usize) -> Ring {
        assert!(replicas_n >= 1, "replicas_n must be at least 1");
        assert!(
            extended_len >= replicas_n,
            "the extended preference list cannot be shorter than N"
        );
        let nodes: Vec<NodeId> = map.datacenters.keys().copied().collect();
        let dense = |n: NodeId| {
            nodes
                .binary_search(&n)
                .expect("every token belongs to a node of the map")
        };

        // Ring positions as (token, dense node index), sorted by token, and
        // the end token of every range.
        let (points, ends): (Vec<(Token, usize)>, Vec<Token>) = match &map.assignment {
            Assignment::Tokens(tokens) => {
                let mut points: Vec<(Token, usize)> = tokens
                    .iter()
                    .flat_map(|(n, ts)| ts.iter().map(move |t| (*t, *n)))
                    .map(|(t, n)| (t, dense(n)))
                    .collect();
                points.sort_unstable();
                let ends = match map.strategy {
                    PartitionStrategy::RandomTokens { .. } => {
                        points.iter().map(|(t, _)| *t).collect()
                    }
                    _ => {
                        let q = map.partition_count().expect("strategy 2 has partitions");
                        (0..q).map(|i| partition_end(q, i)).collect()
                    }
                };
                (points, ends)
            }
            Assignment::Partitions(owners) => {
                let q = owners.len() as u32;
                let points = (0..q)
                    .zip(owners)
                    .map(|(i, o)| (partition_end(q, i), dense(*o)))
                    .collect();
                let ends = (0..q).map(|i| partition_end(q, i)).collect();
                (points, ends)
            }
        };
        assert!(
            u32::try_from(ends.len()).is_ok(),
            "more ranges than a RangeId can number"
        );

        // Datacenters of the nodes on the ring, densely numbered.
        let mut on_ring = vec![false; nodes.len()];
        for &(_, n) in &points {
            on_ring[n] = true;
        }
        let ring_node_count = on_ring.iter().filter(|b| **b).count();
        let dcs: BTreeSet<DatacenterId> = nodes
            .iter()
            .zip(&on_ring)
            .filter(|(_, on)| **on)
            .map(|(n, _)| map.datacenters[n])
            .collect();
        // (A node off the ring is never walked; its entry is a placeholder.)
        let dc_of: Vec<usize> = nodes
            .iter()
            .map(|n| {
                let dc = map.datacenters[n];
                dcs.iter().position(|d| *d == dc).unwrap_or(0)
            })
            .collect();

        let list_len = extended_len.min(ring_node_count);
        let first_len = replicas_n.min(list_len);
        let cap = replicas_n.div_ceil(dcs.len().max(1));
        let mut walker = Walker::new(nodes.len(), dcs.len());
        let mut lists = Vec::with_capacity(ends.len() * list_len);
        for &end in &ends {
            let start = points.partition_point(|(t, _)| *t < end) % points.len();
            walker.walk(
                &points,
                start,
                &dc_of,
                WalkShape {
                    first_len,
                    list_len,
                    cap,
                    ring_node_count,
                },
            );
            walker.append_to(list_len, &nodes, &mut lists);
        }
        let (buckets, index_bits) = radix_buckets(&ends);
        Ring {
            ends,
            buckets,
            index_bits,
            lists,
            list_len,
            replicas_n,
            nodes,
            key_ranges: KeyRanges::default(),
        }
    }

    /// The range or partition containing `token`: a radix-bucket lookup and
    /// a binary search within the bucket (O(1) expected, O(log ranges) worst
    /// case), no allocation.
    pub fn range_of_token(&self, token: Token) -> RangeId {
        let b = token.checked_shr(128 - self.index_bits).unwrap_or(0) as usize;
        let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        let i = lo + self.ends[lo..hi].partition_point(|e| *e < token);
        RangeId(if i == self.ends.len() { 0 } else { i as u32 })
    }

    /// The range or partition `key` falls in: O(log ranges), no allocation.
    pub fn range_of(&self, key: Key) -> RangeId {
        let Some(slot) = self.key_ranges.0.get(key.0 as usize) else {
            return self.range_of_token(key_token(key));
        };
        match slot.load(Relaxed) {
            RANGE_UNKNOWN => {
                let r = self.range_of_token(key_token(key));
                slot.store(r.0, Relaxed);
                r
            }
            r => RangeId(r),
        }
    }

    /// Remembers the range of keys `0..key_count` once asked (at most 16M
    /// keys; more are looked up every time), so that each key is hashed
    /// once. Lookups give the same answers either way.
    pub fn cache_keys(&mut self, key_count: u64) {
        let n = key_count.min(1 << 24);
        debug_assert!(self.ends.len() < RANGE_UNKNOWN as usize);
        self.key_ranges = KeyRanges((0..n).map(|_| AtomicU32::new(RANGE_UNKNOWN)).collect());
    }

    /// How many keys [`Ring::cache_keys`] makes room for.
    pub fn cached_keys(&self) -> u64 {
        self.key_ranges.0.len() as u64
    }

    /// The extended preference list of `key`: distinct physical nodes in
    /// order, the first N of which ([`Ring::replicas_n`]) are the paper's
    /// preference list and the first one the coordinator. O(log ranges), no
    /// allocation.
    pub fn preference_list(&self, key: Key) -> &[NodeId] {
        self.preference_list_of_range(self.range_of(key))
    }

    /// The extended preference list of range `r` (see
    /// [`Ring::preference_list`]).
    ///
    /// # Panics
    /// If `r` is not a range of this ring.
    pub fn preference_list_of_range(&self, r: RangeId) -> &[NodeId] {
        let start = r.0 as usize * self.list_len;
        &self.lists[start..start + self.list_len]
    }

    /// The number of ranges (strategy 1: tokens on the ring) or partitions.
    pub fn range_count(&self) -> usize {
        self.ends.len()
    }

    /// The tokens bounding range `r`: `(start, end)` with `start` exclusive
    /// and `end` inclusive, wrapping past `u128::MAX` to 0. A ring with a
    /// single range returns `(t, t)`, meaning the whole ring.
    ///
    /// # Panics
    /// If `r` is not a range of this ring.
    pub fn range_bounds(&self, r: RangeId) -> (Token, Token) {
        let i = r.0 as usize;
        let start = if i == 0 {
            self.ends[self.ends.len() - 1]
        } else {
            self.ends[i - 1]
        };
        (start, self.ends[i])
    }

    /// The configured replica count N. A preference list holds
    /// `min(N, nodes on the ring)` replicas: see [`Ring::replica_count`].
    pub fn replicas_n(&self) -> usize {
        self.replicas_n
    }

    /// The number of replicas each key actually gets: `min(N, list length)`.
    pub fn replica_count(&self) -> usize {
        self.replicas_n.min(self.list_len)
    }

    /// The length of every extended preference list.
    pub fn list_len(&self) -> usize {
        self.list_len
    }

    /// Every node of the map this ring was built from, by id.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// The ranges for which `node` is among the first N of the preference
    /// list, in ring order. Scans every list: not for hot paths.
    pub fn ranges_replicated_by(&self, node: NodeId) -> Vec<RangeId> {
        let n = self.replica_count();
        (0..self.ends.len() as u32)
            .map(RangeId)
            .filter(|&r| self.preference_list_of_range(r)[..n].contains(&node))
            .collect()
    }

    /// For every node of the map, by id: `(node, coordinated, replicated)`,
    /// the number of tokens of the ring for which it is the coordinator
    /// (first in the list) and for which it is among the first N. The whole
    /// ring is 2^128 tokens, one more than a `u128` holds, so a span covering
    /// the entire ring is reported as `u128::MAX`.
    pub fn key_space_share(&self) -> Vec<(NodeId, u128, u128)> {
        let n = self.replica_count();
        // Wrapping sums: a node's total is at most 2^128, which wraps to 0
        // exactly when it covers the whole ring.
        let mut shares = vec![(0u128, false, 0u128, false); self.nodes.len()];
        for r in 0..self.ends.len() as u32 {
            let (start, end) = self.range_bounds(RangeId(r));
            let size = end.wrapping_sub(start);
            for (k, node) in self.preference_list_of_range(RangeId(r))[..n]
                .iter()
                .enumerate()
            {
                let i = self
                    .nodes
                    .binary_search(node)
                    .expect("lists hold nodes of the ring");
                let s = &mut shares[i];
                if k == 0 {
                    s.0 = s.0.wrapping_add(size);
                    s.1 = true;
                }
                s.2 = s.2.wrapping_add(size);
                s.3 = true;
            }
        }
        let span = |sum: u128, any: bool| if any && sum == 0 { u128::MAX } else { sum };
        self.nodes
            .iter()
            .zip(shares)
            .map(|(node, (c, ca, r, ra))| (*node, span(c, ca), span(r, ra)))
            .collect()
    }
}

/// The radix index of the sorted range ends: `buckets[b]` is the first range
/// whose end is at least `b << (128 - index_bits)`, plus a final `ends.len()`.
/// About one range per bucket, at most 2^22 buckets.
fn radix_buckets(ends: &[Token]) -> (Vec<u32>, u32) {
    let index_bits = ends.len().next_power_of_two().trailing_zeros().min(22);
    let mut buckets = Vec::with_capacity((1 << index_bits) + 1);
    let mut i = 0;
    for b in 0..1u128 << index_bits {
        let first = b.checked_shl(128 - index_bits).unwrap_or(0);
        while i < ends.len() && ends[i] < first {
            i += 1;
        }
        buckets.push(i as u32);
    }
    buckets.push(ends.len() as u32);
    (buckets, index_bits)
}

/// The lengths and the datacenter cap of one preference-list walk.
#[derive(Clone, Copy)]
struct WalkShape {
    first_len: usize,
    list_len: usize,
    cap: usize,
    ring_node_count: usize,
}

/// Reusable buffers for building preference lists (generation-stamped, so a
/// walk never clears per-node arrays).
struct Walker {
    seen: Vec<u32>,
    chosen: Vec<u32>,
    generation: u32,
    dc_taken: Vec<usize>,
    /// Distinct nodes in clockwise order.
    clockwise: Vec<usize>,
    /// The first N, in preference order.
    first: Vec<usize>,
}

impl Walker {
    fn new(node_count: usize, dc_count: usize) -> Self {
        Walker {
            seen: vec![0; node_count],
            chosen: vec![0; node_count],
            generation: 0,
            dc_taken: vec![0; dc_count],
            clockwise: Vec::new(),
            first: Vec::new(),
        }
    }

    fn walk(&mut self, points: &[(Token, usize)], start: usize, dc_of: &[usize], shape: WalkShape) {
        self.generation += 1;
        let g = self.generation;
        self.clockwise.clear();
        self.first.clear();
        self.dc_taken.fill(0);
        for step in 0..points.len() {
            let node = points[(start + step) % points.len()].1;
            if self.seen[node] == g {
                continue;
            }
            self.seen[node] = g;
            self.clockwise.push(node);
            if self.first.len() < shape.first_len && self.dc_taken[dc_of[node]] < shape.cap {
                self.dc_taken[dc_of[node]] += 1;
                self.chosen[node] = g;
                self.first.push(node);
            }
            let done =
                self.first.len() == shape.first_len && self.clockwise.len() >= shape.list_len;
            if done || self.clockwise.len() == shape.ring_node_count {
                break;
            }
        }
        // A full lap without enough datacenter-spread nodes: fill in with the
        // skipped ones, clockwise.
        for &node in &self.clockwise {
            if self.first.len() == shape.first_len {
                break;
            }
            if self.chosen[node] != g {
                self.chosen[node] = g;
                self.first.push(node);
            }
        }
    }

    /// Appends the walk's list: the first N, then the others clockwise, up to
    /// `list_len` nodes in all.
    fn append_to(&self, list_len: usize, nodes: &[NodeId], out: &mut Vec<NodeId>) {
        let g = self.generation;
        let others = self.clockwise.iter().filter(|n| self.chosen[**n] != g);
        out.extend(
            self.first
                .iter()
                .chain(others)
                .take(list_len)
                .map(|&i| nodes[i]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Stream;

    fn nodes(count: u32, dcs: u16) -> Vec<(NodeId, DatacenterId)> {
        (0..count)
            .map(|i| (NodeId(i), DatacenterId((i % u32::from(dcs)) as u16)))
            .collect()
    }

    fn rng(seed: u64) -> SimRng {
        SimRng::new(seed, Stream::Ring)
    }

    const STRATEGIES: [PartitionStrategy; 3] = [
        PartitionStrategy::RandomTokens { tokens_per_node: 8 },
        PartitionStrategy::RandomTokensEqualPartitions {
            tokens_per_node: 8,
            partitions: 64,
        },
        PartitionStrategy::EqualPartitions { partitions: 64 },
    ];

    /// The size of range `r` in tokens, 0 meaning the whole ring.
    fn range_size(ring: &Ring, r: RangeId) -> u128 {
        let (start, end) = ring.range_bounds(r);
        end.wrapping_sub(start)
    }

    /// Is `t` in the range `(start, end]`, wrapping?
    fn in_range(t: Token, (start, end): (Token, Token)) -> bool {
        if start < end {
            start < t && t <= end
        } else {
            t > start || t <= end
        }
    }

    #[test]
    fn key_token_is_md5_of_the_big_endian_key() {
        assert_eq!(md5_token(b"abc"), 0x9001_5098_3cd2_4fb0_d696_3f7d_28e1_7f72);
        assert_eq!(md5_token(b""), 0xd41d_8cd9_8f00_b204_e980_0998_ecf8_427e);
        assert_eq!(key_token(Key(0)), 0x7dea_362b_3fac_8e00_956a_4952_a3d4_f474);
        assert_eq!(
            key_token(Key(42)),
            0x7e05_3586_8cd4_5dff_7488_4bfb_a0fa_1594
        );
    }

    #[test]
    fn equal_partitions_are_equal() {
        assert_eq!(partition_end(1, 0), u128::MAX);
        assert_eq!(partition_end(2, 0), (1 << 127) - 1);
        for q in [1u32, 2, 3, 7, 64, 1000, 1024] {
            let ends: Vec<Token> = (0..q).map(|i| partition_end(q, i)).collect();
            assert!(ends.windows(2).all(|w| w[0] < w[1]));
            // Sizes: end - previous end (the first from "-1").
            let sizes: Vec<u128> = (0..q as usize)
                .map(|i| {
                    if i == 0 {
                        ends[0].wrapping_add(1)
                    } else {
                        ends[i] - ends[i - 1]
                    }
                })
                .collect();
            let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
            if q.is_power_of_two() {
                assert_eq!(lo, hi, "q = {q}");
            } else {
                assert_eq!(hi.copied().map(|h| h - 1), lo.copied(), "q = {q}");
            }
            let total = sizes.iter().fold(0u128, |s, x| s.wrapping_add(*x));
            assert_eq!(total, 0, "sizes sum to 2^128 for q = {q}");
        }
    }

    #[test]
    fn preference_lists_hold_distinct_physical_nodes() {
        for strategy in STRATEGIES {
            for count in [1u32, 2, 3, 5, 20] {
                let map = TokenMap::initial(strategy, &nodes(count, 1), &mut rng(7));
                let ring = Ring::new(&map, 3, 5);
                assert_eq!(ring.replica_count(), 3.min(count as usize));
                assert_eq!(ring.list_len(), 5.min(count as usize));
                for k in 0..200 {
                    let list = ring.preference_list(Key(k));
                    assert_eq!(list.len(), 5.min(count as usize));
                    let distinct: BTreeSet<NodeId> = list.iter().copied().collect();
                    assert_eq!(distinct.len(), list.len());
                    let r = ring.range_of(Key(k));
                    assert!(in_range(key_token(Key(k)), ring.range_bounds(r)));
                    assert_eq!(ring.preference_list_of_range(r), list);
                }
            }
        }
    }

    #[test]
    fn remembered_key_ranges_answer_as_hashing_every_time() {
        for strategy in STRATEGIES {
            let map = TokenMap::initial(strategy, &nodes(7, 2), &mut rng(3));
            let plain = Ring::new(&map, 3, 4);
            let mut cached = plain.clone();
            cached.cache_keys(500);
            assert_eq!(cached.cached_keys(), 500);
            // Keys inside and past the remembered ones, asked twice (the
            // second answer comes from the memo), and a clone taken halfway
            // carries what was filled and fills the rest itself.
            let keys: Vec<Key> = (0..700).step_by(3).chain(0..60).map(Key).collect();
            let mut half = None;
            for (i, &k) in keys.iter().enumerate() {
                let want = plain.range_of_token(key_token(k));
                assert_eq!(cached.range_of(k), want, "{k:?}");
                assert_eq!(cached.range_of(k), want, "{k:?} again");
                assert_eq!(cached.preference_list(k), plain.preference_list(k));
                if i == keys.len() / 2 {
                    half = Some(cached.clone());
                }
            }
            let half = half.expect("taken");
            for &k in &keys {
                assert_eq!(half.range_of(k), plain.range_of(k), "{k:?}");
            }
            let filled = |r: &Ring| {
                r.key_ranges
                    .0
                    .iter()
                    .filter(|e| e.load(Relaxed) != RANGE_UNKNOWN)
                    .count()
            };
            // Only the keys asked for were hashed: 0..500 in steps of 3,
            // and 0..60.
            let asked: BTreeSet<u64> = (0..500).step_by(3).chain(0..60).collect();
            assert_eq!(filled(&cached), asked.len());
            assert_eq!(filled(&plain), 0);
        }
    }

    #[test]
    fn strategy_3_holds_floor_or_ceil_of_q_over_s() {
        let strategy = PartitionStrategy::EqualPartitions { partitions: 100 };
        let map = TokenMap::initial(strategy, &nodes(7, 1), &mut rng(1));
        let counts: Vec<usize> = (0..7).map(|n| map.partitions_of(NodeId(n)).len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 100);
        assert!(counts.iter().all(|c| *c == 14 || *c == 15), "{counts:?}");
        assert_eq!(map.tokens_of(NodeId(0)).len(), counts[0]);
        let ring = Ring::new(&map, 3, 3);
        assert_eq!(ring.range_count(), 100);
        // The coordinator of a partition is its owner.
        for n in 0..7 {
            for p in map.partitions_of(NodeId(n)) {
                assert_eq!(ring.preference_list_of_range(RangeId(p))[0], NodeId(n));
            }
        }
    }

    #[test]
    fn replicas_spread_across_datacenters() {
        for strategy in STRATEGIES {
            let map = TokenMap::initial(strategy, &nodes(12, 3), &mut rng(3));
            let ring = Ring::new(&map, 3, 6);
            for r in 0..ring.range_count() as u32 {
                let list = ring.preference_list_of_range(RangeId(r));
                let dcs: BTreeSet<DatacenterId> = list[..3]
                    .iter()
                    .map(|n| map.datacenter_of(*n).expect("listed nodes are in the map"))
                    .collect();
                assert_eq!(dcs.len(), 3, "{strategy:?} range {r}: {list:?}");
                assert_eq!(list.len(), 6);
            }
        }
        // A datacenter too small for its share: the skipped nodes fill in.
        let mut lopsided = nodes(6, 1);
        lopsided.push((NodeId(6), DatacenterId(1)));
        let map = TokenMap::initial(STRATEGIES[0], &lopsided, &mut rng(3));
        let ring = Ring::new(&map, 5, 5);
        for r in 0..ring.range_count() as u32 {
            let list = ring.preference_list_of_range(RangeId(r));
            assert!(list.contains(&NodeId(6)));
            assert_eq!(list.iter().collect::<BTreeSet<_>>().len(), 5);
        }
    }

    #[test]
    fn same_seed_same_ring() {
        for strategy in STRATEGIES {
            let a = TokenMap::initial(strategy, &nodes(9, 2), &mut rng(5));
            let b = TokenMap::initial(strategy, &nodes(9, 2), &mut rng(5));
            let c = TokenMap::initial(strategy, &nodes(9, 2), &mut rng(6));
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn strategy_3_join_and_leave_move_about_q_over_s() {
        let strategy = PartitionStrategy::EqualPartitions { partitions: 64 };
        let before = TokenMap::initial(strategy, &nodes(8, 1), &mut rng(2));
        let after = before.with_node_added(NodeId(8), DatacenterId(0), &mut rng(2));
        let moved: Vec<u32> = (0..64)
            .filter(|&p| {
                (0..9).any(|n| {
                    before.partitions_of(NodeId(n)).contains(&p)
                        != after.partitions_of(NodeId(n)).contains(&p)
                })
            })
            .collect();
        assert_eq!(moved, after.partitions_of(NodeId(8)));
        assert_eq!(moved.len(), 7); // floor(64 / 9)
        let counts: Vec<usize> = (0..9)
            .map(|n| after.partitions_of(NodeId(n)).len())
            .collect();
        assert!(counts.iter().all(|c| *c == 7 || *c == 8), "{counts:?}");

        let gone = after.with_node_removed(NodeId(3), &mut rng(2));
        assert!(!gone.contains(NodeId(3)));
        assert!(gone.partitions_of(NodeId(3)).is_empty());
        let counts: Vec<usize> = (0..9)
            .filter(|n| *n != 3)
            .map(|n| gone.partitions_of(NodeId(n)).len())
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), 64);
        assert!(counts.iter().all(|c| *c == 8), "{counts:?}");
        for n in (0..9).filter(|n| *n != 3) {
            // Nobody but node 3 lost a partition.
            let kept = after.partitions_of(NodeId(n));
            let now = gone.partitions_of(NodeId(n));
            assert!(kept.iter().all(|p| now.contains(p)));
        }
        let ring = Ring::new(&gone, 3, 4);
        assert!(ring.ranges_replicated_by(NodeId(3)).is_empty());
    }

    #[test]
    fn random_token_join_and_leave_touch_only_that_node() {
        for strategy in &STRATEGIES[..2] {
            let before = TokenMap::initial(*strategy, &nodes(5, 1), &mut rng(4));
            let after = before.with_node_added(NodeId(9), DatacenterId(0), &mut rng(9));
            assert_eq!(after.node_count(), 6);
            assert_eq!(after.tokens_of(NodeId(9)).len(), 8);
            for n in 0..5 {
                assert_eq!(before.tokens_of(NodeId(n)), after.tokens_of(NodeId(n)));
            }
            let back = after.with_node_removed(NodeId(9), &mut rng(9));
            assert_eq!(back, before);
            let ring = Ring::new(&after, 2, 3);
            assert!(!ring.ranges_replicated_by(NodeId(9)).is_empty());
        }
    }

    #[test]
    fn radix_lookup_matches_a_plain_search() {
        for strategy in STRATEGIES {
            let map = TokenMap::initial(strategy, &nodes(300, 1), &mut rng(8));
            let ring = Ring::new(&map, 3, 3);
            let plain = |t: Token| {
                let i = ring.ends.partition_point(|e| *e < t);
                RangeId(if i == ring.ends.len() { 0 } else { i as u32 })
            };
            let mut probes = vec![0, 1, u128::MAX, u128::MAX - 1, 1 << 127];
            for &e in ring.ends.iter().step_by(7) {
                probes.extend([e.wrapping_sub(1), e, e.wrapping_add(1)]);
            }
            let mut r = rng(99);
            probes.extend((0..2000).map(|_| random_token(&mut r)));
            for t in probes {
                assert_eq!(ring.range_of_token(t), plain(t), "token {t:#x}");
            }
        }
    }

    #[test]
    fn a_single_node_owns_the_whole_ring() {
        let map = TokenMap::initial(
            PartitionStrategy::RandomTokens { tokens_per_node: 1 },
            &nodes(1, 1),
            &mut rng(0),
        );
        let ring = Ring::new(&map, 3, 3);
        assert_eq!(ring.range_count(), 1);
        let (s, e) = ring.range_bounds(RangeId(0));
        assert_eq!(s, e);
        assert_eq!(ring.preference_list(Key(5)), &[NodeId(0)]);
        assert_eq!(
            ring.key_space_share(),
            vec![(NodeId(0), u128::MAX, u128::MAX)]
        );
    }

    mod proptests {
        use super::*;
        use proptest::prelude::*;

        fn strategy() -> impl Strategy<Value = PartitionStrategy> {
            prop_oneof![
                (1u32..6).prop_map(|t| PartitionStrategy::RandomTokens { tokens_per_node: t }),
                (1u32..6, 1u32..40).prop_map(|(t, q)| {
                    PartitionStrategy::RandomTokensEqualPartitions {
                        tokens_per_node: t,
                        partitions: q,
                    }
                }),
                (1u32..80).prop_map(|q| PartitionStrategy::EqualPartitions { partitions: q }),
            ]
        }

        /// Partition index of `t` among `q`: floor(t * q / 2^128), computed
        /// on 64-bit halves (independently of `partition_end`).
        fn partition_index(t: Token, q: u32) -> u32 {
            let (hi, lo) = (t >> 64, t & u128::from(u64::MAX));
            let q = u128::from(q);
            ((hi * q + ((lo * q) >> 64)) >> 64) as u32
        }

        /// The naive model: every (token, node) sorted, walked clockwise from
        /// the key's token (strategy 1) or its partition's end (2, 3), with
        /// duplicates skipped.
        fn naive_list(map: &TokenMap, key: Key, len: usize) -> Vec<NodeId> {
            let mut points: Vec<(Token, NodeId)> = map
                .nodes()
                .flat_map(|(n, _)| map.tokens_of(n).into_iter().map(move |t| (t, n)))
                .collect();
            points.sort();
            let kt = key_token(key);
            let from = match map.partition_count() {
                None => kt,
                Some(q) => partition_end(q, partition_index(kt, q)),
            };
            let start = points.iter().position(|p| p.0 >= from).unwrap_or(0);
            let mut list = Vec::new();
            for i in 0..points.len() {
                let n = points[(start + i) % points.len()].1;
                if !list.contains(&n) {
                    list.push(n);
                }
            }
            list.truncate(len);
            list
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn lists_match_the_naive_model(
                s in strategy(), count in 1u32..12, seed in any::<u64>(),
                n in 1usize..4, extra in 0usize..4
            ) {
                let map = TokenMap::initial(s, &nodes(count, 1), &mut rng(seed));
                let ring = Ring::new(&map, n, n + extra);
                for k in 0..40 {
                    let key = Key(seed.wrapping_add(k));
                    let expected = naive_list(&map, key, n + extra);
                    prop_assert_eq!(ring.preference_list(key), &expected[..]);
                    if let Some(q) = map.partition_count() {
                        prop_assert_eq!(ring.range_of(key), RangeId(partition_index(key_token(key), q)));
                    }
                }
            }

            #[test]
            fn shares_sum_to_the_whole_ring(
                s in strategy(), count in 1u32..10, seed in any::<u64>(), n in 1usize..4
            ) {
                let map = TokenMap::initial(s, &nodes(count, 1), &mut rng(seed));
                let ring = Ring::new(&map, n, n);
                let shares = ring.key_space_share();
                prop_assert_eq!(shares.len(), count as usize);
                // A share reported as u128::MAX is really 2^128.
                let whole = |x: u128| u128::from(x == u128::MAX);
                let coordinated = shares.iter().fold(0u128, |s, x| {
                    s.wrapping_add(x.1).wrapping_add(whole(x.1))
                });
                prop_assert_eq!(coordinated, 0);
                let replicated = shares.iter().fold(0u128, |s, x| {
                    s.wrapping_add(x.2).wrapping_add(whole(x.2))
                });
                prop_assert_eq!(replicated, 0);
                // Each range counts once per replica: compare with range sizes.
                for (node, c, r) in shares {
                    let mine = ring.ranges_replicated_by(node);
                    let total = mine.iter().fold(0u128, |s, id| s.wrapping_add(range_size(&ring, *id)));
                    prop_assert_eq!(r.wrapping_add(whole(r)), total);
                    prop_assert!(c <= r);
                }
            }

            #[test]
            fn strategy_3_stays_balanced_through_joins_and_leaves(
                q in 1u32..200, count in 1u32..10, seed in any::<u64>(),
                ops in proptest::collection::vec(any::<bool>(), 0..12)
            ) {
                let s = PartitionStrategy::EqualPartitions { partitions: q };
                let mut r = rng(seed);
                let mut map = TokenMap::initial(s, &nodes(count, 1), &mut r);
                let mut next_id = count;
                for join in ops {
                    let current: Vec<NodeId> = map.nodes().map(|(n, _)| n).collect();
                    map = if join || current.len() == 1 {
                        next_id += 1;
                        map.with_node_added(NodeId(next_id), DatacenterId(0), &mut r)
                    } else {
                        let victim = current[r.index(current.len())];
                        map.with_node_removed(victim, &mut r)
                    };
                    let counts: Vec<usize> =
                        map.nodes().map(|(n, _)| map.partitions_of(n).len()).collect();
                    prop_assert_eq!(counts.iter().sum::<usize>(), q as usize);
                    let (lo, hi) = (counts.iter().min(), counts.iter().max());
                    prop_assert!(hi.copied().unwrap_or(0) - lo.copied().unwrap_or(0) <= 1, "{:?}", counts);
                }
            }

            #[test]
            fn datacenter_spread_respects_the_cap(
                s in strategy(), count in 1u32..14, dcs in 1u16..4, seed in any::<u64>(),
                n in 1usize..5, extra in 0usize..3
            ) {
                let map = TokenMap::initial(s, &nodes(count, dcs), &mut rng(seed));
                let ring = Ring::new(&map, n, n + extra);
                let on_ring: BTreeSet<NodeId> = map.nodes().map(|(n, _)| n)
                    .filter(|n| !map.tokens_of(*n).is_empty()).collect();
                let mut per_dc: BTreeMap<DatacenterId, usize> = BTreeMap::new();
                for node in &on_ring {
                    *per_dc.entry(map.datacenter_of(*node).expect("in map")).or_default() += 1;
                }
                let cap = n.div_ceil(per_dc.len());
                let feasible = per_dc.values().map(|c| (*c).min(cap)).sum::<usize>() >= n;
                for k in 0..30 {
                    let key = Key(seed.wrapping_add(k));
                    let list = ring.preference_list(key);
                    let clockwise = naive_list(&map, key, on_ring.len());
                    prop_assert_eq!(list.len(), (n + extra).min(on_ring.len()));
                    let first = &list[..n.min(list.len())];
                    if feasible {
                        let mut taken: BTreeMap<DatacenterId, usize> = BTreeMap::new();
                        for node in first {
                            *taken.entry(map.datacenter_of(*node).expect("in map")).or_default() += 1;
                        }
                        prop_assert!(taken.values().all(|t| *t <= cap), "{:?}", list);
                    }
                    // The rest is in clockwise order, and the whole list is distinct.
                    let rest = &list[first.len()..];
                    let positions: Vec<usize> = rest.iter()
                        .map(|x| clockwise.iter().position(|c| c == x).expect("listed"))
                        .collect();
                    prop_assert!(positions.windows(2).all(|w| w[0] < w[1]));
                    prop_assert_eq!(list.iter().collect::<BTreeSet<_>>().len(), list.len());
                    if per_dc.len() == 1 {
                        prop_assert_eq!(list, &clockwise[..list.len()]);
                    }
                }
            }
        }
    }
}
