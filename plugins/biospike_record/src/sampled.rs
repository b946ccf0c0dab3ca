//! Periodically sampled tables: synapse weights (chosen synapses and a histogram, read from the
//! live [`SynapseIndex`]), neuromodulator levels, and mean excitability per population.

use arrow_array::{ArrayRef, Float32Array, Float64Array, StringArray, UInt16Array, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bevy_ecs::prelude::*;
use biospike_core::ExactSum;
use biospike_core::prelude::*;
use std::sync::Arc;

use crate::plugin::RecordError;
use crate::settings::{RecordSettings, RecorderStatus};
use crate::tables::{ParquetTable, properties};

/// One column being buffered.
enum Col {
    U64(Vec<u64>),
    F64(Vec<f64>),
    F32(Vec<f32>),
    U32(Vec<u32>),
    U16(Vec<u16>),
    Str(Vec<&'static str>),
}

impl Col {
    fn of(t: &DataType) -> Self {
        match t {
            DataType::UInt64 => Self::U64(Vec::new()),
            DataType::Float32 => Self::F32(Vec::new()),
            DataType::UInt32 => Self::U32(Vec::new()),
            DataType::UInt16 => Self::U16(Vec::new()),
            DataType::Utf8 => Self::Str(Vec::new()),
            _ => Self::F64(Vec::new()),
        }
    }

    fn take(&mut self) -> ArrayRef {
        match self {
            Self::U64(v) => Arc::new(UInt64Array::from(std::mem::take(v))),
            Self::F64(v) => Arc::new(Float64Array::from(std::mem::take(v))),
            Self::F32(v) => Arc::new(Float32Array::from(std::mem::take(v))),
            Self::U32(v) => Arc::new(UInt32Array::from(std::mem::take(v))),
            Self::U16(v) => Arc::new(UInt16Array::from(std::mem::take(v))),
            Self::Str(v) => Arc::new(StringArray::from(std::mem::take(v))),
        }
    }
}

/// A table written in batches: its file and its buffered columns.
pub(crate) struct Sampled {
    table: ParquetTable,
    cols: Vec<Col>,
    rows: usize,
}

impl Sampled {
    fn create(settings: &RecordSettings, file: &str, schema: SchemaRef) -> Result<Self, RecordError> {
        let cols = schema.fields().iter().map(|f| Col::of(f.data_type())).collect();
        let path = path_of(settings, file);
        let table = ParquetTable::create(&path, schema, properties(&settings.metadata, settings.row_group_rows))?;
        Ok(Self { table, cols, rows: 0 })
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        if self.rows == 0 {
            return Ok(());
        }
        self.rows = 0;
        let arrays = self.cols.iter_mut().map(Col::take).collect();
        self.table.write(arrays)
    }

    /// Flushes and completes the file; returns its path.
    pub(crate) fn close(mut self, extra: &[(String, String)]) -> (std::path::PathBuf, Result<(), RecordError>) {
        let r = self.flush().and_then(|()| self.table.close_with(extra));
        (self.table.path().to_owned(), r)
    }
}

macro_rules! push {
    ($s:expr, $($i:tt : $variant:ident = $v:expr),+) => {{
        $( if let Col::$variant(c) = &mut $s.cols[$i] { c.push($v); } )+
        $s.rows += 1;
    }};
}

fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(fields.iter().map(|(n, t)| Field::new(*n, t.clone(), false)).collect::<Vec<_>>()))
}

impl Sampled {
    /// Flushes the buffered rows and saves the table's parts into `dest` (a checkpoint).
    pub(crate) fn checkpoint(&mut self, dest: &std::path::Path) -> Result<crate::plugin::SavedTable, RecordError> {
        self.flush()?;
        let parts = self.table.checkpoint(dest)?;
        Ok((self.table.file_name(), crate::plugin::schema_fields(&self.table.schema()), parts))
    }

    /// A table continued from a checkpoint's parts.
    pub(crate) fn resume(
        settings: &RecordSettings,
        file: &str,
        schema: SchemaRef,
        src: &std::path::Path,
        parts: usize,
    ) -> Result<Self, RecordError> {
        let cols = schema.fields().iter().map(|f| Col::of(f.data_type())).collect();
        let path = path_of(settings, file);
        let table = ParquetTable::resume(&path, schema, properties(&settings.metadata, settings.row_group_rows), src, parts)?;
        Ok(Self { table, cols, rows: 0 })
    }
}

/// The sampled tables of one recorder.
#[derive(Resource, Default)]
pub(crate) struct SampledTables {
    started: bool,
    weights: Option<Sampled>,
    histogram: Option<Sampled>,
    modulators: Option<Sampled>,
    excitability: Option<Sampled>,
}

impl SampledTables {
    /// Whether the tables were opened, and each slot's table.
    pub(crate) fn slots_mut(&mut self) -> (&mut bool, [&mut Option<Sampled>; 4]) {
        (&mut self.started, [&mut self.weights, &mut self.histogram, &mut self.modulators, &mut self.excitability])
    }

    /// Every open table, emptied.
    pub(crate) fn drain(&mut self) -> Vec<Sampled> {
        [self.weights.take(), self.histogram.take(), self.modulators.take(), self.excitability.take()].into_iter().flatten().collect()
    }
}

/// The tables about the whole network (a histogram, the levels, population means): one file
/// also when split over ranks, which rank 0 writes; the others are one part per rank.
fn is_whole_network(file: &str) -> bool {
    matches!(file, "weight_histogram.parquet" | "modulators.parquet" | "excitability.parquet")
}

/// Where sampled table `file` goes ([`is_whole_network`]).
fn path_of(settings: &RecordSettings, file: &str) -> std::path::PathBuf {
    if is_whole_network(file) { settings.out_dir.join(file) } else { settings.path(file) }
}

/// Opens table `file`. A whole-network table (a histogram, the levels, population
/// means) of a split run is one file that rank 0 writes (the others return `None`); the
/// others are one part per rank.
fn open(settings: &RecordSettings, file: &str, fields: &[(&str, DataType)], status: &mut RecorderStatus) -> Option<Sampled> {
    if is_whole_network(file) && settings.partition.is_some_and(|p| p.rank != 0) {
        return None;
    }
    match Sampled::create(settings, file, schema(fields)) {
        Ok(t) => Some(t),
        Err(e) => {
            crate::plugin::fail(status, e);
            None
        }
    }
}

/// The model state the sampled tables read.
#[derive(bevy_ecs::system::SystemParam)]
pub(crate) struct SampledInputs<'w, 's> {
    index: Option<Res<'w, SynapseIndex>>,
    levels: Option<Res<'w, NeuromodulatorLevels>>,
    table: Res<'w, PopulationTable>,
    neurons: Query<'w, 's, (&'static PopulationId, &'static Excitability)>,
    sums: Option<Res<'w, RankSums>>,
}

pub(crate) fn record_sampled(
    tables: &mut SampledTables,
    status: &mut RecorderStatus,
    settings: &RecordSettings,
    inputs: &SampledInputs,
    clock: &SimClock,
) {
    use DataType::*;
    let (index, levels, table, neurons) = (inputs.index.as_deref(), inputs.levels.as_deref(), &*inputs.table, &inputs.neurons);
    // Split over ranks: every rank takes part in the sums of a whole-network table, rank 0
    // writes it.
    let sums = inputs.sums.as_deref().filter(|_| settings.partition.is_some_and(|p| p.is_split()));
    let t = tables;
    if !t.started {
        t.started = true;
        if std::fs::create_dir_all(&settings.out_dir).is_err() {
            return; // reported by the main recorder
        }
        if let Some(w) = &settings.weights {
            if !w.synapses.is_empty() {
                let f = [("step", UInt64), ("time_ms", Float64), ("pre", UInt32), ("post", UInt32), ("weight", Float32)];
                t.weights = open(settings, "weights.parquet", &f, status);
            }
            if w.histogram.is_some() {
                let f = [
                    ("step", UInt64),
                    ("time_ms", Float64),
                    ("bin", UInt32),
                    ("bin_low", Float64),
                    ("bin_high", Float64),
                    ("count", UInt64),
                ];
                t.histogram = open(settings, "weight_histogram.parquet", &f, status);
            }
        }
        if settings.modulation_every_steps.is_some() && levels.is_some() {
            let f = [("step", UInt64), ("time_ms", Float64), ("modulator", Utf8), ("level", Float64), ("baseline", Float64)];
            t.modulators = open(settings, "modulators.parquet", &f, status);
            let f = [("step", UInt64), ("time_ms", Float64), ("population", UInt16), ("mean_excitability", Float64)];
            t.excitability = open(settings, "excitability.parquet", &f, status);
        }
    }
    let (step, time) = (clock.step(), clock.time_ms());
    let batch = settings.batch_rows;
    let mut result = Ok(());
    if let (Some(w), Some(index)) = (&settings.weights, &index)
        && step.is_multiple_of(w.every_steps.max(1))
    {
        if let Some(s) = t.weights.as_mut() {
            for &(pre, post) in &w.synapses {
                let r = index.row(pre);
                let start = r.start;
                if let Some(k) = index.posts()[r].iter().position(|&p| p == post) {
                    push!(s, 0: U64 = step, 1: F64 = time, 2: U32 = pre, 3: U32 = post, 4: F32 = index.weights()[start + k]);
                }
            }
            if s.rows >= batch {
                result = result.and(s.flush());
            }
        }
        if let Some(h) = &w.histogram
            && (t.histogram.is_some() || sums.is_some())
        {
            let bins = h.bins.max(1) as usize;
            let mut counts = vec![0u64; bins];
            let width = (h.high - h.low) / bins as f64;
            let pop = table.population_per_neuron(index.neuron_count());
            for pre in 0..index.neuron_count() as u32 {
                if !h.source_populations.is_empty() && !h.source_populations.contains(&pop.get(pre as usize).copied().unwrap_or(0)) {
                    continue;
                }
                for k in index.row(pre) {
                    let x = (f64::from(index.weights()[k]) - h.low) / width;
                    counts[(x.max(0.0) as usize).min(bins - 1)] += 1;
                }
            }
            if let Some(sums) = sums {
                sums.0.sum_u64(&mut counts);
            }
            if let Some(s) = t.histogram.as_mut() {
                for (b, &c) in counts.iter().enumerate() {
                    let lo = h.low + b as f64 * width;
                    push!(s, 0: U64 = step, 1: F64 = time, 2: U32 = b as u32, 3: F64 = lo, 4: F64 = lo + width, 5: U64 = c);
                }
                if s.rows >= batch {
                    result = result.and(s.flush());
                }
            }
        }
    }
    if let (Some(every), Some(levels)) = (settings.modulation_every_steps, &levels)
        && step.is_multiple_of(every.max(1))
    {
        if let Some(s) = t.modulators.as_mut() {
            for m in Modulator::ALL {
                push!(s, 0: U64 = step, 1: F64 = time, 2: Str = m.name(), 3: F64 = levels.level(m), 4: F64 = levels.baseline(m));
            }
            if s.rows >= batch {
                result = result.and(s.flush());
            }
        }
        if t.excitability.is_some() || sums.is_some() {
            // Exact sums: the same mean on any number of ranks.
            let pops = table.populations.len().max(1);
            let (mut total, mut count) = (vec![0i128; pops], vec![0u64; pops]);
            for (p, e) in neurons.iter() {
                let p = usize::from(p.0);
                if p < pops {
                    let mut x = ExactSum(total[p]);
                    x.add(e.0);
                    total[p] = x.0;
                    count[p] += 1;
                }
            }
            if let Some(sums) = sums {
                sums.0.sum_i128(&mut total);
                sums.0.sum_u64(&mut count);
            }
            if let Some(s) = t.excitability.as_mut() {
                for (p, (&sum, &n)) in total.iter().zip(&count).enumerate() {
                    if n > 0 {
                        push!(s, 0: U64 = step, 1: F64 = time, 2: U16 = p as u16, 3: F64 = ExactSum(sum).value() / n as f64);
                    }
                }
                if s.rows >= batch {
                    result = result.and(s.flush());
                }
            }
        }
    }
    if let Err(e) = result {
        crate::plugin::fail(status, e);
        t.drain();
    }
}
