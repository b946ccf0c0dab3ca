use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_runtime::rows::for_each_chunk;

use crate::components::{
    CurrentStimulus, DcCurrent, NoiseCurrent, PoissonInput, PoissonRateSchedule, SineCurrent, SpikeTimes, SpikeTimesPeriod,
    UniformNoiseCurrent,
};

/// Adds the external drive of [`NoiseCurrent`], [`UniformNoiseCurrent`], [`DcCurrent`], [`CurrentStimulus`] and
/// [`SineCurrent`] to [`InputCurrent`], or to [`StimulusCurrent`] for neurons that have one (the
/// LIF and adaptive exponential models, which keep generator currents apart from synaptic input), and
/// [`PoissonInput`] to [`InputCurrent`], in [`InputSystems::Drive`].
#[derive(Debug, Default, Clone, Copy)]
pub struct InputPlugin;

impl Plugin for InputPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before InputPlugin");
        app.add_systems(
            SimSchedule,
            (add_noise, add_uniform_noise, add_dc, add_stimuli, add_sine, add_stimulus_currents, set_poisson_rates, add_poisson)
                .chain()
                .in_set(InputSystems::Drive)
                .in_set(BuiltinSystems),
        );
        app.world_mut().register_component_hooks::<TakesStimulusCurrent>().on_add(|mut world, ctx| {
            crate::components::ensure_stimulus_current(&mut world, ctx.entity);
        });
        app.add_systems(
            SimSchedule,
            fire_spike_generators.in_set(SimSystems::Detect).before(DetectSystems::Collect).in_set(BuiltinSystems),
        );
    }
}

/// Spike generators fire at their listed steps ([`SpikeTimes`], repeated with a
/// [`SpikeTimesPeriod`]), just before the core collects this step's spikes.
fn fire_spike_generators(mut q: Query<(&SpikeTimes, Option<&SpikeTimesPeriod>, &mut SpikedThisStep)>, clock: Res<SimClock>) {
    let step = clock.step();
    for (times, period, mut spiked) in &mut q {
        let step = period.map_or(step, |p| step % p.0.max(1));
        let fire = times.0.binary_search(&step).is_ok();
        if spiked.0 != fire {
            spiked.0 = fire;
        }
    }
}

fn add_noise(
    mut q: Query<(&NeuronId, &mut InputCurrent, &NoiseCurrent), Without<TakesStimulusCurrent>>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
) {
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::InputNoise, clock.step());
    for (ids, mut input, noise) in q.contiguous_iter_mut().expect("input components are table-stored, so the query is dense") {
        for_each_chunk((ids, input.bypass_change_detection(), noise), |(ids, input, noise)| add_noise_fastest(ids, input, noise, base));
    }
}

/// [`noise_rows_x8`] where the CPU has AVX-512, else [`add_noise_rows`] (the same bits).
fn add_noise_fastest(ids: &[NeuronId], input: &mut [InputCurrent], noise: &[NoiseCurrent], base: u64) {
    #[cfg(target_arch = "x86_64")]
    if biospike_runtime::simd::has_avx512() {
        // SAFETY: the CPU reported AVX-512 F, DQ and VL just above (which imply AVX2).
        #[allow(unsafe_code, reason = "calling the AVX-512 copy after the CPU reported the features")]
        unsafe {
            noise_rows_x8(ids, input, noise, base);
        }
        return;
    }
    add_noise_rows(ids, input, noise, base);
}

/// [`noise_rows`] with the draws of [`KeyedRng`]'s AVX-512 kernel (`biospike_core::rng::x8`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
fn noise_rows_x8(ids: &[NeuronId], input: &mut [InputCurrent], noise: &[NoiseCurrent], base: u64) {
    noise_rows_by(ids, input, noise, base, |base, ids| {
        let mut xi = [0.0; NOISE_LANES];
        biospike_core::rng::x8::normal_at_x8(base, ids, &mut xi);
        xi
    });
}

/// Neurons drawn together by [`add_noise_rows`].
const NOISE_LANES: usize = 8;

biospike_runtime::avx512_kernel!(
    fn add_noise_rows(ids: &[NeuronId], input: &mut [InputCurrent], noise: &[NoiseCurrent], base: u64) = noise_rows;
);

/// `input += mean + std·ξ` with `ξ = KeyedRng::normal_at(base, id)`, [`NOISE_LANES`] neurons
/// at a time. An AVX2 copy gained nothing (the keyed hash's 64-bit multiplies dominate, and
/// AVX2 has no 64-bit multiply); the AVX-512 copy does them 8 lanes per instruction.
#[inline(always)]
fn noise_rows(ids: &[NeuronId], input: &mut [InputCurrent], noise: &[NoiseCurrent], base: u64) {
    noise_rows_by(ids, input, noise, base, |base, ids| KeyedRng::normal_at_lanes::<NOISE_LANES>(base, ids.map(u64::from)));
}

/// `input += mean + std·ξ`, the whole [`NOISE_LANES`]-row groups' `ξ` from `draw(base, ids)`
/// (which must equal [`KeyedRng::normal_at`] for each id), the last rows one by one.
#[inline(always)]
fn noise_rows_by(
    ids: &[NeuronId],
    input: &mut [InputCurrent],
    noise: &[NoiseCurrent],
    base: u64,
    draw: impl Fn(u64, &[u32; NOISE_LANES]) -> [f64; NOISE_LANES],
) {
    use bytemuck::TransparentWrapper;
    let whole = ids.len() - ids.len() % NOISE_LANES;
    let (ids, id_tail) = NeuronId::peel_slice(ids).split_at(whole);
    let (input, input_tail) = input.split_at_mut(whole);
    let (noise, noise_tail) = noise.split_at(whole);
    let input = InputCurrent::peel_slice_mut(input).as_chunks_mut::<NOISE_LANES>().0;
    for ((ids, input), noise) in ids.as_chunks::<NOISE_LANES>().0.iter().zip(input).zip(noise.as_chunks::<NOISE_LANES>().0) {
        let xi = draw(base, ids);
        for l in 0..NOISE_LANES {
            input[l] += noise[l].mean + noise[l].std * xi[l];
        }
    }
    for ((id, i), n) in id_tail.iter().zip(input_tail).zip(noise_tail) {
        i.0 += noise_draw(n, base, &NeuronId(*id));
    }
}

fn add_uniform_noise(
    mut q: Query<(&NeuronId, &mut InputCurrent, &UniformNoiseCurrent), Without<TakesStimulusCurrent>>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
) {
    // A stream of its own (index offset by 2^32), so that adding uniform noise to some neurons
    // does not change the Gaussian draws of others.
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::InputNoise, clock.step());
    biospike_runtime::for_each_entity_mut!(q, |(id, mut i, n): (&NeuronId, Mut<InputCurrent>, &UniformNoiseCurrent)| {
        i.bypass_change_detection().0 += uniform_draw(n, base, id);
    });
}

/// A neuron's Gaussian current of this step, the scalar form of [`noise_rows`]'s lanes.
#[inline(always)]
fn noise_draw(n: &NoiseCurrent, base: u64, id: &NeuronId) -> f64 {
    n.mean + n.std * KeyedRng::normal_at(base, u64::from(id.0))
}

#[inline(always)]
fn uniform_draw(n: &UniformNoiseCurrent, base: u64, id: &NeuronId) -> f64 {
    n.low + (n.high - n.low) * KeyedRng::uniform_at(base, (1u64 << 32) | u64::from(id.0))
}

fn add_dc(mut q: Query<(&mut InputCurrent, &DcCurrent), Without<TakesStimulusCurrent>>) {
    biospike_runtime::for_each_entity_mut!(q, |(mut i, dc): (Mut<InputCurrent>, &DcCurrent)| i.bypass_change_detection().0 += dc.0);
}

fn add_stimuli(mut q: Query<(&mut InputCurrent, &CurrentStimulus), Without<TakesStimulusCurrent>>, clock: Res<SimClock>) {
    let t = clock.time_ms();
    biospike_runtime::for_each_entity_mut!(q, |(mut i, s): (Mut<InputCurrent>, &CurrentStimulus)| i.bypass_change_detection().0 +=
        s.value_at(t));
}

fn add_sine(mut q: Query<(&mut InputCurrent, &SineCurrent), Without<TakesStimulusCurrent>>, clock: Res<SimClock>) {
    let t = clock.time_ms();
    biospike_runtime::for_each_entity_mut!(q, |(mut i, s): (Mut<InputCurrent>, &SineCurrent)| i.bypass_change_detection().0 +=
        s.value_at(t));
}

type StimulusDrive = (
    &'static NeuronId,
    &'static mut StimulusCurrent,
    Option<&'static NoiseCurrent>,
    Option<&'static UniformNoiseCurrent>,
    Option<&'static DcCurrent>,
    Option<&'static CurrentStimulus>,
    Option<&'static SineCurrent>,
);

type StimulusDriveItem<'a> = (
    &'a NeuronId,
    Mut<'a, StimulusCurrent>,
    Option<&'a NoiseCurrent>,
    Option<&'a UniformNoiseCurrent>,
    Option<&'a DcCurrent>,
    Option<&'a CurrentStimulus>,
    Option<&'a SineCurrent>,
);

/// The generators of neurons that take them apart ([`StimulusCurrent`]): the same draws and
/// values, in the same order, as the systems above add to [`InputCurrent`].
fn add_stimulus_currents(mut q: Query<StimulusDrive>, clock: Res<SimClock>, seed: Res<SimSeed>) {
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::InputNoise, clock.step());
    let t = clock.time_ms();
    biospike_runtime::for_each_entity_mut!(q, |(id, mut s, noise, uniform, dc, stimulus, sine): StimulusDriveItem<'_>| {
        let now = &mut s.bypass_change_detection().now;
        if let Some(n) = noise {
            *now += noise_draw(n, base, id);
        }
        if let Some(n) = uniform {
            *now += uniform_draw(n, base, id);
        }
        if let Some(dc) = dc {
            *now += dc.0;
        }
        if let Some(stimulus) = stimulus {
            *now += stimulus.value_at(t);
        }
        if let Some(sine) = sine {
            *now += sine.value_at(t);
        }
    });
}

/// Inhomogeneous trains take this step's rate.
fn set_poisson_rates(mut q: Query<(&PoissonRateSchedule, &mut PoissonInput)>, clock: Res<SimClock>) {
    let step = clock.step();
    for (schedule, mut input) in &mut q {
        let rate = schedule.rate_at(step);
        if input.rate_hz != rate {
            input.rate_hz = rate;
        }
    }
}

/// Inverse-transform sampling of Poisson(`lambda`): the cumulative distribution up to where the
/// tail is below 1e-16, searched with one uniform draw (exact to that tail; a few comparisons
/// instead of a constructor and `lambda + 1` draws per sample).
#[derive(Default)]
struct PoissonTable {
    lambda: f64,
    cdf: Vec<f64>,
}

impl PoissonTable {
    fn new(lambda: f64) -> Self {
        let mut cdf = Vec::new();
        // Log-space terms: exact for any rate, also where exp(−λ) underflows.
        let (mut log_p, mut total) = (-lambda, 0.0f64);
        let limit = (lambda + 40.0 * lambda.sqrt() + 40.0).ceil() as usize;
        for k in 0..=limit {
            if k > 0 {
                log_p += lambda.ln() - (k as f64).ln();
            }
            total += log_p.exp();
            cdf.push(total.min(1.0));
            if k as f64 > lambda && 1.0 - total < 1e-16 {
                break;
            }
        }
        Self { lambda, cdf }
    }

    /// The number of events: the first `k` with `F(k) > u`.
    #[inline]
    fn sample(&self, rng: &mut KeyedRng) -> f64 {
        let u = rng.uniform();
        self.cdf.partition_point(|&c| c <= u) as f64
    }
}

/// Poisson trains: one keyed draw per neuron and step, on the compute threads' chunks of each
/// table (bevy's own pool would compete with them for the cores: Brunel's 12 500 trains took the
/// same 350 µs per step on 1 and 2 threads that way).
fn add_poisson(mut q: Query<(&NeuronId, &mut InputCurrent, &PoissonInput)>, clock: Res<SimClock>, seed: Res<SimSeed>) {
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::PoissonInput, clock.step());
    let dt = clock.dt_ms();
    for (ids, mut input, poisson) in q.contiguous_iter_mut().expect("input components are table-stored, so the query is dense") {
        biospike_runtime::rows::for_each_chunk((input.bypass_change_detection(), ids, poisson), |(input, ids, poisson)| {
            let n = input.len();
            let (ids, poisson) = (&ids[..n], &poisson[..n]);
            // Neighbours usually share a rate: the table is rebuilt only when it changes.
            let mut table = PoissonTable::default();
            for k in 0..n {
                let p = poisson[k];
                let lambda = p.rate_hz * dt * 1e-3;
                if lambda.is_nan() || lambda <= 0.0 {
                    continue;
                }
                if table.lambda != lambda {
                    table = PoissonTable::new(lambda);
                }
                let count = table.sample(&mut KeyedRng::from_base(base, u64::from(ids[k].0)));
                input[k].0 += p.weight * count;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(component: impl Bundle, steps: usize, dt: f64) -> Vec<f64> {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(dt), 11), InputPlugin));
        let e = app.world_mut().spawn((NeuronId(3), InputCurrent(0.0), component)).id();
        (0..steps)
            .map(|_| {
                step_simulation(app.world_mut());
                app.world().get::<InputCurrent>(e).map_or(f64::NAN, |i| i.0)
            })
            .collect()
    }

    /// Sample moments of the Gaussian drive against its parameters.
    #[test]
    fn noise_has_requested_moments() {
        let xs = run(NoiseCurrent { mean: 2.0, std: 5.0 }, 20_000, 1.0);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 2.0).abs() < 5.0 * 5.0 / n.sqrt(), "mean {mean}");
        assert!((var.sqrt() - 5.0).abs() < 0.15, "std {}", var.sqrt());
    }

    /// The inverse-transform sampler against the Poisson probabilities `e^−λ λ^k / k!`
    /// (200 000 draws, every frequency within 5σ), and mean and variance for a large rate.
    #[test]
    fn poisson_table_draws_the_poisson_distribution() {
        let table = PoissonTable::new(2.0);
        let n = 200_000u64;
        let mut counts = [0u64; 16];
        for i in 0..n {
            let k = table.sample(&mut KeyedRng::new(5, StreamPurpose::PoissonInput, i, 0)) as usize;
            counts[k.min(15)] += 1;
        }
        let mut p = (-2.0f64).exp();
        for (k, &c) in counts.iter().enumerate().take(10) {
            if k > 0 {
                p *= 2.0 / k as f64;
            }
            let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
            assert!((c as f64 - mean).abs() < 5.0 * sd.max(1.0), "k = {k}: {c} vs {mean:.1} ± {sd:.1}");
        }
        let big = PoissonTable::new(800.0);
        let xs: Vec<f64> = (0..20_000).map(|i| big.sample(&mut KeyedRng::new(6, StreamPurpose::PoissonInput, i, 0))).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!((m - 800.0).abs() < 5.0 * (800.0f64 / 20_000.0).sqrt(), "mean {m}");
        assert!((v / 800.0 - 1.0).abs() < 0.05, "variance {v}");
    }

    /// A 50 Hz Poisson train of weight 1 over 20 s at dt = 1 ms: mean count per step 0.05.
    #[test]
    fn poisson_train_has_requested_rate() {
        let xs = run(PoissonInput { rate_hz: 50.0, weight: 1.0 }, 20_000, 1.0);
        let total: f64 = xs.iter().sum();
        // expected 1000 events, sd ≈ 31.6
        assert!((total - 1000.0).abs() < 5.0 * 31.7, "total {total}");
    }

    /// The lane kernel gives every neuron the draw `KeyedRng::normal_at` keys to it: 1 000
    /// neurons (whole lane blocks and a tail) with per-neuron mean and std, over 3 steps.
    #[test]
    fn noise_lanes_give_each_neuron_its_keyed_draw() {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(1.0), 11), InputPlugin));
        let noise = |k: u32| NoiseCurrent { mean: f64::from(k % 7), std: 1.0 + f64::from(k % 5) };
        let ids: Vec<Entity> = (0..1_003u32).map(|k| app.world_mut().spawn((NeuronId(k), InputCurrent(0.0), noise(k))).id()).collect();
        for step in 0..3 {
            step_simulation(app.world_mut());
            let base = KeyedRng::stream_base(11, StreamPurpose::InputNoise, step);
            for (k, &e) in ids.iter().enumerate() {
                let n = noise(k as u32);
                let expected = 0.0 + (n.mean + n.std * KeyedRng::normal_at(base, k as u64));
                assert_eq!(app.world().get::<InputCurrent>(e).map(|i| i.0.to_bits()), Some(expected.to_bits()), "neuron {k}, step {step}");
            }
        }
    }

    /// A neuron whose model takes generator currents apart gets a [`StimulusCurrent`] with its
    /// generator (in one bundle, or with the marker added later) and its drive goes there: `now`
    /// is this step's value, `held` the previous step's; `InputCurrent` stays 0.
    #[test]
    fn generators_of_marked_neurons_go_to_the_stimulus_current() {
        let mut app = App::new();
        app.add_plugins((CoreSimPlugin::new(SimClock::new(1.0), 11), InputPlugin));
        let stimulus =
            CurrentStimulus::new(0.0).with(crate::StimulusSegment::pulse(crate::Bound::Closed(0.5), crate::Bound::Unbounded, 4.0));
        let together = app.world_mut().spawn((NeuronId(0), InputCurrent(0.0), TakesStimulusCurrent, DcCurrent(2.5))).id();
        let later = app.world_mut().spawn((NeuronId(1), InputCurrent(0.0), stimulus)).id();
        app.world_mut().entity_mut(later).insert(TakesStimulusCurrent);
        let plain = app.world_mut().spawn((NeuronId(2), InputCurrent(0.0), TakesStimulusCurrent)).id();
        let read = |app: &App, e: Entity| {
            (app.world().get::<InputCurrent>(e).map(|i| i.0), app.world().get::<StimulusCurrent>(e).map(|s| (s.now, s.held)))
        };
        step_simulation(app.world_mut());
        assert_eq!(read(&app, together), (Some(0.0), Some((2.5, 0.0))));
        assert_eq!(read(&app, later), (Some(0.0), Some((0.0, 0.0))));
        step_simulation(app.world_mut());
        assert_eq!(read(&app, together), (Some(0.0), Some((2.5, 2.5))));
        assert_eq!(read(&app, later), (Some(0.0), Some((4.0, 0.0))));
        assert_eq!(read(&app, plain), (Some(0.0), None));
    }

    #[test]
    fn dc_is_constant() {
        assert_eq!(run(DcCurrent(3.5), 4, 1.0), vec![3.5; 4]);
    }
}
