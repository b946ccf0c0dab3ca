use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;

use crate::deferred::{catch_up_before_delivery, deferred, flush_before_synapse_edits, flush_deferred_ltp};
use crate::settings::{StdpDiagnostics, StdpMode, StdpSettings};
use crate::state::StdpState;

/// Pair-based STDP in [`SimSystems::Plasticity`], on the live weights of [`SynapseIndex`].
/// Reads [`StdpSettings`] (default [`StdpSettings::song_2000`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdpPlugin;

impl Plugin for StdpPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before StdpPlugin");
        app.init_resource::<StdpSettings>().init_resource::<StdpState>().init_resource::<StdpDiagnostics>().init_resource::<SynapseIndex>();
        use biospike_core::checkpoint::{CheckpointAppExt as _, CheckpointSection, save_resource};
        app.add_checkpoint_section(CheckpointSection {
            name: "stdp.state",
            save: save_resource::<StdpState>,
            load: crate::state::load_checkpoint,
            optional: false,
        });
        app.persist_resource::<StdpDiagnostics>("stdp.diagnostics");
        app.add_systems(
            SimSchedule,
            (
                flush_before_synapse_edits.in_set(PrepareSystems::Settle),
                catch_up_before_delivery.in_set(PropagationSystems::Index),
                apply_stdp.in_set(SimSystems::Plasticity),
                flush_deferred_ltp.in_set(WritebackSystems::Flush),
            )
                .in_set(BuiltinSystems),
        );
        app.add_systems(SimWritebackSchedule, flush_deferred_ltp.in_set(WritebackSystems::Flush).in_set(BuiltinSystems));
    }
}

#[allow(clippy::too_many_arguments, reason = "one stage reading the spikes, the index, dopamine and the settings")]
fn apply_stdp(
    settings: Res<StdpSettings>,
    mut state: ResMut<StdpState>,
    mut index: ResMut<SynapseIndex>,
    mut diag: ResMut<StdpDiagnostics>,
    spikes: Res<StepSpikes>,
    table: Res<PopulationTable>,
    levels: Option<Res<NeuromodulatorLevels>>,
    clock: Res<SimClock>,
) {
    let (s, dt) = (clock.step(), clock.dt_ms());
    let gated = match settings.mode {
        StdpMode::DopamineGated { tau_eligibility_ms, dopamine_bias, update_every_steps } => {
            Some((tau_eligibility_ms, dopamine_bias, update_every_steps.max(1)))
        }
        StdpMode::Direct => None,
    };
    let flush_every = deferred(&settings);
    let flush_now = flush_every.is_some_and(|f| s.is_multiple_of(f) || (s + 1).is_multiple_of(f));
    let flush_due = flush_now && !state.log_step.is_empty();
    if spikes.ids.is_empty() && gated.is_none_or(|(_, _, p)| !(s + 1).is_multiple_of(p)) && !flush_due {
        return;
    }
    if index.is_empty() {
        return;
    }
    let st = &mut *state;
    st.prepare(&index, &settings, &table, dt);
    // 1. LTP with presynaptic traces of spikes that have arrived: logged for later (deferred),
    //    or at once over the spiking neurons' in-edges.
    let ltp_events = if flush_every.is_some() {
        st.log_post_spikes(&spikes.ids, s)
    } else {
        st.ltp_at_post_spikes(&mut index, &settings, &spikes.ids, s, dt, gated.is_some())
    };
    // 2. Traces of this step's spikes.
    st.update_traces(&settings, &spikes.ids, s, dt);
    // 3. LTD at each presynaptic spike, with postsynaptic traces including this step.
    let ltd_events: u64 = spikes.ids.iter().map(|&pre| index.row(pre).len() as u64).sum();
    if gated.is_some() {
        st.ltd_into_eligibility(&index, &settings, &spikes.ids, s, dt);
    } else {
        st.ltd_direct(&mut index, &settings, &spikes.ids, s, dt, flush_every.is_some());
    }
    diag.ltp_events += ltp_events;
    diag.ltd_events += ltd_events;
    if flush_now {
        st.flush(&mut index, &settings, dt);
    }
    // 4. Dopamine-gated update.
    if let Some(gate) = gated
        && (s + 1).is_multiple_of(gate.2)
    {
        let da = levels.map_or(0.0, |l| l.level(Modulator::Dopamine));
        st.dopamine_update(&mut index, &settings, da, gate, dt);
        diag.sweeps += 1;
    }
}
