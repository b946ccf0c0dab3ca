//! The scene descriptions of the Izhikevich model: the integration scheme and spike peak
//! (`integration`, `threshold_mv` at the top of a scene) and the cell classes of a population
//! (`neuron: Preset(RS)`).

use biospike_core::desc;
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::kernel::{IntegrationScheme, IzhikevichParams, RecoveryForm};
use crate::plugin::IzhikevichSettings;

/// Integration scheme of the Izhikevich neurons.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum IntegrationDesc {
    /// `v` in `v_substeps` sub-steps, then `u` once (Izhikevich 2003). Default, with 2.
    HalfStep {
        /// Sub-steps for `v`, `>= 1`.
        #[serde(deserialize_with = "desc::substeps")]
        v_substeps: u8,
    },
    /// Forward Euler, `v` then `u` per sub-step (`figure1.m`, the original project).
    Euler {
        /// Sub-steps per `dt`, `>= 1`.
        #[serde(deserialize_with = "desc::substeps")]
        substeps: u8,
    },
}

impl Default for IntegrationDesc {
    fn default() -> Self {
        match IzhikevichSettings::default().scheme {
            IntegrationScheme::HalfStep { v_substeps } => Self::HalfStep { v_substeps },
            IntegrationScheme::Euler { substeps } => Self::Euler { substeps },
        }
    }
}

impl IntegrationDesc {
    /// The plugin's settings with spike peak `threshold_mv`.
    pub fn lower(self, threshold_mv: f64) -> IzhikevichSettings {
        let scheme = match self {
            Self::HalfStep { v_substeps } => IntegrationScheme::HalfStep { v_substeps },
            Self::Euler { substeps } => IntegrationScheme::Euler { substeps },
        };
        IzhikevichSettings { scheme, threshold_mv }
    }
}

/// The recovery equation of a custom cell (`recovery:` in `Custom(...)`).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryDesc {
    /// `u' = a(bv − u)`, the model's equation. Default.
    #[default]
    Standard,
    /// `u' = a·b·(v + 65)`: the accommodation cell (R) of Izhikevich (2004), `figure1.m`.
    Accommodation,
}

impl RecoveryDesc {
    /// The kernel's form.
    pub fn lower(self) -> RecoveryForm {
        match self {
            Self::Standard => RecoveryForm::Standard,
            Self::Accommodation => RecoveryForm::Accommodation,
        }
    }
}

/// The quadratic coefficient's default, `0.04` 1/(mV·ms).
pub fn default_k2() -> f64 {
    IzhikevichParams::REGULAR_SPIKING.k2
}

/// The linear coefficient's default, `5` 1/ms.
pub fn default_k1() -> f64 {
    IzhikevichParams::REGULAR_SPIKING.k1
}

/// The constant term's default, `140` mV/ms.
pub fn default_k0() -> f64 {
    IzhikevichParams::REGULAR_SPIKING.k0
}

/// The spike peak of a scene, mV, `[-100, 200]`.
pub fn threshold_mv<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && (-100.0..=200.0).contains(&v) {
        Ok(v)
    } else {
        Err(D::Error::custom(format!("{v} is outside the allowed range [-100, 200] mV")))
    }
}

/// The default spike peak, mV (the plugin's).
pub fn default_threshold_mv() -> f64 {
    IzhikevichSettings::default().threshold_mv
}

/// The seven cell classes of Izhikevich (2003), Fig. 2.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetDesc {
    /// Regular spiking.
    RS,
    /// Intrinsically bursting.
    IB,
    /// Chattering.
    CH,
    /// Fast spiking.
    FS,
    /// Low-threshold spiking.
    LTS,
    /// Thalamo-cortical.
    TC,
    /// Resonator.
    RZ,
}

impl PresetDesc {
    /// The class's parameters.
    pub fn params(self) -> IzhikevichParams {
        match self {
            Self::RS => IzhikevichParams::REGULAR_SPIKING,
            Self::IB => IzhikevichParams::INTRINSICALLY_BURSTING,
            Self::CH => IzhikevichParams::CHATTERING,
            Self::FS => IzhikevichParams::FAST_SPIKING,
            Self::LTS => IzhikevichParams::LOW_THRESHOLD_SPIKING,
            Self::TC => IzhikevichParams::THALAMO_CORTICAL,
            Self::RZ => IzhikevichParams::RESONATOR,
        }
    }
}
