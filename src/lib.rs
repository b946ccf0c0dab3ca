//! # biospike
//!
//! Biorealistic spiking neural networks on `bevy_ecs`: neurons and synapses are entities,
//! every stage of a simulation step is a plugin in one ordered schedule, scenes are typed RON
//! files, output is Parquet.
//!
//! ## Getting started
//! ```text
//! cargo run --release -- run scenes/izhikevich_2003.ron     # run a scene (embedded, no setup)
//! cargo test --workspace --features biospike/render         # run the tests (with the viewer's)
//! ```
//!
//! ## Composing your own app
//! ```
//! use bevy_app::App;
//! use biospike::prelude::*;
//!
//! let scene = biospike::Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
//! let mut app = biospike::build_app(&scene, None).expect("builds");
//! biospike::testing::run_steps(&mut app, 100);
//! assert_eq!(app.world().resource::<SimClock>().step(), 100);
//! ```
//!
//! ## Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `parquet` | yes | [`ParquetRecorderPlugin`], the `biospike` CLI |
//! | `plot` | yes | `biospike plot`: PNG figures from a run's Parquet output |
//! | `render` | no | `biospike view` and the `view` module: the live 3D viewer (`biospike_render`, full `bevy`; docs/viewer.md) |
//!
//! ## Plugins ([`BiospikePlugins`])
//! | plugin | set | responsibility |
//! |---|---|---|
//! | [`CoreSimPlugin`] (added first, with the clock and seed) | all | schedule, clock, input reset, spike collection, numerical guard |
//! | [`InputPlugin`] | [`InputSystems::Drive`] | noise, DC, stimuli, Poisson trains |
//! | [`IzhikevichPlugin`] | [`SimSystems::Neurons`] | membrane integration |
//! | [`SynapsePlugin`] | [`InputSystems::Synaptic`], [`SimSystems::Propagation`] | delays, CSR delivery |
//! | `ParquetRecorderPlugin` (with an output directory) | [`SimSystems::Record`] | Parquet tables |
//!
//! ## Order of one step ([`SimSystems`], chained)
//! `First → Input (Reset → Drive → Synaptic) → Neurons → Detect → Propagation → Modulation →
//! Plasticity → Structure → Quantize → Record → Last`, then the clock advances.
//!
//! ## FAQ
//! - *Why is my run slow in debug?* The workspace compiles its own crates at `-O1` in the dev
//!   profile; use `--release` for real runs and benchmarks.
//! - *How do I add my own stage?* Write a plugin whose systems go in one of the
//!   [`SimSystems`] sets (order against sets, never against another crate's functions).
//! - *How do I change a synapse?* Insert a new [`SynapticWeight`] or despawn the entity; the
//!   change applies at the next [`SimSystems::Propagation`] (see [`Synapse`]).

pub mod build;
pub mod experiment;
pub mod graph;
#[cfg(feature = "plot")]
pub mod plot;
mod plugins;
pub mod quantize;
pub mod run;
pub mod scene;
mod simulation;
#[cfg(feature = "parquet")]
pub mod tables;
#[doc(hidden)]
pub mod testing;
#[cfg(feature = "render")]
pub mod view;

pub use build::{BuildError, build_app, model_app, spawn_network};
pub use plugins::BiospikePlugins;
pub use run::{Outcome, RunError, RunOptions, RunSummary, run};
pub use scene::{Scene, SceneDesc, SceneError};
pub use simulation::{RunSettings, SimRunnerPlugin, Simulation};

pub use biospike_runtime as runtime;
pub use biospike_topology as topology;

/// The bevy crates biospike is built on, re-exported so that `biospike` alone in
/// `Cargo.toml` is enough (their preludes are in [`prelude`]).
pub mod bevy {
    pub use bevy_app as app;
    pub use bevy_ecs as ecs;
}

/// Key-value metadata stored in every Parquet file of a run of `scene`.
pub fn metadata(scene: &Scene) -> Vec<(String, String)> {
    vec![
        ("biospike.version".into(), env!("CARGO_PKG_VERSION").into()),
        ("biospike.scene".into(), scene.text.clone()),
        ("biospike.scene_path".into(), scene.source.display().to_string()),
        ("biospike.seed".into(), scene.desc.seed.to_string()),
        ("biospike.dt_ms".into(), scene.desc.dt_ms.to_string()),
    ]
}

/// Sets the number of threads a run computes on (`>= 1`): the [`biospike_runtime::parallel`]
/// threads of the column kernels, delivery and plasticity rows, and bevy's compute pool of the
/// remaining `par_iter_mut` passes. Takes effect only before either is first used.
pub fn set_threads(n: usize) {
    let n = n.max(1);
    biospike_runtime::parallel::set_threads(n);
    bevy_tasks::ComputeTaskPool::get_or_init(|| bevy_tasks::TaskPoolBuilder::new().num_threads(n).build());
}

/// Everything a user of the facade needs: biospike's plugins, settings, components, sets and
/// drivers, and the preludes of `bevy_app` and `bevy_ecs` (`App`, `Plugin`, `Query`, `Res`, …).
pub mod prelude {
    pub use crate::experiment::{DistalReward, DistalRewardPlugin};
    pub use crate::{BiospikePlugins, RunSettings, Scene, SimRunnerPlugin, Simulation};
    pub use bevy_app::prelude::*;
    pub use bevy_ecs::prelude::*;
    pub use biospike_core::prelude::*;
    pub use biospike_input::prelude::*;
    pub use biospike_izhikevich::prelude::*;
    pub use biospike_loihi::prelude::*;
    pub use biospike_neuromod::prelude::*;
    #[cfg(feature = "parquet")]
    pub use biospike_record::prelude::*;
    pub use biospike_stdp::prelude::*;
    pub use biospike_structure::prelude::*;
    pub use biospike_synapses::prelude::*;
}

#[doc(no_inline)]
pub use prelude::*;
