//! The `biospike` command line: run, validate, export and plot.

use biospike::{RunOptions, Scene, run};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(name = "biospike", version, about = "Biorealistic spiking neural network simulation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scene headless and write Parquet output.
    Run {
        /// Scene file (`scenes/izhikevich_2003.ron`) or an embedded scene's name.
        scene: PathBuf,
        /// Output directory. Default: `out/<scene name>`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Number of steps (overrides `time_steps`).
        #[arg(long)]
        steps: Option<u64>,
        /// Seed (overrides the scene's).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads for the parallel loops. Default: all cores.
        #[arg(long)]
        threads: Option<usize>,
        /// Do not write any output.
        #[arg(long)]
        no_output: bool,
        /// Control run of a reward experiment: pairings are counted, no dopamine is released.
        #[arg(long)]
        no_rewards: bool,
        /// Measure the time per phase and per system; print it and write `profile.parquet`.
        #[arg(long)]
        profile: bool,
    },
    /// Draw figures from a run's output directory (raster with population rate, firing rates,
    /// ISI/CV, membrane traces, weights per projection, weight matrix, weight distribution,
    /// neuromodulators, traced weights); each figure whose table is missing is named with the
    /// reason.
    Plot {
        /// The run's output directory.
        dir: PathBuf,
        /// Where the figures go. Default: the run's directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A control run's directory: its traced weights are drawn in grey.
        #[arg(long)]
        control: Option<PathBuf>,
        /// Raster window `START,END` in ms. Default: the first second.
        #[arg(long, value_parser = parse_window)]
        window_ms: Option<(f64, f64)>,
        /// Bin width of the population rate under the raster, ms. Default: chosen from the rate.
        #[arg(long)]
        bin_ms: Option<f64>,
        /// PNG (3000 × 1800 px, 300 dpi at 10 × 6 in) or SVG.
        #[arg(long, value_enum, default_value_t = FormatArg::Png)]
        format: FormatArg,
    },
    /// Check a scene and print what it describes.
    Validate {
        /// Scene file or embedded scene's name.
        scene: PathBuf,
    },
    /// Quantize the network's weights to Loihi's 8-bit format; report the error per projection.
    Quantize {
        /// Scene file or embedded scene's name.
        scene: PathBuf,
        /// Weight bits kept (1..=8).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=8))]
        num_weight_bits: u32,
        /// Also run the float and the quantized network and compare spike counts.
        #[arg(long)]
        compare: bool,
        /// Number of steps for `--compare` (default: the scene's).
        #[arg(long)]
        steps: Option<u64>,
        /// Directory for `quantization.parquet` (and `quantization_runs.parquet`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Open the network in a 3D window and simulate it live (needs the `render` feature).
    View {
        /// Scene file or embedded scene's name.
        scene: PathBuf,
        /// Simulation steps per frame at start (`↑`/`↓` change it).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16384))]
        steps_per_frame: u32,
        /// Where the neurons go.
        #[arg(long, value_enum, default_value_t = LayoutArg::Auto)]
        layout: LayoutArg,
        /// Synapse lines at start (`L` cycles them).
        #[arg(long, value_enum, default_value_t = LinesArg::Sampled)]
        lines: LinesArg,
        /// Most synapse lines in the sampled mode.
        #[arg(long, default_value_t = 3000)]
        max_lines: usize,
        /// Save a PNG of the window after `--frames` frames, then exit.
        #[arg(long)]
        screenshot: Option<PathBuf>,
        /// Frames before the screenshot (at least 20: shaders compile in the first frames).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(20..))]
        frames: u64,
        /// Seed (overrides the scene's).
        #[arg(long)]
        seed: Option<u64>,
        /// Start paused (`Space` resumes, `N` steps once).
        #[arg(long)]
        paused: bool,
        /// Select this neuron at start: its parameters and `v` trace are shown.
        #[arg(long)]
        select: Option<u32>,
    },
    /// Export the built network graph.
    Graph {
        /// Scene file or embedded scene's name.
        scene: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Output file. Default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    /// Rings for small worlds, the scene's positions otherwise.
    Auto,
    /// The scene's positions (a layer per population).
    Positions,
    /// A ring per population.
    Ring,
    /// Force-directed from the synapse graph (up to 3 000 neurons).
    Force,
}

#[derive(Clone, Copy, ValueEnum)]
enum LinesArg {
    /// An even subsample (`--max-lines`).
    Sampled,
    /// Every synapse.
    All,
    /// None.
    None,
    /// The selected neuron's only.
    Selected,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Png,
    Svg,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Graphml,
}

fn parse_window(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or("expected START,END in ms")?;
    let a: f64 = a.trim().parse().map_err(|e| format!("{a}: {e}"))?;
    let b: f64 = b.trim().parse().map_err(|e| format!("{b}: {e}"))?;
    if !(a.is_finite() && b.is_finite()) {
        return Err(format!("{a},{b}: allowed: finite numbers"));
    }
    if a < b { Ok((a, b)) } else { Err(format!("START ({a}) must be below END ({b})")) }
}

fn load(path: &std::path::Path, seed: Option<u64>) -> Result<Scene, ExitCode> {
    match Scene::load(path) {
        Ok(mut s) => {
            if let Some(seed) = seed {
                s.desc.seed = seed;
            }
            Ok(s)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// Loads a scene and builds its network without a recorder (for `graph` and `quantize`).
fn load_and_build(path: &std::path::Path) -> Result<(Scene, bevy_app::App), ExitCode> {
    let s = load(path, None)?;
    match biospike::build_app(&s, None) {
        Ok(app) => Ok((s, app)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { scene } => match load(&scene, None) {
            Ok(s) => {
                println!("ok: {s}");
                for p in &s.desc.populations {
                    println!("  population {:<12} {:>9} neurons  {:?}", p.name, p.size, p.neuron);
                }
                println!("  topology {:?}", s.desc.topology);
                if s.desc.neuromodulation.is_some() {
                    println!("  neuromodulation: dopamine, serotonin, norepinephrine");
                }
                if let Some(p) = &s.desc.plasticity {
                    println!("  plasticity: STDP, {}", if p.dopamine_gated { "dopamine-gated (eligibility traces)" } else { "direct" });
                }
                if let Some(e) = &s.desc.experiment {
                    println!("  experiment: {e:?}");
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Graph { scene, format, out } => {
            let (_, mut app) = match load_and_build(&scene) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let g = biospike::graph::network_graph(app.world_mut());
            let text = match format {
                GraphFormat::Dot => biospike::graph::to_dot(&g),
                GraphFormat::Graphml => biospike::graph::to_graphml(&g),
            };
            match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, text) {
                        eprintln!("error: {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                    eprintln!("wrote {} ({} nodes, {} edges)", path.display(), g.node_count(), g.edge_count());
                }
                None => print!("{text}"),
            }
            ExitCode::SUCCESS
        }
        Command::Quantize { scene, num_weight_bits, compare, steps, out } => {
            let (s, mut app) = match load_and_build(&scene) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let reports = biospike::quantize::quantize_network(app.world_mut(), num_weight_bits, false);
            println!("Loihi weight quantization of {s}, num_weight_bits = {num_weight_bits}");
            print!("{}", biospike::quantize::ReportTable(&reports));
            let mut runs = Vec::new();
            if compare {
                let base = RunOptions { steps, ..Default::default() };
                let quant = RunOptions { steps, quantize_bits: Some(num_weight_bits), ..Default::default() };
                match (run(&s, &base), run(&s, &quant)) {
                    (Ok(f), Ok(q)) => {
                        println!("\npopulation     spikes float  spikes quant     rate float   rate quant   difference");
                        for (a, b) in f.populations.iter().zip(&q.populations) {
                            let (ra, rb) = (f.rate_hz(a), q.rate_hz(b));
                            let diff = if ra > 0.0 { format!("{:+.2}%", 100.0 * (rb - ra) / ra) } else { "-".into() };
                            println!("{:<14} {:>12} {:>13} {:>12.3} {:>12.3} {:>12}", a.name, a.spikes, b.spikes, ra, rb, diff);
                            runs.push((a.name.clone(), a.spikes, b.spikes, ra, rb));
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            if let Some(dir) = out {
                match biospike::tables::write_quantization(&dir, &reports, &runs, &biospike::metadata(&s)) {
                    Ok(files) => files.iter().for_each(|f| println!("output       {}", f.display())),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Command::View { scene, steps_per_frame, layout, lines, max_lines, screenshot, frames, seed, paused, select } => {
            let s = match load(&scene, seed) {
                Ok(s) => s,
                Err(code) => return code,
            };
            view(&s, ViewArgs { steps_per_frame, layout, lines, max_lines, screenshot: screenshot.map(|p| (p, frames)), paused, select })
        }
        Command::Plot { dir, out, control, window_ms, bin_ms, format } => {
            let format = match format {
                FormatArg::Png => biospike::plot::Format::Png,
                FormatArg::Svg => biospike::plot::Format::Svg,
            };
            let opts = biospike::plot::PlotOptions { out, control, raster_ms: window_ms, bin_ms, format };
            match biospike::plot::plot_run(&dir, &opts) {
                Ok(report) => {
                    report.written.iter().for_each(|f| println!("wrote    {}", f.display()));
                    report.skipped.iter().for_each(|(what, why)| println!("skipped  {what}: {why}"));
                    report.notes.iter().for_each(|n| println!("note     {n}"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run { scene, out, steps, seed, threads, no_output, no_rewards, profile } => {
            let mut s = match load(&scene, None) {
                Ok(s) => s,
                Err(code) => return code,
            };
            if no_rewards && let Some(biospike::scene::ExperimentDesc::DistalReward { rewards, .. }) = &mut s.desc.experiment {
                *rewards = false;
            }
            let name = s
                .desc
                .name
                .clone()
                .unwrap_or_else(|| scene.file_stem().map_or_else(|| "scene".to_string(), |x| x.to_string_lossy().into_owned()));
            let out = if no_output { None } else { Some(out.unwrap_or_else(|| PathBuf::from("out").join(&name))) };
            let stop = Arc::new(AtomicBool::new(false));
            {
                let stop = stop.clone();
                if let Err(e) = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed)) {
                    eprintln!("warning: no Ctrl-C handler ({e}); an interrupt will not complete the files");
                }
            }
            if let Some(seed) = seed {
                s.desc.seed = seed;
            }
            eprintln!("running {s}");
            let opts = RunOptions {
                out,
                steps,
                seed: None,
                threads,
                profile,
                progress: std::io::stderr().is_terminal(),
                stop: Some(stop),
                quantize_bits: None,
            };
            match run(&s, &opts) {
                Ok(summary) => {
                    println!("{summary}");
                    match (&summary.outcome, &summary.recorder_error) {
                        (_, Some(_)) => ExitCode::FAILURE,
                        (biospike::Outcome::Halted(_), _) => ExitCode::from(3),
                        (biospike::Outcome::Interrupted, _) => ExitCode::from(130),
                        (biospike::Outcome::Completed | biospike::Outcome::Stopped(_), None) => ExitCode::SUCCESS,
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `biospike view`'s arguments.
#[cfg_attr(not(feature = "render"), expect(dead_code, reason = "read by the viewer, which this build leaves out"))]
struct ViewArgs {
    steps_per_frame: u32,
    layout: LayoutArg,
    lines: LinesArg,
    max_lines: usize,
    screenshot: Option<(PathBuf, u64)>,
    paused: bool,
    select: Option<u32>,
}

#[cfg(feature = "render")]
fn view(s: &Scene, a: ViewArgs) -> ExitCode {
    use biospike::view::{LayoutChoice, layout_for};
    use biospike_render::{LineMode, ScreenshotRequest, ViewerSettings};
    if let Some(n) = a.select.filter(|&n| n >= s.neuron_count()) {
        eprintln!("error: --select {n}: the scene has neurons 0..{}", s.neuron_count());
        return ExitCode::from(2);
    }
    let layout = match a.layout {
        LayoutArg::Auto => LayoutChoice::Auto,
        LayoutArg::Positions => LayoutChoice::Positions,
        LayoutArg::Ring => LayoutChoice::Ring,
        LayoutArg::Force => LayoutChoice::Force,
    };
    let name = s.desc.name.clone().unwrap_or_else(|| s.source.display().to_string());
    let settings = ViewerSettings {
        steps_per_frame: a.steps_per_frame,
        layout: layout_for(s, layout),
        lines: match a.lines {
            LinesArg::Sampled => LineMode::Sampled,
            LinesArg::All => LineMode::All,
            LinesArg::None => LineMode::None,
            LinesArg::Selected => LineMode::Selected,
        },
        max_lines: a.max_lines,
        title: format!("{name} (seed {})", s.desc.seed),
        paused: a.paused,
        selected: a.select,
        screenshot: a.screenshot.map(|(path, frames)| ScreenshotRequest { path, frames }),
        ..Default::default()
    };
    eprintln!("viewing {s}");
    match biospike::view::view(s, settings) {
        Ok(exit) if exit.is_success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(feature = "render"))]
fn view(_: &Scene, _: ViewArgs) -> ExitCode {
    eprintln!("error: this biospike was built without the 3D viewer; rebuild with `cargo run --release --features render -- view SCENE`");
    ExitCode::from(2)
}
