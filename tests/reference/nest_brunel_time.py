"""NEST 3.10's simulation time and memory on Brunel (2000) with delta synapses, for
BENCHMARKS.md: the network of scenes/brunel_2000_ai.ron (NEST's `brunel_delta_nest.py` with
Brunel's Figure 8C J = 0.2 mV and V_reset = 10 mV; round 16) or, with `example`, that of
scenes/brunel_2000.ron (NEST's example as it ships: J = 0.1 mV, V_reset = 0 mV; round 12):

    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brunel_time.py THREADS [example]

Prints the time of `nest.Simulate(1000.0)` (1 s simulated, build excluded), the spike count
and the process's peak resident memory.
"""
import os
import resource
import sys
import time

import nest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_brunel import network  # noqa: E402

THREADS = int(sys.argv[1])
J, V_RESET = (0.1, 0.0) if sys.argv[2:3] == ["example"] else (0.2, 10.0)
nest.set_verbosity("M_ERROR")
rec = network(10000, 2500, 5.0, 2.0, J, V_RESET, seed=1, threads=THREADS)
t0 = time.time()
nest.Simulate(1000.0)
t1 = time.time()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"threads {THREADS}: simulate {t1 - t0:.2f} s, spikes {rec.n_events}, peak RSS {rss:.0f} MB")
