//! The CUBA and COBA benchmarks of Brette et al. (2007) against NEST 3.10 running the same
//! models (issue #16, item 5): `scenes/brette_2007_cuba.ron` and `brette_2007_coba.ron` at full
//! scale, over seeds. NEST's numbers come from `tests/reference/nest_cuba.py` and
//! `nest_coba.py` (NEST's own `brette_et_al_2007/cuba.py` and `coba.py` networks, every neuron
//! recorded; 5 seeds each in `tests/reference/cuba_nest.csv`, `coba_nest.csv`); this test
//! computes the same statistics from biospike's spikes (CUBA over 200..2000 ms, COBA over
//! 200..1000 ms): the rate of each population, the mean ISI CV, and the synchrony (variance over
//! mean of the population count in 1 ms bins).

use biospike::prelude::*;
use biospike::{Scene, Simulation};
use std::path::Path;

const NE: u32 = 3200;
const NI: u32 = 800;
const T0: f64 = 200.0;

/// `[rate exc, rate inh, CV, synchrony]` per NEST seed.
fn nest(csv: &str) -> Vec<[f64; 4]> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
            [f[0], f[1], f[2], f[3]]
        })
        .collect()
}

fn simulate(scene: &str, seed: u64, t1: f64) -> [f64; 4] {
    let text = scene.replace("seed: 1,", &format!("seed: {seed},"));
    let scene = Scene::parse(&text, Path::new("brette_2007.ron")).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    let mut spikes: Vec<(u32, f64)> = Vec::new();
    sim.step_with((t1 * 10.0) as u64 + 1, |w| {
        let t = (w.resource::<SimClock>().step() - 1) as f64 * 0.1;
        if t > T0 && t <= t1 {
            spikes.extend(w.resource::<StepSpikes>().ids.iter().map(|&id| (id, t)));
        }
    });
    let span = (t1 - T0) / 1000.0;
    let rate_exc = spikes.iter().filter(|s| s.0 < NE).count() as f64 / f64::from(NE) / span;
    let rate_inh = spikes.iter().filter(|s| s.0 >= NE).count() as f64 / f64::from(NI) / span;
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); (NE + NI) as usize];
    for &(id, t) in &spikes {
        per[id as usize].push(t);
    }
    let cvs: Vec<f64> = per
        .iter()
        .filter(|t| t.len() >= 3)
        .map(|t| {
            let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let mean = isi.iter().sum::<f64>() / isi.len() as f64;
            (isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64).sqrt() / mean
        })
        .collect();
    let cv = cvs.iter().sum::<f64>() / cvs.len().max(1) as f64;
    let mut counts = vec![0f64; (t1 - T0) as usize];
    let last = counts.len() - 1;
    for &(_, t) in &spikes {
        counts[((t - T0).floor() as usize).min(last)] += 1.0;
    }
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    [rate_exc, rate_inh, cv, var / mean]
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (m, (x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0).max(1.0)).sqrt())
}

/// Rates, irregularity and synchrony as in NEST, within 4 standard errors of the difference
/// plus a relative allowance (5 % for rates, 10 % for CV and synchrony).
fn compare(what: &str, scene: &str, csv: &str, t1: f64) {
    let reference = nest(csv);
    assert_eq!(reference.len(), 5);
    // After the 50 ms stimulus the network either ignites into self-sustained activity or falls
    // silent; the reference seeds all ignited, so the statistics compare ignited runs (the
    // first three), and at least three of the first six seeds must ignite.
    let mut ours = Vec::new();
    let mut tried = 0;
    for seed in 31..37 {
        if ours.len() == 3 {
            break;
        }
        tried += 1;
        let s = simulate(scene, seed, t1);
        if s[0] > 1.0 {
            ours.push(s);
        }
    }
    assert_eq!(ours.len(), 3, "{what}: only {} of {tried} seeds sustained activity", ours.len());
    eprintln!("{what}: {} of {tried} seeds sustained activity", ours.len());
    let names = ["rate exc (Hz)", "rate inh (Hz)", "ISI CV", "synchrony"];
    let allowance = [0.05, 0.05, 0.10, 0.10];
    for k in 0..4 {
        let (a, b): (Vec<f64>, Vec<f64>) = (ours.iter().map(|s| s[k]).collect(), reference.iter().map(|s| s[k]).collect());
        let ((mo, so), (mn, sn)) = (mean_sd(&a), mean_sd(&b));
        let tolerance = 4.0 * (so * so / a.len() as f64 + sn * sn / b.len() as f64).sqrt() + allowance[k] * mn;
        eprintln!("{what} {}: biospike {mo:.3} ± {so:.3}, NEST {mn:.3} ± {sn:.3}", names[k]);
        assert!((mo - mn).abs() <= tolerance, "{what} {}: biospike {mo:.4} vs NEST {mn:.4} (tolerance {tolerance:.4})", names[k]);
    }
}

/// CUBA's self-sustained asynchronous irregular state (exponential currents).
#[test]
fn cuba_matches_nest_over_seeds() {
    compare("CUBA", include_str!("../scenes/brette_2007_cuba.ron"), include_str!("reference/cuba_nest.csv"), 2000.0);
}

/// COBA's self-sustained activity (exponential conductances with reversal potentials).
#[test]
fn coba_matches_nest_over_seeds() {
    compare("COBA", include_str!("../scenes/brette_2007_coba.ron"), include_str!("reference/coba_nest.csv"), 1000.0);
}
