"""A host that drops in the middle of `mpirun --quiet -np K weft train` (issue 12), simulated by
stopping one rank with SIGSTOP after the second checkpoint: like a host cut off, the process
neither sends nor closes anything, so only the heartbeats (--peer-timeout 2 here) can tell.
  1. K = 2, rank 1 stopped: rank 0 ends the job within seconds with one line naming rank 1;
  2. K = 3, rank 0 stopped: ranks 1 and 2 both miss its heartbeats, and one line names rank 0.
Each time every checkpoint on disk loads, the stopped process is gone once mpirun returns, and
--resume from the newest checkpoint (K = 2 under mpirun, then one process) ends with the bits
of a run never interrupted.
  3. A stranger connecting to rank 0's heartbeat port with a garbage rank number does not
     disturb the job: it ends normally, with the uninterrupted run's bits.
Usage: dropped_host_test.py WEFT SOURCE_DIR MPIRUN"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpi_support import (check, end_all, fashion_slice, is_weft_process, mpi_env, mpirun, mpirun_command,  # noqa: E402
                         parameters, rank_pid, run, wait_for_checkpoint)

weft, source, mpirun_path = sys.argv[1:4]
work = tempfile.mkdtemp(prefix="weft_mpi_drop_")  # kept when a check fails, removed at the end
os.chdir(work)
fashion_slice("data.h5", 320)
mlp = os.path.join(source, "examples", "models", "fashion_mlp.json")
PEER_TIMEOUT = 2
# The job must end this soon after the stop: the timeout, a heartbeat interval, and mpirun's
# teardown, with room for a loaded 2-core machine and the sanitizer build. A hang is the failure
# this guards against; the communicate() timeout below makes it a failure instead of a hang.
BOUND_SECONDS = 20
# 5 steps an epoch, 300 in all (milliseconds each): still running when stopped after step 20.
flags = ["--data", "data.h5", "--batch", "64", "--shard", "16", "--epochs", "60", "--seed", "5",
         "--threads", "1", "--progress", "plain"]

run([weft, "train", mlp, *flags, "--out", "straight.h5"])
straight = parameters("straight.h5")


def stop_a_rank(k, rank, ck):
    """Runs K ranks, stops `rank` after the checkpoint at step 20; the job's output and the
    seconds from the stop to mpirun's return. Nothing of the job outlives this call."""
    job = subprocess.Popen(mpirun_command(mpirun_path, k, [weft, "train", mlp, *flags, "--checkpoint-dir", ck,
                                                           "--checkpoint-every", "10", "--peer-timeout", str(PEER_TIMEOUT)],
                                          quiet=True),
                           env=mpi_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ranks = []
    try:
        wait_for_checkpoint(job, f"{ck}/step-00000020.h5", 120)
        ranks = [rank_pid(job.pid, r) for r in range(k)]
        victim = ranks[rank]
        check(victim is not None, f"found no process of rank {rank} under mpirun")
        os.kill(victim, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            output = job.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            check(False, f"K = {k}: the job still ran 60 s after rank {rank} was stopped (nothing noticed the silence):\n"
                         f"{end_all(job, ranks, weft)}")
        seconds = time.monotonic() - stopped
        # mpirun reaps what it started: the stopped rank must not be left behind (stopped forever).
        gone_by = time.monotonic() + 5
        while is_weft_process(victim, weft) and time.monotonic() < gone_by:
            time.sleep(0.05)
        check(not is_weft_process(victim, weft), f"K = {k}: the stopped rank {rank} (pid {victim}) outlived mpirun")
        return output, seconds, victim
    finally:
        end_all(job, ranks, weft)


def check_one_line(k, rank, victim, output, seconds):
    check(seconds < BOUND_SECONDS, f"K = {k}: the job took {seconds:.1f} s to end after rank {rank} was stopped")
    lines = output.strip().splitlines()
    about_ranks = [line for line in lines if line.startswith("weft: rank") or "died" in line or "---" in line or
                   "mpirun" in line]
    check(len(about_ranks) == 1, f"K = {k}: expected one line about the stopped rank, got {len(about_ranks)}:\n{output}")
    expected = (rf"weft: rank {rank} of {k} \(pid {victim} on {re.escape(socket.gethostname())}\) has sent nothing for "
                r"([0-9.]+) s \(its host down, cut off or the process stopped\); the other ranks stop \(--resume "
                r"continues from the last checkpoint\)")
    named = re.fullmatch(expected, about_ranks[0])
    check(named is not None, f"K = {k}: the line does not name rank {rank} as silent:\n{about_ranks[0]}")
    silent = float(named.group(1))
    # Named once the silence passes the timeout, not a heartbeat interval (0.5 s here) later.
    check(PEER_TIMEOUT <= silent <= PEER_TIMEOUT + 0.4,
          f"K = {k}: the line reports {silent} s of silence with --peer-timeout {PEER_TIMEOUT}")
    return silent


def check_checkpoints_resume(k, ck, resume_k):
    """Every checkpoint on disk loads; --resume from the newest ends with the uninterrupted bits."""
    on_disk = sorted(glob.glob(f"{ck}/step-*.h5"))
    check(on_disk and on_disk[-1] >= f"{ck}/step-00000020.h5", f"K = {k}: the checkpoints are gone: {on_disk}")
    for path in on_disk:
        check(parameters(path).keys() == straight.keys(), f"K = {k}: {path} does not hold the model's tensors")
    resume = [weft, "train", mlp, *flags, "--resume", on_disk[-1], "--out", f"resumed_{ck}.h5"]
    out = mpirun(mpirun_path, resume_k, resume) if resume_k > 1 else run(resume)
    check(f"resumed from {on_disk[-1]}" in out, f"--resume {on_disk[-1]} did not report resuming:\n{out}")
    check(parameters(f"resumed_{ck}.h5") == straight, f"K = {k}: resuming {on_disk[-1]} did not end with the uninterrupted bits")
    return on_disk[-1]


def listening_ports(pid):
    """The IPv4 TCP ports process pid listens on (/proc/net/tcp rows whose socket it holds)."""
    sockets = set()
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[8:-1])
    ports = []
    for row in open(f"/proc/{pid}/net/tcp").read().splitlines()[1:]:
        fields = row.split()
        if fields[3] == "0A" and fields[9] in sockets:  # state LISTEN
            ports.append(int(fields[1].split(":")[1], 16))
    return ports


def strangers_knock(k):
    """Connections to rank 0's heartbeat port that are no rank of the job: a number too large
    for an int, a rank already connected, and bytes that are no number. Each is closed by rank 0,
    and the job runs to its normal end with the uninterrupted bits."""
    # Open MPI's TCP transport (not needed on one host) would listen too: then the heartbeat
    # port is rank 0's only one.
    env = {**mpi_env(), "OMPI_MCA_btl": "self,vader"}
    job = subprocess.Popen(mpirun_command(mpirun_path, k, [weft, "train", mlp, *flags, "--checkpoint-dir", "ck_strangers",
                                                           "--checkpoint-every", "10", "--keep-last", "1",
                                                           "--peer-timeout", str(PEER_TIMEOUT), "--out", "strangers.h5"],
                                          quiet=True),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ranks = []
    try:
        wait_for_checkpoint(job, "ck_strangers/step-*.h5", 120)  # under way (--keep-last: any one)
        ranks = [rank_pid(job.pid, r) for r in range(k)]
        check(ranks[0] is not None, "found no process of rank 0 under mpirun")
        ports = listening_ports(ranks[0])
        check(len(ports) == 1, f"rank 0 listens on {ports}, expected the heartbeat port alone")
        for hello in (b"999999999999\n", b"1\n", b"heartbeat?\n"):
            try:
                stranger = socket.create_connection(("127.0.0.1", ports[0]), timeout=10)
            except OSError as e:
                check(False, f"rank 0's heartbeat port refused the stranger saying {hello!r} ({e}); the job said:\n"
                             f"{end_all(job, ranks, weft)}")
            with stranger:
                stranger.sendall(hello)
                try:
                    answer = stranger.recv(16)
                except ConnectionResetError:  # closed with bytes unread
                    answer = b""
                except socket.timeout:
                    answer = None
                check(answer == b"", f"rank 0 did not close a stranger's connection that said {hello!r} (got {answer!r})")
        try:
            output = job.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            check(False, f"the job did not end within 120 s after the strangers:\n{end_all(job, ranks, weft)}")
        check(job.returncode == 0, f"the job failed after strangers connected to the heartbeat port:\n{output}")
        check("weft: rank" not in output, f"a rank was named after strangers connected:\n{output}")
        check(parameters("strangers.h5") == straight, "the job the strangers knocked at did not end with the uninterrupted bits")
    finally:
        end_all(job, ranks, weft)


report = []
for k, rank, resume_k in ((2, 1, 2), (3, 0, 1)):
    ck = f"ck_{k}_{rank}"
    output, seconds, victim = stop_a_rank(k, rank, ck)
    silent = check_one_line(k, rank, victim, output, seconds)
    newest = check_checkpoints_resume(k, ck, resume_k)
    report.append(f"K = {k}, rank {rank} stopped: ended {seconds:.2f} s later ({silent} s silent), "
                  f"{newest} resumed to the uninterrupted bits")
strangers_knock(2)
report.append("strangers at the heartbeat port: each closed, the job ended normally with the uninterrupted bits")
print("\n".join(report))
os.chdir("/")
shutil.rmtree(work)  # some 30 MB of checkpoints and models
