//! Brunel (2000) with delta synapses against NEST 3.10 running the same model (issue #16,
//! item 5): `scenes/brunel_2000.ron` at the test scale (2 000 excitatory and 500 inhibitory
//! neurons with the full model's in-degrees, 1 000 and 250, so each neuron sees the same input
//! statistics), in NEST's example state (g = 5, η = 2) and the synchronous regular one (g = 3),
//! over seeds. NEST's numbers come from `tests/reference/nest_brunel.py` (5 seeds each, in
//! `tests/reference/brunel_nest.csv`); this test computes the same statistics from biospike's
//! spikes over 100..1000 ms: the rate of each population, the mean ISI CV, and the synchrony
//! (variance over mean of the population count in 1 ms bins).

#[path = "common/network_stats.rs"]
mod network_stats;

use biospike::Scene;
use network_stats::{agree, nest_rows, spikes, statistics};
use std::path::Path;

const NE: u32 = 2000;
const NI: u32 = 500;
const T0: f64 = 100.0;
const T1: f64 = 1000.0;

/// The shipped scene at the test scale with inhibition `g` and seed `seed`.
fn scene(g: f64, seed: u64) -> Scene {
    let text = include_str!("../scenes/brunel_2000.ron")
        .replace("size: 10000", &format!("size: {NE}"))
        .replace("size: 2500", &format!("size: {NI}"))
        .replace("weight: Constant(0.5)", &format!("weight: Constant({:?})", g * 0.1))
        .replace("seed: 1,", &format!("seed: {seed},"));
    Scene::parse(&text, Path::new("brunel_2000.ron")).unwrap_or_else(|e| panic!("{e}"))
}

fn compare(state: &str, g: f64, seeds: &[u64]) {
    let reference = nest_rows(include_str!("reference/brunel_nest.csv"), 4, |l| l.starts_with(&format!("{state},")));
    assert_eq!(reference.len(), 5, "NEST seeds of {state}");
    let ours: Vec<[f64; 4]> = seeds.iter().map(|&s| statistics(&spikes(&scene(g, s), T0, T1), NE, NI, T0, T1)).collect();
    let col = |v: &[[f64; 4]], k: usize| v.iter().map(|s| s[k]).collect::<Vec<f64>>();
    let names = ["rate exc (Hz)", "rate inh (Hz)", "ISI CV", "synchrony"];
    let allowance = [0.02, 0.02, 0.10, 0.25];
    let lines: Vec<String> =
        (0..4).map(|k| agree(&format!("{state} {}", names[k]), &col(&ours, k), &col(&reference, k), allowance[k])).collect();
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
