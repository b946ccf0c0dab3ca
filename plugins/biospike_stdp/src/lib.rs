//! Spike-timing-dependent plasticity: pair-based STDP with event-driven traces, optionally
//! accumulated in per-synapse eligibility traces and gated by dopamine (a three-factor rule).
//!
//! # The rule
//! Every neuron carries a presynaptic trace `x` (time constant `τ+`) and a postsynaptic trace
//! `y` (`τ−`). With [`TraceUpdate::Reset`] a spike sets a trace to 1 (nearest-spike pairing,
//! Izhikevich 2007); with [`TraceUpdate::Add`] it adds 1 (all-to-all pairing). A pairing
//! changes synapse `pre → post` by
//! - **LTP**, when `post` fires at `t`: `+A+ · x_pre(t)`, where the presynaptic trace is taken
//!   at the spike's *arrival* at the synapse (pre spike + synaptic delay); a presynaptic spike
//!   that has not arrived yet does not pair;
//! - **LTD**, when `pre` fires at `t` (at the soma): `−A− · y_post(t)`, including a
//!   postsynaptic spike in the same step.
//!
//! With a 1-step delay this gives `+A+·e^{−(Δ−1)/τ+}` for `Δ = t_post − t_pre ≥ 1` and
//! `−A−·e^{−|Δ|/τ−}` for `Δ ≤ 0`, exactly Izhikevich's `daspnet.m`. With
//! [`WeightDependence::Multiplicative`] LTP scales by `(w_max − w)` and LTD by `(w − w_min)`.
//!
//! [`StdpMode::Direct`] applies `learning_rate ·` change to the weight at once, clipped to
//! `[w_min, w_max]`. [`StdpMode::DopamineGated`] adds the change to the synapse's eligibility
//! `e` instead; every `update_every_steps` steps each plastic synapse gets
//! `w ← clip(w + learning_rate · (dopamine_bias + DA) · e)` and `e ← e · exp(−period/τ_e)`,
//! where `DA` is the dopamine level of [`NeuromodulatorLevels`] (0 without it).
//!
//! # Cost
//! Trace and eligibility work is event-driven: each spike walks the neuron's plastic in- and
//! out-edges (spikes × fan-in/out); traces are decayed lazily from the last spike with a
//! lookup table. The gated update is one sweep over the plastic synapses per update period
//! (every 10 ms in Izhikevich 2007), not per step.
//!
//! At a postsynaptic spike, LTP walks the neuron's in-edges, whose weights are scattered over
//! the index: on large networks each is a cache miss. [`LtpTiming::Deferred`] (direct mode)
//! moves that work to the presynaptic neuron's next spike, which walks its own contiguous row
//! anyway for LTD and delivery, replaying the postsynaptic spikes logged since (NEST's scheme,
//! Morrison et al. 2007). Each synapse sees the same changes and clips in the same order, so the
//! weights are bit-identical at every flush point and the spikes are identical at every step
//! (tested): a row catches up before it delivers, and everything pending is flushed periodically,
//! before queued synapse edits, and in the write-back ([`WritebackSystems::Flush`]).
//!
//! The replay of a row has no branch that depends on the data (whether a target fired since the
//! row's last replay is a coin flip a branch predictor loses): a first pass over a block of 128
//! synapses counts each target's pending spikes in its inline log and appends them to a flat
//! list; a second walks that list backwards (oldest first per synapse). The next row's targets
//! and weights are prefetched while one row is replayed: rows are picked by spikes, so the
//! hardware cannot guess them. The measurements behind these choices are in
//! `docs/architecture.md`.
//!
//! # Where the weights live
//! Plastic weights are the live weights of [`SynapseIndex`] (core's side structure that
//! delivery reads): read them there during a run. The `SynapticWeight` components follow in
//! the write-back ([`WritebackSystems`]), at the steps `WritebackSettings` names and when the
//! simulation finishes.
//!
//! # Example
//! Two neurons and one synapse; neuron 0 is made to fire at step 10 and neuron 1 at step 20
//! (normally a neuron model does this). With Song et al.'s pair rule the weight grows by
//! `A+ · exp(−(Δt − d)/τ+)` with `Δt = 10` ms and delay `d = 1` ms.
//! ```
//! use bevy_app::App;
//! use bevy_ecs::prelude::*;
//! use biospike_core::prelude::*;
//! use biospike_stdp::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 1));
//! app.insert_resource(StdpSettings::song_2000());
//! app.add_plugins(StdpPlugin);
//! // The connectivity, as delivery would have indexed it: 0 -> 1, weight 0.5, delay 1 step.
//! app.insert_resource(SynapseIndex::index_only(2, &[(0, 1)], |_, _, _| (0.5, 1), 0));
//! app.add_systems(SimSchedule, (|clock: Res<SimClock>, mut s: ResMut<StepSpikes>| {
//!     s.ids = match clock.step() { 10 => vec![0], 20 => vec![1], _ => vec![] };
//! }).in_set(DetectSystems::Inject));
//! for _ in 0..30 {
//!     step_simulation(app.world_mut());
//! }
//! let w = f64::from(app.world().resource::<SynapseIndex>().weights()[0]);
//! let expected = 0.5 + 0.005 * (-(10.0 - 1.0) / 20.0f64).exp();
//! assert!((w - expected).abs() < 1e-6, "{w} vs {expected}");
//! ```
//!
//! # Systems
//! 1. `flush_before_synapse_edits` in [`PrepareSystems::Settle`]: deferred potentiation lands
//!    before queued synapse edits change the index.
//! 2. `catch_up_before_delivery` in [`PropagationSystems::Index`]: the rows about to deliver
//!    take the deferred potentiation they owe.
//! 3. `apply_stdp` in [`SimSystems::Plasticity`]: LTP at postsynaptic spikes (or logged for
//!    deferral), traces, LTD at presynaptic spikes, the gated dopamine update.
//! 4. `flush_deferred_ltp` in [`WritebackSystems::Flush`] (and in `SimWritebackSchedule`):
//!    everything deferred reaches the weights.
//!
//! # Settings
//! [`StdpSettings`]; its default is the scene default ([`StdpDesc`]): dopamine-gated, `A± = 0.005`,
//! `τ± = 20` ms, eligibility `τ = 1000` ms, weights in `[0, f32::MAX]`, all-to-all traces,
//! additive. [`StdpSettings::song_2000`] and [`StdpSettings::izhikevich_2007`] give the published
//! rules.
//!
//! # References
//! - S. Song, K. D. Miller, L. F. Abbott, *Competitive Hebbian learning through
//!   spike-timing-dependent synaptic plasticity*, Nat. Neurosci. 3:919 (2000).
//! - A. Morrison, A. Aertsen, M. Diesmann, *Spike-timing-dependent plasticity in balanced
//!   random networks*, Neural Comput. 19:1437 (2007) (the deferred, presynaptically driven
//!   update).
//! - E. M. Izhikevich, *Solving the distal reward problem through linkage of STDP and dopamine
//!   signaling*, Cereb. Cortex 17:2443 (2007), and its `daspnet.m`.

mod deferred;
mod desc;
mod eager;
mod gated;
mod plugin;
mod settings;
mod state;

pub use deferred::flush_deferred_ltp;
pub use desc::{DependenceDesc, LtpTimingDesc, PlasticDesc, StdpDesc, TracesDesc};
pub use plugin::StdpPlugin;
pub use settings::{LtpTiming, PlasticProjections, StdpDiagnostics, StdpMode, StdpSettings, TraceUpdate, WeightDependence};
pub use state::StdpState;

#[allow(unused_imports, reason = "intra-doc links")]
use biospike_core::{NeuromodulatorLevels, PrepareSystems, PropagationSystems, SimSystems, SynapseIndex, WritebackSystems};

/// The plugin and its settings.
pub mod prelude {
    pub use crate::desc::StdpDesc;
    pub use crate::plugin::StdpPlugin;
    pub use crate::settings::{LtpTiming, PlasticProjections, StdpMode, StdpSettings, TraceUpdate, WeightDependence};
}
