"""Brian2 2.9 C++ standalone timing of the CUBA and COBA benchmarks of Brette et al. (2007) on
the same model as scenes/brette_2007_cuba.ron and brette_2007_coba.ron (NEST's
`brette_et_al_2007/cuba.py`, `coba.py`; tests/reference/nest_brette.py builds it in NEST), for
BENCHMARKS.md:

    ~/.cache/biospike-peers/venv/bin/python tests/reference/brian2_brette.py cuba|coba THREADS MS SEED

3 200 excitatory and 800 inhibitory neurons with fixed in-degrees 64 and 16 drawn with numpy
(autapses and multapses allowed, as NEST's fixed_indegree), delay 0.1 ms, dt 0.1 ms, a 300 Hz
Poisson stimulus into the first 50 excitatory neurons from 1 to 51 ms, every spike recorded.
CUBA is NEST's iaf_psc_exp written as Brian2 equations integrated exactly (method 'exact');
COBA is iaf_cond_exp with classical Runge-Kutta (method 'rk4', one step per dt; biospike takes
one RK4 step of V over exactly decaying conductances, NEST an adaptive RKF45). THREADS = 1 compiles without OpenMP, 2
with 2 OpenMP threads. Prints the main loop's wall time as Brian2's standalone device measures
it (the counterpart of NEST's Simulate and of biospike's stepping), the spike count and the
binary's peak memory (GNU time).
"""
import os
import sys
import tempfile

import brian2 as b2
import numpy as np

NE, NI = 3200, 800


def main(which, threads, duration, seed):
    outdir = os.path.join(tempfile.gettempdir(), f"brian2_brette_{which}_t{threads}")
    b2.prefs.logging.file_log = False
    b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else threads
    b2.prefs.devices.cpp_standalone.run_cmd_unix = ["/usr/bin/time", "-v", "-o", "time_main.txt", "./main"]
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
    b2.defaultclock.dt = 0.1 * b2.ms
    rng = np.random.default_rng(seed)
    b2.seed(seed)  # Brian2's own generator too (stimulus, initial state): repeatable runs
    ms_, mV, pA, nS, pF = b2.ms, b2.mV, b2.pA, b2.nS, b2.pF
    if which == "cuba":
        eqs = """
        dv/dt = (E_L - v) / tau_m + (I_ex + I_in) / C_m : volt (unless refractory)
        dI_ex/dt = -I_ex / (5*ms) : amp
        dI_in/dt = -I_in / (10*ms) : amp
        """
        ns = {"E_L": -49 * mV, "tau_m": 20 * ms_, "C_m": 200 * pF}
        group = b2.NeuronGroup(NE + NI, eqs, threshold="v >= -50*mV", reset="v = -60*mV", refractory=5 * ms_,
                               method="exact", namespace=ns)
        group.v = -49 * mV
        targets, w_ex, w_in = ("I_ex", "I_in"), "16.2*pA", "-139.5*pA"
    else:
        eqs = """
        dv/dt = (g_L * (E_L - v) + g_ex * (E_ex - v) + g_in * (E_in - v)) / C_m : volt (unless refractory)
        dg_ex/dt = -g_ex / (5*ms) : siemens
        dg_in/dt = -g_in / (10*ms) : siemens
        """
        ns = {"E_L": -60 * mV, "g_L": 10 * nS, "E_ex": 0 * mV, "E_in": -80 * mV, "C_m": 200 * pF}
        group = b2.NeuronGroup(NE + NI, eqs, threshold="v >= -50*mV", reset="v = -60*mV", refractory=5 * ms_,
                               method="rk4", namespace=ns)
        group.v = -70 * mV
        targets, w_ex, w_in = ("g_ex", "g_in"), "6*nS", "67*nS"
    exc, inh = group[:NE], group[NE:]
    synapses = []
    for source, first, k, target, w in [(exc, 0, 64, targets[0], w_ex), (inh, NE, 16, targets[1], w_in)]:
        s = b2.Synapses(source, group, on_pre=f"{target}_post += {w}", delay=0.1 * ms_)
        n_source = len(source)
        pre = rng.integers(0, n_source, size=(NE + NI) * k)
        post = np.repeat(np.arange(NE + NI), k)
        s.connect(i=pre, j=post)
        synapses.append(s)
    stim = b2.PoissonGroup(50, rates="300*Hz*int(t >= 1*ms)*int(t < 51*ms)")
    into = b2.Synapses(stim, group, on_pre=f"{targets[0]}_post += {w_ex}")
    into.connect(j="i")
    spikes = b2.SpikeMonitor(group)
    net = b2.Network(group, *synapses, stim, into, spikes)
    net.run(duration * ms_)
    b2.device.build(directory=outdir, compile=True, run=True, with_output=False)
    rss = None
    with open(os.path.join(outdir, "time_main.txt")) as f:
        for line in f:
            if "Maximum resident set size" in line:
                rss = int(line.split(":")[-1]) / 1024.0
    print(f"RESULT brian2 {which} threads={threads} ms={duration} seed={seed} "
          f"loop_s={float(b2.device._last_run_time):.3f} spikes={spikes.num_spikes} peak_mb={rss:.0f}")


main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
