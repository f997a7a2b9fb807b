//! Riak's read options, driven through a real coordinator (sans-IO: the
//! test delivers the replicas' replies in the order it chooses).
//!
//! `notfound_ok` and `basic_quorum` follow `riak_kv_get_core`: with
//! `notfound_ok` (the default) a "not found" counts toward R; without it only
//! replies holding a version do, and the read gives up after N - R + 1
//! not-founds, or after a majority of N with `basic_quorum`. A key held by one
//! replica of three, whose reply comes last, is the case that tells them
//! apart.
//!
//! PW and DW are checked through whole runs: a put needs PW acknowledgements
//! from the key's top N and DW from durable (not §6.1 buffered) writes.

use std::sync::Arc;

use sim_core::dynamo::node::{Node, NodeTime, Timer};
use sim_core::dynamo::protocol::{
    ClientMsg, Endpoint, Failure, GetResult, Msg, ReplicaMsg, Version,
};
use sim_core::dynamo::ring::{Ring, TokenMap};
use sim_core::engine::ids::{ClientId, DatacenterId, Key, NodeId, OpId, RequestId};
use sim_core::engine::outbox::{Command, Outbox};
use sim_core::engine::record::{OpKind, Record};
use sim_core::engine::rng::{SimRng, Stream};
use sim_core::engine::time::SimTime;
use sim_core::scenario::{no_files, parse};
use sim_core::sim::Simulation;

const KEY: Key = Key(7);

/// Node 0 of a three-node cluster (N = 3, strict quorum) with these quorum
/// settings, and a version of `KEY` to hand out as a replica's reply.
fn coordinator(quorum: &str) -> (Node, Version) {
    let text = format!(
        r#"{{"name":"t","duration_s":10,
        "cluster":{{"nodes":3,"quorum":{quorum},"quorum_mode":"strict",
            "read_repair":false,"hinted_handoff":false}},
        "workload":{{"clients":1,"arrival":{{"open_loop":{{"rate_per_s":1}}}},
            "keys":{{"count":10}},"mix":{{"read":1}}}}}}"#
    );
    let scenario = parse(&text, &no_files).expect("test scenario validates");
    let cluster = Arc::new(scenario.cluster.clone());
    let members: Vec<_> = (0..3).map(|i| (NodeId(i), DatacenterId(0))).collect();
    let tokens = TokenMap::initial(
        cluster.partitioning,
        &members,
        &mut SimRng::new(1, Stream::Ring),
    );
    let ring = Arc::new(Ring::new(&tokens, 3, cluster.extended_len()));
    let mut writer = Node::new(
        NodeId(1),
        cluster.clone(),
        ring.clone(),
        SimRng::new(1, Stream::Node(1)),
    );
    let version = writer.coordinate_load(KEY, 10);
    let node = Node::new(NodeId(0), cluster, ring, SimRng::new(1, Stream::Node(0)));
    (node, version)
}

/// What the client was told, if anything, by the commands of one step.
fn reply(out: &mut Outbox<Timer>) -> Option<Result<GetResult, Failure>> {
    out.drain().into_iter().find_map(|cmd| match cmd {
        Command::Send {
            msg: Msg::Client(ClientMsg::GetReply { result, .. }),
            ..
        } => Some(result),
        _ => None,
    })
}

/// Starts a get at node 0 and delivers replies in `order` (node, found?):
/// returns the answer and after how many replies it came.
fn read(quorum: &str, order: &[(u32, bool)]) -> (Result<GetResult, Failure>, usize) {
    let (mut node, version) = coordinator(quorum);
    let op = OpId {
        client: ClientId(0),
        seq: 1,
    };
    let mut out = Outbox::new();
    let get = Msg::Client(ClientMsg::Get {
        op,
        key: KEY,
        forwarded: true,
    });
    node.on_message(
        NodeTime::at(SimTime(10)),
        Endpoint::Client(ClientId(0)),
        get,
        &mut out,
    );
    let request: RequestId = out
        .drain()
        .into_iter()
        .find_map(|cmd| match cmd {
            Command::Send {
                msg: Msg::Replica(ReplicaMsg::Read { request, .. }),
                ..
            } => Some(request),
            _ => None,
        })
        .expect("the coordinator asks the replicas");
    for (i, &(from, found)) in order.iter().enumerate() {
        let versions = if found {
            vec![version.clone()]
        } else {
            Vec::new()
        };
        let mut out = Outbox::new();
        node.on_message(
            NodeTime::at(SimTime(20 + i as u64)),
            Endpoint::Node(NodeId(from)),
            Msg::Replica(ReplicaMsg::ReadReply { request, versions }),
            &mut out,
        );
        if let Some(result) = reply(&mut out) {
            return (result, i + 1);
        }
    }
    panic!("no answer after {order:?}");
}

/// The key is on node 2 only, whose reply comes last.
const FOUND_LAST: [(u32, bool); 3] = [(0, false), (1, false), (2, true)];

fn found(result: &Result<GetResult, Failure>) -> usize {
    result.as_ref().expect("a successful read").versions.len()
}

#[test]
fn by_default_a_not_found_counts_toward_r() {
    let (result, after) = read(r#"{"n":3,"r":1,"w":1}"#, &FOUND_LAST);
    assert_eq!(
        (found(&result), after),
        (0, 1),
        "the first not-found answers"
    );
}

#[test]
fn without_notfound_ok_a_read_waits_for_the_replica_that_has_the_key() {
    let (result, after) = read(r#"{"n":3,"r":1,"w":1,"notfound_ok":false}"#, &FOUND_LAST);
    assert_eq!(
        (found(&result), after),
        (1, 3),
        "the value, after all three"
    );
}

#[test]
fn basic_quorum_answers_not_found_once_a_majority_said_so() {
    let quorum = r#"{"n":3,"r":1,"w":1,"notfound_ok":false,"basic_quorum":true}"#;
    let (result, after) = read(quorum, &FOUND_LAST);
    assert_eq!(
        (found(&result), after),
        (0, 2),
        "not found after two of three"
    );
    // When the replica holding the key answers first, the value comes at once.
    let (result, after) = read(quorum, &[(2, true), (0, false), (1, false)]);
    assert_eq!((found(&result), after), (1, 1));
}

#[test]
fn a_key_found_on_fewer_than_r_replicas_fails_without_notfound_ok() {
    let quorum = r#"{"n":3,"r":2,"w":2,"notfound_ok":false}"#;
    let (result, after) = read(quorum, &[(2, true), (0, false), (1, false)]);
    assert_eq!(
        after, 3,
        "two not-founds make R = 2 found replies impossible"
    );
    assert_eq!(
        result.err(),
        Some(Failure::NotEnoughReplicas {
            got: 1,
            required: 2
        }),
        "Riak's r_val_unsatisfied"
    );
    // No reply held the key: Riak answers notfound, not an error.
    let (result, after) = read(quorum, &FOUND_LAST);
    assert_eq!((found(&result), after), (0, 2));
}

/// Runs a scenario and returns its starting ring and every record.
fn run(text: &str) -> (Arc<Ring>, Vec<(SimTime, Record)>) {
    let scenario = Arc::new(parse(text, &no_files).expect("test scenario validates"));
    let sim = Simulation::new(scenario);
    let ring = sim.ring().clone();
    let mut records = Vec::new();
    sim.run(&mut records, None);
    (ring, records)
}

/// A completed put: (invoked, latency µs, key, result, coordinator replied).
type Put = (SimTime, u64, Key, Result<(), Failure>, bool);

/// Completed puts.
fn puts(records: &[(SimTime, Record)]) -> Vec<Put> {
    records
        .iter()
        .filter_map(|(at, r)| match r {
            Record::OpCompleted {
                kind: OpKind::Put,
                key,
                invoked,
                result,
                coordinator,
                ..
            } => Some((
                *invoked,
                at.as_micros() - invoked.as_micros(),
                *key,
                *result,
                coordinator.is_some(),
            )),
            _ => None,
        })
        .collect()
}

/// Six nodes, N = 3, R = W = 2 (sloppy), n0 and n1 down from 10 s to 20 s.
fn two_down(pw: u32) -> String {
    format!(
        r#"{{"name":"pw","duration_s":30,"quiescence":{{"duration_s":5}},
        "cluster":{{"nodes":6,"quorum":{{"n":3,"r":2,"w":2,"pw":{pw}}},
            "partitioning":{{"strategy":"equal_partitions","partitions":48}}}},
        "network":{{"latency":{{"lognormal":{{"median_ms":0.5,"sigma":0.5}}}}}},
        "workload":{{"clients":6,"routing":"partition_aware",
            "arrival":{{"open_loop":{{"rate_per_s":40}}}},
            "keys":{{"count":1000}},"mix":{{"read":0.5,"read_modify_write":0.5}}}},
        "faults":[{{"at_s":10,"crash":{{"node":"n0"}},"for_s":10}},
                  {{"at_s":10,"crash":{{"node":"n1"}},"for_s":10}}]}}"#
    )
}

#[test]
fn pw_2_fails_the_writes_of_keys_with_two_primaries_down_and_pw_0_does_not() {
    let (ring, records) = run(&two_down(2));
    let both_down = |key: Key| {
        let top = &ring.preference_list(key)[..3];
        top.contains(&NodeId(0)) && top.contains(&NodeId(1))
    };
    // Once the coordinators know (a replica timeout after the crash), and
    // until the nodes are back.
    let window = |t: SimTime| (10_500_000..20_000_000).contains(&t.as_micros());
    let (mut failed, mut ok) = (0, 0);
    for (invoked, _, key, result, replied) in puts(&records) {
        if !replied || !window(invoked) {
            continue;
        }
        if both_down(key) {
            assert!(
                matches!(result, Err(Failure::Unavailable { required: 2, .. })),
                "a put of {key} with two primaries down: {result:?}"
            );
            failed += 1;
        } else {
            assert!(result.is_ok(), "a put of {key}: {result:?}");
            ok += 1;
        }
    }
    assert!(failed >= 20 && ok >= 200, "failed {failed}, ok {ok}");
    // PW = 0: sloppy quorum writes to fallbacks; no put fails at a coordinator.
    let (_, records) = run(&two_down(0));
    let refused = puts(&records)
        .into_iter()
        .filter(|(_, _, _, result, replied)| *replied && result.is_err())
        .count();
    assert_eq!(refused, 0);
}

/// Three nodes, W = 2, buffered writes, durable writes take 20 ms and the
/// network 1 ms.
fn buffered(dw: u32) -> String {
    format!(
        r#"{{"name":"dw","duration_s":5,"quiescence":{{"duration_s":1}},
        "cluster":{{"nodes":3,"quorum":{{"n":3,"r":2,"w":2,"dw":{dw}}},
            "storage":{{"write_latency":{{"constant":{{"ms":20}}}},
                "buffered_writes":{{"flush_interval_ms":1000}}}}}},
        "network":{{"latency":{{"constant":{{"ms":1}}}}}},
        "workload":{{"clients":2,"routing":"partition_aware",
            "arrival":{{"open_loop":{{"rate_per_s":20}}}},
            "keys":{{"count":100}},"mix":{{"blind_write":1}}}}}}"#
    )
}

#[test]
fn dw_counts_only_durable_acknowledgements() {
    let latencies = |dw| {
        let (_, records) = run(&buffered(dw));
        let mut l: Vec<u64> = puts(&records)
            .into_iter()
            .filter(|p| p.3.is_ok())
            .map(|p| p.1)
            .collect();
        l.sort_unstable();
        assert!(l.len() > 100, "{} puts", l.len());
        l
    };
    // DW = 0: the two buffered replicas acknowledge from memory (2 network
    // hops each way, no disk).
    let none = latencies(0);
    assert!(
        none[none.len() - 1] < 10_000,
        "DW 0 max {} µs",
        none[none.len() - 1]
    );
    // DW = 1 and 2: no put is acknowledged before a durable write is done.
    for dw in [1, 2] {
        let l = latencies(dw);
        assert!(l[0] >= 20_000, "DW {dw} min {} µs", l[0]);
    }
}

/// Three nodes, strict quorum (3, 2, 2), n1 and n2 down from 2 s on.
fn two_of_three_down(fail_fast: bool) -> String {
    format!(
        r#"{{"name":"ff","duration_s":10,"quiescence":{{"duration_s":1,"heal_faults":false}},
        "cluster":{{"nodes":3,"quorum":{{"n":3,"r":2,"w":2,"fail_fast":{fail_fast}}},
            "quorum_mode":"strict"}},
        "network":{{"latency":{{"constant":{{"ms":1}}}}}},
        "workload":{{"clients":2,"routing":"partition_aware","client_timeout_ms":3000,
            "arrival":{{"open_loop":{{"rate_per_s":20}}}},
            "keys":{{"count":100}},"mix":{{"blind_write":1}}}},
        "faults":[{{"at_s":2,"crash":{{"node":"n1"}}}},{{"at_s":2,"crash":{{"node":"n2"}}}}]}}"#
    )
}

#[test]
fn fail_fast_answers_unavailable_at_once_instead_of_at_the_request_timeout() {
    let failures = |fail_fast| {
        let (_, records) = run(&two_of_three_down(fail_fast));
        let mut f: Vec<(u64, Failure)> = puts(&records)
            .into_iter()
            .filter(|p| p.4 && p.0.as_micros() >= 3_000_000)
            .map(|p| (p.1, p.3.expect_err("no put can succeed")))
            .collect();
        f.sort_unstable_by_key(|x| x.0);
        assert!(f.len() > 50, "{} puts", f.len());
        f
    };
    // Without: each put waits for the coordinator's request timeout (1 s).
    for (latency, failure) in failures(false) {
        assert!(latency >= 1_000_000, "{latency} µs");
        assert!(matches!(failure, Failure::NotEnoughReplicas { .. }));
    }
    // With: the coordinator knows two replicas are down and says so at
    // once, except for the puts that carry its periodic retry of a
    // suspected node (§4.8.3, every retry_interval), which wait.
    let fast = failures(true);
    let p90 = fast[fast.len() * 9 / 10].0;
    assert!(p90 < 10_000, "p90 of the failures {p90} µs");
    let unavailable = fast
        .iter()
        .filter(|(_, f)| {
            *f == Failure::Unavailable {
                reachable: 1,
                required: 2,
            }
        })
        .count();
    assert!(
        unavailable * 10 >= fast.len() * 9,
        "{unavailable} of {}",
        fast.len()
    );
}

/// Retries under loss: some put is committed by two tries (two
/// `WriteCommitted` records for one operation), and every put completes
/// once. `reports/tests/options.rs` checks that the durability checker
/// counts such a write once.
#[test]
fn a_retried_put_can_commit_twice_and_completes_once() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/retries-under-loss.json"
    ))
    .expect("shipped scenario");
    let (_, records) = run(&text);
    let mut commits = std::collections::BTreeMap::new();
    let mut completions = std::collections::BTreeMap::new();
    for (_, r) in &records {
        match r {
            Record::WriteCommitted { op, .. } => *commits.entry(*op).or_insert(0) += 1,
            Record::OpCompleted { op, .. } => *completions.entry(*op).or_insert(0) += 1,
            _ => {}
        }
    }
    assert!(completions.values().all(|c| *c == 1));
    let twice = commits.values().filter(|c| **c >= 2).count();
    assert!(twice >= 1, "no put committed twice");
}

/// Starts a put of `KEY` at node 0 (strict, N = 3, W = 2, with `quorum`)
/// and acknowledges it from nodes 1 and 2, each ack carrying one of two
/// concurrent versions (written through different coordinators): returns
/// the put's reply.
fn put_acked_with_siblings(quorum: &str) -> Msg {
    let (mut node, _) = coordinator(quorum);
    let text = r#"{"name":"t","duration_s":10,
        "cluster":{"nodes":3,"quorum":{"n":3,"r":2,"w":2},"quorum_mode":"strict"},
        "workload":{"clients":1,"arrival":{"open_loop":{"rate_per_s":1}},
            "keys":{"count":10},"mix":{"read":1}}}"#;
    let scenario = parse(text, &no_files).expect("validates");
    let cluster = Arc::new(scenario.cluster.clone());
    let members: Vec<_> = (0..3).map(|i| (NodeId(i), DatacenterId(0))).collect();
    let tokens = TokenMap::initial(
        cluster.partitioning,
        &members,
        &mut SimRng::new(1, Stream::Ring),
    );
    let ring = Arc::new(Ring::new(&tokens, 3, cluster.extended_len()));
    let sibling = |i: u32| {
        let mut writer = Node::new(
            NodeId(i),
            cluster.clone(),
            ring.clone(),
            SimRng::new(1, Stream::Node(i)),
        );
        let mut v = writer.coordinate_load(KEY, 1000);
        v.set_value(sim_core::dynamo::protocol::Value::Data(
            sim_core::engine::ids::WriteId(OpId {
                client: ClientId(9),
                seq: u64::from(i),
            }),
        ));
        v
    };
    let op = OpId {
        client: ClientId(0),
        seq: 1,
    };
    let mut out = Outbox::new();
    let put = Msg::Client(ClientMsg::Put {
        op,
        key: KEY,
        context: Default::default(),
        value: sim_core::dynamo::protocol::Value::Data(sim_core::engine::ids::WriteId(op)).into(),
        size: 1000,
        forwarded: true,
    });
    node.on_message(
        NodeTime::at(SimTime(10)),
        Endpoint::Client(ClientId(0)),
        put,
        &mut out,
    );
    let request: RequestId = out
        .drain()
        .into_iter()
        .find_map(|cmd| match cmd {
            Command::Send {
                msg: Msg::Replica(ReplicaMsg::Write { request, .. }),
                ..
            } => Some(request),
            _ => None,
        })
        .expect("the coordinator writes to the replicas");
    for from in [1, 2] {
        let mut out = Outbox::new();
        node.on_message(
            NodeTime::at(SimTime(20 + u64::from(from))),
            Endpoint::Node(NodeId(from)),
            Msg::Replica(ReplicaMsg::WriteAck {
                request,
                versions: vec![sibling(from)],
            }),
            &mut out,
        );
        let reply = out.drain().into_iter().find_map(|cmd| match cmd {
            Command::Send {
                msg: msg @ Msg::Client(ClientMsg::PutReply { .. }),
                ..
            } => Some(msg),
            _ => None,
        });
        if let Some(reply) = reply {
            return reply;
        }
    }
    panic!("no reply after W acks");
}

/// Riak's `return_body`: the put's reply carries the merge of what the W
/// acknowledging replicas stored, so a writer racing another sees both
/// siblings, and the reply weighs their values; without it the reply is
/// bare.
#[test]
fn return_body_replies_with_the_siblings_the_acks_carried() {
    let with = put_acked_with_siblings(r#"{"n":3,"r":2,"w":2,"return_body":true}"#);
    let without = put_acked_with_siblings(r#"{"n":3,"r":2,"w":2}"#);
    let body = |m: &Msg| match m {
        Msg::Client(ClientMsg::PutReply { body, result, .. }) => {
            assert!(result.is_ok());
            body.clone()
        }
        _ => unreachable!(),
    };
    let siblings = body(&with);
    assert_eq!(siblings.len(), 2, "{siblings:?}");
    assert!(body(&without).is_empty());
    assert!(
        with.size_bytes() >= without.size_bytes() + 2000,
        "{} vs {} bytes",
        with.size_bytes(),
        without.size_bytes()
    );
}

/// A replica's write acknowledgement carries the object it stored with
/// `return_body` (and nothing without).
#[test]
fn with_return_body_a_replica_acknowledges_with_its_object() {
    for (quorum, carried) in [
        (r#"{"n":3,"r":2,"w":2,"return_body":true}"#, 1),
        (r#"{"n":3,"r":2,"w":2}"#, 0),
    ] {
        let (mut node, version) = coordinator(quorum);
        let mut out = Outbox::new();
        node.on_message(
            NodeTime::at(SimTime(10)),
            Endpoint::Node(NodeId(1)),
            Msg::Replica(ReplicaMsg::Write {
                request: RequestId(5),
                key: KEY,
                version,
                siblings: Vec::new(),
                hint: None,
                durability: sim_core::dynamo::protocol::Durability::Durable,
            }),
            &mut out,
        );
        let versions = out
            .drain()
            .into_iter()
            .find_map(|cmd| match cmd {
                Command::Send {
                    msg: Msg::Replica(ReplicaMsg::WriteAck { versions, .. }),
                    ..
                } => Some(versions),
                _ => None,
            })
            .expect("acknowledged");
        assert_eq!(versions.len(), carried, "{quorum}");
    }
}

/// The shipped same-datacenter fallback scenario (e1 of east down from 10 s
/// to 20 s) with `fallbacks` as given: every hint stored, as (holder's
/// datacenter, owner's datacenter), and the latencies of successful puts.
fn hints_by_datacenter(fallbacks: &str) -> (Vec<(u32, u32)>, Vec<u64>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/fallbacks-same-datacenter.json"
    ))
    .expect("shipped scenario")
    .replace(
        r#""fallbacks": "same_datacenter""#,
        &format!(r#""fallbacks": "{fallbacks}""#),
    );
    let (_, records) = run(&text);
    // e1..e5 are nodes 0..4 (east), w1..w5 nodes 5..9 (west).
    let dc = |n: NodeId| n.0 / 5;
    let hints = records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::HintStored { holder, owner, .. } => Some((dc(*holder), dc(*owner))),
            _ => None,
        })
        .collect();
    let latencies = puts(&records)
        .into_iter()
        .filter(|p| p.3.is_ok())
        .map(|p| p.1)
        .collect();
    (hints, latencies)
}

/// `fallbacks: same_datacenter`: with e1 down, every hint for it lands on
/// an east node; with `any` (the paper's next node of the list) some land
/// in west, across the WAN. LOCAL_QUORUM stays local either way: hints do
/// not count toward it, so no put waits for the other datacenter.
#[test]
fn same_datacenter_fallbacks_keep_hints_in_the_owners_datacenter() {
    let (same, same_latencies) = hints_by_datacenter("same_datacenter");
    let (any, any_latencies) = hints_by_datacenter("any");
    let crossing = |h: &[(u32, u32)]| h.iter().filter(|(a, b)| a != b).count();
    assert!(same.len() >= 100, "{} hints", same.len());
    assert_eq!(crossing(&same), 0);
    assert!(
        crossing(&any) * 10 >= any.len(),
        "{} of {} hints cross datacenters with any",
        crossing(&any),
        any.len()
    );
    for mut l in [same_latencies, any_latencies] {
        l.sort_unstable();
        let p99 = l[l.len() * 99 / 100];
        assert!(p99 < 10_000, "put p99 {p99} µs: waited for the WAN");
    }
}
