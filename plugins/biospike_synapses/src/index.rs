use bevy_ecs::prelude::*;

/// One synapse as the index stores it, used while (re)building.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Edge {
    pub pre: u32,
    pub post: u32,
    pub weight: f32,
    pub delay: u16,
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
    pub(crate) row_start: Vec<u32>,
    pub(crate) post: Vec<u32>,
    pub(crate) weight: Vec<f32>,
    pub(crate) delay: Vec<u16>,
    pub(crate) entity: Vec<Entity>,
    pub(crate) max_delay: u16,
    /// `Some(d)` when every synapse has delay `d` (delivery then skips the delay array).
    pub(crate) uniform_delay: Option<u16>,
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

    pub(crate) fn row(&self, pre: u32) -> std::ops::Range<usize> {
        let i = pre as usize;
        match (self.row_start.get(i), self.row_start.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
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
    pub(crate) fn find(&self, pre: u32, post: u32, entity: Entity) -> Option<usize> {
        let r = self.row(pre);
        let start = r.start;
        let posts = &self.post[r.clone()];
        let ents = &self.entity[r];
        let lo = posts.partition_point(|&p| p < post);
        let hi = posts.partition_point(|&p| p <= post);
        (lo..hi).find(|&k| ents[k] == entity).map(|k| start + k)
    }

    pub(crate) fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        (0..self.neuron_count()).flat_map(move |pre| {
            self.row(pre as u32).map(move |k| Edge {
                pre: pre as u32,
                post: self.post[k],
                weight: self.weight[k],
                delay: self.delay[k],
                entity: self.entity[k],
            })
        })
    }

    /// Builds the CSR arrays from an edge list (any order) for `n_neurons` presynaptic rows.
    pub(crate) fn from_edges(n_neurons: usize, mut edges: Vec<Edge>) -> Self {
        edges.sort_unstable_by_key(|e| (e.pre, e.post, e.entity.to_bits()));
        let mut row_start = vec![0u32; n_neurons + 1];
        for e in &edges {
            row_start[e.pre as usize + 1] += 1;
        }
        for i in 0..n_neurons {
            row_start[i + 1] += row_start[i];
        }
        Self {
            row_start,
            max_delay: edges.iter().map(|e| e.delay).max().unwrap_or(0),
            uniform_delay: edges.first().map(|e| e.delay).filter(|&d| edges.iter().all(|e| e.delay == d)),
            post: edges.iter().map(|e| e.post).collect(),
            weight: edges.iter().map(|e| e.weight).collect(),
            delay: edges.iter().map(|e| e.delay).collect(),
            entity: edges.iter().map(|e| e.entity).collect(),
        }
    }
}

/// Synaptic input in flight: for each neuron, `slots` accumulators, one per future step
/// (modulo `slots`). Neuron-major (`buf[neuron * slots + slot]`), so a range of targets is one
/// contiguous block that a thread can own.
///
/// Memory: `8 × slots` bytes per neuron, `slots = max delay + 1`.
#[derive(Resource, Debug, Default, Clone)]
pub struct DelayRing {
    pub(crate) slots: usize,
    pub(crate) neurons: usize,
    pub(crate) buf: Vec<f64>,
}

impl DelayRing {
    /// Number of slots (max delay + 1).
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Input already scheduled for `neuron` at absolute `step` (0 if none or out of range).
    pub fn pending(&self, neuron: u32, step: u64) -> f64 {
        if self.slots == 0 {
            return 0.0;
        }
        let slot = (step % self.slots as u64) as usize;
        self.buf.get(neuron as usize * self.slots + slot).copied().unwrap_or(0.0)
    }

    /// Resizes to at least `neurons` × `slots`, keeping what is in flight: the value due at
    /// absolute step `s` (for `s` from `now`) stays due at `s`.
    pub(crate) fn ensure(&mut self, neurons: usize, slots: usize, now: u64) {
        let slots = slots.max(self.slots).max(2);
        let neurons = neurons.max(self.neurons);
        if slots == self.slots && neurons == self.neurons {
            return;
        }
        let mut buf = vec![0.0; neurons * slots];
        if self.slots > 0 {
            for n in 0..self.neurons {
                for ahead in 0..self.slots as u64 {
                    let s = now + ahead;
                    let old = self.buf[n * self.slots + (s % self.slots as u64) as usize];
                    buf[n * slots + (s % slots as u64) as usize] = old;
                }
            }
        }
        *self = Self { slots, neurons, buf };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pre: u32, post: u32, w: f32, i: u32) -> Edge {
        Edge { pre, post, weight: w, delay: 1, entity: Entity::from_raw_u32(i).unwrap_or(Entity::PLACEHOLDER) }
    }

    #[test]
    fn rows_are_grouped_and_sorted() {
        let idx = SynapseIndex::from_edges(3, vec![e(2, 0, 1.0, 1), e(0, 2, 2.0, 2), e(0, 1, 3.0, 3), e(2, 1, 4.0, 4)]);
        assert_eq!(idx.out_degree(0), 2);
        assert_eq!(idx.out_degree(1), 0);
        let row0: Vec<_> = idx.out_edges(0).map(|(p, w, _, _)| (p, w)).collect();
        assert_eq!(row0, [(1, 3.0), (2, 2.0)]);
        assert_eq!(idx.edges().count(), 4);
    }

    #[test]
    fn ring_resize_keeps_values_in_flight() {
        let mut ring = DelayRing::default();
        ring.ensure(2, 2, 10);
        let slot = (11 % 2) as usize;
        ring.buf[slot] = 7.0; // neuron 0, due at step 11
        ring.ensure(2, 5, 10);
        assert_eq!(ring.pending(0, 11), 7.0);
        assert_eq!(ring.pending(0, 12), 0.0);
    }
}
