//! Neuron and synapse components shared by all stages.

use bevy_derive::{Deref, DerefMut};
use bevy_ecs::prelude::*;

/// The state every neuron carries, whatever its model: what input, detection, delivery,
/// recording and the numerical guard read. A neuron model's marker requires it (as
/// `IzhikevichNeuron` does), so spawning the marker with a [`NeuronId`] gives a complete neuron.
/// A model without a recovery variable leaves [`RecoveryVariable`] at its default.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[require(MembranePotential, RecoveryVariable, InputCurrent, Excitability, SpikedThisStep, LastSpikeStep, PopulationId, Position)]
pub struct Neuron;

/// Dense index of a neuron, `0..N`, assigned by the spawner in spawn order.
///
/// It is the neuron's identity in every table biospike writes and the index into dense
/// per-neuron buffers (synaptic ring buffer, spike lists). It has no meaningful default, so it
/// is not `require`d: whoever spawns neurons assigns it.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deref, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct NeuronId(pub u32);

/// Index of the neuron's population in [`crate::PopulationTable`]. Default: `0`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deref)]
pub struct PopulationId(pub u16);

/// Position of the neuron in space, in µm (used for layout and rendering only).
/// Default: the origin.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Deref, DerefMut)]
pub struct Position(pub [f32; 3]);

/// Membrane potential `v` (Izhikevich 2003, eq. 1), in mV. Default: `-65.0`.
///
/// The built-in neuron update rewrites it every step without change detection
/// (`Changed<MembranePotential>` does not fire for it), like [`RecoveryVariable`],
/// [`SpikedThisStep`] and [`LastSpikeStep`].
#[derive(Component, Clone, Copy, Debug, PartialEq, Deref, DerefMut, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct MembranePotential(pub f64);

impl Default for MembranePotential {
    fn default() -> Self {
        Self(-65.0)
    }
}

/// Membrane recovery variable `u` (Izhikevich 2003, eq. 2), in mV/ms-scaled units of `v`.
/// Default: `-13.0` (`b·v` for `b = 0.2`, `v = -65`).
#[derive(Component, Clone, Copy, Debug, PartialEq, Deref, DerefMut, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct RecoveryVariable(pub f64);

impl Default for RecoveryVariable {
    fn default() -> Self {
        Self(-13.0)
    }
}

/// Total input current `I` of the current step (Izhikevich's dimensionless current units,
/// pA-like). Rebuilt every step in [`crate::SimSystems::Input`]: reset to 0, external drive
/// added, then synaptic input. Default: `0.0`. Scratch rebuilt every step: the built-in stages
/// write it without change detection (`Changed<InputCurrent>` does not fire for them).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Deref, DerefMut, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct InputCurrent(pub f64);

/// The inhibitory channel of this step's synaptic input (the sum of the negative weights due),
/// for models whose excitatory and inhibitory synapses have their own dynamics (NEST's
/// `iaf_psc_exp`, which routes input by the weight's sign). Only neurons that have this
/// component receive it, and only when [`SignedChannels`] is present; the positive weights then
/// go to [`InputCurrent`]. Neurons without it get the whole sum in [`InputCurrent`], as always.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Deref, DerefMut)]
pub struct InhibitoryInput(pub f64);

/// Most receptor ports a neuron can have ([`ReceptorInput`], [`SynapticReceptor`]).
pub const MAX_RECEPTORS: usize = 8;

/// This step's synaptic input per receptor port (index `r − 1` for port `r`), for models with
/// several ports (NEST's `*_multisynapse`): the sum of the weights due at the port, any sign.
/// Only neurons that have this component receive it; synapses with port 0 still go to
/// [`InputCurrent`] (and [`InhibitoryInput`]).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Deref, DerefMut)]
pub struct ReceptorInput(pub [f64; MAX_RECEPTORS]);

impl ReceptorInput {
    /// This step's input per port, with `unported` (the neuron's [`InputCurrent`]: Poisson
    /// trains, synapses of port 0) added to port 1, where the models with ports take it.
    #[inline]
    pub fn with_unported(&self, unported: f64) -> [f64; MAX_RECEPTORS] {
        let mut due = self.0;
        due[0] += unported;
        due
    }
}

/// The receptor port a synapse delivers to (1-based, NEST's `receptor_type`; at most
/// [`MAX_RECEPTORS`]). Without it (or with 0) a synapse goes to the channel of its weight's
/// sign. Set it when the synapse is spawned: the delivery index reads it then, and a later
/// change is not seen.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, Deref)]
#[component(immutable)]
pub struct SynapticReceptor(pub u8);

/// The current of the external generators (DC, stimulus, sine, noise) for models that keep it
/// apart from their synaptic input ([`TakesStimulusCurrent`]: the LIF and adaptive exponential
/// models, in pA). In [`crate::SimSystems::Input`] the core moves `now` to `held` and zeroes
/// `now`, then the drive adds this step's generator values to `now`; the model integrates with
/// `held`. So a generator's value at time `t` acts on `V` over `(t, t + dt]` (NEST's `i_0` /
/// `I_stim`, which a NEST generator reaches one connection delay later). Only neurons with a
/// generator have it (the input plugin inserts it with the generator); a model reads 0 where it
/// is absent. Default: both 0.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct StimulusCurrent {
    /// This step's generator current.
    pub now: f64,
    /// The current in effect over this step (the previous step's `now`).
    pub held: f64,
}

impl StimulusCurrent {
    /// The current in effect over this step for row `k` of a column a table may lack (0 where
    /// the neurons have no generator).
    #[inline(always)]
    pub fn held_in(column: Option<&[StimulusCurrent]>, k: usize) -> f64 {
        match column {
            Some(c) => c[k].held,
            None => 0.0,
        }
    }
}

/// Marks a neuron whose model takes generator currents through [`StimulusCurrent`] rather than
/// [`InputCurrent`] (required by the LIF and adaptive exponential models). A generator added to
/// such a neuron (with its model or after it) brings a [`StimulusCurrent`] along.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakesStimulusCurrent;

/// Present when a model routes synaptic input by sign ([`InhibitoryInput`]): the delay ring
/// then keeps negative weights in flight apart from positive ones (twice its memory), and
/// delivery takes its scalar path. Inserted by such a model's plugin.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignedChannels;

/// Excitability `E`, a dimensionless gain on the input current: the neuron integrates
/// `E · I`. Range `>= 0`. Default: `1.0` (no effect). Neuromodulation drives it.
#[derive(Component, Clone, Copy, Debug, PartialEq, Deref, DerefMut, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct Excitability(pub f64);

impl Default for Excitability {
    fn default() -> Self {
        Self(1.0)
    }
}

/// Whether the neuron fired during the current step. Default: `false`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, Deref, DerefMut, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct SpikedThisStep(pub bool);

/// Step of the neuron's most recent spike, `None` before the first. Default: `None`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, Deref, DerefMut)]
pub struct LastSpikeStep(pub Option<u64>);

/// Neuron ids that fired during the current step, ascending. Filled in
/// [`crate::SimSystems::Detect`]; read by delivery, plasticity and recorders.
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct StepSpikes {
    /// Ascending ids of the neurons that fired this step.
    pub ids: Vec<u32>,
}

/// A synapse from neuron `pre` to neuron `post` (dense [`NeuronId`]s).
///
/// Synapses are entities; this component, [`SynapticWeight`] and [`SynapticDelay`] describe
/// them. They are **immutable** components: change a weight by inserting a new
/// `SynapticWeight` (for example `commands.entity(e).insert(SynapticWeight(0.3))`), remove a
/// synapse by despawning it. Component hooks queue each change, and the delivery plugin applies
/// the queue in the next [`crate::SimSystems::Prepare`], so spikes emitted from that step on use
/// the new value (spikes already in flight keep the weight they left with). This costs
/// O(changes), never a scan of all synapses.
///
/// # Where the weights live
/// During a run the live weights are those of [`crate::SynapseIndex`], which delivery reads and
/// plasticity writes. The `SynapticWeight` components are brought up to date in
/// [`crate::SimSystems::Writeback`] at the steps [`crate::WritebackSettings`] names, and always
/// when the simulation finishes ([`crate::finish_simulation`]). Read the index for the weights
/// of the current step; read the components between write-backs or after the run.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[component(immutable)]
#[require(SynapticWeight, SynapticDelay)]
pub struct Synapse {
    /// Presynaptic neuron.
    pub pre: NeuronId,
    /// Postsynaptic neuron.
    pub post: NeuronId,
}

/// Synaptic weight `w`: the jump of the postsynaptic input current caused by one presynaptic
/// spike (Izhikevich 2003 units). Negative for inhibitory synapses. Default: `0.0`.
/// Immutable: re-insert to change (see [`Synapse`]).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Deref)]
#[component(immutable)]
pub struct SynapticWeight(pub f32);

/// Synaptic (axonal) delay, in steps of [`crate::SimClock::dt_ms`]. Range `1..=u16::MAX`.
/// Default: `1` (the spike acts in the step after the one that emitted it).
/// Immutable: re-insert to change (see [`Synapse`]).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Deref)]
#[component(immutable)]
pub struct SynapticDelay(pub u16);

impl Default for SynapticDelay {
    fn default() -> Self {
        Self(1)
    }
}
