//! Bit-exact Loihi fixed-point arithmetic, as Intel Lava's bit-accurate CPU models compute it
//! (lava-nc 0.10.0, `PyLifModelBitAcc` and `AbstractPyDenseModelBitAcc`).
//!
//! Integer arithmetic only, in the order of the specification (`../shared/loihi/SPEC.md` of
//! the project): a current-based LIF neuron ([`lif_step`]), the weight preparation of a Dense
//! block ([`effective_weights`]) and its activation ([`dense_activation`]), and
//! [`FixedPointNetwork`], which wires sources, LIF populations and Dense blocks with Lava's
//! one-step latency. The test `tests/golden.rs` replays Lava's own traces and compares every
//! `u`, `v`, spike, Dense output and effective weight exactly.
//!
//! The kernels are pure functions. [`LoihiLifPlugin`] runs LIF populations on them inside the
//! simulation schedule (fixed-point neurons in `SimSystems::Neurons`, Dense delivery of the
//! per-projection quantized weights in `SimSystems::Propagation`), and
//! [`LoihiQuantizationPlugin`] maps a float network's weights to Loihi's format in
//! `SimSystems::Quantize` (report only, or applied).
//!
//! # Example
//! ```
//! use biospike_loihi::{LifParams, lif_step};
//! // SPEC §4.1: du = 410, dv = 205, vth = 100, bias 3·2², u = 10000, v = 5000, input 100.
//! let p = LifParams { du: 410, dv: 205, vth: 100 };
//! let (u, v, spiked) = lif_step(10_000, 5_000, 100, &p, 3, 2);
//! assert_eq!((u, v, spiked), (15_396, 0, true)); // v was 20157 > 6400: spike, reset
//! ```
//!
//! # References
//! - Intel Lava 0.10.0, `lava/proc/lif/models.py`, `lava/proc/dense/models.py`.
//! - M. Davies et al., *Loihi: a neuromorphic manycore processor with on-chip learning*,
//!   IEEE Micro 38:82 (2018).

pub mod desc;
mod plugin;

pub use desc::{LifDesc, QuantizeDesc};

pub use plugin::{
    LifBias, LifCurrent, LifSpiked, LifVoltage, LoihiDense, LoihiLifNeuron, LoihiLifPlugin, LoihiQuantizationPlugin, ProjectionReport,
    QuantizationMode, QuantizationReport, QuantizedGeneration, quantize_network,
};

/// The plugins, their components and settings.
pub mod prelude {
    pub use crate::plugin::{
        LifBias, LifCurrent, LifSpiked, LifVoltage, LoihiLifNeuron, LoihiLifPlugin, LoihiQuantizationPlugin, QuantizationMode,
        QuantizationReport,
    };
    pub use crate::{LifParams, SignMode};
}

/// 2²³: the 24-bit state bound.
const B23: i64 = 1 << 23;

/// Population constants of a LIF: current decay `du`, voltage decay `dv` (12-bit, 0..=4095)
/// and threshold mantissa `vth` (the threshold is `vth << 6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifParams {
    /// Current decay, 0..=4095 (`u` keeps `(4095 − du)/4096` per step).
    pub du: i32,
    /// Voltage decay, 0..=4095 (`v` keeps `(4096 − dv)/4096` per step).
    pub dv: i32,
    /// Threshold mantissa, 0..=131071.
    pub vth: i32,
}

/// `x / 4096` rounded toward zero (magnitude shifted, sign restored).
#[inline]
fn trunc_4096(x: i64) -> i64 {
    if x < 0 { -((-x) >> 12) } else { x >> 12 }
}

/// `bias_mant · 2^bias_exp` (arithmetic right shift, i.e. floor, for negative exponents).
#[inline]
pub fn bias(bias_mant: i32, bias_exp: i32) -> i64 {
    let m = i64::from(bias_mant);
    if bias_exp >= 0 { m << bias_exp.min(62) } else { m >> (-bias_exp).min(63) }
}

/// One LIF step: decay `u`, add `a << 6`, wrap `u` once into (−2²³, 2²³]; decay `v`, add the
/// new `u` and the bias, saturate `v` to ±(2²³ − 1); spike if `v > vth << 6`, then `v = 0`.
/// Returns `(u, v, spiked)`.
#[inline]
pub fn lif_step(u: i32, v: i32, a: i32, p: &LifParams, bias_mant: i32, bias_exp: i32) -> (i32, i32, bool) {
    let fu = 4095 - i64::from(p.du);
    let mut x = trunc_4096(i64::from(u) * fu) + (i64::from(a) << 6);
    if x > B23 {
        x -= 2 * B23;
    } else if x <= -B23 {
        x += 2 * B23;
    }
    let fv = 4096 - i64::from(p.dv);
    let y = trunc_4096(i64::from(v) * fv) + x + bias(bias_mant, bias_exp);
    let mut v = y.clamp(-(B23 - 1), B23 - 1);
    let spiked = v > (i64::from(p.vth) << 6);
    if spiked {
        v = 0;
    }
    // x and v lie in (−3·2²³, 3·2²³] and [−2²³, 2²³] here: both fit in i32.
    (x as i32, v as i32, spiked)
}

/// How a Dense block treats the sign of its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignMode {
    /// Signed 8-bit mantissa times 2: clipped to −256..=255, always loses the LSB.
    Mixed,
    /// Clipped to 0..=255.
    Excitatory,
    /// Clipped to −255..=0; magnitudes rounded toward zero.
    Inhibitory,
}

impl SignMode {
    /// Lava's auto-detection: all ≥ 0 → excitatory, all ≤ 0 → inhibitory, else mixed.
    pub fn detect(weights: &[i32]) -> Self {
        if weights.iter().all(|&w| w >= 0) {
            Self::Excitatory
        } else if weights.iter().all(|&w| w <= 0) {
            Self::Inhibitory
        } else {
            Self::Mixed
        }
    }
}

/// The weights a Dense block actually uses (SPEC §3.1): truncate toward zero, pick the sign
/// mode (explicit, or detected), clip to 8 bits, drop `8 − num_weight_bits` low bits (one more
/// for mixed). Returns the effective weights and the mode used.
pub fn effective_weights(raw: &[f64], sign_mode: Option<SignMode>, num_weight_bits: u32) -> (Vec<i32>, SignMode) {
    let cast: Vec<i32> = raw.iter().map(|&w| w.trunc() as i32).collect();
    let mode = sign_mode.unwrap_or_else(|| SignMode::detect(&cast));
    let k = 8 - num_weight_bits.clamp(1, 8) as i32 + i32::from(mode == SignMode::Mixed);
    let w = cast
        .iter()
        .map(|&w| match mode {
            SignMode::Mixed => (w.clamp(-256, 255) >> k) << k,
            SignMode::Excitatory => (w.clamp(0, 255) >> k) << k,
            SignMode::Inhibitory => -(((w.saturating_neg().clamp(0, 255)) >> k) << k),
        })
        .collect();
    (w, mode)
}

/// Dense activation (SPEC §3.2): `acc[i] = Σ_j W[i][j] · x_j` over presynaptic `j` with
/// non-zero output (`x_j = 1` for binary spikes, the payload for graded ones), then shifted once
/// by `weight_exp` (left if positive, arithmetic right otherwise). `weights` is row-major,
/// `post × pre`.
pub fn dense_activation(weights: &[i32], pre_out: &[i32], weight_exp: i32, graded: bool) -> Vec<i32> {
    let n_pre = pre_out.len();
    weights
        .chunks(n_pre.max(1))
        .map(|row| {
            let acc: i32 = row
                .iter()
                .zip(pre_out)
                .filter(|&(_, &x)| x != 0)
                .map(|(&w, &x)| if graded { w.wrapping_mul(x) } else { w })
                .fold(0i32, i32::wrapping_add);
            if weight_exp > 0 { acc.wrapping_shl(weight_exp as u32) } else { acc >> (-weight_exp).min(31) }
        })
        .collect()
}

/// A LIF population.
#[derive(Clone, Debug, PartialEq)]
pub struct LifPopulation {
    /// Constants.
    pub params: LifParams,
    /// Bias mantissa per neuron.
    pub bias_mant: Vec<i32>,
    /// Bias exponent per neuron.
    pub bias_exp: Vec<i32>,
    /// Current `u` per neuron.
    pub u: Vec<i32>,
    /// Voltage `v` per neuron.
    pub v: Vec<i32>,
    /// Spikes of the last step (0/1).
    pub s: Vec<i32>,
}

/// Where a Dense block reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pre {
    /// Source `i` of the network.
    Source(usize),
    /// LIF population `i`.
    Lif(usize),
}

/// A Dense block with its one-step output buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Presynaptic side.
    pub pre: Pre,
    /// Postsynaptic LIF population.
    pub post: usize,
    /// Effective weights, row-major `post × pre`.
    pub weights: Vec<i32>,
    /// Exponent applied to the summed activation.
    pub weight_exp: i32,
    /// Graded spikes (payload × weight) instead of binary.
    pub graded: bool,
    /// Activation computed last step, sent this step.
    pub buffer: Vec<i32>,
}

/// Sources, LIF populations and Dense blocks stepped with Lava's timing (SPEC §2): each Dense
/// sends what it computed on the previous step, every LIF integrates the sum of what it
/// receives, then each Dense computes from this step's presynaptic output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FixedPointNetwork {
    /// LIF populations.
    pub lifs: Vec<LifPopulation>,
    /// Dense blocks.
    pub denses: Vec<Dense>,
}

impl FixedPointNetwork {
    /// One step, given this step's source outputs. Returns what each Dense sent this step.
    pub fn step(&mut self, sources: &[Vec<i32>]) -> Vec<Vec<i32>> {
        let sent: Vec<Vec<i32>> = self.denses.iter().map(|d| d.buffer.clone()).collect();
        for (li, lif) in self.lifs.iter_mut().enumerate() {
            let n = lif.u.len();
            let mut input = vec![0i32; n];
            for (d, out) in self.denses.iter().zip(&sent) {
                if d.post == li {
                    for (x, &a) in input.iter_mut().zip(out) {
                        *x = x.wrapping_add(a);
                    }
                }
            }
            #[allow(clippy::needless_range_loop, reason = "five parallel per-neuron arrays")]
            for i in 0..n {
                let (u, v, s) = lif_step(lif.u[i], lif.v[i], input[i], &lif.params, lif.bias_mant[i], lif.bias_exp[i]);
                lif.u[i] = u;
                lif.v[i] = v;
                lif.s[i] = i32::from(s);
            }
        }
        for d in &mut self.denses {
            let pre: &[i32] = match d.pre {
                Pre::Source(i) => sources.get(i).map_or(&[], |s| s.as_slice()),
                Pre::Lif(i) => self.lifs.get(i).map_or(&[], |l| l.s.as_slice()),
            };
            d.buffer = dense_activation(&d.weights, pre, d.weight_exp, d.graded);
        }
        sent
    }
}

/// A float projection's weights in Loihi's Dense format (see [`quantize_weights`]).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedWeights {
    /// Sign mode detected from the float weights.
    pub mode: SignMode,
    /// Exponent applied to the summed activation.
    pub weight_exp: i32,
    /// Weight bits kept.
    pub num_weight_bits: u32,
    /// Effective 8-bit-scaled integer weights, as the Dense uses them.
    pub effective: Vec<i32>,
    /// The float weights they stand for: `effective · 2^weight_exp`.
    pub dequantized: Vec<f64>,
}

/// Maps float weights to Loihi's format the way Lava's `optimize_weight_bits` scales them
/// (SPEC §7): the sign mode from the signs; the largest power-of-two scale that fits 8 bits
/// (`255/max` excitatory, `255/|min|` inhibitory, `min(127/max, 128/|min|)` mixed, one more
/// doubling for mixed, whose mantissas are stored times 2); scaled weights truncated toward
/// zero as Lava's Dense casts them; then [`effective_weights`] with `num_weight_bits`.
pub fn quantize_weights(weights: &[f64], num_weight_bits: u32) -> QuantizedWeights {
    let max = weights.iter().copied().fold(0.0f64, f64::max);
    let min = weights.iter().copied().fold(0.0f64, f64::min);
    quantize_weights_in(weights, num_weight_bits, (min, max))
}

/// [`quantize_weights`] of part of a projection whose weights all lie in `(min, max)` (with
/// 0 inside): the shared exponent and the sign mode come from the whole projection's range, so
/// the parts held by different ranks quantize as the whole would.
pub fn quantize_weights_in(weights: &[f64], num_weight_bits: u32, (min, max): (f64, f64)) -> QuantizedWeights {
    let (min, max) = (min.min(0.0), max.max(0.0));
    let mode = if min >= 0.0 {
        SignMode::Excitatory
    } else if max <= 0.0 {
        SignMode::Inhibitory
    } else {
        SignMode::Mixed
    };
    let scale = match mode {
        SignMode::Excitatory => 255.0 / max,
        SignMode::Inhibitory => -255.0 / min,
        SignMode::Mixed => (127.0 / max).min(-128.0 / min),
    };
    let shift = if scale.is_finite() && scale > 0.0 {
        scale.log2().floor() as i32 + i32::from(mode == SignMode::Mixed)
    } else {
        0 // all-zero projection
    };
    let scaled: Vec<f64> = weights.iter().map(|&w| w * 2f64.powi(shift)).collect();
    let (effective, mode) = effective_weights(&scaled, Some(mode), num_weight_bits);
    let weight_exp = -shift;
    let dequantized = effective.iter().map(|&m| f64::from(m) * 2f64.powi(weight_exp)).collect();
    QuantizedWeights { mode, weight_exp, num_weight_bits: num_weight_bits.clamp(1, 8), effective, dequantized }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC §3.3 examples (run in Lava).
    #[test]
    fn weight_examples_from_the_spec() {
        assert_eq!(effective_weights(&[3.0, -3.0, 255.0, -256.0], None, 8), (vec![2, -4, 254, -256], SignMode::Mixed));
        assert_eq!(effective_weights(&[-7.0, -1.0, -255.0], None, 6), (vec![-4, 0, -252], SignMode::Inhibitory));
        assert_eq!(effective_weights(&[-7.0, 1.0, 300.0], None, 6).0, vec![-8, 0, 248]);
        assert_eq!(effective_weights(&[-7.0, 1.0, 300.0], Some(SignMode::Excitatory), 6).0, vec![0, 0, 252]);
        assert_eq!(effective_weights(&[10.7, -10.7], Some(SignMode::Mixed), 8).0, vec![10, -10]);
        assert_eq!(dense_activation(&[2, -4, 254, -256], &[1, 1, 0, 1], -2, false), vec![-65]);
    }

    /// SPEC §7 examples run in Lava: [10, −20, 30, 5] mixed → [80, −160, 240, 40], exp −3;
    /// [1, 2, 3] excitatory → [64, 128, 192], exp −6. (Mixed weights then lose their LSB in
    /// the Dense, which keeps even values: these are already even.)
    #[test]
    fn quantization_examples_from_the_spec() {
        let q = quantize_weights(&[10.0, -20.0, 30.0, 5.0], 8);
        assert_eq!((q.mode, q.weight_exp, q.effective.clone()), (SignMode::Mixed, -3, vec![80, -160, 240, 40]));
        assert_eq!(q.dequantized, vec![10.0, -20.0, 30.0, 5.0]);
        let q = quantize_weights(&[1.0, 2.0, 3.0], 8);
        assert_eq!((q.mode, q.weight_exp, q.effective), (SignMode::Excitatory, -6, vec![64, 128, 192]));
        let q = quantize_weights(&[-0.3, -1.0], 8);
        assert_eq!((q.mode, q.weight_exp), (SignMode::Inhibitory, -7));
        assert_eq!(q.effective, vec![-38, -128]); // −0.3·128 = −38.4 → −38 (toward zero)
    }

    /// SPEC §4.2 wrap and §4 rounding-toward-zero examples.
    #[test]
    fn wrap_and_rounding_examples_from_the_spec() {
        let p = LifParams { du: 0, dv: 0, vth: 131_071 };
        assert_eq!(lif_step(8_000_000, 0, 15_625, &p, 0, 0).0, -7_779_170);
        let p = LifParams { du: 2047, dv: 0, vth: 131_071 };
        assert_eq!(lif_step(-5, 0, 0, &p, 0, 0).0, -2);
        assert_eq!(bias(-4096, 7), -524_288);
        assert_eq!(bias(-5, -1), -3);
        assert_eq!(bias(5, -1), 2);
    }
}
