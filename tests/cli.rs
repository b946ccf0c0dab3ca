//! The `biospike` binary end to end: determinism across thread counts, scene errors, clean
//! stops (Ctrl-C, numerical halt) that leave readable Parquet, graph export, and the Python
//! readers the docs promise (polars, pandas).

#[path = "common/parquet_table.rs"]
mod parquet_table;
#[path = "common/python_venv.rs"]
mod python_venv;
#[path = "common/scratch.rs"]
mod scratch;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet_table::read_table;
use python_venv::python;
use scratch::ok;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_biospike"))
}

fn tmp(name: &str) -> PathBuf {
    scratch::dir("cli", name)
}

fn metadata(path: &Path, key: &str) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let reader = SerializedFileReader::new(file).ok()?;
    let kv = reader.metadata().file_metadata().key_value_metadata()?.clone();
    kv.into_iter().find(|k| k.key == key).and_then(|k| k.value)
}

/// A network big enough that delivery and neuron loops take their parallel paths
/// (≥ 4 096 neurons, ≥ 4 096 events per step).
const PARALLEL_SCENE: &str = r#"(
    name: Some("parallel"), seed: 5, dt_ms: 1.0, time_steps: 150,
    populations: [
        (name: "exc", size: 16000, neuron: Preset(RS), noise: Some((mean: 2.0, std: 5.0)),
         synapses: (weight: Uniform(low: 0.5, high: 1.5), delay_ms: Uniform(low: 1.0, high: 4.0))),
        (name: "inh", size: 4000, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 2.0, std: 5.0)),
         synapses: (weight: Constant(2.0), delay_ms: Constant(1.0))),
    ],
    topology: FixedInDegree(k: 200, multapses: true, self_connections: true),
    record: (synapses: false, state: Some((neurons: [0, 19999], every_steps: 3))),
)"#;

#[test]
fn same_seed_gives_identical_output_on_one_and_two_threads() {
    let dir = tmp("threads");
    let scene = dir.join("parallel.ron");
    std::fs::write(&scene, PARALLEL_SCENE).expect("write scene");
    let mut outputs = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = dir.join(format!("t{threads}-{}", outputs.len()));
        let o = bin().args(["run"]).arg(&scene).args(["--threads", threads, "--out"]).arg(&out).output().expect("spawn");
        ok(&o);
        let spikes = read_table(&out.join("spikes.parquet"));
        let state = read_table(&out.join("state.parquet"));
        assert!(spikes.0 > 10_000, "the network is active: {} spikes", spikes.0);
        outputs.push((spikes, state));
    }
    assert!(outputs[0] == outputs[1], "1 thread and 2 threads differ");
    assert!(outputs[1] == outputs[2], "two 2-thread runs differ");
}

/// Deferred STDP whose catch-up, depression and flush split their rows over the threads
/// (≥ 4 096 plastic row entries per step): the same spikes and final weights on 1 and 2 threads.
#[test]
fn stdp_rows_give_identical_weights_on_one_and_two_threads() {
    let dir = tmp("stdp-threads");
    let scene = dir.join("stdp.ron");
    let text = r#"(
        seed: 9, dt_ms: 1.0, time_steps: 300,
        populations: [
            (name: "exc", size: 4800, noise: Some((mean: 2.0, std: 5.0)),
             synapses: (weight: Uniform(low: 0.5, high: 1.5), delay_ms: Uniform(low: 1.0, high: 3.0))),
            (name: "inh", size: 1200, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 2.0, std: 5.0)),
             synapses: (weight: Constant(2.0), delay_ms: Constant(1.0))),
        ],
        synapse_storage: IndexOnly,
        topology: FixedInDegree(k: 100, multapses: true, self_connections: true),
        plasticity: Some((dopamine_gated: false, a_plus: 0.01, a_minus: 0.012, w_max: 2.0, ltp_timing: Deferred)),
        record: (spikes: true, neurons: false, synapses: true),
    )"#;
    std::fs::write(&scene, text).expect("write scene");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}"));
        ok(&bin().args(["run"]).arg(&scene).args(["--threads", threads, "--out"]).arg(&out).output().expect("spawn"));
        outputs.push((read_table(&out.join("spikes.parquet")), read_table(&out.join("synapses.parquet"))));
    }
    assert!(outputs[0].0.0 > 10_000, "the network is active: {} spikes", outputs[0].0.0);
    assert!(outputs[0] == outputs[1], "1 thread and 2 threads differ");
}

#[test]
fn scene_errors_name_file_line_column_field_and_range() {
    let dir = tmp("errors");
    let cases = [
        ("(seed: 1,\n dt_ms: -0.5,\n time_steps: 10, populations: [(name: \"a\", size: 1)])", vec!["bad.ron:2:", "dt_ms", "[0.0001, 100]"]),
        ("(dt_ms: 1e-9, time_steps: 10, populations: [(name: \"a\", size: 1)])", vec!["bad.ron:1:", "dt_ms", "[0.0001, 100]"]),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 500.0)])",
            vec!["bad.ron:1:", "populations[0].size", "whole number"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 99999999999)])",
            vec!["bad.ron:1:", "populations[0].size", "0..=4294967295"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 1000000000)])",
            vec!["bad.ron:1:", "populations", "GB", "available"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 1000000, synapses: (delay_ms: Constant(65535.0)))],\n topology: FixedOutDegree(k: 1))",
            vec!["bad.ron:1:", "delay_ms", "delay ring", "available"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 100000)],\n topology: SmallWorld(k: 99998, rewire_p: 0.1))",
            vec!["bad.ron:2:", "topology", "9999800000 synapses", "available"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n record: (weights: (every_steps: 1, histogram: (bins: 4294967295, low: 0.0, high: 1.0))))",
            vec!["bad.ron:2:", "record.weights.histogram.bins", "1..=100000"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n record: (weights: (every_steps: 1, histogram: (bins: 10, low: -1.7e308, high: 1.7e308))))",
            vec!["bad.ron:2:", "record.weights.histogram", "finite width"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n drift: (weight_range: (0.0, NaN)))",
            vec!["bad.ron:2:", "drift.weight_range", "finite"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n drift: (weight_range: (0.0, inf)))",
            vec!["bad.ron:2:", "drift.weight_range", "finite"],
        ),
        (
            "(name: \"../escape\", dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)])",
            vec!["bad.ron:1:", "name", "output folder"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10,\n populations: [(name: \"a\", size: 3,\n   noise: Some((mean: 0.0, std: -2.0)))])",
            vec!["bad.ron:3:", "populations[0].noise", "std", "[0, ∞)"],
        ),
        ("(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 1, colour: 3)])", vec!["bad.ron:1:", "colour"]),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n topology: SmallWorld(k: 3, rewire_p: 0.1))",
            vec!["bad.ron:2:", "topology", "even"],
        ),
        (
            "(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)],\n record: (state: Some((neurons: [9]))))",
            vec!["bad.ron:2:", "record.state.neurons", "0..4"],
        ),
        ("(dt_ms: 1.0, time_steps: 10, populations: [(name: \"a\", size: 4)]", vec!["bad.ron:1:"]),
    ];
    for (text, needles) in cases {
        let path = dir.join("bad.ron");
        std::fs::write(&path, text).expect("write");
        for cmd in ["validate", "run"] {
            let o = bin().arg(cmd).arg(&path).arg("--help").output().map(|_| ()).ok();
            let _ = o;
            let out = bin().arg(cmd).arg(&path).output().expect("spawn");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {text:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            for n in &needles {
                assert!(err.contains(n), "{cmd}: {err:?} lacks {n:?}");
            }
        }
    }
}

/// Ctrl-C (SIGINT) and SIGTERM (what `timeout`, systemd, docker and slurm send) stop after the
/// current step and complete every file; the metadata says how the run ended and what it ran.
#[test]
fn ctrl_c_and_sigterm_leave_every_file_readable() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tmp(&format!("sig{signal}"));
        let out = dir.join("out");
        let mut child = bin().args(["run", "sparse_10k", "--steps", "100000000", "--out"]).arg(&out).spawn().expect("spawn");
        // Wait until data is flowing: the first part of the spike table is on disk (the table
        // itself, `spikes.parquet`, appears only when the run ends, so it cannot be waited for).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !out.join("spikes.parquet.parts/part-000000.parquet").exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        assert_eq!(child.wait().expect("wait").code(), Some(code), "SIG{signal}");
        let spikes = out.join("spikes.parquet");
        let (rows, _) = read_table(&spikes);
        assert!(rows > 0);
        let (neurons, _) = read_table(&out.join("neurons.parquet"));
        assert_eq!(neurons, 10_000);
        assert_eq!(metadata(&spikes, "biospike.seed").as_deref(), Some("1"));
        assert_eq!(metadata(&spikes, "biospike.outcome").as_deref(), Some("interrupted"));
        assert_eq!(metadata(&spikes, "biospike.overrides").as_deref(), Some("--steps 100000000"));
        let steps_run: u64 = metadata(&spikes, "biospike.steps_run").and_then(|s| s.parse().ok()).expect("steps_run");
        assert!(steps_run > 0 && steps_run < 100_000_000);
        assert!(metadata(&spikes, "biospike.commit").is_some_and(|c| !c.is_empty()));
        // Tens of MB of spikes each: never left behind.
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn numerical_blow_up_halts_with_a_message_snapshot_and_readable_files() {
    let dir = tmp("halt");
    let scene = dir.join("blowup.ron");
    std::fs::write(
        &scene,
        "(dt_ms: 1.0, time_steps: 100, populations: [(name: \"a\", size: 5, dc: 1e308, noise: Some((mean: 1e308, std: 0.0)))],\n record: (state: Some((neurons: [0]))))",
    )
    .expect("write");
    let out = dir.join("out");
    let o = bin().arg("run").arg(&scene).arg("--out").arg(&out).output().expect("spawn");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("HALTED") && stdout.contains("step 0") && stdout.contains("neuron 0") && stdout.contains("input current"),
        "{stdout}"
    );
    let (rows, _) = read_table(&out.join("halt_snapshot.parquet"));
    assert_eq!(rows, 5);
    read_table(&out.join("spikes.parquet"));
    read_table(&out.join("state.parquet"));
    assert!(metadata(&out.join("halt_snapshot.parquet"), "biospike.halt").is_some_and(|m| m.contains("became inf")));
}

#[test]
fn graph_export_dot_and_graphml() {
    let dir = tmp("graph");
    let dot = dir.join("g.dot");
    ok(&bin().args(["graph", "seed_demo", "--format", "dot", "--out"]).arg(&dot).output().expect("spawn"));
    let text = std::fs::read_to_string(&dot).expect("dot");
    assert!(text.starts_with("digraph"));
    assert_eq!(text.matches(" -> ").count(), 40, "10 nodes × k = 4, both directions");
    let xml = dir.join("g.graphml");
    ok(&bin().args(["graph", "seed_demo", "--format", "graphml", "--out"]).arg(&xml).output().expect("spawn"));
    let text = std::fs::read_to_string(&xml).expect("graphml");
    assert_eq!(text.matches("<edge ").count(), 40);
    assert_eq!(text.matches("<node ").count(), 10);
    assert_eq!(text.matches("<data key=\"delay\">").count(), 40, "every edge has its delay");
    assert!(!text.contains("receptor"), "no receptor ports in this network");
    // Receptor ports: every edge names its port (ei_receptors at 50 neurons).
    let scene = dir.join("ports.ron");
    let small = include_str!("../scenes/ei_receptors.ron").replace("size: 800", "size: 40").replace("size: 200", "size: 10");
    std::fs::write(&scene, small).expect("scene");
    let xml = dir.join("ports.graphml");
    ok(&bin().arg("graph").arg(&scene).args(["--format", "graphml", "--out"]).arg(&xml).output().expect("spawn"));
    let text = std::fs::read_to_string(&xml).expect("graphml");
    let edges = text.matches("<edge ").count();
    assert!(edges > 100, "{edges} edges");
    assert_eq!(text.matches("<data key=\"receptor\">").count(), edges);
    assert_eq!(text.matches("<data key=\"receptor\">0</data>").count(), 0, "every synapse of this network has a port");
    let dot = dir.join("ports.dot");
    ok(&bin().arg("graph").arg(&scene).args(["--format", "dot", "--out"]).arg(&dot).output().expect("spawn"));
    assert_eq!(
        std::fs::read_to_string(&dot).expect("dot").matches("receptor = 3").count(),
        text.matches("<data key=\"receptor\">3</data>").count()
    );
}

#[test]
fn polars_and_pandas_read_the_output() {
    let dir = tmp("python");
    let out = dir.join("out");
    let o = bin().args(["run", "izhikevich_2003", "--steps", "200", "--out"]).arg(&out).output().expect("spawn");
    ok(&o);
    let (spike_rows, _) = read_table(&out.join("spikes.parquet"));
    let script = r#"
import sys, json, polars as pl, pandas as pd, pyarrow.parquet as pq
d = sys.argv[1]
spikes = pl.scan_parquet(f"{d}/spikes.parquet").collect()
neurons = pd.read_parquet(f"{d}/neurons.parquet")
syn = pd.read_parquet(f"{d}/synapses.parquet")
state = pl.read_parquet(f"{d}/state.parquet")
per_pop = spikes.join(pl.from_pandas(neurons[["neuron", "population_name"]]), on="neuron").group_by("population_name").len()
meta = pq.read_metadata(f"{d}/spikes.parquet").metadata
print(json.dumps(dict(spikes=spikes.height, neurons=len(neurons), synapses=len(syn), state=state.height,
    pops=sorted(per_pop["population_name"].to_list()), seed=meta[b"biospike.seed"].decode(),
    scene_has_name=b"izhikevich_2003" in meta[b"biospike.scene"], max_time=float(spikes["time_ms"].max()))))
"#
    .to_string();
    let o = Command::new(python()).arg("-c").arg(script).arg(&out).output().expect("python");
    ok(&o);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains(&format!("\"spikes\": {spike_rows}")), "{s}");
    assert!(s.contains("\"neurons\": 1000") && s.contains("\"synapses\": 1000000") && s.contains("\"state\": 800"), "{s}");
    assert!(s.contains("[\"exc\", \"inh\"]") && s.contains("\"seed\": \"1\"") && s.contains("\"scene_has_name\": true"), "{s}");
}

/// The cookbook of `docs/recording.md`, run as written on a fresh `izhikevich_2003` run of 300
/// steps (only its `run = ...` line points at the test's folder): its rates use the run's
/// length from the metadata, its PSTH integrates to the spike count (asserted inside), and it
/// writes its figure.
#[test]
fn the_recording_cookbook_runs() {
    let dir = tmp("cookbook");
    let out = dir.join("out");
    let o = bin().args(["run", "izhikevich_2003", "--steps", "300", "--out"]).arg(&out).output().expect("spawn");
    ok(&o);
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/recording.md")).expect("docs/recording.md");
    let block = doc
        .split("<!-- cookbook -->")
        .nth(1)
        .and_then(|b| b.split("<!-- /cookbook -->").next())
        .and_then(|b| b.split("```python").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the cookbook block");
    assert!(block.contains("run = \"out/izhikevich_2003\""));
    let script = block.replace("run = \"out/izhikevich_2003\"", &format!("run = {:?}", out.display().to_string()));
    let o = Command::new(python()).arg("-c").arg(&script).output().expect("python");
    ok(&o);
    let printed = String::from_utf8_lossy(&o.stdout);
    // 300 steps of 1 ms: the rates use 0.3 s, not the scene's 1 s (W1's rate is ≈ 7.5 Hz; over
    // 1 s the same spikes would read ≈ 2.6 Hz).
    let exc_rate = printed
        .lines()
        .find(|l| l.contains("exc"))
        .and_then(|l| l.split('┆').next_back())
        .and_then(|f| f.trim_matches(|c: char| c == '│' || c.is_whitespace()).parse::<f64>().ok());
    assert!(exc_rate.is_some_and(|r| r > 5.0 && r < 12.0), "exc rate over 0.3 s: {exc_rate:?}\n{printed}");
    let png = std::fs::read(out.join("cookbook.png")).unwrap_or_default();
    assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "cookbook.png: {} bytes", png.len());
}

/// `biospike quantize`: per-projection report and Parquet output. Closed form: truncation to
/// an 8-bit mantissa with exponent `e` leaves an error below one LSB, `2^e`, and about half an
/// LSB on average for uniformly spread weights.
#[test]
fn quantize_reports_errors_below_one_lsb() {
    let dir = tmp("quantize");
    let o = bin().args(["quantize", "izhikevich_2003", "--compare", "--steps", "100", "--out"]).arg(&dir).output().expect("spawn");
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("exc        inh") && stdout.contains("rate quant"), "{stdout}");
    let file = std::fs::File::open(dir.join("quantization.parquet")).expect("report");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).expect("reader");
    let mut rows = 0;
    for batch in reader {
        let batch = batch.expect("batch");
        let col = |name: &str| batch.column_by_name(name).cloned().expect(name);
        let exp = col("weight_exp");
        let exp = exp.as_any().downcast_ref::<arrow_array::Int32Array>().expect("i32");
        let max_err = col("max_abs_error");
        let max_err = max_err.as_any().downcast_ref::<arrow_array::Float64Array>().expect("f64");
        let mean_err = col("mean_abs_error");
        let mean_err = mean_err.as_any().downcast_ref::<arrow_array::Float64Array>().expect("f64");
        for i in 0..batch.num_rows() {
            let lsb = 2f64.powi(exp.value(i));
            assert!(max_err.value(i) < lsb, "row {i}: max error {} vs LSB {lsb}", max_err.value(i));
            assert!((mean_err.value(i) / lsb - 0.5).abs() < 0.05, "row {i}: mean error {} vs LSB/2", mean_err.value(i));
        }
        rows += batch.num_rows();
    }
    assert_eq!(rows, 4, "exc→exc, exc→inh, inh→exc, inh→inh");
    read_table(&dir.join("quantization_runs.parquet"));
}

/// `seed_demo` runs every feature it names (neuromodulation, gated STDP, structure, drift);
/// `biospike plot` draws a PNG for each table it finds (PNG signature, not blank-sized).
#[test]
fn seed_demo_runs_every_feature_and_plots() {
    let dir = tmp("seed_demo_plot");
    let out = bin().args(["run", "seed_demo", "--out"]).arg(&dir).output().expect("run");
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("plasticity") && text.contains("structure"), "{text}");
    for f in ["modulators.parquet", "excitability.parquet", "weights.parquet", "weight_histogram.parquet"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let out = bin().arg("plot").arg(&dir).output().expect("plot");
    ok(&out);
    for f in ["raster.png", "rates.png", "isi_cv.png", "weights.png", "modulators.png", "weight_trace.png", "weight_distribution.png"] {
        let bytes = std::fs::read(dir.join(f)).unwrap_or_default();
        assert!(bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"), "{f}: {} bytes", bytes.len());
    }
    let svg = dir.join("svg");
    let out = bin().arg("plot").arg(&dir).args(["--format", "svg", "--bin-ms", "10", "--out"]).arg(&svg).output().expect("plot");
    ok(&out);
    assert!(String::from_utf8_lossy(&std::fs::read(svg.join("raster.svg")).unwrap_or_default()).contains("10 ms bins"));
    let out = bin().arg("plot").arg(&dir).args(["--window-ms", "0,inf"]).output().expect("plot");
    assert!(!out.status.success(), "an infinite window is refused");
    let empty = tmp("plot_empty");
    std::fs::create_dir_all(&empty).ok();
    let out = bin().arg("plot").arg(&empty).output().expect("plot");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no biospike tables"));
}

/// `synapse_storage: IndexOnly` records the same spikes and the same synapse table (start and
/// end weights, with STDP) as synapse entities.
#[test]
fn index_only_storage_writes_the_same_tables_as_entities() {
    let dir = tmp("index-only");
    let scene = |storage: &str| {
        format!(
            r#"(
            seed: 4, dt_ms: 1.0, time_steps: 300,
            populations: [
                (name: "exc", size: 160, noise: Some((mean: 3.0, std: 6.0)),
                 synapses: (weight: Uniform(low: 0.0, high: 4.0), delay_ms: Uniform(low: 1.0, high: 4.0))),
                (name: "inh", size: 40, kind: Inhibitory, neuron: Preset(FS), noise: Some((mean: 3.0, std: 6.0)),
                 synapses: (weight: Constant(2.0), delay_ms: Constant(1.0))),
            ],
            synapse_storage: {storage},
            topology: ErdosRenyi(p: 0.1),
            plasticity: Some((dopamine_gated: false, a_plus: 0.05, a_minus: 0.06, w_max: 4.0, ltp_timing: Deferred)),
            record: (spikes: true, neurons: false, synapses: true),
        )"#
        )
    };
    let mut tables = Vec::new();
    for storage in ["Entities", "IndexOnly"] {
        let path = dir.join(format!("{storage}.ron"));
        std::fs::write(&path, scene(storage)).expect("write scene");
        let out = dir.join(storage);
        ok(&bin().args(["run"]).arg(&path).arg("--out").arg(&out).output().expect("run"));
        tables.push((read_table(&out.join("spikes.parquet")), read_table(&out.join("synapses.parquet"))));
    }
    let (spikes, synapses) = &tables[0];
    assert!(spikes.0 > 1_000 && synapses.0 > 3_000, "{} spikes, {} synapses", spikes.0, synapses.0);
    assert!(tables[0] == tables[1], "the two storages wrote different tables");
}
