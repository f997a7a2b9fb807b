//! The divergence observer: how many keys' replicas disagree, over time,
//! with or without anti-entropy.
//!
//! It owns the set of keys that may disagree and the schedule of its checks
//! (every [`CHECK_INTERVAL`] of virtual time). Every node's stores log the
//! keys whose values change ([`crate::dynamo::storage::Store::take_changes`]);
//! at a check the observer drains those logs, compares each changed key's
//! top-N replicas (in the engine's judging ring) together with the keys
//! found divergent at the last check, and keeps the ones that still
//! disagree. Between checks it costs a key pushed per store change; a check
//! costs N store lookups per key changed since the last one, so a run's
//! whole cost grows with its writes, not with its keys. When the judging
//! ring changes (a join, a leave), every held key is compared again.
//!
//! It must never change the run: it sends nothing, arms no timer, draws
//! nothing, and its checks run lazily before the first event at or after
//! each check instant (so they see the state at that instant), outside the
//! event queue and the trace hash.

use std::sync::Arc;

use crate::dynamo::protocol::Value;
use crate::dynamo::ring::Ring;
use crate::engine::ids::{Key, NodeId};
use crate::engine::time::{SimDuration, SimTime};

/// How often replicas are compared: the resolution of convergence times.
pub const CHECK_INTERVAL: SimDuration = SimDuration::from_millis(100);

/// What the observer needs of the nodes.
pub trait Replicas {
    /// Moves every node's changed keys into `out`.
    fn drain_changes(&mut self, out: &mut Vec<Key>);
    /// Appends every key any node holds to `out`.
    fn all_keys(&self, out: &mut Vec<Key>);
    /// Appends the values `node` holds for `key` to `out`.
    fn held(&self, node: NodeId, key: Key, out: &mut Vec<Value>);
}

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Keys whose top-N replicas disagree.
    pub divergent_keys: u64,
    /// The earliest check from which one of them has disagreed at every
    /// check (`None` when none disagrees): a key divergent at an instant
    /// has converged since once this is later than that instant.
    pub oldest_since: Option<SimTime>,
}

impl Observation {
    /// The record that reports it.
    pub fn record(self) -> crate::engine::record::Record {
        crate::engine::record::Record::Divergence {
            divergent_keys: self.divergent_keys,
            oldest_since: self.oldest_since,
        }
    }
}

/// The observer's state (see the module docs).
#[derive(Debug)]
pub struct DivergenceObserver {
    next_check: SimTime,
    /// Keys that disagreed at the last check, sorted, each with the first
    /// check of its current run of disagreement.
    divergent: Vec<(Key, SimTime)>,
    /// The ring of the last check (compared by identity).
    ring: Option<Arc<Ring>>,
    /// The observation last reported.
    reported: Option<Observation>,
    scratch: Vec<Key>,
    first: Vec<Value>,
    other: Vec<Value>,
}

impl Default for DivergenceObserver {
    fn default() -> Self {
        DivergenceObserver {
            next_check: SimTime::ZERO + CHECK_INTERVAL,
            divergent: Vec::new(),
            ring: None,
            reported: None,
            scratch: Vec::new(),
            first: Vec::new(),
            other: Vec::new(),
        }
    }
}

impl DivergenceObserver {
    /// An observer of stores that agree under `ring` as built (the load
    /// phase places each key's loaded value on its top-N replicas of the
    /// initial ring): no key needs comparing until one changes or the
    /// ring does.
    pub fn agreeing_under(ring: Arc<Ring>) -> Self {
        DivergenceObserver {
            ring: Some(ring),
            ..DivergenceObserver::default()
        }
    }

    /// The instant of the next check.
    pub fn next_check(&self) -> SimTime {
        self.next_check
    }

    /// Checks as of the pending check instant (call before handling the
    /// first event at or after [`DivergenceObserver::next_check`]) and
    /// schedules the next one after `now`. Returns the check instant and
    /// what it found when that differs from the last one reported.
    pub fn check_due(
        &mut self,
        now: SimTime,
        ring: &Arc<Ring>,
        n: usize,
        replicas: &mut dyn Replicas,
    ) -> Option<(SimTime, Observation)> {
        let at = self.next_check;
        let found = self.check(at, ring, n, replicas);
        // Nothing changed between `at` and `now`: one check covers them.
        let step = CHECK_INTERVAL.as_micros();
        let next = (now.as_micros() / step + 1) * step;
        self.next_check = SimTime::ZERO + SimDuration::from_micros(next);
        let quiet = Observation {
            divergent_keys: 0,
            oldest_since: None,
        };
        if self.reported == Some(found) || (self.reported.is_none() && found == quiet) {
            return None;
        }
        self.reported = Some(found);
        Some((at, found))
    }

    /// Checks at `now` (the end of the run) and returns what it found,
    /// reported or not.
    pub fn check_final(
        &mut self,
        now: SimTime,
        ring: &Arc<Ring>,
        n: usize,
        replicas: &mut dyn Replicas,
    ) -> Observation {
        let found = self.check(now, ring, n, replicas);
        self.reported = Some(found);
        found
    }

    /// Compares the keys that changed since the last check and the keys
    /// that disagreed then, at instant `at`.
    fn check(
        &mut self,
        at: SimTime,
        ring: &Arc<Ring>,
        n: usize,
        replicas: &mut dyn Replicas,
    ) -> Observation {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        replicas.drain_changes(&mut keys);
        if !self.ring.as_ref().is_some_and(|r| Arc::ptr_eq(r, ring)) {
            replicas.all_keys(&mut keys);
            self.ring = Some(ring.clone());
        }
        let before = std::mem::take(&mut self.divergent);
        keys.extend(before.iter().map(|(k, _)| *k));
        keys.sort_unstable();
        keys.dedup();
        let mut prior = before.iter().peekable();
        let mut oldest: Option<SimTime> = None;
        for &key in &keys {
            while prior.next_if(|(k, _)| *k < key).is_some() {}
            let since = prior.next_if(|(k, _)| *k == key).map_or(at, |(_, s)| *s);
            if self.disagree(ring, n, key, replicas) {
                self.divergent.push((key, since));
                oldest = Some(oldest.map_or(since, |o| o.min(since)));
            }
        }
        self.scratch = keys;
        Observation {
            divergent_keys: self.divergent.len() as u64,
            oldest_since: oldest,
        }
    }

    /// Whether `key`'s top-N replicas hold different sets of values.
    fn disagree(&mut self, ring: &Ring, n: usize, key: Key, replicas: &dyn Replicas) -> bool {
        let mut nodes = ring.preference_list(key).iter().take(n);
        let Some(&head) = nodes.next() else {
            return false;
        };
        self.first.clear();
        replicas.held(head, key, &mut self.first);
        self.first.sort_unstable();
        self.first.dedup();
        for &node in nodes {
            self.other.clear();
            replicas.held(node, key, &mut self.other);
            self.other.sort_unstable();
            self.other.dedup();
            if self.other != self.first {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Nodes as a map from (node, key) to values, with a change log.
    #[derive(Default)]
    struct Fake {
        held: BTreeMap<(NodeId, Key), Vec<Value>>,
        log: Vec<Key>,
    }

    impl Fake {
        fn put(&mut self, node: u32, key: u64, v: Value) {
            self.held
                .entry((NodeId(node), Key(key)))
                .or_default()
                .push(v);
            self.log.push(Key(key));
        }
    }

    impl Replicas for Fake {
        fn drain_changes(&mut self, out: &mut Vec<Key>) {
            out.append(&mut self.log);
        }
        fn all_keys(&self, out: &mut Vec<Key>) {
            out.extend(self.held.keys().map(|(_, k)| *k));
        }
        fn held(&self, node: NodeId, key: Key, out: &mut Vec<Value>) {
            out.extend(self.held.get(&(node, key)).into_iter().flatten());
        }
    }

    fn ring(nodes: u32) -> Arc<Ring> {
        use crate::dynamo::ring::{PartitionStrategy, TokenMap};
        use crate::engine::ids::DatacenterId;
        use crate::engine::rng::{SimRng, Stream};
        let members: Vec<(NodeId, DatacenterId)> =
            (0..nodes).map(|i| (NodeId(i), DatacenterId(0))).collect();
        let mut rng = SimRng::new(u64::from(nodes), Stream::Ring);
        let strategy = PartitionStrategy::RandomTokens { tokens_per_node: 8 };
        let map = TokenMap::initial(strategy, &members, &mut rng);
        Arc::new(Ring::new(&map, 3, nodes as usize))
    }

    fn value(i: u64) -> Value {
        use crate::engine::ids::{ClientId, OpId, WriteId};
        Value::Data(WriteId(OpId {
            client: ClientId(0),
            seq: i,
        }))
    }

    #[test]
    fn a_key_diverges_until_every_replica_holds_the_same_values() {
        let ring = ring(5);
        let key = 42;
        let list: Vec<NodeId> = ring
            .preference_list(Key(key))
            .iter()
            .take(3)
            .copied()
            .collect();
        let mut fake = Fake::default();
        let mut obs = DivergenceObserver::default();
        // One replica has the write: divergent from the next check on.
        fake.put(list[0].0, key, value(1));
        let t = obs.next_check();
        let first = t;
        assert_eq!(
            obs.check_due(t, &ring, 3, &mut fake),
            Some((t, seen(1, Some(t))))
        );
        // Unchanged keys stay divergent without being logged again.
        let t = obs.next_check();
        assert_eq!(obs.check_due(t, &ring, 3, &mut fake), None);
        assert_eq!(obs.divergent, vec![(Key(key), first)]);
        // The second replica: still divergent (same count, no report).
        fake.put(list[1].0, key, value(1));
        let t = obs.next_check();
        assert_eq!(obs.check_due(t, &ring, 3, &mut fake), None);
        // The third, in another order with a duplicate: converged.
        fake.put(list[2].0, key, value(1));
        fake.put(list[2].0, key, value(1));
        let t = obs.next_check();
        assert_eq!(
            obs.check_due(t, &ring, 3, &mut fake),
            Some((t, seen(0, None)))
        );
        // A node outside the top N holding a copy (a hint) does not count.
        let outsider = ring
            .nodes()
            .iter()
            .find(|n| !list.contains(n))
            .copied()
            .unwrap();
        fake.put(outsider.0, key, value(2));
        let t = obs.next_check();
        assert_eq!(obs.check_final(t, &ring, 3, &mut fake), seen(0, None));
        // A new disagreement starts a new run.
        fake.put(list[1].0, key, value(3));
        let t = obs.next_check();
        assert_eq!(obs.check_final(t, &ring, 3, &mut fake), seen(1, Some(t)));
    }

    fn seen(divergent_keys: u64, oldest_since: Option<SimTime>) -> Observation {
        Observation {
            divergent_keys,
            oldest_since,
        }
    }

    #[test]
    fn the_oldest_disagreement_moves_on_when_its_key_agrees() {
        let ring = ring(5);
        let lists: Vec<Vec<NodeId>> = (0..2)
            .map(|k| {
                ring.preference_list(Key(k))
                    .iter()
                    .take(3)
                    .copied()
                    .collect()
            })
            .collect();
        let mut fake = Fake::default();
        let mut obs = DivergenceObserver::default();
        fake.put(lists[0][0].0, 0, value(1));
        let t0 = obs.next_check();
        assert_eq!(
            obs.check_due(t0, &ring, 3, &mut fake),
            Some((t0, seen(1, Some(t0))))
        );
        fake.put(lists[1][0].0, 1, value(2));
        let t1 = obs.next_check();
        assert_eq!(
            obs.check_due(t1, &ring, 3, &mut fake),
            Some((t1, seen(2, Some(t0))))
        );
        for node in &lists[0][1..] {
            fake.put(node.0, 0, value(1));
        }
        let t2 = obs.next_check();
        assert_eq!(
            obs.check_due(t2, &ring, 3, &mut fake),
            Some((t2, seen(1, Some(t1))))
        );
    }

    #[test]
    fn checks_fall_on_the_interval_grid_after_a_quiet_gap() {
        let ring = ring(3);
        let mut fake = Fake::default();
        let mut obs = DivergenceObserver::default();
        let quiet = SimTime::ZERO + SimDuration::from_millis(1234);
        assert_eq!(obs.check_due(quiet, &ring, 3, &mut fake), None);
        assert_eq!(
            obs.next_check(),
            SimTime::ZERO + SimDuration::from_millis(1300)
        );
        let holder = ring.preference_list(Key(1))[0];
        fake.put(holder.0, 1, value(3));
        // The check reports at its own instant, the state as of then.
        let t = obs.next_check();
        let later = t + SimDuration::from_millis(20);
        assert_eq!(
            obs.check_due(later, &ring, 3, &mut fake),
            Some((t, seen(1, Some(t))))
        );
    }

    #[test]
    fn a_new_ring_compares_every_held_key_again() {
        let ring_a = ring(5);
        let mut fake = Fake::default();
        let mut obs = DivergenceObserver::default();
        // Keys whose holders agree under ring A.
        for key in 0..50 {
            for &node in ring_a.preference_list(Key(key)).iter().take(3) {
                fake.held
                    .entry((node, Key(key)))
                    .or_default()
                    .push(value(key));
            }
        }
        let t = SimTime::ZERO;
        assert_eq!(obs.check_final(t, &ring_a, 3, &mut fake), seen(0, None));
        // Another ring (other tokens): most keys' top 3 change, nothing
        // was logged, yet the check sees them.
        let ring_b = ring(6);
        assert!(obs.check_final(t, &ring_b, 3, &mut fake).divergent_keys > 0);
    }

    #[test]
    fn an_observer_agreeing_under_a_ring_compares_only_what_changes() {
        let ring = ring(5);
        let mut fake = Fake::default();
        // A disagreement nobody logged (as if built that way): unseen.
        fake.held.insert((NodeId(0), Key(9)), vec![value(1)]);
        let mut obs = DivergenceObserver::agreeing_under(ring.clone());
        let t = obs.next_check();
        assert_eq!(obs.check_due(t, &ring, 3, &mut fake), None);
        // A logged change to the same key is compared.
        fake.log.push(Key(9));
        let t = obs.next_check();
        let seen = obs
            .check_due(t, &ring, 3, &mut fake)
            .map(|s| s.1.divergent_keys);
        let top = ring
            .preference_list(Key(9))
            .iter()
            .take(3)
            .any(|n| *n == NodeId(0));
        assert_eq!(seen, top.then_some(1));
    }
}
