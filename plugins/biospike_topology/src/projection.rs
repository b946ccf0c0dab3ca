//! Projections: connectivity from one range of neurons (a source population) to another (a
//! target population) by a rule, as NEST's `Connect(pre, post, conn_spec)` and Brian2's
//! `Synapses.connect`. A network is a list of projections (E→E, E→I, I→E, I→I each with its
//! own rule, probability or degree).
//!
//! | rule | NEST `conn_spec` | edges |
//! |---|---|---|
//! | [`Rule::AllToAll`] | `all_to_all` | every (source, target) pair |
//! | [`Rule::OneToOne`] | `one_to_one` | `sources[i] → targets[i]` (equal sizes) |
//! | [`Rule::PairwiseBernoulli`] | `pairwise_bernoulli`, `p` | each pair with probability `p` |
//! | [`Rule::FixedInDegree`] | `fixed_indegree`, `indegree` | `k` sources per target, uniform |
//! | [`Rule::FixedOutDegree`] | `fixed_outdegree`, `outdegree` | `k` targets per source, uniform |
//! | [`Rule::FixedTotalNumber`] | `fixed_total_number`, `N` | `n` pairs drawn uniformly |
//! | [`Rule::SmallWorld`] | — | Watts–Strogatz ring over one population |
//! | [`Rule::ScaleFree`] | — | Barabási–Albert over one population |
//!
//! `autapses` (`i → i`, when source and target overlap) and `multapses` (more than one synapse
//! per pair, for the rules that draw with replacement) follow NEST's `allow_autapses` and
//! `allow_multapses`, both allowed by default. Every draw comes from keyed streams of the
//! master seed and the projection's `stream`, so a projection's edges do not depend on the
//! other projections, the thread count or the machine.
//!
//! ```
//! use biospike_topology::{Projection, Rule};
//! let exc_to_inh = Projection::new(0..800, 800..1000, Rule::FixedInDegree { k: 80 });
//! let mut edges = Vec::new();
//! exc_to_inh.for_each_edge(7, 3, &mut |pre, post| edges.push((pre, post))).expect("valid");
//! assert_eq!(edges.len(), 200 * 80);
//! assert!(edges.iter().all(|&(pre, post)| pre < 800 && (800..1000).contains(&post)));
//! ```

use biospike_core::rng::{KeyedRng, StreamPurpose};
use std::ops::Range;

use crate::{FixedDegree, TopologyError, barabasi_albert, fixed_in_degree_each, fixed_out_degree_each, invalid, watts_strogatz};

/// How a projection picks its (source, target) pairs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Rule {
    /// Every pair.
    AllToAll,
    /// The `i`-th source to the `i`-th target; both ranges have the same size.
    OneToOne,
    /// Each pair independently with probability `p` (Erdős–Rényi between two populations).
    PairwiseBernoulli {
        /// Probability, `[0, 1]`.
        #[serde(deserialize_with = "biospike_core::desc::probability")]
        p: f64,
    },
    /// Each target gets `k` sources drawn uniformly.
    FixedInDegree {
        /// In-degree.
        k: u32,
    },
    /// Each source gets `k` targets drawn uniformly.
    FixedOutDegree {
        /// Out-degree.
        k: u32,
    },
    /// `n` pairs drawn uniformly from all pairs.
    FixedTotalNumber {
        /// Number of synapses.
        n: u64,
    },
    /// Watts–Strogatz ring over the population (source and target the same): `k` neighbours,
    /// each edge rewired with probability `rewire_p`; both directions.
    SmallWorld {
        /// Even, `2 ≤ k < size`.
        k: u32,
        /// `[0, 1]`.
        #[serde(deserialize_with = "biospike_core::desc::probability")]
        rewire_p: f64,
    },
    /// Barabási–Albert over the population (source and target the same), `m` edges per new
    /// node; both directions unless `directed`.
    ScaleFree {
        /// `1 ≤ m < size`.
        m: u32,
        /// New node → chosen node only.
        #[serde(default)]
        directed: bool,
    },
}

/// Connectivity from `sources` to `targets` (neuron id ranges) by `rule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Presynaptic neurons.
    pub sources: Range<u32>,
    /// Postsynaptic neurons.
    pub targets: Range<u32>,
    /// How pairs are picked.
    pub rule: Rule,
    /// Allow `i → i` where the ranges overlap. Default `true` (NEST's `allow_autapses`).
    pub autapses: bool,
    /// Allow repeated pairs in the rules that draw (fixed in-, out-degree, total number).
    /// Default `true` (NEST's `allow_multapses`).
    pub multapses: bool,
}

impl Projection {
    /// A projection with NEST's defaults (autapses and multapses allowed).
    pub fn new(sources: Range<u32>, targets: Range<u32>, rule: Rule) -> Self {
        Self { sources, targets, rule, autapses: true, multapses: true }
    }

    fn same_population(&self) -> bool {
        self.sources == self.targets
    }

    /// Number of pairs `(s, t)` with `s == t` (the ranges' overlap).
    fn overlap(&self) -> u64 {
        let lo = self.sources.start.max(self.targets.start);
        let hi = self.sources.end.min(self.targets.end);
        u64::from(hi.saturating_sub(lo))
    }

    /// Pairs the rules may pick from.
    fn pairs(&self) -> u64 {
        let all = self.sources.len() as u64 * self.targets.len() as u64;
        if self.autapses { all } else { all - self.overlap() }
    }

    /// Relations between the rule's parameters and the ranges; the message names what is
    /// allowed.
    pub fn check(&self) -> Result<(), TopologyError> {
        let (ns, nt) = (self.sources.len() as u64, self.targets.len() as u64);
        match self.rule {
            Rule::AllToAll => Ok(()),
            Rule::OneToOne if ns != nt => invalid(format!("OneToOne needs source and target of the same size, they have {ns} and {nt}")),
            Rule::OneToOne => Ok(()),
            Rule::PairwiseBernoulli { p } if !(0.0..=1.0).contains(&p) => invalid(format!("p = {p}; allowed [0, 1]")),
            Rule::PairwiseBernoulli { .. } => Ok(()),
            Rule::FixedInDegree { k } => self.check_degree(k, ns, "in", "sources per target"),
            Rule::FixedOutDegree { k } => self.check_degree(k, nt, "out", "targets per source"),
            Rule::FixedTotalNumber { n } => {
                let pairs = self.pairs();
                if n > 0 && pairs == 0 {
                    invalid(format!("n = {n} synapses but there is no pair to connect"))
                } else if !self.multapses && n > pairs {
                    invalid(format!("n = {n} without multapses; allowed 0..={pairs} (the distinct pairs)"))
                } else {
                    Ok(())
                }
            }
            Rule::SmallWorld { .. } | Rule::ScaleFree { .. } if !self.same_population() => {
                invalid("SmallWorld and ScaleFree connect a population to itself: source and target must be the same".into())
            }
            Rule::SmallWorld { k, rewire_p } => {
                if !k.is_multiple_of(2) || k < 2 || u64::from(k) >= ns {
                    invalid(format!("k = {k}; allowed: even, 2..{ns} (fewer than the {ns} neurons)"))
                } else if !(0.0..=1.0).contains(&rewire_p) {
                    invalid(format!("rewire_p = {rewire_p}; allowed [0, 1]"))
                } else {
                    Ok(())
                }
            }
            Rule::ScaleFree { m, .. } if m == 0 || u64::from(m) >= ns => invalid(format!("m = {m}; allowed 1..{ns}")),
            Rule::ScaleFree { .. } => Ok(()),
        }
    }

    /// A fixed degree `k` drawn from `pool` neurons (one fewer without autapses where the ranges
    /// overlap, and no more than the pool without multapses).
    fn check_degree(&self, k: u32, pool: u64, which: &str, per: &str) -> Result<(), TopologyError> {
        let avail = pool - u64::from(!self.autapses && self.overlap() > 0);
        if pool == 0 && k > 0 {
            invalid(format!("{which}-degree {k} with no neuron to draw from"))
        } else if !self.multapses && u64::from(k) > avail {
            invalid(format!("k = {k} without multapses; allowed 0..={avail} (distinct {per})"))
        } else {
            Ok(())
        }
    }

    /// The number of edges the rule makes (its expectation for `PairwiseBernoulli`; an upper
    /// bound for `ScaleFree`), for memory estimates.
    pub fn expected_edges(&self) -> u64 {
        let (ns, nt) = (self.sources.len() as u64, self.targets.len() as u64);
        match self.rule {
            Rule::AllToAll => self.pairs(),
            Rule::OneToOne => ns - if self.autapses { 0 } else { self.overlap().min(ns) },
            Rule::PairwiseBernoulli { p } => (p * self.pairs() as f64).ceil() as u64,
            Rule::FixedInDegree { k } => u64::from(k) * nt,
            Rule::FixedOutDegree { k } => u64::from(k) * ns,
            Rule::FixedTotalNumber { n } => n,
            Rule::SmallWorld { k, .. } => u64::from(k) * ns,
            Rule::ScaleFree { m, directed } => u64::from(m) * ns * if directed { 1 } else { 2 },
        }
    }

    /// Hands every edge `(pre, post)` to `emit`, the same edges in the same order on every
    /// call (a caller may generate twice instead of storing). `stream` separates projections
    /// drawn from one `seed`.
    pub fn for_each_edge(&self, seed: u64, stream: u64, emit: &mut impl FnMut(u32, u32)) -> Result<(), TopologyError> {
        self.check()?;
        // Streams of the global topology use small numbers and `1 << 32 | i`; projections
        // use `2 << 32 | i`.
        let stream = (2 << 32) | stream;
        let (s0, t0) = (self.sources.start, self.targets.start);
        let autapse_ok = |s: u32, t: u32| self.autapses || s != t;
        match self.rule {
            Rule::AllToAll => {
                for s in self.sources.clone() {
                    for t in self.targets.clone() {
                        if autapse_ok(s, t) {
                            emit(s, t);
                        }
                    }
                }
            }
            Rule::OneToOne => {
                for (s, t) in self.sources.clone().zip(self.targets.clone()) {
                    if autapse_ok(s, t) {
                        emit(s, t);
                    }
                }
            }
            Rule::PairwiseBernoulli { p } => {
                if p == 0.0 {
                    return Ok(());
                }
                // Geometric skipping along each source's row: O(sources + edges).
                let log_q = (1.0 - p).ln();
                let nt = i64::from(self.targets.end - t0);
                for s in self.sources.clone() {
                    let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(s), stream);
                    let mut j: i64 = -1;
                    loop {
                        let skip = if p >= 1.0 { 0.0 } else { ((1.0 - rng.uniform()).ln() / log_q).floor() };
                        j += 1 + skip as i64;
                        if j >= nt {
                            break;
                        }
                        let t = t0 + j as u32;
                        if autapse_ok(s, t) {
                            emit(s, t);
                        }
                    }
                }
            }
            Rule::FixedInDegree { k } => {
                let draw = FixedDegree { k, multapses: self.multapses, self_connections: self.autapses, seed, stream };
                fixed_in_degree_each(self.sources.clone(), self.targets.clone(), draw, emit)?;
            }
            Rule::FixedOutDegree { k } => {
                let draw = FixedDegree { k, multapses: self.multapses, self_connections: self.autapses, seed, stream };
                fixed_out_degree_each(self.sources.clone(), std::slice::from_ref(&self.targets), draw, emit)?;
            }
            Rule::FixedTotalNumber { n } => {
                let (ns, nt) = (self.sources.len() as u64, self.targets.len() as u64);
                let mut seen = std::collections::HashSet::new();
                let mut made = 0u64;
                let mut draw = 0u64;
                while made < n {
                    // One short stream per draw: the pairs do not depend on how many were
                    // rejected before.
                    let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, draw, stream);
                    draw += 1;
                    let s = s0 + rng.below(ns) as u32;
                    let t = t0 + rng.below(nt) as u32;
                    if !autapse_ok(s, t) || (!self.multapses && !seen.insert((s, t))) {
                        continue;
                    }
                    emit(s, t);
                    made += 1;
                }
            }
            Rule::SmallWorld { k, rewire_p } => {
                let n = self.sources.len() as u32;
                let own_seed = KeyedRng::new(seed, StreamPurpose::Topology, u64::MAX, stream).below(u64::MAX);
                for (a, b) in watts_strogatz(n, k, rewire_p, own_seed)? {
                    emit(s0 + a, s0 + b);
                }
            }
            Rule::ScaleFree { m, directed } => {
                let n = self.sources.len() as u32;
                let own_seed = KeyedRng::new(seed, StreamPurpose::Topology, u64::MAX, stream).below(u64::MAX);
                for (a, b) in barabasi_albert(n, m, directed, own_seed)? {
                    emit(s0 + a, s0 + b);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(p: &Projection) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        p.for_each_edge(11, 0, &mut |a, b| out.push((a, b))).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    fn degrees(edges: &[(u32, u32)], of: impl Fn(&(u32, u32)) -> u32, range: Range<u32>) -> Vec<u32> {
        let mut d = vec![0u32; range.len()];
        for e in edges {
            d[(of(e) - range.start) as usize] += 1;
        }
        d
    }

    #[test]
    fn all_to_all_and_one_to_one_count_every_pair() {
        let p = Projection::new(0..10, 5..25, Rule::AllToAll);
        assert_eq!(edges(&p).len(), 200);
        let no_self = Projection { autapses: false, ..p };
        assert_eq!(edges(&no_self).len(), 200 - 5, "the 5 overlapping ids lose their self-pair");
        let one = Projection::new(0..10, 100..110, Rule::OneToOne);
        assert_eq!(edges(&one), (0..10).map(|i| (i, 100 + i)).collect::<Vec<_>>());
        assert!(Projection::new(0..10, 0..11, Rule::OneToOne).check().is_err());
    }

    /// Pairwise Bernoulli: the count is Binomial(pairs, p); 5σ bounds.
    #[test]
    fn pairwise_bernoulli_matches_the_binomial_mean() {
        let p = Projection { autapses: false, ..Projection::new(0..400, 0..400, Rule::PairwiseBernoulli { p: 0.1 }) };
        let e = edges(&p);
        let pairs = 400.0 * 399.0;
        let (mean, sd) = (pairs * 0.1, (pairs * 0.1 * 0.9f64).sqrt());
        assert!((e.len() as f64 - mean).abs() < 5.0 * sd, "{} vs {mean} ± {sd}", e.len());
        assert!(e.iter().all(|(a, b)| a != b));
        let mut sorted = e.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), e.len(), "never a pair twice");
    }

    #[test]
    fn fixed_degrees_are_exact_per_neuron() {
        let inp = Projection::new(0..100, 100..150, Rule::FixedInDegree { k: 7 });
        assert!(degrees(&edges(&inp), |e| e.1, 100..150).iter().all(|&d| d == 7));
        let out = Projection { multapses: false, ..Projection::new(0..100, 100..150, Rule::FixedOutDegree { k: 9 }) };
        let e = edges(&out);
        assert!(degrees(&e, |e| e.0, 0..100).iter().all(|&d| d == 9));
        let mut sorted = e.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), e.len(), "no multapses when not allowed");
        let too_many = Projection { multapses: false, ..Projection::new(0..10, 0..10, Rule::FixedInDegree { k: 11 }) };
        assert!(too_many.check().is_err());
    }

    #[test]
    fn fixed_total_number_is_exact_and_respects_the_flags() {
        let p = Projection { autapses: false, multapses: false, ..Projection::new(0..30, 0..30, Rule::FixedTotalNumber { n: 500 }) };
        let e = edges(&p);
        assert_eq!(e.len(), 500);
        assert!(e.iter().all(|(a, b)| a != b));
        let mut sorted = e.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 500);
        let full = Projection { autapses: false, multapses: false, ..Projection::new(0..30, 0..30, Rule::FixedTotalNumber { n: 30 * 29 }) };
        assert!(full.check().is_ok());
        let over =
            Projection { multapses: false, autapses: false, ..Projection::new(0..30, 0..30, Rule::FixedTotalNumber { n: 30 * 29 + 1 }) };
        assert!(over.check().is_err());
    }

    #[test]
    fn small_world_and_scale_free_stay_in_their_population() {
        let sw = Projection::new(100..200, 100..200, Rule::SmallWorld { k: 4, rewire_p: 0.1 });
        let e = edges(&sw);
        assert_eq!(e.len(), 400);
        assert!(e.iter().all(|&(a, b)| (100..200).contains(&a) && (100..200).contains(&b)));
        let sf = Projection::new(0..50, 0..50, Rule::ScaleFree { m: 2, directed: true });
        assert!(edges(&sf).len() <= sf.expected_edges() as usize);
        assert!(Projection::new(0..50, 50..100, Rule::SmallWorld { k: 4, rewire_p: 0.1 }).check().is_err());
    }

    /// The same projection gives the same edges; another stream gives others.
    #[test]
    fn streams_are_reproducible_and_independent() {
        let p = Projection::new(0..200, 200..400, Rule::PairwiseBernoulli { p: 0.05 });
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        p.for_each_edge(3, 1, &mut |x, y| a.push((x, y))).unwrap_or_else(|e| panic!("{e}"));
        p.for_each_edge(3, 1, &mut |x, y| b.push((x, y))).unwrap_or_else(|e| panic!("{e}"));
        p.for_each_edge(3, 2, &mut |x, y| c.push((x, y))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
