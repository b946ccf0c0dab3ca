//! The 3D viewer under software rendering (Xvfb + Mesa's lavapipe): `biospike view
//! izhikevich_2003 --screenshot` must render the network, show spikes in the flash colour and
//! exit on its own.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LAVAPIPE_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

/// Xvfb and lavapipe, installed by `.ci/render-deps` when missing (as `.ci/run` does).
fn ensure_software_rendering() {
    let ready = || {
        Path::new(LAVAPIPE_ICD).exists()
            && Command::new("xvfb-run").arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
    };
    if ready() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/render-deps");
    let status = Command::new("bash").arg(&script).status();
    assert!(
        ready(),
        "the viewer test needs Xvfb and Mesa's Vulkan driver; `{}` could not install them ({status:?}). \
         On Debian: apt-get install xvfb xauth mesa-vulkan-drivers libvulkan1",
        script.display()
    );
}

/// Decoded RGB(A) pixels of a PNG.
fn read_png(path: &Path) -> (u32, u32, Vec<[i32; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).expect("screenshot exists")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = buf[..info.buffer_size()].chunks_exact(channels).map(|c| [c[0], c[1], c[2]].map(i32::from)).collect();
    (info.width, info.height, px)
}

#[test]
fn screenshot_of_izhikevich_2003_shows_the_network_and_its_spikes() {
    ensure_software_rendering();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("view");
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).expect("tmp dir");
    let shot = dir.join("izhikevich_2003.png");
    let _ = std::fs::remove_file(&shot);
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_biospike"))
        .args(["view", "izhikevich_2003", "--steps-per-frame", "10", "--frames", "40", "--select", "5", "--screenshot"])
        .arg(&shot)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("VK_ICD_FILENAMES", LAVAPIPE_ICD)
        .env("WGPU_BACKEND", "vulkan")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run starts");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            panic!("the viewer did not exit within 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "viewer failed: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("mean frame time"), "frame time reported:\n{stdout}");
    println!("{stdout}");

    let (w, h, px) = read_png(&shot);
    assert_eq!((w, h), (1280, 800), "the window's size");
    // Not blank: the background is near black; the spheres and lines must cover part of it.
    let lit = px.iter().filter(|p| p.iter().sum::<i32>() > 120).count();
    assert!(lit > px.len() / 100, "only {lit} of {} pixels are not background", px.len());
    // Resting excitatory neurons are blue, inhibitory red.
    let blue = px.iter().filter(|p| p[2] > 120 && p[2] > p[0] + 40 && p[2] > p[1]).count();
    let red = px.iter().filter(|p| p[0] > 120 && p[0] > p[1] + 60 && p[0] > p[2] + 40).count();
    // Neurons that fired in the last frames show the flash colour (255, 230, 51 at full level).
    let flash = px.iter().filter(|p| p[0] > 190 && p[1] > 170 && p[2] < 120).count();
    println!("pixels: {lit} lit, {blue} blue, {red} red, {flash} flash-yellow");
    assert!(blue > 1000, "excitatory spheres visible: {blue}");
    assert!(red > 100, "inhibitory spheres visible: {red}");
    assert!(flash > 100, "spiking neurons flash: {flash}");
    // The selected neuron's panel: its v trace is drawn in cyan dots (0.3, 0.85, 1.0).
    let trace = px.iter().filter(|p| p[0] < 110 && p[1] > 190 && p[2] > 230).count();
    println!("{trace} trace pixels");
    assert!(trace > 200, "the selected neuron's v trace is drawn: {trace}");
}
