//! Loihi weight quantization of a float network: per projection (source population → target
//! population), the weights are mapped to Loihi's 8-bit Dense format with a shared exponent
//! ([`biospike_loihi::quantize_weights`]), and the error is reported. The quantized weights
//! can replace the float ones for a run (`biospike quantize SCENE --compare`).

use std::fmt;

pub use biospike_loihi::{ProjectionReport, quantize_network};

/// The report as an aligned text table.
pub struct ReportTable<'a>(pub &'a [ProjectionReport]);

impl fmt::Display for ReportTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:<10} {:>9} {:<10} {:>4} {:>4} {:>10} {:>12} {:>12} {:>8}",
            "source", "target", "synapses", "mode", "exp", "bits", "max |w|", "max |err|", "mean |err|", "zeroed"
        )?;
        for r in self.0 {
            writeln!(
                f,
                "{:<10} {:<10} {:>9} {:<10} {:>4} {:>4} {:>10.5} {:>12.3e} {:>12.3e} {:>7.3}%",
                r.source,
                r.target,
                r.synapses,
                format!("{:?}", r.mode),
                r.weight_exp,
                r.num_weight_bits,
                r.max_abs_weight,
                r.max_abs_error,
                r.mean_abs_error,
                100.0 * r.zero_fraction
            )?;
        }
        Ok(())
    }
}
