use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::rows::prefetch;

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

/// How many in-edges ahead LTP prefetches weights.
const PREFETCH: usize = 16;

const TABLE: usize = 4096;

/// Plasticity side state, aligned with [`SynapseIndex`] positions (rebuilt or remapped by
/// entity when the index's generation changes).
///
/// Memory: 1 byte per synapse (plastic flag), 8 per plastic synapse (in-edge list); in gated
/// mode 4 per plastic synapse (eligibility) and 12 per synapse (slot, and the entity list used
/// to remap eligibility after a rebuild); 24 bytes per neuron (last spike, two trace values).
#[derive(Resource, Debug, Default)]
pub struct StdpState {
    generation: Option<u64>,
    plastic: Vec<bool>,
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
    last_spike: Vec<u64>,
    x_val: Vec<f64>,
    y_val: Vec<f64>,
    decay_plus: Vec<f64>,
    decay_minus: Vec<f64>,
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

    /// Number of plastic synapses.
    pub fn plastic_count(&self) -> usize {
        self.in_pos.len()
    }

    fn decay(table: &[f64], steps: u64, dt: f64, tau: f64) -> f64 {
        match table.get(steps as usize) {
            Some(&d) => d,
            None => (-(steps as f64) * dt / tau).exp(),
        }
    }

    fn prepare(&mut self, index: &SynapseIndex, settings: &StdpSettings, table: &PopulationTable, dt: f64) {
        if self.generation == Some(index.generation()) && self.plastic.len() == index.len() {
            return;
        }
        let gated = matches!(settings.mode, StdpMode::DopamineGated { .. });
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
        let total = in_deg[n] as usize;
        let mut fill = in_deg.clone();
        let (mut in_pos, mut in_pre) = (vec![0u32; total], vec![0u32; total]);
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
                .filter(|&(_, e)| e != 0.0)
                .collect();
            self.entities = index.entities().to_vec();
            self.slot = vec![u32::MAX; index.len()];
            self.eligibility.clear();
            for &(start, len) in &runs {
                for k in start..start + len {
                    self.slot[k as usize] = self.eligibility.len() as u32;
                    self.eligibility.push(old.get(&self.entities[k as usize]).copied().unwrap_or(0.0));
                }
            }
        }
        self.runs = runs;
        self.in_slot = if gated { in_pos.iter().map(|&k| self.slot[k as usize]).collect() } else { Vec::new() };
        self.plastic = plastic;
        self.in_start = in_deg;
        self.in_pos = in_pos;
        self.in_pre = in_pre;
        if self.last_spike.len() < n {
            self.last_spike.resize(n, NEVER);
            self.x_val.resize(n, 0.0);
            self.y_val.resize(n, 0.0);
        }
        self.decay_plus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_plus_ms).exp()).collect();
        self.decay_minus = (0..TABLE).map(|s| (-(s as f64) * dt / settings.tau_minus_ms).exp()).collect();
        self.generation = Some(index.generation());
    }
}

/// Pair-based STDP in [`SimSystems::Plasticity`], on the live weights of [`SynapseIndex`].
/// Reads [`StdpSettings`] (default [`StdpSettings::song_2000`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdpPlugin;

impl Plugin for StdpPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before StdpPlugin");
        app.init_resource::<StdpSettings>().init_resource::<StdpState>().init_resource::<StdpDiagnostics>().init_resource::<SynapseIndex>();
        app.add_systems(SimSchedule, apply_stdp.in_set(SimSystems::Plasticity));
    }
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
    if spikes.ids.is_empty() && gated.is_none_or(|(_, _, p)| !(s + 1).is_multiple_of(p)) {
        return;
    }
    if index.is_empty() {
        return;
    }
    let st = &mut *state;
    st.prepare(&index, &settings, &table, dt);
    let lr = settings.learning_rate;
    let (lo, hi) = (settings.w_min, settings.w_max);
    let n = st.last_spike.len();
    let mut ltp_events = 0u64;
    let mut ltd_events = 0u64;
    let uniform_delay = index.uniform_delay();
    let skip_weight = gated.is_some() && settings.dependence == WeightDependence::Additive;
    // 1. LTP at each postsynaptic spike, with presynaptic traces of spikes that have arrived.
    for &post in &spikes.ids {
        let p = post as usize;
        if p >= n {
            continue;
        }
        let range = st.in_start[p] as usize..st.in_start[p + 1] as usize;
        ltp_events += range.len() as u64;
        let row_end = range.end;
        for j in range {
            // The weights of a neuron's in-edges are scattered over the whole array (one cache
            // miss each): ask for the one PREFETCH edges ahead now.
            if let Some(&ahead) = st.in_pos.get(j + PREFETCH).filter(|_| j + PREFETCH < row_end) {
                prefetch(&index.weights()[ahead as usize]);
            }
            let (k, pre) = (st.in_pos[j] as usize, st.in_pre[j] as usize);
            let last = st.last_spike[pre];
            if last == NEVER {
                continue;
            }
            let d = u64::from(uniform_delay.unwrap_or_else(|| index.delays()[k]));
            let x = if last + d <= s {
                st.x_val[pre] * StdpState::decay(&st.decay_plus, s - last - d, dt, settings.tau_plus_ms)
            } else if settings.trace == TraceUpdate::Add {
                // The last spike is still in flight; earlier ones (all arrived) pair.
                (st.x_val[pre] - 1.0) * ((last + d - s) as f64 * dt / settings.tau_plus_ms).exp()
            } else {
                0.0
            };
            if x == 0.0 {
                continue;
            }
            // An additive change into eligibility does not depend on w: skip the weight read.
            let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
            let dw = settings.ltp(w, x);
            if gated.is_some() {
                let e = st.in_slot[j] as usize;
                st.eligibility[e] += dw as f32;
            } else {
                index.weights_mut()[k] = (w + lr * dw).clamp(lo, hi) as f32;
            }
        }
    }
    // 2. Traces of this step's spikes.
    for &id in &spikes.ids {
        let i = id as usize;
        if i >= n {
            continue;
        }
        let last = st.last_spike[i];
        let (x, y) = match (settings.trace, last) {
            (TraceUpdate::Reset, _) | (TraceUpdate::Add, NEVER) => (1.0, 1.0),
            (TraceUpdate::Add, l) => (
                st.x_val[i] * StdpState::decay(&st.decay_plus, s - l, dt, settings.tau_plus_ms) + 1.0,
                st.y_val[i] * StdpState::decay(&st.decay_minus, s - l, dt, settings.tau_minus_ms) + 1.0,
            ),
        };
        st.x_val[i] = x;
        st.y_val[i] = y;
        st.last_spike[i] = s;
    }
    // 3. LTD at each presynaptic spike, with postsynaptic traces including this step.
    for &pre in &spikes.ids {
        let range = index.row(pre);
        ltd_events += range.len() as u64;
        for k in range {
            if !st.plastic[k] {
                continue;
            }
            let post = index.posts()[k] as usize;
            let last = st.last_spike.get(post).copied().unwrap_or(NEVER);
            if last == NEVER {
                continue;
            }
            let y = st.y_val[post] * StdpState::decay(&st.decay_minus, s - last, dt, settings.tau_minus_ms);
            let w = if skip_weight { 0.0 } else { f64::from(index.weights()[k]) };
            let dw = settings.ltd(w, y);
            if gated.is_some() {
                let j = st.slot[k] as usize;
                st.eligibility[j] += dw as f32;
            } else {
                index.weights_mut()[k] = (w + lr * dw).clamp(lo, hi) as f32;
            }
        }
    }
    diag.ltp_events += ltp_events;
    diag.ltd_events += ltd_events;
    // 4. Dopamine-gated update.
    if let Some((tau_e, bias, period)) = gated
        && (s + 1).is_multiple_of(period)
    {
        let da = levels.map_or(0.0, |l| l.level(Modulator::Dopamine));
        // f32 arithmetic on contiguous runs: the loop vectorizes.
        let gain = (lr * (bias + da)) as f32;
        let keep = (-(period as f64) * dt / tau_e).exp() as f32;
        let (lo, hi) = (lo as f32, hi as f32);
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
