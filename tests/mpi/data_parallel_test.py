"""weft train under mpirun --oversubscribe on loopback (issue 12), each check against a plain
one-process `weft train` run as the reference:
  1. fashion_mlp on a slice of Fashion-MNIST: K = 1, 2 and 4 processes end with the same bits in
     every parameter, and their per-epoch metrics logs match (validation metrics included);
  2. a model with batch norm, dropout, an activity regulariser and a class-weighted loss, with
     a batch that leaves some ranks without a shard in the last step: the same bits at K = 1, 2, 4;
  3. --resume with K = 2 from a checkpoint written with K = 4 ends with the same bits as the
     uninterrupted run;
  4. --fast-allreduce trains (close to, not necessarily equal to, the exact result);
  4b. the exchange overlapped with the backward pass (the default) and after it (--no-overlap)
     give the same bits, and the overlapped one does send buckets on during backward;
  5. streaming the HDF5 file, each rank reads the features of its own shards only (the rows
     counts rank 0 reports, derived by hand) and the bits stay the one-process ones.
The killed-rank check is rank_failure_test.py.
Usage: data_parallel_test.py WEFT SOURCE_DIR MPIRUN"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpi_support import check, fashion_slice, mpirun, parameters, run  # noqa: E402

weft, source, mpirun_path = sys.argv[1:4]


def metrics(path):
    """The log's columns but the timings, which differ from run to run."""
    rows = [line.split(",") for line in open(path).read().splitlines()]
    keep = [i for i, name in enumerate(rows[0]) if name not in ("seconds", "samples_per_second")]
    check(len(keep) == len(rows[0]) - 2 and len(rows) == 3, f"{path}: unexpected columns or epochs: {rows}")
    return [[row[i] for i in keep] for row in rows]


os.chdir(tempfile.mkdtemp(prefix="weft_mpi_"))
fashion_slice("data.h5", 320)

mlp = os.path.join(source, "examples", "models", "fashion_mlp.json")
# 256 training samples (64 held out), batch 64, shard 16: 4 shards a step, 4 steps an epoch.
mlp_flags = ["--data", "data.h5", "--validation-split", "0.2", "--batch", "64", "--shard", "16",
             "--epochs", "2", "--seed", "3", "--threads", "1", "--progress", "plain"]

run([weft, "train", mlp, *mlp_flags, "--out", "mlp_1.h5", "--log", "mlp_1.csv"])
reference = parameters("mlp_1.h5")
check(len(reference) >= 6, f"fashion_mlp's model file holds {len(reference)} parameter tensors, expected 6")
for k in (1, 2, 4):
    out = mpirun(mpirun_path, k, [weft, "train", mlp, *mlp_flags, "--out", f"mlp_{k}p.h5", "--log", f"mlp_{k}p.csv"])
    check(f"data-parallel over {k} processes" in out or k == 1, f"K = {k}: the run did not report {k} processes:\n{out}")
    got = parameters(f"mlp_{k}p.h5")
    check(got.keys() == reference.keys(), f"K = {k}: other tensors than one process: {sorted(got)}")
    for name in reference:
        check(got[name] == reference[name], f"fashion_mlp, K = {k}: '{name}' differs from the one-process run")
    check(metrics(f"mlp_{k}p.csv") == metrics("mlp_1.csv"), f"fashion_mlp, K = {k}: the metrics log differs")
# Overlapped or not, the same bits. fashion_mlp's buckets at K = 2 (at most 1 MiB, cut where a
# layer's gradient ends): the 784x512 weight in two, then dense_1 and dense_2 together
# (131,328 + 2,570 floats: dense_2 alone is under the 16 KiB minimum), which is final after
# dense_1's backward, while dense_0's is still to run: rank 0 sends that one on during backward,
# once a step (4 steps an epoch, 2 epochs: 8 of 24). Without overlap: none.
for k, no_overlap in ((2, False), (2, True), (4, True)):
    name = f"mlp_{k}p_{'after' if no_overlap else 'during'}"
    out = mpirun(mpirun_path, k, [weft, "train", mlp, *mlp_flags, *(["--no-overlap"] if no_overlap else []), "--out", f"{name}.h5"])
    check(parameters(f"{name}.h5") == reference, f"fashion_mlp, K = {k}, no_overlap = {no_overlap}: the bits differ")
    sent = re.search(r"; (\d+) of (\d+) buckets sent on during the backward pass", out)
    check(sent is not None, f"K = {k}: no bucket count reported:\n{out}")
    early, total = int(sent.group(1)), int(sent.group(2))
    if k == 2:
        expected = (0 if no_overlap else 8, 24)
        check((early, total) == expected, f"K = 2, no_overlap = {no_overlap}: {early} of {total} buckets early, expected {expected}")
    else:
        check(early == 0 and total > 0, f"K = 4 --no-overlap: {early} of {total} buckets early, expected none")
# The check above would pass vacuously if training did nothing: the parameters must have moved.
short_flags = list(mlp_flags)
short_flags[short_flags.index("--epochs") + 1] = "1"
run([weft, "train", mlp, *short_flags, "--out", "mlp_short.h5"])
check(parameters("mlp_short.h5") != reference, "two epochs ended where one did: training changed nothing")

with open("bn.json", "w") as f:
    f.write("""{"input": [784],
  "layers": [{"type": "dense", "units": 32, "activity_regularizer": {"type": "activity_l1", "l1": 1e-3}},
             {"type": "batch_norm"}, {"type": "relu"}, {"type": "dropout", "rate": 0.3},
             {"type": "dense", "units": 10}],
  "loss": {"type": "cross_entropy", "weight": [1, 2, 1, 0.5, 1, 1, 3, 1, 1, 1]},
  "optimizer": {"type": "adam", "lr": 0.01}}""")
# 320 samples, batch 72, shard 16: steps of 5 shards (K = 4 splits them 1, 1, 1, 2) and a last
# batch of 32 samples, 2 shards, which leaves two of four ranks idle.
bn_flags = ["--data", "data.h5", "--batch", "72", "--shard", "16", "--epochs", "2", "--seed", "11",
            "--threads", "1", "--progress", "plain"]
run([weft, "train", "bn.json", *bn_flags, "--out", "bn_1.h5"])
reference = parameters("bn_1.h5")
for k in (1, 2, 4):
    # K = 1 with 2 threads: neither processes nor threads change the bits.
    flags = list(bn_flags)
    flags[flags.index("--threads") + 1] = "2" if k == 1 else "1"
    mpirun(mpirun_path, k, [weft, "train", "bn.json", *flags, "--out", f"bn_{k}p.h5"])
    got = parameters(f"bn_{k}p.h5")
    for name in reference:  # the batch norm's running statistics are among them
        check(got[name] == reference[name], f"batch norm + dropout, K = {k}: '{name}' differs from the one-process run")

# Resume: K = 4 writes checkpoints every 3 steps of 10 (5 an epoch); K = 2 resumes mid-epoch.
mpirun(mpirun_path, 4, [weft, "train", "bn.json", *bn_flags, "--checkpoint-dir", "ck4", "--checkpoint-every", "3"])
check(os.path.exists("ck4/step-00000006.h5"), f"K = 4 wrote no step-6 checkpoint: {os.listdir('ck4')}")
out = mpirun(mpirun_path, 2, [weft, "train", "bn.json", *bn_flags, "--resume", "ck4/step-00000006.h5", "--out", "bn_resumed.h5"])
check("resumed from ck4/step-00000006.h5 at step 6" in out, f"the K = 2 run did not report the resume:\n{out}")
got = parameters("bn_resumed.h5")
for name in reference:
    check(got[name] == reference[name], f"resumed with K = 2 from K = 4's checkpoint: '{name}' differs from the uninterrupted run")

mpirun(mpirun_path, 2, [weft, "train", "bn.json", *bn_flags, "--fast-allreduce", "--out", "bn_fast.h5"])
got = parameters("bn_fast.h5")
for name in reference:
    a, b = got[name], reference[name]
    import numpy as np
    x, y = np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)
    check(np.allclose(x, y, rtol=1e-3, atol=1e-4), f"--fast-allreduce: '{name}' is far from the exact run")
# Streamed HDF5 (windows of 33 rows, so batches cross windows): every rank reads only its own
# shards' features. Batch 80, shard 16: 5 shards a step; K = 2 runs 2 and 3 of them (32 and 48
# rows a step), K = 4 runs 1, 1, 1 and 2; 4 steps an epoch, 2 epochs. One process reads all 640.
stream_flags = ["--data", "data.h5", "--stream", "--memory-budget", "0.1", "--batch", "80", "--shard", "16",
                "--epochs", "2", "--seed", "7", "--threads", "1", "--progress", "plain"]
out = run([weft, "train", mlp, *stream_flags, "--out", "stream_1.h5"])
check("streaming data.h5 from disk in windows of 33 rows" in out, f"the one-process run did not stream:\n{out}")
reference = parameters("stream_1.h5")
for k, rows in ((2, "256, 384"), (4, "128, 128, 128, 256")):
    out = mpirun(mpirun_path, k, [weft, "train", mlp, *stream_flags, "--out", f"stream_{k}p.h5"])
    check(f"features read from data.h5 per rank: {rows} rows" in out, f"streamed, K = {k}: expected {rows} rows read:\n{out}")
    check(parameters(f"stream_{k}p.h5") == reference, f"streamed, K = {k}: the parameters differ from the one-process run")
# A streamed validation part too: evaluation runs on its own (inference) shards, and each rank
# reads only those; the per-epoch validation metrics must still be the one-process ones.
val_flags = [*stream_flags, "--validation-split", "0.2"]
run([weft, "train", mlp, *val_flags, "--out", "stream_val_1.h5", "--log", "stream_val_1.csv"])
mpirun(mpirun_path, 2, [weft, "train", mlp, *val_flags, "--out", "stream_val_2p.h5", "--log", "stream_val_2p.csv"])
check(metrics("stream_val_2p.csv") == metrics("stream_val_1.csv"), "streamed with validation, K = 2: the metrics log differs")
check(parameters("stream_val_2p.h5") == parameters("stream_val_1.h5"), "streamed with validation, K = 2: the parameters differ")
print("data-parallel: K = 1, 2, 4 give the one-process bits; K = 2 resumes K = 4's checkpoint bit for bit; "
      "streamed, each rank reads its own rows")
