// Weight penalties, as Keras defines them (summed over the tensor's elements):
//   l1           l1·Σ|w|           gradient l1·sign(w)   (0 at w = 0)
//   l2           l2·Σw²            gradient 2·l2·w
//   elastic_net  l1·Σ|w| + l2·Σw²
// Biases are left alone unless "include_bias": true.
#include <cmath>

#include "weft/registry.hpp"

namespace weft::builtin {
namespace {

class WeightPenalty final : public Regularizer {
 public:
  WeightPenalty(const Config& c, bool has_l1, bool has_l2)
      : l1_(has_l1 ? c.number("l1", 0) : 0.0), l2_(has_l2 ? c.number("l2", 0) : 0.0), include_bias_(c.boolean("include_bias")) {}

  bool is_activity() const override { return false; }
  bool includes_bias() const override { return include_bias_; }

  double weight_penalty(std::span<const float> w, std::span<float> grad) const override {
    double abs_sum = 0, square_sum = 0;
    const auto l1 = static_cast<float>(l1_), two_l2 = static_cast<float>(2 * l2_);
    for (std::size_t i = 0; i < w.size(); ++i) {
      abs_sum += std::abs(double(w[i]));
      square_sum += double(w[i]) * double(w[i]);
      const float sign = w[i] > 0 ? 1.0f : (w[i] < 0 ? -1.0f : 0.0f);
      grad[i] += l1 * sign + two_l2 * w[i];
    }
    return l1_ * abs_sum + l2_ * square_sum;
  }

 private:
  double l1_, l2_;
  bool include_bias_;
};

}  // namespace

void register_weight_penalties(Registries& r) {
  r.regularizers.add({"l1", "weight penalty l1·Σ|w|", {{"l1", 0.01}, {"include_bias", false}},
                      [](const Config& c) { return std::make_unique<WeightPenalty>(c, true, false); }});
  r.regularizers.add({"l2", "weight penalty l2·Σw²", {{"l2", 0.01}, {"include_bias", false}},
                      [](const Config& c) { return std::make_unique<WeightPenalty>(c, false, true); }});
  r.regularizers.add({"elastic_net", "weight penalty l1·Σ|w| + l2·Σw²", {{"l1", 0.01}, {"l2", 0.01}, {"include_bias", false}},
                      [](const Config& c) { return std::make_unique<WeightPenalty>(c, true, true); }});
}

}  // namespace weft::builtin
