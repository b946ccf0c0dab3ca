//! Shared pieces of the scene descriptions: range-checked field readers and the distributions
//! of synaptic parameters.
//!
//! Each plugin crate owns the description of its part of a scene (a serde type with units in the
//! field names) and lowers it to its settings; `biospike`'s scene loader composes them. The
//! readers below check a single field's range while it is parsed, so that an out-of-range value
//! is reported at its own line and column with the allowed range, e.g.
//! `#[serde(deserialize_with = "biospike_core::desc::positive")]`.

use serde::{Deserialize, Deserializer, de::Error as _};

use crate::rng::KeyedRng;

macro_rules! checked {
    ($(#[$m:meta])* $name:ident: $t:ty, |$v:ident| $ok:expr, $allowed:expr) => {
        $(#[$m])*
        pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
            let $v = <$t>::deserialize(d)?;
            if $ok { Ok($v) } else { Err(D::Error::custom(format!("{} is outside the allowed range {}", $v, $allowed))) }
        }
    };
}

checked!(
    /// A finite number `> 0`.
    positive: f64, |v| v.is_finite() && v > 0.0, "(0, ∞)");
checked!(
    /// A finite number `>= 0`.
    non_negative: f64, |v| v.is_finite() && v >= 0.0, "[0, ∞)");
checked!(
    /// Any finite number.
    finite: f64, |v| v.is_finite(), "finite numbers");
checked!(
    /// A step size in ms, `[0.0001, 100]`.
    step_ms: f64, |v| (1e-4..=100.0).contains(&v), "[0.0001, 100] ms");
checked!(
    /// A probability, `[0, 1]`.
    probability: f64, |v| (0.0..=1.0).contains(&v), "[0, 1]");
checked!(
    /// A count `>= 1` (32 bit).
    at_least_one: u32, |v| v >= 1, "1..=4294967295");
checked!(
    /// A count `>= 1` (64 bit).
    at_least_one_u64: u64, |v| v >= 1, "1..");
checked!(
    /// Sub-steps per step, `1..=255`.
    substeps: u8, |v| v >= 1, "1..=255");

/// An optional finite number.
pub fn opt_finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !x.is_finite() => Err(D::Error::custom(format!("{x} is outside the allowed range finite numbers"))),
        _ => Ok(v),
    }
}

/// An optional finite number `>= 0`.
pub fn opt_non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !(x.is_finite() && x >= 0.0) => Err(D::Error::custom(format!("{x} is outside the allowed range [0, ∞)"))),
        _ => Ok(v),
    }
}

/// An optional finite number `> 0`.
pub fn opt_positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<f64>::deserialize(d)?;
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(D::Error::custom(format!("{x} is outside the allowed range (0, ∞)"))),
        _ => Ok(v),
    }
}

/// A range `(low, high)` of finite numbers with `low <= high` and a finite width.
pub fn range<'de, D: Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
    let (lo, hi) = <(f64, f64)>::deserialize(d)?;
    check_range(lo, hi).map_err(D::Error::custom)
}

/// An optional [`range`].
pub fn opt_range<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(f64, f64)>, D::Error> {
    match Option::<(f64, f64)>::deserialize(d)? {
        Some((lo, hi)) => check_range(lo, hi).map(Some).map_err(D::Error::custom),
        None => Ok(None),
    }
}

fn check_range(lo: f64, hi: f64) -> Result<(f64, f64), String> {
    if lo.is_finite() && hi.is_finite() && lo <= hi && (hi - lo).is_finite() {
        Ok((lo, hi))
    } else {
        Err(format!("({lo}, {hi}) is outside the allowed range: finite numbers, low <= high, high - low finite"))
    }
}

/// `true`, for `#[serde(default = ...)]`.
pub fn yes() -> bool {
    true
}

/// `1`, for `#[serde(default = ...)]`.
pub fn one_u64() -> u64 {
    1
}

/// A distribution of a non-negative quantity (weight magnitudes, delays in ms).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum DistDesc {
    /// Always `x`.
    Constant(#[serde(deserialize_with = "non_negative")] f64),
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower end, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        low: f64,
        /// Upper end, `>= low`.
        #[serde(deserialize_with = "non_negative")]
        high: f64,
    },
    /// Normal, clipped to `[low, high]`.
    ClippedNormal {
        /// Mean.
        #[serde(deserialize_with = "finite")]
        mean: f64,
        /// Standard deviation, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        std: f64,
        /// Lower clip, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        low: f64,
        /// Upper clip, `>= low`.
        #[serde(deserialize_with = "non_negative")]
        high: f64,
    },
    /// Normal, drawn again until it falls in `[low, high]` (NEST's
    /// `nest.math.redraw(nest.random.normal(mean, std), min, max)`): the normal distribution
    /// truncated to the interval, with no mass piled at the ends as `ClippedNormal` has. The
    /// interval must lie within 5 standard deviations of the mean (at least one draw in
    /// 3.5 million lands in it); after 10 000 draws outside it, the draw is clipped.
    TruncatedNormal {
        /// Mean of the untruncated normal.
        #[serde(deserialize_with = "finite")]
        mean: f64,
        /// Its standard deviation, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        std: f64,
        /// Lower end, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        low: f64,
        /// Upper end, `>= low`.
        #[serde(deserialize_with = "non_negative")]
        high: f64,
    },
    /// Log-normal: `exp(mu + sigma · N(0, 1))` (NEST's `lognormal`; unbounded, so weights
    /// only).
    LogNormal {
        /// Mean of the logarithm.
        #[serde(deserialize_with = "finite")]
        mu: f64,
        /// Standard deviation of the logarithm, `>= 0`.
        #[serde(deserialize_with = "non_negative")]
        sigma: f64,
    },
}

/// A distribution of whole steps (integer-step delays), inclusive.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum StepsDesc {
    /// Always `n` steps.
    Constant(u16),
    /// Uniform over `low..=high` steps, each value equally likely.
    Uniform {
        /// Fewest steps.
        low: u16,
        /// Most steps, `>= low`.
        high: u16,
    },
}

impl StepsDesc {
    /// One draw.
    pub fn sample(self, rng: &mut KeyedRng) -> u16 {
        match self {
            Self::Constant(n) => n,
            Self::Uniform { low, high } => low + rng.below(u64::from(high.saturating_sub(low)) + 1) as u16,
        }
    }

    /// The fewest and most steps a draw can take.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            Self::Constant(n) => (n, n),
            Self::Uniform { low, high } => (low, high),
        }
    }
}

impl DistDesc {
    /// One draw.
    pub fn sample(self, rng: &mut KeyedRng) -> f64 {
        match self {
            Self::Constant(x) => x,
            Self::Uniform { low, high } => low + (high - low) * rng.uniform(),
            Self::ClippedNormal { mean, std, low, high } => (mean + std * rng.normal()).clamp(low, high),
            Self::TruncatedNormal { mean, std, low, high } => {
                for _ in 0..10_000 {
                    let x = mean + std * rng.normal();
                    if (low..=high).contains(&x) {
                        return x;
                    }
                }
                mean.clamp(low, high)
            }
            Self::LogNormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
        }
    }

    /// The smallest and largest value a draw can take.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Self::Constant(x) => (x, x),
            Self::Uniform { low, high } | Self::ClippedNormal { low, high, .. } | Self::TruncatedNormal { low, high, .. } => (low, high),
            Self::LogNormal { .. } => (0.0, f64::INFINITY),
        }
    }

    /// Why the distribution cannot be drawn from, if it cannot: an interval above its upper
    /// end, or a `TruncatedNormal` whose interval lies more than 5 standard deviations from
    /// the mean (redrawing would almost never end).
    pub fn check(self) -> Result<(), String> {
        let (low, high) = self.bounds();
        if low > high {
            return Err("low must be <= high".into());
        }
        if let Self::TruncatedNormal { mean, std, low, high } = self {
            let far = |x: f64| {
                if std > 0.0 {
                    (x - mean).abs() / std
                } else if x == mean {
                    0.0
                } else {
                    f64::INFINITY
                }
            };
            let inside = (low..=high).contains(&mean);
            if !inside && far(low).min(far(high)) > 5.0 {
                return Err(format!(
                    "[{low}, {high}] lies more than 5 standard deviations from the mean {mean} (std {std}); allowed: an interval a draw can reach"
                ));
            }
        }
        Ok(())
    }
}

/// A relation between fields of a description that does not hold, found by a crate's `check`
/// after parsing; the scene loader locates `key` in the text and reports
/// `file:line:column: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescError {
    /// Path of the field below the description's own place in the scene (`"w_max"`,
    /// `"releases[2].at_ms"`).
    pub field: String,
    /// The key to point at in the text (`"w_max"`).
    pub key: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl DescError {
    /// An error on `field`, located at `key`.
    pub fn new(field: impl Into<String>, key: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), key, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::DistDesc;
    use crate::rng::{KeyedRng, StreamPurpose};

    /// A normal redrawn outside `[low, high]` stays inside and has the truncated normal's mean:
    /// N(1, 1) on [0.5, 10] has mean 1 + φ(0.5) / (1 − Φ(−0.5)) = 1.509 17 (φ(0.5) = 0.352 065,
    /// Φ(−0.5) = 0.308 538), where clipping gives 1 + 0.5·Φ(−0.5) + … ≈ 1.198 at the low end.
    #[test]
    fn truncated_normal_redraws_and_has_the_truncated_mean() {
        let d = DistDesc::TruncatedNormal { mean: 1.0, std: 1.0, low: 0.5, high: 10.0 };
        let mut rng = KeyedRng::new(7, StreamPurpose::Topology, 0, 0);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        assert!(draws.iter().all(|x| (0.5..=10.0).contains(x)));
        let mean = draws.iter().sum::<f64>() / f64::from(n);
        let expected = 1.0 + 0.352_065_326_764_3 / (1.0 - 0.308_537_538_725_987);
        // The truncated distribution's sd is < 1, so 5 standard errors are < 0.012.
        assert!((mean - expected).abs() < 0.012, "{mean} vs {expected}");
        // No mass piles up at the lower end, as clipping would put 31 % there.
        assert_eq!(draws.iter().filter(|&&x| x == 0.5).count(), 0);
    }

    #[test]
    fn a_truncated_normal_out_of_reach_is_refused() {
        assert!(DistDesc::TruncatedNormal { mean: 1.0, std: 0.1, low: 2.0, high: 3.0 }.check().is_err());
        assert!(DistDesc::TruncatedNormal { mean: 1.0, std: 0.1, low: 1.4, high: 3.0 }.check().is_ok());
        assert!(DistDesc::TruncatedNormal { mean: 1.0, std: 0.0, low: 0.0, high: 3.0 }.check().is_ok());
        assert!(DistDesc::TruncatedNormal { mean: 1.0, std: 0.1, low: 3.0, high: 2.0 }.check().is_err());
    }
}
