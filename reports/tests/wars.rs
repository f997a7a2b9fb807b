//! The WARS predictor's controls (issue 16): PBS's closed form (equation 1)
//! where it applies, and PBS's published P(consistent | t = 0) for the
//! LinkedIn fits, LNKD-SSD (.974) and LNKD-DISK (.437), N=3, R=W=1.

use reports::wars::{pbs_eq1, Legs, Wars};
use sim_core::world::dist::Latency;

fn exp(mean_ms: f64) -> Latency {
    Latency::Exponential {
        mean_us: mean_ms * 1000.0,
    }
}

fn zero() -> Latency {
    Latency::Constant { us: 0.0 }
}

/// PBS's LinkedIn fits (Bailis et al. 2012, Table 3): a mixture of a Pareto
/// (`xm` ms, shape `alpha`) with probability `p` and an exponential of rate
/// `lambda` per ms.
fn pareto_exp(p: f64, xm: f64, alpha: f64, lambda: f64) -> Latency {
    let ppb = |x: f64| (x * 1e9).round() as u64;
    Latency::mixture(vec![
        (
            ppb(p),
            Latency::Pareto {
                scale_us: xm * 1000.0,
                shape: alpha,
            },
        ),
        (ppb(1.0 - p), exp(1.0 / lambda)),
    ])
}

/// LNKD-SSD: every leg 91.22 % Pareto(0.235 ms, 10), 8.78 % Exp(1.66/ms).
fn lnkd_ssd() -> Latency {
    pareto_exp(0.9122, 0.235, 10.0, 1.66)
}

/// LNKD-DISK: the write leg 38 % Pareto(1.05 ms, 1.51), 62 % Exp(0.183/ms);
/// the other legs as LNKD-SSD.
fn lnkd_disk_write() -> Latency {
    pareto_exp(0.38, 1.05, 1.51, 0.183)
}

/// The standard error of a proportion estimated from `n` trials.
fn se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// When the write reaches exactly the W replicas that acknowledged it
/// first before the read's requests arrive (acknowledgements and read
/// requests take no time, t = 0) and the read takes R replicas independent
/// of the write, P(consistent) is PBS's equation 1.
#[test]
fn without_propagation_beyond_the_write_quorum_the_model_is_equation_one() {
    const TRIALS: u64 = 4_000_000;
    for (n, r, w) in [(3, 1, 1), (5, 1, 2), (5, 2, 2), (7, 2, 3), (3, 2, 2)] {
        let m = Wars::new(
            n,
            r,
            w,
            Legs {
                write: exp(1.0),
                ack: zero(),
                read: zero(),
                response: exp(1.0),
            },
        )
        .expect("valid");
        let p = m.run(TRIALS, 7, &[0.0]).curve()[0].1;
        let expected = pbs_eq1(n as usize, r as usize, w as usize);
        let tolerance = 5.0 * se(expected, TRIALS);
        eprintln!("N={n} R={r} W={w}: model {p:.5}, equation 1 {expected:.5}");
        assert!(
            (p - expected).abs() <= tolerance,
            "N={n} R={r} W={w}: {p} vs {expected} (tolerance {tolerance})"
        );
        if r + w > n {
            assert_eq!(p, 1.0, "intersecting quorums are always consistent");
        }
    }
}

fn lnkd(write: Latency) -> Wars {
    Wars::new(
        3,
        1,
        1,
        Legs {
            write,
            ack: lnkd_ssd(),
            read: lnkd_ssd(),
            response: lnkd_ssd(),
        },
    )
    .expect("valid")
}

#[test]
fn pbs_published_t_zero_consistency_for_the_linkedin_fits() {
    const TRIALS: u64 = 2_000_000;
    for (name, write, published) in [
        ("LNKD-SSD", lnkd_ssd(), 0.974),
        ("LNKD-DISK", lnkd_disk_write(), 0.437),
    ] {
        let p = lnkd(write).run(TRIALS, 1, &[0.0]).curve()[0].1;
        eprintln!("{name}: P(consistent | t=0) = {p:.4} (PBS: {published})");
        assert!(
            (p - published).abs() <= 0.005,
            "{name}: {p} vs PBS's {published}"
        );
    }
}

#[test]
fn the_curve_rises_to_one_and_is_deterministic() {
    let grid: Vec<f64> = [0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 1000.0]
        .iter()
        .map(|ms| ms * 1000.0)
        .collect();
    let m = lnkd(lnkd_disk_write());
    let a = m.run(300_000, 3, &grid);
    let curve = a.curve();
    assert!(curve.windows(2).all(|w| w[0].1 <= w[1].1), "{curve:?}");
    assert!(curve[6].1 > 0.999, "{curve:?}");
    assert_eq!(curve, m.run(300_000, 3, &grid).curve());
    assert_ne!(curve, m.run(300_000, 4, &grid).curve());
    // Chunks merge in any order to the same prediction.
    let mut merged = m.run_chunk(1, 1000, 9, &grid);
    merged.absorb(m.run_chunk(0, 1000, 9, &grid));
    let mut other = m.run_chunk(0, 1000, 9, &grid);
    other.absorb(m.run_chunk(1, 1000, 9, &grid));
    assert_eq!(merged.curve(), other.curve());
    assert_eq!(merged.trials, 2000);
}
