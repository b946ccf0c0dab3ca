//! Projections (issue #16, item 1): per-(source, target) wiring with its own rule, weights,
//! delays and plasticity. Counts are checked against what each rule guarantees (exact degrees
//! and totals, the binomial spread of Bernoulli pairs), delays drawn in whole steps against
//! their uniform frequencies, the sign against the source's kind, entity and index-only storage
//! against each other, and the scene errors against the field they name.

#[path = "common/parquet_table.rs"]
mod parquet_table;

use biospike::prelude::*;
use biospike::{Scene, Simulation};
use parquet_table::read_table;
use std::collections::HashMap;
use std::path::Path;

fn scene(text: &str) -> Scene {
    Scene::parse(text, Path::new("projections.ron")).unwrap_or_else(|e| panic!("{e}"))
}

/// Every synapse of the built network as `(pre, post, weight, delay)`, from the index.
fn network(scene: &Scene) -> Vec<(u32, u32, f32, u16)> {
    let mut sim = Simulation::from_scene(scene).unwrap_or_else(|e| panic!("{e}"));
    sim.step(1);
    let index = sim.world().resource::<SynapseIndex>();
    let mut out: Vec<_> = (0..index.neuron_count() as u32)
        .flat_map(|pre| index.row(pre).map(move |k| (pre, k)))
        .map(|(pre, k)| (pre, index.posts()[k], index.weights()[k], index.delays()[k]))
        .collect();
    out.sort_by_key(|a| (a.0, a.1, a.2.to_bits(), a.3));
    out
}

const EXC: std::ops::Range<u32> = 0..800;
const INH: std::ops::Range<u32> = 800..1000;

fn shipped() -> Scene {
    Scene::load(Path::new("ei_projections")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn each_projection_follows_its_rule() {
    let edges = network(&shipped());
    let between = |s: &std::ops::Range<u32>, t: &std::ops::Range<u32>| -> Vec<(u32, u32, f32, u16)> {
        edges.iter().copied().filter(|e| s.contains(&e.0) && t.contains(&e.1)).collect()
    };
    // E→E: Bernoulli(0.1) over 800 × 799 ordered pairs, no autapses: the count within 5σ.
    let ee = between(&EXC, &EXC);
    let pairs: f64 = 800.0 * 799.0;
    let (mean, sd) = (0.1 * pairs, (0.1 * 0.9 * pairs).sqrt());
    assert!((ee.len() as f64 - mean).abs() < 5.0 * sd, "E→E {} vs {mean} ± {sd}", ee.len());
    assert!(ee.iter().all(|e| e.0 != e.1), "no autapses");
    // E→I: exactly 80 distinct excitatory inputs per inhibitory cell.
    let ei = between(&EXC, &INH);
    let mut inputs: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in &ei {
        inputs.entry(e.1).or_default().push(e.0);
    }
    assert_eq!(inputs.len(), 200);
    for (post, mut pre) in inputs {
        pre.sort_unstable();
        pre.dedup();
        assert_eq!(pre.len(), 80, "inputs of {post}");
    }
    // I→E: exactly 80 distinct targets per inhibitory cell; weights negative (inhibitory source).
    let ie = between(&INH, &EXC);
    assert_eq!(ie.len(), 200 * 80);
    let mut out: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in &ie {
        out.entry(e.0).or_default().push(e.1);
    }
    assert!(out.values_mut().all(|t| {
        t.sort_unstable();
        t.dedup();
        t.len() == 80
    }));
    assert!(ie.iter().all(|e| e.2 <= 0.0 && e.2 >= -10.0 && e.3 == 1));
    // I→I: exactly 4 000 distinct pairs without autapses.
    let ii = between(&INH, &INH);
    assert_eq!(ii.len(), 4000);
    let mut p: Vec<(u32, u32)> = ii.iter().map(|e| (e.0, e.1)).collect();
    p.sort_unstable();
    p.dedup();
    assert_eq!(p.len(), 4000);
    assert!(ii.iter().all(|e| e.0 != e.1));
    // Excitatory weights in [0, 5); delays 1..=5 steps, each a fifth of the synapses (±5σ).
    let exc_out: Vec<_> = ee.iter().chain(&ei).collect();
    assert!(exc_out.iter().all(|e| (0.0..5.0).contains(&e.2)));
    let n = exc_out.len() as f64;
    for d in 1..=5u16 {
        let count = exc_out.iter().filter(|e| e.3 == d).count() as f64;
        let sd = (n * 0.2 * 0.8f64).sqrt();
        assert!((count - 0.2 * n).abs() < 5.0 * sd, "delay {d}: {count} of {n}");
    }
}

/// The same projections in the index only (no synapse entities) give the same network.
#[test]
fn index_only_storage_builds_the_same_network() {
    let text = include_str!("../scenes/ei_projections.ron");
    let entities = network(&scene(text));
    let index_only = network(&scene(&text.replacen("    record:", "    synapse_storage: IndexOnly,\n    record:", 1)));
    assert_eq!(entities.len(), index_only.len());
    assert!(entities == index_only, "the two storages differ");
}

/// `plastic` per projection: with STDP on, the E→E synapses learn and the E→I ones do not.
#[test]
fn plasticity_can_be_chosen_per_projection() {
    let text = include_str!("../scenes/ei_projections.ron")
        .replacen(
            "autapses: false,\n         weight: Uniform(low: 0.0, high: 5.0)",
            "autapses: false, plastic: true,\n         weight: Uniform(low: 0.0, high: 5.0)",
            1,
        )
        .replacen(
            "multapses: false,\n         weight: Uniform(low: 0.0, high: 5.0)",
            "multapses: false, plastic: false,\n         weight: Uniform(low: 0.0, high: 5.0)",
            1,
        )
        .replacen("    record:", "    plasticity: Some((dopamine_gated: false, learning_rate: 1.0, w_max: 5.0)),\n    record:", 1);
    let s = scene(&text);
    let before = network(&s);
    let mut sim = Simulation::from_scene(&s).unwrap_or_else(|e| panic!("{e}"));
    sim.step(500);
    sim.finish();
    let index = sim.world().resource::<SynapseIndex>();
    let mut after: HashMap<(u32, u32), Vec<f32>> = HashMap::new();
    for pre in 0..index.neuron_count() as u32 {
        for k in index.row(pre) {
            after.entry((pre, index.posts()[k])).or_default().push(index.weights()[k]);
        }
    }
    let (mut ee_changed, mut ei_changed) = (0, 0);
    for &(pre, post, w, _) in &before {
        let now = &after[&(pre, post)];
        if !now.contains(&w) {
            if INH.contains(&post) {
                ei_changed += 1;
            } else if EXC.contains(&pre) {
                ee_changed += 1;
            }
        }
    }
    assert!(ee_changed > 1000, "E→E learned: {ee_changed} weights changed");
    assert_eq!(ei_changed, 0, "E→I is not plastic");
}

/// Errors name the projection's field, with line and column.
#[test]
fn wrong_projections_are_refused_with_the_field() {
    let base = include_str!("../scenes/ei_projections.ron");
    let cases: [(String, &str); 6] = [
        (
            base.replacen("source: \"inh\", target: \"inh\"", "source: \"inh\", target: \"thalamus\"", 1),
            "projections[3].target: unknown population \"thalamus\"",
        ),
        (base.replacen("    record:", "    topology: ErdosRenyi(p: 0.1),\n    record:", 1), "topology"),
        (
            base.replacen("FixedInDegree(k: 80)", "FixedInDegree(k: 801)", 1),
            "projections[1].rule: k = 801 without multapses; allowed 0..=800",
        ),
        (
            base.replacen("FixedTotalNumber(n: 4000)", "OneToOne", 1).replacen(
                "source: \"inh\", target: \"inh\"",
                "source: \"inh\", target: \"exc\"",
                1,
            ),
            "OneToOne needs source and target of the same size",
        ),
        (
            base.replacen(
                "delay_ms: Constant(1.0)),\n        // I→I",
                "delay_ms: Constant(1.0), delay_steps: Constant(2)),\n        // I→I",
                1,
            ),
            "give delay_ms or delay_steps, not both",
        ),
        (base.replacen("PairwiseBernoulli(p: 0.1)", "PairwiseBernoulli(p: 1.5)", 1), "1.5 is outside the allowed range [0, 1]"),
    ];
    for (text, expected) in cases {
        let err = Scene::parse(&text, Path::new("projections.ron")).map(|_| ()).expect_err(expected).to_string();
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
        assert!(err.starts_with("projections.ron:"), "{err}");
    }
    // One plastic flag per population pair.
    let twice = base.replacen(
        "    ],\n    record:",
        "        (source: \"exc\", target: \"exc\", rule: OneToOne, autapses: false, plastic: true),\n        (source: \"exc\", target: \"exc\", rule: AllToAll, plastic: false),\n    ],\n    record:",
        1,
    );
    let err = Scene::parse(&twice, Path::new("projections.ron")).map(|_| ()).expect_err("two flags").to_string();
    assert!(err.contains("projections[5].plastic"), "{err}");
}

/// Two threads give the same spikes as one (the projection scene through the CLI).
#[test]
fn the_projection_scene_is_the_same_on_one_and_two_threads() {
    let dir = std::env::temp_dir().join(format!("biospike-projections-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |threads: &str| {
        let out = dir.join(threads);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_biospike"))
            .args(["run", "ei_projections", "--steps", "500", "--threads", threads, "--out"])
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ["spikes.parquet", "synapses.parquet"].map(|f| read_table(&out.join(f)))
    };
    let (one, two) = (run("1"), run("2"));
    assert!(one[0].0 > 1000, "{} spikes", one[0].0);
    assert!(one == two, "1 and 2 threads differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `scale` keeps in-degrees: sizes and total numbers scale (half to even), Bernoulli
/// probabilities divide, fixed degrees stay; rules that cannot keep their in-degrees are refused.
#[test]
fn scale_keeps_in_degrees() {
    let text = |scale: &str, rule: &str| {
        format!(
            r#"(dt_ms: 0.1, time_steps: 10, scale: {scale},
            populations: [(name: "a", size: 1000), (name: "b", size: 250, kind: Inhibitory)],
            projections: [
                (source: "a", target: "b", rule: FixedTotalNumber(n: 20005)),
                (source: "b", target: "a", rule: PairwiseBernoulli(p: 0.02)),
                (source: "a", target: "a", rule: {rule}),
            ])"#
        )
    };
    let s = scene(&text("0.5", "FixedInDegree(k: 30)"));
    assert_eq!(s.desc.populations.iter().map(|p| p.size).collect::<Vec<_>>(), [500, 125]);
    assert_eq!(s.desc.projections[0].rule, biospike::topology::Rule::FixedTotalNumber { n: 10002 });
    assert_eq!(s.desc.projections[1].rule, biospike::topology::Rule::PairwiseBernoulli { p: 0.04 });
    assert_eq!(s.desc.projections[2].rule, biospike::topology::Rule::FixedInDegree { k: 30 });
    let edges = network(&s);
    // a → a: 30 inputs per neuron of a, as at full size.
    let a_to_a = edges.iter().filter(|e| e.0 < 500 && e.1 < 500).count();
    assert_eq!(a_to_a, 500 * 30);
    for (rule, needle) in [("AllToAll", "AllToAll"), ("SmallWorld(k: 4, rewire_p: 0.1)", "SmallWorld")] {
        let err = Scene::parse(&text("0.5", rule), Path::new("s.ron")).expect_err(rule).to_string();
        assert!(err.contains("scale") && err.contains(needle) && err.contains("cannot keep its in-degrees"), "{err}");
    }
    let err = Scene::parse(&text("0.0", "OneToOne"), Path::new("s.ron")).expect_err("zero").to_string();
    assert!(err.contains("scale") && err.contains("(0, 1000]"), "{err}");
}

/// `v_init: Normal(mean:, std:)` draws each neuron's initial V from its own stream.
#[test]
fn lif_initial_potentials_can_be_normal() {
    let s = scene(
        r#"(dt_ms: 0.1, time_steps: 10, populations: [(name: "a", size: 20000,
            neuron: IafPscExp(v_init: Normal(mean: -63.0, std: 5.0)))])"#,
    );
    let mut sim = Simulation::from_scene(&s).unwrap_or_else(|e| panic!("{e}"));
    let v: Vec<f64> = sim.world_mut().query::<&MembranePotential>().iter(sim.world()).map(|v| v.0).collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    // Standard errors: 5/√20000 = 0.035 for the mean, ≈ 0.025 for the sd.
    assert!((mean + 63.0).abs() < 0.18, "{mean}");
    assert!((sd - 5.0).abs() < 0.13, "{sd}");
}

/// Receptor ports (`receptor: Some(r)`, issue #16 item 2): the shipped `ei_receptors` scene
/// stores each synapse's port in the index (the excitatory sources through two projections, one
/// per excitatory port), with conductances onto the adaptive exponential population stored as magnitudes;
/// index-only storage gives the same spikes; wrong ports are refused naming the field and the
/// allowed range.
#[test]
fn receptor_ports_are_stored_checked_and_equal_in_both_storages() {
    let text = include_str!("../scenes/ei_receptors.ron").replace("time_steps: 10000", "time_steps: 2000");
    let entities = scene(&text);
    let mut sim = Simulation::from_scene(&entities).unwrap_or_else(|e| panic!("{e}"));
    sim.step(1);
    let index = sim.world().resource::<SynapseIndex>();
    let ports = index.receptors();
    assert_eq!(ports.len(), index.len(), "one port per synapse");
    let count = |r: u8| ports.iter().filter(|&&p| p == r).count();
    assert!(count(1) > 70_000 && count(2) > 70_000 && count(3) > 35_000 && count(0) == 0, "ports {} {} {}", count(1), count(2), count(3));
    for pre in 0..index.neuron_count() as u32 {
        for k in index.row(pre) {
            let inhibitory = INH.contains(&pre);
            assert_eq!(ports[k] == 3, inhibitory, "synapse {pre} → {}: port {}", index.posts()[k], ports[k]);
            // Inhibitory currents are negative; conductances (onto the inhibitory population) are not.
            assert_eq!(index.weights()[k] < 0.0, inhibitory && EXC.contains(&index.posts()[k]));
        }
    }
    let spikes = |s: &Scene| {
        let mut sim = Simulation::from_scene(s).unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        sim.step_with(2000, |w| out.push(w.resource::<StepSpikes>().ids.clone()));
        out
    };
    let index_only = scene(&text.replace("    projections: [", "    synapse_storage: IndexOnly,\n    projections: ["));
    let (a, b) = (spikes(&entities), spikes(&index_only));
    assert!(a.iter().map(Vec::len).sum::<usize>() > 1000, "the network fires");
    assert_eq!(a, b, "entity and index-only storage");

    let base = include_str!("../scenes/ei_receptors.ron");
    let cases: [(String, &str); 6] = [
        (
            base.replacen("receptor: Some(3)", "receptor: Some(4)", 1),
            "projections[4].receptor: receptor 4: \"exc\" has 3 receptor ports; allowed 1..=3",
        ),
        (base.replacen(", receptor: Some(3)", "", 1), "\"exc\" has 3 receptor ports: give the projection `receptor: Some(r)`, r in 1..=3"),
        (base.replacen("tau_syn_ms: [2.0, 50.0, 6.0]", "tau_syn_ms: [2.0, 20.0, 6.0]", 1), "port 2's time constant equals tau_m_ms"),
        (base.replacen("tau_syn_ms: [2.0, 50.0, 6.0]", "tau_syn_ms: []", 1), "tau_syn_ms: 0 values; allowed 1..=8 (one per receptor port)"),
        (base.replacen("tau_syn_ms: [2.0, 50.0, 6.0]", "tau_syn_ms: [2.0, -1.0, 6.0]", 1), "time constant -1; allowed > 0 ms"),
        (base.replacen("tau_rise_ms: [0.2, 2.0, 0.5]", "tau_rise_ms: [0.2, 2.0]", 1), "tau_rise_ms: 2 values for 3 receptor ports"),
    ];
    for (text, expected) in cases {
        let err = Scene::parse(&text, Path::new("projections.ron")).map(|_| ()).expect_err(expected).to_string();
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
        assert!(err.starts_with("projections.ron:"), "{err}");
    }
    // A port onto a model without ports.
    let izh =
        include_str!("../scenes/ei_projections.ron").replacen("delay_ms: Constant(1.0))", "delay_ms: Constant(1.0), receptor: Some(1))", 1);
    let err = Scene::parse(&izh, Path::new("projections.ron")).map(|_| ()).expect_err("port").to_string();
    assert!(err.contains("model has no receptor ports"), "{err}");
}
