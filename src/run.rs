//! The headless driver: build, step `time_steps` times, stop cleanly, summarize.

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_synapses::prelude::*;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::build::{BuildError, build_app_with};
use crate::checkpoint::{CHECKPOINTS_DIR, Checkpoint, CheckpointManifest, Checkpointer};
use crate::scene::Scene;
use crate::simulation::{Simulation, progress_bar};

/// How to run a scene: every option of `biospike run`.
///
/// ```
/// use biospike::{RunOptions, Scene, run};
///
/// let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
/// let summary = run(&scene, &RunOptions { steps: Some(200), seed: Some(3), profile: true, ..Default::default() }).expect("runs");
/// assert_eq!(summary.steps, 200);
/// assert_eq!(summary.seed, 3);
/// assert!(summary.profile.as_ref().is_some_and(|p| p.steps == 200));
/// ```
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Output directory for Parquet files; nothing is written when `None`.
    pub out: Option<PathBuf>,
    /// Override the scene's `time_steps`.
    pub steps: Option<u64>,
    /// Override the scene's seed.
    pub seed: Option<u64>,
    /// Compute threads (`>= 1`; process-wide, effective only before the first simulation of the
    /// process steps). Default: all cores.
    pub threads: Option<usize>,
    /// Measure the time per phase and per system ([`SimProfile`]); with `out`, also written to
    /// `profile.parquet`.
    pub profile: bool,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Set to `true` (e.g. by a Ctrl-C handler) to stop after the current step.
    pub stop: Option<Arc<AtomicBool>>,
    /// Run with Loihi-quantized weights keeping this many weight bits (1..=8).
    pub quantize_bits: Option<u32>,
    /// What the caller changed from the scene (the CLI's `--steps 600000`, …), stored in every
    /// file's metadata as `biospike.overrides`.
    pub overrides: Vec<String>,
    /// Write a checkpoint into `out/checkpoints/` after every this many simulated ms (needs
    /// `out`). See [`crate::checkpoint`].
    pub checkpoint_every_ms: Option<f64>,
    /// Write a checkpoint when the run is stopped (Ctrl-C, SIGTERM, the stop flag) before its
    /// end (needs `out`). Implied by `checkpoint_every_ms`.
    pub checkpoint_at_stop: bool,
    /// Continue from this checkpoint instead of step 0: the scene must describe the same network
    /// (the checkpoint's own scene, [`Checkpoint::scene`], or a variant of it that changes
    /// parameters, which branches the run). `steps` then counts from the checkpoint; without it
    /// the run goes to the checkpointed run's planned end. The recorder's tables continue the
    /// checkpointed run's, so `out` holds the whole run.
    pub resume: Option<Checkpoint>,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// All steps ran.
    Completed,
    /// Stopped on request (Ctrl-C) after this many steps.
    Interrupted,
    /// The numerical guard stopped it.
    Halted(String),
    /// A system's stop condition ended it ([`SimStatus::stop`]).
    Stopped(String),
}

impl Outcome {
    /// One word for metadata (`biospike.outcome`): `completed`, `interrupted`, `halted: …`,
    /// `stopped: …`.
    pub fn key(&self) -> String {
        match self {
            Self::Completed => "completed".into(),
            Self::Interrupted => "interrupted".into(),
            Self::Halted(m) => format!("halted: {m}"),
            Self::Stopped(m) => format!("stopped: {m}"),
        }
    }
}

/// Spikes of one population.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSummary {
    /// Name.
    pub name: String,
    /// Neurons.
    pub size: u32,
    /// Spikes during the run.
    pub spikes: u64,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Scene name.
    pub scene: String,
    /// Seed used.
    pub seed: u64,
    /// Steps run.
    pub steps: u64,
    /// Step size, ms.
    pub dt_ms: f64,
    /// Network construction time (spawning, topology, index).
    pub setup: Duration,
    /// Time spent stepping.
    pub wall: Duration,
    /// Per population.
    pub populations: Vec<PopulationSummary>,
    /// Synapses in the network.
    pub synapses: usize,
    /// Synaptic events delivered.
    pub events: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// A recording error, if any.
    pub recorder_error: Option<String>,
    /// Extra lines from plasticity and experiments (`label`, text).
    pub notes: Vec<(String, String)>,
    /// Peak resident memory of the process so far, bytes (Linux `VmHWM`; `None` elsewhere).
    pub peak_memory: Option<u64>,
    /// Time per phase and per system, when [`RunOptions::profile`] asked for it.
    pub profile: Option<SimProfile>,
    /// Split over MPI ranks: each rank's share and costs, in rank order (empty in one process).
    pub ranks: Vec<RankLoad>,
}

/// One MPI rank's share of a split run ([`RunSummary::ranks`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RankLoad {
    /// Neurons it owns.
    pub neurons: u64,
    /// Synapses it stores (those onto its neurons).
    pub synapses: u64,
    /// Spikes of its neurons.
    pub spikes: u64,
    /// Synaptic events it delivered.
    pub events: u64,
    /// Stepping time outside MPI calls.
    pub compute: Duration,
    /// Time inside MPI calls (the spike exchange and the status agreement, waiting included).
    pub communication: Duration,
    /// Peak resident memory, bytes (0 where unknown).
    pub peak_memory: u64,
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), bytes.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

impl RunSummary {
    /// Simulated time, ms.
    pub fn simulated_ms(&self) -> f64 {
        self.steps as f64 * self.dt_ms
    }

    /// Total spikes.
    pub fn spikes(&self) -> u64 {
        self.populations.iter().map(|p| p.spikes).sum()
    }

    /// Mean rate of a population, Hz.
    pub fn rate_hz(&self, p: &PopulationSummary) -> f64 {
        let t = self.simulated_ms() * 1e-3;
        if t > 0.0 && p.size > 0 { p.spikes as f64 / (f64::from(p.size) * t) } else { 0.0 }
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sim_s = self.simulated_ms() * 1e-3;
        let wall = self.wall.as_secs_f64();
        writeln!(f, "scene        {} (seed {})", self.scene, self.seed)?;
        let outcome = match &self.outcome {
            Outcome::Completed => "completed".to_string(),
            Outcome::Interrupted => "interrupted (a signal or a stop request); files are complete".to_string(),
            Outcome::Halted(m) => format!("HALTED: {m}"),
            Outcome::Stopped(m) => format!("stopped by a condition: {m}"),
        };
        writeln!(f, "outcome      {outcome}")?;
        writeln!(f, "steps        {} × {} ms = {:.3} s simulated", self.steps, self.dt_ms, sim_s)?;
        writeln!(f, "wall         {:.3} s stepping ({:.3} s setup)", wall, self.setup.as_secs_f64())?;
        if wall > 0.0 {
            writeln!(f, "real-time    {:.2}× ({:.3} ms wall per simulated s)", sim_s / wall, wall * 1e3 / sim_s.max(f64::MIN_POSITIVE))?;
            writeln!(
                f,
                "events       {} synaptic events over {} synapses ({:.1} M events/s)",
                self.events,
                self.synapses,
                self.events as f64 / wall / 1e6
            )?;
        }
        if let Some(bytes) = self.peak_memory {
            let per_synapse =
                if self.synapses > 0 { format!(", {:.0} B per synapse", bytes as f64 / self.synapses as f64) } else { String::new() };
            writeln!(f, "memory       {:.1} MB peak resident{per_synapse}", bytes as f64 / 1e6)?;
        }
        writeln!(f, "population       neurons      spikes   rate (Hz)")?;
        for p in &self.populations {
            writeln!(f, "{:<14} {:>9} {:>11} {:>11.3}", p.name, p.size, p.spikes, self.rate_hz(p))?;
        }
        let total = PopulationSummary { name: "all".into(), size: self.populations.iter().map(|p| p.size).sum(), spikes: self.spikes() };
        writeln!(f, "{:<14} {:>9} {:>11} {:>11.3}", total.name, total.size, total.spikes, self.rate_hz(&total))?;
        for (label, text) in &self.notes {
            writeln!(f, "{label:<12} {text}")?;
        }
        if !self.ranks.is_empty() {
            writeln!(f, "rank      neurons     synapses      spikes   compute (s)   MPI (s)   peak MB")?;
            for (r, l) in self.ranks.iter().enumerate() {
                writeln!(
                    f,
                    "{r:<6} {:>10} {:>12} {:>11} {:>13.3} {:>9.3} {:>9.1}",
                    l.neurons,
                    l.synapses,
                    l.spikes,
                    l.compute.as_secs_f64(),
                    l.communication.as_secs_f64(),
                    l.peak_memory as f64 / 1e6
                )?;
            }
        }
        if let Some(p) = &self.profile {
            write!(f, "{p}")?;
        }
        if let Some(e) = &self.recorder_error {
            writeln!(f, "recording    FAILED: {e}")?;
        }
        for file in &self.files {
            writeln!(f, "output       {}", file.display())?;
        }
        Ok(())
    }
}

/// Errors of a run (scene errors are reported before).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The network could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Output could not be written.
    #[error("recording: {0}")]
    Record(String),
    /// The output folder cannot take the run's files.
    #[error(transparent)]
    Output(#[from] crate::outdir::OutputDirError),
    /// A checkpoint could not be restored, or checkpoints were asked for without an output
    /// folder.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] biospike_core::checkpoint::CheckpointError),
    /// Split over MPI ranks: something the split run cannot do, or another rank failed.
    #[error("{0}")]
    Ranks(String),
}

/// Builds and runs a scene to the end, to a halt, or to a stop request; completes every file.
pub fn run(scene: &Scene, opts: &RunOptions) -> Result<RunSummary, RunError> {
    if let Some(n) = opts.threads {
        crate::set_threads(n);
    }
    let seeded;
    let scene = match opts.seed {
        Some(seed) => {
            let mut s = scene.clone();
            s.desc.seed = seed;
            seeded = s;
            &seeded
        }
        None => scene,
    };
    let resume = opts.resume.as_ref();
    let start_step = resume.map_or(0, |c| c.manifest.step);
    let end_step = match (opts.steps, resume) {
        (Some(n), Some(c)) => c.manifest.step.saturating_add(n),
        (None, Some(c)) => c.manifest.end_step,
        (Some(n), None) => n,
        (None, None) => scene.desc.time_steps,
    };
    let steps = end_step.saturating_sub(start_step);
    let checkpointing = opts.checkpoint_every_ms.is_some() || opts.checkpoint_at_stop;
    if checkpointing && opts.out.is_none() {
        return Err(
            biospike_core::checkpoint::CheckpointError::NotNow("checkpoints are written into the output folder; give one".into()).into()
        );
    }
    if let Some(ms) = opts.checkpoint_every_ms
        && !(ms.is_finite() && ms > 0.0)
    {
        return Err(biospike_core::checkpoint::CheckpointError::NotNow(format!(
            "checkpoint interval {ms} ms: allowed: a finite number > 0"
        ))
        .into());
    }
    let ranks = crate::cluster::ranks();
    if ranks.is_split()
        && let Some(why) = crate::cluster::unsupported(scene)
    {
        return Err(RunError::Ranks(why));
    }
    if let Some(c) = resume
        && c.manifest.ranks != ranks.ranks
    {
        return Err(RunError::Ranks(format!(
            "{}: written by a run on {} rank(s); resume it on as many (`mpirun -np {}`), this run has {}",
            c.dir.display(),
            c.manifest.ranks,
            c.manifest.ranks,
            ranks.ranks
        )));
    }
    // Claimed (locked, emptied of an earlier run, checked for space) before anything is built;
    // held until the files are complete. A resumed run keeps the folder's checkpoints. Split
    // over ranks, rank 0 claims it for all, and no rank goes on if one cannot.
    scene.check_memory().map_err(BuildError::from)?;
    let claim = match &opts.out {
        Some(out) if ranks.is_root() => {
            let claimed = crate::outdir::OutputDir::claim_keeping(out, scene.budget(steps).output_bytes, resume.is_some());
            crate::cluster::all_ok(claimed.is_ok());
            Some(claimed?)
        }
        Some(_) => {
            if !crate::cluster::all_ok(true) {
                return Err(RunError::Ranks("rank 0 could not claim the output folder".into()));
            }
            None
        }
        None => None,
    };
    let overrides = match resume {
        Some(c) => {
            let mut all = c.manifest.overrides.clone();
            all.push(format!("resumed at step {} from {}", c.manifest.step, c.dir.display()));
            all.extend(opts.overrides.iter().cloned());
            all
        }
        None => opts.overrides.clone(),
    };
    // Every file's metadata: the scene's, plus what this run changed.
    let run_extra = [("biospike.overrides".to_string(), overrides.join(" ")), ("biospike.steps_planned".to_string(), end_step.to_string())];
    let mut run_metadata = crate::metadata(scene);
    run_metadata.extend(run_extra.iter().cloned());
    let t0 = Instant::now();
    let built = build_app_with(scene, opts.out.as_deref(), |app| {
        crate::cluster::add_plugin(app, scene);
        if opts.profile {
            app.add_plugins(ProfilePlugin);
        }
        #[cfg(feature = "parquet")]
        if let Some(mut r) = app.world_mut().get_resource_mut::<biospike_record::RecordSettings>() {
            r.metadata.extend(run_extra.iter().cloned());
        }
    });
    // A rank that cannot build (a traced synapse it should hold is missing, …) stops every rank.
    if !crate::cluster::all_ok(built.is_ok()) && built.is_ok() {
        return Err(RunError::Ranks("another rank could not build its part of the network; its error is above".into()));
    }
    let app = built?;
    let mut sim = Simulation::new(app);
    if let Some(c) = resume {
        sim.restore_state(&c.dir)?;
    }
    #[cfg_attr(not(feature = "parquet"), allow(unused_mut, reason = "only the Parquet tables add files"))]
    let mut files = Vec::new();
    #[cfg(feature = "parquet")]
    if let (Some(out), true) = (&opts.out, scene.desc.record.neurons) {
        // Written before the first step (a killed run still has it), and again at the end with
        // how the run went.
        std::fs::create_dir_all(out).map_err(|e| RunError::Record(format!("{}: {e}", out.display())))?;
        let path = part_path(sim.world(), out, "neurons.parquet");
        crate::tables::write_neurons(sim.world_mut(), &path, &run_metadata).map_err(|e| RunError::Record(e.to_string()))?;
        files.push(path);
    }
    if let Some(bits) = opts.quantize_bits {
        crate::quantize::quantize_network(sim.world_mut(), bits, true);
    }
    // Build the delivery index now, so that the timed loop measures stepping only.
    sim.prepare();
    let setup = t0.elapsed();

    let table = sim.world().resource::<PopulationTable>().clone();
    let pop_of = table.population_per_neuron(table.neuron_count() as usize);
    let mut counts = vec![0u64; table.populations.len()];
    if let Some(c) = resume
        && c.manifest.population_spikes.len() == counts.len()
    {
        counts.clone_from(&c.manifest.population_spikes);
    }
    let mut checkpointer = match (&opts.out, checkpointing) {
        (Some(out), true) => {
            let every = opts.checkpoint_every_ms.map(|ms| sim.clock().steps_in(ms).max(1));
            let no_rewards = matches!(&scene.desc.experiment, Some(crate::scene::ExperimentDesc::DistalReward { rewards: false, .. }));
            let manifest = CheckpointManifest {
                format: biospike_core::checkpoint::FORMAT_VERSION,
                biospike_version: env!("CARGO_PKG_VERSION").into(),
                commit: option_env!("BIOSPIKE_COMMIT").unwrap_or("unknown").into(),
                scene_text: scene.text.clone(),
                scene_path: scene.source.display().to_string(),
                seed: scene.desc.seed,
                no_rewards,
                step: 0,
                dt_ms: scene.desc.dt_ms,
                end_step,
                population_spikes: Vec::new(),
                overrides: overrides.clone(),
                state_bytes: 0,
                ranks: ranks.ranks,
            };
            // Split over ranks, each writes its own part under `checkpoints/rank-RRRR/`.
            let root = if ranks.is_split() {
                crate::checkpoint::rank_root(&out.join(CHECKPOINTS_DIR), ranks.rank)
            } else {
                out.join(CHECKPOINTS_DIR)
            };
            Some(Checkpointer::new(root, every, opts.checkpoint_at_stop || every.is_some(), manifest))
        }
        _ => None,
    };
    let mut checkpoint_error = None;
    let bar = progress_bar(opts.progress && ranks.is_root(), end_step);
    bar.set_position(start_step);
    let t1 = Instant::now();
    // Split over ranks, each counts its own neurons' spikes (the step's list may hold the
    // others' too, or not: see `BatchedSpikes`); the counts are summed at the end.
    let own = sim.world().get_resource::<Partition>().copied().filter(Partition::is_split);
    let done = sim.advance(steps, opts.stop.as_deref(), &mut |world| {
        let ids = &world.resource::<StepSpikes>().ids;
        for &id in own.map_or(&ids[..], |p| p.own_slice(ids)) {
            if let Some(&p) = pop_of.get(id as usize) {
                counts[usize::from(p)] += 1;
            }
        }
        let step = world.resource::<SimClock>().step();
        if step.is_multiple_of(100) {
            bar.set_position(step);
        }
        if let Some(c) = checkpointer.as_mut()
            && c.due(step)
            && world.resource::<SimStatus>().is_running()
            && let Err(e) = c.write(world, &counts)
        {
            world.resource_mut::<SimStatus>().stop(step, format!("checkpoint failed: {e}"));
            checkpoint_error = Some(e.to_string());
        }
    });
    let wall = t1.elapsed();
    bar.finish_and_clear();
    let halted_on = sim.world().get_resource::<crate::cluster::HaltedOnRank>().map(|r| format!(" (rank {})", r.0)).unwrap_or_default();
    let outcome = match sim.status() {
        SimStatus::Halted { .. } => Outcome::Halted(format!("{}{halted_on}", sim.status())),
        SimStatus::Stopped { reason, .. } => Outcome::Stopped(reason.clone()),
        SimStatus::Running if done < steps => Outcome::Interrupted,
        SimStatus::Running => Outcome::Completed,
    };
    // Stopped early: the state to continue from (unless the last period just saved it).
    if let Some(c) = checkpointer.as_mut()
        && outcome == Outcome::Interrupted
        && c.at_stop
        && !c.due(sim.clock().step())
        && let Err(e) = c.write(sim.world_mut(), &counts)
    {
        checkpoint_error = Some(e.to_string());
    }
    let mut closing = vec![("biospike.outcome".to_string(), outcome.key())];
    if let Some(c) = resume {
        closing.push(("biospike.resumed_from".into(), c.dir.display().to_string()));
        closing.push(("biospike.resumed_at_step".into(), c.manifest.step.to_string()));
    }
    #[cfg(feature = "parquet")]
    sim.world_mut().insert_resource(biospike_record::ClosingMetadata(closing));
    // Deferred plasticity settled, weights written back, recorders' files completed.
    sim.finish();
    let world = sim.world_mut();
    let notes = notes(world);
    let profile = world.get_resource::<SimProfile>().cloned();
    let mut recorder_error = None;
    #[cfg(feature = "parquet")]
    {
        run_metadata.extend(biospike_record::closing_metadata(world));
        if let (Some(out), true) = (&opts.out, scene.desc.record.neurons)
            && let Err(e) = crate::tables::write_neurons(world, &part_path(world, out, "neurons.parquet"), &run_metadata)
        {
            recorder_error = Some(e.to_string());
        }
        if let Some(recorded) = world.get_resource::<biospike_record::RecordedFiles>() {
            files.extend(recorded.0.iter().cloned());
        }
        if let Some(biospike_record::RecorderStatus::Failed(e)) = world.get_resource::<biospike_record::RecorderStatus>() {
            recorder_error = Some(e.clone());
        }
        if let (Some(out), Some(p)) = (&opts.out, &profile) {
            let path = part_path(world, out, "profile.parquet");
            match crate::tables::write_profile(p, &path, &run_metadata) {
                Ok(()) => files.push(path),
                Err(e) => recorder_error = recorder_error.or(Some(e.to_string())),
            }
        }
        // Split over ranks: a table is its folder of parts.
        if ranks.is_split() {
            for f in &mut files {
                if f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("rank-"))
                    && let Some(dir) = f.parent()
                {
                    *f = dir.to_path_buf();
                }
            }
        }
        files.sort();
        files.dedup();
    }
    // Every rank's share, gathered on all (rank 0 prints it).
    if ranks.is_split() {
        let all = crate::cluster::gather_all(&counts);
        counts = (0..counts.len()).map(|p| all.iter().map(|r| r[p]).sum()).collect();
    }
    let loads = if ranks.is_split() {
        let own = world.get_resource::<Partition>().map_or(0, |p| p.range().len() as u64);
        let comm = crate::cluster::communication_time(world);
        let mine = [
            own,
            world.resource::<SynapseIndex>().len() as u64,
            crate::cluster::local_spikes(world),
            world.resource::<DeliveryDiagnostics>().events,
            wall.saturating_sub(comm).as_nanos() as u64,
            comm.as_nanos() as u64,
            peak_memory().unwrap_or(0),
        ];
        crate::cluster::gather_all(&mine)
            .into_iter()
            .map(|v| RankLoad {
                neurons: v[0],
                synapses: v[1],
                spikes: v[2],
                events: v[3],
                compute: Duration::from_nanos(v[4]),
                communication: Duration::from_nanos(v[5]),
                peak_memory: v[6],
            })
            .collect()
    } else {
        Vec::new()
    };
    // Split: rank 0 releases the folder once every rank's files are complete.
    if ranks.is_split() {
        crate::cluster::all_ok(true);
    }
    let replaced = claim.as_ref().map_or(0, |c| c.replaced().len());
    drop(claim);
    let mut notes = notes;
    if let Some((every, exchanges)) = crate::cluster::exchange_cadence(world) {
        let cadence = if every > 1 { format!("every {every} steps (the minimum delay)") } else { "every step".to_string() };
        notes.push((
            "MPI".into(),
            format!("{} ranks; spikes exchanged {cadence}, {exchanges} exchanges; status joined every step", ranks.ranks),
        ));
    }
    if let Some(c) = resume {
        notes.push(("resumed".into(), format!("from {} at step {}", c.dir.display(), c.manifest.step)));
    }
    if let Some(c) = &checkpointer
        && let Some(latest) = c.latest()
    {
        notes.push((
            "checkpoint".into(),
            format!(
                "{} written, {:.3} s each, state {}; latest {}",
                c.count,
                c.seconds / c.count.max(1) as f64,
                crate::budget::human_bytes(c.last_bytes),
                latest.display()
            ),
        ));
    }
    if let Some(e) = &checkpoint_error {
        recorder_error = recorder_error.or(Some(format!("checkpoint: {e}")));
    }
    if replaced > 0 {
        notes.push(("output".into(), format!("replaced {replaced} files of an earlier run in the output folder")));
    }
    Ok(RunSummary {
        scene: scene.desc.name.clone().unwrap_or_else(|| scene.source.display().to_string()),
        seed: scene.desc.seed,
        steps: start_step + done,
        dt_ms: scene.desc.dt_ms,
        setup,
        wall,
        populations: table
            .populations
            .iter()
            .zip(&counts)
            .map(|(p, &spikes)| PopulationSummary { name: p.name.clone(), size: p.len, spikes })
            .collect(),
        synapses: if loads.is_empty() {
            world.resource::<SynapseIndex>().len()
        } else {
            loads.iter().map(|l: &RankLoad| l.synapses as usize).sum()
        },
        events: if loads.is_empty() { world.resource::<DeliveryDiagnostics>().events } else { loads.iter().map(|l| l.events).sum() },
        outcome,
        files,
        recorder_error,
        notes,
        peak_memory: peak_memory(),
        profile,
        ranks: loads,
    })
}

/// Where table `file` of the run goes: `out/file`, or this rank's part of it when the run is
/// split over MPI ranks ([`Partition::table_path`]).
#[cfg(feature = "parquet")]
fn part_path(world: &World, out: &std::path::Path, file: &str) -> PathBuf {
    Partition::table_file(world.get_resource::<Partition>(), out, file)
}

/// Summary lines of plasticity and experiments.
fn notes(world: &World) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let (Some(state), Some(index)) = (world.get_resource::<biospike_stdp::StdpState>(), world.get_resource::<SynapseIndex>()) {
        // One pass, no copy of the weights (10 M synapses would be 80 MB).
        let (mut n, mut sum, mut max) = (0usize, 0.0f64, f64::MIN);
        for (k, &w) in index.weights().iter().enumerate() {
            if !state.is_plastic(k) {
                continue;
            }
            n += 1;
            sum += f64::from(w);
            max = max.max(f64::from(w));
        }
        if n > 0 {
            let mean = sum / n as f64;
            out.push(("plasticity".into(), format!("{n} plastic synapses: mean weight {mean:.4}, max {max:.4}")));
        }
    }
    if let Some(d) = world.get_resource::<biospike_structure::StructureDiagnostics>() {
        out.push((
            "structure".into(),
            format!("{} synapses created, {} weakened, {} pruned, {} drift passes", d.created, d.weakened, d.pruned, d.drifts),
        ));
    }
    if let Some(exp) = world.get_resource::<crate::experiment::DistalReward>() {
        let w = world.get_resource::<SynapseIndex>().and_then(|i| i.find(exp.pre, exp.post, exp.synapse).map(|k| i.weights()[k]));
        out.push((
            "experiment".into(),
            format!(
                "distal reward {} → {}: {} pairings, {} rewards, weight now {}",
                exp.pre,
                exp.post,
                exp.pairings,
                exp.rewards,
                w.map_or_else(|| "?".into(), |w| format!("{w:.4}"))
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    /// The summary's memory line reads the kernel's high-water mark: at least what this test
    /// has just touched.
    #[cfg(target_os = "linux")]
    #[test]
    fn peak_memory_reads_the_high_water_mark() {
        let block = vec![1u8; 32 << 20];
        std::hint::black_box(&block);
        assert!(super::peak_memory().is_some_and(|b| b >= 32 << 20));
    }
}
