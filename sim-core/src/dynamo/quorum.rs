//! Quorum rules shared by the two places a request is coordinated: a
//! storage node's coordinator ([`crate::dynamo::node::coordinator`]) and a
//! client that coordinates its own requests (client-driven routing, §6.4).
//!
//! Pure functions over a key's preference list, the quorum settings and a
//! `datacenter of node` lookup: which nodes a request goes to ("the first N
//! healthy nodes" of the extended list, with the owner each fallback stands
//! in for), Riak's PR/PW and `fail_fast` refusals, Cassandra's
//! `LOCAL_QUORUM` / `EACH_QUORUM` needs, and the read tally of Riak's get
//! core (`notfound_ok`, `basic_quorum`, PR). Whoever coordinates calls the
//! same code, so a client-driven get honours exactly what a node's does.

use crate::config::{Consistency, Fallbacks, Quorum, Versioning};
use crate::dynamo::protocol::{Context, Failure, GetResult, Version};
use crate::dynamo::storage::reconcile;
use crate::dynamo::vclock::VectorClock;
use crate::engine::ids::{DatacenterId, NodeId};

/// What a coordinator knows about where a key lives: its extended
/// preference list, N, the datacenter of every node and its own
/// datacenter (the *local* one of `LOCAL_QUORUM`).
pub struct Placement<'a, D: Fn(NodeId) -> DatacenterId> {
    /// The key's extended preference list.
    pub list: &'a [NodeId],
    /// Replicas per key (the top `n` of `list` are the primaries).
    pub n: usize,
    /// The datacenter of a node.
    pub dc: D,
    /// The coordinator's datacenter.
    pub local: DatacenterId,
}

/// True when [`Placement::unavailable`] has anything to check for a
/// request needing `primaries` (PR or PW): a per-datacenter
/// consistency, PR/PW or `fail_fast`. Without (the paper's quorum) it
/// answers `None` for every placement, so a caller need not place the
/// key or list the nodes it believes up.
pub fn checks_availability(q: &Quorum, primaries: u32) -> bool {
    q.consistency != Consistency::Fixed || primaries > 0 || q.fail_fast
}

impl<D: Fn(NodeId) -> DatacenterId> Placement<'_, D> {
    /// The key's top N (its primary replicas).
    pub fn top(&self) -> &[NodeId] {
        &self.list[..self.n.min(self.list.len())]
    }

    /// True when `node` is one of the key's top N.
    pub fn is_primary(&self, node: NodeId) -> bool {
        self.top().contains(&node)
    }

    /// `local_quorum` / `each_quorum`: per datacenter, the replies a request
    /// needs (a majority of the key's top-N replicas there). Local: only the
    /// coordinator's datacenter (a need of 1 there when it holds no replica,
    /// which no reply can meet).
    pub fn dc_needs(&self, consistency: Consistency) -> Vec<(DatacenterId, u32)> {
        match consistency {
            Consistency::Fixed => Vec::new(),
            Consistency::LocalQuorum => {
                let mine = self.local;
                let here = self.top().iter().filter(|n| (self.dc)(**n) == mine).count() as u32;
                vec![(mine, if here == 0 { 1 } else { here / 2 + 1 })]
            }
            Consistency::EachQuorum => {
                let mut counts: std::collections::BTreeMap<DatacenterId, u32> = Default::default();
                for node in self.top() {
                    *counts.entry((self.dc)(*node)).or_insert(0) += 1;
                }
                counts.into_iter().map(|(d, c)| (d, c / 2 + 1)).collect()
            }
        }
    }

    /// How many of `nodes` are primaries in datacenter `d`.
    fn primaries_in(&self, d: DatacenterId, nodes: &[NodeId]) -> u32 {
        nodes
            .iter()
            .filter(|n| (self.dc)(**n) == d && self.is_primary(**n))
            .count() as u32
    }

    /// Whether replies from `nodes` meet every datacenter's need (only the
    /// key's top-N replicas count, as in Cassandra, where hints never
    /// count toward a consistency level).
    pub fn dc_quorum_met(&self, consistency: Consistency, nodes: &[NodeId]) -> bool {
        self.dc_needs(consistency)
            .into_iter()
            .all(|(d, need)| self.primaries_in(d, nodes) >= need)
    }

    /// Riak's PR/PW check, Cassandra's per-datacenter one and `fail_fast`:
    /// the failure to answer at once when, of the nodes `up` the
    /// coordinator believes reachable, fewer than a datacenter needs are
    /// its primaries, fewer than `primaries` (PR or PW) are primaries, or
    /// (with `fail_fast`) fewer than `quorum` (R or W) are left.
    pub fn unavailable(
        &self,
        q: &Quorum,
        up: &[NodeId],
        (primaries, quorum): (u32, u32),
    ) -> Option<Failure> {
        for (d, need) in self.dc_needs(q.consistency) {
            let count = self.primaries_in(d, up);
            if count < need {
                return Some(Failure::Unavailable {
                    reachable: count,
                    required: need,
                });
            }
        }
        if primaries > 0 {
            let count = up.iter().filter(|x| self.is_primary(**x)).count() as u32;
            if count < primaries {
                return Some(Failure::Unavailable {
                    reachable: count,
                    required: primaries,
                });
            }
        }
        if q.fail_fast && (up.len() as u32) < quorum {
            return Some(Failure::Unavailable {
                reachable: up.len() as u32,
                required: quorum,
            });
        }
        None
    }

    /// Whether `node` may stand in for `owner` as a sloppy-quorum fallback
    /// (`cluster.quorum.fallbacks`).
    pub fn may_stand_in(&self, fallbacks: Fallbacks, node: NodeId, owner: NodeId) -> bool {
        match fallbacks {
            Fallbacks::Any => true,
            Fallbacks::SameDatacenter => (self.dc)(node) == (self.dc)(owner),
        }
    }

    /// "The first N healthy nodes" of the extended preference list (§4.6):
    /// the healthy top-N nodes, then for each unhealthy one (in order) the
    /// next healthy node of the list past N that may stand in for it, with
    /// the owner as its hint; owners left without a fallback are tried
    /// anyway, after everything else. `healthy` is asked about the top N in
    /// order, then about candidate fallbacks in list order (a failure
    /// detector's claim spends a suspect's periodic retry, so the order of
    /// questions matters). Returns the targets, the index of the next list
    /// entry not yet considered and how many of the targets (the first
    /// ones) are believed reachable. A target is whatever the caller keeps
    /// per target ([`SloppyTarget`]), built here so that the list is made
    /// once.
    pub fn sloppy_targets<T: SloppyTarget>(
        &self,
        fallbacks: Fallbacks,
        mut healthy: impl FnMut(NodeId) -> bool,
    ) -> (Vec<T>, usize, usize) {
        let list = self.list;
        let n = self.n.min(list.len());
        let mut targets: Vec<T> = Vec::with_capacity(n);
        let mut down = Vec::new();
        for &node in &list[..n] {
            if healthy(node) {
                targets.push(T::new(node, None));
            } else {
                down.push(node);
            }
        }
        let mut next = n;
        let mut left = Vec::new();
        match fallbacks {
            Fallbacks::Any => {
                let mut down_iter = down.into_iter();
                let mut owner = down_iter.next();
                while let Some(o) = owner {
                    let Some(&node) = list.get(next) else { break };
                    next += 1;
                    if healthy(node) {
                        targets.push(T::new(node, Some(o)));
                        owner = down_iter.next();
                    }
                }
                left.extend(owner.into_iter().chain(down_iter));
            }
            Fallbacks::SameDatacenter => {
                // Each owner takes the first healthy node of its own
                // datacenter past N not taken yet. The cursor stays at N:
                // a later replacement scans the list again for the owner's
                // datacenter.
                let mut asked: Vec<(NodeId, bool)> = Vec::new();
                for o in down {
                    let mut found = None;
                    for &node in &list[n..] {
                        if !self.may_stand_in(fallbacks, node, o)
                            || targets.iter().any(|t| t.node() == node)
                        {
                            continue;
                        }
                        let ok = match asked.iter().find(|a| a.0 == node) {
                            Some(a) => a.1,
                            None => {
                                let ok = healthy(node);
                                asked.push((node, ok));
                                ok
                            }
                        };
                        if ok {
                            found = Some(node);
                            break;
                        }
                    }
                    match found {
                        Some(node) => targets.push(T::new(node, Some(o))),
                        None => left.push(o),
                    }
                }
            }
        }
        let reachable = targets.len();
        // No fallback left: try the suspected owners anyway.
        targets.extend(left.into_iter().map(|o| T::new(o, None)));
        (targets, next, reachable)
    }
}

/// One target of [`Placement::sloppy_targets`]: a node and, for a fallback,
/// the owner it stands in for.
pub trait SloppyTarget {
    /// The target `node`, standing in for `hint`.
    fn new(node: NodeId, hint: Option<NodeId>) -> Self;
    /// The target's node.
    fn node(&self) -> NodeId;
}

impl SloppyTarget for (NodeId, Option<NodeId>) {
    fn new(node: NodeId, hint: Option<NodeId>) -> Self {
        (node, hint)
    }
    fn node(&self) -> NodeId {
        self.0
    }
}

/// The tally of a read's replies before it answers (Riak's get core).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadTally {
    /// Replies that count toward R (all of them unless `notfound_ok` is
    /// false, then those holding a version).
    pub ok: u32,
    /// Not-found replies that do not count toward R.
    pub notfound: u32,
    /// Replies counted in `ok` that came from primary replicas (PR).
    pub primary: u32,
}

/// How a read ends once its tally allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadVerdict {
    /// R replies (with PR primaries), or every datacenter's need met.
    Enough,
    /// Too many not-founds for R found replies to come (`notfound_ok`
    /// false).
    Hopeless,
}

impl ReadTally {
    /// Counts one reply: a not-found counts toward R only with
    /// `notfound_ok`; PR counts the primaries among the replies that do.
    pub fn count(&mut self, q: &Quorum, found: bool, primary: bool) {
        if q.notfound_ok || found {
            self.ok += 1;
            self.primary += u32::from(primary);
        } else {
            self.notfound += 1;
        }
    }

    /// Whether the read answers now. `dc_met`: with a datacenter-aware
    /// consistency, whether the replies so far meet it.
    pub fn verdict(&self, q: &Quorum, dc_met: bool) -> Option<ReadVerdict> {
        // Not-found replies that make R found ones impossible (N - R + 1),
        // or, with basic_quorum, a majority of N.
        let threshold = if q.basic_quorum {
            (q.n / 2 + 1).min(q.n - q.r + 1)
        } else {
            q.n - q.r + 1
        };
        let enough = if q.consistency == Consistency::Fixed {
            self.ok >= q.r && self.primary >= q.pr
        } else {
            dc_met
        };
        if enough {
            Some(ReadVerdict::Enough)
        } else if !q.notfound_ok && self.notfound >= threshold {
            Some(ReadVerdict::Hopeless)
        } else {
            None
        }
    }

    /// The answer: the reconciled versions of every reply with their merged
    /// clock as the context (the fastest replier noted for the §5 write),
    /// or, for a hopeless read where some replica holds the key, Riak's
    /// `r_val_unsatisfied`. A hopeless read where no counted reply held
    /// anything answers "not found".
    pub fn answer(
        &self,
        q: &Quorum,
        verdict: ReadVerdict,
        versioning: Versioning,
        replies: &[(NodeId, Vec<Version>)],
    ) -> Result<GetResult, Failure> {
        if verdict == ReadVerdict::Hopeless && self.ok > 0 {
            return Err(Failure::NotEnoughReplicas {
                got: self.ok,
                required: q.r,
            });
        }
        let found = reconcile(
            versioning,
            replies.iter().flat_map(|(_, v)| v.iter().cloned()),
        );
        let mut clock = VectorClock::new();
        for v in &found {
            clock.merge_in(&v.clock);
        }
        Ok(GetResult {
            versions: found,
            context: Context {
                clock,
                fastest_replica: replies.first().map(|(node, _)| *node),
            },
        })
    }
}

/// The tally of a write's acknowledgements (Riak's put FSM: W, PW, DW).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteTally {
    /// Acknowledgements.
    pub acks: u32,
    /// Acknowledgements from primary replicas (PW).
    pub primary: u32,
    /// Acknowledgements of durable writes (DW).
    pub durable: u32,
}

impl WriteTally {
    /// Counts one acknowledgement.
    pub fn count(&mut self, primary: bool, durable: bool) {
        self.acks += 1;
        self.primary += u32::from(primary);
        self.durable += u32::from(durable);
    }

    /// Whether the write succeeds now: W acknowledgements with PW from
    /// primaries (or every datacenter's need met, `dc_met`), DW of them
    /// durable.
    pub fn enough(&self, q: &Quorum, dc_met: bool) -> bool {
        let quorum = if q.consistency == Consistency::Fixed {
            self.acks >= q.w && self.primary >= q.pw
        } else {
            dc_met
        };
        quorum && self.durable >= q.dw
    }

    /// The failure when the write gives up: the first rule not met, as
    /// `not_enough_replicas(got/required)`.
    pub fn shortfall(&self, q: &Quorum) -> Failure {
        let (got, required) = if self.acks < q.w {
            (self.acks, q.w)
        } else if self.primary < q.pw {
            (self.primary, q.pw)
        } else {
            (self.durable, q.dw)
        };
        Failure::NotEnoughReplicas { got, required }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target as `(node, hint)`.
    type Pair = (NodeId, Option<NodeId>);

    /// Nodes 0..6, even ones in datacenter 0 and odd ones in 1; the list
    /// is 0..6 in order and N = 3 (top: 0, 1, 2).
    fn place(list: &[NodeId]) -> Placement<'_, impl Fn(NodeId) -> DatacenterId> {
        Placement {
            list,
            n: 3,
            dc: |n: NodeId| DatacenterId((n.0 % 2) as u16),
            local: DatacenterId(0),
        }
    }

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().map(|i| NodeId(*i)).collect()
    }

    #[test]
    fn any_fallback_is_the_next_healthy_node_whatever_its_datacenter() {
        let list = ids(&[0, 1, 2, 3, 4, 5]);
        let mut asked = Vec::new();
        let (targets, next, reachable) = place(&list).sloppy_targets::<Pair>(Fallbacks::Any, |n| {
            asked.push(n.0);
            n.0 != 0
        });
        // Node 0 (datacenter 0) is down: node 3 (datacenter 1) stands in.
        assert_eq!(
            targets,
            vec![
                (NodeId(1), None),
                (NodeId(2), None),
                (NodeId(3), Some(NodeId(0)))
            ]
        );
        assert_eq!((next, reachable), (4, 3));
        assert_eq!(asked, vec![0, 1, 2, 3]);
    }

    #[test]
    fn same_datacenter_fallback_skips_the_other_datacenter() {
        let list = ids(&[0, 1, 2, 3, 4, 5]);
        let mut asked = Vec::new();
        let (targets, _, reachable) =
            place(&list).sloppy_targets::<Pair>(Fallbacks::SameDatacenter, |n| {
                asked.push(n.0);
                n.0 != 0
            });
        assert_eq!(
            targets,
            vec![
                (NodeId(1), None),
                (NodeId(2), None),
                (NodeId(4), Some(NodeId(0)))
            ]
        );
        assert_eq!(reachable, 3);
        // Node 3 (datacenter 1) is never asked about.
        assert_eq!(asked, vec![0, 1, 2, 4]);
    }

    #[test]
    fn an_owner_without_a_fallback_in_its_datacenter_is_tried_anyway() {
        let list = ids(&[0, 1, 2, 3, 4, 5]);
        // 0 and 2 (datacenter 0) down, and 4, the only other node there.
        let (targets, _, reachable) = place(&list)
            .sloppy_targets::<Pair>(Fallbacks::SameDatacenter, |n| ![0, 2, 4].contains(&n.0));
        assert_eq!(
            targets,
            vec![(NodeId(1), None), (NodeId(0), None), (NodeId(2), None)]
        );
        assert_eq!(reachable, 1);
    }

    #[test]
    fn local_and_each_quorum_needs() {
        let list = ids(&[0, 1, 2, 3, 4, 5]);
        let mut p = place(&list);
        p.n = 6;
        assert_eq!(
            p.dc_needs(Consistency::LocalQuorum),
            vec![(DatacenterId(0), 2)]
        );
        assert_eq!(
            p.dc_needs(Consistency::EachQuorum),
            vec![(DatacenterId(0), 2), (DatacenterId(1), 2)]
        );
        assert!(p.dc_quorum_met(Consistency::LocalQuorum, &ids(&[0, 2])));
        assert!(!p.dc_quorum_met(Consistency::EachQuorum, &ids(&[0, 2, 1])));
        let q = Quorum {
            consistency: Consistency::LocalQuorum,
            ..Quorum::nrw(6, 4, 4)
        };
        assert_eq!(
            p.unavailable(&q, &ids(&[0, 1, 3, 5]), (0, 4)),
            Some(Failure::Unavailable {
                reachable: 1,
                required: 2
            })
        );
    }

    #[test]
    fn write_tally_needs_w_pw_and_dw() {
        let q = Quorum {
            pw: 1,
            dw: 1,
            ..Quorum::nrw(3, 2, 2)
        };
        let mut t = WriteTally::default();
        t.count(false, false);
        t.count(false, true);
        assert!(!t.enough(&q, false), "no primary");
        assert_eq!(
            t.shortfall(&q),
            Failure::NotEnoughReplicas {
                got: 0,
                required: 1
            }
        );
        t.count(true, false);
        assert!(t.enough(&q, false));
    }
}
