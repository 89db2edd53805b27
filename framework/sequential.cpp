#include "weft/sequential.hpp"

namespace weft {

Sequential::Sequential(const Shape& input)
    : spec_{{"input", input.to_vector()}, {"layers", Json::array()}} {}

Sequential& Sequential::add(const ModuleSpec& layer) {
  spec_["layers"].push_back(layer.json());
  return *this;
}

Sequential& Sequential::loss(const ModuleSpec& loss) {
  spec_["loss"] = loss.json();
  return *this;
}

Sequential& Sequential::optimizer(const ModuleSpec& optimizer) {
  spec_["optimizer"] = optimizer.json();
  return *this;
}

Sequential& Sequential::training(const Json& settings) {
  spec_["training"] = settings;
  return *this;
}

}  // namespace weft
