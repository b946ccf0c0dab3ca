use bevy_app::prelude::*;
use bevy_ecs::prelude::*;
use biospike_core::prelude::*;
use std::collections::BTreeMap;

use crate::{LifParams, SignMode, lif_step, quantize_weights_in};
use biospike_core::{ExactSum, SumAcrossRanks};

/// A Loihi current-based LIF neuron on the bit-exact fixed-point path. Its synaptic input
/// comes from [`LoihiDense`] (the float `InputCurrent` is ignored); its spikes join
/// [`StepSpikes`] in [`DetectSystems::Inject`].
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
#[require(LifCurrent, LifVoltage, LifBias, LifSpiked, InputCurrent, LastSpikeStep, PopulationId, Position)]
pub struct LoihiLifNeuron(pub LifParams);

/// Synaptic current `u` (24-bit, wrapping).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifCurrent(pub i32);

/// Membrane voltage `v` (24-bit, saturating).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifVoltage(pub i32);

/// Whether the LIF neuron fired this step (its own flag: the Izhikevich stage owns
/// `SpikedThisStep`).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifSpiked(pub bool);

/// Bias `mant · 2^exp`, added to `v` every step.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifBias {
    /// Mantissa (13-bit signed on the chip).
    pub mant: i32,
    /// Exponent (3-bit on the chip).
    pub exp: i32,
}

/// One projection (source population → LIF target population) in Dense format.
#[derive(Clone, Debug, PartialEq)]
struct Projection {
    weight_exp: i32,
    /// CSR by presynaptic neuron id over `pre_ids`.
    pre_ids: Vec<u32>,
    row_start: Vec<u32>,
    post: Vec<u32>,
    weight: Vec<i32>,
    /// Accumulator per postsynaptic neuron id (sparse: only targets of this projection).
    targets: Vec<u32>,
}

/// Dense delivery into LIF neurons: every synapse whose target is a [`LoihiLifNeuron`],
/// grouped by (source population, target population), with the projection's weights
/// quantized by [`quantize_weights`](crate::quantize_weights) (Lava's scaling, `num_weight_bits`). Each step it sums
/// the effective weights of the spiking presynaptic neurons per projection (int32,
/// wrapping), shifts each sum once by the projection's `weight_exp`, adds the projections up
/// and delivers the result on the next step (Lava's one-step Dense latency).
///
/// Built from the synapse entities on the first step and whenever the [`SynapseIndex`]
/// generation changes.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct LoihiDense {
    /// Weight bits kept (1..=8).
    pub num_weight_bits: u32,
    generation: Option<u64>,
    projections: Vec<Projection>,
    /// Activation per neuron id, delivered at the next step.
    pending: Vec<i32>,
    scratch: Vec<i32>,
}

impl LoihiDense {
    /// With `num_weight_bits` weight bits.
    pub fn new(num_weight_bits: u32) -> Self {
        Self { num_weight_bits: num_weight_bits.clamp(1, 8), ..Default::default() }
    }

    /// Activation waiting for neuron `id` (delivered at the next step).
    pub fn pending(&self, id: u32) -> i32 {
        self.pending.get(id as usize).copied().unwrap_or(0)
    }

    /// `(weight_exp, effective weights)` of every projection, in (source, target) order.
    pub fn projection_weights(&self) -> Vec<(i32, Vec<i32>)> {
        self.projections.iter().map(|p| (p.weight_exp, p.weight.clone())).collect()
    }
}

/// Runs [`LoihiLifNeuron`]s: fixed-point integration in [`SimSystems::Neurons`], their spikes
/// into [`StepSpikes`] in [`DetectSystems::Inject`], Dense delivery in
/// [`SimSystems::Propagation`]. Integer arithmetic only on this path.
#[derive(Debug, Clone, Copy)]
pub struct LoihiLifPlugin {
    /// Weight bits kept by the projections into LIF neurons (1..=8). Default 8.
    pub num_weight_bits: u32,
}

impl Default for LoihiLifPlugin {
    fn default() -> Self {
        Self { num_weight_bits: 8 }
    }
}

impl Plugin for LoihiLifPlugin {
    fn build(&self, app: &mut App) {
        assert!(app.world().contains_resource::<SimClock>(), "add CoreSimPlugin before LoihiLifPlugin");
        app.insert_resource(LoihiDense::new(self.num_weight_bits));
        app.init_resource::<SynapseIndex>();
        use biospike_core::checkpoint::{CheckpointAppExt as _, CheckpointSection};
        app.persist_component::<LifCurrent>("loihi.lif_current")
            .persist_component::<LifVoltage>("loihi.lif_voltage")
            .persist_component::<LifSpiked>("loihi.lif_spiked")
            .add_checkpoint_section(CheckpointSection {
                name: "loihi.dense_pending",
                save: save_pending,
                load: load_pending,
                optional: false,
            });
        app.add_systems(
            SimSchedule,
            (
                integrate_lif.in_set(SimSystems::Neurons),
                inject_lif_spikes.in_set(DetectSystems::Inject),
                dense_propagate.in_set(PropagationSystems::Deliver),
            )
                .in_set(BuiltinSystems),
        );
        app.world_mut().resource_mut::<NeuronDescriptions>().register(describe);
    }
}

biospike_core::persist_fields!(LifCurrent { 0 });
biospike_core::persist_fields!(LifVoltage { 0 });
biospike_core::persist_fields!(LifSpiked { 0 });

/// The activation on its way to the next step. The projections are rebuilt from the restored
/// index on the next delivery, after the neurons have read it.
fn save_pending(
    world: &mut World,
    w: &mut biospike_core::checkpoint::StateWriter,
) -> Result<(), biospike_core::checkpoint::CheckpointError> {
    w.put(&world.get_resource::<LoihiDense>().map(|d| d.pending.clone()).unwrap_or_default());
    Ok(())
}

fn load_pending(
    world: &mut World,
    r: &mut biospike_core::checkpoint::StateReader,
) -> Result<(), biospike_core::checkpoint::CheckpointError> {
    let pending: Vec<i32> = r.get()?;
    if let Some(mut d) = world.get_resource_mut::<LoihiDense>() {
        d.generation = None;
        d.pending = pending;
    }
    Ok(())
}

/// Decays, threshold and bias of a Loihi LIF neuron, for [`NeuronDescriptions`].
fn describe(world: &World, e: Entity) -> Option<String> {
    let LoihiLifNeuron(p) = world.get::<LoihiLifNeuron>(e)?;
    let bias = world.get::<LifBias>(e).map_or_else(String::new, |b| format!(" | bias {} << {}", b.mant, b.exp));
    Some(format!("Loihi LIF: du = {} | dv = {} | vth = {} << 6{bias}", p.du, p.dv, p.vth))
}

type LifItem = (
    &'static NeuronId,
    &'static LoihiLifNeuron,
    &'static LifBias,
    &'static mut LifCurrent,
    &'static mut LifVoltage,
    &'static mut LifSpiked,
);

fn integrate_lif(mut q: Query<LifItem>, dense: Res<LoihiDense>) {
    for (id, neuron, bias, mut u, mut v, mut spiked) in &mut q {
        let (nu, nv, s) = lif_step(u.0, v.0, dense.pending(id.0), &neuron.0, bias.mant, bias.exp);
        u.0 = nu;
        v.0 = nv;
        spiked.0 = s;
    }
}

fn inject_lif_spikes(
    mut q: Query<(&NeuronId, &LifSpiked, &mut LastSpikeStep), With<LoihiLifNeuron>>,
    mut spikes: ResMut<StepSpikes>,
    clock: Res<SimClock>,
) {
    let before = spikes.ids.len();
    for (id, s, mut last) in &mut q {
        if s.0 {
            spikes.ids.push(id.0);
            last.0 = Some(clock.step());
        }
    }
    if spikes.ids.len() != before {
        spikes.ids.sort_unstable();
    }
}

#[allow(clippy::too_many_arguments, reason = "the Dense, the index, the neurons, and the ranks of a split run")]
fn dense_propagate(
    mut dense: ResMut<LoihiDense>,
    index: Res<SynapseIndex>,
    lifs: Query<&NeuronId, With<LoihiLifNeuron>>,
    table: Res<PopulationTable>,
    spikes: Res<StepSpikes>,
    partition: Option<Res<Partition>>,
    sums: Option<Res<RankSums>>,
) {
    if dense.generation != Some(index.generation()) {
        let sums = RankSums::split(sums.as_deref(), partition.as_deref());
        rebuild(&mut dense, &index, &lifs, &table, sums);
    }
    let d = &mut *dense;
    d.pending.iter_mut().for_each(|x| *x = 0);
    for p in &d.projections {
        for &t in &p.targets {
            d.scratch[t as usize] = 0;
        }
        for &pre in &spikes.ids {
            let Ok(i) = p.pre_ids.binary_search(&pre) else { continue };
            for k in p.row_start[i] as usize..p.row_start[i + 1] as usize {
                let t = p.post[k] as usize;
                d.scratch[t] = d.scratch[t].wrapping_add(p.weight[k]);
            }
        }
        for &t in &p.targets {
            let acc = d.scratch[t as usize];
            let act = if p.weight_exp > 0 { acc.wrapping_shl(p.weight_exp as u32) } else { acc >> (-p.weight_exp).min(31) };
            d.pending[t as usize] = d.pending[t as usize].wrapping_add(act);
        }
    }
}

/// The weight range `(min, max)` of each (source, target) projection over the whole network:
/// these `groups` (this rank's part), joined across the ranks of a split run.
fn projection_ranges<T>(
    groups: &BTreeMap<(u16, u16), Vec<T>>,
    weight: impl Fn(&T) -> f64,
    populations: usize,
    sums: Option<&dyn SumAcrossRanks>,
) -> BTreeMap<(u16, u16), (f64, f64)> {
    let local = |v: &Vec<T>| v.iter().fold((0.0f64, 0.0f64), |(lo, hi), x| (lo.min(weight(x)), hi.max(weight(x))));
    let mut ranges: BTreeMap<(u16, u16), (f64, f64)> = groups.iter().map(|(&k, v)| (k, local(v))).collect();
    if let Some(sums) = sums {
        let p = populations.max(1);
        let slot = |(a, b): (u16, u16)| usize::from(a) * p + usize::from(b);
        // Largest of `max` and of `-min`, both ≥ 0 (every range holds 0).
        let mut wire = vec![0.0f64; 2 * p * p];
        for (&k, &(lo, hi)) in &ranges {
            wire[2 * slot(k)] = hi;
            wire[2 * slot(k) + 1] = -lo;
        }
        sums.max_f64(&mut wire);
        for (&k, r) in &mut ranges {
            *r = (-wire[2 * slot(k) + 1], wire[2 * slot(k)]);
        }
    }
    ranges
}

fn rebuild(
    dense: &mut LoihiDense,
    index: &SynapseIndex,
    lifs: &Query<&NeuronId, With<LoihiLifNeuron>>,
    table: &PopulationTable,
    sums: Option<&dyn SumAcrossRanks>,
) {
    let n = index.neuron_count().max(lifs.iter().map(|i| i.0 as usize + 1).max().unwrap_or(0));
    let mut is_lif = vec![false; n];
    for id in lifs {
        is_lif[id.0 as usize] = true;
    }
    let pop = table.population_per_neuron(n);
    // (source, target) population → (pre, post, float weight) edges.
    type Groups = BTreeMap<(u16, u16), Vec<(u32, u32, f64)>>;
    let mut groups: Groups = BTreeMap::new();
    for e in index.edges() {
        if is_lif.get(e.post as usize).copied().unwrap_or(false) {
            let key = (pop.get(e.pre as usize).copied().unwrap_or(0), pop.get(e.post as usize).copied().unwrap_or(0));
            groups.entry(key).or_default().push((e.pre, e.post, f64::from(e.weight)));
        }
    }
    let ranges = projection_ranges(&groups, |e| e.2, table.populations.len(), sums);
    dense.projections = groups
        .into_iter()
        .map(|(key, mut edges)| {
            edges.sort_by_key(|e| (e.0, e.1));
            let floats: Vec<f64> = edges.iter().map(|e| e.2).collect();
            let q = quantize_weights_in(&floats, dense.num_weight_bits, ranges[&key]);
            let mut pre_ids: Vec<u32> = edges.iter().map(|e| e.0).collect();
            pre_ids.dedup();
            let mut row_start = vec![0u32];
            let mut it = edges.iter().peekable();
            for &p in &pre_ids {
                let mut c = 0;
                while it.next_if(|e| e.0 == p).is_some() {
                    c += 1;
                }
                row_start.push(row_start[row_start.len() - 1] + c);
            }
            let mut targets: Vec<u32> = edges.iter().map(|e| e.1).collect();
            targets.sort_unstable();
            targets.dedup();
            Projection {
                weight_exp: q.weight_exp,
                pre_ids,
                row_start,
                post: edges.iter().map(|e| e.1).collect(),
                weight: q.effective,
                targets,
            }
        })
        .collect();
    dense.pending = vec![0; n];
    dense.scratch = vec![0; n];
    dense.generation = Some(index.generation());
}

/// Quantization of one projection.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionReport {
    /// Source population.
    pub source: String,
    /// Target population.
    pub target: String,
    /// Synapses in the projection.
    pub synapses: usize,
    /// Sign mode.
    pub mode: SignMode,
    /// Shared exponent.
    pub weight_exp: i32,
    /// Weight bits kept.
    pub num_weight_bits: u32,
    /// Largest |w| (float).
    pub max_abs_weight: f64,
    /// Largest `|w − w_quantized|`.
    pub max_abs_error: f64,
    /// Mean `|w − w_quantized|`.
    pub mean_abs_error: f64,
    /// Fraction of non-zero float weights that became 0.
    pub zero_fraction: f64,
}

/// Quantizes every projection (source population → target population) of the network in
/// `world` with [`quantize_weights`](crate::quantize_weights); with `apply`, replaces each `SynapticWeight` by its
/// quantized value (applied at the next propagation, like any edit).
pub fn quantize_network(world: &mut World, num_weight_bits: u32, apply: bool) -> Vec<ProjectionReport> {
    let table = world.get_resource::<PopulationTable>().cloned().unwrap_or_default();
    let mut q = world.query::<(Entity, &Synapse, &SynapticWeight)>();
    let mut groups: BTreeMap<(u16, u16), Vec<(Entity, f64)>> = BTreeMap::new();
    for (e, s, w) in q.iter(world) {
        let key = (table.population_of(s.pre.0).unwrap_or(0), table.population_of(s.post.0).unwrap_or(0));
        groups.entry(key).or_default().push((e, f64::from(w.0)));
    }
    let name = |p: u16| table.populations.get(usize::from(p)).map_or_else(|| p.to_string(), |x| x.name.clone());
    // Split over ranks, each holds the synapses onto its neurons: the exponent and the sign
    // mode come from each projection's whole range, the report's figures are joined.
    let sums = RankSums::split(world.get_resource::<RankSums>(), world.get_resource::<Partition>());
    let pops = table.populations.len().max(1);
    let mut keys: Vec<(u16, u16)> = groups.keys().copied().collect();
    if let Some(sums) = sums {
        let mut present = vec![0u64; pops * pops];
        for &(a, b) in &keys {
            present[usize::from(a) * pops + usize::from(b)] = 1;
        }
        sums.sum_u64(&mut present);
        keys = (0..pops * pops).filter(|&k| present[k] > 0).map(|k| ((k / pops) as u16, (k % pops) as u16)).collect();
    }
    let ranges = projection_ranges(&groups, |s| s.1, pops, sums);
    let mut reports = Vec::new();
    let mut updates = Vec::new();
    // Per projection: synapses, non-zero, zeroed (counts); |w| max, error max; error sum (exact).
    let (mut counts, mut maxima, mut error_sums) = (Vec::new(), Vec::new(), Vec::new());
    let mut modes = Vec::new();
    for key in &keys {
        let Some(syn) = groups.get_mut(key) else {
            counts.extend([0u64; 3]);
            maxima.extend([0.0f64; 2]);
            error_sums.push(0i128);
            modes.push(None);
            continue;
        };
        syn.sort_unstable_by_key(|(e, _)| e.to_bits());
        let weights: Vec<f64> = syn.iter().map(|s| s.1).collect();
        let qw = quantize_weights_in(&weights, num_weight_bits, ranges[key]);
        let errors: Vec<f64> = weights.iter().zip(&qw.dequantized).map(|(a, b)| (a - b).abs()).collect();
        let nonzero = weights.iter().filter(|&&w| w != 0.0).count() as u64;
        let zeroed = weights.iter().zip(&qw.effective).filter(|&(&w, &m)| w != 0.0 && m == 0).count() as u64;
        counts.extend([weights.len() as u64, nonzero, zeroed]);
        maxima.extend([weights.iter().fold(0.0f64, |m, w| m.max(w.abs())), errors.iter().copied().fold(0.0, f64::max)]);
        let mut total = ExactSum::default();
        errors.iter().for_each(|&e| total.add(e));
        error_sums.push(total.0);
        modes.push(Some((qw.mode, qw.weight_exp, qw.num_weight_bits)));
        if apply {
            updates.extend(syn.iter().zip(&qw.dequantized).map(|(&(e, _), &w)| (e, SynapticWeight(w as f32))));
        }
    }
    if let Some(sums) = sums {
        sums.sum_u64(&mut counts);
        sums.max_f64(&mut maxima);
        sums.sum_i128(&mut error_sums);
    }
    for (i, &(src, dst)) in keys.iter().enumerate() {
        // A projection this rank holds none of: its mode and exponent from the whole range.
        let (mode, weight_exp, bits) = modes[i].unwrap_or_else(|| {
            let q = quantize_weights_in(&[], num_weight_bits, ranges.get(&(src, dst)).copied().unwrap_or((0.0, 0.0)));
            (q.mode, q.weight_exp, q.num_weight_bits)
        });
        let (n, nonzero, zeroed) = (counts[3 * i], counts[3 * i + 1], counts[3 * i + 2]);
        reports.push(ProjectionReport {
            source: name(src),
            target: name(dst),
            synapses: n as usize,
            mode,
            weight_exp,
            num_weight_bits: bits,
            max_abs_weight: maxima[2 * i],
            max_abs_error: maxima[2 * i + 1],
            mean_abs_error: ExactSum(error_sums[i]).value() / n.max(1) as f64,
            zero_fraction: if nonzero > 0 { zeroed as f64 / nonzero as f64 } else { 0.0 },
        });
    }
    if apply {
        world.insert_batch(updates);
    }
    reports
}

/// What [`LoihiQuantizationPlugin`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantizationMode {
    /// Compute the per-projection report only; the network keeps its float weights.
    ReportOnly,
    /// Replace the float weights by their quantized values.
    Apply,
}

/// The per-projection quantization report of the last quantization.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct QuantizationReport(pub Vec<ProjectionReport>);

/// Maps the network's weights to Loihi's 8-bit Dense format in [`SimSystems::Quantize`]: on
/// the first step, and again whenever synapses are added or removed (the [`SynapseIndex`]
/// generation changes). Writes [`QuantizationReport`]; in [`QuantizationMode::Apply`] the
/// quantized weights take effect at the next propagation. A driver that wants step 0 itself
/// quantized calls [`quantize_network`] before stepping.
#[derive(Debug, Clone, Copy)]
pub struct LoihiQuantizationPlugin {
    /// Report only or apply.
    pub mode: QuantizationMode,
    /// Weight bits kept (1..=8).
    pub num_weight_bits: u32,
}

impl Default for LoihiQuantizationPlugin {
    /// Report only, 8 weight bits.
    fn default() -> Self {
        Self { mode: QuantizationMode::ReportOnly, num_weight_bits: 8 }
    }
}

/// The index generation [`LoihiQuantizationPlugin`] last quantized (it quantizes again when the
/// index is rebuilt).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuantizedGeneration(pub Option<u64>);

biospike_core::persist_fields!(QuantizedGeneration { 0 });

impl Plugin for LoihiQuantizationPlugin {
    fn build(&self, app: &mut App) {
        let (mode, bits) = (self.mode, self.num_weight_bits);
        app.init_resource::<QuantizationReport>().init_resource::<QuantizedGeneration>();
        biospike_core::checkpoint::CheckpointAppExt::persist_resource::<QuantizedGeneration>(app, "loihi.quantized_generation");
        app.add_systems(
            SimSchedule,
            (move |world: &mut World| {
                let generation = world.get_resource::<SynapseIndex>().map_or(0, SynapseIndex::generation);
                let mut seen = world.resource_mut::<QuantizedGeneration>();
                if seen.0 == Some(generation) {
                    return;
                }
                seen.0 = Some(generation);
                let report = quantize_network(world, bits, mode == QuantizationMode::Apply);
                world.insert_resource(QuantizationReport(report));
            })
            .in_set(SimSystems::Quantize),
        );
    }
}
