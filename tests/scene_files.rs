//! Which file a scene path reads: a file that exists but cannot be read is an error, an embedded
//! scene stands in only for its own name, and a UTF-8 byte-order mark is not a syntax error.

use std::path::{Path, PathBuf};

use biospike::{Scene, SceneError};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("biospike-scene-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

#[test]
fn an_embedded_scene_stands_in_only_for_its_own_name() {
    for name in ["izhikevich_2003", "izhikevich_2003.ron", "scenes/izhikevich_2003.ron"] {
        let scene = Scene::load(Path::new(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(scene.desc.populations.len(), 2, "{name}");
    }
    // A path elsewhere that happens to end in an embedded scene's name is a missing file.
    for name in ["/nonexistent/izhikevich_2003.ron", "elsewhere/izhikevich_2003.ron", "izhikevich_2003.txt"] {
        match Scene::load(Path::new(name)) {
            Err(SceneError::Read { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::NotFound, "{name}"),
            other => panic!("{name}: expected a read error, got {other:?}"),
        }
    }
}

#[test]
fn a_path_that_exists_but_is_not_a_readable_file_is_an_error() {
    let dir = scratch("dir");
    // A directory named like an embedded scene must not silently run the embedded one.
    let named = dir.join("izhikevich_2003.ron");
    std::fs::create_dir_all(&named).unwrap_or_else(|e| panic!("{e}"));
    let err = Scene::load(&named).expect_err("a directory is not a scene");
    assert!(matches!(err, SceneError::Read { .. }), "{err}");
    assert!(err.to_string().contains("cannot read the scene"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = scratch("bom");
    let file = dir.join("bom.ron");
    let text = "\u{feff}(dt_ms: 1.0, time_steps: 5, populations: [(name: \"exc\", size: 3)])";
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let scene = Scene::load(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scene.desc.populations[0].size, 3);
    let _ = std::fs::remove_dir_all(&dir);
}
