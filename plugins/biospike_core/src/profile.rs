//! Per-stage profiling: where the time of a step goes, per phase and per system (Brian2's
//! `profile=True`).
//!
//! [`ProfilePlugin`] is a build-time choice: without it nothing is measured and nothing is added
//! to the schedule. With it, a schedule build pass gives every system of [`SimSchedule`] one more
//! run condition that only stamps the clock (it always returns `true`); the single-threaded
//! executor evaluates it just before the system runs, so the time between two consecutive stamps
//! is the time of the system in between (its other conditions included). A last system,
//! `accumulate_profile`, closes the step and adds the durations to [`SimProfile`]. A stamp costs
//! one clock read and two atomic stores (≈ 25–50 ns); with ≈ 25 systems that is ≈ 1 µs per step,
//! which the profile counts under the systems it stamps.

use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::graph::DiGraph;
use bevy_ecs::schedule::{
    ConditionWithAccess, FlattenedDependencies, NodeId, ScheduleBuildError, ScheduleBuildPass, ScheduleGraph, SystemKey, SystemSetKey,
};
use bevy_platform::collections::{HashMap, HashSet};
use bevy_platform::hash::FixedHasher;
use indexmap::IndexSet;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ordering::SetMembers;
use crate::schedule::{SimSchedule, phase_sets};

/// Measures the time per phase and per system of [`SimSchedule`] into [`SimProfile`].
///
/// ```
/// use bevy_app::App;
/// use biospike_core::prelude::*;
///
/// let mut app = App::new();
/// app.add_plugins((CoreSimPlugin::default(), ProfilePlugin));
/// app.world_mut().spawn((NeuronId(0), MembranePotential(-65.0)));
/// for _ in 0..10 {
///     step_simulation(app.world_mut());
/// }
/// let profile = app.world().resource::<SimProfile>();
/// assert_eq!(profile.steps, 10);
/// assert!(profile.systems.iter().any(|s| s.name.contains("collect_spikes") && s.phase == "Detect/Collect"));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ProfilePlugin;

impl Plugin for ProfilePlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<crate::SimClock>(), "add CoreSimPlugin before ProfilePlugin");
        let stamps = Arc::new(Stamps::new());
        app.init_resource::<SimProfile>().insert_resource(ProfileStamps(stamps.clone()));
        app.add_systems(SimSchedule, accumulate_profile.after(crate::plugin::advance_clock));
        let pass = ProfilePass { stamps, members: SetMembers::default(), instrumented: HashSet::default() };
        let mut pass = Some(pass);
        app.edit_schedule(SimSchedule, |s| {
            if let Some(pass) = pass.take() {
                s.add_build_pass(pass);
            }
        });
    }
}

/// Time spent in one system over the profiled steps.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemProfile {
    /// The system's name (its function path).
    pub name: String,
    /// The innermost public phase it belongs to (`"Input/Drive"`, `"Neurons"`, …), or
    /// `"(none)"`.
    pub phase: String,
    /// Total time.
    pub total: Duration,
    /// Steps in which the executor reached it (a system its run conditions skip counts too,
    /// with the time its conditions took).
    pub runs: u64,
}

/// Where the time of the profiled steps went ([`ProfilePlugin`]).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct SimProfile {
    /// Steps profiled.
    pub steps: u64,
    /// Wall time of those steps, from the first system's start to the end of the last.
    pub total: Duration,
    /// Per system, in the order they run.
    pub systems: Vec<SystemProfile>,
}

impl SimProfile {
    /// Time per top-level phase (`"Input"` gathers `"Input/Drive"` etc.), in phase order.
    pub fn phases(&self) -> Vec<(String, Duration)> {
        let mut out: Vec<(String, Duration)> = Vec::new();
        for s in &self.systems {
            let top = s.phase.split('/').next().unwrap_or_default().to_string();
            match out.iter_mut().find(|(p, _)| *p == top) {
                Some((_, d)) => *d += s.total,
                None => out.push((top, s.total)),
            }
        }
        let rank = |p: &str| crate::SimSystems::ALL.iter().position(|q| format!("{q:?}") == p).unwrap_or(crate::SimSystems::ALL.len());
        out.sort_by_key(|(p, _)| rank(p));
        out
    }

    /// Share of the profiled time, percent.
    pub fn percent(&self, d: Duration) -> f64 {
        if self.total.is_zero() { 0.0 } else { 100.0 * d.as_secs_f64() / self.total.as_secs_f64() }
    }
}

impl fmt::Display for SimProfile {
    /// The profile as a table: per phase, then per system, in ms and % of the step.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_step = |d: Duration| if self.steps > 0 { d.as_secs_f64() * 1e6 / self.steps as f64 } else { 0.0 };
        writeln!(
            f,
            "profile      {} steps, {:.3} ms in the schedule ({:.2} µs per step)",
            self.steps,
            self.total.as_secs_f64() * 1e3,
            per_step(self.total)
        )?;
        writeln!(f, "phase                          total (ms)    µs/step        %")?;
        for (p, d) in self.phases() {
            writeln!(f, "{p:<28} {:>12.3} {:>10.2} {:>8.1}", d.as_secs_f64() * 1e3, per_step(d), self.percent(d))?;
        }
        writeln!(f, "system                         total (ms)    µs/step        %   phase")?;
        let mut systems: Vec<&SystemProfile> = self.systems.iter().collect();
        systems.sort_by_key(|s| std::cmp::Reverse(s.total));
        for s in systems {
            writeln!(
                f,
                "{:<28} {:>12.3} {:>10.2} {:>8.1}   {}",
                short_name(&s.name),
                s.total.as_secs_f64() * 1e3,
                per_step(s.total),
                self.percent(s.total),
                s.phase
            )?;
        }
        Ok(())
    }
}

/// `crate::module::function` → `function` (generic arguments kept whole).
pub fn short_name(name: &str) -> &str {
    let head = name.split('<').next().unwrap_or(name);
    match head.rfind("::") {
        Some(i) => &name[i + 2..],
        None => name,
    }
}

/// Most stamps one step can hold (systems and sync points); later ones are dropped.
const CAPACITY: usize = 4096;

/// The stamps of the step in progress, written by the conditions, read by
/// `accumulate_profile`.
#[derive(Debug)]
struct Stamps {
    base: Instant,
    len: AtomicUsize,
    system: Vec<AtomicU32>,
    nanos: Vec<AtomicU64>,
    /// `(name, phase)` per instrumented system, by stamp id.
    names: Mutex<Vec<(String, String)>>,
}

impl Stamps {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            len: AtomicUsize::new(0),
            system: (0..CAPACITY).map(|_| AtomicU32::new(0)).collect(),
            nanos: (0..CAPACITY).map(|_| AtomicU64::new(0)).collect(),
            names: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn stamp(&self, id: u32) {
        let t = self.base.elapsed().as_nanos() as u64;
        let k = self.len.fetch_add(1, Ordering::Relaxed);
        if k < CAPACITY {
            self.system[k].store(id, Ordering::Relaxed);
            self.nanos[k].store(t, Ordering::Relaxed);
        }
    }
}

#[derive(Resource)]
struct ProfileStamps(Arc<Stamps>);

/// Closes the step: each stamped system ran until the next stamp (the last until now).
fn accumulate_profile(stamps: Res<ProfileStamps>, mut profile: ResMut<SimProfile>) {
    let end = stamps.0.base.elapsed().as_nanos() as u64;
    let s = &*stamps.0;
    let n = s.len.swap(0, Ordering::Relaxed).min(CAPACITY);
    if n == 0 {
        return;
    }
    let Ok(names) = s.names.lock() else { return };
    let profile = &mut *profile;
    for k in 0..n {
        let id = s.system[k].load(Ordering::Relaxed) as usize;
        let t0 = s.nanos[k].load(Ordering::Relaxed);
        let t1 = if k + 1 < n { s.nanos[k + 1].load(Ordering::Relaxed) } else { end };
        while profile.systems.len() <= id {
            let (name, phase) = names.get(profile.systems.len()).cloned().unwrap_or_default();
            profile.systems.push(SystemProfile { name, phase, total: Duration::ZERO, runs: 0 });
        }
        let entry = &mut profile.systems[id];
        entry.total += Duration::from_nanos(t1.saturating_sub(t0));
        entry.runs += 1;
    }
    profile.total += Duration::from_nanos(end.saturating_sub(s.nanos[0].load(Ordering::Relaxed)));
    profile.steps += 1;
}

/// Gives every system of the schedule a stamping condition (see the module docs).
#[derive(Debug)]
struct ProfilePass {
    stamps: Arc<Stamps>,
    members: SetMembers,
    /// Systems that already carry a stamp (a rebuilt schedule keeps its conditions).
    instrumented: HashSet<SystemKey>,
}

impl ScheduleBuildPass for ProfilePass {
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
        world: &mut World,
        graph: &mut ScheduleGraph,
        _dependencies: FlattenedDependencies<'_>,
    ) -> Result<(), ScheduleBuildError> {
        let members = std::mem::take(&mut self.members);
        let mut phase_of: HashMap<SystemKey, String> = HashMap::default();
        for (set, label) in phase_sets() {
            let Some(systems) = members.of(graph, set) else { continue };
            for &s in systems {
                phase_of.entry(s).or_insert_with(|| label.clone());
            }
        }
        let systems: Vec<(SystemKey, String)> = graph.systems.iter().map(|(k, s, _)| (k, s.name().to_string())).collect();
        let Ok(mut names) = self.stamps.names.lock() else { return Ok(()) };
        for (key, name) in systems {
            if self.instrumented.contains(&key) || name.ends_with("accumulate_profile") {
                continue;
            }
            let id = names.len() as u32;
            let phase =
                phase_of.get(&key).cloned().unwrap_or_else(|| if name.ends_with("advance_clock") { "Last" } else { "(none)" }.into());
            names.push((name, phase));
            let stamps = self.stamps.clone();
            let mut condition = ConditionWithAccess::new(Box::new(IntoSystem::into_system(move || {
                stamps.stamp(id);
                true
            })));
            condition.access = condition.condition.initialize(world);
            if let Some(conditions) = graph.systems.get_conditions_mut(key) {
                conditions.push(condition);
                self.instrumented.insert(key);
            }
        }
        Ok(())
    }
}
