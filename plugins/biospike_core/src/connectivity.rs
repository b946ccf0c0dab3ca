//! The connectivity side structure: synapse entities indexed as CSR rows by presynaptic
//! neuron. The synapse plugin prepares and maintains it; plasticity rules read and write its
//! weights; recorders sample them. It lives in the core crate because all three use it.

use bevy_ecs::prelude::*;

/// Synapse changes queued by component hooks (insertion, replacement, removal of
/// [`crate::Synapse`], [`crate::SynapticWeight`], [`crate::SynapticDelay`]), applied to the
/// [`SynapseIndex`] by the synapse plugin in [`crate::SimSystems::Prepare`]. Plasticity reads it
/// to settle deferred work before the index changes.
#[derive(Resource, Debug, Default, Clone)]
pub struct SynapseEdits {
    /// Entities whose `Synapse` was inserted (or replaced).
    pub added: Vec<Entity>,
    /// `(synapse, entity)` of removed synapses.
    pub removed: Vec<(crate::Synapse, Entity)>,
    /// Entities whose weight or delay was replaced.
    pub changed: Vec<Entity>,
}

impl SynapseEdits {
    /// Queues an inserted (or replaced) synapse.
    pub fn queue_added(&mut self, e: Entity) {
        self.added.push(e);
    }

    /// Queues a removed synapse with its endpoints.
    pub fn queue_removed(&mut self, synapse: crate::Synapse, e: Entity) {
        self.removed.push((synapse, e));
    }

    /// Queues a weight or delay change.
    pub fn queue_changed(&mut self, e: Entity) {
        self.changed.push(e);
    }

    /// Number of queued changes.
    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len()
    }

    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One synapse as the index stores it, used while (re)building and when listing edges.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndexedSynapse {
    /// Presynaptic neuron id.
    pub pre: u32,
    /// Postsynaptic neuron id.
    pub post: u32,
    /// Weight.
    pub weight: f32,
    /// Delay in steps (`>= 1`).
    pub delay: u16,
    /// The synapse entity ([`Entity::PLACEHOLDER`] for an index-only synapse).
    pub entity: Entity,
    /// Receptor port of the target (1-based, NEST's `receptor_type`), or 0: the channel of the
    /// weight's sign ([`crate::SynapticReceptor`]).
    pub receptor: u8,
}

/// Out-edges grouped by presynaptic neuron (CSR), prepared from the synapse entities.
///
/// Row `i` (the out-edges of neuron `i`) is `row_start[i]..row_start[i + 1]`, sorted by
/// `(post, entity)`. Delivery walks the rows of the neurons that fired; the sort makes every
/// target receive its inputs in the same order whatever the thread count, and lets a thread
/// find its range of targets in a row by binary search.
///
/// Memory: 4 (post) + 4 (weight) + 2 (delay) + 8 (entity) = 18 bytes per synapse (plus 1 for
/// its receptor port in networks with ports), plus 4 bytes per neuron for `row_start`.
///
/// # Index-only synapses
/// Large networks with a fixed topology can skip the synapse entities (≈ 100 bytes each in
/// the ECS) and live in the index alone: build it with [`SynapseIndex::index_only`] and insert
/// it as the resource. Such an index keeps no entity column (10 bytes per synapse). Their
/// weights are read and changed through [`SynapseIndex::weights_mut`]; synapse entities spawned
/// later are added next to them (the index-only ones report [`Entity::PLACEHOLDER`]), but an
/// index-only synapse cannot be despawned.
#[derive(Resource, Debug, Default, Clone)]
pub struct SynapseIndex {
    row_start: Vec<u32>,
    post: Vec<u32>,
    weight: Vec<f32>,
    delay: Vec<u16>,
    /// One entity per position, or empty when every synapse is index-only.
    entity: Vec<Entity>,
    /// One receptor port per position, or empty when every synapse has port 0 (the channel
    /// of its sign): 1 byte per synapse only in networks with receptor ports.
    receptor: Vec<u8>,
    /// The largest port in `receptor` (0 without ports): the delay ring's port rows.
    max_receptor: u8,
    max_delay: u16,
    /// `Some(d)` when every synapse has delay `d` (delivery then skips the delay array).
    uniform_delay: Option<u16>,
    /// Per row: the first target when the row's targets are consecutive neurons, each once
    /// (all-to-all, blocks), else [`SynapseIndex::SCATTERED`]. Lets delivery treat such a row
    /// as a slice without reading its targets.
    consecutive_from: Vec<u32>,
    /// Bumped on every rebuild: positions (`k`) of the previous generation are invalid.
    generation: u64,
}

crate::persist_fields!(SynapseIndex {
    row_start,
    post,
    weight,
    delay,
    entity,
    receptor,
    max_receptor,
    max_delay,
    uniform_delay,
    consecutive_from,
    generation
});

impl SynapseIndex {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.post.len()
    }

    /// `true` when there is no synapse.
    pub fn is_empty(&self) -> bool {
        self.post.is_empty()
    }

    /// Number of presynaptic rows (neurons covered).
    pub fn neuron_count(&self) -> usize {
        self.row_start.len().saturating_sub(1)
    }

    /// Largest delay, in steps (0 when empty).
    pub fn max_delay(&self) -> u16 {
        self.max_delay
    }

    /// Positions `k` of the out-edges of `pre` (empty when out of range).
    #[inline]
    pub fn row(&self, pre: u32) -> std::ops::Range<usize> {
        let i = pre as usize;
        match (self.row_start.get(i), self.row_start.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// Rebuild counter: arrays aligned with the positions `k` (plasticity state) must be
    /// remapped (by entity) when it changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `Some(d)` when every synapse has delay `d`.
    pub fn uniform_delay(&self) -> Option<u16> {
        self.uniform_delay
    }

    /// Marker of [`SynapseIndex::consecutive_from`] for rows that are not one run of
    /// consecutive targets.
    pub const SCATTERED: u32 = u32::MAX;

    /// `p` when the targets of `pre` are exactly `p, p + 1, …, p + out_degree − 1` (each once),
    /// else [`SynapseIndex::SCATTERED`] (also for empty or unknown rows).
    #[inline]
    pub fn consecutive_from(&self, pre: u32) -> u32 {
        self.consecutive_from.get(pre as usize).copied().unwrap_or(Self::SCATTERED)
    }

    /// Target neuron of each position.
    pub fn posts(&self) -> &[u32] {
        &self.post
    }

    /// Live weight of each position. Plasticity writes here; the `SynapticWeight` components are
    /// brought up to date by the plasticity plugin's write-back.
    pub fn weights(&self) -> &[f32] {
        &self.weight
    }

    /// Mutable live weights (for plasticity rules, in [`crate::SimSystems::Plasticity`]).
    pub fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weight
    }

    /// Row starts, targets, mutable weights and delays at once (for rules that split the
    /// weights between threads by row).
    pub fn rows_mut(&mut self) -> (&[u32], &[u32], &mut [f32], &[u16]) {
        (&self.row_start, &self.post, &mut self.weight, &self.delay)
    }

    /// Delay (steps) of each position.
    pub fn delays(&self) -> &[u16] {
        &self.delay
    }

    /// Synapse entity of each position; **empty** when every synapse is index-only (see
    /// [`SynapseIndex::index_only`]), and [`Entity::PLACEHOLDER`] at index-only positions of a
    /// mixed index. [`SynapseIndex::entity`] covers both.
    pub fn entities(&self) -> &[Entity] {
        &self.entity
    }

    /// The synapse entity at position `k`, `None` for an index-only synapse (or out of range).
    #[inline]
    pub fn entity(&self, k: usize) -> Option<Entity> {
        self.entity.get(k).copied().filter(|&e| e != Entity::PLACEHOLDER)
    }

    /// Receptor port of each position (1-based, NEST's `receptor_type`); **empty** when every
    /// synapse has port 0 (delivered into the channel of its sign).
    pub fn receptors(&self) -> &[u8] {
        &self.receptor
    }

    /// Largest receptor port (0 when no synapse names one).
    pub fn max_receptor(&self) -> u8 {
        self.max_receptor
    }

    /// `true` when the synapses have no entities (an index built by [`SynapseIndex::index_only`]).
    pub fn is_index_only(&self) -> bool {
        self.entity.is_empty() && !self.post.is_empty()
    }

    /// First position of each presynaptic row, plus the end (`neuron_count() + 1` values).
    pub fn row_starts(&self) -> &[u32] {
        &self.row_start
    }

    /// Sets the weight and delay at position `k` (an in-place edit; no rebuild).
    pub fn set(&mut self, k: usize, weight: f32, delay: u16) {
        if k >= self.post.len() {
            return;
        }
        self.weight[k] = weight;
        self.delay[k] = delay;
        self.max_delay = self.max_delay.max(delay);
        if self.uniform_delay != Some(delay) {
            self.uniform_delay = None;
        }
    }

    /// Copies the live weights of the index into the `SynapticWeight` components (only those
    /// that differ) and returns how many changed. Plasticity and structural stages change the
    /// index; the synapse plugin runs this in [`crate::WritebackSystems::Sync`] (at the steps
    /// [`crate::WritebackSettings`] names, and when the simulation finishes). `SynapticWeight`
    /// is immutable (changes go through inserts, which the synapse plugin's hooks see), so the
    /// inserts queue in-place edits with the same values, which the next
    /// [`crate::SimSystems::Prepare`] applies harmlessly.
    pub fn write_back(world: &mut World) -> usize {
        let Some(index) = world.get_resource::<SynapseIndex>() else { return 0 };
        let live: Vec<(Entity, f32)> =
            index.entity.iter().copied().zip(index.weight.iter().copied()).filter(|&(e, _)| e != Entity::PLACEHOLDER).collect();
        let mut changed = Vec::new();
        for (e, w) in live {
            if world.get::<crate::SynapticWeight>(e).is_some_and(|c| c.0 != w) {
                changed.push((e, crate::SynapticWeight(w)));
            }
        }
        let n = changed.len();
        world.insert_batch(changed);
        n
    }

    /// Out-degree of `pre`.
    pub fn out_degree(&self, pre: u32) -> usize {
        self.row(pre).len()
    }

    /// Out-edges of `pre` as `(post, weight, delay_steps, entity)`, sorted by post
    /// ([`Entity::PLACEHOLDER`] for index-only synapses).
    pub fn out_edges(&self, pre: u32) -> impl Iterator<Item = (u32, f32, u16, Entity)> + '_ {
        self.row(pre).map(move |k| (self.post[k], self.weight[k], self.delay[k], self.entity_or_placeholder(k)))
    }

    #[inline]
    fn entity_or_placeholder(&self, k: usize) -> Entity {
        self.entity.get(k).copied().unwrap_or(Entity::PLACEHOLDER)
    }

    /// Position of the synapse `entity` from `pre` to `post`, if indexed.
    pub fn find(&self, pre: u32, post: u32, entity: Entity) -> Option<usize> {
        let r = self.row(pre);
        let start = r.start;
        let posts = &self.post[r];
        let lo = posts.partition_point(|&p| p < post);
        let hi = posts.partition_point(|&p| p <= post);
        (lo..hi).find(|&k| self.entity_or_placeholder(start + k) == entity).map(|k| start + k)
    }

    /// Position of the first synapse from `pre` to `post` (by entity, index-only ones last).
    pub fn find_pair(&self, pre: u32, post: u32) -> Option<usize> {
        let r = self.row(pre);
        let k = r.start + self.post[r.clone()].partition_point(|&p| p < post);
        (k < r.end && self.post[k] == post).then_some(k)
    }

    /// Every indexed synapse, in CSR order.
    pub fn edges(&self) -> impl Iterator<Item = IndexedSynapse> + '_ {
        (0..self.neuron_count()).flat_map(move |pre| {
            self.row(pre as u32).map(move |k| IndexedSynapse {
                pre: pre as u32,
                post: self.post[k],
                weight: self.weight[k],
                delay: self.delay[k],
                entity: self.entity_or_placeholder(k),
                receptor: self.receptor.get(k).copied().unwrap_or(0),
            })
        })
    }

    /// Builds the CSR arrays from an edge list (any order) for `n_neurons` presynaptic rows;
    /// the generation is `generation`.
    pub fn from_edges(n_neurons: usize, mut edges: Vec<IndexedSynapse>, generation: u64) -> Self {
        // Stable: index-only synapses (all `PLACEHOLDER`) keep their order within a pair.
        edges.sort_by_key(|e| (e.pre, e.post, e.entity.to_bits()));
        let mut row_start = vec![0u32; n_neurons + 1];
        for e in &edges {
            row_start[e.pre as usize + 1] += 1;
        }
        for i in 0..n_neurons {
            row_start[i + 1] += row_start[i];
        }
        // No column when every synapse is index-only.
        let entity =
            if edges.iter().all(|e| e.entity == Entity::PLACEHOLDER) { Vec::new() } else { edges.iter().map(|e| e.entity).collect() };
        let receptor = if edges.iter().all(|e| e.receptor == 0) { Vec::new() } else { edges.iter().map(|e| e.receptor).collect() };
        Self::from_rows(
            row_start,
            edges.iter().map(|e| e.post).collect(),
            edges.iter().map(|e| e.weight).collect(),
            edges.iter().map(|e| e.delay).collect(),
            (entity, receptor),
            generation,
        )
    }

    /// The index of CSR columns whose rows are already sorted by target; derives the
    /// per-row run markers and the delay summary.
    fn from_rows(
        row_start: Vec<u32>,
        post: Vec<u32>,
        weight: Vec<f32>,
        delay: Vec<u16>,
        (entity, receptor): (Vec<Entity>, Vec<u8>),
        generation: u64,
    ) -> Self {
        let consecutive_from = row_start
            .windows(2)
            .map(|w| {
                let posts = &post[w[0] as usize..w[1] as usize];
                match (posts.first(), posts.last()) {
                    // Sorted by post: spanning exactly len targets means each once, in a run.
                    (Some(&a), Some(&b)) if (b - a) as usize + 1 == posts.len() => a,
                    _ => Self::SCATTERED,
                }
            })
            .collect();
        Self {
            row_start,
            consecutive_from,
            max_receptor: receptor.iter().copied().max().unwrap_or(0),
            max_delay: delay.iter().copied().max().unwrap_or(0),
            uniform_delay: delay.first().copied().filter(|&d| delay.iter().all(|&x| x == d)),
            post,
            weight,
            delay,
            entity,
            receptor,
            generation,
        }
    }

    /// Builds an index of **index-only** synapses (no entities) for `n_neurons` rows (more if
    /// an edge names a larger id) from a `(pre, post)` list: `attributes(k, pre, post)` gives
    /// the weight and delay (steps, `>= 1`) of edge `k`. Rows are sorted by target, as in
    /// [`SynapseIndex::from_edges`]; edges with the same `pre` and `post` (multapses) keep their
    /// list order (with entities they follow the entity ids).
    ///
    /// ```
    /// use biospike_core::SynapseIndex;
    /// let index = SynapseIndex::index_only(3, &[(2, 0), (0, 2), (0, 1)], |k, _, _| (k as f32, 1), 0);
    /// assert!(index.is_index_only());
    /// let row0: Vec<_> = index.out_edges(0).map(|(post, w, _, _)| (post, w)).collect();
    /// assert_eq!(row0, [(1, 2.0), (2, 1.0)]);
    /// ```
    pub fn index_only(
        n_neurons: usize,
        pairs: &[(u32, u32)],
        attributes: impl FnMut(usize, u32, u32) -> (f32, u16),
        generation: u64,
    ) -> Self {
        Self::index_only_generated(
            n_neurons,
            |emit| {
                for &(a, b) in pairs {
                    emit(a, b);
                }
            },
            attributes,
            generation,
        )
    }

    /// [`SynapseIndex::index_only`] without an edge list: `generate` hands every edge to its
    /// sink, and is called **twice** (once to count each row, once to fill it), so it must give
    /// the same edges in the same order both times (the keyed generators of
    /// `biospike_topology` do). Peak memory is the index itself (10 bytes per synapse): no
    /// list, entity, component or edge record is made per synapse.
    pub fn index_only_generated(
        n_neurons: usize,
        generate: impl FnMut(&mut dyn FnMut(u32, u32)),
        mut attributes: impl FnMut(usize, u32, u32) -> (f32, u16),
        generation: u64,
    ) -> Self {
        Self::index_only_with_receptors(
            n_neurons,
            generate,
            |k, pre, post| {
                let (w, d) = attributes(k, pre, post);
                (w, d, 0)
            },
            generation,
        )
    }

    /// [`SynapseIndex::index_only_generated`] whose `attributes` also give each edge's
    /// receptor port (0: the channel of the weight's sign; see [`crate::SynapticReceptor`]).
    /// The receptor column is kept only when some edge names a port.
    pub fn index_only_with_receptors(
        n_neurons: usize,
        mut generate: impl FnMut(&mut dyn FnMut(u32, u32)),
        mut attributes: impl FnMut(usize, u32, u32) -> (f32, u16, u8),
        generation: u64,
    ) -> Self {
        let mut row_start = vec![0u32; n_neurons + 1];
        let mut total = 0usize;
        generate(&mut |pre, post| {
            let need = pre.max(post) as usize + 2;
            if row_start.len() < need {
                row_start.resize(need, 0);
            }
            row_start[pre as usize + 1] += 1;
            total += 1;
        });
        let n_neurons = row_start.len() - 1;
        for i in 0..n_neurons {
            row_start[i + 1] += row_start[i];
        }
        // Delay 1 by default: a generator that breaks its contract (fewer edges the second time)
        // leaves weight-0 edges, never a delay of 0.
        let (mut post, mut weight, mut delay) = (vec![0u32; total], vec![0f32; total], vec![1u16; total]);
        let mut receptor = vec![0u8; total];
        let mut fill: Vec<u32> = row_start[..n_neurons].to_vec();
        let mut k = 0usize;
        generate(&mut |pre, p| {
            // A generator that gives more edges the second time has broken its contract;
            // extra edges are dropped rather than written out of bounds.
            let end = row_start.get(pre as usize + 1).copied().unwrap_or(0);
            let Some(at) = fill.get_mut(pre as usize).filter(|at| **at < end) else { return };
            let (w, d, port) = attributes(k, pre, p);
            let i = *at as usize;
            *at += 1;
            k += 1;
            (post[i], weight[i], delay[i], receptor[i]) = (p, w, d.max(1), port);
        });
        drop(fill);
        let mut scratch: Vec<(u32, f32, u16, u8)> = Vec::new();
        for i in 0..n_neurons {
            let r = row_start[i] as usize..row_start[i + 1] as usize;
            if !post[r.clone()].is_sorted() {
                scratch.clear();
                scratch.extend(r.clone().map(|k| (post[k], weight[k], delay[k], receptor[k])));
                // Stable: equal targets keep list order.
                scratch.sort_by_key(|e| e.0);
                for (k, &(p, w, d, port)) in r.clone().zip(&scratch) {
                    (post[k], weight[k], delay[k], receptor[k]) = (p, w, d, port);
                }
            }
        }
        if receptor.iter().all(|&r| r == 0) {
            receptor = Vec::new();
        }
        Self::from_rows(row_start, post, weight, delay, (Vec::new(), receptor), generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pre: u32, post: u32, w: f32, i: u32) -> IndexedSynapse {
        IndexedSynapse { pre, post, weight: w, delay: 1, entity: Entity::from_raw_u32(i).unwrap_or(Entity::PLACEHOLDER), receptor: 0 }
    }

    #[test]
    fn rows_are_grouped_and_sorted() {
        let idx = SynapseIndex::from_edges(3, vec![e(2, 0, 1.0, 1), e(0, 2, 2.0, 2), e(0, 1, 3.0, 3), e(2, 1, 4.0, 4)], 7);
        assert_eq!(idx.out_degree(0), 2);
        assert_eq!(idx.out_degree(1), 0);
        let row0: Vec<_> = idx.out_edges(0).map(|(p, w, _, _)| (p, w)).collect();
        assert_eq!(row0, [(1, 3.0), (2, 2.0)]);
        assert_eq!(idx.edges().count(), 4);
        assert_eq!(idx.generation(), 7);
        assert_eq!(idx.uniform_delay(), Some(1));
        // Row 0 targets 1, 2 (a run from 1); row 2 targets 0, 1; row 1 is empty.
        assert_eq!((idx.consecutive_from(0), idx.consecutive_from(1), idx.consecutive_from(2)), (1, SynapseIndex::SCATTERED, 0));
        let gap = SynapseIndex::from_edges(2, vec![e(0, 0, 1.0, 1), e(0, 2, 1.0, 2)], 0);
        assert_eq!(gap.consecutive_from(0), SynapseIndex::SCATTERED);
        let multapse = SynapseIndex::from_edges(2, vec![e(0, 1, 1.0, 1), e(0, 1, 1.0, 2)], 0);
        assert_eq!(multapse.consecutive_from(0), SynapseIndex::SCATTERED);
    }

    #[test]
    fn index_only_matches_the_entity_index_layout() {
        // Unsorted rows, a consecutive row (3 → 0, 1, 2), mixed delays.
        let pairs = [(3, 2), (0, 2), (3, 0), (0, 3), (1, 4), (3, 1), (0, 1)];
        let attr = |k: usize| (k as f32 + 0.5, 1 + (k % 3) as u16);
        let only = SynapseIndex::index_only(5, &pairs, |k, _, _| attr(k), 4);
        let edges = pairs.iter().enumerate().map(|(k, &(pre, post))| {
            let (w, d) = attr(k);
            IndexedSynapse { delay: d, ..e(pre, post, w, k as u32 + 1) }
        });
        let full = SynapseIndex::from_edges(5, edges.collect(), 4);
        assert!(only.is_index_only() && !full.is_index_only());
        assert!(only.entities().is_empty() && only.entity(0).is_none());
        assert_eq!((only.row_starts(), only.posts(), only.delays()), (full.row_starts(), full.posts(), full.delays()));
        assert_eq!(only.weights(), full.weights());
        assert_eq!((only.max_delay(), only.uniform_delay(), only.generation()), (3, None, 4));
        for pre in 0..5 {
            assert_eq!(only.consecutive_from(pre), full.consecutive_from(pre));
        }
        assert_eq!(only.out_edges(0).map(|(p, w, _, _)| (p, w)).collect::<Vec<_>>(), [(1, 6.5), (2, 1.5), (3, 3.5)]);
        assert_eq!(only.find_pair(0, 2), Some(1));
        assert_eq!(only.find_pair(0, 4), None);
        // Multapses keep list order.
        let multapse = SynapseIndex::index_only(2, &[(0, 1), (1, 0), (0, 1)], |k, _, _| (k as f32, 1), 0);
        assert_eq!(multapse.weights(), [0.0, 2.0, 1.0]);
        // An edge naming a neuron beyond `n_neurons` grows the rows.
        assert_eq!(SynapseIndex::index_only(1, &[(0, 6)], |_, _, _| (1.0, 1), 0).neuron_count(), 7);
    }
}
