//! The simulation's compute threads: where the row-wise passes (neuron kernels, spike
//! delivery, plasticity rows) run their parts in parallel.
//!
//! A step hands work to the other threads several times (neurons, delivery, plasticity), with
//! short serial stretches in between, each pass only a few to a few hundred µs long. Bevy's
//! task pool parks its workers as soon as they run out of work, and waking a parked worker
//! costs about as much as such a pass. So these passes use a rayon pool of their own, and
//! drivers run the stepping loop inside it ([`install`]; biospike's runner and
//! `Simulation::step` do), where handing out a part is a push onto the local work queue. The
//! other workers do not sleep between parts: after each part they poll for the next one for
//! [`SPIN`] (an active wait, like OpenMP's `OMP_WAIT_POLICY=active`). Called from outside the
//! pool the passes still work, with a costlier hand-off. The measurements behind this choice
//! are in `docs/architecture.md`.
//!
//! The number of parts a pass splits into depends only on [`threads`], and each part always
//! covers the same rows, so results are bit-identical whichever thread runs which part.
//!
//! # Example
//! ```
//! use biospike_runtime::parallel;
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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
    keep_awake(p);
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

/// How long a worker keeps polling for parts after its last one before it may go to sleep.
/// A step's serial stretches (schedule, spike collection, recording) are far shorter, so
/// during a run the workers never sleep and a part starts within a microsecond instead of
/// after a wake-up (tens of µs on a VM); between runs they sleep after this long.
pub const SPIN: Duration = Duration::from_millis(1);

/// Workers that are polling ([`poll_for_parts`]) or about to.
static POLLING: AtomicUsize = AtomicUsize::new(0);

/// Makes sure every worker other than the calling one polls for parts (rather than sleeping)
/// for [`SPIN`] after its last part: an active wait, as OpenMP's `OMP_WAIT_POLICY=active`.
fn keep_awake(p: &rayon_core::ThreadPool) {
    let caller = p.current_thread_index();
    let others = p.current_num_threads() - usize::from(caller.is_some());
    if POLLING.load(Ordering::Acquire) >= others {
        return;
    }
    POLLING.fetch_add(others, Ordering::AcqRel);
    // A broadcast job runs once on every worker; the caller's own returns at once.
    p.spawn_broadcast(move |ctx| {
        if Some(ctx.index()) != caller {
            poll_for_parts();
            POLLING.fetch_sub(1, Ordering::AcqRel);
        }
    });
}

/// Runs the pool's pending parts as they appear, until none has appeared for [`SPIN`].
fn poll_for_parts() {
    let mut last_work = Instant::now();
    let mut idle_rounds = 0u32;
    loop {
        match rayon_core::yield_now() {
            Some(rayon_core::Yield::Executed) => {
                last_work = Instant::now();
                idle_rounds = 0;
            }
            Some(rayon_core::Yield::Idle) => {
                idle_rounds += 1;
                // Reading the clock costs more than a poll: look every 64 idle rounds.
                if idle_rounds.is_multiple_of(64) && last_work.elapsed() > SPIN {
                    return;
                }
                std::hint::spin_loop();
            }
            None => return,
        }
    }
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

    /// The active wait ends: [`SPIN`] after the last part no worker is polling any more
    /// (other tests of this binary may hand out parts meanwhile, so wait up to 2 s for a
    /// quiet moment).
    #[test]
    fn workers_stop_polling_after_the_spin_time() {
        set_threads(2);
        run_parts(0..2, |_| ());
        let start = Instant::now();
        while POLLING.load(Ordering::Acquire) != 0 && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(SPIN);
        }
        assert_eq!(POLLING.load(Ordering::Acquire), 0);
    }
}
