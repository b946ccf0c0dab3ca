use bevy_ecs::prelude::*;
use bevy_ecs::schedule::ScheduleLabel;

/// The schedule that advances the model by exactly one step of [`SimClock::dt_ms`].
///
/// It runs single-threaded (parallelism lives inside systems) and treats ambiguous system
/// order as a build error. Run it with [`crate::step_simulation`] or
/// `world.run_schedule(SimSchedule)`.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimSchedule;

/// Phases of one simulation step, in order. All run inside [`SimSchedule`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// Empty hook before biospike's systems.
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
    /// Hand-off to recorders.
    Record,
    /// Empty hook after biospike's systems.
    Last,
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

    pub(crate) fn advance(&mut self) {
        self.step += 1;
    }
}

/// Order inside [`SimSystems::Propagation`].
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropagationSystems {
    /// Bring the connectivity index up to date (queued synapse edits).
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
}
