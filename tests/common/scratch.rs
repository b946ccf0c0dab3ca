//! What the end-to-end tests share: a fresh scratch folder per test and the check that a
//! command succeeded (its output shown when it did not).

use std::path::PathBuf;
use std::process::Output;

/// An empty folder `<temp>/biospike-<suite>-<pid>-<name>` (an earlier one removed).
pub fn dir(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("biospike-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

/// Fails with the exit status and both output streams unless the command succeeded.
pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
