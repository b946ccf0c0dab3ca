//! Every default is stated once: a stage the scene enables with `()` gets exactly its plugin's
//! `Settings::default()`, and optional fields take a value with or without `Some(..)`.

use biospike::prelude::*;
use biospike::{Scene, model_app};

fn scene(extra: &str) -> Scene {
    let text = format!(
        r#"(
        dt_ms: 1.0, time_steps: 10,
        populations: [(name: "exc", size: 20), (name: "inh", size: 5, kind: Inhibitory)],
        topology: FixedOutDegree(k: 3),
        {extra}
    )"#
    );
    Scene::parse(&text, "<defaults test>".as_ref()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_empty_stage_gets_the_plugin_defaults() {
    let app = model_app(&scene("plasticity: Some(()), neuromodulation: Some(()), structure: Some(()), drift: Some(()),"));
    let world = app.world();
    assert_eq!(*world.resource::<StdpSettings>(), StdpSettings::default());
    let modulation = world.resource::<NeuromodulationSettings>();
    assert_eq!(modulation.modulators, NeuromodulationSettings::default().modulators);
    assert_eq!(modulation.tau_excitability_ms, NeuromodulationSettings::default().tau_excitability_ms);
    assert_eq!(*world.resource::<StructuralPlasticitySettings>(), StructuralPlasticitySettings::default());
    assert_eq!(*world.resource::<DriftSettings>(), DriftSettings::default());
    assert_eq!(*world.resource::<IzhikevichSettings>(), IzhikevichSettings::default());
}

/// The defaults themselves, as documented (the original project's and Izhikevich's values).
#[test]
fn the_defaults_are_the_documented_values() {
    let s = StdpSettings::default();
    assert_eq!(
        (s.a_plus, s.a_minus, s.tau_plus_ms, s.tau_minus_ms, s.w_min, s.w_max),
        (0.005, 0.005, 20.0, 20.0, 0.0, f64::from(f32::MAX))
    );
    assert_eq!(s.mode, StdpMode::DopamineGated { tau_eligibility_ms: 1000.0, dopamine_bias: 0.0, update_every_steps: 1 });
    assert_eq!(NeuromodulationSettings::default(), NeuromodulationSettings::silent());
    assert_eq!(
        IzhikevichSettings::default(),
        IzhikevichSettings { scheme: IntegrationScheme::HalfStep { v_substeps: 2 }, threshold_mv: 30.0 }
    );
}

#[test]
fn optional_fields_take_a_value_with_or_without_some() {
    let with = scene("plasticity: Some((learning_rate: 0.5)),");
    let without = scene("plasticity: (learning_rate: 0.5),");
    assert_eq!(with.desc.plasticity, without.desc.plasticity);
    let mut noisy = scene("");
    let text = noisy.text.replace(r#"(name: "exc", size: 20)"#, r#"(name: "exc", size: 20, noise: (mean: 1.0, std: 2.0))"#);
    noisy = Scene::parse(&text, "<defaults test>".as_ref()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(noisy.desc.populations[0].noise.map(|n| (n.mean, n.std)), Some((1.0, 2.0)));
}
