//! Shared vocabulary of biospike.
//!
//! Every stage crate (Izhikevich neurons, inputs, synaptic delivery, recording, …) depends on
//! this crate only, never on a sibling. It owns:
//!
//! - [`SimSchedule`], the schedule that advances the model by one step, and its phases
//!   [`SimSystems`] (public, chained) and [`InputSystems`] (inside [`SimSystems::Input`]);
//! - [`SimClock`], the integer step clock (time is always `step × dt`, never accumulated);
//! - keyed random streams ([`rng`]): every draw is a pure function of
//!   (seed, purpose, neuron, step), so results do not depend on the thread count;
//! - the neuron components ([`MembranePotential`], [`RecoveryVariable`], [`InputCurrent`], …),
//!   the synapse components ([`Synapse`], [`SynapticWeight`], [`SynapticDelay`]) and the
//!   per-step spike list [`StepSpikes`];
//! - the numerical guard: [`SimStatus`] turns to [`SimStatus::Halted`] when a state variable
//!   becomes non-finite or runs away (see [`GuardSettings`]).
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 7));
//! app.world_mut().spawn((NeuronId(0), MembranePotential(-65.0)));
//! for _ in 0..3 {
//!     step_simulation(app.world_mut());
//! }
//! assert_eq!(app.world().resource::<SimClock>().step(), 3);
//! assert_eq!(app.world().resource::<SimClock>().time_ms(), 3.0);
//! ```
//!
//! # Systems
//! - `reset_input_current` in [`InputSystems::Reset`]: sets every [`InputCurrent`] to 0 and
//!   moves every [`StimulusCurrent`]'s `now` to `held`.
//! - `collect_spikes` in [`SimSystems::Detect`]: fills [`StepSpikes`], updates
//!   [`LastSpikeStep`] and runs the finite/runaway guard.
//! - `advance_clock` after [`SimSystems::Last`]: `step += 1`.

pub mod checkpoint;
mod components;
pub mod connectivity;
pub mod desc;
mod guard;
pub mod modulators;
mod ordering;
mod partition;
mod plugin;
mod populations;
pub mod profile;
pub mod rng;
mod schedule;

pub use components::*;
pub use connectivity::{IndexedSynapse, SynapseEdits, SynapseIndex};
pub use modulators::{Modulator, NeuromodulatorLevels};

pub use guard::{GuardSettings, HaltReason, SimStatus, StateVariable};
pub use ordering::BuiltinFirstPass;
pub use partition::{BatchedSpikes, ExactSum, Partition, RankSums, SumAcrossRanks};
pub use plugin::{CoreSimPlugin, finish_simulation, step_simulation};
pub use populations::{NeuronDescriptions, PopulationInfo, PopulationKind, PopulationTable, population_color};
pub use profile::{ProfilePlugin, SimProfile, SystemProfile};
pub use schedule::{
    BuiltinSystems, DetectSystems, FinishSystems, InputSystems, NeuronModelSystems, PrepareSystems, PropagationSystems, SimClock,
    SimFinishSchedule, SimSchedule, SimSystems, SimWritebackSchedule, WritebackSettings, WritebackSystems, steps_in, writeback_due,
};

/// The types most users need.
pub mod prelude {
    pub use crate::components::*;
    pub use crate::connectivity::{SynapseEdits, SynapseIndex};
    pub use crate::guard::{GuardSettings, HaltReason, SimStatus};
    pub use crate::modulators::{Modulator, NeuromodulatorLevels};
    pub use crate::partition::{Partition, RankSums};
    pub use crate::plugin::{CoreSimPlugin, finish_simulation, step_simulation};
    pub use crate::populations::{NeuronDescriptions, PopulationInfo, PopulationKind, PopulationTable};
    pub use crate::profile::{ProfilePlugin, SimProfile};
    pub use crate::rng::{KeyedRng, SimSeed, StreamPurpose};
    pub use crate::schedule::{
        BuiltinSystems, DetectSystems, FinishSystems, InputSystems, NeuronModelSystems, PrepareSystems, PropagationSystems, SimClock,
        SimFinishSchedule, SimSchedule, SimSystems, SimWritebackSchedule, WritebackSettings, WritebackSystems,
    };
}
