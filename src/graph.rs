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

/// An edge of the exported graph: one synapse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeLabel {
    /// Weight (signed as delivered).
    pub weight: f32,
    /// Delay in steps.
    pub delay_steps: u16,
    /// Receptor port of the target (1-based), 0 for the channel of the weight's sign.
    pub receptor: u8,
}

/// The network of `world` as a petgraph graph (nodes in id order; edges carry weight, delay
/// and receptor port, ordered by pre, post, then weight).
pub fn network_graph(world: &mut World) -> DiGraph<NodeLabel, EdgeLabel> {
    let table = world.resource::<PopulationTable>().clone();
    let mut g = DiGraph::with_capacity(table.neuron_count() as usize, 0);
    for p in &table.populations {
        for id in p.ids() {
            g.add_node(NodeLabel { id, population: p.name.clone() });
        }
    }
    let mut q = world.query::<(&Synapse, &SynapticWeight, &SynapticDelay, Option<&SynapticReceptor>)>();
    let mut edges: Vec<_> = q
        .iter(world)
        .map(|(s, w, d, r)| (s.pre.0, s.post.0, EdgeLabel { weight: w.0, delay_steps: d.0, receptor: r.map_or(0, |r| r.0) }))
        .collect();
    // Index-only synapses (`synapse_storage: IndexOnly`) have no entity: read them from the index.
    if let Some(index) = world.get_resource::<SynapseIndex>() {
        for pre in 0..index.neuron_count() as u32 {
            for k in index.row(pre).filter(|&k| index.entity(k).is_none()) {
                let receptor = index.receptors().get(k).copied().unwrap_or(0);
                edges.push((pre, index.posts()[k], EdgeLabel { weight: index.weights()[k], delay_steps: index.delays()[k], receptor }));
            }
        }
    }
    edges.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.weight.total_cmp(&b.2.weight))
            .then((a.2.delay_steps, a.2.receptor).cmp(&(b.2.delay_steps, b.2.receptor)))
    });
    for (pre, post, w) in edges {
        g.add_edge(NodeIndex::new(pre as usize), NodeIndex::new(post as usize), w);
    }
    g
}

/// Graphviz DOT text (edges carry `weight` and `delay` in steps, and `receptor` in networks
/// with receptor ports).
pub fn to_dot(g: &DiGraph<NodeLabel, EdgeLabel>) -> String {
    let ports = g.edge_weights().any(|e| e.receptor > 0);
    format!(
        "{:?}",
        Dot::with_attr_getters(
            g,
            &[Config::EdgeNoLabel, Config::NodeNoLabel],
            &|_, e| {
                let e = e.weight();
                if ports {
                    format!("weight = {} delay = {} receptor = {}", e.weight, e.delay_steps, e.receptor)
                } else {
                    format!("weight = {} delay = {}", e.weight, e.delay_steps)
                }
            },
            &|_, (_, n)| format!("label = \"{}\" population = \"{}\"", n.id, n.population),
        )
    )
}

/// `GraphML` text (nodes carry `population`; edges `weight` and `delay` in steps, and
/// `receptor` in networks with receptor ports).
pub fn to_graphml(g: &DiGraph<NodeLabel, EdgeLabel>) -> String {
    let ports = g.edge_weights().any(|e| e.receptor > 0);
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n  \
         <key id=\"population\" for=\"node\" attr.name=\"population\" attr.type=\"string\"/>\n  \
         <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n  \
         <key id=\"delay\" for=\"edge\" attr.name=\"delay_steps\" attr.type=\"int\"/>\n",
    );
    if ports {
        s.push_str("  <key id=\"receptor\" for=\"edge\" attr.name=\"receptor\" attr.type=\"int\"/>\n");
    }
    s.push_str("  <graph id=\"network\" edgedefault=\"directed\">\n");
    for n in g.node_weights() {
        let pop = n.population.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        let _ = writeln!(s, "    <node id=\"n{}\"><data key=\"population\">{pop}</data></node>", n.id);
    }
    for e in g.edge_indices() {
        if let (Some((a, b)), Some(l)) = (g.edge_endpoints(e), g.edge_weight(e)) {
            let port = if ports { format!("<data key=\"receptor\">{}</data>", l.receptor) } else { String::new() };
            let _ = writeln!(
                s,
                "    <edge source=\"n{}\" target=\"n{}\"><data key=\"weight\">{}</data><data key=\"delay\">{}</data>{port}</edge>",
                a.index(),
                b.index(),
                l.weight,
                l.delay_steps
            );
        }
    }
    s.push_str("  </graph>\n</graphml>\n");
    s
}
