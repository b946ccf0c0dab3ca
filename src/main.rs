//! The `biospike` command line: run, validate, export and plot.

use biospike::{RunOptions, Scene, run};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The first error writing to standard output (a closed pipe stops the output quietly; any
/// other error, e.g. a full disk, is reported at exit with code 1).
static STDOUT_ERROR: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// `println!` that never panics: after the first failed write, standard output is left alone.
macro_rules! say {
    ($($t:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let Ok(mut failed) = STDOUT_ERROR.lock() else { return };
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        *failed = Some(e);
    }
}

/// The exit code after everything was printed: a failed standard output (other than a reader
/// that went away) turns success into 1.
fn finish(code: ExitCode) -> ExitCode {
    let err = STDOUT_ERROR.lock().ok().and_then(|mut e| e.take());
    match err {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: standard output: {e}");
            if code == ExitCode::SUCCESS { ExitCode::FAILURE } else { code }
        }
        _ => code,
    }
}

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP set `stop`: the run ends after the current step and
/// completes every file. A second signal while stopping exits at once (130/143/129). Returns
/// the number of the signal that asked to stop (0 until one does).
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Arc<std::sync::atomic::AtomicUsize> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let which = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // Registered first, so it sees the flag as the previous signal left it.
        let force = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(stop));
        let first = signal_hook::flag::register_usize(sig, Arc::clone(&which), sig as usize)
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(stop)));
        if let Err(e) = force.and(first) {
            eprintln!("warning: cannot handle signal {sig} ({e}); it will not complete the files");
        }
    }
    which
}

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
        /// Worker threads for the parallel loops, 1..=1024. Default: all cores.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// Do not write any output.
        #[arg(long)]
        no_output: bool,
        /// Control run of a reward experiment: pairings are counted, no dopamine is released.
        #[arg(long)]
        no_rewards: bool,
        /// Measure the time per phase and per system; print it and write `profile.parquet`.
        #[arg(long)]
        profile: bool,
        /// Write a checkpoint into OUT/checkpoints/ after every this many simulated ms (and when
        /// a signal stops the run); `biospike resume` continues from it bit for bit.
        #[arg(long, value_name = "MS")]
        checkpoint_every_ms: Option<f64>,
        /// Write a checkpoint only when a signal (Ctrl-C, SIGTERM, SIGHUP) stops the run early.
        #[arg(long)]
        checkpoint_at_stop: bool,
    },
    /// Continue a run from a checkpoint: the output is the same, bit for bit, as if the run had
    /// never stopped.
    Resume {
        /// A checkpoint folder (OUT/checkpoints/step-…), or a run's output folder (its latest
        /// checkpoint).
        checkpoint: PathBuf,
        /// Steps to run from the checkpoint. Default: up to the run's planned end.
        #[arg(long)]
        steps: Option<u64>,
        /// Output directory. Default: the checkpointed run's folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Branch: continue with this scene instead of the checkpoint's own (same network and
        /// seed; other parameters may differ).
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Branch: continue the reward experiment as a control run (no dopamine released).
        #[arg(long)]
        no_rewards: bool,
        /// Worker threads, 1..=1024. Default: all cores.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// Do not write any output.
        #[arg(long)]
        no_output: bool,
        /// Measure the time per phase and per system.
        #[arg(long)]
        profile: bool,
        /// Write checkpoints every this many simulated ms (and when a signal stops the run).
        #[arg(long, value_name = "MS")]
        checkpoint_every_ms: Option<f64>,
        /// Write a checkpoint only when a signal stops the run early.
        #[arg(long)]
        checkpoint_at_stop: bool,
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
    // Started by `mpirun`: MPI runs until the end of `main` (MPI_Finalize when dropped).
    #[cfg(feature = "mpi")]
    let _cluster = match biospike::cluster::start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: MPI: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match cli.command {
        Command::Validate { scene } => match load(&scene, None) {
            Ok(s) => match s.check_memory() {
                Ok(budget) => {
                    // A traced synapse must exist in the network the topology builds.
                    if s.desc.record.weights.as_ref().is_some_and(|w| !w.synapses.is_empty())
                        && let Err(e) = biospike::build_app(&s, None)
                    {
                        eprintln!("error: {e}");
                        return finish(ExitCode::from(2));
                    }
                    for w in s.warnings(s.desc.time_steps) {
                        eprintln!("warning: {w}");
                    }
                    say!("ok: {s}");
                    say!("  memory {budget}");
                    say!("  output {}", budget.output_line());
                    say!("effective configuration (defaults filled in):");
                    let d = &s.desc;
                    say!("  integration {:?}, threshold_mv {}", d.integration, d.threshold_mv);
                    for p in &d.populations {
                        say!("  population {p:?}");
                    }
                    if d.projections.is_empty() {
                        say!("  topology {:?}", d.topology);
                    }
                    for p in &d.projections {
                        say!("  projection {p:?}");
                    }
                    say!("  synapse_storage {:?}", d.synapse_storage);
                    say!("  record {:?}", d.record);
                    let off = "off".to_string();
                    say!("  neuromodulation {}", d.neuromodulation.as_ref().map_or(off.clone(), |x| format!("{x:?}")));
                    say!("  plasticity {}", d.plasticity.as_ref().map_or(off.clone(), |x| format!("{x:?}")));
                    say!("  structure {}", d.structure.as_ref().map_or(off.clone(), |x| format!("{x:?}")));
                    say!("  drift {}", d.drift.as_ref().map_or(off.clone(), |x| format!("{x:?}")));
                    say!("  quantize {}", d.quantize.as_ref().map_or(off.clone(), |x| format!("{x:?}")));
                    say!("  experiment {}", d.experiment.as_ref().map_or(off, |x| format!("{x:?}")));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            },
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
                None => write_stdout(format_args!("{text}")),
            }
            ExitCode::SUCCESS
        }
        Command::Quantize { scene, num_weight_bits, compare, steps, out } => {
            if let Ok(s) = Scene::load(&scene)
                && s.desc.synapse_storage == biospike::scene::SynapseStorageDesc::IndexOnly
            {
                eprintln!(
                    "error: {}: quantize maps synapse entities to Loihi's format, and this scene keeps its synapses in the index only (synapse_storage: IndexOnly); use synapse_storage: Entities",
                    scene.display()
                );
                return ExitCode::from(2);
            }
            let (s, mut app) = match load_and_build(&scene) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let reports = biospike::quantize::quantize_network(app.world_mut(), num_weight_bits, false);
            say!("Loihi weight quantization of {s}, num_weight_bits = {num_weight_bits}");
            write_stdout(format_args!("{}", biospike::quantize::ReportTable(&reports)));
            let mut runs = Vec::new();
            if compare {
                let base = RunOptions { steps, ..Default::default() };
                let quant = RunOptions { steps, quantize_bits: Some(num_weight_bits), ..Default::default() };
                match (run(&s, &base), run(&s, &quant)) {
                    (Ok(f), Ok(q)) => {
                        say!("\npopulation     spikes float  spikes quant     rate float   rate quant   difference");
                        for (a, b) in f.populations.iter().zip(&q.populations) {
                            let (ra, rb) = (f.rate_hz(a), q.rate_hz(b));
                            let diff = if ra > 0.0 { format!("{:+.2}%", 100.0 * (rb - ra) / ra) } else { "-".into() };
                            say!("{:<14} {:>12} {:>13} {:>12.3} {:>12.3} {:>12}", a.name, a.spikes, b.spikes, ra, rb, diff);
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
                    Ok(files) => files.iter().for_each(|f| say!("output       {}", f.display())),
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
                    report.written.iter().for_each(|f| say!("wrote    {}", f.display()));
                    report.skipped.iter().for_each(|(what, why)| say!("skipped  {what}: {why}"));
                    report.notes.iter().for_each(|n| say!("note     {n}"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Resume {
            checkpoint,
            steps,
            out,
            scene,
            no_rewards,
            threads,
            no_output,
            profile,
            checkpoint_every_ms,
            checkpoint_at_stop,
        } => {
            // Split over MPI ranks, every rank opens its own part of the latest step all ranks have.
            let ranks = biospike::cluster::ranks();
            let opened = if ranks.is_split() {
                let mine = biospike::Checkpoint::rank_steps(&checkpoint, ranks.rank);
                let written_by = biospike::checkpoint::rank_count(&checkpoint);
                match biospike::cluster::agree_on_step(&mine) {
                    Some(step) => biospike::Checkpoint::open_rank(&checkpoint, ranks.rank, step),
                    None if written_by > 0 && written_by != ranks.ranks => {
                        Err(biospike::checkpoint::CheckpointOpenError::Ranks { path: checkpoint.clone(), ranks: written_by })
                    }
                    None => {
                        Err(biospike::checkpoint::CheckpointOpenError::NotFound(biospike::checkpoint::rank_root(&checkpoint, ranks.rank)))
                    }
                }
            } else {
                biospike::Checkpoint::open(&checkpoint)
            };
            let ckpt = match opened {
                Ok(c) => c,
                Err(e) if !ranks.is_root() && matches!(e, biospike::checkpoint::CheckpointOpenError::Ranks { .. }) => {
                    // Said once, by rank 0.
                    return finish(ExitCode::from(2));
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return finish(ExitCode::from(2));
                }
            };
            let mut s = match &scene {
                Some(path) => match load(path, None) {
                    Ok(mut s) => {
                        ckpt.apply_run_choices(&mut s);
                        s
                    }
                    Err(code) => return finish(code),
                },
                None => match ckpt.scene() {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("error: the checkpoint's scene: {e}");
                        return finish(ExitCode::from(2));
                    }
                },
            };
            if no_rewards && let Some(biospike::scene::ExperimentDesc::DistalReward { rewards, .. }) = &mut s.desc.experiment {
                *rewards = false;
            }
            let out = if no_output {
                None
            } else {
                match out.or_else(|| ckpt.run_dir()) {
                    Some(o) => Some(o),
                    None => {
                        eprintln!("error: {}: not inside a run's checkpoints/ folder; give --out", ckpt.dir.display());
                        return finish(ExitCode::from(2));
                    }
                }
            };
            let end = steps.map_or(ckpt.manifest.end_step, |n| ckpt.manifest.step.saturating_add(n));
            let name = s.desc.name.clone().unwrap_or_else(|| "scene".into());
            if ranks.is_root() {
                eprintln!(
                    "resuming {} at step {} ({} neurons, steps {}..{} of {} ms, seed {})",
                    name,
                    ckpt.manifest.step,
                    s.neuron_count(),
                    ckpt.manifest.step,
                    end,
                    s.desc.dt_ms,
                    s.desc.seed
                );
            }
            let mut overrides = Vec::new();
            steps.inspect(|n| overrides.push(format!("--steps {n}")));
            threads.inspect(|n| overrides.push(format!("--threads {n}")));
            scene.as_ref().inspect(|p| overrides.push(format!("--scene {}", p.display())));
            no_rewards.then(|| overrides.push("--no-rewards".into()));
            let stop = Arc::new(AtomicBool::new(false));
            let signal = stop_on_signals(&stop);
            let opts = RunOptions {
                out,
                steps,
                threads: threads.map(usize::from),
                profile,
                progress: std::io::stderr().is_terminal(),
                stop: Some(stop),
                overrides,
                checkpoint_every_ms,
                checkpoint_at_stop,
                resume: Some(ckpt),
                ..Default::default()
            };
            run_and_report(&s, &opts, &signal)
        }
        Command::Run { scene, out, steps, seed, threads, no_output, no_rewards, profile, checkpoint_every_ms, checkpoint_at_stop } => {
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
            let signal = stop_on_signals(&stop);
            if let Some(seed) = seed {
                s.desc.seed = seed;
            }
            let run_steps = steps.unwrap_or(s.desc.time_steps);
            let mut overrides = Vec::new();
            steps.inspect(|n| overrides.push(format!("--steps {n}")));
            seed.inspect(|n| overrides.push(format!("--seed {n}")));
            threads.inspect(|n| overrides.push(format!("--threads {n}")));
            no_rewards.then(|| overrides.push("--no-rewards".into()));
            let ranks = biospike::cluster::ranks();
            if !ranks.is_root() {
                // Split over MPI ranks: rank 0 speaks for all.
                return finish(run_and_report(
                    &s,
                    &run_options(out, steps, threads, profile, stop, checkpoint_every_ms, checkpoint_at_stop, overrides),
                    &signal,
                ));
            }
            if ranks.is_split() {
                eprintln!("split   over {} MPI ranks (neuron blocks; each rank stores the synapses onto its neurons)", ranks.ranks);
            }
            eprintln!(
                "running {} ({} neurons, {} steps of {} ms = {} ms, seed {})",
                name,
                s.neuron_count(),
                run_steps,
                s.desc.dt_ms,
                run_steps as f64 * s.desc.dt_ms,
                s.desc.seed
            );
            for w in s.warnings(run_steps) {
                eprintln!("warning: {w}");
            }
            let budget = s.budget(run_steps);
            eprintln!("memory  {budget}");
            if let Some(dir) = &out {
                eprintln!("output  {} into {}", budget.output_line(), dir.display());
            }
            let opts = run_options(out, steps, threads, profile, stop, checkpoint_every_ms, checkpoint_at_stop, overrides);
            run_and_report(&s, &opts, &signal)
        }
    };
    finish(code)
}

/// The options of `biospike run`.
#[allow(clippy::too_many_arguments, reason = "the command's flags, passed on as they are")]
fn run_options(
    out: Option<PathBuf>,
    steps: Option<u64>,
    threads: Option<u16>,
    profile: bool,
    stop: Arc<AtomicBool>,
    checkpoint_every_ms: Option<f64>,
    checkpoint_at_stop: bool,
    overrides: Vec<String>,
) -> RunOptions {
    RunOptions {
        out,
        steps,
        seed: None,
        threads: threads.map(usize::from),
        profile,
        progress: std::io::stderr().is_terminal(),
        stop: Some(stop),
        quantize_bits: None,
        overrides,
        checkpoint_every_ms,
        checkpoint_at_stop,
        resume: None,
    }
}

/// Runs, prints the summary, and turns the outcome into the exit code (see the README).
fn run_and_report(s: &Scene, opts: &RunOptions, signal: &std::sync::atomic::AtomicUsize) -> ExitCode {
    let root = biospike::cluster::ranks().is_root();
    match run(s, opts) {
        Ok(summary) => {
            if root {
                say!("{summary}");
            }
            let sig = signal.load(Ordering::Relaxed);
            match (&summary.outcome, &summary.recorder_error) {
                (_, Some(_)) => ExitCode::FAILURE,
                (biospike::Outcome::Halted(_), _) => ExitCode::from(3),
                (biospike::Outcome::Interrupted, _) => ExitCode::from(128 + sig.clamp(1, 127) as u8),
                (biospike::Outcome::Completed | biospike::Outcome::Stopped(_), None) => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            // Split over MPI ranks, a refusal is the same on every rank: rank 0 says it.
            if root || !matches!(e, biospike::run::RunError::Ranks(_)) {
                eprintln!("error: {e}");
            }
            match e {
                biospike::run::RunError::Build(_) => ExitCode::from(2),
                biospike::run::RunError::Checkpoint(
                    biospike_core::checkpoint::CheckpointError::Incompatible(_)
                    | biospike_core::checkpoint::CheckpointError::Corrupt { .. }
                    | biospike_core::checkpoint::CheckpointError::NotNow(_),
                ) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
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
