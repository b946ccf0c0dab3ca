use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;

/// An Ornstein–Uhlenbeck process `x ← x + (mean − x)·dt/τ + σ·√dt·ξ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OuProcess {
    /// Value at step 0.
    pub initial: f64,
    /// Long-run mean `μ`.
    pub mean: f64,
    /// Noise amplitude `σ` (per √ms); `0` makes the process deterministic.
    pub sigma: f64,
    /// Relaxation time constant `τ`, ms (`> 0`).
    pub tau_ms: f64,
}

impl OuProcess {
    /// A constant at `x`.
    pub const fn constant(x: f64) -> Self {
        Self { initial: x, mean: x, sigma: 0.0, tau_ms: 1.0 }
    }
}

/// One Euler–Maruyama step of an OU process with the standard normal draw `xi`.
#[inline]
pub fn ou_step(x: f64, p: &OuProcess, dt: f64, xi: f64) -> f64 {
    x + (p.mean - x) * dt / p.tau_ms + p.sigma * dt.sqrt() * xi
}

/// The tonic part of a level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tonic {
    /// A constant.
    Constant(f64),
    /// A fresh `N(mean, std)` draw every step (the original project: `N(1, 0.1)`).
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// An OU process.
    Ou(OuProcess),
}

/// A release at a fixed time, or a periodic one.
///
/// It acts in the level update (`SimSystems::Modulation`) of the step whose start time
/// is `at_ms` rounded to a step (`step = round(at_ms / dt)`): the level read by the rest of that
/// step already holds it. A periodic release repeats every `round(every_ms / dt)` steps after
/// that, up to and including the step of `until_ms` (forever when `None`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduledRelease {
    /// When (the first time), ms.
    pub at_ms: f64,
    /// Amount added to the phasic part.
    pub amount: f64,
    /// Period, ms (`None`: once).
    pub every_ms: Option<f64>,
    /// Last time a periodic release may happen, ms (`None`: no end).
    pub until_ms: Option<f64>,
}

impl ScheduledRelease {
    /// One release of `amount` at `at_ms`.
    pub fn at(at_ms: f64, amount: f64) -> Self {
        Self { at_ms, amount, every_ms: None, until_ms: None }
    }

    /// Repeated every `every_ms` from its first time, up to `until_ms` (inclusive) if given.
    pub fn every(self, every_ms: f64, until_ms: Option<f64>) -> Self {
        Self { every_ms: Some(every_ms), until_ms, ..self }
    }

    /// Whether it releases in `step` (a clock converts ms to steps).
    pub fn fires_at(&self, step: u64, clock: &SimClock) -> bool {
        if self.at_ms < 0.0 {
            return false;
        }
        let first = clock.steps_in(self.at_ms);
        match self.every_ms {
            None => step == first,
            Some(every) => {
                let period = clock.steps_in(every).max(1);
                step >= first && (step - first).is_multiple_of(period) && self.until_ms.is_none_or(|u| step <= clock.steps_in(u))
            }
        }
    }
}

/// One modulator.
#[derive(Clone, Debug, PartialEq)]
pub struct ModulatorSettings {
    /// `effect_m` in the modulation factor.
    pub effect: f64,
    /// The baseline process.
    pub baseline: OuProcess,
    /// The tonic part of the level.
    pub tonic: Tonic,
    /// Decay time constant of the phasic part, ms (`> 0`).
    pub phasic_tau_ms: f64,
    /// Releases at fixed times.
    pub releases: Vec<ScheduledRelease>,
}

impl ModulatorSettings {
    /// The original project's modulator with effect `effect`: OU baseline (μ 1, σ 0.1, τ 100),
    /// tonic `N(1, 0.1)`, phasic τ 200 ms.
    pub fn original(effect: f64) -> Self {
        Self {
            effect,
            baseline: OuProcess { initial: 1.0, mean: 1.0, sigma: 0.1, tau_ms: 100.0 },
            tonic: Tonic::Gaussian { mean: 1.0, std: 0.1 },
            phasic_tau_ms: 200.0,
            releases: Vec::new(),
        }
    }

    /// No effect, baseline and level constant 0.
    pub fn silent() -> Self {
        Self { effect: 0.0, baseline: OuProcess::constant(0.0), tonic: Tonic::Constant(0.0), phasic_tau_ms: 200.0, releases: Vec::new() }
    }
}

/// Tunable parameters of [`NeuromodulationPlugin`].
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct NeuromodulationSettings {
    /// Dopamine, serotonin, norepinephrine (index [`Modulator::index`]).
    pub modulators: [ModulatorSettings; 3],
    /// `tau_excitability`, ms (`> 0`).
    pub tau_excitability_ms: f64,
    /// Receptor sensitivity per population (index = population id) and modulator; populations
    /// not listed have sensitivity 1.
    pub sensitivity: Vec<[f64; 3]>,
}

impl NeuromodulationSettings {
    /// Every modulator silent (no effect, levels 0): a starting point for custom set-ups.
    pub fn silent() -> Self {
        Self {
            modulators: [ModulatorSettings::silent(), ModulatorSettings::silent(), ModulatorSettings::silent()],
            tau_excitability_ms: 20.0,
            sensitivity: Vec::new(),
        }
    }

    /// The original project's set-up with the given effects (its values: 0.5, 0.3, 0.2).
    pub fn original(dopamine_effect: f64, serotonin_effect: f64, norepinephrine_effect: f64, tau_excitability_ms: f64) -> Self {
        Self {
            modulators: [
                ModulatorSettings::original(dopamine_effect),
                ModulatorSettings::original(serotonin_effect),
                ModulatorSettings::original(norepinephrine_effect),
            ],
            tau_excitability_ms,
            sensitivity: Vec::new(),
        }
    }

    /// The modulation factor `M_p` of population `pop` for the given levels.
    pub fn modulation_factor(&self, levels: &NeuromodulatorLevels, pop: u16) -> f64 {
        let sens = self.sensitivity.get(usize::from(pop)).copied().unwrap_or([1.0; 3]);
        Modulator::ALL.iter().fold(1.0, |acc, &m| {
            let s = &self.modulators[m.index()];
            acc * (1.0 + s.effect * sens[m.index()] * (levels.level(m) - levels.baseline(m)).tanh())
        })
    }
}

impl Default for NeuromodulationSettings {
    /// The scene default: the lowering of [`NeuromodulationDesc::default`](crate::NeuromodulationDesc),
    /// which mentions no modulator, so every one is [silent](ModulatorSettings::silent)
    /// (`tau_excitability` 20 ms). [`NeuromodulationSettings::original`] has the original
    /// project's set-up.
    fn default() -> Self {
        crate::NeuromodulationDesc::default().lower(&[])
    }
}

/// Modulation factors of the current step, per population (for recorders and viewers).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ModulationDiagnostics {
    /// `M_p` per population id.
    pub factor: Vec<f64>,
}

/// Neuromodulator levels and excitability in [`SimSystems::Modulation`].
///
/// Reads [`NeuromodulationSettings`] (inserted with defaults if missing); owns
/// [`NeuromodulatorLevels`]. Systems: `update_levels`, then `relax_excitability`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NeuromodulationPlugin;

impl Plugin for NeuromodulationPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before NeuromodulationPlugin");
        app.init_resource::<NeuromodulationSettings>().init_resource::<ModulationDiagnostics>();
        let settings = app.world().resource::<NeuromodulationSettings>().clone();
        let mut levels = NeuromodulatorLevels::default();
        for m in Modulator::ALL {
            let s = &settings.modulators[m.index()];
            levels.baseline[m.index()] = s.baseline.initial;
            levels.tonic[m.index()] = match s.tonic {
                Tonic::Constant(x) => x,
                Tonic::Gaussian { mean, .. } => mean,
                Tonic::Ou(p) => p.initial,
            };
        }
        app.insert_resource(levels);
        app.add_systems(SimSchedule, (update_levels, relax_excitability).chain().in_set(SimSystems::Modulation).in_set(BuiltinSystems));
    }
}

/// Stream keys: `index = modulator · 4 + process`.
const BASELINE: u64 = 0;
const TONIC: u64 = 1;

fn update_levels(
    settings: Res<NeuromodulationSettings>,
    mut levels: ResMut<NeuromodulatorLevels>,
    clock: Res<SimClock>,
    seed: Res<SimSeed>,
) {
    let (step, dt) = (clock.step(), clock.dt_ms());
    for m in Modulator::ALL {
        let i = m.index();
        let s = &settings.modulators[i];
        let key = |process: u64| KeyedRng::new(seed.0, StreamPurpose::Modulator, i as u64 * 4 + process, step);
        if s.baseline.sigma != 0.0 || s.baseline.mean != levels.baseline[i] {
            let xi = if s.baseline.sigma != 0.0 { key(BASELINE).normal() } else { 0.0 };
            levels.baseline[i] = ou_step(levels.baseline[i], &s.baseline, dt, xi);
        }
        levels.tonic[i] = match s.tonic {
            Tonic::Constant(x) => x,
            Tonic::Gaussian { mean, std } => mean + std * key(TONIC).normal(),
            Tonic::Ou(p) => {
                let xi = if p.sigma != 0.0 { key(TONIC).normal() } else { 0.0 };
                ou_step(levels.tonic[i], &p, dt, xi)
            }
        };
        if levels.phasic[i] != 0.0 {
            levels.phasic[i] *= (-dt / s.phasic_tau_ms).exp();
        }
        for r in &s.releases {
            if r.fires_at(step, &clock) {
                levels.phasic[i] += r.amount;
            }
        }
    }
}

/// Neurons whose excitability or population changed since the last pass.
type EditedNeurons<'w, 's> = Query<'w, 's, (), Or<(Changed<Excitability>, Changed<PopulationId>)>>;

fn relax_excitability(
    settings: Res<NeuromodulationSettings>,
    levels: Res<NeuromodulatorLevels>,
    table: Res<PopulationTable>,
    mut diag: ResMut<ModulationDiagnostics>,
    mut queries: ParamSet<(Query<(&PopulationId, &mut Excitability)>, EditedNeurons)>,
    clock: Res<SimClock>,
    mut settled: Local<bool>,
) {
    let pops = table.populations.len().max(1);
    let factor: Vec<f64> = (0..pops).map(|p| settings.modulation_factor(&levels, p as u16)).collect();
    // Settled: the factors did not change and the last pass changed no excitability (e.g.
    // every effect is 0), so this pass would change nothing either. New or edited neurons
    // (changed `Excitability` or `PopulationId`) end the shortcut.
    let touched = !queries.p1().is_empty();
    if factor == diag.factor && *settled && !touched {
        return;
    }
    diag.factor = factor;
    let k = clock.dt_ms() / settings.tau_excitability_ms;
    let factor = &diag.factor;
    let changed = std::sync::atomic::AtomicBool::new(false);
    let mut q = queries.p0();
    biospike_runtime::for_each_entity_mut!(q, |(pop, mut e): (&PopulationId, Mut<Excitability>)| {
        let m = factor.get(usize::from(pop.0)).copied().unwrap_or(1.0);
        let next = e.0 + k * (m - e.0);
        if next != e.0 {
            e.0 = next;
            changed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    *settled = !changed.into_inner();
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// OU with σ = 0 is exponential relaxation: after n steps, `μ + (x0 − μ)(1 − dt/τ)^n`.
    #[test]
    fn deterministic_ou_relaxes_geometrically() {
        let p = OuProcess { initial: 0.0, mean: 1.0, sigma: 0.0, tau_ms: 100.0 };
        let mut x = 0.0;
        for _ in 0..50 {
            x = ou_step(x, &p, 1.0, 0.0);
        }
        assert_relative_eq!(x, 1.0 - 0.99f64.powi(50), epsilon = 1e-12);
    }

    #[test]
    fn default_settings_are_silent() {
        assert_eq!(NeuromodulationSettings::default(), NeuromodulationSettings::silent());
    }

    /// A release every 5 s from t = 1 s until 16 s: the phasic level jumps at exactly those
    /// steps (1000, 6000, 11000, 16000 with dt = 1 ms) and nowhere else.
    #[test]
    fn periodic_releases_fire_at_their_steps() {
        let clock = SimClock::new(1.0);
        let r = ScheduledRelease::at(1000.0, 0.5).every(5000.0, Some(16000.0));
        let fired: Vec<u64> = (0..30_000).filter(|&s| r.fires_at(s, &clock)).collect();
        assert_eq!(fired, [1000, 6000, 11000, 16000]);
        let once = ScheduledRelease::at(10.4, 1.0);
        assert_eq!((0..100).filter(|&s| once.fires_at(s, &clock)).collect::<Vec<_>>(), [10]);
        let fine = SimClock::new(0.1);
        let r = ScheduledRelease::at(0.0, 1.0).every(0.25, Some(1.0));
        // 0.25 ms is 2.5 steps of 0.1 ms, rounded half away from zero to 3.
        assert_eq!((0..100).filter(|&s| r.fires_at(s, &fine)).collect::<Vec<_>>(), [0, 3, 6, 9]);
    }

    /// A modulator the scene does not mention is inactive (issue #19: naming dopamine alone
    /// switched on serotonin and norepinephrine noise); the mentioned ones take the shared
    /// values, and the original project's set-up is the three effects spelled out.
    #[test]
    fn a_modulator_the_scene_does_not_mention_is_inactive() {
        let parse = |text: &str| -> crate::NeuromodulationDesc {
            ron::Options::default()
                .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
                .from_str(text)
                .unwrap_or_else(|e| panic!("{text}: {e}"))
        };
        let only_dopamine = parse("(dopamine: (baseline: Constant(0.0)))").lower(&[]);
        assert_eq!(only_dopamine.modulators[1], ModulatorSettings::silent());
        assert_eq!(only_dopamine.modulators[2], ModulatorSettings::silent());
        assert_eq!(only_dopamine.modulators[0].effect, 0.5);
        assert_eq!(only_dopamine.modulators[0].baseline, OuProcess::constant(0.0));
        let released = parse("(releases: [(modulator: Serotonin, at_ms: 10.0, amount: 1.0)])").lower(&[]);
        assert_eq!(released.modulators[0], ModulatorSettings::silent());
        assert_eq!(released.modulators[1].effect, 0.3);
        let spelled = parse("(dopamine_effect: 0.5, serotonin_effect: 0.3, norepinephrine_effect: 0.2)").lower(&[]);
        assert_eq!(spelled, NeuromodulationSettings::original(0.5, 0.3, 0.2, 20.0));
    }

    /// `M = Π (1 + effect · tanh(level − baseline))`, by hand.
    #[test]
    fn modulation_factor_by_hand() {
        let s = NeuromodulationSettings::original(0.5, 0.3, 0.2, 20.0);
        let levels = NeuromodulatorLevels { tonic: [2.0, 1.0, 0.0], phasic: [0.0; 3], baseline: [1.0; 3] };
        let expected = (1.0 + 0.5 * 1f64.tanh()) * 1.0 * (1.0 - 0.2 * 1f64.tanh());
        assert_relative_eq!(s.modulation_factor(&levels, 0), expected, epsilon = 1e-15);
    }
}
