//! Structural plasticity keeps the delivery index consistent with the synapse entities while
//! STDP runs, and moves out-degrees to the target.

use bevy_ecs::prelude::*;
use biospike::prelude::*;
use biospike::{Scene, build_app};
use std::collections::BTreeMap;

fn scene(target: u32) -> Scene {
    let text = format!(
        r#"(
        seed: 5, dt_ms: 1.0, time_steps: 2000,
        populations: [
            (name: "exc", size: 40, noise: Some((mean: 4.0, std: 3.0)), synapses: (weight: Uniform(low: 0.5, high: 3.0))),
            (name: "inh", size: 10, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 4.0, std: 3.0))),
        ],
        topology: ErdosRenyi(p: 0.06),
        neuromodulation: Some((dopamine_effect: 0.5, serotonin_effect: 0.3, norepinephrine_effect: 0.2)),
        plasticity: Some((learning_rate: 0.1, w_max: 5.0)),
        structure: Some((every_steps: 10, target_out_degree: {target}, adjustment_rate: 0.5, prune_below: 0.3)),
    )"#
    );
    match Scene::parse(&text, "<structure test>".as_ref()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn degrees(world: &mut World) -> BTreeMap<u32, u32> {
    let mut d = BTreeMap::new();
    for s in world.query::<&Synapse>().iter(world) {
        *d.entry(s.pre.0).or_insert(0) += 1;
    }
    d
}

#[test]
fn index_stays_consistent_and_degrees_reach_the_target() {
    let target = 4;
    let mut app = match build_app(&scene(target), None) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let before = degrees(app.world_mut());
    let under_before = (0..50).filter(|i| before.get(i).copied().unwrap_or(0) < target).count();
    assert!(under_before > 5, "the start network has under-connected neurons ({under_before})");
    biospike::testing::run_steps(&mut app, 1000);
    // Fold the last adjustment's spawns/despawns into the index, then compare.
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let world = app.world_mut();
    let diag = *world.resource::<biospike_structure::StructureDiagnostics>();
    assert!(diag.created > 0 && diag.pruned > 0, "{diag:?}");
    let mut entities: Vec<(Entity, u32, u32)> =
        world.query::<(Entity, &Synapse)>().iter(world).map(|(e, s)| (e, s.pre.0, s.post.0)).collect();
    entities.sort_unstable_by_key(|x| x.0.to_bits());
    let index = world.resource::<SynapseIndex>();
    let mut indexed: Vec<(Entity, u32, u32)> = index.edges().map(|e| (e.entity, e.pre, e.post)).collect();
    indexed.sort_unstable_by_key(|x| x.0.to_bits());
    assert_eq!(entities, indexed, "every synapse entity is indexed once, and nothing else");
    SynapseIndex::write_back(world);
    let live: BTreeMap<u64, f32> = world.resource::<SynapseIndex>().edges().map(|e| (e.entity.to_bits(), e.weight)).collect();
    for (e, w) in world.query::<(Entity, &SynapticWeight)>().iter(world) {
        assert_eq!(live.get(&e.to_bits()), Some(&w.0), "written-back weight");
    }
    let after = degrees(world);
    let under_after = (0..50).filter(|i| after.get(i).copied().unwrap_or(0) < target).count();
    assert_eq!(under_after, 0, "100 adjustments bring every neuron up to out-degree {target}");
}

#[test]
fn structural_runs_are_reproducible() {
    let run = || {
        let mut app = match build_app(&scene(4), None) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        };
        biospike_synapses::prepare_synapse_index(app.world_mut());
        biospike::testing::run_steps(&mut app, 500);
        let world = app.world_mut();
        let mut edges: Vec<(u32, u32, u32)> =
            world.resource::<SynapseIndex>().edges().map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
        edges.sort_unstable();
        edges
    };
    assert_eq!(run(), run());
}

/// Drift draws new weights per synapse: keyed by the synapse's endpoints, not by its entity,
/// whose id depends on every entity and resource spawned before it (resources are entities in
/// bevy 0.19). The same scene must give the same weights when a user's plugin spawned
/// something first.
#[test]
fn drift_does_not_depend_on_entity_ids() {
    let text = r#"(
        seed: 3, dt_ms: 1.0, time_steps: 300,
        populations: [(name: "n", size: 30, noise: Some((mean: 4.0, std: 3.0)), synapses: (weight: Uniform(low: 0.0, high: 5.0)))],
        topology: FixedOutDegree(k: 4, multapses: true),
        drift: Some((every_steps: 50, step_size: 0.2, weight_range: Some((0.0, 5.0)))),
    )"#;
    let scene = Scene::parse(text, "<drift test>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let run = |extra: usize| {
        let mut app = biospike::model_app(&scene);
        for _ in 0..extra {
            app.world_mut().spawn_empty();
        }
        biospike::spawn_network(app.world_mut(), &scene).unwrap_or_else(|e| panic!("{e}"));
        biospike_synapses::prepare_synapse_index(app.world_mut());
        biospike::testing::run_steps(&mut app, 300);
        let mut w: Vec<(u32, u32, u32)> =
            app.world().resource::<SynapseIndex>().edges().map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
        w.sort_unstable();
        w
    };
    let (a, b) = (run(0), run(7));
    assert_eq!(a.len(), 120);
    assert_eq!(a, b, "drifted weights depend on entity ids");
}
