//! Property tests: the scenario format round-trips and never panics on bad
//! input; the event queue and the latency samplers keep their contracts.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};

use sim_core::engine::queue::EventQueue;
use sim_core::engine::rng::{SimRng, Stream};
use sim_core::engine::time::SimTime;
use sim_core::scenario::*;
use sim_core::world::dist::{Latency, Mixture, SAMPLE_CAP};

/// Fixed seed and no regression files: every run tests the same cases.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_d1a0),
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------ scenarios/

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[test]
fn every_shipped_scenario_validates_and_round_trips() {
    let dir = scenarios_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable scenario");
        let base = path.parent().unwrap().to_path_buf();
        let resolver = move |rel: &str| -> Result<String, String> {
            std::fs::read_to_string(base.join(rel)).map_err(|e| e.to_string())
        };
        let file = parse_file(&text).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
        if let Err(e) = validate(&file, &resolver) {
            panic!("{} does not validate:\n{e}", path.display());
        }
        if let Err(e) = parse(&text, &resolver) {
            panic!("{} does not parse:\n{e}", path.display());
        }
        let again = serde_json::to_string(&file).expect("a ScenarioFile serializes");
        let reparsed =
            parse_file(&again).unwrap_or_else(|e| panic!("{} re-read:\n{e}", path.display()));
        assert_eq!(reparsed, file, "{} does not round-trip", path.display());
    }
}

#[test]
fn json_schema_describes_the_top_level_sections() {
    let schema = json_schema();
    assert!(schema.is_object(), "{schema}");
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .expect("schema has \"properties\"");
    for key in [
        "cluster",
        "workload",
        "expect",
        "name",
        "duration_s",
        "faults",
    ] {
        assert!(props.contains_key(key), "schema lacks {key:?}");
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("schema lists required fields")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for key in ["name", "duration_s", "cluster", "workload"] {
        assert!(required.contains(&key), "{key:?} is required");
    }
}

// ------------------------------------------------- generated ScenarioFiles

fn prob() -> impl Strategy<Value = ProbabilityDto> {
    prop_oneof![
        (0.0..=1.0f64).prop_map(ProbabilityDto::Number),
        (0u32..=100, 1u32..=100).prop_map(|(a, b)| {
            let (a, b) = (a.min(b), b);
            ProbabilityDto::Ratio(format!("{a}/{b}"))
        }),
    ]
}

fn empirical_points() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((0.0..5.0f64, 0u32..=1000), 1..6).prop_map(|raw| {
        let mut probs: Vec<u32> = raw.iter().map(|(_, p)| *p).collect();
        probs.sort_unstable();
        let mut ms = 0.0;
        let n = raw.len();
        raw.iter()
            .zip(probs)
            .enumerate()
            .map(|(i, ((d, _), p))| {
                ms += d;
                let p = if i + 1 == n {
                    1.0
                } else {
                    f64::from(p) / 1000.0
                };
                (ms, p)
            })
            .collect()
    })
}

fn latency_leaf() -> impl Strategy<Value = LatencyDto> {
    prop_oneof![
        (0.0..50.0f64).prop_map(|ms| LatencyDto::Constant { ms }),
        (0.0..10.0f64, 0.0..10.0f64).prop_map(|(lo, d)| LatencyDto::Uniform {
            min_ms: lo,
            max_ms: lo + d
        }),
        (0.0..10.0f64, 0.0..5.0f64)
            .prop_map(|(mean_ms, stddev_ms)| LatencyDto::Normal { mean_ms, stddev_ms }),
        (0.0..10.0f64).prop_map(|mean_ms| LatencyDto::Exponential { mean_ms }),
        (0.0..10.0f64, 0.0..2.0f64)
            .prop_map(|(median_ms, sigma)| LatencyDto::Lognormal { median_ms, sigma }),
        (0.0..10.0f64, 0.1..5.0f64)
            .prop_map(|(scale_ms, shape)| LatencyDto::Pareto { scale_ms, shape }),
        empirical_points()
            .prop_map(|points| LatencyDto::Empirical(EmpiricalDto { points, csv: None })),
    ]
}

fn latency() -> impl Strategy<Value = LatencyDto> {
    latency_leaf().prop_recursive(2, 10, 4, |inner| {
        prop_oneof![
            prop::collection::vec((0.01..10.0f64, inner.clone()), 1..4).prop_map(|parts| {
                LatencyDto::Mixture(
                    parts
                        .into_iter()
                        .map(|(weight, latency)| MixturePartDto { weight, latency })
                        .collect(),
                )
            }),
            prop::collection::vec(inner.clone(), 1..3).prop_map(LatencyDto::Sum),
            (0.0..100.0f64, inner).prop_map(|(ms, latency)| LatencyDto::Offset(OffsetDto {
                ms,
                latency: Box::new(latency),
            })),
        ]
    })
}

const KINDS: [&str; 10] = [
    "client_request",
    "client_reply",
    "forward",
    "read_request",
    "read_response",
    "write_request",
    "write_ack",
    "repair",
    "handoff",
    "handoff_ack",
];

fn link() -> impl Strategy<Value = LinkDto> {
    (
        prop::option::of(latency()),
        prop::collection::btree_map(prop::sample::select(&KINDS[..]), latency_leaf(), 0..3),
        prop::option::of(prob()),
        prop::option::of(prob()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(latency, by_kind, loss, duplicate, fifo)| LinkDto {
            latency,
            latency_by_kind: by_kind
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            loss,
            duplicate,
            fifo,
        })
}

/// The names a generated scenario defines, for building references.
#[derive(Clone, Debug)]
struct World {
    datacenters: Vec<String>,
    nodes: NodesDto,
    clients: ClientsDto,
    node_names: Vec<String>,
    client_names: Vec<String>,
}

impl World {
    fn dc_names(&self) -> Vec<String> {
        if self.datacenters.is_empty() {
            vec!["dc1".to_string()]
        } else {
            self.datacenters.clone()
        }
    }
    fn endpoints(&self) -> Vec<String> {
        self.node_names
            .iter()
            .chain(&self.client_names)
            .cloned()
            .collect()
    }
}

fn world() -> impl Strategy<Value = World> {
    (
        any::<bool>(),
        1usize..10,
        any::<bool>(),
        1usize..5,
        any::<bool>(),
        prop::collection::vec(any::<prop::sample::Index>(), 10),
    )
        .prop_map(
            |(multi_dc, node_count, named_nodes, client_count, named_clients, picks)| {
                let datacenters: Vec<String> = if multi_dc {
                    vec!["east".into(), "west".into(), "south".into()]
                } else {
                    Vec::new()
                };
                let dcs = if multi_dc {
                    datacenters.clone()
                } else {
                    vec!["dc1".to_string()]
                };
                let place = |i: usize| -> Option<String> {
                    let pick = picks[i % picks.len()].index(dcs.len() + 1);
                    dcs.get(pick).cloned()
                };
                let (nodes, node_names) = if named_nodes {
                    let list: Vec<NamedDto> = (0..node_count)
                        .map(|i| NamedDto {
                            name: format!("node-{i}"),
                            datacenter: place(i),
                        })
                        .collect();
                    let names = list.iter().map(|n| n.name.clone()).collect();
                    (NodesDto::List(list), names)
                } else {
                    (
                        NodesDto::Count(node_count as u32),
                        (0..node_count).map(|i| format!("n{i}")).collect(),
                    )
                };
                let (clients, client_names) = if named_clients {
                    let list: Vec<NamedDto> = (0..client_count)
                        .map(|i| NamedDto {
                            name: format!("client-{i}"),
                            datacenter: place(i + 5),
                        })
                        .collect();
                    let names = list.iter().map(|n| n.name.clone()).collect();
                    (ClientsDto::List(list), names)
                } else {
                    (
                        ClientsDto::Count(client_count as u32),
                        (0..client_count).map(|i| format!("c{i}")).collect(),
                    )
                };
                World {
                    datacenters,
                    nodes,
                    clients,
                    node_names,
                    client_names,
                }
            },
        )
}

fn partitioning(nodes: u32) -> impl Strategy<Value = Option<PartitioningDto>> {
    prop_oneof![
        Just(None),
        (1u32..=64).prop_map(|t| Some(PartitioningDto::RandomTokens { tokens_per_node: t })),
        (1u32..=64, 1u32..=1024).prop_map(|(t, q)| Some(
            PartitioningDto::RandomTokensEqualPartitions {
                tokens_per_node: t,
                partitions: q
            }
        )),
        // One more than the nodes: a generated scenario may have one joiner.
        (nodes + 1..=nodes * 16 + 1)
            .prop_map(|q| Some(PartitioningDto::EqualPartitions { partitions: q })),
    ]
}

fn cluster(w: &World) -> impl Strategy<Value = ClusterDto> {
    let node_count = w.node_names.len() as u32;
    let nodes = w.nodes.clone();
    let quorum = (1..=node_count).prop_flat_map(|n| {
        (Just(n), 1..=n, 1..=n).prop_map(|(n, r, w)| QuorumDto {
            n,
            r,
            w,
            pr: 0,
            pw: 0,
            dw: 0,
            notfound_ok: true,
            basic_quorum: false,
            fail_fast: false,
            consistency: ConsistencyDto::Fixed,
            fallbacks: Default::default(),
            return_body: false,
        })
    });
    let settings = (
        prop_oneof![
            Just(VersioningDto::VectorClocks),
            Just(VersioningDto::DottedVersionVectors),
            Just(VersioningDto::VnodeClocks),
            Just(VersioningDto::LastWriteWins)
        ],
        0usize..20,
        prop_oneof![Just(QuorumModeDto::Sloppy), Just(QuorumModeDto::Strict)],
        any::<bool>(),
        1.0..5000.0f64,
        1usize..200,
        any::<bool>(),
        0.0..500.0f64,
    );
    let timeouts = (
        1.0..5000.0f64,
        1.0..1000.0f64,
        1.0..5000.0f64,
        prop::option::of((0.0..100.0f64, 0.01..10.0f64)),
        (latency(), latency(), prop::option::of(1.0..500.0f64)),
        prop_oneof![
            Just(WriteCoordinatorDto::FirstHealthy),
            Just(WriteCoordinatorDto::FastestReadResponder)
        ],
        prop_oneof![
            Just(CoordinatorScopeDto::PreferenceList),
            Just(CoordinatorScopeDto::AnyNode),
            Just(CoordinatorScopeDto::AnyNodeReadsAndWrites)
        ],
    );
    (quorum, partitioning(node_count), settings, timeouts).prop_map(
        move |(quorum, partitioning, s, t)| ClusterDto {
            nodes: nodes.clone(),
            quorum,
            partitioning,
            versioning: s.0,
            vclock_truncation_threshold: s.1,
            quorum_mode: s.2,
            hinted_handoff: s.3,
            hint_scan_interval_ms: s.4,
            hint_batch_max: s.5,
            read_repair: s.6,
            read_repair_window_ms: s.7,
            request_timeout_ms: t.0,
            replica_timeout_ms: t.1,
            retry_interval_ms: t.2,
            tombstone_gc: t.3.map(|(grace_s, scan_interval_s)| TombstoneGcDto {
                grace_s,
                scan_interval_s,
            }),
            // Derived from the draw so round-trips cover both present and absent.
            anti_entropy: (s.5 % 2 == 0).then(|| AntiEntropyDto {
                interval_ms: 250.0 + s.5 as f64,
                fanout: 2 + (s.5 % 15) as u32,
                depth: 1 + (s.5 % 2) as u32,
                partners: [
                    None,
                    Some(AePartnersDto::RoundRobin),
                    Some(AePartnersDto::Random),
                ][s.5 % 3],
            }),
            storage: StorageDto {
                read_latency: t.4 .0,
                write_latency: t.4 .1,
                buffered_writes: t
                    .4
                     .2
                    .map(|flush_interval_ms| BufferedWritesDto { flush_interval_ms }),
            },
            write_coordinator: t.5,
            coordinator_scope: t.6,
            // Filled in by `scenario_file`, with the faults that need it.
            membership: None,
            // Derived from the draw so round-trips cover every value.
            fallback_reads: if s.3 {
                FallbackReadsDto::IncludeHints
            } else {
                FallbackReadsDto::ExcludeHints
            },
            disk_loss_identity: if s.6 {
                DiskLossIdentityDto::NewActor
            } else {
                DiskLossIdentityDto::SameActor
            },
            sibling_limits: (s.5 % 3 == 0).then(|| SiblingLimitsDto {
                warn_above: Some(1 + s.5 as u32),
                refuse_above: (s.5 % 2 == 0).then_some(2 + 2 * s.5 as u32),
            }),
            checksums: s.5 % 5 == 0,
            // Derived from the draw so round-trips cover both present and absent.
            capacity: (s.5 % 3 == 0).then(|| CapacityDto {
                cpu: Some(CpuDto {
                    workers: 1 + (s.5 % 8) as u32,
                    service: ServiceDto {
                        default: LatencyDto::Exponential { mean_ms: 0.1 },
                        by_kind: [(
                            "write_request".to_string(),
                            LatencyDto::Constant { ms: 0.2 },
                        )]
                        .into_iter()
                        .collect(),
                    },
                    per_mb_ms: (s.5 % 4) as f64,
                    queue_limit: 100 + s.5 as u32,
                    overload: if s.5 % 2 == 0 {
                        OverloadDto::Reject
                    } else {
                        OverloadDto::ShedOldest
                    },
                }),
                disk: (s.5 % 2 == 0).then(|| DiskDto {
                    concurrency: 1 + (s.5 % 4) as u32,
                    read: None,
                    write: Some(LatencyDto::Exponential { mean_ms: 1.0 }),
                    queue_limit: 1000,
                    overload: OverloadDto::Reject,
                }),
                nic: (s.5 % 5 == 0).then_some(NicDto {
                    bandwidth_mb_per_s: Some(125.0),
                    egress_mb_per_s: None,
                    ingress_mb_per_s: Some(50.0),
                    queue_limit_mb: 64.0,
                }),
                overrides: Vec::new(),
                admission_control: (s.5 % 2 == 0).then_some(AdmissionDto {
                    window_s: 10.0,
                    percentile: 0.99,
                    target_ms: 20.0,
                }),
            }),
        },
    )
}

fn network(w: &World) -> impl Strategy<Value = NetworkDto> {
    let dcs = w.dc_names();
    let eps = w.endpoints();
    let dc_pair = (prop::sample::select(dcs.clone()), prop::sample::select(dcs));
    let ep_pair = (prop::sample::select(eps.clone()), prop::sample::select(eps));
    (
        link(),
        prop::collection::vec(
            (dc_pair, link()).prop_map(|(between, link)| LinkOverrideDto { between, link }),
            0..3,
        ),
        prop::collection::vec(
            (ep_pair, link()).prop_map(|(between, link)| LinkOverrideDto { between, link }),
            0..3,
        ),
    )
        .prop_map(|(default, datacenter_links, links)| NetworkDto {
            default,
            datacenter_links,
            links,
        })
}

fn workload(w: &World) -> impl Strategy<Value = WorkloadDto> {
    let clients = w.clients.clone();
    let arrival = prop_oneof![
        (0.01..1000.0f64).prop_map(|rate_per_s| ArrivalDto::OpenLoop { rate_per_s }),
        latency().prop_map(|think_time| ArrivalDto::ClosedLoop { think_time }),
    ];
    let popularity = prop_oneof![
        Just(PopularityDto::Uniform),
        (0.0..=3.0f64).prop_map(PopularityDto::Zipfian),
        (0.0..=1.0f64, 0.0..=1.0f64).prop_map(|(hot_keys, hot_traffic)| PopularityDto::Hotspot {
            hot_keys,
            hot_traffic
        }),
    ];
    // At least one positive weight: the first non-zero pick is forced up.
    let mix = (
        0usize..4,
        prop::collection::vec(prop_oneof![Just(0.0), 0.0..5.0f64], 4),
    )
        .prop_map(|(force, mut m)| {
            m[force] += 0.5;
            MixDto {
                read: m[0],
                read_modify_write: m[1],
                blind_write: m[2],
                delete: m[3],
            }
        });
    (
        prop_oneof![
            Just(RoutingDto::LoadBalancer),
            Just(RoutingDto::PartitionAware)
        ],
        0.1..60.0f64,
        arrival,
        (1u64..=1_000_000, popularity, any::<bool>()).prop_map(|(count, popularity, preload)| {
            KeysDto {
                count,
                popularity,
                preload,
            }
        }),
        mix,
        prop_oneof![
            Just(ReconcileDto::Union),
            Just(ReconcileDto::LastWriterWins)
        ],
        1.0..5000.0f64,
        prop::option::of(any::<u64>()),
    )
        .prop_map(
            move |(routing, refresh, arrival, keys, mix, reconcile, timeout, max_ops)| {
                WorkloadDto {
                    clients: clients.clone(),
                    routing,
                    membership_refresh_s: refresh,
                    arrival,
                    keys,
                    mix,
                    reconcile,
                    client_timeout_ms: timeout,
                    max_ops,
                    value_size: max_ops.filter(|m| m % 2 == 0).map(|m| SizeDto::Lognormal {
                        median_bytes: 100.0 + (m % 10_000) as f64,
                        sigma: 1.0,
                    }),
                    retries: max_ops.filter(|m| m % 3 == 0).map(|m| RetriesDto {
                        attempts: 2 + (m % 4) as u32,
                        backoff_ms: (m % 50) as f64,
                        max_backoff_ms: 100.0,
                        budget: 0.2,
                    }),
                    hedged_reads: max_ops.filter(|m| m % 5 == 0).map(|m| HedgedReadsDto {
                        after_ms: (m % 2 == 0).then_some((m % 20) as f64),
                        after_percentile: (m % 2 == 1).then_some(90.0),
                    }),
                }
            },
        )
}

/// One fault with every field it needs; `at_s` is filled in by the caller.
fn fault(w: &World) -> impl Strategy<Value = FaultDto> {
    let node = prop::sample::select(w.node_names.clone());
    let eps = w.endpoints();
    let some_eps = prop::sample::subsequence(eps.clone(), 1..=eps.len());
    let window = prop::option::of(0.001..20.0f64);
    // A split of every endpoint into two non-empty sides.
    let split = (prop::sample::Index::arbitrary(), Just(eps.clone())).prop_map(|(i, mut all)| {
        let cut = 1 + i.index(all.len() - 1);
        let right = all.split_off(cut);
        vec![all, right]
    });
    prop_oneof![
        (node.clone(), any::<bool>(), window.clone()).prop_map(|(node, disk_loss, for_s)| {
            FaultDto {
                for_s,
                crash: Some(CrashDto { node, disk_loss }),
                ..FaultDto::default()
            }
        }),
        node.clone().prop_map(|node| FaultDto {
            restart: Some(NodeRefDto { node }),
            ..FaultDto::default()
        }),
        (split, window.clone()).prop_map(|(groups, for_s)| FaultDto {
            for_s,
            partition: Some(PartitionDto { groups }),
            ..FaultDto::default()
        }),
        (node.clone(), window.clone()).prop_map(|(node, for_s)| FaultDto {
            for_s,
            isolate: Some(NodeRefDto { node }),
            ..FaultDto::default()
        }),
        (some_eps.clone(), some_eps.clone(), window.clone()).prop_map(|(from, to, for_s)| {
            FaultDto {
                for_s,
                partition_one_way: Some(OneWayDto { from, to }),
                ..FaultDto::default()
            }
        }),
        Just(FaultDto {
            heal_all: Some(true),
            ..FaultDto::default()
        }),
        (
            some_eps.clone(),
            some_eps,
            any::<bool>(),
            prob(),
            prop::option::of(latency_leaf()),
            window.clone()
        )
            .prop_map(
                |(from, to, both_ways, extra_loss, extra_latency, for_s)| FaultDto {
                    for_s,
                    degrade_links: Some(DegradeDto {
                        from,
                        to,
                        both_ways,
                        extra_loss,
                        extra_latency,
                    }),
                    ..FaultDto::default()
                }
            ),
        (node.clone(), latency(), window.clone()).prop_map(|(node, extra_latency, for_s)| {
            FaultDto {
                for_s,
                slow_node: Some(SlowNodeDto {
                    node,
                    extra_latency,
                }),
                ..FaultDto::default()
            }
        }),
        (
            node.clone(),
            prob(),
            prop::option::of((0u64..100, 0u64..100))
        )
            .prop_map(|(node, fraction, keys)| FaultDto {
                corrupt: Some(CorruptDto {
                    node,
                    fraction,
                    keys: keys.map(|(a, b)| (a.min(b), a.max(b))),
                }),
                ..FaultDto::default()
            }),
        (node, -1000.0..1000.0f64, -1000i64..1000, window).prop_map(
            |(node, offset_ms, drift_ppm, for_s)| FaultDto {
                for_s,
                clock_skew: Some(ClockSkewDto {
                    node,
                    offset_ms,
                    drift_ppm,
                }),
                ..FaultDto::default()
            }
        ),
    ]
}

fn membership(w: &World) -> impl Strategy<Value = MembershipDto> {
    let nodes = w.node_names.clone();
    let detector = prop_oneof![
        Just(FailureDetectorDto::Local),
        (0.1..20.0f64, 2u32..=10_000, 0.001..1000.0f64).prop_map(
            |(threshold, window, min_stddev_ms)| FailureDetectorDto::PhiAccrual {
                threshold,
                window,
                min_stddev_ms,
            }
        ),
    ];
    (
        0.001..10_000.0f64,
        prop::option::of(prop::sample::subsequence(nodes.clone(), 1..=nodes.len())),
        detector,
        1u32..=100_000,
    )
        .prop_map(
            |(gossip_interval_ms, seeds, failure_detector, transfer_batch)| MembershipDto {
                gossip_interval_ms,
                seeds,
                failure_detector,
                transfer_batch,
                reads_during_transfer: match transfer_batch % 3 {
                    0 => None,
                    1 => Some(ReadsDuringTransferDto::Served),
                    _ => Some(ReadsDuringTransferDto::Declined),
                },
            },
        )
}

/// With membership: `j0` joins, is replaced by `j1`, which is decommissioned
/// (times are fractions of the duration, sorted by the caller; the initial
/// nodes never leave, so N members and a seed always remain).
fn membership_changes(w: &World) -> impl Strategy<Value = (Vec<f64>, Option<String>, bool)> {
    let dcs = w.dc_names();
    (
        prop::collection::vec(0.0..1.0f64, 3),
        prop::option::of(prop::sample::select(dcs)),
        any::<bool>(),
    )
}

fn nemesis(w: &World) -> impl Strategy<Value = NemesisDto> {
    let nodes = w.node_names.clone();
    (
        0.0..=1.0f64,
        prop::option::of(0.0..=1.0f64),
        prop::option::of((
            0.1..1000.0f64,
            latency(),
            prob(),
            prop::sample::subsequence(nodes.clone(), 0..=nodes.len()),
        )),
        prop::option::of((
            0.1..1000.0f64,
            latency(),
            prop_oneof![
                Just(PartitionShapeDto::RandomHalves),
                Just(PartitionShapeDto::IsolateOne)
            ],
        )),
        prop::option::of((0.1..1000.0f64, latency(), prob())),
    )
        .prop_map(|(start, end, crashes, partitions, loss)| NemesisDto {
            // Fractions of the duration; scaled by the caller.
            start_s: start,
            end_s: end,
            crashes: crashes.map(|(mtbf_s, downtime, disk_loss, nodes)| NemesisCrashesDto {
                mtbf_s,
                downtime,
                disk_loss,
                nodes,
            }),
            partitions: partitions.map(|(mean_interval_s, duration, shape)| NemesisPartitionsDto {
                mean_interval_s,
                duration,
                shape,
            }),
            loss: loss.map(|(mean_interval_s, duration, extra_loss)| NemesisLossDto {
                mean_interval_s,
                duration,
                extra_loss,
            }),
        })
}

fn bound() -> impl Strategy<Value = BoundDto> {
    prop_oneof![
        (-1e6..1e6f64).prop_map(|m| BoundDto {
            min: Some(m),
            max: None
        }),
        (-1e6..1e6f64).prop_map(|m| BoundDto {
            min: None,
            max: Some(m)
        }),
        (-1e6..1e6f64, 0.0..1e6f64).prop_map(|(lo, d)| BoundDto {
            min: Some(lo),
            max: Some(lo + d)
        }),
    ]
}

fn metrics() -> impl Strategy<Value = MetricsDto> {
    (
        prop::option::of(prop::collection::vec(0.001..100.0f64, 1..8)),
        0.01..10.0f64,
        prop::option::of(prop_oneof![
            Just(StalenessOriginDto::Commit),
            Just(StalenessOriginDto::ClientAck)
        ]),
    )
        .prop_map(|(steps, window_s, staleness_origin)| MetricsDto {
            sibling_threshold: 1 + (window_s * 7.0) as u32,
            t_visibility_grid_ms: steps.map(|s| {
                let mut t = 0.0;
                s.iter()
                    .map(|d| {
                        t += d;
                        t
                    })
                    .collect()
            }),
            staleness_origin,
            wars_trials: None,
            window_s,
            // Longer than any horizon generated here: timeouts ≤ 5 s, at
            // most 5 attempts with backoffs ≤ 0.1 s, so under 2 × 25.4 + 5 s.
            retention_window_s: (window_s > 5.0).then_some(60.0 + window_s),
        })
}

fn scenario_file() -> impl Strategy<Value = ScenarioFile> {
    world().prop_flat_map(|w| {
        let head = (
            "[a-z][a-z0-9-]{0,12}",
            ".{0,40}",
            any::<u64>(),
            0.5..120.0f64,
            (0.0..30.0f64, any::<bool>()),
            prop::option::of(1u64..=u64::MAX),
        );
        let faults = prop::collection::vec((0.0..1.0f64, fault(&w)), 0..6);
        let expect = prop::collection::btree_map(
            prop::sample::select(vec![
                "availability",
                "durability.lost",
                "siblings.single_version_fraction",
                "latency.read.p99_ms",
            ]),
            bound(),
            0..4,
        );
        (
            head,
            cluster(&w),
            network(&w),
            workload(&w),
            faults,
            prop::option::of(nemesis(&w)),
            metrics(),
            expect,
            (prop::option::of(membership(&w)), membership_changes(&w)),
            Just(w),
        )
            .prop_map(
                |(
                    head,
                    mut cluster,
                    network,
                    workload,
                    faults,
                    nemesis,
                    metrics,
                    expect,
                    (membership, changes),
                    w,
                )| {
                    let (name, description, rng_seed, duration_s, quiescence, max_events) = head;
                    let mut faults: Vec<FaultDto> = faults
                        .into_iter()
                        .map(|(frac, f)| FaultDto {
                            // Strictly before the end even after rounding.
                            at_s: frac * duration_s * 0.99,
                            ..f
                        })
                        .collect();
                    if membership.is_some() {
                        let (mut fracs, datacenter, replace_dc) = changes;
                        fracs.sort_by(f64::total_cmp);
                        // Strictly increasing, and before the end.
                        let at = |k: usize| {
                            let frac = fracs[k] * 0.9 + 0.04 * k as f64;
                            (frac * duration_s * 0.99 * 1e6).round() / 1e6
                        };
                        faults.push(FaultDto {
                            at_s: at(0),
                            join: Some(JoinDto {
                                node: "j0".into(),
                                datacenter: datacenter.clone(),
                            }),
                            ..FaultDto::default()
                        });
                        // Later in time but earlier in the file: order is by time.
                        faults.insert(
                            0,
                            FaultDto {
                                at_s: at(1),
                                replace: Some(ReplaceDto {
                                    node: "j0".into(),
                                    with: "j1".into(),
                                    datacenter: datacenter.filter(|_| replace_dc),
                                }),
                                ..FaultDto::default()
                            },
                        );
                        faults.push(FaultDto {
                            at_s: at(2),
                            decommission: Some(NodeRefDto { node: "j1".into() }),
                            ..FaultDto::default()
                        });
                    }
                    cluster.membership = membership;
                    let nemesis = nemesis.map(|n| {
                        let start_s = n.start_s * duration_s / 2.0;
                        NemesisDto {
                            start_s,
                            end_s: n.end_s.map(|e| start_s + e * (duration_s - start_s)),
                            ..n
                        }
                    });
                    decimal(ScenarioFile {
                        name,
                        description,
                        rng_seed,
                        duration_s,
                        quiescence: QuiescenceDto {
                            duration_s: quiescence.0,
                            heal_faults: quiescence.1,
                        },
                        max_events,
                        datacenters: w.datacenters,
                        cluster,
                        network,
                        workload,
                        faults,
                        nemesis,
                        metrics,
                        expect: expect
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    })
                },
            )
    })
}

/// Rounds every float in `file` to six decimals, as a person writes them.
///
/// serde_json's default float parser is not correctly rounded: a float
/// printed with 17 significant digits can come back one ULP off (the
/// `float_roundtrip` feature fixes that). Scenario files are written by
/// hand with short decimals, which parse exactly, so that is what the
/// generator produces.
fn decimal(file: ScenarioFile) -> ScenarioFile {
    fn walk(v: &mut Value) {
        match v {
            Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().expect("f64");
                *v = json!((x * 1e6).round() / 1e6);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(&file).expect("serializes");
    walk(&mut v);
    serde_json::from_value(v).expect("rounding keeps the shape")
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn generated_scenarios_round_trip_and_validate(file in scenario_file()) {
        let text = serde_json::to_string(&file).expect("a ScenarioFile serializes");
        let back = match parse_file(&text) {
            Ok(back) => back,
            Err(e) => return Err(TestCaseError::fail(format!("re-read failed: {e}\n{text}"))),
        };
        prop_assert_eq!(&back, &file);
        if let Err(e) = validate(&file, &no_files) {
            return Err(TestCaseError::fail(format!("invalid: {e}\n{text}")));
        }
        // The compact and the pretty form mean the same.
        let pretty = serde_json::to_string_pretty(&file).expect("serializes");
        prop_assert!(parse(&pretty, &no_files).is_ok());
    }
}

// ------------------------------------------------------- mutation fuzzing

/// A valid scenario that uses nearly every feature, so that mutations reach
/// deep into validation.
fn rich_base() -> Value {
    json!({
        "name": "fuzz-base",
        "description": "every feature",
        "rng_seed": 7,
        "duration_s": 30,
        "quiescence": { "duration_s": 5, "heal_faults": false },
        "max_events": 1000000,
        "datacenters": ["east", "west"],
        "cluster": {
            "nodes": [
                { "name": "a", "datacenter": "east" },
                { "name": "b", "datacenter": "east" },
                { "name": "c", "datacenter": "west" },
                { "name": "d" }
            ],
            "quorum": { "n": 3, "r": 2, "w": 2 },
            "partitioning": { "strategy": "random_tokens_equal_partitions", "tokens_per_node": 8, "partitions": 32 },
            "versioning": "vector_clocks",
            "vclock_truncation_threshold": 10,
            "quorum_mode": "sloppy",
            "hinted_handoff": true,
            "hint_scan_interval_ms": 500,
            "hint_batch_max": 16,
            "read_repair": true,
            "read_repair_window_ms": 20,
            "request_timeout_ms": 800,
            "replica_timeout_ms": 100,
            "retry_interval_ms": 900,
            "tombstone_gc": { "grace_s": 5, "scan_interval_s": 0.5 },
            "storage": {
                "read_latency": { "uniform": { "min_ms": 0.1, "max_ms": 0.3 } },
                "write_latency": { "pareto": { "scale_ms": 0.2, "shape": 2.5 } },
                "buffered_writes": { "flush_interval_ms": 100 }
            },
            "write_coordinator": "fastest_read_responder",
            "coordinator_scope": "any_node",
            "membership": {
                "gossip_interval_ms": 500,
                "seeds": ["a", "c"],
                "failure_detector": { "phi_accrual": { "threshold": 6, "window": 50, "min_stddev_ms": 20 } },
                "transfer_batch": 32
            }
        },
        "network": {
            "latency": { "mixture": [
                { "weight": 9, "latency": { "lognormal": { "median_ms": 0.5, "sigma": 0.3 } } },
                { "weight": 1, "latency": { "empirical": { "points": [[1, 0.0], [2, 0.5], [10, 1.0]] } } }
            ] },
            "latency_by_kind": { "handoff": { "exponential": { "mean_ms": 2 } } },
            "loss": "1/1000",
            "duplicate": 0.001,
            "fifo": false,
            "datacenter_links": [
                { "between": ["east", "west"], "latency": { "constant": { "ms": 40 } }, "loss": 0.01 }
            ],
            "links": [ { "between": ["a", "x"], "fifo": true } ]
        },
        "workload": {
            "clients": [ { "name": "x", "datacenter": "west" }, { "name": "y" } ],
            "routing": "partition_aware",
            "membership_refresh_s": 5,
            "arrival": { "closed_loop": { "think_time": { "normal": { "mean_ms": 10, "stddev_ms": 2 } } } },
            "keys": { "count": 500, "popularity": { "hotspot": { "hot_keys": 0.1, "hot_traffic": 0.9 } } },
            "mix": { "read": 1, "read_modify_write": 2, "blind_write": 1, "delete": 0.5 },
            "reconcile": "last_writer_wins",
            "client_timeout_ms": 1500,
            "max_ops": 100000
        },
        "faults": [
            { "at_s": 1, "for_s": 2, "crash": { "node": "a", "disk_loss": true } },
            { "at_s": 4, "restart": { "node": "a" } },
            { "at_s": 5, "for_s": 3, "partition": { "groups": [["east"], ["west"]] } },
            { "at_s": 6, "for_s": 1, "isolate": { "node": "b" } },
            { "at_s": 7, "partition_one_way": { "from": ["a"], "to": ["c", "x"] } },
            { "at_s": 8, "heal_all": true },
            { "at_s": 9, "for_s": 2, "degrade_links": { "from": ["east"], "to": ["west"], "both_ways": false, "extra_loss": "1/10", "extra_latency": { "constant": { "ms": 5 } } } },
            { "at_s": 10, "for_s": 2, "slow_node": { "node": "c", "extra_latency": { "uniform": { "min_ms": 1, "max_ms": 3 } } } },
            { "at_s": 11, "for_s": 2, "clock_skew": { "node": "d", "offset_ms": -250, "drift_ppm": 100 } },
            { "at_s": 12, "join": { "node": "e", "datacenter": "west" } },
            { "at_s": 13, "for_s": 1, "partition": { "groups": [["e", "a"], ["c", "y"]] } },
            { "at_s": 14, "replace": { "node": "e", "with": "f" } },
            { "at_s": 16, "decommission": { "node": "f" } },
            { "at_s": 17, "decommission": { "node": "d" } }
        ],
        "nemesis": {
            "start_s": 2,
            "end_s": 25,
            "crashes": { "mtbf_s": 60, "downtime": { "exponential": { "mean_ms": 2000 } }, "disk_loss": 0.1, "nodes": ["a", "b"] },
            "partitions": { "mean_interval_s": 20, "duration": { "constant": { "ms": 1000 } }, "shape": "isolate_one" },
            "loss": { "mean_interval_s": 15, "duration": { "constant": { "ms": 500 } }, "extra_loss": 0.5 }
        },
        "metrics": { "t_visibility_grid_ms": [0, 1, 10, 100], "window_s": 0.5 },
        "expect": {
            "durability.lost": { "max": 0 },
            "availability": { "min": 0.9, "max": 1.0 }
        }
    })
}

#[test]
fn fuzz_base_is_valid() {
    if let Err(e) = parse(&rich_base().to_string(), &no_files) {
        panic!("rich base rejected:\n{e}");
    }
}

/// JSON pointers of every value in `v` (the root is `""`).
fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                pointers(x, format!("{here}/{escaped}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

fn split_pointer(p: &str) -> (&str, String) {
    let i = p.rfind('/').expect("not the root");
    (&p[..i], p[i + 1..].replace("~1", "/").replace("~0", "~"))
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace any value (leaf or container) with another value.
    Replace(prop::sample::Index, Value),
    /// Replace a leaf with a number.
    Number(prop::sample::Index, Value),
    /// Replace a number with another number (keeps the shape plausible, so
    /// the input reaches validation).
    Tweak(prop::sample::Index, Value),
    /// Remove an object key or array element.
    Delete(prop::sample::Index),
    /// Add an unknown key to an object.
    Insert(prop::sample::Index, String, Value),
    /// Duplicate an array element.
    Duplicate(prop::sample::Index),
}

fn odd_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..12).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            json!(0.0),
            json!(-0.0),
            json!(-1.0),
            json!(0.5),
            json!(1.0000001),
            json!(1e308),
            json!(-1e308),
            json!(f64::MAX),
            json!(f64::MIN),
            json!(f64::MIN_POSITIVE),
            json!(1e-300),
            json!(4096),
            json!(4097),
            json!(1u64 << 20),
            json!(u32::MAX),
            json!(u64::MAX),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(1e15),
            json!(1e16),
        ]),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        odd_number(),
        prop::sample::select(vec![
            "", "abc", "1/0", "0/0", "-1/2", "2/1", "1/-1", "1/1", "a", "n0", "east", "x",
            "uniform", "constant", "NaN", "inf",
        ])
        .prop_map(Value::from),
        ".{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = any::<prop::sample::Index>;
    prop_oneof![
        2 => (idx(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (idx(), odd_number()).prop_map(|(i, v)| Mutation::Number(i, v)),
        5 => (idx(), odd_number()).prop_map(|(i, v)| Mutation::Tweak(i, v)),
        2 => idx().prop_map(Mutation::Delete),
        1 => (idx(), "[a-z_]{1,8}", any_json()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        1 => idx().prop_map(Mutation::Duplicate),
    ]
}

fn apply(doc: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let pick = |i: &prop::sample::Index, filter: &dyn Fn(&Value) -> bool| -> Option<String> {
        let candidates: Vec<&String> = all
            .iter()
            .filter(|p| filter(doc.pointer(p).expect("pointer from the walk")))
            .collect();
        (!candidates.is_empty()).then(|| candidates[i.index(candidates.len())].clone())
    };
    match m {
        Mutation::Replace(i, v) => {
            if let Some(p) = pick(i, &|_| true) {
                *doc.pointer_mut(&p).unwrap() = v.clone();
            }
        }
        Mutation::Number(i, v) => {
            if let Some(p) = pick(i, &|x| !x.is_object() && !x.is_array()) {
                *doc.pointer_mut(&p).unwrap() = v.clone();
            }
        }
        Mutation::Tweak(i, v) => {
            if let Some(p) = pick(i, &Value::is_number) {
                *doc.pointer_mut(&p).unwrap() = v.clone();
            }
        }
        Mutation::Delete(i) => {
            if let Some(p) = pick(i, &|_| true).filter(|p| !p.is_empty()) {
                let (parent, key) = split_pointer(&p);
                match doc.pointer_mut(parent).unwrap() {
                    Value::Object(o) => {
                        o.remove(&key);
                    }
                    Value::Array(a) => {
                        a.remove(key.parse::<usize>().unwrap());
                    }
                    _ => unreachable!("a parent is a container"),
                }
            }
        }
        Mutation::Insert(i, k, v) => {
            if let Some(p) = pick(i, &Value::is_object) {
                doc.pointer_mut(&p)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .insert(format!("zz_{k}"), v.clone());
            }
        }
        Mutation::Duplicate(i) => {
            if let Some(p) = pick(i, &|x| x.as_array().is_some_and(|a| !a.is_empty())) {
                let a = doc.pointer_mut(&p).unwrap().as_array_mut().unwrap();
                let first = a[0].clone();
                a.push(first);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn mutated_scenarios_never_panic_and_always_say_where(
        mutations in prop::collection::vec(mutation(), 1..4)
    ) {
        let mut doc = rich_base();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let text = doc.to_string();
        let outcome = std::panic::catch_unwind(|| parse(&text, &no_files).map(|_| ()));
        let result = match outcome {
            Ok(r) => r,
            Err(_) => return Err(TestCaseError::fail(format!("parse panicked on:\n{text}"))),
        };
        if let Err(errors) = result {
            prop_assert!(!errors.0.is_empty(), "empty error list for:\n{}", text);
            for e in &errors.0 {
                prop_assert!(!e.path().is_empty(), "empty path in {:?}", e);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

// ------------------------------------------------------------ event queue

#[derive(Clone, Debug)]
enum QueueOp {
    /// Push at `now + delta`.
    Push(u64),
    /// Cancel a live event (chosen by index).
    Cancel(prop::sample::Index),
    /// Cancel an event that already popped or was cancelled.
    CancelDead(prop::sample::Index),
    /// Move a live event to `now + delta`.
    Rearm(prop::sample::Index, u64),
    Pop,
}

fn queue_op() -> impl Strategy<Value = QueueOp> {
    let idx = any::<prop::sample::Index>;
    prop_oneof![
        4 => (0u64..8).prop_map(QueueOp::Push),
        1 => idx().prop_map(QueueOp::Cancel),
        1 => idx().prop_map(QueueOp::CancelDead),
        1 => (idx(), 0u64..8).prop_map(|(i, d)| QueueOp::Rearm(i, d)),
        3 => Just(QueueOp::Pop),
    ]
}

/// The model: live events as `(time, seq, id)`, plus their handles.
struct Model {
    live: Vec<(u64, u64, u32, sim_core::engine::queue::EventHandle)>,
    dead: Vec<sim_core::engine::queue::EventHandle>,
}

impl Model {
    fn earliest(&self) -> Option<usize> {
        (0..self.live.len()).min_by_key(|&i| (self.live[i].0, self.live[i].1))
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn queue_pops_live_events_in_time_then_seq_order(
        ops in prop::collection::vec(queue_op(), 0..120)
    ) {
        let mut q: EventQueue<u32> = EventQueue::new();
        let mut model = Model { live: Vec::new(), dead: Vec::new() };
        let mut next_id = 0u32;
        let mut now = 0u64;
        let mut last_popped: Option<(u64, u64)> = None;
        let mut max_seq: Option<u64> = None;

        let mut pop = |q: &mut EventQueue<u32>, model: &mut Model, now: &mut u64|
            -> Result<(), TestCaseError> {
            let got = q.pop();
            match model.earliest() {
                None => prop_assert_eq!(got, None),
                Some(i) => {
                    let (time, seq, id, handle) = model.live.swap_remove(i);
                    prop_assert_eq!(got, Some((SimTime(time), id)));
                    if let Some(prev) = last_popped {
                        prop_assert!(prev <= (time, seq), "pop order {:?} then {:?}", prev, (time, seq));
                    }
                    last_popped = Some((time, seq));
                    *now = time;
                    model.dead.push(handle);
                }
            }
            Ok(())
        };

        for op in &ops {
            match op {
                QueueOp::Push(delta) => {
                    let t = now + delta;
                    let h = q.push(SimTime(t), next_id);
                    prop_assert!(max_seq < Some(h.seq()), "seq grows");
                    max_seq = Some(h.seq());
                    model.live.push((t, h.seq(), next_id, h));
                    next_id += 1;
                }
                QueueOp::Cancel(i) => {
                    if !model.live.is_empty() {
                        let (_, _, id, h) = model.live.swap_remove(i.index(model.live.len()));
                        prop_assert_eq!(q.cancel(h), Some(id));
                        prop_assert_eq!(q.cancel(h), None, "second cancel is a no-op");
                        model.dead.push(h);
                    }
                }
                QueueOp::CancelDead(i) => {
                    if !model.dead.is_empty() {
                        let h = model.dead[i.index(model.dead.len())];
                        prop_assert_eq!(q.cancel(h), None);
                        prop_assert!(q.rearm(h, SimTime(now)).is_none());
                    }
                }
                QueueOp::Rearm(i, delta) => {
                    if !model.live.is_empty() {
                        let k = i.index(model.live.len());
                        let t = now + delta;
                        let (_, _, id, h) = model.live[k];
                        let h2 = q.rearm(h, SimTime(t)).expect("live event rearms");
                        prop_assert!(max_seq < Some(h2.seq()), "rearm gets a new seq");
                        max_seq = Some(h2.seq());
                        model.live[k] = (t, h2.seq(), id, h2);
                        model.dead.push(h);
                    }
                }
                QueueOp::Pop => pop(&mut q, &mut model, &mut now)?,
            }
            prop_assert_eq!(q.len(), model.live.len());
            prop_assert_eq!(q.is_empty(), model.live.is_empty());
            let expected_peek = model.earliest().map(|i| SimTime(model.live[i].0));
            prop_assert_eq!(q.peek_time(), expected_peek);
        }
        // Drain: exactly the live events come out, in order.
        while !model.live.is_empty() {
            pop(&mut q, &mut model, &mut now)?;
        }
        prop_assert_eq!(q.pop(), None);
        prop_assert!(q.is_empty());
    }
}

// --------------------------------------------------------------- latency

fn draws(l: &Latency, seed: u64, n: usize) -> Vec<u64> {
    let mut rng = SimRng::new(seed, Stream::Custom(77));
    (0..n).map(|_| l.sample(&mut rng).as_micros()).collect()
}

fn round_us(x: f64) -> u64 {
    x.round() as u64
}

fn cdf_points() -> impl Strategy<Value = Vec<(f64, u32)>> {
    prop::collection::vec((0.0..1e5f64, 0u32..=1_000_000_000), 1..6).prop_map(|raw| {
        let mut values: Vec<f64> = raw.iter().map(|(v, _)| *v).collect();
        let mut cum: Vec<u32> = raw.iter().map(|(_, c)| *c).collect();
        values.sort_by(f64::total_cmp);
        cum.sort_unstable();
        *cum.last_mut().unwrap() = 1_000_000_000;
        values.into_iter().zip(cum).collect()
    })
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn constant_latency_samples_exactly(us in 0.0..1e9f64, seed in any::<u64>()) {
        let l = Latency::Constant { us };
        for d in draws(&l, seed, 20) {
            prop_assert_eq!(d, round_us(us));
        }
    }

    #[test]
    fn uniform_latency_stays_within_min_and_max(
        lo in 0.0..1e8f64, width in 0.0..1e8f64, seed in any::<u64>()
    ) {
        let l = Latency::Uniform { min_us: lo, max_us: lo + width };
        for d in draws(&l, seed, 200) {
            prop_assert!(d >= round_us(lo) && d <= round_us(lo + width), "{} not in [{}, {}]", d, lo, lo + width);
        }
    }

    #[test]
    fn pareto_latency_is_at_least_its_scale(
        scale in 0.0..1e6f64, shape in 0.05..10.0f64, seed in any::<u64>()
    ) {
        let l = Latency::Pareto { scale_us: scale, shape };
        for d in draws(&l, seed, 200) {
            prop_assert!(d >= round_us(scale), "{} below scale {}", d, scale);
            prop_assert!(d <= SAMPLE_CAP.as_micros());
        }
    }

    #[test]
    fn empirical_latency_stays_between_its_first_and_last_point(
        points in cdf_points(), seed in any::<u64>()
    ) {
        let first = points.first().unwrap().0;
        let last = points.last().unwrap().0;
        let l = Latency::Empirical(points);
        for d in draws(&l, seed, 200) {
            prop_assert!(d >= round_us(first) && d <= round_us(last), "{} not in [{}, {}]", d, first, last);
        }
    }

    #[test]
    fn a_mixture_picks_the_part_a_scan_over_its_weights_picks(
        weights in prop::collection::vec(prop_oneof![1 => Just(0u64), 4 => 0u64..20, 1 => 0u64..2_000_000_000], 1..40),
        draws in prop::collection::vec(any::<u64>(), 1..30),
    ) {
        // Part i is a constant of i microseconds, so the part is its draw.
        let parts: Vec<(u64, Latency)> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (*w, Latency::Constant { us: i as f64 }))
            .collect();
        let m = Mixture::new(parts.clone());
        let total: u64 = weights.iter().sum();
        prop_assert_eq!(m.total(), total);
        // The scan a draw used before the bisection (and the draw's range,
        // below the total, plus a draw beyond every part).
        let scan = |mut u: u64| {
            for (w, part) in &parts {
                if u < *w {
                    return Some(part);
                }
                u -= w;
            }
            None
        };
        for d in draws.iter().map(|d| d % total.max(1)).chain([total, total.saturating_sub(1)]) {
            prop_assert_eq!(m.pick(d), scan(d), "draw {}", d);
        }
    }

    #[test]
    fn unbounded_latencies_stay_below_the_cap(
        a in 0.0..1e7f64, b in 0.0..3.0f64, which in 0usize..4, seed in any::<u64>()
    ) {
        let l = match which {
            0 => Latency::Normal { mean_us: a, stddev_us: a * b },
            1 => Latency::Exponential { mean_us: a },
            2 => Latency::LogNormal { median_us: a, sigma: b },
            _ => Latency::mixture(vec![
                (3, Latency::Exponential { mean_us: a }),
                (1, Latency::Constant { us: a * b }),
            ]),
        };
        for d in draws(&l, seed, 200) {
            prop_assert!(d <= SAMPLE_CAP.as_micros(), "{} above the cap", d);
        }
    }

    #[test]
    fn validated_latencies_sample_within_their_declared_support(
        dto in latency(), seed in any::<u64>()
    ) {
        // Round the DTO through a scenario so that the validated Latency is
        // exactly what a run would use.
        let mut doc = rich_base();
        doc["cluster"]["storage"]["read_latency"] = serde_json::to_value(&dto).unwrap();
        let scenario = parse(&doc.to_string(), &no_files)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let l = &scenario.cluster.storage.read_latency;
        let (lo, hi) = support_ms(&dto);
        for d in draws(l, seed, 50) {
            let ms = d as f64 / 1000.0;
            // One microsecond of slack for rounding.
            prop_assert!(ms >= lo - 0.001 && ms <= hi + 0.001, "{} ms not in [{}, {}] for {:?}", ms, lo, hi, dto);
        }
    }
}

/// The support of a DTO latency in milliseconds (capped at one hour).
fn support_ms(l: &LatencyDto) -> (f64, f64) {
    let cap = SAMPLE_CAP.as_micros() as f64 / 1000.0;
    match l {
        LatencyDto::Constant { ms } => (*ms, *ms),
        LatencyDto::Uniform { min_ms, max_ms } => (*min_ms, *max_ms),
        LatencyDto::Normal { .. } | LatencyDto::Exponential { .. } => (0.0, cap),
        LatencyDto::Lognormal { .. } => (0.0, cap),
        LatencyDto::Pareto { scale_ms, .. } => (scale_ms.min(cap), cap),
        LatencyDto::Mixture(parts) => parts
            .iter()
            .map(|p| support_ms(&p.latency))
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), (a, b)| {
                (lo.min(a), hi.max(b))
            }),
        LatencyDto::Empirical(e) => (e.points[0].0, e.points[e.points.len() - 1].0),
        LatencyDto::Sum(parts) => parts
            .iter()
            .map(support_ms)
            .fold((0.0f64, 0.0f64), |(lo, hi), (a, b)| {
                ((lo + a).min(cap), (hi + b).min(cap))
            }),
        LatencyDto::Offset(o) => {
            let (lo, hi) = support_ms(&o.latency);
            ((o.ms + lo).min(cap), (o.ms + hi).min(cap))
        }
    }
}

#[test]
fn sample_cap_is_an_hour() {
    assert_eq!(SAMPLE_CAP.as_micros(), 3_600_000_000);
}
