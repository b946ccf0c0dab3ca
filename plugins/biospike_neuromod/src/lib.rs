//! Neuromodulation: dopamine, serotonin and norepinephrine, each a level around a baseline,
//! and the excitability of every neuron relaxing toward the modulation they produce.
//!
//! Per modulator `m`, every step of `dt` ms ([`SimSystems::Modulation`]):
//! - **baseline** (Ornstein–Uhlenbeck): `b ← b + (μ − b)·dt/τ + σ·√dt·ξ`, `ξ ~ N(0, 1)`;
//!   `σ = 0` keeps it constant;
//! - **level** = tonic + phasic. The tonic part is a constant, a fresh `N(mean, std)` draw each
//!   step (the original project), or an OU process of its own. The phasic part grows by
//!   releases ([`NeuromodulatorLevels::release`] from any system, or
//!   [`ModulatorSettings::releases`] at fixed times) and decays as `exp(−dt/τ_phasic)`;
//! - **modulation factor** of a population `p`:
//!   `M_p = Π_m (1 + effect_m · sensitivity_{p,m} · tanh(level_m − baseline_m))`;
//! - **excitability** of each neuron: `E ← E + dt·(−E + M_p)/τ_excitability`.
//!
//! `E` multiplies the neuron's input current: the Izhikevich stage integrates `E · I`. A
//! dopamine surge therefore makes the network more excitable and a dip less so (tested in
//! `tests/neuromodulation.rs` of the workspace).
//!
//! Random numbers come from keyed streams (`StreamPurpose::Modulator`, one per modulator and
//! process, keyed by step): the same seed gives the same levels at any thread count.
//!
//! # Example
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_neuromod::prelude::*;
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 7));
//! // Dopamine only, constant baseline 0, no tonic part; a reward of 0.5 at t = 10 ms.
//! let mut settings = NeuromodulationSettings::silent();
//! settings.modulators[0].phasic_tau_ms = 200.0;
//! settings.modulators[0].releases.push(ScheduledRelease::at(10.0, 0.5));
//! app.insert_resource(settings).add_plugins(NeuromodulationPlugin);
//! for _ in 0..=10 {
//!     step_simulation(app.world_mut());
//! }
//! let da = app.world().resource::<NeuromodulatorLevels>().level(Modulator::Dopamine);
//! assert_eq!(da, 0.5);
//! ```
//!
//! # References
//! - The original biospike prototype: OU baselines (μ = 1, σ = 0.1, τ = 100), tonic levels
//!   `N(1, 0.1)`, effects 0.5/0.3/0.2, `tau_excitability` = 20.
//! - E. M. Izhikevich, *Solving the distal reward problem through linkage of STDP and
//!   dopamine signaling*, Cereb. Cortex 17:2443 (2007): phasic dopamine, τ = 200 ms.

mod desc;
mod plugin;

pub use desc::{ModulatorDesc, ModulatorName, NeuromodulationDesc, ProcessDesc, ReleaseDesc, SensitivityDesc};

pub use biospike_core::{Modulator, NeuromodulatorLevels};
pub use plugin::{
    ModulationDiagnostics, ModulatorSettings, NeuromodulationPlugin, NeuromodulationSettings, OuProcess, ScheduledRelease, Tonic, ou_step,
};

#[allow(unused_imports, reason = "intra-doc links")]
use biospike_core::SimSystems;

/// The plugin, its settings and the level resource.
pub mod prelude {
    pub use crate::desc::NeuromodulationDesc;
    pub use crate::plugin::{ModulatorSettings, NeuromodulationPlugin, NeuromodulationSettings, OuProcess, ScheduledRelease, Tonic};
    pub use biospike_core::{Modulator, NeuromodulatorLevels};
}
