//! The scene description of STDP (`plasticity: (...)` in a scene) and its lowering to
//! [`StdpSettings`]. Its defaults are the plugin's: `StdpSettings::default()` is the lowering of
//! `StdpDesc::default()`.

use biospike_core::desc::{self, DescError};
use serde::Deserialize;

use crate::settings::{LtpTiming, PlasticProjections, StdpMode, StdpSettings, TraceUpdate, WeightDependence};

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

/// When STDP potentiation reaches the weights ([`LtpTiming`]).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LtpTimingDesc {
    /// At the postsynaptic spike.
    #[default]
    AtPostSpike,
    /// At the presynaptic neuron's next spike; flushed every second, before weights are
    /// recorded, before structural passes and at the end of the run.
    Deferred,
}

/// STDP with eligibility traces, dopamine-gated by default (the original project's names).
/// Every field is optional; the defaults are listed per field.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StdpDesc {
    /// Learning rate, `>= 0`. Default 1.
    #[serde(deserialize_with = "desc::non_negative")]
    pub learning_rate: f64,
    /// Eligibility-trace time constant, ms, `> 0`. Default 1000.
    #[serde(deserialize_with = "desc::positive")]
    pub tau_synaptic: f64,
    /// `A+`, `>= 0`. Default 0.005.
    #[serde(deserialize_with = "desc::non_negative")]
    pub a_plus: f64,
    /// `A−`, `>= 0`. Default 0.005.
    #[serde(deserialize_with = "desc::non_negative")]
    pub a_minus: f64,
    /// `τ+`, ms, `> 0`. Default 20.
    #[serde(deserialize_with = "desc::positive")]
    pub tau_plus_ms: f64,
    /// `τ−`, ms, `> 0`. Default 20.
    #[serde(deserialize_with = "desc::positive")]
    pub tau_minus_ms: f64,
    /// Lower weight bound. Default 0.
    #[serde(deserialize_with = "desc::finite")]
    pub w_min: f64,
    /// Upper weight bound, `>= w_min`. Default: unbounded (the largest `f32`).
    #[serde(deserialize_with = "desc::finite")]
    pub w_max: f64,
    /// Pairing rule. Default `AllToAll`.
    pub traces: TracesDesc,
    /// Weight dependence. Default `Additive`.
    pub dependence: DependenceDesc,
    /// Pairings go to eligibility and dopamine turns them into weight (default `true`);
    /// `false` applies them directly.
    pub dopamine_gated: bool,
    /// Added to the dopamine level in the gated update. Default 0.
    #[serde(deserialize_with = "desc::finite")]
    pub dopamine_bias: f64,
    /// Gated update period in steps, `>= 1`. Default 1.
    #[serde(deserialize_with = "desc::at_least_one_u64")]
    pub update_every_steps: u64,
    /// Plastic synapses. Default `ExcitatorySources`.
    pub plastic: PlasticDesc,
    /// When potentiation is applied with `dopamine_gated: false`: `AtPostSpike` (default) or
    /// `Deferred` (at the presynaptic neuron's next spike, as NEST does; same weights wherever
    /// they are read, faster on large networks). Not allowed with `dopamine_gated: true`.
    pub ltp_timing: LtpTimingDesc,
}

impl Default for StdpDesc {
    fn default() -> Self {
        Self {
            learning_rate: 1.0,
            tau_synaptic: 1000.0,
            a_plus: 0.005,
            a_minus: 0.005,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            w_min: 0.0,
            w_max: f64::from(f32::MAX),
            traces: TracesDesc::AllToAll,
            dependence: DependenceDesc::Additive,
            dopamine_gated: true,
            dopamine_bias: 0.0,
            update_every_steps: 1,
            plastic: PlasticDesc::ExcitatorySources,
            ltp_timing: LtpTimingDesc::AtPostSpike,
        }
    }
}

impl StdpDesc {
    /// Relations between fields; `populations` are the scene's population names.
    pub fn check(&self, populations: &[&str]) -> Result<(), DescError> {
        if self.w_min > self.w_max {
            return Err(DescError::new("w_max", "w_max", format!("{} is below w_min = {}", self.w_max, self.w_min)));
        }
        if self.dopamine_gated && self.ltp_timing == LtpTimingDesc::Deferred {
            return Err(DescError::new(
                "ltp_timing",
                "ltp_timing",
                "Deferred needs dopamine_gated: false (gated STDP applies potentiation at the postsynaptic spike); allowed: AtPostSpike",
            ));
        }
        if let PlasticDesc::Pairs(pairs) = &self.plastic
            && let Some(bad) = pairs.iter().flat_map(|(a, b)| [a, b]).find(|x| !populations.contains(&x.as_str()))
        {
            return Err(DescError::new("plastic", "plastic", format!("unknown population {bad:?}; allowed: {}", populations.join(", "))));
        }
        Ok(())
    }

    /// The plugin's settings: `population` maps a name to its id (after [`check`](Self::check)),
    /// `flush_every_steps` is the flush period of deferred potentiation (a period at which
    /// every reader of the weights finds them current).
    pub fn lower(&self, population: impl Fn(&str) -> u16, flush_every_steps: u64) -> StdpSettings {
        StdpSettings {
            a_plus: self.a_plus,
            a_minus: self.a_minus,
            tau_plus_ms: self.tau_plus_ms,
            tau_minus_ms: self.tau_minus_ms,
            learning_rate: self.learning_rate,
            w_min: self.w_min,
            w_max: self.w_max,
            dependence: match self.dependence {
                DependenceDesc::Additive => WeightDependence::Additive,
                DependenceDesc::Multiplicative => WeightDependence::Multiplicative,
            },
            trace: match self.traces {
                TracesDesc::AllToAll => TraceUpdate::Add,
                TracesDesc::Nearest => TraceUpdate::Reset,
            },
            mode: if self.dopamine_gated {
                StdpMode::DopamineGated {
                    tau_eligibility_ms: self.tau_synaptic,
                    dopamine_bias: self.dopamine_bias,
                    update_every_steps: self.update_every_steps,
                }
            } else {
                StdpMode::Direct
            },
            ltp: match self.ltp_timing {
                LtpTimingDesc::AtPostSpike => LtpTiming::AtPostSpike,
                LtpTimingDesc::Deferred => LtpTiming::Deferred { flush_every_steps },
            },
            plastic: match &self.plastic {
                PlasticDesc::ExcitatorySources => PlasticProjections::ExcitatorySources,
                PlasticDesc::All => PlasticProjections::All,
                PlasticDesc::Pairs(pairs) => PlasticProjections::Pairs(pairs.iter().map(|(a, b)| (population(a), population(b))).collect()),
            },
        }
    }
}
