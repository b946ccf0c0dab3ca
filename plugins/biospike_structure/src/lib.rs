//! Structural plasticity: periodic adjustment of the network toward a target out-degree
//! ([`StructuralPlasticityPlugin`]), and the original project's slow drift of state and weights
//! toward fresh random draws ([`DriftPlugin`]). Both run in [`SimSystems::Structure`], between
//! steps, never during delivery.
//!
//! # Network adjustment
//! Every `every_steps` steps, for each neuron in id order (random numbers keyed by neuron and
//! step, so the result does not depend on threads):
//! - out-degree below `target_out_degree`: one new synapse to a random neuron it does not
//!   target yet (no self-connection), weight `U(0, 1) · adjustment_rate` (negative from
//!   inhibitory populations), delay `new_delay_steps`;
//! - above the target: one random out-synapse is weakened by `(1 − adjustment_rate)`, and every
//!   out-synapse of that neuron whose `|w|` is below `prune_below` is removed.
//!
//! New synapses are spawned and pruned ones despawned with commands; the synapse plugin folds
//! the changes into the [`SynapseIndex`] at the next `PropagationSystems::Index`, and the
//! STDP plugin remaps its eligibility by entity. Weakening writes the live weight in the index
//! (plasticity's weights live there; [`SynapseIndex::write_back`] copies them to the
//! components).
//!
//! # Drift
//! Every `every_steps` steps, each neuron's `v`, `u` and excitability, and each synapse's
//! weight magnitude, move a fraction `step_size` toward a fresh draw from its range:
//! `x ← x + step_size · (draw − x)`.
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_structure::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 3));
//! app.insert_resource(StructuralPlasticitySettings { every_steps: 10, ..Default::default() });
//! app.add_plugins(StructuralPlasticityPlugin);
//! for id in 0..5 {
//!     app.world_mut().spawn((NeuronId(id), PopulationId(0)));
//! }
//! // Without the synapse plugin the index is never rebuilt, so each adjustment adds one
//! // synapse per neuron (all still at out-degree 0 in the index).
//! for _ in 0..10 {
//!     step_simulation(app.world_mut());
//! }
//! let n = app.world_mut().query::<&Synapse>().iter(app.world()).count();
//! assert_eq!(n, 5);
//! ```

mod desc;
mod plugin;

pub use desc::{DriftDesc, StructureDesc};

pub use plugin::{DriftPlugin, DriftSettings, StructuralPlasticityPlugin, StructuralPlasticitySettings, StructureDiagnostics};

#[allow(unused_imports, reason = "intra-doc links")]
use biospike_core::{SimSystems, SynapseIndex};

/// The plugins and their settings.
pub mod prelude {
    pub use crate::desc::{DriftDesc, StructureDesc};
    pub use crate::plugin::{DriftPlugin, DriftSettings, StructuralPlasticityPlugin, StructuralPlasticitySettings};
}
