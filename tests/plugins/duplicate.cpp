// Registers a fresh name, then one the built-ins already use: nothing of it may land.
#include <weft/plugin.hpp>

namespace {
std::unique_ptr<weft::Layer> never_built(const weft::Config&) { return nullptr; }
}  // namespace

WEFT_PLUGIN(registries) {
  registries.layers.add({"test_duplicate_fresh", "a name nobody else uses", weft::Json::object(), never_built});
  registries.layers.add({"dense", "an impostor", weft::Json::object(), never_built});
}
