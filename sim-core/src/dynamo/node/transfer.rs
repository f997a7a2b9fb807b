//! Key transfer when ranges change hands (§4.9): "when a node is added to
//! the system, ... nodes that are no longer responsible for some of their
//! keys transfer those keys to X ... after receiving a confirmation from X".
//!
//! A giver is a node that, comparing its old and new views, was one of a
//! key's top N and no longer is (a join pushed it out, or it is leaving), or,
//! when a replica vanished for good (replaced), the first surviving replica.
//! It offers the keys to each node that gained them; the new owner accepts;
//! batches then flow one at a time, each acknowledged after the owner stored
//! it. Once a transfer completes, keys the giver no longer replicates are
//! deleted from its store. Writes that later reach a node for a key it does
//! not replicate (a coordinator with an older view) are kept as *strays* and
//! handed over the same way. Transfers are persisted with the store, and a
//! step that goes unanswered is sent again.
//!
//! This module never changes the membership; it only moves data.

use std::collections::BTreeMap;

use crate::dynamo::protocol::{Endpoint, MemberStatus, Msg, TransferMsg};
use crate::dynamo::ring::Ring;
use crate::engine::ids::{Key, NodeId};
use crate::engine::outbox::Outbox;
use crate::engine::record::Record;
use crate::engine::time::SimTime;

use super::membership::transfer_retry_after;
use super::{Node, NodeTime, Timer};

/// A transfer this node is giving.
#[derive(Clone, Debug)]
pub struct Outgoing {
    target: NodeId,
    /// The keys, sorted.
    keys: Vec<Key>,
    /// Keys before this index were acknowledged.
    next: usize,
    /// The batch in flight: its number and end index.
    in_flight: Option<(u32, usize)>,
    seq: u32,
    accepted: bool,
    offered_at: SimTime,
    last_sent: SimTime,
    versions: u32,
}

impl Node {
    /// After a view change: offer each key this node stopped replicating
    /// (or must pass on for a vanished replica) to the nodes that gained it.
    pub(super) fn plan_handoff_of_lost_ranges(
        &mut self,
        t: NodeTime,
        old: &Ring,
        out: &mut Outbox<Timer>,
    ) {
        let n = self.cluster.quorum.n as usize;
        let mut plans: BTreeMap<NodeId, Vec<Key>> = BTreeMap::new();
        let keys: Vec<Key> = self
            .durable
            .store
            .iter()
            .map(|(k, _)| k)
            .chain(self.volatile.buffer.iter().map(|(k, _)| k))
            .collect();
        for key in keys {
            let before = &old.preference_list(key)[..n.min(old.list_len())];
            let after = &self.ring.preference_list(key)[..n.min(self.ring.list_len())];
            let gained: Vec<NodeId> = after
                .iter()
                .copied()
                .filter(|x| !before.contains(x) && *x != self.id)
                .collect();
            if gained.is_empty() {
                continue;
            }
            let pushed_out = before.contains(&self.id) && !after.contains(&self.id);
            let vanished = before.iter().any(|x| {
                !after.contains(x)
                    && self
                        .durable
                        .membership
                        .get(*x)
                        .is_none_or(|s| s.status == MemberStatus::Left)
            });
            let first_survivor = before.iter().find(|x| after.contains(x)) == Some(&self.id);
            if pushed_out || (vanished && first_survivor) {
                for g in gained {
                    plans.entry(g).or_default().push(key);
                }
            }
        }
        for (target, mut keys) in plans {
            keys.sort_unstable();
            keys.dedup();
            self.offer(t, target, keys, out);
        }
    }

    /// Notes a key stored here that this node's view does not place here.
    pub(super) fn note_stray(&mut self, key: Key) {
        if self.cluster.membership.is_some() && self.has_view() && !self.is_replica(key) {
            self.durable.strays.insert(key);
        }
    }

    fn offer(&mut self, t: NodeTime, target: NodeId, keys: Vec<Key>, out: &mut Outbox<Timer>) {
        let transfer = self.fresh_id();
        let count = keys.len() as u32;
        self.durable.outgoing.insert(
            transfer,
            Outgoing {
                target,
                keys,
                next: 0,
                in_flight: None,
                seq: 0,
                accepted: false,
                offered_at: t.now,
                last_sent: t.now,
                versions: 0,
            },
        );
        out.record(Record::TransferOffered {
            giver: self.id,
            target,
            transfer,
            keys: count,
        });
        self.send_node(
            out,
            target,
            Msg::Transfer(TransferMsg::Offer {
                transfer,
                keys: count,
            }),
        );
    }

    /// Every gossip round: hand over strays, drop transfers to nodes that
    /// left, and resend steps that went unanswered.
    pub(super) fn check_transfers(&mut self, t: NodeTime, out: &mut Outbox<Timer>) {
        if !self.durable.strays.is_empty() && self.has_view() {
            let n = self.cluster.quorum.n as usize;
            let mut plans: BTreeMap<NodeId, Vec<Key>> = BTreeMap::new();
            let strays = std::mem::take(&mut self.durable.strays);
            for key in strays {
                if self.is_replica(key) {
                    continue;
                }
                let list = self.ring.preference_list(key);
                for &owner in list.iter().take(n).filter(|o| **o != self.id) {
                    plans.entry(owner).or_default().push(key);
                }
            }
            for (target, keys) in plans {
                self.offer(t, target, keys, out);
            }
        }
        let gone: Vec<u64> = self
            .durable
            .outgoing
            .iter()
            .filter(|(_, o)| {
                self.durable
                    .membership
                    .get(o.target)
                    .is_some_and(|s| s.status != MemberStatus::Normal)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(o) = self.durable.outgoing.remove(&id) {
                // The target left: whatever it did not take is a stray again.
                self.durable.strays.extend(o.keys[o.next..].iter().copied());
            }
        }
        let retry = transfer_retry_after(&self.cluster);
        let due: Vec<u64> = self
            .durable
            .outgoing
            .iter()
            .filter(|(_, o)| t.now >= o.last_sent + retry)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let o = self.durable.outgoing.get_mut(&id).expect("listed above");
            o.last_sent = t.now;
            if o.accepted {
                o.in_flight = None;
                self.send_next_batch(t, id, out);
            } else {
                let (target, keys) = (o.target, o.keys.len() as u32);
                self.send_node(
                    out,
                    target,
                    Msg::Transfer(TransferMsg::Offer { transfer: id, keys }),
                );
            }
        }
        self.maybe_finish_leaving(out);
    }

    fn send_next_batch(&mut self, t: NodeTime, transfer: u64, out: &mut Outbox<Timer>) {
        let batch = self
            .cluster
            .membership
            .as_ref()
            .map_or(64, |m| m.transfer_batch as usize);
        let Some(o) = self.durable.outgoing.get(&transfer) else {
            return;
        };
        if o.next >= o.keys.len() {
            self.finish_transfer(transfer, out);
            return;
        }
        let end = (o.next + batch).min(o.keys.len());
        let (target, seq) = (o.target, o.seq);
        let keys: Vec<Key> = o.keys[o.next..end].to_vec();
        for &k in &keys {
            self.verify(k, out);
        }
        let versions: Vec<_> = keys
            .iter()
            .flat_map(|&k| self.local_versions(k).into_iter().map(move |v| (k, v)))
            .collect();
        self.stats.transfer_versions_sent += versions.len() as u64;
        let o = self.durable.outgoing.get_mut(&transfer).expect("present");
        o.versions += versions.len() as u32;
        o.in_flight = Some((seq, end));
        o.last_sent = t.now;
        self.send_node(
            out,
            target,
            Msg::Transfer(TransferMsg::Batch {
                transfer,
                seq,
                versions,
            }),
        );
    }

    fn finish_transfer(&mut self, transfer: u64, out: &mut Outbox<Timer>) {
        let Some(o) = self.durable.outgoing.remove(&transfer) else {
            return;
        };
        self.stats.transfer_keys_sent += o.keys.len() as u64;
        out.record(Record::TransferDone {
            giver: self.id,
            target: o.target,
            transfer,
            keys: o.keys.len() as u32,
            versions: o.versions,
            offered: o.offered_at,
        });
        // Keys no longer ours, and promised to nobody else, leave the store.
        for key in o.keys {
            let pending = self
                .durable
                .outgoing
                .values()
                .any(|x| x.keys[x.next..].binary_search(&key).is_ok());
            if !pending && !self.is_replica(key) && self.volatile.buffer.stored(key).is_empty() {
                self.durable.store.remove(key);
                self.update_tree(key);
            }
        }
        self.maybe_finish_leaving(out);
    }

    /// Handles a transfer message.
    pub(super) fn on_transfer_msg(
        &mut self,
        t: NodeTime,
        from: Endpoint,
        msg: TransferMsg,
        out: &mut Outbox<Timer>,
    ) {
        let Endpoint::Node(peer) = from else { return };
        match msg {
            TransferMsg::Offer { transfer, .. } => {
                let normal = self
                    .durable
                    .membership
                    .get(self.id)
                    .is_some_and(|s| s.status == MemberStatus::Normal);
                if normal {
                    self.send_node(out, peer, Msg::Transfer(TransferMsg::Accept { transfer }));
                }
            }
            TransferMsg::Accept { transfer } => {
                if let Some(o) = self.durable.outgoing.get_mut(&transfer) {
                    if !o.accepted {
                        o.accepted = true;
                        self.send_next_batch(t, transfer, out);
                    }
                }
            }
            TransferMsg::Batch {
                transfer,
                seq,
                versions,
            } => {
                self.stats.replica_writes += versions.len() as u64;
                for (key, versions) in super::handoff::by_key(versions) {
                    self.store_apply_all(key, versions, t.now, out);
                }
                let delay = self.cluster.storage.write_latency.sample(&mut self.rng);
                out.send_after(
                    Endpoint::Node(peer),
                    Msg::Transfer(TransferMsg::BatchAck { transfer, seq }),
                    delay,
                );
            }
            TransferMsg::BatchAck { transfer, seq } => {
                let Some(o) = self.durable.outgoing.get_mut(&transfer) else {
                    return;
                };
                match o.in_flight {
                    Some((s, end)) if s == seq => {
                        o.next = end;
                        o.seq += 1;
                        o.in_flight = None;
                        self.send_next_batch(t, transfer, out);
                    }
                    _ => {}
                }
            }
        }
    }
}
