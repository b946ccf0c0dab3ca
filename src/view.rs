//! `biospike view`: the scene's network in a window, simulated live (the `render` feature).

use crate::Scene;
use crate::scene::TopologyDesc;
use biospike_render::{Layout, ViewerPlugin, ViewerSettings, window_plugins};

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

/// The viewer's layout for `scene`.
pub fn layout_for(scene: &Scene, choice: LayoutChoice) -> Layout {
    match choice {
        LayoutChoice::Auto if matches!(scene.desc.topology, TopologyDesc::SmallWorld { .. }) => Layout::Ring,
        LayoutChoice::Auto | LayoutChoice::Positions => Layout::Positions,
        LayoutChoice::Ring => Layout::Ring,
        LayoutChoice::Force => Layout::ForceDirected,
    }
}

/// Builds the scene's network (no recorder) and opens the viewer on it with `settings`
/// (the window is titled after `settings.title`). Returns when the window closes or the
/// screenshot is saved.
pub fn view(scene: &Scene, settings: ViewerSettings) -> Result<bevy::app::AppExit, crate::BuildError> {
    let mut app = crate::build_app(scene, None)?;
    biospike_synapses::prepare_synapse_index(app.world_mut());
    app.add_plugins(window_plugins(&format!("biospike — {}", settings.title)));
    app.insert_resource(settings);
    app.add_plugins(ViewerPlugin);
    Ok(app.run())
}
