//! The settings of STDP: rule, bounds, mode, timing, plastic projections.

use bevy_ecs::prelude::*;

/// How a spike updates its neuron's traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceUpdate {
    /// Set to 1: each spike pairs with the nearest partner spike (Izhikevich 2007).
    #[default]
    Reset,
    /// Add 1: all-to-all pairing (Song, Miller & Abbott 2000).
    Add,
}

/// How the change depends on the current weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightDependence {
    /// Independent of `w` (clipped to the bounds).
    #[default]
    Additive,
    /// LTP scaled by `w_max − w`, LTD by `w − w_min` (soft bounds).
    Multiplicative,
}

/// Where pairings go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StdpMode {
    /// Straight into the weight.
    Direct,
    /// Into per-synapse eligibility, turned into weight by dopamine every
    /// `update_every_steps`.
    DopamineGated {
        /// Eligibility time constant, ms (the original project's `tau_synaptic`).
        tau_eligibility_ms: f64,
        /// Added to the dopamine level in the update (Izhikevich 2007: 0.002).
        dopamine_bias: f64,
        /// Update period in steps, `>= 1` (Izhikevich 2007: 10 steps of 1 ms).
        update_every_steps: u64,
    },
}

/// When LTP (a postsynaptic spike pairing with earlier presynaptic spikes) reaches the weights.
///
/// The result is the same either way: each synapse sees the same sequence of changes and
/// clips, so the weights are bit-identical at every point where [`LtpTiming::Deferred`] has
/// flushed (tested). Only [`StdpMode::Direct`] defers; the gated mode always applies at the
/// postsynaptic spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LtpTiming {
    /// At the postsynaptic spike: the spiking neuron's plastic in-edges, whose weights are
    /// scattered over the index (one cache miss per edge on large networks). Weights are
    /// current after every step.
    #[default]
    AtPostSpike,
    /// At the presynaptic neuron's next spike, walking its own (contiguous) row, as NEST does
    /// (Morrison et al. 2007): a spike only needs the weight it is delivered with, and each
    /// synapse replays the postsynaptic spikes it has not seen yet. Postsynaptic spike times are
    /// kept since the last flush. Everything pending is flushed
    /// - at the end of the steps `s` with `s % flush_every_steps == 0` or
    ///   `(s + 1) % flush_every_steps == 0` (so a recorder sampling at multiples of the period
    ///   and a structure pass running after every period-th step both see current weights),
    /// - before queued synapse edits are applied (a changed weight replaces a current one),
    /// - in the write-back ([`crate::flush_deferred_ltp`], in `WritebackSystems::Flush` and when the
    ///   simulation finishes).
    ///
    /// Between flushes the weights in `SynapseIndex` lack the pending potentiation.
    Deferred {
        /// Flush period in steps, `1..=2^31`.
        flush_every_steps: u64,
    },
}

/// Which synapses are plastic, by source and target population.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum PlasticProjections {
    /// Synapses from excitatory populations (the default; neurons without a population count
    /// as excitatory).
    #[default]
    ExcitatorySources,
    /// Every synapse.
    All,
    /// Only these `(source, target)` population pairs.
    Pairs(Vec<(u16, u16)>),
}

/// Tunable parameters of [`StdpPlugin`](crate::StdpPlugin).
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct StdpSettings {
    /// LTP amplitude `A+`.
    pub a_plus: f64,
    /// LTD amplitude `A−` (positive; the change is `−A− · y`).
    pub a_minus: f64,
    /// Presynaptic trace time constant `τ+`, ms.
    pub tau_plus_ms: f64,
    /// Postsynaptic trace time constant `τ−`, ms.
    pub tau_minus_ms: f64,
    /// Scales every weight change.
    pub learning_rate: f64,
    /// Lower weight bound.
    pub w_min: f64,
    /// Upper weight bound.
    pub w_max: f64,
    /// Additive or multiplicative.
    pub dependence: WeightDependence,
    /// Nearest-spike or all-to-all traces.
    pub trace: TraceUpdate,
    /// Direct or dopamine-gated.
    pub mode: StdpMode,
    /// Plastic synapses.
    pub plastic: PlasticProjections,
    /// When LTP is applied (direct mode).
    pub ltp: LtpTiming,
}

impl StdpSettings {
    /// The original project's pair rule: `A± = 0.005`, `τ± = 20` ms, additive, all-to-all,
    /// applied directly, weights in `[0, 1]`, learning rate 1.
    pub fn song_2000() -> Self {
        Self {
            a_plus: 0.005,
            a_minus: 0.005,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            learning_rate: 1.0,
            w_min: 0.0,
            w_max: 1.0,
            dependence: WeightDependence::Additive,
            trace: TraceUpdate::Add,
            mode: StdpMode::Direct,
            plastic: PlasticProjections::ExcitatorySources,
            ltp: LtpTiming::AtPostSpike,
        }
    }

    /// Izhikevich (2007) `daspnet.m`: traces set to 0.1 and decayed ×0.95 per ms (so
    /// `A+ = 0.1`, `A− = 1.5 · 0.1`, `τ± = −1/ln 0.95` ms), eligibility decayed ×0.99 every
    /// 10 ms (`τ_e = −10/ln 0.99` ms), `w ← clip(w + (0.002 + DA)·e, 0, 4)` every 10 ms.
    pub fn izhikevich_2007() -> Self {
        let tau = -1.0 / 0.95f64.ln();
        Self {
            a_plus: 0.1,
            a_minus: 0.15,
            tau_plus_ms: tau,
            tau_minus_ms: tau,
            learning_rate: 1.0,
            w_min: 0.0,
            w_max: 4.0,
            dependence: WeightDependence::Additive,
            trace: TraceUpdate::Reset,
            mode: StdpMode::DopamineGated { tau_eligibility_ms: -10.0 / 0.99f64.ln(), dopamine_bias: 0.002, update_every_steps: 10 },
            plastic: PlasticProjections::ExcitatorySources,
            ltp: LtpTiming::AtPostSpike,
        }
    }

    /// LTP change for weight `w` and presynaptic trace `x` (before the learning rate).
    #[inline]
    pub fn ltp(&self, w: f64, x: f64) -> f64 {
        match self.dependence {
            WeightDependence::Additive => self.a_plus * x,
            WeightDependence::Multiplicative => self.a_plus * x * (self.w_max - w),
        }
    }

    /// Applies a direct-mode change: `w ← clip(w + learning_rate · dw(w))`, rounded to f32.
    #[inline]
    pub(crate) fn apply(&self, w: &mut f32, dw: impl FnOnce(f64) -> f64) {
        let old = f64::from(*w);
        *w = (old + self.learning_rate * dw(old)).clamp(self.w_min, self.w_max) as f32;
    }

    /// LTD change (negative) for weight `w` and postsynaptic trace `y` (before the learning rate).
    #[inline]
    pub fn ltd(&self, w: f64, y: f64) -> f64 {
        match self.dependence {
            WeightDependence::Additive => -self.a_minus * y,
            WeightDependence::Multiplicative => -self.a_minus * y * (w - self.w_min),
        }
    }
}

impl Default for StdpSettings {
    /// The scene default: the lowering of [`StdpDesc::default`](crate::StdpDesc) (dopamine-gated,
    /// `A± = 0.005`, `τ± = 20` ms, eligibility `τ = 1000` ms, weights in `[0, f32::MAX]`,
    /// all-to-all traces, additive, update every step).
    fn default() -> Self {
        crate::StdpDesc::default().lower(|_| 0, 1000)
    }
}

/// Counters.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StdpDiagnostics {
    /// LTP pairings evaluated (post spikes × plastic fan-in).
    pub ltp_events: u64,
    /// LTD pairings evaluated (pre spikes × plastic fan-out).
    pub ltd_events: u64,
    /// Dopamine-gated update sweeps.
    pub sweeps: u64,
}

biospike_core::persist_fields!(StdpDiagnostics { ltp_events, ltd_events, sweeps });
