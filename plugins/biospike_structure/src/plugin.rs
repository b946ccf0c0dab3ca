use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::rng::mix64;

/// Tunable parameters of [`StructuralPlasticityPlugin`].
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct StructuralPlasticitySettings {
    /// Adjust every this many steps (`>= 1`). Default 100.
    pub every_steps: u64,
    /// Target out-degree. Default 4 (the original project).
    pub target_out_degree: u32,
    /// New weights are `U(0, 1) · adjustment_rate`; weakening multiplies by
    /// `1 − adjustment_rate`. Default 0.01 (the original project).
    pub adjustment_rate: f64,
    /// Out-synapses of an over-connected neuron with `|w|` below this are removed. Default 1e-3.
    pub prune_below: f64,
    /// Delay of new synapses, steps (`>= 1`). Default 1.
    pub new_delay_steps: u16,
}

impl Default for StructuralPlasticitySettings {
    /// The scene default: the lowering of [`StructureDesc::default`](crate::StructureDesc).
    fn default() -> Self {
        crate::StructureDesc::default().lower()
    }
}

/// Counters of the structural stages.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StructureDiagnostics {
    /// Synapses created.
    pub created: u64,
    /// Synapses weakened.
    pub weakened: u64,
    /// Synapses pruned.
    pub pruned: u64,
    /// Drift passes.
    pub drifts: u64,
}

/// Network adjustment toward a target out-degree in [`SimSystems::Structure`] (see the crate
/// docs). Reads [`StructuralPlasticitySettings`] (defaults if missing).
#[derive(Debug, Default, Clone, Copy)]
pub struct StructuralPlasticityPlugin;

impl Plugin for StructuralPlasticityPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before StructuralPlasticityPlugin");
        app.init_resource::<StructuralPlasticitySettings>().init_resource::<StructureDiagnostics>().init_resource::<SynapseIndex>();
        biospike_core::checkpoint::CheckpointAppExt::persist_resource::<StructureDiagnostics>(app, "structure.diagnostics");
        app.add_systems(SimSchedule, adjust_network.in_set(SimSystems::Structure).in_set(BuiltinSystems));
    }
}

#[allow(clippy::too_many_arguments, reason = "one stage reading the index, the populations, the clock and the ranks")]
fn adjust_network(
    mut commands: Commands,
    settings: Res<StructuralPlasticitySettings>,
    mut index: ResMut<SynapseIndex>,
    mut diag: ResMut<StructureDiagnostics>,
    table: Res<PopulationTable>,
    neurons: Query<&NeuronId>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
    partition: Option<Res<Partition>>,
    sums: Option<Res<RankSums>>,
) {
    let step = clock.step();
    if !(step + 1).is_multiple_of(settings.every_steps.max(1)) {
        return;
    }
    // Split over ranks, each holds the part of every row that targets its neurons (rows are
    // sorted by target, so the whole row is the ranks' parts in rank order): out-degrees are
    // the sums of the parts, every rank makes the same decisions, and the rank that holds a
    // synapse carries it out.
    let split = RankSums::split(sums.as_deref(), partition.as_deref());
    let part = partition.as_deref().copied().filter(|_| split.is_some());
    let ids: Vec<u32> = match part {
        Some(p) => (0..p.neurons).collect(),
        None => {
            let mut ids: Vec<u32> = neurons.iter().map(|n| n.0).collect();
            ids.sort_unstable();
            ids
        }
    };
    let n = ids.len() as u64;
    if n < 2 {
        return;
    }
    let target = settings.target_out_degree;
    let local_len: Vec<u32> = ids.iter().map(|&i| index.row(i).len() as u32).collect();
    let parts: Vec<Vec<u32>> = match split {
        Some(s) => s.gather_u32(&local_len),
        None => vec![local_len],
    };
    let degree = |k: usize| parts.iter().map(|p| p[k]).sum::<u32>();
    // The whole targets of the rows below the target out-degree (short by definition), to draw
    // a neuron a row does not target yet.
    let short: Vec<usize> = (0..ids.len()).filter(|&k| degree(k) < target).collect();
    let mut short_rows: Vec<Vec<u32>> = vec![Vec::new(); short.len()];
    match split {
        Some(s) => {
            let mine: Vec<u32> = short.iter().flat_map(|&k| index.posts()[index.row(ids[k])].iter().copied()).collect();
            for (r, theirs) in s.gather_u32(&mine).into_iter().enumerate() {
                let mut at = 0usize;
                for (row, &k) in short_rows.iter_mut().zip(&short) {
                    let len = parts[r][k] as usize;
                    row.extend_from_slice(&theirs[at..at + len]);
                    at += len;
                }
            }
        }
        None => {
            for (row, &k) in short_rows.iter_mut().zip(&short) {
                row.extend_from_slice(&index.posts()[index.row(ids[k])]);
            }
        }
    }
    let my_rank = part.map_or(0, |p| p.rank as usize);
    let holds = |j: u32| part.is_none_or(|p| p.owns(j));
    let pop = table.population_per_neuron(ids.last().map_or(0, |&m| m as usize + 1));
    let inhibitory = |id: u32| {
        pop.get(id as usize).and_then(|&p| table.populations.get(usize::from(p))).is_some_and(|p| p.kind == PopulationKind::Inhibitory)
    };
    let rate = settings.adjustment_rate;
    let mut pruned = 0u64;
    let mut next_short = 0usize;
    for (k, &i) in ids.iter().enumerate() {
        let mut rng = KeyedRng::new(seed.0, StreamPurpose::Rewiring, u64::from(i), step);
        let degree = degree(k);
        if degree < target {
            // A random neuron it does not target yet: at most `n` tries, then give up.
            let posts = &short_rows[next_short];
            next_short += 1;
            let chosen = (0..n).map(|_| ids[rng.below(n) as usize]).find(|&j| j != i && posts.binary_search(&j).is_err());
            if let Some(j) = chosen {
                let magnitude = rng.uniform() * rate;
                let w = if inhibitory(i) { -magnitude } else { magnitude };
                if holds(j) {
                    commands.spawn((
                        Synapse { pre: NeuronId(i), post: NeuronId(j) },
                        SynapticWeight(w as f32),
                        SynapticDelay(settings.new_delay_steps.max(1)),
                    ));
                }
                diag.created += 1;
            }
        } else if degree > target {
            // The synapse at this position of the whole row: on the rank whose part holds it.
            let mut at = rng.below(u64::from(degree)) as usize;
            let holder = parts.iter().position(|p| {
                let len = p[k] as usize;
                if at < len {
                    true
                } else {
                    at -= len;
                    false
                }
            });
            if holder == Some(my_rank) {
                let start = index.row(i).start;
                let w = &mut index.weights_mut()[start + at];
                *w = (f64::from(*w) * (1.0 - rate)) as f32;
            }
            diag.weakened += 1;
            for k in index.row(i) {
                // Index-only synapses (no entity) are weakened but never pruned.
                if f64::from(index.weights()[k].abs()) < settings.prune_below
                    && let Some(e) = index.entity(k)
                {
                    commands.entity(e).despawn();
                    pruned += 1;
                }
            }
        }
    }
    if let Some(s) = split {
        let mut total = [pruned];
        s.sum_u64(&mut total);
        pruned = total[0];
    }
    diag.pruned += pruned;
}

/// Tunable parameters of [`DriftPlugin`]: the ranges fresh draws come from.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct DriftSettings {
    /// Drift every this many steps (`>= 1`). Default 100 (the original project).
    pub every_steps: u64,
    /// Fraction moved toward the draw. Default 0.01.
    pub step_size: f64,
    /// Range of `v` draws, mV. Default (−70, −60).
    pub v_range: (f64, f64),
    /// Range of `u` draws. Default (−14, −12).
    pub u_range: (f64, f64),
    /// Range of excitability draws. Default (0.9, 1.1).
    pub excitability_range: (f64, f64),
    /// Range of weight-magnitude draws (the sign is kept); `None` leaves weights alone.
    pub weight_range: Option<(f64, f64)>,
}

impl Default for DriftSettings {
    /// The scene default: the lowering of [`DriftDesc::default`](crate::DriftDesc).
    fn default() -> Self {
        crate::DriftDesc::default().lower()
    }
}

/// The original project's drift of initial conditions in [`SimSystems::Structure`] (see the
/// crate docs). Reads [`DriftSettings`] (defaults if missing).
#[derive(Debug, Default, Clone, Copy)]
pub struct DriftPlugin;

impl Plugin for DriftPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before DriftPlugin");
        app.init_resource::<DriftSettings>().init_resource::<StructureDiagnostics>().init_resource::<SynapseIndex>();
        biospike_core::checkpoint::CheckpointAppExt::persist_resource::<StructureDiagnostics>(app, "structure.diagnostics");
        // After the adjustment when both run (both touch the index).
        app.add_systems(SimSchedule, drift.in_set(SimSystems::Structure).in_set(BuiltinSystems).after(adjust_network));
    }
}

type DriftItem = (&'static NeuronId, &'static mut MembranePotential, &'static mut RecoveryVariable, &'static mut Excitability);

fn drift(
    settings: Res<DriftSettings>,
    mut q: Query<DriftItem>,
    mut index: ResMut<SynapseIndex>,
    mut diag: ResMut<StructureDiagnostics>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
) {
    let step = clock.step();
    if !(step + 1).is_multiple_of(settings.every_steps.max(1)) {
        return;
    }
    let s = settings.step_size;
    let draw = |rng: &mut KeyedRng, (lo, hi): (f64, f64)| lo + (hi - lo) * rng.uniform();
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::Drift, step);
    biospike_runtime::for_each_entity_mut!(q, |(id, mut v, mut u, mut e): (
        &NeuronId,
        Mut<MembranePotential>,
        Mut<RecoveryVariable>,
        Mut<Excitability>
    )| {
        let mut rng = KeyedRng::from_base(base, u64::from(id.0));
        v.0 += s * (draw(&mut rng, settings.v_range) - v.0);
        u.0 += s * (draw(&mut rng, settings.u_range) - u.0);
        e.0 += s * (draw(&mut rng, settings.excitability_range) - e.0);
    });
    if let Some(range) = settings.weight_range {
        // Keyed by the synapse's endpoints and its rank among parallel synapses (multapses) of
        // the same pair: not by entity, whose id depends on everything spawned before it.
        let mut keys = Vec::with_capacity(index.len());
        for pre in 0..index.neuron_count() as u32 {
            let mut rank = 0u64;
            let posts = &index.posts()[index.row(pre)];
            for (j, &post) in posts.iter().enumerate() {
                rank = if j > 0 && posts[j - 1] == post { rank + 1 } else { 0 };
                keys.push((mix64(base ^ rank), u64::from(pre) << 32 | u64::from(post)));
            }
        }
        for (w, (lane_base, key)) in index.weights_mut().iter_mut().zip(keys) {
            let mut rng = KeyedRng::from_base(lane_base, key);
            let m = f64::from(w.abs());
            let next = m + s * (draw(&mut rng, range) - m);
            *w = (next.max(0.0) * f64::from(w.signum())) as f32;
        }
    }
    diag.drifts += 1;
}

biospike_core::persist_fields!(StructureDiagnostics { created, weakened, pruned, drifts });
