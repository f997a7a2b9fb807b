//! The coordinator: how a node serves `get` and `put` (§4.5, §4.6, §5).
//!
//! **Routing.** A request that reaches a node outside the key's top N is
//! forwarded to the first node of the top N this node believes healthy
//! (server-driven routing through a load balancer). Partition-aware clients
//! send straight to a coordinator, so no hop is spent.
//!
//! **Sloppy quorum.** The coordinator sends the request to "the first N
//! healthy nodes" of the extended preference list. A write that would have
//! gone to an unreachable top-N node goes to the next healthy node instead,
//! carrying a *hint* that names the intended owner. A `get` waits for R
//! replies and returns every causally unrelated version with an opaque
//! *context*; a `put` builds the new vector clock from the context, and
//! succeeds after W acknowledgements (its own local write counts). Replicas
//! that do not answer within the replica timeout are treated as down
//! (§4.8.3) and replaced by the next node of the list. With a strict quorum
//! only the top N are ever used.
//!
//! **Read repair.** After answering a get, the coordinator waits a short
//! window for late replies, reconciles everything it heard and writes the
//! result back to replicas that returned stale versions.

use crate::config::{CoordinatorScope, QuorumMode, Versioning, WriteCoordinator};
use crate::dynamo::protocol::{
    ClientMsg, Context, Durability, Endpoint, Failure, GetResult, LwwStamp, Msg, ReplicaMsg, Value,
    Version,
};
use crate::dynamo::storage::{covers, reconcile};
use crate::dynamo::vclock::VectorClock;
use crate::engine::ids::{Key, NodeId, OpId, RequestId};
use crate::engine::outbox::Outbox;
use crate::engine::record::Record;
use crate::engine::time::SimTime;

use super::{Node, NodeTime, Timer};

/// One node a request was sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The node.
    pub node: NodeId,
    /// For a hinted write: the top-N owner it stands in for.
    pub hint: Option<NodeId>,
    /// It answered.
    pub answered: bool,
    /// It missed the replica timeout and was replaced.
    pub replaced: bool,
}

/// A get being coordinated.
#[derive(Clone, Debug)]
pub struct PendingGet {
    op: OpId,
    key: Key,
    targets: Vec<Target>,
    /// Index of the next extended-preference-list entry to try as a fallback.
    next: usize,
    replies: Vec<(NodeId, Vec<Version>)>,
    answered: bool,
}

/// A put being coordinated.
#[derive(Clone, Debug)]
pub struct PendingPut {
    op: OpId,
    key: Key,
    version: Version,
    targets: Vec<Target>,
    next: usize,
    acks: u32,
    answered: bool,
}

impl Node {
    pub(super) fn on_client_msg(&mut self, t: NodeTime, msg: ClientMsg, out: &mut Outbox<Timer>) {
        match msg {
            ClientMsg::Get { op, key, forwarded } => {
                let any = self.cluster.coordinator_scope == CoordinatorScope::AnyNode;
                match self.forward_target(t.now, key, forwarded || any, None) {
                    Some(to) => {
                        self.stats.forwarded += 1;
                        let msg = Msg::Client(ClientMsg::Get {
                            op,
                            key,
                            forwarded: true,
                        });
                        self.send_node(out, to, msg);
                    }
                    None => self.start_get(t, op, key, out),
                }
            }
            ClientMsg::Put {
                op,
                key,
                context,
                value,
                size,
                forwarded,
            } => {
                let any = self.cluster.coordinator_scope == CoordinatorScope::AnyNode
                    && self.cluster.versioning == Versioning::LastWriteWins;
                let chosen = match self.cluster.write_coordinator {
                    WriteCoordinator::FastestReadResponder => context.fastest_replica,
                    WriteCoordinator::FirstHealthy => None,
                };
                match self.forward_target(t.now, key, forwarded || any, chosen) {
                    Some(to) => {
                        self.stats.forwarded += 1;
                        let msg = Msg::Client(ClientMsg::Put {
                            op,
                            key,
                            context,
                            value,
                            size,
                            forwarded: true,
                        });
                        self.send_node(out, to, msg);
                    }
                    None => self.start_put(t, op, key, context, (value, size), out),
                }
            }
            // Replies are for clients; a node ignores them.
            ClientMsg::GetReply { .. } | ClientMsg::PutReply { .. } => {}
        }
    }

    /// Where to forward a client request, or `None` to coordinate here.
    fn forward_target(
        &self,
        _now: SimTime,
        key: Key,
        no_forward: bool,
        chosen: Option<NodeId>,
    ) -> Option<NodeId> {
        if no_forward || chosen == Some(self.id) {
            return None;
        }
        // §5: the put goes to the replica that answered the read fastest,
        // unless this node has reason to think it is down.
        if let Some(fastest) = chosen.filter(|c| self.volatile.detector.is_trusted(*c)) {
            return Some(fastest);
        }
        let list = self.ring.preference_list(key);
        let top = &list[..(self.cluster.quorum.n as usize).min(list.len())];
        if top.contains(&self.id) {
            return None;
        }
        // A forward gets no reply to this node, so a silent target would go
        // unnoticed: forward only to peers that are not suspected at all.
        top.iter()
            .copied()
            .find(|peer| self.volatile.detector.is_trusted(*peer))
    }

    /// "The first N healthy nodes" of the extended preference list, with the
    /// top-N owner each fallback stands in for. Returns the targets and the
    /// index of the next list entry not yet considered.
    fn select_targets(&mut self, now: SimTime, key: Key) -> (Vec<Target>, usize) {
        let ring = self.ring.clone();
        let retry = self.cluster.retry_interval;
        let me = self.id;
        let strict = self.cluster.quorum_mode == QuorumMode::Strict;
        let list = ring.preference_list(key);
        let n = (self.cluster.quorum.n as usize).min(list.len());
        let target = |node, hint| Target {
            node,
            hint,
            answered: false,
            replaced: false,
        };
        if strict {
            return (
                list[..n].iter().map(|node| target(*node, None)).collect(),
                list.len(),
            );
        }
        let detector = &mut self.volatile.detector;
        let mut healthy = |node: NodeId| node == me || detector.claim(node, now, retry);
        let mut targets = Vec::with_capacity(n);
        let mut down = Vec::new();
        for &node in &list[..n] {
            if healthy(node) {
                targets.push(target(node, None));
            } else {
                down.push(node);
            }
        }
        let mut next = n;
        let mut down_iter = down.into_iter();
        let mut owner = down_iter.next();
        while let Some(o) = owner {
            let Some(&node) = list.get(next) else { break };
            next += 1;
            if healthy(node) {
                targets.push(target(node, Some(o)));
                owner = down_iter.next();
            }
        }
        // No fallback left: try the suspected owners anyway.
        for o in owner.into_iter().chain(down_iter) {
            targets.push(target(o, None));
        }
        (targets, next)
    }

    /// The next healthy fallback after `next`, not already a target.
    fn next_fallback(
        &self,
        now: SimTime,
        key: Key,
        next: &mut usize,
        taken: &[Target],
    ) -> Option<NodeId> {
        if self.cluster.quorum_mode == QuorumMode::Strict {
            return None;
        }
        let list = self.ring.preference_list(key);
        while let Some(&node) = list.get(*next) {
            *next += 1;
            let busy = taken.iter().any(|t| t.node == node && !t.replaced);
            if !busy && (node == self.id || self.volatile.detector.is_healthy(node, now)) {
                return Some(node);
            }
        }
        None
    }

    fn arm_request_timers(&self, req: RequestId, out: &mut Outbox<Timer>) {
        out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
        out.set_timer(Timer::RequestTimeout(req), self.cluster.request_timeout);
    }

    fn start_get(&mut self, t: NodeTime, op: OpId, key: Key, out: &mut Outbox<Timer>) {
        self.stats.coordinated += 1;
        let request = RequestId(self.fresh_id());
        let (targets, next) = self.select_targets(t.now, key);
        for target in &targets {
            self.send_node(
                out,
                target.node,
                Msg::Replica(ReplicaMsg::Read { request, key }),
            );
        }
        self.volatile.gets.insert(
            request,
            PendingGet {
                op,
                key,
                targets,
                next,
                replies: Vec::new(),
                answered: false,
            },
        );
        self.arm_request_timers(request, out);
    }

    /// The load phase (`workload.keys.preload`): this node coordinates the
    /// first write of `key`, [`WriteId::preloaded`](crate::engine::ids::WriteId::preloaded),
    /// at time 0 with an empty context; the engine stores it on the top N
    /// replicas ([`Node::preload`]) before the run starts.
    pub fn coordinate_load(&mut self, key: Key, size: u32) -> Version {
        let t = NodeTime::at(crate::engine::time::SimTime::ZERO);
        let value = Value::Data(crate::engine::ids::WriteId::preloaded(key));
        self.new_version(t, key, &Context::default(), (value, size))
    }

    /// Builds the new version: the context's clock with this node's entry
    /// incremented (§4.4), truncated past the threshold; or a timestamp from
    /// the local clock under last-write-wins. The increment goes above every
    /// counter this node issued for the key before: with the paper's plain
    /// "context + 1", two writes from the same context through the same
    /// coordinator would get identical clocks and one would silently replace
    /// the other (the checker found exactly that in a healthy run).
    fn new_version(
        &mut self,
        t: NodeTime,
        key: Key,
        context: &Context,
        (value, size): (Value, u32),
    ) -> Version {
        let stamp = LwwStamp {
            local_time_us: t.local.as_micros(),
            write: value.write(),
        };
        match self.cluster.versioning {
            Versioning::LastWriteWins => Version {
                clock: VectorClock::new(),
                coordinator: self.id,
                seen: 0,
                value,
                stamp,
                size,
            },
            Versioning::VectorClocks {
                truncation_threshold,
            } => {
                let mut clock = context.clock.clone();
                let seen = clock.counter(self.id);
                let issued = self.durable.counters.entry(key).or_insert(0);
                clock.increment_above(self.id, *issued, t.local);
                *issued = clock.counter(self.id);
                clock.truncate(truncation_threshold);
                Version {
                    clock,
                    coordinator: self.id,
                    seen,
                    value,
                    stamp,
                    size,
                }
            }
        }
    }

    fn start_put(
        &mut self,
        t: NodeTime,
        op: OpId,
        key: Key,
        context: Context,
        value: (Value, u32),
        out: &mut Outbox<Timer>,
    ) {
        self.stats.coordinated += 1;
        let request = RequestId(self.fresh_id());
        let version = self.new_version(t, key, &context, value);
        let (targets, next) = self.select_targets(t.now, key);
        let buffered = self.cluster.storage.buffered_writes.is_some();
        for (i, target) in targets.iter().enumerate() {
            // §6.1: with buffered writes, one replica (the first) writes durably.
            let durability = if buffered && i > 0 {
                Durability::Buffered
            } else {
                Durability::Durable
            };
            let msg = ReplicaMsg::Write {
                request,
                key,
                version: version.clone(),
                hint: target.hint,
                durability,
            };
            self.send_node(out, target.node, Msg::Replica(msg));
        }
        self.volatile.puts.insert(
            request,
            PendingPut {
                op,
                key,
                version,
                targets,
                next,
                acks: 0,
                answered: false,
            },
        );
        self.arm_request_timers(request, out);
    }

    pub(super) fn on_read_reply(
        &mut self,
        t: NodeTime,
        from: NodeId,
        request: RequestId,
        versions: Vec<Version>,
        out: &mut Outbox<Timer>,
    ) {
        let r = self.cluster.quorum.r as usize;
        let versioning = self.cluster.versioning;
        let read_repair = self.cluster.read_repair;
        let me = self.id;
        let Some(get) = self.volatile.gets.get_mut(&request) else {
            return;
        };
        let Some(target) = get
            .targets
            .iter_mut()
            .find(|x| x.node == from && !x.answered)
        else {
            return;
        };
        target.answered = true;
        get.replies.push((from, versions));
        if !get.answered && get.replies.len() >= r {
            get.answered = true;
            let found = reconcile(
                versioning,
                get.replies.iter().flat_map(|(_, v)| v.iter().cloned()),
            );
            let mut clock = VectorClock::new();
            for v in &found {
                clock.merge_in(&v.clock);
            }
            let fastest_replica = get.replies.first().map(|(node, _)| *node);
            let result = GetResult {
                versions: found,
                context: Context {
                    clock,
                    fastest_replica,
                },
            };
            let reply = ClientMsg::GetReply {
                op: get.op,
                result: Ok(result),
                coordinator: me,
            };
            out.send(Endpoint::Client(get.op.client), Msg::Client(reply));
            out.cancel_timer(Timer::RequestTimeout(request));
            match read_repair {
                None => {
                    out.cancel_timer(Timer::ReplicaCheck(request));
                    self.volatile.gets.remove(&request);
                    return;
                }
                Some(window) => out.set_timer(Timer::ReadRepair(request), window),
            }
        }
        // Every replica has answered: no need to wait out the repair window.
        if get.answered && get.targets.iter().all(|x| x.answered || x.replaced) {
            out.cancel_timer(Timer::ReplicaCheck(request));
            out.cancel_timer(Timer::ReadRepair(request));
            self.on_read_repair_window(t, request, out);
        }
    }

    /// A replica declined a read (pending ownership: it has not received
    /// the key's range yet). Its share goes at once to the next node of the
    /// extended preference list that is not a target yet, whatever the
    /// quorum mode: that is the node the joiner displaced, which holds the
    /// range until the transfer completes.
    pub(super) fn on_read_declined(
        &mut self,
        _t: NodeTime,
        from: NodeId,
        request: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let Some(get) = self.volatile.gets.get_mut(&request) else {
            return;
        };
        let Some(i) = get
            .targets
            .iter()
            .position(|x| x.node == from && !x.answered && !x.replaced)
        else {
            return;
        };
        get.targets[i].replaced = true;
        let list = self.ring.preference_list(get.key);
        let next = list
            .iter()
            .copied()
            .find(|n| !get.targets.iter().any(|x| x.node == *n));
        let Some(node) = next else { return };
        get.targets.push(Target {
            node,
            hint: None,
            answered: false,
            replaced: false,
        });
        let key = get.key;
        self.send_node(out, node, Msg::Replica(ReplicaMsg::Read { request, key }));
    }

    pub(super) fn on_write_ack(
        &mut self,
        _t: NodeTime,
        from: NodeId,
        request: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let w = self.cluster.quorum.w;
        let me = self.id;
        let Some(put) = self.volatile.puts.get_mut(&request) else {
            return;
        };
        let Some(target) = put
            .targets
            .iter_mut()
            .find(|x| x.node == from && !x.answered)
        else {
            return;
        };
        target.answered = true;
        put.acks += 1;
        if !put.answered && put.acks >= w {
            put.answered = true;
            let reply = ClientMsg::PutReply {
                op: put.op,
                result: Ok(()),
                coordinator: me,
            };
            out.send(Endpoint::Client(put.op.client), Msg::Client(reply));
            out.cancel_timer(Timer::RequestTimeout(request));
        }
        if put.answered && put.targets.iter().all(|x| x.answered || x.replaced) {
            out.cancel_timer(Timer::ReplicaCheck(request));
            self.volatile.puts.remove(&request);
        }
    }

    /// Replicas that missed the replica timeout are treated as down; their
    /// share of the request goes to the next healthy nodes (sloppy quorum).
    pub(super) fn on_replica_check(
        &mut self,
        t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let retry = self.cluster.retry_interval;
        if let Some(mut get) = self.volatile.gets.remove(&req) {
            let mut resent = false;
            let silent: Vec<usize> = (0..get.targets.len())
                .filter(|&i| !get.targets[i].answered && !get.targets[i].replaced)
                .collect();
            for i in silent {
                let peer = get.targets[i].node;
                if peer != self.id && self.volatile.detector.suspect(peer, t.now, retry) {
                    out.record(Record::PeerSuspected { by: self.id, peer });
                }
                if get.answered {
                    continue;
                }
                if let Some(node) = self.next_fallback(t.now, get.key, &mut get.next, &get.targets)
                {
                    get.targets[i].replaced = true;
                    get.targets.push(Target {
                        node,
                        hint: None,
                        answered: false,
                        replaced: false,
                    });
                    self.send_node(
                        out,
                        node,
                        Msg::Replica(ReplicaMsg::Read {
                            request: req,
                            key: get.key,
                        }),
                    );
                    resent = true;
                }
            }
            if resent {
                out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
            }
            self.volatile.gets.insert(req, get);
        } else if let Some(mut put) = self.volatile.puts.remove(&req) {
            let mut resent = false;
            let silent: Vec<usize> = (0..put.targets.len())
                .filter(|&i| !put.targets[i].answered && !put.targets[i].replaced)
                .collect();
            for i in silent {
                let peer = put.targets[i].node;
                if peer != self.id && self.volatile.detector.suspect(peer, t.now, retry) {
                    out.record(Record::PeerSuspected { by: self.id, peer });
                }
                if let Some(node) = self.next_fallback(t.now, put.key, &mut put.next, &put.targets)
                {
                    let owner = put.targets[i].hint.unwrap_or(peer);
                    put.targets[i].replaced = true;
                    let hint = if node == owner { None } else { Some(owner) };
                    put.targets.push(Target {
                        node,
                        hint,
                        answered: false,
                        replaced: false,
                    });
                    let msg = ReplicaMsg::Write {
                        request: req,
                        key: put.key,
                        version: put.version.clone(),
                        hint,
                        durability: Durability::Durable,
                    };
                    self.send_node(out, node, Msg::Replica(msg));
                    resent = true;
                }
            }
            if resent {
                out.set_timer(Timer::ReplicaCheck(req), self.cluster.replica_timeout);
            }
            let done = put.answered && put.targets.iter().all(|x| x.answered || x.replaced);
            if !done {
                self.volatile.puts.insert(req, put);
            }
        }
    }

    pub(super) fn on_request_timeout(
        &mut self,
        _t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let me = self.id;
        if let Some(get) = self.volatile.gets.get(&req) {
            if get.answered {
                return; // the read repair window owns it now
            }
            let failure = Failure::NotEnoughReplicas {
                got: get.replies.len() as u32,
                required: self.cluster.quorum.r,
            };
            let reply = ClientMsg::GetReply {
                op: get.op,
                result: Err(failure),
                coordinator: me,
            };
            out.send(Endpoint::Client(get.op.client), Msg::Client(reply));
            self.volatile.gets.remove(&req);
        } else if let Some(put) = self.volatile.puts.remove(&req) {
            if !put.answered {
                let failure = Failure::NotEnoughReplicas {
                    got: put.acks,
                    required: self.cluster.quorum.w,
                };
                let reply = ClientMsg::PutReply {
                    op: put.op,
                    result: Err(failure),
                    coordinator: me,
                };
                out.send(Endpoint::Client(put.op.client), Msg::Client(reply));
            }
        }
    }

    /// The read repair window closed: write the reconciled versions to every
    /// replica that answered with something stale.
    pub(super) fn on_read_repair_window(
        &mut self,
        _t: NodeTime,
        req: RequestId,
        out: &mut Outbox<Timer>,
    ) {
        let Some(get) = self.volatile.gets.remove(&req) else {
            return;
        };
        // The common case: every replica answered the same versions.
        if get.replies.windows(2).all(|w| w[0].1 == w[1].1) {
            return;
        }
        let versioning = self.cluster.versioning;
        let latest = reconcile(
            versioning,
            get.replies.iter().flat_map(|(_, v)| v.iter().cloned()),
        );
        if latest.is_empty() {
            return;
        }
        let mut repaired = 0;
        for (node, versions) in &get.replies {
            if !covers(versions, &latest, versioning) {
                let msg = ReplicaMsg::Repair {
                    key: get.key,
                    versions: latest.clone(),
                };
                self.send_node(out, *node, Msg::Replica(msg));
                repaired += 1;
            }
        }
        if repaired > 0 {
            out.record(Record::ReadRepair {
                coordinator: self.id,
                key: get.key,
                replicas: repaired,
            });
        }
    }
}
