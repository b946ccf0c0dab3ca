//! `biospike plot`: figures from a run's Parquet output, ready for a paper.
//!
//! Every figure is drawn when its table exists, and the report names each figure that was
//! skipped and why. All share one style: the population's colour everywhere (the same as in
//! the 3D viewer, `biospike_core::population_color`), axes with quantities and units, whole
//! numbers on integer axes, colour bars on heat maps, legends beside the data, one time unit per
//! figure chosen by its span, and a title with the scene's name, seed and simulated time. PNG at
//! 3000 × 1800 px (10 × 6 in at 300 dpi) or SVG. Text uses the embedded `DejaVu` Sans.
//!
//! | file | from | shows |
//! |---|---|---|
//! | `raster` | `spikes` | raster (a window, default the first second) over the population rate (PSTH, bin from the rate or `--bin-ms`) |
//! | `rates` | `spikes` | per-population distribution of per-neuron firing rates (silent neurons included) |
//! | `isi_cv` | `spikes` | per-population ISI distributions (log time) and CV of ISI |
//! | `traces` | `state` (+ `spikes`) | `v`, `u` and the input of up to four recorded neurons, spikes drawn to the 30 mV peak |
//! | `weights` | `synapses` | weight histograms per projection (source → target population), start against end |
//! | `weight_matrix` | `synapses` | mean end weight per population block, with a colour bar |
//! | `weight_distribution` | `weight_histogram` | the weight histogram over time (log count, colour bar), first and last rows |
//! | `modulators` | `modulators` | each modulator's level (raw and smoothed) and baseline, release marks |
//! | `weight_trace` | `weights` | traced synapses (a reward experiment's synapse), a control run's in grey |
//!
//! Large runs stay within bounded memory: the spike table is read once, column by column, and
//! only per-neuron and per-bin counts are kept; a raster that would hold more than
//! [`MAX_RASTER_POINTS`] points keeps every k-th neuron, and says so on the figure.

mod data;
mod figures;
mod style;

pub use data::{MAX_RASTER_POINTS, choose_bin_ms, psth_rates};
pub use style::{Format, format_number};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use data::{RunInfo, SpikeStats, Table};
use style::render;

/// A plotting failure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A table could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A figure could not be drawn or saved.
    #[error("{path}: {message}")]
    Draw {
        /// The figure.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Nothing to plot.
    #[error("{0}: no biospike tables (spikes.parquet, synapses.parquet, …) found")]
    Empty(PathBuf),
    /// An option is outside its range.
    #[error("{0}")]
    Option(String),
}

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Options of [`plot_run`].
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Where the figures go (default: the run directory).
    pub out: Option<PathBuf>,
    /// A control run whose traced weights are drawn alongside.
    pub control: Option<PathBuf>,
    /// Raster window, ms from the start (default: the first second, or the run if shorter).
    pub raster_ms: Option<(f64, f64)>,
    /// PSTH bin width, ms (default: chosen from the rate).
    pub bin_ms: Option<f64>,
    /// PNG or SVG.
    pub format: Format,
}

/// What [`plot_run`] did.
#[derive(Debug, Clone, Default)]
pub struct PlotReport {
    /// Figures written.
    pub written: Vec<PathBuf>,
    /// Figures not drawn, with the reason (`("traces", "no state.parquet: record.state was not set")`).
    pub skipped: Vec<(String, String)>,
    /// Remarks (a thinned raster, the PSTH bin chosen).
    pub notes: Vec<String>,
}

/// Draws every figure the run directory `dir` has tables for.
pub fn plot_run(dir: &Path, opts: &PlotOptions) -> Result<PlotReport, PlotError> {
    let _ = plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    if let Some((a, b)) = opts.raster_ms
        && !(a.is_finite() && b.is_finite() && a < b)
    {
        return Err(PlotError::Option(format!("--window-ms {a},{b}: allowed: finite START < END")));
    }
    if let Some(b) = opts.bin_ms
        && !(b.is_finite() && b > 0.0)
    {
        return Err(PlotError::Option(format!("--bin-ms {b}: allowed: a finite number > 0")));
    }
    if let Some(c) = &opts.control
        && !c.join("weights.parquet").exists()
    {
        return Err(PlotError::Option(format!("--control {}: no weights.parquet there", c.display())));
    }
    if data::tables_in(dir).is_empty() {
        return Err(PlotError::Empty(dir.to_owned()));
    }
    let out = opts.out.clone().unwrap_or_else(|| dir.to_owned());
    std::fs::create_dir_all(&out).map_err(|e| PlotError::Draw { path: out.clone(), message: e.to_string() })?;
    let info = RunInfo::of(dir)?;
    let ext = opts.format.extension();
    let file = |name: &str| out.join(format!("{name}.{ext}"));
    let mut report = PlotReport::default();
    let skip = |report: &mut PlotReport, what: &[&str], why: &str| {
        for w in what {
            report.skipped.push(((*w).to_string(), why.to_string()));
        }
    };

    // Spikes: raster + PSTH, rates, ISI/CV, and the spike marks of the traces.
    let state = Table::read(&dir.join("state.parquet"), &["time_ms", "neuron", "v", "u", "input"])?;
    let mut traced: Vec<u32> = state.as_ref().map(|s| s.f64s("neuron").iter().map(|&n| n as u32).collect()).unwrap_or_default();
    traced.sort_unstable();
    traced.dedup();
    let recorded = traced.len();
    traced.truncate(4);
    let window = opts.raster_ms.unwrap_or((0.0, info.duration_ms.clamp(info.dt_ms, 1000.0)));
    let spikes = SpikeStats::read(&dir.join("spikes.parquet"), &info, opts.bin_ms, window, &traced)?;
    match &spikes {
        Some(s) => {
            report.notes.push(format!("{} spikes; PSTH bins of {} ms", s.total, format_number(s.bin_ms)));
            if s.stride > 1 {
                report.notes.push(format!(
                    "raster: 1 neuron in {} drawn (more than {} spikes in the window)",
                    s.stride,
                    data::MAX_RASTER_POINTS
                ));
            }
            render!(opts.format, &file("raster"), |root, st| figures::raster(&root, st, &info, s))?;
            report.written.push(file("raster"));
            render!(opts.format, &file("rates"), |root, st| figures::rates(&root, st, &info, s))?;
            report.written.push(file("rates"));
            render!(opts.format, &file("isi_cv"), |root, st| figures::isi_cv(&root, st, &info, s))?;
            report.written.push(file("isi_cv"));
        }
        None => skip(&mut report, &["raster", "rates", "isi_cv"], "no spikes.parquet (record.spikes was off, or the run wrote no output)"),
    }
    match &state {
        Some(t) if t.len() > 0 => {
            let (time, id, v, u, input) = (t.f64s("time_ms"), t.f64s("neuron"), t.f64s("v"), t.f64s("u"), t.f64s("input"));
            let mut by: BTreeMap<u32, Vec<(f64, f64, f64, f64)>> = BTreeMap::new();
            for i in 0..t.len() {
                let n = id[i] as u32;
                if traced.contains(&n) {
                    by.entry(n).or_default().push((time[i], v[i], u[i], input[i]));
                }
            }
            let marks = spikes.as_ref().map(|s| s.traced.clone()).unwrap_or_default();
            let tr = figures::Traces {
                neurons: by
                    .into_iter()
                    .map(|(n, s)| (n, info.population_of(n).unwrap_or(0), s, marks.get(&n).cloned().unwrap_or_default()))
                    .collect(),
                recorded,
            };
            render!(opts.format, &file("traces"), |root, st| figures::traces(&root, st, &info, &tr))?;
            report.written.push(file("traces"));
        }
        _ => skip(&mut report, &["traces"], "no state.parquet (set record.state to sample neurons)"),
    }

    // Synapses: per projection, and the population-block matrix.
    match Table::read(&dir.join("synapses.parquet"), &["pre", "post", "weight_start", "weight_end"])? {
        Some(syn) if !info.populations.is_empty() => {
            let (pre, post, a, b) = (syn.f64s("pre"), syn.f64s("post"), syn.f64s("weight_start"), syn.f64s("weight_end"));
            let mut blocks: BTreeMap<(usize, usize), figures::Projection> = BTreeMap::new();
            for i in 0..syn.len() {
                let (Some(s), Some(t)) = (info.population_of(pre[i] as u32), info.population_of(post[i] as u32)) else { continue };
                let p = blocks.entry((s, t)).or_insert_with(|| figures::Projection {
                    source: s,
                    target: t,
                    start: Vec::new(),
                    end: Vec::new(),
                });
                p.start.push(a[i]);
                p.end.push(b[i]);
            }
            let projections: Vec<figures::Projection> = blocks.into_values().collect();
            if projections.is_empty() {
                skip(&mut report, &["weights", "weight_matrix"], "synapses.parquet has no synapses");
            } else {
                render!(opts.format, &file("weights"), |root, st| figures::weights(&root, st, &info, &projections))?;
                report.written.push(file("weights"));
                render!(opts.format, &file("weight_matrix"), |root, st| figures::weight_matrix(&root, st, &info, &projections))?;
                report.written.push(file("weight_matrix"));
            }
        }
        Some(_) => skip(&mut report, &["weights", "weight_matrix"], "no neurons.parquet to map synapses to populations"),
        None => skip(&mut report, &["weights", "weight_matrix"], "no synapses.parquet (record.synapses was off)"),
    }
    match Table::read(&dir.join("weight_histogram.parquet"), &["time_ms", "bin_low", "bin_high", "count"])? {
        Some(h) => {
            let (t, lo, hi, c) = (h.f64s("time_ms"), h.f64s("bin_low"), h.f64s("bin_high"), h.f64s("count"));
            let d = figures::Distribution { cells: (0..h.len()).map(|i| (t[i], lo[i], hi[i], c[i])).collect() };
            render!(opts.format, &file("weight_distribution"), |root, st| figures::weight_distribution(&root, st, &info, &d))?;
            report.written.push(file("weight_distribution"));
        }
        None => skip(&mut report, &["weight_distribution"], "no weight_histogram.parquet (set record.weights.histogram)"),
    }
    match Table::read(&dir.join("modulators.parquet"), &["time_ms", "modulator", "level", "baseline"])? {
        Some(m) => {
            let (mods, flat): (Vec<_>, Vec<_>) = modulator_series(&m, &release_times(&m)).into_iter().partition(|m| {
                let (lo, hi) =
                    m.samples.iter().flat_map(|s| [s.1, s.2]).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
                hi > lo
            });
            if !flat.is_empty() {
                let names: Vec<String> = flat
                    .iter()
                    .map(|m| format!("{} (constant {})", m.name, format_number(m.samples.first().map_or(0.0, |s| s.1))))
                    .collect();
                report.notes.push(format!("modulators: {} not drawn", names.join(", ")));
            }
            if mods.is_empty() {
                skip(&mut report, &["modulators"], "every modulator is constant");
            } else {
                render!(opts.format, &file("modulators"), |root, st| figures::modulators(&root, st, &info, &mods))?;
                report.written.push(file("modulators"));
            }
        }
        None => skip(&mut report, &["modulators"], "no modulators.parquet (set record.modulation_every_steps, with neuromodulation)"),
    }
    match Table::read(&dir.join("weights.parquet"), &["time_ms", "pre", "post", "weight"])? {
        Some(w) => {
            let control = match &opts.control {
                Some(c) => Table::read(&c.join("weights.parquet"), &["time_ms", "pre", "post", "weight"])?,
                None => None,
            };
            let (main, ctrl) = (traces_of(&w), control.as_ref().map(traces_of).unwrap_or_default());
            render!(opts.format, &file("weight_trace"), |root, st| figures::weight_trace(&root, st, &info, &main, &ctrl))?;
            report.written.push(file("weight_trace"));
        }
        None => skip(&mut report, &["weight_trace"], "no weights.parquet (set record.weights.synapses)"),
    }
    Ok(report)
}

/// One population's rate under the raster: name, size, `(bin start ms, rate Hz)`.
pub type PopulationRate = (String, u32, Vec<(f64, f64)>);

/// The population rates under the raster, as drawn: the PSTH bin (ms) and each population's
/// rate. Read in one pass over `spikes.parquet`.
pub fn population_rates(dir: &Path, bin_ms: Option<f64>) -> Result<(f64, Vec<PopulationRate>), PlotError> {
    let info = RunInfo::of(dir)?;
    let Some(s) = SpikeStats::read(&dir.join("spikes.parquet"), &info, bin_ms, (0.0, 0.0), &[])? else {
        return Err(PlotError::Read { path: dir.join("spikes.parquet"), message: "no such file".into() });
    };
    let rates =
        info.populations.iter().enumerate().map(|(i, p)| (p.name.clone(), p.len, psth_rates(&s.psth[i], s.bin_ms, p.len))).collect();
    Ok((s.bin_ms, rates))
}

fn traces_of(t: &Table) -> BTreeMap<(u32, u32), Vec<(f64, f64)>> {
    let (time, pre, post, w) = (t.f64s("time_ms"), t.f64s("pre"), t.f64s("post"), t.f64s("weight"));
    let mut out: BTreeMap<(u32, u32), Vec<(f64, f64)>> = BTreeMap::new();
    for i in 0..time.len() {
        out.entry((pre[i] as u32, post[i] as u32)).or_default().push((time[i], w[i]));
    }
    out
}

/// Releases of each modulator: those the scene schedules, and (for a reward experiment) the
/// rewards, seen as jumps of the level by at least half the reward's amount between samples.
fn release_times(m: &Table) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let scene = m.meta.get("biospike.scene").and_then(|t| crate::Scene::parse(t, "<metadata>".as_ref()).ok());
    let mut jump = f64::INFINITY;
    if let Some(s) = &scene {
        if let Some(n) = &s.desc.neuromodulation {
            for r in &n.releases {
                let name = format!("{:?}", r.modulator).to_lowercase();
                out.entry(name).or_default().push(r.at_ms);
            }
        }
        if let Some(crate::scene::ExperimentDesc::DistalReward { amount, rewards: true, .. }) = &s.desc.experiment {
            jump = amount.abs() / 2.0;
        }
    }
    if jump.is_finite() {
        let (t, name, level) = (m.f64s("time_ms"), m.strings("modulator"), m.f64s("level"));
        let mut last: BTreeMap<&str, f64> = BTreeMap::new();
        for i in 0..t.len() {
            let n = name[i].as_str();
            if n == "dopamine"
                && let Some(&prev) = last.get(n)
                && level[i] - prev >= jump
            {
                out.entry(n.to_string()).or_default().push(t[i]);
            }
            last.insert(n, level[i]);
        }
    }
    out
}

fn modulator_series(m: &Table, releases: &BTreeMap<String, Vec<f64>>) -> Vec<figures::Modulator> {
    let (t, name, level, base) = (m.f64s("time_ms"), m.strings("modulator"), m.f64s("level"), m.f64s("baseline"));
    ["dopamine", "serotonin", "norepinephrine"]
        .iter()
        .filter_map(|&which| {
            let samples: Vec<(f64, f64, f64)> = (0..t.len()).filter(|&i| name[i] == which).map(|i| (t[i], level[i], base[i])).collect();
            (!samples.is_empty()).then(|| figures::Modulator {
                name: which.to_string(),
                samples,
                releases: releases.get(which).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PSTH is a rate: integrated over time and multiplied by the population size it gives
    /// back the spike count, whatever the bin.
    #[test]
    fn psth_integral_is_the_spike_count() {
        let counts = [3u64, 0, 7, 12, 1];
        for bin in [0.5, 1.0, 5.0] {
            let rates = psth_rates(&counts, bin, 40);
            let integral: f64 = rates.iter().map(|&(_, r)| r * bin / 1000.0 * 40.0).sum();
            assert!((integral - 23.0).abs() < 1e-9, "bin {bin}: {integral}");
        }
    }

    #[test]
    fn bins_follow_the_rate() {
        // W1: 7 500 spikes in 1 s: at least 20 per bin is 2.67 ms, so 5 ms.
        assert_eq!(choose_bin_ms(7500, 1000.0, 1.0), 5.0);
        // 120 spikes in 1 s (seed_demo): 200 ms.
        assert_eq!(choose_bin_ms(120, 1000.0, 1.0), 200.0);
        // Never finer than a step.
        assert_eq!(choose_bin_ms(10_000_000, 1000.0, 1.0), 1.0);
    }
}
