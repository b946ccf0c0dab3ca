//! Load a shipped scene, run it, print spike counts and rates per population.
//!
//! ```sh
//! cargo run --release --example run_scene            # izhikevich_2003, 1 s
//! cargo run --release --example run_scene -- seed_demo
//! ```
//!
//! The network of Izhikevich (2003): 800 regular-spiking and 200 fast-spiking cells, all to all,
//! thalamic noise. Its published raster fires at about 7–8 Hz.

use biospike::prelude::*;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "izhikevich_2003".into());
    // A file path, or the name of a scene shipped inside biospike.
    let scene = match Scene::load(name.as_ref()) {
        Ok(scene) => scene,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut sim = Simulation::from_scene(&scene).expect("the scene builds");

    // Count spikes per population while stepping.
    let table = sim.world().resource::<PopulationTable>().clone();
    let pop_of = table.population_per_neuron(table.neuron_count() as usize);
    let mut spikes = vec![0u64; table.populations.len()];
    let steps = sim.step_with(scene.desc.time_steps, |world| {
        for &id in &world.resource::<StepSpikes>().ids {
            spikes[usize::from(pop_of[id as usize])] += 1;
        }
    });
    sim.finish();

    let seconds = steps as f64 * scene.desc.dt_ms / 1000.0;
    println!("{scene}: {steps} steps ({seconds} s simulated), {:?}", sim.status());
    println!("{:<10} {:>8} {:>8} {:>10}", "population", "neurons", "spikes", "rate (Hz)");
    let mut rates = Vec::new();
    for (p, &n) in table.populations.iter().zip(&spikes) {
        let rate = n as f64 / (f64::from(p.len) * seconds);
        println!("{:<10} {:>8} {:>8} {:>10.3}", p.name, p.len, n, rate);
        rates.push(rate);
    }
    if name == "izhikevich_2003" {
        // Izhikevich (2003), Fig. 3: both populations fire at a few Hz with alpha/gamma rhythms;
        // the reference port in ../shared/peers gives 7.4-7.7 Hz.
        assert!(rates.iter().all(|r| (5.0..10.0).contains(r)), "rates {rates:?}");
    }
}

#[test]
fn runs() {
    main();
}
