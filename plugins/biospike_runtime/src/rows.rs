//! Per-neuron kernels over whole component columns.
//!
//! Bevy stores table components column by column, and [`Query::contiguous_iter_mut`] hands
//! out each table's columns as slices. A kernel written as a loop over slices lets the
//! compiler keep several neurons in flight (and vectorise where it can), which the
//! one-entity-at-a-time iterator does not.
//!
//! [`Rows`] is a set of equally long column slices (a slice or a tuple of slices) that can be
//! split at a row; [`for_each_chunk`] runs a kernel on it, split over the [`crate::parallel`]
//! threads when it holds at least [`crate::PARALLEL_MIN_ROWS`] rows. Each row is touched by exactly one
//! call, so the result does not depend on the thread count.
//!
//! [`Query::contiguous_iter_mut`]: https://docs.rs/bevy_ecs/0.19/bevy_ecs/system/struct.Query.html#method.contiguous_iter_mut
//!
//! # Example
//! ```
//! use biospike_runtime::rows::for_each_chunk;
//!
//! let mut v = vec![1.0_f64; 40_000];
//! let gain = vec![2.0_f64; 40_000];
//! for_each_chunk((&mut v[..], &gain[..]), |(v, gain)| {
//!     for (v, g) in v.iter_mut().zip(gain) {
//!         *v *= g;
//!     }
//! });
//! assert!(v.iter().all(|&x| x == 2.0));
//! ```

/// Equally long column slices that can be split at a row.
pub trait Rows: Sized + Send {
    /// Number of rows (the length of the first column).
    fn rows(&self) -> usize;
    /// The rows `..mid` and `mid..`.
    fn split_rows(self, mid: usize) -> (Self, Self);
}

impl<T: Send> Rows for &mut [T] {
    #[inline]
    fn rows(&self) -> usize {
        self.len()
    }
    #[inline]
    fn split_rows(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<T: Sync> Rows for &[T] {
    #[inline]
    fn rows(&self) -> usize {
        self.len()
    }
    #[inline]
    fn split_rows(self, mid: usize) -> (Self, Self) {
        self.split_at(mid)
    }
}

/// A column that a table may lack (`Option<&[T]>` from an optional query term): split like
/// the column when present. Its `rows` is 0 when absent, so it must not be a tuple's first
/// column.
impl<T: Rows> Rows for Option<T> {
    #[inline]
    fn rows(&self) -> usize {
        self.as_ref().map_or(0, Rows::rows)
    }
    #[inline]
    fn split_rows(self, mid: usize) -> (Self, Self) {
        match self {
            Some(t) => {
                let (a, b) = t.split_rows(mid);
                (Some(a), Some(b))
            }
            None => (None, None),
        }
    }
}

macro_rules! impl_rows_for_tuple {
    ($first:ident $(, $name:ident)*) => {
        impl<$first: Rows $(, $name: Rows)*> Rows for ($first, $($name,)*) {
            #[inline]
            fn rows(&self) -> usize {
                self.0.rows()
            }
            #[inline]
            #[allow(non_snake_case, reason = "macro-generated tuple bindings")]
            fn split_rows(self, mid: usize) -> (Self, Self) {
                let ($first, $($name,)*) = self;
                let $first = $first.split_rows(mid);
                $(let $name = $name.split_rows(mid);)*
                (($first.0, $($name.0,)*), ($first.1, $($name.1,)*))
            }
        }
    };
}

impl_rows_for_tuple!(A);
impl_rows_for_tuple!(A, B);
impl_rows_for_tuple!(A, B, C);
impl_rows_for_tuple!(A, B, C, D);
impl_rows_for_tuple!(A, B, C, D, E);
impl_rows_for_tuple!(A, B, C, D, E, F);
impl_rows_for_tuple!(A, B, C, D, E, F, G);
impl_rows_for_tuple!(A, B, C, D, E, F, G, H);

/// Runs `kernel` on `rows`: once, serially, below [`crate::PARALLEL_MIN_ROWS`] rows (or
/// with one thread); otherwise on one contiguous chunk per [`crate::parallel`] thread.
pub fn for_each_chunk<R: Rows>(rows: R, kernel: impl Fn(R) + Sync) {
    let n = rows.rows();
    let threads = crate::parallel::threads();
    if n < crate::PARALLEL_MIN_ROWS || threads == 1 {
        kernel(rows);
        return;
    }
    crate::parallel::run_parts(split(rows, threads), kernel);
}

/// [`for_each_chunk`] for kernels that cost much more than a few nanoseconds a row (an
/// adaptive ODE stepper: about a microsecond): splits from `min_rows` rows on. Each row is
/// still touched by exactly one thread, so the result does not depend on the split.
pub fn for_each_costly_chunk<R: Rows>(rows: R, min_rows: usize, kernel: impl Fn(R) + Sync) {
    let n = rows.rows();
    let threads = crate::parallel::threads();
    if n < min_rows.max(2) || threads == 1 {
        kernel(rows);
        return;
    }
    crate::parallel::run_parts(split(rows, threads), kernel);
}

/// Like [`for_each_chunk`] (the same chunks, so each thread sees the rows it saw there), but
/// returns each chunk's result, in row order.
pub fn map_chunks<R: Rows, T: Send>(rows: R, kernel: impl Fn(R) -> T + Sync) -> Vec<T> {
    let n = rows.rows();
    let threads = crate::parallel::threads();
    if n < crate::PARALLEL_MIN_ROWS || threads == 1 {
        return vec![kernel(rows)];
    }
    let parts = split(rows, threads);
    let mut out: Vec<Option<T>> = parts.iter().map(|_| None).collect();
    crate::parallel::run_parts(parts.into_iter().zip(out.iter_mut()), |(part, slot)| *slot = Some(kernel(part)));
    out.into_iter().flatten().collect()
}

/// `rows` in `threads` contiguous chunks of `rows.div_ceil(threads)` (the last one shorter).
fn split<R: Rows>(rows: R, threads: usize) -> Vec<R> {
    let chunk = rows.rows().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = rows;
    while rest.rows() > chunk {
        let (mine, tail) = rest.split_rows(chunk);
        parts.push(mine);
        rest = tail;
    }
    parts.push(rest);
    parts
}

/// Hints the CPU to bring `x`'s cache line in (a no-op off x86-64).
#[inline(always)]
pub fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch only hints the cache: it
        // never dereferences the pointer (which is valid anyway) and cannot fault.
        #[allow(unsafe_code, reason = "prefetch hint: SSE is baseline on x86-64 and the instruction cannot fault")]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Hints the CPU to bring every cache line of `xs` in: for a short row that is about to be
/// walked at a place the hardware prefetcher cannot guess (a synapse row picked by a spike).
#[inline]
pub fn prefetch_slice<T>(xs: &[T]) {
    // One element per 64 bytes lands on each line the slice starts in; the last element
    // covers the line a misaligned slice spills into.
    for chunk in xs.chunks((64 / std::mem::size_of::<T>().max(1)).max(1)) {
        prefetch(&chunk[0]);
    }
    if let Some(last) = xs.last() {
        prefetch(last);
    }
}

/// Asks for a synapse row's targets, weights and (when they differ per synapse) delays ahead
/// of its pass: rows are picked by spikes, so the hardware prefetcher cannot guess them, and a
/// row of 100 synapses is a few lines per array, each a miss.
#[inline]
pub fn prefetch_synapse_row(posts: &[u32], weights: &[f32], delays: Option<&[u16]>) {
    prefetch_slice(posts);
    prefetch_slice(weights);
    if let Some(delays) = delays {
        prefetch_slice(delays);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunk results come back in row order, and cover every row once.
    #[test]
    fn map_chunks_returns_results_in_row_order() {
        crate::parallel::set_threads(2);
        let n = crate::PARALLEL_MIN_ROWS * 2 + 5;
        let v: Vec<u32> = (0..n as u32).collect();
        let parts = map_chunks(&v[..], |part: &[u32]| part.to_vec());
        assert_eq!(parts.concat(), v);
        assert_eq!(map_chunks(&v[..10], |part: &[u32]| part.len()), vec![10]);
    }

    #[test]
    fn tuples_split_every_column_at_the_same_row() {
        let mut a = [1, 2, 3, 4];
        let b = [5, 6, 7, 8];
        let ((a0, b0), (a1, b1)) = (&mut a[..], &b[..]).split_rows(1);
        assert_eq!((a0.len(), b0, a1.len(), b1), (1, &[5][..], 3, &[6, 7, 8][..]));
    }

    /// Large inputs go through the parallel path; every row must be visited exactly once.
    #[test]
    fn every_row_once_in_parallel() {
        crate::parallel::set_threads(2);
        let n = crate::PARALLEL_MIN_ROWS * 3 + 17;
        let mut hits = vec![0u8; n];
        let idx: Vec<usize> = (0..n).collect();
        for_each_chunk((&mut hits[..], &idx[..]), |(h, i)| {
            for (h, &i) in h.iter_mut().zip(i) {
                *h += 1 + (i % 2) as u8;
            }
        });
        assert!(hits.iter().enumerate().all(|(i, &h)| h == 1 + (i % 2) as u8));
    }
}
