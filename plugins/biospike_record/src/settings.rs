//! What to record and where: the settings of `ParquetRecorderPlugin`
//! and the resources it reports through. Free of Arrow and Parquet, so that scenes (whose
//! `record` section converts into these) parse in builds without the `parquet` feature.

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use std::path::{Path, PathBuf};

/// Which neurons to sample, and how often.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StateSampling {
    /// Neuron ids to sample (ids that do not exist are ignored).
    pub neurons: Vec<u32>,
    /// Sample every this many steps, `>= 1`. Default: `1`.
    pub every_steps: u64,
}

/// Tunable parameters of `ParquetRecorderPlugin`. Insert before adding the plugin.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct RecordSettings {
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// Write `spikes.parquet`. Default: `true`.
    pub spikes: bool,
    /// Write `synapses.parquet` with start and end weights. Default: `true`.
    pub synapses: bool,
    /// Sampled state (`state.parquet`). Default: none.
    pub state: Option<StateSampling>,
    /// Rows buffered before a batch goes to the writer. Default: `65_536`.
    pub batch_rows: usize,
    /// Rows per Parquet row group. Default: `1 << 20`.
    pub row_group_rows: usize,
    /// Key-value metadata stored in every file.
    pub metadata: Vec<(String, String)>,
    /// Sampled synapse weights (`weights.parquet`, `weight_histogram.parquet`). Default: none.
    pub weights: Option<crate::WeightSampling>,
    /// Sample neuromodulator levels (`modulators.parquet`) and mean excitability per
    /// population (`excitability.parquet`) every this many steps, when the model has
    /// neuromodulators. Default: none.
    pub modulation_every_steps: Option<u64>,
    /// Split over several processes: this process's share. Each table is then one part per
    /// rank in a folder named after it ([`Partition::table_path`]); a rank writes the spikes
    /// of its own neurons, the state of its own sampled neurons and the synapses it stores.
    /// Default: none (one process, one file per table).
    pub partition: Option<Partition>,
}

impl RecordSettings {
    /// Where table `file` (`"spikes.parquet"`, …) goes: `out_dir/file`, or this rank's part
    /// of it when split over processes.
    pub fn path(&self, file: &str) -> PathBuf {
        Partition::table_file(self.partition.as_ref(), &self.out_dir, file)
    }

    /// Defaults writing into `out_dir`.
    pub fn new(out_dir: impl AsRef<Path>) -> Self {
        Self {
            out_dir: out_dir.as_ref().to_owned(),
            spikes: true,
            synapses: true,
            state: None,
            batch_rows: 65_536,
            row_group_rows: 1 << 20,
            metadata: Vec::new(),
            weights: None,
            modulation_every_steps: None,
            partition: None,
        }
    }
}

/// Key-value metadata known only when the run ends (the driver's outcome: `biospike.outcome`),
/// appended with `biospike.steps_run` and `biospike.simulated_ms` to every table the recorder
/// completes. A driver inserts it before [`FinishSystems::Close`].
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct ClosingMetadata(pub Vec<(String, String)>);

/// Files completed by the recorder when the simulation finished ([`FinishSystems::Close`]).
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub struct RecordedFiles(pub Vec<PathBuf>);

/// First recording error, if any; recording stops at the first error and the driver reports it.
#[derive(Resource, Debug, Default, Clone, PartialEq, Eq)]
pub enum RecorderStatus {
    /// Recording normally.
    #[default]
    Ok,
    /// The first error, formatted.
    Failed(String),
}

/// Synapse weights sampled during a run (`weights.parquet`, `weight_histogram.parquet`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WeightSampling {
    /// `(pre, post)` synapses to trace (the first synapse between the two, if any).
    pub synapses: Vec<(u32, u32)>,
    /// Sample every this many steps, `>= 1`.
    pub every_steps: u64,
    /// Histogram of the weights, if wanted.
    pub histogram: Option<WeightHistogram>,
}

/// Histogram bins for [`WeightSampling`].
#[derive(Clone, Debug, PartialEq)]
pub struct WeightHistogram {
    /// Number of equal bins over `[low, high]` (values outside go to the end bins).
    pub bins: u32,
    /// Lower edge.
    pub low: f64,
    /// Upper edge.
    pub high: f64,
    /// Only synapses whose presynaptic neuron is in these populations (all when empty).
    pub source_populations: Vec<u16>,
}
