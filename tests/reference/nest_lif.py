"""NEST 3.10 reference traces for biospike's LIF neurons (tests/lif_nest.rs).

Run with the peers' venv (../shared/peers), once per model:
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py iaf_psc_delta tests/reference/iaf_psc_delta_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py iaf_psc_exp tests/reference/iaf_psc_exp_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py iaf_psc_alpha tests/reference/iaf_psc_alpha_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py aeif_cond_exp tests/reference/aeif_cond_exp_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py aeif_psc_exp tests/reference/aeif_psc_exp_nest.csv
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_lif.py iaf_cond_exp tests/reference/iaf_cond_exp_nest.csv

One neuron per case, dt = 0.1 ms, 300 ms; input spikes from spike_generators through static
synapses (delay 1.0 ms; weights in mV for iaf_psc_delta, nS for aeif_cond_exp and iaf_cond_exp, pA for the others), plus a constant
I_e. Writes one line per case and recorded step (case,v,step,V_m) and per spike
(case,spike,index,time_ms).
"""
import os
import sys

import nest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_trace import trace  # noqa: E402

# (name, neuron params, I_e pA, [(spike times ms, weight)])
CASES = {
    "iaf_psc_delta": [
        # (name, neuron params, I_e pA, [(spike times ms, weight mV)])
        ("subthreshold", {}, 0.0, [([10.0, 12.5, 30.0, 30.1, 31.0], 2.0), ([50.0, 55.0], -3.0)]),
        ("current_and_spikes", {}, 376.0, [([5.0, 20.0, 40.3, 80.0, 80.1, 80.2], 4.0), ([100.0, 150.0], -6.0)]),
        ("brunel_params", {"tau_m": 20.0, "C_m": 1.0, "E_L": 0.0, "V_reset": 10.0, "V_th": 20.0, "t_ref": 2.0, "V_m": 0.0},
         1.2, [([3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0], 5.0), ([120.0], -8.0)]),
    ],
    "iaf_psc_exp": [
        # (name, neuron params, I_e pA, [(spike times ms, weight pA)])
        ("default_taus", {}, 0.0, [([10.0, 12.5, 30.0, 30.1, 31.0], 600.0), ([50.0, 55.0], -900.0)]),
        ("two_taus_and_current", {"tau_syn_ex": 2.0, "tau_syn_in": 5.0}, 300.0,
         [([5.0, 20.0, 40.3, 80.0, 80.1, 80.2], 900.0), ([100.0, 150.0, 150.5], -1200.0)]),
        ("tau_syn_equals_tau_m", {"tau_m": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 1.0, "t_ref": 3.0}, 100.0,
         [([3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0], 1500.0), ([120.0], -2000.0)]),
    ],
    "iaf_psc_alpha": [
        # (name, neuron params, I_e pA, [(spike times ms, weight pA: the current's peak)])
        ("default_taus", {}, 0.0, [([10.0, 12.5, 30.0, 30.1, 31.0], 300.0), ([50.0, 55.0], -500.0)]),
        ("two_taus_current_and_v_min", {"tau_syn_ex": 1.0, "tau_syn_in": 4.0, "V_min": -72.0}, 300.0,
         [([5.0, 20.0, 40.3, 80.0, 80.1, 80.2], 600.0), ([100.0, 150.0, 150.5], -1500.0)]),
        ("tau_syn_equals_tau_m", {"tau_m": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 1.0, "t_ref": 3.0}, 100.0,
         [([3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0], 700.0), ([120.0], -2000.0)]),
    ],
    "aeif_cond_exp": [
        # (name, neuron params, I_e pA, [(spike times ms, weight nS)])
        ("defaults_adapting", {}, 800.0, [([10.0, 50.0, 50.1, 220.0], 30.0), ([150.0, 200.0], -60.0)]),
        ("refractory_bursting", {"t_ref": 2.0, "a": 2.0, "b": 100.0, "tau_w": 40.0, "V_reset": -48.0, "V_peak": 10.0}, 900.0,
         [([30.0, 30.5, 120.0], 40.0), ([80.0, 81.0, 250.0], -30.0)]),
        ("delta_t_zero", {"Delta_T": 0.0, "t_ref": 1.0}, 700.0, [([5.0, 5.1, 100.0], 50.0), ([60.0], -80.0)]),
    ],
    "iaf_cond_exp": [
        # (name, neuron params, I_e pA, [(spike times ms, weight nS)])
        ("defaults", {}, 200.0, [([10.0, 12.5, 30.0, 30.1, 31.0, 120.0, 120.1, 120.2], 40.0), ([50.0, 55.0, 200.0], -30.0)]),
        ("coba_params", {"g_L": 10.0, "C_m": 200.0, "E_L": -60.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
                         "E_ex": 0.0, "E_in": -80.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "V_m": -60.0}, 0.0,
         [([5.0, 5.1, 5.2, 5.3, 20.0, 40.3, 80.0, 80.1, 80.2, 80.3, 80.4], 6.0), ([100.0, 150.0, 150.5], -67.0)]),
        ("strong_current", {"tau_syn_ex": 1.0, "tau_syn_in": 4.0}, 600.0, [([60.0, 60.1, 160.0], 20.0), ([100.0, 230.0], -50.0)]),
    ],
    "aeif_psc_exp": [
        # (name, neuron params, I_e pA, [(spike times ms, weight pA)])
        ("defaults_adapting", {}, 700.0, [([10.0, 50.0, 50.1, 220.0], 900.0), ([150.0, 200.0], -1200.0)]),
        ("refractory_two_taus", {"t_ref": 1.5, "a": 10.0, "b": 40.0, "tau_syn_ex": 1.0, "tau_syn_in": 3.0}, 850.0,
         [([20.0, 20.2, 120.0, 121.0], 1500.0), ([70.0, 250.0], -2500.0)]),
    ],
}


def main(model, path):
    out = open(path, "w")
    out.write("case,kind,step_or_index,value\n")
    for name, params, i_e, inputs in CASES[model]:
        def connect(n, inputs=inputs):
            for times, w in inputs:
                g = nest.Create("spike_generator", params={"spike_times": times})
                nest.Connect(g, n, syn_spec={"weight": w, "delay": 1.0})

        trace(out, name, model, dict(params, I_e=i_e), connect)
    out.close()


main(sys.argv[1], sys.argv[2])
