//! `biospike plot`, checked where it can be: every figure of a small run is drawn (PNG and SVG),
//! is the promised size and not blank, integer axes print whole numbers, titles carry the
//! scene's name and seed, the population rate integrates to the spike count, and what cannot be
//! drawn is named with the reason.

use biospike::plot::{Format, PlotOptions, plot_run, population_rates};
use biospike::{RunOptions, Scene, run};
use parquet::file::reader::{FileReader, SerializedFileReader};
use std::path::{Path, PathBuf};

const FIGURES: [&str; 9] =
    ["raster", "rates", "isi_cv", "traces", "weights", "weight_matrix", "weight_distribution", "modulators", "weight_trace"];

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("biospike-plot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `seed_demo` records every table the figures read (spikes, state, synapses, weights with a
/// histogram, modulators).
fn seed_demo_run(name: &str) -> PathBuf {
    let dir = tmp(name);
    let scene = Scene::load("seed_demo".as_ref()).expect("embedded scene");
    let summary = run(&scene, &RunOptions { out: Some(dir.clone()), ..Default::default() }).expect("runs");
    assert!(summary.recorder_error.is_none());
    dir
}

fn rows(path: &Path) -> i64 {
    let reader = SerializedFileReader::new(std::fs::File::open(path).expect("open")).expect("parquet");
    reader.metadata().file_metadata().num_rows()
}

#[test]
fn every_figure_is_drawn_as_png_at_print_size_and_not_blank() {
    let dir = seed_demo_run("png");
    let report = plot_run(&dir, &PlotOptions::default()).expect("plots");
    assert!(report.skipped.is_empty(), "seed_demo has every table: {:?}", report.skipped);
    for f in FIGURES {
        let path = dir.join(format!("{f}.png"));
        assert!(report.written.contains(&path), "{f} written");
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).expect("open png")));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        assert_eq!((info.width, info.height), (3000, 1800), "{f}: 10 × 6 in at 300 dpi");
        let px = &buf[..info.buffer_size()];
        let channels = info.color_type.samples();
        let inked = px.chunks(channels).filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
        let total = px.len() / channels;
        assert!(inked > total / 200, "{f}: only {inked} of {total} pixels carry ink");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The tick labels and titles of the SVG output: integers without a decimal point, the scene's
/// name (not the file's) and seed in every title, units on the axes.
#[test]
fn svg_text_has_whole_numbers_units_and_the_scene_in_the_titles() {
    let dir = seed_demo_run("svg");
    let report = plot_run(&dir, &PlotOptions { format: Format::Svg, ..Default::default() }).expect("plots");
    assert_eq!(report.written.len(), FIGURES.len());
    for f in FIGURES {
        let text = std::fs::read_to_string(dir.join(format!("{f}.svg"))).expect("svg");
        let labels: Vec<String> = text
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")).map(|(s, _)| s.trim().to_string()))
            .collect();
        assert!(labels.iter().any(|l| l.contains("seed_demo") && l.contains("seed 42")), "{f}: title with the scene and seed: {labels:?}");
        for l in &labels {
            if let Ok(v) = l.parse::<f64>() {
                assert!(!(v.fract() == 0.0 && l.contains('.')), "{f}: tick label {l:?} prints a whole number with a decimal point");
            }
        }
        assert!(labels.iter().any(|l| l.contains('(') && l.contains(')')), "{f}: an axis with a unit in parentheses: {labels:?}");
    }
    let raster = std::fs::read_to_string(dir.join("raster.svg")).expect("svg");
    assert!(raster.contains("time (ms)") && raster.contains("rate (Hz)") && raster.contains("\nneuron\n"), "raster axes");
    let _ = std::fs::remove_dir_all(dir);
}

/// The rate under the raster is a rate: integrated over time and population it gives back the
/// number of rows of `spikes.parquet`, with the chosen bin and with `--bin-ms`.
#[test]
fn the_population_rate_integrates_to_the_spike_count() {
    let dir = tmp("psth");
    let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
    run(&scene, &RunOptions { out: Some(dir.clone()), steps: Some(400), ..Default::default() }).expect("runs");
    let spikes = rows(&dir.join("spikes.parquet"));
    assert!(spikes > 1000);
    for bin in [None, Some(1.0), Some(7.0)] {
        let (b, pops) = population_rates(&dir, bin).expect("rates");
        if let Some(want) = bin {
            assert_eq!(b, want);
        }
        let integral: f64 = pops.iter().map(|(_, n, r)| r.iter().map(|&(_, hz)| hz * b / 1000.0 * f64::from(*n)).sum::<f64>()).sum();
        assert!((integral - spikes as f64).abs() < 1e-6, "bin {b}: {integral} vs {spikes}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A run without some tables: the figures that need them are named with the reason; a
/// directory with no tables, a wrong table, a missing control run and a non-finite window are
/// errors.
#[test]
fn missing_tables_are_reported_and_bad_input_refused() {
    let dir = tmp("partial");
    let text = r#"(
        name: Some("partial"), seed: 3, dt_ms: 1.0, time_steps: 200,
        populations: [(name: "n", size: 50, noise: Some((mean: 4.0, std: 3.0)))],
        record: (spikes: false),
    )"#;
    let scene = Scene::parse(text, "<partial>".as_ref()).expect("scene");
    run(&scene, &RunOptions { out: Some(dir.clone()), ..Default::default() }).expect("runs");
    let report = plot_run(&dir, &PlotOptions::default()).expect("plots what exists");
    let skipped: Vec<&str> = report.skipped.iter().map(|(f, _)| f.as_str()).collect();
    assert!(skipped.contains(&"raster") && skipped.contains(&"traces"), "{skipped:?}");
    assert!(report.skipped.iter().any(|(f, why)| f == "raster" && why.contains("spikes.parquet")), "{:?}", report.skipped);

    let empty = tmp("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    assert!(plot_run(&empty, &PlotOptions::default()).is_err(), "nothing to plot is an error");
    let wrong = tmp("wrong");
    std::fs::create_dir_all(&wrong).expect("dir");
    biospike::tables::write_table(&wrong.join("spikes.parquet"), vec![("a", biospike::tables::Column::U64(vec![1]))], &[]).expect("table");
    assert!(plot_run(&wrong, &PlotOptions::default()).is_err(), "a table without the expected columns is an error");
    let no_control = PlotOptions { control: Some(tmp("nowhere")), ..Default::default() };
    assert!(plot_run(&dir, &no_control).is_err(), "a missing control run is an error");
    let infinite = PlotOptions { raster_ms: Some((0.0, f64::INFINITY)), ..Default::default() };
    assert!(plot_run(&dir, &infinite).is_err(), "an infinite window is an error");
    for d in [dir, empty, wrong] {
        let _ = std::fs::remove_dir_all(d);
    }
}
