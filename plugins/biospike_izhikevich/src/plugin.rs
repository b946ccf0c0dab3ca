use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_runtime::rows::{Rows, for_each_chunk};
#[cfg(target_arch = "x86_64")]
use bytemuck::TransparentWrapper;

use crate::kernel::{IntegrationScheme, IzhikevichParams, LANES, izhikevich_half_step_lanes, izhikevich_step};
use crate::{Excitability, InputCurrent};

/// Marks an Izhikevich neuron; spawning it adds every state component it needs
/// (parameters default to regular spiking). [`NeuronId`] is assigned by the spawner.
#[derive(Component, Clone, Copy, Debug, Default)]
#[require(Neuron, IzhikevichParams)]
pub struct IzhikevichNeuron;

/// Tunable parameters of [`IzhikevichPlugin`].
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct IzhikevichSettings {
    /// Integration scheme. Default: [`IntegrationScheme::HalfStep`] with 2 substeps (2003).
    pub scheme: IntegrationScheme,
    /// Spike threshold (peak), in mV. Default: `30.0`.
    pub threshold_mv: f64,
}

impl Default for IzhikevichSettings {
    fn default() -> Self {
        Self { scheme: IntegrationScheme::default(), threshold_mv: 30.0 }
    }
}

/// Integrates every [`IzhikevichNeuron`] once per step in [`SimSystems::Neurons`].
#[derive(Debug, Default, Clone, Copy)]
pub struct IzhikevichPlugin;

impl Plugin for IzhikevichPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before IzhikevichPlugin");
        app.init_resource::<IzhikevichSettings>();
        app.add_systems(
            SimSchedule,
            integrate_membrane
                .in_set(SimSystems::Neurons)
                .in_set(NeuronModelSystems)
                .ambiguous_with(NeuronModelSystems)
                .in_set(BuiltinSystems),
        );
        app.world_mut().resource_mut::<NeuronDescriptions>().register(describe);
    }
}

/// `a`, `b`, `c`, `d` of an Izhikevich neuron, for [`NeuronDescriptions`].
fn describe(world: &World, e: Entity) -> Option<String> {
    let p = world.get::<IzhikevichParams>(e).filter(|_| world.get::<IzhikevichNeuron>(e).is_some())?;
    Some(format!("Izhikevich: a = {:.4} | b = {:.4} | c = {:.2} mV | d = {:.3}", p.a, p.b, p.c, p.d))
}

/// The columns one integration step reads and writes.
type NeuronColumns = (
    &'static mut MembranePotential,
    &'static mut RecoveryVariable,
    &'static mut SpikedThisStep,
    &'static InputCurrent,
    &'static Excitability,
    &'static IzhikevichParams,
);

/// Advances every Izhikevich neuron by one step, table column by table column. `v`, `u` and
/// the spike flag are written without change detection (scratch state rewritten every step;
/// `Changed<MembranePotential>` does not fire for the built-in update).
fn integrate_membrane(mut q: Query<NeuronColumns, With<IzhikevichNeuron>>, clock: Res<SimClock>, settings: Res<IzhikevichSettings>) {
    let dt = clock.dt_ms();
    let IzhikevichSettings { scheme, threshold_mv } = *settings;
    let tables = q.contiguous_iter_mut().expect("Izhikevich components are table-stored, so the query is dense");
    for (mut v, mut u, mut spiked, input, excitability, params) in tables {
        let rows =
            (v.bypass_change_detection(), u.bypass_change_detection(), spiked.bypass_change_detection(), input, excitability, params);
        // The published scheme gets its own instance with the sub-step count as a constant,
        // so the kernel is unrolled and the scheme match leaves the per-neuron loop.
        match scheme {
            IntegrationScheme::HalfStep { v_substeps: 2 } => for_each_chunk(rows, |r| integrate_rows_fastest(r, dt, threshold_mv)),
            other => for_each_chunk(rows, |r| integrate_rows(r, dt, other, threshold_mv)),
        }
    }
}

type Columns<'a> = (
    &'a mut [MembranePotential],
    &'a mut [RecoveryVariable],
    &'a mut [SpikedThisStep],
    &'a [InputCurrent],
    &'a [Excitability],
    &'a [IzhikevichParams],
);

/// The published scheme, [`LANES`] neurons at a time (bit-identical to [`izhikevich_step`]);
/// the last `n % LANES` rows go through the scalar kernel.
#[inline(always)]
fn published_rows(columns: Columns<'_>, dt: f64, threshold_mv: f64) {
    let n = columns.0.len();
    let (head, tail) = columns.split_rows(n - n % LANES);
    let (v, u, spiked, input, excitability, params) = head;
    let chunks = v
        .chunks_exact_mut(LANES)
        .zip(u.chunks_exact_mut(LANES))
        .zip(spiked.chunks_exact_mut(LANES))
        .zip(input.chunks_exact(LANES).zip(excitability.chunks_exact(LANES)).zip(params.chunks_exact(LANES)));
    for (((v, u), spiked), ((input, excitability), params)) in chunks {
        let (mut lv, mut lu, mut li) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
        let mut lp = [&params[0]; LANES];
        for l in 0..LANES {
            (lv[l], lu[l], li[l], lp[l]) = (v[l].0, u[l].0, excitability[l].0 * input[l].0, &params[l]);
        }
        let (nv, nu, fired) = izhikevich_half_step_lanes(lv, lu, li, lp, dt, threshold_mv);
        for l in 0..LANES {
            v[l].0 = nv[l];
            u[l].0 = nu[l];
            spiked[l].0 = fired[l];
        }
    }
    integrate_rows(tail, dt, IntegrationScheme::HalfStep { v_substeps: 2 }, threshold_mv);
}

biospike_runtime::avx2_kernel!(
    fn integrate_rows_published<'a>(columns: Columns<'a>, dt: f64, threshold_mv: f64) = published_rows;
);

/// The published scheme on the fastest kernel this CPU runs: [`published_rows_x8`] with
/// AVX-512, else [`integrate_rows_published`] (bit-identical).
fn integrate_rows_fastest(columns: Columns<'_>, dt: f64, threshold_mv: f64) {
    #[cfg(target_arch = "x86_64")]
    if biospike_runtime::simd::has_avx512() && std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: the CPU reported AVX-512 F, DQ, VL and BMI2 just above (AVX-512 implies AVX2).
        #[allow(unsafe_code, reason = "calling the AVX-512 copy after the CPU reported the features")]
        unsafe {
            published_rows_x8(columns, dt, threshold_mv);
        }
        return;
    }
    integrate_rows_published(columns, dt, threshold_mv);
}

/// The published scheme eight neurons at a time with [`crate::x8::izhikevich_half_step_x8`];
/// the last `n % 8` rows go through the scalar kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,bmi2")]
fn published_rows_x8(columns: Columns<'_>, dt: f64, threshold_mv: f64) {
    let n = columns.0.len();
    let (head, tail) = columns.split_rows(n - n % 8);
    let (v, u, spiked, input, excitability, params) = head;
    // The columns as plain `f64` (the components are `repr(transparent)`), so that the kernel
    // loads eight rows at once instead of copying them lane by lane.
    let v = MembranePotential::peel_slice_mut(v).as_chunks_mut::<8>().0;
    let u = RecoveryVariable::peel_slice_mut(u).as_chunks_mut::<8>().0;
    let input = InputCurrent::peel_slice(input).as_chunks::<8>().0;
    let excitability = Excitability::peel_slice(excitability).as_chunks::<8>().0;
    let chunks = v.iter_mut().zip(u).zip(spiked.chunks_exact_mut(8)).zip(input.iter().zip(excitability).zip(params.as_chunks::<8>().0));
    for (((v, u), spiked), ((input, excitability), params)) in chunks {
        let fired = crate::x8::izhikevich_half_step_x8(v, u, input, excitability, params, dt, threshold_mv);
        // One byte per lane in a general register: the compiler's own spread of the bits went
        // through a vector register and the stack (a stalled store-to-load forward each time).
        let bytes = core::arch::x86_64::_pdep_u64(u64::from(fired), 0x0101_0101_0101_0101);
        for (l, s) in spiked.iter_mut().enumerate() {
            s.0 = (bytes >> (8 * l)) & 1 != 0;
        }
    }
    integrate_rows(tail, dt, IntegrationScheme::HalfStep { v_substeps: 2 }, threshold_mv);
}

#[inline(always)]
fn integrate_rows((v, u, spiked, input, excitability, params): Columns<'_>, dt: f64, scheme: IntegrationScheme, threshold_mv: f64) {
    let n = v.len();
    let (u, spiked, input, excitability, params) = (&mut u[..n], &mut spiked[..n], &input[..n], &excitability[..n], &params[..n]);
    for k in 0..n {
        let i = excitability[k].0 * input[k].0;
        let (nv, nu, fired) = izhikevich_step(v[k].0, u[k].0, i, &params[k], dt, scheme, threshold_mv);
        v[k].0 = nv;
        u[k].0 = nu;
        spiked[k].0 = fired;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_with_neuron(input: f64) -> (App, Entity) {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(1.0), 1), IzhikevichPlugin));
        let e = app.world_mut().spawn((IzhikevichNeuron, NeuronId(0))).id();
        app.add_systems(
            SimSchedule,
            (move |mut q: Query<&mut InputCurrent>| {
                if let Ok(mut i) = q.get_mut(e) {
                    i.0 += input;
                }
            })
            .in_set(InputSystems::Drive),
        );
        (app, e)
    }

    /// The system must give the kernel's numbers: same state after 50 steps.
    #[test]
    fn system_matches_kernel() {
        let (mut app, e) = world_with_neuron(7.0);
        let (mut v, mut u) = (-65.0, -13.0);
        let p = IzhikevichParams::REGULAR_SPIKING;
        for _ in 0..50 {
            step_simulation(app.world_mut());
            (v, u, _) = izhikevich_step(v, u, 7.0, &p, 1.0, IntegrationScheme::default(), 30.0);
        }
        assert_eq!(app.world().get::<MembranePotential>(e).map(|x| x.0), Some(v));
        assert_eq!(app.world().get::<RecoveryVariable>(e).map(|x| x.0), Some(u));
    }

    /// Excitability scales the input: E = 0 silences a driven neuron, E = 1 lets it fire.
    #[test]
    fn excitability_scales_input() {
        for (e_val, expect_spikes) in [(0.0, false), (1.0, true)] {
            let (mut app, e) = world_with_neuron(10.0);
            app.world_mut().entity_mut(e).insert(Excitability(e_val));
            let mut n = 0;
            for _ in 0..300 {
                step_simulation(app.world_mut());
                n += app.world().resource::<StepSpikes>().ids.len();
            }
            assert_eq!(n > 0, expect_spikes, "E = {e_val}: {n} spikes");
        }
    }
}
