//! The simulation's compute threads: where the row-wise passes (neuron kernels, spike
//! delivery, plasticity rows) run their parts in parallel.
//!
//! A step hands work to the other threads several times (neurons, delivery, plasticity), with
//! short serial stretches in between. Bevy's task pool parks its workers as soon as they run
//! out of work, and waking them costs more than a 10 000-neuron pass takes. Measured on a
//! model of a step (15 µs serial, then 2 × 15 µs of work, 2 threads; `docs/architecture.md`):
//! 46–48 µs per round serially, 74 µs with bevy's `scope`, 35–46 µs in a rayon pool whose
//! workers stay awake briefly between parts. So these passes use a rayon pool of their own, and
//! drivers run the stepping loop inside it ([`install`]; `biospike::testing::run_steps` and the
//! CLI do), where handing out a part is a push onto the local work queue. Called from outside
//! the pool the passes still work, with a costlier hand-off.
//!
//! The number of parts a pass splits into depends only on [`threads`], and each part always
//! covers the same rows, so results are bit-identical whichever thread runs which part.
//!
//! # Example
//! ```
//! use biospike_core::parallel;
//!
//! parallel::set_threads(2);
//! let mut v = vec![0u32; 1000];
//! parallel::install(|| {
//!     let parts: Vec<&mut [u32]> = v.chunks_mut(250).collect();
//!     parallel::run_parts(parts, |part| part.iter_mut().for_each(|x| *x += 1));
//! });
//! assert!(v.iter().all(|&x| x == 1));
//! ```

use std::sync::OnceLock;

static POOL: OnceLock<Option<rayon_core::ThreadPool>> = OnceLock::new();

fn build(threads: usize) -> Option<rayon_core::ThreadPool> {
    rayon_core::ThreadPoolBuilder::new().num_threads(threads.max(1)).thread_name(|i| format!("biospike-{i}")).build().ok()
}

fn pool() -> Option<&'static rayon_core::ThreadPool> {
    POOL.get_or_init(|| build(std::thread::available_parallelism().map_or(1, usize::from))).as_ref()
}

/// Sets the number of compute threads (`>= 1`; the default is the number of cores). Takes
/// effect only before the first parallel pass or [`threads`] call of the process; returns
/// whether it did.
pub fn set_threads(threads: usize) -> bool {
    let mut set = false;
    POOL.get_or_init(|| {
        set = true;
        build(threads)
    });
    set
}

/// Number of compute threads (1 if the pool could not be started: everything then runs on the
/// calling thread).
pub fn threads() -> usize {
    pool().map_or(1, rayon_core::ThreadPool::current_num_threads)
}

/// Runs `f` on a compute thread and waits for it. Drivers wrap their stepping loop in it so
/// that the passes inside hand out parts cheaply; called from a compute thread, or with one
/// thread, it just calls `f`.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(p) if p.current_num_threads() > 1 && p.current_thread_index().is_none() => p.install(f),
        _ => f(),
    }
}

/// Runs `f` on every part, in parallel, and returns when all are done: the calling thread takes
/// the last part itself. With one part (or one thread) everything runs on the calling thread.
pub fn run_parts<T: Send>(parts: impl IntoIterator<Item = T>, f: impl Fn(T) + Sync) {
    let mut parts = parts.into_iter().peekable();
    let Some(p) = pool().filter(|p| p.current_num_threads() > 1) else {
        parts.for_each(f);
        return;
    };
    let f = &f;
    p.in_place_scope(|scope| {
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                f(part);
            } else {
                scope.spawn(move |_| f(part));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once() {
        set_threads(2);
        let hits: Vec<std::sync::atomic::AtomicU32> = (0..7).map(|_| Default::default()).collect();
        for _ in 0..50 {
            run_parts(0..7, |i| {
                hits[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
        assert!(hits.iter().all(|h| h.load(std::sync::atomic::Ordering::Relaxed) == 50));
        assert_eq!(install(|| 5), 5);
    }
}
