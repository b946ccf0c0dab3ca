"""NEST 3.10 reference statistics of the CUBA and COBA benchmarks of Brette et al. (2007),
J. Comput. Neurosci. 23:349, as NEST ships them (`doc/examples/pynest/brette_et_al_2007/cuba.py`,
`coba.py`): 3 200 excitatory and 800 inhibitory neurons, fixed in-degrees 64 and 16 (epsilon
0.02), delay 0.1 ms, dt 0.1 ms, and a 300 Hz Poisson stimulus into the first 50 excitatory
neurons from 1 to 51 ms. Every neuron is recorded.
- CUBA: iaf_psc_exp (E_L -49 mV above V_th -50 mV, V_reset -60, C_m 200 pF, tau_m 20 ms,
  tau_syn 5 / 10 ms, t_ref 5 ms), weights 16.2 / -139.5 pA; statistics over 200..2000 ms.
- COBA: iaf_cond_exp (E_L -60, V_th -50, V_reset -60 mV, V_m starting at NEST's default -70 mV,
  C_m 200 pF, g_L 10 nS, E_ex 0 / E_in -80 mV, tau_syn 5 / 10 ms, t_ref 5 ms), conductances
  6 / 67 nS; statistics over 200..1000 ms.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brette.py cuba tests/reference/cuba_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brette.py coba tests/reference/coba_nest.csv

Writes, per seed, the statistics of nest_stats.py (tests/brette_nest.rs computes the same from
biospike's spikes).

    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brette.py bench cuba|coba THREADS MS SEED

builds the same network on THREADS threads and prints the wall time of `Simulate(MS)` (the
timed phase of BENCHMARKS.md), the number of spikes and the peak memory of the process.
"""
import resource
import time
import os
import sys

import nest
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_stats import stats  # noqa: E402

NE, NI = 3200, 800
MODELS = {
    "cuba": ("iaf_psc_exp", {"E_L": -49.0, "V_m": -49.0, "V_th": -50.0, "V_reset": -60.0, "C_m": 200.0,
                             "tau_m": 20.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "t_ref": 5.0}, 16.2, -139.5, 2000.0),
    "coba": ("iaf_cond_exp", {"E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0, "E_ex": 0.0, "E_in": -80.0,
                              "C_m": 200.0, "g_L": 10.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0}, 6.0, -67.0, 1000.0),
}
T0 = 200.0


def run(which, seed, threads=2, t1=None, timed=False):
    model, params, w_ex, w_in, t_end = MODELS[which]
    t1 = t_end if t1 is None else t1
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.local_num_threads = threads
    nest.SetDefaults(model, params)
    ex = nest.Create(model, NE)
    inh = nest.Create(model, NI)
    stim = nest.Create("poisson_generator", params={"rate": 300.0, "start": 1.0, "stop": 51.0, "origin": 0.0})
    rec = nest.Create("spike_recorder")
    nest.CopyModel("static_synapse", "syn_ex", {"weight": w_ex, "delay": 0.1})
    nest.CopyModel("static_synapse", "syn_in", {"weight": w_in, "delay": 0.1})
    CE, CI = int(NE * 0.02), int(NI * 0.02)
    nest.Connect(ex, ex, {"rule": "fixed_indegree", "indegree": CE}, "syn_ex")
    nest.Connect(inh, ex, {"rule": "fixed_indegree", "indegree": CI}, "syn_in")
    nest.Connect(ex, inh, {"rule": "fixed_indegree", "indegree": CE}, "syn_ex")
    nest.Connect(inh, inh, {"rule": "fixed_indegree", "indegree": CI}, "syn_in")
    nest.Connect(stim, ex[:50], "all_to_all", "syn_ex")
    nest.Connect(ex + inh, rec)
    if timed:
        nest.Prepare()
        nest.Cleanup()
        start = time.perf_counter()
        nest.Simulate(t1)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(f"{which} threads {threads}: simulate {t1:.0f} ms {wall:.2f} s, {rec.n_events} spikes, peak memory {peak:.0f} MB")
        return None
    nest.Simulate(t1)
    ev = rec.get("events")
    return stats(np.asarray(ev["senders"]) - 1, np.asarray(ev["times"]), NE, NI, T0, t1)


def main(which, path):
    with open(path, "w") as out:
        out.write("seed,rate_exc_hz,rate_inh_hz,cv,synchrony\n")
        for seed in range(1, 6):
            r = run(which, seed)
            out.write(f"{seed},{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r}\n")
            out.flush()


if sys.argv[1] == "bench":
    run(sys.argv[2], int(sys.argv[5]), threads=int(sys.argv[3]), t1=float(sys.argv[4]), timed=True)
else:
    main(sys.argv[1], sys.argv[2])
