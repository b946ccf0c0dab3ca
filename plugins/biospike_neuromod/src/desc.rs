//! The scene description of neuromodulation (`neuromodulation: (...)`) and its lowering to
//! [`NeuromodulationSettings`]. Its defaults are the plugin's: `NeuromodulationSettings::default()`
//! is the lowering of `NeuromodulationDesc::default()`.

use biospike_core::Modulator;
use biospike_core::desc;
use serde::Deserialize;

use crate::plugin::{ModulatorSettings, NeuromodulationSettings, OuProcess, ScheduledRelease, Tonic};

/// An Ornstein–Uhlenbeck process or a constant.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum ProcessDesc {
    /// Always `x`.
    Constant(#[serde(deserialize_with = "desc::finite")] f64),
    /// `x ← x + (mean − x)·dt/tau_ms + sigma·√dt·ξ`, starting at `mean`.
    Ou {
        /// Long-run mean.
        #[serde(deserialize_with = "desc::finite")]
        mean: f64,
        /// Noise amplitude, `>= 0`.
        #[serde(deserialize_with = "desc::non_negative")]
        sigma: f64,
        /// Time constant, ms, `> 0`.
        #[serde(deserialize_with = "desc::positive")]
        tau_ms: f64,
    },
    /// A fresh `N(mean, std)` draw every step (tonic levels only).
    Gaussian {
        /// Mean.
        #[serde(deserialize_with = "desc::finite")]
        mean: f64,
        /// Standard deviation, `>= 0`.
        #[serde(deserialize_with = "desc::non_negative")]
        std: f64,
    },
}

impl ProcessDesc {
    /// As a baseline (an OU process; a Gaussian draw per step has no baseline meaning, so as a
    /// baseline it is its mean) and as a tonic level.
    fn lower(self) -> (OuProcess, Tonic) {
        match self {
            Self::Constant(x) => (OuProcess::constant(x), Tonic::Constant(x)),
            Self::Ou { mean, sigma, tau_ms } => {
                let ou = OuProcess { initial: mean, mean, sigma, tau_ms };
                (ou, Tonic::Ou(ou))
            }
            Self::Gaussian { mean, std } => (OuProcess::constant(mean), Tonic::Gaussian { mean, std }),
        }
    }
}

/// Per-modulator overrides of the shared neuromodulation parameters.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ModulatorDesc {
    /// Baseline process.
    #[serde(default)]
    pub baseline: Option<ProcessDesc>,
    /// Tonic part of the level.
    #[serde(default)]
    pub tonic: Option<ProcessDesc>,
    /// Decay of the phasic part, ms, `> 0`.
    #[serde(default, deserialize_with = "desc::opt_positive")]
    pub phasic_tau_ms: Option<f64>,
}

/// Which modulator.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModulatorName {
    /// Dopamine.
    Dopamine,
    /// Serotonin.
    Serotonin,
    /// Norepinephrine.
    Norepinephrine,
}

impl ModulatorName {
    /// The modulator.
    pub fn modulator(self) -> Modulator {
        match self {
            Self::Dopamine => Modulator::Dopamine,
            Self::Serotonin => Modulator::Serotonin,
            Self::Norepinephrine => Modulator::Norepinephrine,
        }
    }
}

/// A release at a fixed time, or every `every_ms` from `at_ms` (until `until_ms`).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDesc {
    /// Which modulator.
    pub modulator: ModulatorName,
    /// When, ms, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub at_ms: f64,
    /// Amount added to the level.
    #[serde(deserialize_with = "desc::finite")]
    pub amount: f64,
    /// Repeat every this many ms, `> 0` (at least one step). Default: once.
    #[serde(default, deserialize_with = "desc::opt_positive")]
    pub every_ms: Option<f64>,
    /// Last time a repeated release may happen, ms, `>= at_ms`. Default: no end.
    #[serde(default, deserialize_with = "desc::opt_non_negative")]
    pub until_ms: Option<f64>,
}

/// Receptor sensitivity of a population to each modulator (default 1 each).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SensitivityDesc {
    /// Dopamine, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub dopamine: f64,
    /// Serotonin, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub serotonin: f64,
    /// Norepinephrine, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub norepinephrine: f64,
}

impl Default for SensitivityDesc {
    fn default() -> Self {
        Self { dopamine: 1.0, serotonin: 1.0, norepinephrine: 1.0 }
    }
}

/// Neuromodulation (the original project's names and values): three modulators whose levels
/// move around Ornstein–Uhlenbeck baselines and scale excitability. Every field is optional.
///
/// A modulator the scene does not mention is inactive: no effect on excitability and a level
/// of 0. A modulator is mentioned by its effect (`serotonin_effect: 0.3`), its own block
/// (`dopamine: (baseline: Constant(0.0))`, also `dopamine: ()`) or a release of it; it then
/// takes the shared values below for what it does not set.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NeuromodulationDesc {
    /// Excitability time constant, ms, `> 0`. Default 20.
    #[serde(deserialize_with = "desc::positive")]
    pub tau_excitability: f64,
    /// Dopamine effect, `>= 0`. Default 0.5 when dopamine is mentioned, else inactive.
    #[serde(deserialize_with = "desc::opt_non_negative")]
    pub dopamine_effect: Option<f64>,
    /// Serotonin effect, `>= 0`. Default 0.3 when serotonin is mentioned, else inactive.
    #[serde(deserialize_with = "desc::opt_non_negative")]
    pub serotonin_effect: Option<f64>,
    /// Norepinephrine effect, `>= 0`. Default 0.2 when norepinephrine is mentioned, else inactive.
    #[serde(deserialize_with = "desc::opt_non_negative")]
    pub norepinephrine_effect: Option<f64>,
    /// Baseline process of every mentioned modulator. Default `Ou(mean: 1, sigma: 0.1, tau_ms: 100)`.
    pub baseline: ProcessDesc,
    /// Tonic level of every mentioned modulator. Default `Gaussian(mean: 1, std: 0.1)`.
    pub tonic: ProcessDesc,
    /// Decay of phasic releases, ms, `> 0`. Default 200.
    #[serde(deserialize_with = "desc::positive")]
    pub phasic_tau_ms: f64,
    /// Dopamine's own values (mentions it).
    pub dopamine: Option<ModulatorDesc>,
    /// Serotonin's own values (mentions it).
    pub serotonin: Option<ModulatorDesc>,
    /// Norepinephrine's own values (mentions it).
    pub norepinephrine: Option<ModulatorDesc>,
    /// Releases at fixed times (each mentions its modulator).
    pub releases: Vec<ReleaseDesc>,
}

/// The original project's effects of dopamine, serotonin and norepinephrine.
pub const ORIGINAL_EFFECTS: [f64; 3] = [0.5, 0.3, 0.2];

impl Default for NeuromodulationDesc {
    fn default() -> Self {
        Self {
            tau_excitability: 20.0,
            dopamine_effect: None,
            serotonin_effect: None,
            norepinephrine_effect: None,
            baseline: ProcessDesc::Ou { mean: 1.0, sigma: 0.1, tau_ms: 100.0 },
            tonic: ProcessDesc::Gaussian { mean: 1.0, std: 0.1 },
            phasic_tau_ms: 200.0,
            dopamine: None,
            serotonin: None,
            norepinephrine: None,
            releases: Vec::new(),
        }
    }
}

impl NeuromodulationDesc {
    /// The plugin's settings; `sensitivity` holds each population's receptor sensitivity (in
    /// population order, `None` for 1 each).
    pub fn lower(&self, sensitivity: &[Option<SensitivityDesc>]) -> NeuromodulationSettings {
        let effects = [self.dopamine_effect, self.serotonin_effect, self.norepinephrine_effect];
        let overrides: [Option<&ModulatorDesc>; 3] = [self.dopamine.as_ref(), self.serotonin.as_ref(), self.norepinephrine.as_ref()];
        let modulators = std::array::from_fn(|i| {
            let m = Modulator::ALL[i];
            let released = self.releases.iter().any(|r| r.modulator.modulator() == m);
            if effects[i].is_none() && overrides[i].is_none() && !released {
                return ModulatorSettings::silent();
            }
            let o = overrides[i].copied().unwrap_or_default();
            ModulatorSettings {
                effect: effects[i].unwrap_or(ORIGINAL_EFFECTS[i]),
                baseline: o.baseline.unwrap_or(self.baseline).lower().0,
                tonic: o.tonic.unwrap_or(self.tonic).lower().1,
                phasic_tau_ms: o.phasic_tau_ms.unwrap_or(self.phasic_tau_ms),
                releases: self
                    .releases
                    .iter()
                    .filter(|r| r.modulator.modulator() == m)
                    .map(|r| ScheduledRelease { at_ms: r.at_ms, amount: r.amount, every_ms: r.every_ms, until_ms: r.until_ms })
                    .collect(),
            }
        });
        let sensitivity = sensitivity.iter().map(|s| s.map_or([1.0; 3], |s| [s.dopamine, s.serotonin, s.norepinephrine])).collect();
        NeuromodulationSettings { modulators, tau_excitability_ms: self.tau_excitability, sensitivity }
    }
}
