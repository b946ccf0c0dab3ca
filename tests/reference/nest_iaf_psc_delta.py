"""NEST 3.10 reference traces for biospike's iaf_psc_delta (tests/lif_nest.rs).

Run with the peers' venv (../shared/peers): 
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_iaf_psc_delta.py tests/reference/iaf_psc_delta_nest.csv

One neuron per case, dt = 0.1 ms, 300 ms; input spikes from spike_generators through static
synapses (delay 1.0 ms, weights in mV), plus a constant I_e. Writes one line per case and
recorded step (case,v,step,V_m) and per spike (case,spike,index,time_ms).
"""
import sys

import nest

CASES = [
    # (name, neuron params, I_e pA, [(spike times ms, weight mV)])
    ("subthreshold", {}, 0.0, [([10.0, 12.5, 30.0, 30.1, 31.0], 2.0), ([50.0, 55.0], -3.0)]),
    ("current_and_spikes", {}, 376.0, [([5.0, 20.0, 40.3, 80.0, 80.1, 80.2], 4.0), ([100.0, 150.0], -6.0)]),
    ("brunel_params", {"tau_m": 20.0, "C_m": 1.0, "E_L": 0.0, "V_reset": 10.0, "V_th": 20.0, "t_ref": 2.0, "V_m": 0.0},
     1.2, [([3.0, 3.1, 3.2, 60.0, 61.0, 62.0, 63.0, 64.0, 65.0], 5.0), ([120.0], -8.0)]),
]

def main(path):
    out = open(path, "w")
    out.write("case,kind,step_or_index,value\n")
    for name, params, i_e, inputs in CASES:
        nest.ResetKernel()
        nest.resolution = 0.1
        n = nest.Create("iaf_psc_delta", params=dict(params, I_e=i_e))
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
        sr = nest.Create("spike_recorder")
        for times, w in inputs:
            g = nest.Create("spike_generator", params={"spike_times": times})
            nest.Connect(g, n, syn_spec={"weight": w, "delay": 1.0})
        nest.Connect(mm, n)
        nest.Connect(n, sr)
        nest.Simulate(300.0)
        ev = mm.get("events")
        for t, v in zip(ev["times"], ev["V_m"]):
            out.write(f"{name},v,{round(t / 0.1)},{float(v)!r}\n")
        for i, t in enumerate(sr.get("events")["times"]):
            out.write(f"{name},spike,{i},{float(t)!r}\n")
    out.close()


main(sys.argv[1])
