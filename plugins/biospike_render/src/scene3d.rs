//! The 3D scene: camera, light, neuron spheres and their flashes, synapse lines, picking.

use crate::layout::{compute_layout, sphere_radius};
use crate::live::LiveState;
use crate::{LineMode, ViewerSettings};
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use biospike_core::prelude::*;
use biospike_core::{PopulationTable, population_color};

/// Flash levels with their own material (level `j/FLASH_LEVELS`, `j = 1..=FLASH_LEVELS`).
const FLASH_LEVELS: usize = 5;

/// The colour of a neuron that just fired (sRGB).
pub const FLASH_COLOR: [f32; 3] = [1.0, 0.9, 0.2];

/// Emissive strength of a full flash, on top of the lit colour (enough to saturate red and green).
const FLASH_EMISSIVE: f32 = 1.5;

/// At most this many lines in [`LineMode::All`].
const ALL_LINES_CAP: usize = 250_000;

/// Marks the viewer's camera.
#[derive(Component)]
pub struct ViewerCamera;

/// A neuron's sphere (a viewer entity, not the neuron itself).
#[derive(Component)]
pub struct NeuronSphere(pub u32);

/// Where every neuron is drawn and how it currently looks.
#[derive(Resource)]
pub struct NeuronVisuals {
    /// Sphere entity per neuron id.
    pub spheres: Vec<Entity>,
    /// Position per neuron id.
    pub positions: Vec<Vec3>,
    /// Sphere radius.
    pub radius: f32,
    flash: Vec<f32>,
    bucket: Vec<u8>,
    population: Vec<u16>,
    /// `materials[p][0]` at rest, `materials[p][j]` flash level `j`.
    materials: Vec<Vec<Handle<StandardMaterial>>>,
}

/// Orbit camera around a focus point.
#[derive(Resource, Debug)]
pub struct OrbitCamera {
    focus: Vec3,
    yaw: f32,
    pitch: f32,
    distance: f32,
}

impl OrbitCamera {
    fn transform(&self) -> Transform {
        let dir = Vec3::new(self.pitch.cos() * self.yaw.sin(), self.pitch.sin(), self.pitch.cos() * self.yaw.cos());
        Transform::from_translation(self.focus + dir * self.distance).looking_at(self.focus, Vec3::Y)
    }
}

/// The synapses drawn as lines: `(pre, post, index into SynapseIndex)`.
#[derive(Resource, Default)]
pub struct LineCache {
    key: Option<(u64, LineMode, Option<u32>, usize)>,
    lines: Vec<(u32, u32, usize)>,
}

pub(crate) fn setup(
    mut commands: Commands,
    settings: Res<ViewerSettings>,
    neurons: Query<(&NeuronId, Option<&PopulationId>, Option<&Position>)>,
    (synapses, index): (Query<&Synapse>, Option<Res<SynapseIndex>>),
    table: Option<Res<PopulationTable>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let n = neurons.iter().map(|(id, ..)| id.0 as usize + 1).max().unwrap_or(0);
    let mut scene_pos = vec![Vec3::ZERO; n];
    let mut population = vec![0u16; n];
    for (id, pop, pos) in &neurons {
        scene_pos[id.0 as usize] = pos.map_or(Vec3::ZERO, |p| Vec3::from_array(p.0));
        population[id.0 as usize] = pop.map_or(0, |p| p.0);
    }
    let mut edges: Vec<(u32, u32)> = synapses.iter().map(|s| (s.pre.0, s.post.0)).collect();
    // Index-only synapses have no entity: the layout takes them from the index.
    if let Some(index) = &index {
        edges.extend(index.edges().filter(|e| e.entity == Entity::PLACEHOLDER).map(|e| (e.pre, e.post)));
    }
    let positions = compute_layout(settings.layout, &scene_pos, &population, &edges);
    let radius = sphere_radius(&positions);

    let pops = population.iter().copied().max().map_or(1, |m| usize::from(m) + 1);
    let flash = Color::srgb(FLASH_COLOR[0], FLASH_COLOR[1], FLASH_COLOR[2]);
    let pop_materials: Vec<Vec<Handle<StandardMaterial>>> = (0..pops)
        .map(|p| {
            // The population's colour in every figure too (`biospike plot`).
            let [r, g, b] = table.as_ref().map_or_else(|| population_color(&[], p), |t| t.color(p as u16));
            let base = Color::srgb_u8(r, g, b);
            let mut v = vec![materials.add(StandardMaterial { base_color: base, perceptual_roughness: 0.6, ..default() })];
            for j in 1..=FLASH_LEVELS {
                let t = j as f32 / FLASH_LEVELS as f32;
                // Lit like the resting material (the same pipeline: swapping materials then
                // needs no new shader variant), glowing through a strong emissive term.
                let c = base.mix(&flash, t);
                v.push(materials.add(StandardMaterial {
                    base_color: c,
                    emissive: LinearRgba::from(c) * FLASH_EMISSIVE * t,
                    perceptual_roughness: 0.6,
                    ..default()
                }));
            }
            v
        })
        .collect();

    let mesh = meshes.add(Sphere::new(radius).mesh().ico(2).unwrap_or_else(|_| Sphere::new(radius).mesh().uv(12, 8)));
    let spheres: Vec<Entity> = (0..n)
        .map(|i| {
            commands
                .spawn((
                    NeuronSphere(i as u32),
                    Mesh3d(mesh.clone()),
                    MeshMaterial3d(pop_materials[usize::from(population[i])][0].clone()),
                    Transform::from_translation(positions[i]),
                ))
                .id()
        })
        .collect();

    let orbit = OrbitCamera { focus: Vec3::ZERO, yaw: 0.7, pitch: 0.35, distance: 2.6 * crate::layout::LAYOUT_RADIUS };
    commands.spawn((ViewerCamera, Camera3d::default(), Tonemapping::None, Msaa::Off, orbit.transform()));
    commands.insert_resource(orbit);
    commands
        .spawn((DirectionalLight { illuminance: 4000.0, ..default() }, Transform::from_xyz(1.0, 2.0, 1.5).looking_at(Vec3::ZERO, Vec3::Y)));
    commands.insert_resource(GlobalAmbientLight { brightness: 400.0, ..default() });
    commands.insert_resource(NeuronVisuals {
        spheres,
        positions,
        radius,
        flash: vec![0.0; n],
        bucket: vec![0; n],
        population,
        materials: pop_materials,
    });
    commands.init_resource::<LineCache>();
}

pub(crate) fn orbit_camera(
    mut orbit: ResMut<OrbitCamera>,
    mut camera: Single<&mut Transform, With<ViewerCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    keys: Res<ButtonInput<KeyCode>>,
    time: Res<Time>,
) {
    let mut changed = false;
    if buttons.pressed(MouseButton::Left) && motion.delta != Vec2::ZERO {
        orbit.yaw -= motion.delta.x * 0.005;
        orbit.pitch = (orbit.pitch + motion.delta.y * 0.005).clamp(-1.5, 1.5);
        changed = true;
    }
    let turn = time.delta_secs() * 1.2;
    if keys.pressed(KeyCode::ArrowLeft) {
        orbit.yaw -= turn;
        changed = true;
    }
    if keys.pressed(KeyCode::ArrowRight) {
        orbit.yaw += turn;
        changed = true;
    }
    if scroll.delta.y != 0.0 {
        let lines = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        orbit.distance = (orbit.distance * 0.9f32.powf(lines)).clamp(5.0, 20.0 * crate::layout::LAYOUT_RADIUS);
        changed = true;
    }
    if changed {
        **camera = orbit.transform();
    }
}

/// A click (press and release without dragging) selects the nearest sphere under the cursor.
pub(crate) fn pick(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window>,
    camera: Single<(&Camera, &GlobalTransform), With<ViewerCamera>>,
    visuals: Option<Res<NeuronVisuals>>,
    mut live: ResMut<LiveState>,
    mut pressed_at: Local<Option<Vec2>>,
) {
    let cursor = window.cursor_position();
    if buttons.just_pressed(MouseButton::Left) {
        *pressed_at = cursor;
    }
    if !buttons.just_released(MouseButton::Left) {
        return;
    }
    let (Some(start), Some(cursor), Some(visuals)) = (pressed_at.take(), cursor, visuals) else { return };
    if start.distance(cursor) > 5.0 {
        return; // a drag, not a click
    }
    let (camera, camera_tf) = *camera;
    let Ok(ray) = camera.viewport_to_world(camera_tf, cursor) else { return };
    live.select(nearest_hit(ray.origin, *ray.direction, &visuals.positions, visuals.radius * 1.5));
}

/// The first sphere (centre in `positions`, radius `hit_radius`) that the ray from `origin`
/// along the unit vector `direction` passes through, nearest to the origin.
pub fn nearest_hit(origin: Vec3, direction: Vec3, positions: &[Vec3], hit_radius: f32) -> Option<u32> {
    positions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let to = *p - origin;
            let t = to.dot(direction);
            let miss2 = to.length_squared() - t * t;
            (t > 0.0 && miss2 <= hit_radius * hit_radius).then_some((i as u32, t))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Sets each sphere's material from its flash level: 1 on the frame its neuron fired, then
/// fading by `1 / flash_frames` per frame.
pub(crate) fn flash(
    live: Res<LiveState>,
    settings: Res<ViewerSettings>,
    visuals: Option<ResMut<NeuronVisuals>>,
    mut spheres: Query<&mut MeshMaterial3d<StandardMaterial>, With<NeuronSphere>>,
) {
    let Some(mut visuals) = visuals else { return };
    let visuals = &mut *visuals;
    let fade = 1.0 / settings.flash_frames.max(1) as f32;
    for f in visuals.flash.iter_mut().filter(|f| **f > 0.0) {
        *f = (*f - fade).max(0.0);
    }
    for &id in &live.frame_spikes {
        if let Some(f) = visuals.flash.get_mut(id as usize) {
            *f = 1.0;
        }
    }
    for i in 0..visuals.flash.len() {
        let bucket = (visuals.flash[i] * FLASH_LEVELS as f32).ceil() as u8;
        if bucket != visuals.bucket[i] {
            visuals.bucket[i] = bucket;
            let handle = visuals.materials[usize::from(visuals.population[i])][usize::from(bucket)].clone();
            if let Ok(mut m) = spheres.get_mut(visuals.spheres[i]) {
                m.0 = handle;
            }
        }
    }
}

/// Draws the chosen synapses (live weights) and the selection marker.
pub(crate) fn draw_lines(
    live: Res<LiveState>,
    settings: Res<ViewerSettings>,
    visuals: Option<Res<NeuronVisuals>>,
    index: Option<Res<SynapseIndex>>,
    cache: Option<ResMut<LineCache>>,
    mut gizmos: Gizmos,
) {
    let (Some(visuals), Some(mut cache)) = (visuals, cache) else { return };
    if let Some(sel) = live.selected
        && let Some(p) = visuals.positions.get(sel as usize)
    {
        gizmos.sphere(*p, visuals.radius * 2.2, Color::WHITE);
    }
    let Some(index) = index else { return };
    let key = (index.generation(), live.lines, live.selected, index.len());
    if cache.key != Some(key) {
        cache.key = Some(key);
        cache.lines = choose_lines(&index, live.lines, live.selected, settings.max_lines);
    }
    if cache.lines.is_empty() {
        return;
    }
    let weights = index.weights();
    let wmax = cache.lines.iter().map(|&(_, _, k)| weights[k].abs()).fold(f32::MIN_POSITIVE, f32::max);
    for &(pre, post, k) in &cache.lines {
        let (Some(a), Some(b)) = (visuals.positions.get(pre as usize), visuals.positions.get(post as usize)) else { continue };
        let w = weights[k];
        let alpha = 0.06 + 0.5 * (w.abs() / wmax);
        let color = if w >= 0.0 { Color::srgba(0.35, 0.9, 0.45, alpha) } else { Color::srgba(0.95, 0.35, 0.85, alpha) };
        gizmos.line(*a, *b, color);
    }
}

/// The synapses `mode` shows, as `(pre, post, k)`.
fn choose_lines(index: &SynapseIndex, mode: LineMode, selected: Option<u32>, max_lines: usize) -> Vec<(u32, u32, usize)> {
    let n = index.neuron_count() as u32;
    let all = (0..n).flat_map(|pre| index.row(pre).map(move |k| (pre, k)));
    let posts = index.posts();
    match (mode, selected) {
        (LineMode::None, _) | (LineMode::Selected, None) => Vec::new(),
        (LineMode::Selected, Some(sel)) => {
            all.filter(|&(pre, k)| pre == sel || posts[k] == sel).map(|(pre, k)| (pre, posts[k], k)).collect()
        }
        (LineMode::All, _) => all.take(ALL_LINES_CAP).map(|(pre, k)| (pre, posts[k], k)).collect(),
        (LineMode::Sampled, _) => {
            let stride = index.len().div_ceil(max_lines.max(1)).max(1);
            all.filter(|&(_, k)| k % stride == 0).map(|(pre, k)| (pre, posts[k], k)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biospike_core::IndexedSynapse;

    #[test]
    fn a_ray_picks_the_nearest_sphere_it_passes_through() {
        let pts = [Vec3::new(0.0, 0.0, -10.0), Vec3::new(0.0, 0.0, -5.0), Vec3::new(3.0, 0.0, -5.0), Vec3::new(0.0, 0.0, 5.0)];
        assert_eq!(nearest_hit(Vec3::ZERO, Vec3::NEG_Z, &pts, 1.0), Some(1), "nearest in front");
        assert_eq!(nearest_hit(Vec3::ZERO, Vec3::Z, &pts, 1.0), Some(3), "the one behind is only hit looking back");
        let d = Vec3::new(2.9, 0.0, -5.0).normalize();
        assert_eq!(nearest_hit(Vec3::ZERO, d, &pts, 0.5), Some(2));
        assert_eq!(nearest_hit(Vec3::ZERO, Vec3::X, &pts, 1.0), None, "a miss selects nothing");
    }

    fn index(edges: &[(u32, u32, f32)]) -> SynapseIndex {
        let syn = edges
            .iter()
            .map(|&(pre, post, weight)| IndexedSynapse { pre, post, weight, delay: 1, entity: Entity::PLACEHOLDER, receptor: 0 })
            .collect();
        SynapseIndex::from_edges(4, syn, 0)
    }

    #[test]
    fn line_modes_choose_the_right_synapses() {
        let idx = index(&[(0, 1, 1.0), (0, 2, 0.5), (1, 2, -1.0), (2, 3, 0.1), (3, 0, 0.2), (3, 1, 0.3)]);
        let pairs =
            |mode, sel, max| choose_lines(&idx, mode, sel, max).into_iter().map(|(a, b, k)| (a, b, idx.posts()[k])).collect::<Vec<_>>();
        assert_eq!(pairs(LineMode::All, None, 1).len(), 6);
        assert!(pairs(LineMode::None, Some(1), 10).is_empty());
        assert!(pairs(LineMode::Selected, None, 10).is_empty());
        let sel: Vec<(u32, u32)> = pairs(LineMode::Selected, Some(1), 10)
            .into_iter()
            .map(|(a, b, post)| {
                assert_eq!(b, post);
                (a, b)
            })
            .collect();
        assert_eq!(sel, vec![(0, 1), (1, 2), (3, 1)], "in- and out-edges of neuron 1");
        assert_eq!(pairs(LineMode::Sampled, None, 3).len(), 3, "every second synapse");
        assert_eq!(pairs(LineMode::Sampled, None, 100).len(), 6, "all when under the limit");
    }
}
