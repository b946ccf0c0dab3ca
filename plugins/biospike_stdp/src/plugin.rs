use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_runtime::rows::{prefetch, prefetch_synapse_row};

/// How a spike updates its neuron's traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceUpdate {
    /// Set to 1: each spike pairs with the nearest partner spike (Izhikevich 2007).
    #[default]
    Reset,
    /// Add 1: all-to-all pairing (Song, Miller & Abbott 2000).
    Add,
}

/// How the change depends on the current weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightDependence {
    /// Independent of `w` (clipped to the bounds).
    #[default]
    Additive,
    /// LTP scaled by `w_max − w`, LTD by `w − w_min` (soft bounds).
    Multiplicative,
}

/// Where pairings go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StdpMode {
    /// Straight into the weight.
    Direct,
    /// Into per-synapse eligibility, turned into weight by dopamine every
    /// `update_every_steps`.
    DopamineGated {
        /// Eligibility time constant, ms (the original project's `tau_synaptic`).
        tau_eligibility_ms: f64,
        /// Added to the dopamine level in the update (Izhikevich 2007: 0.002).
        dopamine_bias: f64,
        /// Update period in steps, `>= 1` (Izhikevich 2007: 10 steps of 1 ms).
        update_every_steps: u64,
    },
}

/// When LTP (a postsynaptic spike pairing with earlier presynaptic spikes) reaches the weights.
///
/// The result is the same either way: each synapse sees the same sequence of changes and
/// clips, so the weights are bit-identical at every point where [`LtpTiming::Deferred`] has
/// flushed (tested). Only [`StdpMode::Direct`] defers; the gated mode always applies at the
/// postsynaptic spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LtpTiming {
    /// At the postsynaptic spike: the spiking neuron's plastic in-edges, whose weights are
    /// scattered over the index (one cache miss per edge on large networks). Weights are
    /// current after every step.
    #[default]
    AtPostSpike,
    /// At the presynaptic neuron's next spike, walking its own (contiguous) row, as NEST does
    /// (Morrison et al. 2007): a spike only needs the weight it is delivered with, and each
    /// synapse replays the postsynaptic spikes it has not seen yet. Postsynaptic spike times are
    /// kept since the last flush. Everything pending is flushed
    /// - at the end of the steps `s` with `s % flush_every_steps == 0` or
    ///   `(s + 1) % flush_every_steps == 0` (so a recorder sampling at multiples of the period
    ///   and a structure pass running after every period-th step both see current weights),
    /// - before queued synapse edits are applied (a changed weight replaces a current one),
    /// - when a driver calls [`flush_deferred_ltp`] (the CLI does, before the final weights).
    ///
    /// Between flushes the weights in [`SynapseIndex`] lack the pending potentiation.
    Deferred {
        /// Flush period in steps, `1..=2^31`.
        flush_every_steps: u64,
    },
}

/// Which synapses are plastic, by source and target population.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum PlasticProjections {
    /// Synapses from excitatory populations (the default; neurons without a population count
    /// as excitatory).
    #[default]
    ExcitatorySources,
    /// Every synapse.
    All,
    /// Only these `(source, target)` population pairs.
    Pairs(Vec<(u16, u16)>),
}

/// Tunable parameters of [`StdpPlugin`].
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct StdpSettings {
    /// LTP amplitude `A+`.
    pub a_plus: f64,
    /// LTD amplitude `A−` (positive; the change is `−A− · y`).
    pub a_minus: f64,
    /// Presynaptic trace time constant `τ+`, ms.
    pub tau_plus_ms: f64,
    /// Postsynaptic trace time constant `τ−`, ms.
    pub tau_minus_ms: f64,
    /// Scales every weight change.
    pub learning_rate: f64,
    /// Lower weight bound.
    pub w_min: f64,
    /// Upper weight bound.
    pub w_max: f64,
    /// Additive or multiplicative.
    pub dependence: WeightDependence,
    /// Nearest-spike or all-to-all traces.
    pub trace: TraceUpdate,
    /// Direct or dopamine-gated.
    pub mode: StdpMode,
    /// Plastic synapses.
    pub plastic: PlasticProjections,
    /// When LTP is applied (direct mode).
    pub ltp: LtpTiming,
}

impl StdpSettings {
    /// The original project's pair rule: `A± = 0.005`, `τ± = 20` ms, additive, all-to-all,
    /// applied directly, weights in `[0, 1]`, learning rate 1.
    pub fn song_2000() -> Self {
        Self {
            a_plus: 0.005,
            a_minus: 0.005,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            learning_rate: 1.0,
            w_min: 0.0,
            w_max: 1.0,
            dependence: WeightDependence::Additive,
            trace: TraceUpdate::Add,
            mode: StdpMode::Direct,
            plastic: PlasticProjections::ExcitatorySources,
            ltp: LtpTiming::AtPostSpike,
        }
    }

    /// Izhikevich (2007) `daspnet.m`: traces set to 0.1 and decayed ×0.95 per ms (so
    /// `A+ = 0.1`, `A− = 1.5 · 0.1`, `τ± = −1/ln 0.95` ms), eligibility decayed ×0.99 every
    /// 10 ms (`τ_e = −10/ln 0.99` ms), `w ← clip(w + (0.002 + DA)·e, 0, 4)` every 10 ms.
    pub fn izhikevich_2007() -> Self {
        let tau = -1.0 / 0.95f64.ln();
        Self {
            a_plus: 0.1,
            a_minus: 0.15,
            tau_plus_ms: tau,
            tau_minus_ms: tau,
            learning_rate: 1.0,
            w_min: 0.0,
            w_max: 4.0,
            dependence: WeightDependence::Additive,
            trace: TraceUpdate::Reset,
            mode: StdpMode::DopamineGated { tau_eligibility_ms: -10.0 / 0.99f64.ln(), dopamine_bias: 0.002, update_every_steps: 10 },
            plastic: PlasticProjections::ExcitatorySources,
            ltp: LtpTiming::AtPostSpike,
        }
    }

    /// LTP change for weight `w` and presynaptic trace `x` (before the learning rate).
    #[inline]
    pub fn ltp(&self, w: f64, x: f64) -> f64 {
        match self.dependence {
            WeightDependence::Additive => self.a_plus * x,
            WeightDependence::Multiplicative => self.a_plus * x * (self.w_max - w),
        }
    }

    /// Applies a direct-mode change: `w ← clip(w + learning_rate · dw(w))`, rounded to f32.
    #[inline]
    fn apply(&self, w: &mut f32, dw: impl FnOnce(f64) -> f64) {
        let old = f64::from(*w);
        *w = (old + self.learning_rate * dw(old)).clamp(self.w_min, self.w_max) as f32;
    }

    /// LTD change (negative) for weight `w` and postsynaptic trace `y` (before the learning rate).
    #[inline]
    pub fn ltd(&self, w: f64, y: f64) -> f64 {
        match self.dependence {
            WeightDependence::Additive => -self.a_minus * y,
            WeightDependence::Multiplicative => -self.a_minus * y * (w - self.w_min),
        }
    }
}

impl Default for StdpSettings {
    fn default() -> Self {
        Self::song_2000()
    }
}

/// Counters.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StdpDiagnostics {
    /// LTP pairings evaluated (post spikes × plastic fan-in).
    pub ltp_events: u64,
    /// LTD pairings evaluated (pre spikes × plastic fan-out).
    pub ltd_events: u64,
    /// Dopamine-gated update sweeps.
    pub sweeps: u64,
}

const NEVER: u64 = u64::MAX;

/// End of a chain in the postsynaptic spike log.
const NONE: u32 = u32::MAX;

/// Postsynaptic spikes kept inline per neuron for deferred LTP.
const RECENT: usize = 8;

/// How many in-edges ahead LTP prefetches weights.
const PREFETCH: usize = 16;

const TABLE: usize = 4096;

/// Plasticity side state, aligned with [`SynapseIndex`] positions (rebuilt or remapped by
/// entity when the index's generation changes).
///
/// Memory: 1 byte per synapse (plastic flag); with [`LtpTiming::AtPostSpike`] 8 per plastic
/// synapse (in-edge list); in gated mode 4 per plastic synapse (eligibility) and 12 per synapse
/// (slot, and the entity list used to remap eligibility after a rebuild); about 80 bytes per
/// neuron (a 64-byte line with the last spike, both traces and the latest logged spikes;
/// in-degree; for deferred LTP the log head and mark), plus 12 bytes per postsynaptic spike
/// since the last flush (deferred LTP).
#[derive(Resource, Debug, Default)]
pub struct StdpState {
    generation: Option<u64>,
    plastic: Vec<bool>,
    /// Per presynaptic row: no plastic synapse, all plastic, or mixed (rows without plastic
    /// synapses, e.g. inhibitory ones, are skipped whole).
    row_plastic: Vec<RowPlastic>,
    /// Runs of consecutive plastic positions `(first k, length)`; eligibility is stored
    /// run after run, so the gated sweep works on contiguous slices.
    runs: Vec<(u32, u32)>,
    /// Where each position's eligibility lives (`u32::MAX` when not plastic); gated mode only.
    slot: Vec<u32>,
    eligibility: Vec<f32>,
    entities: Vec<Entity>,
    in_start: Vec<u32>,
    in_pos: Vec<u32>,
    in_pre: Vec<u32>,
    /// Eligibility slot of each in-edge (gated mode): LTP reads it sequentially.
    in_slot: Vec<u32>,
    /// Per neuron: last spike, both traces and (deferred LTP) the latest logged spikes, in one
    /// cache line, so a pass over a row loads one line per target.
    neurons: Vec<NeuronTraces>,
    decay_plus: Vec<f64>,
    decay_minus: Vec<f64>,
    /// Deferred LTP: the spikes since the last flush, one backward chain per neuron
    /// (`head[i]` is neuron `i`'s latest entry, `log_prev` the one before it).
    log_step: Vec<u64>,
    log_prev: Vec<u32>,
    head: Vec<u32>,
    /// Deferred LTP: first step the log can hold (the step after the last flush).
    log_base: u64,
    /// Deferred LTP: the plastic row of neuron `i` has seen the postsynaptic spikes up to
    /// step `mark[i]`.
    mark: Vec<u64>,
    /// Deferred LTP: the marks of the rows being replayed.
    marks: Vec<u64>,
    /// Deferred LTP: `(last spike, x)` of this step's spiking neurons before their update.
    deferred_old: Vec<(u64, f64)>,
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
    fn row_kind(&self, pre: usize) -> RowPlastic {
        self.row_plastic.get(pre).copied().unwrap_or(RowPlastic::Mixed)
    }

    /// Number of plastic synapses.
    pub fn plastic_count(&self) -> usize {
        self.in_start.last().map_or(0, |&n| n as usize)
    }

    /// Postsynaptic spikes whose potentiation has not reached every weight yet
    /// ([`LtpTiming::Deferred`]; 0 otherwise and after a flush).
    pub fn pending_spikes(&self) -> usize {
        self.log_step.len()
    }

    fn decay(table: &[f64], steps: u64, dt: f64, tau: f64) -> f64 {
        match table.get(steps as usize) {
            Some(&d) => d,
            None => (-(steps as f64) * dt / tau).exp(),
        }
    }

    /// Presynaptic trace of `pre` seen by a postsynaptic spike at step `t` through a synapse
    /// with delay `d`: only spikes that have arrived by `t` count. 0 when `pre` has not fired.
    #[inline]
    fn pre_trace(&self, settings: &StdpSettings, pre: usize, t: u64, d: u64, dt: f64) -> f64 {
        let n = &self.neurons[pre];
        self.trace_at(settings, n.last, n.x, t, d, dt)
    }

    /// [`Self::pre_trace`] for a neuron whose last spike was `last` with trace `x` just after it.
    #[inline]
    fn trace_at(&self, settings: &StdpSettings, last: u64, x: f64, t: u64, d: u64, dt: f64) -> f64 {
        if last == NEVER {
            0.0
        } else if last + d <= t {
            x * Self::decay(&self.decay_plus, t - last - d, dt, settings.tau_plus_ms)
        } else if settings.trace == TraceUpdate::Add {
            // The last spike is still in flight; earlier ones (all arrived) pair.
            (x - 1.0) * ((last + d - t) as f64 * dt / settings.tau_plus_ms).exp()
        } else {
            0.0
        }
    }

    fn prepare(&mut self, index: &SynapseIndex, settings: &StdpSettings, table: &PopulationTable, dt: f64) {
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
        if deferred && self.head.len() < n {
            self.head.resize(n, NONE);
            self.mark.resize(n, 0);
        }
        self.decay_plus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_plus_ms).exp()).collect();
        self.decay_minus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_minus_ms).exp()).collect();
        self.generation = Some(index.generation());
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
        let (last, x_last) = (self.neurons[pre].last, self.neurons[pre].x);
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
            let x = self.trace_at(settings, last, x_last, t, d, dt);
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

    /// Asks for the state of the first [`PREFETCH`] targets of `pre`'s row (the in-row
    /// prefetch starts after them).
    #[inline]
    fn prefetch_targets(&self, index: &RowView<'_>, pre: usize) {
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

    /// Deferred LTP: replays the rows of `pres` (ascending) up to step `upto` and moves their
    /// marks there; large batches are split over the compute threads (`biospike_runtime::parallel`).
    fn replay_rows(&mut self, index: &mut SynapseIndex, settings: &StdpSettings, pres: &[u32], upto: u64, dt: f64) {
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
    fn flush(&mut self, index: &mut SynapseIndex, settings: &StdpSettings, dt: f64) {
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

/// One neuron's plasticity state (one cache line).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct NeuronTraces {
    /// Step of the last spike ([`NEVER`] before the first).
    last: u64,
    /// Presynaptic trace just after the last spike.
    x: f64,
    /// Postsynaptic trace just after the last spike.
    y: f64,
    /// Deferred LTP: the `RECENT` latest logged spikes, newest first, stored as
    /// `step − log_base + 1` (0: none). Most replays find everything they need here, without
    /// walking the log (whose entries are scattered over memory).
    recent: [u32; RECENT],
}

impl Default for NeuronTraces {
    fn default() -> Self {
        Self { last: NEVER, x: 0.0, y: 0.0, recent: [0; RECENT] }
    }
}

/// Plastic synapses in one presynaptic row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum RowPlastic {
    None,
    All,
    #[default]
    Mixed,
}

/// The read-only side of [`SynapseIndex`], split off its weights so rows can be processed in
/// parallel on disjoint weight slices.
struct RowView<'a> {
    starts: &'a [u32],
    posts: &'a [u32],
    delays: &'a [u16],
    uniform: Option<u16>,
}

impl<'a> RowView<'a> {
    fn of(index: &'a mut SynapseIndex) -> (Self, &'a mut [f32]) {
        let uniform = index.uniform_delay();
        let (starts, posts, weights, delays) = index.rows_mut();
        (Self { starts, posts, delays, uniform }, weights)
    }

    /// Asks for the row of `pre` (with its weights in `weights`, which start at position
    /// `offset`) ahead of its pass ([`prefetch_synapse_row`]); rows without plastic synapses
    /// are skipped by the passes, so not asked for.
    #[inline]
    fn prefetch_row(&self, state: &StdpState, pre: usize, weights: &[f32], offset: usize) {
        if state.row_kind(pre) == RowPlastic::None {
            return;
        }
        let row = self.row(pre);
        let own = weights.get(row.start.saturating_sub(offset)..row.end.saturating_sub(offset)).unwrap_or_default();
        prefetch_synapse_row(&self.posts[row.clone()], own, self.uniform.is_none().then(|| &self.delays[row]));
    }

    #[inline]
    fn row(&self, pre: usize) -> std::ops::Range<usize> {
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
fn for_each_row_chunk(
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
fn split_rows(
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

/// `Some(flush period)` when `settings` defer LTP (direct mode only).
fn deferred(settings: &StdpSettings) -> Option<u64> {
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

/// Pair-based STDP in [`SimSystems::Plasticity`], on the live weights of [`SynapseIndex`].
/// Reads [`StdpSettings`] (default [`StdpSettings::song_2000`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdpPlugin;

impl Plugin for StdpPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before StdpPlugin");
        app.init_resource::<StdpSettings>().init_resource::<StdpState>().init_resource::<StdpDiagnostics>().init_resource::<SynapseIndex>();
        app.add_systems(
            SimSchedule,
            (
                flush_before_synapse_edits.in_set(PrepareSystems::Settle),
                catch_up_before_delivery.in_set(PropagationSystems::Index),
                apply_stdp.in_set(SimSystems::Plasticity),
                flush_deferred_ltp.in_set(WritebackSystems::Flush),
            )
                .in_set(BuiltinSystems),
        );
        app.add_systems(SimWritebackSchedule, flush_deferred_ltp.in_set(WritebackSystems::Flush).in_set(BuiltinSystems));
    }
}

/// Deferred LTP: queued synapse edits replace weights at [`PropagationSystems::Index`]; the
/// potentiation owed to earlier spikes goes in first, as it would have without deferral.
fn flush_before_synapse_edits(
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
fn catch_up_before_delivery(
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

#[allow(clippy::too_many_arguments, reason = "one stage reading the spikes, the index, dopamine and the settings")]
fn apply_stdp(
    settings: Res<StdpSettings>,
    mut state: ResMut<StdpState>,
    mut index: ResMut<SynapseIndex>,
    mut diag: ResMut<StdpDiagnostics>,
    spikes: Res<StepSpikes>,
    table: Res<PopulationTable>,
    levels: Option<Res<NeuromodulatorLevels>>,
    clock: Res<SimClock>,
) {
    let (s, dt) = (clock.step(), clock.dt_ms());
    let gated = match settings.mode {
        StdpMode::DopamineGated { tau_eligibility_ms, dopamine_bias, update_every_steps } => {
            Some((tau_eligibility_ms, dopamine_bias, update_every_steps.max(1)))
        }
        StdpMode::Direct => None,
    };
    let flush_every = deferred(&settings);
    let flush_now = flush_every.is_some_and(|f| s.is_multiple_of(f) || (s + 1).is_multiple_of(f));
    let flush_due = flush_now && !state.log_step.is_empty();
    if spikes.ids.is_empty() && gated.is_none_or(|(_, _, p)| !(s + 1).is_multiple_of(p)) && !flush_due {
        return;
    }
    if index.is_empty() {
        return;
    }
    let st = &mut *state;
    st.prepare(&index, &settings, &table, dt);
    let n = st.neurons.len();
    let mut ltp_events = 0u64;
    let mut ltd_events = 0u64;
    let uniform_delay = index.uniform_delay();
    let skip_weight = gated.is_some() && settings.dependence == WeightDependence::Additive;
    // 1. LTP with presynaptic traces of spikes that have arrived.
    if flush_every.is_some() {
        // Deferred: log this step's spikes as postsynaptic events. The rows of this step's
        // presynaptic spikes caught up to the previous step before delivery
        // (`catch_up_before_delivery`); this step's own pairings happen in the LTD loop below,
        // with the presynaptic trace as it was before this step's update.
        st.deferred_old.clear();
        for &id in &spikes.ids {
            let i = id as usize;
            if i >= n {
                st.deferred_old.push((NEVER, 0.0));
                continue;
            }
            st.log_prev.push(st.head[i]);
            st.head[i] = st.log_step.len() as u32;
            st.log_step.push(s);
            let r = &mut st.neurons[i].recent;
            r.copy_within(0..RECENT - 1, 1);
            r[0] = (s - st.log_base + 1) as u32;
            ltp_events += u64::from(st.in_start[i + 1] - st.in_start[i]);
            st.deferred_old.push((st.neurons[i].last, st.neurons[i].x));
        }
    } else {
        // At each postsynaptic spike, over its plastic in-edges.
        for &post in &spikes.ids {
            let p = post as usize;
            if p >= n {
                continue;
            }
            let range = st.in_start[p] as usize..st.in_start[p + 1] as usize;
            ltp_events += range.len() as u64;
            let row_end = range.end;
            for j in range {
                // The weights of a neuron's in-edges are scattered over the whole array (one
                // cache miss each): ask for the one PREFETCH edges ahead now.
                if let Some(&ahead) = st.in_pos.get(j + PREFETCH).filter(|_| j + PREFETCH < row_end) {
                    prefetch(&index.weights()[ahead as usize]);
                }
                let (k, pre) = (st.in_pos[j] as usize, st.in_pre[j] as usize);
                let d = u64::from(uniform_delay.unwrap_or_else(|| index.delays()[k]));
                let x = st.pre_trace(&settings, pre, s, d, dt);
                if x == 0.0 {
                    continue;
                }
                if gated.is_some() {
                    // An additive change into eligibility does not depend on w: skip the weight read.
                    let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
                    st.eligibility[st.in_slot[j] as usize] += settings.ltp(w, x) as f32;
                } else {
                    settings.apply(&mut index.weights_mut()[k], |old| settings.ltp(old, x));
                }
            }
        }
    }
    // 2. Traces of this step's spikes.
    for &id in &spikes.ids {
        let i = id as usize;
        if i >= n {
            continue;
        }
        let old = st.neurons[i];
        let (x, y) = match (settings.trace, old.last) {
            (TraceUpdate::Reset, _) | (TraceUpdate::Add, NEVER) => (1.0, 1.0),
            (TraceUpdate::Add, l) => (
                old.x * StdpState::decay(&st.decay_plus, s - l, dt, settings.tau_plus_ms) + 1.0,
                old.y * StdpState::decay(&st.decay_minus, s - l, dt, settings.tau_minus_ms) + 1.0,
            ),
        };
        let n = &mut st.neurons[i];
        (n.x, n.y, n.last) = (x, y, s);
    }
    // 3. LTD at each presynaptic spike, with postsynaptic traces including this step (deferred
    //    LTP: preceded, on synapses whose target fired this step too, by that pairing).
    for &pre in &spikes.ids {
        ltd_events += index.row(pre).len() as u64;
    }
    if let Some((..)) = gated {
        for &pre in &spikes.ids {
            let range = index.row(pre);
            let posts = index.posts();
            for k in range {
                if !st.plastic[k] {
                    continue;
                }
                let post = posts[k] as usize;
                let Some(&NeuronTraces { last, y, .. }) = st.neurons.get(post).filter(|n| n.last != NEVER) else {
                    continue;
                };
                let y = y * StdpState::decay(&st.decay_minus, s - last, dt, settings.tau_minus_ms);
                let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
                st.eligibility[st.slot[k] as usize] += settings.ltd(w, y) as f32;
            }
        }
    } else {
        let deferred_now = flush_every.is_some();
        if deferred_now {
            for &pre in &spikes.ids {
                if let Some(m) = st.mark.get_mut(pre as usize) {
                    *m = s;
                }
            }
        }
        let (view, weights) = RowView::of(&mut index);
        let st = &*st;
        let settings = &*settings;
        for_each_row_chunk(st, &spikes.ids, view.starts, weights, |range, weights, offset| {
            for i in range.clone() {
                if let Some(&next) = spikes.ids.get(i + 1).filter(|_| i + 1 < range.end) {
                    view.prefetch_row(st, next as usize, weights, offset);
                }
                let (pre_last, pre_x) = if deferred_now { st.deferred_old[i] } else { (NEVER, 0.0) };
                let kind = st.row_kind(spikes.ids[i] as usize);
                if kind == RowPlastic::None {
                    continue;
                }
                for k in view.row(spikes.ids[i] as usize) {
                    if kind == RowPlastic::Mixed && !st.plastic[k] {
                        continue;
                    }
                    let post = view.posts[k] as usize;
                    let Some(&NeuronTraces { last, y: y_last, .. }) = st.neurons.get(post).filter(|n| n.last != NEVER) else {
                        continue;
                    };
                    let w = &mut weights[k - offset];
                    if deferred_now && last == s && pre_last != NEVER {
                        let d = u64::from(view.uniform.unwrap_or(view.delays[k]));
                        let x = st.trace_at(settings, pre_last, pre_x, s, d, dt);
                        if x != 0.0 {
                            settings.apply(w, |old| settings.ltp(old, x));
                        }
                    }
                    let y = y_last * StdpState::decay(&st.decay_minus, s - last, dt, settings.tau_minus_ms);
                    settings.apply(w, |old| settings.ltd(old, y));
                }
            }
        });
    }
    diag.ltp_events += ltp_events;
    diag.ltd_events += ltd_events;
    if flush_now {
        st.flush(&mut index, &settings, dt);
    }
    // 4. Dopamine-gated update.
    if let Some((tau_e, bias, period)) = gated
        && (s + 1).is_multiple_of(period)
    {
        let da = levels.map_or(0.0, |l| l.level(Modulator::Dopamine));
        // f32 arithmetic on contiguous runs: the loop vectorizes.
        let gain = (settings.learning_rate * (bias + da)) as f32;
        let keep = (-(period as f64) * dt / tau_e).exp() as f32;
        let (lo, hi) = (settings.w_min as f32, settings.w_max as f32);
        let weights = index.weights_mut();
        let mut offset = 0usize;
        for &(start, len) in &st.runs {
            let (start, len) = (start as usize, len as usize);
            let ws = &mut weights[start..start + len];
            let es = &mut st.eligibility[offset..offset + len];
            for (w, e) in ws.iter_mut().zip(es.iter_mut()) {
                *w = (*w + gain * *e).clamp(lo, hi);
                *e *= keep;
            }
            offset += len;
        }
        diag.sweeps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
