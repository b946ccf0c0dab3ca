//! Synapses are entities: weight changes, despawns and new synapses reach delivery at the
//! next propagation phase, and the index stays consistent with the entities.

use bevy_app::App;
use bevy_ecs::prelude::*;
use biospike::prelude::*;
use biospike::testing::run_steps;

/// Two neurons, 0 → 1 with weight 2 and delay 1; neuron 0 is forced to fire every step.
fn app() -> (App, Entity, Entity) {
    let mut app = App::new();
    app.add_plugins(BiospikePlugins::default());
    app.world_mut().spawn((IzhikevichNeuron, NeuronId(0)));
    let post = app.world_mut().spawn((IzhikevichNeuron, NeuronId(1), Excitability(0.0))).id();
    let syn = app.world_mut().spawn((Synapse { pre: NeuronId(0), post: NeuronId(1) }, SynapticWeight(2.0), SynapticDelay(1))).id();
    app.add_systems(SimSchedule, (|mut s: ResMut<StepSpikes>| s.ids = vec![0]).in_set(DetectSystems::Inject));
    (app, post, syn)
}

fn input(app: &App, e: Entity) -> f64 {
    app.world().get::<InputCurrent>(e).map_or(f64::NAN, |i| i.0)
}

#[test]
fn weight_change_applies_from_next_propagation() {
    let (mut app, post, syn) = app();
    run_steps(&mut app, 3);
    assert_eq!(input(&app, post), 2.0);
    app.world_mut().entity_mut(syn).insert(SynapticWeight(-0.5));
    run_steps(&mut app, 1); // spike of this step propagates with the new weight…
    assert_eq!(input(&app, post), 2.0, "…but the input of this step left with the old one");
    run_steps(&mut app, 1);
    assert_eq!(input(&app, post), -0.5);
    assert_eq!(app.world().resource::<DeliveryDiagnostics>().edits, 1);
}

#[test]
fn despawn_and_spawn_keep_the_index_consistent() {
    let (mut app, post, syn) = app();
    run_steps(&mut app, 2);
    app.world_mut().despawn(syn);
    run_steps(&mut app, 2);
    assert_eq!(input(&app, post), 0.0);
    assert_eq!(app.world().resource::<SynapseIndex>().len(), 0);
    // Two new synapses onto neuron 1 (a multapse), one with delay 3.
    app.world_mut().spawn((Synapse { pre: NeuronId(0), post: NeuronId(1) }, SynapticWeight(1.0), SynapticDelay(1)));
    app.world_mut().spawn((Synapse { pre: NeuronId(0), post: NeuronId(1) }, SynapticWeight(0.25), SynapticDelay(3)));
    run_steps(&mut app, 2);
    assert_eq!(input(&app, post), 1.0, "only the delay-1 synapse has arrived");
    run_steps(&mut app, 2);
    assert_eq!(input(&app, post), 1.25);
    let index = app.world().resource::<SynapseIndex>();
    assert_eq!(index.len(), 2);
    assert_eq!(index.max_delay(), 3);
    let mut q = app.world_mut().query::<&Synapse>();
    assert_eq!(q.iter(app.world()).count(), 2);
}

/// Every plugin builds, the schedule has no ambiguous system pair (the schedule would refuse
/// to build), and a full scene steps.
#[test]
fn plugins_build_without_ambiguities() {
    let scene = biospike::Scene::load("seed_demo".as_ref()).expect("embedded");
    let dir = std::env::temp_dir().join(format!("biospike-ambiguity-{}", std::process::id()));
    let mut app = biospike::build_app(&scene, Some(&dir)).expect("builds");
    run_steps(&mut app, 5);
    assert_eq!(app.world().resource::<SimClock>().step(), 5);
    finish_simulation(app.world_mut());
    let _ = std::fs::remove_dir_all(dir);
}
