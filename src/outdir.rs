//! The output folder of a run: claimed before the first step, so that two runs cannot write
//! into one folder, an earlier run's files cannot sit beside a new run's, and a folder that
//! cannot be written (read-only, full) is reported before any step runs.
//!
//! [`OutputDir::claim`] creates the folder, takes an exclusive lock on `.biospike.lock` inside
//! it (held until the [`OutputDir`] is dropped; the operating system releases it if the process
//! dies), and then:
//! - a folder holding only files a biospike run writes (its tables and figures) is a previous
//!   run: those files are removed, and [`OutputDir::replaced`] names them;
//! - a folder holding anything else is refused, naming one such entry;
//! - `needed_bytes` more than the file system's free space is refused with both figures.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use crate::budget::{free_disk, human_bytes};

/// The tables a run (or `biospike quantize`) writes.
pub const TABLES: &[&str] = &[
    "spikes",
    "state",
    "neurons",
    "synapses",
    "weights",
    "weight_histogram",
    "modulators",
    "excitability",
    "profile",
    "halt_snapshot",
    "quantization",
    "quantization_runs",
];

/// The figures `biospike plot` writes into a run's folder by default.
pub const FIGURES: &[&str] =
    &["raster", "rates", "isi_cv", "traces", "weights", "weight_matrix", "weight_distribution", "modulators", "weight_trace"];

/// The lock file's name.
pub const LOCK_FILE: &str = ".biospike.lock";

/// A claimed output folder (locked while this value lives).
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    _lock: File,
    replaced: Vec<PathBuf>,
}

/// Why a folder cannot take a run's output.
#[derive(Debug, thiserror::Error)]
pub enum OutputDirError {
    /// Creating or writing in the folder failed.
    #[error("{path}: cannot write the output there: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Another process holds the folder's lock.
    #[error("{0}: another biospike run is writing into this folder; wait for it or choose another --out")]
    Busy(PathBuf),
    /// The folder holds files a run does not write.
    #[error("{path}: the folder holds {entry:?}, which biospike did not write; choose an empty or new folder for --out")]
    Foreign {
        /// The folder.
        path: PathBuf,
        /// One entry that is not a run's output.
        entry: String,
    },
    /// Not enough free space for what the run will record.
    #[error("{path}: the run will write {needed} but the file system has {free} free")]
    Full {
        /// The folder.
        path: PathBuf,
        /// The estimate.
        needed: String,
        /// What is free.
        free: String,
    },
}

/// `true` for a file name a biospike run or `biospike plot` writes (tables, figures, and what
/// a killed run leaves: a table's `.parts` folder or a `.<table>.parquet.tmp` file).
pub fn is_run_output(name: &str) -> bool {
    if let Some(table) = name.strip_suffix(".parts").or_else(|| name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp"))) {
        return is_run_output(table);
    }
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    match ext {
        "parquet" => TABLES.contains(&stem),
        "png" | "svg" => FIGURES.contains(&stem),
        _ => false,
    }
}

/// `true` for a folder holding only per-rank parts of a table (`rank-NNNN.parquet`, and what
/// a killed run leaves of them).
fn is_dataset(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| entries.filter_map(Result::ok).all(|e| e.file_name().to_string_lossy().starts_with("rank-")))
}

impl OutputDir {
    /// Claims `path` for a run that will write about `needed_bytes`; an earlier run's
    /// `checkpoints/` folder is removed with its other files.
    pub fn claim(path: &Path, needed_bytes: u64) -> Result<Self, OutputDirError> {
        Self::claim_keeping(path, needed_bytes, false)
    }

    /// [`OutputDir::claim`]; with `keep_checkpoints` (a resumed run) the folder's
    /// `checkpoints/` stay.
    pub fn claim_keeping(path: &Path, needed_bytes: u64, keep_checkpoints: bool) -> Result<Self, OutputDirError> {
        let io = |p: &Path| {
            let p = p.to_owned();
            move |source| OutputDirError::Io { path: p, source }
        };
        std::fs::create_dir_all(path).map_err(io(path))?;
        let lock_path = path.join(LOCK_FILE);
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(OutputDirError::Busy(path.to_owned())),
            Err(TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let mut stale = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io(path))? {
            let entry = entry.map_err(io(path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == LOCK_FILE {
                continue;
            }
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            if kind.is_dir() && name == crate::checkpoint::CHECKPOINTS_DIR {
                if !keep_checkpoints {
                    stale.push(entry.path());
                }
                continue;
            }
            // A table split over MPI ranks is a folder of per-rank parts (`spikes/rank-0000.parquet`).
            if kind.is_dir() && TABLES.contains(&name.as_str()) && is_dataset(&entry.path()) {
                stale.push(entry.path());
                continue;
            }
            let parts = kind.is_dir() && name.ends_with(".parts");
            if !((kind.is_file() || parts) && is_run_output(&name)) {
                return Err(OutputDirError::Foreign { path: path.to_owned(), entry: name });
            }
            stale.push(entry.path());
        }
        stale.sort();
        for f in &stale {
            if f.is_dir() {
                std::fs::remove_dir_all(f).map_err(io(f))?;
            } else {
                std::fs::remove_file(f).map_err(io(f))?;
            }
        }
        if let Some(free) = free_disk(path)
            && needed_bytes > free
        {
            return Err(OutputDirError::Full { path: path.to_owned(), needed: human_bytes(needed_bytes), free: human_bytes(free) });
        }
        Ok(Self { path: path.to_owned(), _lock: lock, replaced: stale })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Files of a previous run that were removed.
    pub fn replaced(&self) -> &[PathBuf] {
        &self.replaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("biospike-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_previous_run_is_replaced_and_a_foreign_folder_refused() {
        let dir = scratch("replace");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("halt_snapshot.parquet"), b"old").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("raster.png"), b"old").unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.join("spikes.parquet.parts")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("spikes.parquet.parts/part-000000.parquet"), b"killed").unwrap_or_else(|e| panic!("{e}"));
        let claimed = OutputDir::claim(&dir, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(claimed.replaced().len(), 3);
        assert!(!dir.join("spikes.parquet.parts").exists());
        assert!(!dir.join("halt_snapshot.parquet").exists());
        drop(claimed);
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap_or_else(|e| panic!("{e}"));
        let err = OutputDir::claim(&dir, 0).expect_err("a foreign file");
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert!(dir.join("notes.txt").exists(), "a foreign file is never removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_claim_on_a_locked_folder_is_refused() {
        let dir = scratch("busy");
        let first = OutputDir::claim(&dir, 0).unwrap_or_else(|e| panic!("{e}"));
        let err = OutputDir::claim(&dir, 0).expect_err("locked");
        assert!(matches!(err, OutputDirError::Busy(_)), "{err}");
        drop(first);
        assert!(OutputDir::claim(&dir, 0).is_ok(), "the lock is released with the claim");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn more_than_the_free_space_is_refused() {
        let dir = scratch("full");
        let err = OutputDir::claim(&dir, u64::MAX).expect_err("no disk is that large");
        assert!(err.to_string().contains("free"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
