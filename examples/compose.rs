//! A network composed in Rust, no scene file: two populations, random wiring, noise input, and a
//! system of your own that watches the population rate every step.
//!
//! ```sh
//! cargo run --release --example compose
//! ```

use biospike::prelude::*;
use biospike::topology::{FixedDegree, fixed_in_degree};

const EXC: u32 = 800;
const INH: u32 = 200;

/// Spikes per 10 ms bin of the whole network: filled by `watch_rate`.
#[derive(Resource, Default)]
struct RateMonitor {
    bins: Vec<u32>,
}

/// A user system: reads this step's spikes (after detection) and bins them.
fn watch_rate(spikes: Res<StepSpikes>, clock: Res<SimClock>, mut monitor: ResMut<RateMonitor>) {
    let bin = (clock.time_ms() / 10.0) as usize;
    if monitor.bins.len() <= bin {
        monitor.bins.resize(bin + 1, 0);
    }
    monitor.bins[bin] += spikes.ids.len() as u32;
}

fn main() {
    let mut app = App::new();
    app.add_plugins(BiospikePlugins::default().with_seed(11));
    app.init_resource::<RateMonitor>();
    app.add_systems(SimSchedule, watch_rate.in_set(SimSystems::Record));

    // Neurons: 800 regular-spiking excitatory, 200 fast-spiking inhibitory cells, each with
    // its own Gaussian input (mean 3, sd 4 per step, in Izhikevich's current units).
    let world = app.world_mut();
    world.insert_resource(PopulationTable {
        populations: vec![
            PopulationInfo { name: "exc".into(), kind: PopulationKind::Excitatory, first: 0, len: EXC },
            PopulationInfo { name: "inh".into(), kind: PopulationKind::Inhibitory, first: EXC, len: INH },
        ],
    });
    for id in 0..EXC + INH {
        let (params, pop) = if id < EXC { (IzhikevichParams::REGULAR_SPIKING, 0) } else { (IzhikevichParams::FAST_SPIKING, 1) };
        world.spawn((IzhikevichNeuron, NeuronId(id), PopulationId(pop), params, NoiseCurrent { mean: 3.0, std: 4.0 }));
    }

    // Wiring: every neuron receives 50 inputs drawn from all neurons (keyed streams: the same
    // graph for the same seed on any machine); excitatory synapses +0.5, inhibitory -1.0, with
    // 1-3 ms delays.
    let draw = FixedDegree { k: 50, multapses: false, self_connections: false, seed: 11, stream: 0 };
    let edges = fixed_in_degree(0..EXC + INH, 0..EXC + INH, draw).expect("valid in-degree");
    world.spawn_batch(edges.into_iter().map(|(pre, post)| {
        let weight = if pre < EXC { 0.5 } else { -1.0 };
        (Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(weight), SynapticDelay(1 + (pre + post) as u16 % 3))
    }));

    let mut sim = Simulation::new(app);
    sim.step(2000);
    sim.finish();

    let monitor = sim.world().resource::<RateMonitor>();
    let total: u32 = monitor.bins.iter().sum();
    let rate = f64::from(total) / (f64::from(EXC + INH) * 2.0);
    let peak = monitor.bins.iter().max().copied().unwrap_or(0);
    println!("{} bins of 10 ms, {total} spikes, mean rate {rate:.2} Hz, busiest bin {peak} spikes", monitor.bins.len());
    assert_eq!(monitor.bins.len(), 200, "the monitor saw every step of 2 s");
    assert!((1.0..50.0).contains(&rate), "a driven E/I network fires at a physiological rate: {rate} Hz");
}

#[test]
fn runs() {
    main();
}
