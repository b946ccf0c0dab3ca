//! Protocols run on top of a model: Izhikevich's (2007) distal-reward experiment.

use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::checkpoint::{CheckpointAppExt as _, CheckpointError, CheckpointSection, StateReader, StateWriter};
use biospike_core::prelude::*;
use std::collections::VecDeque;

/// Izhikevich (2007), Fig. 1: reward a chosen synapse `pre → post` with a delayed dopamine
/// release whenever `post` fires within the pairing window after `pre`.
///
/// In [`SimSystems::Detect`] after [`DetectSystems::Inject`]: when `post` fires at step `s`
/// and `pre` last fired at `p` with `0 < s − p < window`, a reward is scheduled at
/// `s + delay`, the delay drawn uniformly (keyed stream `Experiment`, one draw per pairing);
/// due rewards call [`NeuromodulatorLevels::release`] for dopamine. With `deliver = false`
/// (the control run) pairings are counted and nothing is released.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct DistalReward {
    /// Presynaptic neuron.
    pub pre: u32,
    /// Postsynaptic neuron.
    pub post: u32,
    /// The rewarded synapse.
    pub synapse: Entity,
    /// Pairing window, steps.
    pub window_steps: u64,
    /// Reward delay range, steps (inclusive).
    pub delay_steps: (u64, u64),
    /// Dopamine per reward.
    pub amount: f64,
    /// Release dopamine (`false`: control run).
    pub deliver: bool,
    /// Pairings seen so far.
    pub pairings: u64,
    /// Rewards released so far.
    pub rewards: u64,
    last_pre: Option<u64>,
    pending: VecDeque<u64>,
}

impl DistalReward {
    /// A protocol for synapse `synapse` (`pre → post`).
    pub fn new(pre: u32, post: u32, synapse: Entity, window_steps: u64, delay_steps: (u64, u64), amount: f64, deliver: bool) -> Self {
        Self {
            pre,
            post,
            synapse,
            window_steps,
            delay_steps,
            amount,
            deliver,
            pairings: 0,
            rewards: 0,
            last_pre: None,
            pending: VecDeque::new(),
        }
    }
}

/// Runs [`DistalReward`] (does nothing until the resource is inserted). Needs [`NeuromodulatorLevels`] (the
/// neuromodulation plugin) to have an effect.
#[derive(Debug, Default, Clone, Copy)]
pub struct DistalRewardPlugin;

impl Plugin for DistalRewardPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<NeuromodulatorLevels>();
        app.add_checkpoint_section(CheckpointSection {
            name: "experiment.distal_reward",
            save: save_progress,
            load: load_progress,
            optional: false,
        });
        app.add_systems(
            SimSchedule,
            reward_pairings
                .run_if(resource_exists::<DistalReward>)
                .in_set(SimSystems::Detect)
                .in_set(BuiltinSystems)
                .after(DetectSystems::Exchange),
        );
    }
}

/// The protocol's progress (pairings, rewards, the last presynaptic spike, rewards on their way);
/// its parameters come from the resuming run, so a branch may turn rewards off.
fn save_progress(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let exp = world.get_resource::<DistalReward>();
    w.put(&exp.map(|e| (e.pairings, e.rewards, e.last_pre, e.pending.clone())));
    Ok(())
}

fn load_progress(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let saved: Option<(u64, u64, Option<u64>, VecDeque<u64>)> = r.get()?;
    match (saved, world.get_resource_mut::<DistalReward>()) {
        (Some((pairings, rewards, last_pre, pending)), Some(mut exp)) => {
            exp.pairings = pairings;
            exp.rewards = rewards;
            exp.last_pre = last_pre;
            exp.pending = pending;
            Ok(())
        }
        (None, None) => Ok(()),
        (Some(_), None) => {
            Err(CheckpointError::Incompatible("the checkpoint's run has a distal-reward experiment, this one has none".into()))
        }
        (None, Some(_)) => {
            Err(CheckpointError::Incompatible("this run has a distal-reward experiment, the checkpoint's run had none".into()))
        }
    }
}

fn reward_pairings(
    mut exp: ResMut<DistalReward>,
    mut levels: ResMut<NeuromodulatorLevels>,
    spikes: Res<StepSpikes>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
) {
    let s = clock.step();
    let fired = |id: u32| spikes.ids.binary_search(&id).is_ok();
    if fired(exp.pre) {
        exp.last_pre = Some(s);
    }
    if fired(exp.post)
        && let Some(p) = exp.last_pre
        && s > p
        && s - p < exp.window_steps
    {
        let (lo, hi) = exp.delay_steps;
        let mut rng = KeyedRng::new(seed.0, StreamPurpose::Experiment, exp.pairings, s);
        let delay = lo + rng.below(hi - lo + 1);
        exp.pairings += 1;
        let due = s + delay;
        let at = exp.pending.partition_point(|&d| d <= due);
        exp.pending.insert(at, due);
    }
    while exp.pending.front().is_some_and(|&d| d <= s) {
        exp.pending.pop_front();
        if exp.deliver {
            levels.release(Modulator::Dopamine, exp.amount);
            exp.rewards += 1;
        }
    }
}
