//! # biospike
//!
//! Biorealistic spiking neural networks on `bevy_ecs`: neurons and synapses are entities,
//! every stage of a simulation step is a plugin in one ordered schedule, scenes are typed RON
//! files, output is Parquet. `biospike` alone in `Cargo.toml` is enough: the prelude brings
//! biospike's types and the preludes of `bevy_app` and `bevy_ecs` (also at [`bevy`]).
//!
//! ## Getting started
//! ```text
//! cargo run --release -- run scenes/izhikevich_2003.ron     # run a scene (embedded, no setup)
//! cargo test --workspace --features biospike/render         # run the tests (with the viewer's)
//! ```
//!
//! ## Your own app
//! A network composed in Rust, a system of your own, and `app.run()`:
//! ```
//! use biospike::prelude::*;
//!
//! #[derive(Resource, Default)]
//! struct SpikeCount(usize);
//!
//! fn count_spikes(spikes: Res<StepSpikes>, mut count: ResMut<SpikeCount>) {
//!     count.0 += spikes.ids.len();
//! }
//!
//! let mut app = App::new();
//! app.add_plugins(BiospikePlugins::default().with_seed(7));
//! app.insert_resource(RunSettings { steps: 500, ..Default::default() });
//! app.init_resource::<SpikeCount>();
//! app.add_systems(SimSchedule, count_spikes.in_set(SimSystems::Record));
//! for id in 0..100 {
//!     app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), NoiseCurrent { mean: 5.0, std: 3.0 }));
//! }
//! assert_eq!(app.run(), AppExit::Success);
//! ```
//! To look at the world after the run, step a [`Simulation`] instead of calling `app.run()`:
//! ```
//! use biospike::prelude::*;
//!
//! let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
//! let mut sim = Simulation::from_scene(&scene).expect("builds");
//! let mut spikes = 0;
//! sim.step_with(200, |world| spikes += world.resource::<StepSpikes>().ids.len());
//! sim.finish(); // weights written back to the synapse components, recorders' files completed
//! assert_eq!(sim.clock().step(), 200);
//! assert!(spikes > 500);
//! ```
//! More in `examples/`: `run_scene`, `compose`, `custom_neuron` (a neuron model of your own as a
//! plugin), `closed_loop` (a system that answers spikes with dopamine), `sweep` (a parameter
//! sweep in parallel, written as one Parquet dataset).
//!
//! ## Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `parquet` | yes | [`ParquetRecorderPlugin`], the `biospike` CLI |
//! | `plot` | yes | `biospike plot`: PNG figures from a run's Parquet output |
//! | `render` | no | `biospike view` and the `view` module: the live 3D viewer (`biospike_render`, full `bevy`; docs/viewer.md) |
//!
//! ## Plugins
//! [`BiospikePlugins`] holds every stage; its docs have the table of plugins with their sets,
//! settings and defaults, and how to enable the optional ones.
//!
//! ## Order of one step ([`SimSystems`], chained, in [`SimSchedule`])
//! `Prepare (Settle → Index) → First → Input (Reset → Drive → Synaptic) → Neurons → Detect
//! (Collect → Inject) → Propagation (Index → Deliver) → Modulation → Plasticity → Structure →
//! Quantize → Writeback (Flush → Sync) → Record → Last`, then the clock advances. A run ends
//! with [`finish_simulation`] ([`SimWritebackSchedule`], then [`SimFinishSchedule`]).
//!
//! ## Where your systems go
//! Within each phase biospike's own systems run first ([`BuiltinSystems`]), so a system of
//! yours added to a phase sees that phase's built-in work done and is never ambiguous with it.
//! Two of your systems that write the same data in one phase must be ordered (`.chain()`,
//! `.before`); the schedule refuses to build otherwise and names both.
//!
//! | you want to | add your system to | it reads / writes |
//! |---|---|---|
//! | drive neurons (a stimulus, a closed-loop input) | [`InputSystems::Drive`] | `&mut InputCurrent`, after the built-in drive |
//! | integrate a neuron model of your own | [`SimSystems::Neurons`] | its own state, `MembranePotential`, `SpikedThisStep` (require [`Neuron`] on its marker) |
//! | add spikes by hand | [`DetectSystems::Inject`] | `ResMut<StepSpikes>` (keep it ascending) |
//! | react to this step's spikes (reward, monitor) | [`SimSystems::Detect`] or [`SimSystems::Record`] | `Res<StepSpikes>` |
//! | release neuromodulators | [`SimSystems::Detect`] (before `Modulation`) | `ResMut<NeuromodulatorLevels>` |
//! | a plasticity rule of your own | [`SimSystems::Plasticity`] | `ResMut<SynapseIndex>` (the live weights) |
//! | rewire | [`SimSystems::Structure`] | spawn, despawn or re-insert synapse components |
//! | record or stop on a condition | [`SimSystems::Record`] | anything; `SimStatus::stop` ends the run |
//!
//! ## Contents
//! - Driving: [`Simulation`], [`SimRunnerPlugin`] / [`RunSettings`], [`run()`] / [`RunOptions`]
//!   (what the CLI does), [`set_threads`].
//! - Scenes: [`Scene`] (load, parse, validate), [`build_app`], [`build::build_app_with`],
//!   [`model_app`], [`spawn_network`]; the format is in `docs/scene.md`.
//! - Profiling: [`ProfilePlugin`], [`SimProfile`] (`biospike run --profile`).
//! - Output: [`ParquetRecorderPlugin`], [`tables`]; the schema is in `docs/recording.md`.
//! - The crates: [`biospike_core`] (vocabulary), [`runtime`] (compute threads,
//!   column kernels), [`topology`] (generators), and one crate per stage.
//!
//! ## FAQ
//! - *Why is my run slow in debug?* The workspace compiles its own crates at `-O1` in the dev
//!   profile; use `--release` for real runs and benchmarks.
//! - *How do I add my own stage or neuron model?* Write a plugin whose systems go in the phases
//!   above; `examples/custom_neuron.rs` is a complete one.
//! - *How do I change a synapse?* Insert a new [`SynapticWeight`] or despawn the entity; the
//!   change applies in the next [`SimSystems::Prepare`] (see [`Synapse`]).
//! - *Where are the current weights?* In [`SynapseIndex`] during a run; in the
//!   `SynapticWeight` components after a write-back ([`WritebackSettings`], and always at the end).
//! - *Are runs reproducible?* Same scene and seed give bit-identical output on any number of
//!   threads: every random draw is keyed by (seed, purpose, neuron, step), and every parallel
//!   pass splits by thread count only (`docs/architecture.md`).

pub mod budget;
pub mod build;
pub mod checkpoint;
pub mod cluster;
pub mod experiment;
pub mod graph;
pub mod outdir;
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
pub use checkpoint::{Checkpoint, CheckpointManifest};
pub use plugins::BiospikePlugins;
pub use run::{Outcome, RunError, RunOptions, RunSummary, run};
pub use scene::{Scene, SceneDesc, SceneError};
pub use simulation::{RunSettings, SimRunnerPlugin, Simulation};

pub use biospike_adex as adex;
/// MPI: one network split over several processes (feature `mpi`, docs/mpi.md).
#[cfg(feature = "mpi")]
pub use biospike_mpi as mpi;
pub use biospike_runtime as runtime;
pub use biospike_topology as topology;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

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
        ("biospike.commit".into(), option_env!("BIOSPIKE_COMMIT").unwrap_or("unknown").into()),
        ("biospike.scene".into(), scene.text.clone()),
        ("biospike.scene_path".into(), scene.source.display().to_string()),
        (
            "biospike.scene_name".into(),
            scene
                .desc
                .name
                .clone()
                .unwrap_or_else(|| scene.source.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned())),
        ),
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
    pub use biospike_adex::{Adex, AdexParams, AdexPlugin, AdexState, AdexSynapses, AeifCondBetaMultisynapse, BetaSynapseState};
    pub use biospike_core::prelude::*;
    pub use biospike_input::prelude::*;
    pub use biospike_izhikevich::prelude::*;
    pub use biospike_lif::{
        IafCondExp, IafPscAlpha, IafPscAlphaMultisynapse, IafPscDelta, IafPscExp, IafPscExpMultisynapse, LifParams, LifPlugin,
        ReceptorCurrentSlopes, ReceptorCurrents, RefractorySteps, SynapticCurrentSlopes, SynapticCurrents,
    };
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
