//! The three-factor rule ([`StdpMode::DopamineGated`](crate::StdpMode)): pairings go into
//! per-synapse eligibility, and every `update_every_steps` steps dopamine turns eligibility into
//! weight.

use biospike_core::prelude::*;

use crate::settings::{StdpSettings, WeightDependence};
use crate::state::{NEVER, NeuronTraces, StdpState};

impl StdpState {
    /// LTD into eligibility at each presynaptic spike of step `s`, with postsynaptic traces that
    /// include this step.
    pub(crate) fn ltd_into_eligibility(&mut self, index: &SynapseIndex, settings: &StdpSettings, spikes: &[u32], s: u64, dt: f64) {
        let skip_weight = settings.dependence == WeightDependence::Additive;
        let posts = index.posts();
        for &pre in spikes {
            for k in index.row(pre) {
                if !self.plastic[k] {
                    continue;
                }
                let post = posts[k] as usize;
                let Some(&NeuronTraces { last, y, .. }) = self.neurons.get(post).filter(|n| n.last != NEVER) else {
                    continue;
                };
                let y = y * StdpState::decay(&self.decay_minus, s - last, dt, settings.tau_minus_ms);
                let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
                self.eligibility[self.slot[k] as usize] += settings.ltd(w, y) as f32;
            }
        }
    }

    /// The gated update of one period: `w ← clip(w + learning_rate · (bias + DA) · e)` and
    /// `e ← e · exp(−period · dt / τ_e)` for every plastic synapse, on contiguous runs (the loop
    /// vectorizes).
    pub(crate) fn dopamine_update(
        &mut self,
        index: &mut SynapseIndex,
        settings: &StdpSettings,
        dopamine: f64,
        gate: (f64, f64, u64),
        dt: f64,
    ) {
        let (tau_e, bias, period) = gate;
        let gain = (settings.learning_rate * (bias + dopamine)) as f32;
        let keep = (-(period as f64) * dt / tau_e).exp() as f32;
        let (lo, hi) = (settings.w_min as f32, settings.w_max as f32);
        let weights = index.weights_mut();
        let mut offset = 0usize;
        for &(start, len) in &self.runs {
            let (start, len) = (start as usize, len as usize);
            let ws = &mut weights[start..start + len];
            let es = &mut self.eligibility[offset..offset + len];
            for (w, e) in ws.iter_mut().zip(es.iter_mut()) {
                *w = (*w + gain * *e).clamp(lo, hi);
                *e *= keep;
            }
            offset += len;
        }
    }
}
