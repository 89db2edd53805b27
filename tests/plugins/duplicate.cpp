// Registers a fresh layer, then an optimizer name the built-ins already use. The conflict sits in
// a later kind than the fresh name, so a merge that moved kind by kind would leave the layer in.
#include <weft/plugin.hpp>

WEFT_PLUGIN(registries) {
  registries.layers.add({"test_duplicate_fresh", "a name nobody else uses", weft::Json::object(),
                         [](const weft::Config&) -> std::unique_ptr<weft::Layer> { return nullptr; }});
  registries.optimizers.add({"sgd", "an impostor", weft::Json::object(),
                             [](const weft::Config&) -> std::unique_ptr<weft::Optimizer> { return nullptr; }});
}
