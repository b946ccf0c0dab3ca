//! The Python readers the docs promise (polars, pandas, pyarrow; matplotlib for the figure
//! scripts), in a venv under `target/` created on first use, so that a clean machine needs
//! nothing installed but `python3`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's `python`, with polars, pandas, pyarrow and matplotlib installed.
pub fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("pyvenv");
    let py = root.join("bin").join("python");
    let ready =
        py.exists() && Command::new(&py).args(["-c", "import polars, pandas, pyarrow, matplotlib"]).status().is_ok_and(|s| s.success());
    if !ready {
        let st = Command::new("python3").args(["-m", "venv"]).arg(&root).status().expect("python3 -m venv");
        assert!(st.success(), "python3 -m venv failed");
        let st = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "polars", "pandas", "pyarrow", "matplotlib"])
            .status()
            .expect("pip");
        assert!(st.success(), "pip install polars pandas pyarrow matplotlib failed");
    }
    py
}
