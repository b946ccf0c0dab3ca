use bevy_ecs::prelude::*;

/// Synaptic input in flight: `slots` rows of one accumulator per neuron, one row per future
/// step (modulo `slots`). Slot-major (`buf[slot * neurons + neuron]`): the input due at a step
/// is one contiguous row (read out and cleared as a slice), and a presynaptic row whose targets
/// are consecutive neurons lands as one vectorised slice add. Threads own the same range of
/// neurons in every slot.
///
/// Memory: `8 × slots` bytes per neuron and channel (one, two with signed channels, plus one per
/// receptor port in use), `slots = max delay + 1`.
#[derive(Resource, Debug, Default, Clone)]
pub struct DelayRing {
    pub(crate) slots: usize,
    pub(crate) neurons: usize,
    pub(crate) buf: Vec<f64>,
    /// With [`biospike_core::SignedChannels`]: the negative weights in flight, laid out as
    /// `buf` (which then holds the positive ones); empty otherwise.
    pub(crate) inh: Vec<f64>,
    /// Receptor ports 1..=`receptors` of [`biospike_core::SynapticReceptor`] synapses, port
    /// after port, each laid out as `buf`; empty without such synapses.
    pub(crate) ports: Vec<f64>,
    pub(crate) receptors: usize,
}

biospike_core::persist_fields!(DelayRing { slots, neurons, buf, inh, ports, receptors });

impl DelayRing {
    /// Number of slots (max delay + 1).
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Slot of absolute `step`.
    #[inline]
    pub(crate) fn slot_of(&self, step: u64) -> usize {
        (step % self.slots as u64) as usize
    }

    /// The accumulators of one slot (one per neuron).
    #[cfg(test)]
    #[inline]
    pub(crate) fn slot_row_mut(&mut self, slot: usize) -> &mut [f64] {
        let n = self.neurons;
        &mut self.buf[slot * n..(slot + 1) * n]
    }

    /// Input already scheduled for `neuron` at absolute `step` (0 if none or out of range).
    pub fn pending(&self, neuron: u32, step: u64) -> f64 {
        if self.slots == 0 || neuron as usize >= self.neurons {
            return 0.0;
        }
        let at = self.slot_of(step) * self.neurons + neuron as usize;
        let ports: f64 = (0..self.receptors).map(|r| self.ports.get(r * self.slots * self.neurons + at).copied().unwrap_or(0.0)).sum();
        self.buf.get(at).copied().unwrap_or(0.0) + self.inh.get(at).copied().unwrap_or(0.0) + ports
    }

    /// Resizes to at least `neurons` × `slots`, keeping what is in flight: the value due at
    /// absolute step `s` (for `s` from `now`) stays due at `s`.
    pub(crate) fn ensure(&mut self, neurons: usize, slots: usize, now: u64, signed: bool, receptors: usize) {
        let slots = slots.max(self.slots).max(2);
        let neurons = neurons.max(self.neurons);
        let receptors = receptors.max(self.receptors);
        if slots == self.slots && neurons == self.neurons && signed != self.inh.is_empty() && receptors == self.receptors {
            return;
        }
        let moved = |from: &[f64]| {
            let mut buf = vec![0.0; neurons * slots];
            if self.slots > 0 && !from.is_empty() {
                for ahead in 0..self.slots as u64 {
                    let s = now + ahead;
                    let old = self.slot_of(s) * self.neurons;
                    let new = (s % slots as u64) as usize * neurons;
                    buf[new..new + self.neurons].copy_from_slice(&from[old..old + self.neurons]);
                }
            }
            buf
        };
        let buf = moved(&self.buf);
        let inh = if signed { moved(&self.inh) } else { Vec::new() };
        let old = self.slots * self.neurons;
        let ports = (0..receptors)
            .flat_map(|r| if r < self.receptors { moved(&self.ports[r * old..(r + 1) * old]) } else { vec![0.0; neurons * slots] })
            .collect();
        *self = Self { slots, neurons, buf, inh, ports, receptors };
    }

    /// Number of receptor ports with rows of their own (the largest port of the synapses).
    pub fn receptors(&self) -> usize {
        self.receptors
    }

    /// Whether negative weights travel apart ([`biospike_core::SignedChannels`]).
    pub fn is_signed(&self) -> bool {
        !self.inh.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_resize_keeps_values_in_flight() {
        let mut ring = DelayRing::default();
        ring.ensure(2, 2, 10, false, 0);
        let slot = ring.slot_of(11);
        ring.slot_row_mut(slot)[1] = 7.0; // neuron 1, due at step 11
        ring.ensure(3, 5, 10, false, 0);
        assert_eq!(ring.pending(1, 11), 7.0);
        assert_eq!(ring.pending(1, 12), 0.0);
        assert_eq!(ring.pending(0, 11), 0.0);
        assert_eq!(ring.pending(2, 11), 0.0);
    }
}
