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

    /// Dense map from neuron id (`0..len`) to population index; ids outside every population
    /// map to 0. Build it once where a per-spike or per-synapse lookup is needed.
    pub fn population_per_neuron(&self, len: usize) -> Vec<u16> {
        let mut map = vec![0u16; len];
        for (i, p) in self.populations.iter().enumerate() {
            let (start, end) = ((p.first as usize).min(len), (p.ids().end as usize).min(len));
            map[start..end].fill(i as u16);
        }
        map
    }

    /// Index of the population holding `neuron`, if any.
    pub fn population_of(&self, neuron: u32) -> Option<u16> {
        self.populations.iter().position(|p| p.ids().contains(&neuron)).and_then(|i| u16::try_from(i).ok())
    }

    /// The colour of population `p` in every figure and in the viewer ([`population_color`]).
    pub fn color(&self, p: u16) -> [u8; 3] {
        let kinds: Vec<PopulationKind> = self.populations.iter().map(|x| x.kind).collect();
        population_color(&kinds, usize::from(p))
    }
}

/// Excitatory populations: blues and greens (Okabe & Ito's colour-blind-safe set and darker
/// kin), in order of appearance.
const EXCITATORY_COLORS: [[u8; 3]; 4] = [[0, 114, 178], [0, 158, 115], [86, 180, 233], [40, 70, 140]];
/// Inhibitory populations: vermillion, reddish purple, orange, dark red.
const INHIBITORY_COLORS: [[u8; 3]; 4] = [[213, 94, 0], [204, 121, 167], [230, 159, 0], [150, 40, 40]];

/// The colour (sRGB, 0–255) of population `p` among populations of the given kinds: the n-th
/// excitatory population gets the n-th excitatory colour, the n-th inhibitory one the n-th
/// inhibitory colour (cycling). Figures and the 3D viewer use it, so a population has one
/// colour everywhere.
///
/// ```
/// use biospike_core::{PopulationKind as K, population_color};
/// let kinds = [K::Excitatory, K::Inhibitory, K::Excitatory];
/// assert_eq!(population_color(&kinds, 0), [0, 114, 178]);
/// assert_eq!(population_color(&kinds, 1), [213, 94, 0]);
/// assert_eq!(population_color(&kinds, 2), [0, 158, 115]);
/// ```
pub fn population_color(kinds: &[PopulationKind], p: usize) -> [u8; 3] {
    let kind = kinds.get(p).copied().unwrap_or_default();
    let rank = kinds.iter().take(p).filter(|&&k| k == kind).count();
    match kind {
        PopulationKind::Excitatory => EXCITATORY_COLORS[rank % EXCITATORY_COLORS.len()],
        PopulationKind::Inhibitory => INHIBITORY_COLORS[rank % INHIBITORY_COLORS.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_neuron_map_follows_the_ranges() {
        let p = |name: &str, first, len| PopulationInfo { name: name.into(), kind: PopulationKind::Excitatory, first, len };
        let table = PopulationTable { populations: vec![p("a", 0, 2), p("b", 2, 3)] };
        assert_eq!(table.population_per_neuron(6), vec![0, 0, 1, 1, 1, 0]);
        assert_eq!(table.population_per_neuron(3), vec![0, 0, 1]);
        assert_eq!(table.population_of(4), Some(1));
    }
}

/// One-line descriptions of a neuron's model parameters, for viewers and reports, collected
/// from the neuron-model plugins so that a reader needs no model crate: each model registers
/// a function that describes the entities it owns (and returns `None` for the others).
///
/// ```
/// use bevy_ecs::prelude::*;
/// use biospike_core::NeuronDescriptions;
///
/// #[derive(Component)]
/// struct Tau(f64);
/// let mut world = World::new();
/// let mut d = NeuronDescriptions::default();
/// d.register(|w, e| w.get::<Tau>(e).map(|t| format!("tau = {} ms", t.0)));
/// let n = world.spawn(Tau(20.0)).id();
/// assert_eq!(d.describe(&world, n).as_deref(), Some("tau = 20 ms"));
/// ```
#[derive(Resource, Clone, Debug, Default)]
pub struct NeuronDescriptions {
    describers: Vec<fn(&World, Entity) -> Option<String>>,
}

impl NeuronDescriptions {
    /// Adds a model's describer (registered once per model plugin).
    pub fn register(&mut self, describe: fn(&World, Entity) -> Option<String>) {
        if !self.describers.contains(&describe) {
            self.describers.push(describe);
        }
    }

    /// The first registered description of `neuron`, if a model knows it.
    pub fn describe(&self, world: &World, neuron: Entity) -> Option<String> {
        self.describers.iter().find_map(|d| d(world, neuron))
    }
}
