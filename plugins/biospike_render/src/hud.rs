//! Heads-up display: run status, rates, modulators, the selected neuron and its `v` trace.

use crate::live::{FrameStats, LiveState, TRACE_STEPS};
use crate::{LineMode, ViewerSettings};
use bevy::prelude::*;
use biospike_core::PopulationTable;
use biospike_core::prelude::*;

/// Size of the trace plot, px.
const TRACE_W: f32 = 300.0;
const TRACE_H: f32 = 110.0;
/// The trace's vertical range, mV.
const TRACE_V: (f32, f32) = (-90.0, 35.0);

/// What the selection panel reads of a neuron.
type NeuronReadout = (Option<&'static MembranePotential>, Option<&'static RecoveryVariable>, Option<&'static LastSpikeStep>);

/// The selected neuron's model parameters, as its model plugin describes them
/// ([`NeuronDescriptions`]).
#[derive(Resource, Debug, Default)]
pub(crate) struct SelectedDescription(Option<String>);

/// Asks the model plugins to describe the selected neuron (an exclusive system: a describer
/// reads any component of the entity).
pub(crate) fn describe_selected(world: &mut World) {
    let entity = {
        let live = world.resource::<LiveState>();
        live.selected.and_then(|sel| live.entities.get(sel as usize).copied())
    };
    let text = entity.and_then(|e| world.get_resource::<NeuronDescriptions>().and_then(|d| d.describe(world, e)));
    let mut current = world.resource_mut::<SelectedDescription>();
    if current.0 != text {
        current.0 = text;
    }
}

/// The status text (top left).
#[derive(Component)]
pub struct HudText;

/// The selection panel (bottom left), hidden without a selection.
#[derive(Component)]
pub struct SelectionPanel;

/// The selected neuron's description.
#[derive(Component)]
pub struct SelectionText;

/// One point of the `v` trace.
#[derive(Component)]
pub struct TraceDot(usize);

pub(crate) fn setup(mut commands: Commands) {
    let font = TextFont::from_font_size(FontSize::Px(15.0));
    commands.spawn((
        HudText,
        Text::new(""),
        font.clone(),
        TextColor(Color::srgb(0.92, 0.92, 0.95)),
        Node { position_type: PositionType::Absolute, top: px(10), left: px(12), ..default() },
    ));
    commands
        .spawn((
            SelectionPanel,
            Node {
                position_type: PositionType::Absolute,
                bottom: px(10),
                left: px(12),
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(8)),
                row_gap: px(6),
                display: Display::None,
                ..default()
            },
            BackgroundColor(Color::srgba(0.05, 0.06, 0.1, 0.85)),
        ))
        .with_children(|panel| {
            panel.spawn((SelectionText, Text::new(""), font.clone(), TextColor(Color::srgb(0.92, 0.92, 0.95))));
            panel
                .spawn((Node { width: px(TRACE_W), height: px(TRACE_H), ..default() }, BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.5))))
                .with_children(|plot| {
                    for i in 0..TRACE_STEPS {
                        plot.spawn((
                            TraceDot(i),
                            Node {
                                position_type: PositionType::Absolute,
                                left: px(i as f32 * TRACE_W / TRACE_STEPS as f32),
                                top: px(TRACE_H),
                                width: px(2),
                                height: px(2),
                                ..default()
                            },
                            BackgroundColor(Color::srgb(0.3, 0.85, 1.0)),
                            Visibility::Hidden,
                        ));
                    }
                });
        });
}

#[expect(clippy::too_many_arguments, reason = "a system reading many independent resources")]
pub(crate) fn update_text(
    live: Res<LiveState>,
    stats: Res<FrameStats>,
    settings: Res<ViewerSettings>,
    clock: Option<Res<SimClock>>,
    table: Option<Res<PopulationTable>>,
    modulators: Option<Res<NeuromodulatorLevels>>,
    description: Res<SelectedDescription>,
    neurons: Query<NeuronReadout>,
    mut hud: Single<&mut Text, (With<HudText>, Without<SelectionText>)>,
    mut selection: Single<&mut Text, (With<SelectionText>, Without<HudText>)>,
    mut panel: Single<&mut Node, With<SelectionPanel>>,
) {
    let dt = clock.as_ref().map_or(1.0, |c| c.dt_ms());
    let (step, t_ms) = clock.as_ref().map_or((0, 0.0), |c| (c.step(), c.time_ms()));
    let mut s = format!("{}\nstep {step} | t = {:.1} s | {} steps/frame", settings.title, t_ms / 1000.0, live.steps_per_frame);
    if live.paused {
        s.push_str(" | PAUSED");
    }
    if stats.measured > 0 {
        s.push_str(&format!("\nframe {:.1} ms (simulation {:.1} ms)", stats.mean_frame_ms(), stats.mean_sim_ms()));
    }
    let rates = live.rates_hz(dt);
    if let Some(table) = &table {
        for (p, r) in table.populations.iter().zip(&rates) {
            s.push_str(&format!("\n{}: {} neurons, {r:.1} Hz", p.name, p.len));
        }
    }
    if let Some(m) = &modulators {
        for (label, which) in [("DA", Modulator::Dopamine), ("5-HT", Modulator::Serotonin), ("NE", Modulator::Norepinephrine)] {
            s.push_str(&format!("\n{label} {:.3} (baseline {:.3})", m.level(which), m.baseline(which)));
        }
    }
    let lines = match live.lines {
        LineMode::Sampled => "sampled",
        LineMode::All => "all",
        LineMode::None => "none",
        LineMode::Selected => "selected neuron's",
    };
    s.push_str(&format!("\nsynapse lines: {lines}"));
    if let Some(h) = &live.halted {
        s.push_str(&format!("\nHALTED: {h}"));
    }
    s.push_str("\ndrag: orbit | wheel: zoom | click: select | Space: pause | N: step | Up/Down: speed | L: lines | Esc: deselect");
    if hud.0 != s {
        hud.0 = s;
    }

    let Some(sel) = live.selected else {
        if panel.display != Display::None {
            panel.display = Display::None;
        }
        return;
    };
    if panel.display != Display::Flex {
        panel.display = Display::Flex;
    }
    let mut t = format!("neuron {sel}");
    if let Some(table) = &table
        && let Some(p) = table.population_of(sel).and_then(|p| table.populations.get(usize::from(p)))
    {
        t.push_str(&format!(" | {} ({:?})", p.name, p.kind));
    }
    if let Some(&e) = live.entities.get(sel as usize)
        && let Ok((v, u, last)) = neurons.get(e)
    {
        if let Some(d) = &description.0 {
            t.push_str(&format!("\n{d}"));
        }
        if let (Some(v), Some(u)) = (v, u) {
            t.push_str(&format!("\nv = {:.2} mV | u = {:.3}", v.0, u.0));
        }
        if let Some(LastSpikeStep(Some(k))) = last {
            t.push_str(&format!(" | last spike at {:.1} ms", (*k) as f64 * dt));
        }
    }
    t.push_str(&format!("\nv over the last {TRACE_STEPS} steps ({:.0} to {:.0} mV; spikes drawn at +30):", TRACE_V.0, TRACE_V.1));
    if selection.0 != t {
        selection.0 = t;
    }
}

pub(crate) fn update_trace(live: Res<LiveState>, mut dots: Query<(&TraceDot, &mut Node, &mut Visibility)>) {
    if live.selected.is_none() {
        return;
    }
    let offset = TRACE_STEPS - live.trace.len();
    for (dot, mut node, mut vis) in &mut dots {
        let Some(&v) = dot.0.checked_sub(offset).and_then(|k| live.trace.get(k)) else {
            *vis = Visibility::Hidden;
            continue;
        };
        let frac = ((v.clamp(TRACE_V.0, TRACE_V.1) - TRACE_V.0) / (TRACE_V.1 - TRACE_V.0)).clamp(0.0, 1.0);
        node.top = px((1.0 - frac) * (TRACE_H - 2.0));
        *vis = Visibility::Inherited;
    }
}
