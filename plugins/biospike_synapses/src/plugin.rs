use bevy_app::prelude::*;
use bevy_ecs::entity::EntityHashSet;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;
use bevy_tasks::ComputeTaskPool;
use biospike_core::prelude::*;

use crate::index::DelayRing;
use biospike_core::{IndexedSynapse as Edge, SynapseIndex};
use crate::{InputCurrent, Synapse, SynapticDelay, SynapticWeight};

/// Spike delivery along synapses with per-synapse delays.
#[derive(Debug, Default, Clone, Copy)]
pub struct SynapsePlugin;

/// Synapse changes queued by component hooks, applied at the next
/// [`SimSystems::Propagation`].
#[derive(Resource, Debug, Default)]
pub struct SynapseEdits {
    added: Vec<Entity>,
    removed: Vec<(Synapse, Entity)>,
    changed: Vec<Entity>,
}

impl SynapseEdits {
    /// Number of queued changes.
    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }

    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counters of the delivery stage.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryDiagnostics {
    /// Synaptic events delivered so far (spikes × actual out-degree).
    pub events: u64,
    /// Number of CSR rebuilds (synapses added or removed).
    pub rebuilds: u64,
    /// Weight/delay edits applied in place.
    pub edits: u64,
}

impl Plugin for SynapsePlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before SynapsePlugin");
        app.init_resource::<SynapseIndex>()
            .init_resource::<DelayRing>()
            .init_resource::<SynapseEdits>()
            .init_resource::<DeliveryDiagnostics>();
        let world = app.world_mut();
        world.register_component_hooks::<Synapse>().on_insert(queue_added).on_discard(queue_removed);
        world.register_component_hooks::<SynapticWeight>().on_discard(queue_changed);
        world.register_component_hooks::<SynapticDelay>().on_discard(queue_changed);
        app.add_systems(SimSchedule, deliver_due_spikes.in_set(InputSystems::Synaptic));
        app.add_systems(SimSchedule, apply_synapse_edits.in_set(PropagationSystems::Index));
        app.add_systems(SimSchedule, propagate_spikes.in_set(PropagationSystems::Deliver));
    }
}

fn queue_added(mut world: DeferredWorld, ctx: HookContext) {
    world.resource_mut::<SynapseEdits>().added.push(ctx.entity);
}

fn queue_removed(mut world: DeferredWorld, ctx: HookContext) {
    let Some(&syn) = world.get::<Synapse>(ctx.entity) else { return };
    world.resource_mut::<SynapseEdits>().removed.push((syn, ctx.entity));
}

fn queue_changed(mut world: DeferredWorld, ctx: HookContext) {
    // A plain despawn also discards the weight; only entities that keep their synapse matter,
    // and that is checked when the queue is applied.
    world.resource_mut::<SynapseEdits>().changed.push(ctx.entity);
}

/// Minimum synaptic events in one step before delivery is split over threads.
const PARALLEL_EVENTS: usize = 32_768;

fn deliver_due_spikes(mut q: Query<(&NeuronId, &mut InputCurrent)>, mut ring: ResMut<DelayRing>, clock: Res<SimClock>) {
    if ring.slots == 0 {
        return;
    }
    let slots = ring.slots;
    let slot = (clock.step() % slots as u64) as usize;
    {
        let buf = &ring.buf;
        biospike_core::for_each_entity_mut!(q, |(id, mut i): (&NeuronId, Mut<InputCurrent>)| {
            if let Some(x) = buf.get(id.0 as usize * slots + slot) {
                i.bypass_change_detection().0 += *x;
            }
        });
    }
    ring.buf.iter_mut().skip(slot).step_by(slots).for_each(|x| *x = 0.0);
}

#[allow(clippy::too_many_arguments, reason = "one stage: edits touch the queue, the index, the ring and the entities")]
fn apply_synapse_edits(
    mut edits: ResMut<SynapseEdits>,
    mut index: ResMut<SynapseIndex>,
    mut ring: ResMut<DelayRing>,
    mut diag: ResMut<DeliveryDiagnostics>,
    synapses: Query<(&Synapse, &SynapticWeight, &SynapticDelay)>,
    neurons: Query<&NeuronId>,
    clock: Res<SimClock>,
) {
    if edits.is_empty() {
        return;
    }
    let edits = std::mem::take(&mut *edits);
    let edge_of =
        |e: Entity| synapses.get(e).ok().map(|(s, w, d)| Edge { pre: s.pre.0, post: s.post.0, weight: w.0, delay: d.0.max(1), entity: e });
    if !edits.added.is_empty() || !edits.removed.is_empty() {
        let removed: EntityHashSet = edits.removed.iter().map(|&(_, e)| e).collect();
        let mut edges: Vec<Edge> = index.edges().filter(|e| !removed.contains(&e.entity)).collect();
        // An entity whose `Synapse` was replaced is both removed and added: the removal above
        // drops the old edge, the addition below brings the current one.
        let mut seen = EntityHashSet::default();
        edges.extend(edits.added.iter().filter(|e| seen.insert(**e)).filter_map(|&e| edge_of(e)));
        let max_id = neurons.iter().map(|n| n.0 as usize + 1).max().unwrap_or(0);
        let rows = edges.iter().map(|e| e.pre.max(e.post) as usize + 1).max().unwrap_or(0).max(max_id);
        let generation = index.generation() + 1;
        *index = SynapseIndex::from_edges(rows, edges, generation);
        diag.rebuilds += 1;
    }
    for e in edits.changed {
        let Some(edge) = edge_of(e) else { continue };
        let Some(k) = index.find(edge.pre, edge.post, e) else { continue };
        index.set(k, edge.weight, edge.delay);
        diag.edits += 1;
    }
    ring.ensure(index.neuron_count(), usize::from(index.max_delay()) + 1, clock.step());
}

fn propagate_spikes(
    index: Res<SynapseIndex>,
    spikes: Res<StepSpikes>,
    mut ring: ResMut<DelayRing>,
    mut diag: ResMut<DeliveryDiagnostics>,
    clock: Res<SimClock>,
) {
    if spikes.ids.is_empty() || index.is_empty() {
        return;
    }
    let events: usize = spikes.ids.iter().map(|&s| index.out_degree(s)).sum();
    diag.events += events as u64;
    let slots = ring.slots;
    let base = (clock.step() % slots as u64) as usize;
    let neurons = ring.neurons;
    let pool = ComputeTaskPool::get();
    let threads = pool.thread_num().max(1);
    let buf = &mut ring.buf[..];
    if threads == 1 || events < PARALLEL_EVENTS {
        deliver_range(&index, &spikes.ids, buf, 0, neurons as u32, slots, base);
        return;
    }
    let chunk = neurons.div_ceil(threads);
    pool.scope(|scope| {
        let mut rest = buf;
        for t in 0..threads {
            let lo = (t * chunk).min(neurons);
            let hi = ((t + 1) * chunk).min(neurons);
            let (mine, tail) = rest.split_at_mut((hi - lo) * slots);
            rest = tail;
            let (index, ids) = (&*index, &spikes.ids[..]);
            scope.spawn(async move {
                deliver_range(index, ids, mine, lo as u32, hi as u32, slots, base);
            });
        }
    });
}

/// Adds every out-edge of `spikes` whose target lies in `lo..hi` to the ring block `buf`
/// (which starts at neuron `lo`). Each target sums in spike order, then edge order.
#[inline]
fn deliver_range(index: &SynapseIndex, spikes: &[u32], buf: &mut [f64], lo: u32, hi: u32, slots: usize, base: usize) {
    for &pre in spikes {
        let r = index.row(pre);
        let posts = &index.posts()[r.clone()];
        let weights = &index.weights()[r.clone()];
        let delays = &index.delays()[r];
        let start = if lo == 0 { 0 } else { posts.partition_point(|&p| p < lo) };
        let edges = posts[start..].iter().zip(&weights[start..]);
        if let Some(d) = index.uniform_delay() {
            // Every synapse has the same delay: one slot for the whole row.
            let slot = (base + usize::from(d)) % slots;
            for (&post, &w) in edges {
                if post >= hi {
                    break;
                }
                buf[(post - lo) as usize * slots + slot] += f64::from(w);
            }
        } else {
            for ((&post, &w), &d) in edges.zip(&delays[start..]) {
                if post >= hi {
                    break;
                }
                let mut slot = base + usize::from(d);
                if slot >= slots {
                    slot -= slots;
                }
                buf[(post - lo) as usize * slots + slot] += f64::from(w);
            }
        }
    }
}

/// Applies every queued synapse change now (outside the schedule), so that the delivery index
/// is built during set-up rather than inside the first step. Drivers call it after spawning.
pub fn prepare_synapse_index(world: &mut World) {
    use bevy_ecs::system::RunSystemOnce;
    // The system's parameters are all registered by `SynapsePlugin`; without it there is
    // nothing to prepare.
    if world.contains_resource::<SynapseEdits>() {
        let _ = world.run_system_once(apply_synapse_edits);
    }
}
