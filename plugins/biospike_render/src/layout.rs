//! Where each neuron is drawn: the scene's positions, rings, or a force-directed layout.
//!
//! Every layout is a pure function of its inputs (no random state), scaled so that the network
//! fits in a sphere of radius [`LAYOUT_RADIUS`] around the origin.

use bevy::math::Vec3;

/// Radius of the sphere every layout is scaled into, in world units.
pub const LAYOUT_RADIUS: f32 = 100.0;

/// Above this many neurons the force-directed layout falls back to [`Layout::Positions`]:
/// its repulsion step is O(n²) per iteration.
pub const FORCE_DIRECTED_MAX_NEURONS: usize = 3000;

/// How neurons are placed in the viewer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// The [`Position`](biospike_core::Position) component of each neuron (scenes put each
    /// population on its own square layer).
    #[default]
    Positions,
    /// Each population on a horizontal ring, populations stacked: the natural picture of a
    /// ring lattice / small world.
    Ring,
    /// Fruchterman–Reingold in 3D on the synapse graph (undirected), from the scene positions.
    ForceDirected,
}

/// Positions of `n` neurons for `layout`.
///
/// `scene_positions[i]` is neuron `i`'s own position, `population[i]` its population index and
/// `edges` the synapses `(pre, post)`. The result is centred on the origin and scaled to fit
/// within [`LAYOUT_RADIUS`].
pub fn compute_layout(layout: Layout, scene_positions: &[Vec3], population: &[u16], edges: &[(u32, u32)]) -> Vec<Vec3> {
    let raw = match layout {
        Layout::Positions => scene_positions.to_vec(),
        Layout::Ring => ring(population),
        Layout::ForceDirected if scene_positions.len() <= FORCE_DIRECTED_MAX_NEURONS => {
            force_directed(&normalize(scene_positions.to_vec()), edges, 120)
        }
        Layout::ForceDirected => scene_positions.to_vec(),
    };
    normalize(raw)
}

/// Centres `points` on their bounding box and scales them into [`LAYOUT_RADIUS`].
pub fn normalize(mut points: Vec<Vec3>) -> Vec<Vec3> {
    if points.is_empty() {
        return points;
    }
    let (lo, hi) = points.iter().fold((Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    let centre = (lo + hi) * 0.5;
    let half = ((hi - lo) * 0.5).length().max(f32::EPSILON);
    let scale = if points.len() == 1 { 1.0 } else { LAYOUT_RADIUS / half };
    for p in &mut points {
        *p = (*p - centre) * scale;
    }
    points
}

/// One horizontal ring per population, in id order, rings stacked along y.
fn ring(population: &[u16]) -> Vec<Vec3> {
    let pops = population.iter().copied().max().map_or(0, |m| usize::from(m) + 1);
    let mut sizes = vec![0usize; pops];
    for &p in population {
        sizes[usize::from(p)] += 1;
    }
    let mut seen = vec![0usize; pops];
    population
        .iter()
        .map(|&p| {
            let p = usize::from(p);
            let k = seen[p];
            seen[p] += 1;
            let angle = std::f32::consts::TAU * k as f32 / sizes[p].max(1) as f32;
            let y = (p as f32 - (pops as f32 - 1.0) * 0.5) * 0.5;
            Vec3::new(angle.cos(), y, angle.sin())
        })
        .collect()
}

/// Fruchterman–Reingold in 3D: every pair repels with `k²/d`, every synapse attracts with
/// `d²/k`, moves are capped by a temperature that cools linearly.
fn force_directed(start: &[Vec3], edges: &[(u32, u32)], iterations: usize) -> Vec<Vec3> {
    let n = start.len();
    if n < 2 {
        return start.to_vec();
    }
    let mut pos = start.to_vec();
    // Undirected, without duplicates or self-loops.
    let mut pairs: Vec<(u32, u32)> = edges.iter().filter(|(a, b)| a != b).map(|&(a, b)| (a.min(b), a.max(b))).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let volume = (2.0 * LAYOUT_RADIUS).powi(3);
    let k = (volume / n as f32).cbrt();
    let mut disp = vec![Vec3::ZERO; n];
    for it in 0..iterations {
        let temperature = 0.1 * LAYOUT_RADIUS * (1.0 - it as f32 / iterations as f32) + 0.5;
        disp.fill(Vec3::ZERO);
        for i in 0..n {
            for j in i + 1..n {
                let mut d = pos[i] - pos[j];
                let mut len2 = d.length_squared();
                if len2 < 1e-6 {
                    // Coincident points: push apart along a fixed, index-derived direction.
                    d = Vec3::new(1.0, (i % 7) as f32 * 0.1, (j % 5) as f32 * 0.1);
                    len2 = d.length_squared();
                }
                let f = d * (k * k / len2);
                disp[i] += f;
                disp[j] -= f;
            }
        }
        for &(a, b) in &pairs {
            let (a, b) = (a as usize, b as usize);
            if a >= n || b >= n {
                continue;
            }
            let d = pos[a] - pos[b];
            let f = d * (d.length() / k);
            disp[a] -= f;
            disp[b] += f;
        }
        for (p, d) in pos.iter_mut().zip(&disp) {
            let len = d.length();
            if len > 0.0 {
                *p += *d / len * len.min(temperature);
            }
            // Keep the cloud bounded, as FR's frame does.
            *p = p.clamp(Vec3::splat(-2.0 * LAYOUT_RADIUS), Vec3::splat(2.0 * LAYOUT_RADIUS));
        }
    }
    pos
}

/// A sphere radius that keeps neighbours apart: 0.35 × the median nearest-neighbour distance
/// (over at most 400 sampled neurons).
pub fn sphere_radius(points: &[Vec3]) -> f32 {
    if points.len() < 2 {
        return LAYOUT_RADIUS * 0.05;
    }
    let stride = (points.len() / 400).max(1);
    let mut nearest: Vec<f32> = points
        .iter()
        .enumerate()
        .step_by(stride)
        .map(|(i, p)| {
            points.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, q)| p.distance_squared(*q)).fold(f32::MAX, f32::min).sqrt()
        })
        .collect();
    nearest.sort_by(f32::total_cmp);
    let median = nearest[nearest.len() / 2];
    (0.35 * median).clamp(0.05, LAYOUT_RADIUS * 0.08)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_puts_each_population_on_a_circle_of_the_layout_radius() {
        let pops = [0u16, 0, 0, 0, 1, 1];
        let p = compute_layout(Layout::Ring, &[Vec3::ZERO; 6], &pops, &[]);
        for q in &p[..4] {
            let r = (q.x * q.x + q.z * q.z).sqrt();
            assert!((r - (p[0].x * p[0].x + p[0].z * p[0].z).sqrt()).abs() < 1e-3);
        }
        assert!(p[0].y < p[4].y, "populations are stacked");
        assert!(p.iter().all(|q| q.length() <= LAYOUT_RADIUS + 1e-3));
    }

    #[test]
    fn positions_are_centred_and_scaled() {
        let pts = vec![Vec3::new(10.0, 0.0, 0.0), Vec3::new(30.0, 0.0, 0.0)];
        let p = compute_layout(Layout::Positions, &pts, &[0, 0], &[]);
        assert!((p[0].x + LAYOUT_RADIUS).abs() < 1e-3 && (p[1].x - LAYOUT_RADIUS).abs() < 1e-3);
    }

    #[test]
    fn force_directed_pulls_connected_neurons_together_and_is_deterministic() {
        // Two 10-cliques with no edge between them, interleaved on a line.
        let n = 20u32;
        let pts: Vec<Vec3> = (0..n).map(|i| Vec3::new(i as f32, (i % 3) as f32, (i % 5) as f32)).collect();
        let mut edges = Vec::new();
        for a in 0..n {
            for b in 0..n {
                if a != b && a % 2 == b % 2 {
                    edges.push((a, b));
                }
            }
        }
        let pops = vec![0u16; n as usize];
        let p = compute_layout(Layout::ForceDirected, &pts, &pops, &edges);
        assert_eq!(p, compute_layout(Layout::ForceDirected, &pts, &pops, &edges));
        let mean = |same: bool| {
            let (mut s, mut c) = (0.0, 0.0);
            for a in 0..n as usize {
                for b in a + 1..n as usize {
                    if (a % 2 == b % 2) == same {
                        s += p[a].distance(p[b]);
                        c += 1.0;
                    }
                }
            }
            s / c
        };
        assert!(mean(true) * 2.0 < mean(false), "within-clique {} vs across {}", mean(true), mean(false));
    }

    #[test]
    fn sphere_radius_is_a_fraction_of_the_spacing() {
        let pts: Vec<Vec3> = (0..10).map(|i| Vec3::new(i as f32 * 4.0, 0.0, 0.0)).collect();
        assert!((sphere_radius(&pts) - 1.4).abs() < 1e-4);
    }
}
