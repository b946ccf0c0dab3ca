"""NEST 3.10's simulation time for tests/reference/aeif_beta_bench.ron: 200
`aeif_cond_beta_multisynapse` neurons (E_rev 0/0/-80 mV, tau_rise 0.2/2/0.5 ms, tau_decay
2/50/6 ms, a = b = 0, t_ref 1 ms, NEST's other defaults), each driven by its own 4 kHz Poisson
train of 2 nS into receptor 1, dt 0.1 ms, 1 s simulated, one thread (BENCHMARKS round 20):

    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_aeif_beta_bench.py

Prints the time of `nest.Simulate(1000.0)` (build excluded) and the spike count.
"""
import time

import nest

nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": 7})
cells = nest.Create(
    "aeif_cond_beta_multisynapse",
    200,
    params={"E_rev": [0.0, 0.0, -80.0], "tau_rise": [0.2, 2.0, 0.5], "tau_decay": [2.0, 50.0, 6.0], "a": 0.0, "b": 0.0, "t_ref": 1.0},
)
drive = nest.Create("poisson_generator", params={"rate": 4000.0})
nest.Connect(drive, cells, syn_spec={"weight": 2.0, "receptor_type": 1})
rec = nest.Create("spike_recorder")
nest.Connect(cells, rec)
t0 = time.time()
nest.Simulate(1000.0)
t1 = time.time()
print(f"aeif_cond_beta_multisynapse x 200, 1 s: simulate {t1 - t0:.2f} s, spikes {rec.n_events}")
