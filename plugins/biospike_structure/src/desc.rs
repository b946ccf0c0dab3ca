//! The scene descriptions of structural plasticity (`structure: (...)`) and drift
//! (`drift: (...)`), and their lowering. Their defaults are the plugins': each settings
//! type's `default()` is the lowering of its description's `default()`.

use biospike_core::desc;
use serde::Deserialize;

use crate::plugin::{DriftSettings, StructuralPlasticitySettings};

/// Network adjustment toward a target out-degree (the original project's names and defaults).
/// Every field is optional.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StructureDesc {
    /// Adjust every this many steps, `>= 1`. Default 100.
    #[serde(deserialize_with = "desc::at_least_one_u64")]
    pub every_steps: u64,
    /// Target out-degree. Default 4.
    pub target_out_degree: u32,
    /// Weight of new synapses `U(0,1)·rate`, weakening by `1 − rate`; `[0, 1]`. Default 0.01.
    #[serde(deserialize_with = "desc::probability")]
    pub adjustment_rate: f64,
    /// Prune out-synapses of over-connected neurons below this `|w|`, `>= 0`. Default 0.001.
    #[serde(deserialize_with = "desc::non_negative")]
    pub prune_below: f64,
}

impl Default for StructureDesc {
    fn default() -> Self {
        Self { every_steps: 100, target_out_degree: 4, adjustment_rate: 0.01, prune_below: 1e-3 }
    }
}

impl StructureDesc {
    /// The plugin's settings (new synapses get a delay of 1 step).
    pub fn lower(&self) -> StructuralPlasticitySettings {
        StructuralPlasticitySettings {
            every_steps: self.every_steps,
            target_out_degree: self.target_out_degree,
            adjustment_rate: self.adjustment_rate,
            prune_below: self.prune_below,
            new_delay_steps: 1,
        }
    }
}

/// Drift of state and weights (the original project's "gradual update of initial conditions").
/// Every field is optional.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DriftDesc {
    /// Every this many steps, `>= 1`. Default 100.
    #[serde(deserialize_with = "desc::at_least_one_u64")]
    pub every_steps: u64,
    /// Fraction moved toward a fresh draw, `[0, 1]`. Default 0.01.
    #[serde(deserialize_with = "desc::probability")]
    pub step_size: f64,
    /// `v` draws, mV. Default (−70, −60).
    #[serde(deserialize_with = "desc::range")]
    pub v_range: (f64, f64),
    /// `u` draws. Default (−14, −12).
    #[serde(deserialize_with = "desc::range")]
    pub u_range: (f64, f64),
    /// Excitability draws. Default (0.9, 1.1).
    #[serde(deserialize_with = "desc::range")]
    pub excitability_range: (f64, f64),
    /// Weight-magnitude draws; none leaves weights alone. Default none.
    #[serde(deserialize_with = "desc::opt_range")]
    pub weight_range: Option<(f64, f64)>,
}

impl Default for DriftDesc {
    fn default() -> Self {
        Self {
            every_steps: 100,
            step_size: 0.01,
            v_range: (-70.0, -60.0),
            u_range: (-14.0, -12.0),
            excitability_range: (0.9, 1.1),
            weight_range: None,
        }
    }
}

impl DriftDesc {
    /// The plugin's settings.
    pub fn lower(&self) -> DriftSettings {
        DriftSettings {
            every_steps: self.every_steps,
            step_size: self.step_size,
            v_range: self.v_range,
            u_range: self.u_range,
            excitability_range: self.excitability_range,
            weight_range: self.weight_range,
        }
    }
}
