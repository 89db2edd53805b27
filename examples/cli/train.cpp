// weft train SPEC.json --data DIR --epochs N --batch B --threads T --seed S --out MODEL.h5
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "weft/io/idx.hpp"
#include "weft/io/model_file.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

struct TrainArgs {
  std::string spec, data = default_data_dir, out;
  int epochs = 1;
  TrainOptions options;
};

void print_epoch(const EpochResult& r, int epochs, const Evaluation& test) {
  std::printf("epoch %lld/%d  loss %.4f", static_cast<long long>(r.epoch), epochs, r.loss);
  if (!std::isnan(r.accuracy)) std::printf("  train acc %.4f", r.accuracy);
  std::printf("  test loss %.4f", test.loss);
  if (!std::isnan(test.accuracy)) std::printf("  test acc %.4f", test.accuracy);
  std::printf("  %.0f samples/s  %.1f s\n", r.samples_per_second, r.seconds);
  std::fflush(stdout);
}

int run(const TrainArgs& a) {
  Model model(read_spec_file(a.spec));
  const Dataset train = io::load_idx_dataset(a.data, "train", model.input_shape());
  const Dataset test = io::load_idx_dataset(a.data, "t10k", model.input_shape());
  model.initialize(a.options.seed);
  Trainer trainer(model, a.options);
  std::printf("training %s on %lld samples (test %lld), %d epochs, batch %lld, %d threads, seed %llu\n", a.spec.c_str(),
              static_cast<long long>(train.size()), static_cast<long long>(test.size()), a.epochs,
              static_cast<long long>(a.options.batch_size), trainer.executor().threads(),
              static_cast<unsigned long long>(a.options.seed));
  Evaluation test_eval;
  for (int e = 0; e < a.epochs; ++e) {
    const auto r = trainer.train_epoch(train);
    test_eval = trainer.evaluate(test);
    print_epoch(r, a.epochs, test_eval);
  }
  if (!a.out.empty()) {
    io::save_model(model, a.out);
    std::printf("saved model to %s\n", a.out.c_str());
  }
  std::printf("test accuracy %.4f\n", test_eval.accuracy);
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* t = app.add_subcommand("train", "train a model from a JSON spec on an IDX dataset");
  t->add_option("spec", args->spec, "model spec (JSON)")->required();
  t->add_option("--data", args->data, "folder with {train,t10k}-{images,labels}-idx*-ubyte[.gz]")->capture_default_str();
  t->add_option("--epochs", args->epochs, "passes over the training set")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--batch", args->options.batch_size, "mini-batch size")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--threads", args->options.threads, "worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--shard", args->options.shard_size, "samples per shard (results do not depend on --threads)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  t->add_option("--seed", args->options.seed, "seed for initialisation, shuffling and dropout")->capture_default_str();
  t->add_option("--out", args->out, "write the trained model to this HDF5 file");
  return [args] { return run(*args); };
}

}  // namespace weft::cli
