// Registers a fresh name, then throws: nothing of it may land.
#include <stdexcept>

#include <weft/plugin.hpp>

WEFT_PLUGIN(registries) {
  registries.layers.add({"test_throwing_fresh", "a name nobody else uses", weft::Json::object(),
                         [](const weft::Config&) -> std::unique_ptr<weft::Layer> { return nullptr; }});
  throw std::runtime_error("the plugin's setup failed on purpose");
}
