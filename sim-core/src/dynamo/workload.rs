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
    Zipfian {
        cumulative: Vec<u64>,
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
                    .collect();
                SamplerKind::Zipfian { cumulative }
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
            SamplerKind::Zipfian { cumulative } => {
                let total = *cumulative.last().expect("key_count >= 1");
                let u = rng.below(total);
                Key(cumulative.partition_point(|c| *c <= u) as u64)
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
