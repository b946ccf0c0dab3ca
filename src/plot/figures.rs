//! The figures, each drawn for both backends through [`render!`](super::style::render).

use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

use super::data::{Population, RunInfo, SpikeStats, psth_rates};
use super::style::{Axis, Entry, Style, TimeUnit, blues, colour_bar, diverging, format_number, rgb, ticks, titled, with_legend};

type R = Result<(), String>;

/// `lo..hi` widened when empty.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn min_max(xs: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = xs.into_iter().filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    span(lo, hi)
}

fn legend_of(pops: &[Population], line: bool) -> Vec<Entry> {
    pops.iter().map(|p| Entry { label: p.name.clone(), color: rgb(p.color), line }).collect()
}

/// A polyline as separate segments: plotters joins thick polyline segments with mitres, which
/// shoot far out of the plot at the sharp turns of a spiking trace.
fn segments(points: impl IntoIterator<Item = (f64, f64)>, style: ShapeStyle) -> Vec<PathElement<(f64, f64)>> {
    let pts: Vec<(f64, f64)> = points.into_iter().collect();
    pts.windows(2).map(|w| PathElement::new(vec![w[0], w[1]], style)).collect()
}

fn fmt(v: &f64) -> String {
    format_number(*v)
}

/// A chart with numeric axes over `x` and `y` with our ticks (`*_int`: whole numbers only).
macro_rules! chart {
    ($area:expr, $st:expr, $x:expr, $y:expr, $x_int:expr, $y_int:expr, $xdesc:expr, $ydesc:expr) => {{
        let (x, y): ((f64, f64), (f64, f64)) = ($x, $y);
        let mut chart = ChartBuilder::on($area)
            .margin($st.px(8.0))
            .margin_right($st.px(16.0))
            .x_label_area_size($st.px(48.0))
            .y_label_area_size($st.px(70.0))
            .build_cartesian_2d(Axis::linear(x.0, x.1, 7, $x_int), Axis::linear(y.0, y.1, 5, $y_int))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(RGBColor(225, 225, 225).stroke_width($st.stroke(0.7)))
            .x_label_style($st.tick())
            .y_label_style($st.tick())
            .axis_desc_style($st.label())
            .x_desc($xdesc)
            .y_desc($ydesc)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
    }};
}

/// The title every figure carries: what it shows, the scene, its seed and the run's length.
pub(crate) fn title(what: &str, info: &RunInfo) -> String {
    let seed = if info.seed.is_empty() { String::new() } else { format!(", seed {}", info.seed) };
    format!("{what} — {}{seed}, {} simulated", info.scene, super::style::duration_text(info.duration_ms))
}

/// Raster with the population rate (PSTH) under it.
pub(crate) fn raster<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, s: &SpikeStats) -> R {
    let area = titled(root, st, &title("Spike raster and population rate", info))?;
    let data = with_legend(&area, st, 150.0, &legend_of(&info.populations, false))?;
    let (_, h) = data.dim_in_pixel();
    let (top, bottom) = data.split_vertically(h * 64 / 100);
    let unit = TimeUnit::for_duration(s.window_ms.1 - s.window_ms.0);
    let x = (unit.of(s.window_ms.0), unit.of(s.window_ms.1));
    let n = f64::from(info.neurons().max(s.per_neuron.len() as u32).max(1));
    let mut chart = chart!(&top, st, x, (-0.5, n - 0.5), false, true, "", "neuron");
    // Population bands: a light line between them.
    for p in info.populations.iter().skip(1) {
        let y = f64::from(p.first) - 0.5;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(x.0, y), (x.1, y)], RGBColor(160, 160, 160).stroke_width(st.stroke(1.0)))))
            .map_err(|e| e.to_string())?;
    }
    let w = ((x.1 - x.0) / 1200.0).max(unit.of(info.dt_ms) * 0.8);
    let hgt = 0.42f64.max(n / 900.0);
    let colors: Vec<RGBColor> = info.populations.iter().map(|p| rgb(p.color)).collect();
    chart
        .draw_series(s.raster.iter().map(|&(t, id, p)| {
            let t = unit.of(t);
            let c = colors.get(p).copied().unwrap_or(BLACK);
            Rectangle::new([(t, f64::from(id) - hgt), (t + w, f64::from(id) + hgt)], c.filled())
        }))
        .map_err(|e| e.to_string())?;
    if s.stride > 1 {
        let (_, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            format!(
                "1 neuron in {} drawn: the window holds {} spikes, more than a raster can show",
                s.stride,
                format_number((s.raster.len() as f64 * f64::from(s.stride)).round())
            ),
            (st.ipx(10.0), h as i32 - st.ipx(16.0)),
            st.note(),
        ))
        .map_err(|e| e.to_string())?;
    }
    // PSTH over the same window.
    let series: Vec<(usize, Vec<(f64, f64)>)> = info
        .populations
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let rates = psth_rates(s.psth.get(i).map_or(&[][..], Vec::as_slice), s.bin_ms, p.len);
            (i, rates.into_iter().filter(|&(t, _)| t + s.bin_ms > s.window_ms.0 && t < s.window_ms.1).collect())
        })
        .collect();
    let ymax = series.iter().flat_map(|(_, v)| v.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.08;
    let mut psth =
        chart!(&bottom, st, x, (0.0, ymax), false, false, unit.axis(), &format!("rate (Hz), {} ms bins", format_number(s.bin_ms)));
    for (i, pts) in series {
        let c = colors.get(i).copied().unwrap_or(BLACK);
        let steps = pts.iter().flat_map(|&(t, r)| [(unit.of(t.max(s.window_ms.0)), r), (unit.of((t + s.bin_ms).min(s.window_ms.1)), r)]);
        psth.draw_series(LineSeries::new(steps, c.stroke_width(st.stroke(1.6)))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Step histogram `(left, right, value)` as a closed line.
fn step_line(bars: &[(f64, f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(bars.len() * 2 + 2);
    if let Some(&(a, _, _)) = bars.first() {
        out.push((a, 0.0));
    }
    for &(a, b, v) in bars {
        out.push((a, v));
        out.push((b, v));
    }
    if let Some(&(_, b, _)) = bars.last() {
        out.push((b, 0.0));
    }
    out
}

/// Bars of a histogram of `xs` over `lo..hi` in `bins` bins.
pub(crate) fn histogram(xs: impl IntoIterator<Item = f64>, lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64, f64)> {
    let w = (hi - lo) / bins as f64;
    let mut c = vec![0.0; bins];
    for x in xs.into_iter().filter(|x| x.is_finite()) {
        c[(((x - lo) / w).max(0.0) as usize).min(bins - 1)] += 1.0;
    }
    c.iter().enumerate().map(|(i, &n)| (lo + i as f64 * w, lo + (i + 1) as f64 * w, n)).collect()
}

/// Firing-rate distributions per population (neurons per rate bin; silent neurons in the first).
pub(crate) fn rates<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, s: &SpikeStats) -> R {
    let area = titled(root, st, &title("Firing rates per neuron", info))?;
    let mut entries = Vec::new();
    let seconds = info.duration_ms / 1000.0;
    let per_pop: Vec<Vec<f64>> = info
        .populations
        .iter()
        .map(|p| {
            (p.first..p.first + p.len).map(|n| s.per_neuron.get(n as usize).copied().unwrap_or(0) as f64 / seconds.max(1e-9)).collect()
        })
        .collect();
    for (p, r) in info.populations.iter().zip(&per_pop) {
        let mean = r.iter().sum::<f64>() / r.len().max(1) as f64;
        entries.push(Entry {
            label: format!("{} (mean {} Hz)", p.name, format_number((mean * 100.0).round() / 100.0)),
            color: rgb(p.color),
            line: true,
        });
    }
    let data = with_legend(&area, st, 230.0, &entries)?;
    let (_, hi) = min_max(per_pop.iter().flatten().copied());
    let hi = hi.max(1.0);
    let hists: Vec<Vec<(f64, f64, f64)>> = per_pop.iter().map(|r| histogram(r.iter().copied(), 0.0, hi, 40)).collect();
    let ymax = hists.iter().flatten().map(|b| b.2).fold(1.0, f64::max) * 1.08;
    let mut chart = chart!(&data, st, (0.0, hi), (0.0, ymax), false, true, "firing rate (Hz)", "neurons");
    for (p, bars) in info.populations.iter().zip(&hists) {
        chart.draw_series(LineSeries::new(step_line(bars), rgb(p.color).stroke_width(st.stroke(1.8)))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// ISI distributions (log time axis) and the CV of ISI per neuron, per population.
pub(crate) fn isi_cv<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, s: &SpikeStats) -> R {
    let area = titled(root, st, &title("Inter-spike intervals and their variability", info))?;
    let data = with_legend(&area, st, 150.0, &legend_of(&info.populations, true))?;
    let (w, _) = data.dim_in_pixel();
    let (left, right) = data.split_horizontally(w / 2);
    // ISI: fraction of each population's intervals per log bin.
    let edges = &s.isi_edges;
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    let fractions: Vec<Vec<(f64, f64, f64)>> = s
        .isi_hist
        .iter()
        .map(|h| {
            let total = h.iter().sum::<u64>().max(1) as f64;
            h.iter().enumerate().map(|(k, &c)| (edges[k], edges[k + 1], c as f64 / total)).collect()
        })
        .collect();
    let ymax = fractions.iter().flatten().map(|b| b.2).fold(0.01, f64::max) * 1.08;
    let mut chart = ChartBuilder::on(&left)
        .margin(st.px(8.0))
        .margin_right(st.px(16.0))
        .x_label_area_size(st.px(48.0))
        .y_label_area_size(st.px(70.0))
        .build_cartesian_2d(Axis::log(lo, hi), Axis::linear(0.0, ymax, 5, false))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(225, 225, 225).stroke_width(st.stroke(0.7)))
        .x_label_style(st.tick())
        .y_label_style(st.tick())
        .axis_desc_style(st.label())
        .x_desc("inter-spike interval (ms, log scale)")
        .y_desc("fraction of intervals")
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .draw()
        .map_err(|e| e.to_string())?;
    for (p, bars) in info.populations.iter().zip(&fractions) {
        chart
            .draw_series(LineSeries::new(
                step_line(bars).into_iter().map(|(x, y)| (x.max(lo), y)),
                rgb(p.color).stroke_width(st.stroke(1.8)),
            ))
            .map_err(|e| e.to_string())?;
    }
    // CV of ISI per neuron.
    let cvs: Vec<Vec<f64>> =
        info.populations.iter().map(|p| (p.first..p.first + p.len).filter_map(|n| s.cv(n as usize)).collect()).collect();
    let (_, cmax) = min_max(cvs.iter().flatten().copied());
    let cmax = cmax.max(1.0);
    let hists: Vec<Vec<(f64, f64, f64)>> = cvs.iter().map(|c| histogram(c.iter().copied(), 0.0, cmax, 30)).collect();
    let ymax = hists.iter().flatten().map(|b| b.2).fold(1.0, f64::max) * 1.08;
    let mut chart = chart!(&right, st, (0.0, cmax), (0.0, ymax), false, true, "CV of ISI (per neuron, ≥ 2 intervals)", "neurons");
    for (p, bars) in info.populations.iter().zip(&hists) {
        chart.draw_series(LineSeries::new(step_line(bars), rgb(p.color).stroke_width(st.stroke(1.8)))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One sample of a recorded neuron: `(t ms, v, u, input)`.
pub(crate) type Sample = (f64, f64, f64, f64);

/// Membrane traces: one row per recorded neuron (at most four), `v`, `u` and the input.
pub(crate) struct Traces {
    /// Per neuron: id, population, samples, spike times.
    pub(crate) neurons: Vec<(u32, usize, Vec<Sample>, Vec<f64>)>,
    /// Neurons recorded in all.
    pub(crate) recorded: usize,
}

pub(crate) fn traces<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, tr: &Traces) -> R {
    let shown =
        if tr.neurons.len() < tr.recorded { format!(" ({} of {} recorded neurons)", tr.neurons.len(), tr.recorded) } else { String::new() };
    let area = titled(root, st, &title(&format!("Membrane traces{shown}"), info))?;
    let rows = area.split_evenly((tr.neurons.len().max(1), 3));
    let (t0, t1) = min_max(tr.neurons.iter().flat_map(|n| n.2.iter().map(|s| s.0)));
    let unit = TimeUnit::for_duration(t1 - t0);
    for (r, (id, pop, samples, spikes)) in tr.neurons.iter().enumerate() {
        let color = info.populations.get(*pop).map_or(BLACK, |p| rgb(p.color));
        let name = info.populations.get(*pop).map_or_else(String::new, |p| format!(" ({})", p.name));
        let last_row = r + 1 == tr.neurons.len();
        let xdesc = if last_row { unit.axis() } else { "" };
        for (c, (what, pick)) in
            [("membrane potential v (mV)", 1usize), ("recovery u (model units)", 2), ("input current I (model units)", 3)]
                .into_iter()
                .enumerate()
        {
            let value = |s: &(f64, f64, f64, f64)| match pick {
                1 => s.1,
                2 => s.2,
                _ => s.3,
            };
            let (mut lo, mut hi) = min_max(samples.iter().map(value));
            if pick == 1 {
                // Spikes are drawn up to the 30 mV peak, as in Izhikevich's figures.
                hi = hi.max(35.0);
                lo = lo.min(-80.0);
            }
            let ydesc = if c == 0 { format!("neuron {id}{name}") } else { String::new() };
            // Column headings on the first row.
            let panel = if r == 0 { rows[c].titled(what, st.label()).map_err(|e| e.to_string())? } else { rows[r * 3 + c].clone() };
            let mut chart = chart!(&panel, st, (unit.of(t0), unit.of(t1)), (lo, hi), false, false, xdesc, &ydesc);
            chart
                .draw_series(segments(samples.iter().map(|s| (unit.of(s.0), value(s))), color.stroke_width(st.stroke(1.0))))
                .map_err(|e| e.to_string())?;
            if pick == 1 {
                chart
                    .draw_series(spikes.iter().filter(|&&t| t >= t0 && t <= t1).map(|&t| {
                        let v = samples.iter().min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs())).map_or(lo, |s| s.1);
                        PathElement::new(vec![(unit.of(t), v), (unit.of(t), 30.0)], color.stroke_width(st.stroke(1.2)))
                    }))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// The synapses of one projection (source population → target population).
pub(crate) struct Projection {
    pub(crate) source: usize,
    pub(crate) target: usize,
    pub(crate) start: Vec<f64>,
    pub(crate) end: Vec<f64>,
}

/// Weight histograms per projection, start against end.
pub(crate) fn weights<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, projections: &[Projection]) -> R {
    let area = titled(root, st, &title("Synaptic weights per projection, start and end", info))?;
    let grey = RGBColor(150, 150, 150);
    let entries = vec![
        Entry { label: "start".into(), color: grey, line: true },
        Entry { label: "end (colour of the source)".into(), color: BLACK, line: true },
    ];
    let data = with_legend(&area, st, 200.0, &entries)?;
    let cols = (projections.len() as f64).sqrt().ceil() as usize;
    let rows = projections.len().div_ceil(cols.max(1));
    let panels = data.split_evenly((rows.max(1), cols.max(1)));
    for (k, p) in projections.iter().enumerate() {
        let name = |i: usize| info.populations.get(i).map_or_else(|| format!("pop {i}"), |x| x.name.clone());
        let color = info.populations.get(p.source).map_or(BLACK, |x| rgb(x.color));
        let (lo, hi) = min_max(p.start.iter().chain(&p.end).copied());
        let bins = 40;
        let (a, b) = (histogram(p.start.iter().copied(), lo, hi, bins), histogram(p.end.iter().copied(), lo, hi, bins));
        let ymax = a.iter().chain(&b).map(|x| x.2).fold(1.0, f64::max) * 1.1;
        let panel = panels[k]
            .titled(&format!("{} → {} ({} synapses)", name(p.source), name(p.target), p.start.len()), st.label())
            .map_err(|e| e.to_string())?;
        let mut chart = chart!(&panel, st, (lo, hi), (0.0, ymax), false, true, "weight (model current units)", "synapses");
        chart.draw_series(LineSeries::new(step_line(&a), grey.stroke_width(st.stroke(1.6)))).map_err(|e| e.to_string())?;
        chart.draw_series(LineSeries::new(step_line(&b), color.stroke_width(st.stroke(1.8)))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The mean end weight of each (source, target) population block, with a colour bar.
pub(crate) fn weight_matrix<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, projections: &[Projection]) -> R {
    let area = titled(root, st, &title("Mean synaptic weight per population block (end of run)", info))?;
    let (w, _) = area.dim_in_pixel();
    let (left, bar) = area.split_horizontally(w * 80 / 100);
    let n = info.populations.len().max(1);
    let mean = |p: &Projection| p.end.iter().copied().filter(|x| x.is_finite()).sum::<f64>() / p.end.len().max(1) as f64;
    let m = projections.iter().map(|p| mean(p).abs()).fold(f64::MIN_POSITIVE, f64::max);
    let names: Vec<String> = info.populations.iter().map(|p| p.name.clone()).collect();
    let label = |v: &f64| names.get(v.round() as usize).cloned().unwrap_or_default();
    let idx: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(&left)
        .margin(st.px(10.0))
        .x_label_area_size(st.px(48.0))
        .y_label_area_size(st.px(110.0))
        .build_cartesian_2d(Axis::with_ticks(-0.5, n as f64 - 0.5, idx.clone()), Axis::with_ticks(-0.5, n as f64 - 0.5, idx))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_style(st.label())
        .y_label_style(st.label())
        .axis_desc_style(st.label())
        .x_desc("target population")
        .y_desc("source population")
        .x_label_formatter(&label)
        .y_label_formatter(&label)
        .draw()
        .map_err(|e| e.to_string())?;
    for p in projections {
        let (x, y) = (p.target as f64, p.source as f64);
        let v = mean(p);
        chart
            .draw_series(std::iter::once(Rectangle::new([(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)], diverging(v / m).filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([
                Text::new(format_number((v * 1000.0).round() / 1000.0), (x - 0.2, y + 0.12), st.label()),
                Text::new(format!("{} synapses", p.end.len()), (x - 0.2, y - 0.08), st.label()),
            ])
            .map_err(|e| e.to_string())?;
    }
    colour_bar(
        &bar,
        st,
        (-m, m),
        ticks(-m, m, 4, false),
        &|v| format_number((v * 1000.0).round() / 1000.0),
        &|v| diverging(v / m),
        "mean weight (model units)",
    )
}

/// The weight histogram over time (log count, with a colour bar) and its first and last rows.
pub(crate) struct Distribution {
    /// `(time ms, bin low, bin high, count)`.
    pub(crate) cells: Vec<(f64, f64, f64, f64)>,
}

pub(crate) fn weight_distribution<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, d: &Distribution) -> R {
    let area = titled(root, st, &title("Weight distribution over time", info))?;
    let mut times: Vec<f64> = d.cells.iter().map(|c| c.0).collect();
    times.dedup();
    let step = if times.len() > 1 { (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64 } else { info.duration_ms.max(1.0) };
    let (t0, t1) = min_max(times.iter().copied());
    let unit = TimeUnit::for_duration(t1 + step - t0);
    let (y0, y1) = min_max(d.cells.iter().flat_map(|c| [c.1, c.2]));
    let cmax = d.cells.iter().map(|c| c.3).fold(1.0, f64::max);
    let lmax = cmax.log10().max(1e-9);
    let (w, _) = area.dim_in_pixel();
    let (heat, rest) = area.split_horizontally(w * 55 / 100);
    let (bar, right) = rest.split_horizontally(w * 15 / 100);
    let mut chart =
        chart!(&heat, st, (unit.of(t0), unit.of(t1 + step)), (y0, y1), false, false, unit.axis(), "weight (model current units)");
    chart
        .draw_series(d.cells.iter().filter(|c| c.3 > 0.0).map(|c| {
            let shade = blues(0.08 + 0.92 * c.3.log10().max(0.0) / lmax);
            Rectangle::new([(unit.of(c.0), c.1), (unit.of(c.0 + step), c.2)], shade.filled())
        }))
        .map_err(|e| e.to_string())?;
    // The colour bar in log10(count); ticks at whole counts 1, 10, 100, …
    // Ticks at 1, 2, 5, 10, 20, … synapses (fewer when the decades are many).
    let marks: &[f64] = if lmax > 3.0 { &[1.0] } else { &[1.0, 2.0, 5.0] };
    let ticks: Vec<f64> = (0..=lmax.floor() as i32)
        .flat_map(|d| marks.iter().map(move |m| (m * 10f64.powi(d)).log10()))
        .filter(|&x| x <= lmax + 1e-9)
        .collect();
    colour_bar(
        &bar,
        st,
        (0.0, lmax),
        ticks,
        &|v| format_number(10f64.powf(v).round()),
        &|v| blues(0.08 + 0.92 * v / lmax),
        "synapses per bin (log scale)",
    )?;
    // First and last rows.
    let row = |at: f64| d.cells.iter().filter(|c| c.0 == at).map(|c| (c.1, c.2, c.3)).collect::<Vec<_>>();
    let (a, b) = (row(t0), row(t1));
    let ymax = a.iter().chain(&b).map(|x| x.2).fold(1.0, f64::max) * 1.1;
    let right = right
        .titled(&format!("grey: {}, blue: {}", super::style::duration_text(t0), super::style::duration_text(t1)), st.label())
        .map_err(|e| e.to_string())?;
    let mut chart = chart!(&right, st, (y0, y1), (0.0, ymax), false, true, "weight", "synapses");
    chart.draw_series(LineSeries::new(step_line(&a), RGBColor(150, 150, 150).stroke_width(st.stroke(1.6)))).map_err(|e| e.to_string())?;
    chart.draw_series(LineSeries::new(step_line(&b), RGBColor(8, 48, 107).stroke_width(st.stroke(1.8)))).map_err(|e| e.to_string())?;
    Ok(())
}

/// One modulator's samples and release marks.
pub(crate) struct Modulator {
    pub(crate) name: String,
    /// `(t ms, level, baseline)`.
    pub(crate) samples: Vec<(f64, f64, f64)>,
    /// Release times, ms.
    pub(crate) releases: Vec<f64>,
}

/// Modulator levels, smoothed, with their baselines and release marks: one panel each.
pub(crate) fn modulators<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, info: &RunInfo, mods: &[Modulator]) -> R {
    let area = titled(root, st, &title("Neuromodulator levels", info))?;
    let colors = [RGBColor(0, 114, 178), RGBColor(204, 121, 167), RGBColor(0, 158, 115)];
    let entries = vec![
        Entry { label: "level, raw".into(), color: RGBColor(190, 190, 190), line: true },
        Entry { label: "smoothed level".into(), color: RGBColor(60, 60, 60), line: true },
        Entry { label: "baseline".into(), color: RGBColor(230, 159, 0), line: true },
        Entry { label: "release".into(), color: RGBColor(213, 94, 0), line: true },
    ];
    let data = with_legend(&area, st, 170.0, &entries)?;
    let panels = data.split_evenly((mods.len().max(1), 1));
    let (t0, t1) = min_max(mods.iter().flat_map(|m| m.samples.iter().map(|s| s.0)));
    let unit = TimeUnit::for_duration(t1 - t0);
    for (i, m) in mods.iter().enumerate() {
        let color = colors[i % colors.len()];
        let (lo, hi) = min_max(m.samples.iter().flat_map(|s| [s.1, s.2]));
        let pad = 0.05 * (hi - lo);
        let xdesc = if i + 1 == mods.len() { unit.axis() } else { "" };
        let mut chart = chart!(
            &panels[i],
            st,
            (unit.of(t0), unit.of(t1)),
            (lo - pad, hi + pad),
            false,
            false,
            xdesc,
            &format!("{} (level, a.u.)", m.name)
        );
        chart
            .draw_series(segments(m.samples.iter().map(|s| (unit.of(s.0), s.1)), RGBColor(200, 200, 200).stroke_width(st.stroke(0.8))))
            .map_err(|e| e.to_string())?;
        // Smoothed: a centred moving average over 1/200 of the run.
        let k = (m.samples.len() / 200).max(1);
        let smooth: Vec<(f64, f64)> = (0..m.samples.len())
            .map(|j| {
                let (a, b) = (j.saturating_sub(k / 2), (j + k / 2 + 1).min(m.samples.len()));
                let mean = m.samples[a..b].iter().map(|s| s.1).sum::<f64>() / (b - a) as f64;
                (unit.of(m.samples[j].0), mean)
            })
            .collect();
        chart.draw_series(segments(smooth, color.stroke_width(st.stroke(2.0)))).map_err(|e| e.to_string())?;
        chart
            .draw_series(segments(m.samples.iter().map(|s| (unit.of(s.0), s.2)), RGBColor(230, 159, 0).stroke_width(st.stroke(1.6))))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(m.releases.iter().map(|&t| {
                PathElement::new(
                    vec![(unit.of(t), hi + pad * 0.2), (unit.of(t), hi + pad)],
                    RGBColor(213, 94, 0).stroke_width(st.stroke(1.5)),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Traced synapses over time, a control run's in grey.
pub(crate) fn weight_trace<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    st: Style,
    info: &RunInfo,
    main: &BTreeMap<(u32, u32), Vec<(f64, f64)>>,
    control: &BTreeMap<(u32, u32), Vec<(f64, f64)>>,
) -> R {
    let area = titled(root, st, &title("Traced synaptic weights", info))?;
    let pop_color = |n: u32| info.population_of(n).and_then(|p| info.populations.get(p)).map_or(BLACK, |p| rgb(p.color));
    let mut entries: Vec<Entry> =
        main.keys().map(|&(a, b)| Entry { label: format!("{a} → {b}"), color: pop_color(a), line: true }).collect();
    entries.extend(control.keys().map(|&(a, b)| Entry {
        label: format!("{a} → {b} (control)"),
        color: RGBColor(140, 140, 140),
        line: true,
    }));
    let data = with_legend(&area, st, 190.0, &entries)?;
    let all = main.values().chain(control.values()).flatten();
    let (t0, t1) = min_max(all.clone().map(|p| p.0));
    let (_, y1) = min_max(all.map(|p| p.1));
    let unit = TimeUnit::for_duration(t1 - t0);
    let mut chart = chart!(
        &data,
        st,
        (unit.of(t0), unit.of(t1)),
        (0.0, (y1 * 1.05).max(0.1)),
        false,
        false,
        unit.axis(),
        "weight (model current units)"
    );
    for ((a, _), pts) in main {
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (unit.of(p.0), p.1)), pop_color(*a).stroke_width(st.stroke(2.0))))
            .map_err(|e| e.to_string())?;
    }
    for pts in control.values() {
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (unit.of(p.0), p.1)), RGBColor(140, 140, 140).stroke_width(st.stroke(2.0))))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
