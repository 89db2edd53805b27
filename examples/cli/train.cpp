// weft train SPEC.json --data DATA --epochs N --batch B --threads T --seed S --out MODEL.h5
//   [--checkpoint-dir DIR --checkpoint-every N[steps|epochs] --keep-last K --keep-best METRIC]
//   [--resume CKPT.h5] [--init-from MODEL.h5 [--partial]]
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "training_data.hpp"
#include "weft/io/checkpoint.hpp"
#include "weft/io/checkpoint_callback.hpp"
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
  std::string spec, out;
  DataArgs data;
  CheckpointArgs checkpoints;
  std::int64_t epochs = 1;
  TrainOptions options;
  // Flags given on the command line override the spec's "training" object.
  CLI::Option *epochs_flag = nullptr, *batch_flag = nullptr, *split_flag = nullptr;
};

// One line per epoch from the metrics the trainer reports.
class EpochPrinter final : public Callback {
 public:
  void on_epoch_end(Trainer&, const EpochEvent& e) override {
    std::printf("epoch %lld/%lld", static_cast<long long>(e.epoch), static_cast<long long>(e.epochs));
    for (const auto& [name, value] : e.metrics->items())
      if (!std::isnan(value) && name != "epoch") std::printf("  %s %.4g", name.c_str(), value);
    std::printf("\n");
    std::fflush(stdout);
  }
};

// "500", "500steps", "2epochs" (also "500s", "2e"): into settings.every_steps / every_epochs.
void parse_every(const std::vector<std::string>& values, io::CheckpointSettings& settings) {
  for (const auto& v : values) {
    std::size_t digits = 0;
    while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
    const std::string unit = v.substr(digits);
    const std::int64_t n = digits ? std::stoll(v.substr(0, digits)) : 0;
    if (n > 0 && (unit.empty() || unit == "s" || unit == "step" || unit == "steps")) settings.every_steps = n;
    else if (n > 0 && (unit == "e" || unit == "epoch" || unit == "epochs")) settings.every_epochs = n;
    else throw Error("--checkpoint-every '" + v + "': expected a count of steps (500, 500steps) or epochs (2epochs)");
  }
}

// --resume: the checkpoint's weights and training state; its spec must be the one given.
void resume(const std::string& path, Model& model, Trainer& trainer) {
  io::Checkpoint c = io::load_checkpoint(path);
  if (c.model.spec() != model.spec())
    throw Error("--resume " + path + ": the checkpoint was written for another model spec than " +
                "the one given; resume with the same spec");
  std::copy(c.model.parameters().begin(), c.model.parameters().end(), model.parameters().begin());
  std::copy(c.model.buffers().begin(), c.model.buffers().end(), model.buffers().begin());
  trainer.restore(TrainerState{std::move(c.training.json), std::move(c.training.tensors)});
  std::printf("resumed from %s at step %lld (epoch %lld, batch %lld of the epoch)\n", path.c_str(),
              static_cast<long long>(trainer.step()), static_cast<long long>(trainer.epoch() + 1),
              static_cast<long long>(trainer.position()));
}

int run(TrainArgs a) {
  Model model(read_spec_file(a.spec));
  // The spec's "training" object (resolved, defaults filled in), then the command-line flags.
  const Json training = model.spec().contains("training") ? model.spec()["training"] : resolve_training(Json::object());
  TrainOptions options = train_options(training);
  options.threads = a.options.threads;
  options.shard_size = a.options.shard_size;
  options.seed = a.options.seed;
  if (a.batch_flag->count()) options.batch_size = a.options.batch_size;
  a.options = options;
  if (!a.epochs_flag->count()) a.epochs = training["epochs"].get<std::int64_t>();
  if (!a.split_flag->count()) a.data.validation_split = training["validation_split"].get<double>();
  TrainingData data = load_training_data(a.data, model.input_shape(), a.options.seed);
  model.initialize(a.options.seed);
  if (!a.checkpoints.init_from.empty()) {
    const auto report = io::load_matching_weights(model, a.checkpoints.init_from, a.checkpoints.partial);
    std::printf("initialised %zu tensors from %s", report.loaded.size(), a.checkpoints.init_from.c_str());
    if (!report.skipped.empty()) std::printf(" (%zu skipped)", report.skipped.size());
    std::printf("\n");
  }
  Trainer trainer(model, a.options);
  if (!a.checkpoints.resume.empty()) resume(a.checkpoints.resume, model, trainer);
  std::printf("training %s on %lld samples (test %lld), %lld epochs, batch %lld, %d threads, seed %llu\n", a.spec.c_str(),
              static_cast<long long>(data.train.size()), static_cast<long long>(data.test.size()),
              static_cast<long long>(a.epochs), static_cast<long long>(a.options.batch_size), trainer.executor().threads(),
              static_cast<unsigned long long>(a.options.seed));

  EpochPrinter printer;
  FitOptions fit;
  fit.epochs = a.epochs;
  fit.validation = data.test.size() > 0 ? &data.test : nullptr;
  fit.callbacks.push_back(&printer);
  std::unique_ptr<io::CheckpointCallback> checkpoints;
  const CheckpointArgs& c = a.checkpoints;
  if (!c.dir.empty()) {
    io::CheckpointSettings settings;
    settings.dir = c.dir;
    parse_every(c.every, settings);
    settings.keep_last = c.keep_last;
    settings.keep_best = c.keep_best;
    settings.data = data.prepared;
    checkpoints = std::make_unique<io::CheckpointCallback>(std::move(settings));
    fit.callbacks.push_back(checkpoints.get());
  } else if (!c.every.empty() || c.keep_last || !c.keep_best.empty()) {
    throw Error("--checkpoint-every, --keep-last and --keep-best need --checkpoint-dir DIR");
  }
  trainer.fit(data.train, fit);
  if (checkpoints) std::printf("last checkpoint: %s\n", checkpoints->last_saved().c_str());
  if (!a.out.empty()) {
    io::save_model(model, a.out, data.prepared);
    std::printf("saved model to %s\n", a.out.c_str());
  }
  if (data.test.size() > 0) {
    const auto e = trainer.evaluate(data.test);
    std::printf("test loss %.4f", e.loss);
    if (!std::isnan(e.accuracy)) std::printf("  test accuracy %.4f", e.accuracy);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* t = app.add_subcommand("train", "train a model from a JSON spec on an IDX, CSV or HDF5 dataset");
  t->add_option("spec", args->spec, "model spec (JSON)")->required();
  args->split_flag = add_data_options(*t, args->data);
  args->epochs_flag = t->add_option("--epochs", args->epochs, "train until this many epochs are completed (a resumed run counts the earlier ones)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  args->batch_flag = t->add_option("--batch", args->options.batch_size, "mini-batch size")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--threads", args->options.threads, "worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--shard", args->options.shard_size, "samples per shard (results do not depend on --threads)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  t->add_option("--seed", args->options.seed, "seed for initialisation, shuffling, dropout and the validation split")
      ->capture_default_str();
  t->add_option("--out", args->out, "write the trained model to this HDF5 file");
  auto& c = args->checkpoints;
  t->add_option("--checkpoint-dir", c.dir, "write checkpoints (step-<N>.h5, best.h5) into this folder");
  t->add_option("--checkpoint-every", c.every, "every N steps (500, 500steps) and/or epochs (2epochs); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  t->add_option("--keep-last", c.keep_last, "keep only the newest K periodic checkpoints")->check(CLI::NonNegativeNumber);
  t->add_option("--keep-best", c.keep_best, "keep best.h5 for the best value of this metric (val_loss, val_accuracy, ...)");
  t->add_option("--resume", c.resume, "continue the run saved in this checkpoint (same spec and data)");
  t->add_option("--init-from", c.init_from, "initialise layers from this model file or checkpoint by name (transfer learning)");
  t->add_flag("--partial", c.partial, "with --init-from: load only the tensors that match, skip the rest");
  return [args] { return run(*args); };
}

}  // namespace weft::cli
