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

/// One step of 1000 neurons of the 2003 network, as columns: the scalar kernel neuron by
/// neuron against the lane kernel the Izhikevich system uses (same bits).
fn izhikevich_columns(c: &mut Criterion) {
    use biospike_izhikevich::{LANES, izhikevich_half_step_lanes};
    let n = 1000;
    let params: Vec<IzhikevichParams> = (0..n).map(|k| IzhikevichParams::excitatory_2003((k as f64 * 0.618).fract())).collect();
    let input: Vec<f64> = (0..n).map(|k| 5.0 * ((k as f64 * 0.37).fract() - 0.5)).collect();
    let mut group = c.benchmark_group("izhikevich 1000 neurons one step");
    group.bench_function("scalar", |b| {
        let (mut v, mut u) = (vec![-65.0_f64; n], vec![-13.0_f64; n]);
        b.iter(|| {
            for k in 0..n {
                let (nv, nu, _) = izhikevich_step(v[k], u[k], input[k], &params[k], 1.0, IntegrationScheme::default(), 30.0);
                v[k] = nv;
                u[k] = nu;
            }
        })
    });
    group.bench_function("lanes", |b| {
        let (mut v, mut u) = (vec![-65.0_f64; n], vec![-13.0_f64; n]);
        b.iter(|| {
            for k in (0..n).step_by(LANES) {
                let (nv, nu, _) = izhikevich_half_step_lanes(
                    core::array::from_fn(|l| v[k + l]),
                    core::array::from_fn(|l| u[k + l]),
                    core::array::from_fn(|l| input[k + l]),
                    core::array::from_fn(|l| &params[k + l]),
                    1.0,
                    30.0,
                );
                v[k..k + LANES].copy_from_slice(&nv);
                u[k..k + LANES].copy_from_slice(&nu);
            }
        })
    });
    group.finish();
}

fn rng(c: &mut Criterion) {
    c.bench_function("keyed normal draw ×1e6", |b| {
        b.iter(|| {
            let base = KeyedRng::stream_base(1, StreamPurpose::InputNoise, black_box(7));
            (0..1_000_000u64).map(|i| KeyedRng::from_base(base, i).normal()).sum::<f64>()
        })
    });
}

fn uniform(c: &mut Criterion) {
    c.bench_function("keyed normal draw, one mixing round (normal_at) ×1e6", |b| {
        b.iter(|| {
            let base = KeyedRng::stream_base(1, StreamPurpose::InputNoise, black_box(7));
            (0..1_000_000u64).map(|i| KeyedRng::normal_at(base, i)).sum::<f64>()
        })
    });
    c.bench_function("keyed uniform draw (uniform_at) ×1e6", |b| {
        b.iter(|| {
            let base = KeyedRng::stream_base(1, StreamPurpose::InputNoise, black_box(7));
            (0..1_000_000u64).map(|i| KeyedRng::uniform_at(base, i)).sum::<f64>()
        })
    });
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters back-end needs system fonts (it panics without them), and
    // the figures that matter are the printed medians.
    config = Criterion::default().without_plots();
    targets = izhikevich, izhikevich_columns, rng, uniform
}
criterion_main!(benches);
