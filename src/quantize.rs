//! Loihi weight quantization of a float network: per projection (source population → target
//! population), the weights are mapped to Loihi's 8-bit Dense format with a shared exponent
//! ([`biospike_loihi::quantize_weights`]), and the error is reported. The quantized weights
//! can replace the float ones for a run (`biospike quantize SCENE --compare`).

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_loihi::{SignMode, quantize_weights};
use std::collections::BTreeMap;
use std::fmt;

/// Quantization of one projection.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionReport {
    /// Source population.
    pub source: String,
    /// Target population.
    pub target: String,
    /// Synapses in the projection.
    pub synapses: usize,
    /// Sign mode.
    pub mode: SignMode,
    /// Shared exponent.
    pub weight_exp: i32,
    /// Weight bits kept.
    pub num_weight_bits: u32,
    /// Largest |w| (float).
    pub max_abs_weight: f64,
    /// Largest `|w − w_quantized|`.
    pub max_abs_error: f64,
    /// Mean `|w − w_quantized|`.
    pub mean_abs_error: f64,
    /// Fraction of non-zero float weights that became 0.
    pub zero_fraction: f64,
}

/// Quantizes every projection of the network in `world`; with `apply`, replaces each
/// [`SynapticWeight`] by its quantized value (applied at the next propagation, like any edit).
pub fn quantize_network(world: &mut World, num_weight_bits: u32, apply: bool) -> Vec<ProjectionReport> {
    let table = world.resource::<PopulationTable>().clone();
    let mut q = world.query::<(Entity, &Synapse, &SynapticWeight)>();
    let mut groups: BTreeMap<(u16, u16), Vec<(Entity, f64)>> = BTreeMap::new();
    for (e, s, w) in q.iter(world) {
        let key = (table.population_of(s.pre.0).unwrap_or(0), table.population_of(s.post.0).unwrap_or(0));
        groups.entry(key).or_default().push((e, f64::from(w.0)));
    }
    let name = |p: u16| table.populations.get(usize::from(p)).map_or_else(|| p.to_string(), |x| x.name.clone());
    let mut reports = Vec::new();
    let mut updates = Vec::new();
    for ((src, dst), mut syn) in groups {
        syn.sort_unstable_by_key(|(e, _)| e.to_bits());
        let weights: Vec<f64> = syn.iter().map(|s| s.1).collect();
        let qw = quantize_weights(&weights, num_weight_bits);
        let errors: Vec<f64> = weights.iter().zip(&qw.dequantized).map(|(a, b)| (a - b).abs()).collect();
        let nonzero = weights.iter().filter(|&&w| w != 0.0).count();
        let zeroed = weights.iter().zip(&qw.effective).filter(|&(&w, &m)| w != 0.0 && m == 0).count();
        reports.push(ProjectionReport {
            source: name(src),
            target: name(dst),
            synapses: weights.len(),
            mode: qw.mode,
            weight_exp: qw.weight_exp,
            num_weight_bits: qw.num_weight_bits,
            max_abs_weight: weights.iter().fold(0.0, |m, w| m.max(w.abs())),
            max_abs_error: errors.iter().copied().fold(0.0, f64::max),
            mean_abs_error: errors.iter().sum::<f64>() / errors.len().max(1) as f64,
            zero_fraction: if nonzero > 0 { zeroed as f64 / nonzero as f64 } else { 0.0 },
        });
        if apply {
            updates.extend(syn.iter().zip(&qw.dequantized).map(|(&(e, _), &w)| (e, SynapticWeight(w as f32))));
        }
    }
    if apply {
        world.insert_batch(updates);
    }
    reports
}

/// The report as an aligned text table.
pub struct ReportTable<'a>(pub &'a [ProjectionReport]);

impl fmt::Display for ReportTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:<10} {:>9} {:<10} {:>4} {:>4} {:>10} {:>12} {:>12} {:>8}",
            "source", "target", "synapses", "mode", "exp", "bits", "max |w|", "max |err|", "mean |err|", "zeroed"
        )?;
        for r in self.0 {
            writeln!(
                f,
                "{:<10} {:<10} {:>9} {:<10} {:>4} {:>4} {:>10.5} {:>12.3e} {:>12.3e} {:>7.3}%",
                r.source,
                r.target,
                r.synapses,
                format!("{:?}", r.mode),
                r.weight_exp,
                r.num_weight_bits,
                r.max_abs_weight,
                r.max_abs_error,
                r.mean_abs_error,
                100.0 * r.zero_fraction
            )?;
        }
        Ok(())
    }
}
