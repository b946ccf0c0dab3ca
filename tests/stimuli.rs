//! Stimuli written in scenes: spike generators (issue #16).

use biospike::prelude::*;

/// A `SpikeGenerator` population fires exactly at its listed times (rounded to steps), and its
/// spikes are delivered like any neuron's: a strong synapse with a 3-step delay makes a silent
/// regular-spiking target fire right after each arrival.
#[test]
fn spike_generators_fire_at_their_times_and_drive_targets() {
    let text = r#"(
        dt_ms: 0.5, time_steps: 200,
        populations: [
            (name: "gen", size: 2, neuron: SpikeGenerator, spike_times_ms: [[5.0, 40.2], [20.0]],
             synapses: (weight: Constant(200.0), delay_ms: Constant(1.5), targets: Some(["cell"]))),
            (name: "cell", size: 1),
        ],
        topology: FixedOutDegree(k: 1),
    )"#;
    let scene = biospike::Scene::parse(text, "<generators>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::new(app);
    let mut fired: Vec<(u64, u32)> = Vec::new();
    for step in 0..200u64 {
        sim.step(1);
        fired.extend(sim.world().resource::<StepSpikes>().ids.iter().map(|&id| (step, id)));
    }
    let generator: Vec<(u64, u32)> = fired.iter().copied().filter(|&(_, id)| id < 2).collect();
    // 5 ms, 20 ms and 40.2 ms at dt 0.5 ms: steps 10, 40 and round(80.4) = 80.
    assert_eq!(generator, [(10, 0), (40, 1), (80, 0)]);
    let cell: Vec<u64> = fired.iter().filter(|&&(_, id)| id == 2).map(|&(s, _)| s).collect();
    assert_eq!(cell.len(), 3, "one target spike per arrival: {cell:?}");
    for (g, c) in generator.iter().zip(&cell) {
        // Arrival 3 steps later; the target crosses within the arrival step or the next.
        assert!((g.0 + 3..=g.0 + 4).contains(c), "generator spike at step {} gave a target spike at {c}", g.0);
    }
}

#[test]
fn spike_generator_scenes_are_checked() {
    for (text, needle) in [
        (
            r#"(dt_ms: 1.0, time_steps: 10, populations: [(name: "g", size: 2, neuron: SpikeGenerator, spike_times_ms: [[1.0]])])"#,
            "1 lists for 2 neurons",
        ),
        (r#"(dt_ms: 1.0, time_steps: 10, populations: [(name: "g", size: 1, neuron: SpikeGenerator)])"#, "needs `spike_times_ms`"),
        (r#"(dt_ms: 1.0, time_steps: 10, populations: [(name: "g", size: 1, spike_times_ms: [[1.0]])])"#, "need `neuron: SpikeGenerator`"),
        (
            r#"(dt_ms: 1.0, time_steps: 10, populations: [(name: "g", size: 1, neuron: SpikeGenerator, spike_times_ms: [[-1.0]])])"#,
            "[0, ∞)",
        ),
        (
            r#"(dt_ms: 1.0, time_steps: 10, populations: [(name: "g", size: 1, neuron: SpikeGenerator, spike_times_ms: [[1.0]], dc: 5.0)])"#,
            "no membrane",
        ),
    ] {
        let err = biospike::Scene::parse(text, "<bad>".as_ref()).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// Writes a `(neuron, time_ms)` table.
fn write_times(path: &std::path::Path, neuron: arrow_array::ArrayRef, time_ms: Vec<f64>) {
    use std::sync::Arc;
    let batch =
        arrow_array::RecordBatch::try_from_iter([("neuron", neuron), ("time_ms", Arc::new(arrow_array::Float64Array::from(time_ms)) as _)])
            .unwrap_or_else(|e| panic!("{e}"));
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap_or_else(|e| panic!("{e}"));
    w.write(&batch).unwrap_or_else(|e| panic!("{e}"));
    w.close().unwrap_or_else(|e| panic!("{e}"));
}

/// Spike times from a Parquet file beside the scene fire at their steps, as inline times do;
/// a neuron outside the population or a missing column is refused with the file and the row.
#[test]
fn spike_times_come_from_a_parquet_file() {
    use std::sync::Arc;
    let dir = std::env::temp_dir().join(format!("biospike-spike-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    write_times(&dir.join("input.parquet"), Arc::new(arrow_array::UInt32Array::from(vec![2u32, 0, 2])), vec![3.0, 5.0, 7.5]);
    let scene_path = dir.join("scene.ron");
    std::fs::write(
        &scene_path,
        r#"(dt_ms: 0.5, time_steps: 40, populations: [(name: "gen", size: 3, neuron: SpikeGenerator, spike_times_file: Some("input.parquet"))])"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let scene = biospike::Scene::load(&scene_path).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    let mut fired = Vec::new();
    sim.step_with(40, |w| {
        let step = w.resource::<SimClock>().step() - 1;
        fired.extend(w.resource::<StepSpikes>().ids.iter().map(|&id| (step, id)));
    });
    assert_eq!(fired, [(6, 2), (10, 0), (15, 2)]);

    write_times(&dir.join("bad.parquet"), Arc::new(arrow_array::Int64Array::from(vec![0i64, 3])), vec![1.0, 2.0]);
    std::fs::write(
        &scene_path,
        r#"(dt_ms: 0.5, time_steps: 40, populations: [(name: "gen", size: 3, neuron: SpikeGenerator, spike_times_file: Some("bad.parquet"))])"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = biospike::Scene::load(&scene_path).expect_err("neuron 3 of 3").to_string();
    assert!(err.contains("populations[0].spike_times_file") && err.contains("row 1: neuron 3 is outside 0..3"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sinusoidal current from a scene equals NEST's `ac_generator` formula
/// `offset + amplitude·sin(2π·f·t + phase)` at every step's start time inside its window, and 0
/// outside (the input current is read after each step; nothing else drives the cell).
#[test]
fn sine_current_follows_the_closed_form() {
    let text = r#"(
        dt_ms: 0.1, time_steps: 400,
        populations: [(name: "cell", size: 1, v_init_mv: -70.0,
            sine: (amplitude: 2.0, frequency_hz: 50.0, phase_deg: 30.0, offset: 0.5, start_ms: 5.0, stop_ms: 35.0))],
    )"#;
    let scene = biospike::Scene::parse(text, "<sine>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::new(app);
    for step in 0..400u64 {
        sim.step(1);
        let world = sim.world_mut();
        let i = world.query::<&InputCurrent>().iter(world).next().map(|i| i.0).unwrap_or(f64::NAN);
        let t = step as f64 * 0.1;
        let want = if (5.0..35.0).contains(&t) {
            0.5 + 2.0 * (2.0 * std::f64::consts::PI * 50.0 * t / 1000.0 + 30f64.to_radians()).sin()
        } else {
            0.0
        };
        assert!((i - want).abs() < 1e-12, "step {step} (t = {t} ms): {i} against {want}");
    }
}

/// An inhomogeneous Poisson input (rate 10 Hz, 40 Hz from 100 ms, 0 from 200 ms): the input
/// spikes counted in each window match `N · steps · rate · dt` within 5 standard deviations,
/// and none arrive after the rate drops to 0.
#[test]
fn inhomogeneous_poisson_follows_its_rate_changes() {
    let text = r#"(
        dt_ms: 1.0, time_steps: 300, seed: 4,
        populations: [(name: "a", size: 2000, v_init_mv: -70.0,
            poisson: (rate_hz: 10.0, weight: 1.0, rate_changes: [(at_ms: 100.0, rate_hz: 40.0), (at_ms: 200.0, rate_hz: 0.0)]))],
    )"#;
    let scene = biospike::Scene::parse(text, "<poisson>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::new(app);
    let mut counts = [0.0f64; 3];
    for step in 0..300u64 {
        sim.step(1);
        let world = sim.world_mut();
        let events: f64 = world.query::<&InputCurrent>().iter(world).map(|i| i.0).sum();
        counts[(step / 100) as usize] += events;
    }
    for (window, rate) in [(0, 10.0), (1, 40.0)] {
        let expected = 2000.0 * 100.0 * rate * 1e-3;
        assert!((counts[window] - expected).abs() < 5.0 * expected.sqrt(), "window {window}: {} against {expected}", counts[window]);
    }
    assert_eq!(counts[2], 0.0);
    let bad = text.replace("at_ms: 200.0", "at_ms: 50.0");
    let err = biospike::Scene::parse(&bad, "<poisson>".as_ref()).expect_err("decreasing times").to_string();
    assert!(err.contains("rate_changes[1].at_ms"), "{err}");
}
