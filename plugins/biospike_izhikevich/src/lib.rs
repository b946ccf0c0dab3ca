//! Izhikevich (2003) spiking neurons.
//!
//! `v' = 0.04v² + 5v + 140 − u + I`, `u' = a(bv − u)`; when `v ≥ 30` mV the neuron fires,
//! `v ← c`, `u ← u + d`. The integrated current is `E · I` ([`Excitability`] times
//! [`InputCurrent`]).
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use bevy_ecs::prelude::*;
//! use biospike_core::prelude::*;
//! use biospike_izhikevich::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::new(SimClock::new(1.0), 1), IzhikevichPlugin));
//! // One regular-spiking neuron; a tonic input of 10 is added before integration.
//! let n = app
//!     .world_mut()
//!     .spawn((IzhikevichNeuron, NeuronId(0), IzhikevichParams::REGULAR_SPIKING))
//!     .id();
//! app.add_systems(SimSchedule, (move |mut q: Query<&mut InputCurrent>| {
//!     if let Ok(mut i) = q.get_mut(n) { i.0 += 10.0; }
//! }).in_set(InputSystems::Drive));
//! let mut spikes = 0;
//! for _ in 0..1000 {
//!     step_simulation(app.world_mut());
//!     spikes += app.world().resource::<StepSpikes>().ids.len();
//! }
//! assert!(spikes > 5, "a regular-spiking cell fires tonically at I = 10");
//! ```
//!
//! # Systems (in [`SimSystems::Neurons`])
//! 1. `integrate_membrane`: one [`izhikevich_step`] per neuron, in parallel (each entity
//!    writes only its own components, so the result does not depend on the thread count).
//!
//! # Settings
//! [`IzhikevichSettings`]: the integration scheme ([`IntegrationScheme::HalfStep`], the
//! published scheme, by default) and the spike threshold.
//!
//! # References
//! - E. M. Izhikevich, *Simple model of spiking neurons*, IEEE TNN 14:1569 (2003): the model,
//!   the RS/IB/CH/FS/LTS/TC/RZ parameters (Fig. 2) and the network's half-step scheme.
//! - E. M. Izhikevich, *Which model to use for cortical spiking neurons?*, IEEE TNN 15:1063
//!   (2004), `figure1.m`: the forward-Euler scheme and the variant equations
//!   ([`IzhikevichParams::class1`], [`RecoveryForm::Accommodation`]).

pub mod desc;
mod kernel;
mod plugin;

pub use desc::{IntegrationDesc, PresetDesc, RecoveryDesc};
#[cfg(target_arch = "x86_64")]
pub use kernel::x8;
pub use kernel::{IntegrationScheme, IzhikevichParams, LANES, RecoveryForm, izhikevich_half_step_lanes, izhikevich_step};
pub use plugin::{IzhikevichNeuron, IzhikevichPlugin, IzhikevichSettings};

#[allow(unused_imports, reason = "intra-doc links")]
use biospike_core::SimSystems;
use biospike_core::{Excitability, InputCurrent};

/// The plugin, its settings, the marker and the parameter types.
pub mod prelude {
    pub use crate::kernel::{IntegrationScheme, IzhikevichParams, RecoveryForm, izhikevich_step};
    pub use crate::plugin::{IzhikevichNeuron, IzhikevichPlugin, IzhikevichSettings};
}
