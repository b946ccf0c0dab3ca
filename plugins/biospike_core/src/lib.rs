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
//! - `reset_input_current` in [`InputSystems::Reset`]: sets every [`InputCurrent`] to 0.
//! - `collect_spikes` in [`SimSystems::Detect`]: fills [`StepSpikes`], updates
//!   [`LastSpikeStep`] and runs the finite/runaway guard.
//! - `advance_clock` after [`SimSystems::Last`]: `step += 1`.

mod components;
pub mod connectivity;
mod guard;
pub mod modulators;
pub mod parallel;
mod plugin;
mod populations;
pub mod rng;
pub mod rows;
mod schedule;
pub mod simd;

pub use components::*;
pub use connectivity::{IndexedSynapse, SynapseIndex};
pub use modulators::{Modulator, NeuromodulatorLevels};

/// Below this many entities a per-neuron loop runs serially: handing a batch to bevy's
/// task pool costs ~20 µs per call on the 2-core reference machine (measured, see
/// `BENCHMARKS.md`), more than 16k Izhikevich updates take on one core. (Used by
/// [`for_each_entity_mut!`], which runs on bevy's pool.)
pub const PARALLEL_MIN_ENTITIES: usize = 16_384;

/// Below this many rows a column kernel ([`rows::for_each_chunk`]) runs serially; above, it
/// splits over the [`parallel`] threads, whose hand-off costs a few µs.
pub const PARALLEL_MIN_ROWS: usize = 4_096;

/// Below this many synaptic events (delivery) or plastic row entries (plasticity) in one step, a
/// row-wise pass runs serially on the calling thread instead of splitting over the [`parallel`]
/// threads.
pub const PARALLEL_MIN_EVENTS: usize = 4_096;

/// Runs `$body` for every item of `$query`, in parallel when the query holds at least
/// [`PARALLEL_MIN_ENTITIES`] entities, serially otherwise. Each item must only touch its own
/// entity, so both paths give the same result.
#[macro_export]
macro_rules! for_each_entity_mut {
    ($query:expr, $f:expr) => {{
        let f = $f;
        if $query.iter().size_hint().1.unwrap_or(usize::MAX) < $crate::PARALLEL_MIN_ENTITIES {
            $query.iter_mut().for_each(f);
        } else {
            $query.par_iter_mut().for_each(f);
        }
    }};
}
pub use guard::{GuardSettings, HaltReason, SimStatus, StateVariable};
pub use plugin::{CoreSimPlugin, step_simulation};
pub use populations::{PopulationInfo, PopulationKind, PopulationTable};
pub use schedule::{DetectSystems, InputSystems, PropagationSystems, SimClock, SimSchedule, SimSystems};

/// The types most users need.
pub mod prelude {
    pub use crate::components::*;
    pub use crate::connectivity::SynapseIndex;
    pub use crate::guard::{GuardSettings, HaltReason, SimStatus};
    pub use crate::modulators::{Modulator, NeuromodulatorLevels};
    pub use crate::plugin::{CoreSimPlugin, step_simulation};
    pub use crate::populations::{PopulationInfo, PopulationKind, PopulationTable};
    pub use crate::rng::{KeyedRng, SimSeed, StreamPurpose};
    pub use crate::schedule::{DetectSystems, InputSystems, PropagationSystems, SimClock, SimSchedule, SimSystems};
}
