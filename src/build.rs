//! Lowering a [`Scene`] into an [`App`]: plugins, settings, neuron and synapse entities.

use bevy_app::App;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::rng::KeyedRng;
use biospike_input::prelude::*;
use biospike_izhikevich::prelude::*;
use biospike_topology as topo;
use std::path::Path;

use crate::scene::{DistDesc, IntegrationDesc, KindDesc, NeuronDesc, PresetDesc, Scene, TopologyDesc};

/// A scene that validated but cannot be built (e.g. a topology the generator rejects).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The topology generator refused the parameters.
    #[error("topology: {0}")]
    Topology(#[from] topo::TopologyError),
}

/// The model plugins a scene needs (no recorder): core, inputs, Izhikevich, delivery.
pub fn model_app(scene: &Scene) -> App {
    let d = &scene.desc;
    let mut app = App::new();
    app.add_plugins(CoreSimPlugin::new(SimClock::new(d.dt_ms), d.seed));
    app.insert_resource(IzhikevichSettings {
        scheme: match d.integration {
            IntegrationDesc::HalfStep { v_substeps } => IntegrationScheme::HalfStep { v_substeps },
            IntegrationDesc::Euler { substeps } => IntegrationScheme::Euler { substeps },
        },
        threshold_mv: d.threshold_mv,
    });
    app.add_plugins(crate::BiospikePlugins);
    app
}

fn preset(p: PresetDesc) -> IzhikevichParams {
    match p {
        PresetDesc::RS => IzhikevichParams::REGULAR_SPIKING,
        PresetDesc::IB => IzhikevichParams::INTRINSICALLY_BURSTING,
        PresetDesc::CH => IzhikevichParams::CHATTERING,
        PresetDesc::FS => IzhikevichParams::FAST_SPIKING,
        PresetDesc::LTS => IzhikevichParams::LOW_THRESHOLD_SPIKING,
        PresetDesc::TC => IzhikevichParams::THALAMO_CORTICAL,
        PresetDesc::RZ => IzhikevichParams::RESONATOR,
    }
}

/// Parameters of neuron `id` (global) for a population's description.
pub fn neuron_params(desc: NeuronDesc, seed: u64, id: u32) -> IzhikevichParams {
    let r = || KeyedRng::new(seed, StreamPurpose::NeuronParameters, u64::from(id), 0).uniform();
    match desc {
        NeuronDesc::Preset(p) => preset(p),
        NeuronDesc::Custom { a, b, c, d } => IzhikevichParams::new(a, b, c, d),
        NeuronDesc::Izhikevich2003Excitatory => IzhikevichParams::excitatory_2003(r()),
        NeuronDesc::Izhikevich2003Inhibitory => IzhikevichParams::inhibitory_2003(r()),
    }
}

/// Draw from a distribution.
pub fn sample(dist: DistDesc, rng: &mut KeyedRng) -> f64 {
    match dist {
        DistDesc::Constant(x) => x,
        DistDesc::Uniform { low, high } => low + (high - low) * rng.uniform(),
        DistDesc::ClippedNormal { mean, std, low, high } => (mean + std * rng.normal()).clamp(low, high),
    }
}

/// Layout: populations stacked in layers 200 µm apart, each a square grid with 20 µm pitch.
fn position(pop: usize, local: u32, size: u32) -> [f32; 3] {
    let side = (f64::from(size).sqrt().ceil() as u32).max(1);
    let (x, y) = (local % side, local / side);
    let half = side as f32 * 10.0;
    [x as f32 * 20.0 - half, y as f32 * 20.0 - half, pop as f32 * 200.0]
}

/// The directed edges `(pre, post)` of the scene's topology.
pub fn edges(scene: &Scene) -> Result<topo::EdgeList, BuildError> {
    let d = &scene.desc;
    let n = scene.neuron_count();
    Ok(match d.topology {
        TopologyDesc::Disconnected => Vec::new(),
        TopologyDesc::AllToAll { self_connections } => topo::all_to_all(n, self_connections),
        TopologyDesc::ErdosRenyi { p, self_connections } => topo::erdos_renyi(n, p, self_connections, d.seed)?,
        TopologyDesc::SmallWorld { k, rewire_p } => topo::watts_strogatz(n, k, rewire_p, d.seed)?,
        TopologyDesc::ScaleFree { m, directed } => topo::barabasi_albert(n, m, directed, d.seed)?,
        TopologyDesc::FixedInDegree { k, multapses, self_connections } => {
            let sizes: Vec<u32> = d.populations.iter().map(|p| p.size).collect();
            let split = split_in_degree(k, &sizes);
            let mut edges = Vec::with_capacity(n as usize * k as usize);
            let mut first = 0u32;
            for (i, (&size, &ki)) in sizes.iter().zip(&split).enumerate() {
                let part = topo::fixed_in_degree(first..first + size, 0..n, ki, multapses, self_connections, d.seed, i as u64)?;
                edges.extend(part);
                first += size;
            }
            edges
        }
    })
}

/// Splits an in-degree `k` across source populations in proportion to their sizes, by
/// largest remainder (W2: 100 over 8000/2000 gives 80/20).
pub fn split_in_degree(k: u32, sizes: &[u32]) -> Vec<u32> {
    let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    if total == 0 {
        return vec![0; sizes.len()];
    }
    let exact: Vec<f64> = sizes.iter().map(|&s| f64::from(k) * s as f64 / total as f64).collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut rest = k - out.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for i in order {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

/// Spawns the scene's neurons and synapses into `world` and fills [`PopulationTable`].
pub fn spawn_network(world: &mut World, scene: &Scene) -> Result<(), BuildError> {
    let d = &scene.desc;
    let seed = d.seed;
    let mut table = PopulationTable::default();
    let mut first = 0u32;
    for (pi, p) in d.populations.iter().enumerate() {
        let ids = first..first + p.size;
        let entities: Vec<Entity> = world
            .spawn_batch(ids.clone().map(|id| {
                let params = neuron_params(p.neuron, seed, id);
                let v0 = p.v_init_mv;
                let u0 = p.u_init.unwrap_or(params.b * v0);
                (
                    IzhikevichNeuron,
                    NeuronId(id),
                    PopulationId(pi as u16),
                    params,
                    MembranePotential(v0),
                    RecoveryVariable(u0),
                    Position(position(pi, id - first, p.size)),
                )
            }))
            .collect();
        if let Some(n) = p.noise {
            world.insert_batch(entities.iter().map(|&e| (e, NoiseCurrent { mean: n.mean, std: n.std })));
        }
        if p.dc != 0.0 {
            world.insert_batch(entities.iter().map(|&e| (e, DcCurrent(p.dc))));
        }
        if let Some(s) = &p.stimulus {
            world.insert_batch(entities.iter().map(|&e| (e, s.clone())));
        }
        if let Some(ps) = &p.poisson {
            let input = PoissonInput { rate_hz: ps.rate_hz, weight: ps.weight };
            match &ps.neurons {
                Some(local) => world.insert_batch(local.iter().filter_map(|&k| entities.get(k as usize)).map(|&e| (e, input))),
                None => world.insert_batch(entities.iter().map(|&e| (e, input))),
            }
        }
        table.populations.push(PopulationInfo {
            name: p.name.clone(),
            kind: match p.kind {
                KindDesc::Excitatory => PopulationKind::Excitatory,
                KindDesc::Inhibitory => PopulationKind::Inhibitory,
            },
            first,
            len: p.size,
        });
        first += p.size;
    }
    let pop_of = table.population_per_neuron(scene.neuron_count() as usize);
    world.insert_resource(table);

    let edges = edges(scene)?;
    let dt = d.dt_ms;
    let synapses: Vec<_> = edges
        .iter()
        .enumerate()
        .map(|(k, &(pre, post))| {
            let src = &d.populations[usize::from(pop_of[pre as usize])];
            let mut rng = KeyedRng::new(seed, StreamPurpose::SynapseParameters, k as u64, 0);
            let magnitude = sample(src.synapses.weight, &mut rng);
            let w = match src.kind {
                KindDesc::Excitatory => magnitude,
                KindDesc::Inhibitory => -magnitude,
            };
            let delay = (sample(src.synapses.delay_ms, &mut rng) / dt).round().clamp(1.0, f64::from(u16::MAX)) as u16;
            (Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(w as f32), SynapticDelay(delay))
        })
        .collect();
    world.spawn_batch(synapses);
    Ok(())
}

/// A runnable app for `scene`: model plugins, the network, and (with `out`) the recorder.
pub fn build_app(scene: &Scene, out: Option<&Path>) -> Result<App, BuildError> {
    let mut app = model_app(scene);
    #[cfg(feature = "parquet")]
    if let Some(out) = out {
        use biospike_record::prelude::*;
        let r = &scene.desc.record;
        let mut settings = RecordSettings::new(out);
        settings.spikes = r.spikes;
        settings.synapses = r.synapses;
        settings.state = r.state.as_ref().map(|s| StateSampling { neurons: s.neurons.clone(), every_steps: s.every_steps });
        settings.metadata = crate::metadata(scene);
        app.insert_resource(settings);
        app.add_plugins(ParquetRecorderPlugin);
    }
    #[cfg(not(feature = "parquet"))]
    let _ = out;
    spawn_network(app.world_mut(), scene)?;
    Ok(app)
}
