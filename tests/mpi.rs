//! `mpirun -np 2` and `-np 3` against one process (issue #17): the same scene and seed give
//! the same spike table, the same final weights and every other table, row for row and bit
//! for bit, whatever the rank and thread counts; a halt on one rank stops all with the rank
//! named; checkpoints resume on as many ranks; polars and pandas read a table's
//! per-rank parts as one table. Needs the `mpi` feature and Open MPI's `mpirun` (`.ci/mpi-deps`).
#![cfg(feature = "mpi")]

#[path = "common/python_venv.rs"]
mod python_venv;
#[path = "common/scratch.rs"]
mod scratch;

use arrow_array::{Array, Float32Array, Float64Array, StringArray, UInt16Array, UInt32Array, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use scratch::ok;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    scratch::dir("mpi", name)
}

/// `mpirun -np ranks biospike` (CI runs as root in a container with 2 cores); arguments follow.
fn mpirun(ranks: u32) -> Command {
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", &ranks.to_string(), env!("CARGO_BIN_EXE_biospike")]);
    c
}

/// `biospike run SCENE --steps N --threads T --out OUT`, in one process (`ranks` 1) or under
/// `mpirun -np ranks`.
fn run(ranks: u32, threads: u32, scene: &str, steps: u64, out: &Path) -> Output {
    let args = ["run", scene, "--steps", &steps.to_string(), "--threads", &threads.to_string(), "--out"];
    let mut cmd = if ranks == 1 { Command::new(env!("CARGO_BIN_EXE_biospike")) } else { mpirun(ranks) };
    cmd.args(args).arg(out).output().expect("mpirun (install Open MPI: .ci/mpi-deps)")
}

/// Every row of a table (one file, or the folder of its per-rank parts) as text, each value
/// exact (floats by their bits), sorted: the table's content whatever the row order.
fn rows(dir: &Path, table: &str) -> Option<Vec<String>> {
    let file = dir.join(format!("{table}.parquet"));
    let mut files = vec![file.clone()];
    if !file.exists() {
        let folder = dir.join(table);
        let mut parts: Vec<PathBuf> = std::fs::read_dir(&folder).ok()?.map(|e| e.expect("entry").path()).collect();
        parts.sort();
        files = parts;
    }
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).expect("open"))
            .and_then(|b| b.build())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for batch in reader {
            let batch = batch.expect("batch");
            for r in 0..batch.num_rows() {
                let cells: Vec<String> = batch.columns().iter().map(|c| cell(c.as_ref(), r)).collect();
                out.push(cells.join(","));
            }
        }
    }
    out.sort();
    Some(out)
}

fn cell(c: &dyn Array, r: usize) -> String {
    let any = c.as_any();
    if c.is_null(r) {
        return "null".into();
    }
    if let Some(a) = any.downcast_ref::<UInt64Array>() {
        return a.value(r).to_string();
    }
    if let Some(a) = any.downcast_ref::<UInt32Array>() {
        return a.value(r).to_string();
    }
    if let Some(a) = any.downcast_ref::<UInt16Array>() {
        return a.value(r).to_string();
    }
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        return format!("{:x}", a.value(r).to_bits());
    }
    if let Some(a) = any.downcast_ref::<Float32Array>() {
        return format!("{:x}", a.value(r).to_bits());
    }
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return a.value(r).to_string();
    }
    format!("{:?}", c.slice(r, 1))
}

const TABLES: [&str; 8] = ["spikes", "synapses", "neurons", "state", "weights", "weight_histogram", "modulators", "excitability"];

/// Runs `scene` in one process and on each `(ranks, threads)`; every table must match.
fn same_tables(name: &str, scene: &str, steps: u64, splits: &[(u32, u32)]) {
    let dir = tmp(name);
    let single = dir.join("single");
    ok(&run(1, 1, scene, steps, &single));
    let reference: Vec<(&str, Vec<String>)> = TABLES.iter().filter_map(|t| rows(&single, t).map(|r| (*t, r))).collect();
    assert!(reference.iter().any(|(t, r)| (*t == "spikes" || *t == "synapses") && !r.is_empty()), "{name}: nothing to compare");
    for &(ranks, threads) in splits {
        let out = dir.join(format!("np{ranks}_t{threads}"));
        let o = run(ranks, threads, scene, steps, &out);
        ok(&o);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("rank      neurons"), "{name}: the summary names each rank's load:\n{stdout}");
        for (table, expected) in &reference {
            let got = rows(&out, table).unwrap_or_else(|| panic!("{name} -np {ranks}: no {table} table"));
            assert_eq!(got.len(), expected.len(), "{name} -np {ranks} --threads {threads}: {table} rows");
            if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
                panic!("{name} -np {ranks} --threads {threads}: {table} differs, first at sorted row {i}: {} vs {}", got[i], expected[i]);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Brunel (2000): delta synapses with 1.5 ms = 15-step delays, 12 500 neurons; spikes are
/// exchanged once per 15 steps, and delivered in the exchange step in emission order.
#[test]
fn brunel_delays_of_many_steps_on_two_and_three_ranks() {
    same_tables("brunel", "brunel_2000", 400, &[(2, 1), (3, 1)]);
    let dir = tmp("brunel-cadence");
    let o = run(2, 1, "brunel_2000", 30, &dir.join("out"));
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("spikes exchanged every 15 steps (the minimum delay), 2 exchanges"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Dopamine-gated STDP with eligibility traces, the distal-reward experiment (rewards from
/// spikes on other ranks), neuromodulator levels, a weight histogram summed across ranks.
#[test]
fn distal_reward_stdp_and_dopamine_on_two_and_three_ranks() {
    same_tables("distal", "izhikevich_2007_distal_reward", 2500, &[(2, 1), (3, 2)]);
}

/// Structural plasticity (out-degrees and new targets agreed across ranks), drift, sampled
/// state and weights, every whole-network table.
#[test]
fn structure_drift_and_recording_on_two_and_three_ranks() {
    same_tables("seed_demo", "seed_demo", 2000, &[(2, 1), (3, 1)]);
}

/// The Loihi stage: fixed-point LIF neurons, Dense projections quantized per projection
/// from the whole projection's weight range.
#[test]
fn loihi_stage_on_two_and_three_ranks() {
    same_tables("loihi", "loihi_lif_demo", 1000, &[(2, 1), (3, 1)]);
}

/// Conductance-based LIF (Brette et al. 2007 COBA) with two compute threads per rank.
#[test]
fn coba_with_two_threads_per_rank() {
    same_tables("coba", "brette_2007_coba", 1000, &[(2, 2)]);
}

/// Receptor ports (`iaf_psc_exp_multisynapse`, each excitatory source through two ports),
/// exchanged every step (1-step minimum delay).
#[test]
fn receptor_ports_on_two_and_three_ranks() {
    same_tables("receptors", "ei_receptors", 1000, &[(2, 1), (3, 1)]);
}

/// A halt on rank 1 (neurons 5..10 blow up) stops every rank at the same step; the message
/// names the neuron, the step and the rank; every rank's files are complete.
#[test]
fn a_halt_on_one_rank_stops_all_and_names_the_rank() {
    let dir = tmp("halt");
    let scene = dir.join("blowup.ron");
    std::fs::write(
        &scene,
        r#"(dt_ms: 1.0, time_steps: 100, populations: [
    (name: "a", size: 5, noise: Some((mean: 5.0, std: 2.0))),
    (name: "b", size: 5, dc: 1e308, noise: Some((mean: 1e308, std: 0.0)))],
 topology: FixedInDegree(k: 3), record: (state: Some((neurons: [0, 7]))))"#,
    )
    .expect("write");
    let out = dir.join("out");
    let o = run(2, 1, scene.to_str().expect("path"), 100, &out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("HALTED") && stdout.contains("step 0") && stdout.contains("neuron 5") && stdout.contains("(rank 1)"),
        "{stdout}"
    );
    for table in ["halt_snapshot", "spikes", "state", "neurons"] {
        let r = rows(&out, table).unwrap_or_else(|| panic!("no {table}"));
        if table == "halt_snapshot" {
            assert_eq!(r.len(), 10, "both ranks' neurons in the snapshot");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Checkpoints of a split run: each rank writes its part under `checkpoints/rank-RRRR/`;
/// `mpirun -np 2 biospike resume` continues from the latest step both ranks have, and the
/// tables hold the whole run, the same as one process running uninterrupted. Resuming on
/// another number of ranks is refused, named once.
#[test]
fn checkpoint_and_resume_on_two_ranks_equal_one_uninterrupted_process() {
    let dir = tmp("checkpoint");
    let single = dir.join("single");
    ok(&run(1, 1, "izhikevich_2007_distal_reward", 600, &single));
    let split = dir.join("split");
    let o = mpirun(2)
        .args(["run", "izhikevich_2007_distal_reward", "--steps", "300", "--threads", "1", "--checkpoint-every-ms", "100", "--out"])
        .arg(&split)
        .output()
        .expect("mpirun");
    ok(&o);
    for rank in ["rank-0000", "rank-0001"] {
        let steps: Vec<String> = std::fs::read_dir(split.join("checkpoints").join(rank))
            .expect("rank checkpoints")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(steps.len(), 2, "{rank} keeps its last two checkpoints: {steps:?}");
    }
    let wrong = mpirun(3).args(["resume"]).arg(&split).args(["--steps", "10"]).output().expect("mpirun");
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(stderr.matches("written by a run split over 2 MPI ranks").count(), 1, "{stderr}");
    let o = mpirun(2).args(["resume"]).arg(&split).args(["--steps", "300", "--threads", "1"]).output().expect("mpirun");
    ok(&o);
    for table in TABLES {
        let (a, b) = (rows(&single, table), rows(&split, table));
        assert_eq!(a.is_some(), b.is_some(), "{table}");
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(a.len(), b.len(), "{table} rows");
            assert!(a == b, "{table}: the resumed split run differs from one uninterrupted process");
        }
    }
    // Brunel exchanges once per 15 steps: a checkpoint at step 310 holds the spikes of steps
    // 300..310 still waiting for their exchange.
    let single = dir.join("brunel-single");
    ok(&run(1, 1, "brunel_2000", 600, &single));
    let split = dir.join("brunel-split");
    ok(&mpirun(2)
        .args(["run", "brunel_2000", "--steps", "310", "--threads", "1", "--checkpoint-every-ms", "31", "--out"])
        .arg(&split)
        .output()
        .expect("mpirun"));
    ok(&mpirun(2).args(["resume"]).arg(&split).args(["--steps", "290", "--threads", "1"]).output().expect("mpirun"));
    assert!(rows(&single, "spikes") == rows(&split, "spikes"), "brunel: resumed mid-interval, the spikes differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The docs' snippet: polars and pandas read a table's per-rank parts as one table.
#[test]
fn polars_and_pandas_read_the_parts_as_one_table() {
    let dir = tmp("python");
    let out = dir.join("out");
    ok(&run(3, 1, "izhikevich_2003", 300, &out));
    let spikes = rows(&out, "spikes").expect("spikes").len();
    let script = r#"
import sys, json, polars as pl, pandas as pd
d = sys.argv[1]
spikes = pl.scan_parquet(f"{d}/spikes/*.parquet").collect().sort("step", "neuron")
pdspikes = pd.read_parquet(f"{d}/spikes")
syn = pl.scan_parquet(f"{d}/synapses/*.parquet").select(pl.len()).collect().item()
ordered = spikes.select((pl.col("step").diff().fill_null(0) >= 0).all()).item()
print(json.dumps(dict(polars=spikes.height, pandas=len(pdspikes), synapses=syn, ordered=ordered)))
"#;
    let o = Command::new(python_venv::python()).arg("-c").arg(script).arg(&out).output().expect("python");
    ok(&o);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains(&format!("\"polars\": {spikes}")) && s.contains(&format!("\"pandas\": {spikes}")), "{s}");
    assert!(s.contains("\"synapses\": 1000000") && s.contains("\"ordered\": true"), "{s}");
    let _ = std::fs::remove_dir_all(&dir);
}
