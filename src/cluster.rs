//! Running split over MPI ranks (feature `mpi`, docs/mpi.md): the one place the facade asks
//! which rank it is. Without the feature, or when the process was not started by `mpirun`,
//! there is one rank and every function here is free.

use bevy_ecs::prelude::*;
#[cfg(feature = "mpi")]
use biospike_core::prelude::*;

/// This process's place among the ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ranks {
    /// This process's rank.
    pub rank: u32,
    /// Number of processes.
    pub ranks: u32,
}

impl Ranks {
    /// Whether the run is split over more than one process.
    pub fn is_split(&self) -> bool {
        self.ranks > 1
    }

    /// Whether this process prints and claims the output folder (rank 0).
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }
}

#[cfg(feature = "mpi")]
static STARTED: std::sync::OnceLock<Ranks> = std::sync::OnceLock::new();

/// The running MPI library; `MPI_Finalize` when dropped. Keep it alive for the whole program.
#[cfg(feature = "mpi")]
pub struct Cluster(#[allow(dead_code, reason = "held for its drop (MPI_Finalize)")] biospike_mpi::Mpi);

/// Starts MPI when this process was started by an MPI launcher (`mpirun`, `srun`); `None`
/// otherwise (one process, nothing started).
#[cfg(feature = "mpi")]
pub fn start() -> Result<Option<Cluster>, biospike_mpi::MpiError> {
    if !biospike_mpi::launched_by_mpirun() {
        return Ok(None);
    }
    let mpi = biospike_mpi::initialize()?;
    let _ = STARTED.set(Ranks { rank: mpi.rank(), ranks: mpi.ranks() });
    Ok(Some(Cluster(mpi)))
}

/// The ranks of this process (one rank unless `start` started MPI).
pub fn ranks() -> Ranks {
    #[cfg(feature = "mpi")]
    if let Some(r) = STARTED.get() {
        return *r;
    }
    Ranks { rank: 0, ranks: 1 }
}

/// Adds the MPI plugin when the run is split (before the network is spawned). Spikes are
/// exchanged once per minimum-delay interval when nothing in `scene` needs the other ranks'
/// spikes in the step they happen (no STDP, reward experiment, Loihi LIF neurons or structural
/// plasticity), else every step.
pub fn add_plugin(app: &mut bevy_app::App, scene: &crate::scene::Scene) {
    #[cfg(feature = "mpi")]
    if let Some(r) = STARTED.get()
        && r.is_split()
    {
        app.add_plugins(biospike_mpi::MpiPlugin::from_ranks(r.rank, r.ranks).exchange_per_min_delay(batchable(scene)));
    }
    let _ = (app, scene);
}

/// Whether only delivery reads the other ranks' spikes in `scene` (see [`add_plugin`]).
pub fn batchable(scene: &crate::scene::Scene) -> bool {
    let d = &scene.desc;
    let stdp = d.plasticity.is_some();
    let loihi = d.populations.iter().any(|p| p.neuron.loihi_lif().is_some());
    !(stdp || loihi || d.experiment.is_some() || d.structure.is_some())
}

/// Between two steps of a split run: joins the ranks' status and the local stop flag; `true`
/// when every rank must stop now because a signal reached one of them. One process: the flag.
pub fn agree_after_step(world: &mut World, interrupted: bool) -> bool {
    #[cfg(feature = "mpi")]
    if world.get_resource::<Partition>().is_some_and(Partition::is_split) {
        let a = biospike_mpi::agree_after_step(world, interrupted);
        if let Some(rank) = a.halted_on {
            world.insert_resource(HaltedOnRank(rank));
        }
        return a.interrupted;
    }
    let _ = world;
    interrupted
}

/// The rank whose guard halted a split run (inserted by [`agree_after_step`]).
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaltedOnRank(pub u32);

/// Whether every rank says `ok` (one process: `ok`).
pub fn all_ok(ok: bool) -> bool {
    #[cfg(feature = "mpi")]
    if ranks().is_split() {
        return biospike_mpi::all_ok(ok);
    }
    ok
}

/// Every rank's `values`, in rank order (one process: `[values]`).
pub fn gather_all(values: &[u64]) -> Vec<Vec<u64>> {
    #[cfg(feature = "mpi")]
    if ranks().is_split() {
        return biospike_mpi::gather_all(values, ranks().ranks);
    }
    vec![values.to_vec()]
}

/// Time this rank spent inside MPI calls so far (zero in one process).
pub fn communication_time(world: &World) -> std::time::Duration {
    #[cfg(feature = "mpi")]
    if let Some(s) = world.get_resource::<biospike_mpi::ExchangeStats>() {
        return s.communication;
    }
    let _ = world;
    std::time::Duration::ZERO
}

/// Spikes of this rank's neurons so far (0 without the MPI plugin).
pub fn local_spikes(world: &World) -> u64 {
    #[cfg(feature = "mpi")]
    if let Some(s) = world.get_resource::<biospike_mpi::ExchangeStats>() {
        return s.local_spikes;
    }
    let _ = world;
    0
}

/// How often a split run exchanged spikes: `(steps between exchanges, exchanges)`.
pub fn exchange_cadence(world: &World) -> Option<(u64, u64)> {
    #[cfg(feature = "mpi")]
    if let Some(s) = world.get_resource::<biospike_mpi::ExchangeStats>()
        && s.exchange_every > 0
    {
        return Some((s.exchange_every, s.exchanges));
    }
    let _ = world;
    None
}

/// What a split run cannot do yet, named by the scene field that asks for it; the run refuses
/// up front (on every rank alike) instead of giving results that differ from one process.
pub fn unsupported(scene: &crate::scene::Scene) -> Option<String> {
    let d = &scene.desc;
    let loihi = d.quantize.is_some() || d.populations.iter().any(|p| p.neuron.loihi_lif().is_some());
    if d.structure.is_some() && loihi {
        return Some(format!(
            "this run is split over {} MPI ranks, which does not support `structure` together with the Loihi stage (`quantize`, Loihi LIF neurons): new synapses change one rank's index, and the Loihi projections would be quantized again on that rank alone; run it in one process",
            ranks().ranks
        ));
    }
    None
}

/// Which checkpoint step every rank of a split run resumes from: the latest step whose
/// checkpoint every rank has (each keeps its last two), given each rank's steps. `None` when
/// there is none.
pub fn common_step(per_rank: &[Vec<u64>]) -> Option<u64> {
    let first = per_rank.first()?;
    first.iter().rev().copied().find(|s| per_rank.iter().all(|r| r.contains(s)))
}

/// [`common_step`] over the ranks of this run, each giving its own steps (the last two).
pub fn agree_on_step(mine: &[u64]) -> Option<u64> {
    let mut last_two = [u64::MAX; 2];
    for (slot, &s) in last_two.iter_mut().zip(mine.iter().rev()) {
        *slot = s;
    }
    let all: Vec<Vec<u64>> = gather_all(&last_two).into_iter().map(|r| r.into_iter().filter(|&s| s != u64::MAX).rev().collect()).collect();
    common_step(&all)
}
