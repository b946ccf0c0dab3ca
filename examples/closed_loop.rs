//! Closed loop: a system of your own reads the spikes of every step and answers with dopamine.
//!
//! The task is instrumental conditioning of one synapse (Izhikevich 2007, Fig. 1, with a shorter
//! reward delay): in a recurrent network with dopamine-gated STDP, the synapse `pre → post`
//! starts at weight 0; every time `post` fires within 20 ms after `pre`, the example's `reward`
//! system releases dopamine 0.2–0.5 s later. STDP leaves an eligibility trace on the synapse at
//! each such pairing, and the delayed dopamine turns the traces still alive into weight, so the
//! rewarded synapse grows while the same synapse in a run without rewards does not.
//!
//! ```sh
//! cargo run --release --example closed_loop            # 4 simulated minutes, twice
//! ```

use biospike::prelude::*;
use std::collections::VecDeque;

/// The protocol's state, read and written by the `reward` system.
#[derive(Resource)]
struct Conditioning {
    pre: u32,
    post: u32,
    /// Release dopamine (`false`: the control run).
    deliver: bool,
    last_pre: Option<u64>,
    /// Steps at which a reward is due.
    due: VecDeque<u64>,
    pairings: u32,
    rewards: u32,
}

/// The closed loop: after detection, look at this step's spikes; schedule a reward for each
/// pairing; release the rewards that are due.
fn reward(
    spikes: Res<StepSpikes>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
    mut c: ResMut<Conditioning>,
    mut levels: ResMut<NeuromodulatorLevels>,
) {
    let s = clock.step();
    let fired = |id: u32| spikes.ids.binary_search(&id).is_ok();
    if fired(c.pre) {
        c.last_pre = Some(s);
    }
    if fired(c.post) && c.last_pre.is_some_and(|p| s > p && s - p < 20) {
        // A keyed draw: the same delays on any thread count.
        let delay = 200 + KeyedRng::new(seed.0, StreamPurpose::Experiment, u64::from(c.pairings), s).below(301);
        c.pairings += 1;
        c.due.push_back(s + delay);
    }
    while c.due.front().is_some_and(|&d| d <= s) {
        c.due.pop_front();
        if c.deliver {
            levels.release(Modulator::Dopamine, 0.5);
            c.rewards += 1;
        }
    }
}

/// Runs the network for `steps` with or without rewards; returns the synapse's final weight
/// and the pairings and rewards counted.
fn run(deliver: bool, steps: u64) -> (f32, u32, u32) {
    // The model of Izhikevich (2007), shipped as a scene; its own reward protocol is replaced
    // by the example's.
    let mut scene = Scene::load("izhikevich_2007_distal_reward".as_ref()).expect("embedded scene");
    scene.desc.experiment = None;
    let (pre, post) = (3, 0);
    let app = biospike::build::build_app_with(&scene, None, |app| {
        app.insert_resource(Conditioning { pre, post, deliver, last_pre: None, due: VecDeque::new(), pairings: 0, rewards: 0 });
        app.add_systems(SimSchedule, reward.in_set(SimSystems::Detect));
    })
    .expect("builds");
    let mut sim = Simulation::new(app);
    // The rewarded synapse is neuron 3's first synapse onto its lowest-numbered target; it
    // starts at 0 (a weight is changed by inserting a new one).
    let world = sim.world_mut();
    let (synapse, target) = world
        .query::<(Entity, &Synapse)>()
        .iter(world)
        .filter(|(_, s)| s.pre.0 == pre)
        .min_by_key(|(e, s)| (s.post.0, *e))
        .map(|(e, s)| (e, s.post.0))
        .expect("neuron 3 has synapses");
    world.entity_mut(synapse).insert(SynapticWeight(0.0));
    world.resource_mut::<Conditioning>().post = target;
    sim.step(steps);
    sim.finish();
    let world = sim.world();
    let c = world.resource::<Conditioning>();
    let weight = world.get::<SynapticWeight>(synapse).map_or(f32::NAN, |w| w.0);
    (weight, c.pairings, c.rewards)
}

fn main() {
    let steps = 240_000; // 4 simulated minutes
    let (rewarded, pairings, rewards) = run(true, steps);
    let (control, control_pairings, _) = run(false, steps);
    println!("rewarded synapse: weight {rewarded:.3} after {pairings} pairings and {rewards} rewards");
    println!("control run:      weight {control:.3} after {control_pairings} pairings, no dopamine");
    assert!(rewards > 0, "the network produced rewarded pairings");
    assert!(rewarded > 0.2 && rewarded > 3.0 * control.max(0.01), "the rewarded synapse learned: {rewarded} vs control {control}");
}

#[test]
fn runs() {
    main();
}
