//! The pairings applied when they happen: LTP at the postsynaptic spike (into the weight, or in
//! gated mode into the eligibility), and direct LTD at the presynaptic spike.

use biospike_core::prelude::*;
use biospike_runtime::rows::prefetch;

use crate::settings::{StdpSettings, WeightDependence};
use crate::state::{NEVER, NeuronTraces, PREFETCH, RowPlastic, RowView, StdpState, for_each_row_chunk};

impl StdpState {
    /// LTP at each postsynaptic spike of step `s`, over its plastic in-edges, with the
    /// presynaptic trace of the spikes that have arrived: into the weight (direct), or into the
    /// eligibility (`gated`). Returns the pairings evaluated.
    pub(crate) fn ltp_at_post_spikes(
        &mut self,
        index: &mut SynapseIndex,
        settings: &StdpSettings,
        spikes: &[u32],
        s: u64,
        dt: f64,
        gated: bool,
    ) -> u64 {
        let n = self.neurons.len();
        let uniform_delay = index.uniform_delay();
        let skip_weight = gated && settings.dependence == WeightDependence::Additive;
        let mut events = 0u64;
        for &post in spikes {
            let p = post as usize;
            if p >= n {
                continue;
            }
            let range = self.in_start[p] as usize..self.in_start[p + 1] as usize;
            events += range.len() as u64;
            let row_end = range.end;
            for j in range {
                // The weights of a neuron's in-edges are scattered over the whole array (one
                // cache miss each): ask for the one PREFETCH edges ahead now.
                if let Some(&ahead) = self.in_pos.get(j + PREFETCH).filter(|_| j + PREFETCH < row_end) {
                    prefetch(&index.weights()[ahead as usize]);
                }
                let (k, pre) = (self.in_pos[j] as usize, self.in_pre[j] as usize);
                let d = u64::from(uniform_delay.unwrap_or_else(|| index.delays()[k]));
                let x = self.pre_trace(settings, pre, s, d, dt);
                if x == 0.0 {
                    continue;
                }
                if gated {
                    // An additive change into eligibility does not depend on w: skip the weight read.
                    let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
                    self.eligibility[self.in_slot[j] as usize] += settings.ltp(w, x) as f32;
                } else {
                    settings.apply(&mut index.weights_mut()[k], |old| settings.ltp(old, x));
                }
            }
        }
        events
    }

    /// Direct LTD at each presynaptic spike of step `s`, row by row (split over the compute
    /// threads for large batches), with postsynaptic traces that include this step. With
    /// deferred LTP the pairing of a target that fired in this same step comes first, with the
    /// presynaptic trace as it was before this step's update (`deferred_old`).
    pub(crate) fn ltd_direct(
        &mut self,
        index: &mut SynapseIndex,
        settings: &StdpSettings,
        spikes: &[u32],
        s: u64,
        dt: f64,
        deferred: bool,
    ) {
        if deferred {
            for &pre in spikes {
                if let Some(m) = self.mark.get_mut(pre as usize) {
                    *m = s;
                }
            }
        }
        let (view, weights) = RowView::of(index);
        let st = &*self;
        for_each_row_chunk(st, spikes, view.starts, weights, |range, weights, offset| {
            for i in range.clone() {
                if let Some(&next) = spikes.get(i + 1).filter(|_| i + 1 < range.end) {
                    view.prefetch_row(st, next as usize, weights, offset);
                }
                let (pre_last, pre_x) = if deferred { st.deferred_old[i] } else { (NEVER, 0.0) };
                let kind = st.row_kind(spikes[i] as usize);
                if kind == RowPlastic::None {
                    continue;
                }
                for k in view.row(spikes[i] as usize) {
                    if kind == RowPlastic::Mixed && !st.plastic[k] {
                        continue;
                    }
                    let post = view.posts[k] as usize;
                    let Some(&NeuronTraces { last, y: y_last, .. }) = st.neurons.get(post).filter(|n| n.last != NEVER) else {
                        continue;
                    };
                    let w = &mut weights[k - offset];
                    if deferred && last == s && pre_last != NEVER {
                        let d = u64::from(view.uniform.unwrap_or(view.delays[k]));
                        // The trace from before this step's spike (which cannot have arrived):
                        // its latest spike if that has arrived, else the history.
                        let x = if pre_last + d <= s {
                            pre_x * StdpState::decay(&st.decay_plus, s - pre_last - d, dt, settings.tau_plus_ms)
                        } else {
                            st.pre_trace_in_flight(settings, spikes[i] as usize, s, d, dt)
                        };
                        if x != 0.0 {
                            settings.apply(w, |old| settings.ltp(old, x));
                        }
                    }
                    let y = y_last * StdpState::decay(&st.decay_minus, s - last, dt, settings.tau_minus_ms);
                    settings.apply(w, |old| settings.ltd(old, y));
                }
            }
        });
    }
}
