//! STDP and the three-factor rule on single synapses, against closed-form changes computed
//! here from the published rules (not from our code's output).

use bevy_app::App;
use bevy_ecs::prelude::*;
use biospike::prelude::*;
use biospike::testing::run_steps;

/// Forces the listed neurons to fire at the listed steps.
#[derive(Resource, Clone)]
struct Forced(Vec<(u64, u32)>);

fn inject(forced: Res<Forced>, clock: Res<SimClock>, mut spikes: ResMut<StepSpikes>) {
    for &(s, id) in &forced.0 {
        if s == clock.step() && !spikes.ids.contains(&id) {
            spikes.ids.push(id);
        }
    }
    spikes.ids.sort_unstable();
}

/// Two silent neurons, one synapse 0 → 1 (weight `w0`, delay `delay` steps), spikes forced.
fn pair_app(settings: StdpSettings, w0: f32, delay: u16, forced: Vec<(u64, u32)>) -> (App, Entity) {
    let mut app = App::new();
    app.add_plugins(CoreSimPlugin::new(SimClock::new(1.0), 1));
    app.add_plugins(BiospikePlugins);
    app.insert_resource(settings).add_plugins(StdpPlugin);
    app.insert_resource(Forced(forced));
    app.add_systems(SimSchedule, inject.in_set(DetectSystems::Inject));
    for id in 0..2 {
        app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), IzhikevichParams::REGULAR_SPIKING));
    }
    let syn = app.world_mut().spawn((Synapse { pre: NeuronId(0), post: NeuronId(1) }, SynapticWeight(w0), SynapticDelay(delay))).id();
    biospike_synapses::prepare_synapse_index(app.world_mut());
    (app, syn)
}

fn live_weight(app: &App) -> f64 {
    f64::from(app.world().resource::<SynapseIndex>().weights()[0])
}

/// Song et al. (2000) pair rule, `Δt = t_post − t_pre` = +10 ms: `Δw = A+·exp(−(Δt − d)/τ+)`
/// (the presynaptic side counts from the spike's arrival after the delay `d`).
#[test]
fn pre_before_post_potentiates_by_the_analytic_amount() {
    for (delay, trace) in [(1u16, TraceUpdate::Add), (1, TraceUpdate::Reset), (4, TraceUpdate::Add)] {
        let s = StdpSettings { trace, ..StdpSettings::song_2000() };
        let (mut app, _) = pair_app(s, 0.5, delay, vec![(10, 0), (20, 1)]);
        run_steps(&mut app, 30);
        let expected = 0.5 + 0.005 * (-(10.0 - f64::from(delay)) / 20.0f64).exp();
        approx::assert_relative_eq!(live_weight(&app), expected, epsilon = 1e-6);
    }
}

/// Δt = −10 ms: `Δw = −A−·exp(−|Δt|/τ−)`.
#[test]
fn post_before_pre_depresses_by_the_analytic_amount() {
    let (mut app, syn) = pair_app(StdpSettings::song_2000(), 0.5, 1, vec![(10, 1), (20, 0)]);
    run_steps(&mut app, 30);
    let expected = 0.5 - 0.005 * (-10.0 / 20.0f64).exp();
    approx::assert_relative_eq!(live_weight(&app), expected, epsilon = 1e-6);
    // The component still holds the start weight until written back.
    assert_eq!(app.world().get::<SynapticWeight>(syn).map(|w| w.0), Some(0.5));
    assert_eq!(SynapseIndex::write_back(app.world_mut()), 1);
    approx::assert_relative_eq!(f64::from(app.world().get::<SynapticWeight>(syn).map_or(0.0, |w| w.0)), expected, epsilon = 1e-6);
}

/// Multiplicative (soft-bound) LTP scales by `w_max − w`.
#[test]
fn multiplicative_ltp_scales_with_the_distance_to_the_bound() {
    let s = StdpSettings { dependence: WeightDependence::Multiplicative, ..StdpSettings::song_2000() };
    let (mut app, _) = pair_app(s, 0.75, 1, vec![(10, 0), (20, 1)]);
    run_steps(&mut app, 30);
    let expected = 0.75 + 0.005 * (-9.0 / 20.0f64).exp() * (1.0 - 0.75);
    approx::assert_relative_eq!(live_weight(&app), expected, epsilon = 1e-6);
}

/// Izhikevich (2007): a pre/post pair (Δt = +10 ms) leaves eligibility `0.1·0.95⁹`; one
/// dopamine release of 0.5 at t = 200 ms decaying ×0.995 per ms; every 10 ms
/// `w += (0.002 + DA)·e`, `e ×= 0.99`. The weight change after 2 s is the discrete sum
/// `Σ_j (0.002 + DA_j)·e_j` over the update times, computed here from those formulas.
#[test]
fn pair_plus_dopamine_pulse_gives_the_three_factor_change() {
    let mut app = {
        let (mut app, _) = pair_app(StdpSettings::izhikevich_2007(), 1.0, 1, vec![(10, 0), (20, 1)]);
        let mut ns = NeuromodulationSettings::silent();
        ns.modulators[0].phasic_tau_ms = -1.0 / 0.995f64.ln();
        ns.modulators[0].releases.push(ScheduledRelease { at_ms: 200.0, amount: 0.5 });
        app.insert_resource(ns).add_plugins(NeuromodulationPlugin);
        app
    };
    run_steps(&mut app, 2000);
    // Outside formulas (daspnet.m): eligibility from the pair, then the 10-ms updates at the
    // ends of steps 29, 39, … (the update at step 19 precedes the pairing at step 20).
    let e0 = 0.1 * 0.95f64.powi(9);
    let mut e = e0;
    let mut w = 1.0;
    for s in 0..2000u64 {
        if (s + 1) % 10 == 0 && s >= 20 {
            let da = if s >= 200 { 0.5 * 0.995f64.powi((s - 200) as i32) } else { 0.0 };
            w = (w + (0.002 + da) * e).clamp(0.0, 4.0);
            e *= 0.99;
        }
    }
    assert!(w > 1.0 + 0.5 * e0, "the reward should potentiate clearly: {w}");
    approx::assert_relative_eq!(live_weight(&app), w, epsilon = 1e-5);
}

/// Without dopamine (bias only) the same pair changes the weight by `0.002·Σ e_j` only.
#[test]
fn without_dopamine_only_the_bias_acts() {
    let (mut app, _) = pair_app(StdpSettings::izhikevich_2007(), 1.0, 1, vec![(10, 0), (20, 1)]);
    run_steps(&mut app, 1000);
    let e0 = 0.1 * 0.95f64.powi(9);
    let updates = (20..1000u64).filter(|s| (s + 1) % 10 == 0).count() as i32;
    let expected = 1.0 + 0.002 * e0 * (1.0 - 0.99f64.powi(updates)) / (1.0 - 0.99);
    approx::assert_relative_eq!(live_weight(&app), expected, epsilon = 1e-6);
}
