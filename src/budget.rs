//! What a scene will need before anything is allocated: memory for its network and the size of
//! the output it will write.
//!
//! [`Scene::budget`] estimates both from the scene alone (population sizes, the topology's
//! expected synapse count, the delay ring, what is recorded). [`build_app`](crate::build_app)
//! refuses a scene whose estimate exceeds the memory this machine has available, with the
//! estimate in the message, instead of aborting on a failed allocation; `biospike run` also
//! prints the output volume before the run and refuses one that does not fit on the disk.
//!
//! The per-item costs are measured on the release build (`/usr/bin/time -f %M` on scenes of
//! 1–2 M neurons and 1–4 M synapses): ≈ 280 B per neuron, ≈ 145 B per synapse entity,
//! ≈ 12 B per index-only synapse. The constants below round them up.
//!
//! ```
//! use biospike::Scene;
//!
//! let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
//! let budget = scene.budget(scene.desc.time_steps);
//! assert_eq!(budget.neurons, 1000);
//! assert_eq!(budget.synapses, 1_000_000);
//! assert!(budget.memory_bytes > 100_000_000 && budget.memory_bytes < 400_000_000);
//! ```

use std::fmt;
use std::path::Path;

use biospike_synapses::SynapseStorageDesc;
use biospike_topology::TopologyDesc;

use crate::scene::{Scene, SceneError};

/// Memory per neuron (entity, components, per-neuron rows of the index and buffers), bytes.
pub const BYTES_PER_NEURON: u64 = 320;
/// Memory per synapse stored as an entity and in the delivery index, bytes.
pub const BYTES_PER_SYNAPSE_ENTITY: u64 = 170;
/// Memory per synapse stored in the delivery index only, bytes.
pub const BYTES_PER_SYNAPSE_INDEX: u64 = 16;
/// Extra memory per synapse with STDP (traces, plastic flags, eligibility), bytes.
pub const BYTES_PER_PLASTIC_SYNAPSE: u64 = 16;
/// Memory per edge while a small-world or scale-free graph is generated, bytes.
pub const BYTES_PER_GENERATED_EDGE: u64 = 48;

/// Estimated needs of a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Neurons.
    pub neurons: u64,
    /// Expected synapses (the mean for random rules).
    pub synapses: u64,
    /// Memory of the running network, bytes, with its parts.
    pub memory_bytes: u64,
    /// What the memory goes to: `(part, bytes)`.
    pub memory_parts: Vec<(&'static str, u64)>,
    /// Bytes the recorded tables will take at most, spikes excluded (uncompressed).
    pub output_bytes: u64,
    /// What the output goes to: `(table, bytes)`.
    pub output_parts: Vec<(&'static str, u64)>,
}

/// Bytes as a short human figure (`1.2 GB`).
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        b if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

fn parts(p: &[(&'static str, u64)]) -> String {
    p.iter().filter(|x| x.1 > 0).map(|(what, b)| format!("{what} {}", human_bytes(*b))).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "≈ {} ({}) for {} neurons and ≈ {} synapses",
            human_bytes(self.memory_bytes),
            parts(&self.memory_parts),
            self.neurons,
            self.synapses
        )
    }
}

impl Budget {
    /// The output line: `≈ 12.0 MB (state 10.0 MB, …) plus ≈ 12 B per spike`.
    pub fn output_line(&self) -> String {
        format!("≈ {} ({}) plus ≈ 12 B per spike", human_bytes(self.output_bytes), parts(&self.output_parts))
    }
}

/// Expected synapse count of `topology` over `n` neurons (saturating).
pub fn expected_synapses(topology: &TopologyDesc, n: u64) -> u64 {
    match *topology {
        TopologyDesc::Disconnected => 0,
        TopologyDesc::AllToAll { self_connections } => n.saturating_mul(n).saturating_sub(if self_connections { 0 } else { n }),
        TopologyDesc::FixedInDegree { k, .. } | TopologyDesc::FixedOutDegree { k, .. } | TopologyDesc::SmallWorld { k, .. } => {
            n.saturating_mul(u64::from(k))
        }
        TopologyDesc::ErdosRenyi { p, self_connections } => {
            let pairs = n.saturating_mul(n).saturating_sub(if self_connections { 0 } else { n });
            (pairs as f64 * p).ceil() as u64
        }
        TopologyDesc::ScaleFree { m, directed } => n.saturating_mul(u64::from(m)).saturating_mul(if directed { 1 } else { 2 }),
    }
}

impl Scene {
    /// The memory and output this scene needs when run for `steps` steps.
    pub fn budget(&self, steps: u64) -> Budget {
        let d = &self.desc;
        let n: u64 = d.populations.iter().map(|p| u64::from(p.size)).sum();
        let ranges = crate::build::population_ranges(self);
        let projections: Vec<biospike_topology::Projection> = d
            .projections
            .iter()
            .map(|p| {
                let range = |name: &str| ranges.get(usize::from(self.population_id(name))).cloned().unwrap_or(0..0);
                p.lower(range(&p.source), range(&p.target))
            })
            .collect();
        let synapses = projections.iter().fold(expected_synapses(&d.topology, n), |a, p| a.saturating_add(p.expected_edges()));
        let per_synapse = match d.synapse_storage {
            SynapseStorageDesc::Entities => BYTES_PER_SYNAPSE_ENTITY,
            SynapseStorageDesc::IndexOnly => BYTES_PER_SYNAPSE_INDEX,
        } + if d.plasticity.is_some() { BYTES_PER_PLASTIC_SYNAPSE } else { 0 };
        let graph_built = |r: &biospike_topology::Rule| {
            matches!(r, biospike_topology::Rule::SmallWorld { .. } | biospike_topology::Rule::ScaleFree { .. })
        };
        let generated = match d.topology {
            TopologyDesc::SmallWorld { .. } | TopologyDesc::ScaleFree { .. } => synapses.saturating_mul(BYTES_PER_GENERATED_EDGE),
            _ => projections
                .iter()
                .filter(|p| graph_built(&p.rule))
                .map(|p| p.expected_edges().saturating_mul(BYTES_PER_GENERATED_EDGE))
                .max()
                .unwrap_or(0),
        };
        // The delay ring holds one f64 per neuron for each step up to the longest delay.
        let projection_delay = d.projections.iter().map(|p| match (p.delay_steps, p.delay_ms) {
            (Some(steps), _) => u64::from(steps.bounds().1),
            (None, ms) => biospike_core::steps_in(ms.map_or(1.0, |m| m.bounds().1), d.dt_ms),
        });
        let max_delay = d
            .populations
            .iter()
            .map(|p| biospike_core::steps_in(p.synapses.delay_ms.bounds().1, d.dt_ms))
            .chain(projection_delay)
            .max()
            .unwrap_or(1)
            .max(1);
        let ring = if synapses > 0 { n.saturating_mul(8).saturating_mul(max_delay + 1) } else { 0 };
        let memory_parts = vec![
            ("neurons", n.saturating_mul(BYTES_PER_NEURON)),
            ("synapses", synapses.saturating_mul(per_synapse)),
            ("topology generation", generated),
            ("delay ring", ring),
        ];
        let memory_bytes = memory_parts.iter().fold(0u64, |a, x| a.saturating_add(x.1));

        let r = &d.record;
        let samples = |every: u64| steps.div_ceil(every.max(1));
        let mut output_parts = Vec::new();
        if r.neurons {
            output_parts.push(("neurons", n.saturating_mul(40)));
        }
        if r.synapses {
            output_parts.push(("synapses", synapses.saturating_mul(28)));
        }
        if let Some(s) = &r.state {
            output_parts.push(("state", (s.neurons.len() as u64).saturating_mul(samples(s.every_steps)).saturating_mul(52)));
        }
        if let Some(w) = &r.weights {
            let k = samples(w.every_steps);
            output_parts.push(("weights", (w.synapses.len() as u64 + 1).saturating_mul(k).saturating_mul(32)));
            if let Some(h) = &w.histogram {
                output_parts.push(("weight_histogram", u64::from(h.bins).saturating_mul(k).saturating_mul(24)));
            }
        }
        if let (Some(every), true) = (r.modulation_every_steps, d.neuromodulation.is_some()) {
            let k = samples(every);
            output_parts.push(("modulators", k.saturating_mul(3 * 32)));
            output_parts.push(("excitability", k.saturating_mul(d.populations.len() as u64).saturating_mul(24)));
        }
        let output_bytes = output_parts.iter().fold(0u64, |a, x| a.saturating_add(x.1));
        Budget { neurons: n, synapses, memory_bytes, memory_parts, output_bytes, output_parts }
    }

    /// Refuses a scene whose network would not fit in the memory this machine has available
    /// (Linux `MemAvailable`; not checked where it cannot be read).
    pub fn check_memory(&self) -> Result<Budget, SceneError> {
        let budget = self.budget(self.desc.time_steps);
        if let Some(avail) = available_memory()
            && budget.memory_bytes > avail
        {
            // Point at what the largest part comes from.
            let largest = budget.memory_parts.iter().max_by_key(|p| p.1).map_or("neurons", |p| p.0);
            let projections = !self.desc.projections.is_empty();
            let (field, key) = match largest {
                "synapses" | "topology generation" if projections => ("projections", "projections"),
                "synapses" | "topology generation" => ("topology", "topology"),
                "delay ring" if projections => ("projections.delay_ms", "projections"),
                "delay ring" => ("populations.synapses.delay_ms", "delay_ms"),
                _ => ("populations", "populations"),
            };
            return Err(self.invalid(
                field.into(),
                key,
                0,
                format!("the network needs memory {budget}; this machine has {} available", human_bytes(avail)),
            ));
        }
        Ok(budget)
    }
}

/// Memory available to new allocations (Linux `MemAvailable` in `/proc/meminfo`), bytes.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.trim_start_matches("MemAvailable:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Free space for an unprivileged user on the file system that holds `path` (or its nearest
/// existing ancestor), bytes.
#[cfg(unix)]
pub fn free_disk(path: &Path) -> Option<u64> {
    let mut p = path;
    while !p.exists() {
        p = p.parent().filter(|x| !x.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if p == Path::new(".") {
            break;
        }
    }
    let st = rustix::fs::statvfs(p).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Free space (not known on this platform).
#[cfg(not(unix))]
pub fn free_disk(_: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_synapses_do_not_wrap() {
        let n = 100_000;
        assert_eq!(expected_synapses(&TopologyDesc::SmallWorld { k: 99_998, rewire_p: 0.1 }, n), 9_999_800_000);
        assert_eq!(expected_synapses(&TopologyDesc::ScaleFree { m: 99_999, directed: false }, n), 19_999_800_000);
        assert!(expected_synapses(&TopologyDesc::AllToAll { self_connections: false }, u64::from(u32::MAX)) > 10u64.pow(19));
    }

    #[test]
    fn human_bytes_picks_the_unit() {
        assert_eq!(human_bytes(524_000_000_000), "524.0 GB");
        assert_eq!(human_bytes(999), "999 B");
    }
}
