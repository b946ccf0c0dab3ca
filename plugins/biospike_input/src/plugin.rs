use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use biospike_core::rows::for_each_chunk;
use rand_distr::{Distribution, Poisson};

use crate::components::{CurrentStimulus, DcCurrent, NoiseCurrent, PoissonInput, UniformNoiseCurrent};

/// Adds the external drive of [`NoiseCurrent`], [`UniformNoiseCurrent`], [`DcCurrent`], [`CurrentStimulus`] and
/// [`PoissonInput`] to [`InputCurrent`] in [`InputSystems::Drive`].
#[derive(Debug, Default, Clone, Copy)]
pub struct InputPlugin;

impl Plugin for InputPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before InputPlugin");
        app.add_systems(SimSchedule, (add_noise, add_uniform_noise, add_dc, add_stimuli, add_poisson).chain().in_set(InputSystems::Drive));
    }
}

fn add_noise(mut q: Query<(&NeuronId, &mut InputCurrent, &NoiseCurrent)>, clock: Res<SimClock>, seed: Res<SimSeed>) {
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::InputNoise, clock.step());
    for (ids, mut input, noise) in q.contiguous_iter_mut().expect("input components are table-stored, so the query is dense") {
        for_each_chunk((ids, input.bypass_change_detection(), noise), |(ids, input, noise)| {
            for ((id, i), n) in ids.iter().zip(input).zip(noise) {
                let xi = KeyedRng::normal_at(base, u64::from(id.0));
                i.0 += n.mean + n.std * xi;
            }
        });
    }
}

fn add_uniform_noise(mut q: Query<(&NeuronId, &mut InputCurrent, &UniformNoiseCurrent)>, clock: Res<SimClock>, seed: Res<SimSeed>) {
    // A stream of its own (index offset by 2^32), so that adding uniform noise to some neurons
    // does not change the Gaussian draws of others.
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::InputNoise, clock.step());
    biospike_core::for_each_entity_mut!(q, |(id, mut i, n): (&NeuronId, Mut<InputCurrent>, &UniformNoiseCurrent)| {
        let r = KeyedRng::uniform_at(base, (1u64 << 32) | u64::from(id.0));
        i.bypass_change_detection().0 += n.low + (n.high - n.low) * r;
    });
}

fn add_dc(mut q: Query<(&mut InputCurrent, &DcCurrent)>) {
    biospike_core::for_each_entity_mut!(q, |(mut i, dc): (Mut<InputCurrent>, &DcCurrent)| i.bypass_change_detection().0 += dc.0);
}

fn add_stimuli(mut q: Query<(&mut InputCurrent, &CurrentStimulus)>, clock: Res<SimClock>) {
    let t = clock.time_ms();
    biospike_core::for_each_entity_mut!(q, |(mut i, s): (Mut<InputCurrent>, &CurrentStimulus)| i.bypass_change_detection().0 +=
        s.value_at(t));
}

fn add_poisson(mut q: Query<(&NeuronId, &mut InputCurrent, &PoissonInput)>, clock: Res<SimClock>, seed: Res<SimSeed>) {
    let base = KeyedRng::stream_base(seed.0, StreamPurpose::PoissonInput, clock.step());
    let dt = clock.dt_ms();
    biospike_core::for_each_entity_mut!(q, |(id, mut i, p): (&NeuronId, Mut<InputCurrent>, &PoissonInput)| {
        let lambda = p.rate_hz * dt * 1e-3;
        if lambda > 0.0
            && let Ok(dist) = Poisson::new(lambda)
        {
            let k: f64 = dist.sample(&mut KeyedRng::from_base(base, u64::from(id.0)));
            i.bypass_change_detection().0 += p.weight * k;
        }
    });
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

    /// A 50 Hz Poisson train of weight 1 over 20 s at dt = 1 ms: mean count per step 0.05.
    #[test]
    fn poisson_train_has_requested_rate() {
        let xs = run(PoissonInput { rate_hz: 50.0, weight: 1.0 }, 20_000, 1.0);
        let total: f64 = xs.iter().sum();
        // expected 1000 events, sd ≈ 31.6
        assert!((total - 1000.0).abs() < 5.0 * 31.7, "total {total}");
    }

    #[test]
    fn dc_is_constant() {
        assert_eq!(run(DcCurrent(3.5), 4, 1.0), vec![3.5; 4]);
    }
}
