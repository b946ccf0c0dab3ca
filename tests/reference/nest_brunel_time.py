"""NEST 3.10's simulation time and memory on Brunel (2000) with delta synapses, for
BENCHMARKS.md: the network of scenes/brunel_2000_ai.ron (NEST's `brunel_delta_nest.py` with
Brunel's Figure 8C J = 0.2 mV and V_reset = 10 mV; round 16) or, with `example`, that of
scenes/brunel_2000.ron (NEST's example as it ships: J = 0.1 mV, V_reset = 0 mV; round 12):

    ~/.cache/biospike-peers/venv/bin/python tests/reference/nest_brunel_time.py THREADS [example]

Prints the time of `nest.Simulate(1000.0)` (1 s simulated, build excluded), the spike count
and the process's peak resident memory.
"""
import sys, time, nest, resource
T = int(sys.argv[1])
nest.set_verbosity("M_ERROR")
nest.ResetKernel(); nest.resolution = 0.1; nest.rng_seed = 1; nest.local_num_threads = T
EXAMPLE = len(sys.argv) > 2 and sys.argv[2] == "example"
J, V_RESET = (0.1, 0.0) if EXAMPLE else (0.2, 10.0)
NE, NI, CE, CI, g, eta = 10000, 2500, 1000, 250, 5.0, 2.0
params = {"C_m": 1.0, "tau_m": 20.0, "t_ref": 2.0, "E_L": 0.0, "V_reset": V_RESET, "V_m": 0.0, "V_th": 20.0}
ex = nest.Create("iaf_psc_delta", NE, params=params); inh = nest.Create("iaf_psc_delta", NI, params=params)
noise = nest.Create("poisson_generator", params={"rate": 1000.0 * eta * 20.0 / (J * CE * 20.0) * CE})
rec = nest.Create("spike_recorder")
nest.CopyModel("static_synapse", "excitatory", {"weight": J, "delay": 1.5})
nest.CopyModel("static_synapse", "inhibitory", {"weight": -g * J, "delay": 1.5})
nest.Connect(noise, ex + inh, syn_spec="excitatory")
nest.Connect(ex, ex + inh, {"rule": "fixed_indegree", "indegree": CE}, "excitatory")
nest.Connect(inh, ex + inh, {"rule": "fixed_indegree", "indegree": CI}, "inhibitory")
nest.Connect(ex + inh, rec)
t0 = time.time(); nest.Simulate(1000.0); t1 = time.time()
print(f"threads {T}: simulate {t1-t0:.2f} s, spikes {rec.n_events}, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
