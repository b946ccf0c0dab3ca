//! Parquet recording: spikes, neurons, synapses and sampled state.
//!
//! The recorder only **reads** the model. Each table is one Parquet file in the output
//! directory, written with arrow-rs and read directly by `polars.scan_parquet` and
//! `pandas.read_parquet`; every file carries the key-value metadata of [`RecordSettings::metadata`]
//! (the driver stores the scene text, seed and biospike version there). The schema is
//! documented in `docs/recording.md`.
//!
//! | file | rows | written |
//! |---|---|---|
//! | `spikes.parquet` | one per spike: `step, time_ms, neuron, population` | streamed in batches while running |
//! | `state.parquet` | one per sampled neuron and sample: `step, time_ms, neuron, v, u, excitability, input` | streamed |
//! | `neurons.parquet` | one per neuron: id, population, `a, b, c, d`, position | at the first recorded step |
//! | `synapses.parquet` | one per synapse that existed during the run: `pre, post, delay_steps, delay_ms, weight_start, weight_end, created_step, removed_step` | at [`finish_recording`] |
//!
//! Streams are buffered and handed to the Parquet writer in batches, which closes a row group
//! every [`RecordSettings::row_group_rows`] rows: memory stays bounded whatever the run length.
//! Files are completed (footer written) by [`finish_recording`], which drivers call on a normal
//! end, on a halt and on Ctrl-C; if a run panics, dropping the recorder completes them too.
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_record::prelude::*;
//!
//! let dir = std::env::temp_dir().join(format!("biospike-doc-record-{}", std::process::id()));
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::default());
//! app.insert_resource(RecordSettings::new(&dir));
//! app.add_plugins(ParquetRecorderPlugin);
//! app.world_mut().spawn((NeuronId(0), MembranePotential(-65.0)));
//! for _ in 0..10 {
//!     step_simulation(app.world_mut());
//! }
//! // The simulation ends: every file is completed (a driver such as `Simulation` does this).
//! finish_simulation(app.world_mut());
//! assert_eq!(*app.world().resource::<RecorderStatus>(), RecorderStatus::Ok);
//! let files = &app.world().resource::<RecordedFiles>().0;
//! assert!(files.iter().any(|f| f.ends_with("spikes.parquet")));
//! # std::fs::remove_dir_all(&dir).ok();
//! ```
//!
//! # Systems (in [`SimSystems::Record`](biospike_core::SimSystems::Record))
//! 1. `record_step`: static tables on the first step, this step's spikes, sampled state.

mod desc;
#[cfg(feature = "parquet")]
mod plugin;
#[cfg(feature = "parquet")]
mod sampled;
mod settings;
#[cfg(feature = "parquet")]
mod tables;

pub use desc::{HistogramDesc, MAX_HISTOGRAM_BINS, RecordDesc, StateDesc, WeightsDesc};
#[cfg(feature = "parquet")]
pub use plugin::{ParquetRecorderPlugin, RecordError, closing_metadata, finish_recording, write_snapshot};
pub use settings::{ClosingMetadata, RecordSettings, RecordedFiles, RecorderStatus, StateSampling, WeightHistogram, WeightSampling};
#[cfg(feature = "parquet")]
pub use tables::write_parquet;

/// The plugin, its settings and the finishing functions.
pub mod prelude {
    #[cfg(feature = "parquet")]
    pub use crate::plugin::{ParquetRecorderPlugin, RecordError};
    pub use crate::settings::{
        ClosingMetadata, RecordSettings, RecordedFiles, RecorderStatus, StateSampling, WeightHistogram, WeightSampling,
    };
}
