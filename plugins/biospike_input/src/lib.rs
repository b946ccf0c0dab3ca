//! External drive: the currents a neuron receives besides its synapses.
//!
//! Attach any of these components to a neuron; each step, in
//! [`InputSystems::Drive`](biospike_core::InputSystems::Drive), their currents are added to
//! [`InputCurrent`](biospike_core::InputCurrent) in this fixed order:
//!
//! | component | current added at step `t` (time `t·dt`) |
//! |---|---|
//! | [`NoiseCurrent`] | `mean + std · ξ`, ξ ~ N(0,1) from the keyed stream (seed, `InputNoise`, neuron, step) |
//! | [`UniformNoiseCurrent`] | `low + (high − low) · r`, r ~ U[0,1) from its own keyed stream |
//! | [`DcCurrent`] | a constant |
//! | [`CurrentStimulus`] | a piecewise function of time: pulses, steps and ramps |
//! | [`PoissonInput`] | `weight · k`, k ~ Poisson(rate · dt) from the keyed stream (seed, `PoissonInput`, neuron, step) |
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_input::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::new(SimClock::new(0.5), 1), InputPlugin));
//! let stim = CurrentStimulus::new(0.0).with(StimulusSegment::pulse(Bound::Open(1.0), Bound::Closed(2.0), 5.0));
//! let n = app.world_mut().spawn((NeuronId(0), InputCurrent(0.0), stim)).id();
//! let mut seen = Vec::new();
//! for _ in 0..6 {
//!     step_simulation(app.world_mut());
//!     seen.push(app.world().get::<InputCurrent>(n).map(|i| i.0));
//! }
//! // t = 0, 0.5, 1.0, 1.5, 2.0, 2.5 ms: the pulse is on for 1 < t ≤ 2.
//! assert_eq!(seen, [0.0, 0.0, 0.0, 5.0, 5.0, 0.0].map(Some));
//! ```
//!
//! # Systems (in [`InputSystems::Drive`](biospike_core::InputSystems::Drive))
//! 1. `add_noise`, 2. `add_dc`, 3. `add_stimuli`, 4. `add_poisson`: each a pass over the
//!    neurons that carry that component (noise: over the compute threads above
//!    [`PARALLEL_MIN_ROWS`](biospike_runtime::PARALLEL_MIN_ROWS) neurons per table; the others on
//!    bevy's pool above [`PARALLEL_MIN_ENTITIES`](biospike_runtime::PARALLEL_MIN_ENTITIES)).

mod components;
mod desc;
mod plugin;

pub use components::{
    Bound, CurrentStimulus, DcCurrent, NoiseCurrent, PoissonInput, PoissonRateSchedule, SineCurrent, SpikeTimes, SpikeTimesPeriod,
    StimulusSegment, UniformNoiseCurrent,
};
pub use desc::{NoiseDesc, PoissonDesc, RateChangeDesc, UniformNoiseDesc};
pub use plugin::InputPlugin;

/// The plugin and the input components.
pub mod prelude {
    pub use crate::components::{
        Bound, CurrentStimulus, DcCurrent, NoiseCurrent, PoissonInput, PoissonRateSchedule, SineCurrent, SpikeTimes, SpikeTimesPeriod,
        StimulusSegment, UniformNoiseCurrent,
    };
    pub use crate::plugin::InputPlugin;
}
