//! The delivery-layout decision of `docs/architecture.md`, measured: one step of W1-like
//! traffic (1000 neurons, all-to-all = 1 M synapses, 8 spikes) and W2-like traffic (10 000
//! neurons, in-degree 100, 115 spikes), delivered three ways:
//!
//! - `csr_push`: biospike's `SynapseIndex` layout (rows by presynaptic neuron, dense arrays);
//! - `entity_get`: out-edges as lists of synapse entities, weight and target fetched with
//!   `Query::get` per edge (synapses as entities with no side structure);
//! - `csr_pull`: rows by postsynaptic neuron, each target scans all its inputs every step
//!   (parallel-friendly, but O(synapses) per step).
//!
//! Run: `cargo bench --bench delivery`.

use bevy_ecs::prelude::*;
use biospike_core::rng::{KeyedRng, StreamPurpose};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[derive(Component)]
struct W(f32);
#[derive(Component)]
struct Post(u32);

struct Net {
    n: usize,
    out: Vec<Vec<(u32, f32)>>,
    spikes: Vec<u32>,
}

fn net(n: usize, k_in: usize, spikes: usize) -> Net {
    let mut out = vec![Vec::new(); n];
    for post in 0..n as u32 {
        let mut rng = KeyedRng::new(1, StreamPurpose::Topology, u64::from(post), 0);
        for j in 0..k_in {
            let pre = if k_in == n { j as u32 } else { rng.below(n as u64) as u32 };
            out[pre as usize].push((post, rng.uniform() as f32));
        }
    }
    for row in &mut out {
        row.sort_by_key(|e| e.0);
    }
    let spikes = (0..spikes).map(|i| (i * n / spikes) as u32).collect();
    Net { n, out, spikes }
}

fn bench_layouts(c: &mut Criterion, name: &str, net: &Net) {
    // CSR by pre.
    let mut row_start = vec![0u32];
    let (mut post, mut weight) = (Vec::new(), Vec::new());
    for row in &net.out {
        post.extend(row.iter().map(|e| e.0));
        weight.extend(row.iter().map(|e| e.1));
        row_start.push(post.len() as u32);
    }
    let mut input = vec![0.0f64; net.n];
    c.bench_function(&format!("{name}/csr_push"), |b| {
        b.iter(|| {
            for &s in &net.spikes {
                let (a, z) = (row_start[s as usize] as usize, row_start[s as usize + 1] as usize);
                for k in a..z {
                    input[post[k] as usize] += f64::from(weight[k]);
                }
            }
            black_box(&mut input);
        })
    });
    // Entities fetched per edge.
    let mut world = World::new();
    let rows: Vec<Vec<Entity>> = net.out.iter().map(|row| row.iter().map(|&(p, w)| world.spawn((Post(p), W(w))).id()).collect()).collect();
    let mut state = world.query::<(&Post, &W)>();
    c.bench_function(&format!("{name}/entity_get"), |b| {
        b.iter(|| {
            for &s in &net.spikes {
                for &e in &rows[s as usize] {
                    if let Ok((p, w)) = state.get(&world, e) {
                        input[p.0 as usize] += f64::from(w.0);
                    }
                }
            }
            black_box(&mut input);
        })
    });
    // CSR by post, pulled every step.
    let mut by_post: Vec<Vec<(u32, f32)>> = vec![Vec::new(); net.n];
    for (pre, row) in net.out.iter().enumerate() {
        for &(p, w) in row {
            by_post[p as usize].push((pre as u32, w));
        }
    }
    let mut fired = vec![false; net.n];
    for &s in &net.spikes {
        fired[s as usize] = true;
    }
    let (pre_flat, w_flat): (Vec<u32>, Vec<f32>) = by_post.iter().flatten().copied().unzip();
    let mut start = vec![0usize];
    for r in &by_post {
        start.push(start.last().copied().unwrap_or(0) + r.len());
    }
    c.bench_function(&format!("{name}/csr_pull"), |b| {
        b.iter(|| {
            for (i, x) in input.iter_mut().enumerate() {
                let mut acc = 0.0f64;
                for k in start[i]..start[i + 1] {
                    if fired[pre_flat[k] as usize] {
                        acc += f64::from(w_flat[k]);
                    }
                }
                *x += acc;
            }
            black_box(&mut input);
        })
    });
}

fn delivery(c: &mut Criterion) {
    bench_layouts(c, "w1_1000_all_to_all_8_spikes", &net(1000, 1000, 8));
    bench_layouts(c, "w2_10k_indegree100_115_spikes", &net(10_000, 100, 115));
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters back-end needs system fonts (it panics without them), and
    // the figures that matter are the printed medians.
    config = Criterion::default().without_plots();
    targets = delivery
}
criterion_main!(benches);
