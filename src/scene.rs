//! Scenes: typed RON descriptions, validated once, with errors that point into the file.
//!
//! A scene deserializes into the description types below (`deny_unknown_fields`, units in the
//! names). Single-field ranges are checked while parsing, so a bad value is reported at its
//! exact line and column; relations between fields (ids inside a population, `k < n`, …) are
//! checked by [`Scene::validate`] afterwards and located by the field's key in the text.
//! The format is documented in `docs/scene.md`.

use biospike_core::desc::{self, DescError};
use biospike_izhikevich::desc::{default_threshold_mv, threshold_mv};
use serde::Deserialize;

/// The descriptions each plugin crate owns, composed by [`SceneDesc`].
pub use biospike_core::desc::DistDesc;
pub use biospike_input::{CurrentStimulus, NoiseDesc, PoissonDesc, SineCurrent, UniformNoiseDesc};
pub use biospike_izhikevich::{IntegrationDesc, PresetDesc, RecoveryDesc};
pub use biospike_loihi::{LifDesc, QuantizeDesc};
pub use biospike_neuromod::{ModulatorDesc, ModulatorName, NeuromodulationDesc, ProcessDesc, ReleaseDesc, SensitivityDesc};
pub use biospike_record::{HistogramDesc, RecordDesc, StateDesc, WeightsDesc};
pub use biospike_stdp::{DependenceDesc, LtpTimingDesc, PlasticDesc, StdpDesc, TracesDesc};
pub use biospike_structure::{DriftDesc, StructureDesc};
pub use biospike_synapses::{SynapseDesc, SynapseStorageDesc};
use biospike_topology::Rule;
pub use biospike_topology::{ProjectionDesc, TopologyDesc};
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

fn default_seed() -> u64 {
    1
}

fn default_v_init() -> f64 {
    -65.0
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
        #[serde(deserialize_with = "desc::finite")]
        a: f64,
        /// `b`.
        #[serde(deserialize_with = "desc::finite")]
        b: f64,
        /// `c`, mV.
        #[serde(deserialize_with = "desc::finite")]
        c: f64,
        /// `d`.
        #[serde(deserialize_with = "desc::finite")]
        d: f64,
        /// Quadratic coefficient of `v' = k2·v² + k1·v + k0 − u + I`, 1/(mV·ms). Default 0.04.
        #[serde(default = "biospike_izhikevich::desc::default_k2", deserialize_with = "desc::finite")]
        k2: f64,
        /// Linear coefficient, 1/ms. Default 5 (class-1 excitability of the 2004 paper: 4.1).
        #[serde(default = "biospike_izhikevich::desc::default_k1", deserialize_with = "desc::finite")]
        k1: f64,
        /// Constant term, mV/ms. Default 140 (class-1 excitability: 108).
        #[serde(default = "biospike_izhikevich::desc::default_k0", deserialize_with = "desc::finite")]
        k0: f64,
        /// Recovery equation. Default `Standard`; `Accommodation` for the 2004 paper's cell R.
        #[serde(default)]
        recovery: RecoveryDesc,
    },
    /// Leaky integrate-and-fire with delta synapses and an absolute refractory period,
    /// integrated exactly (NEST's `iaf_psc_delta`, `biospike_lif`); NEST's names, units and
    /// defaults. Synaptic weights are jumps of `V` in mV.
    IafPscDelta {
        /// Membrane time constant, ms. Default 10.
        #[serde(default = "lif_tau_m", deserialize_with = "desc::positive")]
        tau_m_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Lower bound of `V`, mV. Default none.
        #[serde(default, deserialize_with = "desc::opt_finite")]
        v_min_mv: Option<f64>,
        /// Initial `V`, mV: a value, or `Uniform(low:, high:)` or `Normal(mean:, std:)` drawn
        /// per neuron (Brunel's networks start spread below threshold). Default `E_L`.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Leaky integrate-and-fire with exponential synaptic currents (NEST's `iaf_psc_exp`,
    /// `biospike_lif`): positive weights feed the excitatory current, negative ones the
    /// inhibitory one, each with its time constant; weights are current amplitudes in pA.
    IafPscExp {
        /// Membrane time constant, ms. Default 10.
        #[serde(default = "lif_tau_m", deserialize_with = "desc::positive")]
        tau_m_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Excitatory synaptic current's time constant, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_ex_ms: f64,
        /// Inhibitory synaptic current's time constant, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_in_ms: f64,
        /// Initial `V`, mV: a value, or `Uniform(low:, high:)` or `Normal(mean:, std:)` drawn
        /// per neuron (Brunel's networks start spread below threshold). Default `E_L`.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Leaky integrate-and-fire with receptor ports (NEST's `iaf_psc_exp_multisynapse`,
    /// `biospike_lif`): one exponential synaptic current per entry of `tau_syn_ms`; a
    /// projection onto it names its port with `receptor: Some(r)` (1-based, NEST's
    /// `receptor_type`) and its weights, in pA, keep their source's sign. Poisson input acts on
    /// port 1.
    IafPscExpMultisynapse {
        /// Membrane time constant, ms. Default 10.
        #[serde(default = "lif_tau_m", deserialize_with = "desc::positive")]
        tau_m_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// The ports' synaptic time constants, ms: 1 to 8 values, each > 0 and none equal to
        /// `tau_m_ms`. Required.
        tau_syn_ms: ReceptorTaus,
        /// Initial `V`, mV: a value, or `Uniform(low:, high:)` or `Normal(mean:, std:)` drawn
        /// per neuron. Default `E_L`.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Leaky integrate-and-fire with receptor ports (NEST's `iaf_psc_alpha_multisynapse`,
    /// `biospike_lif`): one alpha-shaped synaptic current per entry of `tau_syn_ms` (a weight is
    /// the current's peak, reached `tau_syn` after arrival); a
    /// projection onto it names its port with `receptor: Some(r)` (1-based, NEST's
    /// `receptor_type`) and its weights, in pA, keep their source's sign. Poisson input acts on
    /// port 1.
    IafPscAlphaMultisynapse {
        /// Membrane time constant, ms. Default 10.
        #[serde(default = "lif_tau_m", deserialize_with = "desc::positive")]
        tau_m_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Lower bound of `V`, mV. Default none.
        #[serde(default, deserialize_with = "desc::opt_finite")]
        v_min_mv: Option<f64>,
        /// The ports' synaptic time constants, ms: 1 to 8 values, each > 0. Required.
        tau_syn_ms: ReceptorTaus,
        /// Initial `V`, mV: a value, or `Uniform(low:, high:)` or `Normal(mean:, std:)` drawn
        /// per neuron. Default `E_L`.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Leaky integrate-and-fire with alpha-shaped synaptic currents (NEST's `iaf_psc_alpha`,
    /// `biospike_lif`): positive weights feed the excitatory current, negative ones the
    /// inhibitory one; a weight is the current's peak in pA, reached `tau_syn` after arrival.
    IafPscAlpha {
        /// Membrane time constant, ms. Default 10.
        #[serde(default = "lif_tau_m", deserialize_with = "desc::positive")]
        tau_m_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Excitatory current's rise time, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_ex_ms: f64,
        /// Inhibitory current's rise time, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_in_ms: f64,
        /// Lower bound of `V`, mV. Default none.
        #[serde(default, deserialize_with = "desc::opt_finite")]
        v_min_mv: Option<f64>,
        /// Initial `V`, mV (as for `IafPscDelta`). Default `E_L`.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Leaky integrate-and-fire with exponentially decaying synaptic conductances and reversal
    /// potentials (NEST's `iaf_cond_exp`, `biospike_lif`; NEST's names and defaults). Weights
    /// are conductances in nS: positive ones open the excitatory conductance, negative ones
    /// (inhibitory sources) the inhibitory one.
    IafCondExp {
        /// Resting potential, mV. Default −70.
        #[serde(default = "lif_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Threshold, mV. Default −55.
        #[serde(default = "lif_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Reset, mV. Default −60.
        #[serde(default = "cond_v_reset", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 2.
        #[serde(default = "lif_t_ref", deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Membrane capacitance, pF. Default 250.
        #[serde(default = "lif_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Leak conductance, nS. Default 16.6667.
        #[serde(default = "cond_g_l", deserialize_with = "desc::positive")]
        g_l_ns: f64,
        /// Excitatory reversal potential, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        e_ex_mv: f64,
        /// Inhibitory reversal potential, mV. Default −85.
        #[serde(default = "cond_e_in", deserialize_with = "desc::finite")]
        e_in_mv: f64,
        /// Excitatory conductance time constant, ms. Default 0.2.
        #[serde(default = "cond_tau_ex", deserialize_with = "desc::positive")]
        tau_syn_ex_ms: f64,
        /// Inhibitory conductance time constant, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_in_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Initial `V`, mV (as for `IafPscDelta`). Default −70, NEST's.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Adaptive exponential integrate-and-fire with exponential conductances (NEST's
    /// `aeif_cond_exp`, `biospike_adex`; NEST's names and defaults): weights are conductances in
    /// nS, positive ones excitatory, negative ones (inhibitory sources) inhibitory.
    AeifCondExp {
        /// Spike detection threshold, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        v_peak_mv: f64,
        /// Reset, mV. Default −60.
        #[serde(default = "adex_v_reset", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 0.
        #[serde(default, deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Leak conductance, nS. Default 30.
        #[serde(default = "adex_g_l", deserialize_with = "desc::positive")]
        g_l_ns: f64,
        /// Membrane capacitance, pF. Default 281.
        #[serde(default = "adex_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Leak reversal potential, mV. Default −70.6.
        #[serde(default = "adex_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Slope factor, mV. Default 2.
        #[serde(default = "adex_delta_t", deserialize_with = "desc::non_negative")]
        delta_t_mv: f64,
        /// Adaptation time constant, ms. Default 144.
        #[serde(default = "adex_tau_w", deserialize_with = "desc::positive")]
        tau_w_ms: f64,
        /// Subthreshold adaptation, nS. Default 4.
        #[serde(default = "adex_a", deserialize_with = "desc::finite")]
        a_ns: f64,
        /// Spike-triggered adaptation, pA. Default 80.5.
        #[serde(default = "adex_b", deserialize_with = "desc::finite")]
        b_pa: f64,
        /// Spike initiation threshold, mV. Default −50.4.
        #[serde(default = "adex_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Excitatory synaptic time constant, ms. Default 0.2.
        #[serde(default = "cond_tau_ex", deserialize_with = "desc::positive")]
        tau_syn_ex_ms: f64,
        /// Inhibitory synaptic time constant, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_in_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Initial `V`, mV (as for `IafPscDelta`). Default `E_L`, NEST's.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
        /// Excitatory reversal potential, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        e_ex_mv: f64,
        /// Inhibitory reversal potential, mV. Default −85.
        #[serde(default = "cond_e_in", deserialize_with = "desc::finite")]
        e_in_mv: f64,
    },
    /// Adaptive exponential integrate-and-fire with receptor ports (NEST's
    /// `aeif_cond_beta_multisynapse`, `biospike_adex`): one beta-shaped conductance per port,
    /// each with its reversal potential, rise and decay time; a projection onto it names its
    /// port with `receptor: Some(r)`; weights are the conductances' peaks in nS (their
    /// magnitude: the port's reversal potential makes them excitatory or inhibitory). Poisson
    /// input acts on port 1.
    AeifCondBetaMultisynapse {
        /// Spike detection threshold, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        v_peak_mv: f64,
        /// Reset, mV. Default −60.
        #[serde(default = "adex_v_reset", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 0.
        #[serde(default, deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Leak conductance, nS. Default 30.
        #[serde(default = "adex_g_l", deserialize_with = "desc::positive")]
        g_l_ns: f64,
        /// Membrane capacitance, pF. Default 281.
        #[serde(default = "adex_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Leak reversal potential, mV. Default −70.6.
        #[serde(default = "adex_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Slope factor, mV. Default 2.
        #[serde(default = "adex_delta_t", deserialize_with = "desc::non_negative")]
        delta_t_mv: f64,
        /// Adaptation time constant, ms. Default 144.
        #[serde(default = "adex_tau_w", deserialize_with = "desc::positive")]
        tau_w_ms: f64,
        /// Subthreshold adaptation, nS. Default 4.
        #[serde(default = "adex_a", deserialize_with = "desc::finite")]
        a_ns: f64,
        /// Spike-triggered adaptation, pA. Default 80.5.
        #[serde(default = "adex_b", deserialize_with = "desc::finite")]
        b_pa: f64,
        /// Spike initiation threshold, mV. Default −50.4.
        #[serde(default = "adex_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// The ports' reversal potentials, mV: 1 to 8 values. Required.
        e_rev_mv: ReceptorPotentials,
        /// The ports' conductance rise times, ms, one per port. Required.
        tau_rise_ms: ReceptorTaus,
        /// The ports' conductance decay times, ms, one per port. Required.
        tau_decay_ms: ReceptorTaus,
        /// Initial `V`, mV (as for `IafPscDelta`). Default `E_L`, NEST's.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Adaptive exponential integrate-and-fire with receptor ports (NEST's
    /// `aeif_cond_alpha_multisynapse`, `biospike_adex`): one alpha-shaped conductance per port,
    /// each with its reversal potential and time constant; a projection onto it names its
    /// port with `receptor: Some(r)`; weights are the conductances' peaks in nS (their
    /// magnitude: the port's reversal potential makes them excitatory or inhibitory). Poisson
    /// input acts on port 1.
    AeifCondAlphaMultisynapse {
        /// Spike detection threshold, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        v_peak_mv: f64,
        /// Reset, mV. Default −60.
        #[serde(default = "adex_v_reset", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 0.
        #[serde(default, deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Leak conductance, nS. Default 30.
        #[serde(default = "adex_g_l", deserialize_with = "desc::positive")]
        g_l_ns: f64,
        /// Membrane capacitance, pF. Default 281.
        #[serde(default = "adex_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Leak reversal potential, mV. Default −70.6.
        #[serde(default = "adex_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Slope factor, mV. Default 2.
        #[serde(default = "adex_delta_t", deserialize_with = "desc::non_negative")]
        delta_t_mv: f64,
        /// Adaptation time constant, ms. Default 144.
        #[serde(default = "adex_tau_w", deserialize_with = "desc::positive")]
        tau_w_ms: f64,
        /// Subthreshold adaptation, nS. Default 4.
        #[serde(default = "adex_a", deserialize_with = "desc::finite")]
        a_ns: f64,
        /// Spike-triggered adaptation, pA. Default 80.5.
        #[serde(default = "adex_b", deserialize_with = "desc::finite")]
        b_pa: f64,
        /// Spike initiation threshold, mV. Default −50.4.
        #[serde(default = "adex_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// The ports' reversal potentials, mV: 1 to 8 values. Required.
        e_rev_mv: ReceptorPotentials,
        /// The ports' conductance time constants (the time of the peak), ms, one per port.
        /// Required.
        tau_syn_ms: ReceptorTaus,
        /// Initial `V`, mV (as for `IafPscDelta`). Default `E_L`, NEST's.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Adaptive exponential integrate-and-fire with exponential currents (NEST's
    /// `aeif_psc_exp`, `biospike_adex`): weights are current amplitudes in pA.
    AeifPscExp {
        /// Spike detection threshold, mV. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        v_peak_mv: f64,
        /// Reset, mV. Default −60.
        #[serde(default = "adex_v_reset", deserialize_with = "desc::finite")]
        v_reset_mv: f64,
        /// Refractory period, ms. Default 0.
        #[serde(default, deserialize_with = "desc::non_negative")]
        t_ref_ms: f64,
        /// Leak conductance, nS. Default 30.
        #[serde(default = "adex_g_l", deserialize_with = "desc::positive")]
        g_l_ns: f64,
        /// Membrane capacitance, pF. Default 281.
        #[serde(default = "adex_c_m", deserialize_with = "desc::positive")]
        c_m_pf: f64,
        /// Leak reversal potential, mV. Default −70.6.
        #[serde(default = "adex_e_l", deserialize_with = "desc::finite")]
        e_l_mv: f64,
        /// Slope factor, mV. Default 2.
        #[serde(default = "adex_delta_t", deserialize_with = "desc::non_negative")]
        delta_t_mv: f64,
        /// Adaptation time constant, ms. Default 144.
        #[serde(default = "adex_tau_w", deserialize_with = "desc::positive")]
        tau_w_ms: f64,
        /// Subthreshold adaptation, nS. Default 4.
        #[serde(default = "adex_a", deserialize_with = "desc::finite")]
        a_ns: f64,
        /// Spike-triggered adaptation, pA. Default 80.5.
        #[serde(default = "adex_b", deserialize_with = "desc::finite")]
        b_pa: f64,
        /// Spike initiation threshold, mV. Default −50.4.
        #[serde(default = "adex_v_th", deserialize_with = "desc::finite")]
        v_th_mv: f64,
        /// Excitatory synaptic time constant, ms. Default 0.2.
        #[serde(default = "cond_tau_ex", deserialize_with = "desc::positive")]
        tau_syn_ex_ms: f64,
        /// Inhibitory synaptic time constant, ms. Default 2.
        #[serde(default = "lif_tau_syn", deserialize_with = "desc::positive")]
        tau_syn_in_ms: f64,
        /// Constant input current, pA. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        i_e_pa: f64,
        /// Initial `V`, mV (as for `IafPscDelta`). Default `E_L`, NEST's.
        #[serde(default)]
        v_init: Option<LifInitDesc>,
    },
    /// Loihi current-based LIF on the bit-exact fixed-point path (`biospike_loihi`); its
    /// incoming weights are quantized per projection (Lava's scaling). The fields are those of
    /// [`LifDesc`], which checks and lowers them.
    LoihiLif {
        /// Current decay, 0..=4095.
        #[serde(deserialize_with = "biospike_loihi::desc::decay12")]
        du: u16,
        /// Voltage decay, 0..=4095.
        #[serde(deserialize_with = "biospike_loihi::desc::decay12")]
        dv: u16,
        /// Threshold mantissa (threshold `vth << 6`), 0..=131071.
        #[serde(deserialize_with = "biospike_loihi::desc::vth")]
        vth: u32,
        /// Bias mantissa range `(low, high)`, drawn per neuron uniformly (inclusive), within −4096..=4095.
        bias_mant: (i16, i16),
        /// Bias exponent, 0..=7.
        #[serde(deserialize_with = "biospike_loihi::desc::bias_exp")]
        bias_exp: u8,
    },
    /// A spike generator (Brian2's `SpikeGeneratorGroup`, NEST's `spike_generator`): each
    /// neuron fires at the times the population's `spike_times_ms` lists and has no dynamics.
    SpikeGenerator,
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

/// A LIF population's parameters, its synaptic time constants `(excitatory, inhibitory)` in ms
/// (`None` for delta synapses) and its initial potential.
pub type LifSpec = (biospike_lif::LifParams, Option<(f64, f64)>, Option<LifInitDesc>);

/// The synaptic time constants of a neuron's receptor ports (`tau_syn_ms: [0.5, 2.0, 20.0]`):
/// 1 to [`biospike_core::MAX_RECEPTORS`] values, each positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceptorTaus {
    len: u8,
    ms: [f64; biospike_core::MAX_RECEPTORS],
}

impl ReceptorTaus {
    /// The time constants, ms (port `r` is entry `r − 1`).
    pub fn as_slice(&self) -> &[f64] {
        &self.ms[..usize::from(self.len)]
    }
}

impl<'de> Deserialize<'de> for ReceptorTaus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        receptor_list(d, "time constant", |t| t > 0.0, "> 0 ms")
    }
}

/// The reversal potentials of a neuron's receptor ports (`e_rev_mv: [0.0, -80.0]`): 1 to
/// [`biospike_core::MAX_RECEPTORS`] finite values, mV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceptorPotentials(ReceptorTaus);

impl ReceptorPotentials {
    /// The potentials, mV (port `r` is entry `r − 1`).
    pub fn as_slice(&self) -> &[f64] {
        self.0.as_slice()
    }
}

impl<'de> Deserialize<'de> for ReceptorPotentials {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        receptor_list(d, "potential", |_| true, "finite").map(Self)
    }
}

/// 1 to [`biospike_core::MAX_RECEPTORS`] values that pass `ok` (else the error names `what`
/// and the `allowed` range).
fn receptor_list<'de, D: serde::Deserializer<'de>>(
    d: D,
    what: &str,
    ok: impl Fn(f64) -> bool,
    allowed: &str,
) -> Result<ReceptorTaus, D::Error> {
    let v = Vec::<f64>::deserialize(d)?;
    let max = biospike_core::MAX_RECEPTORS;
    if v.is_empty() || v.len() > max {
        return Err(serde::de::Error::custom(format!("{} values; allowed 1..={max} (one per receptor port)", v.len())));
    }
    if let Some(bad) = v.iter().find(|x| !(x.is_finite() && ok(**x))) {
        return Err(serde::de::Error::custom(format!("{what} {bad}; allowed {allowed}")));
    }
    let mut ms = [0.0; biospike_core::MAX_RECEPTORS];
    ms[..v.len()].copy_from_slice(&v);
    Ok(ReceptorTaus { len: v.len() as u8, ms })
}

/// The initial membrane potential of a LIF population.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum LifInitDesc {
    /// Every neuron at this value, mV.
    Constant(#[serde(deserialize_with = "desc::finite")] f64),
    /// Uniform in `[low, high)` per neuron (stream `NeuronParameters`), mV.
    Uniform {
        /// Lower end, mV.
        #[serde(deserialize_with = "desc::finite")]
        low: f64,
        /// Upper end, mV.
        #[serde(deserialize_with = "desc::finite")]
        high: f64,
    },
    /// Normal per neuron (stream `NeuronParameters`), unbounded, mV (NEST's
    /// `V_m = nest.random.normal(mean, std)`, as Potjans & Diesmann's microcircuit starts).
    Normal {
        /// Mean, mV.
        #[serde(deserialize_with = "desc::finite")]
        mean: f64,
        /// Standard deviation, mV, `>= 0`.
        #[serde(deserialize_with = "desc::non_negative")]
        std: f64,
    },
}

fn lif_tau_m() -> f64 {
    10.0
}
fn lif_c_m() -> f64 {
    250.0
}
fn lif_e_l() -> f64 {
    -70.0
}
fn lif_v_th() -> f64 {
    -55.0
}
fn lif_t_ref() -> f64 {
    2.0
}
fn lif_tau_syn() -> f64 {
    2.0
}
fn cond_v_reset() -> f64 {
    -60.0
}
fn cond_g_l() -> f64 {
    16.6667
}
fn cond_e_in() -> f64 {
    -85.0
}
fn cond_tau_ex() -> f64 {
    0.2
}
fn adex_v_reset() -> f64 {
    -60.0
}
fn adex_g_l() -> f64 {
    30.0
}
fn adex_c_m() -> f64 {
    281.0
}
fn adex_e_l() -> f64 {
    -70.6
}
fn adex_delta_t() -> f64 {
    2.0
}
fn adex_tau_w() -> f64 {
    144.0
}
fn adex_a() -> f64 {
    4.0
}
fn adex_b() -> f64 {
    80.5
}
fn adex_v_th() -> f64 {
    -50.4
}

impl NeuronDesc {
    /// The model, parameters and initial potential of a LIF population (`IafPscDelta` or
    /// `IafPscExp`, with its synaptic time constants).
    pub fn lif(&self) -> Option<LifSpec> {
        if let Some((p, init)) = self.iaf_psc_delta() {
            return Some((p, None, init));
        }
        match *self {
            Self::IafPscExp { tau_m_ms, c_m_pf, e_l_mv, v_th_mv, v_reset_mv, t_ref_ms, i_e_pa, tau_syn_ex_ms, tau_syn_in_ms, v_init } => {
                Some((
                    biospike_lif::LifParams {
                        tau_m_ms,
                        c_m_pf,
                        e_l_mv,
                        v_th_mv,
                        v_reset_mv,
                        t_ref_ms,
                        i_e_pa,
                        v_min_mv: f64::NEG_INFINITY,
                    },
                    Some((tau_syn_ex_ms, tau_syn_in_ms)),
                    v_init,
                ))
            }
            _ => None,
        }
    }

    /// An `IafCondExp` population's neuron (for steps of `dt_ms`) and initial potential.
    pub fn iaf_cond_exp(&self, dt_ms: f64) -> Option<(biospike_lif::IafCondExp, Option<LifInitDesc>)> {
        match *self {
            Self::IafCondExp {
                e_l_mv,
                v_th_mv,
                v_reset_mv,
                t_ref_ms,
                c_m_pf,
                g_l_ns,
                e_ex_mv,
                e_in_mv,
                tau_syn_ex_ms,
                tau_syn_in_ms,
                i_e_pa,
                v_init,
            } => {
                let params = biospike_lif::LifParams {
                    tau_m_ms: c_m_pf / g_l_ns,
                    c_m_pf,
                    e_l_mv,
                    v_th_mv,
                    v_reset_mv,
                    t_ref_ms,
                    i_e_pa,
                    v_min_mv: f64::NEG_INFINITY,
                };
                // NEST's `V_m` default, −70 mV, whatever `E_L`.
                let v_init = v_init.or(Some(LifInitDesc::Constant(-70.0)));
                Some((biospike_lif::IafCondExp::new(params, g_l_ns, e_ex_mv, e_in_mv, tau_syn_ex_ms, tau_syn_in_ms, dt_ms), v_init))
            }
            _ => None,
        }
    }

    /// An `IafPscAlpha` population's neuron (for steps of `dt_ms`) and initial potential.
    pub fn iaf_psc_alpha(&self, dt_ms: f64) -> Option<(biospike_lif::IafPscAlpha, Option<LifInitDesc>)> {
        match *self {
            Self::IafPscAlpha {
                tau_m_ms,
                c_m_pf,
                e_l_mv,
                v_th_mv,
                v_reset_mv,
                t_ref_ms,
                i_e_pa,
                tau_syn_ex_ms,
                tau_syn_in_ms,
                v_min_mv,
                v_init,
            } => {
                let params = biospike_lif::LifParams {
                    tau_m_ms,
                    c_m_pf,
                    e_l_mv,
                    v_th_mv,
                    v_reset_mv,
                    t_ref_ms,
                    i_e_pa,
                    v_min_mv: v_min_mv.unwrap_or(f64::NEG_INFINITY),
                };
                Some((biospike_lif::IafPscAlpha::new(params, tau_syn_ex_ms, tau_syn_in_ms, dt_ms), v_init))
            }
            _ => None,
        }
    }

    /// An `AeifCondExp` or `AeifPscExp` population's neuron and initial potential.
    pub fn adex(&self) -> Option<(biospike_adex::Adex, Option<LifInitDesc>)> {
        let (Self::AeifCondExp {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            i_e_pa,
            v_init,
            ..
        }
        | Self::AeifPscExp {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            i_e_pa,
            v_init,
        }) = *self
        else {
            return None;
        };
        let synapses = match *self {
            Self::AeifCondExp { e_ex_mv, e_in_mv, .. } => biospike_adex::AdexSynapses::Conductance { e_ex_mv, e_in_mv },
            _ => biospike_adex::AdexSynapses::Current,
        };
        let params = biospike_adex::AdexParams {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            i_e_pa,
        };
        Some((biospike_adex::Adex::new(params, synapses), v_init))
    }

    /// An `IafPscExpMultisynapse` population's neuron (for steps of `dt_ms`) and initial
    /// potential.
    pub fn iaf_psc_exp_multisynapse(&self, dt_ms: f64) -> Option<(biospike_lif::IafPscExpMultisynapse, Option<LifInitDesc>)> {
        match *self {
            Self::IafPscExpMultisynapse { tau_m_ms, c_m_pf, e_l_mv, v_th_mv, v_reset_mv, t_ref_ms, i_e_pa, tau_syn_ms, v_init } => {
                let params = biospike_lif::LifParams {
                    tau_m_ms,
                    c_m_pf,
                    e_l_mv,
                    v_th_mv,
                    v_reset_mv,
                    t_ref_ms,
                    i_e_pa,
                    v_min_mv: f64::NEG_INFINITY,
                };
                Some((biospike_lif::IafPscExpMultisynapse::new(params, tau_syn_ms.as_slice(), dt_ms), v_init))
            }
            _ => None,
        }
    }

    /// An `IafPscAlphaMultisynapse` population's neuron (for steps of `dt_ms`) and initial
    /// potential.
    pub fn iaf_psc_alpha_multisynapse(&self, dt_ms: f64) -> Option<(biospike_lif::IafPscAlphaMultisynapse, Option<LifInitDesc>)> {
        match *self {
            Self::IafPscAlphaMultisynapse {
                tau_m_ms,
                c_m_pf,
                e_l_mv,
                v_th_mv,
                v_reset_mv,
                t_ref_ms,
                i_e_pa,
                v_min_mv,
                tau_syn_ms,
                v_init,
            } => {
                let params = biospike_lif::LifParams {
                    tau_m_ms,
                    c_m_pf,
                    e_l_mv,
                    v_th_mv,
                    v_reset_mv,
                    t_ref_ms,
                    i_e_pa,
                    v_min_mv: v_min_mv.unwrap_or(f64::NEG_INFINITY),
                };
                Some((biospike_lif::IafPscAlphaMultisynapse::new(params, tau_syn_ms.as_slice(), dt_ms), v_init))
            }
            _ => None,
        }
    }

    /// Number of receptor ports of the model (`None` for models whose synapses go to the
    /// channel of their sign).
    pub fn receptor_ports(&self) -> Option<u8> {
        match self {
            Self::IafPscExpMultisynapse { tau_syn_ms, .. } | Self::IafPscAlphaMultisynapse { tau_syn_ms, .. } => Some(tau_syn_ms.len),
            Self::AeifCondBetaMultisynapse { e_rev_mv, .. } | Self::AeifCondAlphaMultisynapse { e_rev_mv, .. } => Some(e_rev_mv.0.len),
            _ => None,
        }
    }

    /// Whether the model's ports are conductances (a weight's magnitude counts, the port's
    /// reversal potential gives the sign of its effect).
    pub fn conductance_ports(&self) -> bool {
        matches!(self, Self::AeifCondBetaMultisynapse { .. } | Self::AeifCondAlphaMultisynapse { .. })
    }

    /// An `AeifCondBetaMultisynapse` (or `AeifCondAlphaMultisynapse`: the same model with
    /// equal rise and decay times) population's neuron and initial potential.
    pub fn aeif_cond_beta_multisynapse(&self) -> Option<(biospike_adex::AeifCondBetaMultisynapse, Option<LifInitDesc>)> {
        if let Self::AeifCondAlphaMultisynapse {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            i_e_pa,
            e_rev_mv,
            tau_syn_ms,
            v_init,
        } = *self
        {
            // NEST's `aeif_cond_alpha_multisynapse` is the beta model with rise = decay (its
            // right-hand side and its normalization e/τ are the beta model's in that case).
            let beta = Self::AeifCondBetaMultisynapse {
                v_peak_mv,
                v_reset_mv,
                t_ref_ms,
                g_l_ns,
                c_m_pf,
                e_l_mv,
                delta_t_mv,
                tau_w_ms,
                a_ns,
                b_pa,
                v_th_mv,
                i_e_pa,
                e_rev_mv,
                tau_rise_ms: tau_syn_ms,
                tau_decay_ms: tau_syn_ms,
                v_init,
            };
            return beta.aeif_cond_beta_multisynapse();
        }
        let Self::AeifCondBetaMultisynapse {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            i_e_pa,
            e_rev_mv,
            tau_rise_ms,
            tau_decay_ms,
            v_init,
        } = *self
        else {
            return None;
        };
        let params = biospike_adex::AdexParams {
            v_peak_mv,
            v_reset_mv,
            t_ref_ms,
            g_l_ns,
            c_m_pf,
            e_l_mv,
            delta_t_mv,
            tau_w_ms,
            a_ns,
            b_pa,
            v_th_mv,
            i_e_pa,
            ..biospike_adex::AdexParams::default()
        };
        let model =
            biospike_adex::AeifCondBetaMultisynapse::new(params, e_rev_mv.as_slice(), tau_rise_ms.as_slice(), tau_decay_ms.as_slice());
        Some((model, v_init))
    }

    /// The parameters and initial potential of an `IafPscDelta` population.
    pub fn iaf_psc_delta(&self) -> Option<(biospike_lif::LifParams, Option<LifInitDesc>)> {
        match *self {
            Self::IafPscDelta { tau_m_ms, c_m_pf, e_l_mv, v_th_mv, v_reset_mv, t_ref_ms, i_e_pa, v_min_mv, v_init } => Some((
                biospike_lif::LifParams {
                    tau_m_ms,
                    c_m_pf,
                    e_l_mv,
                    v_th_mv,
                    v_reset_mv,
                    t_ref_ms,
                    i_e_pa,
                    v_min_mv: v_min_mv.unwrap_or(f64::NEG_INFINITY),
                },
                v_init,
            )),
            _ => None,
        }
    }

    /// The Loihi LIF description of a `LoihiLif` population.
    pub fn loihi_lif(&self) -> Option<LifDesc> {
        match *self {
            Self::LoihiLif { du, dv, vth, bias_mant, bias_exp } => Some(LifDesc { du, dv, vth, bias_mant, bias_exp }),
            _ => None,
        }
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

/// One population.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PopulationDesc {
    /// Unique name.
    pub name: String,
    /// Number of neurons, `>= 1` (alias `num_neurons`).
    #[serde(alias = "num_neurons", deserialize_with = "desc::at_least_one")]
    pub size: u32,
    /// Excitatory (default) or inhibitory outgoing synapses.
    #[serde(default)]
    pub kind: KindDesc,
    /// Cell parameters. Default: `Preset(RS)`.
    #[serde(default)]
    pub neuron: NeuronDesc,
    /// Initial `v`, mV. Default `-65`.
    #[serde(default = "default_v_init", deserialize_with = "desc::finite")]
    pub v_init_mv: f64,
    /// Initial `u`. Default `b · v_init`.
    #[serde(default, deserialize_with = "desc::opt_finite")]
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
    #[serde(default, deserialize_with = "desc::finite")]
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
    /// Sinusoidal drive (NEST's `ac_generator`).
    #[serde(default)]
    pub sine: Option<SineCurrent>,
    /// Spike times of a `SpikeGenerator` population, ms: one list per neuron (`size` lists).
    /// Each time acts at step `round(t / dt)`.
    #[serde(default)]
    pub spike_times_ms: Option<Vec<Vec<f64>>>,
    /// Spike times of a `SpikeGenerator` population from a Parquet file (instead of
    /// `spike_times_ms`): one row per spike with columns `neuron` (integer, the index within the
    /// population) and `time_ms` (float), e.g. a `spikes.parquet` of an earlier run filtered to
    /// one population with `neuron` made local. A relative path is relative to the scene file.
    /// Read when the scene is loaded.
    #[serde(default)]
    pub spike_times_file: Option<String>,
    /// A `SpikeGenerator` population's spike times repeat every this many ms (`> 0`; every
    /// listed time must lie before it) until the end of the run: a time `t` also fires at
    /// `t + every_ms`, `t + 2·every_ms`, …. Default: no repetition.
    #[serde(default, deserialize_with = "biospike_core::desc::opt_positive")]
    pub spike_times_every_ms: Option<f64>,
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
        #[serde(default = "d_interval", deserialize_with = "desc::positive")]
        interval_ms: f64,
        /// Reward delay range, ms: `(low, high)` with `0 <= low <= high`. Default (1000, 3000).
        #[serde(default = "d_reward_delay")]
        reward_delay_ms: (f64, f64),
        /// Dopamine per reward. Default 0.5.
        #[serde(default = "d_amount", deserialize_with = "desc::finite")]
        amount: f64,
        /// Start weight of the chosen synapse. Default 0.
        #[serde(default, deserialize_with = "desc::finite")]
        start_weight: f64,
        /// Deliver rewards (`false`: the control run). Default `true`.
        #[serde(default = "desc::yes")]
        rewards: bool,
    },
}

fn d_interval() -> f64 {
    20.0
}
fn d_reward_delay() -> (f64, f64) {
    (1000.0, 3000.0)
}

fn d_amount() -> f64 {
    0.5
}

fn one_f64() -> f64 {
    1.0
}

fn scale_factor<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 && v <= 1000.0 { Ok(v) } else { Err(serde::de::Error::custom(format!("{v}; allowed (0, 1000]"))) }
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
    /// Step size in ms, `[0.0001, 100]` (alias `dt`).
    #[serde(alias = "dt", deserialize_with = "desc::step_ms")]
    pub dt_ms: f64,
    /// Number of steps to run, `>= 1`.
    #[serde(deserialize_with = "desc::at_least_one_u64")]
    pub time_steps: u64,
    /// Integration scheme. Default `HalfStep(v_substeps: 2)`.
    #[serde(default)]
    pub integration: IntegrationDesc,
    /// Spike peak, mV. Default `30`.
    #[serde(default = "default_threshold_mv", deserialize_with = "threshold_mv")]
    pub threshold_mv: f64,
    /// Scales the network while keeping what each neuron receives (NEST's microcircuit
    /// `N_scaling` with `K_scaling = 1`): every population's size becomes
    /// `max(1, round(size · scale))`; a `FixedTotalNumber` projection's count
    /// `round(n · scale)` (both rounded half to even, as `NumPy` and so NEST's example
    /// round), a `PairwiseBernoulli` / `ErdosRenyi` probability `p / scale` (at most 1); fixed in- and out-degrees stay, so in-degrees, weights and external
    /// input are unchanged. `AllToAll`, `SmallWorld` and `ScaleFree` wiring and spike
    /// generators listing times per neuron cannot be scaled and are refused. `(0, 1000]`.
    /// Default 1.
    #[serde(default = "one_f64", deserialize_with = "scale_factor")]
    pub scale: f64,
    /// Populations, in id order.
    pub populations: Vec<PopulationDesc>,
    /// Connectivity over all neurons, with weights and delays per source population: the
    /// shorthand of `projections`. Default `Disconnected`.
    #[serde(default)]
    pub topology: TopologyDesc,
    /// Connectivity per (source, target) population pair, each with its rule, weights, delays
    /// and plasticity (NEST's `Connect`). Use either this or `topology`. Default: none.
    #[serde(default)]
    pub projections: Vec<ProjectionDesc>,
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
    pub plasticity: Option<StdpDesc>,
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

/// The embedded scene a path names: `NAME`, `NAME.ron`, `scenes/NAME` or `scenes/NAME.ron`.
fn embedded_name(path: &Path) -> Option<&'static str> {
    let stem = path.file_stem()?.to_str()?;
    let ext_ok = path.extension().is_none_or(|e| e == "ron");
    let dir_ok = matches!(path.parent().map(|p| p.as_os_str().to_str()), None | Some(Some("" | "scenes" | "./scenes")));
    if !(ext_ok && dir_ok) {
        return None;
    }
    EMBEDDED.iter().find(|(name, _)| *name == stem).map(|(_, text)| *text)
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
    ("ei_projections", include_str!("../scenes/ei_projections.ron")),
    ("brunel_2000", include_str!("../scenes/brunel_2000.ron")),
    ("brunel_2000_ai", include_str!("../scenes/brunel_2000_ai.ron")),
    ("ei_receptors", include_str!("../scenes/ei_receptors.ron")),
    ("brette_2007_cuba", include_str!("../scenes/brette_2007_cuba.ron")),
    ("brette_2007_coba", include_str!("../scenes/brette_2007_coba.ron")),
    ("potjans_2014", include_str!("../scenes/potjans_2014.ron")),
];

impl Scene {
    /// Loads a scene from a file, or an embedded scene by name (`izhikevich_2003`, or the same
    /// with `scenes/` and `.ron` around it when no such file exists).
    pub fn load(path: &Path) -> Result<Self, SceneError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text.strip_prefix('\u{feff}').unwrap_or(&text), path),
            // The embedded scene stands in only for a name of that form (`NAME`, `NAME.ron`,
            // `scenes/NAME.ron`) that is not a file at all: a file that exists but cannot be
            // read (a directory, no permission, a symlink loop) or a path elsewhere is an error.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match embedded_name(path) {
                Some(text) => Self::parse(text, path),
                None => Err(SceneError::Read { file: path.to_owned(), source: e }),
            },
            Err(e) => Err(SceneError::Read { file: path.to_owned(), source: e }),
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
        // `LoihiLif(du: …)` holds a struct in a newtype variant; optional fields take a value
        // with or without `Some(…)`.
        let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let mut de = ron::Deserializer::from_str_with_options(text, &options)
            .map_err(|e| parse_err(e.span.start, "(scene)".into(), e.code.to_string()))?;
        let desc: SceneDesc = match serde_path_to_error::deserialize(&mut de) {
            Ok(d) => d,
            Err(e) => {
                let field = match e.path().to_string() {
                    p if p == "." => "(scene)".to_string(),
                    p => p,
                };
                let spanned = de.span_error(e.into_inner());
                let message = match spanned.code {
                    ron::error::Error::IntegerOutOfBounds => format!("integer out of bounds; allowed {}", integer_range(&field)),
                    ref code => code.to_string(),
                };
                // `size: 500.0`: the integer ends at the decimal point, and the parser asks for a
                // comma after it. Say what is wrong and name the field.
                if let Some((key, at)) = decimal_for_integer(text, spanned.span.start) {
                    let field = match field.strip_suffix('?') {
                        Some(parent) => format!("{parent}{key}"),
                        None => field,
                    };
                    let pos = ron::error::Position { line: spanned.span.start.line, col: at };
                    return Err(parse_err(pos, field, "a whole number is expected here (found a decimal number)".into()));
                }
                return Err(parse_err(spanned.span.start, field, message));
            }
        };
        if let Err(e) = de.end() {
            let spanned = de.span_error(e);
            return Err(parse_err(spanned.span.start, "(scene)".into(), spanned.code.to_string()));
        }
        let mut scene = Self { desc, source: file.to_owned(), text: text.to_owned() };
        scene.read_spike_files()?;
        scene.apply_scale()?;
        scene.validate()?;
        Ok(scene)
    }

    /// Applies `scale` (see [`SceneDesc::scale`]) to population sizes and wiring.
    fn apply_scale(&mut self) -> Result<(), SceneError> {
        let s = self.desc.scale;
        if s == 1.0 {
            return Ok(());
        }
        let refuse = |scene: &Self, what: String| {
            Err(scene.invalid("scale".into(), "scale", 0, format!("{s}: {what} cannot keep its in-degrees when scaled; allowed: 1")))
        };
        for (i, p) in self.desc.populations.iter().enumerate() {
            if p.spike_times_ms.is_some() {
                return refuse(self, format!("populations[{i}] ({:?}) lists spike times per neuron and", p.name));
            }
        }
        for (i, pr) in self.desc.projections.iter().enumerate() {
            if matches!(pr.rule, Rule::AllToAll | Rule::SmallWorld { .. } | Rule::ScaleFree { .. }) {
                return refuse(self, format!("projections[{i}].rule {:?}", pr.rule));
            }
        }
        if matches!(self.desc.topology, TopologyDesc::AllToAll { .. } | TopologyDesc::SmallWorld { .. } | TopologyDesc::ScaleFree { .. }) {
            return refuse(self, format!("topology {:?}", self.desc.topology));
        }
        for p in &mut self.desc.populations {
            p.size = ((f64::from(p.size) * s).round_ties_even() as u32).max(1);
        }
        for pr in &mut self.desc.projections {
            match &mut pr.rule {
                Rule::FixedTotalNumber { n } => *n = (*n as f64 * s).round_ties_even() as u64,
                Rule::PairwiseBernoulli { p } => *p = (*p / s).min(1.0),
                _ => {}
            }
        }
        if let TopologyDesc::ErdosRenyi { p, .. } = &mut self.desc.topology {
            *p = (*p / s).min(1.0);
        }
        Ok(())
    }

    /// Fills `spike_times_ms` of the populations that name a `spike_times_file`.
    fn read_spike_files(&mut self) -> Result<(), SceneError> {
        for i in 0..self.desc.populations.len() {
            let Some(name) = self.desc.populations[i].spike_times_file.clone() else { continue };
            let field = format!("populations[{i}].spike_times_file");
            if self.desc.populations[i].spike_times_ms.is_some() {
                return Err(self.invalid(field, "spike_times_file", 0, "give spike_times_ms or spike_times_file, not both".into()));
            }
            let path = match self.source.parent() {
                Some(dir) if Path::new(&name).is_relative() => dir.join(&name),
                _ => PathBuf::from(&name),
            };
            let size = self.desc.populations[i].size as usize;
            let times = read_spike_times(&path, size)
                .map_err(|message| self.invalid(field.clone(), "spike_times_file", 0, format!("{}: {message}", path.display())))?;
            self.desc.populations[i].spike_times_ms = Some(times);
        }
        Ok(())
    }

    /// What may be intended but is probably a mistake, for a run of `steps` steps: releases
    /// scheduled after the run ends. Printed by `biospike validate` and `biospike run`.
    pub fn warnings(&self, steps: u64) -> Vec<String> {
        let end_ms = steps as f64 * self.desc.dt_ms;
        let mut out = Vec::new();
        if let Some(m) = &self.desc.neuromodulation {
            for (i, r) in m.releases.iter().enumerate().filter(|(_, r)| r.at_ms >= end_ms) {
                out.push(format!(
                    "neuromodulation.releases[{i}]: the release at {} ms is at or after the end of the run ({end_ms} ms) and will not happen",
                    r.at_ms
                ));
            }
        }
        out
    }

    /// Total number of neurons.
    pub fn neuron_count(&self) -> u32 {
        self.desc.populations.iter().map(|p| p.size).sum()
    }

    pub(crate) fn invalid(&self, field: String, key: &str, nth: usize, message: String) -> SceneError {
        let (line, column) = locate(&self.text, key, nth);
        SceneError::Invalid { file: self.source.clone(), line, column, field, message }
    }

    /// A crate's [`DescError`] for the description at `path` (the `nth` occurrence of its key).
    fn desc_error(&self, path: &str, nth: usize, e: DescError) -> SceneError {
        let field = match (path, e.field.as_str()) {
            (p, "") => p.to_string(),
            ("", f) => f.to_string(),
            (p, f) => format!("{p}.{f}"),
        };
        self.invalid(field, e.key, nth, e.message)
    }

    /// Checks relations between fields (single-field ranges were checked while parsing).
    pub fn validate(&self) -> Result<(), SceneError> {
        let d = &self.desc;
        if d.populations.is_empty() {
            return Err(self.invalid("populations".into(), "populations", 0, "at least one population is required".into()));
        }
        let total: u64 = d.populations.iter().map(|p| u64::from(p.size)).sum();
        if total > u64::from(u32::MAX) {
            return Err(self.invalid("populations".into(), "populations", 0, format!("{total} neurons; allowed 1..={}", u32::MAX)));
        }
        if d.populations.len() > usize::from(u16::MAX) {
            return Err(self.invalid("populations".into(), "populations", 0, "at most 65535 populations".into()));
        }
        if let Some(name) = &d.name
            && !is_plain_name(name)
        {
            return Err(self.invalid(
                "name".into(),
                "name",
                0,
                format!("{name:?} cannot name the output folder (`out/<name>`); allowed: 1-100 characters without `/`, `\\`, control characters, and not `.` or `..`"),
            ));
        }
        let names: Vec<&str> = d.populations.iter().map(|p| p.name.as_str()).collect();
        let n = self.neuron_count();
        for (i, p) in d.populations.iter().enumerate() {
            if d.populations[..i].iter().any(|q| q.name == p.name) {
                return Err(self.invalid(
                    format!("populations[{i}].name"),
                    "name",
                    i,
                    format!("duplicate population name {:?}; names must be unique", p.name),
                ));
            }
            p.synapses.check(d.dt_ms).map_err(|e| self.desc_error(&format!("populations[{i}].synapses"), i, e))?;
            if let Some(ps) = &p.poisson {
                ps.check().map_err(|e| self.desc_error(&format!("populations[{i}].poisson"), 0, e))?;
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
                if let Some(bad) = t.iter().find(|x| !names.contains(&x.as_str())) {
                    return Err(self.invalid(
                        format!("populations[{i}].synapses.targets"),
                        "targets",
                        0,
                        format!("unknown population {bad:?}; allowed: {}", names.join(", ")),
                    ));
                }
            }
            let lif_like = p
                .neuron
                .lif()
                .or_else(|| p.neuron.iaf_cond_exp(d.dt_ms).map(|(n, init)| (n.params, None, init)))
                .or_else(|| p.neuron.iaf_psc_alpha(d.dt_ms).map(|(n, init)| (n.params, None, init)))
                .or_else(|| p.neuron.iaf_psc_exp_multisynapse(d.dt_ms).map(|(n, init)| (n.params, None, init)))
                .or_else(|| p.neuron.iaf_psc_alpha_multisynapse(d.dt_ms).map(|(n, init)| (n.params, None, init)));
            let beta = p.neuron.aeif_cond_beta_multisynapse();
            let adex = p
                .neuron
                .adex()
                .or_else(|| beta.map(|(n, init)| (biospike_adex::Adex::new(n.params, biospike_adex::AdexSynapses::Current), init)));
            let port_lists = match p.neuron {
                NeuronDesc::AeifCondBetaMultisynapse { e_rev_mv, tau_rise_ms, tau_decay_ms, .. } => {
                    Some((e_rev_mv, vec![("tau_rise_ms", tau_rise_ms), ("tau_decay_ms", tau_decay_ms)]))
                }
                NeuronDesc::AeifCondAlphaMultisynapse { e_rev_mv, tau_syn_ms, .. } => Some((e_rev_mv, vec![("tau_syn_ms", tau_syn_ms)])),
                _ => None,
            };
            if let Some((e_rev_mv, lists)) = port_lists {
                let n = e_rev_mv.as_slice().len();
                for (what, list) in lists {
                    let len = list.as_slice().len();
                    if len != n {
                        return Err(self.invalid(
                            format!("populations[{i}].neuron.{what}"),
                            what,
                            i,
                            format!("{len} values for {n} receptor ports (e_rev_mv); give one per port"),
                        ));
                    }
                }
            }
            if let NeuronDesc::IafPscExpMultisynapse { tau_m_ms, tau_syn_ms, .. } = p.neuron
                && let Some(r) = tau_syn_ms.as_slice().iter().position(|&t| t == tau_m_ms)
            {
                return Err(self.invalid(
                    format!("populations[{i}].neuron.tau_syn_ms"),
                    "tau_syn_ms",
                    i,
                    format!("port {}'s time constant equals tau_m_ms ({tau_m_ms} ms); allowed: any other value (NEST's rule)", r + 1),
                ));
            }
            if p.neuron.receptor_ports().is_some() {
                let why = if d.projections.is_empty() && d.topology != TopologyDesc::Disconnected {
                    Some(
                        "its synapses need receptor ports, which only `projections` give (`receptor: Some(r)`); connect it with projections",
                    )
                } else if d.structure.is_some() {
                    Some("structural plasticity makes synapses without a receptor port; it does not run with receptor ports")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(self.invalid(
                        format!("populations[{i}].neuron"),
                        "neuron",
                        i,
                        format!("a model with receptor ports: {why}"),
                    ));
                }
            }
            if lif_like.is_some() || adex.is_some() {
                let drives = [("u_init", p.u_init.is_some()), ("v_init_mv", p.v_init_mv != default_v_init())];
                if let Some((what, _)) = drives.iter().find(|d| d.1) {
                    return Err(self.invalid(
                        format!("populations[{i}].{what}"),
                        what,
                        0,
                        format!(
                            "a LIF or AdEx neuron has no recovery variable and takes its initial V as `v_init`; `{what}` does not apply"
                        ),
                    ));
                }
            }
            if let Some((n, v_init)) = adex {
                let a = &n.params;
                if a.v_peak_mv < a.v_th_mv || a.v_reset_mv >= a.v_peak_mv {
                    return Err(self.invalid(
                        format!("populations[{i}].neuron.v_peak_mv"),
                        "v_peak_mv",
                        0,
                        format!(
                            "{} mV with v_th_mv {} mV and v_reset_mv {} mV; allowed: v_peak_mv >= v_th_mv and above v_reset_mv (NEST's checks)",
                            a.v_peak_mv, a.v_th_mv, a.v_reset_mv
                        ),
                    ));
                }
                if a.delta_t_mv > 0.0 && (a.v_peak_mv - a.v_th_mv) / a.delta_t_mv >= (f64::MAX / (a.g_l_ns * a.delta_t_mv)).ln() {
                    return Err(self.invalid(
                        format!("populations[{i}].neuron.delta_t_mv"),
                        "delta_t_mv",
                        0,
                        format!("{} mV: the exponential term overflows at v_peak_mv; allowed: a larger slope factor", a.delta_t_mv),
                    ));
                }
                if let Some(LifInitDesc::Uniform { low, high }) = v_init
                    && low > high
                {
                    return Err(self.invalid(format!("populations[{i}].neuron.v_init"), "v_init", 0, "low must be <= high".into()));
                }
            }
            if let Some((lif, _, v_init)) = lif_like {
                if lif.v_reset_mv >= lif.v_th_mv {
                    return Err(self.invalid(
                        format!("populations[{i}].neuron.v_reset_mv"),
                        "v_reset_mv",
                        0,
                        format!("{} mV; allowed: below v_th_mv ({} mV)", lif.v_reset_mv, lif.v_th_mv),
                    ));
                }
                if let Some(LifInitDesc::Uniform { low, high }) = v_init
                    && low > high
                {
                    return Err(self.invalid(format!("populations[{i}].neuron.v_init"), "v_init", 0, "low must be <= high".into()));
                }
            }
            if let Some(lif) = p.neuron.loihi_lif() {
                lif.check().map_err(|e| self.desc_error(&format!("populations[{i}].neuron"), 0, e))?;
                // Its input comes from its bias and its synapses in fixed point (the float
                // `InputCurrent` the generators add to is ignored): a generator would do nothing.
                let drives = [
                    ("poisson", p.poisson.is_some()),
                    ("noise", p.noise.is_some()),
                    ("uniform_noise", p.uniform_noise.is_some()),
                    ("dc", p.dc != 0.0),
                    ("stimulus", p.stimulus.is_some()),
                    ("sine", p.sine.is_some()),
                ];
                if let Some((what, _)) = drives.iter().find(|d| d.1) {
                    return Err(self.invalid(
                        format!("populations[{i}].{what}"),
                        what,
                        0,
                        format!(
                            "a LoihiLif neuron takes input only from its bias and its synapses (docs/loihi.md); `{what}` does not apply"
                        ),
                    ));
                }
            }
            let generator = p.neuron == NeuronDesc::SpikeGenerator;
            if p.spike_times_every_ms.is_some() && !generator {
                return Err(self.invalid(
                    format!("populations[{i}].spike_times_every_ms"),
                    "spike_times_every_ms",
                    0,
                    "repeated spike times need `neuron: SpikeGenerator`".into(),
                ));
            }
            match (&p.spike_times_ms, generator) {
                (Some(_), false) => {
                    return Err(self.invalid(
                        format!("populations[{i}].spike_times_ms"),
                        "spike_times_ms",
                        0,
                        "spike times need `neuron: SpikeGenerator`".into(),
                    ));
                }
                (None, true) => {
                    return Err(self.invalid(
                        format!("populations[{i}].neuron"),
                        "SpikeGenerator",
                        0,
                        "a SpikeGenerator population needs `spike_times_ms`, one list per neuron".into(),
                    ));
                }
                (Some(times), true) => {
                    if times.len() != p.size as usize {
                        return Err(self.invalid(
                            format!("populations[{i}].spike_times_ms"),
                            "spike_times_ms",
                            0,
                            format!("{} lists for {} neurons; give one list per neuron", times.len(), p.size),
                        ));
                    }
                    if let Some((n, t)) =
                        times.iter().enumerate().find_map(|(n, l)| l.iter().find(|t| !(t.is_finite() && **t >= 0.0)).map(|t| (n, *t)))
                    {
                        return Err(self.invalid(
                            format!("populations[{i}].spike_times_ms[{n}]"),
                            "spike_times_ms",
                            0,
                            format!("{t} is outside the allowed range [0, ∞) ms"),
                        ));
                    }
                    if let Some(every) = p.spike_times_every_ms
                        && let Some((n, t)) = times.iter().enumerate().find_map(|(n, l)| l.iter().find(|t| **t >= every).map(|t| (n, *t)))
                    {
                        return Err(self.invalid(
                            format!("populations[{i}].spike_times_ms[{n}]"),
                            "spike_times_ms",
                            0,
                            format!("{t} ms is not within one period of spike_times_every_ms {every} ms; allowed: [0, {every})"),
                        ));
                    }
                    let driven =
                        p.noise.is_some() || p.uniform_noise.is_some() || p.dc != 0.0 || p.stimulus.is_some() || p.poisson.is_some();
                    if driven {
                        return Err(self.invalid(
                            format!("populations[{i}]"),
                            "SpikeGenerator",
                            0,
                            "a SpikeGenerator has no membrane: noise, dc, stimulus, sine and poisson do not apply".into(),
                        ));
                    }
                }
                (None, false) => {}
            }
            if let Some(u) = p.uniform_noise
                && u.low > u.high
            {
                return Err(self.invalid(format!("populations[{i}].uniform_noise"), "uniform_noise", 0, "low must be <= high".into()));
            }
        }
        d.record.check(&names, n).map_err(|e| self.desc_error("record", 0, e))?;
        if let Some(pl) = &d.plasticity {
            pl.check(&names).map_err(|e| self.desc_error("plasticity", 0, e))?;
        }
        if let Some(ExperimentDesc::DistalReward { pre, reward_delay_ms: (lo, hi), .. }) = &d.experiment {
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
        if let Some(m) = &d.neuromodulation {
            for (i, r) in m.releases.iter().enumerate() {
                if let Some(every) = r.every_ms
                    && every < d.dt_ms
                {
                    return Err(self.invalid(
                        format!("neuromodulation.releases[{i}].every_ms"),
                        "every_ms",
                        0,
                        format!("{every} ms is shorter than one step ({} ms)", d.dt_ms),
                    ));
                }
                if let Some(until) = r.until_ms
                    && until < r.at_ms
                {
                    return Err(self.invalid(
                        format!("neuromodulation.releases[{i}].until_ms"),
                        "until_ms",
                        0,
                        format!("{until} ms is before the first release at {} ms", r.at_ms),
                    ));
                }
            }
        }
        d.topology.check(n).map_err(|e| self.desc_error("topology", 0, e))?;
        self.validate_projections()
    }

    /// Projections: known populations, valid rules for their sizes, delays in range, no
    /// `topology` or per-population synapse settings beside them, one plastic flag per pair.
    fn validate_projections(&self) -> Result<(), SceneError> {
        let d = &self.desc;
        if d.projections.is_empty() {
            return Ok(());
        }
        if d.topology != TopologyDesc::Disconnected {
            return Err(self.invalid(
                "topology".into(),
                "topology",
                0,
                "a scene with `projections` connects through them; remove `topology` (it is the shorthand for one all-neuron rule)".into(),
            ));
        }
        if let Some(i) = d.populations.iter().position(|p| p.synapses != SynapseDesc::default()) {
            return Err(self.invalid(
                format!("populations[{i}].synapses"),
                "synapses",
                0,
                "with `projections`, weights and delays are set per projection; remove the population's `synapses`".into(),
            ));
        }
        let names: Vec<&str> = d.populations.iter().map(|p| p.name.as_str()).collect();
        let ranges = crate::build::population_ranges(self);
        let mut plastic: Vec<((u16, u16), bool, usize)> = Vec::new();
        for (i, pr) in d.projections.iter().enumerate() {
            let find = |key: &'static str, name: &str| {
                names.iter().position(|n| *n == name).ok_or_else(|| {
                    self.invalid(
                        format!("projections[{i}].{key}"),
                        key,
                        i,
                        format!("unknown population {name:?}; allowed: {}", names.join(", ")),
                    )
                })
            };
            let (s, t) = (find("source", &pr.source)?, find("target", &pr.target)?);
            pr.lower(ranges[s].clone(), ranges[t].clone())
                .check()
                .map_err(|e| self.invalid(format!("projections[{i}].rule"), "rule", i, e.to_string()))?;
            pr.check_delays(d.dt_ms).map_err(|e| self.desc_error(&format!("projections[{i}]"), i, e))?;
            let ports = d.populations[t].neuron.receptor_ports();
            let port_error = |message: String| self.invalid(format!("projections[{i}].receptor"), "receptor", 0, message);
            match (pr.receptor, ports) {
                (Some(r), Some(n)) if r == 0 || r > n => {
                    return Err(port_error(format!("receptor {r}: {:?} has {n} receptor ports; allowed 1..={n}", pr.target)));
                }
                (Some(r), None) => {
                    return Err(port_error(format!(
                        "receptor {r}: {:?}'s model has no receptor ports (its synapses go to the channel of their sign); remove `receptor`",
                        pr.target
                    )));
                }
                (None, Some(n)) => {
                    return Err(self.invalid(
                        format!("projections[{i}]"),
                        "target",
                        i,
                        format!("{:?} has {n} receptor ports: give the projection `receptor: Some(r)`, r in 1..={n}", pr.target),
                    ));
                }
                _ => {}
            }
            if let Some(flag) = pr.plastic {
                let pair = (s as u16, t as u16);
                if let Some(&(_, other, j)) = plastic.iter().find(|(p, f, _)| *p == pair && *f != flag) {
                    return Err(self.invalid(
                        format!("projections[{i}].plastic"),
                        "plastic",
                        0,
                        format!(
                            "projections[{j}] from {:?} to {:?} says plastic: {other}; plasticity is per population pair, give both the same flag",
                            pr.source, pr.target
                        ),
                    ));
                }
                plastic.push((pair, flag, i));
            }
        }
        Ok(())
    }

    /// The STDP plastic set with the projections' `plastic` flags applied: `None` when no
    /// projection sets one (the `plasticity.plastic` rule stands).
    pub fn projection_plasticity(&self, rule: &biospike_stdp::PlasticProjections) -> Option<biospike_stdp::PlasticProjections> {
        let d = &self.desc;
        if d.projections.iter().all(|p| p.plastic.is_none()) {
            return None;
        }
        let mut pairs = Vec::new();
        for p in &d.projections {
            let (s, t) = (self.population_id(&p.source), self.population_id(&p.target));
            let by_rule = match rule {
                biospike_stdp::PlasticProjections::All => true,
                biospike_stdp::PlasticProjections::ExcitatorySources => d.populations[usize::from(s)].kind == KindDesc::Excitatory,
                biospike_stdp::PlasticProjections::Pairs(list) => list.contains(&(s, t)),
            };
            if p.plastic.unwrap_or(by_rule) && !pairs.contains(&(s, t)) {
                pairs.push((s, t));
            }
        }
        Some(biospike_stdp::PlasticProjections::Pairs(pairs))
    }

    /// Id of a population by name (0 if absent; names are checked by [`Scene::validate`]).
    pub fn population_id(&self, name: &str) -> u16 {
        self.desc.populations.iter().position(|p| p.name == name).unwrap_or(0) as u16
    }
}

/// A scene name that is one plain path component (the default output folder is `out/<name>`).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 100
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// When the parser stopped at a decimal point or exponent right after an integer (`500.0`,
/// `1e3` for an integer field): the key the number belongs to and the number's 1-based column.
fn decimal_for_integer(text: &str, pos: ron::error::Position) -> Option<(String, usize)> {
    let line = text.lines().nth(pos.line.checked_sub(1)?)?;
    let col = pos.col.checked_sub(1)?;
    let (before, after) = (line.get(..col)?, line.get(col..)?);
    if !(after.starts_with('.') || after.starts_with(['e', 'E'])) {
        return None;
    }
    let digits = before.trim_end_matches(|c: char| c.is_ascii_digit());
    if digits.len() == before.len() {
        return None;
    }
    let number_col = digits.len() + 1;
    let key_part = digits.trim_end_matches(['-', '+']).trim_end().strip_suffix(':')?.trim_end();
    let key: String =
        key_part.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<Vec<_>>().into_iter().rev().collect();
    (!key.is_empty()).then_some((key, number_col))
}

/// The range of the integer field at `path` (its last name, without indices).
fn integer_range(path: &str) -> &'static str {
    let last = path.rsplit('.').next().unwrap_or(path);
    let name = last.split('[').next().unwrap_or(last);
    match name {
        "seed" => "0..=18446744073709551615",
        "time_steps" | "every_steps" | "update_every_steps" | "modulation_every_steps" => "1..=18446744073709551615",
        "v_substeps" => "1..=255",
        "du" | "dv" => "0..=4095",
        "bias_exp" => "0..=7",
        "bias_mant" => "-4096..=4095",
        _ => "0..=4294967295",
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

/// Spike times per neuron (`size` lists, ms) from a Parquet file with columns `neuron` (an
/// integer column: the index within the population) and `time_ms` (a float column). The message
/// of an error names the column or the row.
#[cfg(feature = "plot")]
pub fn read_spike_times(path: &std::path::Path, size: usize) -> Result<Vec<Vec<f64>>, String> {
    use arrow_array::{Array, Float32Array, Float64Array, Int32Array, Int64Array, UInt16Array, UInt32Array, UInt64Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let mut out = vec![Vec::new(); size];
    let mut row = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let column = |name: &str| batch.column_by_name(name).ok_or_else(|| format!("no column `{name}` (columns: neuron, time_ms)"));
        let neuron = column("neuron")?;
        let time = column("time_ms")?;
        let ids: Vec<Option<i128>> = if let Some(a) = neuron.as_any().downcast_ref::<UInt32Array>() {
            a.iter().map(|x| x.map(i128::from)).collect()
        } else if let Some(a) = neuron.as_any().downcast_ref::<UInt64Array>() {
            a.iter().map(|x| x.map(i128::from)).collect()
        } else if let Some(a) = neuron.as_any().downcast_ref::<Int64Array>() {
            a.iter().map(|x| x.map(i128::from)).collect()
        } else if let Some(a) = neuron.as_any().downcast_ref::<Int32Array>() {
            a.iter().map(|x| x.map(i128::from)).collect()
        } else if let Some(a) = neuron.as_any().downcast_ref::<UInt16Array>() {
            a.iter().map(|x| x.map(i128::from)).collect()
        } else {
            return Err(format!("column `neuron` is {}; an integer column is expected", neuron.data_type()));
        };
        let times: Vec<Option<f64>> = if let Some(a) = time.as_any().downcast_ref::<Float64Array>() {
            a.iter().collect()
        } else if let Some(a) = time.as_any().downcast_ref::<Float32Array>() {
            a.iter().map(|x| x.map(f64::from)).collect()
        } else {
            return Err(format!("column `time_ms` is {}; a float column is expected", time.data_type()));
        };
        for (id, t) in ids.into_iter().zip(times) {
            let (Some(id), Some(t)) = (id, t) else { return Err(format!("row {row}: an empty value")) };
            let Some(list) = usize::try_from(id).ok().and_then(|k| out.get_mut(k)) else {
                return Err(format!("row {row}: neuron {id} is outside 0..{size} (the population's size)"));
            };
            if !(t.is_finite() && t >= 0.0) {
                return Err(format!("row {row}: time {t} ms is outside the allowed range [0, ∞)"));
            }
            list.push(t);
            row += 1;
        }
    }
    Ok(out)
}

/// Without the `plot` feature there is no Parquet reader.
#[cfg(not(feature = "plot"))]
pub fn read_spike_times(_: &std::path::Path, _: usize) -> Result<Vec<Vec<f64>>, String> {
    Err("this biospike was built without Parquet reading (the `plot` feature)".into())
}
