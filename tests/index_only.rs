//! Index-only synapse storage (`synapse_storage: IndexOnly`): the same run as synapse
//! entities, bit for bit, without a single synapse entity; mixing in synapse entities later;
//! and the scene error for the features that need entities.

use bevy_ecs::prelude::*;
use biospike::prelude::*;
use biospike::testing::run_steps;

fn scene(storage: &str, topology: &str, plasticity: &str) -> biospike::Scene {
    let text = format!(
        r#"(
        seed: 3, dt_ms: 1.0, time_steps: 400,
        populations: [
            (name: "exc", size: 240, noise: Some((mean: 3.0, std: 6.0)),
             synapses: (weight: Uniform(low: 0.0, high: 4.0), delay_ms: Uniform(low: 1.0, high: 6.0))),
            (name: "inh", size: 60, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 3.0, std: 6.0)),
             synapses: (weight: Uniform(low: 1.0, high: 3.0), delay_ms: Constant(1.0))),
        ],
        synapse_storage: {storage},
        topology: {topology},
        {plasticity}
    )"#
    );
    match biospike::Scene::parse(&text, "<index-only test>".as_ref()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Spikes of every step and the final synapses `(pre, post, weight bits)`, sorted (multapses of
/// one pair may sit in either order: entity ids are the allocator's, not the list's).
type Run = (Vec<Vec<u32>>, Vec<(u32, u32, u32)>, bool, usize);

fn run(scene: &biospike::Scene) -> Run {
    let mut app = match biospike::build_app(scene, None) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let mut spikes = Vec::new();
    for _ in 0..400 {
        run_steps(&mut app, 1);
        spikes.push(app.world().resource::<StepSpikes>().ids.clone());
    }
    biospike_stdp::flush_deferred_ltp(app.world_mut());
    let world = app.world_mut();
    let entities = world.query::<&Synapse>().iter(world).count();
    let index = world.resource::<SynapseIndex>();
    let mut synapses: Vec<(u32, u32, u32)> = index.edges().map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
    synapses.sort_unstable();
    (spikes, synapses, index.is_index_only(), entities)
}

/// Same scene, both storages: identical spikes at every step and bit-identical final weights,
/// over generators that stream (fixed in-degree with multapses, Erdős–Rényi) and one that
/// builds a list (small world), with and without STDP (eager, deferred and dopamine-gated).
#[test]
fn index_only_storage_runs_bit_identical_to_synapse_entities() {
    let direct =
        |timing: &str| format!("plasticity: Some((dopamine_gated: false, a_plus: 0.05, a_minus: 0.06, w_max: 4.0, ltp_timing: {timing})),");
    let gated = "neuromodulation: Some((dopamine_effect: 0.5, serotonin_effect: 0.3, norepinephrine_effect: 0.2)), plasticity: Some((dopamine_gated: true, a_plus: 0.05, a_minus: 0.06, w_max: 4.0, learning_rate: 0.5)),";
    let cases = [
        ("FixedInDegree(k: 30, multapses: true, self_connections: true)", direct("Deferred")),
        ("FixedInDegree(k: 30, multapses: true, self_connections: true)", direct("AtPostSpike")),
        ("ErdosRenyi(p: 0.08)", direct("Deferred")),
        ("ErdosRenyi(p: 0.08)", gated.to_string()),
        ("SmallWorld(k: 20, rewire_p: 0.3)", String::new()),
    ];
    for (topology, plasticity) in cases {
        let with_entities = run(&scene("Entities", topology, &plasticity));
        let index_only = run(&scene("IndexOnly", topology, &plasticity));
        let total: usize = with_entities.0.iter().map(Vec::len).sum();
        assert!(total > 1_000, "{topology}: the network is active ({total} spikes)");
        assert!(!with_entities.2 && with_entities.3 > 0, "{topology}: the default stores synapse entities");
        assert!(index_only.2 && index_only.3 == 0, "{topology}: IndexOnly spawns no synapse entity");
        assert!(with_entities.0 == index_only.0, "{topology} {plasticity}: spikes differ");
        assert!(with_entities.1 == index_only.1, "{topology} {plasticity}: final weights differ");
    }
}

/// A synapse entity spawned into an index-only network joins it at the next propagation; the
/// index-only synapses keep their weights and order, and the new one delivers.
#[test]
fn synapse_entities_can_join_an_index_only_network() {
    let mut app = match biospike::build_app(&scene("IndexOnly", "ErdosRenyi(p: 0.05)", ""), None) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    biospike_synapses::prepare_synapse_index(app.world_mut());
    run_steps(&mut app, 5);
    let before: Vec<(u32, u32, u32)> =
        app.world().resource::<SynapseIndex>().edges().map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
    let added = app.world_mut().spawn((Synapse { pre: NeuronId(7), post: NeuronId(9) }, SynapticWeight(123.0), SynapticDelay(2))).id();
    run_steps(&mut app, 1);
    let index = app.world().resource::<SynapseIndex>();
    assert_eq!(index.len(), before.len() + 1);
    let k = index.find(7, 9, added).expect("the new synapse is indexed");
    assert_eq!((index.weights()[k], index.entity(k)), (123.0, Some(added)));
    let kept: Vec<(u32, u32, u32)> =
        index.edges().filter(|e| e.entity == Entity::PLACEHOLDER).map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
    assert_eq!(kept, before, "index-only synapses are kept, in order, with their weights");
    // Neuron 7 fires at step 6 by hand: 123 arrives at neuron 9 two steps later.
    app.world_mut().resource_mut::<StepSpikes>().ids.clear();
    let pending = |app: &bevy_app::App| app.world().resource::<biospike_synapses::DelayRing>().pending(9, 8);
    let base = pending(&app);
    app.add_systems(
        SimSchedule,
        (|clock: Res<SimClock>, mut s: ResMut<StepSpikes>| {
            if clock.step() == 6 {
                s.ids = vec![7];
            }
        })
        .in_set(DetectSystems::Inject),
    );
    run_steps(&mut app, 1);
    assert!(pending(&app) - base >= 123.0 - 1e-9, "the joined synapse delivered ({} -> {})", base, pending(&app));
}

/// Features that edit or name synapse entities are refused with index-only storage, with the
/// field and the allowed value.
#[test]
fn index_only_storage_refuses_features_that_need_entities() {
    let text = r#"(
        dt_ms: 1.0, time_steps: 10,
        populations: [(name: "a", size: 10)],
        synapse_storage: IndexOnly,
        topology: ErdosRenyi(p: 0.2),
        structure: Some(()),
    )"#;
    let err = match biospike::Scene::parse(text, "bad.ron".as_ref()) {
        Ok(_) => panic!("IndexOnly with structure must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("bad.ron:4:") && err.contains("synapse_storage") && err.contains("structure") && err.contains("allowed: Entities"),
        "{err}"
    );
}
