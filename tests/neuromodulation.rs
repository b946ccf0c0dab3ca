//! Neuromodulation: OU baselines, excitability relaxation and how excitability scales input.

use bevy_app::App;
use biospike::prelude::*;
use biospike::testing::run_steps;

fn app_with(settings: NeuromodulationSettings, seed: u64) -> App {
    let mut app = App::new();
    app.add_plugins(BiospikePlugins::default().with_seed(seed));
    app.insert_resource(settings).add_plugins(NeuromodulationPlugin);
    app
}

/// The Euler–Maruyama OU baseline `b ← b + (μ − b)·dt/τ + σ·√dt·ξ` has stationary mean μ and
/// variance `σ²·dt / (1 − (1 − dt/τ)²)` (= 0.5025 for σ 0.1, τ 100 ms, dt 1 ms).
#[test]
fn ou_baseline_has_the_stationary_moments() {
    let mut app = app_with(NeuromodulationSettings::original(0.5, 0.3, 0.2, 20.0), 3);
    let n = 200_000;
    let (mut sum, mut sq) = (0.0, 0.0);
    run_steps(&mut app, 1000); // burn-in
    for _ in 0..n {
        run_steps(&mut app, 1);
        let b = app.world().resource::<NeuromodulatorLevels>().baseline(Modulator::Serotonin);
        sum += b;
        sq += b * b;
    }
    let mean = sum / f64::from(n);
    let var = sq / f64::from(n) - mean * mean;
    let expected_var = 0.01 / (1.0 - 0.99f64.powi(2));
    // 200 000 samples with correlation time 100 steps ≈ 2 000 independent ones.
    assert!((mean - 1.0).abs() < 0.05, "mean {mean}");
    assert!((var / expected_var - 1.0).abs() < 0.15, "variance {var}, expected {expected_var}");
}

/// With constant levels, `E_n = M + (E_0 − M)(1 − dt/τ)^n` and `M = 1 + 0.5·tanh(1)` for a
/// dopamine level one above its baseline.
#[test]
fn excitability_relaxes_to_the_modulation_factor() {
    let mut s = NeuromodulationSettings::silent();
    s.modulators[0].effect = 0.5;
    s.modulators[0].tonic = Tonic::Constant(1.0);
    s.tau_excitability_ms = 20.0;
    let mut app = app_with(s, 1);
    let e = app.world_mut().spawn((IzhikevichNeuron, NeuronId(0), PopulationId(0))).id();
    run_steps(&mut app, 50);
    let m = 1.0 + 0.5 * 1f64.tanh();
    let expected = m + (1.0 - m) * (1.0 - 1.0 / 20.0f64).powi(50);
    let got = app.world().get::<Excitability>(e).map_or(f64::NAN, |x| x.0);
    approx::assert_relative_eq!(got, expected, epsilon = 1e-12);
}

/// `E` multiplies the input current: a neuron with `E = 2` and DC 5 fires at exactly the
/// steps of a neuron with `E = 1` and DC 10 (the Izhikevich stage integrates `E·I`).
#[test]
fn excitability_scales_the_input_current() {
    let run = |e: f64, dc: f64| {
        let mut app = App::new();
        app.add_plugins(BiospikePlugins::default());
        app.world_mut().spawn((IzhikevichNeuron, NeuronId(0), IzhikevichParams::REGULAR_SPIKING, DcCurrent(dc), Excitability(e)));
        biospike::testing::spike_steps(&mut app, 500, 0)
    };
    let doubled = run(2.0, 5.0);
    assert!(doubled.len() > 5);
    assert_eq!(doubled, run(1.0, 10.0));
    assert!(run(1.0, 5.0).len() < doubled.len());
}

/// A dopamine surge makes a noisy population fire more; a dip (level below baseline) less.
#[test]
fn dopamine_raises_and_lowers_network_activity() {
    let rate = |dopamine: f64| {
        let mut s = NeuromodulationSettings::silent();
        s.modulators[0].effect = 0.5;
        s.modulators[0].tonic = Tonic::Constant(dopamine);
        let mut app = app_with(s, 5);
        for id in 0..200 {
            app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), PopulationId(0), NoiseCurrent { mean: 3.0, std: 3.0 }));
        }
        let mut spikes = 0;
        for _ in 0..1000 {
            run_steps(&mut app, 1);
            spikes += app.world().resource::<StepSpikes>().ids.len();
        }
        spikes
    };
    let (low, mid, high) = (rate(-2.0), rate(0.0), rate(2.0));
    assert!(low < mid && mid < high, "spikes: dip {low}, baseline {mid}, surge {high}");
}

/// Same seed, same levels; another seed, other levels.
#[test]
fn levels_are_reproducible() {
    let trace = |seed| {
        let mut app = app_with(NeuromodulationSettings::original(0.5, 0.3, 0.2, 20.0), seed);
        (0..100)
            .map(|_| {
                run_steps(&mut app, 1);
                app.world().resource::<NeuromodulatorLevels>().clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(trace(9), trace(9));
    assert_ne!(trace(9), trace(10));
}

/// With every effect 0 the excitability pass settles and is skipped, but an excitability set
/// by hand still relaxes back: `E = 2` becomes `2 + (1 − 2)·dt/τ` after one step.
#[test]
fn edited_excitability_relaxes_after_the_pass_settled() {
    let mut app = app_with(NeuromodulationSettings::silent(), 1);
    let e = app.world_mut().spawn((IzhikevichNeuron, NeuronId(0), PopulationId(0))).id();
    run_steps(&mut app, 10);
    if let Some(mut x) = app.world_mut().get_mut::<Excitability>(e) {
        x.0 = 2.0;
    }
    run_steps(&mut app, 1);
    let got = app.world().get::<Excitability>(e).map_or(f64::NAN, |x| x.0);
    approx::assert_relative_eq!(got, 2.0 - 1.0 / 20.0, epsilon = 1e-12);
}

/// A periodic release written in a scene (a reward every 250 ms from 100 ms until 700 ms) acts
/// at exactly those steps; a period shorter than a step and an end before the start are refused.
#[test]
fn periodic_releases_from_a_scene() {
    let text = |release: &str| {
        format!(
            "(dt_ms: 1.0, time_steps: 1000, populations: [(name: \"a\", size: 2)],
              neuromodulation: (dopamine: (baseline: Constant(0.0), tonic: Constant(0.0), phasic_tau_ms: 10.0),
                                releases: [{release}]))"
        )
    };
    let scene = biospike::Scene::parse(
        &text("(modulator: Dopamine, at_ms: 100.0, amount: 1.0, every_ms: 250.0, until_ms: 700.0)"),
        "<periodic>".as_ref(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::new(app);
    let mut jumps = Vec::new();
    let mut last = 0.0;
    for step in 0..1000u64 {
        sim.step(1);
        let da = sim.world().resource::<NeuromodulatorLevels>().level(Modulator::Dopamine);
        if da > last + 0.5 {
            jumps.push(step);
        }
        last = da;
    }
    assert_eq!(jumps, [100, 350, 600]);
    for (bad, field) in [
        ("(modulator: Dopamine, at_ms: 100.0, amount: 1.0, every_ms: 0.5)", "every_ms"),
        ("(modulator: Dopamine, at_ms: 100.0, amount: 1.0, every_ms: 50.0, until_ms: 20.0)", "until_ms"),
    ] {
        let err = biospike::Scene::parse(&text(bad), "<periodic>".as_ref()).expect_err(bad).to_string();
        assert!(err.contains(field), "{err}");
    }
}
