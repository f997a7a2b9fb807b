//! Ring membership and failure detection by gossip (§4.8), and the
//! administrative changes that drive it (§4.8.1, §4.9).
//!
//! Each node keeps a membership history: one [`MemberState`] per node it has
//! heard of, with a version only the change's issuer increments. From it the
//! node derives its own token map and ring (its *view*); nothing else about
//! placement is global. Every gossip interval the node contacts a peer chosen
//! at random and the two reconcile their histories (higher version wins):
//!
//! 1. `Syn { hash }`: the initiator's membership hash. Equal hashes end the
//!    round: one message, whatever the cluster size.
//! 2. `Digest`: the receiver's `(member, version)` list.
//! 3. `Delta`: the states the other side lacks, and the members wanted back.
//!
//! Seeds (§4.8.2) are known to all; a node also contacts a seed now and then,
//! and a joining node starts from the seeds alone, so separately joined nodes
//! never form logically partitioned rings. With the phi-accrual detector,
//! `Syn` also carries the heartbeat table (generation, counter per node) and
//! the receiver answers with its own (push-pull), so every node hears fresh
//! heartbeats at least once per round.
//!
//! When a change alters the view, the node rebuilds its ring and Merkle trees
//! and hands the keys it no longer replicates to their new owners
//! ([`super::transfer`]). This module never reads other nodes' state and
//! never decides anything from global time beyond scheduling.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::dynamo::protocol::{Endpoint, GossipMsg, MemberState, MemberStatus, Msg, RingView};
use crate::dynamo::ring::{Ring, TokenMap};
use crate::engine::ids::{DatacenterId, NodeId};
use crate::engine::outbox::Outbox;
use crate::engine::record::Record;
use crate::engine::time::SimDuration;

use super::failure_detector::FailureDetector;
use super::{Node, NodeTime, Timer};

/// A node's membership history: every member it knows, with versions.
///
/// The map and the live list are shared copy-on-write (`Arc`): every node
/// starts with the same history, and a clone costs a pointer until one of
/// them changes, so a steady cluster of S nodes holds one history, not S
/// (it was 4.5 GB at 4096 nodes). A node that adopts a change copies its
/// history once, so memory grows with the nodes that learned changes.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    members: Arc<BTreeMap<NodeId, MemberState>>,
    /// XOR of a mix of every `(member, version)`: order-free and updated in
    /// O(1) per change.
    hash: u64,
    /// Members not `Left`, in id order (gossip targets).
    live: Arc<Vec<NodeId>>,
}

fn mix(node: NodeId, version: u64) -> u64 {
    // splitmix64 finaliser over both halves.
    let mut z = (u64::from(node.0) << 40) ^ version ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Membership {
    /// The history of a cluster that starts with `map`: every member
    /// `Normal` at version 1.
    pub fn from_token_map(map: &TokenMap) -> Membership {
        let mut placements = map.placements();
        let mut hash = 0;
        let mut members = BTreeMap::new();
        for (node, dc) in map.nodes() {
            hash ^= mix(node, 1);
            let state = MemberState {
                version: 1,
                status: MemberStatus::Normal,
                datacenter: dc,
                placement: placements.remove(&node).unwrap_or_default(),
            };
            members.insert(node, state);
        }
        Membership {
            live: Arc::new(members.keys().copied().collect()),
            members: Arc::new(members),
            hash,
        }
    }

    /// Records `state` for `node` (replacing what was known).
    pub fn set(&mut self, node: NodeId, state: MemberState) {
        if let Some(old) = self.members.get(&node) {
            self.hash ^= mix(node, old.version);
        }
        self.hash ^= mix(node, state.version);
        let live = state.status != MemberStatus::Left;
        Arc::make_mut(&mut self.members).insert(node, state);
        match (self.live.binary_search(&node), live) {
            (Ok(i), false) => {
                Arc::make_mut(&mut self.live).remove(i);
            }
            (Err(i), true) => Arc::make_mut(&mut self.live).insert(i, node),
            _ => {}
        }
    }

    /// What is known of `node`.
    pub fn get(&self, node: NodeId) -> Option<&MemberState> {
        self.members.get(&node)
    }

    /// True when nothing is known (a joining node before its first gossip).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The order-free hash of every `(member, version)`.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Members that have not left, in id order.
    pub fn live(&self) -> &[NodeId] {
        &self.live
    }

    /// `(member, version)` of everything known.
    pub fn digest(&self) -> Vec<(NodeId, u64)> {
        self.members.iter().map(|(n, s)| (*n, s.version)).collect()
    }

    /// Against a peer's digest: the states this history has that the peer
    /// lacks or holds older, and the members the peer holds newer.
    pub fn diff(&self, theirs: &[(NodeId, u64)]) -> (Vec<(NodeId, MemberState)>, Vec<NodeId>) {
        let theirs: BTreeMap<NodeId, u64> = theirs.iter().copied().collect();
        let give = self
            .members
            .iter()
            .filter(|(n, s)| theirs.get(n).is_none_or(|v| *v < s.version))
            .map(|(n, s)| (*n, s.clone()))
            .collect();
        let want = theirs
            .iter()
            .filter(|(n, v)| self.members.get(n).is_none_or(|s| s.version < **v))
            .map(|(n, _)| *n)
            .collect();
        (give, want)
    }

    /// The states of `nodes` that are known.
    pub fn states_of(&self, nodes: &[NodeId]) -> Vec<(NodeId, MemberState)> {
        nodes
            .iter()
            .filter_map(|n| self.members.get(n).map(|s| (*n, s.clone())))
            .collect()
    }

    /// Reconciles with received states (higher version wins). Returns the
    /// `(member, version)` pairs adopted.
    pub fn merge(&mut self, states: Vec<(NodeId, MemberState)>) -> Vec<(NodeId, u64)> {
        let mut adopted = Vec::new();
        for (node, state) in states {
            if self
                .members
                .get(&node)
                .is_none_or(|s| s.version < state.version)
            {
                adopted.push((node, state.version));
                self.set(node, state);
            }
        }
        adopted
    }

    /// The token map of the members that own tokens (`Normal`); `None` when
    /// there are none.
    pub fn token_map(&self, strategy: crate::dynamo::ring::PartitionStrategy) -> Option<TokenMap> {
        TokenMap::from_members(
            strategy,
            self.members
                .iter()
                .filter(|(_, s)| s.status == MemberStatus::Normal)
                .map(|(n, s)| (*n, s.datacenter, s.placement.as_slice())),
        )
    }

    /// Bumps `node` to a new state (an administrative change issued here).
    /// Returns the new version.
    fn issue(
        &mut self,
        node: NodeId,
        status: MemberStatus,
        datacenter: DatacenterId,
        placement: Vec<u128>,
    ) -> u64 {
        let version = self.members.get(&node).map_or(1, |s| s.version + 1);
        self.set(
            node,
            MemberState {
                version,
                status,
                datacenter,
                placement,
            },
        );
        version
    }
}

/// A change an administrator asked this node to make once it has a view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPlan {
    /// Take tokens per the partitioning strategy.
    Join,
    /// Take the tokens of this (dead) node.
    Replace(NodeId),
}

impl Node {
    /// True when the node has a membership view (always, except for a
    /// joining node before its first successful gossip).
    pub fn has_view(&self) -> bool {
        self.cluster.membership.is_none() || !self.durable.membership.is_empty()
    }

    /// The version of `member`'s state this node knows.
    pub fn membership_version(&self, member: NodeId) -> Option<u64> {
        self.durable.membership.get(member).map(|s| s.version)
    }

    /// This node's ring (its view of the membership).
    pub fn ring(&self) -> &Arc<Ring> {
        &self.ring
    }

    /// Whether this node has left the ring for good.
    pub fn has_left(&self) -> bool {
        self.durable
            .membership
            .get(self.id)
            .is_some_and(|s| s.status == MemberStatus::Left)
    }

    /// The administrator adds this (fresh) node: it contacts the seeds and,
    /// once it knows the ring, takes tokens.
    pub fn begin_join(&mut self, plan: JoinPlan) {
        self.durable.join_plan = Some(plan);
    }

    /// The administrator removes this node: it leaves the ring and hands
    /// every key to the new owners; once they all confirmed, it is `Left`.
    pub fn decommission(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(me) = self.durable.membership.get(self.id).cloned() else {
            return;
        };
        if me.status != MemberStatus::Normal {
            return;
        }
        // Strategy 3: the partitions move to heirs, who get new versions.
        if let Some(map) = self.durable.membership.token_map(self.cluster.partitioning) {
            if map.node_count() > 1 {
                let next = map.with_node_removed(self.id, &mut self.rng);
                self.issue_placements(&map, &next, out);
            }
        }
        self.issue_change(
            self.id,
            MemberStatus::Leaving,
            me.datacenter,
            Vec::new(),
            "leave",
            out,
        );
        self.adopt_view(t, out);
        self.maybe_finish_leaving(out);
    }

    /// Issues a new state of `member` here (an administrative change) and
    /// records it.
    fn issue_change(
        &mut self,
        member: NodeId,
        status: MemberStatus,
        datacenter: DatacenterId,
        placement: Vec<u128>,
        change: &'static str,
        out: &mut Outbox<Timer>,
    ) {
        let version = self
            .durable
            .membership
            .issue(member, status, datacenter, placement);
        out.record(Record::MembershipChange {
            at: self.id,
            member,
            version,
            change,
        });
    }

    /// New versions for every member whose placement differs between two
    /// maps (strategy 3 moves partitions between existing members).
    fn issue_placements(&mut self, before: &TokenMap, after: &TokenMap, out: &mut Outbox<Timer>) {
        for (node, dc) in after.nodes() {
            if node == self.id || !before.contains(node) {
                continue;
            }
            let placement = after.placement_of(node);
            if placement != before.placement_of(node) {
                self.issue_change(node, MemberStatus::Normal, dc, placement, "reassign", out);
            }
        }
    }

    /// Runs the pending join plan once a view exists.
    fn run_join_plan(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(plan) = self.durable.join_plan else {
            return;
        };
        let Some(map) = self.durable.membership.token_map(self.cluster.partitioning) else {
            return;
        };
        self.durable.join_plan = None;
        let dc = self.cluster.nodes[self.id.0 as usize].datacenter;
        match plan {
            JoinPlan::Join => {
                let placement = if map.contains(self.id) {
                    map.placement_of(self.id)
                } else {
                    let next = map.with_node_added(self.id, dc, &mut self.rng);
                    self.issue_placements(&map, &next, out);
                    next.placement_of(self.id)
                };
                self.issue_change(self.id, MemberStatus::Normal, dc, placement, "join", out);
            }
            JoinPlan::Replace(old) => {
                let placement = map.placement_of(old);
                let old_dc = map.datacenter_of(old).unwrap_or(dc);
                self.issue_change(old, MemberStatus::Left, old_dc, Vec::new(), "left", out);
                self.issue_change(self.id, MemberStatus::Normal, dc, placement, "replace", out);
            }
        }
        self.adopt_view(t, out);
        self.begin_pending(t);
    }

    /// A gossip round (every interval): heartbeat, phi evaluation, key
    /// transfer bookkeeping, then one `Syn` to a random live peer (and
    /// sometimes a seed).
    pub(super) fn on_gossip_round(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(cfg) = self.cluster.membership.clone() else {
            return;
        };
        out.set_timer(Timer::Gossip, cfg.gossip_interval);
        self.volatile.heartbeat.1 += 1;
        let me = self.id;
        if let FailureDetector::PhiAccrual(phi) = &mut self.volatile.detector {
            phi.evaluate(t.now, |peer, suspected| {
                out.record(if suspected {
                    Record::PeerSuspected { by: me, peer }
                } else {
                    Record::PeerTrusted { by: me, peer }
                })
            });
        }
        self.check_transfers(t, out);
        if self.has_left() {
            return;
        }
        // A random member other than this node (a joiner without a view: a
        // random seed), drawn without building the candidate list.
        let live = self.durable.membership.live();
        let pool: &[NodeId] = if live.len() > 1 { live } else { &cfg.seeds };
        let mine = pool.iter().position(|n| *n == me);
        let others = pool.len() - usize::from(mine.is_some());
        if others == 0 {
            return;
        }
        let i = self.rng.below(others as u64) as usize;
        let peer = match mine {
            Some(m) if i >= m => pool[i + 1],
            _ => pool[i],
        };
        self.send_syn(peer, out);
        // Cassandra's rule: also gossip with a seed, with probability
        // seeds / members, unless the peer was one.
        let seeds: Vec<NodeId> = cfg
            .seeds
            .iter()
            .copied()
            .filter(|s| *s != me && *s != peer)
            .collect();
        if !seeds.is_empty() && !cfg.seeds.contains(&peer) {
            let members = others as u64 + 1;
            if self.rng.below(members) < cfg.seeds.len() as u64 {
                let seed = seeds[self.rng.below(seeds.len() as u64) as usize];
                self.send_syn(seed, out);
            }
        }
    }

    fn heartbeat_table(&self) -> Vec<(NodeId, u64, u64)> {
        if !matches!(self.volatile.detector, FailureDetector::PhiAccrual(_)) {
            return Vec::new();
        }
        let (generation, counter) = self.volatile.heartbeat;
        let mut table: Vec<(NodeId, u64, u64)> = self
            .volatile
            .heartbeats
            .iter()
            .map(|(n, (g, c))| (*n, *g, *c))
            .collect();
        match table.binary_search_by_key(&self.id, |e| e.0) {
            Ok(i) => table[i] = (self.id, generation, counter),
            Err(i) => table.insert(i, (self.id, generation, counter)),
        }
        table
    }

    fn send_syn(&mut self, peer: NodeId, out: &mut Outbox<Timer>) {
        let heartbeats = self.heartbeat_table();
        let msg = GossipMsg::Syn {
            hash: self.durable.membership.hash(),
            heartbeats,
        };
        self.send_gossip(peer, msg, out);
    }

    fn send_gossip(&mut self, peer: NodeId, msg: GossipMsg, out: &mut Outbox<Timer>) {
        self.stats.gossip_sent += 1;
        self.stats.gossip_bytes += gossip_bytes(&msg);
        self.send_node(out, peer, Msg::Gossip(msg));
    }

    /// Handles a gossip message (or a client's view request).
    pub(super) fn on_gossip_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: GossipMsg,
        out: &mut Outbox<Timer>,
    ) {
        let peer = match from {
            Endpoint::Node(p) => p,
            Endpoint::Client(_) => {
                if matches!(msg, GossipMsg::ViewRequest) && self.has_view() {
                    let ring = RingView(self.ring.clone());
                    out.send(from, Msg::Gossip(GossipMsg::View { ring }));
                }
                return;
            }
        };
        match msg {
            GossipMsg::Syn { hash, heartbeats } => {
                if !heartbeats.is_empty() {
                    self.learn_heartbeats(t, &heartbeats);
                    let heartbeats = self.heartbeat_table();
                    self.send_gossip(peer, GossipMsg::Heartbeats { heartbeats }, out);
                }
                if hash != self.durable.membership.hash() {
                    let digest = self.durable.membership.digest();
                    self.send_gossip(peer, GossipMsg::Digest { digest }, out);
                }
            }
            GossipMsg::Digest { digest } => {
                let (states, wants) = self.durable.membership.diff(&digest);
                if !states.is_empty() || !wants.is_empty() {
                    self.send_gossip(peer, GossipMsg::Delta { states, wants }, out);
                }
            }
            GossipMsg::Delta { states, wants } => {
                if !wants.is_empty() {
                    let states = self.durable.membership.states_of(&wants);
                    if !states.is_empty() {
                        let reply = GossipMsg::Delta {
                            states,
                            wants: Vec::new(),
                        };
                        self.send_gossip(peer, reply, out);
                    }
                }
                self.merge_states(t, states, out);
            }
            GossipMsg::Heartbeats { heartbeats } => self.learn_heartbeats(t, &heartbeats),
            GossipMsg::ViewRequest | GossipMsg::View { .. } => {}
        }
    }

    fn learn_heartbeats(&mut self, t: NodeTime, heartbeats: &[(NodeId, u64, u64)]) {
        let FailureDetector::PhiAccrual(phi) = &mut self.volatile.detector else {
            return;
        };
        for &(node, generation, counter) in heartbeats {
            if node == self.id {
                continue;
            }
            let known = self.volatile.heartbeats.entry(node).or_insert((0, 0));
            if (generation, counter) > *known {
                *known = (generation, counter);
                phi.heartbeat(node, t.now);
            }
        }
    }

    fn merge_states(
        &mut self,
        t: NodeTime,
        states: Vec<(NodeId, MemberState)>,
        out: &mut Outbox<Timer>,
    ) {
        if states.is_empty() {
            return;
        }
        let adopted = self.durable.membership.merge(states);
        if adopted.is_empty() {
            return;
        }
        for &(member, version) in &adopted {
            out.record(Record::MembershipLearned {
                node: self.id,
                member,
                version,
            });
            let left = self
                .durable
                .membership
                .get(member)
                .is_some_and(|s| s.status == MemberStatus::Left);
            if left {
                if let FailureDetector::PhiAccrual(phi) = &mut self.volatile.detector {
                    phi.forget(member);
                }
            }
        }
        if self.durable.join_plan.is_some() {
            self.run_join_plan(t, out);
        } else {
            self.adopt_view(t, out);
        }
    }

    /// Rebuilds the ring when the membership's token map changed, then
    /// rebuilds the Merkle trees and hands off keys this node no longer
    /// replicates (§4.9).
    pub(super) fn adopt_view(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        let Some(map) = self.durable.membership.token_map(self.cluster.partitioning) else {
            return;
        };
        if self.view_map.as_deref() == Some(&map) {
            return;
        }
        let n = self.cluster.quorum.n as usize;
        let mut ring = Ring::new(&map, n, self.cluster.extended_len());
        ring.cache_keys(self.ring.cached_keys());
        let old = std::mem::replace(&mut self.ring, Arc::new(ring));
        self.view_map = Some(Arc::new(map));
        self.durable.trees = self.new_trees();
        let keys: Vec<_> = self.durable.store.keys().collect();
        for &key in &keys {
            self.update_tree(key);
        }
        self.plan_handoff_of_lost_ranges(t, &old, out);
    }

    /// Called by transfers: a leaving node with nothing left to hand over
    /// is gone.
    pub(super) fn maybe_finish_leaving(&mut self, out: &mut Outbox<Timer>) {
        let datacenter = match self.durable.membership.get(self.id) {
            Some(me) if me.status == MemberStatus::Leaving => me.datacenter,
            _ => return,
        };
        if !self.durable.outgoing.is_empty() || !self.durable.strays.is_empty() {
            return;
        }
        self.issue_change(
            self.id,
            MemberStatus::Left,
            datacenter,
            Vec::new(),
            "left",
            out,
        );
        // Tell someone, since a left node stops gossiping.
        if let Some(&peer) = self.durable.membership.live().first() {
            self.send_syn(peer, out);
        }
    }
}

/// A rough size of a gossip message: 16 bytes of header, 12 per digest or
/// heartbeat entry, 24 plus 16 per token for a state.
fn gossip_bytes(msg: &GossipMsg) -> u64 {
    16 + match msg {
        GossipMsg::Syn { heartbeats, .. } => 8 + 20 * heartbeats.len() as u64,
        GossipMsg::Heartbeats { heartbeats } => 20 * heartbeats.len() as u64,
        GossipMsg::Digest { digest } => 12 * digest.len() as u64,
        GossipMsg::Delta { states, wants } => {
            states
                .iter()
                .map(|(_, s)| 24 + 16 * s.placement.len() as u64)
                .sum::<u64>()
                + 4 * wants.len() as u64
        }
        GossipMsg::ViewRequest | GossipMsg::View { .. } => 0,
    }
}

/// How long a transfer step may go unanswered before it is sent again.
pub(super) fn transfer_retry_after(cluster: &crate::config::Cluster) -> SimDuration {
    let gossip = cluster
        .membership
        .as_ref()
        .map_or(SimDuration::from_millis(1000), |m| m.gossip_interval);
    gossip.max(cluster.replica_timeout.saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(version: u64, status: MemberStatus) -> MemberState {
        MemberState {
            version,
            status,
            datacenter: DatacenterId(0),
            placement: vec![u128::from(version)],
        }
    }

    #[test]
    fn merge_keeps_the_higher_version_and_hash_follows() {
        let mut a = Membership::default();
        let mut b = Membership::default();
        a.set(NodeId(0), state(1, MemberStatus::Normal));
        a.set(NodeId(1), state(3, MemberStatus::Normal));
        b.set(NodeId(1), state(2, MemberStatus::Normal));
        b.set(NodeId(2), state(1, MemberStatus::Normal));
        assert_ne!(a.hash(), b.hash());
        let (give, want) = a.diff(&b.digest());
        assert_eq!(
            give.iter()
                .map(|(n, s)| (n.0, s.version))
                .collect::<Vec<_>>(),
            vec![(0, 1), (1, 3)]
        );
        assert_eq!(want, vec![NodeId(2)]);
        assert_eq!(b.merge(give), vec![(NodeId(0), 1), (NodeId(1), 3)]);
        a.merge(b.states_of(&want));
        assert_eq!(a.hash(), b.hash(), "reconciled histories hash alike");
        assert_eq!(a.digest(), b.digest());
        assert!(a.merge(b.states_of(&[NodeId(1)])).is_empty(), "idempotent");
    }

    #[test]
    fn left_members_are_not_gossip_targets_nor_in_the_ring() {
        let mut m = Membership::default();
        m.set(NodeId(0), state(1, MemberStatus::Normal));
        m.set(NodeId(1), state(1, MemberStatus::Leaving));
        m.set(NodeId(2), state(2, MemberStatus::Left));
        assert_eq!(m.live(), &[NodeId(0), NodeId(1)]);
        let map = m
            .token_map(crate::dynamo::ring::PartitionStrategy::RandomTokens { tokens_per_node: 1 })
            .expect("one member owns tokens");
        assert_eq!(map.node_count(), 1);
    }

    #[test]
    fn copies_of_a_history_share_it_until_one_learns_something() {
        let mut m = Membership::default();
        for i in 0..64 {
            m.set(NodeId(i), state(1, MemberStatus::Normal));
        }
        let copies: Vec<Membership> = (0..100).map(|_| m.clone()).collect();
        assert!(copies
            .iter()
            .all(|c| Arc::ptr_eq(&c.members, &m.members) && Arc::ptr_eq(&c.live, &m.live)));
        let mut changed = copies[0].clone();
        assert!(
            changed.merge(m.states_of(&[NodeId(3)])).is_empty(),
            "nothing newer: no copy"
        );
        assert!(Arc::ptr_eq(&changed.members, &m.members));
        changed.merge(vec![(NodeId(3), state(2, MemberStatus::Left))]);
        assert!(
            !Arc::ptr_eq(&changed.members, &m.members),
            "a change copies"
        );
        assert_eq!(
            m.get(NodeId(3)).map(|s| s.version),
            Some(1),
            "the others keep theirs"
        );
        assert_eq!(changed.live().len(), 63);
        assert_eq!(m.live().len(), 64);
    }
}
