//! Brunel (2000) with delta synapses against NEST 3.10 running the same model (issue #16,
//! item 5): `scenes/brunel_2000.ron` at the test scale (2 000 excitatory and 500 inhibitory
//! neurons with the full model's in-degrees, 1 000 and 250, so each neuron sees the same input
//! statistics), in NEST's example state (g = 5, η = 2) and the synchronous regular one (g = 3),
//! over seeds. NEST's numbers come from `tests/reference/nest_brunel.py` (5 seeds each, in
//! `tests/reference/brunel_nest.csv`); this test computes the same statistics from biospike's
//! spikes over 100..1000 ms: the rate of each population, the mean ISI CV, and the synchrony
//! (variance over mean of the population count in 1 ms bins).

use biospike::prelude::*;
use biospike::{Scene, Simulation};
use std::path::Path;

#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    rate_exc: f64,
    rate_inh: f64,
    cv: f64,
    synchrony: f64,
}

const NE: u32 = 2000;
const NI: u32 = 500;
const T0: f64 = 100.0;
const T1: f64 = 1000.0;

/// NEST's statistics of `state`, one per seed.
fn nest(state: &str) -> Vec<Stats> {
    include_str!("reference/brunel_nest.csv")
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(&format!("{state},")))
        .map(|l| {
            let f: Vec<f64> = l.split(',').skip(4).map(|x| x.parse().unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
            Stats { rate_exc: f[0], rate_inh: f[1], cv: f[2], synchrony: f[3] }
        })
        .collect()
}

/// The shipped scene at the test scale with inhibition `g` and seed `seed`.
fn scene(g: f64, seed: u64) -> Scene {
    let text = include_str!("../scenes/brunel_2000.ron")
        .replace("size: 10000", &format!("size: {NE}"))
        .replace("size: 2500", &format!("size: {NI}"))
        .replace("weight: Constant(0.5)", &format!("weight: Constant({:?})", g * 0.1))
        .replace("seed: 1,", &format!("seed: {seed},"));
    Scene::parse(&text, Path::new("brunel_2000.ron")).unwrap_or_else(|e| panic!("{e}"))
}

fn simulate(g: f64, seed: u64) -> Stats {
    let mut sim = Simulation::from_scene(&scene(g, seed)).unwrap_or_else(|e| panic!("{e}"));
    let mut spikes: Vec<(u32, f64)> = Vec::new();
    sim.step_with(10_001, |w| {
        let t = (w.resource::<SimClock>().step() - 1) as f64 * 0.1;
        if t > T0 && t <= T1 {
            spikes.extend(w.resource::<StepSpikes>().ids.iter().map(|&id| (id, t)));
        }
    });
    let span = (T1 - T0) / 1000.0;
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
            let var = isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64;
            var.sqrt() / mean
        })
        .collect();
    let cv = cvs.iter().sum::<f64>() / cvs.len().max(1) as f64;
    let mut counts = vec![0f64; (T1 - T0) as usize];
    for &(_, t) in &spikes {
        let bin = ((t - T0).floor() as usize).min(counts.len() - 1);
        counts[bin] += 1.0;
    }
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    Stats { rate_exc, rate_inh, cv, synchrony: var / mean }
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0).max(1.0);
    (m, v.sqrt())
}

/// Our mean over seeds against NEST's: within 4 standard errors of the difference plus a
/// relative allowance for what seeds cannot show (`rel`).
fn agree(what: &str, ours: &[f64], theirs: &[f64], rel: f64) -> String {
    let ((mo, so), (mn, sn)) = (mean_sd(ours), mean_sd(theirs));
    let se = (so * so / ours.len() as f64 + sn * sn / theirs.len() as f64).sqrt();
    let tolerance = 4.0 * se + rel * mn.abs();
    assert!((mo - mn).abs() <= tolerance, "{what}: biospike {mo:.4} ± {so:.4} vs NEST {mn:.4} ± {sn:.4} (tolerance {tolerance:.4})");
    format!("{what}: biospike {mo:.3} ± {so:.3}, NEST {mn:.3} ± {sn:.3}")
}

fn compare(state: &str, g: f64, seeds: &[u64]) {
    let reference = nest(state);
    assert_eq!(reference.len(), 5, "NEST seeds of {state}");
    let ours: Vec<Stats> = seeds.iter().map(|&s| simulate(g, s)).collect();
    let col = |v: &[Stats], f: fn(&Stats) -> f64| v.iter().map(f).collect::<Vec<f64>>();
    let lines = [
        agree(&format!("{state} rate exc (Hz)"), &col(&ours, |s| s.rate_exc), &col(&reference, |s| s.rate_exc), 0.02),
        agree(&format!("{state} rate inh (Hz)"), &col(&ours, |s| s.rate_inh), &col(&reference, |s| s.rate_inh), 0.02),
        agree(&format!("{state} ISI CV"), &col(&ours, |s| s.cv), &col(&reference, |s| s.cv), 0.10),
        agree(&format!("{state} synchrony"), &col(&ours, |s| s.synchrony), &col(&reference, |s| s.synchrony), 0.25),
    ];
    eprintln!("{}", lines.join("\n"));
}

#[test]
fn nest_example_state_matches_nest() {
    compare("nest_example", 5.0, &[11, 12, 13]);
}

#[test]
fn synchronous_regular_state_matches_nest() {
    compare("synchronous_regular", 3.0, &[21, 22, 23]);
}
