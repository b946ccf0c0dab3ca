//! What one parallel pass can gain on this machine, whatever the model: two parts run one after
//! the other on one thread, against the same two parts handed to the compute threads
//! (`biospike_runtime::parallel::run_parts`, inside the pool as the CLI steps). The parts are
//!
//! - `compute`: arithmetic on registers only, about 5 or 25 µs each: the cost of the hand-off;
//! - `stream`: a multiply-add over a block of 64 KiB, 256 KiB or 1 MiB of `f64` of its own,
//!   as a neuron pass does (a 10 000-neuron pass reads and writes ≈ 100–300 KiB).
//!
//! The speed-up of a pass is `serial / parallel`; a step of the W2 10k scene is about ten such
//! passes of 5–50 µs (`BENCHMARKS.md`, round 9). Run: `cargo bench --bench parallel`
//! (`BIOSPIKE_THREADS=2` to pin the thread count).

use biospike_runtime::parallel;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `iters` rounds of register arithmetic (`passes` calibrates how many make a µs).
fn spin(iters: u64) {
    let mut x = 1u64;
    for i in 0..iters {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    black_box(x);
}

fn stream(block: &mut [f64]) {
    for x in block.iter_mut() {
        *x = *x * 1.000_001 + 1e-9;
    }
}

/// Times `iters` rounds of `round`, inside the compute pool.
fn timed(iters: u64, mut round: impl FnMut() + Send) -> Duration {
    parallel::install(|| {
        let t = Instant::now();
        for _ in 0..iters {
            round();
        }
        t.elapsed()
    })
}

fn passes(c: &mut Criterion) {
    if let Some(n) = std::env::var("BIOSPIKE_THREADS").ok().and_then(|s| s.parse::<usize>().ok()) {
        parallel::set_threads(n);
    }
    let t = Instant::now();
    spin(10_000_000);
    let per_us = 10_000_000.0 / (t.elapsed().as_secs_f64() * 1e6);
    let mut group = c.benchmark_group("pass");
    group.measurement_time(Duration::from_secs(3));
    for us in [5.0, 25.0] {
        let n = (us * per_us) as u64;
        group.bench_function(format!("compute 2x{us}us serial"), |b| {
            b.iter_custom(|iters| {
                timed(iters, || {
                    spin(n);
                    spin(n);
                })
            })
        });
        group.bench_function(format!("compute 2x{us}us parallel"), |b| {
            b.iter_custom(|iters| timed(iters, || parallel::run_parts(0..2, |_| spin(n))))
        });
    }
    for kib in [64usize, 256, 1024] {
        let len = kib * 1024 / 8;
        let mut v = vec![1.0f64; 2 * len];
        group.bench_function(format!("stream 2x{kib}KiB serial"), |b| {
            b.iter_custom(|iters| timed(iters, || v.chunks_mut(len).for_each(stream)))
        });
        group.bench_function(format!("stream 2x{kib}KiB parallel"), |b| {
            b.iter_custom(|iters| timed(iters, || parallel::run_parts(v.chunks_mut(len), stream)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters back-end needs system fonts (it panics without them).
    config = Criterion::default().without_plots();
    targets = passes
}
criterion_main!(benches);
