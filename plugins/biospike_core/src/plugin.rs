use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};

use crate::components::*;
use crate::guard::{GuardSettings, SimStatus};
use crate::populations::{NeuronDescriptions, PopulationTable};
use crate::rng::SimSeed;
use crate::schedule::{DetectSystems, InputSystems, PropagationSystems, SimClock, SimSchedule, SimSystems};

/// Adds [`SimSchedule`] with its ordered phases, the clock, the seed, the spike list and the
/// numerical guard. Every other biospike plugin needs it first.
#[derive(Debug, Clone)]
pub struct CoreSimPlugin {
    clock: SimClock,
    seed: u64,
}

impl CoreSimPlugin {
    /// Core plugin with the given clock and master seed.
    pub fn new(clock: SimClock, seed: u64) -> Self {
        Self { clock, seed }
    }
}

impl Default for CoreSimPlugin {
    fn default() -> Self {
        Self::new(SimClock::new(1.0), 1)
    }
}

impl Plugin for CoreSimPlugin {
    fn build(&self, app: &mut App) {
        // `for_each_entity_mut!` passes use bevy's compute pool; make sure one exists
        // (the application may have created it first with a chosen thread count).
        ComputeTaskPool::get_or_init(|| TaskPoolBuilder::new().thread_name("biospike compute".into()).build());

        app.insert_resource(self.clock)
            .insert_resource(SimSeed(self.seed))
            .init_resource::<SimStatus>()
            .init_resource::<GuardSettings>()
            .init_resource::<StepSpikes>()
            .init_resource::<PopulationTable>()
            .init_resource::<NeuronDescriptions>();

        let mut schedule = Schedule::new(SimSchedule);
        schedule.set_executor(SingleThreadedExecutor::new());
        schedule.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
        use SimSystems as S;
        schedule.configure_sets(
            (
                S::First,
                S::Input,
                S::Neurons,
                S::Detect,
                S::Propagation,
                S::Modulation,
                S::Plasticity,
                S::Structure,
                S::Quantize,
                S::Record,
                S::Last,
            )
                .chain(),
        );
        schedule.configure_sets((InputSystems::Reset, InputSystems::Drive, InputSystems::Synaptic).chain().in_set(S::Input));
        schedule.configure_sets((DetectSystems::Collect, DetectSystems::Inject).chain().in_set(S::Detect));
        schedule.configure_sets((PropagationSystems::Index, PropagationSystems::Deliver).chain().in_set(S::Propagation));
        schedule.add_systems((
            reset_input_current.in_set(InputSystems::Reset),
            collect_spikes.in_set(DetectSystems::Collect),
            advance_clock.after(S::Last),
        ));
        app.add_schedule(schedule);
    }
}

/// Runs [`SimSchedule`] once: the model advances by one step.
pub fn step_simulation(world: &mut World) {
    world.run_schedule(SimSchedule);
}

fn reset_input_current(mut q: Query<&mut InputCurrent>) {
    for mut i in q.contiguous_iter_mut().expect("InputCurrent is table-stored, so the query is dense") {
        biospike_runtime::rows::for_each_chunk(i.bypass_change_detection(), |i| i.fill(InputCurrent(0.0)));
    }
}

type DetectColumns = (
    &'static NeuronId,
    &'static SpikedThisStep,
    &'static mut LastSpikeStep,
    &'static MembranePotential,
    &'static RecoveryVariable,
    &'static InputCurrent,
);

/// Collects the ids that fired into [`StepSpikes`], stamps [`LastSpikeStep`] and runs the
/// finite/runaway guard: the one chokepoint per step.
fn collect_spikes(
    mut q: Query<DetectColumns>,
    mut spikes: ResMut<StepSpikes>,
    mut status: ResMut<SimStatus>,
    guard: Res<GuardSettings>,
    clock: Res<SimClock>,
) {
    let step = clock.step();
    spikes.ids.clear();
    let mut all_ok = true;
    for (ids, spiked, mut last, v, u, i) in q.contiguous_iter_mut().expect("neuron components are table-stored, so the query is dense") {
        // In the chunks the neuron kernels used, so each thread reads the state it just wrote
        // instead of one thread pulling every cache line over.
        let columns = (ids, spiked, last.bypass_change_detection(), v, u, i);
        let parts = biospike_runtime::rows::map_chunks(columns, |(ids, spiked, last, v, u, i)| {
            let n = ids.len();
            let (spiked, last, v, u, i) = (&spiked[..n], &mut last[..n], &v[..n], &u[..n], &i[..n]);
            let mut ok = true;
            for k in 0..n {
                ok &= guard.is_ok(v[k].0, u[k].0, i[k].0);
            }
            let mut fired = Vec::new();
            for k in 0..n {
                if spiked[k].0 {
                    fired.push(ids[k].0);
                    last[k].0 = Some(step);
                }
            }
            (ok, fired)
        });
        for (ok, fired) in parts {
            all_ok &= ok;
            spikes.ids.extend_from_slice(&fired);
        }
    }
    spikes.ids.sort_unstable();
    if !all_ok && status.is_running() {
        // Rare: find the first offending neuron (iteration order) and why.
        if let Some((neuron, reason)) = q.iter().find_map(|(id, _, _, v, u, i)| guard.check(v.0, u.0, i.0).map(|r| (id.0, r))) {
            *status = SimStatus::Halted { step, neuron, reason };
        }
    }
}

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.advance();
}
