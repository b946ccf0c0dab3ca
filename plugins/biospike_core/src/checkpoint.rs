//! Checkpoints: the dynamic state of a simulation, saved between two steps and restored into a
//! world rebuilt from the same model, so that the run continues bit for bit.
//!
//! A model is rebuilt from its description (the scene and seed) and then overwritten with the
//! saved state; only what changes while stepping is saved. Each plugin names the state it owns
//! as **sections** in [`CheckpointSections`], in its `build`:
//! - [`CheckpointAppExt::persist_resource`]: a resource saved whole ([`Persist`]);
//! - [`CheckpointAppExt::persist_component`]: one component of every entity that has it (neuron
//!   state), keyed by entity;
//! - [`CheckpointAppExt::add_checkpoint_section`]: anything else (save and load functions).
//!
//! The core plugin's sections come first: the clock, a fingerprint of the network, and the
//! synapse entities (synapses created during the run are spawned again and pruned ones
//! despawned; [`StateReader::entity`] maps the saved entities to the restored ones for every
//! later section).
//!
//! [`save_state`] writes `state.bin` into a folder: a header, then one block per section
//! (name, length, bytes, CRC-32). [`load_state`] refuses a file of another format version, a
//! damaged block, a section the app does not have (or the other way round), and a network that
//! does not match the checkpoint's, each with a message naming it.
//!
//! A custom model adds its state the same way:
//! ```
//! use bevy_app::App;
//! use bevy_ecs::prelude::*;
//! use biospike_core::checkpoint::{CheckpointAppExt, Persist, load_state, save_state};
//! use biospike_core::prelude::*;
//!
//! #[derive(Component, Clone, Copy, Debug, PartialEq)]
//! struct Gating(f64);
//! biospike_core::persist_fields!(Gating { 0 });
//!
//! fn model(n: u32) -> App {
//!     let mut app = App::new();
//!     app.add_plugins(CoreSimPlugin::default());
//!     app.persist_component::<Gating>("my_model.gating");
//!     for i in 0..n {
//!         app.world_mut().spawn((Neuron, NeuronId(i), Gating(0.0)));
//!     }
//!     app
//! }
//!
//! let dir = std::env::temp_dir().join(format!("biospike-doc-checkpoint-{}", std::process::id()));
//! let mut a = model(3);
//! for _ in 0..5 {
//!     step_simulation(a.world_mut());
//! }
//! let mut q = a.world_mut().query::<&mut Gating>();
//! q.iter_mut(a.world_mut()).for_each(|mut g| g.0 += 0.25);
//! save_state(a.world_mut(), &dir).expect("saved");
//!
//! let mut b = model(3);
//! load_state(b.world_mut(), &dir).expect("restored");
//! assert_eq!(b.world().resource::<SimClock>().step(), 5);
//! let mut q = b.world_mut().query::<&Gating>();
//! assert!(q.iter(b.world()).all(|g| g.0 == 0.25));
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

use bevy_app::App;
use bevy_ecs::component::Mutable;
use bevy_ecs::entity::EntityHashMap;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::components::{NeuronId, Synapse, SynapticDelay, SynapticReceptor, SynapticWeight};
use crate::connectivity::{SynapseEdits, SynapseIndex};
use crate::populations::PopulationTable;
use crate::schedule::SimClock;

/// Version of the `state.bin` layout; a checkpoint of another version is refused. 2: receptor
/// ports (the synapse index's port column, the delay ring's port rows, each synapse's port).
pub const FORMAT_VERSION: u32 = 2;

/// The state file inside a checkpoint folder.
pub const STATE_FILE: &str = "state.bin";

const MAGIC: &[u8; 8] = b"BSPKSTAT";

/// Why a checkpoint could not be written or restored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is damaged or not a checkpoint.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file (and section).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The checkpoint does not fit this app (another network, another version, other plugins).
    #[error("{0}")]
    Incompatible(String),
    /// The simulation cannot be saved now.
    #[error("{0}")]
    NotNow(String),
}

/// Bytes of one section being written.
pub struct StateWriter {
    buf: Vec<u8>,
    dir: PathBuf,
    /// Where full chunks go (a section is streamed to the file, never held whole in memory).
    sink: Option<std::fs::File>,
    hasher: crc32fast::Hasher,
    written: u64,
    error: Option<std::io::Error>,
}

/// Bytes a section buffers before they go to the file.
const CHUNK: usize = 1 << 20;

impl StateWriter {
    /// Appends a value.
    pub fn put<T: Persist>(&mut self, value: &T) {
        value.save(self);
    }

    /// Appends raw bytes (a [`Persist`] implementation's building block).
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.drain();
        }
    }

    fn new(dir: &Path, sink: Option<std::fs::File>) -> Self {
        Self { buf: Vec::new(), dir: dir.to_owned(), sink, hasher: crc32fast::Hasher::new(), written: 0, error: None }
    }

    /// Sends the buffered bytes to the file (keeping the first error).
    fn drain(&mut self) {
        let Some(sink) = self.sink.as_mut() else { return };
        self.hasher.update(&self.buf);
        self.written += self.buf.len() as u64;
        if self.error.is_none()
            && let Err(e) = sink.write_all(&self.buf)
        {
            self.error = Some(e);
        }
        self.buf.clear();
    }

    /// The checkpoint folder being written (for sections that keep files beside the state, such
    /// as the recorder's completed table parts).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Bytes of one section being read, and the map from saved to restored entities.
pub struct StateReader<'a> {
    /// The section's bytes, streamed from the file (never held whole in memory).
    src: std::io::BufReader<std::fs::File>,
    /// Bytes read, and the section's length.
    pos: usize,
    len: usize,
    scratch: Vec<u8>,
    section: &'a str,
    dir: &'a Path,
    entities: &'a mut EntityHashMap<Entity>,
}

impl StateReader<'_> {
    /// Reads a value.
    pub fn get<T: Persist>(&mut self) -> Result<T, CheckpointError> {
        T::load(self)
    }

    /// The next `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&[u8], CheckpointError> {
        use std::io::Read as _;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.len).ok_or_else(|| self.corrupt("ends early"))?;
        self.scratch.resize(n, 0);
        if let Err(e) = self.src.read_exact(&mut self.scratch) {
            return Err(self.corrupt(e));
        }
        self.pos = end;
        Ok(&self.scratch)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// CRC-32 of the next `n` bytes, read and skipped.
    fn checksum(&mut self, n: usize) -> Result<u32, CheckpointError> {
        let mut h = crc32fast::Hasher::new();
        let mut left = n;
        while left > 0 {
            let k = left.min(CHUNK);
            h.update(self.take(k)?);
            left -= k;
        }
        Ok(h.finalize())
    }

    /// The entity restored for a saved one (itself when it was not re-created).
    pub fn entity(&self, saved: Entity) -> Entity {
        self.entities.get(&saved).copied().unwrap_or(saved)
    }

    /// Records that `saved` is `restored` in this world (for the sections read later).
    pub fn map_entity(&mut self, saved: Entity, restored: Entity) {
        self.entities.insert(saved, restored);
    }

    /// The checkpoint folder being read.
    pub fn dir(&self) -> &Path {
        self.dir
    }

    /// An error naming this section.
    pub fn corrupt(&self, message: impl std::fmt::Display) -> CheckpointError {
        CheckpointError::Corrupt {
            path: format!("{} (section {})", self.dir.join(STATE_FILE).display(), self.section),
            message: message.to_string(),
        }
    }
}

/// A value that can be saved into and read back from a checkpoint, bit for bit.
pub trait Persist: Sized {
    /// Appends the value.
    fn save(&self, w: &mut StateWriter);
    /// Reads a value saved by [`Persist::save`].
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError>;
}

macro_rules! persist_le {
    ($($t:ty),*) => {$(
        impl Persist for $t {
            #[inline]
            fn save(&self, w: &mut StateWriter) {
                w.bytes(&self.to_le_bytes());
            }
            #[inline]
            fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
                let b = r.take(std::mem::size_of::<$t>())?;
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                Ok(<$t>::from_le_bytes(a))
            }
        }
    )*};
}
persist_le!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Persist for usize {
    fn save(&self, w: &mut StateWriter) {
        (*self as u64).save(w);
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        let v = u64::load(r)?;
        usize::try_from(v).map_err(|_| r.corrupt(format!("{v} does not fit this machine's usize")))
    }
}

impl Persist for bool {
    fn save(&self, w: &mut StateWriter) {
        u8::from(*self).save(w);
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        match u8::load(r)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(r.corrupt(format!("{b} is not a boolean"))),
        }
    }
}

impl Persist for Entity {
    fn save(&self, w: &mut StateWriter) {
        self.to_bits().save(w);
    }
    /// The restored entity for the saved one ([`StateReader::entity`]).
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        let bits = u64::load(r)?;
        let e = Entity::try_from_bits(bits).ok_or_else(|| r.corrupt(format!("{bits:#x} is not an entity")))?;
        Ok(r.entity(e))
    }
}

impl Persist for String {
    fn save(&self, w: &mut StateWriter) {
        self.len().save(w);
        w.bytes(self.as_bytes());
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        let n = usize::load(r)?;
        let b = r.take(n)?.to_vec();
        String::from_utf8(b).map_err(|e| r.corrupt(e))
    }
}

impl<T: Persist> Persist for Option<T> {
    fn save(&self, w: &mut StateWriter) {
        match self {
            None => 0u8.save(w),
            Some(v) => {
                1u8.save(w);
                v.save(w);
            }
        }
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        match u8::load(r)? {
            0 => Ok(None),
            1 => T::load(r).map(Some),
            b => Err(r.corrupt(format!("{b} is not an option tag"))),
        }
    }
}

/// Reads a length and checks it against the bytes left (each element takes at least one), so
/// that a damaged file cannot ask for a huge allocation.
fn read_len(r: &mut StateReader) -> Result<usize, CheckpointError> {
    let n = usize::load(r)?;
    if n > r.remaining() {
        return Err(r.corrupt(format!("a length of {n} with {} bytes left", r.remaining())));
    }
    Ok(n)
}

impl<T: Persist> Persist for Vec<T> {
    fn save(&self, w: &mut StateWriter) {
        self.len().save(w);
        for v in self {
            v.save(w);
        }
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        let n = read_len(r)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::load(r)?);
        }
        Ok(out)
    }
}

impl<T: Persist> Persist for VecDeque<T> {
    fn save(&self, w: &mut StateWriter) {
        self.len().save(w);
        for v in self {
            v.save(w);
        }
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        Vec::<T>::load(r).map(VecDeque::from)
    }
}

impl<T: Persist, const N: usize> Persist for [T; N] {
    fn save(&self, w: &mut StateWriter) {
        for v in self {
            v.save(w);
        }
    }
    fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
        let v = (0..N).map(|_| T::load(r)).collect::<Result<Vec<T>, _>>()?;
        v.try_into().map_err(|_| r.corrupt("array length"))
    }
}

macro_rules! persist_tuple {
    ($($n:tt $t:ident),*) => {
        impl<$($t: Persist),*> Persist for ($($t,)*) {
            fn save(&self, w: &mut StateWriter) {
                $(self.$n.save(w);)*
            }
            fn load(r: &mut StateReader) -> Result<Self, CheckpointError> {
                Ok(($($t::load(r)?,)*))
            }
        }
    };
}
persist_tuple!(0 A, 1 B);
persist_tuple!(0 A, 1 B, 2 C);
persist_tuple!(0 A, 1 B, 2 C, 3 D);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);

/// Implements [`Persist`] for a struct by its fields, in the order given (all of them):
/// `persist_fields!(MyState { a, b, c })`, or `persist_fields!(Wrapper { 0 })` for a tuple struct.
#[macro_export]
macro_rules! persist_fields {
    ($ty:ident { $($field:tt),* $(,)? }) => {
        impl $crate::checkpoint::Persist for $ty {
            fn save(&self, w: &mut $crate::checkpoint::StateWriter) {
                $( $crate::checkpoint::Persist::save(&self.$field, w); )*
            }
            fn load(r: &mut $crate::checkpoint::StateReader) -> Result<Self, $crate::checkpoint::CheckpointError> {
                Ok(Self { $( $field: $crate::checkpoint::Persist::load(r)?, )* })
            }
        }
    };
}

/// Saves a section.
pub type SaveFn = fn(&mut World, &mut StateWriter) -> Result<(), CheckpointError>;
/// Restores a section.
pub type LoadFn = fn(&mut World, &mut StateReader) -> Result<(), CheckpointError>;

/// One named part of a checkpoint.
#[derive(Clone, Copy, Debug)]
pub struct CheckpointSection {
    /// Unique name (`plugin.what`), stored in the file.
    pub name: &'static str,
    /// Writes the state.
    pub save: SaveFn,
    /// Restores it into a rebuilt world.
    pub load: LoadFn,
    /// The section may be missing on either side: a checkpoint holding it can be restored into
    /// an app without it, and an app with it can restore a checkpoint without it (the recorder:
    /// a run can be resumed with or without recording). Otherwise both must have it.
    pub optional: bool,
}

/// The sections of this app, in the order they are saved and restored.
#[derive(Resource, Clone, Debug, Default)]
pub struct CheckpointSections(Vec<CheckpointSection>);

impl CheckpointSections {
    /// Adds a section (a second one of the same name is ignored: plugins sharing a component
    /// may both register it).
    pub fn add(&mut self, section: CheckpointSection) {
        if !self.0.iter().any(|s| s.name == section.name) {
            self.0.push(section);
        }
    }

    /// The section names.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|s| s.name)
    }
}

/// Registering checkpoint sections on an [`App`].
pub trait CheckpointAppExt {
    /// Saves resource `R` whole (absent resources are saved as absent).
    fn persist_resource<R: Resource + Persist>(&mut self, name: &'static str) -> &mut Self;
    /// Saves component `C` of every entity that has it.
    fn persist_component<C: Component<Mutability = Mutable> + Persist>(&mut self, name: &'static str) -> &mut Self;
    /// Adds a section with save and load functions of its own.
    fn add_checkpoint_section(&mut self, section: CheckpointSection) -> &mut Self;
}

impl CheckpointAppExt for App {
    fn persist_resource<R: Resource + Persist>(&mut self, name: &'static str) -> &mut Self {
        self.add_checkpoint_section(CheckpointSection { name, save: save_resource::<R>, load: load_resource::<R>, optional: false })
    }

    fn persist_component<C: Component<Mutability = Mutable> + Persist>(&mut self, name: &'static str) -> &mut Self {
        self.add_checkpoint_section(CheckpointSection { name, save: save_component::<C>, load: load_component::<C>, optional: false })
    }

    fn add_checkpoint_section(&mut self, section: CheckpointSection) -> &mut Self {
        self.world_mut().get_resource_or_init::<CheckpointSections>().add(section);
        self
    }
}

/// Saves resource `R` whole, or its absence (what [`CheckpointAppExt::persist_resource`] registers).
pub fn save_resource<R: Resource + Persist>(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    w.put(&world.get_resource::<R>().is_some());
    if let Some(r) = world.get_resource::<R>() {
        r.save(w);
    }
    Ok(())
}

/// Restores what [`save_resource`] saved.
pub fn load_resource<R: Resource + Persist>(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    if r.get::<bool>()? {
        // The rebuilt value goes first: a large index is never held twice.
        world.remove_resource::<R>();
        let value = R::load(r)?;
        world.insert_resource(value);
    } else {
        world.remove_resource::<R>();
    }
    Ok(())
}

fn save_component<C: Component + Persist>(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let mut q = world.query::<(Entity, &C)>();
    let mut rows: Vec<(Entity, &C)> = q.iter(world).collect();
    rows.sort_unstable_by_key(|(e, _)| e.to_bits());
    w.put(&rows.len());
    for (e, c) in rows {
        w.put(&e);
        w.put(c);
    }
    Ok(())
}

fn load_component<C: Component<Mutability = Mutable> + Persist>(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let n = read_len(r)?;
    let here = world.query::<&C>().iter(world).count();
    if n != here {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint holds {n} entities with {}, this network {here}: it is another network",
            short_type_name::<C>()
        )));
    }
    for _ in 0..n {
        let e: Entity = r.get()?;
        let value: C = r.get()?;
        match world.get_mut::<C>(e) {
            Some(mut c) => *c = value,
            None => {
                return Err(CheckpointError::Incompatible(format!(
                    "entity {e} of the checkpoint has no {} here: it is another network",
                    short_type_name::<C>()
                )));
            }
        }
    }
    Ok(())
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Writes the state of every registered section to `dir/state.bin` (fsynced). `dir` must exist
/// or be creatable; the caller makes the folder appear atomically (write elsewhere, rename).
/// Returns the bytes written.
pub fn save_state(world: &mut World, dir: &Path) -> Result<u64, CheckpointError> {
    if let Some(status) = world.get_resource::<crate::SimStatus>()
        && !status.is_running()
    {
        return Err(CheckpointError::NotNow(format!("the simulation has ended ({status}); there is no state to continue from")));
    }
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| CheckpointError::Io { path: p, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let sections = world.get_resource::<CheckpointSections>().cloned().unwrap_or_default();
    let path = dir.join(STATE_FILE);
    let mut file = std::fs::File::create(&path).map_err(io(&path))?;
    let mut header = StateWriter::new(dir, None);
    header.bytes(MAGIC);
    header.put(&FORMAT_VERSION);
    header.put(&sections.0.len());
    file.write_all(&header.buf).map_err(io(&path))?;
    for s in &sections.0 {
        // Name and kind, then the length and checksum (filled in once the body is written).
        let mut head = StateWriter::new(dir, None);
        head.put(&s.name.to_string());
        head.put(&s.optional);
        file.write_all(&head.buf).map_err(io(&path))?;
        let slot = file.stream_position().map_err(io(&path))?;
        file.write_all(&[0u8; 12]).map_err(io(&path))?;
        let mut w = StateWriter::new(dir, Some(file));
        let saved = (s.save)(world, &mut w);
        w.drain();
        let Some(mut f) = w.sink.take() else { unreachable!("the writer was given the file") };
        saved?;
        if let Some(e) = w.error.take() {
            return Err(CheckpointError::Io { path, source: e });
        }
        let mut fill = StateWriter::new(dir, None);
        fill.put(&w.written);
        fill.put(&w.hasher.clone().finalize());
        f.seek(std::io::SeekFrom::Start(slot))
            .and_then(|_| f.write_all(&fill.buf))
            .and_then(|()| f.seek(std::io::SeekFrom::End(0)))
            .map_err(io(&path))?;
        file = f;
    }
    let total = file.stream_position().map_err(io(&path))?;
    file.sync_all().map_err(io(&path))?;
    Ok(total)
}

/// The section names and sizes of a checkpoint folder, without restoring anything.
pub fn list_sections(dir: &Path) -> Result<Vec<(String, u64)>, CheckpointError> {
    let blocks = read_blocks(dir)?;
    Ok(blocks.iter().map(|b| (b.name.clone(), b.len as u64)).collect())
}

struct Block {
    name: String,
    optional: bool,
    /// Offset of the body in the file, and its length.
    offset: u64,
    len: usize,
}

/// A reader of `len` bytes of `path` from `offset`.
fn open_at<'a>(
    path: &Path,
    offset: u64,
    len: usize,
    section: &'a str,
    dir: &'a Path,
    entities: &'a mut EntityHashMap<Entity>,
) -> Result<StateReader<'a>, CheckpointError> {
    use std::io::Seek as _;
    let io = |source| CheckpointError::Io { path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    file.seek(std::io::SeekFrom::Start(offset)).map_err(io)?;
    Ok(StateReader { src: std::io::BufReader::with_capacity(CHUNK, file), pos: 0, len, scratch: Vec::new(), section, dir, entities })
}

/// The blocks of `dir/state.bin`, every checksum verified (one streaming pass).
fn read_blocks(dir: &Path) -> Result<Vec<Block>, CheckpointError> {
    let path = dir.join(STATE_FILE);
    let total = std::fs::metadata(&path).map_err(|source| CheckpointError::Io { path: path.clone(), source })?.len();
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let mut map = EntityHashMap::default();
    let mut r = open_at(&path, 0, total, "header", dir, &mut map)?;
    if r.take(MAGIC.len()).ok() != Some(MAGIC.as_slice()) {
        return Err(r.corrupt("not a biospike checkpoint"));
    }
    let version: u32 = r.get()?;
    if version != FORMAT_VERSION {
        return Err(CheckpointError::Incompatible(format!(
            "{}: checkpoint format {version}, this biospike reads format {FORMAT_VERSION}; resume it with the biospike version that wrote it",
            path.display()
        )));
    }
    let n = read_len(&mut r)?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let name: String = r.get()?;
        let optional: bool = r.get()?;
        let len: usize = r.get()?;
        let crc: u32 = r.get()?;
        let offset = r.pos as u64;
        if r.checksum(len)? != crc {
            return Err(CheckpointError::Corrupt {
                path: format!("{} (section {name})", path.display()),
                message: "checksum mismatch: the file is damaged".into(),
            });
        }
        blocks.push(Block { name, optional, offset, len });
    }
    if r.remaining() != 0 {
        return Err(r.corrupt("trailing bytes after the last section"));
    }
    Ok(blocks)
}

/// Restores the state saved by [`save_state`] in `dir` into `world`, which must hold the same
/// model rebuilt from its description (same plugins, neurons and initial synapses; settings may
/// differ, which branches the run). Every section of the app must be in the checkpoint, and
/// every section of the checkpoint in the app unless it is optional. After an error the world
/// is partly restored: build it again before using it.
pub fn load_state(world: &mut World, dir: &Path) -> Result<(), CheckpointError> {
    let blocks = read_blocks(dir)?;
    let path = dir.join(STATE_FILE);
    let sections = world.get_resource::<CheckpointSections>().cloned().unwrap_or_default();
    let mut map = EntityHashMap::default();
    // The clock and the network first: "another scene" says more than a list of plugins.
    let (first, rest): (Vec<&CheckpointSection>, Vec<&CheckpointSection>) =
        sections.0.iter().partition(|s| s.name == "core.clock" || s.name == "core.network");
    for (i, s) in first.into_iter().chain(rest).enumerate() {
        if i == 2 {
            check_sections(&sections, &blocks)?;
        }
        let Some(block) = blocks.iter().find(|b| b.name == s.name) else { continue };
        let mut r = open_at(&path, block.offset, block.len, &block.name, dir, &mut map)?;
        (s.load)(world, &mut r)?;
        if r.remaining() != 0 {
            return Err(r.corrupt(format!("{} bytes left unread", r.remaining())));
        }
    }
    Ok(())
}

/// Every section of the app is in the checkpoint and the other way round (optional ones aside).
fn check_sections(sections: &CheckpointSections, blocks: &[Block]) -> Result<(), CheckpointError> {
    let saved: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
    let missing: Vec<&str> = sections.0.iter().filter(|s| !s.optional && !saved.contains(&s.name)).map(|s| s.name).collect();
    if !missing.is_empty() {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint has no state for {} (this app has plugins the checkpointed run did not)",
            missing.join(", ")
        )));
    }
    let unknown: Vec<&str> =
        blocks.iter().filter(|b| !b.optional && !sections.names().any(|m| m == b.name)).map(|b| b.name.as_str()).collect();
    if !unknown.is_empty() {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint holds state of {} which this app does not have (the checkpointed run had plugins this one lacks)",
            unknown.join(", ")
        )));
    }
    Ok(())
}

// --- the core plugin's sections ---

pub(crate) fn register_core(app: &mut App) {
    app.add_checkpoint_section(CheckpointSection { name: "core.clock", save: save_clock, load: load_clock, optional: false });
    app.add_checkpoint_section(CheckpointSection { name: "core.network", save: save_network, load: load_network, optional: false });
    app.add_checkpoint_section(CheckpointSection { name: "core.synapses", save: save_synapses, load: load_synapses, optional: false });
    app.persist_resource::<SynapseIndex>("core.synapse_index");
    app.add_checkpoint_section(CheckpointSection { name: "core.synapse_edits", save: save_edits, load: load_edits, optional: false });
    app.persist_resource::<crate::StepSpikes>("core.step_spikes");
    app.persist_resource::<crate::NeuromodulatorLevels>("core.neuromodulator_levels");
    app.persist_component::<crate::MembranePotential>("core.membrane_potential");
    app.persist_component::<crate::RecoveryVariable>("core.recovery_variable");
    app.persist_component::<crate::InputCurrent>("core.input_current");
    app.persist_component::<crate::StimulusCurrent>("core.stimulus_current");
    app.persist_component::<crate::Excitability>("core.excitability");
    app.persist_component::<crate::SpikedThisStep>("core.spiked_this_step");
    app.persist_component::<crate::LastSpikeStep>("core.last_spike_step");
}

persist_fields!(StepSpikes { ids });
persist_fields!(StimulusCurrent { now, held });
persist_fields!(NeuromodulatorLevels { tonic, phasic, baseline });
use crate::components::{StepSpikes, StimulusCurrent};
use crate::modulators::NeuromodulatorLevels;

macro_rules! persist_newtype {
    ($($t:ty),*) => {$(
        impl Persist for $t {
            fn save(&self, w: &mut StateWriter) { self.0.save(w); }
            fn load(r: &mut StateReader) -> Result<Self, CheckpointError> { Ok(Self(r.get()?)) }
        }
    )*};
}
persist_newtype!(
    crate::MembranePotential,
    crate::RecoveryVariable,
    crate::InputCurrent,
    crate::Excitability,
    crate::SpikedThisStep,
    crate::LastSpikeStep
);

fn save_clock(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let clock = *world.resource::<SimClock>();
    w.put(&clock.step());
    w.put(&clock.dt_ms());
    w.put(&world.get_resource::<crate::rng::SimSeed>().map_or(0, |s| s.0));
    Ok(())
}

fn load_clock(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let step: u64 = r.get()?;
    let dt: f64 = r.get()?;
    let seed: u64 = r.get()?;
    let mut clock = world.resource_mut::<SimClock>();
    if clock.dt_ms().to_bits() != dt.to_bits() {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint was taken with dt = {dt} ms, this model has dt = {} ms",
            clock.dt_ms()
        )));
    }
    clock.set_step(step);
    let here = world.get_resource::<crate::rng::SimSeed>().map_or(0, |s| s.0);
    if here != seed {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint's run has seed {seed}, this model seed {here}: the random streams would not continue"
        )));
    }
    Ok(())
}

/// The populations (name, first id, size) and the neuron entities by id: a rebuilt model must
/// have the same.
fn save_network(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let table = world.get_resource::<PopulationTable>().cloned().unwrap_or_default();
    let pops: Vec<(String, u32, u32)> = table.populations.iter().map(|p| (p.name.clone(), p.first, p.len)).collect();
    w.put(&pops);
    let mut q = world.query::<(Entity, &NeuronId)>();
    let mut ids: Vec<(u32, Entity)> = q.iter(world).map(|(e, id)| (id.0, e)).collect();
    ids.sort_unstable_by_key(|&(id, e)| (id, e.to_bits()));
    w.put(&ids);
    Ok(())
}

fn describe(pops: &[(String, u32, u32)]) -> String {
    if pops.is_empty() {
        return "no populations".into();
    }
    pops.iter().map(|(n, _, len)| format!("{n} ({len})")).collect::<Vec<_>>().join(", ")
}

fn load_network(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let pops: Vec<(String, u32, u32)> = r.get()?;
    let ids: Vec<(u32, Entity)> = r.get()?;
    let table = world.get_resource::<PopulationTable>().cloned().unwrap_or_default();
    let here: Vec<(String, u32, u32)> = table.populations.iter().map(|p| (p.name.clone(), p.first, p.len)).collect();
    if pops != here {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint is of a network with populations {}, this one has {}: it is another scene",
            describe(&pops),
            describe(&here)
        )));
    }
    let mut q = world.query::<(Entity, &NeuronId)>();
    let mut mine: Vec<(u32, Entity)> = q.iter(world).map(|(e, id)| (id.0, e)).collect();
    mine.sort_unstable_by_key(|&(id, e)| (id, e.to_bits()));
    if mine != ids {
        return Err(CheckpointError::Incompatible(format!(
            "the checkpoint has {} neurons, this model {}{}: it is another network",
            ids.len(),
            mine.len(),
            if mine.len() == ids.len() { " (spawned in another order)" } else { "" }
        )));
    }
    Ok(())
}

/// Every synapse entity: `(entity, pre, post, weight, delay, receptor port)`.
fn save_synapses(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let mut q = world.query::<(Entity, &Synapse, &SynapticWeight, &SynapticDelay, Option<&SynapticReceptor>)>();
    let mut rows: Vec<(Entity, u32, u32, f32, u16, u8)> =
        q.iter(world).map(|(e, s, wt, d, port)| (e, s.pre.0, s.post.0, wt.0, d.0, port.map_or(0, |p| p.0))).collect();
    rows.sort_unstable_by_key(|r| r.0.to_bits());
    w.put(&rows);
    Ok(())
}

/// Despawns the rebuilt synapses the checkpoint does not have (pruned during the run), spawns
/// the ones it has and the world lacks (created during the run; mapped to their new entities),
/// and sets weights and delays.
fn load_synapses(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let rows: Vec<(Entity, u32, u32, f32, u16, u8)> = r.get()?;
    let mut q = world.query::<(Entity, &Synapse, &SynapticWeight, &SynapticDelay)>();
    let here: EntityHashMap<(u32, u32, f32, u16)> = q.iter(world).map(|(e, s, wt, d)| (e, (s.pre.0, s.post.0, wt.0, d.0))).collect();
    let saved: bevy_ecs::entity::EntityHashSet = rows.iter().map(|r| r.0).collect();
    let mut gone: Vec<Entity> = here.keys().copied().filter(|e| !saved.contains(e)).collect();
    gone.sort_unstable_by_key(|e| e.to_bits());
    for e in gone {
        world.despawn(e);
    }
    for &(e, pre, post, weight, delay, port) in &rows {
        match here.get(&e) {
            Some(&(p, q, wt, d)) if (p, q) == (pre, post) => {
                if wt.to_bits() != weight.to_bits() || d != delay {
                    world.entity_mut(e).insert((SynapticWeight(weight), SynapticDelay(delay)));
                }
            }
            Some(_) => {
                let mut entity = world.entity_mut(e);
                // The port first, so the delivery index's re-add sees it.
                if port != 0 {
                    entity.insert(SynapticReceptor(port));
                } else {
                    entity.remove::<SynapticReceptor>();
                }
                entity.insert((Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(weight), SynapticDelay(delay)));
            }
            None => {
                let synapse = (Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(weight), SynapticDelay(delay));
                let new = if port != 0 { world.spawn((SynapticReceptor(port), synapse)).id() } else { world.spawn(synapse).id() };
                r.map_entity(e, new);
            }
        }
    }
    Ok(())
}

fn save_edits(world: &mut World, w: &mut StateWriter) -> Result<(), CheckpointError> {
    let edits = world.get_resource::<SynapseEdits>().cloned().unwrap_or_default();
    w.put(&world.contains_resource::<SynapseEdits>());
    w.put(&edits.added);
    let removed: Vec<(u32, u32, Entity)> = edits.removed.iter().map(|(s, e)| (s.pre.0, s.post.0, *e)).collect();
    w.put(&removed);
    w.put(&edits.changed);
    Ok(())
}

/// The queue as it was (restoring the synapses queued edits of their own, which are dropped).
fn load_edits(world: &mut World, r: &mut StateReader) -> Result<(), CheckpointError> {
    let present: bool = r.get()?;
    let added: Vec<Entity> = r.get()?;
    let removed: Vec<(u32, u32, Entity)> = r.get()?;
    let changed: Vec<Entity> = r.get()?;
    if present {
        let removed = removed.into_iter().map(|(pre, post, e)| (Synapse { pre: NeuronId(pre), post: NeuronId(post) }, e)).collect();
        world.insert_resource(SynapseEdits { added, removed, changed });
    } else {
        world.remove_resource::<SynapseEdits>();
    }
    Ok(())
}
