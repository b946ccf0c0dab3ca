//! A live 3D view of a biospike network (the `render` feature of `biospike`; full `bevy`).
//!
//! [`ViewerPlugin`] turns an app that already holds a built network (neurons, synapses,
//! [`SimSchedule`](biospike_core::SimSchedule)) into a window that advances the simulation
//! `k` steps per frame and draws it:
//!
//! - neurons as spheres (one shared mesh, a handful of shared materials, so the renderer
//!   batches them), coloured by population; a neuron that fires flashes yellow and fades over
//!   [`ViewerSettings::flash_frames`] frames;
//! - synapses as lines, green for excitatory and magenta for inhibitory, their opacity
//!   following `|w|` (live weights, so plasticity shows); at most
//!   [`ViewerSettings::max_lines`] are drawn, evenly subsampled, and `L` cycles
//!   sampled / all / none / only the selected neuron's;
//! - a HUD: step, simulated time, steps per frame, frame time, each population's rate over the
//!   last 100 ms of simulated time, neuromodulator levels and baselines when the scene has them;
//! - a click on a neuron selects it: id, population, parameters, `v` and `u`, and its `v`
//!   trace over the last 200 steps.
//!
//! Controls: left-drag orbits, the wheel zooms, click selects, `Space` pauses, `N` steps once
//! while paused, `↑`/`↓` doubles/halves the steps per frame, `L` cycles the synapse lines,
//! `Esc` clears the selection.
//!
//! The viewer only reads the model: it keeps its own entities (spheres, text) and never writes
//! a simulation component or resource. The one thing it does to the model is run its
//! schedule, exactly as `biospike run` does.
//!
//! With [`ViewerSettings::screenshot`] it renders the given number of frames, saves a PNG of
//! the window and exits, printing the mean frame time: the tests and the docs use that.
//!
//! # Example
//! ```no_run
//! use bevy::prelude::*;
//! use biospike_core::prelude::*;
//! use biospike_render::{ViewerPlugin, ViewerSettings, window_plugins};
//!
//! let mut app = App::new();
//! app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 1));
//! // … add the model plugins and spawn a network (the `biospike` crate's `build_app` does).
//! app.add_plugins(window_plugins("my network"));
//! app.insert_resource(ViewerSettings { steps_per_frame: 2, ..default() });
//! app.add_plugins(ViewerPlugin);
//! app.run();
//! ```

mod capture;
mod hud;
pub mod layout;
mod live;
mod scene3d;

use bevy::app::PluginGroupBuilder;
use bevy::prelude::*;
use std::path::PathBuf;

pub use layout::{Layout, compute_layout};
pub use live::{FrameStats, LiveState};
pub use scene3d::{FLASH_COLOR, NeuronSphere, NeuronVisuals, ViewerCamera};

/// Which synapses are drawn as lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineMode {
    /// At most [`ViewerSettings::max_lines`] synapses, evenly subsampled.
    #[default]
    Sampled,
    /// Every synapse (can be slow on large networks).
    All,
    /// No lines.
    None,
    /// Only the selected neuron's incoming and outgoing synapses.
    Selected,
}

impl LineMode {
    fn next(self) -> Self {
        match self {
            Self::Sampled => Self::All,
            Self::All => Self::None,
            Self::None => Self::Selected,
            Self::Selected => Self::Sampled,
        }
    }
}

/// Save a screenshot after `frames` frames, then exit.
#[derive(Clone, Debug)]
pub struct ScreenshotRequest {
    /// Where the PNG goes.
    pub path: PathBuf,
    /// Frames rendered before the capture (≥ 20: earlier frames can be blank while shaders
    /// compile).
    pub frames: u64,
}

/// How the viewer looks and runs. Insert before adding [`ViewerPlugin`] (defaults otherwise).
#[derive(Resource, Clone, Debug)]
pub struct ViewerSettings {
    /// Simulation steps per rendered frame at start (`↑`/`↓` change it live).
    pub steps_per_frame: u32,
    /// Where the neurons go.
    pub layout: Layout,
    /// Synapse lines shown at start.
    pub lines: LineMode,
    /// Most lines drawn in [`LineMode::Sampled`].
    pub max_lines: usize,
    /// Frames a spike flash takes to fade.
    pub flash_frames: u32,
    /// Title shown in the HUD.
    pub title: String,
    /// Start paused.
    pub paused: bool,
    /// Neuron selected at start (its panel and `v` trace show from the first frame).
    pub selected: Option<u32>,
    /// Render, capture and exit.
    pub screenshot: Option<ScreenshotRequest>,
}

impl Default for ViewerSettings {
    fn default() -> Self {
        Self {
            steps_per_frame: 1,
            layout: Layout::Positions,
            lines: LineMode::Sampled,
            max_lines: 3000,
            flash_frames: 6,
            title: "biospike".into(),
            paused: false,
            selected: None,
            screenshot: None,
        }
    }
}

/// The viewer's phases inside `Update`, chained in this order.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewerSystems {
    /// Keyboard and mouse: pause, speed, camera, selection.
    Input,
    /// Advance the simulation by the frame's steps and collect what fired.
    Step,
    /// Flash colours, synapse lines, selection marker.
    Draw,
    /// Text and the `v` trace.
    Hud,
}

/// The 3D viewer. Needs the window plugins ([`window_plugins`] or bevy's `DefaultPlugins`)
/// and a built network in the same app.
pub struct ViewerPlugin;

impl Plugin for ViewerPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ViewerSettings>();
        let settings = app.world().resource::<ViewerSettings>().clone();
        app.insert_resource(LiveState::new(&settings))
            .init_resource::<FrameStats>()
            .init_resource::<hud::SelectedDescription>()
            .insert_resource(ClearColor(Color::srgb(0.015, 0.017, 0.03)))
            .configure_sets(Update, (ViewerSystems::Input, ViewerSystems::Step, ViewerSystems::Draw, ViewerSystems::Hud).chain())
            .add_systems(Startup, (scene3d::setup, hud::setup).chain())
            .add_systems(
                Update,
                (
                    (live::keyboard, scene3d::orbit_camera, scene3d::pick).in_set(ViewerSystems::Input),
                    live::step_live.in_set(ViewerSystems::Step),
                    (scene3d::flash, scene3d::draw_lines).in_set(ViewerSystems::Draw),
                    (hud::describe_selected, hud::update_text, hud::update_trace).chain().in_set(ViewerSystems::Hud),
                ),
            )
            .add_systems(First, live::frame_clock)
            .add_systems(Last, (capture::screenshot_at_frame, capture::report_on_exit));
    }
}

/// bevy's default plugins with a 1280×800 window titled `title`.
pub fn window_plugins(title: &str) -> PluginGroupBuilder {
    DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window { title: title.into(), resolution: (1280, 800).into(), ..default() }),
        ..default()
    })
}
