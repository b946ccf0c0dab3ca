//! Lowering a [`Scene`] into an [`App`]: plugins, settings, neuron and synapse entities.

use bevy_app::{App, PluginGroup};
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::rng::KeyedRng;
use biospike_core::steps_in;
use biospike_input::prelude::*;
use biospike_izhikevich::prelude::*;
use biospike_topology as topo;
use std::path::Path;

use crate::scene::{ExperimentDesc, KindDesc, NeuronDesc, Scene, SynapseStorageDesc, TopologyDesc};
use biospike_neuromod::prelude::*;
use biospike_stdp::prelude::*;

use crate::{BiospikePlugins, RunSettings};

/// A scene that validated but cannot be built (e.g. a topology the generator rejects).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The topology generator refused the parameters.
    #[error("topology: {0}")]
    Topology(#[from] topo::TopologyError),
    /// The network would not fit in memory ([`Scene::check_memory`]), or the built network
    /// lacks what the scene names (a traced synapse).
    #[error(transparent)]
    Scene(#[from] crate::scene::SceneError),
}

/// The app of a scene's model (no recorder, no network yet): [`BiospikePlugins`] with the
/// scene's clock and seed, its settings inserted, and the optional stages it names enabled.
pub fn model_app(scene: &Scene) -> App {
    let mut app = App::new();
    add_model(&mut app, scene, None);
    app
}

/// Inserts the scene's settings into `app` and adds [`BiospikePlugins`] with the stages the
/// scene names (and the recorder writing into `out`).
fn add_model(app: &mut App, scene: &Scene, out: Option<&Path>) {
    let d = &scene.desc;
    app.insert_resource(d.integration.lower(d.threshold_mv));
    app.insert_resource(RunSettings { steps: d.time_steps, ..Default::default() });
    let mut group = BiospikePlugins::default().with_dt_ms(d.dt_ms).with_seed(d.seed).build();
    if let Some(n) = &d.neuromodulation {
        let sensitivity: Vec<_> = d.populations.iter().map(|p| p.receptor_sensitivity).collect();
        app.insert_resource(n.lower(&sensitivity));
        group = group.enable::<NeuromodulationPlugin>();
    }
    if let Some(p) = &d.plasticity {
        let mut settings = p.lower(|name| scene.population_id(name), deferred_ltp_flush_period(scene));
        if let Some(plastic) = scene.projection_plasticity(&settings.plastic) {
            settings.plastic = plastic;
        }
        app.insert_resource(settings);
        group = group.enable::<StdpPlugin>();
    }
    if let Some(st) = d.structure {
        app.insert_resource(st.lower());
        group = group.enable::<biospike_structure::StructuralPlasticityPlugin>();
    }
    if let Some(dr) = d.drift {
        app.insert_resource(dr.lower());
        group = group.enable::<biospike_structure::DriftPlugin>();
    }
    let bits = d.quantize.map_or(8, |q| q.num_weight_bits);
    if d.populations.iter().any(|p| {
        p.neuron.lif().is_some()
            || p.neuron.iaf_cond_exp(d.dt_ms).is_some()
            || p.neuron.iaf_psc_alpha(d.dt_ms).is_some()
            || p.neuron.iaf_psc_exp_multisynapse(d.dt_ms).is_some()
            || p.neuron.iaf_psc_alpha_multisynapse(d.dt_ms).is_some()
    }) {
        group = group.enable::<biospike_lif::LifPlugin>();
    }
    if d.populations.iter().any(|p| p.neuron.adex().is_some() || p.neuron.aeif_cond_beta_multisynapse().is_some()) {
        group = group.enable::<biospike_adex::AdexPlugin>();
    }
    if d.populations.iter().any(|p| matches!(p.neuron, NeuronDesc::LoihiLif { .. })) {
        group = group.set(biospike_loihi::LoihiLifPlugin { num_weight_bits: bits }).enable::<biospike_loihi::LoihiLifPlugin>();
    }
    if let Some(q) = d.quantize {
        group = group.set(q.plugin()).enable::<biospike_loihi::LoihiQuantizationPlugin>();
    }
    if d.experiment.is_some() {
        group = group.enable::<crate::experiment::DistalRewardPlugin>();
    }
    #[cfg(feature = "parquet")]
    if let Some(out) = out {
        app.insert_resource(record_settings(scene, out));
        group = group.enable::<biospike_record::ParquetRecorderPlugin>();
    }
    #[cfg(not(feature = "parquet"))]
    let _ = out;
    app.add_plugins(group);
}

/// The recorder's settings for `scene` writing into `out`.
#[cfg(feature = "parquet")]
fn record_settings(scene: &Scene, out: &Path) -> biospike_record::RecordSettings {
    scene.desc.record.lower(out, crate::metadata(scene), |name| scene.population_id(name))
}

/// Flush period of deferred potentiation: one simulated second, shortened so that every step
/// where something reads the weights (weight recording, structural adjustment, drift) is a flush
/// point (`LtpTiming::Deferred` flushes where `s % period == 0` or `(s + 1) % period == 0`).
pub fn deferred_ltp_flush_period(scene: &Scene) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let d = &scene.desc;
    let second = steps_in(1000.0, d.dt_ms).max(1);
    [d.record.weights.as_ref().map(|w| w.every_steps), d.structure.map(|s| s.every_steps), d.drift.map(|s| s.every_steps)]
        .into_iter()
        .flatten()
        .fold(second, gcd)
        .max(1)
}

/// Parameters of neuron `id` (global) for a population's description.
pub fn neuron_params(desc: NeuronDesc, seed: u64, id: u32) -> IzhikevichParams {
    let r = || KeyedRng::new(seed, StreamPurpose::NeuronParameters, u64::from(id), 0).uniform();
    match desc {
        NeuronDesc::Preset(p) => p.params(),
        NeuronDesc::Custom { a, b, c, d, k2, k1, k0, recovery } => {
            IzhikevichParams { k2, k1, k0, recovery: recovery.lower(), ..IzhikevichParams::new(a, b, c, d) }
        }
        NeuronDesc::Izhikevich2003Excitatory => IzhikevichParams::excitatory_2003(r()),
        // Not an Izhikevich cell; `spawn_network` spawns LIF neurons instead.
        NeuronDesc::LoihiLif { .. }
        | NeuronDesc::IafPscDelta { .. }
        | NeuronDesc::IafPscExp { .. }
        | NeuronDesc::IafPscExpMultisynapse { .. }
        | NeuronDesc::IafPscAlphaMultisynapse { .. }
        | NeuronDesc::AeifCondBetaMultisynapse { .. }
        | NeuronDesc::AeifCondAlphaMultisynapse { .. }
        | NeuronDesc::IafPscAlpha { .. }
        | NeuronDesc::AeifCondExp { .. }
        | NeuronDesc::AeifPscExp { .. }
        | NeuronDesc::IafCondExp { .. } => IzhikevichParams::REGULAR_SPIKING,
        NeuronDesc::Izhikevich2003Inhibitory => IzhikevichParams::inhibitory_2003(r()),
        // Not an Izhikevich cell; `spawn_network` spawns spike generators instead.
        NeuronDesc::SpikeGenerator => IzhikevichParams::REGULAR_SPIKING,
    }
}

/// Layout: populations stacked in layers 200 µm apart, each a square grid with 20 µm pitch.
fn position(pop: usize, local: u32, size: u32) -> [f32; 3] {
    let side = (f64::from(size).sqrt().ceil() as u32).max(1);
    let (x, y) = (local % side, local / side);
    let half = side as f32 * 10.0;
    [x as f32 * 20.0 - half, y as f32 * 20.0 - half, pop as f32 * 200.0]
}

/// Room for the edges of the scene's exactly sized rules (0 for the others: the list grows).
fn edges_capacity(scene: &Scene) -> usize {
    let n = scene.neuron_count() as usize;
    match scene.desc.topology {
        TopologyDesc::AllToAll { .. } => n * n,
        TopologyDesc::FixedInDegree { k, .. } | TopologyDesc::FixedOutDegree { k, .. } => n * k as usize,
        _ => 0,
    }
}

/// The directed edges `(pre, post)` of the scene's topology (or projections).
pub fn edges(scene: &Scene) -> Result<topo::EdgeList, BuildError> {
    let mut edges = Vec::with_capacity(edges_capacity(scene));
    for_each_edge(scene, &mut |a, b| edges.push((a, b)))?;
    Ok(edges)
}

/// Hands the directed edges `(pre, post)` of the scene's topology to `emit`, in the order of
/// [`edges`], without storing them (except for the small-world and scale-free generators,
/// which build a graph first). The same scene gives the same edges on every call.
pub fn for_each_edge(scene: &Scene, emit: &mut dyn FnMut(u32, u32)) -> Result<(), BuildError> {
    for_each_edge_of(scene, &mut |a, b, _| emit(a, b))
}

/// [`for_each_edge`], also naming the projection each edge belongs to (its index in
/// `projections`; `None` for the global `topology`). Projections are generated in order, each
/// from its own random streams.
pub fn for_each_edge_of(scene: &Scene, emit: &mut dyn FnMut(u32, u32, Option<usize>)) -> Result<(), BuildError> {
    let d = &scene.desc;
    let n = scene.neuron_count();
    if !d.projections.is_empty() {
        let ranges = population_ranges(scene);
        for (i, p) in d.projections.iter().enumerate() {
            let (s, t) = (usize::from(scene.population_id(&p.source)), usize::from(scene.population_id(&p.target)));
            p.lower(ranges[s].clone(), ranges[t].clone()).for_each_edge(d.seed, i as u64, &mut |a, b| emit(a, b, Some(i)))?;
        }
        return Ok(());
    }
    let mut sink = |a, b| emit(a, b, None);
    match d.topology {
        TopologyDesc::Disconnected => {}
        TopologyDesc::AllToAll { self_connections } => topo::all_to_all_each(n, self_connections, &mut sink),
        TopologyDesc::ErdosRenyi { p, self_connections } => topo::erdos_renyi_each(n, p, self_connections, d.seed, &mut sink)?,
        TopologyDesc::SmallWorld { k, rewire_p } => topo::watts_strogatz(n, k, rewire_p, d.seed)?.into_iter().for_each(|(a, b)| sink(a, b)),
        TopologyDesc::ScaleFree { m, directed } => {
            topo::barabasi_albert(n, m, directed, d.seed)?.into_iter().for_each(|(a, b)| sink(a, b));
        }
        TopologyDesc::FixedOutDegree { k, multapses, self_connections } => {
            let draw = |k, i: usize| topo::FixedDegree { k, multapses, self_connections, seed: d.seed, stream: i as u64 };
            let ranges = population_ranges(scene);
            for (i, p) in d.populations.iter().enumerate() {
                let targets: Vec<std::ops::Range<u32>> = match &p.synapses.targets {
                    Some(names) => names.iter().map(|t| ranges[usize::from(scene.population_id(t))].clone()).collect(),
                    None => std::iter::once(0..n).collect(),
                };
                topo::fixed_out_degree_each(ranges[i].clone(), &targets, draw(k, i), &mut sink)?;
            }
        }
        TopologyDesc::FixedInDegree { k, multapses, self_connections } => {
            let draw = |k, i: usize| topo::FixedDegree { k, multapses, self_connections, seed: d.seed, stream: i as u64 };
            let sizes: Vec<u32> = d.populations.iter().map(|p| p.size).collect();
            let split = split_in_degree(k, &sizes);
            let mut first = 0u32;
            for (i, (&size, &ki)) in sizes.iter().zip(&split).enumerate() {
                topo::fixed_in_degree_each(first..first + size, 0..n, draw(ki, i), &mut sink)?;
                first += size;
            }
        }
    }
    Ok(())
}

/// Id ranges of the populations, in order.
pub fn population_ranges(scene: &Scene) -> Vec<std::ops::Range<u32>> {
    let mut first = 0;
    scene
        .desc
        .populations
        .iter()
        .map(|p| {
            first += p.size;
            first - p.size..first
        })
        .collect()
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

/// A Poisson train's components (and its rate schedule) on `entities`.
fn insert_train(world: &mut World, entities: &[Entity], ps: &crate::scene::PoissonDesc, dt_ms: f64) {
    if let Some(schedule) = ps.schedule(dt_ms) {
        world.insert_batch(entities.iter().map(|&e| (e, schedule.clone())));
    }
    let input = ps.component();
    world.insert_batch(entities.iter().map(|&e| (e, input)));
}

/// Spawns a population's neurons `ids` (population from id `first`; `neuron` makes each one's
/// components) and gives its Poisson train to the neurons `poisson.neurons` names, or to all;
/// returns the entities in id order.
///
/// Inserting the train's components moves those neurons to a table of their own, and each move
/// fills the row it leaves with the table's last one: inserted after the whole population, the
/// train swapped the population's last neurons to the front of the table. So with such a train,
/// the neurons are placed one run of consecutive ids at a time and each run of the train's
/// neurons gets it right away, while the table's last rows are its own: every table keeps its
/// neurons in id order, and passes that read per-neuron arrays (the delay ring's read-out) run
/// fastest over rows whose ids run consecutively. The entities are still allocated first, all
/// at once in id order, so they are the same entities as a plain spawn's (a checkpoint names
/// neurons by entity).
fn spawn_population<B: Bundle<Effect: bevy_ecs::bundle::NoBundleEffect>>(
    world: &mut World,
    p: &crate::scene::PopulationDesc,
    ids: std::ops::Range<u32>,
    first: u32,
    dt_ms: f64,
    neuron: impl Fn(u32) -> B,
) -> Vec<Entity> {
    let Some(ps) = &p.poisson else {
        return world.spawn_batch(ids.map(neuron)).collect();
    };
    let Some(chosen) = &ps.neurons else {
        let entities: Vec<Entity> = world.spawn_batch(ids.map(neuron)).collect();
        insert_train(world, &entities, ps, dt_ms);
        return entities;
    };
    let mut train = vec![false; ids.len()];
    for &k in chosen {
        if let Some(t) = (first + k).checked_sub(ids.start).and_then(|i| train.get_mut(i as usize)) {
            *t = true;
        }
    }
    let entities: Vec<Entity> = ids.clone().map(|_| world.spawn_empty().id()).collect();
    let mut start = 0;
    while start < train.len() {
        let end = train[start..].iter().position(|&t| t != train[start]).map_or(train.len(), |n| start + n);
        let run = &entities[start..end];
        world.insert_batch(run.iter().zip(ids.start + start as u32..).map(|(&e, id)| (e, neuron(id))));
        if train[start] {
            insert_train(world, run, ps, dt_ms);
        }
        start = end;
    }
    // What the neurons' hooks queued (a resource their model needs) is applied now, as at the
    // end of a plain spawn, so that it is allocated where a plain spawn would allocate it.
    world.flush();
    entities
}

/// Spawns a population `p` of `model` neurons with ids `ids` (population `pi`, whose first id
/// is `first`), each at its initial `V` (`v_init`, else `E_L`), by [`spawn_population`].
#[allow(clippy::too_many_arguments, reason = "one population's place and its neurons' start")]
fn spawn_membrane<M: Component + Copy>(
    world: &mut World,
    p: &crate::scene::PopulationDesc,
    model: M,
    e_l: f64,
    v_init: Option<crate::scene::LifInitDesc>,
    seed: u64,
    ids: std::ops::Range<u32>,
    pi: usize,
    first: u32,
    dt_ms: f64,
) -> Vec<Entity> {
    spawn_population(world, p, ids, first, dt_ms, |id| {
        (
            model,
            NeuronId(id),
            PopulationId(pi as u16),
            MembranePotential(initial_v(v_init, e_l, seed, id)),
            RecoveryVariable(0.0),
            Position(position(pi, id - first, p.size)),
        )
    })
}

/// Inserts a population's current generators: uniform noise, DC, stimulus, sine, and the
/// Gaussian noise where it was not spawned with the neurons (`noise`).
fn insert_drives(world: &mut World, entities: &[Entity], p: &crate::scene::PopulationDesc, noise: bool) {
    if let (true, Some(n)) = (noise, p.noise) {
        world.insert_batch(entities.iter().map(|&e| (e, n.component())));
    }
    if let Some(u) = p.uniform_noise {
        world.insert_batch(entities.iter().map(|&e| (e, u.component())));
    }
    if p.dc != 0.0 {
        world.insert_batch(entities.iter().map(|&e| (e, DcCurrent(p.dc))));
    }
    if let Some(s) = &p.stimulus {
        world.insert_batch(entities.iter().map(|&e| (e, s.clone())));
    }
    if let Some(s) = p.sine {
        world.insert_batch(entities.iter().map(|&e| (e, s)));
    }
}

/// Spawns the scene's neurons and synapses into `world` and fills [`PopulationTable`].
pub fn spawn_network(world: &mut World, scene: &Scene) -> Result<(), BuildError> {
    let d = &scene.desc;
    let seed = d.seed;
    let mut table = PopulationTable::default();
    // Split over several processes: this one spawns the neurons it owns and the synapses that
    // target them.
    let partition = world.get_resource::<Partition>().map(|p| Partition::new(p.rank, p.ranks, scene.neuron_count()));
    if let Some(p) = partition {
        world.insert_resource(p);
    }
    let owned = partition.map_or(0..u32::MAX, |p| p.range());
    let mut first = 0u32;
    for (pi, p) in d.populations.iter().enumerate() {
        let ids = first.max(owned.start)..(first + p.size).min(owned.end).max(first.max(owned.start));
        table.populations.push(PopulationInfo {
            name: p.name.clone(),
            kind: match p.kind {
                KindDesc::Excitatory => PopulationKind::Excitatory,
                KindDesc::Inhibitory => PopulationKind::Inhibitory,
            },
            first,
            len: p.size,
        });
        if let Some(lif) = p.neuron.loihi_lif() {
            let (params, (lo, hi), bias_exp) = (lif.params(), lif.bias_mant, lif.bias_exp);
            world.spawn_batch(ids.clone().map(|id| {
                let mut rng = KeyedRng::new(seed, StreamPurpose::NeuronParameters, u64::from(id), 0);
                let mant = i32::from(lo) + rng.below((i32::from(hi) - i32::from(lo) + 1) as u64) as i32;
                (
                    biospike_loihi::LoihiLifNeuron(params),
                    NeuronId(id),
                    PopulationId(pi as u16),
                    biospike_loihi::LifBias { mant, exp: i32::from(bias_exp) },
                    Position(position(pi, id - first, p.size)),
                )
            }));
            first += p.size;
            continue;
        }
        // Models with their own state components and a LIF-style initial V.
        let membrane = if let Some((model, v_init)) = p.neuron.iaf_psc_exp_multisynapse(d.dt_ms) {
            Some(spawn_membrane(world, p, model, model.params.e_l_mv, v_init, seed, ids.clone(), pi, first, d.dt_ms))
        } else if let Some((model, v_init)) = p.neuron.iaf_psc_alpha_multisynapse(d.dt_ms) {
            Some(spawn_membrane(world, p, model, model.params.e_l_mv, v_init, seed, ids.clone(), pi, first, d.dt_ms))
        } else if let Some((model, v_init)) = p.neuron.aeif_cond_beta_multisynapse() {
            Some(spawn_membrane(world, p, model, model.params.e_l_mv, v_init, seed, ids.clone(), pi, first, d.dt_ms))
        } else {
            p.neuron
                .adex()
                .map(|(model, v_init)| spawn_membrane(world, p, model, model.params.e_l_mv, v_init, seed, ids.clone(), pi, first, d.dt_ms))
        };
        if let Some(entities) = membrane {
            insert_drives(world, &entities, p, true);
            first += p.size;
            continue;
        }
        let cond = p.neuron.iaf_cond_exp(d.dt_ms);
        let alpha = p.neuron.iaf_psc_alpha(d.dt_ms);
        let lif = p
            .neuron
            .lif()
            .or_else(|| cond.map(|(n, init)| (n.params, None, init)))
            .or_else(|| alpha.map(|(n, init)| (n.params, None, init)));
        if let Some((params, taus, v_init)) = lif {
            let v0 = |id: u32| initial_v(v_init, params.e_l_mv, seed, id);
            let common = |id: u32| {
                (
                    NeuronId(id),
                    PopulationId(pi as u16),
                    MembranePotential(v0(id)),
                    RecoveryVariable(0.0),
                    Position(position(pi, id - first, p.size)),
                )
            };
            let entities: Vec<Entity> = match (cond, alpha, taus) {
                (Some((model, _)), _, _) => spawn_population(world, p, ids.clone(), first, d.dt_ms, |id| (model, common(id))),
                (None, Some((model, _)), _) => spawn_population(world, p, ids.clone(), first, d.dt_ms, |id| (model, common(id))),
                (None, None, None) => {
                    let model = biospike_lif::IafPscDelta::new(params, d.dt_ms);
                    spawn_population(world, p, ids.clone(), first, d.dt_ms, |id| (model, common(id)))
                }
                (None, None, Some((ex, inh))) => {
                    let model = biospike_lif::IafPscExp::new(params, ex, inh, d.dt_ms);
                    spawn_population(world, p, ids.clone(), first, d.dt_ms, |id| (model, common(id)))
                }
            };
            insert_drives(world, &entities, p, true);
            first += p.size;
            continue;
        }
        if let (NeuronDesc::SpikeGenerator, Some(times)) = (p.neuron, &p.spike_times_ms) {
            let entities: Vec<Entity> = world
                .spawn_batch(ids.clone().zip(&times[(ids.start - first) as usize..]).map(|(id, t)| {
                    (SpikeTimes::from_ms(t, d.dt_ms), NeuronId(id), PopulationId(pi as u16), Position(position(pi, id - first, p.size)))
                }))
                .collect();
            if let Some(every) = p.spike_times_every_ms {
                let period = biospike_input::SpikeTimesPeriod(steps_in(every, d.dt_ms).max(1));
                world.insert_batch(entities.into_iter().map(|e| (e, period)));
            }
            first += p.size;
            continue;
        }
        let neuron = |id: u32| {
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
        };
        // The usual noise source is spawned with the neuron: a later insert would move every
        // neuron to a new table and leave the first one's capacity allocated (≈ 200 bytes per
        // neuron at 100 000 neurons).
        let entities: Vec<Entity> = match p.noise {
            Some(n) => spawn_population(world, p, ids.clone(), first, d.dt_ms, |id| (neuron(id), n.component())),
            None => spawn_population(world, p, ids.clone(), first, d.dt_ms, neuron),
        };
        insert_drives(world, &entities, p, false);
        first += p.size;
    }
    let pop_of = table.population_per_neuron(scene.neuron_count() as usize);
    world.insert_resource(table);

    let dt = d.dt_ms;
    let conductance_ports: Vec<bool> = d
        .projections
        .iter()
        .map(|p| d.populations.iter().find(|q| q.name == p.target).is_some_and(|q| q.neuron.conductance_ports()))
        .collect();
    // Weight and delay of edge `k` (of the topology; or the `k`-th of projection `i`), from
    // its own random stream. The sign is the source population's.
    let attributes = |k: usize, pre: u32, projection: Option<usize>| {
        let src = &d.populations[usize::from(pop_of[pre as usize])];
        let (magnitude, delay) = match projection {
            None => {
                let mut rng = KeyedRng::new(seed, StreamPurpose::SynapseParameters, k as u64, 0);
                let magnitude = src.synapses.weight.sample(&mut rng);
                (magnitude, steps_in(src.synapses.delay_ms.sample(&mut rng), dt).clamp(1, u64::from(u16::MAX)) as u16)
            }
            Some(i) => {
                let mut rng = KeyedRng::new(seed, StreamPurpose::SynapseParameters, k as u64, i as u64 + 1);
                d.projections[i].sample(&mut rng, dt)
            }
        };
        let w = match src.kind {
            // Onto conductance ports a weight is a conductance: its magnitude, whatever the source.
            _ if projection.is_some_and(|i| conductance_ports[i]) => magnitude,
            KindDesc::Excitatory => magnitude,
            KindDesc::Inhibitory => -magnitude,
        };
        let receptor = projection.and_then(|i| d.projections[i].receptor).unwrap_or(0);
        (w as f32, delay, receptor)
    };
    if d.synapse_storage == SynapseStorageDesc::IndexOnly {
        // Straight from the generator (run twice) into the index: no edge list, no entities.
        // The projection of the edge being filled and its number within the projection.
        let current = std::cell::Cell::new((None::<usize>, 0usize));
        let mut generated = Ok(());
        let index = SynapseIndex::index_only_with_receptors(
            scene.neuron_count() as usize,
            |emit| {
                let mut counts = vec![0usize; d.projections.len()];
                let mut global = 0usize;
                let r = for_each_edge_of(scene, &mut |a, b, projection| {
                    let k = match projection {
                        Some(i) => {
                            counts[i] += 1;
                            counts[i] - 1
                        }
                        None => global,
                    };
                    global += 1;
                    current.set((projection, k));
                    if owned.contains(&b) {
                        emit(a, b);
                    }
                });
                if generated.is_ok() {
                    generated = r;
                }
            },
            |_, pre, _| {
                let (projection, k) = current.get();
                attributes(k, pre, projection)
            },
            0,
        );
        generated?;
        world.insert_resource(index);
        return Ok(());
    }
    // Target-side storage: the synapses onto this process's neurons (all of them in one
    // process), each with the weight and delay of its number in the whole network's edge
    // order, so every process draws the same values for it.
    let experiment_pre = d.experiment.as_ref().map(|ExperimentDesc::DistalReward { pre, .. }| *pre);
    // The experiment's synapse: the first out-edge of `pre` by target id (edge number breaks ties).
    let mut chosen: Option<(u32, usize)> = None;
    let mut synapses = Vec::with_capacity(edges_capacity(scene) / partition.map_or(1, |p| p.ranks as usize));
    let mut chosen_at = None;
    // Synapses with a receptor port (by position in `synapses`): the port is inserted after
    // the batch spawn, so the others carry no component for it.
    let mut receptors = Vec::new();
    let mut counts = vec![0usize; d.projections.len()];
    let mut global = 0usize;
    for_each_edge_of(scene, &mut |pre, post, projection| {
        let k = match projection {
            Some(i) => {
                counts[i] += 1;
                counts[i] - 1
            }
            None => global,
        };
        let edge = global;
        global += 1;
        if Some(pre) == experiment_pre && chosen.is_none_or(|c| (post, edge) < c) {
            chosen = Some((post, edge));
            chosen_at = None;
        }
        if owned.contains(&post) {
            if chosen == Some((post, edge)) {
                chosen_at = Some(synapses.len());
            }
            let (w, delay, receptor) = attributes(k, pre, projection);
            if receptor != 0 {
                receptors.push((synapses.len(), SynapticReceptor(receptor)));
            }
            synapses.push((Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(w), SynapticDelay(delay)));
        }
    })?;
    if let (Some(i), Some(ExperimentDesc::DistalReward { start_weight, .. })) = (chosen_at, &d.experiment) {
        synapses[i].1 = SynapticWeight(*start_weight as f32);
    }
    let entities: Vec<Entity> = world.spawn_batch(synapses).collect();
    world.insert_batch(receptors.into_iter().map(|(i, r)| (entities[i], r)));
    if let (Some((post, _)), Some(ExperimentDesc::DistalReward { pre, interval_ms, reward_delay_ms, amount, rewards, .. })) =
        (chosen, &d.experiment)
    {
        // On a process that does not hold the rewarded synapse, a placeholder: it follows the
        // same pairings and rewards (spikes are global), and the owner traces the weight.
        let synapse_entity = chosen_at.map_or(Entity::PLACEHOLDER, |i| entities[i]);
        let steps = |ms: f64| steps_in(ms, dt);
        world.insert_resource(crate::experiment::DistalReward::new(
            *pre,
            post,
            synapse_entity,
            steps(*interval_ms).max(1),
            (steps(reward_delay_ms.0), steps(reward_delay_ms.1)),
            *amount,
            *rewards,
        ));
    }
    Ok(())
}

/// Every synapse `record.weights.synapses` traces exists in the built network (a random
/// topology decides which pairs do). With `structure`, a missing one may still be created, so
/// it is not an error there.
fn check_traced_synapses(world: &mut World, scene: &Scene) -> Result<(), BuildError> {
    let Some(w) = &scene.desc.record.weights else { return Ok(()) };
    if w.synapses.is_empty() || scene.desc.structure.is_some() {
        return Ok(());
    }
    let mut pairs: std::collections::HashSet<(u32, u32)> = world.query::<&Synapse>().iter(world).map(|s| (s.pre.0, s.post.0)).collect();
    if let Some(index) = world.get_resource::<SynapseIndex>() {
        for pre in 0..index.neuron_count() as u32 {
            pairs.extend(index.row(pre).map(|k| (pre, index.posts()[k])));
        }
    }
    // Split over processes, each checks the synapses it stores (those onto its neurons).
    let partition = world.get_resource::<Partition>().copied();
    match w.synapses.iter().position(|p| !pairs.contains(p) && partition.is_none_or(|part| part.owns(p.1))) {
        None => Ok(()),
        Some(i) => {
            let (pre, post) = w.synapses[i];
            Err(scene
                .invalid(
                    format!("record.weights.synapses[{i}]"),
                    "synapses",
                    0,
                    format!("there is no synapse {pre} → {post} in the network the topology built (seed {})", scene.desc.seed),
                )
                .into())
        }
    }
}

/// A runnable app for `scene`: model plugins, the network, and (with `out`) the recorder.
pub fn build_app(scene: &Scene, out: Option<&Path>) -> Result<App, BuildError> {
    build_app_with(scene, out, |_| {})
}

/// [`build_app`], with `extra` applied to the app after the scene's plugins were added and
/// before its network is spawned (add plugins of your own, such as `ProfilePlugin`, or
/// settings such as `WritebackSettings`).
pub fn build_app_with(scene: &Scene, out: Option<&Path>, extra: impl FnOnce(&mut App)) -> Result<App, BuildError> {
    scene.check_memory()?;
    let mut app = App::new();
    add_model(&mut app, scene, out);
    extra(&mut app);
    spawn_network(app.world_mut(), scene)?;
    #[cfg(feature = "parquet")]
    if let Some(p) = app.world().get_resource::<Partition>().copied()
        && let Some(mut r) = app.world_mut().get_resource_mut::<biospike_record::RecordSettings>()
    {
        r.partition = Some(p);
    }
    check_traced_synapses(app.world_mut(), scene)?;
    #[cfg(feature = "parquet")]
    if let Some((pre, post)) = app.world().get_resource::<crate::experiment::DistalReward>().map(|e| (e.pre, e.post))
        && let Some(mut r) = app.world_mut().get_resource_mut::<biospike_record::RecordSettings>()
    {
        let w = r.weights.get_or_insert_with(|| biospike_record::WeightSampling { every_steps: 1000, ..Default::default() });
        if !w.synapses.contains(&(pre, post)) {
            w.synapses.insert(0, (pre, post));
        }
    }
    Ok(app)
}

/// The initial `V` of neuron `id` of a LIF or adaptive exponential population (`default` without `v_init`),
/// drawn from its own stream.
fn initial_v(v_init: Option<crate::scene::LifInitDesc>, default: f64, seed: u64, id: u32) -> f64 {
    let rng = || KeyedRng::new(seed, StreamPurpose::NeuronParameters, u64::from(id), 0);
    match v_init {
        None => default,
        Some(crate::scene::LifInitDesc::Constant(v)) => v,
        Some(crate::scene::LifInitDesc::Uniform { low, high }) => low + (high - low) * rng().uniform(),
        Some(crate::scene::LifInitDesc::Normal { mean, std }) => mean + std * rng().normal(),
    }
}
