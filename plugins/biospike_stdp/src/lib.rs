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
//! before queued synapse edits, and by [`flush_deferred_ltp`]. On `sparse_stdp_10k` this took
//! the stepping loop from ≈ 320 to ≈ 250 ms per simulated second (`BENCHMARKS.md`, round 5).
//!
//! The replay of a row has no branch that depends on the data: whether a target fired since
//! the row's last replay, and how often, is a coin flip that a branch predictor loses. A first
//! pass over a block of 128 synapses counts each target's pending spikes in its inline log and
//! appends them to a flat list; a second walks that list backwards (oldest first per synapse).
//! The next row's targets and weights are prefetched while one row is replayed, as they are in
//! the LTD pass and in delivery: rows are picked by spikes, so the hardware cannot guess them.
//! Together ≈ 240 → ≈ 190 ms on `sparse_stdp_10k` (round 8).
//!
//! # Where the weights live
//! Plastic weights are the live weights of [`SynapseIndex`] (core's side structure that
//! delivery reads). The `SynapticWeight` components are brought up to date by
//! [`SynapseIndex::write_back`], which drivers call before recording the final weights; recorders
//! sampling during a run read the index.
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_stdp::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 1));
//! app.insert_resource(StdpSettings { learning_rate: 1.0, ..StdpSettings::song_2000() });
//! app.add_plugins(StdpPlugin);
//! // A synapse (its delivery comes from the synapse plugin, not needed here) and two neurons.
//! app.world_mut().spawn((Synapse { pre: NeuronId(0), post: NeuronId(1) }, SynapticWeight(0.5), SynapticDelay(1)));
//! let s = app.world().resource::<StdpSettings>().clone();
//! assert_eq!(s.ltp(0.5, 1.0), s.a_plus); // additive: A+ · trace
//! ```
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
use biospike_core::{NeuromodulatorLevels, SynapseIndex};

/// The plugin and its settings.
pub mod prelude {
    pub use crate::desc::StdpDesc;
    pub use crate::plugin::StdpPlugin;
    pub use crate::settings::{LtpTiming, PlasticProjections, StdpMode, StdpSettings, TraceUpdate, WeightDependence};
}
