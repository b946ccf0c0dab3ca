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
