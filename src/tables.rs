//! The neurons table, written by the facade because it knows every stage's components.

use arrow_array::{ArrayRef, Float32Array, Float64Array, StringArray, UInt16Array, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_izhikevich::IzhikevichParams;
use biospike_record::{RecordError, write_parquet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes `neurons.parquet`: `neuron, population, population_name, kind, a, b, c, d, x, y, z`
/// (`a..d` are null for neurons that are not Izhikevich cells, e.g. Loihi LIF).
pub fn write_neurons(world: &mut World, path: &Path, metadata: &[(String, String)]) -> Result<(), RecordError> {
    let table = world.resource::<PopulationTable>().clone();
    let mut q = world.query::<(&NeuronId, &PopulationId, Option<&IzhikevichParams>, &Position)>();
    let mut rows: Vec<_> = q.iter(world).map(|(id, p, params, pos)| (id.0, p.0, params.copied(), pos.0)).collect();
    rows.sort_unstable_by_key(|r| r.0);
    let name = |p: u16| table.populations.get(usize::from(p)).map_or("", |x| x.name.as_str());
    let kind = |p: u16| match table.populations.get(usize::from(p)).map(|x| x.kind) {
        Some(PopulationKind::Inhibitory) => "inhibitory",
        _ => "excitatory",
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("neuron", DataType::UInt32, false),
        Field::new("population", DataType::UInt16, false),
        Field::new("population_name", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Float64, true),
        Field::new("c", DataType::Float64, true),
        Field::new("d", DataType::Float64, true),
        Field::new("x", DataType::Float32, false),
        Field::new("y", DataType::Float32, false),
        Field::new("z", DataType::Float32, false),
    ]));
    let f64col = |f: fn(&IzhikevichParams) -> f64| Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.2.as_ref().map(f)))) as ArrayRef;
    let f32col = |i: usize| Arc::new(Float32Array::from_iter_values(rows.iter().map(|r| r.3[i]))) as ArrayRef;
    write_parquet(
        path,
        schema,
        vec![
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(UInt16Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| name(r.1)))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| kind(r.1)))),
            f64col(|p| p.a),
            f64col(|p| p.b),
            f64col(|p| p.c),
            f64col(|p| p.d),
            f32col(0),
            f32col(1),
            f32col(2),
        ],
        metadata,
    )
}

/// Writes `quantization.parquet` (one row per projection) and, when runs were compared,
/// `quantization_runs.parquet` (`population, spikes_float, spikes_quantized, rate_float_hz,
/// rate_quantized_hz`). Returns the files written.
pub fn write_quantization(
    dir: &Path,
    reports: &[crate::quantize::ProjectionReport],
    runs: &[(String, u64, u64, f64, f64)],
    metadata: &[(String, String)],
) -> Result<Vec<PathBuf>, RecordError> {
    use arrow_array::{Int32Array, UInt64Array};
    std::fs::create_dir_all(dir).map_err(|e| RecordError::Io { path: dir.to_owned(), source: e })?;
    let path = dir.join("quantization.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("target", DataType::Utf8, false),
        Field::new("synapses", DataType::UInt64, false),
        Field::new("mode", DataType::Utf8, false),
        Field::new("weight_exp", DataType::Int32, false),
        Field::new("num_weight_bits", DataType::UInt32, false),
        Field::new("max_abs_weight", DataType::Float64, false),
        Field::new("max_abs_error", DataType::Float64, false),
        Field::new("mean_abs_error", DataType::Float64, false),
        Field::new("zero_fraction", DataType::Float64, false),
    ]));
    let f = |g: fn(&crate::quantize::ProjectionReport) -> f64| Arc::new(Float64Array::from_iter_values(reports.iter().map(g))) as ArrayRef;
    write_parquet(
        &path,
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(reports.iter().map(|r| r.source.as_str()))),
            Arc::new(StringArray::from_iter_values(reports.iter().map(|r| r.target.as_str()))),
            Arc::new(UInt64Array::from_iter_values(reports.iter().map(|r| r.synapses as u64))),
            Arc::new(StringArray::from_iter_values(reports.iter().map(|r| format!("{:?}", r.mode)))),
            Arc::new(Int32Array::from_iter_values(reports.iter().map(|r| r.weight_exp))),
            Arc::new(UInt32Array::from_iter_values(reports.iter().map(|r| r.num_weight_bits))),
            f(|r| r.max_abs_weight),
            f(|r| r.max_abs_error),
            f(|r| r.mean_abs_error),
            f(|r| r.zero_fraction),
        ],
        metadata,
    )?;
    let mut files = vec![path];
    if !runs.is_empty() {
        let path = dir.join("quantization_runs.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("population", DataType::Utf8, false),
            Field::new("spikes_float", DataType::UInt64, false),
            Field::new("spikes_quantized", DataType::UInt64, false),
            Field::new("rate_float_hz", DataType::Float64, false),
            Field::new("rate_quantized_hz", DataType::Float64, false),
        ]));
        write_parquet(
            &path,
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(runs.iter().map(|r| r.0.as_str()))),
                Arc::new(UInt64Array::from_iter_values(runs.iter().map(|r| r.1))),
                Arc::new(UInt64Array::from_iter_values(runs.iter().map(|r| r.2))),
                Arc::new(Float64Array::from_iter_values(runs.iter().map(|r| r.3))),
                Arc::new(Float64Array::from_iter_values(runs.iter().map(|r| r.4))),
            ],
            metadata,
        )?;
        files.push(path);
    }
    Ok(files)
}

/// Writes `profile.parquet`: one row per system, `system, phase, runs, total_ms, us_per_step,
/// percent` (of the profiled schedule time), with the profiled step count as metadata
/// (`biospike.profile_steps`). Group by `phase` for the time per phase.
pub fn write_profile(profile: &biospike_core::SimProfile, path: &Path, metadata: &[(String, String)]) -> Result<(), RecordError> {
    use arrow_array::UInt64Array;
    let steps = profile.steps.max(1) as f64;
    let schema = Arc::new(Schema::new(vec![
        Field::new("system", DataType::Utf8, false),
        Field::new("phase", DataType::Utf8, false),
        Field::new("runs", DataType::UInt64, false),
        Field::new("total_ms", DataType::Float64, false),
        Field::new("us_per_step", DataType::Float64, false),
        Field::new("percent", DataType::Float64, false),
    ]));
    let s = &profile.systems;
    let mut meta = metadata.to_vec();
    meta.push(("biospike.profile_steps".into(), profile.steps.to_string()));
    meta.push(("biospike.profile_total_ms".into(), (profile.total.as_secs_f64() * 1e3).to_string()));
    write_parquet(
        path,
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(s.iter().map(|x| x.name.as_str()))) as ArrayRef,
            Arc::new(StringArray::from_iter_values(s.iter().map(|x| x.phase.as_str()))),
            Arc::new(UInt64Array::from_iter_values(s.iter().map(|x| x.runs))),
            Arc::new(Float64Array::from_iter_values(s.iter().map(|x| x.total.as_secs_f64() * 1e3))),
            Arc::new(Float64Array::from_iter_values(s.iter().map(|x| x.total.as_secs_f64() * 1e6 / steps))),
            Arc::new(Float64Array::from_iter_values(s.iter().map(|x| profile.percent(x.total)))),
        ],
        &meta,
    )
}

/// One column of [`write_table`].
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Unsigned integers.
    U64(Vec<u64>),
    /// Floats.
    F64(Vec<f64>),
    /// Text.
    Str(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Self::U64(v) => v.len(),
            Self::F64(v) => v.len(),
            Self::Str(v) => v.len(),
        }
    }
}

/// Writes a small table of your own (a sweep's results, a summary) as Parquet, readable by
/// polars and pandas like biospike's tables: `columns` are `(name, values)`, all of one length.
///
/// ```
/// use biospike::tables::{Column, write_table};
///
/// let path = std::env::temp_dir().join(format!("biospike-doc-table-{}.parquet", std::process::id()));
/// write_table(&path, vec![("seed", Column::U64(vec![1, 2])), ("rate_hz", Column::F64(vec![7.5, 7.4]))], &[]).expect("written");
/// # std::fs::remove_file(&path).ok();
/// ```
///
/// # Panics
/// If the columns differ in length.
pub fn write_table(path: &Path, columns: Vec<(&str, Column)>, metadata: &[(String, String)]) -> Result<(), RecordError> {
    use arrow_array::UInt64Array;
    let rows = columns.first().map_or(0, |c| c.1.len());
    assert!(columns.iter().all(|c| c.1.len() == rows), "every column of a table has the same length");
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, c)| {
            let t = match c {
                Column::U64(_) => DataType::UInt64,
                Column::F64(_) => DataType::Float64,
                Column::Str(_) => DataType::Utf8,
            };
            Field::new(*name, t, false)
        })
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|(_, c)| match c {
            Column::U64(v) => Arc::new(UInt64Array::from(v)) as ArrayRef,
            Column::F64(v) => Arc::new(Float64Array::from(v)) as ArrayRef,
            Column::Str(v) => Arc::new(StringArray::from(v)) as ArrayRef,
        })
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| RecordError::Io { path: dir.to_owned(), source: e })?;
    }
    write_parquet(path, Arc::new(Schema::new(fields)), arrays, metadata)
}
