//! Replays Lava's own traces (`tests/golden/*.json`, copied from `../shared/loihi/golden/`,
//! produced by lava-nc 0.10.0 `Loihi2SimCfg(select_tag='fixed_pt')`) and compares every `u`,
//! `v`, spike, Dense output and effective weight, step by step, exactly. When the shared folder
//! is present beside the repository, its cases (which may include more than the copy) are
//! replayed too.

use biospike_loihi::{Dense, FixedPointNetwork, LifParams, LifPopulation, Pre, SignMode, effective_weights};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Case {
    case: u32,
    title: String,
    num_steps: usize,
    network: Network,
    expected: BTreeMap<String, Expected>,
}

#[derive(Deserialize)]
struct Network {
    sources: Vec<Source>,
    lifs: Vec<Lif>,
    denses: Vec<DenseDesc>,
}

#[derive(Deserialize)]
struct Source {
    name: String,
    spikes: Vec<Vec<i32>>,
}

#[derive(Deserialize)]
struct Lif {
    name: String,
    du: i32,
    dv: i32,
    vth: i32,
    bias_mant: Vec<i32>,
    bias_exp: Vec<i32>,
    u_init: Vec<i32>,
    v_init: Vec<i32>,
}

#[derive(Deserialize)]
struct DenseDesc {
    name: String,
    pre: String,
    post: String,
    weights: Vec<Vec<f64>>,
    weight_exp: i32,
    num_weight_bits: u32,
    num_message_bits: u32,
    sign_mode: Option<String>,
    sign_mode_effective: String,
    weights_effective: Vec<Vec<i32>>,
}

#[derive(Deserialize)]
struct Expected {
    u: Option<Vec<Vec<i32>>>,
    v: Option<Vec<Vec<i32>>>,
    s: Option<Vec<Vec<i32>>>,
    a_out: Option<Vec<Vec<i32>>>,
}

fn mode(name: &str) -> SignMode {
    match name {
        "MIXED" => SignMode::Mixed,
        "EXCITATORY" => SignMode::Excitatory,
        "INHIBITORY" => SignMode::Inhibitory,
        other => panic!("unknown sign mode {other}"),
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let c: Case = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let tag = format!("case {} ({})", c.case, c.title);
    let lif_index = |n: &str| c.network.lifs.iter().position(|l| l.name == n);
    let src_index = |n: &str| c.network.sources.iter().position(|s| s.name == n);
    let mut net = FixedPointNetwork::default();
    for l in &c.network.lifs {
        net.lifs.push(LifPopulation {
            params: LifParams { du: l.du, dv: l.dv, vth: l.vth },
            bias_mant: l.bias_mant.clone(),
            bias_exp: l.bias_exp.clone(),
            u: l.u_init.clone(),
            v: l.v_init.clone(),
            s: vec![0; l.u_init.len()],
        });
    }
    for d in &c.network.denses {
        let flat: Vec<f64> = d.weights.iter().flatten().copied().collect();
        let (w, m) = effective_weights(&flat, d.sign_mode.as_deref().map(mode), d.num_weight_bits);
        let expected: Vec<i32> = d.weights_effective.iter().flatten().copied().collect();
        if w != expected || m != mode(&d.sign_mode_effective) {
            return Err(format!("{tag}: dense {}: effective weights/mode {m:?} differ from Lava's {}", d.name, d.sign_mode_effective));
        }
        let pre = match (src_index(&d.pre), lif_index(&d.pre)) {
            (Some(i), _) => Pre::Source(i),
            (None, Some(i)) => Pre::Lif(i),
            _ => return Err(format!("{tag}: unknown pre {}", d.pre)),
        };
        let post = lif_index(&d.post).ok_or_else(|| format!("{tag}: unknown post {}", d.post))?;
        let n_post = d.weights.len();
        net.denses.push(Dense { pre, post, weights: w, weight_exp: d.weight_exp, graded: d.num_message_bits > 0, buffer: vec![0; n_post] });
    }
    for k in 0..c.num_steps {
        let sources: Vec<Vec<i32>> = c.network.sources.iter().map(|s| s.spikes[k].clone()).collect();
        let sent = net.step(&sources);
        for (d, out) in c.network.denses.iter().zip(&sent) {
            let want = c.expected.get(&d.name).and_then(|e| e.a_out.as_ref()).map(|a| &a[k]);
            if want.is_some_and(|w| w != out) {
                return Err(format!("{tag}: step {k}: dense {} sent {out:?}, Lava {want:?}", d.name));
            }
        }
        for (l, pop) in c.network.lifs.iter().zip(&net.lifs) {
            let e = c.expected.get(&l.name).ok_or_else(|| format!("{tag}: no expectation for {}", l.name))?;
            for (what, got, want) in [("u", &pop.u, &e.u), ("v", &pop.v, &e.v), ("s", &pop.s, &e.s)] {
                let want = want.as_ref().ok_or_else(|| format!("{tag}: no {what} for {}", l.name))?;
                if &want[k] != got {
                    return Err(format!("{tag}: step {k}: {}.{what} = {got:?}, Lava {:?}", l.name, want[k]));
                }
            }
        }
    }
    Ok(())
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_golden_case_matches_lava_bit_for_bit() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = cases(&here.join("tests/golden"));
    assert!(files.len() >= 14, "the copied golden cases are missing");
    // The shared folder beside the repository (CI lays it out there) may hold more cases.
    files.extend(cases(&here.join("../../../shared/loihi/golden")));
    let failures: Vec<String> = files.iter().filter_map(|f| run_case(f).err()).collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), files.len(), failures.join("\n"));
}
