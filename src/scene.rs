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
    checked!(weight_bits: u32, |v| (1..=8).contains(&v), "1..=8");
    checked!(decay12: u16, |v| v <= 4095, "0..=4095");
    checked!(vth: u32, |v| v <= 131_071, "0..=131071");
    checked!(bias_exp: u8, |v| v <= 7, "0..=7");
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
    /// Loihi current-based LIF on the bit-exact fixed-point path (`biospike_loihi`); its
    /// incoming weights are quantized per projection (Lava's scaling).
    LoihiLif {
        /// Current decay, 0..=4095.
        #[serde(deserialize_with = "range::decay12")]
        du: u16,
        /// Voltage decay, 0..=4095.
        #[serde(deserialize_with = "range::decay12")]
        dv: u16,
        /// Threshold mantissa (threshold `vth << 6`), 0..=131071.
        #[serde(deserialize_with = "range::vth")]
        vth: u32,
        /// Bias mantissa range `(low, high)`, drawn per neuron uniformly (inclusive), within −4096..=4095.
        bias_mant: (i16, i16),
        /// Bias exponent, 0..=7.
        #[serde(deserialize_with = "range::bias_exp")]
        bias_exp: u8,
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
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SynapseDesc {
    /// Weight magnitude; the sign comes from the population's `kind`. Default: `Constant(1.0)`.
    #[serde(default = "default_weight")]
    pub weight: DistDesc,
    /// Delay in ms, rounded to whole steps (`>= 1` step). Default: `Constant(1.0)`.
    #[serde(default = "default_weight")]
    pub delay_ms: DistDesc,
    /// Names of the populations this one may connect to (`FixedOutDegree` only). Default: all.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
}

fn default_weight() -> DistDesc {
    DistDesc::Constant(1.0)
}

impl Default for SynapseDesc {
    fn default() -> Self {
        Self { weight: default_weight(), delay_ms: default_weight(), targets: None }
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

/// Uniform input current drawn every step from `[low, high)`.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UniformNoiseDesc {
    /// Lower end.
    #[serde(deserialize_with = "range::finite")]
    pub low: f64,
    /// Upper end, `>= low`.
    #[serde(deserialize_with = "range::finite")]
    pub high: f64,
}

/// Receptor sensitivity of a population to each modulator (default 1 each).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SensitivityDesc {
    /// Dopamine, `>= 0`.
    #[serde(default = "one", deserialize_with = "range::non_negative")]
    pub dopamine: f64,
    /// Serotonin, `>= 0`.
    #[serde(default = "one", deserialize_with = "range::non_negative")]
    pub serotonin: f64,
    /// Norepinephrine, `>= 0`.
    #[serde(default = "one", deserialize_with = "range::non_negative")]
    pub norepinephrine: f64,
}

fn one() -> f64 {
    1.0
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
    /// Uniform drive.
    #[serde(default)]
    pub uniform_noise: Option<UniformNoiseDesc>,
    /// Receptor sensitivity to the neuromodulators. Default: 1 each.
    #[serde(default)]
    pub receptor_sensitivity: Option<SensitivityDesc>,
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
    /// Every neuron sends `k` synapses to targets drawn uniformly from its population's
    /// `synapses.targets` (all neurons by default), as in Izhikevich's `spnet.m`/`daspnet.m`.
    FixedOutDegree {
        /// Out-degree, `>= 1`.
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
#[derive(Deserialize, Debug, Clone, PartialEq)]
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
    /// `weights.parquet` / `weight_histogram.parquet`. Default: none.
    #[serde(default)]
    pub weights: Option<WeightsDesc>,
    /// `modulators.parquet` and `excitability.parquet` every this many steps (with
    /// neuromodulation). Default: none.
    #[serde(default)]
    pub modulation_every_steps: Option<u64>,
}

impl Default for RecordDesc {
    fn default() -> Self {
        Self { spikes: true, neurons: true, synapses: true, state: None, weights: None, modulation_every_steps: None }
    }
}

/// Weights sampled during the run.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsDesc {
    /// `(pre, post)` neuron ids of synapses to trace (the experiment's synapse is added).
    #[serde(default)]
    pub synapses: Vec<(u32, u32)>,
    /// Sample period in steps, `>= 1`.
    #[serde(deserialize_with = "range::at_least_one_u64")]
    pub every_steps: u64,
    /// Histogram of the weights.
    #[serde(default)]
    pub histogram: Option<HistogramDesc>,
}

/// Weight histogram bins.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HistogramDesc {
    /// Number of bins, `>= 1`.
    #[serde(deserialize_with = "range::at_least_one")]
    pub bins: u32,
    /// Lower edge.
    #[serde(deserialize_with = "range::finite")]
    pub low: f64,
    /// Upper edge, `> low`.
    #[serde(deserialize_with = "range::finite")]
    pub high: f64,
    /// Source population names (all when empty).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// An Ornstein–Uhlenbeck process or a constant.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum ProcessDesc {
    /// Always `x`.
    Constant(#[serde(deserialize_with = "range::finite")] f64),
    /// `x ← x + (mean − x)·dt/tau_ms + sigma·√dt·ξ`, starting at `mean`.
    Ou {
        /// Long-run mean.
        #[serde(deserialize_with = "range::finite")]
        mean: f64,
        /// Noise amplitude, `>= 0`.
        #[serde(deserialize_with = "range::non_negative")]
        sigma: f64,
        /// Time constant, ms, `> 0`.
        #[serde(deserialize_with = "range::positive")]
        tau_ms: f64,
    },
    /// A fresh `N(mean, std)` draw every step (tonic levels only).
    Gaussian {
        /// Mean.
        #[serde(deserialize_with = "range::finite")]
        mean: f64,
        /// Standard deviation, `>= 0`.
        #[serde(deserialize_with = "range::non_negative")]
        std: f64,
    },
}

/// Per-modulator overrides of the shared neuromodulation parameters.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ModulatorDesc {
    /// Baseline process.
    #[serde(default)]
    pub baseline: Option<ProcessDesc>,
    /// Tonic part of the level.
    #[serde(default)]
    pub tonic: Option<ProcessDesc>,
    /// Decay of the phasic part, ms, `> 0`.
    #[serde(default, deserialize_with = "opt_positive")]
    pub phasic_tau_ms: Option<f64>,
}

fn opt_positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(D::Error::custom(format!("{x} is outside the allowed range (0, ∞)"))),
        _ => Ok(v),
    }
}

/// Which modulator.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModulatorName {
    /// Dopamine.
    Dopamine,
    /// Serotonin.
    Serotonin,
    /// Norepinephrine.
    Norepinephrine,
}

/// A release at a fixed time.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDesc {
    /// Which modulator.
    pub modulator: ModulatorName,
    /// When, ms, `>= 0`.
    #[serde(deserialize_with = "range::non_negative")]
    pub at_ms: f64,
    /// Amount added to the level.
    #[serde(deserialize_with = "range::finite")]
    pub amount: f64,
}

fn d_tau_exc() -> f64 {
    20.0
}
fn d_da() -> f64 {
    0.5
}
fn d_5ht() -> f64 {
    0.3
}
fn d_ne() -> f64 {
    0.2
}
fn d_baseline() -> ProcessDesc {
    ProcessDesc::Ou { mean: 1.0, sigma: 0.1, tau_ms: 100.0 }
}
fn d_tonic() -> ProcessDesc {
    ProcessDesc::Gaussian { mean: 1.0, std: 0.1 }
}
fn d_phasic() -> f64 {
    200.0
}

/// Neuromodulation (the original project's names and defaults): three modulators whose
/// levels move around Ornstein–Uhlenbeck baselines and scale excitability.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeuromodulationDesc {
    /// Excitability time constant, ms, `> 0`. Default 20.
    #[serde(default = "d_tau_exc", deserialize_with = "range::positive")]
    pub tau_excitability: f64,
    /// Dopamine effect, `>= 0`. Default 0.5.
    #[serde(default = "d_da", deserialize_with = "range::non_negative")]
    pub dopamine_effect: f64,
    /// Serotonin effect, `>= 0`. Default 0.3.
    #[serde(default = "d_5ht", deserialize_with = "range::non_negative")]
    pub serotonin_effect: f64,
    /// Norepinephrine effect, `>= 0`. Default 0.2.
    #[serde(default = "d_ne", deserialize_with = "range::non_negative")]
    pub norepinephrine_effect: f64,
    /// Baseline process of every modulator. Default `Ou(mean: 1, sigma: 0.1, tau_ms: 100)`.
    #[serde(default = "d_baseline")]
    pub baseline: ProcessDesc,
    /// Tonic level of every modulator. Default `Gaussian(mean: 1, std: 0.1)`.
    #[serde(default = "d_tonic")]
    pub tonic: ProcessDesc,
    /// Decay of phasic releases, ms, `> 0`. Default 200.
    #[serde(default = "d_phasic", deserialize_with = "range::positive")]
    pub phasic_tau_ms: f64,
    /// Overrides for dopamine.
    #[serde(default)]
    pub dopamine: ModulatorDesc,
    /// Overrides for serotonin.
    #[serde(default)]
    pub serotonin: ModulatorDesc,
    /// Overrides for norepinephrine.
    #[serde(default)]
    pub norepinephrine: ModulatorDesc,
    /// Releases at fixed times.
    #[serde(default)]
    pub releases: Vec<ReleaseDesc>,
}

/// Pairing rule of the traces.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TracesDesc {
    /// All-to-all (traces add).
    #[default]
    AllToAll,
    /// Nearest spike (traces reset to 1).
    Nearest,
}

/// Weight dependence of STDP.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DependenceDesc {
    /// Additive, hard bounds.
    #[default]
    Additive,
    /// Multiplicative, soft bounds.
    Multiplicative,
}

/// Which synapses are plastic.
#[derive(Deserialize, Debug, Clone, PartialEq, Default)]
pub enum PlasticDesc {
    /// From excitatory populations.
    #[default]
    ExcitatorySources,
    /// All.
    All,
    /// `(source, target)` population names.
    Pairs(Vec<(String, String)>),
}

fn d_lr() -> f64 {
    1.0
}
fn d_tau_syn() -> f64 {
    1000.0
}
fn d_a() -> f64 {
    0.005
}
fn d_tau_stdp() -> f64 {
    20.0
}
fn d_wmax() -> f64 {
    f64::from(f32::MAX)
}

/// STDP with eligibility traces, dopamine-gated by default (the original project's names).
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlasticityDesc {
    /// Learning rate, `>= 0`. Default 1.
    #[serde(default = "d_lr", deserialize_with = "range::non_negative")]
    pub learning_rate: f64,
    /// Eligibility-trace time constant, ms, `> 0`. Default 1000.
    #[serde(default = "d_tau_syn", deserialize_with = "range::positive")]
    pub tau_synaptic: f64,
    /// `A+`, `>= 0`. Default 0.005.
    #[serde(default = "d_a", deserialize_with = "range::non_negative")]
    pub a_plus: f64,
    /// `A−`, `>= 0`. Default 0.005.
    #[serde(default = "d_a", deserialize_with = "range::non_negative")]
    pub a_minus: f64,
    /// `τ+`, ms, `> 0`. Default 20.
    #[serde(default = "d_tau_stdp", deserialize_with = "range::positive")]
    pub tau_plus_ms: f64,
    /// `τ−`, ms, `> 0`. Default 20.
    #[serde(default = "d_tau_stdp", deserialize_with = "range::positive")]
    pub tau_minus_ms: f64,
    /// Lower weight bound. Default 0.
    #[serde(default, deserialize_with = "range::finite")]
    pub w_min: f64,
    /// Upper weight bound, `>= w_min`. Default: unbounded (f32 max).
    #[serde(default = "d_wmax", deserialize_with = "range::finite")]
    pub w_max: f64,
    /// Pairing rule. Default `AllToAll`.
    #[serde(default)]
    pub traces: TracesDesc,
    /// Weight dependence. Default `Additive`.
    #[serde(default)]
    pub dependence: DependenceDesc,
    /// Pairings go to eligibility and dopamine turns them into weight (default `true`);
    /// `false` applies them directly.
    #[serde(default = "default_true")]
    pub dopamine_gated: bool,
    /// Added to the dopamine level in the gated update. Default 0.
    #[serde(default, deserialize_with = "range::finite")]
    pub dopamine_bias: f64,
    /// Gated update period in steps, `>= 1`. Default 1.
    #[serde(default = "default_every", deserialize_with = "range::at_least_one_u64")]
    pub update_every_steps: u64,
    /// Plastic synapses. Default `ExcitatorySources`.
    #[serde(default)]
    pub plastic: PlasticDesc,
    /// When potentiation is applied with `dopamine_gated: false`: `AtPostSpike` (default) or
    /// `Deferred` (at the presynaptic neuron's next spike, as NEST does; same weights wherever
    /// they are read, faster on large networks). Not allowed with `dopamine_gated: true`.
    #[serde(default)]
    pub ltp_timing: LtpTimingDesc,
}

/// When STDP potentiation reaches the weights (`biospike_stdp::LtpTiming`).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LtpTimingDesc {
    /// At the postsynaptic spike.
    #[default]
    AtPostSpike,
    /// At the presynaptic neuron's next spike; flushed every second, before weights are
    /// recorded, before structural passes and at the end of the run.
    Deferred,
}

/// Where a scene's synapses live.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynapseStorageDesc {
    /// One entity per synapse (`Synapse`, `SynapticWeight`, `SynapticDelay`), indexed for
    /// delivery: user systems query, edit and despawn them (≈ 120 bytes per synapse).
    #[default]
    Entities,
    /// In the delivery index only (`SynapseIndex::index_only`, 10 bytes per synapse, plus 1 for
    /// STDP): for large fixed networks. Weights are read and changed through the index; not
    /// allowed with `structure`, `drift`, `quantize` or an `experiment`, which edit or name
    /// synapse entities.
    IndexOnly,
}

/// A protocol run on top of the model.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum ExperimentDesc {
    /// Izhikevich (2007), Fig. 1: the first synapse of neuron `pre` starts at `start_weight`;
    /// whenever its target fires within `interval_ms` after `pre`, dopamine `amount` is
    /// released after a delay drawn uniformly from `reward_delay_ms`.
    DistalReward {
        /// Presynaptic neuron id (an excitatory neuron).
        pre: u32,
        /// Pairing window, ms, `> 0`. Default 20.
        #[serde(default = "d_interval", deserialize_with = "range::positive")]
        interval_ms: f64,
        /// Reward delay range, ms: `(low, high)` with `0 <= low <= high`. Default (1000, 3000).
        #[serde(default = "d_reward_delay")]
        reward_delay_ms: (f64, f64),
        /// Dopamine per reward. Default 0.5.
        #[serde(default = "d_da", deserialize_with = "range::finite")]
        amount: f64,
        /// Start weight of the chosen synapse. Default 0.
        #[serde(default, deserialize_with = "range::finite")]
        start_weight: f64,
        /// Deliver rewards (`false`: the control run). Default `true`.
        #[serde(default = "default_true")]
        rewards: bool,
    },
}

fn d_interval() -> f64 {
    20.0
}
fn d_reward_delay() -> (f64, f64) {
    (1000.0, 3000.0)
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
    /// Where the synapses live. Default `Entities`.
    #[serde(default)]
    pub synapse_storage: SynapseStorageDesc,
    /// Recording. Default: spikes, neurons, synapses.
    #[serde(default)]
    pub record: RecordDesc,
    /// Neuromodulation (`NeuromodulationPlugin`). Default: none.
    #[serde(default)]
    pub neuromodulation: Option<NeuromodulationDesc>,
    /// STDP (`StdpPlugin`). Default: none.
    #[serde(default)]
    pub plasticity: Option<PlasticityDesc>,
    /// A protocol on top of the model. Default: none.
    #[serde(default)]
    pub experiment: Option<ExperimentDesc>,
    /// Periodic network adjustment toward a target out-degree (`StructuralPlasticityPlugin`).
    #[serde(default)]
    pub structure: Option<StructureDesc>,
    /// Drift of state and weights toward fresh draws (`DriftPlugin`).
    #[serde(default)]
    pub drift: Option<DriftDesc>,
    /// Loihi weight quantization (`LoihiQuantizationPlugin`), and the weight bits of the
    /// projections into `LoihiLif` populations. Default: none (8 bits for LIF projections).
    #[serde(default)]
    pub quantize: Option<QuantizeDesc>,
}

fn d_hundred() -> u64 {
    100
}
fn d_target() -> u32 {
    4
}
fn d_rate() -> f64 {
    0.01
}
fn d_prune() -> f64 {
    1e-3
}

/// Network adjustment (the original project's names and defaults).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StructureDesc {
    /// Adjust every this many steps, `>= 1`. Default 100.
    #[serde(default = "d_hundred", deserialize_with = "range::at_least_one_u64")]
    pub every_steps: u64,
    /// Target out-degree. Default 4.
    #[serde(default = "d_target")]
    pub target_out_degree: u32,
    /// Weight of new synapses `U(0,1)·rate`, weakening by `1 − rate`; `[0, 1]`. Default 0.01.
    #[serde(default = "d_rate", deserialize_with = "range::probability")]
    pub adjustment_rate: f64,
    /// Prune out-synapses of over-connected neurons below this `|w|`, `>= 0`. Default 0.001.
    #[serde(default = "d_prune", deserialize_with = "range::non_negative")]
    pub prune_below: f64,
}

fn d_v_range() -> (f64, f64) {
    (-70.0, -60.0)
}
fn d_u_range() -> (f64, f64) {
    (-14.0, -12.0)
}
fn d_e_range() -> (f64, f64) {
    (0.9, 1.1)
}

/// Drift of state and weights (the original project's "gradual update of initial conditions").
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DriftDesc {
    /// Every this many steps, `>= 1`. Default 100.
    #[serde(default = "d_hundred", deserialize_with = "range::at_least_one_u64")]
    pub every_steps: u64,
    /// Fraction moved toward a fresh draw, `[0, 1]`. Default 0.01.
    #[serde(default = "d_rate", deserialize_with = "range::probability")]
    pub step_size: f64,
    /// `v` draws, mV. Default (−70, −60).
    #[serde(default = "d_v_range")]
    pub v_range: (f64, f64),
    /// `u` draws. Default (−14, −12).
    #[serde(default = "d_u_range")]
    pub u_range: (f64, f64),
    /// Excitability draws. Default (0.9, 1.1).
    #[serde(default = "d_e_range")]
    pub excitability_range: (f64, f64),
    /// Weight-magnitude draws; none leaves weights alone. Default none.
    #[serde(default)]
    pub weight_range: Option<(f64, f64)>,
}

/// Loihi weight quantization of the whole network.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuantizeDesc {
    /// Weight bits kept, 1..=8. Default 8.
    #[serde(default = "d_bits", deserialize_with = "range::weight_bits")]
    pub num_weight_bits: u32,
    /// Replace the float weights by the quantized ones (`true`), or only report (`false`,
    /// the default).
    #[serde(default)]
    pub apply: bool,
}

fn d_bits() -> u32 {
    8
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
    ("izhikevich_2007_distal_reward", include_str!("../scenes/izhikevich_2007_distal_reward.ron")),
    ("loihi_lif_demo", include_str!("../scenes/loihi_lif_demo.ron")),
    ("sparse_stdp_10k", include_str!("../scenes/sparse_stdp_10k.ron")),
    ("sparse_stdp_100k", include_str!("../scenes/sparse_stdp_100k.ron")),
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
        let names: Vec<&str> = d.populations.iter().map(|p| p.name.as_str()).collect();
        let known = |n: &str| names.contains(&n);
        let allowed = names.join(", ");
        for (i, p) in d.populations.iter().enumerate() {
            if let Some(t) = &p.synapses.targets {
                if !matches!(d.topology, TopologyDesc::FixedOutDegree { .. }) {
                    return Err(self.invalid(
                        format!("populations[{i}].synapses.targets"),
                        "targets",
                        0,
                        "targets are only used by the FixedOutDegree topology".into(),
                    ));
                }
                if let Some(bad) = t.iter().find(|x| !known(x)) {
                    return Err(self.invalid(
                        format!("populations[{i}].synapses.targets"),
                        "targets",
                        0,
                        format!("unknown population {bad:?}; allowed: {allowed}"),
                    ));
                }
            }
            if let NeuronDesc::LoihiLif { bias_mant: (lo, hi), .. } = p.neuron
                && !(-4096 <= lo && lo <= hi && hi <= 4095)
            {
                return Err(self.invalid(
                    format!("populations[{i}].neuron.bias_mant"),
                    "bias_mant",
                    0,
                    format!("({lo}, {hi}); allowed: -4096 <= low <= high <= 4095"),
                ));
            }
            if let Some(u) = p.uniform_noise
                && u.low > u.high
            {
                return Err(self.invalid(format!("populations[{i}].uniform_noise"), "uniform_noise", 0, "low must be <= high".into()));
            }
        }
        if let Some(h) = d.record.weights.as_ref().and_then(|w| w.histogram.as_ref()) {
            if h.high <= h.low {
                return Err(self.invalid("record.weights.histogram".into(), "histogram", 0, "high must be > low".into()));
            }
            if let Some(bad) = h.sources.iter().find(|x| !known(x)) {
                return Err(self.invalid(
                    "record.weights.histogram.sources".into(),
                    "sources",
                    0,
                    format!("unknown population {bad:?}; allowed: {allowed}"),
                ));
            }
        }
        if let Some(pl) = &d.plasticity {
            if pl.w_min > pl.w_max {
                return Err(self.invalid("plasticity.w_max".into(), "w_max", 0, format!("{} is below w_min = {}", pl.w_max, pl.w_min)));
            }
            if pl.dopamine_gated && pl.ltp_timing == LtpTimingDesc::Deferred {
                return Err(self.invalid(
                    "plasticity.ltp_timing".into(),
                    "ltp_timing",
                    0,
                    "Deferred needs dopamine_gated: false (gated STDP applies potentiation at the postsynaptic spike); allowed: AtPostSpike".into(),
                ));
            }
            if let PlasticDesc::Pairs(pairs) = &pl.plastic
                && let Some(bad) = pairs.iter().flat_map(|(a, b)| [a, b]).find(|x| !known(x))
            {
                return Err(self.invalid(
                    "plasticity.plastic".into(),
                    "plastic",
                    0,
                    format!("unknown population {bad:?}; allowed: {allowed}"),
                ));
            }
        }
        if let Some(ExperimentDesc::DistalReward { pre, reward_delay_ms: (lo, hi), .. }) = &d.experiment {
            let n = self.neuron_count();
            if *pre >= n {
                return Err(self.invalid("experiment.pre".into(), "pre", 0, format!("neuron {pre} is outside 0..{n}")));
            }
            if !(0.0 <= *lo && lo <= hi && hi.is_finite()) {
                return Err(self.invalid(
                    "experiment.reward_delay_ms".into(),
                    "reward_delay_ms",
                    0,
                    format!("({lo}, {hi}); allowed: 0 <= low <= high"),
                ));
            }
            if d.neuromodulation.is_none() || d.plasticity.is_none() {
                return Err(self.invalid(
                    "experiment".into(),
                    "experiment",
                    0,
                    "DistalReward needs `neuromodulation` (dopamine) and `plasticity` (STDP) in the scene".into(),
                ));
            }
        }
        if d.synapse_storage == SynapseStorageDesc::IndexOnly {
            let needs_entities = [
                ("structure", d.structure.is_some()),
                ("drift", d.drift.is_some()),
                ("quantize", d.quantize.is_some()),
                ("experiment", d.experiment.is_some()),
            ];
            if let Some((what, _)) = needs_entities.iter().find(|x| x.1) {
                return Err(self.invalid(
                    "synapse_storage".into(),
                    "synapse_storage",
                    0,
                    format!("IndexOnly cannot be used with `{what}`, which edits or names synapse entities; allowed: Entities"),
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
            TopologyDesc::FixedOutDegree { k, multapses: false, .. } if k >= n32 => {
                return Err(topo_err(format!("k = {k} without multapses; allowed 1..{n32}")));
            }
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
