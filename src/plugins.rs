//! [`BiospikePlugins`]: every stage of biospike in one plugin group.

use bevy_app::{PluginGroup, PluginGroupBuilder};
use biospike_core::{CoreSimPlugin, SimClock};

/// Every biospike stage, in one group: the core (schedule, clock, seed, guard), the runner
/// (`app.run()` simulates), the default model stages (inputs, Izhikevich neurons, synaptic
/// delivery), and the optional stages, present but disabled until you enable them.
///
/// | plugin | default | set | adds | settings (default) |
/// |---|---|---|---|---|
/// | [`CoreSimPlugin`] | on | all | `SimSchedule` and its phases, clock, seed, input reset, spike collection, numerical guard | the builder's `dt_ms` (1 ms) and `seed` (1); `GuardSettings` (\|v\| ≤ 1000 mV, \|u\| ≤ 1e6); `WritebackSettings` (end of run only) |
/// | [`SimRunnerPlugin`](crate::SimRunnerPlugin) | on | — | `app.run()` steps the simulation, then finishes it | `RunSettings` (1000 steps, no progress bar, no stop flag) |
/// | [`InputPlugin`](crate::InputPlugin) | on | `InputSystems::Drive` | Gaussian and uniform noise, DC, piecewise stimuli, Poisson trains | per-neuron components |
/// | [`IzhikevichPlugin`](crate::IzhikevichPlugin) | on | `SimSystems::Neurons` | Izhikevich membrane integration | `IzhikevichSettings` (published half-step scheme, 30 mV peak) |
/// | [`SynapsePlugin`](crate::SynapsePlugin) | on | `PrepareSystems::Index`, `InputSystems::Synaptic`, `PropagationSystems::Deliver`, `WritebackSystems::Sync` | synapse index upkeep, delays, CSR delivery, weight write-back | per-synapse components |
/// | [`NeuromodulationPlugin`](crate::NeuromodulationPlugin) | off | `SimSystems::Modulation` | dopamine, serotonin, norepinephrine levels; excitability | `NeuromodulationSettings` |
/// | [`StdpPlugin`](crate::StdpPlugin) | off | `PrepareSystems::Settle`, `PropagationSystems::Index`, `SimSystems::Plasticity`, `WritebackSystems::Flush` | pair STDP, eligibility, dopamine gating | `StdpSettings` |
/// | [`StructuralPlasticityPlugin`](crate::StructuralPlasticityPlugin) | off | `SimSystems::Structure` | rewiring toward a target out-degree | `StructuralPlasticitySettings` |
/// | [`DriftPlugin`](crate::DriftPlugin) | off | `SimSystems::Structure` | drift of state and weights toward fresh draws | `DriftSettings` |
/// | [`LifPlugin`](crate::LifPlugin) | off | `SimSystems::Neurons` | leaky integrate-and-fire neurons, exact (NEST's `iaf_psc_delta`, `iaf_psc_exp`, `iaf_psc_alpha`, `iaf_cond_exp` and the multisynapse models) | per-neuron model components; `ParameterBlocks<M>` (each distinct parameter set once) |
/// | [`LoihiLifPlugin`](crate::LoihiLifPlugin) | off | `SimSystems::Neurons`, `DetectSystems::Inject`, `PropagationSystems::Deliver` | Loihi's bit-exact fixed-point LIF and Dense | build-time `num_weight_bits` (8) |
/// | [`LoihiQuantizationPlugin`](crate::LoihiQuantizationPlugin) | off | `SimSystems::Quantize` | Loihi weight quantization, report or apply | build-time `mode` (report only), `num_weight_bits` (8) |
/// | [`DistalRewardPlugin`](crate::experiment::DistalRewardPlugin) | off | `SimSystems::Detect` | Izhikevich (2007)'s reward protocol | the `DistalReward` resource |
/// | [`ParquetRecorderPlugin`](crate::ParquetRecorderPlugin) (feature `parquet`) | off | `SimSystems::Record`, `FinishSystems::Close` | spikes, state, weights, modulators to Parquet | `RecordSettings` (insert it first: the output folder) |
/// | [`ProfilePlugin`](crate::ProfilePlugin) | off | — | time per phase and per system | `SimProfile` (the result) |
///
/// Enable an optional stage with bevy's group builder, after inserting its settings if the
/// defaults are not what you want (a plugin keeps settings inserted before it):
///
/// ```
/// use biospike::prelude::*;
///
/// let mut app = App::new();
/// app.insert_resource(StdpSettings { learning_rate: 0.5, ..StdpSettings::song_2000() });
/// app.add_plugins(BiospikePlugins::default().with_dt_ms(0.5).with_seed(3).build().enable::<StdpPlugin>());
/// assert_eq!(app.world().resource::<SimClock>().dt_ms(), 0.5);
/// assert_eq!(app.world().resource::<StdpSettings>().learning_rate, 0.5);
/// ```
///
/// `.disable::<InputPlugin>()` removes a default stage, `.set(LoihiLifPlugin { num_weight_bits: 6 })`
/// replaces a plugin's build-time choices.
#[derive(Debug, Clone, Copy)]
pub struct BiospikePlugins {
    dt_ms: f64,
    seed: u64,
}

impl Default for BiospikePlugins {
    fn default() -> Self {
        Self { dt_ms: 1.0, seed: 1 }
    }
}

impl BiospikePlugins {
    /// The step size, ms (`> 0`, finite). Default: `1.0`.
    ///
    /// # Panics
    /// If `dt_ms` is not finite and positive.
    pub fn with_dt_ms(mut self, dt_ms: f64) -> Self {
        assert!(dt_ms.is_finite() && dt_ms > 0.0, "dt_ms must be finite and > 0, got {dt_ms}");
        self.dt_ms = dt_ms;
        self
    }

    /// The master seed of every random stream. Default: `1`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl PluginGroup for BiospikePlugins {
    fn build(self) -> PluginGroupBuilder {
        let group = PluginGroupBuilder::start::<Self>()
            .add(CoreSimPlugin::new(SimClock::new(self.dt_ms), self.seed))
            .add(crate::SimRunnerPlugin)
            .add(biospike_input::InputPlugin)
            .add(biospike_izhikevich::IzhikevichPlugin)
            .add(biospike_synapses::SynapsePlugin)
            .add(biospike_neuromod::NeuromodulationPlugin)
            .add(biospike_stdp::StdpPlugin)
            .add(biospike_structure::StructuralPlasticityPlugin)
            .add(biospike_structure::DriftPlugin)
            .add(biospike_lif::LifPlugin)
            .add(biospike_adex::AdexPlugin)
            .add(biospike_loihi::LoihiLifPlugin::default())
            .add(biospike_loihi::LoihiQuantizationPlugin::default())
            .add(crate::experiment::DistalRewardPlugin);
        #[cfg(feature = "parquet")]
        let group = group.add(biospike_record::ParquetRecorderPlugin).disable::<biospike_record::ParquetRecorderPlugin>();
        group
            .add(crate::ProfilePlugin)
            .disable::<biospike_neuromod::NeuromodulationPlugin>()
            .disable::<biospike_stdp::StdpPlugin>()
            .disable::<biospike_structure::StructuralPlasticityPlugin>()
            .disable::<biospike_structure::DriftPlugin>()
            .disable::<biospike_lif::LifPlugin>()
            .disable::<biospike_adex::AdexPlugin>()
            .disable::<biospike_loihi::LoihiLifPlugin>()
            .disable::<biospike_loihi::LoihiQuantizationPlugin>()
            .disable::<crate::experiment::DistalRewardPlugin>()
            .disable::<crate::ProfilePlugin>()
    }
}
