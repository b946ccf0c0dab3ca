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
    app.add_plugins(BiospikePlugins::default().with_seed(1));
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
        ns.modulators[0].releases.push(ScheduledRelease::at(200.0, 0.5));
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

/// A small random network with mixed delays and strong drive, STDP applied directly.
/// `dense`: rows of ≈ 180 synapses (more than one replay block); plastic synapses chosen by
/// population pair, so the inhibitory rows mix plastic and static synapses; inhibitory
/// neurons driven hard, so some targets fire more often between two presynaptic spikes than
/// the per-neuron spike log holds.
fn deferred_scene(traces: &str, dependence: &str, timing: &str, structure: bool, dense: bool) -> biospike::Scene {
    let structure =
        if structure { "structure: Some((every_steps: 10, target_out_degree: 6, adjustment_rate: 0.3, prune_below: 0.2))," } else { "" };
    let (p, exc_w, inh_w, inh_mean, plastic) = if dense {
        (
            "0.9",
            "Uniform(low: 0.0, high: 0.5)",
            "Uniform(low: 0.5, high: 1.5)",
            "12.0",
            r#"plastic: Pairs([("exc", "exc"), ("exc", "inh"), ("inh", "exc")]),"#,
        )
    } else {
        ("0.08", "Uniform(low: 0.0, high: 4.0)", "Uniform(low: 1.0, high: 3.0)", "3.0", "")
    };
    let text = format!(
        r#"(
        seed: 11, dt_ms: 1.0, time_steps: 600,
        populations: [
            (name: "exc", size: 160, noise: Some((mean: 3.0, std: 6.0)),
             synapses: (weight: {exc_w}, delay_ms: Uniform(low: 1.0, high: 6.0))),
            (name: "inh", size: 40, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: {inh_mean}, std: 6.0)),
             synapses: (weight: {inh_w}, delay_ms: Constant(1.0))),
        ],
        topology: ErdosRenyi(p: {p}),
        plasticity: Some((dopamine_gated: false, a_plus: 0.05, a_minus: 0.06, w_max: 4.0,
                          traces: {traces}, dependence: {dependence}, ltp_timing: {timing}, {plastic})),
        {structure}
    )"#
    );
    match biospike::Scene::parse(&text, "<deferred test>".as_ref()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Spikes of every step, the live weights at steps 0, 100, 200, …, and the final weights.
fn deferred_run(scene: &biospike::Scene, flush_every: Option<u64>) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let mut app = match biospike::build_app(scene, None) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    if let Some(f) = flush_every {
        app.world_mut().resource_mut::<StdpSettings>().ltp = LtpTiming::Deferred { flush_every_steps: f };
    }
    biospike_synapses::prepare_synapse_index(app.world_mut());
    let (mut spikes, mut weights) = (Vec::new(), Vec::new());
    for step in 0..600u64 {
        if step == 250 {
            // A user's weight edit mid-run: it lands at the next propagation in both timings.
            let world = app.world_mut();
            let some: Vec<Entity> = world.query_filtered::<Entity, With<Synapse>>().iter(world).step_by(7).collect();
            for e in some {
                world.entity_mut(e).insert(SynapticWeight(0.25));
            }
        }
        run_steps(&mut app, 1);
        spikes.push(app.world().resource::<StepSpikes>().ids.clone());
        if step % 100 == 0 && flush_every.is_none_or(|f| step % f == 0) {
            weights.push(app.world().resource::<SynapseIndex>().weights().iter().map(|w| w.to_bits()).collect());
        }
    }
    biospike_stdp::flush_deferred_ltp(app.world_mut());
    weights.push(app.world().resource::<SynapseIndex>().weights().iter().map(|w| w.to_bits()).collect());
    (spikes, weights)
}

/// Deferred potentiation (at the presynaptic neuron's next spike) changes when the work is
/// done, not the result: the same spikes every step and bit-identical weights wherever they are
/// flushed, for both pairing rules and both weight dependences, with mixed delays, a user's weight
/// edit mid-run and structural plasticity, and on a dense network whose rows span several
/// replay blocks, mix plastic and static synapses, and see more spikes than the log keeps inline.
#[test]
fn deferred_ltp_is_bit_identical_to_ltp_at_the_post_spike() {
    for (traces, dependence, structure, dense) in [
        ("AllToAll", "Additive", false, false),
        ("Nearest", "Additive", false, false),
        ("AllToAll", "Multiplicative", false, false),
        ("AllToAll", "Additive", true, false),
        ("AllToAll", "Additive", false, true),
    ] {
        let eager = deferred_run(&deferred_scene(traces, dependence, "AtPostSpike", structure, dense), None);
        let total: usize = eager.0.iter().map(Vec::len).sum();
        assert!(total > 1_500, "the network is active ({total} spikes)");
        let scene = deferred_scene(traces, dependence, "Deferred", structure, dense);
        let flushes = if structure { vec![None] } else { vec![Some(1), Some(50), Some(1000)] };
        for f in flushes {
            let deferred = deferred_run(&scene, f);
            assert!(eager.0 == deferred.0, "{traces} {dependence} structure={structure} flush={f:?}: spikes differ");
            if f.is_none_or(|f| 100 % f == 0) {
                assert!(eager.1 == deferred.1, "{traces} {dependence} structure={structure} flush={f:?}: weights differ");
            } else {
                assert!(eager.1.last() == deferred.1.last(), "{traces} {dependence} flush={f:?}: final weights differ");
            }
        }
    }
}

/// The analytic pair changes hold with deferred potentiation too (read after a flush).
#[test]
fn deferred_ltp_gives_the_analytic_pair_change() {
    for (delay, trace) in [(1u16, TraceUpdate::Add), (1, TraceUpdate::Reset), (4, TraceUpdate::Add)] {
        let s = StdpSettings { trace, ltp: LtpTiming::Deferred { flush_every_steps: 1000 }, ..StdpSettings::song_2000() };
        let (mut app, _) = pair_app(s, 0.5, delay, vec![(10, 0), (20, 1)]);
        run_steps(&mut app, 30);
        assert_eq!(live_weight(&app), 0.5, "pending until the next presynaptic spike or a flush");
        biospike_stdp::flush_deferred_ltp(app.world_mut());
        let expected = 0.5 + 0.005 * (-(10.0 - f64::from(delay)) / 20.0f64).exp();
        approx::assert_relative_eq!(live_weight(&app), expected, epsilon = 1e-6);
    }
}
