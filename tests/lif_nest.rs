//! `IafPscDelta`, `IafPscExp`, `IafPscAlpha`, `AeifCondExp` and `AeifPscExp` against NEST
//! 3.10's `iaf_psc_delta`, `iaf_psc_exp`, `iaf_psc_alpha`, `aeif_cond_exp` and `aeif_psc_exp`
//! (issue #16, items 2 and 3): the same neuron, the
//! same input spikes through the same delays, the same constant current; every step's `V` and
//! every spike time compared with the traces NEST wrote (`tests/reference/iaf_psc_*_nest.csv`,
//! made by `tests/reference/nest_lif.py` with the peers' NEST). The integration is
//! exact for the LIF models, and the adaptive exponential models take NEST's own adaptive Runge–Kutta–Fehlberg
//! steps, so the traces agree to rounding (≤ 1e-9 mV) and the spike times exactly.

use biospike::prelude::*;
use biospike::{Scene, Simulation};
use std::collections::BTreeMap;
use std::path::Path;

/// NEST's traces: per case, `V` by step and the spike times.
fn nest(text: &str) -> BTreeMap<String, (BTreeMap<u64, f64>, Vec<f64>)> {
    let mut out: BTreeMap<String, (BTreeMap<u64, f64>, Vec<f64>)> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [case, kind, at, value] = f[..] else { panic!("bad line {line:?}") };
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        let entry = out.entry(case.to_string()).or_default();
        match kind {
            "v" => {
                entry.0.insert(at.parse().unwrap_or_else(|e| panic!("{line}: {e}")), value);
            }
            "spike" => entry.1.push(value),
            _ => panic!("bad kind {line:?}"),
        }
    }
    out
}

/// A case of the NEST scripts: name, the neuron (scene syntax, without `i_e_pa`), `I_e`,
/// excitatory input (times, weight) and inhibitory input (times, |weight|).
type Case = (&'static str, &'static str, f64, (&'static str, f64), (&'static str, f64));

/// `nest_lif.py iaf_psc_delta`'s cases (weights in mV).
fn delta_cases() -> Vec<Case> {
    vec![
        ("subthreshold", "IafPscDelta(", 0.0, ("[10.0, 12.5, 30.0, 30.1, 31.0]", 2.0), ("[50.0, 55.0]", 3.0)),
        ("current_and_spikes", "IafPscDelta(", 376.0, ("[5.0, 20.0, 40.3, 80.0, 80.1, 80.2]", 4.0), ("[100.0, 150.0]", 6.0)),
        (
            "brunel_params",
            "IafPscDelta(tau_m_ms: 20.0, c_m_pf: 1.0, e_l_mv: 0.0, v_reset_mv: 10.0, v_th_mv: 20.0, t_ref_ms: 2.0, v_init: Some(Constant(0.0)),",
            1.2,
            ("[3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0]", 5.0),
            ("[120.0]", 8.0),
        ),
    ]
}

/// `nest_lif.py iaf_psc_exp`'s cases (weights in pA).
fn exp_cases() -> Vec<Case> {
    vec![
        ("default_taus", "IafPscExp(", 0.0, ("[10.0, 12.5, 30.0, 30.1, 31.0]", 600.0), ("[50.0, 55.0]", 900.0)),
        (
            "two_taus_and_current",
            "IafPscExp(tau_syn_ex_ms: 2.0, tau_syn_in_ms: 5.0,",
            300.0,
            ("[5.0, 20.0, 40.3, 80.0, 80.1, 80.2]", 900.0),
            ("[100.0, 150.0, 150.5]", 1200.0),
        ),
        (
            "tau_syn_equals_tau_m",
            "IafPscExp(tau_m_ms: 5.0, tau_syn_ex_ms: 5.0, tau_syn_in_ms: 1.0, t_ref_ms: 3.0,",
            100.0,
            ("[3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0]", 1500.0),
            ("[120.0]", 2000.0),
        ),
    ]
}

/// `nest_lif.py iaf_psc_alpha`'s cases (weights in pA, the currents' peaks).
fn alpha_cases() -> Vec<Case> {
    vec![
        ("default_taus", "IafPscAlpha(", 0.0, ("[10.0, 12.5, 30.0, 30.1, 31.0]", 300.0), ("[50.0, 55.0]", 500.0)),
        (
            "two_taus_current_and_v_min",
            "IafPscAlpha(tau_syn_ex_ms: 1.0, tau_syn_in_ms: 4.0, v_min_mv: Some(-72.0),",
            300.0,
            ("[5.0, 20.0, 40.3, 80.0, 80.1, 80.2]", 600.0),
            ("[100.0, 150.0, 150.5]", 1500.0),
        ),
        (
            "tau_syn_equals_tau_m",
            "IafPscAlpha(tau_m_ms: 5.0, tau_syn_ex_ms: 5.0, tau_syn_in_ms: 1.0, t_ref_ms: 3.0,",
            100.0,
            ("[3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0]", 700.0),
            ("[120.0]", 2000.0),
        ),
    ]
}

/// `nest_lif.py aeif_cond_exp`'s cases (weights in nS).
fn aeif_cond_cases() -> Vec<Case> {
    vec![
        ("defaults_adapting", "AeifCondExp(", 800.0, ("[10.0, 50.0, 50.1, 220.0]", 30.0), ("[150.0, 200.0]", 60.0)),
        (
            "refractory_bursting",
            "AeifCondExp(t_ref_ms: 2.0, a_ns: 2.0, b_pa: 100.0, tau_w_ms: 40.0, v_reset_mv: -48.0, v_peak_mv: 10.0,",
            900.0,
            ("[30.0, 30.5, 120.0]", 40.0),
            ("[80.0, 81.0, 250.0]", 30.0),
        ),
        ("delta_t_zero", "AeifCondExp(delta_t_mv: 0.0, t_ref_ms: 1.0,", 700.0, ("[5.0, 5.1, 100.0]", 50.0), ("[60.0]", 80.0)),
    ]
}

/// `nest_lif.py aeif_psc_exp`'s cases (weights in pA).
fn aeif_psc_cases() -> Vec<Case> {
    vec![
        ("defaults_adapting", "AeifPscExp(", 700.0, ("[10.0, 50.0, 50.1, 220.0]", 900.0), ("[150.0, 200.0]", 1200.0)),
        (
            "refractory_two_taus",
            "AeifPscExp(t_ref_ms: 1.5, a_ns: 10.0, b_pa: 40.0, tau_syn_ex_ms: 1.0, tau_syn_in_ms: 3.0,",
            850.0,
            ("[20.0, 20.2, 120.0, 121.0]", 1500.0),
            ("[70.0, 250.0]", 2500.0),
        ),
    ]
}

/// `nest_lif.py iaf_cond_exp`'s cases (weights in nS): NEST's defaults (`τ_ex` 0.2 ms), COBA's
/// parameters (Brette et al. 2007) and a cell firing tonically on a strong current.
fn cond_exp_cases() -> Vec<Case> {
    vec![
        ("defaults", "IafCondExp(", 200.0, ("[10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 120.1, 120.2]", 40.0), ("[50.0, 55.0, 200.0]", 30.0)),
        (
            "coba_params",
            "IafCondExp(g_l_ns: 10.0, c_m_pf: 200.0, e_l_mv: -60.0, v_th_mv: -50.0, v_reset_mv: -60.0, t_ref_ms: 5.0, e_in_mv: -80.0, \
             tau_syn_ex_ms: 5.0, tau_syn_in_ms: 10.0, v_init: Some(Constant(-60.0)),",
            0.0,
            ("[5.0, 5.1, 5.2, 5.3, 20.0, 40.3, 80.0, 80.1, 80.2, 80.3, 80.4]", 6.0),
            ("[100.0, 150.0, 150.5]", 67.0),
        ),
        (
            "strong_current",
            "IafCondExp(tau_syn_ex_ms: 1.0, tau_syn_in_ms: 4.0,",
            600.0,
            ("[60.0, 60.1, 160.0]", 20.0),
            ("[100.0, 230.0]", 50.0),
        ),
    ]
}

#[test]
fn iaf_psc_delta_traces_and_spike_times_equal_nest() {
    compare(include_str!("reference/iaf_psc_delta_nest.csv"), delta_cases());
}

/// Exponential currents, with one time constant per sign, and `τ_syn = τ_m` (the singular
/// propagator).
#[test]
fn iaf_psc_exp_traces_and_spike_times_equal_nest() {
    compare(include_str!("reference/iaf_psc_exp_nest.csv"), exp_cases());
}

/// Alpha-shaped currents, with one rise time per sign, a lower bound on `V`, and `τ_syn = τ_m`
/// (the singular propagators).
#[test]
fn iaf_psc_alpha_traces_and_spike_times_equal_nest() {
    compare(include_str!("reference/iaf_psc_alpha_nest.csv"), alpha_cases());
}

/// Adaptive exponential neurons with conductances: NEST's adaptive Runge–Kutta–Fehlberg integration step for step
/// (the same stepper, error control and carried-over step size), so the traces agree to
/// rounding.
#[test]
fn aeif_cond_exp_traces_and_spike_times_equal_nest() {
    compare(include_str!("reference/aeif_cond_exp_nest.csv"), aeif_cond_cases());
}

/// Exponential conductances: NEST integrates `iaf_cond_exp` adaptively (GSL's RKF45 to an absolute
/// error of 1e-3 per step), biospike with one classical Runge–Kutta step per `dt` over the exactly
/// decaying conductances, so the traces agree within NEST's own tolerance, not to rounding; the
/// spike times are equal.
#[test]
fn iaf_cond_exp_traces_and_spike_times_agree_with_nest() {
    compare_within(include_str!("reference/iaf_cond_exp_nest.csv"), cond_exp_cases(), COND_EXP_TOLERANCE_MV);
}

/// How far `IafCondExp`'s `V` may be from NEST's at any step, mV.
const COND_EXP_TOLERANCE_MV: f64 = 1e-3;

/// Adaptive exponential neurons with exponential currents, a refractory period and one time constant per sign.
#[test]
fn aeif_psc_exp_traces_and_spike_times_equal_nest() {
    compare(include_str!("reference/aeif_psc_exp_nest.csv"), aeif_psc_cases());
}

fn compare(csv: &str, cases: Vec<Case>) {
    compare_within(csv, cases, 1e-9);
}

/// [`compare`] with `V` allowed `tolerance_mv` from NEST's.
fn compare_within(csv: &str, cases: Vec<Case>, tolerance_mv: f64) {
    let reference = nest(csv);
    for (name, params, i_e, (exc_times, exc_w), (inh_times, inh_w)) in cases {
        let text = format!(
            r#"(
                dt_ms: 0.1, time_steps: 3000,
                populations: [
                    (name: "lif", size: 1, neuron: {params} i_e_pa: {i_e:?})),
                    (name: "exc_in", size: 1, neuron: SpikeGenerator, spike_times_ms: Some([{exc_times}])),
                    (name: "inh_in", size: 1, kind: Inhibitory, neuron: SpikeGenerator, spike_times_ms: Some([{inh_times}])),
                ],
                projections: [
                    (source: "exc_in", target: "lif", rule: AllToAll, weight: Constant({exc_w:?}), delay_ms: Constant(1.0)),
                    (source: "inh_in", target: "lif", rule: AllToAll, weight: Constant({inh_w:?}), delay_ms: Constant(1.0)),
                ],
            )"#
        );
        check(name, &text, &reference, tolerance_mv);
    }
}

/// Runs the one-neuron scene `text` for 300 ms and compares neuron 0's `V` at every step and its
/// spike times with NEST's case `name`: `V` within `tolerance_mv`, the spike times equal.
fn check(name: &str, text: &str, reference: &BTreeMap<String, (BTreeMap<u64, f64>, Vec<f64>)>, tolerance_mv: f64) {
    let scene = Scene::parse(text, Path::new("lif.ron")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut sim = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (mut trace, mut spikes) = (BTreeMap::new(), Vec::new());
    sim.step_with(3000, |w| {
        let step = w.resource::<SimClock>().step() - 1;
        let mut q = w.query::<(&NeuronId, &MembranePotential)>();
        if let Some((_, v)) = q.iter(w).find(|(id, _)| id.0 == 0) {
            trace.insert(step, v.0);
        }
        if w.resource::<StepSpikes>().ids.contains(&0) {
            spikes.push(step as f64 * 0.1);
        }
    });
    let (nest_v, nest_spikes) = &reference[name];
    let mut worst = 0.0f64;
    for (step, v) in nest_v {
        let ours = trace.get(step).copied().unwrap_or(f64::NAN);
        let d = (ours - v).abs();
        assert!(d <= tolerance_mv, "{name}: step {step} ({} ms): V {ours} vs NEST {v}", *step as f64 * 0.1);
        worst = worst.max(d);
    }
    assert!(nest_v.len() >= 2900, "{name}: {} NEST samples", nest_v.len());
    assert_eq!(spikes.len(), nest_spikes.len(), "{name}: spikes {spikes:?} vs NEST {nest_spikes:?}");
    for (a, b) in spikes.iter().zip(nest_spikes) {
        assert!((a - b).abs() < 1e-9, "{name}: spike at {a} ms vs NEST {b} ms");
    }
    eprintln!("{name}: {} steps, largest |ΔV| {worst:.3e} mV, {} spikes at NEST's times", nest_v.len(), spikes.len());
}

/// Current generators (issue #16, item 4) against NEST's `step_current_generator`,
/// `dc_generator` and `ac_generator` (`tests/reference/nest_currents.py`): each NEST generator
/// is connected with a delay of one step (0.1 ms, NEST's least), so its value at `t` acts on
/// `V` over `(t + 0.1, t + 0.2]`; a biospike generator's value at `t` acts over `(t, t + 0.1]`,
/// so the scenes below give biospike's generators NEST's times plus 0.1 ms (segment bounds half
/// a step off the grid, the sine's phase moved back by `360° · f · 0.1 ms`). NEST's
/// `ac_generator` (start 0) first acts over `(0.2, 0.3]`, so the sine starts at 0.15 ms.
#[test]
fn generator_currents_equal_nest() {
    let reference = nest(include_str!("reference/currents_nest.csv"));
    let pulse = |a: f64, b: Option<f64>, value: f64| {
        let end = b.map_or("Unbounded".to_string(), |b| format!("Open({:?})", b + 0.05));
        format!("(start: Closed({:?}), end: {end}, value: {value:?})", a + 0.05)
    };
    let stimulus = |segments: &[String]| format!("stimulus: Some((segments: [{}])),", segments.join(", "));
    let sine = |amplitude: f64, offset: f64, f: f64, phase: f64| {
        format!(
            "sine: Some((amplitude: {amplitude:?}, offset: {offset:?}, frequency_hz: {f:?}, phase_deg: {:?}, start_ms: 0.15)),",
            phase - 360.0 * f * 1e-4
        )
    };
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "delta_steps",
            "IafPscDelta()",
            stimulus(&[pulse(20.0, Some(60.0), 300.0), pulse(120.3, Some(200.0), 500.0), pulse(200.0, None, -100.0)]),
        ),
        (
            "exp_sine_and_steps",
            "IafPscExp(tau_syn_ex_ms: 2.0, tau_syn_in_ms: 5.0)",
            sine(200.0, 250.0, 15.0, 30.0) + &stimulus(&[pulse(100.0, Some(180.0), 150.0)]),
        ),
        ("alpha_dc_window", "IafPscAlpha(i_e_pa: 100.0)", stimulus(&[pulse(50.0, Some(150.0), 400.0)])),
        ("cond_exp_steps", "IafCondExp()", stimulus(&[pulse(10.0, Some(100.0), 500.0), pulse(100.0, Some(220.0), 250.0)])),
        (
            "aeif_cond_exp_steps_and_sine",
            "AeifCondExp()",
            stimulus(&[pulse(30.0, Some(150.0), 800.0), pulse(150.0, None, 300.0)]) + &sine(300.0, 0.0, 8.0, -45.0),
        ),
        ("aeif_psc_exp_dc_window", "AeifPscExp(t_ref_ms: 1.0)", stimulus(&[pulse(20.0, Some(200.0), 700.0)])),
    ];
    for (name, neuron, drive) in cases {
        let text = format!("(dt_ms: 0.1, time_steps: 3000, populations: [(name: \"n\", size: 1, neuron: {neuron}, {drive})])");
        check(name, &text, &reference, 1e-9);
    }
}

/// A one-neuron case with receptor ports: name, the neuron (scene syntax, without `i_e_pa`),
/// `I_e`, and its inputs: spike times, the source's kind, and `(|weight|, port)` per projection.
type PortCase = (&'static str, &'static str, f64, &'static [(&'static str, &'static str, &'static [(f64, u8)])]);

/// Runs each port case as a scene (a spike generator per input, a projection per port) and
/// compares it with NEST's traces in `csv`.
fn compare_ports(csv: &str, cases: &[PortCase]) {
    let reference = nest(csv);
    for &(name, neuron, i_e, inputs) in cases {
        let mut populations = format!("(name: \"lif\", size: 1, neuron: {neuron} i_e_pa: {i_e:?})),\n");
        let mut projections = String::new();
        for (g, (times, kind, targets)) in inputs.iter().enumerate() {
            populations += &format!("(name: \"in{g}\", size: 1, kind: {kind}, neuron: SpikeGenerator, spike_times_ms: Some([{times}])),\n");
            for (w, port) in targets.iter() {
                projections += &format!(
                    "(source: \"in{g}\", target: \"lif\", rule: AllToAll, weight: Constant({w:?}), delay_ms: Constant(1.0), receptor: Some({port})),\n"
                );
            }
        }
        let text = format!("(dt_ms: 0.1, time_steps: 3000, populations: [{populations}], projections: [{projections}])");
        check(name, &text, &reference, 1e-9);
    }
}

/// `iaf_psc_exp_multisynapse` (issue #16, item 2: several receptors per neuron) against NEST's
/// traces (`tests/reference/nest_multisynapse.py`): three ports with their own time constants,
/// and one source reaching the neuron through two ports (a fast and a slow current from one
/// presynaptic neuron) while a second source also uses port 1 with negative weights.
#[test]
fn iaf_psc_exp_multisynapse_traces_and_spike_times_equal_nest() {
    compare_ports(
        include_str!("reference/iaf_psc_exp_multisynapse_nest.csv"),
        &[
            (
                "three_ports",
                "IafPscExpMultisynapse(tau_syn_ms: [0.5, 2.0, 20.0],",
                300.0,
                &[
                    ("[5.0, 20.0, 40.3, 80.0, 80.1]", "Excitatory", &[(900.0, 1)]),
                    ("[10.0, 30.0, 100.0]", "Inhibitory", &[(1200.0, 2)]),
                    ("[50.0, 60.0, 150.0, 150.5, 200.0]", "Excitatory", &[(150.0, 3)]),
                ],
            ),
            (
                "same_source_two_ports",
                "IafPscExpMultisynapse(tau_syn_ms: [2.0, 100.0], tau_m_ms: 20.0, t_ref_ms: 3.0,",
                0.0,
                &[
                    ("[10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 121.0, 122.0]", "Excitatory", &[(700.0, 1), (60.0, 2)]),
                    ("[60.0, 61.0, 200.0]", "Inhibitory", &[(1500.0, 1)]),
                ],
            ),
        ],
    );
}

/// `aeif_cond_beta_multisynapse` against NEST's traces (`tests/reference/nest_multisynapse.py`):
/// four conductance ports with their own reversal potentials, rise and decay times (one source
/// through two of them; an inhibitory source's weights count by magnitude, as NEST requires
/// positive conductances), and one port with refractoriness and adaptation.
#[test]
fn aeif_cond_beta_multisynapse_traces_and_spike_times_equal_nest() {
    compare_ports(
        include_str!("reference/aeif_cond_beta_multisynapse_nest.csv"),
        &[
            (
                "four_ports",
                "AeifCondBetaMultisynapse(e_rev_mv: [0.0, 0.0, -80.0, -95.0], tau_rise_ms: [0.2, 2.0, 0.5, 5.0], tau_decay_ms: [2.0, 100.0, 6.0, 50.0],",
                500.0,
                &[
                    ("[10.0, 12.0, 50.0, 50.1, 120.0]", "Excitatory", &[(8.0, 1), (1.0, 2)]),
                    ("[30.0, 31.0, 160.0]", "Inhibitory", &[(15.0, 3)]),
                    ("[200.0, 201.0]", "Inhibitory", &[(5.0, 4)]),
                ],
            ),
            (
                "refractory_one_port",
                "AeifCondBetaMultisynapse(e_rev_mv: [0.0], tau_rise_ms: [1.0], tau_decay_ms: [3.0], t_ref_ms: 2.0, a_ns: 2.0, b_pa: 60.0,",
                650.0,
                &[("[20.0, 20.5, 21.0, 90.0, 90.2, 180.0]", "Excitatory", &[(20.0, 1)])],
            ),
        ],
    );
}

/// `aeif_cond_alpha_multisynapse` against NEST's traces (`tests/reference/nest_multisynapse.py`):
/// three alpha-shaped conductance ports (0.5, 20 and 5 ms; reversal potentials 0, 0, −85 mV).
#[test]
fn aeif_cond_alpha_multisynapse_traces_and_spike_times_equal_nest() {
    compare_ports(
        include_str!("reference/aeif_cond_alpha_multisynapse_nest.csv"),
        &[(
            "three_alpha_ports",
            "AeifCondAlphaMultisynapse(e_rev_mv: [0.0, 0.0, -85.0], tau_syn_ms: [0.5, 20.0, 5.0],",
            640.0,
            &[
                ("[10.0, 12.0, 50.0, 50.1, 120.0, 220.0]", "Excitatory", &[(6.0, 1), (0.75, 2)]),
                ("[30.0, 31.0, 160.0, 161.0]", "Inhibitory", &[(10.0, 3)]),
            ],
        )],
    );
}

/// `iaf_psc_alpha_multisynapse` against NEST's traces (`tests/reference/nest_multisynapse.py`):
/// three alpha-shaped current ports, and one source through two ports with `V_min` and a second
/// source's negative weights on port 1.
#[test]
fn iaf_psc_alpha_multisynapse_traces_and_spike_times_equal_nest() {
    compare_ports(
        include_str!("reference/iaf_psc_alpha_multisynapse_nest.csv"),
        &[
            (
                "three_alpha_ports",
                "IafPscAlphaMultisynapse(tau_syn_ms: [0.5, 2.0, 20.0],",
                300.0,
                &[
                    ("[5.0, 20.0, 40.3, 80.0, 80.1]", "Excitatory", &[(600.0, 1)]),
                    ("[10.0, 30.0, 100.0]", "Inhibitory", &[(800.0, 2)]),
                    ("[50.0, 60.0, 150.0, 150.5, 200.0]", "Excitatory", &[(100.0, 3)]),
                ],
            ),
            (
                "same_source_v_min",
                "IafPscAlphaMultisynapse(tau_syn_ms: [1.0, 50.0], tau_m_ms: 20.0, t_ref_ms: 3.0, v_min_mv: Some(-72.0),",
                0.0,
                &[
                    ("[10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 121.0, 122.0]", "Excitatory", &[(500.0, 1), (40.0, 2)]),
                    ("[60.0, 61.0, 200.0]", "Inhibitory", &[(1500.0, 1)]),
                ],
            ),
        ],
    );
}
