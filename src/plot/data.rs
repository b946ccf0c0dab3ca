//! Reading a run's tables for the figures: only the columns a figure needs, and the spike table
//! in one streaming pass with memory bounded by neurons and bins, never by spikes.

use arrow_array::{Array, ArrayRef, Float32Array, Float64Array, RecordBatch, StringArray, UInt16Array, UInt32Array, UInt64Array};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PlotError;

/// A table's requested columns, read whole, and the file's metadata.
pub(crate) struct Table {
    cols: BTreeMap<String, ArrayRef>,
    pub(crate) meta: BTreeMap<String, String>,
    rows: usize,
}

fn read_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |m| PlotError::Read { path: path.to_owned(), message: m }
}

/// Opens `path` with only `columns` (all when empty) projected; `None` when the file is absent.
fn open(path: &Path, columns: &[&str]) -> Result<Option<(parquet::arrow::arrow_reader::ParquetRecordBatchReader, Meta)>, PlotError> {
    if !path.exists() {
        return Ok(None);
    }
    let err = read_err(path);
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let meta: BTreeMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().filter_map(|k| Some((k.key.clone(), k.value.clone()?))).collect())
        .unwrap_or_default();
    let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let fields: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    if let Some(missing) = columns.iter().find(|c| !fields.iter().any(|f| f == *c)) {
        return Err(err(format!("not a biospike table: no column `{missing}` (columns: {})", fields.join(", "))));
    }
    let mask = if columns.is_empty() {
        ProjectionMask::all()
    } else {
        let roots: Vec<usize> = columns.iter().filter_map(|c| fields.iter().position(|f| f == c)).collect();
        ProjectionMask::roots(builder.parquet_schema(), roots)
    };
    let reader = builder.with_projection(mask).with_batch_size(1 << 16).build().map_err(|e| err(e.to_string()))?;
    Ok(Some((reader, Meta { meta, rows })))
}

/// A file's key-value metadata and row count.
pub(crate) struct Meta {
    pub(crate) meta: BTreeMap<String, String>,
    pub(crate) rows: usize,
}

impl Table {
    /// Reads `columns` of `path` (every column when empty); `None` when the file is absent.
    pub(crate) fn read(path: &Path, columns: &[&str]) -> Result<Option<Self>, PlotError> {
        let Some((reader, m)) = open(path, columns)? else { return Ok(None) };
        let err = read_err(path);
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().map_err(|e| err(e.to_string()))?;
        let mut cols = BTreeMap::new();
        if let Some(first) = batches.first() {
            for (i, f) in first.schema().fields().iter().enumerate() {
                let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
                let col = arrow_select::concat::concat(&parts).map_err(|e| err(e.to_string()))?;
                cols.insert(f.name().clone(), col);
            }
        }
        Ok(Some(Self { cols, meta: m.meta, rows: m.rows }))
    }

    /// A numeric column as f64 (empty when absent; nulls are NaN).
    pub(crate) fn f64s(&self, name: &str) -> Vec<f64> {
        self.cols.get(name).map(|c| numbers(c.as_ref())).unwrap_or_default()
    }

    /// A text column.
    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.cols
            .get(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .map(|x| x.iter().map(|v| v.unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }

    /// Rows.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }
}

/// A numeric arrow column as f64 (nulls are NaN).
fn numbers(c: &dyn Array) -> Vec<f64> {
    let a = c.as_any();
    if let Some(x) = a.downcast_ref::<Float64Array>() {
        x.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
    } else if let Some(x) = a.downcast_ref::<Float32Array>() {
        x.iter().map(|v| v.map_or(f64::NAN, f64::from)).collect()
    } else if let Some(x) = a.downcast_ref::<UInt64Array>() {
        x.iter().map(|v| v.map_or(f64::NAN, |v| v as f64)).collect()
    } else if let Some(x) = a.downcast_ref::<UInt32Array>() {
        x.iter().map(|v| v.map_or(f64::NAN, f64::from)).collect()
    } else if let Some(x) = a.downcast_ref::<UInt16Array>() {
        x.iter().map(|v| v.map_or(f64::NAN, f64::from)).collect()
    } else {
        Vec::new()
    }
}

/// One population as the figures see it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Population {
    /// Name.
    pub(crate) name: String,
    /// Excitatory or not.
    pub(crate) excitatory: bool,
    /// First neuron id and size.
    pub(crate) first: u32,
    /// Neurons.
    pub(crate) len: u32,
    /// Colour.
    pub(crate) color: [u8; 3],
}

/// What a run was: from the metadata of its tables and `neurons.parquet`.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunInfo {
    /// The scene's `name`.
    pub(crate) scene: String,
    /// Seed.
    pub(crate) seed: String,
    /// Step size, ms.
    pub(crate) dt_ms: f64,
    /// Simulated time, ms (steps run × dt when recorded, else the scene's `time_steps` × dt).
    pub(crate) duration_ms: f64,
    /// Populations in id order (empty without `neurons.parquet`).
    pub(crate) populations: Vec<Population>,
}

impl RunInfo {
    /// Reads what `dir` says about its run.
    pub(crate) fn of(dir: &Path) -> Result<Self, PlotError> {
        let mut info = Self { dt_ms: 1.0, ..Default::default() };
        let mut meta = BTreeMap::new();
        for f in ["spikes.parquet", "synapses.parquet", "state.parquet", "weights.parquet", "modulators.parquet", "neurons.parquet"] {
            if let Some((_, m)) = open(&dir.join(f), &[])? {
                meta = m.meta;
                if meta.contains_key("biospike.steps_run") || f == "neurons.parquet" {
                    break;
                }
            }
        }
        let scene_text = meta.get("biospike.scene").cloned().unwrap_or_default();
        let parsed = crate::Scene::parse(&scene_text, "<metadata>".as_ref()).ok();
        info.scene = meta
            .get("biospike.scene_name")
            .cloned()
            .or_else(|| parsed.as_ref().and_then(|s| s.desc.name.clone()))
            .or_else(|| meta.get("biospike.scene_path").and_then(|p| Path::new(p).file_stem().map(|s| s.to_string_lossy().into_owned())))
            .unwrap_or_else(|| "run".into());
        info.seed = meta.get("biospike.seed").cloned().unwrap_or_default();
        info.dt_ms = meta.get("biospike.dt_ms").and_then(|x| x.parse().ok()).unwrap_or(1.0);
        info.duration_ms = meta
            .get("biospike.simulated_ms")
            .and_then(|x| x.parse().ok())
            .or_else(|| parsed.as_ref().map(|s| s.desc.time_steps as f64 * s.desc.dt_ms))
            .unwrap_or(0.0);
        if let Some(n) = Table::read(&dir.join("neurons.parquet"), &["neuron", "population", "population_name", "kind"])? {
            let (id, pop, name, kind) = (n.f64s("neuron"), n.f64s("population"), n.strings("population_name"), n.strings("kind"));
            let mut pops: BTreeMap<u16, (String, bool, u32, u32)> = BTreeMap::new();
            for i in 0..n.len() {
                let e = pops.entry(pop[i] as u16).or_insert_with(|| {
                    (name.get(i).cloned().unwrap_or_default(), kind.get(i).is_none_or(|k| k != "inhibitory"), u32::MAX, 0)
                });
                e.2 = e.2.min(id[i] as u32);
                e.3 += 1;
            }
            let kinds: Vec<biospike_core::PopulationKind> = pops
                .values()
                .map(|p| if p.1 { biospike_core::PopulationKind::Excitatory } else { biospike_core::PopulationKind::Inhibitory })
                .collect();
            info.populations = pops
                .into_values()
                .enumerate()
                .map(|(i, (name, excitatory, first, len))| Population {
                    name,
                    excitatory,
                    first,
                    len,
                    color: biospike_core::population_color(&kinds, i),
                })
                .collect();
        }
        Ok(info)
    }

    /// The population of neuron `id` (index into `populations`).
    pub(crate) fn population_of(&self, id: u32) -> Option<usize> {
        self.populations.iter().position(|p| (p.first..p.first + p.len).contains(&id))
    }

    /// Neurons in the run.
    pub(crate) fn neurons(&self) -> u32 {
        self.populations.iter().map(|p| p.first + p.len).max().unwrap_or(0)
    }
}

/// Everything the spike figures need, gathered in one pass over `spikes.parquet`.
#[derive(Debug, Default)]
pub(crate) struct SpikeStats {
    /// Spikes in the table.
    pub(crate) total: u64,
    /// Spikes per neuron id.
    pub(crate) per_neuron: Vec<u64>,
    /// PSTH bin width, ms, and spike counts per population and bin.
    pub(crate) bin_ms: f64,
    pub(crate) psth: Vec<Vec<u64>>,
    /// Raster points `(time ms, neuron, population)` inside the window, every `stride`-th
    /// neuron only (1: all).
    pub(crate) raster: Vec<(f64, u32, usize)>,
    pub(crate) stride: u32,
    pub(crate) window_ms: (f64, f64),
    /// Per neuron: last spike (ms), ISI count, sum and sum of squares (for the CV).
    last: Vec<f64>,
    pub(crate) isi_n: Vec<u32>,
    isi_sum: Vec<f64>,
    isi_sq: Vec<f64>,
    /// Log-spaced ISI histogram per population: `isi_edges` (ms) and counts.
    pub(crate) isi_edges: Vec<f64>,
    pub(crate) isi_hist: Vec<Vec<u64>>,
    /// Spike times of the neurons in `traced`, for the membrane-trace marks.
    pub(crate) traced: BTreeMap<u32, Vec<f64>>,
}

/// The most spikes a raster draws; beyond this it keeps every k-th neuron.
pub const MAX_RASTER_POINTS: u64 = 400_000;

impl SpikeStats {
    /// One streaming pass over `path` (`step`, `time_ms`, `neuron`, `population` read, nothing
    /// kept per spike): PSTH with `bin_ms` (chosen from the rate when `None`), raster inside
    /// `window_ms`, ISIs, and the spike times of the neurons in `traced`.
    pub(crate) fn read(
        path: &Path,
        info: &RunInfo,
        bin_ms: Option<f64>,
        window_ms: (f64, f64),
        traced: &[u32],
    ) -> Result<Option<Self>, PlotError> {
        let Some((reader, m)) = open(path, &["time_ms", "neuron"])? else { return Ok(None) };
        let err = read_err(path);
        let pops = info.populations.len().max(1);
        let neurons = info.neurons().max(1) as usize;
        let duration = info.duration_ms.max(info.dt_ms);
        let total = m.rows as u64;
        let bin = bin_ms.unwrap_or_else(|| choose_bin_ms(total, duration, info.dt_ms));
        let bins = ((duration / bin).ceil() as usize).max(1);
        // Raster: points inside the window, estimated from the mean rate; thin out neurons so
        // that at most MAX_RASTER_POINTS are drawn.
        let in_window = total as f64 * ((window_ms.1 - window_ms.0) / duration).clamp(0.0, 1.0);
        let stride = ((in_window / MAX_RASTER_POINTS as f64).ceil() as u32).max(1);
        let isi_edges = log_edges(info.dt_ms.max(0.1), duration.max(10.0), 60);
        let mut s = Self {
            total,
            per_neuron: vec![0; neurons],
            bin_ms: bin,
            psth: vec![vec![0; bins]; pops],
            stride,
            window_ms,
            last: vec![f64::NAN; neurons],
            isi_n: vec![0; neurons],
            isi_sum: vec![0.0; neurons],
            isi_sq: vec![0.0; neurons],
            isi_hist: vec![vec![0; isi_edges.len() - 1]; pops],
            isi_edges,
            traced: traced.iter().map(|&n| (n, Vec::new())).collect(),
            ..Default::default()
        };
        let pop_of: Vec<usize> = (0..neurons as u32).map(|n| info.population_of(n).unwrap_or(0)).collect();
        for batch in reader {
            let batch = batch.map_err(|e| err(e.to_string()))?;
            let (t, id) = (numbers(batch.column(0).as_ref()), numbers(batch.column(1).as_ref()));
            for (&t, &id) in t.iter().zip(&id) {
                let n = id as usize;
                if n >= neurons {
                    s.grow(n + 1);
                }
                let p = pop_of.get(n).copied().unwrap_or(0);
                s.per_neuron[n] += 1;
                let b = ((t / bin) as usize).min(bins - 1);
                s.psth[p][b] += 1;
                if t >= window_ms.0 && t <= window_ms.1 && (id as u32).is_multiple_of(stride) {
                    s.raster.push((t, id as u32, p));
                }
                let last = s.last[n];
                if last.is_finite() {
                    let isi = t - last;
                    s.isi_n[n] += 1;
                    s.isi_sum[n] += isi;
                    s.isi_sq[n] += isi * isi;
                    let k = s.isi_edges.partition_point(|&e| e <= isi).saturating_sub(1).min(s.isi_hist[p].len() - 1);
                    s.isi_hist[p][k] += 1;
                }
                s.last[n] = t;
                if let Some(v) = s.traced.get_mut(&(id as u32)) {
                    v.push(t);
                }
            }
        }
        Ok(Some(s))
    }

    fn grow(&mut self, n: usize) {
        self.per_neuron.resize(n, 0);
        self.last.resize(n, f64::NAN);
        self.isi_n.resize(n, 0);
        self.isi_sum.resize(n, 0.0);
        self.isi_sq.resize(n, 0.0);
    }

    /// Coefficient of variation of each neuron's ISIs (neurons with at least 2 intervals).
    pub(crate) fn cv(&self, n: usize) -> Option<f64> {
        let k = f64::from(*self.isi_n.get(n)?);
        if k < 2.0 {
            return None;
        }
        let mean = self.isi_sum[n] / k;
        let var = (self.isi_sq[n] / k - mean * mean).max(0.0);
        (mean > 0.0).then(|| var.sqrt() / mean)
    }
}

/// A PSTH bin width for `spikes` spikes over `duration_ms`: the smallest of 0.1, 0.2, 0.5, 1, 2,
/// 5, 10, … ms (and at least `dt`) that gives the network on average at least 20 spikes per bin
/// and at most 2 000 bins, so that the rate is not mostly noise.
pub fn choose_bin_ms(spikes: u64, duration_ms: f64, dt_ms: f64) -> f64 {
    let rate_per_ms = spikes as f64 / duration_ms.max(dt_ms);
    let mut candidates = Vec::new();
    for decade in [0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0] {
        for m in [1.0, 2.0, 5.0] {
            candidates.push(m * decade);
        }
    }
    candidates
        .into_iter()
        .filter(|&b| b >= dt_ms - 1e-12)
        .find(|&b| rate_per_ms * b >= 20.0 && duration_ms / b <= 2000.0)
        .unwrap_or_else(|| (duration_ms / 20.0).max(dt_ms))
}

/// `n + 1` edges spaced evenly in log between `lo` and `hi`.
fn log_edges(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..=n).map(|i| (a + (b - a) * i as f64 / n as f64).exp()).collect()
}

/// The PSTH of one population as rates: `(bin start ms, rate Hz)` for `neurons` neurons.
pub fn psth_rates(counts: &[u64], bin_ms: f64, neurons: u32) -> Vec<(f64, f64)> {
    let n = f64::from(neurons.max(1));
    counts.iter().enumerate().map(|(i, &c)| (i as f64 * bin_ms, c as f64 * 1000.0 / (bin_ms * n))).collect()
}

/// The run directory's tables that exist, for messages.
pub(crate) fn tables_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "parquet")).collect())
        .unwrap_or_default()
}
