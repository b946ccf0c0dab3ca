use bevy_ecs::prelude::*;
use core::fmt;

/// Which state variable tripped the guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVariable {
    /// [`crate::MembranePotential`].
    MembranePotential,
    /// [`crate::RecoveryVariable`].
    RecoveryVariable,
    /// [`crate::InputCurrent`].
    InputCurrent,
}

impl fmt::Display for StateVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MembranePotential => "membrane potential v (mV)",
            Self::RecoveryVariable => "recovery variable u",
            Self::InputCurrent => "input current I",
        })
    }
}

/// Why the run stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum HaltReason {
    /// A state variable became NaN or infinite.
    NonFinite {
        /// The variable.
        variable: StateVariable,
        /// Its value.
        value: f64,
    },
    /// A state variable left the allowed band of [`GuardSettings`].
    Runaway {
        /// The variable.
        variable: StateVariable,
        /// Its value.
        value: f64,
        /// The bound it crossed (absolute value).
        limit: f64,
    },
}

impl fmt::Display for HaltReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFinite { variable, value } => write!(f, "{variable} became {value}"),
            Self::Runaway { variable, value, limit } => {
                write!(f, "{variable} = {value} ran away (|value| > {limit})")
            }
        }
    }
}

/// Whether the simulation may go on. Set by the guard in [`crate::SimSystems::Detect`]
/// (`Halted`), or by any system that ends the run on a condition of its own
/// ([`SimStatus::stop`]). Drivers finish the current step and stop when it is not `Running`;
/// after a halt they also write a snapshot of the state.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub enum SimStatus {
    /// Everything finite and in range.
    #[default]
    Running,
    /// The first failure seen: the run must stop.
    Halted {
        /// Step at which the failure was seen.
        step: u64,
        /// The neuron concerned.
        neuron: u32,
        /// What went wrong.
        reason: HaltReason,
    },
    /// A system asked to stop (a stop condition met): the run ends normally after this step.
    Stopped {
        /// Step during which the stop was asked for.
        step: u64,
        /// Why, in the words of the system that asked.
        reason: String,
    },
}

impl SimStatus {
    /// `true` while running.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running)
    }

    /// Asks the driver to stop after the current step (a user's stop condition); keeps an
    /// earlier halt or stop.
    ///
    /// ```
    /// use bevy_ecs::prelude::*;
    /// use biospike_core::prelude::*;
    ///
    /// // Stop as soon as 100 spikes were seen.
    /// fn stop_after_100(spikes: Res<StepSpikes>, clock: Res<SimClock>, mut seen: Local<usize>, mut status: ResMut<SimStatus>) {
    ///     *seen += spikes.ids.len();
    ///     if *seen >= 100 {
    ///         status.stop(clock.step(), "100 spikes");
    ///     }
    /// }
    /// # let _ = stop_after_100;
    /// ```
    pub fn stop(&mut self, step: u64, reason: impl Into<String>) {
        if self.is_running() {
            *self = Self::Stopped { step, reason: reason.into() };
        }
    }
}

impl fmt::Display for SimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Running => f.write_str("running"),
            Self::Halted { step, neuron, reason } => {
                write!(f, "halted at step {step}: neuron {neuron}: {reason}")
            }
            Self::Stopped { step, reason } => write!(f, "stopped at step {step}: {reason}"),
        }
    }
}

/// Bounds of the always-on numerical guard.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct GuardSettings {
    /// Largest allowed |v| after a step, in mV. Must be `> 0`. Default: `1000.0`
    /// (after the reset every Izhikevich neuron is below its 30 mV peak, so anything past
    /// ±1 V is a blow-up).
    pub max_abs_voltage_mv: f64,
    /// Largest allowed |u|. Must be `> 0`. Default: `1.0e6`.
    pub max_abs_recovery: f64,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self { max_abs_voltage_mv: 1000.0, max_abs_recovery: 1.0e6 }
    }
}

impl GuardSettings {
    /// `true` when [`check`](Self::check) finds nothing: one branch-free comparison chain
    /// (NaN fails every `<=`), the per-step fast path.
    #[inline(always)]
    pub fn is_ok(&self, v: f64, u: f64, i: f64) -> bool {
        (v.abs() <= self.max_abs_voltage_mv) & (u.abs() <= self.max_abs_recovery) & (i.abs() <= f64::MAX)
    }

    /// The first problem with these values, if any.
    pub fn check(&self, v: f64, u: f64, i: f64) -> Option<HaltReason> {
        use StateVariable as S;
        for (variable, value) in [(S::InputCurrent, i), (S::MembranePotential, v), (S::RecoveryVariable, u)] {
            if !value.is_finite() {
                return Some(HaltReason::NonFinite { variable, value });
            }
        }
        if v.abs() > self.max_abs_voltage_mv {
            return Some(HaltReason::Runaway { variable: S::MembranePotential, value: v, limit: self.max_abs_voltage_mv });
        }
        if u.abs() > self.max_abs_recovery {
            return Some(HaltReason::Runaway { variable: S::RecoveryVariable, value: u, limit: self.max_abs_recovery });
        }
        None
    }
}
