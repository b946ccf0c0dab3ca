//! The connectivity side structure: synapse entities indexed as CSR rows by presynaptic
//! neuron. The synapse plugin prepares and maintains it; plasticity rules read and write its
//! weights; recorders sample them. It lives in the core crate because all three use it.

use bevy_ecs::prelude::*;

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
    /// The synapse entity.
    pub entity: Entity,
}

/// Out-edges grouped by presynaptic neuron (CSR), prepared from the synapse entities.
///
/// Row `i` (the out-edges of neuron `i`) is `row_start[i]..row_start[i + 1]`, sorted by
/// `(post, entity)`. Delivery walks the rows of the neurons that fired; the sort makes every
/// target receive its inputs in the same order whatever the thread count, and lets a thread
/// find its range of targets in a row by binary search.
///
/// Memory: 4 (post) + 4 (weight) + 2 (delay) + 8 (entity) = 18 bytes per synapse, plus
/// 4 bytes per neuron for `row_start`.
#[derive(Resource, Debug, Default, Clone)]
pub struct SynapseIndex {
    row_start: Vec<u32>,
    post: Vec<u32>,
    weight: Vec<f32>,
    delay: Vec<u16>,
    entity: Vec<Entity>,
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

    /// Synapse entity of each position.
    pub fn entities(&self) -> &[Entity] {
        &self.entity
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
    /// that differ). Plasticity and structural stages change the index; drivers call this
    /// before recording final weights. Returns how many components changed. The inserts queue
    /// in-place edits with the same values, which the synapse plugin applies harmlessly.
    pub fn write_back(world: &mut World) -> usize {
        let Some(index) = world.get_resource::<SynapseIndex>() else { return 0 };
        let live: Vec<(Entity, f32)> = index.entity.iter().copied().zip(index.weight.iter().copied()).collect();
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

    /// Out-edges of `pre` as `(post, weight, delay_steps, entity)`, sorted by post.
    pub fn out_edges(&self, pre: u32) -> impl Iterator<Item = (u32, f32, u16, Entity)> + '_ {
        self.row(pre).map(move |k| (self.post[k], self.weight[k], self.delay[k], self.entity[k]))
    }

    /// Position of the synapse `entity` from `pre` to `post`, if indexed.
    pub fn find(&self, pre: u32, post: u32, entity: Entity) -> Option<usize> {
        let r = self.row(pre);
        let start = r.start;
        let posts = &self.post[r.clone()];
        let ents = &self.entity[r];
        let lo = posts.partition_point(|&p| p < post);
        let hi = posts.partition_point(|&p| p <= post);
        (lo..hi).find(|&k| ents[k] == entity).map(|k| start + k)
    }

    /// Every indexed synapse, in CSR order.
    pub fn edges(&self) -> impl Iterator<Item = IndexedSynapse> + '_ {
        (0..self.neuron_count()).flat_map(move |pre| {
            self.row(pre as u32).map(move |k| IndexedSynapse {
                pre: pre as u32,
                post: self.post[k],
                weight: self.weight[k],
                delay: self.delay[k],
                entity: self.entity[k],
            })
        })
    }

    /// Builds the CSR arrays from an edge list (any order) for `n_neurons` presynaptic rows;
    /// the generation is `generation`.
    pub fn from_edges(n_neurons: usize, mut edges: Vec<IndexedSynapse>, generation: u64) -> Self {
        edges.sort_unstable_by_key(|e| (e.pre, e.post, e.entity.to_bits()));
        let mut row_start = vec![0u32; n_neurons + 1];
        for e in &edges {
            row_start[e.pre as usize + 1] += 1;
        }
        for i in 0..n_neurons {
            row_start[i + 1] += row_start[i];
        }
        let consecutive_from = (0..n_neurons)
            .map(|i| {
                let row = &edges[row_start[i] as usize..row_start[i + 1] as usize];
                match (row.first(), row.last()) {
                    // Sorted by post: spanning exactly len targets means each once, in a run.
                    (Some(a), Some(b)) if (b.post - a.post) as usize + 1 == row.len() => a.post,
                    _ => Self::SCATTERED,
                }
            })
            .collect();
        Self {
            row_start,
            consecutive_from,
            max_delay: edges.iter().map(|e| e.delay).max().unwrap_or(0),
            uniform_delay: edges.first().map(|e| e.delay).filter(|&d| edges.iter().all(|e| e.delay == d)),
            post: edges.iter().map(|e| e.post).collect(),
            weight: edges.iter().map(|e| e.weight).collect(),
            delay: edges.iter().map(|e| e.delay).collect(),
            entity: edges.iter().map(|e| e.entity).collect(),
            generation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pre: u32, post: u32, w: f32, i: u32) -> IndexedSynapse {
        IndexedSynapse { pre, post, weight: w, delay: 1, entity: Entity::from_raw_u32(i).unwrap_or(Entity::PLACEHOLDER) }
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
}
