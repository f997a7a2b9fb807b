//! Key popularity and operation choice: the pure sampling half of the
//! workload. [`crate::dynamo::client`] holds the session state machines that use it.
//!
//! Zipfian sampling precomputes integer cumulative weights once per run (the
//! only float work is building that table), then each draw is one integer
//! draw and a binary search.

use crate::config::{Mix, Popularity};
use crate::engine::ids::Key;
use crate::engine::rng::{Probability, SimRng};

/// What a client does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plan {
    /// A plain get.
    Read,
    /// get, reconcile, put with the context.
    ReadModifyWrite,
    /// put with an empty context.
    BlindWrite,
    /// get, then delete with the context.
    Delete,
}

/// Draws keys according to the configured popularity.
#[derive(Clone, Debug)]
pub struct KeySampler {
    key_count: u64,
    kind: SamplerKind,
}

#[derive(Clone, Debug)]
enum SamplerKind {
    Uniform,
    /// `cumulative[i]`: total weight of ranks `0..=i`, scaled to u64.
    /// `guide[j]`: the rank a draw of `j << shift` picks, so that a draw
    /// `u` searches only `guide[u >> shift]..=guide[(u >> shift) + 1]`
    /// (the inverse is monotone), not the whole table: the same rank as
    /// a search of the whole table, without its cache misses.
    Zipfian {
        cumulative: Vec<u64>,
        guide: Vec<u32>,
        shift: u32,
    },
    Hotspot {
        hot: u64,
        hot_traffic: Probability,
    },
}

impl KeySampler {
    /// Builds the sampler (the Zipf table costs O(key_count) once).
    pub fn new(key_count: u64, popularity: &Popularity) -> Self {
        let kind = match popularity {
            Popularity::Uniform => SamplerKind::Uniform,
            Popularity::Zipfian { s } => {
                let weights: Vec<f64> = (1..=key_count)
                    .map(|rank| 1.0 / libm::pow(rank as f64, *s))
                    .collect();
                let total: f64 = weights.iter().sum();
                let scale = (1u64 << 62) as f64 / total;
                let mut acc = 0u64;
                let cumulative = weights
                    .iter()
                    .map(|w| {
                        acc += (libm::round(w * scale) as u64).max(1);
                        acc
                    })
                    .collect::<Vec<u64>>();
                let total = *cumulative.last().expect("key_count >= 1");
                // About one guide entry per four ranks.
                let buckets = (key_count / 4).max(1);
                let shift = (total / buckets).max(1).ilog2();
                let guide = (0..=(total >> shift) + 1)
                    .map(|j| {
                        let u = j.checked_shl(shift).unwrap_or(u64::MAX);
                        cumulative.partition_point(|c| *c <= u) as u32
                    })
                    .collect();
                SamplerKind::Zipfian {
                    cumulative,
                    guide,
                    shift,
                }
            }
            Popularity::Hotspot {
                hot_keys,
                hot_traffic,
            } => {
                let hot = (u128::from(key_count) * u128::from(hot_keys.ppb()))
                    .div_ceil(u128::from(Probability::SCALE));
                SamplerKind::Hotspot {
                    hot: (hot as u64).clamp(1, key_count),
                    hot_traffic: *hot_traffic,
                }
            }
        };
        KeySampler { key_count, kind }
    }

    /// One key.
    pub fn sample(&self, rng: &mut SimRng) -> Key {
        match &self.kind {
            SamplerKind::Uniform => Key(rng.below(self.key_count)),
            SamplerKind::Zipfian {
                cumulative,
                guide,
                shift,
            } => {
                let total = *cumulative.last().expect("key_count >= 1");
                Key(guided_rank(cumulative, guide, *shift, rng.below(total)) as u64)
            }
            SamplerKind::Hotspot { hot, hot_traffic } => {
                if rng.chance(*hot_traffic) || *hot == self.key_count {
                    Key(rng.below(*hot))
                } else {
                    Key(*hot + rng.below(self.key_count - *hot))
                }
            }
        }
    }
}

/// The rank a zipfian draw `u` picks: the number of `cumulative` entries
/// at or below `u`, searched only between the two guide entries around `u`
/// (see `SamplerKind::Zipfian`).
fn guided_rank(cumulative: &[u64], guide: &[u32], shift: u32, u: u64) -> usize {
    let j = (u >> shift) as usize;
    let (from, to) = (guide[j] as usize, guide[j + 1] as usize);
    from + cumulative[from..=to.min(cumulative.len() - 1)].partition_point(|c| *c <= u)
}

/// Draws the next operation from the mix.
pub fn choose_plan(mix: &Mix, rng: &mut SimRng) -> Plan {
    let total = u64::from(mix.read)
        + u64::from(mix.read_modify_write)
        + u64::from(mix.blind_write)
        + u64::from(mix.delete);
    let mut x = rng.below(total.max(1));
    for (weight, plan) in [
        (mix.read, Plan::Read),
        (mix.read_modify_write, Plan::ReadModifyWrite),
        (mix.blind_write, Plan::BlindWrite),
        (mix.delete, Plan::Delete),
    ] {
        if x < u64::from(weight) {
            return plan;
        }
        x -= u64::from(weight);
    }
    Plan::Read
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Stream;

    #[test]
    fn zipfian_guide_picks_the_rank_a_whole_table_search_picks() {
        // Every draw, and the edges of every guide bucket, against the
        // plain inverse: the guide must not change a single key.
        for (keys, exponent) in [(1, 0.99), (2, 0.5), (3, 2.0), (1_000, 0.99), (12_345, 1.2)] {
            let s = KeySampler::new(keys, &Popularity::Zipfian { s: exponent });
            let SamplerKind::Zipfian {
                cumulative,
                guide,
                shift,
            } = &s.kind
            else {
                unreachable!("a zipfian sampler")
            };
            let total = *cumulative.last().unwrap();
            let whole = |u: u64| cumulative.partition_point(|c| *c <= u) as u64;
            let guided = |u: u64| guided_rank(cumulative, guide, *shift, u) as u64;
            let mut us: Vec<u64> = vec![0, 1, total - 1];
            us.extend(
                cumulative
                    .iter()
                    .flat_map(|c| [c - 1, *c])
                    .filter(|u| *u < total),
            );
            us.extend((0..guide.len() as u64).map(|j| (j << shift).min(total - 1)));
            for u in us {
                assert_eq!(guided(u), whole(u), "{keys} keys, s {exponent}, u {u}");
            }
            let mut a = SimRng::new(7, Stream::Workload);
            let mut b = SimRng::new(7, Stream::Workload);
            for _ in 0..20_000 {
                assert_eq!(s.sample(&mut a).0, whole(b.below(total)));
            }
        }
    }

    #[test]
    fn zipfian_prefers_low_ranks() {
        let s = KeySampler::new(1000, &Popularity::Zipfian { s: 0.99 });
        let mut rng = SimRng::new(1, Stream::Workload);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[s.sample(&mut rng).0 as usize] += 1;
        }
        assert!(counts[0] > counts[9] && counts[9] > counts[500]);
        assert!(
            counts[0] > 10_000,
            "rank 1 of zipf(0.99) over 1000 keys is ~13%: {}",
            counts[0]
        );
    }

    #[test]
    fn hotspot_sends_most_traffic_to_the_hot_set() {
        let p = Popularity::Hotspot {
            hot_keys: Probability::from_f64(0.1).expect("valid"),
            hot_traffic: Probability::from_f64(0.9).expect("valid"),
        };
        let s = KeySampler::new(100, &p);
        let mut rng = SimRng::new(2, Stream::Workload);
        let hot = (0..10_000).filter(|_| s.sample(&mut rng).0 < 10).count();
        assert!((8_700..9_300).contains(&hot), "{hot}");
    }

    #[test]
    fn the_mix_is_respected() {
        let mix = Mix {
            read: 500_000_000,
            read_modify_write: 0,
            blind_write: 500_000_000,
            delete: 0,
        };
        let mut rng = SimRng::new(3, Stream::Workload);
        let reads = (0..10_000)
            .filter(|_| choose_plan(&mix, &mut rng) == Plan::Read)
            .count();
        assert!((4_700..5_300).contains(&reads));
    }
}
