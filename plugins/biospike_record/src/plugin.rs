use arrow_array::{ArrayRef, Float32Array, Float64Array, UInt16Array, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::settings::{ClosingMetadata, RecordSettings, RecordedFiles, RecorderStatus};
use crate::tables::{ParquetTable, properties, write_parquet};

/// What went wrong while recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file or directory could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("{path}: parquet: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: parquet::errors::ParquetError,
    },
    /// A batch did not match its schema (a bug).
    #[error("{path}: arrow: {message}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Written after the file was completed.
    #[error("{path}: already closed")]
    Closed {
        /// The file.
        path: PathBuf,
    },
}

/// Records spikes, sampled state and synapses to Parquet in [`SimSystems::Record`].
/// Needs [`RecordSettings`].
#[derive(Debug, Default, Clone, Copy)]
pub struct ParquetRecorderPlugin;

impl Plugin for ParquetRecorderPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before ParquetRecorderPlugin");
        assert!(
            app.world().contains_resource::<RecordSettings>(),
            "insert RecordSettings (the output directory) before adding ParquetRecorderPlugin"
        );
        app.init_resource::<RecorderStatus>().init_resource::<Recorder>().init_resource::<crate::sampled::SampledTables>();
        app.init_resource::<RecordedFiles>();
        biospike_core::checkpoint::CheckpointAppExt::add_checkpoint_section(
            app,
            biospike_core::checkpoint::CheckpointSection {
                name: "record.tables",
                save: save_recorder,
                load: load_recorder,
                optional: true,
            },
        );
        app.add_systems(
            SimSchedule,
            (start_recording.run_if(not_started), record_step, stop_on_failure).chain().in_set(SimSystems::Record).in_set(BuiltinSystems),
        );
        app.add_systems(
            SimSchedule,
            log_synapse_edits
                .in_set(SimSystems::Prepare)
                .after(PrepareSystems::Settle)
                .before(PrepareSystems::Index)
                .in_set(BuiltinSystems),
        );
        app.add_systems(SimFinishSchedule, close_files.in_set(FinishSystems::Close).in_set(BuiltinSystems));
    }
}

/// [`FinishSystems::Close`]: after a numerical halt, `halt_snapshot.parquet` (the state of
/// every neuron, with the halt message as metadata); then [`finish_recording`]. Files go to
/// [`RecordedFiles`], the first error to [`RecorderStatus`].
fn close_files(world: &mut World) {
    // A run that stopped before its first step (`--steps 0`, a stop during set-up) still
    // leaves every table, empty.
    if world.get_resource::<Recorder>().is_some_and(|r| !r.started) {
        use bevy_ecs::system::RunSystemOnce as _;
        if let Err(e) = world.run_system_once(start_recording) {
            let dir = world.resource::<RecordSettings>().out_dir.clone();
            let e = RecordError::Io { path: dir, source: std::io::Error::other(e.to_string()) };
            fail(&mut world.resource_mut::<RecorderStatus>(), e);
        }
    }
    let mut files = Vec::new();
    let mut error = None;
    if let (Some(SimStatus::Halted { .. }), Some(settings)) = (world.get_resource::<SimStatus>(), world.get_resource::<RecordSettings>())
        && world.get_resource::<RecordedFiles>().is_some_and(|f| f.0.is_empty())
    {
        let path = settings.path("halt_snapshot.parquet");
        let mut meta = settings.metadata.clone();
        meta.push(("biospike.halt".into(), world.resource::<SimStatus>().to_string()));
        match write_snapshot(world, &path, &meta) {
            Ok(()) => files.push(path),
            Err(e) => error = Some(e),
        }
    }
    match finish_recording(world) {
        Ok(f) => files.extend(f),
        Err(e) => error = error.or(Some(e)),
    }
    if let Some(e) = error {
        fail(&mut world.resource_mut::<RecorderStatus>(), e);
    }
    let mut recorded = world.resource_mut::<RecordedFiles>();
    recorded.0.extend(files);
    recorded.0.sort();
}

#[derive(Default)]
struct SpikeBuffer {
    step: Vec<u64>,
    time: Vec<f64>,
    neuron: Vec<u32>,
    population: Vec<u16>,
}

#[derive(Default)]
struct StateBuffer {
    step: Vec<u64>,
    time: Vec<f64>,
    neuron: Vec<u32>,
    v: Vec<f64>,
    u: Vec<f64>,
    excitability: Vec<f64>,
    input: Vec<f64>,
}

struct SynapseStart {
    /// `PLACEHOLDER` for an index-only synapse.
    entity: Entity,
    /// Position in the index at start (orders index-only synapses of one pair).
    position: usize,
    pre: u32,
    post: u32,
    delay: u16,
    weight: f32,
    /// First step it could deliver on (0 for the network the run started with).
    created: u64,
}

/// Writers and buffers; private, one per app.
#[derive(Resource, Default)]
struct Recorder {
    started: bool,
    spikes: Option<ParquetTable>,
    spike_buf: SpikeBuffer,
    state: Option<ParquetTable>,
    state_buf: StateBuffer,
    sampled: Vec<Entity>,
    population_of: Vec<u16>,
    synapse_start: Vec<SynapseStart>,
    /// Entities of `synapse_start` and of synapses created since (never logged twice).
    synapse_known: bevy_ecs::entity::EntityHashSet,
    /// Step at which each removed synapse stopped delivering.
    synapse_removed: bevy_ecs::entity::EntityHashMap<u64>,
    files: Vec<PathBuf>,
}

fn not_started(r: Res<Recorder>) -> bool {
    !r.started
}

/// A recording error ends the run at the step it happened, instead of after every step ran
/// into a file that cannot be completed (a full disk, a folder made read-only).
fn stop_on_failure(status: Res<RecorderStatus>, mut sim: ResMut<SimStatus>, clock: Res<SimClock>) {
    if let RecorderStatus::Failed(e) = &*status
        && sim.is_running()
    {
        sim.stop(clock.step(), format!("recording failed: {e}"));
    }
}

/// Synapses created and removed during the run (structural plasticity, user systems), read from
/// the queue the synapse hooks fill before [`PrepareSystems::Index`] applies it: the step an
/// edit is applied at is the first step it changes delivery.
fn log_synapse_edits(
    mut rec: ResMut<Recorder>,
    edits: Option<Res<SynapseEdits>>,
    synapses: Query<(&Synapse, &SynapticWeight, &SynapticDelay)>,
    settings: Res<RecordSettings>,
    clock: Res<SimClock>,
) {
    let Some(edits) = edits else { return };
    if !rec.started || !settings.synapses || (edits.added.is_empty() && edits.removed.is_empty()) {
        return;
    }
    let step = clock.step();
    let rec = &mut *rec;
    for &(_, e) in &edits.removed {
        if rec.synapse_known.contains(&e) {
            rec.synapse_removed.entry(e).or_insert(step);
        }
    }
    for &e in &edits.added {
        // A replaced `Synapse` is a removal and an addition of the same entity: keep its row.
        if rec.synapse_removed.get(&e) == Some(&step) {
            rec.synapse_removed.remove(&e);
            continue;
        }
        let Ok((s, w, d)) = synapses.get(e) else { continue };
        if rec.synapse_known.insert(e) {
            let position = rec.synapse_start.len();
            rec.synapse_start.push(SynapseStart {
                entity: e,
                position,
                pre: s.pre.0,
                post: s.post.0,
                delay: d.0,
                weight: w.0,
                created: step,
            });
        }
    }
}

biospike_core::persist_fields!(SynapseStart { entity, position, pre, post, delay, weight, created });

/// A table in a checkpoint: file name, columns `(name, type, nullable)`, parts saved.
pub(crate) type SavedTable = (String, Vec<(String, u8, bool)>, usize);

const TYPES: [DataType; 7] =
    [DataType::UInt64, DataType::Float64, DataType::Float32, DataType::UInt32, DataType::UInt16, DataType::Utf8, DataType::Int64];

/// The columns of a schema as a checkpoint stores them.
pub(crate) fn schema_fields(schema: &Schema) -> Vec<(String, u8, bool)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), TYPES.iter().position(|t| t == f.data_type()).unwrap_or(usize::MAX) as u8, f.is_nullable()))
        .collect()
}

fn schema_of(fields: &[(String, u8, bool)], r: &biospike_core::checkpoint::StateReader) -> Result<SchemaRef, CheckpointError> {
    let fields = fields
        .iter()
        .map(|(name, t, nullable)| {
            let t = TYPES.get(usize::from(*t)).ok_or_else(|| r.corrupt(format!("column {name}: unknown type {t}")))?;
            Ok(Field::new(name.clone(), t.clone(), *nullable))
        })
        .collect::<Result<Vec<_>, CheckpointError>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

use biospike_core::checkpoint::{CheckpointError, StateReader, StateWriter};

fn recording_error(e: RecordError) -> CheckpointError {
    CheckpointError::NotNow(format!("the recorder could not save its tables: {e}"))
}

/// The recorder's positions: every table's rows so far (buffers flushed, open parts completed,
/// and the parts linked into the checkpoint's `tables/` folder), the synapse log, and which
/// neurons are sampled. Restored, the tables go on from there in the resuming run's folder, so
/// its files hold the whole run.
fn save_recorder(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let dest = w.dir().join("tables");
    let Some(mut rec) = world.remove_resource::<Recorder>() else {
        w.put(&false);
        return Ok(());
    };
    let result = save_recorder_tables(world, &mut rec, w, &dest);
    world.insert_resource(rec);
    result
}

fn save_recorder_tables(world: &mut World, rec: &mut Recorder, w: &mut StateWriter, dest: &Path) -> Result<(), CheckpointError> {
    w.put(&true);
    w.put(&rec.started);
    flush_spikes(rec).map_err(recording_error)?;
    flush_state(rec).map_err(recording_error)?;
    let mut tables: Vec<SavedTable> = Vec::new();
    for t in [rec.spikes.as_mut(), rec.state.as_mut()].into_iter().flatten() {
        let parts = t.checkpoint(dest).map_err(recording_error)?;
        tables.push((t.file_name(), schema_fields(&t.schema()), parts));
    }
    w.put(&tables);
    w.put(&rec.sampled);
    w.put(&rec.population_of);
    w.put(&rec.synapse_start);
    let mut known: Vec<Entity> = rec.synapse_known.iter().copied().collect();
    known.sort_unstable_by_key(|e| e.to_bits());
    w.put(&known);
    let mut removed: Vec<(Entity, u64)> = rec.synapse_removed.iter().map(|(&e, &s)| (e, s)).collect();
    removed.sort_unstable_by_key(|(e, _)| e.to_bits());
    w.put(&removed);
    let mut sampled = world.resource_mut::<crate::sampled::SampledTables>();
    let (started, slots) = sampled.slots_mut();
    w.put(&*started);
    for slot in slots {
        let saved = match slot.as_mut() {
            Some(t) => Some(t.checkpoint(dest).map_err(recording_error)?),
            None => None,
        };
        w.put(&saved);
    }
    Ok(())
}

fn load_recorder(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    if !r.get::<bool>()? {
        return Ok(());
    }
    let src = r.dir().join("tables");
    let started: bool = r.get()?;
    let tables: Vec<SavedTable> = r.get()?;
    let sampled: Vec<Entity> = r.get()?;
    let population_of: Vec<u16> = r.get()?;
    let synapse_start: Vec<SynapseStart> = r.get()?;
    let known: Vec<Entity> = r.get()?;
    let removed: Vec<(Entity, u64)> = r.get()?;
    let sampled_started: bool = r.get()?;
    let mut sampled_tables: Vec<Option<SavedTable>> = Vec::with_capacity(4);
    for _ in 0..4 {
        sampled_tables.push(r.get()?);
    }
    // Restored into an app without the recorder: nothing to continue.
    let Some(settings) = world.get_resource::<RecordSettings>().cloned() else { return Ok(()) };
    if !world.contains_resource::<Recorder>() {
        return Ok(());
    }
    let err = |e: RecordError| CheckpointError::Io { path: settings.out_dir.clone(), source: std::io::Error::other(e.to_string()) };
    std::fs::create_dir_all(&settings.out_dir).map_err(|e| CheckpointError::Io { path: settings.out_dir.clone(), source: e })?;
    let mut rec = Recorder {
        started,
        sampled,
        population_of,
        synapse_start,
        synapse_known: known.into_iter().collect(),
        synapse_removed: removed.into_iter().collect(),
        ..Default::default()
    };
    // A logged synapse that no longer exists keeps a stand-in entity of this world, so that a
    // synapse spawned later can never be taken for it.
    for s in &mut rec.synapse_start {
        if s.entity != Entity::PLACEHOLDER && world.get_entity(s.entity).is_err() {
            let stand_in = world.spawn_empty().id();
            if rec.synapse_known.remove(&s.entity) {
                rec.synapse_known.insert(stand_in);
            }
            if let Some(step) = rec.synapse_removed.remove(&s.entity) {
                rec.synapse_removed.insert(stand_in, step);
            }
            s.entity = stand_in;
        }
    }
    let props = || properties(&settings.metadata, settings.row_group_rows);
    for (file, fields, parts) in &tables {
        let table = ParquetTable::resume(&settings.path(file), schema_of(fields, r)?, props(), &src, *parts).map_err(err)?;
        match file.as_str() {
            "spikes.parquet" => rec.spikes = Some(table),
            "state.parquet" => rec.state = Some(table),
            other => return Err(r.corrupt(format!("unknown recorder table {other}"))),
        }
    }
    world.insert_resource(rec);
    let mut tables = crate::sampled::SampledTables::default();
    let (started, slots) = tables.slots_mut();
    *started = sampled_started;
    for (slot, saved) in slots.into_iter().zip(sampled_tables) {
        if let Some((file, fields, parts)) = saved {
            *slot = Some(crate::sampled::Sampled::resume(&settings, &file, schema_of(&fields, r)?, &src, parts).map_err(err)?);
        }
    }
    world.insert_resource(tables);
    Ok(())
}

fn spike_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("step", DataType::UInt64, false),
        Field::new("time_ms", DataType::Float64, false),
        Field::new("neuron", DataType::UInt32, false),
        Field::new("population", DataType::UInt16, false),
    ]))
}

fn state_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("step", DataType::UInt64, false),
        Field::new("time_ms", DataType::Float64, false),
        Field::new("neuron", DataType::UInt32, false),
        Field::new("v", DataType::Float64, false),
        Field::new("u", DataType::Float64, false),
        Field::new("excitability", DataType::Float64, false),
        Field::new("input", DataType::Float64, false),
    ]))
}

pub(crate) fn fail(status: &mut RecorderStatus, e: RecordError) {
    if *status == RecorderStatus::Ok {
        *status = RecorderStatus::Failed(e.to_string());
    }
}

#[allow(clippy::too_many_arguments, reason = "one-time setup reads the static tables of the model")]
fn start_recording(
    mut rec: ResMut<Recorder>,
    mut status: ResMut<RecorderStatus>,
    settings: Res<RecordSettings>,
    table: Res<PopulationTable>,
    neurons: Query<(Entity, &NeuronId)>,
    synapses: Query<(Entity, &Synapse, &SynapticWeight, &SynapticDelay)>,
    index: Option<Res<SynapseIndex>>,
) {
    rec.started = true;
    if let Err(e) = std::fs::create_dir_all(&settings.out_dir) {
        fail(&mut status, RecordError::Io { path: settings.out_dir.clone(), source: e });
        return;
    }
    let n = neurons.iter().map(|(_, id)| id.0 as usize + 1).max().unwrap_or(0);
    rec.population_of = table.population_per_neuron(n);
    let props = || properties(&settings.metadata, settings.row_group_rows);
    if settings.spikes {
        let path = settings.path("spikes.parquet");
        match ParquetTable::create(&path, spike_schema(), props()) {
            Ok(t) => rec.spikes = Some(t),
            Err(e) => fail(&mut status, e),
        }
    }
    if let Some(sampling) = &settings.state {
        let wanted: std::collections::BTreeSet<u32> = sampling.neurons.iter().copied().collect();
        let mut sampled: Vec<(u32, Entity)> = neurons.iter().filter(|(_, id)| wanted.contains(&id.0)).map(|(e, id)| (id.0, e)).collect();
        sampled.sort_unstable_by_key(|&(id, _)| id);
        rec.sampled = sampled.into_iter().map(|(_, e)| e).collect();
        let path = settings.path("state.parquet");
        match ParquetTable::create(&path, state_schema(), props()) {
            Ok(t) => rec.state = Some(t),
            Err(e) => fail(&mut status, e),
        }
    }
    if settings.synapses {
        let mut start: Vec<SynapseStart> = synapses
            .iter()
            .map(|(entity, s, w, d)| SynapseStart {
                entity,
                position: 0,
                pre: s.pre.0,
                post: s.post.0,
                delay: d.0,
                weight: w.0,
                created: 0,
            })
            .collect();
        // Index-only synapses (no entity) are read from the index.
        if let Some(index) = &index {
            for pre in 0..index.neuron_count() as u32 {
                for k in index.row(pre).filter(|&k| index.entity(k).is_none()) {
                    let (post, weight, delay) = (index.posts()[k], index.weights()[k], index.delays()[k]);
                    start.push(SynapseStart { entity: Entity::PLACEHOLDER, position: k, pre, post, delay, weight, created: 0 });
                }
            }
        }
        start.sort_unstable_by_key(|s| (s.pre, s.post, s.entity.to_bits(), s.position));
        rec.synapse_known = start.iter().map(|s| s.entity).filter(|&e| e != Entity::PLACEHOLDER).collect();
        rec.synapse_start = start;
    }
}

/// One system for every per-step recording stage: on small networks a step takes a few µs, and the
/// fixed cost of running separate systems is measurable (distal-reward scene: 9 %).
#[allow(clippy::too_many_arguments, reason = "the union of the recording stages' inputs")]
fn record_step(
    mut rec: ResMut<Recorder>,
    mut tables: ResMut<crate::sampled::SampledTables>,
    mut status: ResMut<RecorderStatus>,
    spikes: Res<StepSpikes>,
    clock: Res<SimClock>,
    settings: Res<RecordSettings>,
    state: Query<StateItem>,
    sampled: crate::sampled::SampledInputs,
) {
    record_spikes(&mut rec, &mut status, &spikes, &clock, &settings);
    record_state(&mut rec, &mut status, &state, &clock, &settings);
    crate::sampled::record_sampled(&mut tables, &mut status, &settings, &sampled, &clock);
}

fn record_spikes(rec: &mut Recorder, status: &mut RecorderStatus, spikes: &StepSpikes, clock: &SimClock, settings: &RecordSettings) {
    if rec.spikes.is_none() || spikes.ids.is_empty() {
        return;
    }
    let (step, t) = (clock.step(), clock.time_ms());
    let rec = &mut *rec;
    let buf = &mut rec.spike_buf;
    let own = settings.partition.map_or(&spikes.ids[..], |p| p.own_slice(&spikes.ids));
    for &id in own {
        buf.step.push(step);
        buf.time.push(t);
        buf.neuron.push(id);
        buf.population.push(rec.population_of.get(id as usize).copied().unwrap_or(0));
    }
    if buf.step.len() >= settings.batch_rows
        && let Err(e) = flush_spikes(rec)
    {
        fail(status, e);
        rec.spikes = None;
    }
}

fn flush_spikes(rec: &mut Recorder) -> Result<(), RecordError> {
    let Some(table) = rec.spikes.as_mut() else { return Ok(()) };
    if rec.spike_buf.step.is_empty() {
        return Ok(());
    }
    let b = std::mem::take(&mut rec.spike_buf);
    table.write(vec![
        Arc::new(UInt64Array::from(b.step)) as ArrayRef,
        Arc::new(Float64Array::from(b.time)),
        Arc::new(UInt32Array::from(b.neuron)),
        Arc::new(UInt16Array::from(b.population)),
    ])
}

type StateItem = (&'static MembranePotential, &'static RecoveryVariable, &'static Excitability, &'static InputCurrent, &'static NeuronId);

fn record_state(rec: &mut Recorder, status: &mut RecorderStatus, q: &Query<StateItem>, clock: &SimClock, settings: &RecordSettings) {
    let Some(sampling) = &settings.state else { return };
    if rec.state.is_none() || !clock.step().is_multiple_of(sampling.every_steps.max(1)) {
        return;
    }
    let (step, t) = (clock.step(), clock.time_ms());
    let rec = &mut *rec;
    let buf = &mut rec.state_buf;
    for &e in &rec.sampled {
        let Ok((v, u, ex, i, id)) = q.get(e) else { continue };
        buf.step.push(step);
        buf.time.push(t);
        buf.neuron.push(id.0);
        buf.v.push(v.0);
        buf.u.push(u.0);
        buf.excitability.push(ex.0);
        buf.input.push(i.0);
    }
    if buf.step.len() >= settings.batch_rows
        && let Err(e) = flush_state(rec)
    {
        fail(status, e);
        rec.state = None;
    }
}

fn flush_state(rec: &mut Recorder) -> Result<(), RecordError> {
    let Some(table) = rec.state.as_mut() else { return Ok(()) };
    if rec.state_buf.step.is_empty() {
        return Ok(());
    }
    let b = std::mem::take(&mut rec.state_buf);
    table.write(vec![
        Arc::new(UInt64Array::from(b.step)) as ArrayRef,
        Arc::new(Float64Array::from(b.time)),
        Arc::new(UInt32Array::from(b.neuron)),
        Arc::new(Float64Array::from(b.v)),
        Arc::new(Float64Array::from(b.u)),
        Arc::new(Float64Array::from(b.excitability)),
        Arc::new(Float64Array::from(b.input)),
    ])
}

fn synapse_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("pre", DataType::UInt32, false),
        Field::new("post", DataType::UInt32, false),
        Field::new("delay_steps", DataType::UInt16, false),
        Field::new("delay_ms", DataType::Float64, false),
        Field::new("weight_start", DataType::Float32, false),
        Field::new("weight_end", DataType::Float32, true),
        Field::new("created_step", DataType::UInt64, false),
        Field::new("removed_step", DataType::UInt64, true),
    ]))
}

/// Flushes every buffer, completes every file and writes `synapses.parquet` (start and end
/// weights; `weight_end` is null for a synapse removed during the run). Returns the files
/// written. Safe to call more than once; later calls write nothing new.
pub fn finish_recording(world: &mut World) -> Result<Vec<PathBuf>, RecordError> {
    let Some(mut rec) = world.remove_resource::<Recorder>() else { return Ok(Vec::new()) };
    let settings = world.get_resource::<RecordSettings>().cloned();
    let dt = world.get_resource::<SimClock>().map_or(1.0, |c| c.dt_ms());
    let extra = closing_metadata(world);
    let mut first_err = None;
    let mut keep = |r: Result<(), RecordError>| {
        if let Err(e) = r {
            first_err.get_or_insert(e);
        }
    };
    keep(flush_spikes(&mut rec));
    keep(flush_state(&mut rec));
    for t in [rec.spikes.take(), rec.state.take()].into_iter().flatten() {
        let mut t = t;
        rec.files.push(t.path().to_owned());
        keep(t.close_with(&extra));
    }
    if let Some(mut sampled) = world.get_resource_mut::<crate::sampled::SampledTables>() {
        for t in sampled.drain() {
            let (path, r) = t.close(&extra);
            rec.files.push(path);
            keep(r);
        }
    }
    if let (Some(settings), true) = (&settings, !rec.synapse_start.is_empty()) {
        let start = std::mem::take(&mut rec.synapse_start);
        // Live weights (plasticity writes the index) where indexed, else the component.
        let live: std::collections::HashMap<Entity, f32> = world
            .get_resource::<SynapseIndex>()
            .map(|i| i.entities().iter().copied().zip(i.weights().iter().copied()).collect())
            .unwrap_or_default();
        // Index-only synapses cannot be removed, and every rebuild keeps their relative (CSR)
        // order, which is the order of `start`: the n-th one at the end is the n-th at start.
        let mut index_only = world
            .get_resource::<SynapseIndex>()
            .map(|i| (0..i.len()).filter(|&k| i.entity(k).is_none()).map(|k| i.weights()[k]).collect::<Vec<f32>>())
            .unwrap_or_default()
            .into_iter();
        let mut q = world.query::<&SynapticWeight>();
        let weight_end: Vec<Option<f32>> = start
            .iter()
            .map(|s| {
                if s.entity == Entity::PLACEHOLDER {
                    index_only.next()
                } else {
                    q.get(world, s.entity).ok().map(|w| live.get(&s.entity).copied().unwrap_or(w.0))
                }
            })
            .collect();
        let removed_step: Vec<Option<u64>> = start
            .iter()
            .zip(&weight_end)
            .map(|(s, end)| match rec.synapse_removed.get(&s.entity) {
                Some(&step) => Some(step),
                // Gone without passing the queue (removed in the last step): the run's end.
                None if end.is_none() => Some(world.get_resource::<SimClock>().map_or(0, |c| c.step())),
                None => None,
            })
            .collect();
        let path = settings.path("synapses.parquet");
        keep(write_parquet(
            &path,
            synapse_schema(),
            vec![
                Arc::new(UInt32Array::from_iter_values(start.iter().map(|s| s.pre))) as ArrayRef,
                Arc::new(UInt32Array::from_iter_values(start.iter().map(|s| s.post))),
                Arc::new(UInt16Array::from_iter_values(start.iter().map(|s| s.delay))),
                Arc::new(Float64Array::from_iter_values(start.iter().map(|s| f64::from(s.delay) * dt))),
                Arc::new(Float32Array::from_iter_values(start.iter().map(|s| s.weight))),
                Arc::new(Float32Array::from(weight_end)),
                Arc::new(UInt64Array::from_iter_values(start.iter().map(|s| s.created))),
                Arc::new(UInt64Array::from(removed_step)),
            ],
            &[settings.metadata.clone(), extra.clone()].concat(),
        ));
        rec.files.push(path);
    }
    let files = std::mem::take(&mut rec.files);
    // Leave an empty, started recorder so that later steps record nothing.
    world.insert_resource(Recorder { started: true, ..Default::default() });
    match first_err {
        Some(e) => Err(e),
        None => Ok(files),
    }
}

/// What is known only at the end: `biospike.steps_run` (steps completed),
/// `biospike.simulated_ms` and the driver's [`ClosingMetadata`], appended to the metadata of every
/// table the recorder completes (and of tables a driver writes at the end).
pub fn closing_metadata(world: &World) -> Vec<(String, String)> {
    let Some(clock) = world.get_resource::<SimClock>() else { return Vec::new() };
    let mut out =
        vec![("biospike.steps_run".into(), clock.step().to_string()), ("biospike.simulated_ms".into(), clock.time_ms().to_string())];
    if let Some(extra) = world.get_resource::<ClosingMetadata>() {
        out.extend(extra.0.iter().cloned());
    }
    out
}

/// Writes the state of every neuron (`neuron, v, u, excitability, input, last_spike_step`) to
/// `path`: the snapshot a driver leaves when the guard halts a run.
pub fn write_snapshot(world: &mut World, path: &Path, metadata: &[(String, String)]) -> Result<(), RecordError> {
    let mut q = world.query::<(&NeuronId, &MembranePotential, &RecoveryVariable, &Excitability, &InputCurrent, &LastSpikeStep)>();
    let mut rows: Vec<_> = q.iter(world).map(|(id, v, u, e, i, l)| (id.0, v.0, u.0, e.0, i.0, l.0)).collect();
    rows.sort_unstable_by_key(|r| r.0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("neuron", DataType::UInt32, false),
        Field::new("v", DataType::Float64, false),
        Field::new("u", DataType::Float64, false),
        Field::new("excitability", DataType::Float64, false),
        Field::new("input", DataType::Float64, false),
        Field::new("last_spike_step", DataType::UInt64, true),
    ]));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| RecordError::Io { path: dir.to_owned(), source: e })?;
    }
    write_parquet(
        path,
        schema,
        vec![
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.4))),
            Arc::new(UInt64Array::from(rows.iter().map(|r| r.5).collect::<Vec<_>>())),
        ],
        metadata,
    )
}
