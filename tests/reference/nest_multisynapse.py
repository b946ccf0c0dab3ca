"""NEST 3.10 reference traces of `iaf_psc_exp_multisynapse` (receptor ports, each with its own
synaptic time constant) for tests/lif_nest.rs.

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_multisynapse.py tests/reference/iaf_psc_exp_multisynapse_nest.csv

One neuron per case, dt = 0.1 ms, 300 ms; input spikes from spike_generators through static
synapses (delay 1.0 ms, weights in pA) into the given receptor port (NEST's `receptor_type`,
1-based), plus a constant I_e. In `same_source_two_ports` one generator reaches the neuron
twice, through ports 1 and 2 (a fast and a slow current from one source, as AMPA and NMDA
would), and port 1 also takes negative weights from a second generator. Writes the lines
nest_trace.py writes (case,v,step,V_m and case,spike,index,time_ms).
"""
import os
import sys

import nest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_trace import trace  # noqa: E402

# (name, neuron params, I_e pA, [(generator, spike times ms, [(weight pA, port)])])
CASES = [
    ("three_ports", {"tau_syn": [0.5, 2.0, 20.0]}, 300.0, [
        ([5.0, 20.0, 40.3, 80.0, 80.1], [(900.0, 1)]),
        ([10.0, 30.0, 100.0], [(-1200.0, 2)]),
        ([50.0, 60.0, 150.0, 150.5, 200.0], [(150.0, 3)]),
    ]),
    ("same_source_two_ports", {"tau_syn": [2.0, 100.0], "tau_m": 20.0, "t_ref": 3.0}, 0.0, [
        ([10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 121.0, 122.0], [(700.0, 1), (60.0, 2)]),
        ([60.0, 61.0, 200.0], [(-1500.0, 1)]),
    ]),
]


def main(path):
    out = open(path, "w")
    out.write("case,kind,step_or_index,value\n")
    for name, params, i_e, inputs in CASES:
        def connect(n, inputs=inputs):
            for times, targets in inputs:
                g = nest.Create("spike_generator", params={"spike_times": times})
                for w, port in targets:
                    nest.Connect(g, n, syn_spec={"weight": w, "delay": 1.0, "receptor_type": port})

        trace(out, name, "iaf_psc_exp_multisynapse", dict(params, I_e=i_e), connect)
    out.close()


main(sys.argv[1])
