//! Checkpoint folders: a run's state saved between two steps, from which `biospike resume`
//! (or [`RunOptions::resume`](crate::RunOptions::resume)) continues bit for bit.
//!
//! A run with an output folder `OUT` writes its checkpoints to `OUT/checkpoints/step-<step>/`:
//! - `state.bin`: every plugin's state ([`biospike_core::checkpoint`]: clock, neuron state, the
//!   delay ring with the spikes in flight, synapses created and pruned, weights, plasticity
//!   traces, eligibility, spike logs and deferred marks, modulator levels, experiment progress,
//!   the recorder's positions);
//! - `tables/`: the recorder's completed table parts up to that step (hard links to the run's
//!   parts, so they cost no space while the run's folder holds them too);
//! - `checkpoint.ron`: the [`CheckpointManifest`] (scene text, seed, step, what the run
//!   changed), written last.
//!
//! Each checkpoint is written into a hidden `.step-<step>.tmp` folder, every file fsynced, then
//! renamed to its final name: a process killed while writing leaves the previous checkpoint
//! intact and at most a `.tmp` folder, which is never read. Once a new checkpoint is complete,
//! the ones written earlier by the same run are removed.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use biospike_core::checkpoint::{
    CheckpointAppExt, CheckpointError, CheckpointSection, CheckpointSections, Persist, StateReader, StateWriter, load_state, save_state,
};
pub use biospike_core::persist_fields;

/// The checkpoints folder inside a run's output folder.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "checkpoint.ron";

/// What a checkpoint is of: enough to rebuild the model and continue the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointManifest {
    /// [`biospike_core::checkpoint::FORMAT_VERSION`] of `state.bin`.
    pub format: u32,
    /// The biospike version that wrote it.
    pub biospike_version: String,
    /// Its build's commit.
    pub commit: String,
    /// The scene's text as the run loaded it.
    pub scene_text: String,
    /// Where the scene came from.
    pub scene_path: String,
    /// The seed the run used (the scene's or `--seed`).
    pub seed: u64,
    /// The distal-reward experiment ran as a control (`--no-rewards`).
    pub no_rewards: bool,
    /// The step the run continues at (steps completed).
    pub step: u64,
    /// Step size, ms.
    pub dt_ms: f64,
    /// The step the run was to end at.
    pub end_step: u64,
    /// Spikes so far per population (for the closing summary).
    pub population_spikes: Vec<u64>,
    /// What the run changed from the scene (`--steps 600000`, …).
    pub overrides: Vec<String>,
    /// Bytes of `state.bin`.
    pub state_bytes: u64,
    /// MPI ranks of the run that wrote it (each rank writes its own checkpoint, of its part of
    /// the network, under `checkpoints/rank-RRRR/`); 1 for one process.
    #[serde(default = "one_rank")]
    pub ranks: u32,
}

fn one_rank() -> u32 {
    1
}

/// A checkpoint folder and its manifest.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The folder (`OUT/checkpoints/step-<step>`).
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: CheckpointManifest,
}

/// Why a checkpoint folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointOpenError {
    /// No checkpoint there.
    #[error("{0}: no checkpoint here (expected a checkpoint folder with {MANIFEST_FILE}, or a run's output folder with checkpoints/)")]
    NotFound(PathBuf),
    /// The checkpoints of a run split over MPI ranks, opened with another number of ranks.
    #[error("{path}: written by a run split over {ranks} MPI ranks; resume it with `mpirun -np {ranks} biospike resume …`")]
    Ranks {
        /// The folder.
        path: PathBuf,
        /// The ranks that wrote it.
        ranks: u32,
    },
    /// The manifest cannot be read.
    #[error("{path}: {message}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Written by another format.
    #[error(
        "{path}: checkpoint format {found} (biospike {version}), this biospike reads format {expected}; resume it with the version that wrote it"
    )]
    Version {
        /// The manifest.
        path: PathBuf,
        /// Its format.
        found: u32,
        /// Ours.
        expected: u32,
        /// The biospike that wrote it.
        version: String,
    },
}

impl Checkpoint {
    /// Opens a checkpoint folder, or the latest complete checkpoint of a run's output folder (or
    /// of its `checkpoints/` folder).
    pub fn open(path: &Path) -> Result<Self, CheckpointOpenError> {
        let dir = if path.join(MANIFEST_FILE).is_file() {
            path.to_owned()
        } else {
            let root = if path.join(CHECKPOINTS_DIR).is_dir() { path.join(CHECKPOINTS_DIR) } else { path.to_owned() };
            match latest_in(&root) {
                Some(dir) => dir,
                None => {
                    let ranks = rank_folders(&root);
                    return Err(if ranks > 0 {
                        CheckpointOpenError::Ranks { path: path.to_owned(), ranks }
                    } else {
                        CheckpointOpenError::NotFound(path.to_owned())
                    });
                }
            }
        };
        Self::read(dir)
    }

    /// Rank `rank`'s checkpoint at `step` of a run split over ranks, from its output folder
    /// (`path`) or its `checkpoints/` folder.
    pub fn open_rank(path: &Path, rank: u32, step: u64) -> Result<Self, CheckpointOpenError> {
        let dir = rank_root(path, rank).join(checkpoint_name(step));
        if !dir.join(MANIFEST_FILE).is_file() {
            return Err(CheckpointOpenError::NotFound(dir));
        }
        Self::read(dir)
    }

    /// The steps of rank `rank`'s complete checkpoints under `path` (a run's output folder or
    /// its `checkpoints/` folder), ascending.
    pub fn rank_steps(path: &Path, rank: u32) -> Vec<u64> {
        let mut steps = steps_in(&rank_root(path, rank));
        steps.sort_unstable();
        steps
    }

    fn read(dir: PathBuf) -> Result<Self, CheckpointOpenError> {
        let file = dir.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&file).map_err(|e| CheckpointOpenError::Manifest { path: file.clone(), message: e.to_string() })?;
        // The format first, so that a manifest of another version names it rather than a field.
        #[derive(Deserialize)]
        struct Format {
            format: u32,
            #[serde(default)]
            biospike_version: String,
        }
        let opts = ron::Options::default();
        if let Ok(f) = opts.from_str::<Format>(&text)
            && f.format != biospike_core::checkpoint::FORMAT_VERSION
        {
            return Err(CheckpointOpenError::Version {
                path: file,
                found: f.format,
                expected: biospike_core::checkpoint::FORMAT_VERSION,
                version: f.biospike_version,
            });
        }
        let manifest: CheckpointManifest =
            opts.from_str(&text).map_err(|e| CheckpointOpenError::Manifest { path: file.clone(), message: e.to_string() })?;
        Ok(Self { dir, manifest })
    }

    /// The scene the checkpointed run ran (its text, seed and `--no-rewards`).
    pub fn scene(&self) -> Result<crate::Scene, crate::scene::SceneError> {
        let mut scene = crate::Scene::parse(&self.manifest.scene_text, Path::new(&self.manifest.scene_path))?;
        self.apply_run_choices(&mut scene);
        Ok(scene)
    }

    /// Gives `scene` the checkpointed run's seed (the random streams and the network depend on
    /// it) and, for a control run, turns rewards off.
    pub fn apply_run_choices(&self, scene: &mut crate::Scene) {
        scene.desc.seed = self.manifest.seed;
        if self.manifest.no_rewards
            && let Some(crate::scene::ExperimentDesc::DistalReward { rewards, .. }) = &mut scene.desc.experiment
        {
            *rewards = false;
        }
    }

    /// The run folder this checkpoint belongs to (`OUT` for `OUT/checkpoints/step-N` and
    /// `OUT/checkpoints/rank-RRRR/step-N`).
    pub fn run_dir(&self) -> Option<PathBuf> {
        let mut parent = self.dir.parent()?;
        if parent.file_name()?.to_string_lossy().starts_with("rank-") {
            parent = parent.parent()?;
        }
        (parent.file_name()? == CHECKPOINTS_DIR).then(|| parent.parent().map(Path::to_owned)).flatten()
    }
}

/// Where rank `rank` of a split run keeps its checkpoints, from the run's output folder or its
/// `checkpoints/` folder.
pub fn rank_root(path: &Path, rank: u32) -> PathBuf {
    let root = if path.join(CHECKPOINTS_DIR).is_dir() { path.join(CHECKPOINTS_DIR) } else { path.to_owned() };
    root.join(format!("rank-{rank:04}"))
}

/// How many ranks wrote the checkpoints under `path` (a run's output folder or its
/// `checkpoints/` folder): its `rank-RRRR` folders (0 for one process).
pub fn rank_count(path: &Path) -> u32 {
    rank_folders(&if path.join(CHECKPOINTS_DIR).is_dir() { path.join(CHECKPOINTS_DIR) } else { path.to_owned() })
}

/// How many `rank-RRRR` folders `root` holds.
fn rank_folders(root: &Path) -> u32 {
    std::fs::read_dir(root).map_or(0, |d| d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("rank-")).count() as u32)
}

/// The steps of the complete checkpoints in `root`.
fn steps_in(root: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().join(MANIFEST_FILE).is_file())
        .filter_map(|e| e.file_name().to_string_lossy().strip_prefix("step-").and_then(|s| s.parse::<u64>().ok()))
        .collect()
}

/// The complete checkpoint of the highest step in `root` (hidden `.tmp` folders are skipped).
fn latest_in(root: &Path) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(root).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(step) = name.strip_prefix("step-").and_then(|s| s.parse::<u64>().ok()) else { continue };
        if entry.path().join(MANIFEST_FILE).is_file() && best.as_ref().is_none_or(|(s, _)| step > *s) {
            best = Some((step, entry.path()));
        }
    }
    best.map(|(_, p)| p)
}

/// The folder name of the checkpoint at `step`.
pub fn checkpoint_name(step: u64) -> String {
    format!("step-{step:012}")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io { path: path.to_owned(), source }
}

fn sync_dir(path: &Path) -> Result<(), CheckpointError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))
}

/// Writes a checkpoint of `world` into `root/step-<step>/` atomically (see the module docs) and
/// returns its folder. `manifest.step` and `manifest.state_bytes` are filled in here.
pub fn write_checkpoint(world: &mut World, root: &Path, manifest: &CheckpointManifest) -> Result<PathBuf, CheckpointError> {
    let step = world.resource::<biospike_core::SimClock>().step();
    let name = checkpoint_name(step);
    let tmp = root.join(format!(".{name}.tmp"));
    let dir = root.join(&name);
    std::fs::create_dir_all(root).map_err(io(root))?;
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let bytes = biospike_core::checkpoint::save_state(world, &tmp)?;
    let manifest = CheckpointManifest { step, state_bytes: bytes, format: biospike_core::checkpoint::FORMAT_VERSION, ..manifest.clone() };
    let text = ron::ser::to_string_pretty(&manifest, ron::ser::PrettyConfig::default())
        .map_err(|e| CheckpointError::NotNow(format!("the manifest could not be written: {e}")))?;
    let file = tmp.join(MANIFEST_FILE);
    std::fs::write(&file, text).map_err(io(&file))?;
    std::fs::File::open(&file).and_then(|f| f.sync_all()).map_err(io(&file))?;
    let tables = tmp.join("tables");
    if tables.is_dir() {
        for entry in std::fs::read_dir(&tables).map_err(io(&tables))?.flatten() {
            sync_dir(&entry.path())?;
        }
        sync_dir(&tables)?;
    }
    sync_dir(&tmp)?;
    if dir.exists() {
        // The same step saved again (a stop right after a periodic checkpoint).
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    sync_dir(root)?;
    Ok(dir)
}

/// Periodic checkpoints of one run: where, how often, and the ones it wrote.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    pub(crate) root: PathBuf,
    pub(crate) every_steps: Option<u64>,
    pub(crate) at_stop: bool,
    pub(crate) manifest: CheckpointManifest,
    written: Vec<PathBuf>,
    /// Checkpoints of this run kept on disk: 1, or 2 for a split run (a rank deletes its
    /// previous one only when every rank is known to have finished the one after it).
    keep: usize,
    /// Time spent writing and bytes of the last state, for the summary.
    pub(crate) seconds: f64,
    pub(crate) count: u64,
    pub(crate) last_bytes: u64,
}

impl Checkpointer {
    pub(crate) fn new(root: PathBuf, every_steps: Option<u64>, at_stop: bool, manifest: CheckpointManifest) -> Self {
        let keep = if manifest.ranks > 1 { 2 } else { 1 };
        Self { root, every_steps, at_stop, manifest, written: Vec::new(), seconds: 0.0, count: 0, last_bytes: 0, keep }
    }

    /// `true` after a step that ends a period.
    pub(crate) fn due(&self, step: u64) -> bool {
        self.every_steps.is_some_and(|n| n > 0 && step > 0 && step.is_multiple_of(n))
    }

    /// Writes one; removes the ones this run wrote before.
    pub(crate) fn write(&mut self, world: &mut World, population_spikes: &[u64]) -> Result<PathBuf, CheckpointError> {
        let t = std::time::Instant::now();
        self.manifest.population_spikes = population_spikes.to_vec();
        let dir = write_checkpoint(world, &self.root, &self.manifest)?;
        self.written.retain(|old| *old != dir);
        self.written.push(dir.clone());
        while self.written.len() > self.keep {
            let _ = std::fs::remove_dir_all(self.written.remove(0));
        }
        self.seconds += t.elapsed().as_secs_f64();
        self.count += 1;
        self.last_bytes = std::fs::metadata(dir.join(biospike_core::checkpoint::STATE_FILE)).map_or(0, |m| m.len());
        Ok(dir)
    }

    /// The latest checkpoint written.
    pub(crate) fn latest(&self) -> Option<&Path> {
        self.written.last().map(PathBuf::as_path)
    }
}
