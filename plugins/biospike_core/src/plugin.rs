use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::passes::AutoInsertApplyDeferredPass;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};
use bytemuck::TransparentWrapper;

use crate::components::*;
use crate::guard::{GuardSettings, SimStatus};
use crate::ordering::BuiltinFirstPass;
use crate::populations::{NeuronDescriptions, PopulationTable};
use crate::rng::SimSeed;
use crate::schedule::{
    BuiltinSystems, DetectSystems, FinishSystems, InputSystems, PrepareSystems, PropagationSystems, SimClock, SimFinishSchedule,
    SimSchedule, SimSystems, SimWritebackSchedule, WritebackSystems, writeback_due,
};

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

        crate::checkpoint::register_core(app);
        app.add_schedule(sim_schedule());
        app.add_schedule(writeback_schedule());
        app.add_schedule(finish_schedule());
        app.add_systems(
            SimSchedule,
            (
                reset_input_current.in_set(InputSystems::Reset),
                collect_spikes.in_set(DetectSystems::Collect),
                advance_clock.after(SimSystems::Last),
            )
                .in_set(BuiltinSystems),
        );
    }
}

/// A schedule with the single-threaded executor, ambiguity as an error, and the pass that runs
/// biospike's systems first within each phase (before bevy's own pass, so that sync points
/// follow the added order).
fn ordered_schedule(label: impl bevy_ecs::schedule::ScheduleLabel) -> Schedule {
    let mut schedule = Schedule::new(label);
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.remove_build_pass::<AutoInsertApplyDeferredPass>();
    schedule.add_build_pass(BuiltinFirstPass::default());
    schedule.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    schedule
}

fn sim_schedule() -> Schedule {
    let mut schedule = ordered_schedule(SimSchedule);
    use SimSystems as S;
    schedule.configure_sets(
        (
            S::Prepare,
            S::First,
            S::Input,
            S::Neurons,
            S::Detect,
            S::Propagation,
            S::Modulation,
            S::Plasticity,
            S::Structure,
            S::Quantize,
            S::Writeback,
            S::Record,
            S::Last,
        )
            .chain(),
    );
    schedule.configure_sets((PrepareSystems::Settle, PrepareSystems::Index).chain().in_set(S::Prepare));
    schedule.configure_sets((InputSystems::Reset, InputSystems::Drive, InputSystems::Synaptic).chain().in_set(S::Input));
    schedule.configure_sets((DetectSystems::Collect, DetectSystems::Inject, DetectSystems::Exchange).chain().in_set(S::Detect));
    schedule.configure_sets((PropagationSystems::Index, PropagationSystems::Deliver).chain().in_set(S::Propagation));
    schedule.configure_sets((WritebackSystems::Flush, WritebackSystems::Sync).chain().in_set(S::Writeback));
    schedule.configure_sets(S::Writeback.run_if(writeback_due));
    schedule
}

fn writeback_schedule() -> Schedule {
    let mut schedule = ordered_schedule(SimWritebackSchedule);
    schedule.configure_sets((WritebackSystems::Flush, WritebackSystems::Sync).chain());
    schedule
}

fn finish_schedule() -> Schedule {
    let mut schedule = ordered_schedule(SimFinishSchedule);
    schedule.configure_sets(FinishSystems::Close);
    schedule
}

/// Ends a simulation: runs [`SimWritebackSchedule`] (deferred work settled, weights written
/// back to the components), then [`SimFinishSchedule`] (recorders' files completed). Drivers
/// call it once when a simulation ends; it is safe to call again.
pub fn finish_simulation(world: &mut World) {
    world.run_schedule(SimWritebackSchedule);
    world.run_schedule(SimFinishSchedule);
}

/// Runs [`SimSchedule`] once: the model advances by one step.
pub fn step_simulation(world: &mut World) {
    world.run_schedule(SimSchedule);
}

fn reset_input_current(mut q: Query<&mut InputCurrent>, mut stimuli: Query<&mut crate::StimulusCurrent>) {
    for mut i in q.contiguous_iter_mut().expect("InputCurrent is table-stored, so the query is dense") {
        biospike_runtime::rows::for_each_chunk(i.bypass_change_detection(), |i| i.fill(InputCurrent(0.0)));
    }
    for mut s in stimuli.contiguous_iter_mut().expect("StimulusCurrent is table-stored, so the query is dense") {
        biospike_runtime::rows::for_each_chunk(s.bypass_change_detection(), |s| {
            s.iter_mut().for_each(|s| *s = crate::StimulusCurrent { now: 0.0, held: s.now })
        });
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
            let ok = guard_rows(v, u, i, &guard);
            let mut fired = Vec::new();
            // Eight spike flags at a time: most words are zero (a few neurons fire per step).
            let flags: &[u8] = bytemuck::cast_slice(SpikedThisStep::peel_slice(spiked));
            let (words, tail) = flags.as_chunks::<8>();
            // The last `n % 8` flags as one more word, zero-padded.
            let mut padded = [0u8; 8];
            padded[..tail.len()].copy_from_slice(tail);
            for (w, word) in words.iter().chain([&padded]).enumerate() {
                let mut bits = u64::from_le_bytes(*word);
                while bits != 0 {
                    let k = w * 8 + bits.trailing_zeros() as usize / 8;
                    fired.push(ids[k].0);
                    last[k].0 = Some(step);
                    bits &= bits - 1;
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

/// Whether every neuron's `v`, `u` and input pass the guard ([`GuardSettings::is_ok`]).
#[inline(always)]
fn guard_columns(v: &[MembranePotential], u: &[RecoveryVariable], i: &[InputCurrent], guard: &GuardSettings) -> bool {
    let n = v.len();
    let (u, i) = (&u[..n], &i[..n]);
    let mut ok = true;
    for k in 0..n {
        ok &= guard.is_ok(v[k].0, u[k].0, i[k].0);
    }
    ok
}

biospike_runtime::avx512_kernel!(
    fn guard_rows<'a>(v: &'a [MembranePotential], u: &'a [RecoveryVariable], i: &'a [InputCurrent], guard: &'a GuardSettings) -> bool = guard_columns;
);

pub(crate) fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.advance();
}
