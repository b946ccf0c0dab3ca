//! Reliability of the `biospike` binary (issue #19): no success printed over an empty or partial
//! result, no panic on a closed or full standard output, an output folder that is claimed
//! before the first step, and tables that say what happened.

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_biospike"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("biospike-rel-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

fn text(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn rows(path: &Path) -> usize {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader.map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", path.display())).num_rows()).sum()
}

fn metadata(path: &Path, key: &str) -> Option<String> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).ok()?).ok()?;
    let kv = reader.metadata().file_metadata().key_value_metadata()?.clone();
    kv.into_iter().find(|k| k.key == key).and_then(|k| k.value)
}

/// `--steps 0` writes every table (empty where nothing happened) and says it completed 0 steps.
#[test]
fn zero_steps_still_write_every_table() {
    let dir = tmp("zero");
    let o = bin().args(["run", "izhikevich_2003", "--steps", "0", "--out"]).arg(&dir).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    for (table, n) in [("spikes", 0), ("neurons", 1000), ("synapses", 1_000_000)] {
        let path = dir.join(format!("{table}.parquet"));
        assert_eq!(rows(&path), n, "{table}");
        assert_eq!(metadata(&path, "biospike.steps_run").as_deref(), Some("0"), "{table}");
        assert_eq!(metadata(&path, "biospike.outcome").as_deref(), Some("completed"), "{table}");
        assert_eq!(metadata(&path, "biospike.overrides").as_deref(), Some("--steps 0"), "{table}");
    }
    assert_eq!(metadata(&dir.join("spikes.parquet"), "biospike.outcome").as_deref(), Some("completed"));
}

/// A later run replaces an earlier run's files (a halt snapshot does not survive it); a folder
/// with files biospike did not write is refused before anything is written, and kept intact.
#[test]
fn the_output_folder_is_claimed_before_the_first_step() {
    let dir = tmp("claim");
    std::fs::write(dir.join("halt_snapshot.parquet"), b"an earlier run's").expect("write");
    let o = bin().args(["run", "izhikevich_2003", "--steps", "10", "--out"]).arg(&dir).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!dir.join("halt_snapshot.parquet").exists(), "stale snapshot removed");
    assert!(String::from_utf8_lossy(&o.stdout).contains("replaced 1 files"), "{}", text(&o));
    std::fs::write(dir.join("analysis.ipynb"), b"{}").expect("write");
    let o = bin().args(["run", "izhikevich_2003", "--steps", "10", "--out"]).arg(&dir).output().expect("spawn");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("analysis.ipynb"), "{}", text(&o));
    assert!(dir.join("analysis.ipynb").exists() && dir.join("spikes.parquet").exists());
}

/// A read-only output folder is reported before any step runs, with a clear message.
#[test]
fn an_unwritable_output_folder_is_an_error_before_the_run() {
    let dir = tmp("readonly");
    let ro = dir.join("ro");
    std::fs::create_dir_all(&ro).expect("mkdir");
    let mut perm = std::fs::metadata(&ro).expect("meta").permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&ro, perm).expect("chmod");
    // root ignores permissions: only check when the folder really is read-only.
    if std::fs::write(ro.join("probe"), b"").is_ok() {
        return;
    }
    let o = bin().args(["run", "izhikevich_2003", "--out"]).arg(&ro).output().expect("spawn");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot write the output there") && !err.contains("panicked"), "{err}");
}

/// A closed pipe or a full device on standard output never panics.
#[test]
fn a_closed_or_full_stdout_does_not_panic() {
    // `biospike graph … | head -c 10`: the reader goes away.
    let mut child = bin().args(["graph", "izhikevich_2003"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"), "{}", text(&o));
    assert_ne!(o.status.code(), Some(101), "{}", text(&o));
    // `biospike validate … > /dev/full`: the write fails; exit 1 with the reason.
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let o = bin().args(["validate", "izhikevich_2003"]).stdout(full).output().expect("spawn");
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("standard output"), "{}", text(&o));
    }
}

/// Thread counts beyond 1..=1024 are refused by the argument parser (exit 2), not by a panic.
#[test]
fn thread_counts_are_bounded() {
    for n in ["0", "100000", "1000000000"] {
        let o = bin().args(["run", "izhikevich_2003", "--no-output", "--steps", "1", "--threads", n]).output().expect("spawn");
        assert_eq!(o.status.code(), Some(2), "{n}: {}", text(&o));
    }
}

/// `synapses.parquet` holds every synapse that existed during the run: the structural
/// plasticity of `seed_demo` creates some, and they are there with their creation step.
#[test]
fn synapses_created_during_the_run_are_recorded() {
    let dir = tmp("created");
    let o = bin().args(["run", "seed_demo", "--out"]).arg(&dir).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let created: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("structure"))
        .and_then(|l| l.trim().split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no structure line: {stdout}"));
    assert!(created > 0, "{stdout}");
    let path = dir.join("synapses.parquet");
    let file = std::fs::File::open(&path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).expect("read");
    let mut later = 0;
    for batch in reader {
        let batch = batch.expect("batch");
        let col = batch.column_by_name("created_step").expect("created_step column");
        let steps = col.as_any().downcast_ref::<arrow_array::UInt64Array>().expect("u64");
        later += steps.iter().filter(|s| s.is_some_and(|s| s > 0)).count();
    }
    assert_eq!(later, created, "one row per created synapse");
}

fn scene_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// `graph` reads index-only synapses from the index; `quantize`, which maps synapse entities,
/// refuses them with a message instead of reporting an empty table.
#[test]
fn graph_and_quantize_on_index_only_storage() {
    let dir = tmp("index_only");
    let scene = scene_file(
        &dir,
        "io.ron",
        "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 20)], topology: FixedOutDegree(k: 3), synapse_storage: IndexOnly)",
    );
    let o = bin().arg("graph").arg(&scene).arg("--out").arg(dir.join("g.dot")).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("20 nodes, 60 edges"), "{}", text(&o));
    let o = bin().arg("quantize").arg(&scene).output().expect("spawn");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("IndexOnly"), "{}", text(&o));
}

/// Tracing a synapse the topology did not build is refused (it would give an empty
/// `weights.parquet`); a release after the end of the run is a warning.
#[test]
fn missing_traced_synapses_and_late_releases_are_reported() {
    let dir = tmp("traced");
    let scene = scene_file(
        &dir,
        "traced.ron",
        "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 20)], topology: SmallWorld(k: 2, rewire_p: 0.0),\n record: (weights: (synapses: [(0, 1), (0, 7)], every_steps: 1)))",
    );
    for cmd in ["validate", "run"] {
        let mut c = bin();
        c.arg(cmd).arg(&scene);
        if cmd == "run" {
            c.arg("--no-output");
        }
        let o = c.output().expect("spawn");
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("record.weights.synapses[1]") && err.contains("0 → 7"), "{cmd}: {err}");
    }
    let late = scene_file(
        &dir,
        "late.ron",
        "(dt_ms: 1.0, time_steps: 100, populations: [(name: \"a\", size: 5)],\n neuromodulation: (releases: [(modulator: Dopamine, at_ms: 500.0, amount: 1.0)]))",
    );
    let o = bin().arg("validate").arg(&late).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("releases[0]"), "{}", text(&o));
}

/// Every row of the Parquet files in `dir` that a reader would pick up (names starting with `_`
/// or `.` are in-progress parts, skipped as pyarrow does), as `(step, neuron)`.
fn part_rows(dir: &Path) -> Vec<(u64, u32)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    names.retain(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with(['_', '.'])));
    names.sort();
    names.iter().flat_map(|p| spike_rows(p)).collect()
}

fn spike_rows(path: &Path) -> Vec<(u64, u32)> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let col = |name: &str| batch.column_by_name(name).unwrap_or_else(|| panic!("{name}")).clone();
        let (step, neuron) = (col("step"), col("neuron"));
        let step = step.as_any().downcast_ref::<arrow_array::UInt64Array>().expect("u64 steps");
        let neuron = neuron.as_any().downcast_ref::<arrow_array::UInt32Array>().expect("u32 neurons");
        out.extend(step.values().iter().copied().zip(neuron.values().iter().copied()));
    }
    out
}

/// SIGKILL at any moment leaves every completed part of a table readable, and what they hold is
/// exactly the beginning of what the full run writes. `BIOSPIKE_KILL_TRIALS` sets the number of
/// kills (default 6, spread over the first seconds of the run).
#[test]
fn sigkill_leaves_every_completed_part_readable() {
    let trials: u32 = std::env::var("BIOSPIKE_KILL_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    let mut recovered = Vec::new();
    for trial in 0..trials {
        let dir = tmp(&format!("kill{trial}"));
        let out = dir.join("out");
        let mut child = bin()
            .args(["run", "sparse_10k", "--steps", "100000000", "--threads", "1", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Spread over 1–5 s: some kills land before the first part is sealed, most after.
        std::thread::sleep(std::time::Duration::from_millis(1000 + u64::from(trial) * 4000 / u64::from(trials.max(1))));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        assert_eq!(rows(&out.join("neurons.parquet")), 10_000, "written before the first step, complete");
        assert!(!out.join("spikes.parquet").exists(), "no table is presented as complete");
        recovered.push((trial, part_rows(&out.join("spikes.parquet.parts"))));
    }
    let longest = recovered.iter().map(|(_, r)| r.last().map_or(0, |x| x.0 + 1)).max().unwrap_or(0);
    assert!(longest > 0, "no part was completed in any trial");
    // The full run up to the furthest step any trial reached.
    let dir = tmp("kill-reference");
    let o = bin().args(["run", "sparse_10k", "--steps", &longest.to_string(), "--out"]).arg(&dir).output().expect("spawn");
    assert!(o.status.success(), "{}", text(&o));
    let full = spike_rows(&dir.join("spikes.parquet"));
    for (trial, rows) in &recovered {
        assert_eq!(rows.as_slice(), &full[..rows.len()], "trial {trial}: the recovered rows are a prefix of the full run's");
        println!("kill trial {trial}: {} spike rows recovered, up to step {}", rows.len(), rows.last().map_or(0, |x| x.0));
    }
}
