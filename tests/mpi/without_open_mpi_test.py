"""A weft built without Open MPI, started as mpirun would start it (Open MPI's environment
variables; issue 12): with more than one process it refuses in one line instead of training K
copies of the job that write the same files; as the one process of `mpirun -np 1` it trains.
Registered only in builds without Open MPI (tests/meson.build).
Usage: without_open_mpi_test.py WEFT SOURCE_DIR"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpi_support import check, fashion_slice  # noqa: E402

weft, source = sys.argv[1:3]
os.chdir(tempfile.mkdtemp(prefix="weft_no_mpi_"))
fashion_slice("data.h5", 320)
mlp = os.path.join(source, "examples", "models", "fashion_mlp.json")
command = [weft, "train", mlp, "--data", "data.h5", "--batch", "64", "--epochs", "1", "--threads", "1",
           "--progress", "plain"]


def as_rank(rank, size, out):
    env = {**os.environ, "OMPI_COMM_WORLD_SIZE": str(size), "OMPI_COMM_WORLD_RANK": str(rank)}
    return subprocess.run(command + ["--out", out], capture_output=True, text=True, env=env, timeout=120)


for rank in (0, 1):
    result = as_rank(rank, 2, f"rank{rank}.h5")
    lines = result.stderr.strip().splitlines()
    check(result.returncode == 1 and len(lines) == 1 and lines[0].startswith("weft: error: this weft was built without "
                                                                             "Open MPI, so each of the 2 processes"),
          f"rank {rank} of 2 without Open MPI: expected exit 1 and one line, got {result.returncode}:\n{result.stderr}")
    check(not os.path.exists(f"rank{rank}.h5"), f"rank {rank} of 2 without Open MPI wrote its --out")
single = as_rank(0, 1, "single.h5")
check(single.returncode == 0 and os.path.exists("single.h5"), f"the one process of mpirun -np 1 did not train:\n{single.stderr}")
print("without Open MPI: 2 processes refused in one line each; 1 process trained")
