use bevy_ecs::prelude::*;

/// Synaptic input in flight: for each neuron, `slots` accumulators, one per future step
/// (modulo `slots`). Neuron-major (`buf[neuron * slots + slot]`), so a range of targets is one
/// contiguous block that a thread can own.
///
/// Memory: `8 × slots` bytes per neuron, `slots = max delay + 1`.
#[derive(Resource, Debug, Default, Clone)]
pub struct DelayRing {
    pub(crate) slots: usize,
    pub(crate) neurons: usize,
    pub(crate) buf: Vec<f64>,
}

impl DelayRing {
    /// Number of slots (max delay + 1).
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Input already scheduled for `neuron` at absolute `step` (0 if none or out of range).
    pub fn pending(&self, neuron: u32, step: u64) -> f64 {
        if self.slots == 0 {
            return 0.0;
        }
        let slot = (step % self.slots as u64) as usize;
        self.buf.get(neuron as usize * self.slots + slot).copied().unwrap_or(0.0)
    }

    /// Resizes to at least `neurons` × `slots`, keeping what is in flight: the value due at
    /// absolute step `s` (for `s` from `now`) stays due at `s`.
    pub(crate) fn ensure(&mut self, neurons: usize, slots: usize, now: u64) {
        let slots = slots.max(self.slots).max(2);
        let neurons = neurons.max(self.neurons);
        if slots == self.slots && neurons == self.neurons {
            return;
        }
        let mut buf = vec![0.0; neurons * slots];
        if self.slots > 0 {
            for n in 0..self.neurons {
                for ahead in 0..self.slots as u64 {
                    let s = now + ahead;
                    let old = self.buf[n * self.slots + (s % self.slots as u64) as usize];
                    buf[n * slots + (s % slots as u64) as usize] = old;
                }
            }
        }
        *self = Self { slots, neurons, buf };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_resize_keeps_values_in_flight() {
        let mut ring = DelayRing::default();
        ring.ensure(2, 2, 10);
        let slot = (11 % 2) as usize;
        ring.buf[slot] = 7.0; // neuron 0, due at step 11
        ring.ensure(2, 5, 10);
        assert_eq!(ring.pending(0, 11), 7.0);
        assert_eq!(ring.pending(0, 12), 0.0);
    }
}
