//! Leaky integrate-and-fire neurons with an absolute refractory period, integrated exactly:
//! [`IafPscDelta`] (delta synapses, NEST's `iaf_psc_delta`, Brunel 2000's model),
//! [`IafPscExp`] (exponential synaptic currents per sign, NEST's `iaf_psc_exp`),
//! [`IafPscExpMultisynapse`] (one exponential current per receptor port, NEST's
//! `iaf_psc_exp_multisynapse`), [`IafPscAlpha`] (alpha-shaped currents, NEST's `iaf_psc_alpha`),
//! [`IafPscAlphaMultisynapse`] (one alpha-shaped current per receptor port) and [`IafCondExp`] (exponential conductances with reversal potentials, NEST's `iaf_cond_exp`,
//! integrated by Runge–Kutta). What follows describes `IafPscDelta`; the others are documented
//! on their types.
//!
//! Between spikes the membrane obeys `τ_m dV/dt = −(V − E_L) + τ_m/C_m · I_e`; each step of
//! `h` ms is the exact solution (propagators `P33 = exp(−h/τ_m)`, `P30 = τ_m/C_m · (1 − P33)`),
//! so the trace does not depend on the step size beyond where inputs land:
//!
//! ```text
//! V(t+h) − E_L = P30 · I_e + P33 · (V(t) − E_L) + Σ J   (not refractory; then V ≥ V_min)
//! V ≥ V_th  →  spike, V = V_reset, refractory for round(t_ref / h) steps (inputs ignored)
//! ```
//!
//! Synaptic input is a jump of `V` by the synapse's weight, in mV, in the step it arrives
//! (the [`InputCurrent`] accumulator of this step holds the sum of the jumps). Currents of
//! generators (DC, steps, sine, noise; pA) come through [`StimulusCurrent`]: the value computed
//! at time `t` is added to `I_e` over `(t, t + h]` (NEST's `i_0`), in every model of this crate. The state after
//! step `k` is the state at time `k·h` and a spike in step `k` has time `k·h`, as NEST stamps
//! its spikes at the end of the step: step 0 is the initial condition. With these conventions
//! traces and spike times equal NEST 3.10's for the same input (`tests/lif_nest.rs`, against
//! traces NEST wrote: `tests/reference/`).
//!
//! Neuromodulated excitability does not scale LIF input. `V` lives in [`MembranePotential`]
//! (absolute, mV); [`RecoveryVariable`] stays 0.
//!
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_lif::{IafPscDelta, LifParams, LifPlugin};
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), LifPlugin));
//! // NEST's defaults, driven above threshold by 376 pA.
//! let params = LifParams { i_e_pa: 376.0, ..LifParams::default() };
//! app.world_mut().spawn((IafPscDelta::new(params, 0.1), NeuronId(0), MembranePotential(-70.0)));
//! let mut spikes = Vec::new();
//! for _ in 0..=3000 {
//!     step_simulation(app.world_mut());
//!     let step = app.world().resource::<SimClock>().step() - 1;
//!     spikes.extend(app.world().resource::<StepSpikes>().ids.iter().map(|_| step as f64 * 0.1));
//! }
//! // V_inf = −70 + 376·10/250 = −54.96 mV, just above threshold: a long first interval, then
//! // every interval is t_ref plus the same climb from V_reset.
//! assert!(spikes.len() >= 2);
//! let isi = spikes[1] - spikes[0];
//! assert!(spikes.windows(2).all(|w| (w[1] - w[0] - isi).abs() < 1e-9));
//! ```

use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;

mod blocks;

pub use blocks::{Blocked, ParameterBlock, ParameterBlocks};

/// Parameters of a leaky integrate-and-fire neuron, NEST's names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LifParams {
    /// Membrane time constant `τ_m`, ms. NEST default 10.
    pub tau_m_ms: f64,
    /// Membrane capacitance `C_m`, pF. NEST default 250.
    pub c_m_pf: f64,
    /// Resting potential `E_L`, mV. NEST default −70.
    pub e_l_mv: f64,
    /// Threshold `V_th`, mV. NEST default −55.
    pub v_th_mv: f64,
    /// Reset `V_reset`, mV. NEST default −70.
    pub v_reset_mv: f64,
    /// Absolute refractory period `t_ref`, ms. NEST default 2.
    pub t_ref_ms: f64,
    /// Constant input current `I_e`, pA. NEST default 0.
    pub i_e_pa: f64,
    /// Lower bound of `V`, mV (`−∞`: none, NEST's default).
    pub v_min_mv: f64,
}

impl Default for LifParams {
    fn default() -> Self {
        Self {
            tau_m_ms: 10.0,
            c_m_pf: 250.0,
            e_l_mv: -70.0,
            v_th_mv: -55.0,
            v_reset_mv: -70.0,
            t_ref_ms: 2.0,
            i_e_pa: 0.0,
            v_min_mv: f64::NEG_INFINITY,
        }
    }
}

/// An `iaf_psc_delta` neuron: its parameters and their propagators for one step size.
///
/// Immutable, with its parameter sets kept in [`ParameterBlocks`], as [`IafPscExp`].
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, ParameterBlock)]
#[component(immutable, on_insert = blocks::intern::<IafPscDelta>)]
pub struct IafPscDelta {
    /// The parameters.
    pub params: LifParams,
    /// The step size the propagators are for, ms.
    pub dt_ms: f64,
    p33: f64,
    p30: f64,
    refractory_steps: u32,
}

impl IafPscDelta {
    /// The neuron for steps of `dt_ms`.
    pub fn new(params: LifParams, dt_ms: f64) -> Self {
        let p33 = (-dt_ms / params.tau_m_ms).exp();
        let p30 = params.tau_m_ms / params.c_m_pf * (1.0 - p33);
        // NEST: Time(ms(t_ref)).get_steps(), the nearest step.
        let refractory_steps = (params.t_ref_ms / dt_ms).round().max(0.0) as u32;
        Self { params, dt_ms, p33, p30, refractory_steps }
    }

    /// Steps of the refractory period.
    pub fn refractory_steps(&self) -> u32 {
        self.refractory_steps
    }

    /// One step of `h = dt_ms` (the pure kernel): `v` absolute mV, `refractory` steps left,
    /// `jump` the sum of this step's synaptic jumps, mV, `stim` the generator current in effect
    /// over the step ([`StimulusCurrent::held`]), pA. Returns `(v, refractory, spiked)`.
    #[inline]
    pub fn step(&self, v: f64, refractory: u32, jump: f64, stim: f64) -> (f64, u32, bool) {
        let p = &self.params;
        let (mut y, mut r) = (v - p.e_l_mv, refractory);
        if r == 0 {
            y = self.p30 * (stim + p.i_e_pa) + self.p33 * y + jump;
            y = y.max(p.v_min_mv - p.e_l_mv);
        } else {
            r -= 1;
        }
        if y >= p.v_th_mv - p.e_l_mv {
            return (p.v_reset_mv, self.refractory_steps, true);
        }
        (y + p.e_l_mv, r, false)
    }
}

impl<'a> blocks::StepRun<DeltaColumns<'a>> for IafPscDelta {
    /// [`Self::step`] over a run of neurons that all have this model: the same operations in
    /// the same order on every neuron (so the same bits), as selects instead of branches.
    #[inline(always)]
    fn step_run_with(&self, (v, r, spiked, input): DeltaColumns<'a>, held: impl Fn(usize) -> f64) {
        let n = v.len();
        let (r, spiked, input) = (&mut r[..n], &mut spiked[..n], &input[..n]);
        let p = &self.params;
        let (e_l, v_reset, above, floor) = (p.e_l_mv, p.v_reset_mv, p.v_th_mv - p.e_l_mv, p.v_min_mv - p.e_l_mv);
        // A local, not `self.refractory_steps` in the loop: read only where a neuron fires, the
        // field became a masked gather per eight neurons (39–48 % of a pass's `perf` samples;
        // BENCHMARKS round 21).
        let refractory_steps = self.refractory_steps;
        for k in 0..n {
            let (y, r0) = (v[k].0 - e_l, r[k].0);
            let integrated = (self.p30 * (held(k) + p.i_e_pa) + self.p33 * y + input[k].0).max(floor);
            let y = if r0 == 0 { integrated } else { y };
            let fired = y >= above;
            v[k].0 = if fired { v_reset } else { y + e_l };
            r[k].0 = if fired { refractory_steps } else { r0.saturating_sub(1) };
            spiked[k].0 = fired;
        }
    }
}

impl Blocked for IafPscDelta {
    fn key(&self) -> Vec<u64> {
        lif_key(&self.params, &[self.dt_ms])
    }
}

/// A LIF model's [`Blocked::key`]: the bits of its membrane parameters and of `more` (the
/// model's other fields it was built from).
fn lif_key(p: &LifParams, more: &[f64]) -> Vec<u64> {
    [p.tau_m_ms, p.c_m_pf, p.e_l_mv, p.v_th_mv, p.v_reset_mv, p.t_ref_ms, p.i_e_pa, p.v_min_mv]
        .iter()
        .chain(more)
        .map(|x| x.to_bits())
        .collect()
}

/// `x`, or 0 where `x` is subnormal. A synaptic current or conductance decays geometrically
/// in silence and, after some hundred time constants, reaches subnormal numbers, on which
/// arithmetic is about a hundred times slower (a silent COBA network took 21 ms a step instead
/// of 0.14). Such a value changes no `V` (its effect is below 1e-300 mV); NEST keeps it.
#[inline(always)]
pub fn flush(x: f64) -> f64 {
    if x.abs() < f64::MIN_POSITIVE { 0.0 } else { x }
}

/// NEST's `propagator_32`: the effect on `V` of a unit exponential current over one step,
/// `−τ_m / (C (1 − τ_m/τ_s)) · e^{−h/τ_s} · expm1(h (1/τ_s − 1/τ_m))`, with the limit
/// `h/C · e^{−h/τ_m}` where `τ_s = τ_m` (and where NEST switches to it for stability).
pub fn propagator_32(tau_syn: f64, tau: f64, c: f64, h: f64) -> f64 {
    let linear = 1.0 / (2.0 * c * tau * tau) * h * h * (tau_syn - tau) + h / c;
    let singular = h / c * (-h / tau).exp();
    let p32 = -tau / (c * (1.0 - tau / tau_syn)) * (-h / tau_syn).exp() * (h * (1.0 / tau_syn - 1.0 / tau)).exp_m1();
    let deviation = (p32 - singular).abs();
    if tau == tau_syn || ((tau - tau_syn).abs() < 0.1 && deviation > 2.0 * linear.abs()) { singular } else { p32 }
}

/// An `iaf_psc_exp` neuron: leaky integrate-and-fire with exponential synaptic currents, one for
/// excitatory (positive) and one for inhibitory (negative) weights, each with its time
/// constant; weights are current amplitudes in pA. Integrated exactly as NEST 3.10 does: in each
/// step `V` moves with the currents of the step's start, then the currents decay and this
/// step's input is added to them (so an input acts on `V` from the next step on). Needs the
/// signed delay-ring channels ([`SignedChannels`], inserted when such a neuron is spawned).
///
/// Immutable: change a neuron's parameters by inserting a new `IafPscExp`. Each distinct
/// parameter set is kept once in [`ParameterBlocks`] and the step reads only the neuron's
/// [`ParameterBlock`] number (see [`blocks`](ParameterBlocks)).
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, SynapticCurrents, InhibitoryInput, ParameterBlock)]
#[component(immutable, on_add = signed_channels, on_insert = blocks::intern::<IafPscExp>)]
pub struct IafPscExp {
    /// Membrane parameters (`v_min_mv` is not used: NEST's model has no lower bound).
    pub params: LifParams,
    /// Excitatory current's time constant, ms. NEST default 2.
    pub tau_syn_ex_ms: f64,
    /// Inhibitory current's time constant, ms. NEST default 2.
    pub tau_syn_in_ms: f64,
    /// The step size the propagators are for, ms.
    pub dt_ms: f64,
    p22: f64,
    p20: f64,
    p11_ex: f64,
    p11_in: f64,
    p21_ex: f64,
    p21_in: f64,
    refractory_steps: u32,
}

fn signed_channels(mut world: bevy_ecs::world::DeferredWorld, _: bevy_ecs::lifecycle::HookContext) {
    world.commands().insert_resource(SignedChannels);
}

impl IafPscExp {
    /// The neuron for steps of `dt_ms`.
    pub fn new(params: LifParams, tau_syn_ex_ms: f64, tau_syn_in_ms: f64, dt_ms: f64) -> Self {
        let (tau, c, h) = (params.tau_m_ms, params.c_m_pf, dt_ms);
        let p22 = (-h / tau).exp();
        Self {
            params,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            dt_ms,
            p22,
            p20: tau / c * (1.0 - p22),
            p11_ex: (-h / tau_syn_ex_ms).exp(),
            p11_in: (-h / tau_syn_in_ms).exp(),
            p21_ex: propagator_32(tau_syn_ex_ms, tau, c, h),
            p21_in: propagator_32(tau_syn_in_ms, tau, c, h),
            refractory_steps: (params.t_ref_ms / dt_ms).round().max(0.0) as u32,
        }
    }

    /// One step: `v` absolute mV, `refractory` steps left, the synaptic currents (pA), this
    /// step's excitatory and inhibitory input (pA, the latter negative) and the generator
    /// current in effect over the step (pA). Returns `(v, refractory, currents, spiked)`.
    #[inline]
    pub fn step(
        &self,
        v: f64,
        refractory: u32,
        i: SynapticCurrents,
        input_ex: f64,
        input_in: f64,
        stim: f64,
    ) -> (f64, u32, SynapticCurrents, bool) {
        let p = &self.params;
        let (mut y, mut r) = (v - p.e_l_mv, refractory);
        if r == 0 {
            y = y * self.p22 + i.ex * self.p21_ex + i.inh * self.p21_in + (p.i_e_pa + stim) * self.p20;
        } else {
            r -= 1;
        }
        let next = SynapticCurrents { ex: flush(i.ex * self.p11_ex + input_ex), inh: flush(i.inh * self.p11_in + input_in) };
        if y >= p.v_th_mv - p.e_l_mv {
            return (p.v_reset_mv, self.refractory_steps, next, true);
        }
        (y + p.e_l_mv, r, next, false)
    }
}

impl<'a> blocks::StepRun<RunColumns<'a>> for IafPscExp {
    /// [`Self::step`] over a run of neurons that all have this model: the same operations in
    /// the same order on every neuron (so the same bits), written as selects instead of
    /// branches so that the compiler runs several neurons per instruction.
    #[inline(always)]
    fn step_run_with(&self, (v, r, spiked, i, input, inh): RunColumns<'a>, held: impl Fn(usize) -> f64) {
        let n = v.len();
        let (r, spiked, i, input, inh) = (&mut r[..n], &mut spiked[..n], &mut i[..n], &input[..n], &inh[..n]);
        let p = &self.params;
        let (e_l, v_reset, above) = (p.e_l_mv, p.v_reset_mv, p.v_th_mv - p.e_l_mv);
        // A local, not `self.refractory_steps` in the loop: read only where a neuron fires, the
        // field became a masked gather per eight neurons (39–48 % of a pass's `perf` samples;
        // BENCHMARKS round 21).
        let refractory_steps = self.refractory_steps;
        for k in 0..n {
            let (y, r0, c) = (v[k].0 - e_l, r[k].0, i[k]);
            let integrated = y * self.p22 + c.ex * self.p21_ex + c.inh * self.p21_in + (p.i_e_pa + held(k)) * self.p20;
            let y = if r0 == 0 { integrated } else { y };
            i[k] = SynapticCurrents { ex: flush(c.ex * self.p11_ex + input[k].0), inh: flush(c.inh * self.p11_in + inh[k].0) };
            let fired = y >= above;
            v[k].0 = if fired { v_reset } else { y + e_l };
            r[k].0 = if fired { refractory_steps } else { r0.saturating_sub(1) };
            spiked[k].0 = fired;
        }
    }
}

impl Blocked for IafPscExp {
    fn key(&self) -> Vec<u64> {
        lif_key(&self.params, &[self.tau_syn_ex_ms, self.tau_syn_in_ms, self.dt_ms])
    }
}

/// An `iaf_psc_exp_multisynapse` neuron (NEST's model): [`IafPscExp`] with any number of
/// receptor ports (up to [`MAX_RECEPTORS`]), each an exponential current with its own time
/// constant. A synapse delivers into the port its [`SynapticReceptor`] names (1-based, NEST's
/// `receptor_type`), with its weight's sign (pA); input without a port ([`InputCurrent`]:
/// Poisson trains, synapses of port 0) goes to port 1. Integrated exactly as NEST 3.10 does:
/// `V` moves with the currents of the step's start (`V·P22 + (I_e + I_stim)·P20`, then
/// `+ P21_r·I_r` port by port), then each current decays and takes this step's input, then the
/// threshold. No port may have `τ_syn = τ_m` (NEST refuses it too).
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, ReceptorCurrents, ReceptorInput)]
pub struct IafPscExpMultisynapse {
    /// Membrane parameters (`v_min_mv` is not used: NEST's model has no lower bound).
    pub params: LifParams,
    /// Number of receptor ports, `1..=MAX_RECEPTORS`.
    pub receptors: u8,
    /// Each port's current time constant, ms (the first `receptors` entries).
    pub tau_syn_ms: [f64; MAX_RECEPTORS],
    /// The step size the propagators are for, ms.
    pub dt_ms: f64,
    p22: f64,
    p20: f64,
    p11: [f64; MAX_RECEPTORS],
    p21: [f64; MAX_RECEPTORS],
    refractory_steps: u32,
}

/// The synaptic currents of an [`IafPscExpMultisynapse`] neuron, one per receptor port (index
/// `r − 1` for port `r`), pA.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct ReceptorCurrents(pub [f64; MAX_RECEPTORS]);

biospike_core::persist_fields!(ReceptorCurrents { 0 });

impl IafPscExpMultisynapse {
    /// The neuron for steps of `dt_ms`, with one port per entry of `tau_syn_ms` (at most
    /// [`MAX_RECEPTORS`]; the rest are ignored).
    pub fn new(params: LifParams, tau_syn_ms: &[f64], dt_ms: f64) -> Self {
        let (tau, c, h) = (params.tau_m_ms, params.c_m_pf, dt_ms);
        let n = tau_syn_ms.len().min(MAX_RECEPTORS);
        let taus: [f64; MAX_RECEPTORS] = std::array::from_fn(|r| tau_syn_ms.get(r).copied().filter(|_| r < n).unwrap_or(1.0));
        let p22 = (-h / tau).exp();
        Self {
            params,
            receptors: n as u8,
            tau_syn_ms: taus,
            dt_ms,
            p22,
            p20: tau / c * (1.0 - p22),
            p11: std::array::from_fn(|r| if r < n { (-h / taus[r]).exp() } else { 0.0 }),
            p21: std::array::from_fn(|r| if r < n { propagator_32(taus[r], tau, c, h) } else { 0.0 }),
            refractory_steps: (params.t_ref_ms / dt_ms).round().max(0.0) as u32,
        }
    }

    /// One step: `v` absolute mV, `refractory` steps left, the ports' currents (pA), this
    /// step's input per port (pA, any sign) and the generator current in effect over the step
    /// (pA). Returns `(v, refractory, currents, spiked)`.
    #[inline]
    pub fn step(
        &self,
        v: f64,
        refractory: u32,
        i: &[f64; MAX_RECEPTORS],
        input: &[f64; MAX_RECEPTORS],
        stim: f64,
    ) -> (f64, u32, [f64; MAX_RECEPTORS], bool) {
        let p = &self.params;
        let n = usize::from(self.receptors);
        let (mut y, mut r) = (v - p.e_l_mv, refractory);
        if r == 0 {
            // NEST's order: the drive, then each port's current in turn.
            y = y * self.p22 + (p.i_e_pa + stim) * self.p20;
            for (p21, i) in self.p21[..n].iter().zip(&i[..n]) {
                y += p21 * i;
            }
        } else {
            r -= 1;
        }
        let mut next = [0.0; MAX_RECEPTORS];
        for (((next, i), p11), input) in next[..n].iter_mut().zip(i).zip(&self.p11).zip(input) {
            *next = flush(i * p11 + input);
        }
        if y >= p.v_th_mv - p.e_l_mv {
            return (p.v_reset_mv, self.refractory_steps, next, true);
        }
        (y + p.e_l_mv, r, next, false)
    }
}

/// NEST's `IAFPropagatorAlpha`: the effects `(P31, P32)` on `V` of a unit `dI/dt` and a unit
/// current `I` of an alpha-shaped synaptic current over one step of `h` ms, with NEST's switches
/// to the singular forms where `τ_s` is close to `τ_m` (`P32 = h/C · e^{−h/τ_m}` when the regular
/// form is not a positive normal number; `P31 = h²/(2C) · e^{−h/τ_m}` when
/// `h ≤ 1e-7 · τ_m² / |τ_m − τ_s|`).
pub fn propagators_alpha(tau_syn: f64, tau: f64, c: f64, h: f64) -> (f64, f64) {
    let beta = tau_syn * tau / (tau - tau_syn);
    let gamma = beta / c;
    let inv_beta = (tau - tau_syn) / (tau_syn * tau);
    let exp_h_tau_syn = (-h / tau_syn).exp();
    let expm1_h_tau = (h * inv_beta).exp_m1();
    let regular = gamma * exp_h_tau_syn * expm1_h_tau;
    let p32 = if regular.is_normal() && regular > 0.0 { regular } else { h / c * (-h / tau).exp() };
    let h_min_regular = 1e-7 * tau * tau / (tau - tau_syn).abs();
    let p31 = if h > h_min_regular { gamma * exp_h_tau_syn * (beta * expm1_h_tau - h) } else { 0.5 * h * h / c * (-h / tau).exp() };
    (p31, p32)
}

/// An `iaf_psc_alpha_multisynapse` neuron (NEST's model): [`IafPscAlpha`] with receptor ports
/// (up to [`MAX_RECEPTORS`]), each an alpha-shaped current with its own time constant. A
/// weight `J` (pA, with its source's sign) is the current's peak, reached `τ_r` after the spike
/// arrives at port `r` ([`SynapticReceptor`]); input without a port ([`InputCurrent`]) acts on
/// port 1. Integrated exactly in NEST 3.10's order: `V ← P30·(I_stim + I_e) + P33·V`, then
/// `+ P31_r·I'_r + P32_r·I_r` port by port, then the lower bound; then each current advances
/// and this step's input adds `e/τ_r · J` to its slope; then the threshold.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, ReceptorCurrents, ReceptorCurrentSlopes, ReceptorInput)]
pub struct IafPscAlphaMultisynapse {
    /// Membrane parameters (`v_min_mv`: NEST's `V_min`).
    pub params: LifParams,
    /// Number of receptor ports, `1..=MAX_RECEPTORS`.
    pub receptors: u8,
    /// Each port's current time constant (the time of its peak), ms.
    pub tau_syn_ms: [f64; MAX_RECEPTORS],
    /// The step size the propagators are for, ms.
    pub dt_ms: f64,
    p33: f64,
    p30: f64,
    p11: [f64; MAX_RECEPTORS],
    p21: [f64; MAX_RECEPTORS],
    p31: [f64; MAX_RECEPTORS],
    p32: [f64; MAX_RECEPTORS],
    jump: [f64; MAX_RECEPTORS],
    refractory_steps: u32,
}

/// The slopes `dI/dt` of an [`IafPscAlphaMultisynapse`] neuron's port currents (index `r − 1`
/// for port `r`), pA/ms.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct ReceptorCurrentSlopes(pub [f64; MAX_RECEPTORS]);

biospike_core::persist_fields!(ReceptorCurrentSlopes { 0 });

impl IafPscAlphaMultisynapse {
    /// The neuron for steps of `dt_ms`, with one port per entry of `tau_syn_ms` (at most
    /// [`MAX_RECEPTORS`]; the rest are ignored).
    pub fn new(params: LifParams, tau_syn_ms: &[f64], dt_ms: f64) -> Self {
        let (tau, c, h) = (params.tau_m_ms, params.c_m_pf, dt_ms);
        let n = tau_syn_ms.len().min(MAX_RECEPTORS);
        let taus: [f64; MAX_RECEPTORS] = std::array::from_fn(|r| if r < n { tau_syn_ms[r] } else { 1.0 });
        let p33 = (-h / tau).exp();
        let p11: [f64; MAX_RECEPTORS] = std::array::from_fn(|r| if r < n { (-h / taus[r]).exp() } else { 0.0 });
        let p3: [(f64, f64); MAX_RECEPTORS] =
            std::array::from_fn(|r| if r < n { propagators_alpha(taus[r], tau, c, h) } else { (0.0, 0.0) });
        Self {
            params,
            receptors: n as u8,
            tau_syn_ms: taus,
            dt_ms,
            p33,
            p30: 1.0 / c * (1.0 - p33) * tau,
            p11,
            p21: std::array::from_fn(|r| h * p11[r]),
            p31: std::array::from_fn(|r| p3[r].0),
            p32: std::array::from_fn(|r| p3[r].1),
            jump: std::array::from_fn(|r| if r < n { 1.0 * std::f64::consts::E / taus[r] } else { 0.0 }),
            refractory_steps: (params.t_ref_ms / dt_ms).round().max(0.0) as u32,
        }
    }

    /// One step: `v` absolute mV, `refractory` steps left, the ports' currents (pA) and slopes
    /// (pA/ms), this step's input per port (pA, any sign) and the generator current in effect
    /// over the step (pA). Returns `(v, refractory, currents, slopes, spiked)`.
    #[inline]
    #[allow(clippy::type_complexity, reason = "the pure kernel returns each state variable")]
    pub fn step(
        &self,
        v: f64,
        refractory: u32,
        (i, di): (&[f64; MAX_RECEPTORS], &[f64; MAX_RECEPTORS]),
        input: &[f64; MAX_RECEPTORS],
        stim: f64,
    ) -> (f64, u32, [f64; MAX_RECEPTORS], [f64; MAX_RECEPTORS], bool) {
        let p = &self.params;
        let n = usize::from(self.receptors);
        let (mut y, mut r) = (v - p.e_l_mv, refractory);
        if r == 0 {
            y = self.p30 * (stim + p.i_e_pa) + self.p33 * y;
            for k in 0..n {
                y += self.p31[k] * di[k] + self.p32[k] * i[k];
            }
            let lower = p.v_min_mv - p.e_l_mv;
            y = if y < lower { lower } else { y };
        } else {
            r -= 1;
        }
        let (mut next_i, mut next_di) = ([0.0; MAX_RECEPTORS], [0.0; MAX_RECEPTORS]);
        for k in 0..n {
            next_i[k] = flush(self.p21[k] * di[k] + self.p11[k] * i[k]);
            next_di[k] = flush(di[k] * self.p11[k] + self.jump[k] * input[k]);
        }
        if y >= p.v_th_mv - p.e_l_mv {
            return (p.v_reset_mv, self.refractory_steps, next_i, next_di, true);
        }
        (y + p.e_l_mv, r, next_i, next_di, false)
    }
}

/// An `iaf_psc_alpha` neuron: leaky integrate-and-fire with alpha-shaped synaptic currents, one
/// for excitatory (positive) and one for inhibitory (negative) weights, each with its time
/// constant. A weight `J` (pA) is the current's peak, reached `τ_syn` after the spike arrives:
/// `I(t) = J · t/τ_syn · e^{1 − t/τ_syn}`. Integrated exactly as NEST 3.10 does: in each step
/// `V` moves with the currents and their slopes at the step's start, then the currents advance
/// and this step's input adds `e/τ_syn · J` to the slope (so an input acts on `V` from the next
/// step on, as for [`IafPscExp`]). Needs the signed delay-ring channels.
///
/// Immutable, with its parameter sets kept in [`ParameterBlocks`], as [`IafPscExp`].
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, SynapticCurrents, SynapticCurrentSlopes, InhibitoryInput, ParameterBlock)]
#[component(immutable, on_add = signed_channels, on_insert = blocks::intern::<IafPscAlpha>)]
pub struct IafPscAlpha {
    /// Membrane parameters (`v_min_mv` is NEST's `V_min`).
    pub params: LifParams,
    /// Excitatory current's rise time, ms. NEST default 2.
    pub tau_syn_ex_ms: f64,
    /// Inhibitory current's rise time, ms. NEST default 2.
    pub tau_syn_in_ms: f64,
    /// The step size the propagators are for, ms.
    pub dt_ms: f64,
    expm1_tau_m: f64,
    p30: f64,
    p11_ex: f64,
    p11_in: f64,
    p21_ex: f64,
    p21_in: f64,
    p31_ex: f64,
    p31_in: f64,
    p32_ex: f64,
    p32_in: f64,
    refractory_steps: u32,
}

impl IafPscAlpha {
    /// The neuron for steps of `dt_ms`.
    pub fn new(params: LifParams, tau_syn_ex_ms: f64, tau_syn_in_ms: f64, dt_ms: f64) -> Self {
        let (tau, c, h) = (params.tau_m_ms, params.c_m_pf, dt_ms);
        let expm1_tau_m = (-h / tau).exp_m1();
        let (p11_ex, p11_in) = ((-h / tau_syn_ex_ms).exp(), (-h / tau_syn_in_ms).exp());
        let (p31_ex, p32_ex) = propagators_alpha(tau_syn_ex_ms, tau, c, h);
        let (p31_in, p32_in) = propagators_alpha(tau_syn_in_ms, tau, c, h);
        Self {
            params,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            dt_ms,
            expm1_tau_m,
            p30: -tau / c * expm1_tau_m,
            p11_ex,
            p11_in,
            p21_ex: h * p11_ex,
            p21_in: h * p11_in,
            p31_ex,
            p31_in,
            p32_ex,
            p32_in,
            refractory_steps: (params.t_ref_ms / dt_ms).round().max(0.0) as u32,
        }
    }

    /// One step: `v` absolute mV, `refractory` steps left, the synaptic currents (pA) and their
    /// slopes (pA/ms), this step's excitatory and inhibitory input (pA, the latter negative) and
    /// the generator current in effect over the step (pA).
    /// Returns `(v, refractory, currents, slopes, spiked)`.
    #[inline]
    #[allow(clippy::too_many_arguments, reason = "the pure kernel takes each state variable and input by value")]
    pub fn step(
        &self,
        v: f64,
        refractory: u32,
        i: SynapticCurrents,
        di: SynapticCurrentSlopes,
        input_ex: f64,
        input_in: f64,
        stim: f64,
    ) -> (f64, u32, SynapticCurrents, SynapticCurrentSlopes, bool) {
        let p = &self.params;
        let (mut y, mut r) = (v - p.e_l_mv, refractory);
        if r == 0 {
            y = self.p30 * (stim + p.i_e_pa)
                + self.p31_ex * di.ex
                + self.p32_ex * i.ex
                + self.p31_in * di.inh
                + self.p32_in * i.inh
                + self.expm1_tau_m * y
                + y;
            y = y.max(p.v_min_mv - p.e_l_mv);
        } else {
            r -= 1;
        }
        let next_i = SynapticCurrents {
            ex: flush(self.p21_ex * di.ex + self.p11_ex * i.ex),
            inh: flush(self.p21_in * di.inh + self.p11_in * i.inh),
        };
        let next_di = SynapticCurrentSlopes {
            ex: flush(di.ex * self.p11_ex + std::f64::consts::E / self.tau_syn_ex_ms * input_ex),
            inh: flush(di.inh * self.p11_in + std::f64::consts::E / self.tau_syn_in_ms * input_in),
        };
        if y >= p.v_th_mv - p.e_l_mv {
            return (p.v_reset_mv, self.refractory_steps, next_i, next_di, true);
        }
        (y + p.e_l_mv, r, next_i, next_di, false)
    }
}

impl<'a> blocks::StepRun<AlphaColumns<'a>> for IafPscAlpha {
    /// [`Self::step`] over a run of neurons that all have this model: the same operations in
    /// the same order on every neuron (so the same bits), as selects instead of branches.
    #[inline(always)]
    fn step_run_with(&self, (v, r, spiked, (i, di), input, inh): AlphaColumns<'a>, held: impl Fn(usize) -> f64) {
        let n = v.len();
        let (r, spiked, i, di, input, inh) = (&mut r[..n], &mut spiked[..n], &mut i[..n], &mut di[..n], &input[..n], &inh[..n]);
        let p = &self.params;
        let (e_l, v_reset, above, floor) = (p.e_l_mv, p.v_reset_mv, p.v_th_mv - p.e_l_mv, p.v_min_mv - p.e_l_mv);
        let (kick_ex, kick_in) = (std::f64::consts::E / self.tau_syn_ex_ms, std::f64::consts::E / self.tau_syn_in_ms);
        // A local, not `self.refractory_steps` in the loop: read only where a neuron fires, the
        // field became a masked gather per eight neurons (39–48 % of a pass's `perf` samples;
        // BENCHMARKS round 21).
        let refractory_steps = self.refractory_steps;
        for k in 0..n {
            let (y, r0, c, d) = (v[k].0 - e_l, r[k].0, i[k], di[k]);
            let integrated = (self.p30 * (held(k) + p.i_e_pa)
                + self.p31_ex * d.ex
                + self.p32_ex * c.ex
                + self.p31_in * d.inh
                + self.p32_in * c.inh
                + self.expm1_tau_m * y
                + y)
                .max(floor);
            let y = if r0 == 0 { integrated } else { y };
            i[k] = SynapticCurrents {
                ex: flush(self.p21_ex * d.ex + self.p11_ex * c.ex),
                inh: flush(self.p21_in * d.inh + self.p11_in * c.inh),
            };
            di[k] = SynapticCurrentSlopes {
                ex: flush(d.ex * self.p11_ex + kick_ex * input[k].0),
                inh: flush(d.inh * self.p11_in + kick_in * inh[k].0),
            };
            let fired = y >= above;
            v[k].0 = if fired { v_reset } else { y + e_l };
            r[k].0 = if fired { refractory_steps } else { r0.saturating_sub(1) };
            spiked[k].0 = fired;
        }
    }
}

impl Blocked for IafPscAlpha {
    fn key(&self) -> Vec<u64> {
        lif_key(&self.params, &[self.tau_syn_ex_ms, self.tau_syn_in_ms, self.dt_ms])
    }
}

/// The slopes `dI/dt` of an [`IafPscAlpha`] neuron's synaptic currents, pA/ms.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct SynapticCurrentSlopes {
    /// Excitatory.
    pub ex: f64,
    /// Inhibitory (negative).
    pub inh: f64,
}

biospike_core::persist_fields!(SynapticCurrentSlopes { ex, inh });

/// An `iaf_cond_exp` neuron: leaky integrate-and-fire with exponentially decaying synaptic
/// conductances and reversal potentials (NEST's `iaf_cond_exp`, the COBA benchmark's model):
///
/// ```text
/// C_m dV/dt = −g_L (V − E_L) − g_ex (V − E_ex) − g_in (V − E_in) + I_e
/// dg_ex/dt = −g_ex / τ_ex,   dg_in/dt = −g_in / τ_in
/// ```
///
/// Positive weights add to `g_ex`, negative ones (inhibitory sources) their magnitude to `g_in`,
/// in nS, at the end of the step they arrive in (NEST's order: integrate, add the input, then
/// the refractory clamp or the threshold). The conductances decay exactly (`g ← g·e^{−h/τ}`);
/// `V` takes one classical Runge–Kutta step of `h` in which the conductances at the step's start,
/// middle and end are those exact values (NEST integrates all three adaptively with GSL's RKF45
/// to an absolute error of 1e-3). `V` stays within 1e-4 mV of NEST's traces and the spike
/// times are NEST's (`tests/lif_nest.rs`); the COBA network's statistics agree with NEST's over
/// seeds (`tests/brette_nest.rs`).
///
/// Immutable, with its parameter sets kept in [`ParameterBlocks`], as [`IafPscExp`].
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[require(Neuron, TakesStimulusCurrent, RefractorySteps, SynapticCurrents, InhibitoryInput, ParameterBlock)]
#[component(immutable, on_add = signed_channels, on_insert = blocks::intern::<IafCondExp>)]
pub struct IafCondExp {
    /// Resting potential, threshold, reset, refractory period, capacitance (pF), `I_e` (pA);
    /// `tau_m_ms` and `v_min_mv` are not used (`τ_m = C_m / g_L`).
    pub params: LifParams,
    /// Leak conductance, nS. NEST default 16.6667.
    pub g_l_ns: f64,
    /// Excitatory reversal potential, mV. NEST default 0.
    pub e_ex_mv: f64,
    /// Inhibitory reversal potential, mV. NEST default −85.
    pub e_in_mv: f64,
    /// Excitatory conductance time constant, ms. NEST default 0.2.
    pub tau_syn_ex_ms: f64,
    /// Inhibitory conductance time constant, ms. NEST default 2.
    pub tau_syn_in_ms: f64,
    /// The step size, ms.
    pub dt_ms: f64,
    refractory_steps: u32,
    inv_c_m: f64,
    decay_ex_half: f64,
    decay_ex: f64,
    decay_in_half: f64,
    decay_in: f64,
}

impl IafCondExp {
    /// The neuron for steps of `dt_ms`.
    pub fn new(params: LifParams, g_l_ns: f64, e_ex_mv: f64, e_in_mv: f64, tau_syn_ex_ms: f64, tau_syn_in_ms: f64, dt_ms: f64) -> Self {
        let refractory_steps = (params.t_ref_ms / dt_ms).round().max(0.0) as u32;
        Self {
            params,
            g_l_ns,
            e_ex_mv,
            e_in_mv,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            dt_ms,
            refractory_steps,
            inv_c_m: 1.0 / params.c_m_pf,
            decay_ex_half: (-dt_ms / (2.0 * tau_syn_ex_ms)).exp(),
            decay_ex: (-dt_ms / tau_syn_ex_ms).exp(),
            decay_in_half: (-dt_ms / (2.0 * tau_syn_in_ms)).exp(),
            decay_in: (-dt_ms / tau_syn_in_ms).exp(),
        }
    }

    /// One step: `v` mV, `refractory` steps left, the conductances (nS, in [`SynapticCurrents`]'
    /// fields), this step's input (positive and negative weight sums, nS) and the generator
    /// current in effect over the step (pA). Returns `(v, refractory, conductances, spiked)`.
    /// The conductances decay exactly; `V` takes one classical Runge–Kutta step over them, written
    /// `dV/dt = a(t) − b(t)·V` with `a`, `b` at the step's start, middle and end; `V` is held
    /// while refractory; divisions by `C_m` are multiplications by its reciprocal.
    #[inline]
    pub fn step(
        &self,
        v: f64,
        refractory: u32,
        g: SynapticCurrents,
        input_ex: f64,
        input_in: f64,
        stim: f64,
    ) -> (f64, u32, SynapticCurrents, bool) {
        let p = &self.params;
        let (ge_mid, gi_mid) = (g.ex * self.decay_ex_half, g.inh * self.decay_in_half);
        let (ge_end, gi_end) = (g.ex * self.decay_ex, g.inh * self.decay_in);
        let g_next = SynapticCurrents { ex: flush(ge_end + input_ex), inh: flush(gi_end - input_in) };
        if refractory > 0 {
            return (p.v_reset_mv, refractory - 1, g_next, false);
        }
        // dV/dt = a − b·V at the step's start, middle and end.
        let rest = self.g_l_ns * p.e_l_mv + p.i_e_pa + stim;
        let a = |ge: f64, gi: f64| (rest + ge * self.e_ex_mv + gi * self.e_in_mv) * self.inv_c_m;
        let b = |ge: f64, gi: f64| (self.g_l_ns + ge + gi) * self.inv_c_m;
        let h = self.dt_ms;
        let k1 = a(g.ex, g.inh) - b(g.ex, g.inh) * v;
        let k2 = a(ge_mid, gi_mid) - b(ge_mid, gi_mid) * (v + 0.5 * h * k1);
        let k3 = a(ge_mid, gi_mid) - b(ge_mid, gi_mid) * (v + 0.5 * h * k2);
        let k4 = a(ge_end, gi_end) - b(ge_end, gi_end) * (v + h * k3);
        let v = v + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        if v >= p.v_th_mv { (p.v_reset_mv, self.refractory_steps, g_next, true) } else { (v, 0, g_next, false) }
    }
}

impl<'a> blocks::StepRun<RunColumns<'a>> for IafCondExp {
    /// [`Self::step`] over a run of neurons that all have this model, neuron after neuron the
    /// same operations (the same bits); the loop has no branches, so the compiler runs several
    /// neurons per instruction.
    #[inline(always)]
    fn step_run_with(&self, (v, r, spiked, g, input, inh): RunColumns<'a>, held: impl Fn(usize) -> f64) {
        let n = v.len();
        let (r, spiked, g, input, inh) = (&mut r[..n], &mut spiked[..n], &mut g[..n], &input[..n], &inh[..n]);
        let p = &self.params;
        let (g_l, e_ex, e_in, inv_c) = (self.g_l_ns, self.e_ex_mv, self.e_in_mv, self.inv_c_m);
        let (dxh, dx, dih, di) = (self.decay_ex_half, self.decay_ex, self.decay_in_half, self.decay_in);
        let (leak, v_reset, v_th) = (g_l * p.e_l_mv + p.i_e_pa, p.v_reset_mv, p.v_th_mv);
        let (h, half_h, sixth_h) = (self.dt_ms, 0.5 * self.dt_ms, self.dt_ms / 6.0);
        // A local, not `self.refractory_steps` in the loop: read only where a neuron fires, the
        // field became a masked gather per eight neurons (39–48 % of a pass's `perf` samples;
        // BENCHMARKS round 21).
        let refractory_steps = self.refractory_steps;
        for k in 0..n {
            let (r0, c) = (r[k].0, g[k]);
            let still = r0 > 0;
            let rest = leak + held(k);
            let (ge_mid, gi_mid, ge_end, gi_end) = (c.ex * dxh, c.inh * dih, c.ex * dx, c.inh * di);
            // While refractory `y` is dropped (V stays at V_reset), so these selects change no
            // result; without them the pass measured 2–5 % slower (COBA, AMD EPYC).
            let a = |ge: f64, gi: f64| if still { 0.0 } else { (rest + ge * e_ex + gi * e_in) * inv_c };
            let b = |ge: f64, gi: f64| if still { 0.0 } else { (g_l + ge + gi) * inv_c };
            let (a0, b0, a1, b1, a2, b2) =
                (a(c.ex, c.inh), b(c.ex, c.inh), a(ge_mid, gi_mid), b(ge_mid, gi_mid), a(ge_end, gi_end), b(ge_end, gi_end));
            let v0 = if still { v_reset } else { v[k].0 };
            let k1 = a0 - b0 * v0;
            let k2 = a1 - b1 * (v0 + half_h * k1);
            let k3 = a1 - b1 * (v0 + half_h * k2);
            let k4 = a2 - b2 * (v0 + h * k3);
            let y = v0 + sixth_h * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            g[k] = SynapticCurrents { ex: flush(ge_end + input[k].0), inh: flush(gi_end - inh[k].0) };
            let fired = !still && y >= v_th;
            v[k].0 = if still || fired { v_reset } else { y };
            r[k].0 = if fired { refractory_steps } else { r0.saturating_sub(1) };
            spiked[k].0 = fired;
        }
    }
}

impl Blocked for IafCondExp {
    fn key(&self) -> Vec<u64> {
        lif_key(&self.params, &[self.g_l_ns, self.e_ex_mv, self.e_in_mv, self.tau_syn_ex_ms, self.tau_syn_in_ms, self.dt_ms])
    }
}

/// The synaptic currents of an [`IafPscExp`] neuron, pA (the conductances of an [`IafCondExp`]
/// one, nS).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct SynapticCurrents {
    /// Excitatory.
    pub ex: f64,
    /// Inhibitory (negative).
    pub inh: f64,
}

biospike_core::persist_fields!(SynapticCurrents { ex, inh });

/// Steps of the refractory period left.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefractorySteps(pub u32);

biospike_core::persist_fields!(RefractorySteps { 0 });

/// Runs [`IafPscDelta`] neurons in [`SimSystems::Neurons`] (from step 1 on: step 0 is the
/// initial condition).
#[derive(Debug, Default, Clone, Copy)]
pub struct LifPlugin;

impl Plugin for LifPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before LifPlugin");
        app.init_resource::<ParameterBlocks<IafPscDelta>>()
            .init_resource::<ParameterBlocks<IafPscExp>>()
            .init_resource::<ParameterBlocks<IafPscAlpha>>()
            .init_resource::<ParameterBlocks<IafCondExp>>();
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<RefractorySteps>(app, "lif.refractory");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<SynapticCurrents>(app, "lif.synaptic_currents");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<SynapticCurrentSlopes>(app, "lif.synaptic_current_slopes");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<ReceptorCurrents>(app, "lif.receptor_currents");
        biospike_core::checkpoint::CheckpointAppExt::persist_component::<ReceptorCurrentSlopes>(app, "lif.receptor_current_slopes");
        app.add_systems(
            SimSchedule,
            (
                integrate_lif,
                integrate_lif_exp,
                integrate_lif_exp_multisynapse,
                integrate_lif_alpha,
                integrate_lif_alpha_multisynapse,
                integrate_cond_exp,
            )
                .in_set(SimSystems::Neurons)
                .in_set(NeuronModelSystems)
                .ambiguous_with(NeuronModelSystems)
                .in_set(BuiltinSystems),
        );
        app.world_mut().resource_mut::<NeuronDescriptions>().register(describe);
    }
}

/// The model and parameters of a LIF neuron, NEST's names (for the viewer's neuron panel).
fn describe(world: &World, e: Entity) -> Option<String> {
    let membrane = |p: &LifParams| {
        format!(
            "τ_m = {} ms | C_m = {} pF | E_L = {} mV | V_th = {} mV | V_reset = {} mV | t_ref = {} ms | I_e = {} pA",
            p.tau_m_ms, p.c_m_pf, p.e_l_mv, p.v_th_mv, p.v_reset_mv, p.t_ref_ms, p.i_e_pa
        )
    };
    let ports = |taus: &[f64]| taus.iter().map(|t| format!("{t}")).collect::<Vec<_>>().join(", ");
    if let Some(n) = world.get::<IafPscDelta>(e) {
        return Some(format!("iaf_psc_delta: {}", membrane(&n.params)));
    }
    if let Some(n) = world.get::<IafPscExp>(e) {
        return Some(format!("iaf_psc_exp: {} | τ_syn = {} / {} ms", membrane(&n.params), n.tau_syn_ex_ms, n.tau_syn_in_ms));
    }
    if let Some(n) = world.get::<IafPscAlpha>(e) {
        return Some(format!("iaf_psc_alpha: {} | τ_syn = {} / {} ms", membrane(&n.params), n.tau_syn_ex_ms, n.tau_syn_in_ms));
    }
    if let Some(n) = world.get::<IafPscExpMultisynapse>(e) {
        let taus = ports(&n.tau_syn_ms[..usize::from(n.receptors)]);
        return Some(format!("iaf_psc_exp_multisynapse: {} | τ_syn per port = [{taus}] ms", membrane(&n.params)));
    }
    if let Some(n) = world.get::<IafPscAlphaMultisynapse>(e) {
        let taus = ports(&n.tau_syn_ms[..usize::from(n.receptors)]);
        return Some(format!("iaf_psc_alpha_multisynapse: {} | τ_syn per port = [{taus}] ms", membrane(&n.params)));
    }
    let n = world.get::<IafCondExp>(e)?;
    Some(format!(
        "iaf_cond_exp: {} | g_L = {} nS | E_ex / E_in = {} / {} mV | τ_syn = {} / {} ms",
        membrane(&n.params),
        n.g_l_ns,
        n.e_ex_mv,
        n.e_in_mv,
        n.tau_syn_ex_ms,
        n.tau_syn_in_ms
    ))
}

type LifColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    &'static InputCurrent,
    Option<&'static StimulusCurrent>,
    &'static ParameterBlock,
);

/// The state and input columns of a run of [`IafPscDelta`] neurons.
type DeltaColumns<'a> = (&'a mut [MembranePotential], &'a mut [RefractorySteps], &'a mut [SpikedThisStep], &'a [InputCurrent]);

/// [`DeltaColumns`] and the generator currents.
type DeltaState<'a> = (DeltaColumns<'a>, Option<&'a [StimulusCurrent]>);

fn integrate_lif(
    mut q: Query<LifColumns, With<IafPscDelta>>,
    clock: Res<SimClock>,
    blocks: Res<ParameterBlocks<IafPscDelta>>,
    mut at_dt: Local<blocks::AtStepSize<IafPscDelta>>,
) {
    if clock.step() == 0 {
        return;
    }
    let models = at_dt.get(&blocks, clock.dt_ms(), |m| m.dt_ms, |m, dt| IafPscDelta::new(m.params, dt));
    for (mut v, mut r, mut spiked, input, stim, block) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (v.bypass_change_detection(), r.bypass_change_detection(), spiked.bypass_change_detection(), input, stim, block);
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, input, stim, block)| {
            delta_rows(((v, r, spiked, input), stim), block, models);
        });
    }
}

biospike_runtime::avx512_kernel!(
    fn delta_rows<'a>(state: DeltaState<'a>, block: &'a [ParameterBlock], models: &'a [IafPscDelta]) = blocks::step_runs;
);

type LifExpColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    &'static mut SynapticCurrents,
    &'static InputCurrent,
    &'static InhibitoryInput,
    Option<&'static StimulusCurrent>,
    &'static ParameterBlock,
);

/// The state and input columns of a run of [`IafPscExp`] (or [`IafCondExp`]) neurons.
type RunColumns<'a> = (
    &'a mut [MembranePotential],
    &'a mut [RefractorySteps],
    &'a mut [SpikedThisStep],
    &'a mut [SynapticCurrents],
    &'a [InputCurrent],
    &'a [InhibitoryInput],
);

/// [`RunColumns`] and the generator currents.
type LifExpState<'a> = (RunColumns<'a>, Option<&'a [StimulusCurrent]>);

fn integrate_lif_exp(
    mut q: Query<LifExpColumns, With<IafPscExp>>,
    clock: Res<SimClock>,
    blocks: Res<ParameterBlocks<IafPscExp>>,
    mut at_dt: Local<blocks::AtStepSize<IafPscExp>>,
) {
    if clock.step() == 0 {
        return;
    }
    let models = at_dt.get(&blocks, clock.dt_ms(), |m| m.dt_ms, |m, dt| IafPscExp::new(m.params, m.tau_syn_ex_ms, m.tau_syn_in_ms, dt));
    for (mut v, mut r, mut spiked, mut i, input, inh, stim, block) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (
            v.bypass_change_detection(),
            r.bypass_change_detection(),
            spiked.bypass_change_detection(),
            i.bypass_change_detection(),
            (input, inh),
            stim,
            block,
        );
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, i, (input, inh), stim, block)| {
            lif_exp_rows(((v, r, spiked, i, input, inh), stim), block, models);
        });
    }
}

biospike_runtime::avx512_kernel!(
    fn lif_exp_rows<'a>(state: LifExpState<'a>, block: &'a [ParameterBlock], models: &'a [IafPscExp]) = blocks::step_runs;
);

type LifExpMultisynapseColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    &'static mut ReceptorCurrents,
    &'static InputCurrent,
    &'static ReceptorInput,
    Option<&'static StimulusCurrent>,
    &'static IafPscExpMultisynapse,
);

fn integrate_lif_exp_multisynapse(mut q: Query<LifExpMultisynapseColumns>, clock: Res<SimClock>) {
    if clock.step() == 0 {
        return;
    }
    let dt = clock.dt_ms();
    for (mut v, mut r, mut spiked, mut i, input, ports, stim, neuron) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (
            v.bypass_change_detection(),
            r.bypass_change_detection(),
            spiked.bypass_change_detection(),
            i.bypass_change_detection(),
            (input, ports),
            stim,
            neuron,
        );
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, i, (input, ports), stim, neuron)| {
            let n = v.len();
            let (r, spiked, i, input, ports, stim, neuron) =
                (&mut r[..n], &mut spiked[..n], &mut i[..n], &input[..n], &ports[..n], stim.map(|s| &s[..n]), &neuron[..n]);
            for k in 0..n {
                let rebuilt;
                let model = if neuron[k].dt_ms == dt {
                    &neuron[k]
                } else {
                    let m = &neuron[k];
                    rebuilt = IafPscExpMultisynapse::new(m.params, &m.tau_syn_ms[..usize::from(m.receptors)], dt);
                    &rebuilt
                };
                let due = ports[k].with_unported(input[k].0);
                let (v1, r1, i1, s1) = model.step(v[k].0, r[k].0, &i[k].0, &due, StimulusCurrent::held_in(stim, k));
                (v[k].0, r[k].0, i[k].0, spiked[k].0) = (v1, r1, i1, s1);
            }
        });
    }
}

type LifAlphaMultisynapseColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    (&'static mut ReceptorCurrents, &'static mut ReceptorCurrentSlopes),
    &'static InputCurrent,
    &'static ReceptorInput,
    Option<&'static StimulusCurrent>,
    &'static IafPscAlphaMultisynapse,
);

fn integrate_lif_alpha_multisynapse(mut q: Query<LifAlphaMultisynapseColumns>, clock: Res<SimClock>) {
    if clock.step() == 0 {
        return;
    }
    let dt = clock.dt_ms();
    for (mut v, mut r, mut spiked, (mut i, mut di), input, ports, stim, neuron) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (
            v.bypass_change_detection(),
            r.bypass_change_detection(),
            spiked.bypass_change_detection(),
            (i.bypass_change_detection(), di.bypass_change_detection()),
            (input, ports),
            stim,
            neuron,
        );
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, (i, di), (input, ports), stim, neuron)| {
            let n = v.len();
            let (r, spiked, i, di, input, ports, stim, neuron) =
                (&mut r[..n], &mut spiked[..n], &mut i[..n], &mut di[..n], &input[..n], &ports[..n], stim.map(|s| &s[..n]), &neuron[..n]);
            for k in 0..n {
                let rebuilt;
                let model = if neuron[k].dt_ms == dt {
                    &neuron[k]
                } else {
                    let m = &neuron[k];
                    rebuilt = IafPscAlphaMultisynapse::new(m.params, &m.tau_syn_ms[..usize::from(m.receptors)], dt);
                    &rebuilt
                };
                let due = ports[k].with_unported(input[k].0);
                let out = model.step(v[k].0, r[k].0, (&i[k].0, &di[k].0), &due, StimulusCurrent::held_in(stim, k));
                (v[k].0, r[k].0, i[k].0, di[k].0, spiked[k].0) = out;
            }
        });
    }
}

type LifAlphaColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    &'static mut SynapticCurrents,
    &'static mut SynapticCurrentSlopes,
    &'static InputCurrent,
    &'static InhibitoryInput,
    Option<&'static StimulusCurrent>,
    &'static ParameterBlock,
);

/// The state and input columns of a run of [`IafPscAlpha`] neurons.
type AlphaColumns<'a> = (
    &'a mut [MembranePotential],
    &'a mut [RefractorySteps],
    &'a mut [SpikedThisStep],
    (&'a mut [SynapticCurrents], &'a mut [SynapticCurrentSlopes]),
    &'a [InputCurrent],
    &'a [InhibitoryInput],
);

/// [`AlphaColumns`] and the generator currents.
type AlphaState<'a> = (AlphaColumns<'a>, Option<&'a [StimulusCurrent]>);

fn integrate_lif_alpha(
    mut q: Query<LifAlphaColumns, With<IafPscAlpha>>,
    clock: Res<SimClock>,
    blocks: Res<ParameterBlocks<IafPscAlpha>>,
    mut at_dt: Local<blocks::AtStepSize<IafPscAlpha>>,
) {
    if clock.step() == 0 {
        return;
    }
    let models = at_dt.get(&blocks, clock.dt_ms(), |m| m.dt_ms, |m, dt| IafPscAlpha::new(m.params, m.tau_syn_ex_ms, m.tau_syn_in_ms, dt));
    for (mut v, mut r, mut spiked, mut i, mut di, input, inh, stim, block) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (
            v.bypass_change_detection(),
            r.bypass_change_detection(),
            spiked.bypass_change_detection(),
            (i.bypass_change_detection(), di.bypass_change_detection()),
            (input, inh),
            stim,
            block,
        );
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, i, (input, inh), stim, block)| {
            alpha_rows(((v, r, spiked, i, input, inh), stim), block, models);
        });
    }
}

biospike_runtime::avx512_kernel!(
    fn alpha_rows<'a>(state: AlphaState<'a>, block: &'a [ParameterBlock], models: &'a [IafPscAlpha]) = blocks::step_runs;
);

type CondExpColumns = (
    &'static mut MembranePotential,
    &'static mut RefractorySteps,
    &'static mut SpikedThisStep,
    &'static mut SynapticCurrents,
    &'static InputCurrent,
    &'static InhibitoryInput,
    Option<&'static StimulusCurrent>,
    &'static ParameterBlock,
);

fn integrate_cond_exp(mut q: Query<CondExpColumns, With<IafCondExp>>, clock: Res<SimClock>, blocks: Res<ParameterBlocks<IafCondExp>>) {
    if clock.step() == 0 {
        return;
    }
    let models = blocks.models();
    for (mut v, mut r, mut spiked, mut g, input, inh, stim, block) in
        q.contiguous_iter_mut().expect("LIF components are table-stored, so the query is dense")
    {
        let rows = (
            v.bypass_change_detection(),
            r.bypass_change_detection(),
            spiked.bypass_change_detection(),
            g.bypass_change_detection(),
            (input, inh),
            stim,
            block,
        );
        biospike_runtime::rows::for_each_chunk(rows, |(v, r, spiked, g, (input, inh), stim, block)| {
            cond_exp_rows(((v, r, spiked, g, input, inh), stim), block, models);
        });
    }
}

/// The state and input columns of a run of [`IafCondExp`] neurons (the same as
/// [`IafPscExp`]'s: `SynapticCurrents` holds the conductances).
type CondExpState<'a> = LifExpState<'a>;

biospike_runtime::avx512_kernel!(
    fn cond_exp_rows<'a>(state: CondExpState<'a>, block: &'a [ParameterBlock], models: &'a [IafCondExp]) = blocks::step_runs;
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::StepRun;

    /// Without input the membrane relaxes to `E_L + τ_m/C_m · I_e` geometrically, exactly.
    #[test]
    fn the_step_is_the_exact_solution() {
        let p = LifParams { i_e_pa: 100.0, v_th_mv: 0.0, ..LifParams::default() };
        let n = IafPscDelta::new(p, 0.1);
        let mut v = -70.0;
        for _ in 0..1000 {
            v = n.step(v, 0, 0.0, 0.0).0;
        }
        let v_inf = -70.0 + 10.0 / 250.0 * 100.0;
        let exact = v_inf + (-70.0 - v_inf) * (-100.0f64 / 10.0).exp();
        approx::assert_relative_eq!(v, exact, epsilon = 1e-12);
    }

    /// A spike resets, then `t_ref / h` steps ignore input and hold `V_reset`.
    #[test]
    fn refractory_steps_hold_the_reset() {
        let n = IafPscDelta::new(LifParams::default(), 0.1);
        let (v, r, spiked) = n.step(-60.0, 0, 20.0, 0.0);
        assert!(spiked);
        assert_eq!((v, r), (-70.0, 20));
        let (v, r, _) = n.step(v, r, 30.0, 0.0);
        assert_eq!((v, r), (-70.0, 19), "input during the refractory period is ignored");
    }

    /// The input and generator current of neuron `k` in `step`: bursts, silences, both signs.
    fn drive(k: usize, step: u32) -> (f64, f64, f64) {
        let k32 = k as u32;
        let ex = if (step + k32).is_multiple_of(7) { 40.0 + k as f64 } else { 0.0 };
        let inh = if (step * 3 + k32).is_multiple_of(17) { -90.0 } else { 0.0 };
        (ex, inh, 120.0 * f64::from(step % 3) * (k % 4) as f64)
    }

    /// Runs `step_run` and the per-neuron `step` side by side on `n` neurons (with and without
    /// generator currents) and asserts the same bits every step; returns the spikes.
    fn run_matches_scalar(
        n: usize,
        steps: u32,
        scalar: impl Fn(usize, (f64, u32, SynapticCurrents), (f64, f64, f64)) -> (f64, u32, SynapticCurrents, bool),
        run: impl Fn(LifExpState<'_>),
    ) -> u32 {
        let mut spikes = 0;
        for with_stim in [false, true] {
            let mut one: Vec<(f64, u32, SynapticCurrents)> = (0..n).map(|k| (-70.0 + k as f64, 0, SynapticCurrents::default())).collect();
            let mut v: Vec<MembranePotential> = one.iter().map(|x| MembranePotential(x.0)).collect();
            let mut r = vec![RefractorySteps(0); n];
            let mut spiked = vec![SpikedThisStep(false); n];
            let mut i = vec![SynapticCurrents::default(); n];
            for step in 0..steps {
                let inputs: Vec<_> = (0..n).map(|k| drive(k, step)).map(|(e, h, s)| (e, h, if with_stim { s } else { 0.0 })).collect();
                let input: Vec<_> = inputs.iter().map(|x| InputCurrent(x.0)).collect();
                let inh: Vec<_> = inputs.iter().map(|x| InhibitoryInput(x.1)).collect();
                let stim: Vec<_> = inputs.iter().map(|x| StimulusCurrent { now: 0.0, held: x.2 }).collect();
                run(((&mut v, &mut r, &mut spiked, &mut i, &input, &inh), with_stim.then_some(&stim[..])));
                for k in 0..n {
                    let (v1, r1, i1, s1) = scalar(k, one[k], inputs[k]);
                    one[k] = (v1, r1, i1);
                    assert_eq!(v1.to_bits(), v[k].0.to_bits(), "V of neuron {k} at step {step}");
                    assert_eq!((r1, i1, s1), (r[k].0, i[k], spiked[k].0), "neuron {k} at step {step}");
                    spikes += u32::from(s1);
                }
            }
        }
        spikes
    }

    /// The branch-free run loops give the bits of the one-neuron steps, refractory periods and
    /// generator currents included (27 neurons: three vectors' worth and a remainder).
    #[test]
    fn runs_give_the_scalar_bits() {
        let base = LifParams {
            e_l_mv: -65.0,
            v_th_mv: -50.0,
            v_reset_mv: -60.0,
            c_m_pf: 200.0,
            t_ref_ms: 2.0,
            i_e_pa: 400.0,
            ..LifParams::default()
        };
        let exp = IafPscExp::new(base, 2.0, 5.0, 0.1);
        let spikes =
            run_matches_scalar(27, 3000, |_, (v, r, i), (ex, inh, stim)| exp.step(v, r, i, ex, inh, stim), |state| exp.step_run(state));
        assert!(spikes > 50, "{spikes} spikes");
        let delta = IafPscDelta::new(LifParams { v_min_mv: -72.0, ..base }, 0.1);
        let spikes = run_matches_scalar(
            27,
            3000,
            |_, (v, r, i), (ex, inh, stim)| {
                let (v, r, s) = delta.step(v, r, (ex + inh) / 20.0, stim);
                (v, r, i, s)
            },
            |((v, r, spiked, _, input, inh), stim)| {
                let jump: Vec<_> = input.iter().zip(inh).map(|(e, i)| InputCurrent((e.0 + i.0) / 20.0)).collect();
                delta.step_run(((v, r, spiked, &jump), stim));
            },
        );
        assert!(spikes > 50, "{spikes} spikes");
        let alpha = IafPscAlpha::new(LifParams { v_min_mv: -75.0, ..base }, 2.0, 5.0, 0.1);
        let slopes = std::cell::RefCell::new((vec![SynapticCurrentSlopes::default(); 27], vec![SynapticCurrentSlopes::default(); 27]));
        let spikes = run_matches_scalar(
            27,
            3000,
            |k, (v, r, i), (ex, inh, stim)| {
                let di = &mut slopes.borrow_mut().0[k];
                let (v, r, i, d, s) = alpha.step(v, r, i, *di, ex, inh, stim);
                *di = d;
                (v, r, i, s)
            },
            |((v, r, spiked, i, input, inh), stim)| alpha.step_run(((v, r, spiked, (i, &mut slopes.borrow_mut().1), input, inh), stim)),
        );
        assert!(spikes > 50, "{spikes} spikes");
        let (one, run) = &*slopes.borrow();
        assert_eq!(one, run);
        let cond = IafCondExp::new(base, 10.0, 0.0, -80.0, 5.0, 10.0, 0.1);
        let spikes = run_matches_scalar(
            27,
            3000,
            |_, (v, r, g), (ex, inh, stim)| cond.step(v, r, g, ex / 10.0, inh / 10.0, stim),
            |((v, r, spiked, g, input, inh), stim)| {
                let input: Vec<_> = input.iter().map(|x| InputCurrent(x.0 / 10.0)).collect();
                let inh: Vec<_> = inh.iter().map(|x| InhibitoryInput(x.0 / 10.0)).collect();
                cond.step_run(((v, r, spiked, g, &input, &inh), stim));
            },
        );
        assert!(spikes > 50, "{spikes} spikes");
    }

    /// A neuron's parameter set is interned when it is spawned and again when a new model is
    /// inserted; the step uses the new set from then on.
    #[test]
    fn inserting_a_new_model_changes_the_block() {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), LifPlugin));
        let quiet = IafPscExp::new(LifParams::default(), 2.0, 2.0, 0.1);
        let driven = IafPscExp::new(LifParams { i_e_pa: 2000.0, ..LifParams::default() }, 2.0, 2.0, 0.1);
        let e = app.world_mut().spawn((quiet, NeuronId(0), MembranePotential(-70.0))).id();
        let other = app.world_mut().spawn((quiet, NeuronId(1), MembranePotential(-70.0))).id();
        let spikes = |app: &mut App| {
            let mut n = 0;
            for _ in 0..200 {
                step_simulation(app.world_mut());
                n += app.world().resource::<StepSpikes>().ids.len();
            }
            n
        };
        assert_eq!(spikes(&mut app), 0);
        app.world_mut().entity_mut(e).insert(driven);
        assert_eq!(app.world().get::<ParameterBlock>(e), Some(&ParameterBlock(1)));
        assert_eq!(app.world().get::<ParameterBlock>(other), Some(&ParameterBlock(0)));
        let n = spikes(&mut app);
        assert!(n >= 4, "{n} spikes");
        // The same set again is the same block.
        app.world_mut().entity_mut(other).insert(driven);
        assert_eq!(app.world().get::<ParameterBlock>(other), Some(&ParameterBlock(1)));
        assert_eq!(app.world().resource::<ParameterBlocks<IafPscExp>>().len(), 2);
    }

    /// The viewer's neuron panel names every model with its parameters.
    #[test]
    fn every_model_is_described() {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), LifPlugin));
        let p = LifParams::default();
        let world = app.world_mut();
        let cases = [
            (world.spawn(IafPscDelta::new(p, 0.1)).id(), "iaf_psc_delta: τ_m = 10 ms"),
            (world.spawn(IafPscExp::new(p, 2.0, 3.0, 0.1)).id(), "iaf_psc_exp: τ_m = 10 ms"),
            (world.spawn(IafPscAlpha::new(p, 2.0, 3.0, 0.1)).id(), "iaf_psc_alpha:"),
            (world.spawn(IafPscExpMultisynapse::new(p, &[0.5, 2.0], 0.1)).id(), "τ_syn per port = [0.5, 2] ms"),
            (world.spawn(IafPscAlphaMultisynapse::new(p, &[1.0], 0.1)).id(), "iaf_psc_alpha_multisynapse:"),
            (world.spawn(IafCondExp::new(p, 16.0, 0.0, -85.0, 0.2, 2.0, 0.1)).id(), "E_ex / E_in = 0 / -85 mV"),
        ];
        let world = app.world();
        for (e, expected) in cases {
            let text = world.resource::<NeuronDescriptions>().describe(world, e).unwrap_or_default();
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }

    /// A current left to decay reaches 0, never a subnormal number (on which arithmetic is
    /// about a hundred times slower): after 1 500 time constants of silence it is exactly 0.
    #[test]
    fn decayed_currents_flush_to_zero() {
        let n = IafPscExp::new(LifParams::default(), 0.5, 0.5, 0.1);
        let (mut v, mut r, mut i) = (-70.0, 0, SynapticCurrents { ex: 1000.0, inh: -1000.0 });
        for _ in 0..7_500 {
            (v, r, i, _) = n.step(v, r, i, 0.0, 0.0, 0.0);
            assert!(i.ex == 0.0 || i.ex.is_normal(), "subnormal {}", i.ex);
            assert!(i.inh == 0.0 || i.inh.is_normal(), "subnormal {}", i.inh);
        }
        assert_eq!((i.ex, i.inh), (0.0, 0.0));
    }
}
