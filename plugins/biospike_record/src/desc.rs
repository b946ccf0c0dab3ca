//! The scene description of what is recorded (`record: (...)`) and its lowering to
//! [`RecordSettings`]. Its defaults are the plugin's (spikes, neurons and synapses on, nothing
//! sampled).

use biospike_core::desc::{self, DescError};
use serde::Deserialize;
use std::path::Path;

use crate::settings::{RecordSettings, StateSampling, WeightHistogram, WeightSampling};

/// Sampled state recording.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateDesc {
    /// Global neuron ids to sample.
    pub neurons: Vec<u32>,
    /// Sample period in steps, `>= 1`. Default `1`.
    #[serde(default = "desc::one_u64", deserialize_with = "desc::at_least_one_u64")]
    pub every_steps: u64,
}

/// Weights sampled during the run.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsDesc {
    /// `(pre, post)` neuron ids of synapses to trace (the experiment's synapse is added).
    #[serde(default)]
    pub synapses: Vec<(u32, u32)>,
    /// Sample period in steps, `>= 1`.
    #[serde(deserialize_with = "desc::at_least_one_u64")]
    pub every_steps: u64,
    /// Histogram of the weights.
    #[serde(default)]
    pub histogram: Option<HistogramDesc>,
}

/// The most bins a weight histogram may have.
pub const MAX_HISTOGRAM_BINS: u32 = 100_000;

/// Weight histogram bins.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HistogramDesc {
    /// Number of bins, `1..=100000`.
    #[serde(deserialize_with = "desc::at_least_one")]
    pub bins: u32,
    /// Lower edge.
    #[serde(deserialize_with = "desc::finite")]
    pub low: f64,
    /// Upper edge, `> low`.
    #[serde(deserialize_with = "desc::finite")]
    pub high: f64,
    /// Source population names (all when empty).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// What is recorded. Every field is optional.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecordDesc {
    /// `spikes.parquet`. Default `true`.
    pub spikes: bool,
    /// `neurons.parquet`. Default `true`.
    pub neurons: bool,
    /// `synapses.parquet`. Default `true`.
    pub synapses: bool,
    /// `state.parquet`. Default: none.
    pub state: Option<StateDesc>,
    /// `weights.parquet` / `weight_histogram.parquet`. Default: none.
    pub weights: Option<WeightsDesc>,
    /// `modulators.parquet` and `excitability.parquet` every this many steps (with
    /// neuromodulation). Default: none.
    pub modulation_every_steps: Option<u64>,
}

impl Default for RecordDesc {
    fn default() -> Self {
        Self { spikes: true, neurons: true, synapses: true, state: None, weights: None, modulation_every_steps: None }
    }
}

impl RecordDesc {
    /// Relations between fields: `populations` are the scene's population names, `neurons` its
    /// neuron count.
    pub fn check(&self, populations: &[&str], neurons: u32) -> Result<(), DescError> {
        if let Some(h) = self.weights.as_ref().and_then(|w| w.histogram.as_ref()) {
            if h.high <= h.low || !(h.high - h.low).is_finite() {
                return Err(DescError::new(
                    "weights.histogram",
                    "histogram",
                    format!("({}, {}); allowed: low < high with a finite width high - low", h.low, h.high),
                ));
            }
            if h.bins > MAX_HISTOGRAM_BINS {
                return Err(DescError::new(
                    "weights.histogram.bins",
                    "bins",
                    format!("{} is outside the allowed range 1..={MAX_HISTOGRAM_BINS}", h.bins),
                ));
            }
            if let Some(bad) = h.sources.iter().find(|x| !populations.contains(&x.as_str())) {
                return Err(DescError::new(
                    "weights.histogram.sources",
                    "sources",
                    format!("unknown population {bad:?}; allowed: {}", populations.join(", ")),
                ));
            }
        }
        if let Some(s) = &self.state
            && let Some(bad) = s.neurons.iter().find(|&&k| k >= neurons)
        {
            return Err(DescError::new("state.neurons", "neurons", format!("neuron {bad} is outside 0..{neurons}")));
        }
        Ok(())
    }

    /// The recorder's settings writing into `out`, with `metadata` in every file;
    /// `population` maps a name to its id (after [`check`](Self::check)).
    pub fn lower(&self, out: &Path, metadata: Vec<(String, String)>, population: impl Fn(&str) -> u16) -> RecordSettings {
        let mut settings = RecordSettings::new(out);
        settings.spikes = self.spikes;
        settings.synapses = self.synapses;
        settings.state = self.state.as_ref().map(|s| StateSampling { neurons: s.neurons.clone(), every_steps: s.every_steps });
        settings.metadata = metadata;
        settings.modulation_every_steps = self.modulation_every_steps;
        settings.weights = self.weights.as_ref().map(|w| WeightSampling {
            synapses: w.synapses.clone(),
            every_steps: w.every_steps,
            histogram: w.histogram.as_ref().map(|h| WeightHistogram {
                bins: h.bins,
                low: h.low,
                high: h.high,
                source_populations: h.sources.iter().map(|n| population(n)).collect(),
            }),
        });
        settings
    }
}
