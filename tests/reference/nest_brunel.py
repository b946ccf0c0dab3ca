"""NEST 3.10 reference statistics of Brunel (2000) with delta synapses, NEST's own example
(`doc/examples/pynest/brunel_delta_nest.py`) made a function of its scale, g and eta.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brunel.py tests/reference/brunel_nest.csv

For each state (NEST's example, g = 5, eta = 2: synchronous irregular with fast oscillations;
synchronous regular: g = 3, eta = 2) and seed, at the test scale (2 000 excitatory and 500
inhibitory neurons with the full model's in-degrees C_E = 1 000, C_I = 250: the same input
statistics per neuron), simulates 1 000 ms and writes the statistics over 100..1000 ms of every neuron (tests/brunel_nest.rs
computes the same from biospike's spikes): mean rate of each population (Hz), mean ISI CV over
neurons with at least 3 spikes, and the synchrony (variance over mean of the population's
spike count in 1 ms bins; 1 for independent Poisson neurons).
"""
import sys

import os

import nest
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_stats import stats  # noqa: E402

T0, T1 = 100.0, 1000.0


def run(NE, NI, CE, CI, g, eta, seed):
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.local_num_threads = 2
    J, theta, tau = 0.1, 20.0, 20.0
    params = {"C_m": 1.0, "tau_m": tau, "t_ref": 2.0, "E_L": 0.0, "V_reset": 0.0, "V_m": 0.0, "V_th": theta}
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
    nest.Simulate(T1)
    ev = rec.get("events")
    return stats(np.asarray(ev["senders"]) - 1, np.asarray(ev["times"]), NE, NI, T0, T1)


def main(path):
    with open(path, "w") as out:
        out.write("state,g,eta,seed,rate_exc_hz,rate_inh_hz,cv,synchrony\n")
        for state, g, eta in [("nest_example", 5.0, 2.0), ("synchronous_regular", 3.0, 2.0)]:
            for seed in range(1, 6):
                r = [float(x) for x in run(2000, 500, 1000, 250, g, eta, seed)]
                out.write(f"{state},{g},{eta},{seed},{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r}\n")
                out.flush()


main(sys.argv[1])
