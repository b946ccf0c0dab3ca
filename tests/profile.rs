//! Per-stage profiling: every system of the step is timed and filed under its phase, the parts
//! add up to the whole, and a user's own system shows up like biospike's.

use biospike::prelude::*;
use biospike::{RunOptions, Scene, run};

fn my_probe(spikes: Res<StepSpikes>, mut n: Local<usize>) {
    *n += spikes.ids.len();
}

#[test]
fn the_profile_times_every_system_and_adds_up() {
    let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
    let app = biospike::build::build_app_with(&scene, None, |app| {
        app.add_plugins(ProfilePlugin);
        app.add_systems(SimSchedule, my_probe.in_set(SimSystems::Record));
    })
    .expect("builds");
    let mut sim = Simulation::new(app);
    sim.step(200);
    let p = sim.world().resource::<SimProfile>().clone();
    assert_eq!(p.steps, 200);
    let phase = |name: &str| p.systems.iter().find(|s| s.name.ends_with(name)).map(|s| (s.phase.as_str(), s.runs));
    assert_eq!(phase("integrate_membrane"), Some(("Neurons", 200)));
    assert_eq!(phase("add_noise"), Some(("Input/Drive", 200)));
    assert_eq!(phase("propagate_spikes"), Some(("Propagation/Deliver", 200)));
    assert_eq!(phase("my_probe"), Some(("Record", 200)));
    // Consecutive stamps tile the step: the systems' times add up to the schedule's.
    let sum: std::time::Duration = p.systems.iter().map(|s| s.total).sum();
    assert!(sum <= p.total && sum.as_secs_f64() >= 0.95 * p.total.as_secs_f64(), "{sum:?} of {:?}", p.total);
    let phases: Vec<String> = p.phases().into_iter().map(|(name, _)| name).collect();
    let at = |name: &str| phases.iter().position(|p| p == name);
    assert!(at("Input") < at("Neurons") && at("Neurons") < at("Propagation") && at("Propagation") < at("Record"), "{phases:?}");
}

/// `RunOptions::profile` writes `profile.parquet` beside the other tables; without it nothing
/// is measured.
#[test]
fn run_options_profile_writes_the_table() {
    let scene = Scene::load("izhikevich_2003".as_ref()).expect("embedded scene");
    let dir = std::env::temp_dir().join(format!("biospike-profile-{}", std::process::id()));
    let on = run(&scene, &RunOptions { out: Some(dir.clone()), steps: Some(50), profile: true, ..Default::default() }).expect("runs");
    assert!(on.files.iter().any(|f| f.ends_with("profile.parquet")), "{:?}", on.files);
    assert_eq!(on.profile.map(|p| p.steps), Some(50));
    let off = run(&scene, &RunOptions { steps: Some(50), ..Default::default() }).expect("runs");
    assert!(off.profile.is_none());
    let _ = std::fs::remove_dir_all(dir);
}
