//! Running the simulation live: steps per frame, pause, what fired this frame, rates, traces.

use crate::{LineMode, ViewerSettings};
use bevy::prelude::*;
use biospike_core::prelude::*;
use biospike_core::{PopulationTable, step_simulation};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Length of the selected neuron's `v` trace, in steps.
pub const TRACE_STEPS: usize = 200;

/// Where a spike is drawn in the `v` trace, mV.
pub const SPIKE_PEAK_MV: f32 = 30.0;

/// Frames skipped before frame times are averaged (pipelines compile in the first ones).
pub const WARMUP_FRAMES: u64 = 20;

/// The viewer's live state: controls, what fired during the current frame, rate window and
/// the selected neuron's trace. Only the viewer writes it.
#[derive(Resource, Debug)]
pub struct LiveState {
    /// The simulation does not advance (`Space`).
    pub paused: bool,
    /// Steps per frame (`↑`/`↓`).
    pub steps_per_frame: u32,
    /// Advance one step on the next frame although paused (`N`).
    pub step_once: bool,
    /// Which synapse lines are drawn (`L`).
    pub lines: LineMode,
    /// The clicked neuron.
    pub selected: Option<u32>,
    /// Frames rendered so far.
    pub frame: u64,
    /// Ids that fired during this frame's steps (ascending within each step).
    pub frame_spikes: Vec<u32>,
    /// Why the simulation stopped, when its guard halted it.
    pub halted: Option<String>,
    /// The selected neuron's `v` over the last `TRACE_STEPS` steps.
    pub trace: VecDeque<f32>,
    window_steps: usize,
    window: VecDeque<Vec<u32>>,
    window_sum: Vec<u64>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) pop_of: Vec<u16>,
    pub(crate) pop_sizes: Vec<u32>,
}

impl LiveState {
    /// The state at start for `settings`.
    pub fn new(settings: &ViewerSettings) -> Self {
        Self {
            paused: settings.paused,
            steps_per_frame: settings.steps_per_frame.max(1),
            step_once: false,
            lines: settings.lines,
            selected: settings.selected,
            frame: 0,
            frame_spikes: Vec::new(),
            halted: None,
            trace: VecDeque::with_capacity(TRACE_STEPS),
            window_steps: 0,
            window: VecDeque::new(),
            window_sum: Vec::new(),
            entities: Vec::new(),
            pop_of: Vec::new(),
            pop_sizes: Vec::new(),
        }
    }

    /// Each population's mean rate in Hz over the rate window (the last 100 ms of simulated
    /// time, or less at the start).
    pub fn rates_hz(&self, dt_ms: f64) -> Vec<f64> {
        let span_ms = self.window.len() as f64 * dt_ms;
        self.window_sum
            .iter()
            .zip(&self.pop_sizes)
            .map(|(&s, &n)| if span_ms > 0.0 && n > 0 { s as f64 / f64::from(n) / (span_ms / 1000.0) } else { 0.0 })
            .collect()
    }

    /// Selects `neuron` (or clears with `None`) and restarts its trace.
    pub fn select(&mut self, neuron: Option<u32>) {
        if self.selected != neuron {
            self.selected = neuron;
            self.trace.clear();
        }
    }

    fn init(&mut self, world: &mut World) {
        let n = world.get_resource::<PopulationTable>().map_or(0, |t| t.neuron_count() as usize);
        let mut q = world.query::<(Entity, &NeuronId)>();
        let n = n.max(q.iter(world).map(|(_, id)| id.0 as usize + 1).max().unwrap_or(0));
        self.entities = vec![Entity::PLACEHOLDER; n];
        for (e, id) in q.iter(world) {
            self.entities[id.0 as usize] = e;
        }
        let table = world.get_resource::<PopulationTable>().cloned().unwrap_or_default();
        self.pop_of = table.population_per_neuron(n);
        self.pop_sizes = table.populations.iter().map(|p| p.len).collect();
        if self.pop_sizes.is_empty() {
            self.pop_sizes.push(n as u32);
        }
        self.window_sum = vec![0; self.pop_sizes.len()];
        let dt = world.get_resource::<SimClock>().map_or(1.0, SimClock::dt_ms);
        self.window_steps = (biospike_core::steps_in(100.0, dt) as usize).max(1);
    }

    fn push_step(&mut self, ids: &[u32]) {
        let mut counts = vec![0u32; self.pop_sizes.len()];
        for &id in ids {
            let p = self.pop_of.get(id as usize).copied().unwrap_or(0);
            if let Some(c) = counts.get_mut(usize::from(p)) {
                *c += 1;
            }
        }
        for (s, &c) in self.window_sum.iter_mut().zip(&counts) {
            *s += u64::from(c);
        }
        self.window.push_back(counts);
        if self.window.len() > self.window_steps
            && let Some(old) = self.window.pop_front()
        {
            for (s, &c) in self.window_sum.iter_mut().zip(&old) {
                *s -= u64::from(c);
            }
        }
        self.frame_spikes.extend_from_slice(ids);
    }
}

/// Wall-clock cost of the frames, measured between consecutive `First` runs.
#[derive(Resource, Debug, Default)]
pub struct FrameStats {
    /// Frames started so far.
    pub frames: u64,
    /// Frames averaged (after `WARMUP_FRAMES`).
    pub measured: u64,
    /// Sum of the averaged frame times.
    pub frame_time: Duration,
    /// Sum of the simulation time inside the averaged frames.
    pub sim_time: Duration,
    /// Simulation steps run inside the averaged frames.
    pub sim_steps: u64,
    last: Option<Instant>,
    reported: bool,
}

impl FrameStats {
    /// Mean frame time in ms after warm-up (0 before).
    pub fn mean_frame_ms(&self) -> f64 {
        if self.measured == 0 { 0.0 } else { self.frame_time.as_secs_f64() * 1e3 / self.measured as f64 }
    }

    /// Mean simulation time per frame in ms after warm-up.
    pub fn mean_sim_ms(&self) -> f64 {
        if self.measured == 0 { 0.0 } else { self.sim_time.as_secs_f64() * 1e3 / self.measured as f64 }
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        format!(
            "frames: {} · mean frame time {:.1} ms ({:.1} fps) over {} frames after {} warm-up · simulation {:.2} ms per frame, {} steps",
            self.frames,
            self.mean_frame_ms(),
            if self.mean_frame_ms() > 0.0 { 1000.0 / self.mean_frame_ms() } else { 0.0 },
            self.measured,
            WARMUP_FRAMES,
            self.mean_sim_ms(),
            self.sim_steps
        )
    }

    pub(crate) fn take_report(&mut self) -> bool {
        !std::mem::replace(&mut self.reported, true)
    }
}

pub(crate) fn frame_clock(mut stats: ResMut<FrameStats>, mut live: ResMut<LiveState>) {
    let now = Instant::now();
    if let Some(last) = stats.last
        && stats.frames > WARMUP_FRAMES
    {
        stats.frame_time += now - last;
        stats.measured += 1;
    }
    stats.last = Some(now);
    stats.frames += 1;
    live.frame = stats.frames;
}

pub(crate) fn keyboard(keys: Res<ButtonInput<KeyCode>>, mut live: ResMut<LiveState>) {
    if keys.just_pressed(KeyCode::Space) {
        live.paused = !live.paused;
    }
    if keys.just_pressed(KeyCode::KeyN) && live.paused {
        live.step_once = true;
    }
    if keys.just_pressed(KeyCode::ArrowUp) || keys.just_pressed(KeyCode::Equal) {
        live.steps_per_frame = (live.steps_per_frame * 2).min(1 << 14);
    }
    if keys.just_pressed(KeyCode::ArrowDown) || keys.just_pressed(KeyCode::Minus) {
        live.steps_per_frame = (live.steps_per_frame / 2).max(1);
    }
    if keys.just_pressed(KeyCode::KeyL) {
        live.lines = live.lines.next();
    }
    if keys.just_pressed(KeyCode::Escape) {
        live.select(None);
    }
}

/// Advances the model by this frame's steps (exclusive: it runs the simulation schedule).
pub(crate) fn step_live(world: &mut World) {
    let t0 = Instant::now();
    let mut steps_run = 0u64;
    world.resource_scope(|world, mut live: Mut<LiveState>| {
        if live.entities.is_empty() {
            live.init(world);
        }
        live.frame_spikes.clear();
        let steps = if live.paused { u32::from(std::mem::take(&mut live.step_once)) } else { live.steps_per_frame };
        for _ in 0..steps {
            if let Some(SimStatus::Halted { .. }) = world.get_resource::<SimStatus>() {
                live.halted = world.get_resource::<SimStatus>().map(ToString::to_string);
                live.paused = true;
                break;
            }
            step_simulation(world);
            steps_run += 1;
            live.push_step(&world.resource::<StepSpikes>().ids);
            if let Some(sel) = live.selected {
                // A step that fired is drawn at the +30 mV peak (the state already holds the
                // reset value), as in Izhikevich's figures.
                let fired = world.resource::<StepSpikes>().ids.binary_search(&sel).is_ok();
                let v = live
                    .entities
                    .get(sel as usize)
                    .and_then(|&e| world.get::<MembranePotential>(e))
                    .map(|v| if fired { SPIKE_PEAK_MV } else { v.0 as f32 });
                if let Some(v) = v {
                    if live.trace.len() == TRACE_STEPS {
                        live.trace.pop_front();
                    }
                    live.trace.push_back(v);
                }
            }
        }
    });
    let mut stats = world.resource_mut::<FrameStats>();
    if stats.frames > WARMUP_FRAMES {
        stats.sim_time += t0.elapsed();
        stats.sim_steps += steps_run;
    }
}
