//! A whole Parquet file read back in a test: its row count and every value, to compare the
//! tables of two runs (any decode error fails the test).

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// Row count and every value (the debug-formatted columns of each batch) of a Parquet file.
pub fn read_table(path: &Path) -> (usize, String) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut rows, mut text) = (0, String::new());
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        rows += batch.num_rows();
        text.push_str(&format!("{:?}", batch.columns()));
    }
    (rows, text)
}
