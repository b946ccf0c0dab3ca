//! A parameter sweep run in parallel: the input strength of the Izhikevich (2003) network times
//! three seeds. Each run writes one part of a Parquet dataset (`out/sweep/run-*.parquet`), which
//! polars and pandas read as one table:
//!
//! ```python
//! import polars as pl
//! runs = pl.read_parquet("out/sweep/*.parquet")
//! print(runs.group_by("input_scale", "population").agg(pl.col("rate_hz").mean()).sort("input_scale"))
//! ```
//!
//! The runs go to the compute threads as parts of one parallel pass
//! (`biospike::runtime::parallel::run_parts`); a simulation stepped inside a compute thread
//! stays on it, and every run is bit-identical to the same run made alone.
//!
//! ```sh
//! cargo run --release --example sweep [-- OUT_DIR]
//! ```

use biospike::prelude::*;
use biospike::runtime::parallel;
use biospike::tables::{Column, write_table};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One point of the grid and what it gave.
struct Run {
    input_scale: f64,
    seed: u64,
    /// `(population, neurons, spikes)`.
    populations: Vec<(String, u32, u64)>,
}

/// The shipped scene with its thalamic noise scaled by `input_scale`, run for 1 s.
fn simulate(base: &Scene, input_scale: f64, seed: u64) -> Run {
    let mut scene = base.clone();
    scene.desc.seed = seed;
    for p in &mut scene.desc.populations {
        if let Some(noise) = &mut p.noise {
            noise.std *= input_scale;
        }
    }
    let mut sim = Simulation::from_scene(&scene).expect("builds");
    let table = sim.world().resource::<PopulationTable>().clone();
    let pop_of = table.population_per_neuron(table.neuron_count() as usize);
    let mut spikes = vec![0u64; table.populations.len()];
    sim.step_with(scene.desc.time_steps, |world| {
        for &id in &world.resource::<StepSpikes>().ids {
            spikes[usize::from(pop_of[id as usize])] += 1;
        }
    });
    sim.finish();
    let populations = table.populations.iter().zip(spikes).map(|(p, n)| (p.name.clone(), p.len, n)).collect();
    Run { input_scale, seed, populations }
}

/// One dataset part per run.
fn write_part(dir: &Path, run: &Run) -> PathBuf {
    let path = dir.join(format!("run-scale{:.2}-seed{}.parquet", run.input_scale, run.seed));
    let n = run.populations.len();
    let rate = |&(_, neurons, spikes): &(String, u32, u64)| spikes as f64 / f64::from(neurons);
    write_table(
        &path,
        vec![
            ("input_scale", Column::F64(vec![run.input_scale; n])),
            ("seed", Column::U64(vec![run.seed; n])),
            ("population", Column::Str(run.populations.iter().map(|p| p.0.clone()).collect())),
            ("neurons", Column::U64(run.populations.iter().map(|p| u64::from(p.1)).collect())),
            ("spikes", Column::U64(run.populations.iter().map(|p| p.2).collect())),
            ("rate_hz", Column::F64(run.populations.iter().map(rate).collect())),
        ],
        &[("biospike.scene".into(), "izhikevich_2003".into())],
    )
    .expect("part written");
    path
}

fn main() {
    let out = std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join("biospike-sweep"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&out);
    let base = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
    let scales = [0.6, 0.8, 1.0, 1.2];
    let seeds = [1u64, 2, 3];
    let grid: Vec<(f64, u64)> = scales.iter().flat_map(|&s| seeds.iter().map(move |&seed| (s, seed))).collect();

    // The whole grid as one parallel pass over the compute threads.
    let results: Vec<Mutex<Option<Run>>> = grid.iter().map(|_| Mutex::new(None)).collect();
    parallel::install(|| {
        parallel::run_parts(grid.iter().zip(&results), |(&(scale, seed), slot)| {
            let run = simulate(&base, scale, seed);
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(run);
            }
        });
    });
    let runs: Vec<Run> = results.into_iter().filter_map(|m| m.into_inner().ok().flatten()).collect();
    assert_eq!(runs.len(), grid.len());
    let parts: Vec<PathBuf> = runs.iter().map(|r| write_part(&out, r)).collect();

    println!("{} runs written to {} ({} parts)", runs.len(), out.display(), parts.len());
    println!("input scale   rate (Hz), mean ± sd over {} seeds", seeds.len());
    let mut means = Vec::new();
    for &scale in &scales {
        let rates: Vec<f64> = runs
            .iter()
            .filter(|r| r.input_scale == scale)
            .map(|r| {
                let (n, s) = r.populations.iter().fold((0u64, 0u64), |(n, s), p| (n + u64::from(p.1), s + p.2));
                s as f64 / n as f64
            })
            .collect();
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        let sd = (rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (rates.len() - 1) as f64).sqrt();
        println!("{scale:>11.1}   {mean:6.2} ± {sd:.2}");
        means.push(mean);
    }
    // Stronger thalamic input, more spikes: the rate grows with the input scale.
    assert!(means.windows(2).all(|w| w[0] < w[1]), "rates {means:?}");
    // A run made alone gives the same numbers as inside the sweep.
    let alone = simulate(&base, scales[0], seeds[0]);
    assert_eq!(alone.populations, runs[0].populations);
}

#[test]
fn runs() {
    main();
}
