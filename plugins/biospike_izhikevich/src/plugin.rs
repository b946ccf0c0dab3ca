use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use bevy_ecs::query::QueryData;
use biospike_core::prelude::*;

use crate::kernel::{IntegrationScheme, IzhikevichParams, izhikevich_step};
use crate::{Excitability, InputCurrent};

/// Marks an Izhikevich neuron; spawning it adds every state component it needs
/// (parameters default to regular spiking). [`NeuronId`] is assigned by the spawner.
#[derive(Component, Clone, Copy, Debug, Default)]
#[require(
    IzhikevichParams,
    MembranePotential,
    RecoveryVariable,
    InputCurrent,
    Excitability,
    SpikedThisStep,
    LastSpikeStep,
    PopulationId,
    Position
)]
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
        app.add_systems(SimSchedule, integrate_membrane.in_set(SimSystems::Neurons));
    }
}

/// The per-neuron state one integration step reads and writes.
#[derive(QueryData)]
#[query_data(mutable)]
struct NeuronStateMut {
    v: &'static mut MembranePotential,
    u: &'static mut RecoveryVariable,
    spiked: &'static mut SpikedThisStep,
    input: &'static InputCurrent,
    excitability: &'static Excitability,
    params: &'static IzhikevichParams,
}

fn integrate_membrane(mut q: Query<NeuronStateMut, With<IzhikevichNeuron>>, clock: Res<SimClock>, settings: Res<IzhikevichSettings>) {
    let dt = clock.dt_ms();
    let IzhikevichSettings { scheme, threshold_mv } = *settings;
    // The published scheme gets its own loop with the sub-step count as a constant, so the
    // kernel is unrolled and the scheme match leaves the per-neuron loop.
    macro_rules! sweep {
        ($scheme:expr) => {
            biospike_core::for_each_entity_mut!(q, |mut n: NeuronStateMutItem| {
                let i = n.excitability.0 * n.input.0;
                let (v, u, fired) = izhikevich_step(n.v.0, n.u.0, i, n.params, dt, $scheme, threshold_mv);
                n.v.0 = v;
                n.u.0 = u;
                if n.spiked.0 != fired {
                    n.spiked.0 = fired;
                }
            })
        };
    }
    match scheme {
        IntegrationScheme::HalfStep { v_substeps: 2 } => sweep!(IntegrationScheme::HalfStep { v_substeps: 2 }),
        other => sweep!(other),
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
