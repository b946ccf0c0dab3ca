"""NEST 3.10 reference statistics of Brunel (2000) with delta synapses, NEST's own example
(`doc/examples/pynest/brunel_delta_nest.py`) made a function of its size, g, eta, J and V_reset.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brunel.py tests/reference/brunel_nest.csv

States (each over seeds; every neuron has the full model's in-degrees C_E = 1 000 and C_I = 250,
whatever the population sizes, so every neuron sees the same input statistics):

- `nest_example`: NEST's example (g = 5, eta = 2, J = 0.1 mV, V_reset = 0 mV) at the test scale
  (2 000 excitatory, 500 inhibitory): fast oscillations, regular firing (CV ~ 0.2);
- `synchronous_regular`: the same with g = 3, at the test scale;
- `asynchronous_irregular`: Brunel's Figure 8C (g = 5, eta = 2, J = 0.2 mV, V_reset = 10 mV)
  at full scale (10 000 excitatory, 2 500 inhibitory); `asynchronous_irregular_ne5000` and
  `asynchronous_irregular_ne20000`: the same at half and twice the size, whose synchrony shows
  the state is asynchronous (the variance over mean of the population count stays the same when
  the network grows, so the population rate's relative fluctuations shrink as 1/sqrt(N); in a
  synchronous state it grows with N).

For each, simulates 1 000 ms and writes the statistics over 100..1000 ms of every neuron
(tests/brunel_nest.rs computes the same from biospike's spikes): mean rate of each population
(Hz), mean ISI CV over neurons with at least 3 spikes, and the synchrony (variance over mean of
the population's spike count in 1 ms bins; 1 for independent Poisson neurons).
"""
import sys

import os

import nest
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_stats import stats  # noqa: E402

T0, T1 = 100.0, 1000.0
CE, CI = 1000, 250


def network(NE, NI, g, eta, J, v_reset, seed, threads=2):
    """Builds the network (NE excitatory, NI inhibitory neurons, in-degrees CE and CI) in a
    fresh NEST kernel and returns the spike recorder that sees every neuron."""
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.local_num_threads = threads
    theta, tau = 20.0, 20.0
    params = {"C_m": 1.0, "tau_m": tau, "t_ref": 2.0, "E_L": 0.0, "V_reset": v_reset, "V_m": 0.0, "V_th": theta}
    p_rate = 1000.0 * eta * theta / (J * CE * tau) * CE
    ex = nest.Create("iaf_psc_delta", NE, params=params)
    inh = nest.Create("iaf_psc_delta", NI, params=params)
    noise = nest.Create("poisson_generator", params={"rate": p_rate})
    rec = nest.Create("spike_recorder")
    nest.CopyModel("static_synapse", "excitatory", {"weight": J, "delay": 1.5})
    nest.CopyModel("static_synapse", "inhibitory", {"weight": -g * J, "delay": 1.5})
    nest.Connect(noise, ex + inh, syn_spec="excitatory")
    nest.Connect(ex, ex + inh, {"rule": "fixed_indegree", "indegree": CE}, "excitatory")
    nest.Connect(inh, ex + inh, {"rule": "fixed_indegree", "indegree": CI}, "inhibitory")
    nest.Connect(ex + inh, rec)
    return rec


def run(NE, NI, g, eta, J, v_reset, seed):
    rec = network(NE, NI, g, eta, J, v_reset, seed)
    nest.Simulate(T1)
    ev = rec.get("events")
    return stats(np.asarray(ev["senders"]) - 1, np.asarray(ev["times"]), NE, NI, T0, T1)


STATES = [
    # name, NE, g, eta, J, V_reset, seeds
    ("nest_example", 2000, 5.0, 2.0, 0.1, 0.0, range(1, 6)),
    ("synchronous_regular", 2000, 3.0, 2.0, 0.1, 0.0, range(1, 6)),
    ("asynchronous_irregular", 10000, 5.0, 2.0, 0.2, 10.0, range(1, 6)),
    ("asynchronous_irregular_ne5000", 5000, 5.0, 2.0, 0.2, 10.0, range(1, 4)),
    ("asynchronous_irregular_ne20000", 20000, 5.0, 2.0, 0.2, 10.0, range(1, 4)),
]


def main(path, only=None):
    mode = "a" if only else "w"
    with open(path, mode) as out:
        if not only:
            out.write("state,g,eta,seed,rate_exc_hz,rate_inh_hz,cv,synchrony\n")
        for state, ne, g, eta, J, v_reset, seeds in STATES:
            if only and state not in only:
                continue
            for seed in seeds:
                r = [float(x) for x in run(ne, ne // 4, g, eta, J, v_reset, seed)]
                out.write(f"{state},{g},{eta},{seed},{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r}\n")
                out.flush()


# `nest_brunel.py OUT [STATE ...]`: every state into a new OUT, or only the named ones appended.
if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
