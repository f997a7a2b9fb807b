//! PBS's WARS model (Bailis et al., VLDB 2012, §4): a Monte Carlo of one
//! write and one read over N replicas, each replica's four message legs
//! drawn independently, to predict t-visibility and operation latencies
//! beside the simulation.
//!
//! For every replica `i` a trial draws `W_i` (write request, coordinator to
//! replica), `A_i` (its acknowledgement), `R_i` (read request) and `S_i`
//! (read response). The write commits at `w_t`, the W-th smallest `W_i + A_i`
//! (the write latency). A read started `t` after the commit returns the
//! first R responses, ordered by `R_i + S_i` (the R-th smallest is the read
//! latency), and is consistent when one of those replicas had the write
//! when the read request arrived: `W_i ≤ w_t + t + R_i`. So each trial
//! yields one threshold `τ = min over the first R of (W_i − R_i − w_t)`, and
//! the read is consistent for every `t ≥ τ`: one trial gives the whole curve.
//!
//! The legs come from a scenario's default link: `latency_by_kind` for
//! `write_request`, `write_ack`, `read_request` and `read_response` (or the
//! link's `latency`), with the storage write latency added to `A` (a replica
//! acknowledges after its disk write but applies the write on arrival) and
//! the storage read latency to `S`. The model knows nothing else: the
//! coordinator is never a replica, every replica answers, there are no
//! datacenter or endpoint link overrides, no sloppy quorum, read repair,
//! failures, queueing or client legs. Where the simulated curve leaves the
//! model's, one of those is why.
//!
//! Draws are continuous (as in PBS; the simulation rounds each leg to whole
//! microseconds) and come from ChaCha8 streams of the run's seed, one per
//! chunk of [`CHUNK`] trials, so the result does not depend on how chunks
//! are spread over threads. This module owns the model only; it never reads
//! simulation records.

use sim_core::config::Scenario;
use sim_core::dynamo::protocol::MsgKind;
use sim_core::engine::rng::{SimRng, Stream};
use sim_core::world::dist::{round_us, Latency, SAMPLE_CAP};

use serde_json::{json, Value as Json};

use crate::histogram::Histogram;

/// Trials per random stream.
pub const CHUNK: u64 = 1 << 20;

/// Trials between two questions to a stop predicate
/// ([`Wars::run_parallel_until`]): a few milliseconds of simple legs, and
/// however long legs of a 20,000-part sum take, the check comes after a
/// bounded number of trials rather than after a whole chunk.
pub const STOP_CHECK_EVERY: u64 = 4096;

/// The stream numbers of the model's chunks start here (`Stream::Custom`).
const STREAM_BASE: u64 = 0x5741_5253 << 16; // "WARS"

/// The largest N the model takes.
pub const MAX_N: usize = 1024;

/// Why a model could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarsError {
    /// The quorum does not fit the model.
    #[error("the WARS model needs 1 <= R, W <= N <= {MAX_N}, got N={n} R={r} W={w}")]
    Quorum {
        /// N.
        n: u32,
        /// R.
        r: u32,
        /// W.
        w: u32,
    },
}

/// A leg's distribution compiled for fast sampling (microseconds): the
/// composites over [`Simple`] draws, which inline into the trial loop (a
/// mixture of simple parts, PBS's Pareto/exponential legs, costs no call).
#[derive(Clone, Debug)]
enum Leg {
    Simple(Simple),
    /// A mixture of two simple parts (PBS's Pareto/exponential legs): the
    /// first part's cumulative weight scaled to 2^53, then the parts. Draws
    /// exactly what [`Leg::Mixture`] of the same parts draws, with no loop.
    Mix2(u64, Simple, Simple),
    /// Cumulative weights scaled to 2^53 and the parts.
    Mixture(Vec<(u64, Leg)>),
    Sum(Vec<Leg>),
}

/// A distribution drawn without recursion.
#[derive(Clone, Debug)]
enum Simple {
    Constant(f64),
    Uniform { lo: f64, width: f64 },
    Normal { mean: f64, sd: f64 },
    Exponential { mean: f64 },
    LogNormal { median: f64, sigma: f64 },
    Pareto { scale: f64, inv_shape: f64 },
    Empirical(Vec<(f64, f64)>),
}

/// A chunk's random words, taken from its stream in bulk: the same words,
/// in the same order, as `SimRng::next_u64` would give one by one
/// ([`SimRng::fill_words`]), at a load and a compare each.
pub(crate) struct Words {
    rng: SimRng,
    /// The ziggurat's table, looked up once.
    zig: &'static Ziggurat,
    buf: [u64; WORDS],
    pos: usize,
}

/// Words fetched at a time.
const WORDS: usize = 512;

impl Words {
    fn new(rng: SimRng) -> Words {
        Words {
            rng,
            zig: ziggurat(),
            buf: [0; WORDS],
            pos: WORDS,
        }
    }

    /// The next word of the stream.
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        if self.pos == WORDS {
            self.refill();
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    #[inline(never)]
    fn refill(&mut self) {
        self.rng.fill_words(&mut self.buf[..]);
        self.pos = 0;
    }
}

/// A word's top 53 bits as a float, exactly: below 2^53, the signed
/// conversion (one instruction) gives what the unsigned one (several on
/// x86-64) gives.
#[inline(always)]
fn top53(w: u64) -> f64 {
    ((w >> 11) as i64) as f64
}

/// 2^-53: a uniform from 53 random bits.
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

impl Leg {
    fn compile(l: &Latency) -> Leg {
        let simple = match l {
            Latency::Constant { us } => Simple::Constant(*us),
            Latency::Uniform { min_us, max_us } => Simple::Uniform {
                lo: *min_us,
                width: max_us - min_us,
            },
            Latency::Normal { mean_us, stddev_us } => Simple::Normal {
                mean: *mean_us,
                sd: *stddev_us,
            },
            Latency::Exponential { mean_us } => Simple::Exponential { mean: *mean_us },
            Latency::LogNormal { median_us, sigma } => Simple::LogNormal {
                median: *median_us,
                sigma: *sigma,
            },
            Latency::Pareto { scale_us, shape } => Simple::Pareto {
                scale: *scale_us,
                inv_shape: 1.0 / shape,
            },
            Latency::Empirical(points) => Simple::Empirical(
                points
                    .iter()
                    .map(|(v, c)| (*v, f64::from(*c) / 1e9))
                    .collect(),
            ),
            Latency::Mixture(m) => {
                let total: u64 = m.total().max(1);
                let mut acc = 0u128;
                let parts: Vec<(u64, Leg)> = m
                    .parts()
                    .iter()
                    .map(|(w, p)| {
                        acc += u128::from(*w);
                        (
                            (acc * (1u128 << 53) / u128::from(total)) as u64,
                            Leg::compile(p),
                        )
                    })
                    .collect();
                // The last cumulative weight is 2^53, above every 53-bit
                // draw: with two simple parts, a draw below the first cut
                // takes the first part and any other the second.
                if let [(cut, Leg::Simple(a)), (_, Leg::Simple(b))] = parts.as_slice() {
                    return Leg::Mix2(*cut, a.clone(), b.clone());
                }
                return Leg::Mixture(parts);
            }
            Latency::Sum(parts) => return Leg::Sum(parts.iter().map(Leg::compile).collect()),
        };
        Leg::Simple(simple)
    }

    /// One draw, µs (zero or more, at most the simulator's cap).
    #[inline(always)]
    fn sample(&self, rng: &mut Words) -> f64 {
        let x = self.raw(rng);
        if x > 0.0 {
            x.min(SAMPLE_CAP.as_micros() as f64)
        } else {
            0.0
        }
    }

    /// A draw before the cap: simple legs and two-part mixtures inline,
    /// other composites a call away.
    #[inline(always)]
    fn raw(&self, rng: &mut Words) -> f64 {
        match self {
            Leg::Simple(s) => s.draw(rng),
            Leg::Mix2(cut, a, b) => {
                if rng.next_u64() >> 11 < *cut {
                    a.draw(rng)
                } else {
                    b.draw(rng)
                }
            }
            other => other.composite(rng),
        }
    }

    /// Mixtures and sums (recursive, behind a call).
    #[inline(never)]
    fn composite(&self, rng: &mut Words) -> f64 {
        match self {
            Leg::Mixture(parts) => {
                // (53 bits against weights scaled to 2^53.)
                let u = rng.next_u64() >> 11;
                pick(parts, u).map_or(0.0, |p| p.raw(rng))
            }
            Leg::Sum(parts) => parts.iter().map(|p| p.raw(rng).max(0.0)).sum(),
            simple => simple.raw(rng),
        }
    }
}

/// The part of a mixture (cumulative weights, nondecreasing) that draw `u`
/// falls in: the first whose cumulative weight is above `u` (the last if
/// none is), found by bisection: the part a scan finds, in log time (a
/// fuzzed mixture of 20,000 parts made 10M trials take hours).
fn pick<T>(parts: &[(u64, T)], u: u64) -> Option<&T> {
    let i = parts.partition_point(|(cum, _)| *cum <= u);
    parts.get(i).or(parts.last()).map(|(_, p)| p)
}

impl Simple {
    /// One draw. The shapes PBS's legs use (exponential, Pareto, constant,
    /// uniform) inline into the trial; the others are a call away, so the
    /// trial's code stays small enough for the instruction cache.
    #[inline(always)]
    fn draw(&self, rng: &mut Words) -> f64 {
        match self {
            Simple::Constant(c) => *c,
            Simple::Exponential { mean } => mean * exp1(rng),
            // scale / U^(1/shape) with U uniform is scale · e^(E/shape), E ~ Exp(1).
            Simple::Pareto { scale, inv_shape } => scale * fast_exp(exp1(rng) * inv_shape),
            Simple::Uniform { lo, width } => lo + width * top53(rng.next_u64()) * UNIT,
            other => other.draw_other(rng),
        }
    }

    /// The shapes [`Simple::draw`] does not inline.
    #[inline(never)]
    fn draw_other(&self, rng: &mut Words) -> f64 {
        match self {
            Simple::Normal { mean, sd } => mean + sd * std_normal(rng),
            Simple::LogNormal { median, sigma } => median * (sigma * std_normal(rng)).exp(),
            Simple::Empirical(points) => {
                let u = top53(rng.next_u64()) * UNIT;
                empirical(points, u)
            }
            inline => inline.draw(rng),
        }
    }
}

/// The ziggurat of the standard exponential (Marsaglia and Tsang 2000, 256
/// layers): `x[i]` the layers' right edges (`x[0]` the base's effective
/// width, `x[1] = R`, `x[256] = 0`) and `f[i] = e^(-x[i])`.
struct Ziggurat {
    x: [f64; 257],
    /// `x[i] · 2^-53` (exact: a power-of-two scaling of normal numbers).
    xu: [f64; 257],
    f: [f64; 257],
}

/// Where the base layer's tail starts.
const ZIG_R: f64 = 7.697_117_470_131_05;
/// The area of each layer.
const ZIG_V: f64 = 0.003_949_659_822_581_557;

fn ziggurat() -> &'static Ziggurat {
    static TABLE: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut x = [0f64; 257];
        x[0] = ZIG_V / (-ZIG_R).exp();
        x[1] = ZIG_R;
        for i in 2..256 {
            x[i] = -(ZIG_V / x[i - 1] + (-x[i - 1]).exp()).ln();
        }
        x[256] = 0.0;
        let mut f = [0f64; 257];
        for i in 0..257 {
            f[i] = (-x[i]).exp();
        }
        let xu = x.map(|x| x * UNIT);
        Ziggurat { x, xu, f }
    })
}

/// A standard exponential draw by the ziggurat: one random word and one
/// multiplication almost always (a logarithm or exponential in about 1 %
/// of draws).
#[inline(always)]
fn exp1(rng: &mut Words) -> f64 {
    let z = rng.zig;
    let bits = rng.next_u64();
    let i = (bits & 0xff) as usize;
    // x[i] scaled by 2^-53 ahead (exact): the same product as
    // (bits · 2^-53) · x[i], one multiplication fewer.
    let x = top53(bits) * z.xu[i];
    if x < z.x[i + 1] {
        return x;
    }
    exp1_rest(rng, i, x)
}

/// The ziggurat's rare cases (about 1 % of draws), behind a call: the
/// tail, the wedge test, and the draws that start over.
#[cold]
#[inline(never)]
fn exp1_rest(rng: &mut Words, mut i: usize, mut x: f64) -> f64 {
    let z = ziggurat();
    loop {
        if i == 0 {
            // The tail beyond R is R plus a standard exponential.
            return ZIG_R - ((top53(rng.next_u64()) + 1.0) * UNIT).ln();
        }
        let u = top53(rng.next_u64()) * UNIT;
        if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * u < (-x).exp() {
            return x;
        }
        let bits = rng.next_u64();
        i = (bits & 0xff) as usize;
        x = top53(bits) * z.xu[i];
        if x < z.x[i + 1] {
            return x;
        }
    }
}

/// `2^(j/64)` for `j` in `0..64`.
fn exp2_64ths() -> &'static [f64; 64] {
    static TABLE: std::sync::OnceLock<[f64; 64]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|j| (j as f64 / 64.0).exp2()))
}

/// `e^x` for `0 ≤ x ≤ 700` without a library call (others go to `f64::exp`):
/// `x = (64k + j) ln2/64 + r` with `|r| ≤ ln2/128`, so `e^x = 2^k · 2^(j/64)
/// · e^r`, `e^r` by its Taylor polynomial to degree 5 (remainder below
/// 4e-17). Relative error within a few units in the last place (tested).
#[inline(always)]
fn fast_exp(x: f64) -> f64 {
    // fdlibm's split of ln 2: the high part has trailing zeros, so n · HI is
    // exact for the n that occur here.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    if !(0.0..=700.0).contains(&x) {
        return x.exp();
    }
    let n = (x * (64.0 / std::f64::consts::LN_2) + 0.5) as i64;
    let nf = n as f64;
    let r = x - nf * (LN2_HI / 64.0) - nf * (LN2_LO / 64.0);
    // Estrin's scheme: the same polynomial with a dependency chain of three
    // multiply-adds instead of Horner's five (the draws are latency-bound).
    let r2 = r * r;
    let p = (1.0 + r) + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0)));
    let scale = f64::from_bits((((n >> 6) + 1023) as u64) << 52);
    exp2_64ths()[(n & 63) as usize] * p * scale
}

fn std_normal(rng: &mut Words) -> f64 {
    let u1 = (top53(rng.next_u64()) + 1.0) * UNIT;
    let u2 = top53(rng.next_u64()) * UNIT;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn empirical(points: &[(f64, f64)], u: f64) -> f64 {
    let Some(&(v0, c0)) = points.first() else {
        return 0.0;
    };
    if u <= c0 {
        return v0;
    }
    let mut prev = (v0, c0);
    for &(v, c) in &points[1..] {
        if u <= c {
            let span = c - prev.1;
            return if span <= 0.0 {
                v
            } else {
                prev.0 + (v - prev.0) * (u - prev.1) / span
            };
        }
        prev = (v, c);
    }
    prev.0
}

/// The four legs of the model, as latency distributions (µs).
#[derive(Clone, Debug, PartialEq)]
pub struct Legs {
    /// Write request, coordinator to replica.
    pub write: Latency,
    /// Write acknowledgement (including the replica's disk write).
    pub ack: Latency,
    /// Read request.
    pub read: Latency,
    /// Read response (including the replica's local read).
    pub response: Latency,
}

/// PBS's WARS model for one `(N, R, W)` and four legs.
#[derive(Clone, Debug)]
pub struct Wars {
    n: usize,
    r: usize,
    w: usize,
    legs: Legs,
    compiled: [Leg; 4],
}

/// What a scenario's link settings leave out of the model (reported with
/// its prediction).
pub fn caveats(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    if !s.network.datacenter_links.is_empty() || !s.network.endpoint_links.is_empty() {
        out.push("datacenter and endpoint link overrides are ignored (default link only)".into());
    }
    let client_legs = [MsgKind::ClientRequest, MsgKind::ClientReply]
        .iter()
        .any(|k| !leg(s, *k).is_zero());
    if client_legs {
        out.push("client legs are not modelled (the simulated latencies include them)".into());
    }
    if s.cluster.coordinator_scope == sim_core::config::CoordinatorScope::PreferenceList {
        out.push("coordinators are replicas in the simulation (their own write and read are local), never in the model".into());
    }
    out
}

fn leg(s: &Scenario, kind: MsgKind) -> Latency {
    let link = &s.network.default;
    link.latency_by_kind
        .get(&kind)
        .cloned()
        .unwrap_or_else(|| link.latency.clone())
}

fn plus(a: Latency, b: &Latency) -> Latency {
    if b.is_zero() {
        a
    } else {
        Latency::Sum(vec![a, b.clone()])
    }
}

impl Wars {
    /// The model of a scenario: its quorum and its default link's per-kind
    /// latencies (see the module docs).
    pub fn from_scenario(s: &Scenario) -> Result<Wars, WarsError> {
        let q = s.cluster.quorum;
        let storage = &s.cluster.storage;
        let legs = Legs {
            write: leg(s, MsgKind::WriteRequest),
            ack: plus(leg(s, MsgKind::WriteAck), &storage.write_latency),
            read: leg(s, MsgKind::ReadRequest),
            response: plus(leg(s, MsgKind::ReadResponse), &storage.read_latency),
        };
        Wars::new(q.n, q.r, q.w, legs)
    }

    /// The model for `(n, r, w)` and these legs.
    pub fn new(n: u32, r: u32, w: u32, legs: Legs) -> Result<Wars, WarsError> {
        let ok = n as usize <= MAX_N && r >= 1 && w >= 1 && r <= n && w <= n;
        if !ok {
            return Err(WarsError::Quorum { n, r, w });
        }
        let compiled = [
            Leg::compile(&legs.write),
            Leg::compile(&legs.ack),
            Leg::compile(&legs.read),
            Leg::compile(&legs.response),
        ];
        Ok(Wars {
            n: n as usize,
            r: r as usize,
            w: w as usize,
            legs,
            compiled,
        })
    }

    /// `(N, R, W)`.
    pub fn quorum(&self) -> (usize, usize, usize) {
        (self.n, self.r, self.w)
    }

    /// The legs.
    pub fn legs(&self) -> &Legs {
        &self.legs
    }

    /// One trial: `(τ, write latency, read latency)` in µs. The read started
    /// `t` after the commit is consistent exactly when `t ≥ τ`. `scratch`
    /// holds N entries.
    #[inline]
    fn trial(&self, rng: &mut Words, scratch: &mut Scratch) -> (f64, f64, f64) {
        let [lw, la, lr, ls] = &self.compiled;
        let Scratch {
            w,
            acked,
            r,
            answered,
            first,
        } = scratch;
        for i in 0..self.n {
            w[i] = lw.sample(rng);
            acked[i] = w[i] + la.sample(rng);
            r[i] = lr.sample(rng);
            answered[i] = r[i] + ls.sample(rng);
        }
        // The W-th smallest acknowledgement: the commit (W = 1, PBS's
        // partial quorums: the smallest, without sorting).
        let commit = if self.w == 1 {
            acked.iter().fold(f64::INFINITY, |m, a| m.min(*a))
        } else {
            nth_smallest(acked, self.w - 1)
        };
        if self.r == 1 {
            // The first responder (the first of equal ones, as below).
            let mut best = 0;
            for i in 1..answered.len() {
                if answered[i] < answered[best] {
                    best = i;
                }
            }
            return (w[best] - r[best] - commit, commit, answered[best]);
        }
        // The first R responders, by insertion into a small sorted list of
        // (answer time, replica).
        let mut len = 0;
        for (i, a) in answered.iter().enumerate() {
            if len == self.r && *a >= first[len - 1].0 {
                continue;
            }
            let mut j = len.min(self.r - 1);
            if len < self.r {
                len += 1;
            }
            while j > 0 && first[j - 1].0 > *a {
                first[j] = first[j - 1];
                j -= 1;
            }
            first[j] = (*a, i);
        }
        let mut tau = f64::INFINITY;
        for (_, i) in &first[..len] {
            tau = tau.min(w[*i] - r[*i] - commit);
        }
        (tau, commit, first[len - 1].0)
    }

    /// Runs `trials` trials (chunk `k` on stream `k` of `rng_seed`) and
    /// evaluates P(consistent) at each `t` of `grid_us` (increasing).
    pub fn run(&self, trials: u64, rng_seed: u64, grid_us: &[f64]) -> Prediction {
        let chunks = (0..trials.div_ceil(CHUNK))
            .map(|k| self.run_chunk(k, chunk_len(k, trials), rng_seed, grid_us));
        Prediction::merged(grid_us, chunks)
    }

    /// [`Wars::run`] with the chunks spread over the threads of the
    /// current rayon pool (the global one: one per core; inside a sweep's
    /// pool, its threads, without oversubscribing them). The same
    /// prediction as [`Wars::run`] whatever the number of threads: each
    /// chunk draws from its own stream and the chunks are merged in order
    /// (and the merge only adds integers).
    pub fn run_parallel(&self, trials: u64, rng_seed: u64, grid_us: &[f64]) -> Prediction {
        self.run_parallel_until(trials, rng_seed, grid_us, &|| false)
            .expect("never stopped")
    }

    /// [`Wars::run_parallel`] that gives up, returning `None`, once `stop`
    /// answers true: it is asked before every [`STOP_CHECK_EVERY`] trials
    /// of each chunk (the run's wall-clock limit, which covers this phase
    /// as it covers the simulation). A prediction it returns is the one
    /// [`Wars::run`] gives.
    pub fn run_parallel_until(
        &self,
        trials: u64,
        rng_seed: u64,
        grid_us: &[f64],
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Option<Prediction> {
        use rayon::prelude::*;
        let chunks: Option<Vec<Prediction>> = (0..trials.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| self.run_chunk_until(k, chunk_len(k, trials), rng_seed, grid_us, stop))
            .collect();
        Some(Prediction::merged(grid_us, chunks?))
    }

    /// Chunk `k` alone (`trials` ≤ [`CHUNK`]), for callers that spread
    /// chunks over threads; merge with [`Prediction::absorb`] in any order.
    pub fn run_chunk(&self, k: u64, trials: u64, rng_seed: u64, grid_us: &[f64]) -> Prediction {
        self.run_chunk_until(k, trials, rng_seed, grid_us, &|| false)
            .expect("never stopped")
    }

    /// [`Wars::run_chunk`], given up (`None`) once `stop` answers true
    /// (asked before every [`STOP_CHECK_EVERY`] trials; the trials run in
    /// the same order either way, so the draws are the same).
    fn run_chunk_until(
        &self,
        k: u64,
        trials: u64,
        rng_seed: u64,
        grid_us: &[f64],
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Option<Prediction> {
        let mut rng = Words::new(SimRng::new(rng_seed, Stream::Custom(STREAM_BASE + k)));
        let mut out = Prediction::empty(grid_us);
        let mut scratch = Scratch::new(self.n);
        let index = GridIndex::new(grid_us);
        let mut left = trials;
        while left > 0 {
            if stop() {
                return None;
            }
            let batch = left.min(STOP_CHECK_EVERY);
            for _ in 0..batch {
                let (tau, write, read) = self.trial(&mut rng, &mut scratch);
                // The first grid point at or after τ: consistent from there on.
                out.first_consistent[index.first_at_or_after(tau)] += 1;
                out.write_latency.record(round_us(write));
                out.read_latency.record(round_us(read));
            }
            left -= batch;
        }
        out.trials = trials;
        Some(out)
    }
}

/// The trials of chunk `k` of a run of `trials` (the last may be short).
fn chunk_len(k: u64, trials: u64) -> u64 {
    CHUNK.min(trials - k * CHUNK)
}

/// Finds the first grid point at or after a value in a step or two: the
/// value's float bits (exponent and two mantissa bits, so four buckets per
/// octave) index a table of where the search starts. Gives exactly what a
/// binary search over the grid gives, without its chain of dependent loads.
struct GridIndex<'a> {
    grid: &'a [f64],
    /// For each bucket of positive floats, the first grid index whose
    /// point is at or after the bucket's lowest value.
    start: Vec<u16>,
}

/// Float bits dropped to form a bucket (52 − 2 mantissa bits kept).
const BUCKET_SHIFT: u32 = 50;

impl<'a> GridIndex<'a> {
    fn new(grid: &'a [f64]) -> GridIndex<'a> {
        // Positive finite floats: bits below 0x7ff0 << 48.
        let buckets = (0x7ff0_0000_0000_0000u64 >> BUCKET_SHIFT) as usize + 1;
        let fits = grid.len() < usize::from(u16::MAX);
        let start = if fits {
            (0..buckets)
                .map(|b| {
                    let low = f64::from_bits((b as u64) << BUCKET_SHIFT);
                    grid.partition_point(|t| *t < low) as u16
                })
                .collect()
        } else {
            Vec::new()
        };
        GridIndex { grid, start }
    }

    #[inline(always)]
    fn first_at_or_after(&self, x: f64) -> usize {
        if self.grid.first().is_none_or(|t| x <= *t) {
            return 0;
        }
        // Here x > grid[0]; negative, NaN and huge values take the search.
        let bucket = (x.to_bits() >> BUCKET_SHIFT) as usize;
        match self.start.get(bucket) {
            Some(&s) if x > 0.0 => {
                let mut i = usize::from(s);
                while i < self.grid.len() && self.grid[i] < x {
                    i += 1;
                }
                i
            }
            _ => self.grid.partition_point(|t| *t < x),
        }
    }
}

/// Per-replica working space of a trial, allocated once per chunk.
struct Scratch {
    w: Vec<f64>,
    acked: Vec<f64>,
    r: Vec<f64>,
    answered: Vec<f64>,
    first: Vec<(f64, usize)>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            w: vec![0.0; n],
            acked: vec![0.0; n],
            r: vec![0.0; n],
            answered: vec![0.0; n],
            first: vec![(0.0, 0); n],
        }
    }
}

/// Selects the `k`-th smallest of a small slice (partially reorders it).
fn nth_smallest(xs: &mut [f64], k: usize) -> f64 {
    // Insertion sort: N is small (3 in PBS's experiments).
    for i in 1..xs.len() {
        let mut j = i;
        while j > 0 && xs[j - 1] > xs[j] {
            xs.swap(j - 1, j);
            j -= 1;
        }
    }
    xs[k]
}

/// The model's prediction.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// The t grid, µs.
    pub grid_us: Vec<f64>,
    /// Trials whose first consistent grid point is `i` (the last slot: none).
    first_consistent: Vec<u64>,
    /// Trials run.
    pub trials: u64,
    /// Write latencies (the commit), µs.
    pub write_latency: Histogram,
    /// Read latencies (the R-th response), µs.
    pub read_latency: Histogram,
}

impl Prediction {
    fn empty(grid_us: &[f64]) -> Prediction {
        Prediction {
            grid_us: grid_us.to_vec(),
            first_consistent: vec![0; grid_us.len() + 1],
            trials: 0,
            write_latency: Histogram::default(),
            read_latency: Histogram::default(),
        }
    }

    /// `chunks` (on `grid_us`) merged in their order.
    fn merged(grid_us: &[f64], chunks: impl IntoIterator<Item = Prediction>) -> Prediction {
        let mut out = Prediction::empty(grid_us);
        for c in chunks {
            out.absorb(c);
        }
        out
    }

    /// Adds another run's trials (the same grid).
    ///
    /// # Panics
    /// If the grids differ.
    pub fn absorb(&mut self, other: Prediction) {
        assert_eq!(self.grid_us, other.grid_us, "predictions on one grid");
        for (a, b) in self
            .first_consistent
            .iter_mut()
            .zip(&other.first_consistent)
        {
            *a += b;
        }
        self.trials += other.trials;
        self.write_latency.merge(&other.write_latency);
        self.read_latency.merge(&other.read_latency);
    }

    /// `(t µs, consistent trials)` at each grid point.
    pub fn consistent(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        self.grid_us
            .iter()
            .zip(&self.first_consistent)
            .map(|(t, c)| {
                acc += c;
                (*t, acc)
            })
            .collect()
    }

    /// P(consistent) at each grid point.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        self.consistent()
            .into_iter()
            .map(|(t, c)| (t, c as f64 / self.trials.max(1) as f64))
            .collect()
    }
}

/// `C(n, k)` as a float (small n).
fn choose(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// PBS's equation 1: the probability that a read quorum of R sees one of
/// the W replicas of the write quorum when both are uniformly random,
/// `1 − C(N−W, R) / C(N, R)`.
pub fn pbs_eq1(n: usize, r: usize, w: usize) -> f64 {
    1.0 - choose(n - w.min(n), r) / choose(n, r)
}

/// The t grid (µs) the report evaluates the model on: the default fine bin
/// edges and every t of the simulated curve's points (`staleness.t_visibility`).
pub fn report_grid_us(simulated: &[Json]) -> Vec<f64> {
    let mut grid: Vec<f64> = crate::tvis::default_edges_us()
        .into_iter()
        .map(|t| t as f64)
        .chain(
            simulated
                .iter()
                .filter_map(|p| p["t_ms"].as_f64())
                .map(|t| t * 1000.0),
        )
        .filter(|t| t.is_finite() && *t >= 0.0)
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    grid
}

/// A prediction as JSON: the curve on its grid (`t_ms`, `p_consistent`,
/// `ci95`), and the commit (put) and read (get) latency percentiles and CDFs.
pub fn prediction_json(model: &Wars, p: &Prediction) -> Json {
    let (n, r, w) = model.quorum();
    let ms = |us: u64| us as f64 / 1000.0;
    let curve: Vec<Json> = p
        .consistent()
        .into_iter()
        .map(|(t, c)| {
            json!({
                "t_ms": t / 1000.0,
                "p_consistent": c as f64 / p.trials.max(1) as f64,
                "ci95": crate::tvis::wilson95(c, p.trials),
            })
        })
        .collect();
    let latency = |h: &Histogram| {
        json!({
            "p50_ms": ms(h.quantile(0.5)),
            "p90_ms": ms(h.quantile(0.9)),
            "p99_ms": ms(h.quantile(0.99)),
            "p999_ms": ms(h.quantile(0.999)),
            "cdf": h.cdf().into_iter().map(|(v, f)| json!([ms(v), f])).collect::<Vec<_>>(),
        })
    };
    json!({
        "n": n, "r": r, "w": w,
        "trials": p.trials,
        "p_consistent_t0": curve.first().map_or(Json::Null, |c| c["p_consistent"].clone()),
        "t_visibility": curve,
        "latency": {"put": latency(&p.write_latency), "get": latency(&p.read_latency)},
    })
}

/// The summary's `wars` block: the model's prediction for `scenario` with
/// `trials` trials (seeded by the scenario's seed), the caveats of the model
/// for this scenario, and how far the simulated curve `simulated` (the
/// points of `staleness.t_visibility`) is from it at the points resting on
/// at least [`crate::tvis::FEW_READS`] reads: the largest gap, where, and how
/// many points' 95 % intervals leave the model's value out. `p_consistent_t0`
/// is the model's value at t = 0 (null when the grid does not start there).
///
/// The trials give up once `stop` answers true (see
/// [`Wars::run_parallel_until`]): the block then says so
/// (`"stopped": "wall_clock"`, the trials asked for) and holds no
/// prediction; [`stopped`] tells.
pub fn summary_block(
    scenario: &Scenario,
    trials: u64,
    simulated: &[Json],
    stop: &(dyn Fn() -> bool + Sync),
) -> Json {
    let model = match Wars::from_scenario(scenario) {
        Ok(m) => m,
        Err(e) => return json!({"error": e.to_string()}),
    };
    let grid = report_grid_us(simulated);
    let Some(p) = model.run_parallel_until(trials, scenario.rng_seed, &grid, stop) else {
        return stopped_block(trials);
    };
    let curve = p.curve();
    let mut out = prediction_json(&model, &p);
    let (mut compared, mut outside, mut gap, mut gap_t) = (0u64, 0u64, 0f64, Json::Null);
    for s in simulated {
        let (Some(t), Some(ps), Some(reads)) = (
            s["t_ms"].as_f64(),
            s["p_consistent"].as_f64(),
            s["reads"].as_u64(),
        ) else {
            continue;
        };
        if reads < crate::tvis::FEW_READS {
            continue;
        }
        let Some((_, pm)) = curve.iter().find(|(g, _)| *g == t * 1000.0) else {
            continue;
        };
        compared += 1;
        if (ps - pm).abs() > gap {
            gap = (ps - pm).abs();
            gap_t = json!(t);
        }
        let (lo, hi) = (s["ci95"][0].as_f64(), s["ci95"][1].as_f64());
        if lo.zip(hi).is_some_and(|(lo, hi)| *pm < lo || *pm > hi) {
            outside += 1;
        }
    }
    let map = out.as_object_mut().expect("an object");
    map.insert("caveats".into(), json!(caveats(scenario)));
    map.insert("points_compared".into(), json!(compared));
    map.insert("max_gap".into(), json!(gap));
    map.insert("max_gap_t_ms".into(), gap_t);
    map.insert("points_outside_ci".into(), json!(outside));
    out
}

/// What a stopped block's `stopped` says: the run's wall-clock limit.
const STOPPED_BY: &str = sim_core::sim::StopReason::WallClock.name();

/// The block of a prediction whose `trials` were given up (the wall-clock
/// limit, [`Wars::run_parallel_until`]): what [`stopped`] recognises.
pub fn stopped_block(trials: u64) -> Json {
    json!({"stopped": STOPPED_BY, "trials_asked": trials})
}

/// True when a summary's `wars` block was given up before its trials
/// finished ([`summary_block`]).
pub fn stopped(block: &Json) -> bool {
    block.get("stopped").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Bisection picks the part a scan of the cumulative weights picks
        /// (zero weights, ties and draws past the end included).
        #[test]
        fn a_mixture_picks_the_part_a_scan_finds(
            weights in proptest::collection::vec(0u64..1000, 1..40),
            at in 0.0f64..1.1,
        ) {
            let mut acc = 0u64;
            let parts: Vec<(u64, usize)> = weights
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    acc += w;
                    (acc, i)
                })
                .collect();
            let u = (at * acc as f64) as u64;
            let scan = parts.iter().find(|(cum, _)| u < *cum).or(parts.last());
            proptest::prop_assert_eq!(pick(&parts, u), scan.map(|(_, p)| p));
        }
    }

    fn exp(mean_ms: f64) -> Latency {
        Latency::Exponential {
            mean_us: mean_ms * 1000.0,
        }
    }

    /// A trial gives what the model's definition gives, computed the
    /// obvious way from the same draws: the commit is the W-th smallest
    /// acknowledgement; the read takes the first R responders (the first
    /// replica among equal answer times) and is consistent from the
    /// smallest `w_i − r_i − commit` among them. Covers the R = 1 and W = 1
    /// shortcuts and the general path, with ties (constant legs).
    #[test]
    fn a_trial_is_the_definition_computed_from_its_draws() {
        let half_ms = Latency::Constant { us: 500.0 };
        let mixed = |p: u64| Latency::mixture(vec![(p, exp(1.0)), (1000 - p, half_ms.clone())]);
        for (n, r, w) in [
            (3, 1, 1),
            (3, 2, 1),
            (3, 1, 2),
            (5, 2, 3),
            (5, 5, 5),
            (1, 1, 1),
        ] {
            let legs = Legs {
                write: mixed(380),
                ack: mixed(900),
                read: mixed(500),
                response: mixed(100),
            };
            let m = Wars::new(n, r, w, legs).expect("valid");
            let (n, r, w) = (n as usize, r as usize, w as usize);
            let mut rng = Words::new(SimRng::new(4, Stream::Custom(8)));
            let mut twin = Words::new(SimRng::new(4, Stream::Custom(8)));
            let mut scratch = Scratch::new(n);
            for _ in 0..20_000 {
                let got = m.trial(&mut rng, &mut scratch);
                let [lw, la, lr, ls] = &m.compiled;
                let mut reps = Vec::new();
                for _ in 0..n {
                    let wi = lw.sample(&mut twin);
                    let ai = wi + la.sample(&mut twin);
                    let ri = lr.sample(&mut twin);
                    let si = ri + ls.sample(&mut twin);
                    reps.push((wi, ai, ri, si));
                }
                let mut acks: Vec<f64> = reps.iter().map(|x| x.1).collect();
                acks.sort_by(f64::total_cmp);
                let commit = acks[w - 1];
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|a, b| reps[*a].3.total_cmp(&reps[*b].3));
                let first = &order[..r];
                let tau = first
                    .iter()
                    .map(|i| reps[*i].0 - reps[*i].2 - commit)
                    .fold(f64::INFINITY, f64::min);
                let want = (tau, commit, reps[first[r - 1]].3);
                assert_eq!(got, want, "(N, R, W) = ({n}, {r}, {w})");
            }
        }
    }

    #[test]
    fn equation_one_matches_hand_computed_values() {
        assert!((pbs_eq1(3, 1, 1) - 1.0 / 3.0).abs() < 1e-12);
        assert!((pbs_eq1(5, 2, 2) - (1.0 - 3.0 / 10.0)).abs() < 1e-12);
        assert_eq!(pbs_eq1(3, 2, 2), 1.0);
    }

    #[test]
    fn the_kth_smallest_and_the_first_responders_are_right() {
        let mut xs = [5.0, 1.0, 4.0, 2.0];
        assert_eq!(nth_smallest(&mut xs, 1), 2.0);
        // Constant legs: every replica identical, so τ = W − R − (W + A).
        let c = |ms: f64| Latency::Constant { us: ms * 1000.0 };
        let m = Wars::new(
            3,
            1,
            2,
            Legs {
                write: c(2.0),
                ack: c(1.0),
                read: c(0.5),
                response: c(0.25),
            },
        )
        .expect("valid");
        let mut rng = Words::new(SimRng::new(1, Stream::Custom(1)));
        let (tau, write, read) = m.trial(&mut rng, &mut Scratch::new(3));
        assert_eq!((tau, write, read), (2000.0 - 500.0 - 3000.0, 3000.0, 750.0));
    }

    #[test]
    fn fast_exp_agrees_with_the_library_to_the_last_bits() {
        let mut worst = 0f64;
        for i in 0..1_000_000 {
            let x = i as f64 * 7e-4;
            let (a, b) = (fast_exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 1e-15, "relative error {worst}");
        assert_eq!(fast_exp(0.0), 1.0);
        assert_eq!(fast_exp(800.0), f64::INFINITY);
        assert!(fast_exp(-1.0) == (-1.0f64).exp());
    }

    /// The ziggurat draws a standard exponential: mean, variance and tail
    /// quantiles within sampling error, and its table closes at zero.
    #[test]
    fn the_ziggurat_draws_a_standard_exponential() {
        let z = ziggurat();
        assert!(z.x[255] > 0.0 && z.x[255] < 0.2, "{}", z.x[255]);
        let mut rng = Words::new(SimRng::new(5, Stream::Custom(5)));
        let n = 2_000_000;
        let xs: Vec<f64> = (0..n).map(|_| exp1(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.004, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        for q in [1.0f64, 3.0, 7.0, 9.0] {
            let tail = xs.iter().filter(|x| **x > q).count() as f64 / n as f64;
            let expected = (-q).exp();
            let se = (expected * (1.0 - expected) / n as f64).sqrt();
            assert!(
                (tail - expected).abs() < 5.0 * se,
                "P(X > {q}) = {tail} vs {expected}"
            );
        }
    }

    #[test]
    fn a_strict_quorum_is_always_consistent() {
        let m = Wars::new(
            3,
            2,
            2,
            Legs {
                write: exp(1.0),
                ack: exp(1.0),
                read: exp(1.0),
                response: exp(1.0),
            },
        )
        .expect("valid");
        let p = m.run(200_000, 1, &[0.0]);
        assert_eq!(p.curve(), vec![(0.0, 1.0)]);
    }

    #[test]
    fn chunks_spread_over_threads_predict_what_one_thread_does() {
        let ssd = Latency::mixture(vec![
            (
                9122,
                Latency::Pareto {
                    scale_us: 235.0,
                    shape: 10.0,
                },
            ),
            (
                878,
                Latency::Exponential {
                    mean_us: 1e3 / 1.66,
                },
            ),
        ]);
        let m = Wars::new(
            3,
            1,
            1,
            Legs {
                write: exp(1.0),
                ack: ssd.clone(),
                read: ssd.clone(),
                response: ssd,
            },
        )
        .expect("valid");
        let grid: Vec<f64> = crate::tvis::default_edges_us()
            .into_iter()
            .map(|t| t as f64)
            .collect();
        // Three and a bit chunks, so the last one is short.
        let trials = 3 * CHUNK + 1_234;
        let serial = m.run(trials, 9, &grid);
        let key = |p: &Prediction| {
            (
                p.trials,
                p.consistent(),
                p.write_latency.quantile_ppm(500_000),
                p.write_latency.quantile_ppm(999_000),
                p.read_latency.quantile_ppm(990_000),
                p.read_latency.max(),
                p.read_latency.sum(),
                p.write_latency.sum(),
            )
        };
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let spread = pool.install(|| m.run_parallel(trials, 9, &grid));
            assert_eq!(key(&spread), key(&serial), "{threads} threads");
        }
        assert_ne!(
            key(&m.run_parallel(trials, 10, &grid)),
            key(&serial),
            "another seed, another prediction"
        );
    }

    #[test]
    fn the_grid_index_agrees_with_a_binary_search() {
        let grid: Vec<f64> = crate::tvis::default_edges_us()
            .into_iter()
            .map(|t| t as f64)
            .collect();
        let odd = [-3.0, 0.5, 0.75, 2.0, 1e9, 1e300];
        for g in [grid.as_slice(), &odd, &[], &[7.0]] {
            let index = GridIndex::new(g);
            let mut rng = SimRng::new(5, Stream::Custom(1));
            let mut xs: Vec<f64> = g
                .iter()
                .flat_map(|t| [*t, t.next_up(), t.next_down()])
                .collect();
            xs.extend([
                0.0,
                -0.0,
                -1.0,
                f64::MIN_POSITIVE,
                1e-300,
                f64::MAX,
                f64::INFINITY,
            ]);
            xs.extend([f64::NEG_INFINITY, f64::NAN]);
            for _ in 0..20_000 {
                let u = (rng.next_u64() >> 11) as f64 * UNIT;
                xs.push(10f64.powf(u * 12.0 - 3.0));
                xs.push(-10f64.powf(u * 6.0));
            }
            for x in xs {
                let want = if g.first().is_none_or(|t| x <= *t) {
                    0
                } else {
                    g.partition_point(|t| *t < x)
                };
                assert_eq!(index.first_at_or_after(x), want, "x = {x}, grid {g:?}");
            }
        }
    }

    #[test]
    fn a_bad_quorum_is_an_error() {
        let legs = Legs {
            write: exp(1.0),
            ack: exp(1.0),
            read: exp(1.0),
            response: exp(1.0),
        };
        assert_eq!(
            Wars::new(3, 4, 1, legs).err(),
            Some(WarsError::Quorum { n: 3, r: 4, w: 1 })
        );
    }
}
