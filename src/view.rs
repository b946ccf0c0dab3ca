//! `biospike view`: the scene's network in a window, simulated live (the `render` feature).

use crate::Scene;
use crate::scene::TopologyDesc;
use biospike_render::{Layout, LineMode, ScreenshotRequest, ViewerPlugin, ViewerSettings, window_plugins};
use std::path::PathBuf;

/// Where neurons are drawn (`--layout`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LayoutChoice {
    /// Rings for small worlds, the scene's positions (a layer per population) otherwise.
    #[default]
    Auto,
    /// The scene's positions.
    Positions,
    /// A ring per population.
    Ring,
    /// Force-directed from the synapse graph (up to 3 000 neurons).
    Force,
}

/// What `biospike view` was asked for.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    /// Steps per frame at start.
    pub steps_per_frame: u32,
    /// Layout.
    pub layout: LayoutChoice,
    /// Synapse lines at start.
    pub lines: LineMode,
    /// Most lines in the sampled mode.
    pub max_lines: usize,
    /// Capture `(path, frames)` and exit.
    pub screenshot: Option<(PathBuf, u64)>,
    /// Start paused.
    pub paused: bool,
    /// Neuron selected at start.
    pub select: Option<u32>,
}

impl Default for ViewOptions {
    fn default() -> Self {
        Self {
            steps_per_frame: 1,
            layout: LayoutChoice::Auto,
            lines: LineMode::Sampled,
            max_lines: 3000,
            screenshot: None,
            paused: false,
            select: None,
        }
    }
}

/// The viewer's layout for `scene`.
pub fn layout_for(scene: &Scene, choice: LayoutChoice) -> Layout {
    match choice {
        LayoutChoice::Auto if matches!(scene.desc.topology, TopologyDesc::SmallWorld { .. }) => Layout::Ring,
        LayoutChoice::Auto | LayoutChoice::Positions => Layout::Positions,
        LayoutChoice::Ring => Layout::Ring,
        LayoutChoice::Force => Layout::ForceDirected,
    }
}

/// Builds the scene's network (no recorder) and opens the viewer on it. Returns when the
/// window closes or the screenshot is saved.
pub fn view(scene: &Scene, opts: &ViewOptions) -> Result<bevy::app::AppExit, crate::BuildError> {
    let mut app = crate::build_app(scene, None)?;
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let name = scene.desc.name.clone().unwrap_or_else(|| scene.source.display().to_string());
    app.add_plugins(window_plugins(&format!("biospike — {name}")));
    app.insert_resource(ViewerSettings {
        steps_per_frame: opts.steps_per_frame.max(1),
        layout: layout_for(scene, opts.layout),
        lines: opts.lines,
        max_lines: opts.max_lines,
        title: format!("{name} (seed {})", scene.desc.seed),
        paused: opts.paused,
        selected: opts.select.filter(|&n| n < scene.neuron_count()),
        screenshot: opts.screenshot.clone().map(|(path, frames)| ScreenshotRequest { path, frames }),
        ..Default::default()
    });
    app.add_plugins(ViewerPlugin);
    Ok(app.run())
}
