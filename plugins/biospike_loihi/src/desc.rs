//! The scene descriptions of the Loihi stages: a population of Loihi LIF neurons
//! (`neuron: LoihiLif(...)`) and weight quantization (`quantize: (...)`).

use biospike_core::desc::DescError;
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::LifParams;

fn ranged<'de, D: Deserializer<'de>, T: Deserialize<'de> + PartialOrd + std::fmt::Display + Copy>(
    d: D,
    lo: T,
    hi: T,
) -> Result<T, D::Error> {
    let v = T::deserialize(d)?;
    if lo <= v && v <= hi { Ok(v) } else { Err(D::Error::custom(format!("{v} is outside the allowed range {lo}..={hi}"))) }
}

/// Range-checked reader of `decay12` (see [`LifDesc`]).
pub fn decay12<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    ranged(d, 0, 4095)
}

/// Range-checked reader of `vth` (see [`LifDesc`]).
pub fn vth<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 0, 131_071)
}

/// Range-checked reader of `bias_exp` (see [`LifDesc`]).
pub fn bias_exp<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    ranged(d, 0, 7)
}

fn weight_bits<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 1, 8)
}

/// A population of Loihi current-based LIF neurons on the bit-exact fixed-point path; its
/// incoming weights are quantized per projection (Lava's scaling).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LifDesc {
    /// Current decay, 0..=4095.
    #[serde(deserialize_with = "decay12")]
    pub du: u16,
    /// Voltage decay, 0..=4095.
    #[serde(deserialize_with = "decay12")]
    pub dv: u16,
    /// Threshold mantissa (threshold `vth << 6`), 0..=131071.
    #[serde(deserialize_with = "vth")]
    pub vth: u32,
    /// Bias mantissa range `(low, high)`, drawn per neuron uniformly (inclusive), within −4096..=4095.
    pub bias_mant: (i16, i16),
    /// Bias exponent, 0..=7.
    #[serde(deserialize_with = "bias_exp")]
    pub bias_exp: u8,
}

impl LifDesc {
    /// Relations between fields.
    pub fn check(&self) -> Result<(), DescError> {
        let (lo, hi) = self.bias_mant;
        if -4096 <= lo && lo <= hi && hi <= 4095 {
            Ok(())
        } else {
            Err(DescError::new("bias_mant", "bias_mant", format!("({lo}, {hi}); allowed: -4096 <= low <= high <= 4095")))
        }
    }

    /// The neuron parameters.
    pub fn params(&self) -> LifParams {
        LifParams { du: i32::from(self.du), dv: i32::from(self.dv), vth: self.vth as i32 }
    }
}

/// Loihi weight quantization of the whole network.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QuantizeDesc {
    /// Weight bits kept, 1..=8. Default 8.
    #[serde(deserialize_with = "weight_bits")]
    pub num_weight_bits: u32,
    /// Replace the float weights by the quantized ones (`true`), or only report (`false`,
    /// the default).
    pub apply: bool,
}

impl Default for QuantizeDesc {
    fn default() -> Self {
        Self { num_weight_bits: 8, apply: false }
    }
}

impl QuantizeDesc {
    /// The plugin (its choices are build-time ones).
    pub fn plugin(&self) -> crate::LoihiQuantizationPlugin {
        let mode = if self.apply { crate::QuantizationMode::Apply } else { crate::QuantizationMode::ReportOnly };
        crate::LoihiQuantizationPlugin { mode, num_weight_bits: self.num_weight_bits }
    }
}
