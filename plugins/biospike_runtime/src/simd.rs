//! Hot kernels compiled twice: for the x86-64 baseline (SSE2) and for AVX2 (and, for 64-bit
//! integer work, a third time for AVX-512), picked at run time by what the CPU reports.
//!
//! The release binary targets the x86-64 baseline, so that it runs on any x86-64 machine; the
//! column kernels (Izhikevich lanes, the noise draws, delivery's slice adds) then use only
//! 2-wide `f64` vectors. [`avx2_kernel!`](crate::avx2_kernel!) wraps such a kernel in a function that calls an
//! AVX2 copy of it when [`has_avx2`] is true. Both copies perform the same IEEE operations in
//! the same order (Rust never fuses a multiply and an add on its own, and FMA is not
//! enabled), so the results are bit-identical whichever copy runs; the tests of every kernel
//! that uses it compare against the scalar code.
//!
//! [`avx512_kernel!`](crate::avx512_kernel!) adds an AVX-512 copy (F, DQ, VL) in front, for kernels dominated by
//! 64-bit integer multiplies (the keyed noise hash), which AVX2 cannot vectorise and AVX-512DQ
//! does in one instruction per 8 lanes, and for delivery's widening slice add. Other floating-point
//! kernels stay on [`avx2_kernel!`](crate::avx2_kernel!): the compiler's AVX-512 copies of them were
//! measured slower; where AVX-512 pays (the Izhikevich update, the Gaussian draws) the kernel is
//! written with intrinsics instead (`docs/architecture.md`).
//!
//! # Example
//! ```
//! #[inline(always)]
//! fn scale(v: &mut [f64], k: f64) {
//!     for x in v {
//!         *x *= k;
//!     }
//! }
//! biospike_runtime::avx2_kernel!(
//!     /// `scale`, on AVX2 where the CPU has it.
//!     fn scale_fast(v: &mut [f64], k: f64) = scale;
//! );
//! let mut v = vec![1.5; 100];
//! scale_fast(&mut v, 2.0);
//! assert!(v.iter().all(|&x| x == 3.0));
//! ```

/// Whether this CPU runs AVX2 code (std caches the CPUID answer after the first call).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU runs AVX-512 F, DQ and VL code.
#[inline]
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`avx2_kernel!`](crate::avx2_kernel!) with an AVX-512 (F, DQ, VL) copy tried first, when
/// [`has_avx512`](crate::simd::has_avx512) is true.
#[macro_export]
macro_rules! avx512_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $(<$($lt:lifetime),+>)? ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? = $kernel:path;) => {
        $crate::__kernel_copy!(
            "avx512f,avx512dq,avx512vl,avx2",
            $crate::simd::has_avx512(),
            [$(#[$meta])* $vis fn $name $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)?],
            $kernel,
            {
                $crate::avx2_kernel!(fn fallback $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)? = $kernel;);
                fallback
            }
        );
    };
}

/// Defines `fn NAME(args) -> R` that runs the `#[inline(always)]` function `KERNEL(args)`,
/// compiled with AVX2 enabled when [`has_avx2`](crate::simd::has_avx2) is true and for the
/// baseline otherwise. Lifetimes may be named in angle brackets; type parameters are not
/// supported.
#[macro_export]
macro_rules! avx2_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $(<$($lt:lifetime),+>)? ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? = $kernel:path;) => {
        $crate::__kernel_copy!(
            "avx2",
            $crate::simd::has_avx2(),
            [$(#[$meta])* $vis fn $name $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)?],
            $kernel,
            $kernel
        );
    };
}

/// The body shared by [`avx2_kernel!`](crate::avx2_kernel!) and [`avx512_kernel!`](crate::avx512_kernel!): the function, which calls a copy
/// of the kernel compiled with the target features `FEATURES` when `DETECTED` is true and
/// `FALLBACK` (a function expression) otherwise.
#[doc(hidden)]
#[macro_export]
macro_rules! __kernel_copy {
    ($features:literal, $detected:expr, [$(#[$meta:meta])* $vis:vis fn $name:ident $(<$($lt:lifetime),+>)? ($($arg:ident : $ty:ty),*) $(-> $ret:ty)?], $kernel:path, $fallback:expr) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = $features)]
                fn with_features $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                if $detected {
                    // SAFETY: `with_features` only requires the instructions of `$features`,
                    // and the CPU reported them just above (AVX-512 F implies AVX2).
                    #[allow(unsafe_code, reason = "calling a copy compiled for CPU features after the CPU reported them")]
                    return unsafe { with_features($($arg),*) };
                }
            }
            ($fallback)($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    #[inline(always)]
    fn widen_add(dst: &mut [f64], w: &[f32]) {
        for (x, &w) in dst.iter_mut().zip(w) {
            *x += f64::from(w);
        }
    }
    crate::avx2_kernel!(fn widen_add_fast(dst: &mut [f64], w: &[f32]) = widen_add;);

    #[inline(always)]
    fn hash_all(out: &mut [u64], k: u64) {
        for (i, x) in out.iter_mut().enumerate() {
            *x = (i as u64 ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        }
    }
    crate::avx512_kernel!(fn hash_all_fast(out: &mut [u64], k: u64) = hash_all;);

    /// The three-tier dispatch gives the plain loop's results too.
    #[test]
    fn avx512_dispatch_matches_the_plain_loop() {
        let (mut a, mut b) = (vec![0u64; 1003], vec![0u64; 1003]);
        hash_all_fast(&mut a, 77);
        hash_all(&mut b, 77);
        assert_eq!(a, b);
    }

    /// Both copies give the same bits (whichever one this CPU picks) as the plain loop.
    #[test]
    fn dispatched_kernel_matches_the_plain_loop() {
        let w: Vec<f32> = (0..1001).map(|k| (k as f32 * 0.37).sin()).collect();
        let mut a: Vec<f64> = (0..1001).map(|k| (k as f64).sqrt()).collect();
        let mut b = a.clone();
        widen_add_fast(&mut a, &w);
        for (x, &w) in b.iter_mut().zip(&w) {
            *x += f64::from(w);
        }
        assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    }
}
