use bevy_ecs::prelude::*;

/// Whether a population's outgoing synapses excite or inhibit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PopulationKind {
    /// Outgoing weights are positive.
    #[default]
    Excitatory,
    /// Outgoing weights are negative.
    Inhibitory,
}

/// One population: a contiguous range of [`crate::NeuronId`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PopulationInfo {
    /// Name from the scene (unique).
    pub name: String,
    /// Sign of the outgoing weights.
    pub kind: PopulationKind,
    /// First neuron id.
    pub first: u32,
    /// Number of neurons.
    pub len: u32,
}

impl PopulationInfo {
    /// The id range `first..first + len`.
    pub fn ids(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.len
    }
}

/// The populations of the network, in id order. Neuron ids of population `p` are
/// `table.populations[p].ids()`.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct PopulationTable {
    /// Populations in order of their id ranges.
    pub populations: Vec<PopulationInfo>,
}

impl PopulationTable {
    /// Total number of neurons.
    pub fn neuron_count(&self) -> u32 {
        self.populations.iter().map(|p| p.len).sum()
    }

    /// Index of the population holding `neuron`, if any.
    pub fn population_of(&self, neuron: u32) -> Option<u16> {
        self.populations.iter().position(|p| p.ids().contains(&neuron)).and_then(|i| u16::try_from(i).ok())
    }
}
