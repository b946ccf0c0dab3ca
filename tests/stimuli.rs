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

/// Periodic schedules (issue #16, item 4): spike times repeated every 25 ms fire at the listed
/// steps of every period until the run ends; a Poisson rate schedule (40 Hz for 20 ms, then 0)
/// repeated every 50 ms gives input only in the first 20 ms of each period, at the rate; a
/// current stimulus (a 2 ms pulse) repeated every 10 ms until 35 ms drives a LIF neuron's
/// generator current exactly then. Times outside one period are refused.
#[test]
fn periodic_schedules_repeat_spike_times_rates_and_stimuli() {
    let text = r#"(
        dt_ms: 0.5, time_steps: 200, seed: 2,
        populations: [
            (name: "gen", size: 1, neuron: SpikeGenerator, spike_times_ms: [[2.0, 10.5]], spike_times_every_ms: Some(25.0)),
            (name: "drive", size: 2000, v_init_mv: -70.0,
             poisson: (rate_hz: 40.0, weight: 1.0, rate_changes: [(at_ms: 20.0, rate_hz: 0.0)], every_ms: Some(50.0))),
            (name: "lif", size: 1, neuron: IafPscExp(),
             stimulus: Some((segments: [(start: Closed(-0.25), end: Open(1.75), value: 100.0)], every_ms: Some(10.0), until_ms: Some(35.0)))),
        ],
    )"#;
    let scene = biospike::Scene::parse(text, "<periodic>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = biospike::Simulation::new(app);
    let (mut generator, mut on, mut counts) = (Vec::new(), Vec::new(), [0.0f64; 2]);
    for step in 0..200u64 {
        sim.step(1);
        let world = sim.world_mut();
        generator.extend(world.resource::<StepSpikes>().ids.iter().filter(|&&id| id == 0).map(|_| step));
        let (events, stimulus): (f64, f64) =
            world.query::<(&NeuronId, &InputCurrent, Option<&StimulusCurrent>)>().iter(world).fold((0.0, 0.0), |(e, s), (id, i, stim)| {
                match id.0 {
                    1..=2000 => (e + i.0, s),
                    2001 => (e, s + stim.map_or(0.0, |x| x.now)),
                    _ => (e, s),
                }
            });
        counts[usize::from(step % 100 >= 40)] += events;
        if stimulus != 0.0 {
            on.push(step);
        }
    }
    // 2 ms and 10.5 ms at dt 0.5: steps 4 and 21, every 50 steps.
    assert_eq!(generator, [4, 21, 54, 71, 104, 121, 154, 171]);
    // 40 Hz during 40 of every 100 steps (2 periods): 2000 · 80 · 0.5 ms · 40 Hz = 3200 events.
    assert!((counts[0] - 3200.0).abs() < 5.0 * 3200f64.sqrt(), "{} input spikes in the on phases", counts[0]);
    assert_eq!(counts[1], 0.0, "input in the off phases");
    // The pulse: steps 0..=3 of every 20-step period, until step 70 (35 ms).
    let expected: Vec<u64> = [0u64, 20, 40, 60].iter().flat_map(|&a| a..a + 4).collect();
    assert_eq!(on, expected);
    for (bad, needle) in [
        (text.replace("spike_times_every_ms: Some(25.0)", "spike_times_every_ms: Some(10.0)"), "within one period"),
        (text.replace("every_ms: Some(50.0)", "every_ms: Some(15.0)"), "rate_changes[0].at_ms"),
        (text.replace("every_ms: Some(10.0)", "every_ms: Some(0.0)"), "every_ms"),
    ] {
        let err = biospike::Scene::parse(&bad, "<periodic>".as_ref()).expect_err(needle).to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// A Poisson train into some of a population's neurons moves them to a table of their own; the
/// build puts the rest back in id order (each table then holds its neurons in ascending ids,
/// which the delay ring's read-out reads as one slice). Two LIF populations and one
/// Izhikevich population, each with a train into a few of its neurons.
#[test]
fn poisson_into_some_neurons_leaves_every_table_in_id_order() {
    let text = r#"(
        dt_ms: 0.1, time_steps: 10, seed: 3,
        populations: [
            (name: "a", size: 300, neuron: IafPscExp(), poisson: Some((rate_hz: 100.0, weight: 5.0, neurons: Some([0, 1, 2, 7, 150])))),
            (name: "b", size: 200, neuron: IafPscExp(), poisson: Some((rate_hz: 100.0, weight: 5.0, neurons: Some([3, 199])))),
            (name: "c", size: 100, poisson: Some((rate_hz: 100.0, weight: 5.0, neurons: Some([0, 50])))),
        ],
    )"#;
    let scene = biospike::Scene::parse(text, "<subset poisson>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let mut app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
    let world = app.world_mut();
    let mut tables: Vec<(bevy_ecs::storage::TableId, Vec<u32>)> = Vec::new();
    for (e, id) in world.query::<(Entity, &NeuronId)>().iter(world) {
        let table = world.entities().get_spawned(e).expect("a spawned neuron").table_id;
        match tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, ids)) => ids.push(id.0),
            None => tables.push((table, vec![id.0])),
        }
    }
    let all: usize = tables.iter().map(|(_, ids)| ids.len()).sum();
    assert_eq!(all, 600);
    assert!(tables.len() >= 3, "the trains' neurons are in tables of their own: {} tables", tables.len());
    for (_, ids) in &tables {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "a table out of id order: {ids:?}");
    }
}

/// Placing a population run by run for a train into some of its neurons keeps the entities a
/// plain spawn gives (a checkpoint names neurons by entity, so a checkpoint written before
/// still resumes): a train into every neuron listed by index and one into the whole population
/// give every neuron, and the resource their model's hook adds, the same entity.
#[test]
fn poisson_into_listed_neurons_keeps_the_entities_of_a_plain_spawn() {
    let scene = |neurons: &str| {
        format!(
            r#"(
            dt_ms: 0.1, time_steps: 10, seed: 3,
            populations: [
                (name: "a", size: 5, kind: Excitatory, neuron: IafPscExp(), poisson: Some((rate_hz: 100.0, weight: 5.0{neurons}))),
                (name: "b", size: 4, kind: Inhibitory, neuron: IafPscExp()),
            ],
            projections: [(source: "b", target: "a", rule: AllToAll, weight: Constant(10.0), delay_ms: Constant(1.0))],
        )"#
        )
    };
    let entities = |text: String| {
        let scene = biospike::Scene::parse(&text, "<listed>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let mut app = biospike::build_app(&scene, None).unwrap_or_else(|e| panic!("{e}"));
        let world = app.world_mut();
        let mut ids: Vec<(u32, u64)> = world.query::<(Entity, &NeuronId)>().iter(world).map(|(e, id)| (id.0, e.to_bits())).collect();
        ids.sort_unstable();
        ids
    };
    let plain = entities(scene(""));
    assert_eq!(plain.len(), 9);
    assert_eq!(entities(scene(", neurons: Some([0, 1, 2, 3, 4])")), plain);
    // Two of the five: the others are placed around them, still on the same entities.
    assert_eq!(entities(scene(", neurons: Some([1, 3])")), plain);
}
