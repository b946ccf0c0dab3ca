//! Parameter blocks: each distinct parameter set of a model is stored once, in a
//! [`ParameterBlocks`] resource, and each neuron holds the number of its set
//! ([`ParameterBlock`], 4 bytes) next to its state. A step kernel then reads the state columns
//! and one small index column instead of each neuron's whole model (144 bytes for an
//! [`IafPscExp`](crate::IafPscExp)), and runs of neurons that share a set (a population) go
//! through a loop whose parameters are constants, which the compiler turns into vector code.
//!
//! The model component stays the place a neuron's parameters are set and read: it is
//! immutable (a change is a new insert), and its insert hook interns it, so the block number
//! can never disagree with it.
//!
//! ```
//! use bevy_app::App;
//! use biospike_core::prelude::*;
//! use biospike_lif::{IafPscExp, LifParams, LifPlugin, ParameterBlock, ParameterBlocks};
//!
//! let mut app = App::new();
//! app.add_plugins((CoreSimPlugin::new(SimClock::new(0.1), 1), LifPlugin));
//! let a = IafPscExp::new(LifParams::default(), 2.0, 2.0, 0.1);
//! let b = IafPscExp::new(LifParams { i_e_pa: 400.0, ..LifParams::default() }, 2.0, 2.0, 0.1);
//! let ids: Vec<_> = [a, a, b, a].into_iter().map(|m| app.world_mut().spawn(m).id()).collect();
//! let world = app.world_mut();
//! world.flush();
//! let block = |e| world.get::<ParameterBlock>(e).map(|b| b.0);
//! assert_eq!([ids[0], ids[1], ids[2], ids[3]].map(block), [Some(0), Some(0), Some(1), Some(0)]);
//! assert_eq!(world.resource::<ParameterBlocks<IafPscExp>>().len(), 2);
//! ```

use std::collections::HashMap;

use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::prelude::*;
use bevy_ecs::world::DeferredWorld;
use biospike_core::prelude::StimulusCurrent;
use biospike_runtime::rows::Rows;

/// A model whose distinct parameter sets are kept in [`ParameterBlocks`].
pub trait Blocked: Component + Copy + Send + Sync + 'static {
    /// The bits that make two parameter sets the same (every field the model was built from).
    fn key(&self) -> Vec<u64>;
}

/// The distinct parameter sets of model `M` seen so far, in the order they were first
/// inserted (a set stays when its neurons are gone: the table only grows, by one entry per
/// distinct set).
#[derive(Resource, Debug)]
pub struct ParameterBlocks<M> {
    models: Vec<M>,
    index: HashMap<Vec<u64>, u32>,
}

impl<M> Default for ParameterBlocks<M> {
    fn default() -> Self {
        Self { models: Vec::new(), index: HashMap::new() }
    }
}

impl<M: Blocked> ParameterBlocks<M> {
    /// The number of `model`'s parameter set, added if new.
    pub fn intern(&mut self, model: M) -> u32 {
        let next = u32::try_from(self.models.len()).unwrap_or(u32::MAX);
        let id = *self.index.entry(model.key()).or_insert(next);
        if id == next {
            self.models.push(model);
        }
        id
    }

    /// The parameter sets, by number.
    pub fn models(&self) -> &[M] {
        &self.models
    }

    /// The number of distinct parameter sets.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// No parameter set yet.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// The number of this neuron's parameter set in its model's [`ParameterBlocks`] (kept by the
/// model component's insert hook; read it, never write it).
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParameterBlock(pub u32);

/// The insert hook of a [`Blocked`] model: interns the inserted parameters and writes their
/// number into the entity's [`ParameterBlock`] (a required component of the model).
pub(crate) fn intern<M: Blocked>(mut world: DeferredWorld, ctx: HookContext) {
    let Some(model) = world.get::<M>(ctx.entity).copied() else { return };
    if let Some(mut blocks) = world.get_resource_mut::<ParameterBlocks<M>>() {
        let id = blocks.intern(model);
        if let Some(mut block) = world.get_mut::<ParameterBlock>(ctx.entity) {
            block.0 = id;
        }
        return;
    }
    // Spawned before the plugin that keeps the table: make it, then intern.
    let entity = ctx.entity;
    world.commands().queue(move |world: &mut World| {
        let id = world.get_resource_or_init::<ParameterBlocks<M>>().intern(model);
        if let Some(mut block) = world.get_mut::<ParameterBlock>(entity) {
            block.0 = id;
        }
    });
}

/// The maximal runs of equal numbers in `blocks`: `(start, end, block)`.
pub(crate) fn runs(blocks: &[ParameterBlock]) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let first = blocks.get(start)?.0;
        let len = run_length(&blocks[start..], first);
        let run = (start, start + len, first);
        start += len;
        Some(run)
    })
}

/// How many of `blocks`' leading numbers equal `first`. Sixteen at a time with a branch-free
/// test each (a population is one run of thousands of rows: a row-by-row search with an exit
/// per row took a quarter of CUBA's `iaf_psc_exp` pass), then row by row in the sixteen that
/// end the run.
#[inline(always)]
fn run_length(blocks: &[ParameterBlock], first: u32) -> usize {
    let (chunks, _) = blocks.as_chunks::<16>();
    let whole = chunks.iter().position(|c| c.iter().fold(false, |other, b| other | (b.0 != first))).unwrap_or(chunks.len());
    let at = whole * 16;
    at + blocks[at..].iter().position(|b| b.0 != first).unwrap_or(blocks.len() - at)
}

/// Runs `kernel` on each maximal run of rows of `rows` whose `blocks` are equal, with the run's
/// parameter set (`models[block]`; a row whose number is not in `models` is left as it is,
/// which the insert hook makes impossible).
#[inline(always)]
pub(crate) fn for_each_run<R: Rows, M>(mut rows: R, blocks: &[ParameterBlock], models: &[M], mut kernel: impl FnMut(R, &M)) {
    for (start, end, id) in runs(&blocks[..rows.rows()]) {
        let (run, rest) = rows.split_rows(end - start);
        if let Some(model) = models.get(id as usize) {
            kernel(run, model);
        }
        rows = rest;
    }
}

/// A model that steps a run of its neurons (the run's state and input columns `C`) with one
/// parameter set.
pub(crate) trait StepRun<C> {
    /// One step of every neuron of the run, `held(k)` the generator current in effect over the
    /// step for row `k`, pA.
    fn step_run_with(&self, run: C, held: impl Fn(usize) -> f64);

    /// [`Self::step_run_with`] with each row's generator current from `stim` (zero without).
    #[inline(always)]
    fn step_run(&self, (run, stim): (C, Option<&[StimulusCurrent]>)) {
        match stim {
            Some(stim) => self.step_run_with(run, |k| stim[k].held),
            None => self.step_run_with(run, |_| 0.0),
        }
    }
}

/// [`StepRun::step_run`] over each run of rows with the same parameter set: the body of every
/// blocked model's step kernel.
#[inline(always)]
pub(crate) fn step_runs<C: Rows, M: StepRun<C>>(state: (C, Option<&[StimulusCurrent]>), blocks: &[ParameterBlock], models: &[M]) {
    for_each_run(
        state,
        blocks,
        models,
        #[inline(always)]
        |run, model| model.step_run(run),
    );
}

/// The parameter sets of `M` for steps of `dt` ms, rebuilt only when the table grew or the
/// step size changed (a model is built for one step size; `rebuild` makes it for another).
#[derive(Debug)]
pub(crate) struct AtStepSize<M> {
    dt: f64,
    models: Vec<M>,
}

impl<M> Default for AtStepSize<M> {
    fn default() -> Self {
        Self { dt: f64::NAN, models: Vec::new() }
    }
}

impl<M: Blocked> AtStepSize<M> {
    /// The parameter sets for `dt`; `built_for` is a model's step size.
    pub(crate) fn get(
        &mut self,
        blocks: &ParameterBlocks<M>,
        dt: f64,
        built_for: impl Fn(&M) -> f64,
        rebuild: impl Fn(&M, f64) -> M,
    ) -> &[M] {
        if self.dt != dt || self.models.len() != blocks.len() {
            self.dt = dt;
            self.models = blocks.models().iter().map(|m| if built_for(m) == dt { *m } else { rebuild(m, dt) }).collect();
        }
        &self.models
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_the_column_in_order() {
        let column: Vec<ParameterBlock> = [0, 0, 1, 1, 1, 0, 2].into_iter().map(ParameterBlock).collect();
        let got: Vec<_> = runs(&column).collect();
        assert_eq!(got, [(0, 2, 0), (2, 5, 1), (5, 6, 0), (6, 7, 2)]);
        assert_eq!(runs(&[]).count(), 0);
        // Runs ending inside, at the edge of and after sixteen-row chunks.
        for ends in [vec![40usize, 41, 100], vec![16, 32, 33], vec![15, 17, 64], vec![1, 2, 3]] {
            let mut column = Vec::new();
            for (b, end) in ends.iter().enumerate() {
                column.resize(*end, ParameterBlock(b as u32));
            }
            let got: Vec<_> = runs(&column).collect();
            let want: Vec<_> = ends.iter().enumerate().map(|(b, &end)| (if b == 0 { 0 } else { ends[b - 1] }, end, b as u32)).collect();
            assert_eq!(got, want);
        }
    }
}
