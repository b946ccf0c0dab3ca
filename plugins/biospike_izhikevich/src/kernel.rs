//! The pure numerical kernel: no ECS here.

use bevy_ecs::prelude::Component;

/// Form of the recovery equation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
// Eight bytes, so that `IzhikevichParams` is eight `f64`-sized fields without padding, which
// the AVX-512 kernel loads as one row of a transpose.
#[repr(u64)]
pub enum RecoveryForm {
    /// `u' = a(bv − u)` (the model's equation).
    #[default]
    Standard,
    /// `u' = a·b·(v + 65)`: the accommodation protocol (R) of `figure1.m`.
    Accommodation,
}

/// Per-neuron parameters. `a` (1/ms), `b` (dimensionless), `c` (mV), `d` (current units),
/// and the quadratic `v' = k2·v² + k1·v + k0 − u + I` (defaults 0.04, 5, 140).
///
/// Memory: 64 bytes per neuron (`repr(C)`: eight 8-byte fields in this order, no padding).
#[derive(Component, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct IzhikevichParams {
    /// Time scale of `u`, 1/ms. Typical `0.02`.
    pub a: f64,
    /// Sensitivity of `u` to `v`. Typical `0.2`.
    pub b: f64,
    /// After-spike reset of `v`, mV. Typical `-65`.
    pub c: f64,
    /// After-spike increment of `u`. Typical `8`.
    pub d: f64,
    /// Quadratic coefficient of `v'`, 1/(mV·ms). Default `0.04`.
    pub k2: f64,
    /// Linear coefficient of `v'`, 1/ms. Default `5`.
    pub k1: f64,
    /// Constant term of `v'`, mV/ms. Default `140`.
    pub k0: f64,
    /// Form of `u'`. Default [`RecoveryForm::Standard`].
    pub recovery: RecoveryForm,
}

impl Default for IzhikevichParams {
    fn default() -> Self {
        Self::REGULAR_SPIKING
    }
}

impl IzhikevichParams {
    /// Standard-equation parameters with the given `a, b, c, d`.
    pub const fn new(a: f64, b: f64, c: f64, d: f64) -> Self {
        Self { a, b, c, d, k2: 0.04, k1: 5.0, k0: 140.0, recovery: RecoveryForm::Standard }
    }
    /// RS, regular spiking (2003, Fig. 2).
    pub const REGULAR_SPIKING: Self = Self::new(0.02, 0.2, -65.0, 8.0);
    /// IB, intrinsically bursting.
    pub const INTRINSICALLY_BURSTING: Self = Self::new(0.02, 0.2, -55.0, 4.0);
    /// CH, chattering.
    pub const CHATTERING: Self = Self::new(0.02, 0.2, -50.0, 2.0);
    /// FS, fast spiking.
    pub const FAST_SPIKING: Self = Self::new(0.1, 0.2, -65.0, 2.0);
    /// LTS, low-threshold spiking.
    pub const LOW_THRESHOLD_SPIKING: Self = Self::new(0.02, 0.25, -65.0, 2.0);
    /// TC, thalamo-cortical.
    pub const THALAMO_CORTICAL: Self = Self::new(0.02, 0.25, -65.0, 0.05);
    /// RZ, resonator.
    pub const RESONATOR: Self = Self::new(0.1, 0.26, -65.0, 2.0);

    /// Excitatory cell of the 2003 network for a uniform draw `r ∈ [0, 1)`:
    /// `a = 0.02, b = 0.2, c = −65 + 15r², d = 8 − 6r²`.
    pub fn excitatory_2003(r: f64) -> Self {
        let r2 = r * r;
        Self::new(0.02, 0.2, -65.0 + 15.0 * r2, 8.0 - 6.0 * r2)
    }

    /// Inhibitory cell of the 2003 network: `a = 0.02 + 0.08r, b = 0.25 − 0.05r, c = −65, d = 2`.
    pub fn inhibitory_2003(r: f64) -> Self {
        Self::new(0.02 + 0.08 * r, 0.25 - 0.05 * r, -65.0, 2.0)
    }

    /// The class-1 variant of `figure1.m` (`v' = 0.04v² + 4.1v + 108 − u + I`).
    pub const fn class1(self) -> Self {
        Self { k1: 4.1, k0: 108.0, ..self }
    }

    /// The accommodation variant of `figure1.m` (`u' = a·b·(v + 65)`).
    pub const fn accommodation(self) -> Self {
        Self { recovery: RecoveryForm::Accommodation, ..self }
    }

    #[inline(always)]
    fn dv(&self, v: f64, u: f64, i: f64) -> f64 {
        // Evaluated left to right exactly as the MATLAB listings: 0.04*v^2+5*v+140-u+I.
        self.k2 * (v * v) + self.k1 * v + self.k0 - u + i
    }

    /// `b·v − u`, the drive of the standard recovery equation.
    #[inline(always)]
    fn u_drive_standard(&self, v: f64, u: f64) -> f64 {
        self.b * v - u
    }

    #[inline(always)]
    fn u_drive(&self, v: f64, u: f64) -> f64 {
        // Both forms, then a select: branch-free, so lanes of neurons pack into SIMD.
        let standard = self.u_drive_standard(v, u);
        let accommodation = self.b * (v + 65.0);
        if self.recovery == RecoveryForm::Accommodation { accommodation } else { standard }
    }
}

/// How one step of `dt` is integrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrationScheme {
    /// Izhikevich (2003), the published network scheme: `v` in `v_substeps` Euler steps of
    /// `dt / v_substeps` (2 half-steps in the paper), then `u` once over `dt` with the new `v`.
    /// After a sub-step that crosses the threshold, one more runs (as the listing's second
    /// half-step does) and the rest are skipped.
    HalfStep {
        /// Number of `v` substeps, `>= 1`. Paper: 2.
        v_substeps: u8,
    },
    /// Forward Euler as in `figure1.m` (2004): per substep of `dt / substeps`, `v` then `u`
    /// (with the new `v`); a crossing inside a substep fires and ends the step.
    Euler {
        /// Number of substeps, `>= 1`.
        substeps: u8,
    },
}

impl Default for IntegrationScheme {
    fn default() -> Self {
        Self::HalfStep { v_substeps: 2 }
    }
}

/// One step of `dt_ms` for a neuron with state `(v, u)` and integrated current `i`.
/// Fires when `v ≥ threshold_mv` after integration: `v ← c`, `u ← u + d`.
/// Returns `(v, u, fired)`.
#[inline]
pub fn izhikevich_step(
    v: f64,
    u: f64,
    i: f64,
    p: &IzhikevichParams,
    dt_ms: f64,
    scheme: IntegrationScheme,
    threshold_mv: f64,
) -> (f64, f64, bool) {
    let (mut v, mut u) = (v, u);
    match scheme {
        IntegrationScheme::HalfStep { v_substeps } => {
            let n = v_substeps.max(1);
            let h = dt_ms / f64::from(n);
            // The listing's second half-step runs after a crossing in the first; in general one
            // sub-step runs after the crossing, then `v` stops (past the peak, v² grows without
            // bound within a few sub-steps and would drag `u` with it). With 2 sub-steps this is
            // the published scheme; as sub-steps shrink it tends to stopping at the crossing.
            let mut crossed = false;
            for _ in 0..n {
                v += h * p.dv(v, u, i);
                if crossed {
                    break;
                }
                crossed = v >= threshold_mv;
            }
            u += dt_ms * p.a * p.u_drive(v, u);
        }
        IntegrationScheme::Euler { substeps } => {
            let n = substeps.max(1);
            let h = dt_ms / f64::from(n);
            for _ in 0..n {
                v += h * p.dv(v, u, i);
                u += h * p.a * p.u_drive(v, u);
                if v >= threshold_mv {
                    break;
                }
            }
        }
    }
    if v >= threshold_mv { (p.c, u + p.d, true) } else { (v, u, false) }
}

/// Number of neurons [`izhikevich_half_step_lanes`] advances at once.
pub const LANES: usize = 4;

/// [`LANES`] neurons through the published scheme (`v` in two half-steps of `dt / 2`, then
/// `u` over `dt`), each lane with exactly the operations of [`izhikevich_step`] with
/// `IntegrationScheme::HalfStep { v_substeps: 2 }` in the same order, so results are
/// bit-identical to it; written lane-wise and branch-free so the compiler can pack the lanes
/// into SIMD registers. Returns `(v, u, fired)` per lane.
#[inline(always)]
pub fn izhikevich_half_step_lanes(
    v: [f64; LANES],
    u: [f64; LANES],
    i: [f64; LANES],
    p: [&IzhikevichParams; LANES],
    dt_ms: f64,
    threshold_mv: f64,
) -> ([f64; LANES], [f64; LANES], [bool; LANES]) {
    // Plain loops over the lanes rather than `core::array::from_fn`: its closures are
    // separate functions that are not always inlined into an AVX2 copy of the caller.
    let h = dt_ms / 2.0;
    let mut v = v;
    for _ in 0..2 {
        let mut dv = [0.0; LANES];
        for l in 0..LANES {
            dv[l] = p[l].dv(v[l], u[l], i[l]);
        }
        for l in 0..LANES {
            v[l] += h * dv[l];
        }
    }
    let mut u = u;
    // The common case, every lane on the standard recovery equation, skips the other form.
    if p.iter().all(|p| p.recovery == RecoveryForm::Standard) {
        for l in 0..LANES {
            u[l] += dt_ms * p[l].a * p[l].u_drive_standard(v[l], u[l]);
        }
    } else {
        for l in 0..LANES {
            u[l] += dt_ms * p[l].a * p[l].u_drive(v[l], u[l]);
        }
    }
    let mut fired = [false; LANES];
    for l in 0..LANES {
        fired[l] = v[l] >= threshold_mv;
        if fired[l] {
            v[l] = p[l].c;
            u[l] += p[l].d;
        }
    }
    (v, u, fired)
}

/// The published scheme for eight neurons in AVX-512 registers, bit-identical to
/// [`izhikevich_step`] with `IntegrationScheme::HalfStep { v_substeps: 2 }`.
///
/// [`izhikevich_half_step_lanes`] leaves it to the compiler, which gathers each parameter of
/// the array-of-structs column lane by lane and branches on the recovery form and the
/// threshold; here each neuron's 64-byte parameter row is loaded whole and the eight rows are
/// transposed in registers (16 shuffles), then every operation of the scalar kernel runs on
/// eight lanes in the same order (separate multiplies and adds, no fused multiply-add), with
/// selects for the recovery form and the reset.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code, reason = "AVX-512 loads and stores of eight f64 from arrays and parameter rows")]
pub mod x8 {
    use super::IzhikevichParams;
    use core::arch::x86_64::*;

    const _: () = assert!(core::mem::size_of::<IzhikevichParams>() == 64);
    const _: () = assert!(core::mem::offset_of!(IzhikevichParams, recovery) == 56);

    /// Rows `r0..r3` (first or second half of four parameter rows, 4 `f64` each), as
    /// `[r0 | r2]` and `[r1 | r3]` gives two transposed fields each of the two unpacks.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    fn pair(lo: *const f64, hi: *const f64) -> __m512d {
        // SAFETY: callers pass pointers to four readable f64 (half a parameter row).
        unsafe { _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(_mm256_loadu_pd(lo)), _mm256_loadu_pd(hi)) }
    }

    /// Eight fields of eight rows: `half` 0 gives `(a, b, c, d)`, 1 gives `(k2, k1, k0, recovery)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    fn fields(p: &[IzhikevichParams; 8], half: usize) -> [__m512d; 4] {
        let row = |k: usize| -> *const f64 { (&raw const p[k]).cast::<f64>().wrapping_add(4 * half) };
        let (xa, xb, xc, xd) = (pair(row(0), row(2)), pair(row(1), row(3)), pair(row(4), row(6)), pair(row(5), row(7)));
        let (lo_ab, hi_ab) = (_mm512_unpacklo_pd(xa, xb), _mm512_unpackhi_pd(xa, xb));
        let (lo_cd, hi_cd) = (_mm512_unpacklo_pd(xc, xd), _mm512_unpackhi_pd(xc, xd));
        [
            _mm512_shuffle_f64x2::<0x88>(lo_ab, lo_cd),
            _mm512_shuffle_f64x2::<0x88>(hi_ab, hi_cd),
            _mm512_shuffle_f64x2::<0xDD>(lo_ab, lo_cd),
            _mm512_shuffle_f64x2::<0xDD>(hi_ab, hi_cd),
        ]
    }

    /// Advances `v`, `u` of eight neurons with input current `input` scaled by `excitability`
    /// by one step; returns the lanes that fired as bits.
    ///
    /// # Safety
    /// Call it only where the CPU has AVX-512 F, DQ and VL (and AVX2): from code compiled with
    /// those features, or after `biospike_runtime::simd::has_avx512()` said so.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    pub fn izhikevich_half_step_x8(
        v: &mut [f64; 8],
        u: &mut [f64; 8],
        input: &[f64; 8],
        excitability: &[f64; 8],
        p: &[IzhikevichParams; 8],
        dt_ms: f64,
        threshold_mv: f64,
    ) -> u8 {
        let [a, b, c, d] = fields(p, 0);
        let [k2, k1, k0, recovery] = fields(p, 1);
        // SAFETY: eight f64 each, from and to arrays of eight.
        let (mut vv, mut uu, input, excitability) = unsafe {
            (
                _mm512_loadu_pd(v.as_ptr()),
                _mm512_loadu_pd(u.as_ptr()),
                _mm512_loadu_pd(input.as_ptr()),
                _mm512_loadu_pd(excitability.as_ptr()),
            )
        };
        let ii = _mm512_mul_pd(excitability, input);
        let h = _mm512_set1_pd(dt_ms / 2.0);
        for _ in 0..2 {
            // k2·(v·v) + k1·v + k0 − u + I, left to right, as `IzhikevichParams::dv`.
            let mut dv = _mm512_mul_pd(k2, _mm512_mul_pd(vv, vv));
            dv = _mm512_add_pd(dv, _mm512_mul_pd(k1, vv));
            dv = _mm512_add_pd(dv, k0);
            dv = _mm512_sub_pd(dv, uu);
            dv = _mm512_add_pd(dv, ii);
            vv = _mm512_add_pd(vv, _mm512_mul_pd(h, dv));
        }
        let standard = _mm512_sub_pd(_mm512_mul_pd(b, vv), uu);
        let accommodation = _mm512_mul_pd(b, _mm512_add_pd(vv, _mm512_set1_pd(65.0)));
        let accommodating = _mm512_cmpneq_epi64_mask(_mm512_castpd_si512(recovery), _mm512_setzero_si512());
        let drive = _mm512_mask_blend_pd(accommodating, standard, accommodation);
        uu = _mm512_add_pd(uu, _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(dt_ms), a), drive));
        let fired = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(vv, _mm512_set1_pd(threshold_mv));
        uu = _mm512_mask_add_pd(uu, fired, uu, d);
        vv = _mm512_mask_blend_pd(fired, vv, c);
        // SAFETY: eight f64 each, into arrays of eight.
        unsafe {
            _mm512_storeu_pd(v.as_mut_ptr(), vv);
            _mm512_storeu_pd(u.as_mut_ptr(), uu);
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Closed form: one half-step pair at rest (v = -65, u = -13, I = 0) from the 2003 listing
    /// by hand: v' = 0.04·4225 − 325 + 140 + 13 = −3 → v = −66.5 after the first half step;
    /// v' = 0.04·4422.25 − 332.5 + 140 + 13 = −2.61 → v = −67.805; u += 0.02(0.2·(−67.805) + 13).
    #[test]
    fn half_step_matches_hand_computation() {
        let p = IzhikevichParams::REGULAR_SPIKING;
        let (v, u, fired) = izhikevich_step(-65.0, -13.0, 0.0, &p, 1.0, IntegrationScheme::default(), 30.0);
        assert!(!fired);
        assert_relative_eq!(v, -67.805, epsilon = 1e-12);
        assert_relative_eq!(u, -13.0 + 0.02 * (0.2 * -67.805 + 13.0), epsilon = 1e-12);
    }

    /// More `v` sub-steps stay finite and converge (issue #19: 4 sub-steps blew up by step 57):
    /// a regular-spiking neuron at I = 10 for 1 s fires a count that settles as sub-steps
    /// shrink, and every sub-step count keeps `v` and `u` finite.
    #[test]
    fn more_v_substeps_stay_finite_and_converge() {
        let p = IzhikevichParams::REGULAR_SPIKING;
        let count = |n: u8| {
            let (mut v, mut u, mut spikes) = (-65.0, -13.0, 0);
            for _ in 0..1000 {
                let (nv, nu, fired) = izhikevich_step(v, u, 10.0, &p, 1.0, IntegrationScheme::HalfStep { v_substeps: n }, 30.0);
                assert!(nv.is_finite() && nu.is_finite() && nu.abs() < 100.0, "v_substeps {n}: v {nv}, u {nu}");
                (v, u) = (nv, nu);
                spikes += u32::from(fired);
            }
            spikes
        };
        let counts: Vec<u32> = (1..=255).map(count).collect();
        let fine = counts[254];
        assert!((5..=60).contains(&fine), "{fine} spikes");
        for n in 32..=255 {
            assert!(counts[n - 1].abs_diff(fine) <= 1, "v_substeps {n}: {} spikes against {fine}", counts[n - 1]);
        }
    }

    /// The resting state of RS is the lower root of 0.04v² + (5 − b)v + 140 = 0 with b = 0.2:
    /// v* = (−4.8 − √(4.8² − 4·0.04·140)) / 0.08 = −70. It must be a fixed point.
    #[test]
    fn resting_point_is_fixed() {
        let p = IzhikevichParams::REGULAR_SPIKING;
        let (v, u, _) = izhikevich_step(-70.0, -14.0, 0.0, &p, 1.0, IntegrationScheme::default(), 30.0);
        assert_relative_eq!(v, -70.0, epsilon = 1e-12);
        assert_relative_eq!(u, -14.0, epsilon = 1e-12);
    }

    /// Every preset, both recovery forms and both equations of `v'`, for the lane tests.
    fn lane_presets() -> [IzhikevichParams; 6] {
        [
            IzhikevichParams::REGULAR_SPIKING,
            IzhikevichParams::FAST_SPIKING,
            IzhikevichParams::CHATTERING.class1(),
            IzhikevichParams::RESONATOR.accommodation(),
            IzhikevichParams::excitatory_2003(0.37),
            IzhikevichParams::inhibitory_2003(0.81),
        ]
    }

    /// A deterministic sequence in `[0, 1)` for the lane tests' states and inputs.
    fn unit_sequence() -> impl FnMut() -> f64 {
        let mut x = 0.123_f64;
        move || {
            x = (x * 3.7 + 0.31).fract();
            x
        }
    }

    /// The lane kernel must give the scalar kernel's bits, over every preset, both recovery
    /// forms, spiking and non-spiking states.
    #[test]
    fn lanes_match_scalar_bit_for_bit() {
        let presets = lane_presets();
        let mut next = unit_sequence();
        for round in 0..2000 {
            let p: [&IzhikevichParams; LANES] = core::array::from_fn(|l| &presets[(round + l * 5) % presets.len()]);
            let v: [f64; LANES] = core::array::from_fn(|_| -80.0 + 115.0 * next());
            let u: [f64; LANES] = core::array::from_fn(|_| -20.0 + 25.0 * next());
            let i: [f64; LANES] = core::array::from_fn(|_| -10.0 + 40.0 * next());
            let (lv, lu, lf) = izhikevich_half_step_lanes(v, u, i, p, 1.0, 30.0);
            for l in 0..LANES {
                let (sv, su, sf) = izhikevich_step(v[l], u[l], i[l], p[l], 1.0, IntegrationScheme::default(), 30.0);
                assert_eq!((lv[l].to_bits(), lu[l].to_bits(), lf[l]), (sv.to_bits(), su.to_bits(), sf), "round {round} lane {l}");
            }
        }
    }

    /// The AVX-512 kernel must give the scalar kernel's bits too (skipped on CPUs without it).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x8_matches_scalar_bit_for_bit() {
        if !biospike_runtime::simd::has_avx512() {
            eprintln!("no AVX-512 on this CPU: x8 kernel not run");
            return;
        }
        let presets = lane_presets();
        let mut next = unit_sequence();
        for round in 0..2000 {
            let p: [IzhikevichParams; 8] = core::array::from_fn(|l| presets[(round + l * 5) % presets.len()]);
            let v0: [f64; 8] = core::array::from_fn(|_| -80.0 + 115.0 * next());
            let u0: [f64; 8] = core::array::from_fn(|_| -20.0 + 25.0 * next());
            let input: [f64; 8] = core::array::from_fn(|_| -10.0 + 40.0 * next());
            let excitability: [f64; 8] = core::array::from_fn(|_| 2.0 * next());
            let (mut v, mut u) = (v0, u0);
            // SAFETY: the CPU reported AVX-512 just above.
            #[allow(unsafe_code, reason = "calling the AVX-512 kernel after the CPU reported it")]
            let fired = unsafe { x8::izhikevich_half_step_x8(&mut v, &mut u, &input, &excitability, &p, 1.0, 30.0) };
            for l in 0..8 {
                // The plugin's scalar path: the input scaled by excitability, then the step.
                let i = excitability[l] * input[l];
                let (sv, su, sf) = izhikevich_step(v0[l], u0[l], i, &p[l], 1.0, IntegrationScheme::default(), 30.0);
                let lane = (v[l].to_bits(), u[l].to_bits(), fired & (1 << l) != 0);
                assert_eq!(lane, (sv.to_bits(), su.to_bits(), sf), "round {round} lane {l}");
            }
        }
    }

    #[test]
    fn crossing_resets_to_c_and_increments_u() {
        let p = IzhikevichParams::CHATTERING;
        let (v, u, fired) = izhikevich_step(29.0, 0.0, 0.0, &p, 1.0, IntegrationScheme::default(), 30.0);
        assert!(fired);
        assert_eq!(v, -50.0);
        assert!(u > 2.0 - 1e-9);
    }
}
