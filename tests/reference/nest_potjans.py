"""NEST 3.10 reference rates of the cortical microcircuit of Potjans & Diesmann (2014), Cereb.
Cortex 24:785, with the parameters of NEST's example (`pynest/examples/Potjans_2014`,
network_params.py / sim_params.py, as in NEST's repository before the example moved out in
2025): 8 populations of iaf_psc_exp neurons (tau_syn 0.5 ms), fixed total numbers of synapses
from the connection probabilities (multapses and autapses allowed), weights and delays drawn
from normal distributions redrawn outside their bounds, Poisson background (8 Hz times the
external in-degree), initial potentials "optimized" per population, dt 0.1 ms.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_potjans.py rates SCALE SEEDS OUT.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_potjans.py bench SCALE THREADS

SCALE is NEST's `N_scaling` with `K_scaling` = 1: every population has SCALE times its neurons
and the total numbers of synapses are SCALE times the full ones, so the in-degrees, weights and
input statistics per neuron are the full model's (no compensating DC is needed). `rates` writes,
per seed, the mean rate of each population over (500, 1500] ms (500 ms of pre-simulation, as the
example) to OUT.csv (tests/potjans_nest.rs compares biospike's scenes/potjans_2014.ron at the same
scale). `bench` builds once and prints the build time, the simulation time of 1 000 ms (after
nothing else: the timed phase of BENCHMARKS.md) and the peak memory of the process.
"""
import resource
import sys
import time

import nest
import numpy as np

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
FULL_N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# conn_probs[target][source]
P = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0_STD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
C_M, TAU_M, TAU_SYN = 250.0, 10.0, 0.5


def psc_over_psp():
    """pA per mV of PSP peak for an exponential current into a leaky membrane."""
    sub = 1.0 / (TAU_SYN - TAU_M)
    pre = TAU_M * TAU_SYN / C_M * sub
    frac = (TAU_M / TAU_SYN) ** sub
    return 1.0 / (pre * (frac**TAU_M - frac**TAU_SYN))


def totals():
    """Full-scale number of synapses per (target, source), as a float."""
    prod = np.outer(FULL_N, FULL_N)
    return np.log(1.0 - P) / np.log((prod - 1.0) / prod)


def build(scale, seed, threads, split_models=False):
    nest.ResetKernel()
    nest.local_num_threads = threads
    nest.resolution = 0.1
    nest.rng_seed = seed
    nest.print_time = False
    n = np.round(FULL_N * scale).astype(int)
    syn = np.round(totals() * scale).astype(int)
    w_exc = 0.15 * psc_over_psp()
    pops = []
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", n[i])
        pop.set(tau_syn_ex=TAU_SYN, tau_syn_in=TAU_SYN, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, I_e=0.0)
        pop.set(V_m=nest.random.normal(V0_MEAN[i], V0_STD[i]))
        pops.append(pop)
    rec = nest.Create("spike_recorder", 8)
    # NEST stores at most 2^27 - 2 connections per synapse model and thread: the full model
    # (299 M synapses) on 1 or 2 threads needs the static synapse split into copies, one per
    # source population (the largest, from L2/3E, holds 93 M). The dynamics are the same.
    models = [f"static_from_{p}" for p in POPS] if split_models else ["static_synapse"] * 8
    if split_models:
        for m in models:
            nest.CopyModel("static_synapse", m)
    for i in range(8):
        for j in range(8):
            w = w_exc * (-4.0 if j % 2 == 1 else 1.0) * (2.0 if (i, j) == (0, 2) else 1.0)
            d = 0.75 if j % 2 == 1 else 1.5
            lo, hi = (-np.inf, 0.0) if w < 0 else (0.0, np.inf)
            nest.Connect(
                pops[j],
                pops[i],
                {"rule": "fixed_total_number", "N": int(syn[i][j])},
                {
                    "synapse_model": models[j],
                    "weight": nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * 0.1), min=lo, max=hi),
                    "delay": nest.math.redraw(nest.random.normal(mean=d, std=d * 0.5), min=0.05, max=np.inf),
                },
            )
    bg = nest.Create("poisson_generator", 8)
    bg.rate = 8.0 * K_EXT
    for i in range(8):
        nest.Connect(bg[i], pops[i], "all_to_all", {"weight": w_exc, "delay": 1.5})
        nest.Connect(pops[i], rec[i])
    return n, rec


def rates(scale, seeds, path):
    with open(path, "w") as out:
        out.write("scale,seed," + ",".join(f"rate_{p}_hz" for p in POPS) + "\n")
        for seed in seeds:
            n, rec = build(scale, seed, 2)
            nest.Simulate(1500.0)
            r = []
            for i in range(8):
                t = np.asarray(rec[i].get("events")["times"])
                r.append(float(np.sum((t > 500.0) & (t <= 1500.0)) / n[i] / 1.0))
            out.write(f"{scale!r},{seed}," + ",".join(repr(x) for x in r) + "\n")
            out.flush()
            print(seed, [round(x, 3) for x in r], flush=True)


def bench(scale, threads):
    t0 = time.perf_counter()
    n, rec = build(scale, 55, threads, split_models=True)
    nest.Prepare()
    nest.Cleanup()
    t1 = time.perf_counter()
    nest.Simulate(1000.0)
    t2 = time.perf_counter()
    spikes = sum(len(rec[i].get("events")["times"]) for i in range(8))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"neurons {int(n.sum())} synapses {nest.num_connections} spikes {spikes}")
    print(f"build {t1 - t0:.2f} s, simulate 1000 ms {t2 - t1:.2f} s, peak memory {peak:.0f} MB")


if sys.argv[1] == "rates":
    rates(float(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4])
else:
    bench(float(sys.argv[2]), int(sys.argv[3]))
