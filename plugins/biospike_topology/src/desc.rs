//! The scene description of a connectivity rule (`topology: ...`).

use biospike_core::desc::{self, DescError};
use serde::Deserialize;

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
        #[serde(deserialize_with = "desc::at_least_one")]
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
        #[serde(deserialize_with = "desc::at_least_one")]
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
        #[serde(deserialize_with = "desc::probability")]
        p: f64,
        /// Allow `i → i`. Default `false`.
        #[serde(default)]
        self_connections: bool,
    },
    /// Watts–Strogatz ring with `k` neighbours, rewired with probability `rewire_p`
    /// (both directions of each edge become synapses).
    SmallWorld {
        /// Even, `2 ≤ k < n`.
        #[serde(deserialize_with = "desc::at_least_one")]
        k: u32,
        /// Rewiring probability, `[0, 1]`.
        #[serde(deserialize_with = "desc::probability")]
        rewire_p: f64,
    },
    /// Barabási–Albert preferential attachment with `m` edges per new node.
    ScaleFree {
        /// `1 ≤ m < n`.
        #[serde(deserialize_with = "desc::at_least_one")]
        m: u32,
        /// Edges from the new node to its targets only (else both directions).
        #[serde(default)]
        directed: bool,
    },
}
impl TopologyDesc {
    /// Relations between the parameters and the network size `n` (neurons).
    pub fn check(&self, n: u32) -> Result<(), DescError> {
        let err = |msg: String| Err(DescError::new("", "topology", msg));
        match *self {
            Self::SmallWorld { k, .. } if k % 2 != 0 || k >= n => {
                err(format!("k = {k}; allowed: even, 2..{n} (fewer than the {n} neurons)"))
            }
            Self::ScaleFree { m, .. } if m >= n => err(format!("m = {m}; allowed 1..{n}")),
            Self::FixedOutDegree { k, multapses: false, .. } if k >= n => err(format!("k = {k} without multapses; allowed 1..{n}")),
            Self::FixedInDegree { k, multapses: false, self_connections } => {
                let avail = n - u32::from(!self_connections);
                if k > avail { err(format!("k = {k} without multapses; allowed 1..={avail}")) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }
}

/// One projection of a scene (`projections: [...]`): connectivity from one population to
/// another by a [`Rule`](crate::Rule), with its own weights and delays.
///
/// ```ron
/// (source: "exc", target: "inh", rule: FixedInDegree(k: 100), weight: Constant(0.1), delay_ms: Constant(1.5))
/// ```
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectionDesc {
    /// Source population's name.
    pub source: String,
    /// Target population's name.
    pub target: String,
    /// How pairs are picked.
    pub rule: crate::Rule,
    /// Allow `i → i` when source and target are the same population. Default `true` (NEST).
    #[serde(default = "desc::yes")]
    pub autapses: bool,
    /// Allow repeated pairs where the rule draws with replacement. Default `true` (NEST).
    #[serde(default = "desc::yes")]
    pub multapses: bool,
    /// Weight magnitude; the sign is the source population's (`kind`). Default `Constant(1.0)`.
    #[serde(default = "one")]
    pub weight: desc::DistDesc,
    /// Delay in ms, rounded to whole steps (half away from zero); every value the distribution
    /// can take must be `1..=65535` steps. Default `Constant(1.0)` unless `delay_steps` is given.
    #[serde(default)]
    pub delay_ms: Option<desc::DistDesc>,
    /// Delay in whole steps (instead of `delay_ms`), e.g. `Uniform(low: 1, high: 5)`: each of
    /// 1, 2, 3, 4, 5 steps equally likely.
    #[serde(default)]
    pub delay_steps: Option<desc::StepsDesc>,
    /// Whether STDP changes these synapses (overrides `plasticity.plastic` for this source and
    /// target pair). Default: `plasticity.plastic` decides.
    #[serde(default)]
    pub plastic: Option<bool>,
    /// The targets' receptor port these synapses deliver to, 1-based as NEST's
    /// `receptor_type`: required for targets with ports (`IafPscExpMultisynapse`), refused for
    /// others (their synapses go to the channel of the weight's sign). Default: none.
    #[serde(default)]
    pub receptor: Option<u8>,
}

fn one() -> desc::DistDesc {
    desc::DistDesc::Constant(1.0)
}

impl ProjectionDesc {
    /// The delay distribution in whole steps of `dt_ms`: `(lowest, highest)` steps, checked to
    /// be `1..=65535`.
    pub fn check_delays(&self, dt_ms: f64) -> Result<(), DescError> {
        let (what, lo, hi) = match (self.delay_ms, self.delay_steps) {
            (Some(_), Some(_)) => return Err(DescError::new("delay_steps", "delay_steps", "give delay_ms or delay_steps, not both")),
            (_, Some(steps)) => {
                let (lo, hi) = steps.bounds();
                if lo > hi {
                    return Err(DescError::new("delay_steps", "delay_steps", "low must be <= high"));
                }
                ("delay_steps", u64::from(lo), u64::from(hi))
            }
            (ms, None) => {
                let ms = ms.unwrap_or(desc::DistDesc::Constant(1.0));
                ms.check().map_err(|m| DescError::new("delay_ms", "delay_ms", m))?;
                let (lo, hi) = ms.bounds();
                ("delay_ms", biospike_core::steps_in(lo, dt_ms), biospike_core::steps_in(hi, dt_ms))
            }
        };
        if lo < 1 || hi > u64::from(u16::MAX) {
            let key = if what == "delay_steps" { "delay_steps" } else { "delay_ms" };
            return Err(DescError::new(what, key, format!("delays of {lo}..{hi} steps (dt {dt_ms} ms); allowed 1..=65535 steps")));
        }
        self.weight.check().map_err(|m| DescError::new("weight", "weight", m))?;
        Ok(())
    }

    /// One synapse's `(weight magnitude, delay in steps)` from its stream.
    pub fn sample(&self, rng: &mut biospike_core::rng::KeyedRng, dt_ms: f64) -> (f64, u16) {
        let w = self.weight.sample(rng);
        let d = match (self.delay_steps, self.delay_ms) {
            (Some(steps), _) => steps.sample(rng),
            (None, ms) => {
                biospike_core::steps_in(ms.unwrap_or(desc::DistDesc::Constant(1.0)).sample(rng), dt_ms).clamp(1, u64::from(u16::MAX)) as u16
            }
        };
        (w, d.max(1))
    }

    /// The projection between the given id ranges.
    pub fn lower(&self, sources: std::ops::Range<u32>, targets: std::ops::Range<u32>) -> crate::Projection {
        crate::Projection { sources, targets, rule: self.rule, autapses: self.autapses, multapses: self.multapses }
    }
}
