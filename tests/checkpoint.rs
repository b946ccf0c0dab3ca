//! Checkpoint and resume (issue #19): a run continued from a checkpoint writes the same tables,
//! bit for bit, as the run that never stopped, for every shipped scene and across thread counts;
//! the state includes spikes in flight through multi-step delays, synapses created and pruned,
//! plasticity traces and a reward on its way; a branch changes what it should; checkpoints of
//! another network, another format, or damaged ones are refused with a message.

#[path = "common/parquet_table.rs"]
mod parquet_table;
#[path = "common/scratch.rs"]
mod scratch;

use biospike::prelude::*;
use biospike::{Checkpoint, RunOptions, Scene, run};
use biospike_structure::StructureDiagnostics;
use parquet_table::read_table;
use scratch::ok;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_biospike"))
}

fn tmp(name: &str) -> PathBuf {
    scratch::dir("checkpoint", name)
}

fn exec(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("spawn: {e}"))
}

/// The tables of two output folders hold the same rows (the profile, which times the run, aside).
fn same_tables(expected: &Path, got: &Path, what: &str) -> usize {
    let mut names: Vec<String> = std::fs::read_dir(expected)
        .unwrap_or_else(|e| panic!("{}: {e}", expected.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{what}: no tables in {}", expected.display());
    for name in &names {
        let (a_rows, a) = read_table(&expected.join(name));
        let (b_rows, b) = read_table(&got.join(name));
        assert_eq!(a_rows, b_rows, "{what}: {name}: rows");
        assert!(a == b, "{what}: {name}: the rows differ");
    }
    names.len()
}

/// The only checkpoint in a run's folder.
fn only_checkpoint(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("checkpoints"))
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("step-")))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap_or_default()
}

/// Multi-step delays (1–8 ms), STDP with deferred potentiation, structural plasticity and
/// drift: spikes are in flight over several steps at any checkpoint, and synapses are created
/// and pruned on both sides of it.
const DELAYED: &str = r#"(
    name: Some("delayed_plastic"), seed: 11, dt_ms: 1.0, time_steps: 800,
    populations: [
        (name: "exc", size: 400, neuron: Preset(RS), noise: Some((mean: 3.0, std: 4.0)),
         synapses: (weight: Uniform(low: 0.5, high: 3.0), delay_ms: Uniform(low: 1.0, high: 8.0))),
        (name: "inh", size: 100, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 3.0, std: 4.0)),
         synapses: (weight: Uniform(low: 0.5, high: 3.0), delay_ms: Uniform(low: 1.0, high: 3.0))),
    ],
    topology: ErdosRenyi(p: 0.04),
    plasticity: Some((learning_rate: 0.01)),
    structure: Some((every_steps: 50, target_out_degree: 20, adjustment_rate: 0.05)),
    drift: Some((every_steps: 200)),
    record: (spikes: true, neurons: true, synapses: true, weights: Some((synapses: [(0, 1), (2, 3)], every_steps: 10, histogram: Some((bins: 20, low: -4.0, high: 4.0))))),
)"#;

/// Every shipped scene (and the multi-step-delay one): the uninterrupted run on 1 thread, a run
/// that checkpoints on 2, and resumes from that checkpoint on 1 and on 2 threads all write the
/// same tables.
#[test]
fn every_scene_resumes_to_the_same_bits_on_1_and_2_threads() {
    let dir = tmp("scenes");
    let delayed = dir.join("delayed_plastic.ron");
    std::fs::write(&delayed, DELAYED).unwrap_or_else(|e| panic!("{e}"));
    let delayed = delayed.display().to_string();
    // The microcircuit at 1/50 of its size (1 543 neurons, 6 M synapses, delays up to 7.5 ms).
    let potjans = dir.join("potjans_2014.ron");
    std::fs::write(&potjans, include_str!("../scenes/potjans_2014.ron").replace("scale: 1.0,", "scale: 0.02,"))
        .unwrap_or_else(|e| panic!("{e}"));
    let potjans = potjans.display().to_string();
    // (scene, steps, checkpoint every ms, its step: one checkpoint, at an odd step)
    let cases: [(&str, u64, f64, u64); 14] = [
        ("izhikevich_2003", 600, 337.0, 337),
        ("ei_receptors", 600, 30.7, 307),
        ("izhikevich_2007_distal_reward", 6000, 3301.0, 3301),
        ("loihi_lif_demo", 600, 311.0, 311),
        ("seed_demo", 1000, 523.0, 523),
        ("sparse_10k", 300, 157.0, 157),
        ("sparse_stdp_10k", 300, 163.0, 163),
        ("sparse_stdp_100k", 60, 31.0, 31),
        ("ei_projections", 600, 307.0, 307),
        ("brunel_2000", 60, 3.1, 31),
        ("brette_2007_cuba", 600, 30.7, 307),
        ("brette_2007_coba", 600, 30.7, 307),
        (&potjans, 300, 15.7, 157),
        (&delayed, 800, 433.0, 433),
    ];
    let mut report = Vec::new();
    for (scene, steps, every_ms, every) in cases {
        let name = Path::new(scene).file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let run_dir = |tag: &str| dir.join(format!("{name}-{tag}"));
        let steps_arg = steps.to_string();
        ok(&exec(bin().args(["run", scene, "--threads", "1", "--steps", &steps_arg, "--out"]).arg(run_dir("whole"))));
        ok(&exec(
            bin()
                .args(["run", scene, "--threads", "2", "--steps", &steps_arg, "--checkpoint-every-ms", &every_ms.to_string(), "--out"])
                .arg(run_dir("checkpointed")),
        ));
        let ckpt = only_checkpoint(&run_dir("checkpointed"));
        assert!(ckpt.ends_with(format!("step-{every:012}")), "{}", ckpt.display());
        for threads in ["1", "2"] {
            let out = run_dir(&format!("resumed{threads}"));
            let o = exec(bin().args(["resume"]).arg(&ckpt).args(["--threads", threads, "--out"]).arg(&out));
            ok(&o);
            assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("at step {every}")), "{}", String::from_utf8_lossy(&o.stdout));
            let n = same_tables(&run_dir("whole"), &out, &format!("{name} resumed on {threads} threads"));
            report.push(format!("{name}: {n} tables identical after resuming at step {every} on {threads} thread(s)"));
        }
        same_tables(&run_dir("whole"), &run_dir("checkpointed"), &format!("{name} while checkpointing"));
    }
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn delivered(sim: &mut Simulation, steps: u64) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    sim.step_with(steps, |w| {
        let step = w.resource::<SimClock>().step() - 1;
        out.extend(w.resource::<StepSpikes>().ids.iter().map(|&id| (step, id)));
    });
    out
}

fn weights(sim: &Simulation) -> Vec<u32> {
    sim.world().resource::<SynapseIndex>().weights().iter().map(|w| w.to_bits()).collect()
}

/// Through the Rust API: a checkpoint taken while input is in flight through multi-step delays,
/// with synapses created and pruned since the start; restoring it into a freshly built model
/// continues with the same spikes, weights and structure.
#[test]
fn a_checkpoint_holds_spikes_in_flight_and_the_changed_structure() {
    let dir = tmp("in-flight");
    let scene = Scene::parse(DELAYED, Path::new("delayed_plastic.ron")).unwrap_or_else(|e| panic!("{e}"));
    let mut first = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    delivered(&mut first, 351);
    let step = first.clock().step();
    let in_flight = |sim: &Simulation| {
        let ring = sim.world().resource::<DelayRing>();
        (2..8).map(|ahead| (0..500).filter(|&n| ring.pending(n, step + ahead) != 0.0).count()).sum::<usize>()
    };
    let flight = in_flight(&first);
    assert!(flight > 0, "input is due 2–7 steps ahead at the checkpoint");
    let created = first.world().resource::<StructureDiagnostics>().created;
    assert!(created > 0, "the structure changed before the checkpoint");
    first.save_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    let rest = delivered(&mut first, 449);
    let mut resumed = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    resumed.restore_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resumed.clock().step(), step);
    assert_eq!(in_flight(&resumed), flight);
    assert_eq!(delivered(&mut resumed, 449), rest, "spikes after the checkpoint");
    assert_eq!(weights(&resumed), weights(&first), "weights at the end");
    let diag = |s: &Simulation| *s.world().resource::<StructureDiagnostics>();
    assert_eq!(diag(&resumed), diag(&first), "structural changes counted over the whole run");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The distal-reward experiment checkpointed while a reward is on its way (a pairing counted,
/// its dopamine not yet released): the resumed run releases it at the same step; a branch of the
/// same checkpoint without rewards releases nothing more while the rewarded branch goes on.
#[test]
fn a_pending_reward_is_delivered_after_resuming_and_a_branch_can_turn_rewards_off() {
    let dir = tmp("reward");
    let scene = Scene::load(Path::new("izhikevich_2007_distal_reward")).unwrap_or_else(|e| panic!("{e}"));
    let mut first = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    let progress = |s: &Simulation| {
        let e = s.world().resource::<DistalReward>();
        (e.pairings, e.rewards)
    };
    // Until a pairing's reward is pending.
    let mut guard = 0;
    while progress(&first).0 <= progress(&first).1 {
        delivered(&mut first, 100);
        guard += 1;
        assert!(guard < 600, "no pairing in 60 s");
    }
    let at_checkpoint = progress(&first);
    first.save_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    let rest = delivered(&mut first, 4000);
    let after = progress(&first);
    assert!(after.1 > at_checkpoint.1, "the pending reward was released within 4 s: {at_checkpoint:?} → {after:?}");

    let mut rewarded = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    rewarded.restore_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(delivered(&mut rewarded, 4000), rest);
    assert_eq!(progress(&rewarded), after);
    assert_eq!(weights(&rewarded), weights(&first));

    let mut control_scene = scene.clone();
    if let Some(biospike::scene::ExperimentDesc::DistalReward { rewards, .. }) = &mut control_scene.desc.experiment {
        *rewards = false;
    }
    let mut control = Simulation::from_scene(&control_scene).unwrap_or_else(|e| panic!("{e}"));
    control.restore_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    delivered(&mut control, 4000);
    let (pairings, rewards) = progress(&control);
    assert_eq!(rewards, at_checkpoint.1, "the control branch releases no dopamine");
    assert!(pairings >= at_checkpoint.0);
    assert_ne!(weights(&control), weights(&first), "without the reward the rewarded synapse is not reinforced the same way");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A checkpoint of another network, of another format, a damaged one, and checkpoints without an
/// output folder are refused with a message (exit 2); an unfinished checkpoint folder left by a
/// crash is never read.
#[test]
fn wrong_damaged_and_unfinished_checkpoints_are_refused_or_skipped() {
    let dir = tmp("refused");
    let out = dir.join("run");
    ok(&exec(bin().args(["run", "seed_demo", "--steps", "400", "--checkpoint-every-ms", "150", "--out"]).arg(&out)));
    let ckpt = only_checkpoint(&out);
    assert!(ckpt.ends_with("step-000000000300"));

    // Another scene's network.
    let o = exec(bin().args(["resume"]).arg(&ckpt).args(["--scene", "izhikevich_2003", "--out"]).arg(dir.join("other")));
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another scene") && err.contains("neurons (10)"), "{err}");

    // A crash while writing a later checkpoint leaves a hidden folder; the complete one is used.
    let partial = out.join("checkpoints/.step-000000000390.tmp");
    std::fs::create_dir_all(&partial).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(partial.join("state.bin"), b"half").unwrap_or_else(|e| panic!("{e}"));
    let opened = Checkpoint::open(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.dir, ckpt);
    assert_eq!(opened.manifest.step, 300);

    // Another format.
    let copy = dir.join("format");
    copy_dir(&ckpt, &copy);
    let manifest = copy.join("checkpoint.ron");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let this = format!("format: {},", biospike_core::checkpoint::FORMAT_VERSION);
    assert!(text.contains(&this), "{text}");
    std::fs::write(&manifest, text.replacen(&this, "format: 99,", 1)).unwrap_or_else(|e| panic!("{e}"));
    let o = exec(bin().args(["resume"]).arg(&copy).args(["--out"]).arg(dir.join("o2")));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("format 99"), "{}", String::from_utf8_lossy(&o.stderr));

    // A damaged state file.
    let copy = dir.join("damaged");
    copy_dir(&ckpt, &copy);
    let state = copy.join("state.bin");
    let mut bytes = std::fs::read(&state).unwrap_or_else(|e| panic!("{e}"));
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&state, bytes).unwrap_or_else(|e| panic!("{e}"));
    let o = exec(bin().args(["resume"]).arg(&copy).args(["--out"]).arg(dir.join("o3")));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("damaged"), "{}", String::from_utf8_lossy(&o.stderr));

    // Checkpoints need an output folder.
    let o = exec(bin().args(["run", "seed_demo", "--no-output", "--checkpoint-every-ms", "100"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("output folder"), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")).flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Ctrl-C with `--checkpoint-at-stop`: the stopped run leaves a checkpoint; `biospike resume` on
/// the run's folder continues into the same folder, whose tables then equal a run that was
/// never stopped.
#[test]
fn a_run_stopped_by_ctrl_c_resumes_into_its_folder_to_the_same_bits() {
    let dir = tmp("ctrl-c");
    let out = dir.join("run");
    let mut child = bin()
        .args(["run", "sparse_stdp_10k", "--steps", "1000000", "--checkpoint-at-stop", "--threads", "2", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !out.join("spikes.parquet.parts/part-000000.parquet").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    assert_eq!(child.wait().ok().and_then(|s| s.code()), Some(130));
    let ckpt = Checkpoint::open(&out).unwrap_or_else(|e| panic!("{e}"));
    let stopped_at = ckpt.manifest.step;
    assert!(stopped_at > 0 && stopped_at < 1_000_000);
    let more = 150;
    ok(&exec(bin().args(["resume"]).arg(&out).args(["--steps", &more.to_string(), "--threads", "1"])));
    let whole = dir.join("whole");
    let scene = Scene::load(Path::new("sparse_stdp_10k")).unwrap_or_else(|e| panic!("{e}"));
    let summary = run(&scene, &RunOptions { steps: Some(stopped_at + more), out: Some(whole.clone()), ..Default::default() })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.steps, stopped_at + more);
    same_tables(&whole, &out, "resumed after Ctrl-C");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One network of every current- and conductance-based model (signed delay-ring channels,
/// synaptic currents and their slopes, adaptation, the integrator's step size and the generator
/// current held over the next step): restored mid-run, it continues with the same spikes.
#[test]
fn exponential_current_neurons_resume_to_the_same_spikes() {
    let dir = tmp("psc-exp");
    let text = r#"(
        dt_ms: 0.1, time_steps: 3000, seed: 3,
        populations: [
            (name: "exc", size: 160, neuron: IafPscExp(tau_syn_ex_ms: 2.0, tau_syn_in_ms: 5.0, v_init: Some(Uniform(low: -70.0, high: -56.0))),
             poisson: Some((rate_hz: 8000.0, weight: 60.0))),
            (name: "inh", size: 40, kind: Inhibitory, neuron: IafPscExp(tau_syn_ex_ms: 2.0, tau_syn_in_ms: 5.0),
             poisson: Some((rate_hz: 8000.0, weight: 60.0))),
            (name: "alpha", size: 30, neuron: IafPscAlpha(tau_syn_ex_ms: 1.0, v_init: Some(Normal(mean: -62.0, std: 3.0))),
             poisson: Some((rate_hz: 8000.0, weight: 30.0)), noise: Some((mean: 0.0, std: 200.0))),
            (name: "adex_g", size: 30, neuron: AeifCondExp(i_e_pa: 800.0, t_ref_ms: 1.0)),
            (name: "adex_i", size: 30, neuron: AeifPscExp(i_e_pa: 500.0), sine: Some((amplitude: 400.0, frequency_hz: 7.0, offset: 300.0))),
        ],
        projections: [
            (source: "exc", target: "exc", rule: PairwiseBernoulli(p: 0.1), weight: Constant(80.0), delay_ms: Uniform(low: 1.0, high: 3.0)),
            (source: "exc", target: "inh", rule: FixedInDegree(k: 16), weight: Constant(80.0), delay_ms: Constant(1.0)),
            (source: "inh", target: "exc", rule: FixedInDegree(k: 4), weight: Constant(300.0), delay_ms: Constant(1.0)),
            (source: "exc", target: "alpha", rule: FixedInDegree(k: 10), weight: Constant(60.0), delay_ms: Constant(1.5)),
            (source: "inh", target: "adex_g", rule: FixedInDegree(k: 4), weight: Constant(5.0), delay_ms: Constant(1.0)),
            (source: "exc", target: "adex_i", rule: FixedInDegree(k: 10), weight: Constant(100.0), delay_ms: Constant(2.0)),
            (source: "adex_g", target: "inh", rule: FixedInDegree(k: 5), weight: Constant(40.0), delay_ms: Constant(1.0)),
        ],
    )"#;
    let scene = Scene::parse(text, Path::new("psc_exp.ron")).unwrap_or_else(|e| panic!("{e}"));
    let mut first = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    let before = delivered(&mut first, 1501);
    assert!(before.len() > 100, "{} spikes before the checkpoint", before.len());
    for (name, ids) in [("alpha", 200..230), ("adex_g", 230..260), ("adex_i", 260..290)] {
        assert!(before.iter().any(|s| ids.contains(&s.1)), "{name} never fired");
    }
    first.save_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    let rest = delivered(&mut first, 1499);
    let mut resumed = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{e}"));
    resumed.restore_state(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(delivered(&mut resumed, 1499), rest);
    let _ = std::fs::remove_dir_all(&dir);
}
