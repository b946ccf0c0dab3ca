//! Helpers for biospike's own tests and benches (not part of the user API: use
//! [`Simulation`](crate::Simulation) to step a simulation).

use crate::prelude::*;

/// Runs [`SimSchedule`] `n` times inside the compute threads (what [`Simulation::step`] does,
/// for tests that hold an [`App`]).
pub fn run_steps(app: &mut App, n: u64) {
    let world = app.world_mut();
    biospike_runtime::parallel::install(|| {
        for _ in 0..n {
            step_simulation(world);
        }
    });
}

/// An app with one Izhikevich neuron (id 0) driven by `stimulus`, integrated with `scheme`
/// at `dt_ms`, starting from `v0` and `u0` (default `b·v0`).
pub fn single_neuron_app(
    params: IzhikevichParams,
    scheme: IntegrationScheme,
    dt_ms: f64,
    v0: f64,
    u0: Option<f64>,
    stimulus: CurrentStimulus,
) -> App {
    let mut app = App::new();
    app.insert_resource(IzhikevichSettings { scheme, threshold_mv: 30.0 });
    app.add_plugins(BiospikePlugins::default().with_dt_ms(dt_ms));
    app.world_mut().spawn((
        IzhikevichNeuron,
        NeuronId(0),
        params,
        MembranePotential(v0),
        RecoveryVariable(u0.unwrap_or(params.b * v0)),
        stimulus,
    ));
    app
}

/// Steps `app` `n` times and returns the steps at which neuron `id` fired.
pub fn spike_steps(app: &mut App, n: u64, id: u32) -> Vec<u64> {
    let mut out = Vec::new();
    for _ in 0..n {
        let step = app.world().resource::<SimClock>().step();
        step_simulation(app.world_mut());
        if app.world().resource::<StepSpikes>().ids.contains(&id) {
            out.push(step);
        }
    }
    out
}

/// A small network for doc examples: 10 regular-spiking neurons in a small world, seed 1.
pub fn tiny_app() -> App {
    let text = r#"(
        seed: 1, dt_ms: 1.0, time_steps: 100,
        populations: [(name: "n", size: 10, noise: Some((mean: 5.0, std: 3.0)))],
        topology: SmallWorld(k: 4, rewire_p: 0.1),
    )"#;
    match crate::Scene::parse(text, "<tiny_app>".as_ref()).map(|s| crate::build_app(&s, None)) {
        Ok(Ok(app)) => app,
        Ok(Err(e)) => panic!("tiny_app does not build: {e}"),
        Err(e) => panic!("tiny_app scene is invalid: {e}"),
    }
}
