//! Network topologies as pure functions: each returns directed edges `(pre, post)` over dense
//! neuron ids, drawn from keyed random streams (so the same seed gives the same graph on any
//! machine and thread count). Undirected generators (Watts–Strogatz, undirected
//! Barabási–Albert) return both directions of every edge. No self-loops unless asked.
//!
//! # Example
//! ```
//! use biospike_topology::{watts_strogatz, in_degrees};
//! let edges = watts_strogatz(100, 4, 0.1, 7).expect("valid parameters");
//! assert_eq!(edges.len(), 100 * 4); // n·k/2 undirected edges, both directions
//! assert!(edges.iter().all(|&(a, b)| a != b));
//! assert_eq!(in_degrees(100, &edges).iter().sum::<u32>(), 400);
//! ```
//!
//! # References
//! - D. J. Watts, S. H. Strogatz, *Collective dynamics of 'small-world' networks*, Nature 393:440 (1998).
//! - A.-L. Barabási, R. Albert, *Emergence of scaling in random networks*, Science 286:509 (1999).
//! - V. Batagelj, U. Brandes, *Efficient generation of large random networks*, Phys. Rev. E 71:036113
//!   (2005): geometric skipping for G(n, p).

mod desc;
mod projection;

pub use desc::{ProjectionDesc, TopologyDesc};
pub use projection::{Projection, Rule};

use biospike_core::rng::{KeyedRng, StreamPurpose};
use petgraph::graph::{NodeIndex, UnGraph};
use std::ops::Range;

/// A directed edge `(pre, post)`.
pub type EdgeList = Vec<(u32, u32)>;

/// Why a topology cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopologyError {
    /// A parameter is out of range for this network size.
    #[error("{0}")]
    Invalid(String),
}

fn invalid<T>(msg: String) -> Result<T, TopologyError> {
    Err(TopologyError::Invalid(msg))
}

/// Every ordered pair; with `self_connections`, also `(i, i)`.
pub fn all_to_all(n: u32, self_connections: bool) -> EdgeList {
    let mut edges = Vec::with_capacity(n as usize * n as usize);
    all_to_all_each(n, self_connections, &mut |a, b| edges.push((a, b)));
    edges
}

/// [`all_to_all`], handing each edge to `emit` in list order instead of collecting them.
pub fn all_to_all_each(n: u32, self_connections: bool, emit: &mut impl FnMut(u32, u32)) {
    for pre in 0..n {
        for post in 0..n {
            if self_connections || pre != post {
                emit(pre, post);
            }
        }
    }
}

/// Fills `chosen` with `k` partners of neuron `me` from `draw`, rejecting `me` itself unless
/// `self_connections`, and repeats unless `multapses` (the caller checked that enough
/// distinct partners exist). Shared by the fixed in- and out-degree generators.
fn draw_partners(chosen: &mut Vec<u32>, k: u32, me: u32, multapses: bool, self_connections: bool, mut draw: impl FnMut() -> u32) {
    chosen.clear();
    while chosen.len() < k as usize {
        let x = draw();
        if (!self_connections && x == me) || (!multapses && chosen.contains(&x)) {
            continue;
        }
        chosen.push(x);
    }
}

/// The draw of a fixed in- or out-degree generator: `k` partners per neuron, with or without
/// multapses (repeated partners) and self-connections, from the random stream `stream` of
/// `seed` (`stream` separates independent calls, e.g. one per source population).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedDegree {
    /// Partners per neuron.
    pub k: u32,
    /// Draw with replacement (as NEST's `allow_multapses`).
    pub multapses: bool,
    /// Allow `(i, i)`.
    pub self_connections: bool,
    /// Master seed.
    pub seed: u64,
    /// Stream of this call.
    pub stream: u64,
}

/// For every target in `targets`, `k` sources drawn uniformly from `sources`.
/// With `multapses`, draws are with replacement (as NEST's `fixed_indegree` with
/// `allow_multapses`); otherwise without. Self-connections are skipped unless allowed.
pub fn fixed_in_degree(sources: Range<u32>, targets: Range<u32>, draw: FixedDegree) -> Result<EdgeList, TopologyError> {
    let mut edges = Vec::with_capacity(targets.len() * draw.k as usize);
    fixed_in_degree_each(sources, targets, draw, &mut |a, b| edges.push((a, b)))?;
    Ok(edges)
}

/// [`fixed_in_degree`], handing each edge to `emit` in list order instead of collecting them
/// (the same edges for the same arguments: a caller can generate twice instead of storing).
pub fn fixed_in_degree_each(
    sources: Range<u32>,
    targets: Range<u32>,
    draw: FixedDegree,
    emit: &mut impl FnMut(u32, u32),
) -> Result<(), TopologyError> {
    let FixedDegree { k, multapses, self_connections, seed, stream } = draw;
    let n_src = sources.len() as u64;
    let available = |t: u32| n_src - u64::from(!self_connections && sources.contains(&t));
    if k > 0 && n_src == 0 {
        return invalid(format!("in-degree {k} from an empty source population"));
    }
    if !multapses && targets.clone().any(|t| u64::from(k) > available(t)) {
        return invalid(format!("in-degree {k} without multapses needs at least {k} distinct sources, there are {n_src}"));
    }
    let mut chosen = Vec::with_capacity(k as usize);
    for t in targets {
        let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(t), stream);
        draw_partners(&mut chosen, k, t, multapses, self_connections, || sources.start + rng.below(n_src) as u32);
        for &s in &chosen {
            emit(s, t);
        }
    }
    Ok(())
}

/// For every source in `sources`, `k` targets drawn uniformly from `targets` (the union of
/// the given ranges), as Izhikevich's `spnet.m`/`daspnet.m` wire their networks. With
/// `multapses`, draws are with replacement; self-connections are skipped unless allowed.
pub fn fixed_out_degree(sources: Range<u32>, targets: &[Range<u32>], draw: FixedDegree) -> Result<EdgeList, TopologyError> {
    let mut edges = Vec::with_capacity(sources.len() * draw.k as usize);
    fixed_out_degree_each(sources, targets, draw, &mut |a, b| edges.push((a, b)))?;
    Ok(edges)
}

/// [`fixed_out_degree`], handing each edge to `emit` in list order instead of collecting them.
pub fn fixed_out_degree_each(
    sources: Range<u32>,
    targets: &[Range<u32>],
    draw: FixedDegree,
    emit: &mut impl FnMut(u32, u32),
) -> Result<(), TopologyError> {
    let FixedDegree { k, multapses, self_connections, seed, stream } = draw;
    let n_tgt: u64 = targets.iter().map(|r| r.len() as u64).sum();
    let nth = |mut i: u64| {
        for r in targets {
            if i < r.len() as u64 {
                return r.start + i as u32;
            }
            i -= r.len() as u64;
        }
        0
    };
    if k > 0 && n_tgt == 0 {
        return invalid(format!("out-degree {k} into no target neurons"));
    }
    let available = |s: u32| n_tgt - u64::from(!self_connections && targets.iter().any(|r| r.contains(&s)));
    if !multapses && sources.clone().any(|s| u64::from(k) > available(s)) {
        return invalid(format!("out-degree {k} without multapses needs at least {k} distinct targets, there are {n_tgt}"));
    }
    let mut chosen = Vec::with_capacity(k as usize);
    for s in sources {
        let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(s), (1 << 32) | stream);
        draw_partners(&mut chosen, k, s, multapses, self_connections, || nth(rng.below(n_tgt)));
        for &t in &chosen {
            emit(s, t);
        }
    }
    Ok(())
}

/// Erdős–Rényi G(n, p) over ordered pairs: each directed edge exists with probability `p`.
/// Rows are drawn by geometric skipping, so the cost is O(n + edges).
pub fn erdos_renyi(n: u32, p: f64, self_connections: bool, seed: u64) -> Result<EdgeList, TopologyError> {
    let mut edges = Vec::new();
    erdos_renyi_each(n, p, self_connections, seed, &mut |a, b| edges.push((a, b)))?;
    Ok(edges)
}

/// [`erdos_renyi`], handing each edge to `emit` in list order instead of collecting them.
pub fn erdos_renyi_each(n: u32, p: f64, self_connections: bool, seed: u64, emit: &mut impl FnMut(u32, u32)) -> Result<(), TopologyError> {
    if !(0.0..=1.0).contains(&p) {
        return invalid(format!("p = {p} is outside [0, 1]"));
    }
    if p == 0.0 {
        return Ok(());
    }
    let log_q = (1.0 - p).ln();
    for pre in 0..n {
        let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(pre), 0);
        let mut post: i64 = -1;
        loop {
            let skip = if p >= 1.0 { 0.0 } else { ((1.0 - rng.uniform()).ln() / log_q).floor() };
            post += 1 + skip as i64;
            if post >= i64::from(n) {
                break;
            }
            if self_connections || post != i64::from(pre) {
                emit(pre, post as u32);
            }
        }
    }
    Ok(())
}

/// Watts–Strogatz small world: a ring where each node links to its `k/2` nearest neighbours
/// on each side, then each edge's far end is rewired with probability `rewire_p` to a uniform
/// node (no self-loops, no duplicate edges). Returns both directions of every edge.
pub fn watts_strogatz(n: u32, k: u32, rewire_p: f64, seed: u64) -> Result<EdgeList, TopologyError> {
    if !k.is_multiple_of(2) || k == 0 || k >= n {
        return invalid(format!("k = {k} must be even, > 0 and < n = {n}"));
    }
    if !(0.0..=1.0).contains(&rewire_p) {
        return invalid(format!("rewire_p = {rewire_p} is outside [0, 1]"));
    }
    let mut g: UnGraph<(), ()> = UnGraph::with_capacity(n as usize, (u64::from(n) * u64::from(k) / 2) as usize);
    for _ in 0..n {
        g.add_node(());
    }
    for i in 0..n {
        for j in 1..=k / 2 {
            g.add_edge(NodeIndex::new(i as usize), NodeIndex::new(((u64::from(i) + u64::from(j)) % u64::from(n)) as usize), ());
        }
    }
    // Rewire in the classic order: by lap j, then by node i.
    for j in 1..=k / 2 {
        for i in 0..n {
            let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(i), u64::from(j));
            if rng.uniform() >= rewire_p {
                continue;
            }
            let (a, b) = (NodeIndex::new(i as usize), NodeIndex::new(((u64::from(i) + u64::from(j)) % u64::from(n)) as usize));
            let Some(e) = g.find_edge(a, b) else { continue };
            if g.neighbors(a).count() >= n as usize - 1 {
                continue; // already linked to everyone
            }
            let target = loop {
                let t = NodeIndex::new(rng.below(u64::from(n)) as usize);
                if t != a && g.find_edge(a, t).is_none() {
                    break t;
                }
            };
            g.remove_edge(e);
            g.add_edge(a, target, ());
        }
    }
    Ok(both_directions(&g))
}

/// Barabási–Albert preferential attachment: starts from a clique of `m + 1` nodes; each new
/// node attaches `m` edges to distinct existing nodes chosen with probability proportional
/// to their degree. Undirected (both directions) unless `directed`, in which case each edge
/// points from the new node to the chosen one.
pub fn barabasi_albert(n: u32, m: u32, directed: bool, seed: u64) -> Result<EdgeList, TopologyError> {
    if m == 0 || m >= n {
        return invalid(format!("m = {m} must be > 0 and < n = {n}"));
    }
    let mut g: UnGraph<(), ()> = UnGraph::with_capacity(n as usize, (u64::from(n) * u64::from(m)) as usize);
    for _ in 0..n {
        g.add_node(());
    }
    let mut directed_edges = Vec::new();
    // Degree-weighted urn: every edge end is one ticket.
    let mut urn: Vec<u32> = Vec::new();
    for a in 0..=m {
        for b in a + 1..=m {
            g.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
            directed_edges.push((b, a));
            urn.extend([a, b]);
        }
    }
    let mut targets = Vec::with_capacity(m as usize);
    for new in m + 1..n {
        let mut rng = KeyedRng::new(seed, StreamPurpose::Topology, u64::from(new), 0);
        targets.clear();
        while targets.len() < m as usize {
            let t = urn[rng.below(urn.len() as u64) as usize];
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        for &t in &targets {
            g.add_edge(NodeIndex::new(new as usize), NodeIndex::new(t as usize), ());
            directed_edges.push((new, t));
            urn.extend([new, t]);
        }
    }
    if directed { Ok(directed_edges) } else { Ok(both_directions(&g)) }
}

fn both_directions(g: &UnGraph<(), ()>) -> EdgeList {
    let mut edges: EdgeList = g
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .flat_map(|(a, b)| [(a.index() as u32, b.index() as u32), (b.index() as u32, a.index() as u32)])
        .collect();
    edges.sort_unstable();
    edges
}

/// In-degree of every node.
pub fn in_degrees(n: u32, edges: &[(u32, u32)]) -> Vec<u32> {
    let mut d = vec![0; n as usize];
    for &(_, post) in edges {
        d[post as usize] += 1;
    }
    d
}

/// Out-degree of every node.
pub fn out_degrees(n: u32, edges: &[(u32, u32)]) -> Vec<u32> {
    let mut d = vec![0; n as usize];
    for &(pre, _) in edges {
        d[pre as usize] += 1;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed form: G(n, p) has n(n−1)p expected directed edges without self-loops.
    #[test]
    fn erdos_renyi_edge_count() {
        let n = 2000u32;
        let p = 0.01;
        let e = erdos_renyi(n, p, false, 3).expect("valid");
        let expected = f64::from(n) * f64::from(n - 1) * p;
        let sd = (expected * (1.0 - p)).sqrt();
        assert!((e.len() as f64 - expected).abs() < 5.0 * sd, "{} vs {expected}", e.len());
        assert!(e.iter().all(|&(a, b)| a != b));
    }

    /// Watts–Strogatz with p = 0 is the ring lattice: every node has degree k.
    #[test]
    fn watts_strogatz_lattice_and_rewired_degree_sum() {
        let e = watts_strogatz(50, 4, 0.0, 1).expect("valid");
        assert!(in_degrees(50, &e).iter().all(|&d| d == 4));
        let e = watts_strogatz(500, 6, 0.3, 1).expect("valid");
        assert_eq!(e.len(), 500 * 6, "rewiring keeps the edge count");
        let mut dedup = e.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), e.len(), "no duplicate edges");
    }

    /// Barabási–Albert: m(m+1)/2 clique edges plus m per added node; the degree distribution
    /// is heavy-tailed (the largest hub far above the mean 2m).
    #[test]
    fn barabasi_albert_counts_and_hubs() {
        let (n, m) = (5000u32, 3u32);
        let e = barabasi_albert(n, m, true, 9).expect("valid");
        assert_eq!(e.len() as u32, m * (m + 1) / 2 + (n - m - 1) * m);
        let undirected = barabasi_albert(n, m, false, 9).expect("valid");
        let deg = in_degrees(n, &undirected);
        let max = *deg.iter().max().unwrap_or(&0);
        assert!(max > 10 * 2 * m, "largest hub {max}");
    }

    #[test]
    fn fixed_in_degree_without_multapses_is_distinct() {
        let e = fixed_in_degree(0..20, 0..20, FixedDegree { k: 19, multapses: false, self_connections: false, seed: 5, stream: 0 })
            .expect("valid");
        assert!(in_degrees(20, &e).iter().all(|&d| d == 19));
        assert!(e.iter().all(|&(a, b)| a != b));
        assert!(
            fixed_in_degree(0..20, 0..20, FixedDegree { k: 20, multapses: false, self_connections: false, seed: 5, stream: 0 }).is_err()
        );
    }

    #[test]
    fn all_to_all_counts() {
        assert_eq!(all_to_all(10, true).len(), 100);
        assert_eq!(all_to_all(10, false).len(), 90);
    }
}
