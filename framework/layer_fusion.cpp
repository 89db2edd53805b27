#include "weft/layer_fusion.hpp"

#include <mutex>
#include <vector>

#include "weft/registry.hpp"

namespace weft {
namespace {

std::mutex fusions_mutex;

std::vector<LayerFusion>& fusions() {
  static std::vector<LayerFusion> list;
  return list;
}

}  // namespace

void add_layer_fusion(LayerFusion fusion) {
  const std::lock_guard lock(fusions_mutex);
  for (auto& f : fusions())
    if (f.first == fusion.first && f.second == fusion.second) {
      f = std::move(fusion);
      return;
    }
  fusions().push_back(std::move(fusion));
}

std::unique_ptr<Layer> fuse_layers(const std::string& first_type, const Config& first, const std::string& second_type,
                                   const Config& second, const Shape& input) {
  registry();  // the built-ins register their fusions with their layers
  const std::lock_guard lock(fusions_mutex);
  for (const auto& f : fusions())
    if (f.first == first_type && f.second == second_type) return f.create(first, second, input);
  return nullptr;
}

}  // namespace weft
