"""NEST 3.10 reference statistics of the COBA benchmark of Brette et al. (2007), J. Comput.
Neurosci. 23:349, as NEST ships it (`doc/examples/pynest/brette_et_al_2007/coba.py`):
3 200 excitatory and 800 inhibitory iaf_cond_exp neurons (E_L -60, V_th -50, V_reset -60 mV,
V_m starting at NEST's default -70 mV, C_m 200 pF, g_L 10 nS, E_ex 0 / E_in -80 mV, tau_syn 5 / 10
ms, t_ref 5 ms), fixed in-degrees 64 and 16 (epsilon 0.02), conductances 6 / 67 nS, delay 0.1 ms,
dt 0.1 ms, and a 300 Hz Poisson
stimulus into the first 50 excitatory neurons from 1 to 51 ms. Every neuron is recorded.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_coba.py tests/reference/coba_nest.csv

Writes, per seed, the statistics over 200..1000 ms (tests/brette_nest.rs computes the same from
biospike's spikes): mean rate of each population (Hz), mean ISI CV over neurons with at least 3
spikes, synchrony (variance over mean of the population count in 1 ms bins).
"""
import sys

import nest
import numpy as np

T0, T1 = 200.0, 1000.0
NE, NI = 3200, 800


def run(seed):
    nest.ResetKernel()
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.local_num_threads = 2
    nest.SetDefaults("iaf_cond_exp", {"E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0, "E_ex": 0.0, "E_in": -80.0,
                                      "C_m": 200.0, "g_L": 10.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0})
    ex = nest.Create("iaf_cond_exp", NE)
    inh = nest.Create("iaf_cond_exp", NI)
    stim = nest.Create("poisson_generator", params={"rate": 300.0, "start": 1.0, "stop": 51.0, "origin": 0.0})
    rec = nest.Create("spike_recorder")
    nest.CopyModel("static_synapse", "syn_ex", {"weight": 6.0, "delay": 0.1})
    nest.CopyModel("static_synapse", "syn_in", {"weight": -67.0, "delay": 0.1})
    CE, CI = int(NE * 0.02), int(NI * 0.02)
    nest.Connect(ex, ex, {"rule": "fixed_indegree", "indegree": CE}, "syn_ex")
    nest.Connect(inh, ex, {"rule": "fixed_indegree", "indegree": CI}, "syn_in")
    nest.Connect(ex, inh, {"rule": "fixed_indegree", "indegree": CE}, "syn_ex")
    nest.Connect(inh, inh, {"rule": "fixed_indegree", "indegree": CI}, "syn_in")
    nest.Connect(stim, ex[:50], "all_to_all", "syn_ex")
    nest.Connect(ex + inh, rec)
    nest.Simulate(T1)
    ev = rec.get("events")
    return stats(np.asarray(ev["senders"]) - 1, np.asarray(ev["times"]))


def stats(ids, times):
    keep = (times > T0) & (times <= T1)
    ids, times = ids[keep], times[keep]
    span = (T1 - T0) / 1000.0
    rate_e = np.sum(ids < NE) / NE / span
    rate_i = np.sum(ids >= NE) / NI / span
    cvs = []
    order = np.lexsort((times, ids))
    ids, times = ids[order], times[order]
    for n in np.unique(ids):
        t = times[ids == n]
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(np.std(isi) / np.mean(isi))
    counts, _ = np.histogram(times, bins=np.arange(T0, T1 + 1e-9, 1.0))
    return [float(x) for x in (rate_e, rate_i, np.mean(cvs), np.var(counts) / np.mean(counts))]


def main(path):
    with open(path, "w") as out:
        out.write("seed,rate_exc_hz,rate_inh_hz,cv,synchrony\n")
        for seed in range(1, 6):
            r = run(seed)
            out.write(f"{seed},{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r}\n")
            out.flush()


main(sys.argv[1])
