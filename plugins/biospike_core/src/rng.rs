//! Keyed random streams: every draw is a pure function of its key.
//!
//! A stream is identified by `(seed, purpose, index, step)`: the scene seed, the process that
//! draws ([`StreamPurpose`]), usually a neuron id (or an edge/row index), and usually the
//! simulation step. [`KeyedRng::new`] hashes the key into the state of a `SplitMix64` generator,
//! so a neuron's noise at step `t` is the same whichever thread computes it and in whatever
//! order: results are identical on 1 or N threads. There is no global or shared RNG anywhere in
//! the model, and no `thread_rng`.
//!
//! `SplitMix64` (Steele, Lea & Flood 2014, the generator `java.util.SplittableRandom` uses) has a
//! 64-bit state and passes `BigCrush`; the key is folded in with its finalizer (a bijective
//! avalanche mix), one round per key part.

use bevy_ecs::prelude::*;
use core::convert::Infallible;
use rand::TryRng;
use rand_distr::{Distribution, StandardNormal};

/// The scene's master seed. Default: `1`.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SimSeed(pub u64);

impl Default for SimSeed {
    fn default() -> Self {
        Self(1)
    }
}

/// Which process a random draw belongs to; part of every stream key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StreamPurpose {
    /// Connectivity: which edges exist.
    Topology = 0,
    /// Per-neuron parameters and initial state (e.g. the `r` of Izhikevich 2003).
    NeuronParameters = 1,
    /// Synaptic weights and delays drawn at construction.
    SynapseParameters = 2,
    /// Gaussian input current, drawn every step.
    InputNoise = 3,
    /// Poisson spike trains, drawn every step.
    PoissonInput = 4,
    /// Neuromodulator processes.
    Modulator = 5,
    /// Structural plasticity.
    Rewiring = 6,
    /// Positions for layout.
    Layout = 7,
    /// Experiment protocols (e.g. reward delays).
    Experiment = 8,
    /// Drift of parameters and state toward fresh draws.
    Drift = 9,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The `SplitMix64` output finalizer (a bijection on `u64`).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small generator whose state is derived from a key; implements [`rand::Rng`], so any
/// `rand`/`rand_distr` distribution can sample from it.
#[derive(Clone, Debug)]
pub struct KeyedRng {
    state: u64,
}

impl KeyedRng {
    /// The stream for `(seed, purpose, index, step)`.
    #[inline]
    pub fn new(seed: u64, purpose: StreamPurpose, index: u64, step: u64) -> Self {
        Self::from_base(Self::stream_base(seed, purpose, step), index)
    }

    /// The part of a key shared by all indices of one `(seed, purpose, step)`: hoist it out of
    /// per-neuron loops and finish each key with [`KeyedRng::from_base`] (one mixing round
    /// per neuron instead of four). `from_base(stream_base(s, p, t), i) == new(s, p, i, t)`.
    #[inline]
    pub fn stream_base(seed: u64, purpose: StreamPurpose, step: u64) -> u64 {
        let mut s = mix64(seed ^ GOLDEN_GAMMA);
        s = mix64(s ^ (purpose as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        mix64(s ^ step.wrapping_mul(0xABC9_8388_FB8F_AC03))
    }

    /// The stream of `index` under a [`KeyedRng::stream_base`].
    #[inline]
    pub fn from_base(base: u64, index: u64) -> Self {
        Self { state: mix64(base ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7)) }
    }

    /// One uniform draw in `[0, 1)` for `index` under a [`KeyedRng::stream_base`], with a
    /// single mixing round (half the cost of `from_base(base, index).uniform()`, a different
    /// but equally keyed number): for per-neuron, per-step draws in hot loops.
    #[inline]
    pub fn uniform_at(base: u64, index: u64) -> f64 {
        let bits = mix64((base ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7)).wrapping_add(GOLDEN_GAMMA));
        (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_bits(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// Uniform draw in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_bits() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal draw (ziggurat, from `rand_distr`).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        StandardNormal.sample(self)
    }

    /// Uniform integer in `0..n`, by Lemire's widening multiply (bias < 2⁻³² for `n < 2³²`).
    ///
    /// # Panics
    /// If `n == 0`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value");
        ((self.next_bits() as u128 * n as u128) >> 64) as u64
    }
}

impl TryRng for KeyedRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_bits() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_bits())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_bits().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outside numbers: the first outputs of `SplitMix64` seeded with 1234567, from the reference
    /// implementation (Vigna, `splitmix64.c`), as used in the test suites of `rand_xoshiro`.
    #[test]
    fn splitmix_matches_reference_sequence() {
        let mut rng = KeyedRng { state: 1_234_567 };
        let expected: [u64; 5] = [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for e in expected {
            assert_eq!(rng.next_bits(), e);
        }
    }

    #[test]
    fn streams_differ_by_every_key_part() {
        let base = KeyedRng::new(1, StreamPurpose::InputNoise, 5, 9).next_bits();
        assert_ne!(base, KeyedRng::new(2, StreamPurpose::InputNoise, 5, 9).next_bits());
        assert_ne!(base, KeyedRng::new(1, StreamPurpose::Topology, 5, 9).next_bits());
        assert_ne!(base, KeyedRng::new(1, StreamPurpose::InputNoise, 6, 9).next_bits());
        assert_ne!(base, KeyedRng::new(1, StreamPurpose::InputNoise, 5, 10).next_bits());
        assert_eq!(base, KeyedRng::new(1, StreamPurpose::InputNoise, 5, 9).next_bits());
    }

    /// Moments of the normal draws over many keys (closed form: mean 0, variance 1).
    #[test]
    fn normal_draws_have_unit_moments() {
        let n = 200_000u64;
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let x = KeyedRng::new(3, StreamPurpose::InputNoise, i, 0).normal();
            s1 += x;
            s2 += x * x;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // 5 standard errors
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(), "var {var}");
    }
}
