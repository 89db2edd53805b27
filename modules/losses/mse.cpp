// mse: mean over all elements of (prediction - target)², as PyTorch's MSELoss(reduction="mean").
#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class MeanSquaredError final : public Loss {
 public:
  explicit MeanSquaredError(const Config&) {}

  Shape target_shape(const Shape& prediction) const override { return prediction; }

  double evaluate(ConstView pred, ConstView target, View dpred, double batch_weight) const override {
    const std::int64_t n = pred.shape()[0];
    const std::int64_t per = pred.numel() / std::max<std::int64_t>(n, 1);
    // Per-sample loss is the mean over its elements; the batch mean then equals the mean over all.
    const double inv_per = 1.0 / static_cast<double>(per);
    const double grad_scale = 2.0 * inv_per / batch_weight;
    double total = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const double diff = double(pred[i]) - double(target[i]);
      total += diff * diff * inv_per;
      if (!dpred.empty()) dpred[i] = static_cast<float>(grad_scale * diff);
    }
    return total;
  }
};

}  // namespace

void register_mse(Registries& r) {
  r.losses.add({"mse", "mean squared error over all output elements", Json::object(),
                [](const Config& c) { return std::make_unique<MeanSquaredError>(c); }});
}

}  // namespace weft::builtin
