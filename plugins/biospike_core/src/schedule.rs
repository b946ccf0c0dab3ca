use bevy_ecs::prelude::*;
use bevy_ecs::schedule::ScheduleLabel;

/// The schedule that advances the model by exactly one step of [`SimClock::dt_ms`].
///
/// It runs single-threaded (parallelism lives inside systems) and treats ambiguous system
/// order as a build error. Run it with [`crate::step_simulation`] or
/// `world.run_schedule(SimSchedule)`; biospike's runner and `Simulation::step` do, inside the
/// compute threads.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimSchedule;

/// The write-back of [`SimSystems::Writeback`] as a schedule of its own, for a driver that
/// wants current components between steps (`Simulation::sync_weights`) and for
/// [`crate::finish_simulation`]: the same systems, in [`WritebackSystems`] order.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimWritebackSchedule;

/// What a driver runs once when a simulation ends (completed, halted or stopped), after
/// [`SimWritebackSchedule`]: recorders complete their files ([`FinishSystems::Close`]). Run
/// both with [`crate::finish_simulation`]; running it twice does no harm.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimFinishSchedule;

/// Phases of [`SimFinishSchedule`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishSystems {
    /// Recorders flush and complete their files (and a halted run's snapshot is written).
    Close,
}

/// Order inside [`SimSystems::Writeback`] (and [`SimWritebackSchedule`]).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WritebackSystems {
    /// Deferred work reaches the live state (deferred STDP potentiation reaches the weights of
    /// [`crate::SynapseIndex`]).
    Flush,
    /// The live side structures are copied back to the components users query
    /// ([`crate::SynapticWeight`] from [`crate::SynapseIndex`]).
    Sync,
}

/// When [`SimSystems::Writeback`] runs during a simulation. The write-back always runs at the
/// end ([`crate::finish_simulation`]).
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WritebackSettings {
    /// Write back after every this many steps (at the end of steps `s` with
    /// `(s + 1) % every_steps == 0`); `None` (the default) only at the end of the run. A
    /// write-back costs about one pass over the changed synapses.
    pub every_steps: Option<u64>,
}

/// Run condition of the [`SimSystems::Writeback`] systems: `true` on the steps
/// [`WritebackSettings`] names.
pub fn writeback_due(settings: Option<Res<WritebackSettings>>, clock: Res<SimClock>) -> bool {
    settings.and_then(|s| s.every_steps).is_some_and(|n| (clock.step() + 1).is_multiple_of(n.max(1)))
}

/// The set every system of biospike's own plugins belongs to.
///
/// Within each public phase, biospike's systems run before the systems a user adds to the same
/// phase (unless the user orders them otherwise): a user system added to, say,
/// `InputSystems::Drive` sees the drive of the built-in inputs and is never ambiguous with them.
/// Two user systems in one phase that touch the same data still have to be ordered by hand;
/// the schedule's error names both. Plugins of other crates do not join this set.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BuiltinSystems;

/// The systems that integrate one neuron model each (Izhikevich, LIF, …) in
/// [`SimSystems::Neurons`]. Each touches only the entities of its model (its marker component),
/// so they share the neuron state components without an order among themselves: a model's
/// system joins the set and is declared ambiguous with it.
///
/// ```ignore
/// app.add_systems(SimSchedule, integrate_my_model.in_set(SimSystems::Neurons).in_set(NeuronModelSystems).ambiguous_with(NeuronModelSystems));
/// ```
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeuronModelSystems;

/// Phases of one simulation step, in order. All run inside [`SimSchedule`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// Side structures catch up with what changed since the last step: synapses spawned,
    /// despawned or edited (the delivery index is rebuilt or patched here, so a network spawned
    /// before the first step is indexed by it).
    Prepare,
    /// Empty hook before biospike's model systems.
    First,
    /// Input currents for this step (see [`InputSystems`] for the order inside).
    Input,
    /// Neuron state advanced by one `dt`; spike flags and resets.
    Neurons,
    /// Spikes of this step collected into [`crate::StepSpikes`]; numerical guard.
    Detect,
    /// Spikes of this step handed to synaptic delivery (delays, ring buffer).
    Propagation,
    /// Neuromodulator levels and excitability.
    Modulation,
    /// Traces and weights.
    Plasticity,
    /// Rewiring.
    Structure,
    /// Loihi fixed-point projection.
    Quantize,
    /// Live state copied back to components at the steps [`WritebackSettings`] names (see
    /// [`WritebackSystems`]).
    Writeback,
    /// Hand-off to recorders.
    Record,
    /// Empty hook after biospike's systems.
    Last,
}

impl SimSystems {
    /// Every phase, in order.
    pub const ALL: [Self; 13] = [
        Self::Prepare,
        Self::First,
        Self::Input,
        Self::Neurons,
        Self::Detect,
        Self::Propagation,
        Self::Modulation,
        Self::Plasticity,
        Self::Structure,
        Self::Quantize,
        Self::Writeback,
        Self::Record,
        Self::Last,
    ];
}

/// Every public phase with its label, innermost first (`"Input/Drive"` before `"Input"`): the
/// sets the ordering and profiling passes file systems under.
pub(crate) fn phase_sets() -> Vec<(bevy_ecs::schedule::InternedSystemSet, String)> {
    let inner: [(bevy_ecs::schedule::InternedSystemSet, &str); 12] = [
        (PrepareSystems::Settle.intern(), "Prepare/Settle"),
        (PrepareSystems::Index.intern(), "Prepare/Index"),
        (InputSystems::Reset.intern(), "Input/Reset"),
        (InputSystems::Drive.intern(), "Input/Drive"),
        (InputSystems::Synaptic.intern(), "Input/Synaptic"),
        (DetectSystems::Collect.intern(), "Detect/Collect"),
        (DetectSystems::Inject.intern(), "Detect/Inject"),
        (DetectSystems::Exchange.intern(), "Detect/Exchange"),
        (PropagationSystems::Index.intern(), "Propagation/Index"),
        (PropagationSystems::Deliver.intern(), "Propagation/Deliver"),
        (WritebackSystems::Flush.intern(), "Writeback/Flush"),
        (WritebackSystems::Sync.intern(), "Writeback/Sync"),
    ];
    let outer = SimSystems::ALL.map(|p| (p.intern(), format!("{p:?}")));
    inner.into_iter().map(|(s, l)| (s, l.to_string())).chain(outer).collect()
}

/// Order of the writers of [`crate::InputCurrent`] inside [`SimSystems::Input`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputSystems {
    /// `InputCurrent` is set to 0.
    Reset,
    /// External drive is added: noise, DC, stimuli, Poisson trains.
    Drive,
    /// Synaptic input due at this step is added.
    Synaptic,
}

/// The integer simulation clock.
///
/// `step` is the index of the step being computed while [`SimSchedule`] runs; time is always
/// `step as f64 * dt_ms`, never accumulated.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct SimClock {
    step: u64,
    dt_ms: f64,
}

impl SimClock {
    /// A clock at step 0 with the given step size in ms.
    ///
    /// # Panics
    /// If `dt_ms` is not finite and positive.
    pub fn new(dt_ms: f64) -> Self {
        assert!(dt_ms.is_finite() && dt_ms > 0.0, "dt_ms must be finite and > 0, got {dt_ms}");
        Self { step: 0, dt_ms }
    }

    /// Index of the current step.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Step size, in ms.
    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    /// Time of the current step, in ms: `step × dt`.
    pub fn time_ms(&self) -> f64 {
        self.step as f64 * self.dt_ms
    }

    /// Time of an arbitrary step, in ms.
    pub fn time_of(&self, step: u64) -> f64 {
        step as f64 * self.dt_ms
    }

    /// Whole steps in `ms`, rounded to the nearest (halves away from zero); negative and NaN
    /// give 0, values past `u64::MAX` steps saturate. Every ms → steps conversion of biospike
    /// (delays, periods, release times) goes through here.
    pub fn steps_in(&self, ms: f64) -> u64 {
        steps_in(ms, self.dt_ms)
    }

    /// Moves the clock to `step` (a restored checkpoint).
    pub(crate) fn set_step(&mut self, step: u64) {
        self.step = step;
    }

    pub(crate) fn advance(&mut self) {
        self.step += 1;
    }
}

/// Order inside [`SimSystems::Prepare`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrepareSystems {
    /// Deferred work that must land before the connectivity changes (deferred STDP flushes
    /// when synapse edits are queued).
    Settle,
    /// Queued synapse edits are applied to [`crate::SynapseIndex`].
    Index,
}

/// Order inside [`SimSystems::Propagation`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropagationSystems {
    /// Rows about to deliver catch up with deferred work (deferred STDP potentiation).
    Index,
    /// Deliver this step's spikes along the index (float delivery, fixed-point Dense, …).
    Deliver,
}

/// Order inside [`SimSystems::Detect`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectSystems {
    /// Core collects the spikes of this step into [`crate::StepSpikes`] and runs the guard.
    Collect,
    /// After collection: systems that add spikes by hand (forced spikes, tests) push ids into
    /// [`crate::StepSpikes`] here, keeping it ascending.
    Inject,
    /// Split over several processes ([`crate::Partition`]): the ranks' spikes are joined
    /// here, so that from the end of this set [`crate::StepSpikes`] holds the whole
    /// network's spikes of the step on every rank. Nothing runs here in one process.
    Exchange,
}

/// [`SimClock::steps_in`] for a step size without a clock (scene validation).
pub fn steps_in(ms: f64, dt_ms: f64) -> u64 {
    (ms / dt_ms).round().max(0.0) as u64
}
