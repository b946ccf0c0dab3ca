//! Synaptic delivery: spikes travel along synapse entities with per-synapse delays.
//!
//! Synapses are entities ([`Synapse`], [`SynapticWeight`], [`SynapticDelay`]) and stay the
//! source of truth. Delivery does not look them up per edge: it walks [`SynapseIndex`], a
//! compressed-sparse-row (CSR) copy grouped by **presynaptic** neuron, so the work of a step is
//! proportional to spikes × fan-out, never to the number of synapses. The choice and its
//! measurements are in `docs/architecture.md`.
//!
//! Large fixed networks can skip the synapse entities: an index built by
//! [`SynapseIndex::index_only_generated`] and inserted as the resource is delivered the same way
//! (10 bytes per synapse instead of ≈ 120); see `docs/architecture.md`.
//!
//! Component hooks queue every insertion, replacement and removal of those components in
//! [`SynapseEdits`]; `apply_synapse_edits` applies the queue at the start of
//! [`SimSystems::Propagation`]: O(changes) for weight and delay edits, one rebuild of the CSR
//! arrays (O(synapses), from the index itself, not from the ECS) when synapses were added or
//! removed.
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use bevy_ecs::prelude::*;
//! use biospike_core::prelude::*;
//! use biospike_synapses::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::default(), SynapsePlugin));
//! let a = app.world_mut().spawn((NeuronId(0), InputCurrent(0.0))).id();
//! let b = app.world_mut().spawn((NeuronId(1), InputCurrent(0.0))).id();
//! app.world_mut().spawn((
//!     Synapse { pre: NeuronId(0), post: NeuronId(1) },
//!     SynapticWeight(2.5),
//!     SynapticDelay(3),
//! ));
//! // Make neuron 0 fire at step 0 by hand (normally a neuron model does this).
//! app.add_systems(SimSchedule, (|clock: Res<SimClock>, mut s: ResMut<StepSpikes>| {
//!     if clock.step() == 0 { s.ids = vec![0]; }
//! }).in_set(DetectSystems::Inject));
//! let mut seen = Vec::new();
//! for _ in 0..5 {
//!     step_simulation(app.world_mut());
//!     seen.push(app.world().get::<InputCurrent>(b).map(|i| i.0));
//! }
//! // The spike of step 0 arrives 3 steps later.
//! assert_eq!(seen, [0.0, 0.0, 0.0, 2.5, 0.0].map(Some));
//! # let _ = a;
//! ```
//!
//! # Systems
//! 1. `deliver_due_spikes` in [`InputSystems::Synaptic`]: adds the ring-buffer slot due at
//!    this step to [`InputCurrent`] and clears it.
//! 2. `apply_synapse_edits` in [`SimSystems::Propagation`]: applies queued synapse changes.
//! 3. `propagate_spikes` in [`SimSystems::Propagation`], after 2: for each spike of this step,
//!    adds each out-edge's weight to the slot `delay` steps ahead. Parallel over ranges of
//!    postsynaptic neurons; each target sums its inputs in the same order on any thread count.

mod desc;
mod index;
mod plugin;

pub use biospike_core::SynapseEdits;
pub use biospike_core::SynapseIndex;
pub use desc::{SynapseDesc, SynapseStorageDesc};
pub use index::DelayRing;
pub use plugin::{DeliveryDiagnostics, SynapsePlugin, prepare_synapse_index};

use biospike_core::{InputCurrent, Synapse, SynapticDelay, SynapticWeight};
#[allow(unused_imports, reason = "intra-doc links")]
use biospike_core::{InputSystems, SimSystems};

/// The plugin, its index and diagnostics, and the synapse components.
pub mod prelude {
    pub use crate::index::DelayRing;
    pub use crate::plugin::{DeliveryDiagnostics, SynapsePlugin};
    pub use biospike_core::SynapseEdits;
    pub use biospike_core::SynapseIndex;
    pub use biospike_core::{Synapse, SynapticDelay, SynapticWeight};
}
