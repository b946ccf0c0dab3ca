//! `biospike plot`: PNG figures from a run's Parquet output.
//!
//! Each figure is drawn when its table exists: `raster.png` (spikes, coloured by population),
//! `rates.png` (population rates over time), `isi_cv.png` (inter-spike intervals and their
//! coefficient of variation per neuron), `weights.png` (weight histograms at start and end),
//! `modulators.png` (levels and baselines), `weight_trace.png` (traced synapses, with a
//! control run's traces when given) and `weight_distribution.png` (the weight histogram
//! over time). Text uses the embedded `DejaVu` Sans, so no system fonts are needed.

use arrow_array::{Array, ArrayRef, Float32Array, Float64Array, RecordBatch, StringArray, UInt16Array, UInt32Array, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
}

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const SIZE: (u32, u32) = (1000, 600);

/// A table read whole: its columns by name, and the file's metadata.
struct Table {
    cols: BTreeMap<String, ArrayRef>,
    meta: BTreeMap<String, String>,
}

impl Table {
    fn read(path: &Path) -> Result<Option<Self>, PlotError> {
        if !path.exists() {
            return Ok(None);
        }
        let err = |m: String| PlotError::Read { path: path.to_owned(), message: m };
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
        let meta = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|kv| kv.iter().filter_map(|k| Some((k.key.clone(), k.value.clone()?))).collect())
            .unwrap_or_default();
        let schema = builder.schema().clone();
        let batches: Vec<RecordBatch> =
            builder.build().map_err(|e| err(e.to_string()))?.collect::<Result<_, _>>().map_err(|e| err(e.to_string()))?;
        let mut cols = BTreeMap::new();
        for (i, f) in schema.fields().iter().enumerate() {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
            let col = if parts.is_empty() {
                arrow_array::new_empty_array(f.data_type())
            } else {
                arrow_select::concat::concat(&parts).map_err(|e| err(e.to_string()))?
            };
            cols.insert(f.name().clone(), col);
        }
        Ok(Some(Self { cols, meta }))
    }

    /// A numeric column as f64 (empty when absent).
    fn f64s(&self, name: &str) -> Vec<f64> {
        let Some(c) = self.cols.get(name) else { return Vec::new() };
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

    fn strings(&self, name: &str) -> Vec<String> {
        self.cols
            .get(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .map(|x| x.iter().map(|v| v.unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.cols.values().next().map_or(0, |c| c.len())
    }
}

fn draw_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw { path: path.to_owned(), message: e.to_string() }
}

fn derr(path: &Path, message: String) -> PlotError {
    PlotError::Draw { path: path.to_owned(), message }
}

fn range_of(xs: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = xs.into_iter().filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// Population names by id, from `neurons.parquet` (or `pop N`).
fn population_names(neurons: Option<&Table>) -> (BTreeMap<u16, String>, BTreeMap<u16, usize>) {
    let mut names = BTreeMap::new();
    let mut sizes = BTreeMap::new();
    if let Some(t) = neurons {
        let pops = t.f64s("population");
        let n = t.strings("population_name");
        for (i, &p) in pops.iter().enumerate() {
            let p = p as u16;
            names.entry(p).or_insert_with(|| n.get(i).cloned().unwrap_or_else(|| format!("pop {p}")));
            *sizes.entry(p).or_insert(0) += 1;
        }
    }
    (names, sizes)
}

/// Options of [`plot_run`].
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Where the PNGs go (default: the run directory).
    pub out: Option<PathBuf>,
    /// A control run whose traced weights are drawn alongside.
    pub control: Option<PathBuf>,
    /// Raster window, ms from the start (default: the first second).
    pub raster_ms: Option<(f64, f64)>,
}

/// Draws every figure the run directory `dir` has tables for; returns the PNGs written.
pub fn plot_run(dir: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let out = opts.out.clone().unwrap_or_else(|| dir.to_owned());
    std::fs::create_dir_all(&out).map_err(|e| PlotError::Draw { path: out.clone(), message: e.to_string() })?;
    let neurons = Table::read(&dir.join("neurons.parquet"))?;
    let (names, sizes) = population_names(neurons.as_ref());
    let mut written = Vec::new();
    let mut found = false;
    if let Some(spikes) = Table::read(&dir.join("spikes.parquet"))? {
        found = true;
        let scene = spikes.meta.get("biospike.scene_path").cloned().unwrap_or_default();
        let scene = Path::new(&scene).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let t = spikes.f64s("time_ms");
        let id = spikes.f64s("neuron");
        let pop = spikes.f64s("population");
        written.push(raster(&out.join("raster.png"), &scene, &t, &id, &pop, &names, opts.raster_ms)?);
        written.push(rates(&out.join("rates.png"), &scene, &t, &pop, &names, &sizes)?);
        written.push(isi_cv(&out.join("isi_cv.png"), &scene, &t, &id)?);
    }
    if let Some(syn) = Table::read(&dir.join("synapses.parquet"))? {
        found = true;
        written.push(weight_histograms(&out.join("weights.png"), &syn.f64s("weight_start"), &syn.f64s("weight_end"))?);
    }
    if let Some(m) = Table::read(&dir.join("modulators.parquet"))? {
        found = true;
        written.push(modulators(&out.join("modulators.png"), &m)?);
    }
    if let Some(w) = Table::read(&dir.join("weights.parquet"))? {
        found = true;
        let control = match &opts.control {
            Some(c) => Table::read(&c.join("weights.parquet"))?,
            None => None,
        };
        written.push(weight_trace(&out.join("weight_trace.png"), &w, control.as_ref())?);
    }
    if let Some(h) = Table::read(&dir.join("weight_histogram.parquet"))? {
        found = true;
        written.push(weight_distribution(&out.join("weight_distribution.png"), &h)?);
    }
    if !found {
        return Err(PlotError::Empty(dir.to_owned()));
    }
    Ok(written)
}

fn raster(
    path: &Path,
    scene: &str,
    t: &[f64],
    id: &[f64],
    pop: &[f64],
    names: &BTreeMap<u16, String>,
    window: Option<(f64, f64)>,
) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let (t0, t1) = window.unwrap_or_else(|| {
        let start = t.first().copied().unwrap_or(0.0).min(0.0);
        (start, start + 1000.0)
    });
    let (_, nmax) = range_of(id.iter().copied());
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Spike raster — {scene}"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..nmax + 1.0)
        .map_err(&e)?;
    chart.configure_mesh().x_desc("time (ms)").y_desc("neuron").disable_mesh().draw().map_err(&e)?;
    let pops: std::collections::BTreeSet<u16> = pop.iter().map(|&p| p as u16).collect();
    for p in pops {
        let color = PALETTE[usize::from(p) % PALETTE.len()];
        let pts =
            t.iter().zip(id).zip(pop).filter(|&((&ti, _), &pi)| pi as u16 == p && ti >= t0 && ti <= t1).map(|((&ti, &ni), _)| (ti, ni));
        let label = names.get(&p).cloned().unwrap_or_else(|| format!("pop {p}"));
        chart
            .draw_series(pts.map(|(x, y)| Rectangle::new([(x, y), (x + (t1 - t0) / 900.0, y + 1.0)], color.filled())))
            .map_err(&e)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

fn rates(
    path: &Path,
    scene: &str,
    t: &[f64],
    pop: &[f64],
    names: &BTreeMap<u16, String>,
    sizes: &BTreeMap<u16, usize>,
) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let (_, tmax) = range_of(t.iter().copied());
    let bin = (tmax / 400.0).max(1.0).ceil();
    let nbins = (tmax / bin).floor() as usize + 1;
    let mut series: BTreeMap<u16, Vec<f64>> = BTreeMap::new();
    for (&ti, &p) in t.iter().zip(pop) {
        series.entry(p as u16).or_insert_with(|| vec![0.0; nbins])[((ti / bin) as usize).min(nbins - 1)] += 1.0;
    }
    for (p, v) in &mut series {
        let n = sizes.get(p).copied().unwrap_or(1).max(1) as f64;
        v.iter_mut().for_each(|x| *x *= 1000.0 / (bin * n));
    }
    let ymax = series.values().flatten().copied().fold(1.0, f64::max) * 1.05;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Population rates — {scene} ({bin} ms bins)"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..tmax.max(1.0), 0.0..ymax)
        .map_err(&e)?;
    chart.configure_mesh().x_desc("time (ms)").y_desc("rate (Hz)").draw().map_err(&e)?;
    for (p, v) in &series {
        let color = PALETTE[usize::from(*p) % PALETTE.len()];
        let label = names.get(p).cloned().unwrap_or_else(|| format!("pop {p}"));
        chart
            .draw_series(LineSeries::new(v.iter().enumerate().map(|(i, &r)| ((i as f64 + 0.5) * bin, r)), color.stroke_width(2)))
            .map_err(&e)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

/// One histogram series: label, bars `(left, right, count)`, colour.
type Series<'a> = (&'a str, Vec<(f64, f64, f64)>, RGBColor);

/// Bars of a histogram: `(left edge, right edge, count)`.
fn histogram(xs: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64, f64)> {
    let w = (hi - lo) / bins as f64;
    let mut c = vec![0.0; bins];
    for &x in xs.iter().filter(|x| x.is_finite()) {
        c[(((x - lo) / w).max(0.0) as usize).min(bins - 1)] += 1.0;
    }
    c.iter().enumerate().map(|(i, &n)| (lo + i as f64 * w, lo + (i + 1) as f64 * w, n)).collect()
}

fn bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    xdesc: &str,
    series: &[Series<'_>],
) -> Result<(), String> {
    let (x0, x1) = range_of(series.iter().flat_map(|s| s.1.iter().flat_map(|b| [b.0, b.1])));
    let ymax = series.iter().flat_map(|s| s.1.iter().map(|b| b.2)).fold(1.0, f64::max) * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0.0..ymax)
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc(xdesc).y_desc("count").draw().map_err(|e| e.to_string())?;
    for (label, bars, color) in series {
        let color = *color;
        chart
            .draw_series(bars.iter().map(|&(a, b, n)| Rectangle::new([(a, 0.0), (b, n)], color.mix(0.55).filled())))
            .map_err(|e| e.to_string())?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.mix(0.55).filled()));
    }
    if series.len() > 1 {
        chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn isi_cv(path: &Path, scene: &str, t: &[f64], id: &[f64]) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let mut by: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (&ti, &n) in t.iter().zip(id) {
        by.entry(n as u32).or_default().push(ti);
    }
    let mut isis = Vec::new();
    let mut cvs = Vec::new();
    for times in by.values() {
        let d: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        if d.len() >= 2 {
            let m = d.iter().sum::<f64>() / d.len() as f64;
            let sd = (d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
            cvs.push(sd / m);
        }
        isis.extend(d);
    }
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (l, r) = root.split_horizontally(SIZE.0 / 2);
    let (_, imax) = range_of(isis.iter().copied());
    bar_panel(
        &l,
        &format!("Inter-spike intervals — {scene}"),
        "ISI (ms)",
        &[("ISI", histogram(&isis, 0.0, imax.max(1.0), 50), PALETTE[0])],
    )
    .map_err(|m| derr(path, m))?;
    let (_, cmax) = range_of(cvs.iter().copied());
    bar_panel(&r, "CV of ISI per neuron", "CV", &[("CV", histogram(&cvs, 0.0, cmax.max(1.0), 40), PALETTE[1])])
        .map_err(|m| derr(path, m))?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

fn weight_histograms(path: &Path, start: &[f64], end: &[f64]) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let (lo, hi) = range_of(start.iter().chain(end).copied());
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    bar_panel(
        &root,
        "Synaptic weights at start and end",
        "weight",
        &[("start", histogram(start, lo, hi, 60), PALETTE[0]), ("end", histogram(end, lo, hi, 60), PALETTE[1])],
    )
    .map_err(|m| derr(path, m))?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

fn modulators(path: &Path, m: &Table) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let t = m.f64s("time_ms");
    let name = m.strings("modulator");
    let level = m.f64s("level");
    let base = m.f64s("baseline");
    let (t0, t1) = range_of(t.iter().copied());
    let (y0, y1) = range_of(level.iter().chain(&base).copied());
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Neuromodulators: level (solid) and baseline (light)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0 / 1000.0..t1 / 1000.0, y0..y1 + 0.05 * (y1 - y0))
        .map_err(&e)?;
    chart.configure_mesh().x_desc("time (s)").y_desc("level").draw().map_err(&e)?;
    for (i, which) in ["dopamine", "serotonin", "norepinephrine"].iter().enumerate() {
        let color = PALETTE[i];
        let rows: Vec<usize> = (0..m.len()).filter(|&r| name.get(r).map(String::as_str) == Some(which)).collect();
        if rows.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(rows.iter().map(|&r| (t[r] / 1000.0, level[r])), color.stroke_width(1)))
            .map_err(&e)?
            .label(*which)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(LineSeries::new(rows.iter().map(|&r| (t[r] / 1000.0, base[r])), color.mix(0.4).stroke_width(3))).map_err(&e)?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

fn traces(t: &Table) -> BTreeMap<(u32, u32), Vec<(f64, f64)>> {
    let (time, pre, post, w) = (t.f64s("time_ms"), t.f64s("pre"), t.f64s("post"), t.f64s("weight"));
    let mut out: BTreeMap<(u32, u32), Vec<(f64, f64)>> = BTreeMap::new();
    for i in 0..time.len() {
        out.entry((pre[i] as u32, post[i] as u32)).or_default().push((time[i] / 1000.0, w[i]));
    }
    out
}

fn weight_trace(path: &Path, w: &Table, control: Option<&Table>) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let main = traces(w);
    let ctrl = control.map(traces).unwrap_or_default();
    let all = main.values().chain(ctrl.values()).flatten();
    let (t0, t1) = range_of(all.clone().map(|p| p.0));
    let (_, y1) = range_of(all.map(|p| p.1));
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Traced synaptic weights", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..(y1 * 1.05).max(0.1))
        .map_err(&e)?;
    chart.configure_mesh().x_desc("time (s)").y_desc("weight").draw().map_err(&e)?;
    for (i, ((pre, post), pts)) in main.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(&e)?
            .label(format!("{pre} → {post}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    for ((pre, post), pts) in &ctrl {
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), RGBColor(120, 120, 120).stroke_width(2)))
            .map_err(&e)?
            .label(format!("{pre} → {post} (control)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(120, 120, 120).stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}

fn weight_distribution(path: &Path, h: &Table) -> Result<PathBuf, PlotError> {
    let e = draw_err(path);
    let (t, lo, hi, count) = (h.f64s("time_ms"), h.f64s("bin_low"), h.f64s("bin_high"), h.f64s("count"));
    let times: Vec<f64> = {
        let mut v = t.clone();
        v.dedup();
        v
    };
    let dt = if times.len() > 1 { (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64 } else { 1000.0 };
    let (t0, t1) = range_of(t.iter().copied());
    let (y0, y1) = range_of(lo.iter().chain(&hi).copied());
    let cmax = count.iter().copied().fold(1.0, f64::max).ln_1p();
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (left, right) = root.split_horizontally(SIZE.0 * 62 / 100);
    let mut chart = ChartBuilder::on(&left)
        .caption("Weight distribution over time (log count)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(t0 / 1000.0..(t1 + dt) / 1000.0, y0..y1)
        .map_err(&e)?;
    chart.configure_mesh().x_desc("time (s)").y_desc("weight").disable_mesh().draw().map_err(&e)?;
    chart
        .draw_series((0..t.len()).filter(|&i| count[i] > 0.0).map(|i| {
            let c = count[i].ln_1p() / cmax;
            let shade = (255.0 * (1.0 - c)) as u8;
            Rectangle::new([(t[i] / 1000.0, lo[i]), ((t[i] + dt) / 1000.0, hi[i])], RGBColor(shade, shade, 255).filled())
        }))
        .map_err(&e)?;
    let last = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first = t.iter().copied().fold(f64::INFINITY, f64::min);
    let bars = |at: f64| (0..t.len()).filter(|&i| t[i] == at).map(|i| (lo[i], hi[i], count[i])).collect::<Vec<_>>();
    bar_panel(
        &right,
        "At start and end",
        "weight",
        &[(&format!("{:.0} s", first / 1000.0), bars(first), PALETTE[0]), (&format!("{:.0} s", last / 1000.0), bars(last), PALETTE[1])],
    )
    .map_err(|m| derr(path, m))?;
    root.present().map_err(&e)?;
    Ok(path.to_owned())
}
