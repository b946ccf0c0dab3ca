"""One NEST neuron's 300 ms trace at dt = 0.1 ms, written as the CSV lines tests/lif_nest.rs
reads (case,v,step,V_m and case,spike,index,time_ms); shared by nest_lif.py and
nest_currents.py.
"""
import nest


def trace(out, name, model, params, connect):
    """Creates `model` with `params`, lets `connect(neuron)` wire its inputs, simulates
    300 ms and writes V at every step and the spike times under `name`."""
    nest.ResetKernel()
    nest.resolution = 0.1
    n = nest.Create(model, params=params)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 0.1})
    sr = nest.Create("spike_recorder")
    connect(n)
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    nest.Simulate(300.0)
    ev = mm.get("events")
    for t, v in zip(ev["times"], ev["V_m"]):
        out.write(f"{name},v,{round(t / 0.1)},{float(v)!r}\n")
    for i, t in enumerate(sr.get("events")["times"]):
        out.write(f"{name},spike,{i},{float(t)!r}\n")
