"""A rank killed in the middle of `mpirun --quiet -np 2 weft train` (issue 12): the job ends within
seconds with one line naming the dead rank (its pid and host), the newest checkpoint on disk
loads, and --resume from it (one process) continues to the same bits as a run that was never
interrupted.
Usage: rank_failure_test.py WEFT SOURCE_DIR MPIRUN"""
import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpi_support import (check, end_all, fashion_slice, mpi_env, mpirun_command, parameters, rank_pid,  # noqa: E402
                         run, wait_for_checkpoint)

weft, source, mpirun_path = sys.argv[1:4]
os.chdir(tempfile.mkdtemp(prefix="weft_mpi_kill_"))
fashion_slice("data.h5", 320)
mlp = os.path.join(source, "examples", "models", "fashion_mlp.json")
# 5 steps an epoch, 300 in all (milliseconds each): long enough to be killed after the second
# checkpoint.
flags = ["--data", "data.h5", "--batch", "64", "--shard", "16", "--epochs", "60", "--seed", "5",
         "--threads", "1", "--progress", "plain", "--checkpoint-dir", "ck", "--checkpoint-every", "10"]

job = subprocess.Popen(mpirun_command(mpirun_path, 2, [weft, "train", mlp, *flags], quiet=True), env=mpi_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
wait_for_checkpoint(job, "ck/step-00000020.h5", 120)
survivor, victim = rank_pid(job.pid, 0), rank_pid(job.pid, 1)
check(victim is not None, "found no process of rank 1 under mpirun")
os.kill(victim, signal.SIGKILL)
killed = time.monotonic()
try:
    output = job.communicate(timeout=30)[0]
except subprocess.TimeoutExpired:
    check(False, "the job still ran 30 s after rank 1 was killed (a rank hangs in a collective):\n"
                 f"{end_all(job, [survivor], weft)}")
seconds = time.monotonic() - killed
check(job.returncode != 0, f"the job exited 0 although rank 1 was killed:\n{output}")
check(seconds < 10, f"the job took {seconds:.1f} s to end after rank 1 was killed")
# The one line (mpirun --quiet: Open MPI prints none of its banners), from rank 0, the survivor.
lines = output.strip().splitlines()
expected = f"weft: rank 1 of 2 (pid {victim} on {socket.gethostname()}) died; the other ranks stop (--resume continues from the last checkpoint)"
check(lines[-1] == expected, f"the job's output does not end with the line naming rank 1:\n{output}")
check(sum("rank 1" in line or "---" in line or "mpirun" in line for line in lines) == 1,
      f"the job's output has more than the one line about the dead rank:\n{output}")

# The newest checkpoint is whole: --resume (one process) runs to the end, with the bits of a run
# never interrupted.
newest = sorted(glob.glob("ck/step-*.h5"))[-1]
resume_flags = flags[:flags.index("--checkpoint-dir")]
out = run([weft, "train", mlp, *resume_flags, "--resume", newest, "--out", "resumed.h5"])
check(f"resumed from {newest}" in out, f"--resume {newest} did not report resuming:\n{out}")
run([weft, "train", mlp, *resume_flags, "--out", "straight.h5"])
check(parameters("resumed.h5") == parameters("straight.h5"), f"resuming {newest} did not end with the uninterrupted run's bits")
print(f"rank 1 killed: the job ended in {seconds:.2f} s naming it; {newest} resumed to the uninterrupted bits")
