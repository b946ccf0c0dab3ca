use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};

use crate::components::*;
use crate::guard::{GuardSettings, SimStatus};
use crate::populations::PopulationTable;
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
        // Parallel loops inside systems use bevy's compute pool; make sure one exists
        // (the application may have created it first with a chosen thread count).
        ComputeTaskPool::get_or_init(|| TaskPoolBuilder::new().thread_name("biospike compute".into()).build());

        app.insert_resource(self.clock)
            .insert_resource(SimSeed(self.seed))
            .init_resource::<SimStatus>()
            .init_resource::<GuardSettings>()
            .init_resource::<StepSpikes>()
            .init_resource::<PopulationTable>();

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
    crate::for_each_entity_mut!(q, |mut i: Mut<InputCurrent>| i.bypass_change_detection().0 = 0.0);
}

/// Collects the ids that fired into [`StepSpikes`], stamps [`LastSpikeStep`] and runs the
/// finite/runaway guard: the one chokepoint per step.
fn collect_spikes(
    mut q: Query<(&NeuronId, &SpikedThisStep, &mut LastSpikeStep, &MembranePotential, &RecoveryVariable, &InputCurrent)>,
    mut spikes: ResMut<StepSpikes>,
    mut status: ResMut<SimStatus>,
    guard: Res<GuardSettings>,
    clock: Res<SimClock>,
) {
    let step = clock.step();
    spikes.ids.clear();
    let mut first_problem = None;
    let mut all_ok = true;
    q.iter_mut().for_each(|(id, spiked, mut last, v, u, i)| {
        if spiked.0 {
            spikes.ids.push(id.0);
            last.0 = Some(step);
        }
        all_ok &= guard.is_ok(v.0, u.0, i.0);
    });
    if !all_ok {
        // Rare: find the first offending neuron (iteration order, as before) and why.
        first_problem = q.iter().find_map(|(id, _, _, v, u, i)| guard.check(v.0, u.0, i.0).map(|r| (id.0, r)));
    }
    spikes.ids.sort_unstable();
    if let (Some((neuron, reason)), true) = (first_problem, status.is_running()) {
        *status = SimStatus::Halted { step, neuron, reason };
    }
}

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.advance();
}
