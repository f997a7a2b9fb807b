//! A log-linear histogram of non-negative integers (HDR-style): exact below
//! 32, then 32 sub-buckets per power of two (relative error under 3.2 %).
//! Mergeable by adding counts, so sweeps can merge distributions instead of
//! averaging percentiles. Counts grow lazily up to the largest bucket used
//! (at most [`BUCKETS`]), so a histogram of millisecond-scale waits costs a
//! few kilobytes. The engine uses it for resource waits; `reports` for
//! operation latencies. Recording and [`Histogram::quantile_ppm`] are
//! integer-only, so the engine may branch on them.

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Number of buckets covering all of `u64`.
pub const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// Bucket index of a value.
#[inline]
pub fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - SUB_BITS;
    ((shift as u64 + 1) * SUB + ((v >> shift) - SUB)) as usize
}

/// Inclusive value range of a bucket.
pub fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB {
        return (index, index);
    }
    let shift = index / SUB - 1;
    let sub = index % SUB + SUB;
    let lo = sub << shift;
    let hi = lo.saturating_add((1u64 << shift) - 1);
    (lo, hi)
}

/// A histogram of non-negative integers (latencies in microseconds, sizes
/// in bytes).
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Counts per bucket, up to the largest bucket recorded.
    counts: Vec<u64>,
    total: u64,
    sum: u128,
    max: u64,
}

impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        let n = self.counts.len().max(other.counts.len());
        let at = |c: &Vec<u64>, i: usize| c.get(i).copied().unwrap_or(0);
        self.total == other.total
            && self.sum == other.sum
            && self.max == other.max
            && (0..n).all(|i| at(&self.counts, i) == at(&other.counts, i))
    }
}

impl Eq for Histogram {}

impl Histogram {
    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Records `n` occurrences of one value.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        let b = bucket_of(v);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += n;
        self.total += n;
        self.sum += u128::from(v) * u128::from(n);
        self.max = self.max.max(v);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Sum of every value recorded.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The value at quantile `ppm / 1e6` (the midpoint of its bucket,
    /// capped at the maximum), or 0 when empty. Integer arithmetic only.
    pub fn quantile_ppm(&self, ppm: u32) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let ppm = u128::from(ppm.min(1_000_000));
        let rank = ((u128::from(self.total) * ppm).div_ceil(1_000_000) as u64).max(1);
        self.value_at_rank(rank)
    }

    fn value_at_rank(&self, rank: u64) -> u64 {
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bucket_range(i);
                return (lo + (hi - lo) / 2).min(self.max);
            }
        }
        self.max
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Mean, or 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// Largest value.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` in [0, 1] (the midpoint of its bucket,
    /// capped at the maximum), or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        self.value_at_rank(rank)
    }

    /// The CDF: `(bucket upper bound, cumulative fraction)` per non-empty bucket.
    pub fn cdf(&self) -> Vec<(u64, f64)> {
        let mut out = Vec::new();
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            if *c > 0 {
                seen += c;
                out.push((
                    bucket_range(i).1.min(self.max),
                    seen as f64 / self.total as f64,
                ));
            }
        }
        out
    }

    /// Non-empty buckets as `(index, count)` (compact serialization).
    pub fn sparse(&self) -> Vec<(usize, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (i, *c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_value_space() {
        let mut prev_hi = None;
        for i in 0..BUCKETS {
            let (lo, hi) = bucket_range(i);
            assert!(lo <= hi);
            if let Some(p) = prev_hi {
                assert_eq!(lo, p + 1, "bucket {i} starts right after the previous one");
            }
            assert_eq!(bucket_of(lo), i);
            assert_eq!(bucket_of(hi), i);
            prev_hi = Some(hi);
            if hi == u64::MAX {
                break;
            }
        }
    }

    #[test]
    fn quantiles_are_within_bucket_precision() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 5000.0).abs() / 5000.0 < 0.035, "{p50}");
        assert_eq!(h.quantile(1.0), 10_000);
        assert_eq!(h.count(), 10_000);
        assert!((h.mean() - 5000.5).abs() < 1e-9);
        assert_eq!(h.quantile_ppm(500_000), h.quantile(0.5));
        assert_eq!(h.quantile_ppm(999_000), h.quantile(0.999));
    }

    #[test]
    fn lazily_grown_histograms_merge_and_compare_by_content() {
        let mut small = Histogram::default();
        small.record(3);
        let mut big = Histogram::default();
        big.record(1 << 40);
        let mut a = small.clone();
        a.merge(&big);
        let mut b = big.clone();
        b.merge(&small);
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.quantile_ppm(1_000_000), 1 << 40);
        let mut c = Histogram::default();
        c.record_n(7, 3);
        assert_eq!(c.sparse(), vec![(7, 3)]);
        assert_eq!(c.sum(), 21);
    }
}
