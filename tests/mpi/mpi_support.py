"""Shared by the tests/mpi scripts: running weft directly and under mpirun, a slice of
Fashion-MNIST as HDF5, and a model file's tensors as raw bytes (for bit-for-bit comparisons)."""
import glob
import gzip
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist (scripts/setup)
# mpirun refuses root without these; the tests run as root on CI.
# In containers without ptrace rights the shared-memory transport's single-copy (CMA) path fails:
# plain copies through shared memory work everywhere.
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def check(condition, message):
    if not condition:
        print("FAIL: " + message, file=sys.stderr)
        sys.exit(1)


def run(command, env=None, timeout=300):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, timeout=timeout)
    check(result.returncode == 0, f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def mpirun_command(mpirun_path, k, command, quiet=False):
    # --oversubscribe: K ranks may exceed the cores; --bind-to none: ranks sharing cores would
    # otherwise be pinned to the same one; --quiet: none of Open MPI's own banners.
    return [mpirun_path, *(["--quiet"] if quiet else []), "--oversubscribe", "--bind-to", "none", "-np", str(k), *command]


def mpi_env():
    env = {**os.environ, **MPI_ENV}
    # In the sanitizer build (scripts/test) the ranks keep AddressSanitizer and UBSan but not
    # LeakSanitizer: Open MPI never frees its start-up allocations and unloads its components at
    # MPI_Finalize, so LSan reports them from "<unknown module>" frames that no library-name
    # suppression can match. weft's own code is leak-checked by the one-process runs here and
    # by the other suites.
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


def mpirun(mpirun_path, k, command, timeout=300):
    return run(mpirun_command(mpirun_path, k, command), env=mpi_env(), timeout=timeout)


def wait_for_checkpoint(job, path, seconds):
    """Waits until the running job (a Popen) has written a checkpoint `path` (a glob pattern)."""
    deadline = time.monotonic() + seconds
    while not glob.glob(path):
        if job.poll() is not None:
            check(False, f"the job ended before writing {path}:\n{job.communicate()[0]}")
        check(time.monotonic() < deadline, f"no {path} within {seconds} s")
        time.sleep(0.01)


def rank_pid(parent, rank):
    """The pid of the process mpirun started as `rank` (Open MPI puts it in its environment)."""
    for status in glob.glob("/proc/[0-9]*/stat"):
        try:
            pid = int(status.split("/")[2])
            fields = open(status).read().rsplit(")", 1)[1].split()
            if int(fields[1]) != parent:
                continue
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
        if f"OMPI_COMM_WORLD_RANK={rank}".encode() in environ:
            return pid
    return None


def is_weft_process(pid, weft):
    """Whether pid is still a process of the program `weft` (not reaped, nor a number used again)."""
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0] == weft.encode()
    except OSError:
        return False


def end_all(job, ranks, weft):
    """Kills whatever is left of a job (a Popen of mpirun) and returns its output: its ranks
    (pids) first, stopped ones too, since they hold mpirun's output pipe, then mpirun."""
    for pid in ranks:
        if pid is not None and is_weft_process(pid, weft):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
    if job.poll() is None:
        job.kill()
    try:
        return job.communicate(timeout=30)[0]
    except ValueError:  # its output was read already
        return ""


def read_idx_gz(path, header):
    with gzip.open(path) as f:
        return np.frombuffer(f.read()[header:], dtype=np.uint8)


def fashion_slice(path, n):
    """The first n training images (float32 in [0, 1], flattened) and labels as an HDF5 file."""
    images = read_idx_gz(f"{FASHION}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784)[:n]
    labels = read_idx_gz(f"{FASHION}/train-labels-idx1-ubyte.gz", 8)[:n]
    check(len(labels) == n and len(set(labels.tolist())) == 10, f"{FASHION}: fewer than {n} samples of all 10 classes")
    with h5py.File(path, "w") as f:
        f["features"] = (images / np.float32(255)).astype(np.float32)
        f["labels"] = labels.astype(np.int64)


def parameters(path):
    """Every weight and buffer tensor of a model file or checkpoint, as bytes."""
    with h5py.File(path) as f:
        out = {}
        for group in ("weights", "buffers"):
            if group in f:
                f[group].visititems(lambda name, obj, g=group: out.__setitem__(f"{g}/{name}", obj[()].tobytes())
                                    if isinstance(obj, h5py.Dataset) else None)
        return out
