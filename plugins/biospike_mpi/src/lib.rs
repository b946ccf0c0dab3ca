//! MPI for biospike: one network split over several processes (ranks), with the same results
//! as one process.
//!
//! - **Partition**: rank `r` of `K` owns the contiguous block of neuron ids
//!   [`Partition::range`] and spawns only those neurons; it stores only the synapses that
//!   target them (target-side storage, as NEST does), so synapse memory per rank is ≈ 1/K.
//! - **Exchange**: once per step, in [`DetectSystems::Exchange`], every rank's spikes are
//!   gathered on every rank (`MPI_Allgather` of the counts, `MPI_Allgatherv` of the ids), so
//!   that [`StepSpikes`] holds the whole network's spikes, ascending (blocks are joined in
//!   rank order). Delivery, STDP, rewards and the neuromodulators then do on every rank what
//!   they do in one process, over the synapses that rank stores.
//! - **Agreement**: after every step [`agree_after_step`] joins the ranks' run status (a
//!   numerical halt, a stop condition, a signal) so that every rank stops after the same step
//!   with the same reason.
//!
//! Everything a rank computes for a neuron or a synapse depends only on keyed random streams
//! and the global spike list, never on which rank computes it; that is why the spike table is
//! the same bits on 1 and K ranks. The facade's `mpi` feature puts this together for
//! `mpirun -np K biospike run SCENE` (docs/mpi.md).
//!
//! In a Rust app: initialize MPI with [`initialize`] (keep the returned [`Mpi`] alive until the
//! end), add [`MpiPlugin`], spawn only the neurons [`Partition::owns`] and the synapses onto
//! them, and call [`agree_after_step`] after each step (the facade's `Simulation` does). Without
//! `mpirun` there is one rank and the plugin only counts.
//!
//! ```no_run
//! use bevy_app::App;
//! use biospike_mpi::{MpiPlugin, initialize};
//! let mpi = initialize().expect("MPI could not start");
//! let mut app = App::new();
//! app.add_plugins(MpiPlugin::new(&mpi));
//! ```

use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::{BatchedSpikes, BuiltinSystems, DetectSystems, HaltReason, StateVariable, SumAcrossRanks};
use mpi::Threading;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::time::{Duration, Instant};

/// The running MPI library (`MPI_Finalize` when dropped) and this process's place in it.
pub struct Mpi {
    _universe: mpi::environment::Universe,
    rank: u32,
    ranks: u32,
}

impl Mpi {
    /// This process's rank.
    pub fn rank(&self) -> u32 {
        self.rank
    }

    /// Number of processes.
    pub fn ranks(&self) -> u32 {
        self.ranks
    }
}

/// Why MPI could not start.
#[derive(Debug)]
pub enum MpiError {
    /// `MPI_Init_thread` was called before.
    AlreadyStarted,
    /// The library gives less thread support than the compute threads need.
    Threading(String),
}

impl std::fmt::Display for MpiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("MPI was already initialized in this process"),
            Self::Threading(got) => write!(
                f,
                "the MPI library offers thread support {got}, biospike needs MPI_THREAD_SERIALIZED (the step runs on a compute thread); use an MPI built with thread support"
            ),
        }
    }
}

impl std::error::Error for MpiError {}

/// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`): the
/// launchers' rank variables (Open MPI, MPICH/Hydra, `PMIx`, Slurm's PMI).
pub fn launched_by_mpirun() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"].iter().any(|v| std::env::var_os(v).is_some())
}

/// Starts MPI with `MPI_THREAD_SERIALIZED` (MPI calls come from one thread at a time, not
/// always the main one).
pub fn initialize() -> Result<Mpi, MpiError> {
    let (universe, provided) = mpi::initialize_with_threading(Threading::Serialized).ok_or(MpiError::AlreadyStarted)?;
    if matches!(provided, Threading::Single | Threading::Funneled) {
        return Err(MpiError::Threading(format!("{provided:?}")));
    }
    let world = universe.world();
    let (rank, ranks) = (world.rank() as u32, world.size() as u32);
    Ok(Mpi { _universe: universe, rank, ranks })
}

/// The world communicator (all ranks).
fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

/// Splits the app's network over the MPI ranks: inserts [`Partition`] (its neuron count is
/// set when the network is built), [`ExchangeStats`], and the spike exchange in
/// [`DetectSystems::Exchange`].
pub struct MpiPlugin {
    rank: u32,
    ranks: u32,
    batch: bool,
}

impl MpiPlugin {
    /// For the running MPI library.
    pub fn new(mpi: &Mpi) -> Self {
        Self::from_ranks(mpi.rank, mpi.ranks)
    }

    /// For rank `rank` of `ranks` of an MPI library started elsewhere ([`initialize`]).
    pub fn from_ranks(rank: u32, ranks: u32) -> Self {
        Self { rank, ranks, batch: false }
    }

    /// Exchange spikes once per minimum-delay interval (`d_min` steps, the smallest synaptic
    /// delay of the network) instead of every step: `d_min` times fewer spike collectives.
    /// Only for models where nothing but delivery needs the other ranks' spikes in the step
    /// they happen: no STDP, no reward experiment, no Loihi Dense, and no synapse added later
    /// with a shorter delay (structural plasticity). [`StepSpikes`] then holds this rank's
    /// spikes only. Default: off (every step).
    pub fn exchange_per_min_delay(mut self, on: bool) -> Self {
        self.batch = on;
        self
    }
}

impl Plugin for MpiPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Partition::new(self.rank, self.ranks, 0))
            .insert_resource(RankSums(Box::new(MpiSums)))
            .insert_resource(ExchangeStats { batch_wanted: self.batch, ..Default::default() })
            .init_resource::<BatchedSpikes>()
            .init_resource::<PendingSpikes>();
        // Spikes waiting for the next exchange are part of the state a checkpoint saves.
        biospike_core::checkpoint::CheckpointAppExt::persist_resource::<PendingSpikes>(app, "mpi.pending_spikes");
        app.add_systems(SimSchedule, exchange_spikes.in_set(DetectSystems::Exchange).in_set(BuiltinSystems));
    }
}

/// [`SumAcrossRanks`] with `MPI_Allreduce` (`u64`) and `MPI_Allgather` (`i128`, as two words,
/// added in rank order; integer sums are exact, so the order does not matter).
struct MpiSums;

impl SumAcrossRanks for MpiSums {
    fn sum_u64(&self, values: &mut [u64]) {
        let send = values.to_vec();
        world().all_reduce_into(&send[..], values, mpi::collective::SystemOperation::sum());
    }

    fn max_f64(&self, values: &mut [f64]) {
        let send = values.to_vec();
        world().all_reduce_into(&send[..], values, mpi::collective::SystemOperation::max());
    }

    fn gather_u32(&self, values: &[u32]) -> Vec<Vec<u32>> {
        let mut all = Vec::new();
        all_gather_u32(&world(), values, &mut all).into_iter().map(|r| all[r].to_vec()).collect()
    }

    fn sum_i128(&self, values: &mut [i128]) {
        let comm = world();
        let send: Vec<u64> = values.iter().flat_map(|&v| [v as u64, (v >> 64) as u64]).collect();
        let mut all = vec![0u64; send.len() * comm.size() as usize];
        comm.all_gather_into(&send[..], &mut all[..]);
        values.fill(0);
        for part in all.chunks_exact(send.len().max(1)) {
            for (v, w) in values.iter_mut().zip(part.chunks_exact(2)) {
                *v = v.saturating_add(i128::from(w[0]) | (i128::from(w[1] as i64) << 64));
            }
        }
    }
}

/// This rank's spikes since the last exchange, when exchanging once per minimum-delay
/// interval: `step offset, count, ids` per step (saved with a checkpoint).
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingSpikes {
    /// The packed steps.
    pub packed: Vec<u32>,
}

biospike_core::persist_fields!(PendingSpikes { packed });

/// What the exchange cost on this rank.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ExchangeStats {
    /// Spikes of this rank's neurons.
    pub local_spikes: u64,
    /// Spikes received from the other ranks.
    pub remote_spikes: u64,
    /// Time inside MPI calls (exchange and agreement), including waiting for slower ranks.
    pub communication: Duration,
    /// Largest number of words (spike ids, and per batched step its offset and count) one
    /// exchange gathered: the receive buffer grows to it.
    pub largest_exchange: usize,
    /// Spike exchanges (every step, or once per `exchange_every` steps).
    pub exchanges: u64,
    /// Steps between exchanges: 1, or the network's minimum delay in steps when batching
    /// was asked for ([`MpiPlugin::exchange_per_min_delay`]); 0 before the first step.
    pub exchange_every: u64,
    batch_wanted: bool,
}

/// Gathers the ranks' spikes into [`StepSpikes`] on every rank (every step), or, batched,
/// once per minimum-delay interval into [`BatchedSpikes`]. Buffers grow to the largest
/// exchange seen (the counts are exchanged first, so no bound is guessed).
#[allow(clippy::too_many_arguments, reason = "the spikes, the index for the minimum delay, the clock and the buffers")]
fn exchange_spikes(
    mut spikes: ResMut<StepSpikes>,
    mut batched: ResMut<BatchedSpikes>,
    partition: Res<Partition>,
    index: Option<Res<SynapseIndex>>,
    clock: Res<SimClock>,
    mut stats: ResMut<ExchangeStats>,
    mut pending: ResMut<PendingSpikes>,
    mut scratch: Local<Vec<u32>>,
) {
    let pending = &mut pending.packed;
    if !partition.is_split() {
        stats.local_spikes += spikes.ids.len() as u64;
        return;
    }
    let t = Instant::now();
    let comm = world();
    if stats.exchange_every == 0 {
        // The network's smallest delay, agreed by all ranks (a rank without synapses has none).
        let local = index.as_deref().and_then(|i| i.delays().iter().min().copied()).map_or(u32::MAX, u32::from);
        let mut d_min = u32::MAX;
        comm.all_reduce_into(&local, &mut d_min, mpi::collective::SystemOperation::min());
        stats.exchange_every = if stats.batch_wanted && d_min != u32::MAX { u64::from(d_min.max(1)) } else { 1 };
        batched.active = stats.exchange_every > 1;
    }
    let local = spikes.ids.len();
    stats.local_spikes += local as u64;
    let step = clock.step();
    if batched.active {
        // This step's spikes wait (as `step offset, count, ids`) for the exchange.
        pending.push((step % stats.exchange_every) as u32);
        pending.push(local as u32);
        pending.extend_from_slice(&spikes.ids);
        if !(step + 1).is_multiple_of(stats.exchange_every) {
            stats.communication += t.elapsed();
            return;
        }
    }
    let send: &[u32] = if batched.active { pending } else { &spikes.ids };
    let all = &mut *scratch;
    let parts = all_gather_u32(&comm, send, all);
    stats.exchanges += 1;
    stats.largest_exchange = stats.largest_exchange.max(all.len());
    let own_ids = local_ids(send, batched.active);
    if batched.active {
        // Every rank sends the same steps in the same order: step by step, the ranks' lists in
        // rank order (ascending, as the blocks are).
        let first = step + 1 - stats.exchange_every;
        let parts: Vec<&[u32]> = parts.into_iter().map(|r| &all[r]).collect();
        let mut cursor = vec![0usize; parts.len()];
        let mut due: Vec<(u64, Vec<u32>)> = Vec::new();
        for _ in 0..stats.exchange_every {
            let mut ids = Vec::new();
            let mut at = None;
            for (r, part) in parts.iter().enumerate() {
                let Some(&offset) = part.get(cursor[r]) else { continue };
                let n = part[cursor[r] + 1] as usize;
                at = Some(first + u64::from(offset) % stats.exchange_every);
                ids.extend_from_slice(&part[cursor[r] + 2..cursor[r] + 2 + n]);
                cursor[r] += 2 + n;
            }
            if let Some(at) = at {
                due.push((at, ids));
            }
        }
        let gathered: usize = due.iter().map(|(_, ids)| ids.len()).sum();
        stats.remote_spikes += (gathered - own_ids) as u64;
        batched.due = due;
        pending.clear();
    } else {
        stats.remote_spikes += (all.len() - own_ids) as u64;
        std::mem::swap(&mut spikes.ids, all);
    }
    stats.communication += t.elapsed();
}

/// The spike ids in what this rank sent: the list itself, or, batched, its steps' ids without
/// their `offset, count` headers.
fn local_ids(sent: &[u32], batched: bool) -> usize {
    if !batched {
        return sent.len();
    }
    let (mut at, mut ids) = (0usize, 0usize);
    while let Some(&n) = sent.get(at + 1) {
        ids += n as usize;
        at += 2 + n as usize;
    }
    ids
}

/// Every rank's `send` gathered into `into` in rank order (`MPI_Allgather` of the lengths, then
/// `MPI_Allgatherv`); returns each rank's range in it. `into` keeps its capacity between calls.
fn all_gather_u32(comm: &SimpleCommunicator, send: &[u32], into: &mut Vec<u32>) -> Vec<std::ops::Range<usize>> {
    let mut counts = vec![0 as mpi::Count; comm.size() as usize];
    comm.all_gather_into(&(send.len() as mpi::Count), &mut counts[..]);
    let displs: Vec<mpi::Count> = counts.iter().scan(0, |acc, &c| Some(std::mem::replace(acc, *acc + c))).collect();
    into.clear();
    into.resize(counts.iter().map(|&c| c as usize).sum(), 0);
    {
        let mut parts = PartitionMut::new(&mut into[..], &counts[..], &displs[..]);
        comm.all_gather_varcount_into(send, &mut parts);
    }
    counts.iter().zip(&displs).map(|(&c, &d)| d as usize..(d + c) as usize).collect()
}

/// Words per rank in the status agreement: flags, step, neuron, variable/kind, value, limit.
const STATUS_WORDS: usize = 6;
const HALTED: u64 = 1;
const STOPPED: u64 = 2;
const INTERRUPTED: u64 = 4;

/// Joins the ranks' run status after a step (call it between steps, on every rank, when the
/// network is split). A halt on any rank halts all with the same neuron, step and reason (the
/// lowest rank's); a stop condition on any rank or a signal on any rank (`interrupted`) stops
/// all. Returns the rank that halted, if one did, and whether a signal asked to stop.
pub fn agree_after_step(world_: &mut World, interrupted: bool) -> Agreement {
    let Some(partition) = world_.get_resource::<Partition>().copied().filter(Partition::is_split) else {
        return Agreement { halted_on: None, interrupted };
    };
    let t = Instant::now();
    let status = world_.resource::<SimStatus>().clone();
    let mut mine = [0u64; STATUS_WORDS];
    match &status {
        SimStatus::Running => {}
        SimStatus::Halted { step, neuron, reason } => {
            let (code, value, limit) = encode(reason);
            mine = [HALTED, *step, u64::from(*neuron), code, value.to_bits(), limit.to_bits()];
        }
        SimStatus::Stopped { step, .. } => {
            mine[0] = STOPPED;
            mine[1] = *step;
        }
    }
    if interrupted {
        mine[0] |= INTERRUPTED;
    }
    let mut all = vec![0u64; STATUS_WORDS * partition.ranks as usize];
    world().all_gather_into(&mine[..], &mut all[..]);
    if let Some(mut s) = world_.get_resource_mut::<ExchangeStats>() {
        s.communication += t.elapsed();
    }
    let rows: Vec<&[u64]> = all.chunks_exact(STATUS_WORDS).collect();
    let any_interrupt = rows.iter().any(|r| r[0] & INTERRUPTED != 0);
    if let Some((rank, r)) = rows.iter().enumerate().find(|(_, r)| r[0] & HALTED != 0) {
        let reason = decode(r[3], f64::from_bits(r[4]), f64::from_bits(r[5]));
        *world_.resource_mut::<SimStatus>() = SimStatus::Halted { step: r[1], neuron: r[2] as u32, reason };
        return Agreement { halted_on: Some(rank as u32), interrupted: any_interrupt };
    }
    if let Some((rank, r)) = rows.iter().enumerate().find(|(_, r)| r[0] & STOPPED != 0)
        && status.is_running()
    {
        world_.resource_mut::<SimStatus>().stop(r[1], format!("a stop condition on rank {rank}"));
    }
    Agreement { halted_on: None, interrupted: any_interrupt }
}

/// The ranks' joined status after a step ([`agree_after_step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// The rank whose guard halted the run.
    pub halted_on: Option<u32>,
    /// A signal reached some rank: every rank stops now.
    pub interrupted: bool,
}

fn encode(reason: &HaltReason) -> (u64, f64, f64) {
    let var = |v: &StateVariable| match v {
        StateVariable::MembranePotential => 0,
        StateVariable::RecoveryVariable => 1,
        StateVariable::InputCurrent => 2,
    };
    match reason {
        HaltReason::NonFinite { variable, value } => (var(variable), *value, 0.0),
        HaltReason::Runaway { variable, value, limit } => (8 | var(variable), *value, *limit),
    }
}

fn decode(code: u64, value: f64, limit: f64) -> HaltReason {
    let variable = match code & 7 {
        0 => StateVariable::MembranePotential,
        1 => StateVariable::RecoveryVariable,
        _ => StateVariable::InputCurrent,
    };
    if code & 8 != 0 { HaltReason::Runaway { variable, value, limit } } else { HaltReason::NonFinite { variable, value } }
}

/// Every rank's `values` (same length on all ranks), in rank order. One process: `values`.
pub fn gather_all(values: &[u64], ranks: u32) -> Vec<Vec<u64>> {
    if ranks <= 1 {
        return vec![values.to_vec()];
    }
    let mut all = vec![0u64; values.len() * ranks as usize];
    world().all_gather_into(values, &mut all[..]);
    all.chunks_exact(values.len().max(1)).map(<[u64]>::to_vec).collect()
}

/// Waits for every rank (`MPI_Barrier`).
pub fn barrier() {
    world().barrier();
}

/// Whether every rank says `ok` (`MPI_Allreduce` of a logical and): a rank that fails before
/// the run (a scene error, an output folder it cannot write) is known to all, which then stop
/// instead of waiting for it in the first exchange.
pub fn all_ok(ok: bool) -> bool {
    let mut all = 0u8;
    world().all_reduce_into(&u8::from(!ok), &mut all, mpi::collective::SystemOperation::max());
    all == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halt_reasons_survive_the_wire() {
        for reason in [
            HaltReason::NonFinite { variable: StateVariable::MembranePotential, value: f64::NAN },
            HaltReason::Runaway { variable: StateVariable::InputCurrent, value: -1e4, limit: 1000.0 },
            HaltReason::Runaway { variable: StateVariable::RecoveryVariable, value: 2e3, limit: 1000.0 },
        ] {
            let (c, v, l) = encode(&reason);
            let back = decode(c, f64::from_bits(v.to_bits()), l);
            assert_eq!(format!("{back}"), format!("{reason}"));
        }
    }
}
