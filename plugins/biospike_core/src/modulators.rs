//! Neuromodulator levels: the shared vocabulary between the neuromodulation plugin (which
//! integrates them), plasticity rules (dopamine gates STDP) and recorders.

use bevy_ecs::prelude::*;

/// One of the three modulators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modulator {
    /// Dopamine (reward; gates three-factor plasticity).
    Dopamine = 0,
    /// Serotonin.
    Serotonin = 1,
    /// Norepinephrine.
    Norepinephrine = 2,
}

impl Modulator {
    /// All three, in index order.
    pub const ALL: [Self; 3] = [Self::Dopamine, Self::Serotonin, Self::Norepinephrine];

    /// Index into per-modulator arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Lower-case name, as recorded.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Dopamine => "dopamine",
            Self::Serotonin => "serotonin",
            Self::Norepinephrine => "norepinephrine",
        }
    }
}

/// Current modulator state. The level of a modulator is its tonic part plus its phasic part;
/// the baseline is the slowly drifting reference the level is compared against.
///
/// Any system may call [`release`](Self::release) (a reward, a surprise); the neuromodulation
/// plugin decays the phasic part and updates tonic parts and baselines in
/// [`crate::SimSystems::Modulation`]. Without that plugin, levels only change by releases.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct NeuromodulatorLevels {
    /// Tonic part of each level.
    pub tonic: [f64; 3],
    /// Phasic part of each level (releases, decaying).
    pub phasic: [f64; 3],
    /// Baseline of each modulator.
    pub baseline: [f64; 3],
}

impl NeuromodulatorLevels {
    /// Level (tonic + phasic).
    pub fn level(&self, m: Modulator) -> f64 {
        self.tonic[m.index()] + self.phasic[m.index()]
    }

    /// Baseline.
    pub fn baseline(&self, m: Modulator) -> f64 {
        self.baseline[m.index()]
    }

    /// Adds `amount` to the phasic part of `m`, effective immediately.
    pub fn release(&mut self, m: Modulator, amount: f64) {
        self.phasic[m.index()] += amount;
    }
}
