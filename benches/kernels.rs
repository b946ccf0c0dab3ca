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
    #[cfg(target_arch = "x86_64")]
    if biospike_runtime::simd::has_avx512() {
        group.bench_function("x8 (AVX-512)", |b| {
            let (mut v, mut u) = (vec![-65.0_f64; n], vec![-13.0_f64; n]);
            let excitability = vec![1.0_f64; n];
            // SAFETY: the CPU reported AVX-512 above.
            #[allow(unsafe_code, reason = "calling the AVX-512 kernel after the CPU reported it")]
            b.iter(|| unsafe { x8_columns(&mut v, &mut u, &input, &excitability, &params) })
        });
    }
    group.finish();
}

/// [`izhikevich_columns`]' step with the AVX-512 kernel, eight neurons at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
fn x8_columns(v: &mut [f64], u: &mut [f64], input: &[f64], excitability: &[f64], params: &[IzhikevichParams]) {
    let rows = v
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(u.as_chunks_mut::<8>().0)
        .zip(input.as_chunks::<8>().0.iter().zip(excitability.as_chunks::<8>().0))
        .zip(params.as_chunks::<8>().0);
    for (((v, u), (input, excitability)), p) in rows {
        biospike_izhikevich::x8::izhikevich_half_step_x8(v, u, input, excitability, p, 1.0, 30.0);
    }
}

/// 1000 draws of one step through the AVX-512 kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
fn normal_x8_draws(base: u64, ids: &[u32], out: &mut [f64]) {
    for (ids, out) in ids.as_chunks::<8>().0.iter().zip(out.as_chunks_mut::<8>().0) {
        biospike_core::rng::x8::normal_at_x8(base, ids, out);
    }
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
    #[cfg(target_arch = "x86_64")]
    if biospike_runtime::simd::has_avx512() {
        c.bench_function("keyed normal draw, AVX-512 (normal_at_x8) ×1e6", |b| {
            let ids: Vec<u32> = (0..1000).collect();
            let mut out = vec![0.0; 1000];
            b.iter(|| {
                for step in 0..1000 {
                    let base = KeyedRng::stream_base(1, StreamPurpose::InputNoise, black_box(step));
                    // SAFETY: the CPU reported AVX-512 above.
                    #[allow(unsafe_code, reason = "calling the AVX-512 kernel after the CPU reported it")]
                    unsafe {
                        normal_x8_draws(base, &ids, &mut out);
                    }
                }
                out[7]
            })
        });
    }
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
