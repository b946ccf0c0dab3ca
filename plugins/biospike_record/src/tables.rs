//! A Parquet file fed with arrow record batches.

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::plugin::RecordError;

/// One Parquet file being written. Dropping it completes the file (best effort); call
/// [`ParquetTable::close`] to see errors.
pub(crate) struct ParquetTable {
    path: PathBuf,
    schema: SchemaRef,
    // The writer is `Send` but not `Sync`; the mutex makes the table a valid resource field.
    // Only the recorder's systems touch it, one at a time, so it is never contended.
    writer: Mutex<Option<ArrowWriter<File>>>,
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

impl ParquetTable {
    pub(crate) fn create(path: &Path, schema: SchemaRef, props: WriterProperties) -> Result<Self, RecordError> {
        let file = File::create(path).map_err(|e| RecordError::Io { path: path.to_owned(), source: e })?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| RecordError::Parquet { path: path.to_owned(), source: e })?;
        Ok(Self { path: path.to_owned(), schema, writer: Mutex::new(Some(writer)) })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn write(&mut self, columns: Vec<ArrayRef>) -> Result<(), RecordError> {
        let err = |e| RecordError::Parquet { path: self.path.clone(), source: e };
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| RecordError::Arrow { path: self.path.clone(), message: e.to_string() })?;
        let slot = self.writer.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_mut() {
            Some(w) => w.write(&batch).map_err(err),
            None => Err(RecordError::Closed { path: self.path.clone() }),
        }
    }

    pub(crate) fn close(&mut self) -> Result<(), RecordError> {
        self.close_with(&[])
    }

    /// Completes the file with `extra` key-value metadata appended to the footer (what is only
    /// known at the end: the steps run).
    pub(crate) fn close_with(&mut self, extra: &[(String, String)]) -> Result<(), RecordError> {
        match self.writer.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            Some(mut w) => {
                for (k, v) in extra {
                    w.append_key_value_metadata(KeyValue::new(k.clone(), v.clone()));
                }
                w.close().map(|_| ()).map_err(|e| RecordError::Parquet { path: self.path.clone(), source: e })
            }
            None => Ok(()),
        }
    }
}

impl Drop for ParquetTable {
    fn drop(&mut self) {
        if let Some(w) = self.writer.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            // Completing the footer is all we can do here; errors were reported on write.
            let _ = w.close();
        }
    }
}

/// Writes one whole table to `path` in a single call.
pub fn write_parquet(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>, metadata: &[(String, String)]) -> Result<(), RecordError> {
    let mut t = ParquetTable::create(path, schema, properties(metadata, 1 << 20))?;
    t.write(columns)?;
    t.close()
}
