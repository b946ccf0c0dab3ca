"""Statistics of a network's spikes, shared by the NEST reference scripts (tests/common/
network_stats.rs computes the same on biospike's spikes): per population rate (Hz), mean ISI CV
over neurons with at least 3 spikes, synchrony (variance over mean of the population count in
1 ms bins), over the spikes in (t0, t1].
"""
import numpy as np


def stats(ids, times, n_exc, n_inh, t0, t1):
    keep = (times > t0) & (times <= t1)
    ids, times = ids[keep], times[keep]
    span = (t1 - t0) / 1000.0
    rate_e = np.sum(ids < n_exc) / n_exc / span
    rate_i = np.sum(ids >= n_exc) / n_inh / span
    cvs = []
    order = np.lexsort((times, ids))
    ids, times = ids[order], times[order]
    for n in np.unique(ids):
        t = times[ids == n]
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(np.std(isi) / np.mean(isi))
    counts, _ = np.histogram(times, bins=np.arange(t0, t1 + 1e-9, 1.0))
    return [float(x) for x in (rate_e, rate_i, np.mean(cvs), np.var(counts) / np.mean(counts))]
