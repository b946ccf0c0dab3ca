//! The scene descriptions of a population's outgoing synapses (`synapses: (...)` in a
//! population) and of where a scene's synapses live (`synapse_storage`).

use biospike_core::desc::{DescError, DistDesc};
use serde::Deserialize;

/// Outgoing synapses of a population.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SynapseDesc {
    /// Weight magnitude; the sign comes from the population's `kind`. Default: `Constant(1.0)`.
    pub weight: DistDesc,
    /// Delay in ms, rounded to whole steps (`>= 1` step). Default: `Constant(1.0)`.
    pub delay_ms: DistDesc,
    /// Names of the populations this one may connect to (`FixedOutDegree` only). Default: all.
    pub targets: Option<Vec<String>>,
}

impl Default for SynapseDesc {
    fn default() -> Self {
        Self { weight: DistDesc::Constant(1.0), delay_ms: DistDesc::Constant(1.0), targets: None }
    }
}

impl SynapseDesc {
    /// Relations between fields: ranges ordered, and delays of `1..=65535` steps of `dt_ms`.
    pub fn check(&self, dt_ms: f64) -> Result<(), DescError> {
        for (what, key, dist) in [("weight", "weight", self.weight), ("delay_ms", "delay_ms", self.delay_ms)] {
            dist.check().map_err(|m| DescError::new(what, key, m))?;
        }
        let (lo, hi) = self.delay_ms.bounds();
        let (lo_steps, hi_steps) = (biospike_core::steps_in(lo, dt_ms), biospike_core::steps_in(hi, dt_ms));
        if lo_steps < 1 || hi_steps > u64::from(u16::MAX) {
            return Err(DescError::new(
                "delay_ms",
                "delay_ms",
                format!(
                    "delays {lo}..{hi} ms{} are {lo_steps}..{hi_steps} steps of {dt_ms} ms; allowed 1..=65535 steps",
                    if self.delay_ms == Self::default().delay_ms { " (the default delay)" } else { "" }
                ),
            ));
        }
        Ok(())
    }
}

/// Where a scene's synapses live.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynapseStorageDesc {
    /// One entity per synapse (`Synapse`, `SynapticWeight`, `SynapticDelay`), indexed for
    /// delivery: user systems query, edit and despawn them (≈ 120 bytes per synapse).
    #[default]
    Entities,
    /// In the delivery index only (`SynapseIndex::index_only`, 10 bytes per synapse, plus 1 for
    /// STDP): for large fixed networks. Weights are read and changed through the index; not
    /// allowed with `structure`, `drift`, `quantize` or an `experiment`, which edit or name
    /// synapse entities.
    IndexOnly,
}
