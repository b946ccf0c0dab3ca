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
    FlattenedDependencies, InternedSystemSet as Set, NodeId, ScheduleBuildError, ScheduleBuildPass, ScheduleGraph, SystemKey, SystemSetKey,
};
use bevy_platform::collections::HashMap;
use bevy_platform::hash::FixedHasher;
use indexmap::IndexSet;

use crate::schedule::{BuiltinSystems, phase_sets};

/// Orders [`BuiltinSystems`] before the other systems of each phase (see the module docs).
#[derive(Debug, Default)]
pub struct BuiltinFirstPass {
    members: SetMembers,
}

/// The systems of each set, recorded while a schedule flattens its sets (a build pass's
/// `collapse_set` sees every set with its systems) and read in the pass's `build`.
#[derive(Debug, Default)]
pub(crate) struct SetMembers(HashMap<SystemSetKey, Vec<SystemKey>>);

impl SetMembers {
    /// Records `systems` as the members of `set`.
    pub(crate) fn record(&mut self, set: SystemSetKey, systems: &IndexSet<SystemKey, FixedHasher>) {
        self.0.insert(set, systems.iter().copied().collect());
    }

    /// The members recorded for `set` in this build, if any.
    pub(crate) fn of(&self, graph: &ScheduleGraph, set: Set) -> Option<&[SystemKey]> {
        graph.system_sets.get_key(set).and_then(|k| self.0.get(&k)).map(Vec::as_slice)
    }
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
        self.members.record(set, systems);
        std::iter::empty()
    }

    fn build(
        &mut self,
        _world: &mut World,
        graph: &mut ScheduleGraph,
        mut dependencies: FlattenedDependencies<'_>,
    ) -> Result<(), ScheduleBuildError> {
        let members = std::mem::take(&mut self.members);
        let Some(builtin) = members.of(graph, BuiltinSystems.intern()) else {
            return Ok(());
        };
        let builtin: bevy_platform::collections::HashSet<SystemKey> = builtin.iter().copied().collect();
        for (phase, _) in phase_sets() {
            let Some(systems) = members.of(graph, phase) else { continue };
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
