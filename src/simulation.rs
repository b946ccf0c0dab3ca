//! Driving a simulation: [`Simulation`] for a loop of your own, [`SimRunnerPlugin`] for
//! `app.run()`.
//!
//! Both step [`SimSchedule`] inside the compute threads ([`biospike_runtime::parallel::install`],
//! where the parallel passes hand out their parts cheaply), stop after a step when
//! [`SimStatus`] is no longer `Running` (a numerical halt, or a system's
//! [`SimStatus::stop`]), and end with [`finish_simulation`]: deferred plasticity settled, weights
//! written back to the synapse components, recorders' files completed. Nothing else is owed by
//! the caller: the synapse index is built in [`SimSystems::Prepare`] (or ahead of the first step
//! by [`Simulation::prepare`]), and [`SimSystems::Writeback`] keeps components current at the
//! steps [`WritebackSettings`] names.
//!
//! The same schedule can also be run from bevy's `Main` schedule (a system calling
//! [`step_simulation`], as the 3D viewer does k steps per frame), or by hand with
//! `world.run_schedule(SimSchedule)`.

use bevy_app::{App, AppExit, Plugin, PluginsState};
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How `app.run()` runs a simulation ([`SimRunnerPlugin`]).
#[derive(Resource, Clone, Debug)]
pub struct RunSettings {
    /// Steps to run. Default: `1000`.
    pub steps: u64,
    /// Show a progress bar on standard error when it is a terminal. Default: `false`.
    pub progress: bool,
    /// Stop after the current step once this flag is `true` (a Ctrl-C handler sets it).
    /// Default: none.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self { steps: 1000, progress: false, stop: None }
    }
}

/// Makes `app.run()` simulate: [`RunSettings::steps`] steps of [`SimSchedule`] (or until a halt
/// or stop), then [`finish_simulation`]. The app's exit code is 0 when the run completed or a
/// system stopped it, 3 after a numerical halt, 130 when the stop flag ended it.
///
/// ```
/// use biospike::prelude::*;
///
/// let mut app = App::new();
/// app.insert_resource(RunSettings { steps: 200, ..Default::default() });
/// app.add_plugins(BiospikePlugins::default());
/// app.world_mut().spawn((IzhikevichNeuron, NeuronId(0), DcCurrent(10.0)));
/// assert_eq!(app.run(), AppExit::Success);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct SimRunnerPlugin;

impl Plugin for SimRunnerPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RunSettings>();
        app.set_runner(run_simulation);
    }
}

fn run_simulation(app: App) -> AppExit {
    let mut sim = Simulation::new(app);
    let settings = sim.world().get_resource::<RunSettings>().cloned().unwrap_or_default();
    let bar = progress_bar(settings.progress, settings.steps);
    let done = sim.advance(settings.steps, settings.stop.as_deref(), &mut |w| {
        let step = w.resource::<SimClock>().step();
        if step.is_multiple_of(100) {
            bar.set_position(step);
        }
    });
    bar.finish_and_clear();
    sim.finish();
    match sim.status() {
        SimStatus::Halted { .. } => AppExit::from_code(3),
        _ if done < settings.steps && settings.stop.as_deref().is_some_and(|s| s.load(Ordering::Relaxed)) => AppExit::from_code(130),
        _ => AppExit::Success,
    }
}

/// A progress bar on standard error (hidden unless `show` and stderr is a terminal).
pub(crate) fn progress_bar(show: bool, steps: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// A simulation you step yourself: an [`App`] whose plugins are finished, stepped inside the
/// compute threads.
///
/// ```
/// use biospike::prelude::*;
///
/// let mut app = App::new();
/// app.add_plugins(BiospikePlugins::default().with_seed(7));
/// for id in 0..3 {
///     app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), NoiseCurrent { mean: 5.0, std: 3.0 }));
/// }
/// let mut sim = Simulation::new(app);
/// let mut spikes = 0;
/// sim.step_with(1000, |world| spikes += world.resource::<StepSpikes>().ids.len());
/// sim.finish();
/// assert_eq!(sim.world().resource::<SimClock>().step(), 1000);
/// assert!(spikes > 10);
/// ```
pub struct Simulation {
    app: App,
    prepared: bool,
}

impl Simulation {
    /// Takes a built app (plugins added, network spawned) and finishes its plugins.
    pub fn new(mut app: App) -> Self {
        if app.plugins_state() == PluginsState::Ready {
            app.finish();
            app.cleanup();
        }
        Self { app, prepared: false }
    }

    /// Builds the scene's network (no recorder).
    pub fn from_scene(scene: &crate::Scene) -> Result<Self, crate::BuildError> {
        crate::build_app(scene, None).map(Self::new)
    }

    /// Builds the scene's network with the Parquet recorder writing into `out`.
    #[cfg(feature = "parquet")]
    pub fn from_scene_recorded(scene: &crate::Scene, out: &std::path::Path) -> Result<Self, crate::BuildError> {
        crate::build_app(scene, Some(out)).map(Self::new)
    }

    /// Builds the delivery index and the other side structures now, so that the first step does
    /// not pay for them (the first step does it otherwise). Called by every stepping method.
    pub fn prepare(&mut self) {
        if !self.prepared {
            biospike_synapses::prepare_synapse_index(self.app.world_mut());
            self.prepared = true;
        }
    }

    /// Runs up to `n` steps; stops early after a step that halted or stopped the simulation.
    /// Returns the steps run.
    pub fn step(&mut self, n: u64) -> u64 {
        self.advance(n, None, &mut |_| {})
    }

    /// [`step`](Self::step), calling `each` with the world after every step (read this step's
    /// spikes in [`StepSpikes`], the clock already shows the next step). While these steps run,
    /// [`SimSchedule`] is out of the world's `Schedules`: `each` may run any other schedule,
    /// not that one.
    pub fn step_with(&mut self, n: u64, mut each: impl FnMut(&mut World) + Send) -> u64 {
        self.advance(n, None, &mut each)
    }

    /// The stepping loop of every driver: inside the compute threads, until `n` steps ran, the
    /// status left `Running`, or `stop` turned `true` (checked before each step).
    pub(crate) fn advance(&mut self, n: u64, stop: Option<&AtomicBool>, each: &mut (dyn FnMut(&mut World) + Send)) -> u64 {
        self.prepare();
        let world = self.app.world_mut();
        let mut done = 0;
        biospike_runtime::parallel::install(|| {
            // Split over MPI ranks, a signal is acted on only when every rank knows of it
            // (after the step), so that all stop after the same step.
            let split = world.get_resource::<Partition>().is_some_and(Partition::is_split);
            // The schedule is held here for the whole loop rather than taken out of
            // `Schedules` and put back at every step (`World::run_schedule`): that costs
            // ≈ 0.12 µs a step (label interning, two map updates, moving the schedule), an
            // eighth of an empty network's step.
            let mut schedule = world
                .resource_mut::<Schedules>()
                .remove(SimSchedule)
                .expect("SimSchedule exists: add CoreSimPlugin (BiospikePlugins does)");
            while done < n && world.resource::<SimStatus>().is_running() {
                if !split && stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    break;
                }
                schedule.run(world);
                done += 1;
                each(world);
                if split && crate::cluster::agree_after_step(world, stop.is_some_and(|s| s.load(Ordering::Relaxed))) {
                    break;
                }
            }
            world.resource_mut::<Schedules>().insert(schedule);
        });
        done
    }

    /// Ends the run: [`finish_simulation`] (deferred plasticity, weights written back to the
    /// components, recorders' files completed). Stepping afterwards records nothing more.
    pub fn finish(&mut self) {
        finish_simulation(self.app.world_mut());
    }

    /// Brings the synapse components and the index's weights up to date without ending the run
    /// (the [`SimSystems::Writeback`] phase, run now).
    pub fn sync_weights(&mut self) {
        self.app.world_mut().run_schedule(SimWritebackSchedule);
    }

    /// Saves the simulation's state between two steps into `dir/state.bin`
    /// ([`biospike_core::checkpoint::save_state`]); returns its size in bytes. A run's
    /// checkpoint folders (atomic, with the scene) are [`crate::checkpoint::write_checkpoint`]'s.
    ///
    /// ```
    /// use biospike::prelude::*;
    ///
    /// fn model() -> Simulation {
    ///     let mut app = App::new();
    ///     app.add_plugins(BiospikePlugins::default().with_seed(7));
    ///     for id in 0..20 {
    ///         app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), NoiseCurrent { mean: 5.0, std: 3.0 }));
    ///     }
    ///     Simulation::new(app)
    /// }
    /// let spikes = |sim: &mut Simulation, n| {
    ///     let mut ids = Vec::new();
    ///     sim.step_with(n, |w| ids.extend(w.resource::<StepSpikes>().ids.iter().copied()));
    ///     ids
    /// };
    /// let dir = std::env::temp_dir().join(format!("biospike-doc-state-{}", std::process::id()));
    /// let mut first = model();
    /// spikes(&mut first, 300);
    /// first.save_state(&dir).expect("saved");
    /// let rest = spikes(&mut first, 700);
    ///
    /// let mut resumed = model();
    /// resumed.restore_state(&dir).expect("restored");
    /// assert_eq!(resumed.clock().step(), 300);
    /// assert_eq!(spikes(&mut resumed, 700), rest);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// ```
    pub fn save_state(&mut self, dir: &std::path::Path) -> Result<u64, biospike_core::checkpoint::CheckpointError> {
        self.prepare();
        biospike_core::checkpoint::save_state(self.app.world_mut(), dir)
    }

    /// Restores a state saved by [`Simulation::save_state`] (or a checkpoint folder) into this
    /// simulation, which must be the same model freshly built (the same scene and seed; settings
    /// may differ, which branches the run). Stepping goes on from the saved step.
    pub fn restore_state(&mut self, dir: &std::path::Path) -> Result<(), biospike_core::checkpoint::CheckpointError> {
        biospike_core::checkpoint::load_state(self.app.world_mut(), dir)?;
        // The index and every side structure are the saved ones; building them now would apply
        // the queued edits a step early.
        self.prepared = true;
        Ok(())
    }

    /// Why the simulation is running or not.
    pub fn status(&self) -> &SimStatus {
        self.app.world().resource::<SimStatus>()
    }

    /// The clock (the step about to run).
    pub fn clock(&self) -> SimClock {
        *self.app.world().resource::<SimClock>()
    }

    /// The world.
    pub fn world(&self) -> &World {
        self.app.world()
    }

    /// The world, mutably.
    pub fn world_mut(&mut self) -> &mut World {
        self.app.world_mut()
    }

    /// The app.
    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    /// Gives the app back.
    pub fn into_app(self) -> App {
        self.app
    }
}
