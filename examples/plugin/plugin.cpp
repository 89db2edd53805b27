// The plugin's one entry point: weft calls it with a staging registry when it loads the file.
#include <weft/plugin.hpp>

#include "example_plugin.hpp"

WEFT_PLUGIN(registries) {
  example::register_scaled_tanh(registries);
  example::register_signum(registries);
}
