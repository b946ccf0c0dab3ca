//! Kernel benchmarks: the pure functions the hot loops call.
//! Run: `cargo bench --bench kernels`.

use biospike::prelude::*;
use biospike_core::rng::KeyedRng;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn izhikevich(c: &mut Criterion) {
    let p = IzhikevichParams::REGULAR_SPIKING;
    c.bench_function("izhikevich_step half-step ×1e6", |b| {
        b.iter(|| {
            let (mut v, mut u) = (-65.0_f64, -13.0_f64);
            for _ in 0..1_000_000 {
                (v, u, _) = izhikevich_step(black_box(v), u, 10.0, &p, 1.0, IntegrationScheme::default(), 30.0);
            }
            (v, u)
        })
    });
}

fn rng(c: &mut Criterion) {
    c.bench_function("keyed normal draw ×1e6", |b| {
        b.iter(|| {
            let base = KeyedRng::stream_base(1, StreamPurpose::InputNoise, black_box(7));
            (0..1_000_000u64).map(|i| KeyedRng::from_base(base, i).normal()).sum::<f64>()
        })
    });
}

criterion_group!(benches, izhikevich, rng);
criterion_main!(benches);
