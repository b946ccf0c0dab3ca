//! Hot kernels compiled twice: for the x86-64 baseline (SSE2) and for AVX2, picked at run
//! time by what the CPU reports.
//!
//! The release binary targets the x86-64 baseline, so that it runs on any x86-64 machine; the
//! column kernels (Izhikevich lanes, the noise draws, delivery's slice adds) then use only
//! 2-wide `f64` vectors. [`avx2_kernel!`] wraps such a kernel in a function that calls an
//! AVX2 copy of it when [`has_avx2`] is true. Both copies perform the same IEEE operations in
//! the same order (Rust never fuses a multiply and an add on its own, and FMA is not
//! enabled), so the results are bit-identical whichever copy runs; the tests of every kernel
//! that uses it compare against the scalar code.
//!
//! # Example
//! ```
//! #[inline(always)]
//! fn scale(v: &mut [f64], k: f64) {
//!     for x in v {
//!         *x *= k;
//!     }
//! }
//! biospike_core::avx2_kernel!(
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

/// Defines `fn NAME(args) -> R` that runs the `#[inline(always)]` function `KERNEL(args)`,
/// compiled with AVX2 enabled when [`has_avx2`](crate::simd::has_avx2) is true and for the
/// baseline otherwise. Lifetimes may be named in angle brackets; type parameters are not
/// supported.
#[macro_export]
macro_rules! avx2_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $(<$($lt:lifetime),+>)? ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? = $kernel:path;) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn with_avx2 $(<$($lt),+>)? ($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                if $crate::simd::has_avx2() {
                    // SAFETY: `with_avx2` only requires the AVX2 instructions, and the CPU
                    // reported them just above.
                    #[allow(unsafe_code, reason = "calling the AVX2 copy after the CPU reported AVX2")]
                    return unsafe { with_avx2($($arg),*) };
                }
            }
            $kernel($($arg),*)
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
