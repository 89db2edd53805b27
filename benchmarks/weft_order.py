"""The order in which `weft train --seed SEED` visits the training samples in each epoch (an
in-memory dataset, "shuffle": true), recomputed in NumPy: framework/dataset.cpp's
shuffled_indices, a Fisher–Yates shuffle drawing from weft's counter-based generator
(framework/weft/rng.hpp, splitmix64 mixing). pytorch_workload.py takes it with --order weft, so
that PyTorch sees the very batches weft sees."""
import numpy as np

MASK = (1 << 64) - 1
SHUFFLE_STREAM = 2  # rng_stream::shuffle


def _mix(z):
    """splitmix64's finaliser on Python ints (one value) or uint64 arrays (wrapping arithmetic)."""
    if isinstance(z, int):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _derive(key, tag):
    return _mix(key ^ _mix((tag + 0x3C6EF372FE94F82B) & MASK))


def shuffled_indices(n, seed, epoch):
    """Epoch `epoch` (0 for the first)'s order of n samples under `seed`, as weft computes it."""
    key = _derive(_derive(_mix(seed ^ 0x6A09E667F3BCC909), SHUFFLE_STREAM), epoch)
    counters = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        k = np.uint64(key)
        bits = _mix(_mix(k + counters * np.uint64(0x9E3779B97F4A7C15)) ^ k)
    uniform = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    # below(i, i + 1) for swap step i: floor(uniform · (i + 1)), at most i.
    picks = np.minimum((uniform * (counters + np.uint64(1)).astype(np.float64)).astype(np.int64), np.arange(n))
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = picks[i]
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)
