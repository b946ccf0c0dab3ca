//! Built-in systems first within each phase: the build pass behind [`BuiltinSystems`].
//!
//! Without it, a user system added to a phase where a biospike plugin already writes the same
//! data (say `InputSystems::Drive`, where the input plugin adds noise to `InputCurrent`) has no
//! order relative to it, and [`SimSchedule`](crate::SimSchedule)'s ambiguity check (an error:
//! the order of float additions decides the bits of the result) refuses to build. The pass adds
//! the order users expect: within every public phase, biospike's systems run first. It only adds
//! an edge between a built-in and a user system that are in the same phase and not ordered
//! either way already, so it never overrides an order the user wrote and never makes a cycle.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::graph::{DiGraph, Direction};
use bevy_ecs::schedule::{
    FlattenedDependencies, InternedSystemSet, NodeId, ScheduleBuildError, ScheduleBuildPass, ScheduleGraph, SystemKey, SystemSetKey,
};
use bevy_platform::collections::HashMap;
use bevy_platform::hash::FixedHasher;
use indexmap::IndexSet;

use crate::schedule::{BuiltinSystems, DetectSystems, InputSystems, PrepareSystems, PropagationSystems, SimSystems, WritebackSystems};

/// The phases inside which built-in systems go first, innermost first.
fn phases() -> Vec<InternedSystemSet> {
    use SimSystems as S;
    let mut out: Vec<InternedSystemSet> = vec![
        PrepareSystems::Settle.intern(),
        PrepareSystems::Index.intern(),
        InputSystems::Reset.intern(),
        InputSystems::Drive.intern(),
        InputSystems::Synaptic.intern(),
        DetectSystems::Collect.intern(),
        DetectSystems::Inject.intern(),
        PropagationSystems::Index.intern(),
        PropagationSystems::Deliver.intern(),
        WritebackSystems::Flush.intern(),
        WritebackSystems::Sync.intern(),
    ];
    out.extend(
        [
            S::Prepare,
            S::First,
            S::Input,
            S::Neurons,
            S::Detect,
            S::Propagation,
            S::Modulation,
            S::Plasticity,
            S::Structure,
            S::Quantize,
            S::Writeback,
            S::Record,
            S::Last,
        ]
        .map(|s| s.intern()),
    );
    out
}

/// Orders [`BuiltinSystems`] before the other systems of each phase (see the module docs).
#[derive(Debug, Default)]
pub struct BuiltinFirstPass {
    /// Systems of each set, recorded while the schedule flattens its sets.
    members: HashMap<SystemSetKey, Vec<SystemKey>>,
}

/// Whether `to` can be reached from `from` along the dependency edges.
fn reaches(graph: &DiGraph<SystemKey>, from: SystemKey, to: SystemKey) -> bool {
    let mut stack = vec![from];
    let mut seen = bevy_platform::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(graph.neighbors_directed(n, Direction::Outgoing));
        }
    }
    false
}

impl ScheduleBuildPass for BuiltinFirstPass {
    type EdgeOptions = ();

    fn add_dependency(&mut self, _from: NodeId, _to: NodeId, _options: Option<&Self::EdgeOptions>) {}

    fn collapse_set(
        &mut self,
        set: SystemSetKey,
        systems: &IndexSet<SystemKey, FixedHasher>,
        _dependency_flattening: &DiGraph<NodeId>,
    ) -> impl Iterator<Item = (NodeId, NodeId)> {
        self.members.insert(set, systems.iter().copied().collect());
        std::iter::empty()
    }

    fn build(
        &mut self,
        _world: &mut World,
        graph: &mut ScheduleGraph,
        mut dependencies: FlattenedDependencies<'_>,
    ) -> Result<(), ScheduleBuildError> {
        let members = std::mem::take(&mut self.members);
        let Some(builtin) = graph.system_sets.get_key(BuiltinSystems.intern()).and_then(|k| members.get(&k)) else {
            return Ok(());
        };
        let builtin: bevy_platform::collections::HashSet<SystemKey> = builtin.iter().copied().collect();
        for phase in phases() {
            let Some(systems) = graph.system_sets.get_key(phase).and_then(|k| members.get(&k)) else { continue };
            let (ours, theirs): (Vec<SystemKey>, Vec<SystemKey>) = systems.iter().partition(|&&s| builtin.contains(&s));
            for &b in &ours {
                for &u in &theirs {
                    let dag = dependencies.graph();
                    if !reaches(dag, b, u) && !reaches(dag, u, b) {
                        dependencies.add_edge(b, u);
                    }
                }
            }
        }
        Ok(())
    }
}
