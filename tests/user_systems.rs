//! A user's systems join biospike's phases without ordering them by hand: within each phase,
//! biospike's own systems run first. Two user systems that truly conflict still have to be
//! ordered, and the error names both.

use biospike::prelude::*;

#[derive(Resource, Default)]
struct Seen(Vec<f64>);

/// Reads the drive of the built-in inputs, then adds its own.
fn my_drive(mut q: Query<&mut InputCurrent>, mut seen: ResMut<Seen>) {
    for mut i in &mut q {
        seen.0.push(i.0);
        i.0 += 1.0;
    }
}

fn other_drive(mut q: Query<&mut InputCurrent>) {
    for mut i in &mut q {
        i.0 *= 2.0;
    }
}

fn app() -> App {
    let mut app = App::new();
    app.add_plugins(BiospikePlugins::default());
    app.init_resource::<Seen>();
    app.world_mut().spawn((IzhikevichNeuron, NeuronId(0), DcCurrent(3.0), Excitability(0.0)));
    app
}

/// The case: a system in `InputSystems::Drive` with the input plugin present used to
/// fail the schedule's ambiguity check ("5 pairs of systems with conflicting data access").
#[test]
fn a_user_system_in_a_builtin_phase_runs_after_the_builtin_systems() {
    let mut app = app();
    app.add_systems(SimSchedule, my_drive.in_set(InputSystems::Drive));
    let mut sim = Simulation::new(app);
    sim.step(3);
    // The DC of the input plugin (3.0) was there before the user's system; its +1 stays.
    assert_eq!(sim.world().resource::<Seen>().0, vec![3.0; 3]);
    let e = sim.world_mut().query_filtered::<Entity, With<IzhikevichNeuron>>().single(sim.world()).expect("one neuron");
    assert_eq!(sim.world().get::<InputCurrent>(e).map(|i| i.0), Some(4.0));
}

/// A user's order wins over the default one: a system of the input phase put explicitly before
/// the drive sees the input after the reset, before the DC is added (the built-in systems it is
/// not ordered against, the reset, still go first).
#[test]
fn an_explicit_order_is_kept() {
    let mut app = app();
    app.add_systems(SimSchedule, my_drive.in_set(SimSystems::Input).before(InputSystems::Drive));
    let mut sim = Simulation::new(app);
    sim.step(2);
    assert_eq!(sim.world().resource::<Seen>().0, vec![0.0; 2]);
}

/// Two user systems writing the same component in one phase have no order a reader could
/// guess: the schedule refuses to build, naming both.
#[test]
fn conflicting_user_systems_are_reported_by_name() {
    let mut app = app();
    app.add_systems(SimSchedule, (my_drive, other_drive).in_set(InputSystems::Drive));
    let world = app.world_mut();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step_simulation(world))).expect_err("the schedule must not build");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("my_drive") && message.contains("other_drive"), "{message}");
}
