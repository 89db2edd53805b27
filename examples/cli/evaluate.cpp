// weft evaluate MODEL.h5 --data DIR|FILE.h5 [--features X --labels Y --input NAME=DATASET... --memory-budget MB]
// An HDF5 file is streamed a window at a time; inputs are prepared as in training.
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "number_checks.hpp"
#include "training_data.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

struct EvaluateArgs {
  std::string model;
  DataArgs data;
  int threads = 0;
};

// Rows: true class; columns: predicted class.
void print_confusion(const std::vector<std::vector<std::int64_t>>& confusion) {
  std::printf("confusion matrix (rows: true class, columns: predicted class)\n%6s", "");
  for (std::size_t c = 0; c < confusion.size(); ++c) std::printf(" %6zu", c);
  std::printf("\n");
  for (std::size_t r = 0; r < confusion.size(); ++r) {
    std::printf("%6zu", r);
    for (auto count : confusion[r]) std::printf(" %6lld", static_cast<long long>(count));
    std::printf("\n");
  }
}

int run(const EvaluateArgs& a) {
  SavedModel saved = load_saved_model(a.model);
  const auto test = open_evaluation_data(a.data, saved);
  TrainOptions options;
  options.threads = a.threads;
  Trainer trainer(saved.model, options);
  const auto e = trainer.evaluate(*test);
  std::printf("%s on %lld test samples: loss %.4f", a.model.c_str(), static_cast<long long>(e.samples), e.loss);
  if (!std::isnan(e.accuracy)) std::printf("  test accuracy %.4f", e.accuracy);
  if (!std::isnan(e.top_k_accuracy)) std::printf("  top-%lld accuracy %.4f", static_cast<long long>(e.top_k), e.top_k_accuracy);
  if (!std::isnan(e.mse)) std::printf("  MSE %.6g  MAE %.6g", e.mse, e.mae);
  std::printf("\n");
  if (!e.confusion.empty()) print_confusion(e.confusion);
  return 0;
}

}  // namespace

Command add_evaluate(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* ev = app.add_subcommand("evaluate", "evaluate a saved model on the test set of an IDX dataset or an HDF5 file");
  ev->add_option("model", args->model, "model file (HDF5)")->required();
  DataArgs& d = args->data;
  ev->add_option("--data", d.data, "folder with t10k-{images,labels}-idx*-ubyte[.gz], or an .h5 file (streamed)")
      ->capture_default_str();
  ev->add_option("--features", d.features, "HDF5: the dataset of inputs (n, ...)")->capture_default_str();
  ev->add_option("--labels", d.labels, "HDF5: the dataset of targets")->capture_default_str();
  ev->add_option("--memory-budget", d.memory_budget_mb, "HDF5: MB of samples read at a time")->capture_default_str();
  add_input_option(*ev, d);
  ev->add_option("--threads", args->threads, "worker threads (0: all cores)")->check(non_negative_number);
  return [args] { return run(*args); };
}

}  // namespace weft::cli
