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
            Self::LogNormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
        }
    }

    /// The smallest and largest value a draw can take.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Self::Constant(x) => (x, x),
            Self::Uniform { low, high } | Self::ClippedNormal { low, high, .. } => (low, high),
            Self::LogNormal { .. } => (0.0, f64::INFINITY),
        }
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
