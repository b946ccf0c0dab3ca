//! Plasticity side state: per-neuron traces, plastic flags and in-edge lists aligned with the
//! index, and the row helpers the passes share.

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_runtime::rows::{prefetch, prefetch_synapse_row};

use crate::deferred::deferred;
use crate::settings::{PlasticProjections, StdpMode, StdpSettings, TraceUpdate};

pub(crate) const NEVER: u64 = u64::MAX;

/// End of a chain in the postsynaptic spike log.
pub(crate) const NONE: u32 = u32::MAX;

/// Postsynaptic spikes kept inline per neuron for deferred LTP.
pub(crate) const RECENT: usize = 8;

/// How many in-edges ahead LTP prefetches weights.
pub(crate) const PREFETCH: usize = 16;

pub(crate) const TABLE: usize = 4096;

/// Plasticity side state, aligned with [`SynapseIndex`] positions (rebuilt or remapped by
/// entity when the index's generation changes).
///
/// Memory: 1 byte per synapse (plastic flag); with [`LtpTiming::AtPostSpike`](crate::LtpTiming::AtPostSpike) 8 per plastic
/// synapse (in-edge list); in gated mode 4 per plastic synapse (eligibility) and 12 per synapse
/// (slot, and the entity list used to remap eligibility after a rebuild); about 80 bytes per
/// neuron (a 64-byte line with the last spike, both traces and the latest logged spikes;
/// in-degree; for deferred LTP the log head and mark), plus 12 bytes per postsynaptic spike
/// since the last flush (deferred LTP).
#[derive(Resource, Debug, Default)]
pub struct StdpState {
    pub(crate) generation: Option<u64>,
    pub(crate) plastic: Vec<bool>,
    /// Per presynaptic row: no plastic synapse, all plastic, or mixed (rows without plastic
    /// synapses, e.g. inhibitory ones, are skipped whole).
    pub(crate) row_plastic: Vec<RowPlastic>,
    /// Runs of consecutive plastic positions `(first k, length)`; eligibility is stored
    /// run after run, so the gated sweep works on contiguous slices.
    pub(crate) runs: Vec<(u32, u32)>,
    /// Where each position's eligibility lives (`u32::MAX` when not plastic); gated mode only.
    pub(crate) slot: Vec<u32>,
    pub(crate) eligibility: Vec<f32>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) in_start: Vec<u32>,
    pub(crate) in_pos: Vec<u32>,
    pub(crate) in_pre: Vec<u32>,
    /// Eligibility slot of each in-edge (gated mode): LTP reads it sequentially.
    pub(crate) in_slot: Vec<u32>,
    /// Per neuron: last spike, both traces and (deferred LTP) the latest logged spikes, in one
    /// cache line, so a pass over a row loads one line per target.
    pub(crate) neurons: Vec<NeuronTraces>,
    pub(crate) decay_plus: Vec<f64>,
    pub(crate) decay_minus: Vec<f64>,
    /// Deferred LTP: the spikes since the last flush, one backward chain per neuron
    /// (`head[i]` is neuron `i`'s latest entry, `log_prev` the one before it).
    pub(crate) log_step: Vec<u64>,
    pub(crate) log_prev: Vec<u32>,
    pub(crate) head: Vec<u32>,
    /// Deferred LTP: first step the log can hold (the step after the last flush).
    pub(crate) log_base: u64,
    /// Deferred LTP: the plastic row of neuron `i` has seen the postsynaptic spikes up to
    /// step `mark[i]`.
    pub(crate) mark: Vec<u64>,
    /// Deferred LTP: the marks of the rows being replayed.
    pub(crate) marks: Vec<u64>,
    /// Deferred LTP: `(last spike, x)` of this step's spiking neurons before their update.
    pub(crate) deferred_old: Vec<(u64, f64)>,
    /// Spike history for pairings through delays longer than the interval between a neuron's
    /// spikes: one backward chain per neuron (`hist_head[i]` its latest spike, `hist_prev` the
    /// one before), with the presynaptic trace just after each spike. Kept back to the first
    /// spike more than the longest delay before the neuron's latest ([`Self::compact_history`]).
    pub(crate) hist_step: Vec<u64>,
    pub(crate) hist_x: Vec<f64>,
    pub(crate) hist_prev: Vec<u32>,
    pub(crate) hist_head: Vec<u32>,
    /// The longest delay seen, steps (how far back the history must reach).
    pub(crate) max_delay: u64,
}

biospike_core::persist_fields!(StdpState {
    generation,
    plastic,
    row_plastic,
    runs,
    slot,
    eligibility,
    entities,
    in_start,
    in_pos,
    in_pre,
    in_slot,
    neurons,
    decay_plus,
    decay_minus,
    log_step,
    log_prev,
    head,
    log_base,
    mark,
    marks,
    deferred_old,
    hist_step,
    hist_x,
    hist_prev,
    hist_head,
    max_delay
});
biospike_core::persist_fields!(NeuronTraces { last, x, y, recent, prev_gap });

impl biospike_core::checkpoint::Persist for RowPlastic {
    fn save(&self, w: &mut biospike_core::checkpoint::StateWriter) {
        w.put(&(*self as u8));
    }
    fn load(r: &mut biospike_core::checkpoint::StateReader) -> Result<Self, biospike_core::checkpoint::CheckpointError> {
        match r.get::<u8>()? {
            0 => Ok(Self::None),
            1 => Ok(Self::All),
            2 => Ok(Self::Mixed),
            b => Err(r.corrupt(format!("{b} is not a row kind"))),
        }
    }
}

/// The [`StdpState`] checkpoint section: restored whole, then the trace decay tables are made
/// anew from the settings in force (a branched run may change the time constants).
pub(crate) fn load_checkpoint(
    world: &mut World,
    r: &mut biospike_core::checkpoint::StateReader,
) -> Result<(), biospike_core::checkpoint::CheckpointError> {
    biospike_core::checkpoint::load_resource::<StdpState>(world, r)?;
    let dt = world.resource::<SimClock>().dt_ms();
    let settings = world.get_resource::<StdpSettings>().cloned().unwrap_or_default();
    if let Some(mut state) = world.get_resource_mut::<StdpState>()
        && !state.decay_plus.is_empty()
    {
        state.decay_plus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_plus_ms).exp()).collect();
        state.decay_minus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_minus_ms).exp()).collect();
    }
    Ok(())
}

impl StdpState {
    /// Eligibility of index position `k` (0 when not plastic or in direct mode).
    pub fn eligibility(&self, k: usize) -> f32 {
        self.slot.get(k).and_then(|&j| self.eligibility.get(j as usize)).copied().unwrap_or(0.0)
    }

    /// Whether index position `k` is plastic.
    pub fn is_plastic(&self, k: usize) -> bool {
        self.plastic.get(k).copied().unwrap_or(false)
    }

    #[inline]
    pub(crate) fn row_kind(&self, pre: usize) -> RowPlastic {
        self.row_plastic.get(pre).copied().unwrap_or(RowPlastic::Mixed)
    }

    /// Number of plastic synapses.
    pub fn plastic_count(&self) -> usize {
        self.in_start.last().map_or(0, |&n| n as usize)
    }

    /// Postsynaptic spikes whose potentiation has not reached every weight yet
    /// ([`LtpTiming::Deferred`](crate::LtpTiming::Deferred); 0 otherwise and after a flush).
    pub fn pending_spikes(&self) -> usize {
        self.log_step.len()
    }

    pub(crate) fn decay(table: &[f64], steps: u64, dt: f64, tau: f64) -> f64 {
        match table.get(steps as usize) {
            Some(&d) => d,
            None => (-(steps as f64) * dt / tau).exp(),
        }
    }

    /// Presynaptic trace of `pre` seen by a postsynaptic spike at step `t` through a synapse
    /// with delay `d`: the trace of the spikes that have arrived by `t`, i.e. `pre`'s trace at
    /// step `t − d` (all-to-all: the sum over those spikes; nearest: the latest of them). 0 when
    /// none has arrived. Exact for any delay and any interval between `pre`'s spikes.
    #[inline]
    pub(crate) fn pre_trace(&self, settings: &StdpSettings, pre: usize, t: u64, d: u64, dt: f64) -> f64 {
        self.trace_at(settings, pre, &self.neurons[pre], t, d, dt)
    }

    /// [`Self::pre_trace`] with `pre`'s trace state `n` already at hand (a row's loop reads it
    /// once).
    #[inline(always)]
    pub(crate) fn trace_at(&self, settings: &StdpSettings, pre: usize, n: &NeuronTraces, t: u64, d: u64, dt: f64) -> f64 {
        if n.last == NEVER {
            0.0
        } else if n.last + d <= t {
            n.x * Self::decay(&self.decay_plus, t - n.last - d, dt, settings.tau_plus_ms)
        } else {
            self.trace_in_flight(settings, pre, n, t, d, dt)
        }
    }

    /// [`Self::trace_at`] when `pre`'s latest spike has not arrived by `t`.
    #[cold]
    #[inline(never)]
    fn trace_in_flight(&self, settings: &StdpSettings, pre: usize, n: &NeuronTraces, t: u64, d: u64, dt: f64) -> f64 {
        if n.prev_gap == NO_GAP {
            0.0
        } else if n.last - u64::from(n.prev_gap) + d <= t {
            // Only the latest spike is in flight: the trace just before it, carried to `t − d`.
            match settings.trace {
                TraceUpdate::Add => (n.x - 1.0) * ((n.last + d - t) as f64 * dt / settings.tau_plus_ms).exp(),
                TraceUpdate::Reset => Self::decay(&self.decay_plus, t - d - (n.last - u64::from(n.prev_gap)), dt, settings.tau_plus_ms),
            }
        } else {
            self.pre_trace_in_flight(settings, pre, t, d, dt)
        }
    }

    /// [`Self::pre_trace`] when `pre`'s two latest spikes have not arrived yet: the latest spike
    /// in the history that has.
    #[cold]
    pub(crate) fn pre_trace_in_flight(&self, settings: &StdpSettings, pre: usize, t: u64, d: u64, dt: f64) -> f64 {
        let mut e = self.hist_head.get(pre).copied().unwrap_or(NONE);
        while e != NONE {
            let s = self.hist_step[e as usize];
            if s + d <= t {
                return self.hist_x[e as usize] * Self::decay(&self.decay_plus, t - s - d, dt, settings.tau_plus_ms);
            }
            e = self.hist_prev[e as usize];
        }
        0.0
    }

    /// Drops history entries no pairing can need: per neuron, those before the first spike that
    /// is at least [`Self::max_delay`] steps older than its latest.
    pub(crate) fn compact_history(&mut self) {
        let (mut step, mut x, mut prev) = (Vec::new(), Vec::new(), Vec::new());
        let mut chain = Vec::new();
        for i in 0..self.hist_head.len() {
            let last = self.neurons.get(i).map_or(NEVER, |n| n.last);
            chain.clear();
            let mut e = self.hist_head[i];
            while e != NONE {
                chain.push(e);
                if self.hist_step[e as usize] + self.max_delay <= last {
                    break;
                }
                e = self.hist_prev[e as usize];
            }
            let mut head = NONE;
            for &e in chain.iter().rev() {
                prev.push(head);
                head = step.len() as u32;
                step.push(self.hist_step[e as usize]);
                x.push(self.hist_x[e as usize]);
            }
            self.hist_head[i] = head;
        }
        (self.hist_step, self.hist_x, self.hist_prev) = (step, x, prev);
    }

    /// Traces of this step's spikes: set to 1 (nearest-spike pairing) or decayed and increased
    /// by 1 (all-to-all), stamped with step `s`.
    pub(crate) fn update_traces(&mut self, settings: &StdpSettings, spikes: &[u32], s: u64, dt: f64) {
        let n = self.neurons.len();
        for &id in spikes {
            let i = id as usize;
            if i >= n {
                continue;
            }
            let old = self.neurons[i];
            let (x, y) = match (settings.trace, old.last) {
                (TraceUpdate::Reset, _) | (TraceUpdate::Add, NEVER) => (1.0, 1.0),
                (TraceUpdate::Add, l) => (
                    old.x * Self::decay(&self.decay_plus, s - l, dt, settings.tau_plus_ms) + 1.0,
                    old.y * Self::decay(&self.decay_minus, s - l, dt, settings.tau_minus_ms) + 1.0,
                ),
            };
            let t = &mut self.neurons[i];
            (t.x, t.y, t.last) = (x, y, s);
            t.prev_gap = if old.last == NEVER { NO_GAP } else { (s - old.last).min(u64::from(NO_GAP - 1)) as u32 };
            // With delays of one step at most one spike is ever in flight, and `prev_gap`
            // covers it: the history is needed only for longer delays.
            if self.max_delay > 1
                && let Some(head) = self.hist_head.get_mut(i)
            {
                self.hist_prev.push(*head);
                *head = self.hist_step.len() as u32;
                self.hist_step.push(s);
                self.hist_x.push(x);
            }
        }
        if self.hist_step.len() > 4 * self.hist_head.len() + 4096 {
            self.compact_history();
        }
    }

    pub(crate) fn prepare(&mut self, index: &SynapseIndex, settings: &StdpSettings, table: &PopulationTable, dt: f64) {
        if self.generation == Some(index.generation()) && self.plastic.len() == index.len() {
            return;
        }
        let gated = matches!(settings.mode, StdpMode::DopamineGated { .. });
        let deferred = deferred(settings).is_some();
        let n = index.neuron_count();
        let pop = table.population_per_neuron(n);
        let excitatory = |p: u16| table.populations.get(usize::from(p)).is_none_or(|i| i.kind == PopulationKind::Excitatory);
        let is_plastic = |pre: u32, post: u32| {
            let (a, b) = (pop.get(pre as usize).copied().unwrap_or(0), pop.get(post as usize).copied().unwrap_or(0));
            match &settings.plastic {
                PlasticProjections::All => true,
                PlasticProjections::ExcitatorySources => excitatory(a),
                PlasticProjections::Pairs(pairs) => pairs.contains(&(a, b)),
            }
        };
        let posts = index.posts();
        let starts = index.row_starts();
        let mut plastic = vec![false; index.len()];
        let mut in_deg = vec![0u32; n + 1];
        for pre in 0..n {
            for k in index.row(pre as u32) {
                if is_plastic(pre as u32, posts[k]) {
                    plastic[k] = true;
                    in_deg[posts[k] as usize + 1] += 1;
                }
            }
        }
        for i in 0..n {
            in_deg[i + 1] += in_deg[i];
        }
        // Deferred LTP walks presynaptic rows only: no in-edge lists.
        let (mut in_pos, mut in_pre) = (Vec::new(), Vec::new());
        if !deferred {
            let total = in_deg[n] as usize;
            let mut fill = in_deg.clone();
            (in_pos, in_pre) = (vec![0u32; total], vec![0u32; total]);
            for pre in 0..n {
                for k in starts[pre] as usize..starts[pre + 1] as usize {
                    if plastic[k] {
                        let slot = &mut fill[posts[k] as usize];
                        in_pos[*slot as usize] = k as u32;
                        in_pre[*slot as usize] = pre as u32;
                        *slot += 1;
                    }
                }
            }
        }
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for (k, &p) in plastic.iter().enumerate() {
            if p {
                match runs.last_mut() {
                    Some((start, len)) if (*start + *len) as usize == k => *len += 1,
                    _ => runs.push((k as u32, 1)),
                }
            }
        }
        if gated {
            let old: std::collections::HashMap<Entity, f32> = self
                .entities
                .iter()
                .copied()
                .zip(self.slot.iter().map(|&j| self.eligibility.get(j as usize).copied().unwrap_or(0.0)))
                .filter(|&(e, x)| x != 0.0 && e != Entity::PLACEHOLDER)
                .collect();
            self.entities = index.entities().to_vec();
            self.slot = vec![u32::MAX; index.len()];
            self.eligibility.clear();
            for &(start, len) in &runs {
                for k in start..start + len {
                    self.slot[k as usize] = self.eligibility.len() as u32;
                    // Index-only synapses (no entity) start again from 0 after a rebuild.
                    let kept = index.entity(k as usize).and_then(|e| old.get(&e));
                    self.eligibility.push(kept.copied().unwrap_or(0.0));
                }
            }
        }
        self.runs = runs;
        self.in_slot = if gated { in_pos.iter().map(|&k| self.slot[k as usize]).collect() } else { Vec::new() };
        self.row_plastic = (0..n)
            .map(|pre| {
                let row = &plastic[starts[pre] as usize..starts[pre + 1] as usize];
                if !row.contains(&true) {
                    RowPlastic::None
                } else if !row.contains(&false) {
                    RowPlastic::All
                } else {
                    RowPlastic::Mixed
                }
            })
            .collect();
        self.plastic = plastic;
        self.in_start = in_deg;
        self.in_pos = in_pos;
        self.in_pre = in_pre;
        if self.neurons.len() < n {
            self.neurons.resize(n, NeuronTraces::default());
        }
        if self.hist_head.len() < n {
            self.hist_head.resize(n, NONE);
        }
        self.max_delay = self.max_delay.max(u64::from(index.max_delay()).max(1));
        if deferred && self.head.len() < n {
            self.head.resize(n, NONE);
            self.mark.resize(n, 0);
        }
        self.decay_plus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_plus_ms).exp()).collect();
        self.decay_minus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_minus_ms).exp()).collect();
        self.generation = Some(index.generation());
    }

    /// Asks for the state of the first [`PREFETCH`] targets of `pre`'s row (the in-row
    /// prefetch starts after them).
    #[inline]
    pub(crate) fn prefetch_targets(&self, index: &RowView<'_>, pre: usize) {
        if self.row_kind(pre) == RowPlastic::None {
            return;
        }
        let row = index.row(pre);
        for &post in &index.posts[row.start..row.end.min(row.start + PREFETCH)] {
            if let Some(r) = self.neurons.get(post as usize) {
                prefetch(r);
            }
        }
    }
}

/// One neuron's plasticity state (one cache line).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct NeuronTraces {
    /// Step of the last spike ([`NEVER`] before the first).
    pub(crate) last: u64,
    /// Presynaptic trace just after the last spike.
    pub(crate) x: f64,
    /// Postsynaptic trace just after the last spike.
    pub(crate) y: f64,
    /// Deferred LTP: the `RECENT` latest logged spikes, newest first, stored as
    /// `step − log_base + 1` (0: none). Most replays find everything they need here, without
    /// walking the log (whose entries are scattered over memory).
    pub(crate) recent: [u32; RECENT],
    /// Steps from the previous spike to the last ([`NO_GAP`] when there was none): pairings
    /// through a delay longer than that interval need the previous spike.
    pub(crate) prev_gap: u32,
}

/// [`NeuronTraces::prev_gap`] of a neuron that has fired at most once.
pub(crate) const NO_GAP: u32 = u32::MAX;

impl Default for NeuronTraces {
    fn default() -> Self {
        Self { last: NEVER, x: 0.0, y: 0.0, recent: [0; RECENT], prev_gap: NO_GAP }
    }
}

/// Plastic synapses in one presynaptic row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum RowPlastic {
    None,
    All,
    #[default]
    Mixed,
}

/// The read-only side of [`SynapseIndex`], split off its weights so rows can be processed in
/// parallel on disjoint weight slices.
pub(crate) struct RowView<'a> {
    pub(crate) starts: &'a [u32],
    pub(crate) posts: &'a [u32],
    pub(crate) delays: &'a [u16],
    pub(crate) uniform: Option<u16>,
}

impl<'a> RowView<'a> {
    pub(crate) fn of(index: &'a mut SynapseIndex) -> (Self, &'a mut [f32]) {
        let uniform = index.uniform_delay();
        let (starts, posts, weights, delays) = index.rows_mut();
        (Self { starts, posts, delays, uniform }, weights)
    }

    /// Asks for the row of `pre` (with its weights in `weights`, which start at position
    /// `offset`) ahead of its pass ([`prefetch_synapse_row`]); rows without plastic synapses
    /// are skipped by the passes, so not asked for.
    #[inline]
    pub(crate) fn prefetch_row(&self, state: &StdpState, pre: usize, weights: &[f32], offset: usize) {
        if state.row_kind(pre) == RowPlastic::None {
            return;
        }
        let row = self.row(pre);
        let own = weights.get(row.start.saturating_sub(offset)..row.end.saturating_sub(offset)).unwrap_or_default();
        prefetch_synapse_row(&self.posts[row.clone()], own, self.uniform.is_none().then(|| &self.delays[row]));
    }

    #[inline]
    pub(crate) fn row(&self, pre: usize) -> std::ops::Range<usize> {
        match (self.starts.get(pre), self.starts.get(pre + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }
}

/// Runs `kernel(spike range, weights, offset)` over the rows of `pres`: once with all
/// weights (`offset` 0) for small batches, one thread, or ids that are not strictly ascending
/// and in range; otherwise on contiguous runs of `pres` holding about equal numbers of
/// **plastic** row entries (rows without plastic synapses cost nothing: the passes skip them,
/// and counting them put the excitatory rows of W2 on one thread), one per compute
/// thread, each with the weights of its own rows only (positions `offset..`). Every synapse is
/// touched by one run, in the same order: results do not depend on the thread count.
pub(crate) fn for_each_row_chunk(
    state: &StdpState,
    pres: &[u32],
    starts: &[u32],
    weights: &mut [f32],
    kernel: impl Fn(std::ops::Range<usize>, &mut [f32], usize) + Sync,
) {
    let cost = |p: u32| match state.row_kind(p as usize) {
        RowPlastic::None => 0,
        _ => (starts[p as usize + 1] - starts[p as usize]) as usize,
    };
    split_rows(pres, starts, weights, biospike_runtime::PARALLEL_MIN_EVENTS, cost, kernel);
}

/// [`for_each_row_chunk`] with its threshold and row cost as parameters.
pub(crate) fn split_rows(
    pres: &[u32],
    starts: &[u32],
    weights: &mut [f32],
    min_cost: usize,
    cost: impl Fn(u32) -> usize,
    kernel: impl Fn(std::ops::Range<usize>, &mut [f32], usize) + Sync,
) {
    let n = starts.len().saturating_sub(1);
    let row = |p: u32| starts[p as usize] as usize..starts[p as usize + 1] as usize;
    let threads = biospike_runtime::parallel::threads();
    let ordered = pres.windows(2).all(|w| w[0] < w[1]) && pres.last().is_none_or(|&p| (p as usize) < n);
    let total = if ordered { pres.iter().map(|&p| cost(p)).sum::<usize>() } else { 0 };
    if threads == 1 || !ordered || total < min_cost {
        kernel(0..pres.len(), weights, 0);
        return;
    }
    let per = total.div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    {
        let (mut rest, mut rest_offset) = (weights, 0usize);
        let (mut i, mut allotted, mut runs) = (0, 0, 0);
        while i < pres.len() {
            let first = i;
            let mut spent = 0;
            // The last run takes whatever is left, and so does a run once no cost is left.
            let last = runs + 1 == threads;
            while i < pres.len() && (last || spent < per || i == first || allotted + spent == total) {
                spent += cost(pres[i]);
                i += 1;
            }
            (allotted, runs) = (allotted + spent, runs + 1);
            let (a, b) = (row(pres[first]).start, row(pres[i - 1]).end);
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(a - rest_offset);
            let (mine, tail) = tail.split_at_mut(b - a);
            (rest, rest_offset) = (tail, b);
            parts.push((first..i, mine, a));
        }
    }
    biospike_runtime::parallel::run_parts(parts, |(range, weights, offset)| kernel(range, weights, offset));
}

#[cfg(test)]
mod tests {
    use super::split_rows;

    /// Rows without plastic synapses cost nothing: with two threads, two plastic rows of 10 and
    /// two static rows of 10 split as one plastic row per thread, not as plastic | static.
    #[test]
    fn row_chunks_balance_the_plastic_entries() {
        biospike_runtime::parallel::set_threads(2);
        let starts = [0u32, 10, 20, 30, 40];
        let mut weights = vec![0.0f32; 40];
        let runs = std::sync::Mutex::new(Vec::new());
        let plastic = |p: u32| if p < 2 { 10 } else { 0 };
        split_rows(&[0, 1, 2, 3], &starts, &mut weights, 0, plastic, |range, _, _| {
            if let Ok(mut r) = runs.lock() {
                r.push(range);
            }
        });
        let mut runs = runs.into_inner().unwrap_or_default();
        runs.sort_by_key(|r| r.start);
        assert_eq!(runs, [0..1, 1..4]);
    }

    /// Split over two threads, every position of every listed row is visited exactly once, with
    /// the right weight slice, and nothing else is touched.
    #[test]
    fn row_chunks_cover_each_listed_row_once() {
        biospike_runtime::parallel::set_threads(2);
        // 12 rows of lengths 0, 3, 1, 7, 0, 5, 2, 9, 4, 0, 6, 1.
        let lengths = [0u32, 3, 1, 7, 0, 5, 2, 9, 4, 0, 6, 1];
        let mut starts = vec![0u32];
        for l in lengths {
            starts.push(starts[starts.len() - 1] + l);
        }
        let total = starts[lengths.len()] as usize;
        for pres in [vec![1u32, 3, 4, 7, 10, 11], vec![0, 2, 5, 6, 8, 9], vec![7], vec![]] {
            let mut weights: Vec<f32> = (0..total).map(|k| k as f32).collect();
            split_rows(
                &pres,
                &starts,
                &mut weights,
                0,
                |p| starts[p as usize + 1] as usize - starts[p as usize] as usize,
                |range, w, offset| {
                    for i in range {
                        let p = pres[i] as usize;
                        for k in starts[p] as usize..starts[p + 1] as usize {
                            assert_eq!(w[k - offset], k as f32, "slice offset");
                            w[k - offset] += 1000.0;
                        }
                    }
                },
            );
            for (k, w) in weights.iter().enumerate() {
                let listed = pres.iter().any(|&p| (starts[p as usize] as usize..starts[p as usize + 1] as usize).contains(&k));
                assert_eq!(*w, k as f32 + if listed { 1000.0 } else { 0.0 }, "position {k} with rows {pres:?}");
            }
        }
    }
}
