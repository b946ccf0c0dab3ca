use bevy_app::prelude::*;
use bevy_ecs::entity::EntityHashSet;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;
use biospike_core::BatchedSpikes;
use biospike_core::prelude::*;
use biospike_runtime::rows::{for_each_chunk, prefetch_synapse_row};

use crate::index::DelayRing;
use crate::{InputCurrent, Synapse, SynapticDelay, SynapticWeight};
use biospike_core::{IndexedSynapse as Edge, SynapseEdits, SynapseIndex};

/// Spike delivery along synapses with per-synapse delays.
#[derive(Debug, Default, Clone, Copy)]
pub struct SynapsePlugin;

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

biospike_core::persist_fields!(DeliveryDiagnostics { events, rebuilds, edits });

impl Plugin for SynapsePlugin {
    fn build(&self, app: &mut App) {
        use biospike_core::checkpoint::CheckpointAppExt as _;
        app.persist_resource::<DelayRing>("synapses.delay_ring").persist_resource::<DeliveryDiagnostics>("synapses.diagnostics");
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before SynapsePlugin");
        app.init_resource::<SynapseIndex>()
            .init_resource::<DelayRing>()
            .init_resource::<SynapseEdits>()
            .init_resource::<DeliveryDiagnostics>();
        let world = app.world_mut();
        world.register_component_hooks::<Synapse>().on_insert(queue_added).on_discard(queue_removed);
        world.register_component_hooks::<SynapticWeight>().on_discard(queue_changed);
        world.register_component_hooks::<SynapticDelay>().on_discard(queue_changed);
        app.add_systems(
            SimSchedule,
            (
                apply_synapse_edits.in_set(PrepareSystems::Index),
                deliver_due_spikes.in_set(InputSystems::Synaptic),
                propagate_spikes.in_set(PropagationSystems::Deliver),
                write_back_weights.in_set(WritebackSystems::Sync),
            )
                .in_set(BuiltinSystems),
        );
        app.add_systems(SimWritebackSchedule, write_back_weights.in_set(WritebackSystems::Sync).in_set(BuiltinSystems));
    }
}

fn queue_added(mut world: DeferredWorld, ctx: HookContext) {
    world.resource_mut::<SynapseEdits>().queue_added(ctx.entity);
}

fn queue_removed(mut world: DeferredWorld, ctx: HookContext) {
    let Some(&syn) = world.get::<Synapse>(ctx.entity) else { return };
    world.resource_mut::<SynapseEdits>().queue_removed(syn, ctx.entity);
}

fn queue_changed(mut world: DeferredWorld, ctx: HookContext) {
    // A plain despawn also discards the weight; only entities that keep their synapse matter,
    // and that is checked when the queue is applied.
    world.resource_mut::<SynapseEdits>().queue_changed(ctx.entity);
}

fn deliver_due_spikes(
    mut q: Query<(&NeuronId, &mut InputCurrent)>,
    mut channels: Query<(&NeuronId, &mut InhibitoryInput)>,
    mut ported: Query<(&NeuronId, &mut ReceptorInput)>,
    mut ring: ResMut<DelayRing>,
    clock: Res<SimClock>,
) {
    if ring.slots == 0 {
        return;
    }
    let slot = ring.slot_of(clock.step());
    let n = ring.neurons;
    let signed = ring.is_signed();
    if ring.receptors > 0 {
        // Each port's row of this slot into the neurons' `ReceptorInput`, then cleared.
        let (slots, receptors) = (ring.slots, ring.receptors);
        let ports = &mut ring.ports;
        for (id, mut x) in &mut ported {
            let k = id.0 as usize;
            if k >= n {
                continue;
            }
            for r in 0..receptors.min(MAX_RECEPTORS) {
                x.bypass_change_detection().0[r] = ports[(r * slots + slot) * n + k];
            }
        }
        for r in 0..receptors {
            ports[(r * slots + slot) * n..(r * slots + slot + 1) * n].fill(0.0);
        }
    }
    let DelayRing { buf, inh, .. } = &mut *ring;
    let due = &mut buf[slot * n..(slot + 1) * n];
    let due_inh: &mut [f64] = if signed { &mut inh[slot * n..(slot + 1) * n] } else { &mut [] };
    {
        let (due, due_inh) = (&*due, &*due_inh);
        for (ids, mut input) in q.contiguous_iter_mut().expect("neuron components are table-stored, so the query is dense") {
            for_each_chunk((ids, input.bypass_change_detection()), |(ids, input)| {
                add_due(ids, input, due);
            });
        }
        if signed {
            // The inhibitory channel: into `InhibitoryInput` where a model takes it, else into
            // the input current with the rest.
            let mut all = 0usize;
            for (ids, mut x) in channels.contiguous_iter_mut().expect("neuron components are table-stored, so the query is dense") {
                let counts = biospike_runtime::rows::map_chunks((ids, x.bypass_change_detection()), |(ids, x)| set_due(ids, x, due_inh));
                all += counts.iter().sum::<usize>();
            }
            // Every neuron takes the channel (the usual case): nothing left for the currents.
            if all != n {
                let mut taken = vec![false; n];
                for (id, _) in &channels {
                    if let Some(t) = taken.get_mut(id.0 as usize) {
                        *t = true;
                    }
                }
                for (ids, mut input) in q.contiguous_iter_mut().expect("neuron components are table-stored, so the query is dense") {
                    for (id, i) in ids.iter().zip(input.bypass_change_detection()) {
                        let k = id.0 as usize;
                        if k < n && !taken[k] {
                            i.0 += due_inh[k];
                        }
                    }
                }
            }
        }
    }
    // Zeroed in the same target ranges `propagate_spikes` writes (`for_each_chunk` splits
    // at `len.div_ceil(threads)` too), each on a thread of its own when the read-out above was
    // split: one thread zeroing the whole row would pull every cache line of the other
    // threads' ranges over, to be pulled back at their next delivery.
    for_each_chunk(due, |part| part.fill(0.0));
    for_each_chunk(due_inh, |part| part.fill(0.0));
}

/// `take(x[k], due[ids[k]])` for every row whose id is within `due`; returns how many rows
/// took a value. Rows whose ids run consecutively (a population spawned in one go: the usual
/// table) go through one slice loop, which the compiler vectorises; a table whose rows were
/// reordered (an entity moved to another table swaps the last row into its place) or that
/// holds two populations is halved until its pieces run consecutively, down to
/// [`ROW_BY_ROW`] rows, which are read row by row.
#[inline(always)]
fn read_due<T>(ids: &[NeuronId], x: &mut [T], due: &[f64], take: impl Fn(&mut T, f64)) -> usize {
    let n = ids.len().min(x.len());
    let mut taken = 0;
    // Pieces still to read, as `(start, end)`; halving `n < 2^64` rows needs fewer than 64.
    let mut pieces = [(0usize, 0usize); 64];
    pieces[0] = (0, n);
    let mut open = 1;
    while open > 0 {
        open -= 1;
        let (a, b) = pieces[open];
        let (ids, x) = (&ids[a..b], &mut x[a..b]);
        if b - a >= ROW_BY_ROW {
            let first = ids[0].0;
            let consecutive = ids.iter().zip(0u32..).fold(true, |all, (id, k)| all & (id.0 == first.wrapping_add(k)));
            let first = first as usize;
            if consecutive && first + (b - a) <= due.len() {
                for (x, &v) in x.iter_mut().zip(&due[first..first + (b - a)]) {
                    take(x, v);
                }
                taken += b - a;
                continue;
            }
            if !consecutive {
                let mid = a + (b - a) / 2;
                pieces[open] = (mid, b);
                pieces[open + 1] = (a, mid);
                open += 2;
                continue;
            }
        }
        for (id, x) in ids.iter().zip(x) {
            if let Some(&v) = due.get(id.0 as usize) {
                take(x, v);
                taken += 1;
            }
        }
    }
    taken
}

/// Pieces of a table shorter than this are read row by row by [`read_due`].
const ROW_BY_ROW: usize = 64;

biospike_runtime::avx512_kernel!(
    /// [`read_due`] adding into the input currents.
    fn add_due<'a>(ids: &'a [NeuronId], x: &'a mut [InputCurrent], due: &'a [f64]) -> usize = add_due_kernel;
);

biospike_runtime::avx512_kernel!(
    /// [`read_due`] setting the inhibitory inputs.
    fn set_due<'a>(ids: &'a [NeuronId], x: &'a mut [InhibitoryInput], due: &'a [f64]) -> usize = set_due_kernel;
);

#[inline(always)]
fn add_due_kernel(ids: &[NeuronId], x: &mut [InputCurrent], due: &[f64]) -> usize {
    read_due(
        ids,
        x,
        due,
        #[inline(always)]
        |i, v| i.0 += v,
    )
}

#[inline(always)]
fn set_due_kernel(ids: &[NeuronId], x: &mut [InhibitoryInput], due: &[f64]) -> usize {
    read_due(
        ids,
        x,
        due,
        #[inline(always)]
        |i, v| i.0 = v,
    )
}

#[allow(clippy::too_many_arguments, reason = "one stage: edits touch the queue, the index, the ring and the entities")]
fn apply_synapse_edits(
    mut edits: ResMut<SynapseEdits>,
    mut index: ResMut<SynapseIndex>,
    mut ring: ResMut<DelayRing>,
    mut diag: ResMut<DeliveryDiagnostics>,
    synapses: Query<(&Synapse, &SynapticWeight, &SynapticDelay, Option<&SynapticReceptor>)>,
    neurons: Query<&NeuronId>,
    clock: Res<SimClock>,
    signed: Option<Res<SignedChannels>>,
    partition: Option<Res<Partition>>,
) {
    if edits.is_empty() {
        // An index inserted directly (index-only synapses) still needs a ring that fits it
        // (`ensure` does nothing when it already does).
        if !index.is_empty() {
            fit_ring(&mut ring, &index, clock.step(), signed.is_some());
        }
        return;
    }
    let edits = std::mem::take(&mut *edits);
    let edge_of = |e: Entity| {
        synapses.get(e).ok().map(|(s, w, d, r)| Edge {
            pre: s.pre.0,
            post: s.post.0,
            weight: w.0,
            delay: d.0.max(1),
            entity: e,
            receptor: r.map_or(0, |r| r.0),
        })
    };
    if !edits.added.is_empty() || !edits.removed.is_empty() {
        let removed: EntityHashSet = edits.removed.iter().map(|&(_, e)| e).collect();
        let mut edges: Vec<Edge> = index.edges().filter(|e| !removed.contains(&e.entity)).collect();
        // An entity whose `Synapse` was replaced is both removed and added: the removal above
        // drops the old edge, the addition below brings the current one.
        let mut seen = EntityHashSet::default();
        edges.extend(edits.added.iter().filter(|e| seen.insert(**e)).filter_map(|&e| edge_of(e)));
        // Split over processes, this one holds some neurons but indexes every presynaptic id.
        let max_id = neurons.iter().map(|n| n.0 as usize + 1).max().unwrap_or(0).max(partition.map_or(0, |p| p.neurons as usize));
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
    fit_ring(&mut ring, &index, clock.step(), signed.is_some());
}

/// Makes the ring fit the index: its neurons, its largest delay, its receptor ports.
fn fit_ring(ring: &mut DelayRing, index: &SynapseIndex, now: u64, signed: bool) {
    ring.ensure(index.neuron_count(), usize::from(index.max_delay()) + 1, now, signed, usize::from(index.max_receptor()));
}

fn propagate_spikes(
    index: Res<SynapseIndex>,
    spikes: Res<StepSpikes>,
    mut ring: ResMut<DelayRing>,
    mut diag: ResMut<DeliveryDiagnostics>,
    clock: Res<SimClock>,
    batched: Option<ResMut<BatchedSpikes>>,
) {
    // A split run exchanging once per minimum-delay interval: the steps gathered at this
    // exchange, in emission order (none between exchanges).
    if let Some(mut b) = batched
        && b.active
    {
        for (step, ids) in std::mem::take(&mut b.due) {
            deliver(&index, &ids, &mut ring, &mut diag, step);
        }
        return;
    }
    deliver(&index, &spikes.ids, &mut ring, &mut diag, clock.step());
}

/// Adds the out-edges of `ids` (spikes emitted at `step`) to the ring slots they are due in.
fn deliver(index: &SynapseIndex, ids: &[u32], ring: &mut DelayRing, diag: &mut DeliveryDiagnostics, step: u64) {
    if ids.is_empty() || index.is_empty() {
        return;
    }
    // Events, and the work they make: a consecutive row is one slice add, ≈ 8× cheaper per
    // event than scattered targets (W1's 7 500 events a step take ≈ 2 µs, less than a hand-off
    // to another thread).
    let (events, work) = ids.iter().fold((0usize, 0usize), |(events, work), &s| {
        let n = index.out_degree(s);
        (events + n, work + if is_slice_row(index, s) { n / 8 } else { n })
    });
    diag.events += events as u64;
    let base = ring.slot_of(step);
    let neurons = ring.neurons;
    if neurons == 0 {
        return;
    }
    if !index.receptors().is_empty() {
        // Receptor ports: on the calling thread, each edge into the row of its port.
        deliver_ports(index, ids, ring, base);
        return;
    }
    let threads = if work < biospike_runtime::PARALLEL_MIN_EVENTS { 1 } else { biospike_runtime::parallel::threads() };
    // Thread t owns neurons lo..hi in every slot (of both channels when signed).
    let chunk = neurons.div_ceil(threads);
    let range = |t: usize| ((t * chunk).min(neurons) as u32, ((t + 1) * chunk).min(neurons) as u32);
    let DelayRing { buf, inh, .. } = ring;
    if threads == 1 {
        // On the calling thread, without a hand-off.
        fn rows(b: &mut [f64], neurons: usize) -> Vec<&mut [f64]> {
            b.chunks_exact_mut(neurons).collect()
        }
        let n = neurons as u32;
        if inh.is_empty() {
            deliver_range(index, ids, &mut Plain(rows(buf, neurons)), 0, n, base);
        } else {
            deliver_range(index, ids, &mut Signed { ex: rows(buf, neurons), inh: rows(inh, neurons) }, 0, n, base);
        }
        return;
    }
    if inh.is_empty() {
        let blocks = split_blocks(buf, neurons, chunk, threads);
        biospike_runtime::parallel::run_parts(blocks.into_iter().enumerate(), |(t, rows)| {
            let (lo, hi) = range(t);
            deliver_range(index, ids, &mut Plain(rows), lo, hi, base);
        });
    } else {
        let blocks = split_blocks(buf, neurons, chunk, threads).into_iter().zip(split_blocks(inh, neurons, chunk, threads));
        biospike_runtime::parallel::run_parts(blocks.enumerate(), |(t, (ex, inh))| {
            let (lo, hi) = range(t);
            deliver_range(index, ids, &mut Signed { ex, inh }, lo, hi, base);
        });
    }
}

/// The ring's rows cut into `threads` blocks of `chunk` neurons: block `t` holds, for every
/// slot, neurons `t·chunk..(t + 1)·chunk`.
fn split_blocks(buf: &mut [f64], neurons: usize, chunk: usize, threads: usize) -> Vec<Vec<&mut [f64]>> {
    let mut blocks: Vec<Vec<&mut [f64]>> = (0..threads).map(|_| Vec::new()).collect();
    for row in buf.chunks_exact_mut(neurons) {
        let mut rest = row;
        for block in &mut blocks {
            let (mine, tail) = rest.split_at_mut(chunk.min(rest.len()));
            block.push(mine);
            rest = tail;
        }
    }
    blocks
}

/// Where one block's delivery adds its weights: one row per slot, or (with
/// [`SignedChannels`]) one row per slot and channel, each weight into the channel of its sign.
trait RingRows {
    /// Number of slots.
    fn slots(&self) -> usize;
    /// `row[slot][i] += w`.
    fn add(&mut self, slot: usize, i: usize, w: f32);
    /// `row[slot][from + k] += weights[k]`.
    fn add_run(&mut self, slot: usize, from: usize, weights: &[f32]);
}

/// The plain ring's rows.
struct Plain<'a>(Vec<&'a mut [f64]>);

impl RingRows for Plain<'_> {
    #[inline(always)]
    fn slots(&self) -> usize {
        self.0.len()
    }
    #[inline(always)]
    fn add(&mut self, slot: usize, i: usize, w: f32) {
        self.0[slot][i] += f64::from(w);
    }
    #[inline(always)]
    fn add_run(&mut self, slot: usize, from: usize, weights: &[f32]) {
        add_weights(&mut self.0[slot][from..from + weights.len()], weights);
    }
}

/// The signed ring's rows: positive weights into `ex`, negative ones into `inh`.
struct Signed<'a> {
    ex: Vec<&'a mut [f64]>,
    inh: Vec<&'a mut [f64]>,
}

impl RingRows for Signed<'_> {
    #[inline(always)]
    fn slots(&self) -> usize {
        self.ex.len()
    }
    #[inline(always)]
    fn add(&mut self, slot: usize, i: usize, w: f32) {
        if w < 0.0 {
            self.inh[slot][i] += f64::from(w);
        } else {
            self.ex[slot][i] += f64::from(w);
        }
    }
    #[inline(always)]
    fn add_run(&mut self, slot: usize, from: usize, weights: &[f32]) {
        for (k, &w) in weights.iter().enumerate() {
            self.add(slot, from + k, w);
        }
    }
}

/// `dst[k] += weights[k]`, widened to `f64`: one consecutive row's delivery.
#[inline(always)]
fn widen_add(dst: &mut [f64], weights: &[f32]) {
    for (x, &w) in dst.iter_mut().zip(weights) {
        *x += f64::from(w);
    }
}

biospike_runtime::avx512_kernel!(
    fn add_weights(dst: &mut [f64], weights: &[f32]) = widen_add;
);

/// Adds every out-edge of `spikes` whose target lies in `lo..hi` to the ring rows `rows` (one
/// per slot, each starting at neuron `lo`). Each target sums in spike order, then edge order,
/// whatever the thread count. A row whose targets in range are consecutive neurons with one
/// common delay is one slice add (all-to-all and block projections).
#[inline]
fn deliver_range<R: RingRows>(index: &SynapseIndex, spikes: &[u32], rows: &mut R, lo: u32, hi: u32, base: usize) {
    let slots = rows.slots();
    let slot_after = |d: u16| {
        let s = base + usize::from(d);
        if s >= slots { s % slots } else { s }
    };
    for (i, &pre) in spikes.iter().enumerate() {
        if let Some(&next) = spikes.get(i + 1) {
            prefetch_row(index, next);
        }
        let r = index.row(pre);
        let from = index.consecutive_from(pre);
        if let (Some(d), true) = (index.uniform_delay(), from != SynapseIndex::SCATTERED) {
            // Targets from..from + len, one delay: the part inside lo..hi is one slice add,
            // found without reading the targets.
            let (a, b) = (from.max(lo), (from + r.len() as u32).min(hi));
            if a < b {
                let weights = &index.weights()[r.start + (a - from) as usize..r.start + (b - from) as usize];
                rows.add_run(slot_after(d), (a - lo) as usize, weights);
            }
            continue;
        }
        let posts = &index.posts()[r.clone()];
        let start = match posts.first() {
            Some(&p) if p < lo => posts.partition_point(|&p| p < lo),
            _ => 0,
        };
        let end = match posts.last() {
            Some(&p) if p >= hi => start + posts[start..].partition_point(|&p| p < hi),
            _ => posts.len(),
        };
        let posts = &posts[start..end];
        let weights = &index.weights()[r.clone()][start..end];
        if let Some(d) = index.uniform_delay() {
            let slot = slot_after(d);
            for (&post, &w) in posts.iter().zip(weights) {
                rows.add(slot, (post - lo) as usize, w);
            }
        } else {
            let delays = &index.delays()[r][start..end];
            for ((&post, &w), &d) in posts.iter().zip(weights).zip(delays) {
                rows.add(slot_after(d), (post - lo) as usize, w);
            }
        }
    }
}

/// [`deliver_range`] for an index with receptor ports, over every target: each edge into its
/// port's rows, or (port 0) the channel of its sign. Each target sums in spike order, then edge
/// order, as there.
fn deliver_ports(index: &SynapseIndex, spikes: &[u32], ring: &mut DelayRing, base: usize) {
    let (slots, neurons) = (ring.slots, ring.neurons);
    let signed = ring.is_signed();
    let DelayRing { buf, inh, ports, .. } = ring;
    let (posts, weights, delays, receptors) = (index.posts(), index.weights(), index.delays(), index.receptors());
    for &pre in spikes {
        for k in index.row(pre) {
            let d = index.uniform_delay().unwrap_or_else(|| delays[k]);
            let at = (base + usize::from(d)) % slots * neurons + posts[k] as usize;
            let w = f64::from(weights[k]);
            match receptors[k] {
                0 if signed && w < 0.0 => inh[at] += w,
                0 => buf[at] += w,
                r => ports[(usize::from(r) - 1) * slots * neurons + at] += w,
            }
        }
    }
}

/// Whether `pre`'s row is delivered as one slice add: consecutive targets, one common delay.
#[inline]
fn is_slice_row(index: &SynapseIndex, pre: u32) -> bool {
    index.uniform_delay().is_some() && index.consecutive_from(pre) != SynapseIndex::SCATTERED
}

/// Asks for a scattered row ahead of its delivery (a slice row reads no targets, and its
/// weights stream).
#[inline]
fn prefetch_row(index: &SynapseIndex, pre: u32) {
    if is_slice_row(index, pre) {
        return;
    }
    let r = index.row(pre);
    prefetch_synapse_row(
        &index.posts()[r.clone()],
        &index.weights()[r.clone()],
        index.uniform_delay().is_none().then(|| &index.delays()[r]),
    );
}

/// Copies the live weights of [`SynapseIndex`] into the `SynapticWeight` components
/// ([`SynapseIndex::write_back`]).
fn write_back_weights(world: &mut World) {
    SynapseIndex::write_back(world);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-out gives what reading row by row gives, on tables in id order, with rows
    /// swapped in from the end, shuffled, and with ids beyond the ring.
    #[test]
    fn read_due_equals_row_by_row() {
        let due: Vec<f64> = (0..1000).map(|k| f64::from(k) * 0.5 - 7.0).collect();
        let mut swapped: Vec<u32> = (0..1000).collect();
        for k in 0..50 {
            swapped.swap(k, 999 - k);
        }
        let shuffled: Vec<u32> = (0..1000u32).map(|k| (k * 617) % 1000).collect();
        let beyond: Vec<u32> = (900..1100).collect();
        for ids in [(0..1000).collect::<Vec<u32>>(), (300..400).collect(), swapped, shuffled, beyond, (0..10).collect()] {
            let ids: Vec<NeuronId> = ids.into_iter().map(NeuronId).collect();
            let mut fast = vec![InputCurrent(1.0); ids.len()];
            let taken = add_due(&ids, &mut fast, &due);
            let slow: Vec<f64> = ids.iter().map(|id| 1.0 + due.get(id.0 as usize).copied().unwrap_or(0.0)).collect();
            assert_eq!(fast.iter().map(|i| i.0).collect::<Vec<_>>(), slow);
            assert_eq!(taken, ids.iter().filter(|id| (id.0 as usize) < due.len()).count());
        }
    }
}
