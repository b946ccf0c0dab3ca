//! The LIF populations of `scenes/loihi_lif_demo.ron` run on the fixed-point path inside the
//! ECS schedule. The reference is `biospike_loihi::FixedPointNetwork`, the kernel wiring that
//! replays Lava's golden traces bit for bit (`plugins/biospike_loihi/tests/golden.rs`): given
//! the same neurons, biases and per-projection quantized weights, every spike must agree.

use biospike::prelude::*;
use biospike::{Scene, build_app};
use biospike_loihi::{Dense, FixedPointNetwork, LifBias, LifPopulation, LifVoltage, LoihiLifNeuron, Pre, quantize_weights};
use std::collections::BTreeMap;

#[test]
fn ecs_lif_network_matches_the_fixed_point_reference() {
    let scene = match Scene::load("scenes/loihi_lif_demo.ron".as_ref()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut app = match build_app(&scene, None) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let world = app.world_mut();

    // The reference network: one LIF population of all neurons (ids in order), one Dense
    // block per projection (source population → target population) holding that
    // projection's quantized weights, zeros elsewhere.
    let mut neurons: Vec<(u32, LoihiLifNeuron, LifBias)> =
        world.query::<(&NeuronId, &LoihiLifNeuron, &LifBias)>().iter(world).map(|(i, n, b)| (i.0, *n, *b)).collect();
    neurons.sort_by_key(|n| n.0);
    let n = neurons.len();
    let params = neurons[0].1.0;
    assert!(neurons.iter().all(|x| x.1.0 == params), "one parameter set in this scene");
    let table = world.resource::<PopulationTable>().clone();
    type Groups = BTreeMap<(u16, u16), Vec<(u32, u32, f64)>>;
    let mut groups: Groups = BTreeMap::new();
    for (s, w) in world.query::<(&Synapse, &SynapticWeight)>().iter(world) {
        let key = (table.population_of(s.pre.0).unwrap_or(0), table.population_of(s.post.0).unwrap_or(0));
        groups.entry(key).or_default().push((s.pre.0, s.post.0, f64::from(w.0)));
    }
    let mut denses = Vec::new();
    for edges in groups.values() {
        let q = quantize_weights(&edges.iter().map(|e| e.2).collect::<Vec<_>>(), 8);
        let mut weights = vec![0i32; n * n];
        for (e, &m) in edges.iter().zip(&q.effective) {
            assert_eq!(weights[e.1 as usize * n + e.0 as usize], 0, "no multapses in this scene");
            weights[e.1 as usize * n + e.0 as usize] = m;
        }
        denses.push(Dense { pre: Pre::Lif(0), post: 0, weights, weight_exp: q.weight_exp, graded: false, buffer: vec![0; n] });
    }
    let mut reference = FixedPointNetwork {
        lifs: vec![LifPopulation {
            params,
            bias_mant: neurons.iter().map(|x| x.2.mant).collect(),
            bias_exp: neurons.iter().map(|x| x.2.exp).collect(),
            u: vec![0; n],
            v: vec![0; n],
            s: vec![0; n],
        }],
        denses,
    };

    let mut total = 0;
    for step in 0..1000 {
        biospike::testing::run_steps(&mut app, 1);
        reference.step(&[]);
        let ours = app.world().resource::<StepSpikes>().ids.clone();
        let theirs: Vec<u32> = reference.lifs[0].s.iter().enumerate().filter(|(_, s)| **s != 0).map(|(i, _)| i as u32).collect();
        assert_eq!(ours, theirs, "spikes differ at step {step}");
        total += ours.len();
        let world = app.world_mut();
        let mut v: Vec<(u32, i32)> = world.query::<(&NeuronId, &LifVoltage)>().iter(world).map(|(i, v)| (i.0, v.0)).collect();
        v.sort_by_key(|x| x.0);
        assert!(v.iter().map(|x| x.1).eq(reference.lifs[0].v.iter().copied()), "voltages differ at step {step}");
    }
    assert!(total > 1000, "the demo network is active ({total} spikes)");
}

/// `quantize: Some((..))` in a scene adds the quantization stage: report only by default,
/// or applied (the weights become their quantized values from the next propagation on).
#[test]
fn quantization_stage_reports_or_applies() {
    let base = match Scene::load("scenes/izhikevich_2003.ron".as_ref()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    for apply in [false, true] {
        let mut scene = base.clone();
        scene.desc.quantize = Some(biospike::scene::QuantizeDesc { num_weight_bits: 4, apply });
        let mut app = match build_app(&scene, None) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        };
        biospike_synapses::prepare_synapse_index(app.world_mut());
        let before: Vec<f32> = app.world().resource::<SynapseIndex>().weights().to_vec();
        biospike::testing::run_steps(&mut app, 2);
        let report = &app.world().resource::<biospike_loihi::QuantizationReport>().0;
        assert_eq!(report.len(), 4, "exc/inh × exc/inh projections");
        assert!(report.iter().all(|r| r.num_weight_bits == 4 && r.max_abs_error > 0.0));
        let after = app.world().resource::<SynapseIndex>().weights();
        assert_eq!(before.as_slice() == after, !apply, "apply = {apply}");
    }
}

/// A generator on a Loihi LIF population would add to a current those neurons never read: the
/// scene is refused, naming the file, line, field and why, for each kind of generator.
#[test]
fn generators_on_a_loihi_population_are_refused() {
    for (field, text) in
        [("poisson", "poisson: Some((rate_hz: 100.0, weight: 5.0)),"), ("noise", "noise: Some((mean: 0.0, std: 1.0)),"), ("dc", "dc: 3.0,")]
    {
        let scene = format!(
            r#"(
    dt_ms: 1.0, time_steps: 10,
    populations: [(name: "a", size: 10,
        neuron: LoihiLif(du: 410, dv: 205, vth: 100, bias_mant: (4, 8), bias_exp: 6),
        {text})],
)"#
        );
        let err = match Scene::parse(&scene, "loihi.ron".as_ref()) {
            Ok(_) => panic!("`{field}` on a LoihiLif population must be refused"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("loihi.ron:5:") && err.contains(&format!("populations[0].{field}")) && err.contains("does not apply"),
            "{err}"
        );
    }
    // Without a generator the same population loads.
    let plain = "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 10, \
                 neuron: LoihiLif(du: 410, dv: 205, vth: 100, bias_mant: (4, 8), bias_exp: 6))])";
    assert!(Scene::parse(plain, "loihi.ron".as_ref()).is_ok());
}
