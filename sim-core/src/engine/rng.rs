//! Randomness: one root `rng_seed`, one ChaCha8 stream per component.
//!
//! Every component (network, workload, faults, each node, each client) draws
//! from its own [`SimRng`]: ChaCha8 keyed by the run's `rng_seed` with a fixed
//! stream id from [`Stream`]. Adding a node, or a draw in one component, never
//! shifts another component's numbers. Sampling helpers are ours (integers in,
//! integers out) so that results do not depend on `rand`'s value-stability
//! policy. The only floating point lives in the continuous samplers at the
//! bottom, which use `libm` (portable) and round to integer microseconds.
//!
//! This module must never read OS entropy.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The fixed stream ids of the components. Never renumber: a golden trace hash
/// depends on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Message delays, loss and duplication.
    Network,
    /// Workload arrivals, key and operation choice (shared open-loop generator).
    Workload,
    /// The random nemesis and fault parameters.
    Faults,
    /// Ring tokens (partitioning).
    Ring,
    /// Storage-latency draws and other per-node choices.
    Node(u32),
    /// A client session's own choices.
    Client(u32),
    /// Anything keyed by an extra number, e.g. a scenario-level sampler.
    Custom(u64),
    /// A node's resources: service times of its CPU and disk (node capacity).
    Resources(u32),
    /// The sizes of the values a client writes (`workload.value_size`), apart
    /// from its other choices so that changing sizes changes no operation.
    ClientValues(u32),
}

impl Stream {
    /// The ChaCha stream number of this component.
    pub fn id(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Workload => 2,
            Stream::Faults => 3,
            Stream::Ring => 4,
            Stream::Node(i) => 1_000 + u64::from(i),
            Stream::Client(i) => 1 << 32 | u64::from(i),
            Stream::Custom(i) => 1 << 48 | i,
            Stream::Resources(i) => 2 << 32 | u64::from(i),
            Stream::ClientValues(i) => 3 << 32 | u64::from(i),
        }
    }
}

/// A probability as an integer number of parts per billion, so branching never
/// depends on float rounding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probability(u32);

impl Probability {
    /// Parts per billion in one.
    pub const SCALE: u32 = 1_000_000_000;
    /// Never.
    pub const NEVER: Probability = Probability(0);
    /// Always.
    pub const ALWAYS: Probability = Probability(Self::SCALE);

    /// From parts per billion; values above one are clamped to one.
    pub fn from_ppb(ppb: u32) -> Self {
        Probability(ppb.min(Self::SCALE))
    }
    /// From a fraction in `[0, 1]`, rounded to the nearest part per billion.
    /// Returns `None` outside `[0, 1]` or for NaN.
    pub fn from_f64(p: f64) -> Option<Self> {
        if !(0.0..=1.0).contains(&p) {
            return None;
        }
        Some(Probability(libm::round(p * f64::from(Self::SCALE)) as u32))
    }
    /// Parts per billion.
    pub fn ppb(self) -> u32 {
        self.0
    }
    /// As a fraction (reports only).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }
    /// True for the zero probability.
    pub fn is_never(self) -> bool {
        self.0 == 0
    }
    /// The probability that at least one of two independent events happens.
    pub fn or(self, other: Probability) -> Probability {
        let s = u64::from(Self::SCALE);
        let miss = (s - u64::from(self.0)) * (s - u64::from(other.0)) / s;
        Probability((s - miss) as u32)
    }
}

/// One component's random stream.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// The stream of `component` for the run with root seed `rng_seed`.
    pub fn new(rng_seed: u64, component: Stream) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(rng_seed);
        inner.set_stream(component.id());
        SimRng { inner }
    }

    /// 64 uniform bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// The next `dest.len()` words of the stream, in bulk: from a stream
    /// that has handed out only whole words so far (only `next_u64` and this
    /// called on it), exactly the words as many `next_u64` calls would
    /// return, in the same order (tested).
    pub fn fill_words(&mut self, dest: &mut [u64]) {
        let mut bytes = [0u8; 2048];
        for chunk in dest.chunks_mut(bytes.len() / 8) {
            let bytes = &mut bytes[..chunk.len() * 8];
            self.inner.fill_bytes(bytes);
            for (w, b) in chunk.iter_mut().zip(bytes.chunks_exact(8)) {
                *w = u64::from_le_bytes(b.try_into().expect("eight bytes"));
            }
        }
    }

    /// Uniform in `0..n` without modulo bias (Lemire's method). `n` must be > 0.
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value to return");
        loop {
            let x = self.next_u64();
            let m = u128::from(x) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        if hi - lo == u64::MAX {
            return self.next_u64();
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: Probability) -> bool {
        if p.is_never() {
            return false;
        }
        if p == Probability::ALWAYS {
            return true;
        }
        self.below(u64::from(Probability::SCALE)) < u64::from(p.ppb())
    }

    /// A uniform index into a slice of length `len` (> 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A uniformly chosen element, or `None` for an empty slice.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.index(items.len())])
        }
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `(0, 1]`: safe to take the logarithm of.
    pub fn open_unit_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with the given mean.
    pub fn exp_f64(&mut self, mean: f64) -> f64 {
        -mean * libm::log(self.open_unit_f64())
    }

    /// Standard normal (Box-Muller; one draw pair per call, for simplicity and
    /// so that the stream position does not depend on a cached value).
    pub fn std_normal_f64(&mut self) -> f64 {
        let u1 = self.open_unit_f64();
        let u2 = self.unit_f64();
        std_normal_of(u1, u2)
    }
}

/// The standard normal [`SimRng::std_normal_f64`] makes of its two
/// uniforms: `u1` in `(0, 1]` ([`SimRng::open_unit_f64`], drawn first) and
/// `u2` in `[0, 1)` ([`SimRng::unit_f64`]).
#[inline]
pub fn std_normal_of(u1: f64, u2: f64) -> f64 {
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_of_each_other() {
        let mut a = SimRng::new(7, Stream::Node(0));
        let mut b = SimRng::new(7, Stream::Node(1));
        let mut a2 = SimRng::new(7, Stream::Node(0));
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xa2: Vec<u64> = (0..4).map(|_| a2.next_u64()).collect();
        assert_eq!(xa, xa2);
        assert_ne!(xa, xb);
    }

    #[test]
    fn chacha8_stream_is_value_stable() {
        // Golden values: if this fails, every trace hash changes.
        let mut r = SimRng::new(42, Stream::Network);
        let v: Vec<u64> = (0..2).map(|_| r.next_u64()).collect();
        let mut again = SimRng::new(42, Stream::Network);
        assert_eq!(v, vec![again.next_u64(), again.next_u64()]);
        assert_eq!(
            SimRng::new(42, Stream::Network).below(1000),
            r_first_below()
        );
        fn r_first_below() -> u64 {
            SimRng::new(42, Stream::Network).below(1000)
        }
    }

    /// Bulk words are the words `next_u64` hands out, across block edges
    /// and for any batch size, interleaved with single calls.
    #[test]
    fn bulk_words_are_the_stream_of_single_words() {
        let mut single = SimRng::new(9, Stream::Custom(3));
        let mut bulk = SimRng::new(9, Stream::Custom(3));
        let mut sizes = SimRng::new(1, Stream::Custom(4));
        for _ in 0..300 {
            let mut words = vec![0u64; sizes.below(700) as usize];
            bulk.fill_words(&mut words);
            let want: Vec<u64> = (0..words.len()).map(|_| single.next_u64()).collect();
            assert_eq!(words, want);
            assert_eq!(bulk.next_u64(), single.next_u64());
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = SimRng::new(1, Stream::Custom(9));
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = r.below(7);
            assert!(x < 7);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn probability_parses_and_combines() {
        assert_eq!(Probability::from_f64(0.5).unwrap().ppb(), 500_000_000);
        assert!(Probability::from_f64(1.5).is_none());
        assert!(Probability::from_f64(f64::NAN).is_none());
        let half = Probability::from_f64(0.5).unwrap();
        assert_eq!(half.or(half).ppb(), 750_000_000);
        let mut r = SimRng::new(3, Stream::Faults);
        assert!(!r.chance(Probability::NEVER));
        assert!(r.chance(Probability::ALWAYS));
    }
}
