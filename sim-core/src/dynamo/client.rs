//! Client sessions as state machines (the workload's active half).
//!
//! A client issues operations (open loop: Poisson arrivals; closed loop: one
//! at a time with think time), routes each to a coordinator (through a load
//! balancer to a random node, or partition-aware straight to the preference
//! list, §4.5/§6.4), and records what it invoked and what came back. For a
//! read-modify-write it reads, reconciles the siblings *semantically* (union
//! merge or client-side last-writer-wins) and writes back with the context,
//! which is Dynamo's normal pattern. Every write carries a value nobody wrote
//! before, so the checkers know exactly which write a read returned.
//!
//! Like nodes, a client never reads a clock or touches the network.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{Arrival, Reconcile, Routing, Workload, WriteCoordinator};
use crate::dynamo::node::failure_detector::LocalFailureDetector;
use crate::dynamo::protocol::{
    ClientMsg, Context, Endpoint, Failure, GetResult, GossipMsg, Msg, Value,
};
use crate::dynamo::ring::Ring;
use crate::dynamo::workload::{choose_plan, KeySampler, Plan};
use crate::engine::ids::{ClientId, Key, NodeId, OpId, WriteId};
use crate::engine::outbox::Outbox;
use crate::engine::record::{OpKind, Record};
use crate::engine::rng::SimRng;
use crate::engine::time::{SimDuration, SimTime};

/// A client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientTimer {
    /// Time to start the next operation.
    NextOp,
    /// The client gives up on an operation (by sequence number).
    OpTimeout(u64),
    /// Time to refresh the membership view from a random node (§4.5).
    RefreshView,
}

/// What the client will do when a get completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FollowUp {
    None,
    Put,
    Delete,
}

#[derive(Clone, Debug)]
struct InFlight {
    kind: OpKind,
    key: Key,
    invoked: SimTime,
    target: NodeId,
    follow_up: FollowUp,
}

/// Settings every client shares.
#[derive(Debug)]
pub struct ClientShared {
    /// The workload.
    pub workload: Workload,
    /// Keys.
    pub keys: KeySampler,
    /// The membership view of partition-aware clients.
    pub ring: Arc<Ring>,
    /// N of the quorum.
    pub replicas_n: usize,
    /// Number of storage nodes at the start.
    pub node_count: u32,
    /// With gossip membership: how often a client refreshes its view (the
    /// ring it routes with, or the load balancer's node list) from a random
    /// node. `None`: membership is static and every view is `ring`.
    pub view_refresh: Option<SimDuration>,
    /// When clients stop issuing operations.
    pub workload_end: SimTime,
    /// Operations per client before it stops (from `max_ops`).
    pub ops_per_client: Option<u64>,
    /// Whether puts go to the fastest read responder.
    pub write_coordinator: WriteCoordinator,
    /// Retry interval of the client's local failure detector.
    pub retry_interval: SimDuration,
    /// The run's root seed (each client forks its value-size stream from it).
    pub rng_seed: u64,
}

/// One client session.
#[derive(Debug)]
pub struct Client {
    id: ClientId,
    shared: Arc<ClientShared>,
    rng: SimRng,
    next_seq: u64,
    ops_started: u64,
    in_flight: BTreeMap<u64, InFlight>,
    detector: LocalFailureDetector,
    /// The ring this client routes with (refreshed with gossip membership).
    view: Arc<Ring>,
    /// Set while a put is issued as the second half of a read-modify-write.
    writing_back: bool,
    /// Draws value sizes (`workload.value_size`), its own stream.
    sizes: SimRng,
}

impl Client {
    /// A new session.
    pub fn new(id: ClientId, shared: Arc<ClientShared>, rng: SimRng) -> Client {
        Client {
            sizes: SimRng::new(
                shared.rng_seed,
                crate::engine::rng::Stream::ClientValues(id.0),
            ),
            view: shared.ring.clone(),
            writing_back: false,
            id,
            shared,
            rng,
            next_seq: 0,
            ops_started: 0,
            in_flight: BTreeMap::new(),
            detector: LocalFailureDetector::new(),
        }
    }

    /// Starts the session: the first operation after a random offset.
    pub fn on_start(&mut self, _now: SimTime, out: &mut Outbox<ClientTimer>) {
        out.record(Record::ClientStarted { client: self.id });
        if let Some(every) = self.shared.view_refresh {
            out.set_timer(ClientTimer::RefreshView, every);
        }
        let first = match &self.shared.workload.arrival {
            Arrival::OpenLoop { mean_interarrival } => self.exp(*mean_interarrival),
            Arrival::ClosedLoop { think_time } => think_time.sample(&mut self.rng),
        };
        out.set_timer(ClientTimer::NextOp, first);
    }

    fn exp(&mut self, mean: SimDuration) -> SimDuration {
        SimDuration(libm::round(self.rng.exp_f64(mean.as_micros() as f64)) as u64)
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, now: SimTime, timer: ClientTimer, out: &mut Outbox<ClientTimer>) {
        match timer {
            ClientTimer::NextOp => self.on_next_op(now, out),
            ClientTimer::RefreshView => {
                if let Some(every) = self.shared.view_refresh {
                    out.set_timer(ClientTimer::RefreshView, every);
                    let nodes = self.view.nodes();
                    if now < self.shared.workload_end && !nodes.is_empty() {
                        let pick = nodes[self.rng.below(nodes.len() as u64) as usize];
                        out.send(Endpoint::Node(pick), Msg::Gossip(GossipMsg::ViewRequest));
                    }
                }
            }
            ClientTimer::OpTimeout(seq) => {
                if let Some(f) = self.in_flight.remove(&seq) {
                    self.detector
                        .suspect(f.target, now, self.shared.retry_interval);
                    self.complete(
                        now,
                        seq,
                        f,
                        Err(Failure::ClientTimeout),
                        Vec::new(),
                        None,
                        out,
                    );
                    self.after_completion(out);
                }
            }
        }
    }

    fn budget_left(&self) -> bool {
        self.shared
            .ops_per_client
            .is_none_or(|max| self.ops_started < max)
    }

    fn on_next_op(&mut self, now: SimTime, out: &mut Outbox<ClientTimer>) {
        if now >= self.shared.workload_end || !self.budget_left() {
            return;
        }
        self.ops_started += 1;
        let plan = choose_plan(&self.shared.workload.mix, &mut self.rng);
        let key = self.shared.keys.sample(&mut self.rng);
        match plan {
            Plan::Read => self.invoke_get(now, key, FollowUp::None, out),
            Plan::ReadModifyWrite => self.invoke_get(now, key, FollowUp::Put, out),
            Plan::Delete => self.invoke_get(now, key, FollowUp::Delete, out),
            Plan::BlindWrite => self.invoke_put(
                now,
                key,
                OpKind::Put,
                Context::default(),
                Vec::new(),
                Vec::new(),
                out,
            ),
        }
        if let Arrival::OpenLoop { mean_interarrival } = self.shared.workload.arrival {
            let gap = self.exp(mean_interarrival);
            out.set_timer(ClientTimer::NextOp, gap);
        }
    }

    fn next_op(&mut self) -> OpId {
        self.next_seq += 1;
        OpId {
            client: self.id,
            seq: self.next_seq,
        }
    }

    /// The node to send a request to.
    fn route(&mut self, now: SimTime, key: Key, chosen: Option<NodeId>) -> NodeId {
        match self.shared.workload.routing {
            Routing::LoadBalancer => {
                let retry = self.shared.retry_interval;
                let mut pick = NodeId(0);
                for _ in 0..16 {
                    pick = if self.shared.view_refresh.is_some() {
                        let nodes = self.view.nodes();
                        nodes[self.rng.below(nodes.len() as u64) as usize]
                    } else {
                        NodeId(self.rng.below(u64::from(self.shared.node_count)) as u32)
                    };
                    if self.detector.claim(pick, now, retry) {
                        break;
                    }
                }
                pick
            }
            Routing::PartitionAware { .. } => {
                let retry = self.shared.retry_interval;
                if let Some(node) = chosen.filter(|n| self.detector.claim(*n, now, retry)) {
                    return node;
                }
                let ring = self.view.clone();
                let list = ring.preference_list(key);
                list.iter()
                    .copied()
                    .find(|node| self.detector.claim(*node, now, retry))
                    .unwrap_or(list[0])
            }
        }
    }

    fn invoke_get(
        &mut self,
        now: SimTime,
        key: Key,
        follow_up: FollowUp,
        out: &mut Outbox<ClientTimer>,
    ) {
        let op = self.next_op();
        let target = self.route(now, key, None);
        out.record(Record::OpInvoked {
            op,
            kind: OpKind::Get,
            blind: false,
            key,
            write: None,
            based_on: Vec::new(),
            discarded: Vec::new(),
        });
        out.send(
            Endpoint::Node(target),
            Msg::Client(ClientMsg::Get {
                op,
                key,
                forwarded: false,
            }),
        );
        out.set_timer(
            ClientTimer::OpTimeout(op.seq),
            self.shared.workload.client_timeout,
        );
        self.in_flight.insert(
            op.seq,
            InFlight {
                kind: OpKind::Get,
                key,
                invoked: now,
                target,
                follow_up,
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn invoke_put(
        &mut self,
        now: SimTime,
        key: Key,
        kind: OpKind,
        context: Context,
        based_on: Vec<WriteId>,
        discarded: Vec<WriteId>,
        out: &mut Outbox<ClientTimer>,
    ) {
        // A put that is not the second half of a read-modify-write is blind.
        let blind = !self.writing_back;
        self.writing_back = false;
        let op = self.next_op();
        let write = WriteId(op);
        let (value, size) = if kind == OpKind::Delete {
            (Value::Tombstone(write), 0)
        } else {
            let size = match &self.shared.workload.value_size {
                None => crate::config::DEFAULT_VALUE_BYTES,
                Some(d) => d.sample_units(&mut self.sizes).min(u64::from(u32::MAX)) as u32,
            };
            (Value::Data(write), size)
        };
        let chosen = match self.shared.write_coordinator {
            WriteCoordinator::FastestReadResponder => context.fastest_replica,
            WriteCoordinator::FirstHealthy => None,
        };
        let target = self.route(now, key, chosen);
        out.record(Record::OpInvoked {
            op,
            kind,
            key,
            blind,
            write: Some(write),
            based_on,
            discarded,
        });
        out.send(
            Endpoint::Node(target),
            Msg::Client(ClientMsg::Put {
                op,
                key,
                context,
                value,
                size,
                forwarded: false,
            }),
        );
        out.set_timer(
            ClientTimer::OpTimeout(op.seq),
            self.shared.workload.client_timeout,
        );
        self.in_flight.insert(
            op.seq,
            InFlight {
                kind,
                key,
                invoked: now,
                target,
                follow_up: FollowUp::None,
            },
        );
    }

    /// Handles a reply from a coordinator.
    pub fn on_message(
        &mut self,
        now: SimTime,
        from: Endpoint,
        msg: Msg,
        out: &mut Outbox<ClientTimer>,
    ) {
        if let Endpoint::Node(node) = from {
            self.detector.heard_from(node);
        }
        match msg {
            Msg::Client(ClientMsg::GetReply {
                op,
                result,
                coordinator,
            }) => {
                let Some(f) = self.in_flight.remove(&op.seq) else {
                    return;
                };
                let values = result
                    .as_ref()
                    .map(|r| r.versions.iter().map(|v| v.value).collect())
                    .unwrap_or_default();
                let follow_up = f.follow_up;
                let key = f.key;
                self.complete(
                    now,
                    op.seq,
                    f,
                    result.as_ref().map(|_| ()).map_err(|e| *e),
                    values,
                    Some(coordinator),
                    out,
                );
                match (follow_up, result) {
                    (FollowUp::Put, Ok(r)) => self.write_back(now, key, OpKind::Put, r, out),
                    (FollowUp::Delete, Ok(r)) => self.write_back(now, key, OpKind::Delete, r, out),
                    _ => self.after_completion(out),
                }
            }
            Msg::Client(ClientMsg::PutReply {
                op,
                result,
                coordinator,
            }) => {
                let Some(f) = self.in_flight.remove(&op.seq) else {
                    return;
                };
                self.complete(now, op.seq, f, result, Vec::new(), Some(coordinator), out);
                self.after_completion(out);
            }
            Msg::Gossip(GossipMsg::View { ring }) => self.view = ring.0,
            _ => {}
        }
    }

    /// Semantic reconciliation, then the write with the read's context.
    fn write_back(
        &mut self,
        now: SimTime,
        key: Key,
        kind: OpKind,
        read: GetResult,
        out: &mut Outbox<ClientTimer>,
    ) {
        let based_on: Vec<WriteId> = read.versions.iter().map(|v| v.value.write()).collect();
        let discarded = match self.shared.workload.reconcile {
            Reconcile::Union => Vec::new(),
            Reconcile::LastWriterWins => {
                let winner = read
                    .versions
                    .iter()
                    .max_by_key(|v| v.stamp)
                    .map(|v| v.value.write());
                based_on
                    .iter()
                    .copied()
                    .filter(|w| Some(*w) != winner)
                    .collect()
            }
        };
        self.writing_back = true;
        self.invoke_put(now, key, kind, read.context, based_on, discarded, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        _now: SimTime,
        seq: u64,
        f: InFlight,
        result: Result<(), Failure>,
        values: Vec<Value>,
        coordinator: Option<NodeId>,
        out: &mut Outbox<ClientTimer>,
    ) {
        let op = OpId {
            client: self.id,
            seq,
        };
        out.cancel_timer(ClientTimer::OpTimeout(seq));
        out.record(Record::OpCompleted {
            op,
            kind: f.kind,
            key: f.key,
            invoked: f.invoked,
            result,
            values,
            coordinator,
        });
    }

    /// Closed loop: the next operation after the think time.
    fn after_completion(&mut self, out: &mut Outbox<ClientTimer>) {
        if let Arrival::ClosedLoop { think_time } = &self.shared.workload.arrival {
            let pause = think_time.sample(&mut self.rng);
            out.set_timer(ClientTimer::NextOp, pause);
        }
    }

    /// Operations still waiting for an answer.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }
}
