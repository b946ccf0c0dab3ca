//! Export of the built network as DOT or `GraphML` (`biospike graph`).

use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use std::fmt::Write as _;

/// A node of the exported graph.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLabel {
    /// Neuron id.
    pub id: u32,
    /// Population name.
    pub population: String,
}

/// The network of `world` as a petgraph graph (nodes in id order, edges weighted).
pub fn network_graph(world: &mut World) -> DiGraph<NodeLabel, f32> {
    let table = world.resource::<PopulationTable>().clone();
    let mut g = DiGraph::with_capacity(table.neuron_count() as usize, 0);
    for p in &table.populations {
        for id in p.ids() {
            g.add_node(NodeLabel { id, population: p.name.clone() });
        }
    }
    let mut q = world.query::<(&Synapse, &SynapticWeight)>();
    let mut edges: Vec<_> = q.iter(world).map(|(s, w)| (s.pre.0, s.post.0, w.0)).collect();
    // Index-only synapses (`synapse_storage: IndexOnly`) have no entity: read them from the index.
    if let Some(index) = world.get_resource::<SynapseIndex>() {
        for pre in 0..index.neuron_count() as u32 {
            for k in index.row(pre).filter(|&k| index.entity(k).is_none()) {
                edges.push((pre, index.posts()[k], index.weights()[k]));
            }
        }
    }
    edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
    for (pre, post, w) in edges {
        g.add_edge(NodeIndex::new(pre as usize), NodeIndex::new(post as usize), w);
    }
    g
}

/// Graphviz DOT text.
pub fn to_dot(g: &DiGraph<NodeLabel, f32>) -> String {
    format!(
        "{:?}",
        Dot::with_attr_getters(
            g,
            &[Config::EdgeNoLabel, Config::NodeNoLabel],
            &|_, e| format!("weight = {}", e.weight()),
            &|_, (_, n)| format!("label = \"{}\" population = \"{}\"", n.id, n.population),
        )
    )
}

/// `GraphML` text (nodes carry `population`, edges `weight`).
pub fn to_graphml(g: &DiGraph<NodeLabel, f32>) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n  \
         <key id=\"population\" for=\"node\" attr.name=\"population\" attr.type=\"string\"/>\n  \
         <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n  <graph id=\"network\" edgedefault=\"directed\">\n",
    );
    for n in g.node_weights() {
        let pop = n.population.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        let _ = writeln!(s, "    <node id=\"n{}\"><data key=\"population\">{pop}</data></node>", n.id);
    }
    for e in g.edge_indices() {
        if let (Some((a, b)), Some(w)) = (g.edge_endpoints(e), g.edge_weight(e)) {
            let _ = writeln!(s, "    <edge source=\"n{}\" target=\"n{}\"><data key=\"weight\">{w}</data></edge>", a.index(), b.index());
        }
    }
    s.push_str("  </graph>\n</graphml>\n");
    s
}
