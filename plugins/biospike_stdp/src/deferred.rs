//! Deferred potentiation ([`LtpTiming::Deferred`], NEST's scheme after Morrison et al. 2007):
//! a postsynaptic spike is logged, and each presynaptic row replays the logged spikes it has
//! not seen yet when it next spikes (before it delivers), at a flush, or before the index
//! changes. Each synapse sees the same changes and clips in the same order as at the
//! postsynaptic spike, so the weights are bit-identical at every flush point.

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_runtime::rows::prefetch;

use crate::settings::{LtpTiming, StdpMode, StdpSettings};
use crate::state::{NEVER, NONE, PREFETCH, RECENT, RowPlastic, RowView, StdpState, for_each_row_chunk};

impl StdpState {
    /// Logs this step's spikes as postsynaptic events for deferred LTP and keeps their
    /// presynaptic trace state from before this step's update (`deferred_old`, read by the LTD
    /// pass for the pairings of this same step). The rows of this step's presynaptic spikes
    /// caught up to the previous step before delivery (`catch_up_before_delivery`). Returns the
    /// plastic in-edges whose pairing is now pending.
    pub(crate) fn log_post_spikes(&mut self, spikes: &[u32], s: u64) -> u64 {
        let n = self.neurons.len();
        let mut events = 0u64;
        self.deferred_old.clear();
        for &id in spikes {
            let i = id as usize;
            if i >= n {
                self.deferred_old.push((NEVER, 0.0));
                continue;
            }
            self.log_prev.push(self.head[i]);
            self.head[i] = self.log_step.len() as u32;
            self.log_step.push(s);
            let r = &mut self.neurons[i].recent;
            r.copy_within(0..RECENT - 1, 1);
            r[0] = (s - self.log_base + 1) as u32;
            events += u64::from(self.in_start[i + 1] - self.in_start[i]);
            self.deferred_old.push((self.neurons[i].last, self.neurons[i].x));
        }
        events
    }

    /// Deferred LTP: replays on the plastic row of `pre` the postsynaptic spikes logged after
    /// `mark`, oldest first, with the presynaptic trace as it was at each of them (`pre` has
    /// not fired since its mark, so its trace state is still the one they saw). `weights` holds
    /// index positions `offset..`.
    ///
    /// Whether a target fired since the mark, and how often, is a coin flip for the branch
    /// predictor, so the row goes in blocks through two passes without data-dependent branches:
    /// the first counts each target's pending spikes (a prefix of its newest-first `recent`) and
    /// appends them to a flat list, the second walks that list backwards, which is oldest first
    /// within each synapse (the order the eager path pairs them in).
    #[allow(clippy::too_many_arguments, reason = "one row of a split: the row, its weights and the replay window")]
    fn replay_into(
        &self,
        settings: &StdpSettings,
        index: &RowView<'_>,
        weights: &mut [f32],
        offset: usize,
        pre: usize,
        mark: u64,
        dt: f64,
        scratch: &mut ReplayScratch,
    ) {
        let n = self.neurons[pre];
        let last = n.last;
        let kind = self.row_kind(pre);
        if last == NEVER || kind == RowPlastic::None {
            return;
        }
        let range = index.row(pre);
        let (posts, delays) = (index.posts, index.delays);
        // Logged spikes after the mark, in the encoding of `recent`.
        let base = self.log_base;
        let m1 = if mark >= base { (mark - base + 1) as u32 } else { 0 };
        // One pairing: the change and clip of the eager path, rounded to f32 in between.
        let pair = |w: &mut f32, t: u64, d: u64| {
            let x = self.trace_at(settings, pre, &n, t, d, dt);
            if x != 0.0 {
                settings.apply(w, |old| settings.ltp(old, x));
            }
        };
        let delay = |k: usize| u64::from(index.uniform.unwrap_or_else(|| delays[k]));
        let mixed = kind == RowPlastic::Mixed;
        let end = range.end;
        let ReplayScratch { steps, edges, overflow, log } = scratch;
        let mut first = range.start;
        while first < end {
            let stop = end.min(first + REPLAY_BLOCK);
            // Pass 1: every edge writes its target's whole `recent` (and its own block
            // position), then moves the cursor past the entries after the mark only.
            let mut p = 0usize;
            for k in first..stop {
                if k + PREFETCH < end
                    && let Some(r) = self.neurons.get(posts[k + PREFETCH] as usize)
                {
                    prefetch(r);
                }
                let recent = &self.neurons[posts[k] as usize].recent;
                let mut n = 0u32;
                for &r in recent {
                    n += u32::from(r > m1);
                }
                if mixed && !self.plastic[k] {
                    n = 0;
                }
                if n == RECENT as u32 {
                    // Maybe more than RECENT pending: this one walks the log below.
                    overflow.push(k as u32);
                    n = 0;
                }
                steps[p..p + RECENT].copy_from_slice(recent);
                edges[p..p + RECENT].fill((k - first) as u16);
                p += n as usize;
            }
            // Pass 2: newest first per edge in the list, so backwards is oldest first.
            for q in (0..p).rev() {
                let k = first + usize::from(edges[q]);
                pair(&mut weights[k - offset], u64::from(steps[q] - 1) + base, delay(k));
            }
            first = stop;
        }
        // More than RECENT pending: the log has them all (newest first).
        for k in overflow.drain(..) {
            let k = k as usize;
            log.clear();
            let mut e = self.head[posts[k] as usize];
            while e != NONE && self.log_step[e as usize] > mark {
                log.push(self.log_step[e as usize]);
                e = self.log_prev[e as usize];
            }
            let d = delay(k);
            for &t in log.iter().rev() {
                pair(&mut weights[k - offset], t, d);
            }
        }
    }

    /// Deferred LTP: replays the rows of `pres` (ascending) up to step `upto` and moves their
    /// marks there; large batches are split over the compute threads (`biospike_runtime::parallel`).
    pub(crate) fn replay_rows(&mut self, index: &mut SynapseIndex, settings: &StdpSettings, pres: &[u32], upto: u64, dt: f64) {
        let mut marks = std::mem::take(&mut self.marks);
        marks.clear();
        marks.extend(pres.iter().map(|&p| self.mark.get(p as usize).map_or(upto, |&m| m)));
        for &p in pres {
            if let Some(m) = self.mark.get_mut(p as usize) {
                *m = upto;
            }
        }
        let (view, weights) = RowView::of(index);
        let st = &*self;
        for_each_row_chunk(st, pres, view.starts, weights, |range, weights, offset| {
            let mut scratch = ReplayScratch::default();
            for i in range.clone() {
                // Two rows ahead: the row itself; one row ahead (its targets have arrived by
                // now): the state of the targets the in-row prefetch does not reach.
                if let Some(&next) = pres.get(i + 2).filter(|_| i + 2 < range.end) {
                    view.prefetch_row(st, next as usize, weights, offset);
                }
                if let Some(&next) = pres.get(i + 1).filter(|_| i + 1 < range.end) {
                    st.prefetch_targets(&view, next as usize);
                }
                if (pres[i] as usize) < st.mark.len() {
                    st.replay_into(settings, &view, weights, offset, pres[i] as usize, marks[i], dt, &mut scratch);
                }
            }
        });
        self.marks = marks;
    }

    /// Deferred LTP: applies everything pending to every plastic row and empties the log.
    pub(crate) fn flush(&mut self, index: &mut SynapseIndex, settings: &StdpSettings, dt: f64) {
        if self.log_step.is_empty() {
            return;
        }
        let upto = self.log_step.iter().copied().max().unwrap_or(0);
        let all: Vec<u32> = (0..self.mark.len().min(index.neuron_count()) as u32).collect();
        self.replay_rows(index, settings, &all, upto, dt);
        for i in 0..self.head.len() {
            if self.head[i] != NONE {
                self.head[i] = NONE;
                self.neurons[i].recent = [0; RECENT];
            }
        }
        self.log_step.clear();
        self.log_prev.clear();
        self.log_base = upto + 1;
    }
}

/// Edges per block of the two-pass replay ([`StdpState::replay_into`]).
const REPLAY_BLOCK: usize = 128;

/// Working memory of [`StdpState::replay_into`], reused across the rows of one run.
#[derive(Debug)]
struct ReplayScratch {
    /// Pending spikes (in the encoding of `recent`), newest first per edge.
    steps: Vec<u32>,
    /// Each entry's edge, as an offset in its block.
    edges: Vec<u16>,
    /// Edges with more pending spikes than `recent` holds.
    overflow: Vec<u32>,
    /// One overflow edge's spikes from the log.
    log: Vec<u64>,
}

impl Default for ReplayScratch {
    fn default() -> Self {
        // Each edge writes RECENT entries past the cursor, which moves at most RECENT per edge.
        let len = REPLAY_BLOCK * RECENT + RECENT;
        Self { steps: vec![0; len], edges: vec![0; len], overflow: Vec::new(), log: Vec::new() }
    }
}

/// `Some(flush period)` when `settings` defer LTP (direct mode only).
pub(crate) fn deferred(settings: &StdpSettings) -> Option<u64> {
    match (settings.mode, settings.ltp) {
        // At most 2^31 steps between flushes: `recent` counts steps from the last flush in u32.
        (StdpMode::Direct, LtpTiming::Deferred { flush_every_steps }) => Some(flush_every_steps.clamp(1, 1 << 31)),
        _ => None,
    }
}

/// Applies all deferred potentiation ([`LtpTiming::Deferred`]) to the weights of
/// [`SynapseIndex`]. Drivers call it before reading weights outside the flush points (the CLI
/// does before the summary and the final weights). A no-op otherwise.
pub fn flush_deferred_ltp(world: &mut World) {
    let (Some(settings), Some(clock), true) =
        (world.get_resource::<StdpSettings>().cloned(), world.get_resource::<SimClock>(), world.contains_resource::<StdpState>())
    else {
        return;
    };
    let dt = clock.dt_ms();
    world.resource_scope(|world, mut state: Mut<StdpState>| {
        if state.log_step.is_empty() {
            return;
        }
        if let Some(mut index) = world.get_resource_mut::<SynapseIndex>()
            && state.generation == Some(index.generation())
        {
            state.flush(&mut index, &settings, dt);
        }
    });
}

/// Deferred LTP: queued synapse edits replace weights at [`PropagationSystems::Index`]; the
/// potentiation owed to earlier spikes goes in first, as it would have without deferral.
pub(crate) fn flush_before_synapse_edits(
    edits: Option<Res<SynapseEdits>>,
    settings: Res<StdpSettings>,
    mut state: ResMut<StdpState>,
    mut index: ResMut<SynapseIndex>,
    clock: Res<SimClock>,
) {
    if state.log_step.is_empty() || edits.is_none_or(|e| e.is_empty()) || state.generation != Some(index.generation()) {
        return;
    }
    state.flush(&mut index, &settings, clock.dt_ms());
}

/// Deferred LTP: the rows about to deliver this step's spikes take the potentiation owed to
/// the postsynaptic spikes of earlier steps, so every spike leaves with the weight it would have
/// had without deferral.
pub(crate) fn catch_up_before_delivery(
    settings: Res<StdpSettings>,
    mut state: ResMut<StdpState>,
    mut index: ResMut<SynapseIndex>,
    spikes: Res<StepSpikes>,
    clock: Res<SimClock>,
) {
    let s = clock.step();
    if state.log_step.is_empty() || spikes.ids.is_empty() || s == 0 || state.generation != Some(index.generation()) {
        return;
    }
    state.replay_rows(&mut index, &settings, &spikes.ids, s - 1, clock.dt_ms());
}
