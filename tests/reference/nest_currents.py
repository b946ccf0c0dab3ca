"""NEST 3.10 reference traces for current generators driving biospike's LIF and AdEx neurons
(tests/lif_nest.rs, `generator_currents_equal_nest`).

Run with the peers' venv (../shared/peers):
    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_currents.py tests/reference/currents_nest.csv

One neuron per case, dt = 0.1 ms, 300 ms: a step_current_generator, a dc_generator and/or an
ac_generator, each connected with delay 0.1 ms (one step, NEST's least), plus a constant I_e.
Writes one line per case and recorded step (case,v,step,V_m) and per spike
(case,spike,index,time_ms).
"""
import os
import sys

import nest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nest_trace import trace  # noqa: E402

# (name, model, neuron params, I_e pA, [(generator, params)])
CASES = [
    ("delta_steps", "iaf_psc_delta", {}, 0.0,
     [("step_current_generator", {"amplitude_times": [20.0, 60.0, 120.3, 200.0], "amplitude_values": [300.0, 0.0, 500.0, -100.0]})]),
    ("exp_sine_and_steps", "iaf_psc_exp", {"tau_syn_ex": 2.0, "tau_syn_in": 5.0}, 0.0,
     [("ac_generator", {"amplitude": 200.0, "offset": 250.0, "frequency": 15.0, "phase": 30.0}),
      ("step_current_generator", {"amplitude_times": [100.0, 180.0], "amplitude_values": [150.0, 0.0]})]),
    ("alpha_dc_window", "iaf_psc_alpha", {}, 100.0,
     [("dc_generator", {"amplitude": 400.0, "start": 50.0, "stop": 150.0})]),
    ("cond_exp_steps", "iaf_cond_exp", {}, 0.0,
     [("step_current_generator", {"amplitude_times": [10.0, 100.0, 220.0], "amplitude_values": [500.0, 250.0, 0.0]})]),
    ("aeif_cond_exp_steps_and_sine", "aeif_cond_exp", {}, 0.0,
     [("step_current_generator", {"amplitude_times": [30.0, 150.0], "amplitude_values": [800.0, 300.0]}),
      ("ac_generator", {"amplitude": 300.0, "frequency": 8.0, "phase": -45.0})]),
    ("aeif_psc_exp_dc_window", "aeif_psc_exp", {"t_ref": 1.0}, 0.0,
     [("dc_generator", {"amplitude": 700.0, "start": 20.0, "stop": 200.0})]),
]


def main(path):
    out = open(path, "w")
    out.write("case,kind,step_or_index,value\n")
    for name, model, params, i_e, generators in CASES:
        def connect(n, generators=generators):
            for kind, p in generators:
                nest.Connect(nest.Create(kind, params=p), n, syn_spec={"delay": 0.1})

        trace(out, name, model, dict(params, I_e=i_e), connect)
    out.close()


main(sys.argv[1])
