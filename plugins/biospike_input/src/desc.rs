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
    /// Later rates (an inhomogeneous train, NEST's `inhomogeneous_poisson_generator`): from
    /// step `round(at_ms / dt)` on, the rate is `rate_hz`. Times strictly increasing.
    #[serde(default)]
    pub rate_changes: Vec<RateChangeDesc>,
    /// The rate schedule (`rate_hz` from 0, then `rate_changes`) repeats every this many ms,
    /// `> 0`; every change must lie before it. Default: no repetition.
    #[serde(default, deserialize_with = "desc::opt_positive")]
    pub every_ms: Option<f64>,
}

/// A change of a Poisson train's rate.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateChangeDesc {
    /// From when, ms, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub at_ms: f64,
    /// The new rate, Hz, `>= 0`.
    #[serde(deserialize_with = "desc::non_negative")]
    pub rate_hz: f64,
}

impl PoissonDesc {
    /// The component.
    pub fn component(&self) -> PoissonInput {
        PoissonInput { rate_hz: self.rate_hz, weight: self.weight }
    }

    /// The rate schedule with steps of `dt_ms`, when the rate changes.
    pub fn schedule(&self, dt_ms: f64) -> Option<crate::components::PoissonRateSchedule> {
        if self.rate_changes.is_empty() {
            return None;
        }
        let mut steps = vec![(0u64, self.rate_hz)];
        steps.extend(self.rate_changes.iter().map(|c| (biospike_core::steps_in(c.at_ms, dt_ms), c.rate_hz)));
        let period_steps = self.every_ms.map(|p| biospike_core::steps_in(p, dt_ms).max(1));
        Some(crate::components::PoissonRateSchedule { changes: steps.into(), period_steps })
    }

    /// Relations between fields: change times strictly increasing, and before `every_ms`.
    pub fn check(&self) -> Result<(), desc::DescError> {
        if let (Some(p), Some(last)) = (self.every_ms, self.rate_changes.last())
            && last.at_ms >= p
        {
            return Err(desc::DescError::new(
                format!("rate_changes[{}].at_ms", self.rate_changes.len() - 1),
                "rate_changes",
                format!("{} ms is not within one period of every_ms {} ms; allowed: [0, {})", last.at_ms, p, p),
            ));
        }
        match self.rate_changes.windows(2).position(|w| w[1].at_ms <= w[0].at_ms) {
            Some(i) => Err(desc::DescError::new(
                format!("rate_changes[{}].at_ms", i + 1),
                "rate_changes",
                format!("{} ms is not after the previous change at {} ms", self.rate_changes[i + 1].at_ms, self.rate_changes[i].at_ms),
            )),
            None => Ok(()),
        }
    }
}
