//! Adaptive exponential integrate-and-fire neurons (Brette & Gerstner 2005), as NEST 3.10's
//! `aeif_cond_exp` (exponential conductances with reversal potentials) and `aeif_psc_exp`
//! (exponential currents), and with receptor ports as its `aeif_cond_beta_multisynapse`
//! ([`AeifCondBetaMultisynapse`], documented on the type):
//!
//! ```text
//! C_m dV/dt = −g_L (V − E_L) + g_L Δ_T exp((V − V_th)/Δ_T) − I_syn − w + I_e
//! τ_w dw/dt = a (V − E_L) − w
//! I_syn = g_ex (V − E_ex) + g_in (V − E_in)      (conductances, nS)
//! I_syn = −I_ex + I_in                           (currents, pA; both kept positive)
//! dg/dt = −g/τ_syn  (or dI/dt = −I/τ_syn)
//! V ≥ V_peak  →  spike, V ← V_reset, w ← w + b, refractory for round(t_ref/h) steps (V held)
//! ```
//!
//! **Integration, as NEST does it.** Each step of `h` is integrated with the embedded
//! Runge–Kutta–Fehlberg 4(5) pair under GSL's standard step-size control (absolute and
//! relative tolerance 1e-6 on the derivative-scaled error, NEST's `gsl_error_tol`), the same
//! stepper, error norm, step-size adjustment (safety 0.9, at most ×5 or ÷5) and carry-over of
//! the last proposed step size from one step to the next as GSL 1.16's `gsl_odeiv_evolve_apply`
//! that NEST's wheel links. After each accepted sub-step `V` is checked against `V_peak` (a
//! neuron can fire more than once in a step when `t_ref` is 0; one spike is recorded). Inside
//! the right-hand side `V` is capped at `V_peak` and held at `V_reset` while refractory. The
//! step's synaptic input is added to the conductances (currents) after the step, so an input
//! acts from the next step on; positive weights are excitatory, negative ones (inhibitory
//! sources) add their magnitude to the inhibitory conductance (current). A spike in step `k`
//! has time `k·h` and step 0 is the initial condition, as for the LIF models.
//!
//! `tests/lif_nest.rs` compares every step's `V` and every spike time with traces NEST 3.10
//! wrote for the same input: they are equal bit for bit.
//!
//! ```
//! use bevy_app::App;
//! use biospike_adex::{Adex, AdexParams, AdexPlugin, AdexSynapses};
//! use biospike_core::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), AdexPlugin));
//! // NEST's defaults, driven by 800 pA: adapting tonic firing.
//! let params = AdexParams { i_e_pa: 800.0, ..AdexParams::default() };
//! app.world_mut().spawn((Adex::new(params, AdexSynapses::Conductance { e_ex_mv: 0.0, e_in_mv: -85.0 }), NeuronId(0), MembranePotential(params.e_l_mv)));
//! let mut spikes = Vec::new();
//! for step in 0..=5000u64 {
//!     step_simulation(app.world_mut());
//!     if !app.world().resource::<StepSpikes>().ids.is_empty() {
//!         spikes.push(step);
//!     }
//! }
//! // Adaptation: the intervals grow.
//! assert!(spikes.len() > 5);
//! assert!(spikes[2] - spikes[1] < spikes[spikes.len() - 1] - spikes[spikes.len() - 2]);
//! ```

use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;

/// Membrane and adaptation parameters, NEST's names, units and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdexParams {
    /// Spike detection threshold, mV. Default 0.
    pub v_peak_mv: f64,
    /// Reset, mV. Default −60.
    pub v_reset_mv: f64,
    /// Refractory period, ms. Default 0.
    pub t_ref_ms: f64,
    /// Leak conductance, nS. Default 30.
    pub g_l_ns: f64,
    /// Membrane capacitance, pF. Default 281.
    pub c_m_pf: f64,
    /// Leak reversal potential, mV. Default −70.6.
    pub e_l_mv: f64,
    /// Slope factor, mV. Default 2 (0: leaky integrate-and-fire, spikes at `V_th`).
    pub delta_t_mv: f64,
    /// Adaptation time constant, ms. Default 144.
    pub tau_w_ms: f64,
    /// Subthreshold adaptation, nS. Default 4.
    pub a_ns: f64,
    /// Spike-triggered adaptation, pA. Default 80.5.
    pub b_pa: f64,
    /// Spike initiation threshold, mV. Default −50.4.
    pub v_th_mv: f64,
    /// Excitatory synaptic time constant, ms. Default 0.2.
    pub tau_syn_ex_ms: f64,
    /// Inhibitory synaptic time constant, ms. Default 2.
    pub tau_syn_in_ms: f64,
    /// Constant input current, pA. Default 0.
    pub i_e_pa: f64,
}

impl Default for AdexParams {
    fn default() -> Self {
        Self {
            v_peak_mv: 0.0,
            v_reset_mv: -60.0,
            t_ref_ms: 0.0,
            g_l_ns: 30.0,
            c_m_pf: 281.0,
            e_l_mv: -70.6,
            delta_t_mv: 2.0,
            tau_w_ms: 144.0,
            a_ns: 4.0,
            b_pa: 80.5,
            v_th_mv: -50.4,
            tau_syn_ex_ms: 0.2,
            tau_syn_in_ms: 2.0,
            i_e_pa: 0.0,
        }
    }
}

/// How synaptic input acts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AdexSynapses {
    /// Exponential conductances with reversal potentials (`aeif_cond_exp`); weights in nS.
    Conductance {
        /// Excitatory reversal potential, mV. NEST default 0.
        e_ex_mv: f64,
        /// Inhibitory reversal potential, mV. NEST default −85.
        e_in_mv: f64,
    },
    /// Exponential currents (`aeif_psc_exp`); weights in pA.
    Current,
}

/// An adaptive exponential neuron: its parameters and synapse kind. Needs the signed delay-ring channels
/// ([`SignedChannels`], inserted when such a neuron is spawned).
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, AdexState, InhibitoryInput)]
#[component(on_add = signed_channels)]
pub struct Adex {
    /// Parameters.
    pub params: AdexParams,
    /// Conductance- or current-based synapses.
    pub synapses: AdexSynapses,
}

fn signed_channels(mut world: bevy_ecs::world::DeferredWorld, _: bevy_ecs::lifecycle::HookContext) {
    world.commands().insert_resource(SignedChannels);
}

/// The state of an [`Adex`] neuron besides `V` ([`MembranePotential`]).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct AdexState {
    /// Excitatory conductance (nS) or current (pA).
    pub syn_ex: f64,
    /// Inhibitory conductance (nS) or current (pA), positive.
    pub syn_in: f64,
    /// Adaptation current, pA.
    pub w: f64,
    /// Refractory steps left.
    pub refractory: u32,
    /// The integrator's proposed sub-step, ms (0: not started; the first step tries `h`).
    pub substep_ms: f64,
}

biospike_core::persist_fields!(AdexState { syn_ex, syn_in, w, refractory, substep_ms });

/// Runge–Kutta–Fehlberg 4(5) coefficients (GSL's `rkf45`).
const AH: [f64; 5] = [1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0];
const B3: [f64; 2] = [3.0 / 32.0, 9.0 / 32.0];
const B4: [f64; 3] = [1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0];
const B5: [f64; 4] = [8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0];
const B6: [f64; 5] = [-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0];
const C1: f64 = 902880.0 / 7618050.0;
const C3: f64 = 3953664.0 / 7618050.0;
const C4: f64 = 3855735.0 / 7618050.0;
const C5: f64 = -1371249.0 / 7618050.0;
const C6: f64 = 277020.0 / 7618050.0;
const EC: [f64; 7] = [0.0, 1.0 / 360.0, 0.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0];
/// NEST's `gsl_error_tol`: the absolute and relative tolerance.
const TOLERANCE: f64 = 1e-6;
/// The stepper's order, for the step-size adjustment.
const ORDER: f64 = 5.0;

type Y = [f64; 4];

/// One Runge–Kutta–Fehlberg step of `h` from `y` (with `k1 = dy/dt(y)`) of the system `f`:
/// the new state, its derivative, and the error estimate.
#[inline]
fn rkf45<const N: usize>(f: &impl Fn(&[f64; N]) -> [f64; N], y: &[f64; N], k1: &[f64; N], h: f64) -> ([f64; N], [f64; N], [f64; N]) {
    let k2 = f(&std::array::from_fn(|i| y[i] + AH[0] * h * k1[i]));
    let k3 = f(&std::array::from_fn(|i| y[i] + h * (B3[0] * k1[i] + B3[1] * k2[i])));
    let k4 = f(&std::array::from_fn(|i| y[i] + h * (B4[0] * k1[i] + B4[1] * k2[i] + B4[2] * k3[i])));
    let k5 = f(&std::array::from_fn(|i| y[i] + h * (B5[0] * k1[i] + B5[1] * k2[i] + B5[2] * k3[i] + B5[3] * k4[i])));
    let k6 = f(&std::array::from_fn(|i| y[i] + h * (B6[0] * k1[i] + B6[1] * k2[i] + B6[2] * k3[i] + B6[3] * k4[i] + B6[4] * k5[i])));
    let out: [f64; N] = std::array::from_fn(|i| y[i] + h * (C1 * k1[i] + C3 * k3[i] + C4 * k4[i] + C5 * k5[i] + C6 * k6[i]));
    let dydt_out = f(&out);
    let err: [f64; N] = std::array::from_fn(|i| h * (EC[1] * k1[i] + EC[3] * k3[i] + EC[4] * k4[i] + EC[5] * k5[i] + EC[6] * k6[i]));
    (out, dydt_out, err)
}

/// GSL's `gsl_odeiv_evolve_apply` with the standard control (`a_y = 0`, `a_dydt = 1`) for the
/// system `f`: advances `t` towards `t1` by one accepted sub-step, updating `y` and the
/// proposed `h`. A component that stays 0 with derivative 0 adds nothing to the error norm,
/// so a state padded with such components integrates as the unpadded one.
fn evolve<const N: usize>(f: &impl Fn(&[f64; N]) -> [f64; N], y: &mut [f64; N], t: &mut f64, t1: f64, h: &mut f64) {
    let t0 = *t;
    let dt = t1 - t0;
    let mut h0 = *h;
    let y0 = *y;
    let k1 = f(&y0);
    loop {
        let final_step = h0 > dt;
        if final_step {
            h0 = dt;
        }
        let (out, dydt_out, err) = rkf45(f, &y0, &k1, h0);
        *y = out;
        *t = if final_step { t1 } else { t0 + h0 };
        let h_old = h0;
        let mut rmax = f64::MIN_POSITIVE;
        for i in 0..N {
            let d0 = TOLERANCE * (h_old * dydt_out[i]).abs() + TOLERANCE;
            rmax = rmax.max(err[i].abs() / d0.abs());
        }
        if rmax > 1.1 {
            let r = (0.9 / rmax.powf(1.0 / ORDER)).max(0.2);
            h0 = r * h_old;
            // Retry when the step really shrinks and still moves `t` (GSL's check).
            if h0.abs() < h_old.abs() && *t + h0 != *t {
                *y = y0;
                *t = t0;
                continue;
            }
            h0 = h_old;
        } else if rmax < 0.5 {
            let r = (0.9 / rmax.powf(1.0 / (ORDER + 1.0))).clamp(1.0, 5.0);
            h0 = r * h_old;
        }
        *h = h0;
        return;
    }
}

/// NEST's update of an adaptive exponential neuron over one step of `dt_ms`: accepted sub-steps
/// of [`evolve`] over the system `f(y, refractory)` (`y[0]` is `V`, `y[w]` the adaptation
/// current) until the step is covered, `V` held at `V_reset` while refractory, and after each
/// sub-step a spike where `V` reaches `V_peak` (`V_th` with `Δ_T = 0`): `V ← V_reset`,
/// `w ← w + b`, refractory for `round(t_ref/h)` steps. `clock` is the refractory steps left and
/// the stepper's proposed sub-step (0 before the first step), both carried to the next step.
/// Returns whether the neuron fired.
fn advance<const D: usize>(
    p: &AdexParams,
    f: impl Fn(&[f64; D], bool) -> [f64; D],
    y: &mut [f64; D],
    w: usize,
    (refractory, substep_ms): (&mut u32, &mut f64),
    dt_ms: f64,
) -> bool {
    let v_peak = if p.delta_t_mv > 0.0 { p.v_peak_mv } else { p.v_th_mv };
    let refractory_counts = (p.t_ref_ms / dt_ms).round().max(0.0) as u32;
    let mut h = if *substep_ms > 0.0 { *substep_ms } else { dt_ms };
    let mut t = 0.0;
    let mut fired = false;
    while t < dt_ms {
        let held = *refractory > 0;
        evolve(&|y: &[f64; D]| f(y, held), y, &mut t, dt_ms, &mut h);
        if held {
            y[0] = p.v_reset_mv;
        } else if y[0] >= v_peak {
            y[0] = p.v_reset_mv;
            y[w] += p.b_pa;
            *refractory = if refractory_counts > 0 { refractory_counts + 1 } else { 0 };
            fired = true;
        }
    }
    if *refractory > 0 {
        *refractory -= 1;
    }
    *substep_ms = h;
    fired
}

/// `x`, or 0 where it is subnormal: a silent neuron's decayed conductances, currents or
/// adaptation reach subnormal numbers, on which arithmetic is about a hundred times slower, and
/// they move no `V` (NEST keeps them).
#[inline]
fn flush(x: f64) -> f64 {
    if x.abs() < f64::MIN_POSITIVE { 0.0 } else { x }
}

impl Adex {
    /// A neuron.
    pub fn new(params: AdexParams, synapses: AdexSynapses) -> Self {
        Self { params, synapses }
    }

    /// `dy/dt` of `y = (V, syn_ex, syn_in, w)`, NEST's right-hand side.
    #[inline]
    fn derivatives(&self, y: &Y, refractory: bool, stim: f64) -> Y {
        let p = &self.params;
        let v = if refractory { p.v_reset_mv } else { y[0].min(p.v_peak_mv) };
        let (ex, inh, w) = (y[1], y[2], y[3]);
        let i_spike = if p.delta_t_mv == 0.0 { 0.0 } else { p.g_l_ns * p.delta_t_mv * ((v - p.v_th_mv) / p.delta_t_mv).exp() };
        let dv = if refractory {
            0.0
        } else {
            match self.synapses {
                AdexSynapses::Conductance { e_ex_mv, e_in_mv } => {
                    let (i_ex, i_in) = (ex * (v - e_ex_mv), inh * (v - e_in_mv));
                    (-p.g_l_ns * (v - p.e_l_mv) + i_spike - i_ex - i_in - w + p.i_e_pa + stim) / p.c_m_pf
                }
                AdexSynapses::Current => (-p.g_l_ns * (v - p.e_l_mv) + i_spike + ex - inh - w + p.i_e_pa + stim) / p.c_m_pf,
            }
        };
        [dv, -ex / p.tau_syn_ex_ms, -inh / p.tau_syn_in_ms, (p.a_ns * (v - p.e_l_mv) - w) / p.tau_w_ms]
    }

    /// One step of `dt_ms`: `v` mV, the state, this step's excitatory and inhibitory input
    /// (nS or pA; the latter negative) and the generator current in effect over the step
    /// ([`StimulusCurrent::held`], pA). Returns the new `v` and whether it fired.
    pub fn step(&self, v: f64, state: &mut AdexState, dt_ms: f64, input_ex: f64, input_in: f64, stim: f64) -> (f64, bool) {
        let mut y: Y = [v, state.syn_ex, state.syn_in, state.w];
        let clock = (&mut state.refractory, &mut state.substep_ms);
        let fired = advance(&self.params, |y: &Y, refractory| self.derivatives(y, refractory, stim), &mut y, 3, clock, dt_ms);
        state.syn_ex = flush(y[1] + input_ex);
        state.syn_in = flush(y[2] - input_in);
        state.w = flush(y[3]);
        (y[0], fired)
    }
}

/// An `aeif_cond_beta_multisynapse` neuron (NEST's model): the adaptive exponential membrane of
/// [`Adex`] with receptor ports, each a beta-shaped conductance with its own reversal
/// potential, rise and decay time:
///
/// ```text
/// C_m dV/dt = −g_L (V − E_L) + g_L Δ_T exp((V − V_th)/Δ_T) + Σ_r g_r (E_r − V) − w + I_e
/// dg'_r/dt = −g'_r / τ_rise,r,   dg_r/dt = g'_r − g_r / τ_decay,r
/// ```
///
/// A spike of weight `J` (nS, the conductance's peak) at port `r` adds `J · g0_r` to `g'_r`
/// after the step it arrives in (`g0_r` normalizes the beta function's peak to 1; NEST's
/// `beta_normalization_factor`, an alpha function where the two times are equal). Weights are
/// conductances: their magnitude counts, the port's reversal potential makes them excitatory
/// or inhibitory. Integrated with the same adaptive RKF45 stepping as [`Adex`] (NEST's GSL
/// evolve, tolerance 1e-6), in NEST's order of operations, so traces equal NEST 3.10's.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, BetaSynapseState, ReceptorInput)]
pub struct AeifCondBetaMultisynapse {
    /// Membrane and adaptation parameters (`tau_syn_ex_ms`, `tau_syn_in_ms` unused).
    pub params: AdexParams,
    /// Number of receptor ports, `1..=MAX_RECEPTORS`.
    pub receptors: u8,
    /// Each port's reversal potential, mV.
    pub e_rev_mv: [f64; MAX_RECEPTORS],
    /// Each port's rise time, ms.
    pub tau_rise_ms: [f64; MAX_RECEPTORS],
    /// Each port's decay time, ms.
    pub tau_decay_ms: [f64; MAX_RECEPTORS],
    g0: [f64; MAX_RECEPTORS],
}

/// The state of an [`AeifCondBetaMultisynapse`] neuron besides `V`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct BetaSynapseState {
    /// Each port's conductance `g_r`, nS.
    pub g: [f64; MAX_RECEPTORS],
    /// Each port's `dg_r/dt` part `g'_r`, nS/ms.
    pub dg: [f64; MAX_RECEPTORS],
    /// Adaptation current, pA.
    pub w: f64,
    /// Refractory steps left.
    pub refractory: u32,
    /// The integrator's proposed sub-step, ms (0: not started).
    pub substep_ms: f64,
}

biospike_core::persist_fields!(BetaSynapseState { g, dg, w, refractory, substep_ms });

/// NEST's `beta_normalization_factor`: the factor that makes a beta conductance of rise and
/// decay times `tau_rise`, `tau_decay` peak at 1 for a unit jump of its derivative (`e/τ`, an
/// alpha function, where the times are equal).
pub fn beta_normalization(tau_rise: f64, tau_decay: f64) -> f64 {
    let difference = tau_decay - tau_rise;
    let mut peak = 0.0;
    if difference.abs() > f64::EPSILON {
        let t_peak = tau_decay * tau_rise * (tau_decay / tau_rise).ln() / difference;
        peak = (-t_peak / tau_decay).exp() - (-t_peak / tau_rise).exp();
    }
    if peak.abs() < f64::EPSILON { std::f64::consts::E / tau_decay } else { (1.0 / tau_rise - 1.0 / tau_decay) / peak }
}

impl AeifCondBetaMultisynapse {
    /// A neuron with one port per entry of the three lists (which must have the same length,
    /// at most [`MAX_RECEPTORS`]; extra entries are ignored).
    pub fn new(params: AdexParams, e_rev_mv: &[f64], tau_rise_ms: &[f64], tau_decay_ms: &[f64]) -> Self {
        let n = e_rev_mv.len().min(tau_rise_ms.len()).min(tau_decay_ms.len()).min(MAX_RECEPTORS);
        let at = |v: &[f64], r: usize, default: f64| if r < n { v[r] } else { default };
        let tau_rise: [f64; MAX_RECEPTORS] = std::array::from_fn(|r| at(tau_rise_ms, r, 1.0));
        let tau_decay: [f64; MAX_RECEPTORS] = std::array::from_fn(|r| at(tau_decay_ms, r, 1.0));
        Self {
            params,
            receptors: n as u8,
            e_rev_mv: std::array::from_fn(|r| at(e_rev_mv, r, 0.0)),
            tau_rise_ms: tau_rise,
            tau_decay_ms: tau_decay,
            g0: std::array::from_fn(|r| if r < n { beta_normalization(tau_rise[r], tau_decay[r]) } else { 0.0 }),
        }
    }

    /// `dy/dt` of `y = (V, w, g'_1, g_1, …)` (`D = 2 + 2·ports`), NEST's right-hand side.
    #[inline]
    fn derivatives<const D: usize>(&self, y: &[f64; D], refractory: bool, stim: f64) -> [f64; D] {
        let p = &self.params;
        let n = (D - 2) / 2;
        let v = if refractory { p.v_reset_mv } else { y[0].min(p.v_peak_mv) };
        let w = y[1];
        let mut i_syn = 0.0;
        for r in 0..n {
            i_syn += y[3 + 2 * r] * (self.e_rev_mv[r] - v);
        }
        let i_spike = if p.delta_t_mv == 0.0 { 0.0 } else { p.delta_t_mv * p.g_l_ns * ((v - p.v_th_mv) / p.delta_t_mv).exp() };
        let mut f = [0.0; D];
        f[0] = if refractory { 0.0 } else { (-p.g_l_ns * (v - p.e_l_mv) + i_spike + i_syn - w + p.i_e_pa + stim) / p.c_m_pf };
        f[1] = (p.a_ns * (v - p.e_l_mv) - w) / p.tau_w_ms;
        for r in 0..n {
            f[2 + 2 * r] = -y[2 + 2 * r] / self.tau_rise_ms[r];
            f[3 + 2 * r] = y[2 + 2 * r] - y[3 + 2 * r] / self.tau_decay_ms[r];
        }
        f
    }

    /// One step of `dt_ms`: `v` mV, the state, this step's input per port (nS; the magnitude
    /// counts) and the generator current in effect over the step (pA). Returns the new `v`
    /// and whether it fired.
    pub fn step(&self, v: f64, state: &mut BetaSynapseState, dt_ms: f64, input: &[f64; MAX_RECEPTORS], stim: f64) -> (f64, bool) {
        // The integrated state has exactly the ports' components (GSL's error norm runs over
        // the state's length; fixed sizes let the stepper unroll).
        match self.receptors {
            1 => self.step_with::<4>(v, state, dt_ms, input, stim),
            2 => self.step_with::<6>(v, state, dt_ms, input, stim),
            3 => self.step_with::<8>(v, state, dt_ms, input, stim),
            4 => self.step_with::<10>(v, state, dt_ms, input, stim),
            5 => self.step_with::<12>(v, state, dt_ms, input, stim),
            6 => self.step_with::<14>(v, state, dt_ms, input, stim),
            7 => self.step_with::<16>(v, state, dt_ms, input, stim),
            _ => self.step_with::<{ 2 + 2 * MAX_RECEPTORS }>(v, state, dt_ms, input, stim),
        }
    }

    /// [`AeifCondBetaMultisynapse::step`] with a state of `D = 2 + 2·ports` components.
    fn step_with<const D: usize>(
        &self,
        v: f64,
        state: &mut BetaSynapseState,
        dt_ms: f64,
        input: &[f64; MAX_RECEPTORS],
        stim: f64,
    ) -> (f64, bool) {
        let n = (D - 2) / 2;
        let mut y = [0.0; D];
        (y[0], y[1]) = (v, state.w);
        for r in 0..n {
            (y[2 + 2 * r], y[3 + 2 * r]) = (state.dg[r], state.g[r]);
        }
        let clock = (&mut state.refractory, &mut state.substep_ms);
        let fired = advance(&self.params, |y: &[f64; D], refractory| self.derivatives(y, refractory, stim), &mut y, 1, clock, dt_ms);
        for r in 0..n {
            state.dg[r] = flush(y[2 + 2 * r] + input[r].abs() * self.g0[r]);
            state.g[r] = flush(y[3 + 2 * r]);
        }
        state.w = flush(y[1]);
        (y[0], fired)
    }
}

/// Runs [`Adex`] neurons in [`SimSystems::Neurons`] (from step 1 on: step 0 is the initial
/// condition).
#[derive(Debug, Default, Clone, Copy)]
pub struct AdexPlugin;

impl Plugin for AdexPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before AdexPlugin");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<AdexState>(app, "adex.state");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<BetaSynapseState>(app, "adex.beta_synapses");
        app.world_mut().resource_mut::<NeuronDescriptions>().register(describe);
        app.add_systems(
            SimSchedule,
            (integrate_adex, integrate_beta_multisynapse)
                .in_set(SimSystems::Neurons)
                .in_set(NeuronModelSystems)
                .ambiguous_with(NeuronModelSystems)
                .in_set(BuiltinSystems),
        );
    }
}

/// The model and parameters of an adaptive exponential neuron, NEST's names (for the viewer's
/// neuron panel).
fn describe(world: &World, e: Entity) -> Option<String> {
    let membrane = |p: &AdexParams| {
        format!(
            "C_m = {} pF | g_L = {} nS | E_L = {} mV | V_th = {} mV | Δ_T = {} mV | V_peak = {} mV | V_reset = {} mV | t_ref = {} ms | a = {} nS | b = {} pA | τ_w = {} ms | I_e = {} pA",
            p.c_m_pf,
            p.g_l_ns,
            p.e_l_mv,
            p.v_th_mv,
            p.delta_t_mv,
            p.v_peak_mv,
            p.v_reset_mv,
            p.t_ref_ms,
            p.a_ns,
            p.b_pa,
            p.tau_w_ms,
            p.i_e_pa
        )
    };
    if let Some(n) = world.get::<Adex>(e) {
        let p = &n.params;
        return Some(match n.synapses {
            AdexSynapses::Conductance { e_ex_mv, e_in_mv } => format!(
                "aeif_cond_exp: {} | E_ex / E_in = {e_ex_mv} / {e_in_mv} mV | τ_syn = {} / {} ms",
                membrane(p),
                p.tau_syn_ex_ms,
                p.tau_syn_in_ms
            ),
            AdexSynapses::Current => format!("aeif_psc_exp: {} | τ_syn = {} / {} ms", membrane(p), p.tau_syn_ex_ms, p.tau_syn_in_ms),
        });
    }
    let n = world.get::<AeifCondBetaMultisynapse>(e)?;
    let r = usize::from(n.receptors);
    let list = |v: &[f64]| v[..r].iter().map(|x| format!("{x}")).collect::<Vec<_>>().join(", ");
    Some(format!(
        "aeif_cond_beta_multisynapse: {} | per port: E_rev = [{}] mV, τ_rise = [{}] ms, τ_decay = [{}] ms",
        membrane(&n.params),
        list(&n.e_rev_mv),
        list(&n.tau_rise_ms),
        list(&n.tau_decay_ms)
    ))
}

/// Rows from which an adaptive exponential pass is split between threads: the adaptive stepper costs about a
/// microsecond per neuron and step, far above a hand-off.
const COSTLY_MIN_ROWS: usize = 64;

type AdexColumns = (
    &'static mut MembranePotential,
    &'static mut AdexState,
    &'static mut SpikedThisStep,
    &'static InputCurrent,
    &'static InhibitoryInput,
    Option<&'static StimulusCurrent>,
    &'static Adex,
);

fn integrate_adex(mut q: Query<AdexColumns>, clock: Res<SimClock>) {
    if clock.step() == 0 {
        return;
    }
    let dt = clock.dt_ms();
    for (mut v, mut s, mut spiked, input, inh, stim, neuron) in
        q.contiguous_iter_mut().expect("AdEx components are table-stored, so the query is dense")
    {
        let rows = (v.bypass_change_detection(), s.bypass_change_detection(), spiked.bypass_change_detection(), input, inh, stim, neuron);
        biospike_runtime::rows::for_each_costly_chunk(rows, COSTLY_MIN_ROWS, |(v, s, spiked, input, inh, stim, neuron)| {
            let n = v.len();
            let (s, spiked, input, inh, stim, neuron) =
                (&mut s[..n], &mut spiked[..n], &input[..n], &inh[..n], stim.map(|s| &s[..n]), &neuron[..n]);
            for k in 0..n {
                (v[k].0, spiked[k].0) = neuron[k].step(v[k].0, &mut s[k], dt, input[k].0, inh[k].0, StimulusCurrent::held_in(stim, k));
            }
        });
    }
}

type BetaColumns = (
    &'static mut MembranePotential,
    &'static mut BetaSynapseState,
    &'static mut SpikedThisStep,
    &'static InputCurrent,
    &'static ReceptorInput,
    Option<&'static StimulusCurrent>,
    &'static AeifCondBetaMultisynapse,
);

fn integrate_beta_multisynapse(mut q: Query<BetaColumns>, clock: Res<SimClock>) {
    if clock.step() == 0 {
        return;
    }
    let dt = clock.dt_ms();
    for (mut v, mut s, mut spiked, input, ports, stim, neuron) in
        q.contiguous_iter_mut().expect("AdEx components are table-stored, so the query is dense")
    {
        let rows =
            (v.bypass_change_detection(), s.bypass_change_detection(), spiked.bypass_change_detection(), (input, ports), stim, neuron);
        biospike_runtime::rows::for_each_costly_chunk(rows, COSTLY_MIN_ROWS, |(v, s, spiked, (input, ports), stim, neuron)| {
            let n = v.len();
            let (s, spiked, input, ports, stim, neuron) =
                (&mut s[..n], &mut spiked[..n], &input[..n], &ports[..n], stim.map(|s| &s[..n]), &neuron[..n]);
            for k in 0..n {
                let due = ports[k].with_unported(input[k].0);
                (v[k].0, spiked[k].0) = neuron[k].step(v[k].0, &mut s[k], dt, &due, StimulusCurrent::held_in(stim, k));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The viewer's neuron panel names every model with its parameters.
    #[test]
    fn every_model_is_described() {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), AdexPlugin));
        let p = AdexParams::default();
        let world = app.world_mut();
        let cases = [
            (world.spawn(Adex::new(p, AdexSynapses::Conductance { e_ex_mv: 0.0, e_in_mv: -85.0 })).id(), "aeif_cond_exp: C_m = 281 pF"),
            (world.spawn(Adex::new(p, AdexSynapses::Current)).id(), "aeif_psc_exp:"),
            (world.spawn(AeifCondBetaMultisynapse::new(p, &[0.0, -80.0], &[0.2, 0.5], &[2.0, 6.0])).id(), "E_rev = [0, -80] mV"),
        ];
        let world = app.world();
        for (e, expected) in cases {
            let text = world.resource::<NeuronDescriptions>().describe(world, e).unwrap_or_default();
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    /// A beta port with equal rise and decay times is an alpha function (NEST's normalization).
    #[test]
    fn equal_times_normalize_as_an_alpha_function() {
        assert_eq!(beta_normalization(5.0, 5.0), std::f64::consts::E / 5.0);
        // The beta function's peak is 1 after the normalized jump: g(t) = g0 τ_r τ_d/(τ_d − τ_r) (e^{−t/τ_d} − e^{−t/τ_r}).
        let (r, d) = (0.5, 6.0);
        let g0 = beta_normalization(r, d);
        let t_peak = d * r * (d / r).ln() / (d - r);
        let peak = g0 * r * d / (d - r) * ((-t_peak / d).exp() - (-t_peak / r).exp());
        assert!((peak - 1.0).abs() < 1e-12, "{peak}");
    }
}
