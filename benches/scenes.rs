//! Scene benchmarks: 1 s of simulated time of the shipped scenes (10 s of the distal-reward scene), stepping only (the network
//! is built and its delivery index prepared outside the timed part). Built with the same
//! constructor the CLI and the tests use. Run: `cargo bench --bench scenes`.
//! Thread count: the compute pool's default (all cores); `BIOSPIKE_THREADS=1` pins it.

use biospike::{Scene, build_app};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};

fn scene_second(c: &mut Criterion, name: &str) {
    scene_steps(c, name, 1000, "1 s simulated");
}

fn scene_steps(c: &mut Criterion, name: &str, steps: u64, label: &str) {
    let scene = Scene::load(name.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("scenes");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function(format!("{name} {label}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut app = build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
                biospike_synapses::prepare_synapse_index(app.world_mut());
                let t = Instant::now();
                // On a compute thread (`parallel::install`), as the CLI steps.
                biospike::testing::run_steps(&mut app, steps);
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
}

fn scenes(c: &mut Criterion) {
    if let Some(n) = std::env::var("BIOSPIKE_THREADS").ok().and_then(|s| s.parse::<usize>().ok()) {
        biospike::set_threads(n);
    }
    scene_second(c, "izhikevich_2003");
    scene_second(c, "sparse_10k");
    // W2 with STDP (issue #3's speed targets): 10k and 100k neurons, 1 s each.
    scene_second(c, "sparse_stdp_10k");
    scene_second(c, "sparse_stdp_100k");
    // Izhikevich (2007) distal reward with STDP, dopamine and the reward protocol: 10 s from a
    // fresh network (the hour is `biospike run izhikevich_2007_distal_reward`, BENCHMARKS.md).
    scene_steps(c, "izhikevich_2007_distal_reward", 10_000, "10 s simulated");
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters back-end needs system fonts (it panics without them), and
    // the figures that matter are the printed medians.
    config = Criterion::default().without_plots();
    targets = scenes
}
criterion_main!(benches);
