//! Latency distributions: what a message delay, a disk access or a think time
//! is drawn from.
//!
//! Parameters are kept in microseconds as `f64` (they come from the scenario
//! and some shapes are continuous), but every sample is rounded to an integer
//! [`SimDuration`] before it leaves this module, so nothing downstream branches
//! on a float. All transcendental functions come from `libm`, which gives the
//! same bits on every platform. This module owns sampling only; it never
//! decides which distribution applies where (that is `net` and `scenario`).

use crate::engine::rng::SimRng;
use crate::engine::time::SimDuration;
use crate::world::normal_draw::normal_duration;

/// A distribution of non-negative durations.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// Always the same value.
    Constant {
        /// Microseconds.
        us: f64,
    },
    /// Uniform between `min_us` and `max_us`.
    Uniform {
        /// Lower bound, microseconds.
        min_us: f64,
        /// Upper bound, microseconds.
        max_us: f64,
    },
    /// Normal, truncated at zero (negative draws become zero).
    Normal {
        /// Mean, microseconds.
        mean_us: f64,
        /// Standard deviation, microseconds.
        stddev_us: f64,
    },
    /// Exponential.
    Exponential {
        /// Mean, microseconds.
        mean_us: f64,
    },
    /// Log-normal: `exp(N(ln median, sigma))`.
    LogNormal {
        /// Median, microseconds.
        median_us: f64,
        /// Standard deviation of the underlying normal.
        sigma: f64,
    },
    /// Pareto (type I): `scale / U^(1/shape)`, at least `scale`.
    Pareto {
        /// Minimum value, microseconds.
        scale_us: f64,
        /// Tail index; smaller is heavier.
        shape: f64,
    },
    /// A weighted mixture; weights are integers (parts of their sum).
    Mixture(Mixture),
    /// An empirical CDF: points `(value_us, cumulative parts per billion)`,
    /// non-decreasing in both, the last at one billion. Sampled by inverting
    /// the CDF with linear interpolation between points.
    Empirical(Vec<(f64, u32)>),
    /// The sum of one independent draw from each part: the latency algebra
    /// of delays that add up, such as a constant offset plus a distribution
    /// (PBS's WAN model, "75 ms + LNKD-DISK", is `Sum([Constant 75 ms,
    /// LNKD-DISK])`). Each part is truncated at zero before it is added, as
    /// it would be on its own.
    Sum(Vec<Latency>),
}

/// The parts of a [`Latency::Mixture`]: `(weight, distribution)` pairs,
/// and where each part's weight ends on the cumulative scale, so that a
/// draw finds its part by bisection (O(log parts)) rather than by a scan
/// (a 20,000-part mixture on the links made a run 17 times slower). The
/// part found is the one a scan over the weights finds: the first whose
/// cumulative weight exceeds the draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    parts: Vec<(u64, Latency)>,
    /// `ends[i]`: the sum of the weights of parts `0..=i` (wrapping, as the
    /// sum of weights did; validation keeps them parts of a billion).
    ends: Vec<u64>,
}

impl Mixture {
    /// A mixture of `(weight, distribution)` parts.
    pub fn new(parts: Vec<(u64, Latency)>) -> Mixture {
        let ends = parts
            .iter()
            .scan(0u64, |acc, (w, _)| {
                *acc = acc.wrapping_add(*w);
                Some(*acc)
            })
            .collect();
        Mixture { parts, ends }
    }

    /// The `(weight, distribution)` parts, in the scenario's order.
    pub fn parts(&self) -> &[(u64, Latency)] {
        &self.parts
    }

    /// The sum of the weights.
    pub fn total(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The part a draw `u` (below [`Mixture::total`]) falls in: the first
    /// whose cumulative weight is above `u`; none for a draw beyond them
    /// all (a mixture of zero total weight).
    pub fn pick(&self, u: u64) -> Option<&Latency> {
        let i = self.ends.partition_point(|end| *end <= u);
        self.parts.get(i).map(|(_, part)| part)
    }
}

/// The first two moments `(E[Y], E[Y²])` of `Y = max(0, X)` for `X`
/// normal with mean `mu` and standard deviation `sigma`: what
/// [`Latency::sample`] draws, since a negative draw becomes zero. With
/// `z = mu / sigma`, `Φ` and `φ` the standard normal's distribution and
/// density: `E[Y] = mu Φ(z) + sigma φ(z)` and
/// `E[Y²] = (mu² + sigma²) Φ(z) + mu sigma φ(z)`.
fn censored_normal(mu: f64, sigma: f64) -> (f64, f64) {
    if sigma <= 0.0 {
        let y = mu.max(0.0);
        return (y, y * y);
    }
    let z = mu / sigma;
    let cdf = 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    let pdf = libm::exp(-z * z / 2.0) / (2.0 * std::f64::consts::PI).sqrt();
    (
        mu * cdf + sigma * pdf,
        (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf,
    )
}

/// The largest sample any distribution returns: one hour. Heavy tails are cut
/// here so that one absurd draw cannot push an event past the end of time.
pub const SAMPLE_CAP: SimDuration = SimDuration::from_secs(3_600);

impl Latency {
    /// Zero delay.
    pub const ZERO: Latency = Latency::Constant { us: 0.0 };

    /// A mixture of `(weight, distribution)` parts ([`Mixture::new`]).
    pub fn mixture(parts: Vec<(u64, Latency)>) -> Latency {
        Latency::Mixture(Mixture::new(parts))
    }

    /// Draws one duration.
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match self {
            // The same duration as the formula below, faster (see
            // `normal_draw`).
            Latency::Normal { mean_us, stddev_us } => normal_duration(rng, *mean_us, *stddev_us),
            _ => to_duration(self.sample_us(rng)),
        }
    }

    fn sample_us(&self, rng: &mut SimRng) -> f64 {
        match self {
            Latency::Constant { us } => *us,
            Latency::Uniform { min_us, max_us } => min_us + (max_us - min_us) * rng.unit_f64(),
            Latency::Normal { mean_us, stddev_us } => mean_us + stddev_us * rng.std_normal_f64(),
            Latency::Exponential { mean_us } => rng.exp_f64(*mean_us),
            Latency::LogNormal { median_us, sigma } => {
                median_us * libm::exp(sigma * rng.std_normal_f64())
            }
            Latency::Pareto { scale_us, shape } => {
                scale_us / libm::pow(rng.open_unit_f64(), 1.0 / shape)
            }
            Latency::Mixture(m) => match m.pick(rng.below(m.total().max(1))) {
                Some(part) => part.sample_us(rng),
                None => 0.0,
            },
            Latency::Empirical(points) => {
                let u = rng.below(u64::from(crate::engine::rng::Probability::SCALE) + 1) as u32;
                empirical_inverse(points, u)
            }
            // `max` also turns a NaN part into zero, as `to_duration` would.
            Latency::Sum(parts) => parts.iter().map(|p| p.sample_us(rng).max(0.0)).sum(),
        }
    }

    /// Draws one value of a distribution used for something other than
    /// time (value sizes in bytes): the same shapes, the number read in
    /// the distribution's own unit, rounded like a duration.
    pub fn sample_units(&self, rng: &mut SimRng) -> u64 {
        self.sample(rng).as_micros()
    }

    /// True when every draw is zero (lets the network skip a draw).
    pub fn is_zero(&self) -> bool {
        matches!(self, Latency::Constant { us } if *us == 0.0)
    }

    /// The mean in microseconds where it has a closed form (reports,
    /// validation and the memory budget; never the simulation). A normal's
    /// draws below zero count as zero, as [`Latency::sample`] makes them.
    pub fn mean_us(&self) -> Option<f64> {
        match self {
            Latency::Constant { us } => Some(*us),
            Latency::Uniform { min_us, max_us } => Some((min_us + max_us) / 2.0),
            Latency::Normal { mean_us, stddev_us } => Some(censored_normal(*mean_us, *stddev_us).0),
            Latency::Exponential { mean_us } => Some(*mean_us),
            Latency::LogNormal { median_us, sigma } => {
                Some(median_us * libm::exp(sigma * sigma / 2.0))
            }
            Latency::Pareto { scale_us, shape } if *shape > 1.0 => {
                Some(shape * scale_us / (shape - 1.0))
            }
            Latency::Pareto { .. } => None,
            Latency::Mixture(m) => {
                let total = m.total();
                let mut acc = 0.0;
                for (w, p) in m.parts() {
                    acc += p.mean_us()? * (*w as f64) / (total.max(1) as f64);
                }
                Some(acc)
            }
            Latency::Empirical(points) => {
                let mut acc = 0.0;
                let mut prev = (0.0, 0u32);
                for &(v, c) in points {
                    let mass =
                        f64::from(c - prev.1) / f64::from(crate::engine::rng::Probability::SCALE);
                    acc += mass * (v + prev.0) / 2.0;
                    prev = (v, c);
                }
                Some(acc)
            }
            Latency::Sum(parts) => parts.iter().map(Latency::mean_us).sum(),
        }
    }

    /// The variance in µs² where it is finite and has a closed form (the
    /// budget's queueing bounds only). A normal's draws below zero count as
    /// zero, as sampled; empirical tables are uniform between their points,
    /// as sampled; a sum's parts are independent.
    pub fn variance_us2(&self) -> Option<f64> {
        let var = match self {
            Latency::Constant { .. } => 0.0,
            Latency::Uniform { min_us, max_us } => (max_us - min_us).powi(2) / 12.0,
            Latency::Normal { mean_us, stddev_us } => {
                let (mean, square) = censored_normal(*mean_us, *stddev_us);
                (square - mean * mean).max(0.0)
            }
            Latency::Exponential { mean_us } => mean_us * mean_us,
            Latency::LogNormal { sigma, .. } => {
                let mean = self.mean_us()?;
                mean * mean * (libm::exp(sigma * sigma) - 1.0)
            }
            Latency::Pareto { scale_us, shape } if *shape > 2.0 => {
                scale_us * scale_us * shape / ((shape - 1.0).powi(2) * (shape - 2.0))
            }
            Latency::Pareto { .. } => return None,
            Latency::Mixture(m) => {
                let total = (m.total() as f64).max(1.0);
                let mut square = 0.0;
                for (w, part) in m.parts() {
                    let m = part.mean_us()?;
                    square += *w as f64 / total * (part.variance_us2()? + m * m);
                }
                let mean = self.mean_us()?;
                (square - mean * mean).max(0.0)
            }
            Latency::Empirical(points) => {
                let (mut square, mut prev) = (0.0, (0.0, 0u32));
                for &(v, c) in points {
                    let mass = f64::from(c.saturating_sub(prev.1))
                        / f64::from(crate::engine::rng::Probability::SCALE);
                    let a = prev.0;
                    square += mass * (a * a + a * v + v * v) / 3.0;
                    prev = (v, c);
                }
                let mean = self.mean_us()?;
                (square - mean * mean).max(0.0)
            }
            Latency::Sum(parts) => parts
                .iter()
                .map(Latency::variance_us2)
                .sum::<Option<f64>>()?,
        };
        var.is_finite().then_some(var)
    }

    /// One draw in microseconds, before rounding (zero or more; NaN never).
    /// For models that work in continuous time (the WARS predictor in
    /// `reports`); the simulation itself only uses [`Latency::sample`].
    pub fn sample_f64_us(&self, rng: &mut SimRng) -> f64 {
        let us = self.sample_us(rng);
        if us.is_nan() || us <= 0.0 {
            0.0
        } else {
            us.min(SAMPLE_CAP.as_micros() as f64)
        }
    }
}

/// Inverts the CDF at `u` (parts per billion), interpolating linearly
/// between points. O(log points): a 100,000-point distribution costs a
/// draw about 17 comparisons (a linear scan made such runs 200 times
/// slower).
fn empirical_inverse(points: &[(f64, u32)], u: u32) -> f64 {
    let Some(&(v0, c0)) = points.first() else {
        return 0.0;
    };
    if u <= c0 {
        return v0;
    }
    // The first later point at or above `u` (cumulative counts never
    // decrease).
    let i = 1 + points[1..].partition_point(|&(_, c)| c < u);
    let Some(&(v, c)) = points.get(i) else {
        return points[points.len() - 1].0;
    };
    let (pv, pc) = points[i - 1];
    let span = f64::from(c - pc);
    if span == 0.0 {
        return v;
    }
    let frac = f64::from(u - pc) / span;
    pv + (v - pv) * frac
}

#[inline]
pub(crate) fn to_duration(us: f64) -> SimDuration {
    if us.is_nan() || us <= 0.0 {
        return SimDuration::ZERO;
    }
    let cap = SAMPLE_CAP.as_micros() as f64;
    SimDuration::from_micros(round_us(us.min(cap)))
}

/// A non-negative draw rounded to whole microseconds, half away from zero,
/// exactly as `f64::round` then `as u64` (a saturating cast), without the
/// library call: `x - trunc(x)` is exact for every non-negative double, and
/// a double of 2^52 or more is already whole (NaN gives 0, anything from
/// 2^64 on saturates, as the cast does).
#[inline(always)]
pub fn round_us(x: f64) -> u64 {
    let i = x as u64;
    if x - i as f64 >= 0.5 {
        i.saturating_add(1)
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Stream;

    #[test]
    fn rounding_to_microseconds_matches_the_library() {
        let mut rng = SimRng::new(6, Stream::Custom(2));
        let mut xs = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4503599627370495.5,
            9007199254740993.0,
            1.8446744073709552e19,
            1e25,
            f64::INFINITY,
            f64::NAN,
        ];
        for _ in 0..100_000 {
            xs.push((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 1e7);
        }
        for x in xs {
            assert_eq!(round_us(x), x.round() as u64, "x = {x}");
        }
    }

    fn draws(l: &Latency, n: usize) -> Vec<u64> {
        let mut rng = SimRng::new(11, Stream::Custom(1));
        (0..n).map(|_| l.sample(&mut rng).as_micros()).collect()
    }

    #[test]
    fn constant_and_uniform_stay_in_support() {
        assert!(draws(&Latency::Constant { us: 250.0 }, 10)
            .iter()
            .all(|&d| d == 250));
        let u = Latency::Uniform {
            min_us: 100.0,
            max_us: 200.0,
        };
        assert!(draws(&u, 1000).iter().all(|&d| (100..=200).contains(&d)));
    }

    #[test]
    fn normal_is_truncated_at_zero_and_centred() {
        let n = Latency::Normal {
            mean_us: 1000.0,
            stddev_us: 2000.0,
        };
        let d = draws(&n, 20_000);
        assert!(d.contains(&0));
        let tight = draws(
            &Latency::Normal {
                mean_us: 1000.0,
                stddev_us: 10.0,
            },
            20_000,
        );
        let mean = tight.iter().sum::<u64>() as f64 / tight.len() as f64;
        assert!((mean - 1000.0).abs() < 2.0, "mean {mean}");
    }

    /// The closed-form mean and variance of a normal count its negative
    /// draws as zero, as sampling does: the sampled moments of wide
    /// normals (most of the mass below zero for the last) match them, and
    /// the uncensored `mu` and `sigma²` would miss the first by 40 %.
    #[test]
    fn normal_moments_count_negative_draws_as_zero() {
        for (mean_us, stddev_us) in [(1000.0, 2000.0), (0.0, 1000.0), (-500.0, 1000.0)] {
            let l = Latency::Normal { mean_us, stddev_us };
            let d = draws(&l, 400_000);
            let n = d.len() as f64;
            let mean = d.iter().sum::<u64>() as f64 / n;
            let var = d.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
            let (m, v) = (l.mean_us().unwrap(), l.variance_us2().unwrap());
            assert!(
                (mean - m).abs() < 0.01 * m,
                "N({mean_us}, {stddev_us}): mean {mean} against {m}"
            );
            assert!(
                (var - v).abs() < 0.02 * v,
                "N({mean_us}, {stddev_us}): variance {var} against {v}"
            );
        }
        let tight = Latency::Normal {
            mean_us: 1000.0,
            stddev_us: 10.0,
        };
        assert!((tight.mean_us().unwrap() - 1000.0).abs() < 1e-9);
        assert!((tight.variance_us2().unwrap() - 100.0).abs() < 1e-6);
        let point = Latency::Normal {
            mean_us: -3.0,
            stddev_us: 0.0,
        };
        assert_eq!(
            (point.mean_us(), point.variance_us2()),
            (Some(0.0), Some(0.0))
        );
    }

    #[test]
    fn exponential_mean_is_close() {
        let d = draws(&Latency::Exponential { mean_us: 500.0 }, 50_000);
        let mean = d.iter().sum::<u64>() as f64 / d.len() as f64;
        assert!((mean - 500.0).abs() < 15.0, "mean {mean}");
    }

    #[test]
    fn pareto_never_goes_below_scale() {
        let d = draws(
            &Latency::Pareto {
                scale_us: 300.0,
                shape: 1.5,
            },
            10_000,
        );
        assert!(d.iter().all(|&x| x >= 300));
    }

    #[test]
    fn mixture_draws_from_its_parts_by_weight() {
        let m = Latency::mixture(vec![
            (9, Latency::Constant { us: 1.0 }),
            (1, Latency::Constant { us: 1000.0 }),
        ]);
        let d = draws(&m, 10_000);
        let slow = d.iter().filter(|&&x| x == 1000).count();
        assert!(d.iter().all(|&x| x == 1 || x == 1000));
        assert!((800..1200).contains(&slow), "slow draws {slow}");
    }

    /// The linear scan `empirical_inverse` replaced: the reference.
    fn linear_inverse(points: &[(f64, u32)], u: u32) -> f64 {
        let mut prev = (0.0, 0u32);
        if let Some(&(v0, c0)) = points.first() {
            if u <= c0 {
                return v0;
            }
            prev = (v0, c0);
        }
        for &(v, c) in points.iter().skip(1) {
            if u <= c {
                let span = f64::from(c - prev.1);
                if span == 0.0 {
                    return v;
                }
                let frac = f64::from(u - prev.1) / span;
                return prev.0 + (v - prev.0) * frac;
            }
            prev = (v, c);
        }
        prev.0
    }

    #[test]
    fn the_binary_search_inverts_exactly_like_the_linear_scan() {
        let mut rng = SimRng::new(3, crate::engine::rng::Stream::Network);
        for n in [1usize, 2, 3, 10, 257] {
            let mut c = 0u32;
            let mut v = 0.0;
            let mut points: Vec<(f64, u32)> = (0..n)
                .map(|_| {
                    // Repeated probabilities and latencies included.
                    c = c.saturating_add(rng.below(3) as u32 * 1_000_000);
                    v += rng.below(3) as f64 * 10.0;
                    (v, c.min(1_000_000_000))
                })
                .collect();
            points.last_mut().expect("a point").1 = 1_000_000_000;
            for _ in 0..2000 {
                let u = rng.below(1_000_000_001) as u32;
                assert_eq!(
                    empirical_inverse(&points, u).to_bits(),
                    linear_inverse(&points, u).to_bits(),
                    "n {n}, u {u}"
                );
            }
            for &(_, c) in &points {
                for u in [
                    c.saturating_sub(1),
                    c,
                    c.saturating_add(1).min(1_000_000_000),
                ] {
                    assert_eq!(
                        empirical_inverse(&points, u).to_bits(),
                        linear_inverse(&points, u).to_bits()
                    );
                }
            }
        }
        assert_eq!(empirical_inverse(&[], 5), linear_inverse(&[], 5));
    }

    #[test]
    fn empirical_inverts_the_cdf() {
        let e = Latency::Empirical(vec![
            (100.0, 0),
            (200.0, 500_000_000),
            (1000.0, 1_000_000_000),
        ]);
        let d = draws(&e, 10_000);
        assert!(d.iter().all(|&x| (100..=1000).contains(&x)));
        let below_200 = d.iter().filter(|&&x| x <= 200).count();
        assert!((4_500..5_500).contains(&below_200), "{below_200}");
        assert_eq!(empirical_inverse(&[(5.0, 1_000_000_000)], 0), 5.0);
    }

    #[test]
    fn a_sum_adds_one_draw_of_each_part() {
        let offset = Latency::Sum(vec![
            Latency::Constant { us: 75_000.0 },
            Latency::Uniform {
                min_us: 100.0,
                max_us: 200.0,
            },
        ]);
        assert!(draws(&offset, 1000)
            .iter()
            .all(|&d| (75_100..=75_200).contains(&d)));
        assert_eq!(offset.mean_us(), Some(75_150.0));
        // Parts are truncated at zero one by one, not the total.
        let truncated = Latency::Sum(vec![
            Latency::Constant { us: 1000.0 },
            Latency::Normal {
                mean_us: -5000.0,
                stddev_us: 1.0,
            },
        ]);
        assert!(draws(&truncated, 100).iter().all(|&d| d == 1000));
        let d = draws(
            &Latency::Sum(vec![
                Latency::Exponential { mean_us: 500.0 },
                Latency::Exponential { mean_us: 500.0 },
            ]),
            50_000,
        );
        let mean = d.iter().sum::<u64>() as f64 / d.len() as f64;
        assert!((mean - 1000.0).abs() < 20.0, "mean {mean}");
    }
}
