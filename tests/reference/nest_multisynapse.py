"""NEST 3.10 reference traces of the models with receptor ports (each port its own synaptic
dynamics; NEST's `*_multisynapse` models) for tests/lif_nest.rs.

Run with the peers' venv (../shared/peers), once per model:
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_multisynapse.py iaf_psc_exp_multisynapse tests/reference/iaf_psc_exp_multisynapse_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_multisynapse.py iaf_psc_alpha_multisynapse tests/reference/iaf_psc_alpha_multisynapse_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_multisynapse.py aeif_cond_beta_multisynapse tests/reference/aeif_cond_beta_multisynapse_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_multisynapse.py aeif_cond_alpha_multisynapse tests/reference/aeif_cond_alpha_multisynapse_nest.csv

One neuron per case, dt = 0.1 ms, 300 ms; input spikes from spike_generators through static
synapses (delay 1.0 ms; weights in pA for the iaf_psc_*_multisynapse models, the alpha current's
peak for iaf_psc_alpha_multisynapse; in nS, the conductance's peak, for the
aeif_cond_*_multisynapse models; all exact in f32, as biospike stores weights) into the given
receptor port (NEST's `receptor_type`, 1-based), plus a constant I_e. Some generators reach the neuron through two ports (a fast and a
slow input from one source, as AMPA and NMDA would), and a current port also takes negative
weights from a second generator. Writes the lines nest_trace.py writes (case,v,step,V_m and
case,spike,index,time_ms).
"""
import os
import sys

import nest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_trace import trace  # noqa: E402

# model -> [(name, neuron params, I_e pA, [(spike times ms, [(weight, port)])])]
CASES = {
    "iaf_psc_exp_multisynapse": [
        ("three_ports", {"tau_syn": [0.5, 2.0, 20.0]}, 300.0, [
            ([5.0, 20.0, 40.3, 80.0, 80.1], [(900.0, 1)]),
            ([10.0, 30.0, 100.0], [(-1200.0, 2)]),
            ([50.0, 60.0, 150.0, 150.5, 200.0], [(150.0, 3)]),
        ]),
        ("same_source_two_ports", {"tau_syn": [2.0, 100.0], "tau_m": 20.0, "t_ref": 3.0}, 0.0, [
            ([10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 121.0, 122.0], [(700.0, 1), (60.0, 2)]),
            ([60.0, 61.0, 200.0], [(-1500.0, 1)]),
        ]),
    ],
    "iaf_psc_alpha_multisynapse": [
        ("three_alpha_ports", {"tau_syn": [0.5, 2.0, 20.0]}, 300.0, [
            ([5.0, 20.0, 40.3, 80.0, 80.1], [(600.0, 1)]),
            ([10.0, 30.0, 100.0], [(-800.0, 2)]),
            ([50.0, 60.0, 150.0, 150.5, 200.0], [(100.0, 3)]),
        ]),
        ("same_source_v_min", {"tau_syn": [1.0, 50.0], "tau_m": 20.0, "t_ref": 3.0, "V_min": -72.0}, 0.0, [
            ([10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 121.0, 122.0], [(500.0, 1), (40.0, 2)]),
            ([60.0, 61.0, 200.0], [(-1500.0, 1)]),
        ]),
    ],
    "aeif_cond_beta_multisynapse": [
        # AMPA-, NMDA-like (slow, no Mg block), GABA_A- and GABA_B-like ports.
        ("four_ports", {"E_rev": [0.0, 0.0, -80.0, -95.0], "tau_rise": [0.2, 2.0, 0.5, 5.0], "tau_decay": [2.0, 100.0, 6.0, 50.0]}, 500.0, [
            ([10.0, 12.0, 50.0, 50.1, 120.0], [(8.0, 1), (1.0, 2)]),
            ([30.0, 31.0, 160.0], [(15.0, 3)]),
            ([200.0, 201.0], [(5.0, 4)]),
        ]),
        ("refractory_one_port", {"E_rev": [0.0], "tau_rise": [1.0], "tau_decay": [3.0], "t_ref": 2.0, "a": 2.0, "b": 60.0}, 650.0, [
            ([20.0, 20.5, 21.0, 90.0, 90.2, 180.0], [(20.0, 1)]),
        ]),
    ],
    "aeif_cond_alpha_multisynapse": [
        ("three_alpha_ports", {"E_rev": [0.0, 0.0, -85.0], "tau_syn": [0.5, 20.0, 5.0]}, 640.0, [
            ([10.0, 12.0, 50.0, 50.1, 120.0, 220.0], [(6.0, 1), (0.75, 2)]),
            ([30.0, 31.0, 160.0, 161.0], [(10.0, 3)]),
        ]),
    ],
}


def main(model, path):
    out = open(path, "w")
    out.write("case,kind,step_or_index,value\n")
    for name, params, i_e, inputs in CASES[model]:
        def connect(n, inputs=inputs):
            for times, targets in inputs:
                g = nest.Create("spike_generator", params={"spike_times": times})
                for w, port in targets:
                    nest.Connect(g, n, syn_spec={"weight": w, "delay": 1.0, "receptor_type": port})

        trace(out, name, model, dict(params, I_e=i_e), connect)
    out.close()


main(sys.argv[1], sys.argv[2])
