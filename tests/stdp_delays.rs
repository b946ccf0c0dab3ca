//! STDP pairing through delays of 1–5 steps, against an event-by-event reference written here
//! (issue #19): a presynaptic neuron that fires again before its previous spike has arrived
//! must still pair the postsynaptic spike with the spikes that *have* arrived, in every trace
//! mode (all-to-all, nearest) and timing (at the postsynaptic spike, deferred, dopamine-gated).
//!
//! The reference is the textbook rule on spike times, with no traces: for a synapse `i → j`
//! with delay `d`,
//! - at each postsynaptic spike `t`: `+A+ · Σ exp(−(t − s − d)/τ+)` over the presynaptic spikes
//!   `s` with `s + d ≤ t` (nearest: only the latest such `s`);
//! - at each presynaptic spike `s`: `−A− · Σ exp(−(s − t)/τ−)` over the postsynaptic spikes
//!   `t ≤ s` (nearest: the latest), as in Izhikevich's `spnet.m`.

use bevy_app::App;
use bevy_ecs::prelude::*;
use biospike::prelude::*;
use biospike::testing::run_steps;

const N: u32 = 6;
const STEPS: u64 = 400;

/// Forces the listed neurons to fire at the listed steps.
#[derive(Resource, Clone)]
struct Forced(Vec<Vec<u32>>);

fn inject(forced: Res<Forced>, clock: Res<SimClock>, mut spikes: ResMut<StepSpikes>) {
    if let Some(ids) = forced.0.get(clock.step() as usize) {
        for &id in ids {
            if !spikes.ids.contains(&id) {
                spikes.ids.push(id);
            }
        }
    }
    spikes.ids.sort_unstable();
}

/// A deterministic generator for the spike trains and delays (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Net {
    app: App,
    /// `(pre, post, delay)` in index order is looked up through the index after the run.
    edges: Vec<(u32, u32, u16)>,
}

fn network(settings: StdpSettings, seed: u64) -> Net {
    let mut rng = Rng(seed);
    // Bursty trains: runs of spikes 1–3 steps apart, so that many spikes are in flight.
    let mut forced = vec![Vec::new(); STEPS as usize];
    for id in 0..N {
        let mut s = rng.below(10);
        while s < STEPS - 10 {
            forced[s as usize].push(id);
            s += if rng.below(3) == 0 { 5 + rng.below(30) } else { 1 + rng.below(3) };
        }
    }
    let mut app = App::new();
    app.add_plugins(BiospikePlugins::default().with_seed(1));
    app.insert_resource(settings).add_plugins(StdpPlugin);
    app.insert_resource(Forced(forced));
    app.add_systems(SimSchedule, inject.in_set(DetectSystems::Inject));
    for id in 0..N {
        app.world_mut().spawn((IzhikevichNeuron, NeuronId(id), IzhikevichParams::REGULAR_SPIKING));
    }
    let mut edges = Vec::new();
    for pre in 0..N {
        for post in 0..N {
            if pre != post {
                let d = 1 + rng.below(5) as u16;
                // Tiny weights: the forced spikes are the only ones.
                app.world_mut().spawn((Synapse { pre: NeuronId(pre), post: NeuronId(post) }, SynapticWeight(0.001), SynapticDelay(d)));
                edges.push((pre, post, d));
            }
        }
    }
    biospike_synapses::prepare_synapse_index(app.world_mut());
    Net { app, edges }
}

/// The reference change of every synapse from the observed spike trains.
fn reference(s: &StdpSettings, spikes: &[Vec<u32>], edges: &[(u32, u32, u16)]) -> Vec<f64> {
    let times = |id: u32| -> Vec<f64> { (0..spikes.len()).filter(|&t| spikes[t].contains(&id)).map(|t| t as f64).collect() };
    let nearest = s.trace == TraceUpdate::Reset;
    edges
        .iter()
        .map(|&(pre, post, d)| {
            let (pre_t, post_t, d) = (times(pre), times(post), f64::from(d));
            let mut dw = 0.0;
            for &t in &post_t {
                let arrived: Vec<f64> = pre_t.iter().copied().filter(|&p| p + d <= t).collect();
                let terms: Vec<f64> = if nearest { arrived.last().copied().into_iter().collect() } else { arrived };
                dw += terms.iter().map(|&p| s.a_plus * (-(t - p - d) / s.tau_plus_ms).exp()).sum::<f64>();
            }
            for &p in &pre_t {
                let before: Vec<f64> = post_t.iter().copied().filter(|&t| t <= p).collect();
                let terms: Vec<f64> = if nearest { before.last().copied().into_iter().collect() } else { before };
                dw -= terms.iter().map(|&t| s.a_minus * (-(p - t) / s.tau_minus_ms).exp()).sum::<f64>();
            }
            dw
        })
        .collect()
}

fn settings(trace: TraceUpdate, ltp: LtpTiming, gated: bool) -> StdpSettings {
    StdpSettings {
        trace,
        ltp,
        w_min: -1e6,
        w_max: 1e6,
        mode: if gated {
            // No decay within the run, no dopamine: the eligibility is the sum of the pairings.
            StdpMode::DopamineGated { tau_eligibility_ms: 1e15, dopamine_bias: 0.0, update_every_steps: 1 }
        } else {
            StdpMode::Direct
        },
        plastic: PlasticProjections::All,
        ..StdpSettings::song_2000()
    }
}

#[test]
fn pairing_is_exact_for_delays_longer_than_the_interspike_interval() {
    let timings = [
        ("at the post spike", LtpTiming::AtPostSpike, false),
        ("deferred", LtpTiming::Deferred { flush_every_steps: 50 }, false),
        ("dopamine-gated", LtpTiming::AtPostSpike, true),
    ];
    for trace in [TraceUpdate::Add, TraceUpdate::Reset] {
        for (label, ltp, gated) in timings {
            for seed in [3u64, 17, 101] {
                let s = settings(trace, ltp, gated);
                let Net { mut app, edges } = network(s.clone(), seed);
                let mut spikes = Vec::new();
                for _ in 0..STEPS {
                    run_steps(&mut app, 1);
                    spikes.push(app.world().resource::<StepSpikes>().ids.clone());
                }
                biospike_stdp::flush_deferred_ltp(app.world_mut());
                let in_flight = (0..N)
                    .flat_map(|i| {
                        let t: Vec<usize> = (0..spikes.len()).filter(|&k| spikes[k].contains(&i)).collect();
                        t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
                    })
                    .filter(|&isi| isi < 5)
                    .count();
                assert!(in_flight > 50, "the trains must put spikes in flight ({in_flight} short intervals)");
                let want = reference(&s, &spikes, &edges);
                let world = app.world();
                let index = world.resource::<SynapseIndex>();
                let state = world.resource::<biospike_stdp::StdpState>();
                for (e, &(pre, post, _)) in edges.iter().enumerate() {
                    let k = index.row(pre).find(|&k| index.posts()[k] == post).unwrap_or_else(|| panic!("synapse {pre} → {post}"));
                    let got = if gated { f64::from(state.eligibility(k)) } else { f64::from(index.weights()[k]) - 0.001 };
                    let tol = 2e-6 + 1e-5 * want[e].abs();
                    assert!(
                        (got - want[e]).abs() <= tol,
                        "{trace:?}, {label}, seed {seed}: synapse {pre} → {post}: {got} against the reference {}",
                        want[e]
                    );
                }
            }
        }
    }
}
