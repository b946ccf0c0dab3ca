//! The network statistics the NEST comparisons share (`tests/reference/nest_stats.py` computes
//! the same on NEST's spikes): per population rate, mean ISI CV, synchrony, and the agreement
//! of two sets of seeds.

use biospike::prelude::*;
use biospike::{Scene, Simulation};

/// `[rate of 0..n_exc (Hz), rate of n_exc..n_exc + n_inh (Hz), mean ISI CV, synchrony]` of the
/// spikes `(neuron, time ms)` in `(t0, t1]`: the CV over neurons with at least 3 spikes, the
/// synchrony as the variance over mean of the population count in 1 ms bins.
pub fn statistics(spikes: &[(u32, f64)], n_exc: u32, n_inh: u32, t0: f64, t1: f64) -> [f64; 4] {
    let span = (t1 - t0) / 1000.0;
    let rate_exc = spikes.iter().filter(|s| s.0 < n_exc).count() as f64 / f64::from(n_exc) / span;
    let rate_inh = spikes.iter().filter(|s| s.0 >= n_exc).count() as f64 / f64::from(n_inh) / span;
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); (n_exc + n_inh) as usize];
    for &(id, t) in spikes {
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
    let mut counts = vec![0f64; (t1 - t0) as usize];
    let last = counts.len() - 1;
    for &(_, t) in spikes {
        counts[((t - t0).floor() as usize).min(last)] += 1.0;
    }
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
    [rate_exc, rate_inh, cv, var / mean]
}

/// Runs `scene` (dt 0.1 ms) to `t1` ms and returns its spikes in `(t0, t1]`.
pub fn spikes(scene: &Scene, t0: f64, t1: f64) -> Vec<(u32, f64)> {
    let mut sim = Simulation::from_scene(scene).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    sim.step_with((t1 * 10.0).round() as u64 + 1, |w| {
        let t = (w.resource::<SimClock>().step() - 1) as f64 * 0.1;
        if t > t0 && t <= t1 {
            out.extend(w.resource::<StepSpikes>().ids.iter().map(|&id| (id, t)));
        }
    });
    out
}

/// Mean and sample standard deviation.
pub fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (m, (x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0).max(1.0)).sqrt())
}

/// Our mean over seeds against NEST's: within 4 standard errors of the difference plus a
/// relative allowance for what seeds cannot show (`rel` of NEST's mean). Returns the line to
/// print.
pub fn agree(what: &str, ours: &[f64], theirs: &[f64], rel: f64) -> String {
    let ((mo, so), (mn, sn)) = (mean_sd(ours), mean_sd(theirs));
    let tolerance = 4.0 * (so * so / ours.len() as f64 + sn * sn / theirs.len() as f64).sqrt() + rel * mn.abs();
    assert!((mo - mn).abs() <= tolerance, "{what}: biospike {mo:.4} ± {so:.4} vs NEST {mn:.4} ± {sn:.4} (tolerance {tolerance:.4})");
    format!("{what}: biospike {mo:.3} ± {so:.3}, NEST {mn:.3} ± {sn:.3}")
}

/// NEST's statistics: the four columns after the first `skip` of each CSV row that `keep`s.
pub fn nest_rows(csv: &str, skip: usize, keep: impl Fn(&str) -> bool) -> Vec<[f64; 4]> {
    csv.lines()
        .skip(1)
        .filter(|l| keep(l))
        .map(|l| {
            let f: Vec<f64> = l.split(',').skip(skip).map(|x| x.parse().unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
            [f[0], f[1], f[2], f[3]]
        })
        .collect()
}
