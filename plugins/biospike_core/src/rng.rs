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
use std::sync::OnceLock;

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

    /// One standard normal draw for `index` under a [`KeyedRng::stream_base`], with a single
    /// mixing round per 64-bit word (the stream starts from the unmixed key; its first word is
    /// one finalizer round away, like [`KeyedRng::uniform_at`]'s): the per-neuron, per-step
    /// noise of hot loops. Equal keys give equal draws on any thread.
    #[inline]
    pub fn normal_at(base: u64, index: u64) -> f64 {
        Self { state: base ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7) }.normal()
    }

    /// [`KeyedRng::normal_at`] for `N` indices at once, bit-identical to `N` single calls.
    /// The common path (one word, one table lookup, one comparison: ≈ 99 % of draws) runs on
    /// all lanes together, so it vectorises; lanes it rejects are redrawn by
    /// [`KeyedRng::normal_at`] itself.
    #[inline(always)]
    pub fn normal_at_lanes<const N: usize>(base: u64, index: [u64; N]) -> [f64; N] {
        let z = Ziggurat::get();
        // Plain loops rather than `core::array::from_fn`, whose closures are not always
        // inlined into an AVX2 copy of the caller.
        let mut x = [0.0; N];
        let mut accepted = [false; N];
        for l in 0..N {
            let bits = mix64((base ^ index[l].wrapping_mul(0x8CB9_2BA7_2F3D_8DD7)).wrapping_add(GOLDEN_GAMMA));
            let layer = (bits & 0xff) as usize;
            x[l] = (f64::from_bits((bits >> 12) | 0x4000_0000_0000_0000) - 3.0) * z.x[layer];
            accepted[l] = x[l].abs() < z.x[layer + 1];
        }
        if !accepted.iter().all(|&a| a) {
            for l in 0..N {
                if !accepted[l] {
                    x[l] = Self::normal_at(base, index[l]);
                }
            }
        }
        x
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

    /// Standard normal draw: the ziggurat method of Marsaglia & Tsang (2000) with 256 layers
    /// (see [`Ziggurat`]). About 99 % of draws take one 64-bit word, one table lookup and one
    /// comparison.
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let z = Ziggurat::get();
        loop {
            let bits = self.next_bits();
            let i = (bits & 0xff) as usize;
            // 52 high bits as a float in [2, 4), shifted to u in [-1, 1); the low 8 bits pick
            // the layer, so the two do not overlap.
            let u = f64::from_bits((bits >> 12) | 0x4000_0000_0000_0000) - 3.0;
            let x = u * z.x[i];
            if x.abs() < z.x[i + 1] {
                return x;
            }
            if let Some(x) = self.normal_edge(z, i, u, x) {
                return x;
            }
        }
    }

    /// The rest of [`KeyedRng::normal`] after a first word (layer `i`, `u`, `x = u·x[i]`)
    /// failed the fast test, with `self` just past that word.
    #[cold]
    #[inline(never)]
    fn normal_rejected(&mut self, z: &Ziggurat, i: usize, u: f64, x: f64) -> f64 {
        match self.normal_edge(z, i, u, x) {
            Some(x) => x,
            None => self.normal(),
        }
    }

    /// The rare part of [`KeyedRng::normal`]: the base layer's tail, or the wedge test of
    /// layer `i`; `None` rejects the point.
    #[cold]
    #[inline(never)]
    fn normal_edge(&mut self, z: &Ziggurat, i: usize, u: f64, x: f64) -> Option<f64> {
        if i == 0 {
            // Tail beyond R (Marsaglia 1964): exponential proposals, accepted with
            // probability exp(−t²/2)/exp(−…), on (R, ∞).
            loop {
                let t = -(1.0 - self.uniform()).ln() / Ziggurat::R;
                let y = -(1.0 - self.uniform()).ln();
                if 2.0 * y > t * t {
                    return Some(if u < 0.0 { -(Ziggurat::R + t) } else { Ziggurat::R + t });
                }
            }
        }
        // Wedge: accept when a uniform height under the layer falls below the density.
        let height = z.f[i + 1] + (z.f[i] - z.f[i + 1]) * self.uniform();
        (height < (-0.5 * x * x).exp()).then_some(x)
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

/// [`KeyedRng::normal_at`] for eight keys in AVX-512 registers.
///
/// [`KeyedRng::normal_at_lanes`] leaves the vectorising to the compiler, which hashes in
/// vector registers but reads the ziggurat's second table entry lane by lane and keeps the
/// lanes on the stack around the redraw; here the hash, both table reads (gathers) and the
/// acceptance test stay in registers, and only a rejected lane (≈ 1 % of draws) goes back to
/// the scalar [`KeyedRng::normal_at`]. Bit-identical to it on every key.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code, reason = "AVX-512 loads, stores and gathers from arrays and the ziggurat table")]
pub mod x8 {
    use super::{GOLDEN_GAMMA, KeyedRng, Ziggurat};
    use core::arch::x86_64::*;

    /// `mix64` on eight lanes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    fn mix64(mut z: __m512i) -> __m512i {
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64::<30>(z)), _mm512_set1_epi64(0xBF58_476D_1CE4_E5B9_u64 as i64));
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64::<27>(z)), _mm512_set1_epi64(0x94D0_49BB_1331_11EB_u64 as i64));
        _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z))
    }

    /// Standard normal draws for the keys `index` under a [`KeyedRng::stream_base`], into `out`:
    /// `out[l] = KeyedRng::normal_at(base, index[l])` bit for bit.
    ///
    /// # Safety
    /// Call it only where the CPU has AVX-512 F, DQ and VL (and AVX2): from code compiled with
    /// those features, or after `biospike_runtime::simd::has_avx512()` said so.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    pub fn normal_at_x8(base: u64, index: &[u32; 8], out: &mut [f64; 8]) {
        let z = Ziggurat::get();
        // SAFETY: eight u32 from an array of eight.
        let keys = _mm512_cvtepu32_epi64(unsafe { _mm256_loadu_si256(index.as_ptr().cast()) });
        let keys = _mm512_mullo_epi64(keys, _mm512_set1_epi64(0x8CB9_2BA7_2F3D_8DD7_u64 as i64));
        let state = _mm512_xor_si512(_mm512_set1_epi64(base as i64), keys);
        // The stream's first word: state + γ, mixed (`KeyedRng::next_bits`).
        let bits = mix64(_mm512_add_epi64(state, _mm512_set1_epi64(GOLDEN_GAMMA as i64)));
        let layer = _mm512_and_si512(bits, _mm512_set1_epi64(0xff));
        let high = _mm512_or_si512(_mm512_srli_epi64::<12>(bits), _mm512_set1_epi64(0x4000_0000_0000_0000));
        let u = _mm512_sub_pd(_mm512_castsi512_pd(high), _mm512_set1_pd(3.0));
        // SAFETY: `layer` ≤ 255, so entries `layer` and `layer + 1` are inside the 257 of `z.x`.
        let (width, next) = unsafe {
            let table = z.x.as_ptr();
            (_mm512_i64gather_pd::<8>(layer, table.cast()), _mm512_i64gather_pd::<8>(layer, table.add(1).cast()))
        };
        let x = _mm512_mul_pd(u, width);
        let accepted = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_abs_pd(x), next);
        // SAFETY: eight f64 into an array of eight.
        unsafe { _mm512_storeu_pd(out.as_mut_ptr(), x) };
        if accepted != 0xff {
            // A rejected lane goes on from its first word, as `KeyedRng::normal` would.
            let (mut states, mut layers, mut us) = ([0u64; 8], [0u64; 8], [0.0; 8]);
            // SAFETY: eight 64-bit lanes into arrays of eight.
            unsafe {
                _mm512_storeu_si512(states.as_mut_ptr().cast(), _mm512_add_epi64(state, _mm512_set1_epi64(GOLDEN_GAMMA as i64)));
                _mm512_storeu_si512(layers.as_mut_ptr().cast(), layer);
                _mm512_storeu_pd(us.as_mut_ptr(), u);
            }
            for l in 0..8 {
                if accepted & (1 << l) == 0 {
                    out[l] = KeyedRng { state: states[l] }.normal_rejected(z, layers[l] as usize, us[l], out[l]);
                }
            }
        }
    }
}

/// Layer boundaries of the normal ziggurat (Marsaglia & Tsang 2000, "The ziggurat method for
/// generating random variables", J. Stat. Softw. 5(8)), 256 layers of equal area `V` under
/// the unnormalised density `f(x) = exp(−x²/2)`: `x[0] = V/f(R)` (the base strip's virtual
/// width), `x[1] = R`, `x[i+1] = f⁻¹(V/x[i] + f(x[i]))`, `x[256] = 0`; `f[i] = f(x[i])`.
/// Computed once, from `R` alone (the tail area comes from the continued fraction of the
/// normal's Mills ratio), the first time a normal draw is made.
#[derive(Debug)]
pub struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

impl Ziggurat {
    /// Start of the tail for 256 layers (Marsaglia & Tsang 2000).
    pub const R: f64 = 3.654_152_885_361_009;

    /// The shared tables.
    #[inline]
    pub fn get() -> &'static Self {
        static TABLES: OnceLock<Ziggurat> = OnceLock::new();
        TABLES.get_or_init(Self::build)
    }

    /// Area of each layer: the base strip `R·f(R)` plus the tail `∫_R^∞ f`.
    pub fn layer_area() -> f64 {
        let r = Self::R;
        // ∫_R^∞ e^{−t²/2} dt = e^{−R²/2} / (R + 1/(R + 2/(R + 3/(R + …)))), evaluated from
        // depth 300 upward (converges to machine precision long before for R > 3).
        let mut cf = r;
        for k in (1..=300).rev() {
            cf = r + f64::from(k) / cf;
        }
        let fr = (-0.5 * r * r).exp();
        r * fr + fr / cf
    }

    fn build() -> Self {
        let f = |x: f64| (-0.5 * x * x).exp();
        let v = Self::layer_area();
        let mut x = [0.0; 257];
        x[0] = v / f(Self::R);
        x[1] = Self::R;
        for i in 1..256 {
            let y = v / x[i] + f(x[i]);
            x[i + 1] = if y < 1.0 { (-2.0 * y.ln()).sqrt() } else { 0.0 };
        }
        x[256] = 0.0;
        Self { x, f: x.map(f) }
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

    /// The layer recursion must land on 0 at the top (x[255] small, positive), and each
    /// layer's area must be V: checks that the tail area and R are consistent.
    #[test]
    fn ziggurat_layers_close_at_the_top() {
        let z = Ziggurat::get();
        let v = Ziggurat::layer_area();
        // Marsaglia & Tsang (2000) give v = 4.928673233992e-3 for 256 layers of exp(−x²/2).
        assert!((v - 4.928_673_233_99e-3).abs() < 1e-13, "v {v}");
        assert!(z.x[255] > 0.0 && z.x[255] < 0.3, "x[255] {}", z.x[255]);
        // Boundaries from V = R·f(R) + √(π/2)·erfc(R/√2) with an independent erfc (CPython's
        // `math.erfc`) and the same recursion: x[0], x[2], x[3], and x[255] after 254 steps.
        for (i, want, tol) in [
            (0, 3.910_757_959_524_916_7, 1e-12),
            (2, 3.449_278_298_561_431, 1e-12),
            (3, 3.320_244_733_839_825, 1e-12),
            (255, 0.215_241_895_984_871_56, 1e-9),
        ] {
            assert!((z.x[i] - want).abs() < tol, "x[{i}] = {} vs {want}", z.x[i]);
        }
        for i in 1..256 {
            let area = z.x[i] * ((-0.5 * z.x[i + 1].powi(2)).exp() - (-0.5 * z.x[i].powi(2)).exp());
            assert!((area - v).abs() < 1e-9, "layer {i}: area {area}");
        }
    }

    /// Bin probabilities of the normal draws against Φ (closed-form values of the standard
    /// normal CDF, from tables): a chi-square over 12 bins, and the far tail.
    #[test]
    fn normal_draws_follow_the_normal_cdf() {
        // Φ at 0, 0.5, 1, 1.5, 2, 2.5, 3 (Abramowitz & Stegun, table 26.1).
        let phi = [
            0.5,
            0.691_462_461_274_013,
            0.841_344_746_068_543,
            0.933_192_798_731_142,
            0.977_249_868_051_821,
            0.993_790_334_674_224,
            0.998_650_101_968_370,
        ];
        let edges = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
        let n = 1_000_000u64;
        let mut counts = [0u64; 14];
        let mut beyond4 = 0u64;
        for i in 0..n {
            let x = KeyedRng::new(21, StreamPurpose::InputNoise, i, 3).normal();
            let b = edges.iter().filter(|&&e| x.abs() >= e).count() - 1 + 7 * usize::from(x < 0.0);
            counts[b] += 1;
            beyond4 += u64::from(x.abs() > 4.0);
        }
        let mut chi2 = 0.0;
        for side in 0..2 {
            for b in 0..7 {
                let p = if b < 6 { phi[b + 1] - phi[b] } else { 1.0 - phi[6] };
                let expected = p * n as f64;
                let got = counts[side * 7 + b] as f64;
                chi2 += (got - expected).powi(2) / expected;
            }
        }
        // 13 degrees of freedom: P(χ² > 34.5) ≈ 0.001.
        assert!(chi2 < 34.5, "chi2 {chi2}, counts {counts:?}");
        // P(|x| > 4) = 6.334e-5: expect 63 ± 8.
        assert!((25..=110).contains(&beyond4), "beyond 4: {beyond4}");
    }

    /// `normal_at` over neighbouring keys: moments, third moment, tail mass and lag-1
    /// correlation against N(0, 1) (closed form: 0, 1, 0, P(|x| > 3) = 0.0026998, 0).
    #[test]
    fn normal_at_draws_are_standard_normal() {
        let n = 400_000u64;
        let base = KeyedRng::stream_base(11, StreamPurpose::InputNoise, 42);
        let (mut s1, mut s2, mut s3, mut tail, mut lag) = (0.0, 0.0, 0.0, 0u64, 0.0);
        let mut prev = 0.0;
        for i in 0..n {
            let x = KeyedRng::normal_at(base, i);
            s1 += x;
            s2 += x * x;
            s3 += x * x * x;
            tail += u64::from(x.abs() > 3.0);
            lag += x * prev;
            prev = x;
        }
        let nf = n as f64;
        let (mean, var, m3) = (s1 / nf, s2 / nf - (s1 / nf).powi(2), s3 / nf);
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "var {var}");
        assert!(m3.abs() < 5.0 * (15.0 / nf).sqrt(), "third moment {m3}");
        let p = 0.002_699_8;
        assert!((tail as f64 / nf - p).abs() < 5.0 * (p * (1.0 - p) / nf).sqrt(), "tail {}", tail as f64 / nf);
        assert!((lag / nf).abs() < 5.0 / nf.sqrt(), "lag-1 correlation {}", lag / nf);
        // Equal keys, equal draws.
        assert_eq!(KeyedRng::normal_at(base, 17).to_bits(), KeyedRng::normal_at(base, 17).to_bits());
    }

    /// The lane version gives the single draws' bits, rejected lanes included (10 000 keys
    /// hold ≈ 100 rejections, tails among them).
    #[test]
    fn normal_lanes_match_single_draws() {
        let base = KeyedRng::stream_base(5, StreamPurpose::InputNoise, 9);
        for k in (0..10_000u64).step_by(8) {
            let lanes = KeyedRng::normal_at_lanes::<8>(base, core::array::from_fn(|l| k + l as u64));
            for (l, x) in lanes.iter().enumerate() {
                assert_eq!(x.to_bits(), KeyedRng::normal_at(base, k + l as u64).to_bits(), "key {}", k + l as u64);
            }
        }
    }

    /// The AVX-512 draws must be the scalar draws (skipped on CPUs without AVX-512).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn normal_x8_matches_single_draws() {
        if !biospike_runtime::simd::has_avx512() {
            eprintln!("no AVX-512 on this CPU: x8 draws not run");
            return;
        }
        let mut rejected = 0;
        for step in 0..20 {
            let base = KeyedRng::stream_base(5, StreamPurpose::InputNoise, step);
            for k in (0..10_000u32).step_by(8) {
                let index: [u32; 8] = core::array::from_fn(|l| k + l as u32 * 997);
                let mut out = [0.0; 8];
                // SAFETY: the CPU reported AVX-512 just above.
                #[allow(unsafe_code, reason = "calling the AVX-512 draws after the CPU reported them")]
                unsafe {
                    x8::normal_at_x8(base, &index, &mut out);
                }
                for (l, x) in out.iter().enumerate() {
                    let single = KeyedRng::normal_at(base, u64::from(index[l]));
                    assert_eq!(x.to_bits(), single.to_bits(), "key {}", index[l]);
                    rejected += usize::from(single.abs() >= 3.0);
                }
            }
        }
        // Draws beyond 3σ (0.27 %) are on the rarely taken edge path: the test covers it.
        assert!(rejected > 100, "{rejected} draws beyond 3σ");
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
