#include "layers/fused_activation.hpp"

namespace weft::builtin {

FusedActivation read_fused_activation(const Config& c) {
  return c.choice("activation", {"none", "relu"}) == "relu" ? FusedActivation::relu : FusedActivation::none;
}

}  // namespace weft::builtin
