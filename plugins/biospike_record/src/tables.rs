//! Parquet files fed with arrow record batches, crash-safe.
//!
//! A streamed table (`spikes`, `state`, the sampled tables) is written as a sequence of complete
//! Parquet *parts* in `<table>.parquet.parts/`: each part is written under a temporary name
//! (`_part-NNNNNN.tmp`, which readers skip) and renamed to `part-NNNNNN.parquet` once its
//! footer is on disk, after about [`RecordSettings::row_group_rows`](crate::RecordSettings) rows
//! or [`PART_SECONDS`] of wall time. When the run ends, the parts are spliced into
//! `<table>.parquet` (column chunks copied as they are, no re-encoding), written under a
//! temporary name and renamed, and the parts folder is removed.
//!
//! A process killed at any moment (SIGKILL, power loss) therefore leaves every completed part
//! readable: `pyarrow.parquet.read_table("out/spikes.parquet.parts")` reads the rows up to the
//! last completed part, a prefix of what the full run writes.

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{KeyValue, PageIndexPolicy, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::plugin::RecordError;

/// Longest wall time a part stays open (rows written in it are lost to a SIGKILL until then).
pub const PART_SECONDS: u64 = 5;

/// The folder of a table's parts while it is written.
pub fn parts_dir(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".parts");
    path.with_file_name(name)
}

/// Where a complete file is written before it is renamed to `path`: `.<name>.tmp` beside it.
fn temporary_name(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()))
}

fn part_name(i: usize) -> String {
    format!("part-{i:06}.parquet")
}

/// A hard link from `from` to `to` (replacing `to`), or a copy (fsynced) where the file system
/// cannot link.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), RecordError> {
    if to.exists() {
        std::fs::remove_file(to).map_err(io(to))?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map_err(io(from))?;
    File::open(to).and_then(|f| f.sync_all()).map_err(io(to))
}

struct OpenPart {
    writer: ArrowWriter<File>,
    tmp: PathBuf,
    rows: usize,
    opened: Instant,
}

/// One streamed table. Dropping it completes the file (best effort); call
/// [`ParquetTable::close_with`] to see errors.
pub(crate) struct ParquetTable {
    path: PathBuf,
    parts_dir: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
    part_rows: usize,
    // The writer is `Send` but not `Sync`; the mutex makes the table a valid resource field.
    // Only the recorder's systems touch it, one at a time, so it is never contended.
    open: Mutex<Option<OpenPart>>,
    parts: Vec<PathBuf>,
    closed: bool,
}

pub(crate) fn properties(metadata: &[(String, String)], row_group_rows: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        // Dictionary encoding caps the writer at ~50 M rows/s on the integer columns
        // (STACK.md); plain + snappy is ~4x faster for a small size cost.
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_key_value_metadata(Some(metadata.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect()))
        .build()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |source| RecordError::Io { path: path.to_owned(), source }
}

fn pq(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> RecordError + '_ {
    move |source| RecordError::Parquet { path: path.to_owned(), source }
}

impl ParquetTable {
    /// A table streamed into `path` (through its parts folder).
    pub(crate) fn create(path: &Path, schema: SchemaRef, props: WriterProperties) -> Result<Self, RecordError> {
        let parts_dir = parts_dir(path);
        if parts_dir.exists() {
            std::fs::remove_dir_all(&parts_dir).map_err(io(&parts_dir))?;
        }
        std::fs::create_dir_all(&parts_dir).map_err(io(&parts_dir))?;
        let part_rows = props.max_row_group_row_count().unwrap_or(1 << 20);
        Ok(Self { path: path.to_owned(), parts_dir, schema, props, part_rows, open: Mutex::new(None), parts: Vec::new(), closed: false })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The table's columns.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The table's file name (`spikes.parquet`), also for a rank's part of a table split over
    /// MPI ranks (`spikes/rank-0001.parquet` is a part of `spikes.parquet`).
    pub(crate) fn file_name(&self) -> String {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match self.path.parent().and_then(Path::file_name) {
            Some(table) if name.starts_with("rank-") => format!("{}.parquet", table.to_string_lossy()),
            _ => name,
        }
    }

    /// Completes the open part and links every part into `dest/<file name>/` (hard links: parts
    /// are never written again; a copy where links are not possible). Returns the part count.
    pub(crate) fn checkpoint(&mut self, dest: &Path) -> Result<usize, RecordError> {
        if self.closed {
            return Err(RecordError::Closed { path: self.path.clone() });
        }
        self.seal_part()?;
        let folder = dest.join(self.file_name());
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        for (i, part) in self.parts.iter().enumerate() {
            link_or_copy(part, &folder.join(part_name(i)))?;
        }
        Ok(self.parts.len())
    }

    /// A table continued from `count` parts saved by [`ParquetTable::checkpoint`] in
    /// `src/<file name>/`: they are linked into a fresh parts folder and numbering goes on.
    pub(crate) fn resume(path: &Path, schema: SchemaRef, props: WriterProperties, src: &Path, count: usize) -> Result<Self, RecordError> {
        let mut table = Self::create(path, schema, props)?;
        let folder = src.join(table.file_name());
        for i in 0..count {
            let to = table.parts_dir.join(part_name(i));
            link_or_copy(&folder.join(part_name(i)), &to)?;
            table.parts.push(to);
        }
        Ok(table)
    }

    fn open_part(&mut self) -> Result<(), RecordError> {
        let tmp = self.parts_dir.join(format!("_part-{:06}.tmp", self.parts.len()));
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(self.props.clone())).map_err(pq(&tmp))?;
        *self.open.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(OpenPart { writer, tmp, rows: 0, opened: Instant::now() });
        Ok(())
    }

    /// Completes the open part: footer, data on disk, then its final name.
    fn seal_part(&mut self) -> Result<(), RecordError> {
        let Some(part) = self.open.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take() else { return Ok(()) };
        let file = part.writer.into_inner().map_err(pq(&part.tmp))?;
        file.sync_data().map_err(io(&part.tmp))?;
        let name = self.parts_dir.join(part_name(self.parts.len()));
        std::fs::rename(&part.tmp, &name).map_err(io(&name))?;
        self.parts.push(name);
        Ok(())
    }

    pub(crate) fn write(&mut self, columns: Vec<ArrayRef>) -> Result<(), RecordError> {
        if self.closed {
            return Err(RecordError::Closed { path: self.path.clone() });
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| RecordError::Arrow { path: self.path.clone(), message: e.to_string() })?;
        if self.open.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).is_none() {
            self.open_part()?;
        }
        let slot = self.open.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        let full = match slot.as_mut() {
            Some(p) => {
                p.writer.write(&batch).map_err(pq(&p.tmp))?;
                p.rows += batch.num_rows();
                p.rows >= self.part_rows || p.opened.elapsed() >= Duration::from_secs(PART_SECONDS)
            }
            None => false,
        };
        if full { self.seal_part() } else { Ok(()) }
    }

    /// Completes the table with `extra` key-value metadata appended to the footer (what is only
    /// known at the end: the steps run): the parts are spliced into the table's file.
    pub(crate) fn close_with(&mut self, extra: &[(String, String)]) -> Result<(), RecordError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if self.parts.is_empty() && self.open.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).is_none() {
            // No rows: still a table with its schema and metadata.
            self.open_part()?;
        }
        self.seal_part()?;
        let tmp = temporary_name(&self.path);
        splice(&self.parts, &tmp, extra)?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        std::fs::remove_dir_all(&self.parts_dir).map_err(io(&self.parts_dir))
    }
}

/// Writes the row groups of `parts` (same schema) into one file at `out`, column chunks copied
/// without decoding; the footer keeps the first part's key-value metadata plus `extra`.
fn splice(parts: &[PathBuf], out: &Path, extra: &[(String, String)]) -> Result<(), RecordError> {
    let inputs = parts
        .iter()
        .map(|p| {
            let file = File::open(p).map_err(io(p))?;
            let meta =
                ParquetMetaDataReader::new().with_page_index_policy(PageIndexPolicy::Optional).parse_and_finish(&file).map_err(pq(p))?;
            Ok((file, meta))
        })
        .collect::<Result<Vec<_>, RecordError>>()?;
    let Some((_, first)) = inputs.first() else { return Ok(()) };
    let mut kv = first.file_metadata().key_value_metadata().cloned().unwrap_or_default();
    kv.extend(extra.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
    let props = Arc::new(WriterProperties::builder().set_key_value_metadata(Some(kv)).build());
    let schema = first.file_metadata().schema_descr().root_schema_ptr();
    let file = File::create(out).map_err(io(out))?;
    let mut writer = SerializedFileWriter::new(file, schema, props).map_err(pq(out))?;
    for ((input, meta), path) in inputs.iter().zip(parts) {
        let page_index = meta.page_index();
        for (rg_idx, rg) in meta.row_groups().iter().enumerate() {
            let mut rg_out = writer.next_row_group().map_err(pq(out))?;
            for (col_idx, column) in rg.columns().iter().enumerate() {
                let result = ColumnCloseResult {
                    bytes_written: column.compressed_size() as u64,
                    rows_written: rg.num_rows() as u64,
                    metadata: column.clone(),
                    bloom_filter: None,
                    column_index: page_index.and_then(|pi| pi.column_index(rg_idx, col_idx)).cloned(),
                    offset_index: page_index.and_then(|pi| pi.offset_index(rg_idx, col_idx)).cloned(),
                };
                rg_out.append_column(input, result).map_err(pq(path))?;
            }
            rg_out.close().map_err(pq(out))?;
        }
    }
    let file = writer.into_inner().map_err(pq(out))?;
    file.sync_data().map_err(io(out))
}

impl Drop for ParquetTable {
    fn drop(&mut self) {
        // Completing the table is all we can do here; errors were reported on write.
        let _ = self.close_with(&[]);
    }
}

/// Writes one whole table to `path` in a single call: under a temporary name, then renamed, so
/// that `path` is either absent or complete.
pub fn write_parquet(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>, metadata: &[(String, String)]) -> Result<(), RecordError> {
    let tmp = temporary_name(path);
    let batch =
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| RecordError::Arrow { path: path.to_owned(), message: e.to_string() })?;
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let mut w = ArrowWriter::try_new(file, schema, Some(properties(metadata, 1 << 20))).map_err(pq(&tmp))?;
    w.write(&batch).map_err(pq(&tmp))?;
    let file = w.into_inner().map_err(pq(&tmp))?;
    file.sync_data().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
