//! A neuron model of your own as a plugin, written here with biospike's public API only, and
//! mixed with Izhikevich neurons in one network and one schedule.
//!
//! The model is the quadratic integrate-and-fire neuron (Ermentrout & Kopell 1986; Latham et
//! al. 2000) in its normal form
//!
//! `τ dv/dt = v² + I`,  spike when `v ≥ v_peak`, then `v ← v_reset`,
//!
//! integrated with forward Euler in sub-steps; a spike inside a step resets `v` at once and the
//! rest of the step goes on from the reset. For constant `I > 0` the interval between spikes is,
//! in closed form,
//!
//! `T = τ / √I · (atan(v_peak / √I) − atan(v_reset / √I))`,
//!
//! which the example checks against the simulated interval.
//!
//! ```sh
//! cargo run --release --example custom_neuron
//! ```

use biospike::prelude::*;

/// Marks a QIF neuron. Requiring `Neuron` gives it the state every neuron carries (membrane
/// potential, input current, spike flag, …), so input, delivery, detection and recording treat
/// it like any other; `QifParams` is its own.
#[derive(Component, Clone, Copy, Debug, Default)]
#[require(Neuron, QifParams)]
struct QifNeuron;

/// Parameters of one QIF neuron.
#[derive(Component, Clone, Copy, Debug)]
struct QifParams {
    /// Membrane time constant τ, ms.
    tau_ms: f64,
    /// Spike peak (dimensionless v).
    v_peak: f64,
    /// Reset value.
    v_reset: f64,
}

impl Default for QifParams {
    fn default() -> Self {
        Self { tau_ms: 10.0, v_peak: 10.0, v_reset: -10.0 }
    }
}

/// Settings of the plugin: Euler sub-steps per simulation step.
#[derive(Resource, Clone, Copy, Debug)]
struct QifSettings {
    substeps: u32,
}

impl Default for QifSettings {
    fn default() -> Self {
        Self { substeps: 100 }
    }
}

/// The model as a pure function: one step of `dt_ms`, returns `(v, spiked)`.
fn qif_step(mut v: f64, input: f64, p: &QifParams, dt_ms: f64, substeps: u32) -> (f64, bool) {
    let h = dt_ms / f64::from(substeps);
    let mut spiked = false;
    for _ in 0..substeps {
        v += h / p.tau_ms * (v * v + input);
        if v >= p.v_peak {
            v = p.v_reset;
            spiked = true;
        }
    }
    (v, spiked)
}

/// The system: in `SimSystems::Neurons`, beside (and, being a user system, after) the Izhikevich
/// update, on QIF neurons only.
fn integrate_qif(
    mut q: Query<(&mut MembranePotential, &mut SpikedThisStep, &InputCurrent, &Excitability, &QifParams), With<QifNeuron>>,
    clock: Res<SimClock>,
    settings: Res<QifSettings>,
) {
    for (mut v, mut spiked, input, excitability, p) in &mut q {
        let (nv, s) = qif_step(v.0, excitability.0 * input.0, p, clock.dt_ms(), settings.substeps);
        v.0 = nv;
        spiked.0 = s;
    }
}

/// The plugin: settings, the system, and a line for viewers (`NeuronDescriptions`).
struct QifPlugin;

impl Plugin for QifPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<QifSettings>();
        app.add_systems(SimSchedule, integrate_qif.in_set(SimSystems::Neurons));
        app.world_mut().resource_mut::<NeuronDescriptions>().register(|world, e| {
            world.get::<QifParams>(e).map(|p| format!("QIF: tau = {} ms, peak {}, reset {}", p.tau_ms, p.v_peak, p.v_reset))
        });
    }
}

/// Closed-form interval between spikes for constant input `i > 0`, ms.
fn analytic_period(p: &QifParams, i: f64) -> f64 {
    let r = i.sqrt();
    p.tau_ms / r * ((p.v_peak / r).atan() - (p.v_reset / r).atan())
}

fn main() {
    let mut app = App::new();
    app.add_plugins((BiospikePlugins::default().with_seed(5), QifPlugin));
    let world = app.world_mut();
    // Neurons 0..100: Izhikevich regular-spiking cells with noisy input. 100..110: QIF cells
    // driven by them (and a little DC). 110: an isolated QIF cell with constant input 4.
    for id in 0..100 {
        world.spawn((IzhikevichNeuron, NeuronId(id), NoiseCurrent { mean: 5.0, std: 3.0 }));
    }
    for id in 100..110 {
        world.spawn((QifNeuron, NeuronId(id), MembranePotential(-10.0), DcCurrent(0.5)));
    }
    let lone = world.spawn((QifNeuron, NeuronId(110), MembranePotential(-10.0), DcCurrent(4.0))).id();
    // Every Izhikevich cell excites every QIF cell; the QIF cells excite the first 10
    // Izhikevich cells back.
    for pre in 0..100 {
        for post in 100..110 {
            world.spawn((Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(0.4), SynapticDelay(2)));
        }
    }
    for pre in 100..110 {
        for post in 0..10 {
            world.spawn((Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(3.0), SynapticDelay(1)));
        }
    }

    let mut sim = Simulation::new(app);
    let (mut lone_spikes, mut driven, mut izh) = (Vec::new(), 0u32, 0u32);
    sim.step_with(2000, |world| {
        let step = world.resource::<SimClock>().step() - 1;
        for &id in &world.resource::<StepSpikes>().ids {
            match id {
                110 => lone_spikes.push(step),
                100..110 => driven += 1,
                _ => izh += 1,
            }
        }
    });
    sim.finish();

    let p = QifParams::default();
    let (first, last) = (lone_spikes[0], lone_spikes[lone_spikes.len() - 1]);
    let simulated = (last - first) as f64 / (lone_spikes.len() - 1) as f64; // dt = 1 ms
    let expected = analytic_period(&p, 4.0);
    println!("isolated QIF: {} spikes, interval {simulated:.3} ms (closed form {expected:.3} ms)", lone_spikes.len());
    println!("driven QIF cells: {driven} spikes in 2 s; Izhikevich cells: {izh} spikes");
    let description = sim.world().resource::<NeuronDescriptions>().describe(sim.world(), lone);
    println!("neuron 110: {}", description.as_deref().unwrap_or("?"));
    assert!((simulated - expected).abs() < 0.01 * expected, "interval {simulated} vs {expected}");
    assert!(driven > 0 && izh > 0, "both models fire in the mixed network");
}

#[test]
fn runs() {
    main();
}
