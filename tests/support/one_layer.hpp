#pragma once
// A model of one layer, for checking a layer's forward values against numbers worked out by hand
// or by a plain reference loop: set its parameters by name, run it on a batch.
#include <algorithm>
#include <string>
#include <vector>

#include "weft/trainer.hpp"

namespace weft::testing {

class OneLayer {
 public:
  // Parameters start from the layer's initializers (seed 1); set_param overrides them.
  OneLayer(const Json& layer, const Shape& input)
      : model_({{"input", input.to_vector()}, {"layers", Json::array({layer})}, {"loss", "mse"}}) {
    model_.initialize(1);
  }

  const Model& model() const { return model_; }
  const Shape& output_shape() const { return model_.output_shape(); }

  // The values of parameter `name` ("weight", "bias") of the layer.
  std::span<float> param(const std::string& name) {
    for (const auto& t : model_.parameter_table())
      if (t.param == name) return {model_.parameters().data() + t.offset, t.size()};
    throw Error("OneLayer: no parameter " + name);
  }
  void set_param(const std::string& name, const std::vector<float>& values) {
    auto p = param(name);
    if (p.size() != values.size()) throw Error("OneLayer: wrong element count for " + name);
    std::copy(values.begin(), values.end(), p.begin());
  }

  // Outputs for the batch x (n, input...).
  Tensor run(ConstView x) {
    Trainer trainer(model_, {});
    return trainer.predict(x);
  }
  // Outputs for one sample given as a flat list.
  Tensor run(const std::vector<float>& sample) {
    Tensor x(model_.input_shape().with_batch(1));
    if (sample.size() != x.size()) throw Error("OneLayer: wrong input element count");
    std::copy(sample.begin(), sample.end(), x.data());
    return run(x.view());
  }

 private:
  Model model_;
};

}  // namespace weft::testing
