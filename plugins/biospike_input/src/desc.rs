//! The scene descriptions of a population's external drive (`noise`, `uniform_noise`,
//! `poisson` in a population; `stimulus` is [`CurrentStimulus`](crate::CurrentStimulus)
//! itself) and their lowering to components.

use biospike_core::desc;
use serde::Deserialize;

use crate::components::{NoiseCurrent, PoissonInput, UniformNoiseCurrent};

/// Gaussian input current drawn every step.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseDesc {
    /// Mean. Default `0`.
    #[serde(default, deserialize_with = "desc::finite")]
    pub mean: f64,
    /// Standard deviation, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub std: f64,
}

impl NoiseDesc {
    /// The component.
    pub fn component(&self) -> NoiseCurrent {
        NoiseCurrent { mean: self.mean, std: self.std }
    }
}

/// Uniform input current drawn every step from `[low, high)`.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UniformNoiseDesc {
    /// Lower end.
    #[serde(deserialize_with = "desc::finite")]
    pub low: f64,
    /// Upper end, `>= low`.
    #[serde(deserialize_with = "desc::finite")]
    pub high: f64,
}

impl UniformNoiseDesc {
    /// The component.
    pub fn component(&self) -> UniformNoiseCurrent {
        UniformNoiseCurrent { low: self.low, high: self.high }
    }
}

/// Poisson spike trains into (some of) a population's neurons.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoissonDesc {
    /// Rate in Hz, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub rate_hz: f64,
    /// Current per input spike.
    #[serde(deserialize_with = "desc::finite")]
    pub weight: f64,
    /// Indices inside the population (0-based); all neurons when absent.
    #[serde(default)]
    pub neurons: Option<Vec<u32>>,
}

impl PoissonDesc {
    /// The component.
    pub fn component(&self) -> PoissonInput {
        PoissonInput { rate_hz: self.rate_hz, weight: self.weight }
    }
}
