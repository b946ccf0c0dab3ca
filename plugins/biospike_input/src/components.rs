use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;
use biospike_core::{StimulusCurrent, TakesStimulusCurrent};
use serde::Deserialize;

/// Gives a neuron whose model takes generator currents apart ([`TakesStimulusCurrent`]) and
/// that has a generator its [`StimulusCurrent`] (hook of every generator component, and of the
/// marker, registered by the input plugin).
pub(crate) fn ensure_stimulus_current(world: &mut DeferredWorld, entity: Entity) {
    let Ok(e) = world.get_entity(entity) else { return };
    let generator = e.contains::<NoiseCurrent>()
        || e.contains::<UniformNoiseCurrent>()
        || e.contains::<DcCurrent>()
        || e.contains::<CurrentStimulus>()
        || e.contains::<SineCurrent>();
    if generator && e.contains::<TakesStimulusCurrent>() && !e.contains::<StimulusCurrent>() {
        world.commands().entity(entity).insert(StimulusCurrent::default());
    }
}

fn on_generator(mut world: DeferredWorld, ctx: HookContext) {
    ensure_stimulus_current(&mut world, ctx.entity);
}

/// Gaussian ("thalamic") current drawn independently every step: `mean + std · ξ`.
/// Units: the model's current units. `std >= 0`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
#[component(on_add = on_generator)]
pub struct NoiseCurrent {
    /// Mean current.
    pub mean: f64,
    /// Standard deviation per step.
    pub std: f64,
}

/// Uniform current drawn independently every step from `[low, high)` (Izhikevich 2007's
/// `13·(rand − 0.5)` is `low = −6.5, high = 6.5`).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
#[component(on_add = on_generator)]
pub struct UniformNoiseCurrent {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// A constant current. Default: `0.0`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
#[component(on_add = on_generator)]
pub struct DcCurrent(pub f64);

/// A Poisson spike train into one neuron: each step adds `weight · k`, `k ~ Poisson(rate · dt)`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq)]
pub struct PoissonInput {
    /// Rate of the train, in Hz. `>= 0`.
    pub rate_hz: f64,
    /// Current added per input spike.
    pub weight: f64,
}

/// A piecewise-constant rate for a neuron's [`PoissonInput`] (NEST's
/// `inhomogeneous_poisson_generator`): `(first step, rate in Hz)` pairs, ascending, the first at
/// step 0. From each listed step on, the train's rate is the listed one. With a period (in
/// steps, longer than the last listed step) the schedule repeats: step `k` takes the rate of
/// step `k mod period`. Shared (one allocation per population).
#[derive(Component, Clone, Debug, PartialEq)]
pub struct PoissonRateSchedule {
    /// `(first step, rate in Hz)`, ascending from step 0.
    pub changes: std::sync::Arc<[(u64, f64)]>,
    /// The schedule repeats every this many steps (`> 0`). `None`: it does not repeat.
    pub period_steps: Option<u64>,
}

impl PoissonRateSchedule {
    /// The rate in `step`.
    pub fn rate_at(&self, step: u64) -> f64 {
        let step = self.period_steps.map_or(step, |p| step % p.max(1));
        let k = self.changes.partition_point(|&(s, _)| s <= step);
        self.changes.get(k.saturating_sub(1)).map_or(0.0, |&(_, r)| r)
    }
}

/// One end of a stimulus interval, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub enum Bound {
    /// No bound on this side.
    Unbounded,
    /// Exclusive: `t > x` (start) or `t < x` (end).
    Open(f64),
    /// Inclusive: `t >= x` (start) or `t <= x` (end).
    Closed(f64),
}

impl Bound {
    fn value(self) -> Option<f64> {
        match self {
            Self::Unbounded => None,
            Self::Open(x) | Self::Closed(x) => Some(x),
        }
    }
}

/// While `start < t < end` (bounds as given), the stimulus is
/// `value + slope_per_ms · (t − origin)`, where `origin` is the start bound (0 if unbounded).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StimulusSegment {
    /// Where the segment starts.
    pub start: Bound,
    /// Where it ends.
    pub end: Bound,
    /// Current at the origin.
    pub value: f64,
    /// Slope, current units per ms. Default: `0.0` (a pulse).
    #[serde(default)]
    pub slope_per_ms: f64,
}

impl StimulusSegment {
    /// A rectangular pulse of `value` between `start` and `end`.
    pub fn pulse(start: Bound, end: Bound, value: f64) -> Self {
        Self { start, end, value, slope_per_ms: 0.0 }
    }

    /// A ramp `value + slope · (t − start)` between `start` and `end`.
    pub fn ramp(start: Bound, end: Bound, value: f64, slope_per_ms: f64) -> Self {
        Self { start, end, value, slope_per_ms }
    }

    /// Whether `t` lies inside the segment.
    pub fn contains(&self, t: f64) -> bool {
        let after = match self.start {
            Bound::Unbounded => true,
            Bound::Open(x) => t > x,
            Bound::Closed(x) => t >= x,
        };
        let before = match self.end {
            Bound::Unbounded => true,
            Bound::Open(x) => t < x,
            Bound::Closed(x) => t <= x,
        };
        after && before
    }

    /// Value at `t` (whether or not `t` is inside).
    pub fn value_at(&self, t: f64) -> f64 {
        if self.slope_per_ms == 0.0 { self.value } else { self.value + self.slope_per_ms * (t - self.start.value().unwrap_or(0.0)) }
    }
}

/// A piecewise current: at time `t` the value of the **last** segment containing `t`, or
/// `baseline` if none does. Expresses steps, pulses, ramps and "x, except y between …". With
/// `every_ms` the pattern repeats (segments are then times within one period), and from
/// `until_ms` on the current is 0 (NEST's `stop`).
#[derive(Component, Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[component(on_add = on_generator)]
pub struct CurrentStimulus {
    /// Value outside every segment. Default: `0.0`.
    #[serde(default)]
    pub baseline: f64,
    /// Segments; later ones win where they overlap.
    #[serde(default)]
    pub segments: Vec<StimulusSegment>,
    /// Repeat every this many ms, `> 0`: at time `t` the stimulus has its value at
    /// `t − every_ms · ⌊t / every_ms⌋`. Default: no repetition.
    #[serde(default, deserialize_with = "biospike_core::desc::opt_positive")]
    pub every_ms: Option<f64>,
    /// From this time on (ms, `>= 0`) the current is 0. Default: never.
    #[serde(default, deserialize_with = "biospike_core::desc::opt_non_negative")]
    pub until_ms: Option<f64>,
}

impl CurrentStimulus {
    /// A stimulus that is `baseline` everywhere.
    pub fn new(baseline: f64) -> Self {
        Self { baseline, segments: Vec::new(), every_ms: None, until_ms: None }
    }

    /// The pattern repeats every `every_ms` ms (its segments are times within one period).
    pub fn every(mut self, every_ms: f64) -> Self {
        self.every_ms = Some(every_ms);
        self
    }

    /// The current is 0 from `until_ms` on.
    pub fn until(mut self, until_ms: f64) -> Self {
        self.until_ms = Some(until_ms);
        self
    }

    /// Adds a segment (it wins over earlier ones).
    pub fn with(mut self, segment: StimulusSegment) -> Self {
        self.segments.push(segment);
        self
    }

    /// The current at time `t` (ms).
    pub fn value_at(&self, t: f64) -> f64 {
        if self.until_ms.is_some_and(|u| t >= u) {
            return 0.0;
        }
        let t = self.every_ms.map_or(t, |p| t - p * (t / p).floor());
        self.segments.iter().rev().find(|s| s.contains(t)).map_or(self.baseline, |s| s.value_at(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protocol H of Izhikevich (2004): −0.5 + 0.015(t − 30) for t > 30, else −0.5.
    #[test]
    fn ramp_with_baseline() {
        let s = CurrentStimulus::new(-0.5).with(StimulusSegment::ramp(Bound::Open(30.0), Bound::Unbounded, -0.5, 0.015));
        assert_eq!(s.value_at(30.0), -0.5);
        assert_eq!(s.value_at(130.0), -0.5 + 0.015 * 100.0);
    }

    /// A 2 ms pulse of 5 at the start of every 10 ms, for 35 ms: on in [0, 2), [10, 12),
    /// [20, 22), [30, 32) (bounds half a step off the 0.1 ms grid), 0 from 35 ms on.
    #[test]
    fn a_repeated_pulse_stops_at_until() {
        let s =
            CurrentStimulus::new(0.0).with(StimulusSegment::pulse(Bound::Closed(-0.05), Bound::Open(1.95), 5.0)).every(10.0).until(35.0);
        let on: Vec<u64> = (0..500u64).filter(|&k| s.value_at(k as f64 * 0.1) != 0.0).collect();
        let expected: Vec<u64> = [0u64, 100, 200, 300].iter().flat_map(|&a| a..a + 20).collect();
        assert_eq!(on, expected);
    }

    #[test]
    fn later_segments_win() {
        let s = CurrentStimulus::new(80.0).with(StimulusSegment::pulse(Bound::Closed(50.0), Bound::Closed(250.0), 75.0));
        assert_eq!(s.value_at(49.5), 80.0);
        assert_eq!(s.value_at(50.0), 75.0);
        assert_eq!(s.value_at(250.0), 75.0);
        assert_eq!(s.value_at(250.5), 80.0);
    }
}

/// A spike generator's spike steps, ascending (Brian2's `SpikeGeneratorGroup`, NEST's
/// `spike_generator`): the neuron fires exactly at these steps and has no dynamics of its own.
/// Its spikes are collected and delivered like any neuron's (arriving after the synapse's delay)
/// and take part in plasticity as presynaptic spikes.
#[derive(Component, Clone, Debug, PartialEq, Eq, Default)]
#[require(biospike_core::Neuron)]
pub struct SpikeTimes(pub Vec<u64>);

impl SpikeTimes {
    /// From times in ms (rounded to steps of `dt_ms`, sorted, duplicates merged).
    pub fn from_ms(times_ms: &[f64], dt_ms: f64) -> Self {
        let mut steps: Vec<u64> = times_ms.iter().map(|&t| biospike_core::steps_in(t, dt_ms)).collect();
        steps.sort_unstable();
        steps.dedup();
        Self(steps)
    }
}

/// A spike generator's [`SpikeTimes`] repeat every this many steps (`> 0`; the listed steps lie
/// before it): the neuron fires at step `k` when `k mod period` is listed.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpikeTimesPeriod(pub u64);

/// A sinusoidal current (NEST's `ac_generator`): `offset + amplitude · sin(2π·f·t + phase)`
/// with `t` the step's start time, added in `[start_ms, stop_ms)` (from the start and forever by
/// default).
#[derive(Component, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
#[component(on_add = on_generator)]
pub struct SineCurrent {
    /// Amplitude, current units.
    #[serde(deserialize_with = "biospike_core::desc::finite")]
    pub amplitude: f64,
    /// Frequency, Hz, `>= 0`.
    #[serde(deserialize_with = "biospike_core::desc::non_negative")]
    pub frequency_hz: f64,
    /// Phase, degrees (as NEST). Default 0.
    #[serde(default, deserialize_with = "biospike_core::desc::finite")]
    pub phase_deg: f64,
    /// Constant part, current units. Default 0.
    #[serde(default, deserialize_with = "biospike_core::desc::finite")]
    pub offset: f64,
    /// First time it acts, ms. Default 0.
    #[serde(default, deserialize_with = "biospike_core::desc::non_negative")]
    pub start_ms: f64,
    /// Time from which it no longer acts, ms. Default: never.
    #[serde(default, deserialize_with = "biospike_core::desc::opt_non_negative")]
    pub stop_ms: Option<f64>,
}

impl SineCurrent {
    /// The current at time `t_ms` (0 outside its window).
    pub fn value_at(&self, t_ms: f64) -> f64 {
        if t_ms < self.start_ms || self.stop_ms.is_some_and(|s| t_ms >= s) {
            return 0.0;
        }
        self.offset + self.amplitude * (std::f64::consts::TAU * self.frequency_hz * t_ms * 1e-3 + self.phase_deg.to_radians()).sin()
    }
}
