//! Which neurons this process owns when a network is split over several processes (MPI
//! ranks). One process owns every neuron; that is the default and costs nothing.

use bevy_ecs::prelude::*;
use std::ops::Range;

/// The share of the network this process simulates: rank `rank` of `ranks` owns the
/// contiguous block of neuron ids [`Partition::range`] (blocks differ in size by at most one
/// neuron). A process spawns only the neurons it owns and only the synapses that *target*
/// them (target-side storage); spikes of the other ranks reach it through
/// [`crate::StepSpikes`] after [`crate::DetectSystems::Exchange`].
///
/// Contiguous blocks keep a step's spike list ascending when the ranks' lists are joined in
/// rank order, and keep the targets of all-to-all and block projections consecutive (one
/// slice add per spike). They balance neurons, not work: a rank whose block holds neurons
/// with more inputs or higher rates does more.
///
/// ```
/// use biospike_core::Partition;
/// let p = Partition::new(1, 3, 10);
/// assert_eq!(p.range(), 3..6);
/// assert!(p.owns(3) && !p.owns(6));
/// assert_eq!(Partition::single(10).range(), 0..10);
/// assert_eq!((0..3).map(|r| Partition::new(r, 3, 10).range().len()).sum::<usize>(), 10);
/// ```
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// This process's rank, `0..ranks`.
    pub rank: u32,
    /// Number of processes.
    pub ranks: u32,
    /// Neurons in the whole network.
    pub neurons: u32,
}

impl Partition {
    /// Rank `rank` of `ranks` over `neurons` neurons (`ranks >= 1`, `rank < ranks`).
    pub fn new(rank: u32, ranks: u32, neurons: u32) -> Self {
        let ranks = ranks.max(1);
        Self { rank: rank.min(ranks - 1), ranks, neurons }
    }

    /// One process owning everything.
    pub fn single(neurons: u32) -> Self {
        Self::new(0, 1, neurons)
    }

    /// Whether the network is split over more than one process.
    pub fn is_split(&self) -> bool {
        self.ranks > 1
    }

    /// The ids rank `rank` owns.
    pub fn range_of(&self, rank: u32) -> Range<u32> {
        let at = |r: u32| (u64::from(self.neurons) * u64::from(r) / u64::from(self.ranks)) as u32;
        at(rank)..at(rank + 1)
    }

    /// The ids this process owns.
    pub fn range(&self) -> Range<u32> {
        self.range_of(self.rank)
    }

    /// Whether this process owns neuron `id`.
    pub fn owns(&self, id: u32) -> bool {
        self.range().contains(&id)
    }

    /// The part of the ascending list `ids` this process owns.
    pub fn own_slice<'a>(&self, ids: &'a [u32]) -> &'a [u32] {
        let Range { start, end } = self.range();
        let a = ids.partition_point(|&i| i < start);
        let b = ids.partition_point(|&i| i < end);
        &ids[a..b]
    }

    /// The file a table of this process goes to: `dir/<file>` for one process, else
    /// `dir/<stem>/rank-RRRR.parquet`, one part per rank of a dataset folder that
    /// `polars.scan_parquet("dir/<stem>/*.parquet")` and `pandas.read_parquet("dir/<stem>")`
    /// read as one table.
    ///
    /// ```
    /// use biospike_core::Partition;
    /// use std::path::Path;
    /// assert_eq!(Partition::single(5).table_path(Path::new("out"), "spikes.parquet"), Path::new("out/spikes.parquet"));
    /// assert_eq!(Partition::new(2, 3, 5).table_path(Path::new("out"), "spikes.parquet"), Path::new("out/spikes/rank-0002.parquet"));
    /// ```
    pub fn table_path(&self, dir: &std::path::Path, file: &str) -> std::path::PathBuf {
        if !self.is_split() {
            return dir.join(file);
        }
        let stem = file.strip_suffix(".parquet").unwrap_or(file);
        dir.join(stem).join(format!("rank-{:04}.parquet", self.rank))
    }

    /// Where table `file` goes for a process with `partition` (none: one process): its
    /// [`Partition::table_path`], with the table's dataset folder created when split (a failure
    /// shows when the table is written).
    pub fn table_file(partition: Option<&Partition>, dir: &std::path::Path, file: &str) -> std::path::PathBuf {
        let Some(p) = partition else { return dir.join(file) };
        let path = p.table_path(dir, file);
        if p.is_split()
            && let Some(folder) = path.parent()
        {
            let _ = std::fs::create_dir_all(folder);
        }
        path
    }
}

/// A split run that exchanges spikes once per minimum-delay interval instead of every step:
/// the delivery of every spike (this rank's and the others') waits for the exchange, and
/// happens in the propagation of the exchange step, step by step in emission order, so each
/// target sums its inputs in the same order as in one process. [`crate::StepSpikes`] then
/// holds this rank's spikes only. Spikes are never late: one emitted at step `s` with delay
/// `d ≥ d_min` is due at `s + d`, after the exchange at the latest `s + d_min − 1`.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchedSpikes {
    /// Delivery goes through [`BatchedSpikes::due`] instead of [`crate::StepSpikes`].
    pub active: bool,
    /// `(emission step, ids ascending)`, in step order: what this step's propagation delivers.
    pub due: Vec<(u64, Vec<u32>)>,
}

/// Sums across the ranks of a split run, for stages that report on the whole network (a
/// weight histogram, a mean over a population) while each rank holds a part. Every rank must
/// call the same methods at the same step with slices of the same length (they are MPI
/// collectives). The MPI plugin inserts an implementation as [`RankSums`]; without it a stage
/// runs as one process.
pub trait SumAcrossRanks: Send + Sync + 'static {
    /// Replaces each value by its sum over the ranks.
    fn sum_u64(&self, values: &mut [u64]);
    /// Replaces each value by its sum over the ranks (exact: integers).
    fn sum_i128(&self, values: &mut [i128]);
    /// Replaces each value by its largest value over the ranks.
    fn max_f64(&self, values: &mut [f64]);
    /// Every rank's `values` (any length), in rank order.
    fn gather_u32(&self, values: &[u32]) -> Vec<Vec<u32>>;
}

/// The [`SumAcrossRanks`] of a split run.
#[derive(Resource)]
pub struct RankSums(pub Box<dyn SumAcrossRanks>);

impl RankSums {
    /// `sums` when the run is split, else `None` (a stage then works as one process).
    pub fn split<'a>(sums: Option<&'a RankSums>, partition: Option<&Partition>) -> Option<&'a dyn SumAcrossRanks> {
        sums.filter(|_| partition.is_some_and(Partition::is_split)).map(|s| &*s.0)
    }
}

/// A sum of `f64` values that does not depend on their order or on how they are split over
/// ranks: each value is rounded to a multiple of 2^-64 and added as an integer, so one process
/// and any number of ranks give the same bits (a plain `f64` sum changes with the order).
///
/// ```
/// use biospike_core::ExactSum;
/// let mut a = ExactSum::default();
/// for x in [0.1, 0.2, 0.3] { a.add(x); }
/// let mut b = ExactSum::default();
/// for x in [0.3, 0.1, 0.2] { b.add(x); }
/// assert_eq!(a.value().to_bits(), b.value().to_bits());
/// assert!((a.value() - 0.6).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExactSum(pub i128);

impl ExactSum {
    const SCALE: f64 = 18_446_744_073_709_551_616.0; // 2^64

    /// Adds `x` (finite, |x| < 2^60; others saturate).
    pub fn add(&mut self, x: f64) {
        self.0 = self.0.saturating_add((x * Self::SCALE).round() as i128);
    }

    /// The sum.
    pub fn value(&self) -> f64 {
        self.0 as f64 / Self::SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_id_once() {
        for ranks in 1..6 {
            for neurons in [0u32, 1, 5, 17, 1000] {
                let mut next = 0;
                for r in 0..ranks {
                    let p = Partition::new(r, ranks, neurons);
                    let range = p.range();
                    assert_eq!(range.start, next);
                    next = range.end;
                    assert!(p.owns(range.start) || range.is_empty());
                }
                assert_eq!(next, neurons);
            }
        }
    }

    #[test]
    fn own_slice_picks_the_block() {
        let p = Partition::new(1, 2, 10);
        assert_eq!(p.own_slice(&[1, 4, 5, 7, 9, 12]), &[5, 7, 9]);
    }
}
