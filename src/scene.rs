//! Scenes: typed RON descriptions, validated once, with errors that point into the file.
//!
//! A scene deserializes into the description types below (`deny_unknown_fields`, units in the
//! names). Single-field ranges are checked while parsing, so a bad value is reported at its
//! exact line and column; relations between fields (ids inside a population, `k < n`, …) are
//! checked by [`Scene::validate`] afterwards and located by the field's key in the text.
//! The format is documented in `docs/scene.md`.

use biospike_input::CurrentStimulus;
use serde::{Deserialize, Deserializer, de::Error as _};
use std::fmt;
use std::path::{Path, PathBuf};

/// A scene error: where, which field, what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    /// The file could not be read.
    #[error("{file}: cannot read the scene: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Syntax, type or range error found while parsing.
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Field path, e.g. `populations[1].noise.std` (`(scene)` at the top level).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A relation between fields does not hold.
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the field's key (best effort: the key's first occurrence in context).
        line: usize,
        /// 1-based column.
        column: usize,
        /// Field path.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

macro_rules! checked {
    ($(#[$m:meta])* $name:ident: $t:ty, |$v:ident| $ok:expr, $allowed:expr) => {
        $(#[$m])*
        pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
            let $v = <$t>::deserialize(d)?;
            if $ok { Ok($v) } else { Err(D::Error::custom(format!("{} is outside the allowed range {}", $v, $allowed))) }
        }
    };
}

mod range {
    use super::*;
    checked!(positive: f64, |v| v.is_finite() && v > 0.0, "(0, ∞)");
    checked!(non_negative: f64, |v| v.is_finite() && v >= 0.0, "[0, ∞)");
    checked!(finite: f64, |v| v.is_finite(), "finite numbers");
    checked!(probability: f64, |v| (0.0..=1.0).contains(&v), "[0, 1]");
    checked!(at_least_one: u32, |v| v >= 1, "1..=4294967295");
    checked!(at_least_one_u64: u64, |v| v >= 1, "1..");
    checked!(substeps: u8, |v| v >= 1, "1..=255");
    checked!(threshold: f64, |v| v.is_finite() && (-100.0..=200.0).contains(&v), "[-100, 200] mV");
    pub(crate) fn opt_finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = Option::<f64>::deserialize(d)?;
        match v {
            Some(x) if !x.is_finite() => Err(D::Error::custom(format!("{x} is outside the allowed range finite numbers"))),
            _ => Ok(v),
        }
    }
}

fn default_seed() -> u64 {
    1
}
fn default_true() -> bool {
    true
}
fn default_threshold() -> f64 {
    30.0
}
fn default_v_init() -> f64 {
    -65.0
}
fn default_every() -> u64 {
    1
}

/// Integration scheme of the Izhikevich neurons.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum IntegrationDesc {
    /// `v` in `v_substeps` sub-steps, then `u` once (Izhikevich 2003). Default, with 2.
    HalfStep {
        /// Sub-steps for `v`, `>= 1`.
        #[serde(deserialize_with = "range::substeps")]
        v_substeps: u8,
    },
    /// Forward Euler, `v` then `u` per sub-step (`figure1.m`, the original project).
    Euler {
        /// Sub-steps per `dt`, `>= 1`.
        #[serde(deserialize_with = "range::substeps")]
        substeps: u8,
    },
}

impl Default for IntegrationDesc {
    fn default() -> Self {
        Self::HalfStep { v_substeps: 2 }
    }
}

/// The seven cell classes of Izhikevich (2003), Fig. 2.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetDesc {
    /// Regular spiking.
    RS,
    /// Intrinsically bursting.
    IB,
    /// Chattering.
    CH,
    /// Fast spiking.
    FS,
    /// Low-threshold spiking.
    LTS,
    /// Thalamo-cortical.
    TC,
    /// Resonator.
    RZ,
}

/// Neuron parameters of a population.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum NeuronDesc {
    /// A named cell class.
    Preset(PresetDesc),
    /// Explicit parameters.
    Custom {
        /// `a`, 1/ms.
        #[serde(deserialize_with = "range::finite")]
        a: f64,
        /// `b`.
        #[serde(deserialize_with = "range::finite")]
        b: f64,
        /// `c`, mV.
        #[serde(deserialize_with = "range::finite")]
        c: f64,
        /// `d`.
        #[serde(deserialize_with = "range::finite")]
        d: f64,
    },
    /// The 2003 network's excitatory cells, `r ~ U(0,1)` per neuron.
    Izhikevich2003Excitatory,
    /// The 2003 network's inhibitory cells, `r ~ U(0,1)` per neuron.
    Izhikevich2003Inhibitory,
}

impl Default for NeuronDesc {
    fn default() -> Self {
        Self::Preset(PresetDesc::RS)
    }
}

/// Sign of a population's outgoing synapses.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KindDesc {
    /// Positive weights.
    #[default]
    Excitatory,
    /// Negative weights.
    Inhibitory,
}

/// A distribution of a non-negative quantity (weight magnitudes, delays).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum DistDesc {
    /// Always `x`.
    Constant(#[serde(deserialize_with = "range::non_negative")] f64),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower end, `>= 0`.
        #[serde(deserialize_with = "range::non_negative")]
        low: f64,
        /// Upper end, `>= low`.
        #[serde(deserialize_with = "range::non_negative")]
        high: f64,
    },
    /// Normal, clipped to `[low, high]`.
    ClippedNormal {
        /// Mean.
        #[serde(deserialize_with = "range::finite")]
        mean: f64,
        /// Standard deviation, `>= 0`.
        #[serde(deserialize_with = "range::non_negative")]
        std: f64,
        /// Lower clip, `>= 0`.
        #[serde(deserialize_with = "range::non_negative")]
        low: f64,
        /// Upper clip, `>= low`.
        #[serde(deserialize_with = "range::non_negative")]
        high: f64,
    },
}

/// Outgoing synapses of a population.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SynapseDesc {
    /// Weight magnitude; the sign comes from the population's `kind`. Default: `Constant(1.0)`.
    #[serde(default = "default_weight")]
    pub weight: DistDesc,
    /// Delay in ms, rounded to whole steps (`>= 1` step). Default: `Constant(1.0)`.
    #[serde(default = "default_weight")]
    pub delay_ms: DistDesc,
}

fn default_weight() -> DistDesc {
    DistDesc::Constant(1.0)
}

impl Default for SynapseDesc {
    fn default() -> Self {
        Self { weight: default_weight(), delay_ms: default_weight() }
    }
}

/// Gaussian input current drawn every step.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseDesc {
    /// Mean. Default `0`.
    #[serde(default, deserialize_with = "range::finite")]
    pub mean: f64,
    /// Standard deviation, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub std: f64,
}

/// Poisson spike trains into (some of) a population's neurons.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoissonDesc {
    /// Rate in Hz, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub rate_hz: f64,
    /// Current per input spike.
    #[serde(deserialize_with = "range::finite")]
    pub weight: f64,
    /// Indices inside the population (0-based); all neurons when absent.
    #[serde(default)]
    pub neurons: Option<Vec<u32>>,
}

/// One population.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PopulationDesc {
    /// Unique name.
    pub name: String,
    /// Number of neurons, `>= 1` (alias `num_neurons`).
    #[serde(alias = "num_neurons", deserialize_with = "range::at_least_one")]
    pub size: u32,
    /// Excitatory (default) or inhibitory outgoing synapses.
    #[serde(default)]
    pub kind: KindDesc,
    /// Cell parameters. Default: `Preset(RS)`.
    #[serde(default)]
    pub neuron: NeuronDesc,
    /// Initial `v`, mV. Default `-65`.
    #[serde(default = "default_v_init", deserialize_with = "range::finite")]
    pub v_init_mv: f64,
    /// Initial `u`. Default `b · v_init`.
    #[serde(default, deserialize_with = "range::opt_finite")]
    pub u_init: Option<f64>,
    /// Gaussian drive.
    #[serde(default)]
    pub noise: Option<NoiseDesc>,
    /// Constant drive. Default `0`.
    #[serde(default, deserialize_with = "range::finite")]
    pub dc: f64,
    /// Piecewise drive (pulses, steps, ramps).
    #[serde(default)]
    pub stimulus: Option<CurrentStimulus>,
    /// Poisson spike trains.
    #[serde(default)]
    pub poisson: Option<PoissonDesc>,
    /// Outgoing synapses.
    #[serde(default)]
    pub synapses: SynapseDesc,
}

/// Connectivity over all neurons (ids in population order).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub enum TopologyDesc {
    /// No synapses.
    #[default]
    Disconnected,
    /// Every ordered pair.
    AllToAll {
        /// Include `i → i` (the 2003 listing does).
        #[serde(default)]
        self_connections: bool,
    },
    /// Every neuron gets `k` inputs, split across source populations in proportion to their
    /// sizes (largest remainder); sources drawn uniformly within each population.
    FixedInDegree {
        /// In-degree, `>= 1`.
        #[serde(deserialize_with = "range::at_least_one")]
        k: u32,
        /// Draw with replacement. Default `false`.
        #[serde(default)]
        multapses: bool,
        /// Allow `i → i`. Default `false`.
        #[serde(default)]
        self_connections: bool,
    },
    /// Each ordered pair with probability `p`.
    ErdosRenyi {
        /// Edge probability, `[0, 1]`.
        #[serde(deserialize_with = "range::probability")]
        p: f64,
        /// Allow `i → i`. Default `false`.
        #[serde(default)]
        self_connections: bool,
    },
    /// Watts–Strogatz ring with `k` neighbours, rewired with probability `rewire_p`
    /// (both directions of each edge become synapses).
    SmallWorld {
        /// Even, `2 ≤ k < n`.
        #[serde(deserialize_with = "range::at_least_one")]
        k: u32,
        /// Rewiring probability, `[0, 1]`.
        #[serde(deserialize_with = "range::probability")]
        rewire_p: f64,
    },
    /// Barabási–Albert preferential attachment with `m` edges per new node.
    ScaleFree {
        /// `1 ≤ m < n`.
        #[serde(deserialize_with = "range::at_least_one")]
        m: u32,
        /// Edges from the new node to its targets only (else both directions).
        #[serde(default)]
        directed: bool,
    },
}

/// Sampled state recording.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateDesc {
    /// Global neuron ids to sample.
    pub neurons: Vec<u32>,
    /// Sample period in steps, `>= 1`. Default `1`.
    #[serde(default = "default_every", deserialize_with = "range::at_least_one_u64")]
    pub every_steps: u64,
}

/// What is recorded.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RecordDesc {
    /// `spikes.parquet`. Default `true`.
    #[serde(default = "default_true")]
    pub spikes: bool,
    /// `neurons.parquet`. Default `true`.
    #[serde(default = "default_true")]
    pub neurons: bool,
    /// `synapses.parquet`. Default `true`.
    #[serde(default = "default_true")]
    pub synapses: bool,
    /// `state.parquet`. Default: none.
    #[serde(default)]
    pub state: Option<StateDesc>,
}

impl Default for RecordDesc {
    fn default() -> Self {
        Self { spikes: true, neurons: true, synapses: true, state: None }
    }
}

/// Neuromodulation parameters (the original project's names). **Accepted and validated, not
/// yet simulated**: the neuromodulation plugin is a later milestone.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeuromodulationDesc {
    /// Excitability time constant, ms, `> 0`.
    #[serde(deserialize_with = "range::positive")]
    pub tau_excitability: f64,
    /// Dopamine effect, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub dopamine_effect: f64,
    /// Serotonin effect, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub serotonin_effect: f64,
    /// Norepinephrine effect, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub norepinephrine_effect: f64,
}

/// Plasticity parameters (the original project's names). **Accepted and validated, not yet
/// simulated**: the STDP plugin is a later milestone.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlasticityDesc {
    /// Learning rate, `[0, 1]`.
    #[serde(deserialize_with = "range::probability")]
    pub learning_rate: f64,
    /// Eligibility-trace time constant, ms, `> 0`.
    #[serde(deserialize_with = "range::positive")]
    pub tau_synaptic: f64,
}

/// A whole scene.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SceneDesc {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Master seed. Default `1`.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Step size in ms, `> 0` (alias `dt`).
    #[serde(alias = "dt", deserialize_with = "range::positive")]
    pub dt_ms: f64,
    /// Number of steps to run, `>= 1`.
    #[serde(deserialize_with = "range::at_least_one_u64")]
    pub time_steps: u64,
    /// Integration scheme. Default `HalfStep(v_substeps: 2)`.
    #[serde(default)]
    pub integration: IntegrationDesc,
    /// Spike peak, mV. Default `30`.
    #[serde(default = "default_threshold", deserialize_with = "range::threshold")]
    pub threshold_mv: f64,
    /// Populations, in id order.
    pub populations: Vec<PopulationDesc>,
    /// Connectivity. Default `Disconnected`.
    #[serde(default)]
    pub topology: TopologyDesc,
    /// Recording. Default: spikes, neurons, synapses.
    #[serde(default)]
    pub record: RecordDesc,
    /// Accepted, not yet simulated (see [`NeuromodulationDesc`]).
    #[serde(default)]
    pub neuromodulation: Option<NeuromodulationDesc>,
    /// Accepted, not yet simulated (see [`PlasticityDesc`]).
    #[serde(default)]
    pub plasticity: Option<PlasticityDesc>,
}

/// A parsed and validated scene with its source text.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The description.
    pub desc: SceneDesc,
    /// Where it came from (a path, or `<embedded:NAME>`).
    pub source: PathBuf,
    /// The RON text (stored as Parquet metadata).
    pub text: String,
}

impl fmt::Display for Scene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n: u64 = self.desc.populations.iter().map(|p| u64::from(p.size)).sum();
        write!(
            f,
            "{} ({} neurons, {} steps of {} ms, seed {})",
            self.desc.name.as_deref().unwrap_or("scene"),
            n,
            self.desc.time_steps,
            self.desc.dt_ms,
            self.desc.seed
        )
    }
}

/// Scenes shipped inside the binary: `biospike run izhikevich_2003` works with no files.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("izhikevich_2003", include_str!("../scenes/izhikevich_2003.ron")),
    ("sparse_10k", include_str!("../scenes/sparse_10k.ron")),
    ("seed_demo", include_str!("../scenes/seed_demo.ron")),
];

impl Scene {
    /// Loads a scene from a file, or an embedded scene by name (`izhikevich_2003`, or the same
    /// with `scenes/` and `.ron` around it when no such file exists).
    pub fn load(path: &Path) -> Result<Self, SceneError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) => {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                match EMBEDDED.iter().find(|(name, _)| *name == stem) {
                    Some((_, text)) => Self::parse(text, path),
                    None => Err(SceneError::Read { file: path.to_owned(), source: e }),
                }
            }
        }
    }

    /// Parses and validates RON text; `file` is used in messages only.
    pub fn parse(text: &str, file: &Path) -> Result<Self, SceneError> {
        let parse_err = |pos: ron::error::Position, field: String, message: String| SceneError::Parse {
            file: file.to_owned(),
            line: pos.line,
            column: pos.col,
            field,
            message,
        };
        let mut de = ron::Deserializer::from_str(text).map_err(|e| parse_err(e.span.start, "(scene)".into(), e.code.to_string()))?;
        let desc: SceneDesc = match serde_path_to_error::deserialize(&mut de) {
            Ok(d) => d,
            Err(e) => {
                let field = match e.path().to_string() {
                    p if p == "." => "(scene)".to_string(),
                    p => p,
                };
                let spanned = de.span_error(e.into_inner());
                return Err(parse_err(spanned.span.start, field, spanned.code.to_string()));
            }
        };
        if let Err(e) = de.end() {
            let spanned = de.span_error(e);
            return Err(parse_err(spanned.span.start, "(scene)".into(), spanned.code.to_string()));
        }
        let scene = Self { desc, source: file.to_owned(), text: text.to_owned() };
        scene.validate()?;
        Ok(scene)
    }

    /// Total number of neurons.
    pub fn neuron_count(&self) -> u32 {
        self.desc.populations.iter().map(|p| p.size).sum()
    }

    fn invalid(&self, field: String, key: &str, nth: usize, message: String) -> SceneError {
        let (line, column) = locate(&self.text, key, nth);
        SceneError::Invalid { file: self.source.clone(), line, column, field, message }
    }

    /// Checks relations between fields (single-field ranges were checked while parsing).
    pub fn validate(&self) -> Result<(), SceneError> {
        let d = &self.desc;
        if d.populations.is_empty() {
            return Err(self.invalid("populations".into(), "populations", 0, "at least one population is required".into()));
        }
        let n = u64::from(self.neuron_count());
        let total: u64 = d.populations.iter().map(|p| u64::from(p.size)).sum();
        if total > u64::from(u32::MAX) || n == 0 {
            return Err(self.invalid("populations".into(), "populations", 0, format!("{total} neurons; allowed 1..={}", u32::MAX)));
        }
        if d.populations.len() > usize::from(u16::MAX) {
            return Err(self.invalid("populations".into(), "populations", 0, "at most 65535 populations".into()));
        }
        for (i, p) in d.populations.iter().enumerate() {
            if d.populations[..i].iter().any(|q| q.name == p.name) {
                return Err(self.invalid(
                    format!("populations[{i}].name"),
                    "name",
                    i,
                    format!("duplicate population name {:?}; names must be unique", p.name),
                ));
            }
            for (what, dist) in [("weight", p.synapses.weight), ("delay_ms", p.synapses.delay_ms)] {
                let bad = match dist {
                    DistDesc::Uniform { low, high } | DistDesc::ClippedNormal { low, high, .. } => low > high,
                    DistDesc::Constant(_) => false,
                };
                if bad {
                    return Err(self.invalid(format!("populations[{i}].synapses.{what}"), what, i, "low must be <= high".into()));
                }
                if what == "delay_ms" {
                    let (lo, hi) = match dist {
                        DistDesc::Constant(x) => (x, x),
                        DistDesc::Uniform { low, high } | DistDesc::ClippedNormal { low, high, .. } => (low, high),
                    };
                    let (lo_steps, hi_steps) = ((lo / d.dt_ms).round(), (hi / d.dt_ms).round());
                    if lo_steps < 1.0 || hi_steps > f64::from(u16::MAX) {
                        return Err(self.invalid(
                            format!("populations[{i}].synapses.delay_ms"),
                            "delay_ms",
                            i,
                            format!("delays {lo}..{hi} ms are {lo_steps}..{hi_steps} steps of {} ms; allowed 1..=65535 steps", d.dt_ms),
                        ));
                    }
                }
            }
            if let Some(ids) = p.poisson.as_ref().and_then(|x| x.neurons.as_ref())
                && let Some(bad) = ids.iter().find(|&&k| k >= p.size)
            {
                return Err(self.invalid(
                    format!("populations[{i}].poisson.neurons"),
                    "neurons",
                    i,
                    format!("index {bad} is outside 0..{} (the population's size)", p.size),
                ));
            }
        }
        let n32 = self.neuron_count();
        let topo_err = |msg: String| self.invalid("topology".into(), "topology", 0, msg);
        match d.topology {
            TopologyDesc::SmallWorld { k, .. } if k % 2 != 0 || k >= n32 => {
                return Err(topo_err(format!("k = {k}; allowed: even, 2..{n32} (fewer than the {n32} neurons)")));
            }
            TopologyDesc::ScaleFree { m, .. } if m >= n32 => return Err(topo_err(format!("m = {m}; allowed 1..{n32}"))),
            TopologyDesc::FixedInDegree { k, multapses: false, self_connections, .. } => {
                let avail = n32 - u32::from(!self_connections);
                if k > avail {
                    return Err(topo_err(format!("k = {k} without multapses; allowed 1..={avail}")));
                }
            }
            _ => {}
        }
        if let Some(s) = &d.record.state
            && let Some(bad) = s.neurons.iter().find(|&&k| k >= n32)
        {
            return Err(self.invalid("record.state.neurons".into(), "neurons", 0, format!("neuron {bad} is outside 0..{n32}")));
        }
        Ok(())
    }
}

/// 1-based (line, column) of the `nth` occurrence of `key:` in `text` (or 1:1 if absent).
fn locate(text: &str, key: &str, nth: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut found = 0;
    let mut start = 0;
    while let Some(off) = text[start..].find(key) {
        let at = start + off;
        let before_ok = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let after = text[at + key.len()..].trim_start();
        if before_ok && after.starts_with(':') {
            if found == nth {
                let line = text[..at].matches('\n').count() + 1;
                let col = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
                return (line, col);
            }
            found += 1;
        }
        start = at + key.len();
    }
    (1, 1)
}
