// weft train SPEC.json --data DIR [--epochs N --batch B|0 --lr X --accumulate K --clip-norm X
//   --clip-value X --schedule JSON --validation-split F --patience N --monitor M --log FILE.csv
//   --progress auto|bar|plain --threads T --shard S --seed S --out MODEL.h5]
//   [--checkpoint-dir DIR --checkpoint-every N[steps|epochs] --keep-last K --keep-best METRIC]
//   [--resume CKPT.h5] [--init-from MODEL.h5 [--partial]]
// --data is an IDX folder, a CSV or an HDF5 file (training_data.hpp).
//
// Under `mpirun -np K` (a libweft built with Open MPI) the K processes train one model
// data-parallel (weft/executor.hpp); rank 0 alone prints, logs and writes checkpoints and the
// model, and an error on any rank ends the whole job naming that rank.
//
// Training settings come from the spec's "training" object (weft/training_config.hpp); a flag
// that is given overrides the spec. Without a validation split the test set serves as the
// validation data (val_* metrics), as it always was reported after each epoch.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

#include "commands.hpp"
#include "number_checks.hpp"
#include "training_data.hpp"
#include "weft/callbacks.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/io/checkpoint_callback.hpp"
#include "weft/io/hdf5_source.hpp"
#include "weft/io/metrics_csv.hpp"
#include "weft/io/model_file.hpp"
#include "weft/trainer.hpp"
#include "weft/training_config.hpp"

namespace weft::cli {
namespace {

struct CheckpointArgs {
  std::string dir, resume, init_from, keep_best;
  std::vector<std::string> every;
  std::int64_t keep_last = 0;
  bool partial = false;
};

struct TrainArgs {
  std::string spec, out, log, progress = "auto", schedule, monitor;
  DataArgs data;
  CheckpointArgs checkpoints;
  std::optional<std::int64_t> epochs, batch, accumulate, patience;
  std::optional<double> lr, clip_norm, clip_value, validation_split;
  int threads = 0;
  std::int64_t shard = 0;  // 0: weft::default_shard_size
  std::uint64_t seed = 0;
  bool fast_allreduce = false;
  bool no_overlap = false;
  double peer_timeout = default_peer_timeout_seconds;
};

// The spec with the flags that were given written over its "optimizer" and "training" objects.
Json spec_with_overrides(const TrainArgs& a) {
  Json spec = read_spec_file(a.spec);
  Json& training = spec["training"];
  if (training.is_null()) training = Json::object();
  if (a.epochs) training["epochs"] = *a.epochs;
  if (a.batch) training["batch"] = *a.batch == 0 ? Json("full") : Json(*a.batch);
  if (a.accumulate) training["accumulate"] = *a.accumulate;
  if (a.clip_norm) training["clip_norm"] = *a.clip_norm;
  if (a.clip_value) training["clip_value"] = *a.clip_value;
  if (a.validation_split) training["validation_split"] = *a.validation_split;
  if (!a.schedule.empty()) {
    try {
      training["schedule"] = Json::parse(a.schedule);
    } catch (const Json::parse_error&) {
      training["schedule"] = a.schedule;  // a bare type name: --schedule constant
    }
  }
  if (a.patience || !a.monitor.empty()) {
    Json& es = training["early_stopping"];
    if (es.is_null()) es = Json::object();
    if (a.patience) es["patience"] = *a.patience;
    if (!a.monitor.empty()) es["monitor"] = a.monitor;
  }
  if (a.lr) {
    if (!spec.contains("optimizer")) throw SpecError("--lr needs an \"optimizer\" in the model spec");
    if (spec["optimizer"].is_string()) spec["optimizer"] = Json{{"type", spec["optimizer"]}};
    spec["optimizer"]["lr"] = *a.lr;
  }
  return spec;
}

// "500", "500steps", "2epochs" (also "500s", "2e"): into settings.every_steps / every_epochs.
void parse_every(const std::vector<std::string>& values, io::CheckpointSettings& settings) {
  for (const auto& v : values) {
    std::size_t digits = 0;
    while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
    const std::string unit = v.substr(digits);
    const std::int64_t n = digits && digits < 12 ? std::stoll(v.substr(0, digits)) : 0;
    if (n > 0 && (unit.empty() || unit == "s" || unit == "step" || unit == "steps")) settings.every_steps = n;
    else if (n > 0 && (unit == "e" || unit == "epoch" || unit == "epochs")) settings.every_epochs = n;
    else throw Error("--checkpoint-every '" + v + "': expected a count of steps (500, 500steps) or epochs (2epochs)");
  }
}

std::unique_ptr<io::CheckpointCallback> checkpoint_callback(const CheckpointArgs& c, const io::DataState& prepared,
                                                            const EarlyStopping* early) {
  if (c.dir.empty()) {
    if (!c.every.empty() || c.keep_last || !c.keep_best.empty())
      throw Error("--checkpoint-every, --keep-last and --keep-best need --checkpoint-dir DIR");
    return nullptr;
  }
  io::CheckpointSettings settings;
  settings.dir = c.dir;
  parse_every(c.every, settings);
  settings.keep_last = c.keep_last;
  settings.keep_best = c.keep_best;
  settings.data = prepared;
  settings.early_stopping = early;
  return std::make_unique<io::CheckpointCallback>(std::move(settings));
}

// --resume: the checkpoint's weights and training state (early stopping's included); its spec
// must be the one given. A streamed epoch's order depends on the window size, so resuming needs
// the same one.
void resume(const std::string& path, Model& model, Trainer& trainer, const io::DataState& prepared, EarlyStopping* early) {
  io::Checkpoint c = io::load_checkpoint(path);
  if (c.model.spec() != model.spec())
    throw Error("--resume " + path + ": the checkpoint was written for another model spec (or other training flags) " +
                "than the one given; resume with the same spec and flags");
  const auto window_of = [](const io::DataState& d) {
    return d.settings.is_object() && d.settings.contains("stream_window_rows") ? d.settings["stream_window_rows"] : Json();
  };
  const auto how = [](const Json& window) {
    return window.is_null() ? std::string("from memory") : "streaming windows of " + window.dump() + " rows";
  };
  if (window_of(c.data) != window_of(prepared))
    throw Error("--resume " + path + ": the checkpoint was trained " + how(window_of(c.data)) + ", this run trains " +
                how(window_of(prepared)) + "; the epoch order would differ: resume with the same --memory-budget and --stream");
  std::copy(c.model.parameters().begin(), c.model.parameters().end(), model.parameters().begin());
  std::copy(c.model.buffers().begin(), c.model.buffers().end(), model.buffers().begin());
  trainer.restore(TrainerState{std::move(c.training.json), std::move(c.training.tensors)});
  if (early && c.training.early_stopping) early->restore(*c.training.early_stopping);
  std::printf("resumed from %s at step %lld (epoch %lld, batch %lld of the epoch)\n", path.c_str(),
              static_cast<long long>(trainer.step()), static_cast<long long>(trainer.epoch() + 1),
              static_cast<long long>(trainer.position()));
}

// Each rank reads the features of its own shards only (SampleReader::read_part): the rows each
// read from the file, on rank 0 in rank order.
void report_rows_read(const io::Hdf5Source& train, Communicator& comm) {
  const std::int64_t mine = train.feature_rows_read();
  const auto all = comm.all_gather(std::as_bytes(std::span<const std::int64_t>(&mine, 1)));
  std::string rows;
  for (std::size_t r = 0; r < all.size(); r += sizeof mine) {
    std::int64_t v;
    std::memcpy(&v, all.data() + r, sizeof v);
    rows += (rows.empty() ? "" : ", ") + std::to_string(v);
  }
  std::printf("features read from %s per rank: %s rows\n", train.name().c_str(), rows.c_str());
}

int train(const TrainArgs& a, Communicator& comm) {
  const bool lead = comm.rank() == 0;
  Model model(spec_with_overrides(a));
  const Json& training = model.spec()["training"];
  TrainOptions options = train_options(training);
  options.threads = a.threads;
  options.shard_size = a.shard;
  options.seed = a.seed;
  options.communicator = &comm;
  options.exact_reduction = !a.fast_allreduce;
  options.overlap_exchange = !a.no_overlap;
  const std::int64_t epochs = training["epochs"];

  DataArgs data_args = a.data;
  data_args.validation_split = training["validation_split"];
  TrainingData data = load_training_data(data_args, model, a.seed);
  const DataSource& train = *data.train;
  const DataSource* test = data.test.get();
  const double split = data_args.validation_split;
  const DataSource* val = split > 0 ? data.validation.get() : test;

  model.initialize(a.seed);
  const CheckpointArgs& c = a.checkpoints;
  if (!c.init_from.empty()) {
    const auto report = io::load_matching_weights(model, c.init_from, c.partial);
    std::printf("initialised %zu tensors from %s", report.loaded.size(), c.init_from.c_str());
    if (!report.skipped.empty()) std::printf(" (%zu skipped)", report.skipped.size());
    std::printf("\n");
  }
  Trainer trainer(model, options);
  std::optional<EarlyStopping> early;
  if (!training["early_stopping"].is_null()) early.emplace(training["early_stopping"]);
  if (!c.resume.empty()) resume(c.resume, model, trainer, data.prepared, early ? &*early : nullptr);
  std::printf("training %s on %lld samples (validation %lld, %s), %lld epochs, batch %s, %d threads, seed %llu\n",
              a.spec.c_str(), static_cast<long long>(train.size()), static_cast<long long>(val ? val->size() : 0),
              split > 0 ? "held out" : "the test set", static_cast<long long>(epochs), training["batch"].dump().c_str(),
              trainer.executor().threads(), static_cast<unsigned long long>(a.seed));
  if (data.window_rows > 0)
    std::printf("streaming %s from disk in windows of %lld rows\n", a.data.data.c_str(), static_cast<long long>(data.window_rows));
  if (comm.size() > 1)
    std::printf("data-parallel over %d processes (%s)\n", comm.size(),
                a.fast_allreduce ? "--fast-allreduce: not the same bits as one process" : "the same bits as one process");
  std::fflush(stdout);

  const bool live = a.progress == "bar" || (a.progress == "auto" && ProgressDisplay::is_terminal(stdout));
  ProgressDisplay progress(stdout, live);
  FitOptions fit;
  fit.epochs = epochs;
  fit.validation_source = val;
  if (lead) fit.callbacks = {&progress};
  // Checked on every rank (bad flags fail everywhere alike); only rank 0 writes files.
  const auto checkpoints = checkpoint_callback(c, data.prepared, early ? &*early : nullptr);
  if (checkpoints && lead) fit.callbacks.push_back(checkpoints.get());
  if (early) fit.callbacks.push_back(&*early);  // every rank: all must stop at the same step
  std::optional<io::CsvLog> log;
  if (!a.log.empty() && lead) fit.callbacks.push_back(&log.emplace(a.log));
  const std::int64_t first_step = trainer.step();
  trainer.fit(train, fit);
  if (comm.size() > 1 && trainer.step() > first_step) {
    const auto [early, buckets] = trainer.executor().buckets_overlapped();
    std::printf("gradient exchange: %.3f ms a step on rank 0 (waits for slower ranks included); %zu of %zu buckets "
                "sent on during the backward pass\n",
                1e3 * trainer.executor().exchange_seconds() / static_cast<double>(trainer.step() - first_step), early,
                buckets);
  }
  if (const auto* streamed = dynamic_cast<const io::Hdf5Source*>(&train); streamed && comm.size() > 1)
    report_rows_read(*streamed, comm);
  if (early && early->stopped())
    std::printf("early stopping after epoch %lld: best %s %.4g at epoch %lld%s\n", static_cast<long long>(early->stopped_epoch()),
                training["early_stopping"]["monitor"].get<std::string>().c_str(), early->best(),
                static_cast<long long>(early->best_epoch()),
                training["early_stopping"]["restore_best"].get<bool>() ? " (its weights restored)" : "");

  if (checkpoints) std::printf("last checkpoint: %s\n", checkpoints->last_saved().c_str());
  if (!a.out.empty() && lead) {
    io::save_model(model, a.out, data.prepared);
    std::printf("saved model to %s\n", a.out.c_str());
  }
  if (!a.log.empty()) std::printf("wrote per-epoch metrics to %s\n", a.log.c_str());
  if (test) {
    const Evaluation final_test = trainer.evaluate(*test);
    if (!std::isnan(final_test.accuracy)) std::printf("test accuracy %.4f\n", final_test.accuracy);
    else std::printf("test loss %.6g\n", final_test.loss);
  }
  return 0;
}

int run(const TrainArgs& a) {
  const auto comm = launch_communicator(a.peer_timeout);
  if (comm->size() == 1) return train(a, *comm);
  // Other ranks than 0 print nothing: their output would repeat rank 0's.
  if (comm->rank() != 0 && !std::freopen("/dev/null", "w", stdout)) throw Error("cannot silence rank output");
  try {
    return train(a, *comm);
  } catch (const std::exception& e) {
    // The other ranks would wait in a collective for this one forever: end the whole job. Most
    // errors (flags, spec, data) strike every rank alike; the others give rank 0 a second to
    // print its line and end the job first, so the message appears once.
    if (comm->rank() != 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    std::string message = e.what();
    for (auto& ch : message)
      if (ch == '\n') ch = ' ';
    comm->abort("weft: error on rank " + std::to_string(comm->rank()) + " of " + std::to_string(comm->size()) + ": " + message);
  }
  return 1;  // not reached: abort() ends every process (GCC does not trust [[noreturn]] on a virtual call)
}

}  // namespace

Command add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* t = app.add_subcommand("train", "train a model from a JSON spec on an IDX dataset (flags override the spec's \"training\")");
  t->footer(
      "Data-parallel across processes and hosts (a build with Open MPI): mpirun -np K weft train ... on one host, "
      "mpirun --hostfile HOSTS -np K weft train ... across hosts. Each process trains whole shards of every global "
      "mini-batch with its --threads cores; the result is the same bits as one process at the same --batch and --shard, "
      "whatever K and --threads (not with --fast-allreduce). Streaming an HDF5 file (--stream), each process reads only "
      "its own samples. Rank 0 prints and writes checkpoints and --out; any K can --resume any checkpoint. A process "
      "that dies, or a host that drops (silent for --peer-timeout), is named in one line (with mpirun --quiet, the only "
      "line; docs/distributed.md).");
  t->add_option("spec", args->spec, "model spec (JSON)")->required();
  add_data_options(*t, args->data);
  t->add_option("--epochs", args->epochs, "passes over the training set (spec default 1)")->check(positive_number);
  t->add_option("--batch", args->batch, "mini-batch size; 0 = the full training set, 1 = stochastic (spec default 128)")
      ->check(non_negative_number);
  t->add_option("--lr", args->lr, "the optimizer's learning rate")->check(positive_number);
  t->add_option("--accumulate", args->accumulate, "mini-batches whose gradients make one optimizer step")->check(positive_number);
  t->add_option("--clip-norm", args->clip_norm, "rescale gradients whose global L2 norm exceeds this")->check(positive_number);
  t->add_option("--clip-value", args->clip_value, "clamp every gradient element to [-v, v]")->check(positive_number);
  t->add_option("--schedule", args->schedule, "learning-rate schedule as JSON, e.g. '{\"type\":\"cosine\",\"total\":10}'");
  t->add_option("--validation-split", args->validation_split, "hold out this fraction of the training set (seeded) for validation");
  t->add_option("--patience", args->patience, "early stopping: epochs without improvement before stopping")
      ->check(non_negative_number);
  t->add_option("--monitor", args->monitor, "early stopping: the metric to watch (default val_loss)");
  t->add_option("--log", args->log, "write the per-epoch metrics to this CSV file (for `weft plot`)");
  t->add_option("--progress", args->progress, "auto (a live bar on a terminal), bar, or plain (one line per epoch)")
      ->check(CLI::IsMember({"auto", "bar", "plain"}))
      ->capture_default_str();
  t->add_option("--threads", args->threads, "worker threads (0: all cores)")->check(non_negative_number)->capture_default_str();
  t->add_option("--shard", args->shard, "samples per shard (default: the batch over the machine's cores, within 32..128; "
                 "results do not depend on --threads)")
      ->check(positive_number);
  t->add_flag("--fast-allreduce", args->fast_allreduce,
              "under mpirun: sum gradients with MPI_Allreduce (faster on many processes; results differ in the last bits with K)");
  t->add_flag("--no-overlap", args->no_overlap,
              "under mpirun: exchange gradients after the backward pass instead of during it (the same bits; for "
              "measuring what the overlap hides)");
  t->add_option("--peer-timeout", args->peer_timeout,
                "under mpirun: seconds without a heartbeat (TCP to rank 0, beside MPI) after which a rank counts as "
                "dropped and the job ends naming it; 0: no heartbeats")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--seed", args->seed, "seed for initialisation, shuffling, validation split and dropout")->capture_default_str();
  t->add_option("--out", args->out, "write the trained model to this HDF5 file");
  auto& c = args->checkpoints;
  t->add_option("--checkpoint-dir", c.dir, "write checkpoints (step-<N>.h5, best.h5) into this folder");
  t->add_option("--checkpoint-every", c.every, "every N steps (500, 500steps) and/or epochs (2epochs); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  t->add_option("--keep-last", c.keep_last, "keep only the newest K periodic checkpoints")->check(non_negative_number);
  t->add_option("--keep-best", c.keep_best, "keep best.h5 for the best value of this metric (val_loss, val_accuracy, ...)");
  t->add_option("--resume", c.resume, "continue the run saved in this checkpoint (same spec, flags and data)");
  t->add_option("--init-from", c.init_from, "initialise layers from this model file or checkpoint by name (transfer learning)");
  t->add_flag("--partial", c.partial, "with --init-from: load only the tensors that match, skip the rest");
  return [args] { return run(*args); };
}

}  // namespace weft::cli
