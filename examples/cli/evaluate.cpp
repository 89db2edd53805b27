// weft evaluate MODEL.h5 --data DIR
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "weft/io/idx.hpp"
#include "weft/io/model_file.hpp"
#include "weft/trainer.hpp"

namespace weft::cli {
namespace {

struct EvaluateArgs {
  std::string model, data = default_data_dir;
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
  Model model = io::load_model(a.model);
  const Dataset test = io::load_idx_dataset(a.data, "t10k", model.input_shape());
  TrainOptions options;
  options.threads = a.threads;
  Trainer trainer(model, options);
  const auto e = trainer.evaluate(test);
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
  auto* ev = app.add_subcommand("evaluate", "evaluate a saved model on the test set of an IDX dataset");
  ev->add_option("model", args->model, "model file (HDF5)")->required();
  ev->add_option("--data", args->data, "folder with t10k-{images,labels}-idx*-ubyte[.gz]")->capture_default_str();
  ev->add_option("--threads", args->threads, "worker threads (0: all cores)")->check(CLI::NonNegativeNumber);
  return [args] { return run(*args); };
}

}  // namespace weft::cli
