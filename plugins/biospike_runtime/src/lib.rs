//! biospike's compute runtime: how the hot passes of a step use the machine.
//!
//! The model crates describe *what* a step computes; this crate holds *how* the row-wise
//! passes run, so that every stage uses the same threads, the same split rules and the same
//! SIMD dispatch, and results stay bit-identical on any thread count:
//!
//! - [`parallel`]: the compute threads (a rayon pool of the simulation's own), [`parallel::install`]
//!   to step inside them, [`parallel::run_parts`] to run a pass's parts;
//! - [`rows`]: kernels over whole component columns ([`rows::for_each_chunk`],
//!   [`rows::map_chunks`]), split into one contiguous chunk per thread, and prefetch helpers for
//!   rows chosen by spikes;
//! - [`simd`]: [`avx2_kernel!`] and [`avx512_kernel!`], one kernel body compiled for the
//!   x86-64 baseline and for wider vector units, picked at run time with identical IEEE
//!   results;
//! - the split thresholds ([`PARALLEL_MIN_ROWS`], [`PARALLEL_MIN_EVENTS`],
//!   [`PARALLEL_MIN_ENTITIES`]): below them a pass runs serially on the calling thread, because a
//!   hand-off costs more than the pass.
//!
//! The rule that keeps results independent of the thread count: a pass splits into a number of
//! parts that depends only on [`parallel::threads`], each part always covers the same rows, and
//! each row (a neuron, a delivery target, a synapse row) is written by exactly one part.
//!
//! The design decisions and their measurements are in `docs/architecture.md` and
//! `BENCHMARKS.md`.
//!
//! # Example
//! ```
//! use biospike_runtime::{parallel, rows::for_each_chunk};
//!
//! parallel::set_threads(2);
//! let mut v = vec![1.0_f64; 10_000];
//! parallel::install(|| for_each_chunk(&mut v[..], |part| part.iter_mut().for_each(|x| *x *= 3.0)));
//! assert!(v.iter().all(|&x| x == 3.0));
//! ```

pub mod parallel;
pub mod rows;
pub mod simd;

/// Below this many entities a per-entity loop ([`for_each_entity_mut!`]) runs serially; above,
/// it uses bevy's `par_iter_mut`, whose hand-off to bevy's task pool costs more than this many
/// Izhikevich updates take on one core.
pub const PARALLEL_MIN_ENTITIES: usize = 16_384;

/// Below this many rows a column kernel ([`rows::for_each_chunk`]) runs serially; above, it
/// splits over the [`parallel`] threads.
pub const PARALLEL_MIN_ROWS: usize = 4_096;

/// Below this many synaptic events (delivery) or plastic row entries (plasticity) in one step, a
/// row-wise pass runs serially on the calling thread instead of splitting over the [`parallel`]
/// threads.
pub const PARALLEL_MIN_EVENTS: usize = 4_096;

/// Runs `$body` for every item of the bevy query `$query`, in parallel (`par_iter_mut`) when it
/// holds at least [`PARALLEL_MIN_ENTITIES`] entities, serially otherwise. Each item must only
/// touch its own entity, so both paths give the same result.
#[macro_export]
macro_rules! for_each_entity_mut {
    ($query:expr, $f:expr) => {{
        let f = $f;
        if $query.iter().size_hint().1.unwrap_or(usize::MAX) < $crate::PARALLEL_MIN_ENTITIES {
            $query.iter_mut().for_each(f);
        } else {
            $query.par_iter_mut().for_each(f);
        }
    }};
}
