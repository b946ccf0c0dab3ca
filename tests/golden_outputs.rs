//! Every shipped scene's spike table and final weights, pinned by a hash.
//!
//! The hashes were taken from the code before the library-surface refactor (issue #15) and
//! guard that refactors, moves and speed work leave the numbers alone: same spikes at the same
//! steps, same final weights to the bit. The references themselves are checked against
//! published numbers elsewhere (`network_anchors.rs`, `izhikevich_2004_patterns.rs`,
//! `distal_reward.rs`, the Loihi goldens); this test only says "nothing moved".
//!
//! If a change *means* to change a scene's output (a new default, a fixed bug), run
//! `cargo test --test golden_outputs -- --nocapture`, check that the difference is the intended
//! one, and replace the constant with the printed value in the same commit, saying why.

use biospike::prelude::*;

/// FNV-1a, 64 bit: stable across platforms and Rust versions.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }
}

/// Runs `name` for `steps` steps; returns (spike hash, spike count, weight hash, synapses).
fn fingerprint(name: &str, steps: u64) -> (u64, u64, u64, usize) {
    let scene = Scene::load(name.as_ref()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut sim = Simulation::from_scene(&scene).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (mut spikes, mut count) = (Fnv::new(), 0u64);
    sim.step_with(steps, |world| {
        let step = world.resource::<SimClock>().step() - 1;
        for &id in &world.resource::<StepSpikes>().ids {
            spikes.u64(step);
            spikes.u64(u64::from(id));
            count += 1;
        }
    });
    sim.finish();
    let index = sim.world().resource::<SynapseIndex>();
    let mut edges: Vec<(u32, u32, u32)> = index.edges().map(|e| (e.pre, e.post, e.weight.to_bits())).collect();
    edges.sort_unstable();
    let mut weights = Fnv::new();
    for (pre, post, w) in &edges {
        weights.u64(u64::from(*pre) << 32 | u64::from(*post));
        weights.u64(u64::from(*w));
    }
    (spikes.0, count, weights.0, edges.len())
}

fn check(name: &str, steps: u64, expected: (u64, u64, u64, usize)) {
    let got = fingerprint(name, steps);
    assert_eq!(
        got, expected,
        "{name} ({steps} steps): (spike hash, spikes, weight hash, synapses) changed from {expected:#x?} to {got:#x?}. \
         If the change is intended, replace the constant (see the module docs)."
    );
}

#[test]
fn izhikevich_2003() {
    check("izhikevich_2003", 1000, (6896411925115581729, 7500, 12063435356726189306, 1000000));
}

#[test]
fn seed_demo() {
    check("seed_demo", 1000, (2486359666350423854, 120, 14445179734582904894, 42));
}

#[test]
fn loihi_lif_demo() {
    check("loihi_lif_demo", 1000, (9544003623205271107, 2157, 15344110630697158151, 2000));
}

#[test]
fn sparse_10k() {
    check("sparse_10k", 300, (13489983168501061502, 36834, 125011884789359814, 1000000));
}

#[test]
fn sparse_stdp_10k() {
    check("sparse_stdp_10k", 300, (13653542118541746913, 36932, 12547605344133566353, 1000000));
}

#[test]
fn sparse_stdp_100k() {
    check("sparse_stdp_100k", 20, (16113612415211237662, 87973, 17054548291547629430, 10000000));
}

#[test]
fn izhikevich_2007_distal_reward() {
    check("izhikevich_2007_distal_reward", 20_000, (11316487512173405503, 25273, 2775651661614820626, 100000));
}
