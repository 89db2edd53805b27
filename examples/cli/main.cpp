// weft: the command-line front end.
//   weft train SPEC.json --data DIR --epochs N --batch B --threads T --seed S --out MODEL.h5
//   weft evaluate MODEL.h5 --data DIR
//   weft summary SPEC.json
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "weft/io/idx.hpp"
#include "weft/io/model_file.hpp"
#include "weft/trainer.hpp"

namespace {

constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

struct TrainArgs {
  std::string spec, data = default_data_dir, out;
  int epochs = 1;
  weft::TrainOptions options;
};

struct EvaluateArgs {
  std::string model, data = default_data_dir;
  int threads = 0;
};

void print_epoch(const weft::EpochResult& r, int epochs, const weft::Evaluation& test) {
  std::printf("epoch %lld/%d  loss %.4f", static_cast<long long>(r.epoch), epochs, r.loss);
  if (!std::isnan(r.accuracy)) std::printf("  train acc %.4f", r.accuracy);
  std::printf("  test loss %.4f", test.loss);
  if (!std::isnan(test.accuracy)) std::printf("  test acc %.4f", test.accuracy);
  std::printf("  %.0f samples/s  %.1f s\n", r.samples_per_second, r.seconds);
  std::fflush(stdout);
}

int run_train(const TrainArgs& a) {
  weft::Model model(weft::read_spec_file(a.spec));
  const weft::Dataset train = weft::io::load_idx_dataset(a.data, "train", model.input_shape());
  const weft::Dataset test = weft::io::load_idx_dataset(a.data, "t10k", model.input_shape());
  model.initialize(a.options.seed);
  weft::Trainer trainer(model, a.options);
  std::printf("training %s on %lld samples (test %lld), %d epochs, batch %lld, %d threads, seed %llu\n", a.spec.c_str(),
              static_cast<long long>(train.size()), static_cast<long long>(test.size()), a.epochs,
              static_cast<long long>(a.options.batch_size), trainer.executor().threads(),
              static_cast<unsigned long long>(a.options.seed));
  weft::Evaluation test_eval;
  for (int e = 0; e < a.epochs; ++e) {
    const auto r = trainer.train_epoch(train);
    test_eval = trainer.evaluate(test);
    print_epoch(r, a.epochs, test_eval);
  }
  if (!a.out.empty()) {
    weft::io::save_model(model, a.out);
    std::printf("saved model to %s\n", a.out.c_str());
  }
  std::printf("test accuracy %.4f\n", test_eval.accuracy);
  return 0;
}

int run_evaluate(const EvaluateArgs& a) {
  weft::Model model = weft::io::load_model(a.model);
  const weft::Dataset test = weft::io::load_idx_dataset(a.data, "t10k", model.input_shape());
  weft::TrainOptions options;
  options.threads = a.threads;
  weft::Trainer trainer(model, options);
  const auto e = trainer.evaluate(test);
  std::printf("%s on %lld test samples: loss %.4f", a.model.c_str(), static_cast<long long>(e.samples), e.loss);
  if (!std::isnan(e.accuracy)) std::printf("  test accuracy %.4f", e.accuracy);
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft: train and evaluate neural networks on multicore CPUs"};
  app.require_subcommand(1);

  TrainArgs train;
  auto* t = app.add_subcommand("train", "train a model from a JSON spec on an IDX dataset");
  t->add_option("spec", train.spec, "model spec (JSON)")->required();
  t->add_option("--data", train.data, "folder with {train,t10k}-{images,labels}-idx*-ubyte[.gz]")->capture_default_str();
  t->add_option("--epochs", train.epochs, "passes over the training set")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--batch", train.options.batch_size, "mini-batch size")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--threads", train.options.threads, "worker threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  t->add_option("--shard", train.options.shard_size, "samples per shard (results do not depend on --threads)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--seed", train.options.seed, "seed for initialisation, shuffling and dropout")->capture_default_str();
  t->add_option("--out", train.out, "write the trained model to this HDF5 file");

  EvaluateArgs evaluate;
  auto* ev = app.add_subcommand("evaluate", "evaluate a saved model on the test set of an IDX dataset");
  ev->add_option("model", evaluate.model, "model file (HDF5)")->required();
  ev->add_option("--data", evaluate.data, "folder with t10k-{images,labels}-idx*-ubyte[.gz]")->capture_default_str();
  ev->add_option("--threads", evaluate.threads, "worker threads (0: all cores)")->check(CLI::NonNegativeNumber);

  std::string summary_spec;
  auto* su = app.add_subcommand("summary", "print the layers, output shapes and parameter counts of a spec");
  su->add_option("spec", summary_spec, "model spec (JSON)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*t) return run_train(train);
    if (*ev) return run_evaluate(evaluate);
    if (*su) {
      std::cout << weft::Model(weft::read_spec_file(summary_spec)).summary();
      return 0;
    }
  } catch (const std::exception& e) {
    std::string message = e.what();
    for (auto& c : message)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "weft: error: %s\n", message.c_str());
    return 1;
  }
  return 0;
}
